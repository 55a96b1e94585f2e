"""Does the answer's timing tell whether an address has an account?

Times the login, registration and password-reset requests through the Flask test client
(production's scrypt hashing, CSRF off, rate limits and login back-off on with room to
spare) for an address that has an account and one that has none, interleaved so that the
machine's drift hits both alike, and prints the median and p90 of each and the difference
of medians. Mails are only queued (the sender is not running), as in a real request.

    python bench/enumeration_timing.py [--repeat 40] [--database-url URL]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    os.environ.pop("DATABASE_URL", None)
    from app import create_app
    from deliberation.database import db
    from deliberation.services import accounts

    url = args.database_url or "sqlite:///" + str(Path(tempfile.mkdtemp()) / "timing.sqlite3")
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url,
                      "PASSWORD_HASH_METHOD": "scrypt", "RATELIMIT_ENABLED": True,
                      "LOGIN_RATE_LIMIT": "100000 per minute",
                      "REGISTER_RATE_LIMIT": "100000 per minute",
                      "MAIL_REQUEST_RATE_LIMIT": "100000 per minute",
                      "LOGIN_FREE_FAILURES": 10**6, "LOGIN_ACCOUNT_FREE_FAILURES": 10**6})
    with app.app_context():
        db.drop_all()
        db.create_all()
        accounts.register(email="known@example.org", password="violet kettle harbour",
                          display_name="Known", kind="resident", consent_version="bench")
    client = app.test_client()
    password = "amber lantern meadow"
    cases = {
        "login (wrong password)": lambda email, n: client.post(
            "/auth/login", data={"email": email, "password": "wrong guess 1"}),
        "registration": lambda email, n: client.post("/auth/register", data={
            "email": email if email.startswith("known") else f"new{n}@example.org",
            "display_name": "Bench", "kind": "resident", "password": password,
            "password2": password, "consent": "y"}),
        "password reset request": lambda email, n: client.post(
            "/auth/reset", data={"email": email}),
    }
    print(f"{'request':<26}{'address':<10}{'median ms':>10}{'p90 ms':>9}   (n={args.repeat})")
    for name, request in cases.items():
        times: dict[str, list[float]] = {"known": [], "unknown": []}
        for n in range(args.repeat + 3):
            for kind in ("known", "unknown") if n % 2 else ("unknown", "known"):
                email = "known@example.org" if kind == "known" else f"nobody{n}@example.org"
                start = time.perf_counter()
                response = request(email, n)
                elapsed = (time.perf_counter() - start) * 1000
                assert response.status_code in (303, 400), (name, response.status_code)
                if n >= 3:  # warm-up
                    times[kind].append(elapsed)
        medians = {}
        for kind, values in times.items():
            values.sort()
            medians[kind] = statistics.median(values)
            print(f"{name:<26}{kind:<10}{medians[kind]:>10.1f}"
                  f"{values[int(len(values) * 0.9) - 1]:>9.1f}")
        print(f"{'':<26}{'difference':<10}{medians['known'] - medians['unknown']:>+10.1f}")


if __name__ == "__main__":
    main()
