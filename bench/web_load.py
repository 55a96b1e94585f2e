"""Load benchmark: concurrent voters through the real HTTP endpoints (issue 7).

    python bench/web_load.py                      # SQLite, and PostgreSQL if available
    python bench/web_load.py --db postgres --voters 200 --duration 20
    python bench/web_load.py --db postgres --export /work/big/20k   # a 1M-vote round

Loopback only (127.0.0.1), bounded in time and count, stops by itself. For each database:

1. a fresh database (SQLite in a temporary directory; PostgreSQL: a separate database
   ``hiroba_bench`` on the server of ``scripts/postgres.sh start``), schema via
   ``create_all``, a "voting" round with ``--proposals`` proposals, ``--background``
   imported participants with random votes cast an hour earlier (so the round has ~2,000
   participants for the clustering worker), and ``--voters`` accounts; PostgreSQL's
   planner statistics are gathered (``ANALYZE``) as in a deployed database; with ``--export DIR`` the round is
   instead a Pol.is export imported by ``flask polis import`` (e.g. 20,000 participants x
   500 statements, 950,000 votes), and the voters vote on its published statements;
2. gunicorn with the deployment's ``deploy/gunicorn.conf.py``, sized by ``--workers`` and
   ``--threads`` (CLUSTER_RUNNER=off), and one ``flask worker`` process;
3. every voter logs in through ``/auth/login`` (CSRF token from the form) and opens
   ``/rounds/<slug>/vote`` (CSRF token for htmx from ``hx-headers``);
4. ceiling: ``--clients`` threads GET ``/healthz`` for ``--ceiling-seconds``, once before
   step 5 and once after it (and after the worker caught up); the ratio uses both;
5. ``--clients`` threads vote (htmx POST with X-CSRFToken, each voter owned by one
   thread, so its votes are sequential) for ``--duration`` seconds, while a poller records
   when snapshots become visible;
6. checks the database: lost votes (acknowledged but missing or different in ``votes`` /
   ``vote_events``) and snapshot freshness (time from a vote's acknowledgement until a
   snapshot with ``last_vote_event_id`` >= that vote's event is visible).

Per-client-address rate limits are raised for the run (every client is 127.0.0.1).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

PASSWORD = "bench password 123"
SLUG = "bench"
BENCH_SECRET = secrets.token_hex(32)  # production settings refuse a short or known key
CSRF_INPUT = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')
CSRF_HEADER = re.compile(r'"X-CSRFToken":\s*"([^"]+)"')
HARD_TIMEOUT = 600  # seconds: the whole run per database never exceeds this


# ----------------------------------------------------------------------------- database


def fresh_database(kind: str, tmp: Path, name: str = "hiroba_bench") -> str | None:
    """A new empty database: a file in ``tmp``, or database ``name`` on the PostgreSQL
    server of ``scripts/postgres.sh`` (dropped first if it exists)."""
    if kind == "sqlite":
        return "sqlite:///" + str(tmp / f"{name}.sqlite3")
    script = REPO / "scripts" / "postgres.sh"
    try:
        url = subprocess.run([str(script), "start"], check=True, capture_output=True,
                             text=True, timeout=120).stdout.strip().splitlines()[-1]
    except (subprocess.SubprocessError, OSError, IndexError) as error:
        print(f"postgres: not available ({error}); skipped")
        return None
    import psycopg

    base = url.rsplit("/", 1)[0]
    conninfo = base.replace("postgresql+psycopg://", "postgresql://") + "/postgres"
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    return f"{base}/{name}"


def seed(url: str, voters: int, proposals: int, background: int, votes_each: int, *,
         with_round: bool = True) -> None:
    """The schema, ``voters`` accounts and (``with_round``) the round with its background
    participants and votes."""
    os.environ["DATABASE_URL"] = url
    import sqlalchemy as sa
    from werkzeug.security import generate_password_hash

    from app import create_app
    from deliberation.database import db
    from deliberation.models import Participant, Proposal, Round, User, Vote, VoteEvent, utcnow
    from deliberation.text import text_key

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "CLUSTER_RUNNER": "off"})
    rng = random.Random(7)
    with app.app_context():
        db.create_all()
        now = utcnow()
        # The logins are not what is measured: a cheap hash keeps them from taking a minute
        # of the run (scrypt costs about 0.2 s of CPU per login).
        pw_hash = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
        db.session.execute(sa.insert(User), [
            {"email": f"voter{i}@bench.example", "password_hash": pw_hash,
             "display_name": f"Voter {i}", "role": "citizen", "kind": "resident",
             "consent_version": app.config["CONSENT_VERSION"], "consented_at": now,
             "session_nonce": f"n{i}", "created_at": now}
            for i in range(voters)])
        if not with_round:
            db.session.commit()
            db.engine.dispose()
            return
        round_ = Round(slug=SLUG, title="Bench round", phase="voting")
        db.session.add(round_)
        db.session.flush()
        rid = round_.id
        db.session.execute(sa.insert(Proposal), [
            {"round_id": rid, "text": f"Bench proposal {i}", "text_key": text_key(
                f"Bench proposal {i}"), "status": "published", "created_at": now}
            for i in range(proposals)])
        pids = list(db.session.scalars(sa.select(Proposal.id).where(Proposal.round_id == rid)))
        db.session.execute(sa.insert(Participant), [
            {"round_id": rid, "source": "import", "kind": "unknown", "external_id": str(i),
             "created_at": now} for i in range(background)])
        parts = list(db.session.scalars(sa.select(Participant.id).where(
            Participant.round_id == rid)))
        # The background participants voted before the run, as in a round open for a
        # while: the worker's vote cache then follows only the run's own votes (it reads
        # again the events of the last two minutes on each refresh, see vote_cache.py).
        earlier = now - timedelta(hours=1)
        votes = []
        for i, part in enumerate(parts):
            opinion = i % 3
            for pid in rng.sample(pids, min(votes_each, len(pids))):
                lean = 1 if (pid + opinion) % 3 == 0 else -1 if (pid + opinion) % 3 == 1 else 0
                value = lean if rng.random() < 0.8 else rng.choice((-1, 0, 1))
                votes.append({"round_id": rid, "participant_id": part, "proposal_id": pid,
                              "value": value, "created_at": earlier})
        if votes:
            db.session.execute(sa.insert(Vote), [{**v, "updated_at": earlier} for v in votes])
            db.session.execute(sa.insert(VoteEvent), [{**v, "source": "import"} for v in votes])
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            # A deployed database has planner statistics; a freshly seeded one has none
            # until autovacuum analyzes it, at a moment of its choosing during the run.
            db.session.execute(sa.text("ANALYZE"))
            db.session.commit()
        db.engine.dispose()


# ----------------------------------------------------------------------------- processes


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(url: str, min_interval: float, application: str = "hiroba") -> dict[str, str]:
    return {
        **os.environ,
        "HIROBA_ENV": "production", "SECRET_KEY": BENCH_SECRET,
        "SESSION_COOKIE_SECURE": "0", "PROXY_FIX_TRUSTED": "0",
        "DATABASE_URL": with_application_name(url, application),
        "PROXY_FIX": "0",  # what refs before PROXY_FIX_TRUSTED read (vote_instructions.py)
        "CLUSTER_RUNNER": "off", "CLUSTER_MIN_INTERVAL": str(min_interval),
        "LOG_LEVEL": os.environ.get("BENCH_LOG_LEVEL", "WARNING"), "FLASK_APP": "wsgi.py",
        "LOGIN_RATE_LIMIT": "100000 per minute", "VOTE_RATE_LIMIT": "1000000 per minute",
        "POST_RATE_LIMIT": "100000 per minute",
        # One machine and no Redis here: each gunicorn worker counts on its own.
        "RATELIMIT_ALLOW_MEMORY_STORAGE": "1",
    }


def start(cmd: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(cmd, cwd=REPO, env=env, stdout=log.open("w"),
                            stderr=subprocess.STDOUT, start_new_session=True)


def stop(process: subprocess.Popen | None) -> None:
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def wait_ready(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError("the server did not become ready")


def tree_cpu_seconds(root: int) -> float:
    """CPU seconds (user + system) used so far by a process and its children (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    stats = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            stats[int(entry.name)] = (int(fields[1]), int(fields[11]) + int(fields[12]))
    pids, total = {root}, 0
    changed = True
    while changed:
        changed = False
        for pid, (ppid, _) in stats.items():
            if ppid in pids and pid not in pids:
                pids.add(pid)
                changed = True
    for pid in pids:
        total += stats.get(pid, (0, 0))[1]
    return total / tick


def database_server_pid(kind: str) -> int | None:
    """The PostgreSQL postmaster of ``scripts/postgres.sh`` (its backends are its children)."""
    if kind != "postgres":
        return None
    pid_file = Path(os.environ.get("PGDATA_DIR", "/tmp/hiroba-pg")) / "postmaster.pid"
    try:
        return int(pid_file.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def database_cpu_seconds(pid: int | None) -> float:
    return tree_cpu_seconds(pid) if pid else 0.0


def with_application_name(url: str, name: str) -> str:
    """``url`` whose connections show as ``name`` in ``pg_stat_activity`` (PostgreSQL)."""
    if not url.startswith("postgresql"):
        return url
    return f"{url}{'&' if '?' in url else '?'}application_name={name}"


def backend_cpu_seconds(url: str | None) -> dict[int, tuple[str, float]]:
    """{pid: (application name, CPU seconds so far)} of the server processes connected to
    the database of ``url``: the server's CPU per client, which the whole server's figure
    cannot give on a machine where other databases are busy too."""
    if url is None or not url.startswith("postgresql"):
        return {}
    import psycopg

    conninfo = url.replace("postgresql+psycopg://", "postgresql://")
    tick = os.sysconf("SC_CLK_TCK")
    with psycopg.connect(conninfo, autocommit=True) as conn:
        rows = conn.execute("SELECT pid, application_name FROM pg_stat_activity "
                            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                            ).fetchall()
    cpu = {}
    for pid, name in rows:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # another machine, or the backend ended meanwhile
            continue
        cpu[pid] = (name or "other", (int(fields[11]) + int(fields[12])) / tick)
    return cpu


def backend_cpu_by_name(before: dict[int, tuple[str, float]],
                        after: dict[int, tuple[str, float]]) -> dict[str, float]:
    """CPU seconds per application name between two ``backend_cpu_seconds`` readings
    (backends that ended in between are missing; pooled ones last the whole run)."""
    used: dict[str, float] = defaultdict(float)
    for pid, (name, seconds) in after.items():
        used[name] += seconds - before.get(pid, (name, 0.0))[1]
    return dict(used)


def own_cpu_seconds() -> float:
    usage = os.times()
    return usage.user + usage.system


# ----------------------------------------------------------------------------- clients


@dataclass
class Voter:
    email: str
    cookie: str = ""
    csrf: str = ""
    todo: list[int] = field(default_factory=list)
    acked: list[tuple[int, int, float]] = field(default_factory=list)  # proposal, value, t


class Client:
    """A keep-alive HTTP/1.1 connection with just enough cookie handling."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def request(self, method: str, path: str, *, body: str | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], str]:
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, body=body, headers=headers or {})
                response = self.conn.getresponse()
                data = response.read().decode()
                cookies = response.headers.get_all("Set-Cookie") or []
                return response.status, {"set-cookie": ";;".join(cookies),
                                         "location": response.headers.get("Location", "")}, data
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # The server closed an idle keep-alive connection: reconnect once (a POST
                # that never reached the server is safe to resend).
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")


def _merge_cookie(current: str, set_cookie: str) -> str:
    jar = dict(part.split("=", 1) for part in current.split("; ") if "=" in part)
    for item in set_cookie.split(";;"):
        if "=" in item:
            name, value = item.split(";", 1)[0].split("=", 1)
            jar[name.strip()] = value
    return "; ".join(f"{k}={v}" for k, v in jar.items())


def login(port: int, voter: Voter) -> None:
    client = Client(port)
    status, headers, body = client.request("GET", "/auth/login")
    voter.cookie = _merge_cookie("", headers["set-cookie"])
    match = CSRF_INPUT.search(body)
    if status != 200 or not match:
        raise RuntimeError(f"login page: {status}")
    token = match.group(1) or match.group(2)
    form = urlencode({"csrf_token": token, "email": voter.email, "password": PASSWORD})
    status, headers, _ = client.request("POST", "/auth/login", body=form, headers={
        "Content-Type": "application/x-www-form-urlencoded", "Cookie": voter.cookie})
    voter.cookie = _merge_cookie(voter.cookie, headers["set-cookie"])
    if status not in (302, 303):
        raise RuntimeError(f"login of {voter.email}: HTTP {status}")
    status, headers, body = client.request("GET", f"/rounds/{SLUG}/vote",
                                           headers={"Cookie": voter.cookie})
    voter.cookie = _merge_cookie(voter.cookie, headers["set-cookie"])
    match = CSRF_HEADER.search(body)
    if status != 200 or not match:
        raise RuntimeError(f"vote page for {voter.email}: HTTP {status}")
    voter.csrf = match.group(1)


def parallel(n: int, target, *args) -> None:
    threads = [threading.Thread(target=target, args=(i, *args), daemon=True) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=HARD_TIMEOUT)


def ceiling(port: int, clients: int, seconds: float) -> tuple[int, int, list[float]]:
    counts, errors, latencies = [0] * clients, [0] * clients, [[] for _ in range(clients)]
    deadline = time.monotonic() + seconds

    def work(i: int) -> None:
        client = Client(port)
        while time.monotonic() < deadline:
            t0 = time.perf_counter()
            try:
                status, _, _ = client.request("GET", "/healthz")
            except OSError:
                status = 0
            latencies[i].append(time.perf_counter() - t0)
            counts[i] += 1
            errors[i] += status != 200

    parallel(clients, work)
    return sum(counts), sum(errors), [x for xs in latencies for x in xs]


@dataclass
class Ceiling:
    """GETs of the trivial endpoint: count, errors, latencies, seconds and CPU used."""

    requests: int
    errors: int
    latencies: list[float]
    seconds: float
    web_cpu: float
    client_cpu: float
    db_cpu: float
    has_db: bool

    @classmethod
    def measure(cls, port: int, clients: int, seconds: float, web_pid: int,
                db_pid: int | None) -> Ceiling:
        web0, own0, db0 = tree_cpu_seconds(web_pid), own_cpu_seconds(), database_cpu_seconds(db_pid)
        requests, errors, latencies = ceiling(port, clients, seconds)
        return cls(requests, errors, latencies, seconds, tree_cpu_seconds(web_pid) - web0,
                   own_cpu_seconds() - own0, database_cpu_seconds(db_pid) - db0, bool(db_pid))

    def __add__(self, other: Ceiling) -> Ceiling:
        return Ceiling(self.requests + other.requests, self.errors + other.errors,
                       self.latencies + other.latencies, self.seconds + other.seconds,
                       self.web_cpu + other.web_cpu, self.client_cpu + other.client_cpu,
                       self.db_cpu + other.db_cpu, self.has_db)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    def _per_request_ms(self, cpu: float) -> float:
        return cpu / max(self.requests, 1) * 1000

    @property
    def web_ms(self) -> float:
        return self._per_request_ms(self.web_cpu)

    @property
    def db_ms(self) -> float:
        return self._per_request_ms(self.db_cpu)

    def report(self, label: str) -> None:
        print(f"  ceiling GET /healthz, {label}: {self.rps:.0f} req/s, p95 "
              f"{percentile(self.latencies, 95) * 1000:.1f} ms, {self.errors} errors; server "
              f"CPU {self.web_ms:.2f} ms/request, client CPU "
              f"{self._per_request_ms(self.client_cpu):.2f} ms/request"
              + (f", PostgreSQL CPU {self.db_ms:.2f} ms/request" if self.has_db else ""))


def vote_load(port: int, voters: list[Voter], clients: int, seconds: float, max_votes: int,
              ) -> tuple[int, list[float], list[str]]:
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors: list[str] = []
    sent = [0]
    lock = threading.Lock()
    deadline = time.monotonic() + seconds
    rng = random.Random(11)

    def work(i: int) -> None:
        mine = voters[i::clients]
        client = Client(port)
        k = 0
        while time.monotonic() < deadline and mine:
            with lock:
                if sent[0] >= max_votes:
                    return
                sent[0] += 1
            voter = mine[k % len(mine)]
            k += 1
            if not voter.todo:
                continue
            proposal = voter.todo.pop()
            value = rng.choice((-1, 0, 1))
            body = urlencode({"proposal_id": proposal, "value": value})
            t0 = time.perf_counter()
            try:
                status, headers, _text = client.request("POST", f"/rounds/{SLUG}/vote",
                                                         body=body, headers={
                    "Content-Type": "application/x-www-form-urlencoded",
                    "Cookie": voter.cookie, "X-CSRFToken": voter.csrf, "HX-Request": "true"})
            except OSError as error:
                with lock:
                    errors.append(type(error).__name__)
                continue
            latencies[i].append(time.perf_counter() - t0)
            if status == 200:
                voter.acked.append((proposal, value, time.time()))
                if headers["set-cookie"]:
                    voter.cookie = _merge_cookie(voter.cookie, headers["set-cookie"])
            else:
                with lock:
                    errors.append(f"HTTP {status}")

    parallel(clients, work)
    return sum(len(x) for x in latencies), [x for xs in latencies for x in xs], errors


class SnapshotPoller(threading.Thread):
    """Records (wall time, highest last_vote_event_id of an ok snapshot) as they appear."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        import sqlalchemy as sa

        self.engine = sa.create_engine(url)
        self.seen: list[tuple[float, int]] = []
        self.stop_event = threading.Event()

    def covered(self) -> int:
        return self.seen[-1][1] if self.seen else -1

    def run(self) -> None:
        import sqlalchemy as sa

        query = sa.text("SELECT max(last_vote_event_id) FROM cluster_snapshots s JOIN rounds r "
                        "ON r.id = s.round_id WHERE r.slug = :slug AND s.status = 'ok'")
        while not self.stop_event.is_set():
            try:
                with self.engine.connect() as conn:
                    value = conn.execute(query, {"slug": SLUG}).scalar()
                if value is not None and value > self.covered():
                    self.seen.append((time.time(), int(value)))
            except Exception as error:
                print(f"  poller: {type(error).__name__}: {error}")
            self.stop_event.wait(0.1)
        self.engine.dispose()


def wait_for_snapshot(url: str, timeout: float) -> str:
    """Wait (bounded) for the round's first "ok" snapshot; its compute time, or "none"."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                duration = conn.execute(sa.text(
                    "SELECT s.duration_ms FROM cluster_snapshots s JOIN rounds r "
                    "ON r.id = s.round_id WHERE r.slug = :slug AND s.status = 'ok' "
                    "ORDER BY s.id LIMIT 1"), {"slug": SLUG}).scalar()
            if duration is not None:
                return f"computed in {duration / 1000:.1f}s"
            time.sleep(0.5)
        return "none"
    finally:
        engine.dispose()


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def check_votes(url: str, voters: list[Voter]) -> tuple[int, dict[tuple[int, int], list[int]]]:
    """Lost votes, and the event ids of each voter's acknowledged votes (in order)."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.connect() as conn:
        users = dict(conn.execute(sa.text(
            "SELECT u.email, p.id FROM users u JOIN participants p ON p.user_id = u.id "
            "JOIN rounds r ON r.id = p.round_id WHERE r.slug = :slug"), {"slug": SLUG}).all())
        finals = {(r[0], r[1]): r[2] for r in conn.execute(sa.text(
            "SELECT participant_id, proposal_id, value FROM votes"))}
        events: dict[tuple[int, int], list[tuple[int, int]]] = defaultdict(list)
        for eid, part, prop, value in conn.execute(sa.text(
                "SELECT id, participant_id, proposal_id, value FROM vote_events "
                "WHERE source = 'web' ORDER BY id")):
            events[(part, prop)].append((eid, value))
    engine.dispose()
    lost = 0
    acked_events: dict[tuple[int, int], list[int]] = {}
    for voter in voters:
        part = users.get(voter.email)
        for proposal, value, _ in voter.acked:
            key = (part, proposal)
            evs = events.get(key, [])
            acked_events.setdefault(key, [])
            index = len(acked_events[key])
            if index >= len(evs) or evs[index][1] != value:
                lost += 1
                acked_events[key].append(-1)
            else:
                acked_events[key].append(evs[index][0])
        last = {}
        for proposal, value, _ in voter.acked:
            last[proposal] = value
        lost += sum(1 for proposal, value in last.items() if finals.get((part, proposal)) != value)
    return lost, acked_events


def freshness(voters: list[Voter], users: dict[str, int], acked_events, seen) -> list[float]:
    delays = []
    for voter in voters:
        if not voter.acked:  # no vote, so no participant either (a slow, loaded run)
            continue
        part = users[voter.email]
        index: dict[int, int] = defaultdict(int)
        for proposal, _value, t_ack in voter.acked:
            eid = acked_events[(part, proposal)][index[proposal]]
            index[proposal] += 1
            visible = next((t for t, covered in seen if covered >= eid), None)
            delays.append(float("inf") if visible is None else max(0.0, visible - t_ack))
    return delays


# ----------------------------------------------------------------------------- main


def run(kind: str, args: argparse.Namespace) -> dict | None:
    tmp = Path(tempfile.mkdtemp(prefix=f"hiroba-bench-{kind}-"))
    url = fresh_database(kind, tmp, args.db_name)
    if url is None:
        return None
    port = free_port()
    env = server_env(url, args.min_interval)
    if args.export:
        print(f"== {kind}: seeding {args.voters} voters; importing {args.export}")
        seed(url, args.voters, 0, 0, 0, with_round=False)
        started = time.monotonic()
        subprocess.run([str(Path(sys.executable).parent / "flask"), "polis", "import",
                        str(args.export), "--slug", SLUG], cwd=REPO, env=env, check=True,
                       stdout=subprocess.DEVNULL, timeout=HARD_TIMEOUT * 3)
        print(f"  imported in {time.monotonic() - started:.1f}s")
    else:
        print(f"== {kind}: seeding {args.voters} voters, {args.proposals} proposals, "
              f"{args.background} background participants")
        seed(url, args.voters, args.proposals, args.background, args.background_votes)
    venv_bin = Path(sys.executable).parent
    web = worker = None
    poller = SnapshotPoller(url)
    try:
        # The deployment's settings (deploy/gunicorn.conf.py), sized by the options.
        web = start([str(venv_bin / "gunicorn"), "--config", "deploy/gunicorn.conf.py",
                     "--worker-class", args.worker_class, "--bind", f"127.0.0.1:{port}",
                     "--backlog", "512", "wsgi:app"],
                    {**server_env(url, args.min_interval, "hiroba-web"),
                     "WEB_CONCURRENCY": str(args.workers),
                     "GUNICORN_THREADS": str(args.threads)}, tmp / "gunicorn.log")
        worker = start([str(venv_bin / "flask"), "worker"],
                       server_env(url, args.min_interval, "hiroba-worker"), tmp / "worker.log")
        wait_ready(port)
        if args.export:
            # A deployed worker holds the busy round's votes in memory already: let it read
            # the imported round (the import requested a snapshot) before the votes start.
            started = time.monotonic()
            first = wait_for_snapshot(url, HARD_TIMEOUT)
            print(f"  worker's first snapshot (every vote read) after "
                  f"{time.monotonic() - started:.1f}s: {first}")
        voters = [Voter(email=f"voter{i}@bench.example") for i in range(args.voters)]
        t0 = time.monotonic()
        login_errors: list[str] = []

        def do_login(i: int) -> None:
            for voter in voters[i::8]:
                try:
                    login(port, voter)
                except Exception as error:
                    login_errors.append(str(error))

        parallel(8, do_login)
        print(f"  logged in {args.voters - len(login_errors)} voters over HTTP in "
              f"{time.monotonic() - t0:.1f}s ({len(login_errors)} errors)")
        voters = [v for v in voters if v.csrf]
        rng = random.Random(3)
        import sqlalchemy as sa

        engine = sa.create_engine(url)
        with engine.connect() as conn:
            pids = list(conn.execute(sa.text(
                "SELECT p.id FROM proposals p JOIN rounds r ON r.id = p.round_id "
                "WHERE r.slug = :slug AND p.status = 'published'"), {"slug": SLUG}).scalars())
        engine.dispose()
        for voter in voters:
            voter.todo = rng.sample(pids, len(pids))

        db_pid = database_server_pid(kind)
        # The ceiling is measured just before and just after the votes, and the ratio uses
        # both: the VM's speed drifts within seconds, and one side alone can be off by 30%.
        before = Ceiling.measure(port, args.clients, args.ceiling_seconds, web.pid, db_pid)
        before.report("before the votes")

        poller.start()
        t_start = time.monotonic()
        web_cpu0, own_cpu0 = tree_cpu_seconds(web.pid), own_cpu_seconds()
        worker_cpu0 = tree_cpu_seconds(worker.pid)
        db_cpu0 = database_cpu_seconds(db_pid)
        backends0 = backend_cpu_seconds(url)
        _n_votes, latencies, errors = vote_load(port, voters, args.clients, args.duration,
                                               args.max_votes)
        elapsed = time.monotonic() - t_start
        acked = sum(len(v.acked) for v in voters)
        votes_per_s = acked / elapsed
        web_ms_vote = (tree_cpu_seconds(web.pid) - web_cpu0) / max(acked, 1) * 1000
        client_ms_vote = (own_cpu_seconds() - own_cpu0) / max(acked, 1) * 1000
        worker_share = (tree_cpu_seconds(worker.pid) - worker_cpu0) / elapsed
        db_ms_vote = (database_cpu_seconds(db_pid) - db_cpu0) / max(acked, 1) * 1000
        by_client = backend_cpu_by_name(backends0, backend_cpu_seconds(url))
        web_db_ms_vote = by_client.get("hiroba-web", 0.0) / max(acked, 1) * 1000
        worker_db_ms_vote = by_client.get("hiroba-worker", 0.0) / max(acked, 1) * 1000
        with open("/proc/loadavg") as loadavg:
            load = loadavg.read().split()[0]
        print(f"  server CPU {web_ms_vote:.2f} ms/vote, client CPU {client_ms_vote:.2f} "
              f"ms/vote"
              + (f", PostgreSQL CPU {db_ms_vote:.2f} ms/vote (worker's queries included)"
                 if db_pid else "")
              + f", clustering worker {worker_share:.2f} cores; load average {load}")
        if db_pid:
            # The whole server's figure above also counts other databases' clients and
            # the server's own processes (autovacuum, WAL writer, checkpointer).
            print(f"  PostgreSQL CPU for this database's clients: the web processes' "
                  f"{web_db_ms_vote:.2f} ms/vote, the clustering worker's "
                  f"{worker_db_ms_vote:.2f} ms/vote")
        print(f"  votes: {acked} acknowledged in {elapsed:.1f}s = {votes_per_s:.0f} votes/s; "
              f"p50 {percentile(latencies, 50) * 1000:.1f} ms, p95 "
              f"{percentile(latencies, 95) * 1000:.1f} ms, p99 "
              f"{percentile(latencies, 99) * 1000:.1f} ms; {len(errors)} errors "
              f"{sorted(set(errors))[:5]}")
        lost, acked_events = check_votes(url, voters)
        # Let the worker catch up (bounded) so freshness is measured for every vote.
        last_event = max((e for evs in acked_events.values() for e in evs), default=-1)
        deadline = time.monotonic() + args.catch_up
        while poller.covered() < last_event and time.monotonic() < deadline:
            time.sleep(0.2)
        poller.stop_event.set()
        poller.join(5)
        # (After the worker's last run, as before the votes: the trivial endpoint alone.)
        after = Ceiling.measure(port, args.clients, args.ceiling_seconds, web.pid, db_pid)
        after.report("after the votes")
        both = before + after
        both.report("before and after")
        ceiling_rps = both.rps
        engine = sa.create_engine(url)
        with engine.connect() as conn:
            users = dict(conn.execute(sa.text(
                "SELECT u.email, p.id FROM users u JOIN participants p ON p.user_id = u.id"
            )).all())
            snapshots = conn.execute(sa.text(
                "SELECT count(*), avg(duration_ms), max(n_participants) FROM cluster_snapshots "
                "WHERE status = 'ok'")).one()
            failed = conn.execute(sa.text(
                "SELECT count(*) FROM cluster_snapshots WHERE status = 'failed'")).scalar()
        engine.dispose()
        delays = freshness(voters, users, acked_events, poller.seen)
        finite = [d for d in delays if d != float("inf")]
        print(f"  snapshots: {snapshots[0]} ok ({failed} failed), mean compute "
              f"{(snapshots[1] or 0) / 1000:.2f}s, {snapshots[2]} participants; freshness "
              f"p50 {percentile(delays, 50):.1f}s p95 {percentile(delays, 95):.1f}s "
              f"({len(delays) - len(finite)} votes never in a snapshot)")
        print(f"  lost votes: {lost}")
        result = {
            "database": kind, "voters": len(voters), "clients": args.clients,
            "gunicorn": f"{args.workers}x{args.threads} {args.worker_class}",
            "votes": acked, "votes_per_s": round(votes_per_s, 1),
            "p50_ms": round(percentile(latencies, 50) * 1000, 1),
            "p95_ms": round(percentile(latencies, 95) * 1000, 1),
            "p99_ms": round(percentile(latencies, 99) * 1000, 1),
            "errors": len(errors), "lost_votes": lost,
            "ceiling_rps": round(ceiling_rps, 1), "ceiling_errors": both.errors,
            "ceiling_rps_before": round(before.rps, 1), "ceiling_rps_after": round(after.rps, 1),
            "ratio_to_ceiling": round(votes_per_s / ceiling_rps, 2) if ceiling_rps else None,
            "server_cpu_ms_per_vote": round(web_ms_vote, 2),
            "server_cpu_ms_per_trivial": round(both.web_ms, 2),
            "database_cpu_ms_per_vote": round(db_ms_vote, 2) if db_pid else None,
            "database_cpu_ms_per_trivial": round(both.db_ms, 2) if db_pid else None,
            "database_cpu_ms_per_vote_web": round(web_db_ms_vote, 2) if db_pid else None,
            "database_cpu_ms_per_vote_worker": round(worker_db_ms_vote, 2) if db_pid else None,
            "client_cpu_ms_per_vote": round(client_ms_vote, 2),
            "worker_cores": round(worker_share, 2), "load_average": load,
            "snapshots_ok": snapshots[0], "snapshots_failed": failed,
            "freshness_p50_s": round(percentile(delays, 50), 2),
            "freshness_p95_s": round(percentile(delays, 95), 2),
            "never_fresh": len(delays) - len(finite),
        }
        return result
    finally:
        poller.stop_event.set()
        stop(web)
        stop(worker)
        if args.keep:
            print(f"  logs and database kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--db-name", default="hiroba_bench",
                        help="the database (dropped and created) or SQLite file name: "
                             "runs at the same time need names of their own")
    parser.add_argument("--voters", type=int, default=200)
    parser.add_argument("--proposals", type=int, default=100)
    parser.add_argument("--background", type=int, default=1800,
                        help="imported participants with votes (round size ~ voters + this)")
    parser.add_argument("--background-votes", type=int, default=30)
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--ceiling-seconds", type=float, default=5.0)
    parser.add_argument("--max-votes", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--worker-class", default="gthread")
    parser.add_argument("--min-interval", type=float, default=3.0)
    parser.add_argument("--catch-up", type=float, default=30.0,
                        help="seconds to wait after the load for the last snapshot")
    parser.add_argument("--export", type=Path,
                        help="vote on this Pol.is export, imported with flask polis import "
                             "(instead of the seeded round)")
    parser.add_argument("--keep", action="store_true", help="keep logs and database")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    args.duration = min(args.duration, 120.0)
    args.voters = min(args.voters, 5000)
    kinds = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    results = [r for kind in kinds if (r := run(kind, args)) is not None]
    print(json.dumps(results, indent=2))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    ok = all(r["errors"] == 0 and r["lost_votes"] == 0 for r in results)
    pg = [r for r in results if r["database"] == "postgres"]
    if pg:
        r = pg[0]
        print("targets (PostgreSQL): >=300 votes/s:", r["votes_per_s"] >= 300,
              "| p95 <= 100 ms:", r["p95_ms"] <= 100,
              "| >= 50% of ceiling:", (r["ratio_to_ceiling"] or 0) >= 0.5,
              "| freshness p95 <= 10 s:", r["freshness_p95_s"] <= 10,
              "| zero errors and lost votes:", ok)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
