"""The migration that gives every stored address its one form (7b3f9c1d2e58)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[2]
FLASK = Path(sys.executable).with_name("flask")


def _upgrade(url: str, *revision: str) -> None:
    # in a process of its own: Alembic's logging setup would silence this one's loggers
    env = {**os.environ, "DATABASE_URL": url, "FLASK_APP": "wsgi.py", "HIROBA_ENV": "testing"}
    subprocess.run([str(FLASK), "db", "upgrade", *revision], cwd=ROOT, env=env, check=True,
                   capture_output=True, timeout=120)


@pytest.mark.slow
def test_addresses_stored_in_another_form_get_the_one_form_unless_it_is_taken(tmp_path
                                                                              ) -> None:
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    _upgrade(url, "5c0d2b7e9a41")
    engine = sa.create_engine(url)
    emails = ["jiro@例え.jp", "ｔａｒｏ@example.org", "taro@example.org", "ｈａｎａ@example.org",
              "plain@example.org"]
    with engine.begin() as connection:
        for email in emails:
            connection.execute(sa.text(
                "INSERT INTO users (email, display_name, kind, role, verification_level, "
                "created_at, session_nonce, session_ids, notify_council_answers, "
                "notify_own_proposals) VALUES (:e, 'x', 'resident', 'citizen', 'unverified', "
                "'2026-01-01 00:00:00', 'n', '', 0, 1)"), {"e": email})
    _upgrade(url)
    with engine.connect() as connection:
        stored = connection.execute(sa.text("SELECT email FROM users ORDER BY id")).scalars()
        assert list(stored) == ["jiro@xn--r8jz45g.jp", "ｔａｒｏ@example.org",
                                "taro@example.org", "hana@example.org", "plain@example.org"]
    engine.dispose()
