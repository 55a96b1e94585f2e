"""City-scale rounds: a Pol.is export of ~1M votes through the whole stack, each step against
a baseline measured in the same run.

    python bench/big_round.py [--size 20000x500] [--density 0.095]
                              [--db sqlite|postgres|both|none] [--export DIR] [--no-reddwarf]
                              [--reddwarf-timeout SECONDS]

    10M votes, analysis only:  python bench/big_round.py --export /work/big/100k --db none
    (/work/big/100k: 100,000 participants x 1,000 statements, 9,996,175 votes, written by
    `python bench/big_round.py --generate 100000 1000 0.1 DIR`)

Steps (each a separate process; wall seconds, CPU seconds (user + sys) and that process's
peak RSS):
  analyze   `python -m clustering analyze DIR` against red-dwarf 0.4.0 on the same files
            (its CSV-export loading code, reading local files instead of HTTP, then its
            Pol.is pipeline); red-dwarf comes from REDDWARF_PYTHON (default
            /work/bench-venv-reddwarf/bin/python, see bench/README.md). It is stopped after
            --reddwarf-timeout seconds (default 900) or above 12 GB of address space, and
            the line then says so: at 10M votes it may not finish.
  import    `flask polis import DIR` into a migrated empty database against a plain
            `sqlite3 .import` (SQLite) or `psql \\copy` (PostgreSQL) of the same votes.csv.
            --runs times each (default 3), taking turns, each into fresh tables; the
            medians are compared. On PostgreSQL every measured step starts after a
            CHECKPOINT, and the tables a step leaves to autovacuum are vacuumed before the
            next one (outside the measured time); a line per run gives the server's CPU
            seconds for both (their backends, read from /proc when the server runs on this
            machine) and the WAL written while each ran, and a last line the ratio of
            client + server CPU.
  cluster   `flask cluster run SLUG` on the imported round (cold process).
  refresh   in one worker process: a refresh that reads every vote (the baseline) against
            a warm incremental refresh (the runner's in-memory votes) after 1,000 new votes
            (the median of three, each after its own 1,000 votes), then the same round with
            UMAP: its first refresh in the process, then three warm UMAP refreshes taking
            turns with three warm PCA refreshes, each after its own 1,000 votes (the
            medians compared). On PostgreSQL a second line gives the server's CPU seconds
            for the warm and full-read refreshes (its backend process, read from /proc when
            the server runs on this machine).

The export is generated (planted opinion groups, `clustering.synthetic`) unless --export
names one. PostgreSQL uses database `hiroba_bench_big` (or $BENCH_PG_DATABASE) on the
scripts/postgres.sh server. `--steps import` measures only the imports. The repository's
sources are byte-compiled once before the steps (as scripts/test.sh does), so no measured
process compiles them, whatever PYTHONDONTWRITEBYTECODE says.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
FLASK = str(Path(PYTHON).with_name("flask"))
DEFAULT_REDDWARF_PYTHON = "/work/bench-venv-reddwarf/bin/python"

REDDWARF_SCRIPT = r"""
import sys, time
from pathlib import Path
from reddwarf.data_loader import Loader
from reddwarf.implementations.polis import run_pipeline

class LocalFiles:  # stands in for the HTTP session: the same loader code, local files
    def get(self, url):
        return type("R", (), {"text": Path(url).read_text(encoding="utf-8")})()

loader = Loader()
loader.session = LocalFiles()
directory = sys.argv[1].rstrip("/") + "/"
loader.load_remote_export_data_comments(directory)
loader.load_remote_export_data_votes(directory)
loader.filter_duplicate_votes(keep="recent")
result = run_pipeline(votes=loader.votes_data, random_state=0)
print(len(result.participants_df))
"""


def write_export(n: int, m: int, density: float, directory: Path) -> int:
    sys.path.insert(0, str(REPO))
    import numpy as np

    from clustering.synthetic import planted_conversation

    data, _truth = planted_conversation(n, m, density=density, seed=1)
    rng = np.random.default_rng(2)
    start_ms = 1_700_000_000_000
    ms = start_ms + rng.integers(0, 30 * 86_400_000, size=len(data.value))
    order = np.argsort(ms, kind="stable")
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / "votes.csv", "w", encoding="utf-8") as out:
        out.write("timestamp,datetime,comment-id,voter-id,vote\n")
        for t, s, p, v in zip(ms[order].tolist(), data.statement[order].tolist(),
                              data.participant[order].tolist(), data.value[order].tolist(),
                              strict=True):
            out.write(f"{t},x,{s},{p},{v}\n")
    with open(directory / "comments.csv", "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["timestamp", "datetime", "comment-id", "author-id", "agrees",
                         "disagrees", "moderated", "comment-body", "is-meta"])
        for j in range(m):
            writer.writerow([start_ms + j, "x", j, j % n, 0, 0, 1, f"Statement {j}", "false"])
    return len(data.value)


class Stopped(Exception):
    """A baseline stopped at its time or memory bound."""


def measure(cmd: list[str], env: dict[str, str] | None = None,
            stdin: str | None = None, *, timeout: float | None = None,
            max_bytes: int | None = None) -> tuple[float, float, float]:
    """(wall seconds, peak RSS MB, CPU seconds) of one process; raises if it fails, Stopped
    if it passes ``timeout`` seconds or ``max_bytes`` of address space."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (max_bytes, max_bytes))

    started = time.perf_counter()
    process = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, stdin=subprocess.PIPE if stdin else None,
                               text=True, preexec_fn=limit if max_bytes else None)
    timer = threading.Timer(timeout, process.kill) if timeout else None
    if timer:
        timer.start()
    if stdin:
        process.stdin.write(stdin)
        process.stdin.close()
    _pid, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    if timer:
        timer.cancel()
    if timeout and seconds >= timeout:
        raise Stopped(f"stopped after {timeout:.0f} s")
    if os.waitstatus_to_exitcode(status) != 0:
        error = process.stderr.read()[-500:]
        if max_bytes and "MemoryError" in error:
            raise Stopped(f"out of memory at its {max_bytes / 2**30:.0f} GB bound")
        raise RuntimeError(f"{cmd[:3]} failed: {error}")
    return seconds, usage.ru_maxrss / 1024.0, usage.ru_utime + usage.ru_stime


def report(step: str, ours: tuple[float, ...], base_name: str,
           base: tuple[float, ...] | None) -> None:
    line = f"{step:<28} {ours[0]:>8.2f} s {ours[1]:>7.0f} MB"
    if len(ours) > 2:
        line += f" {ours[2]:>7.2f} s CPU"
    if base is not None:
        line += f"   {base_name:<18} {base[0]:>8.2f} s {base[1]:>7.0f} MB"
        if len(base) > 2:
            line += f" {base[2]:>7.2f} s CPU"
        line += f"   ratio {ours[0] / base[0]:>5.2f}"
        if len(ours) > 2 and len(base) > 2:
            line += f" (CPU {ours[2] / base[2]:.2f})"
    print(line, flush=True)


def report_seconds(step: str, ours: tuple[float, float], base_name: str,
                   base: tuple[float, float]) -> None:
    """A line for figures measured inside one process (no peak memory of their own):
    (wall, CPU) seconds each; the CPU seconds are this process's (the database server's
    work on PostgreSQL is not in them)."""
    print(f"{step:<34} {ours[0]:>8.2f} s {ours[1]:>6.2f} s CPU   {base_name:<18} "
          f"{base[0]:>8.2f} s {base[1]:>6.2f} s CPU   ratio {ours[0] / base[0]:>5.2f} "
          f"(CPU {ours[1] / base[1]:.2f})", flush=True)


def reddwarf_python(disabled: bool) -> str | None:
    candidate = os.environ.get("REDDWARF_PYTHON", DEFAULT_REDDWARF_PYTHON)
    if disabled or not Path(candidate).exists():
        return None
    return candidate


# Several people may run benchmarks on one server: BENCH_PG_DATABASE names another one.
PG_DATABASE = os.environ.get("BENCH_PG_DATABASE", "hiroba_bench_big")


def postgres_url() -> str:
    url = subprocess.run([str(REPO / "scripts" / "postgres.sh"), "start"], check=True,
                         capture_output=True, text=True).stdout.strip()
    return url.rsplit("/", 1)[0] + "/" + PG_DATABASE


def fresh_postgres(url: str) -> None:
    import sqlalchemy as sa

    server = sa.create_engine(url.rsplit("/", 1)[0] + "/postgres",
                              isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{PG_DATABASE}"'))
        connection.execute(sa.text(f'CREATE DATABASE "{PG_DATABASE}"'))
    server.dispose()


IMPORT_GOAL = 10.0  # times the plain load of the same votes.csv


class ServerCPU:
    """CPU seconds (user + system) used by the PostgreSQL backends serving ``database``
    while the block runs: the work a client's own CPU seconds leave out. Read from /proc
    every 10 ms (the server runs on this machine): the server's children, then the
    counters of those whose title names the database (a backend that ends loses at most
    its last 10 ms). ``seconds`` is None where the server's processes cannot be read."""

    def __init__(self, libpq: str, database: str) -> None:
        self.title = f" {database} ".encode()
        self.ticks = os.sysconf("SC_CLK_TCK")
        self.children: Path | None = None
        data = subprocess.run(["psql", libpq, "-Atc", "SHOW data_directory"],
                              capture_output=True, text=True).stdout.strip()
        try:
            server = int((Path(data) / "postmaster.pid").read_text().split()[0])
            self.children = Path(f"/proc/{server}/task/{server}/children")
            self.children.read_text()
        except (OSError, ValueError, IndexError):
            self.children = None
        self.before: dict[int, float] = {}  # backends already there: only their growth counts
        self.last: dict[int, float] = {}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> ServerCPU:
        if self.children is not None:
            self._sample()
            self.before = dict(self.last)
            self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        if self.thread.is_alive():
            self.stop.set()
            self.thread.join()

    @property
    def seconds(self) -> float | None:
        if self.children is None:
            return None
        return sum(self.last.values()) - sum(self.before.values())

    def _watch(self) -> None:
        while not self.stop.wait(0.01):
            self._sample()

    def _sample(self) -> None:
        try:
            pids = [int(pid) for pid in self.children.read_text().split()]
        except OSError:
            return
        for pid in pids:
            try:
                if pid not in self.last and self.title not in Path(
                        f"/proc/{pid}/cmdline").read_bytes():
                    continue
                stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # ended: its last reading stands
            self.last[pid] = (int(stat[11]) + int(stat[12])) / self.ticks


def psql(libpq: str, sql: str) -> str:
    return subprocess.run(["psql", libpq, "-Atqc", sql], check=True, capture_output=True,
                          text=True).stdout.strip()


def settle(libpq: str) -> None:
    """Start a measured step from the same server state for both sides: a CHECKPOINT
    first (one already under way is finished first), so that no checkpoint started by
    earlier writes (the other side's, another database's) runs during the step; a step
    then meets one only if its own WAL, with other work running at that moment, passes
    the server's checkpoint distance. Needs a superuser or pg_checkpoint; without it the
    step runs as is."""
    with contextlib.suppress(subprocess.CalledProcessError):
        psql(libpq, "CHECKPOINT")


def wal_position(libpq: str) -> int:
    return int(psql(libpq, "SELECT pg_current_wal_lsn() - '0/0'::pg_lsn"))


def median_run(runs: list[tuple[float, ...]]) -> tuple[float, ...]:
    """Each figure's median over the runs (wall, peak MB, CPU, ...), taken separately."""
    return tuple(sorted(column)[len(column) // 2] for column in zip(*runs, strict=True))


def bench_database(kind: str, export: Path, work: Path, steps: set[str], runs: int) -> None:
    """The import against the plain load ``runs`` times, the two taking turns (which goes
    first alternates), each into fresh tables; medians compared. On PostgreSQL each
    measured step starts after a CHECKPOINT, and what a step leaves to autovacuum (the
    baseline's freshly loaded table, the imported tables) is vacuumed before the next
    step starts, outside the measured time, so neither side pays for the other's
    leftovers."""
    env = dict(os.environ, FLASK_APP="wsgi.py", CLUSTER_RUNNER="off", HIROBA_ENV="development")
    votes = str(export / "votes.csv")
    import_command = [FLASK, "polis", "import", str(export), "--slug", "big"]
    base_name = "sqlite3 .import" if kind == "sqlite" else "psql \\copy"
    if kind == "postgres":
        url = postgres_url()
        env["DATABASE_URL"] = url
        libpq = url.replace("postgresql+psycopg://", "postgresql://")
    else:
        database = work / "big.sqlite3"
        env["DATABASE_URL"] = f"sqlite:///{database}"

    def prepare() -> None:
        """Fresh, empty tables for both sides."""
        if kind == "sqlite":
            for path in (work / "plain.sqlite3", database):
                path.unlink(missing_ok=True)
        else:
            fresh_postgres(url)
            psql(libpq, "CREATE TABLE plain_votes (timestamp bigint, datetime text, "
                        "comment_id int, voter_id int, vote int)")
        subprocess.run([FLASK, "db", "upgrade"], cwd=REPO, env=env, check=True,
                       capture_output=True)

    def on_server(command: list[str], cleanup: str | None) -> tuple[float, ...]:
        """(wall, peak MB, client CPU, server CPU or -1, WAL MB) of one PostgreSQL step."""
        settle(libpq)
        wal = wal_position(libpq)
        with ServerCPU(libpq, PG_DATABASE) as server:
            figures = measure(command, env=env)
        wal = (wal_position(libpq) - wal) / 2**20
        if cleanup:
            psql(libpq, cleanup)
        return (*figures, server.seconds if server.seconds is not None else -1.0, wal)

    def plain(_last: bool) -> tuple[float, ...]:
        if kind == "sqlite":
            return measure(["sqlite3", str(work / "plain.sqlite3"), ".mode csv",
                            f".import {votes} votes"])
        # the freshly loaded table is due for autovacuum right away
        return on_server(["psql", libpq, "-qc", f"\\copy plain_votes FROM '{votes}' "
                          "WITH (FORMAT csv, HEADER)"], "VACUUM ANALYZE plain_votes")

    def ours(last: bool) -> tuple[float, ...]:
        if kind == "sqlite":
            return measure(import_command, env=env)
        # the imported tables too, unless the cluster step reads them next, as it would
        # right after an import
        keep = last and "cluster" in steps
        return on_server(import_command, None if keep else "VACUUM ANALYZE")

    plain_runs: list[tuple[float, ...]] = []
    ours_runs: list[tuple[float, ...]] = []
    for run in range(runs):
        prepare()
        order = [("plain", plain), ("ours", ours)]
        for name, step in order if run % 2 == 0 else reversed(order):
            (plain_runs if name == "plain" else ours_runs).append(step(run == runs - 1))
        line = (f"  run {run + 1}: import {ours_runs[-1][0]:.2f} s, {base_name} "
                f"{plain_runs[-1][0]:.2f} s ({ours_runs[-1][0] / plain_runs[-1][0]:.1f}x)")
        if kind == "postgres":
            line += (f"; server CPU {ours_runs[-1][3]:.2f} s and {plain_runs[-1][3]:.2f} s; "
                     f"WAL during each {ours_runs[-1][4]:.0f} MB and {plain_runs[-1][4]:.0f} MB")
        print(f"{line}; load average {os.getloadavg()[0]:.1f}", flush=True)
    ours, plain = median_run(ours_runs), median_run(plain_runs)
    median = f", median of {runs}" if runs > 1 else ""
    report(f"import ({kind}){median}", ours[:3], base_name, plain[:3])
    ratio = ours[0] / plain[0]
    print(f"  => import ({kind}) took {ratio:.1f}x {base_name} in the same run{median} (goal "
          f"at most {IMPORT_GOAL:.0f}x: {'met' if ratio <= IMPORT_GOAL else 'not met'}); "
          f"load average {os.getloadavg()[0]:.1f}"
          + ("; CPU seconds are the client's, the server's work is not in them"
             if kind == "postgres" else ""), flush=True)
    if kind == "postgres" and ours[3] >= 0 and plain[3] >= 0:
        # Client and server CPU together: what a quiet machine's wall time would be at
        # most if nothing ran in parallel, and far less moved by other work than wall time.
        ours_cpu = median_run([(r[2] + r[3],) for r in ours_runs])[0]
        plain_cpu = median_run([(r[2] + r[3],) for r in plain_runs])[0]
        print(f"  PostgreSQL server CPU{median}: import {ours[3]:.2f} s, {base_name} "
              f"{plain[3]:.2f} s; client + server CPU {ours_cpu:.2f} s against "
              f"{plain_cpu:.2f} s: {ours_cpu / plain_cpu:.1f}x", flush=True)
    if "cluster" not in steps:
        return
    cold = measure([FLASK, "cluster", "run", "big"], env=env)
    report(f"cluster run, cold ({kind})", cold, base_name, plain[:3])
    subprocess.run([PYTHON, __file__, "--refresh", "big", kind], cwd=REPO, env=env, check=True)


REFRESH_VOTES = 1_000


def refresh_figures(slug: str, kind: str) -> None:
    """Refresh timings inside one process (as the worker runs them), each against the full
    read of the same round measured in the same process."""
    sys.path.insert(0, str(REPO))
    import numpy as np
    import sqlalchemy as sa

    from app import create_app
    from deliberation.database import db
    from deliberation.engine.snapshots import refresh_round
    from deliberation.jobs.vote_cache import VoteCache
    from deliberation.models import Participant, Proposal, Round
    from deliberation.services.votes import record_vote

    def timed(**options) -> tuple[float, float, float | None]:
        """(wall, CPU, server CPU or None) seconds of one refresh."""
        server = server_cpu()
        started, cpu = time.perf_counter(), time.process_time()
        snapshot = refresh_round(rid, threads=1, **options)
        assert snapshot is not None and snapshot.status == "ok", snapshot
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        after = server_cpu()
        return wall, cpu, None if server is None or after is None else after - server

    def server_cpu() -> float | None:
        """CPU seconds so far of the PostgreSQL backend serving this session (the refresh
        commits, and the pooled connection comes back), or None where it cannot be read."""
        if kind != "postgres":
            return None
        try:
            pid = db.session.scalar(sa.text("SELECT pg_backend_pid()"))
            db.session.commit()
            stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # the server runs elsewhere, or as a user we may not read
            return None
        return (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")

    def new_votes(rng) -> None:
        round_ = db.session.get(Round, rid)
        for _ in range(REFRESH_VOTES):
            participant = db.session.get(Participant, int(rng.choice(people)))
            record_vote(round_, participant, int(rng.choice(proposals)),
                        int(rng.integers(-1, 2)), "web")
        db.session.commit()

    app = create_app()
    with app.app_context():
        rid = db.session.scalar(sa.select(Round.id).where(Round.slug == slug))
        people = db.session.scalars(sa.select(Participant.id).where(
            Participant.round_id == rid)).all()
        proposals = db.session.scalars(sa.select(Proposal.id).where(
            Proposal.round_id == rid, Proposal.status == "published")).all()
        rng = np.random.default_rng(3)
        cache = VoteCache()
        first = timed(votes=cache)  # imports, and fills the cache
        warm_runs = []
        for _ in range(3):
            new_votes(rng)
            warm_runs.append(timed(votes=cache))
        warm = sorted(warm_runs)[1]  # the median by wall seconds
        full = timed()
        print(f"refresh ({kind}): first in process {first[0]:.2f} s, {first[1]:.2f} s CPU "
              f"(cache filled)", flush=True)
        report_seconds(f"refresh, warm +{REFRESH_VOTES} ({kind})", warm[:2], "full read",
                       full[:2])
        print(f"  warm runs: {', '.join(f'{w:.2f} s ({c:.2f} s CPU)' for w, c, _ in warm_runs)}"
              f"; load average {os.getloadavg()[0]:.1f}", flush=True)
        if warm[2] is not None and full[2] is not None:
            print(f"  PostgreSQL server CPU: warm {warm[2]:.2f} s, full read {full[2]:.2f} s",
                  flush=True)
        def method_refresh(method: str) -> tuple[float, float, float | None]:
            new_votes(rng)
            db.session.get(Round, rid).clustering_method = method
            db.session.commit()
            return timed(votes=cache)

        umap_first = method_refresh("umap")
        # UMAP and PCA taking turns, each after its own 1,000 votes, so that both meet the
        # same moments of a shared machine; the medians by wall seconds are compared
        turns = [(method_refresh("umap"), method_refresh("pca")) for _ in range(3)]
        umap_runs, pca_runs = [u for u, _ in turns], [p for _, p in turns]
        print(f"refresh ({kind}): UMAP first in process {umap_first[0]:.2f} s, "
              f"{umap_first[1]:.2f} s CPU", flush=True)
        report_seconds(f"UMAP refresh, warm ({kind})", sorted(umap_runs)[1][:2],
                       "PCA refresh, warm", sorted(pca_runs)[1][:2])
        for name, runs in (("UMAP", umap_runs), ("PCA", pca_runs)):
            print(f"  {name} runs: {', '.join(f'{w:.2f} s ({c:.2f} s CPU)' for w, c, _ in runs)}"
                  f"; load average {os.getloadavg()[0]:.1f}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="20000x500")
    parser.add_argument("--density", type=float, default=0.095)
    parser.add_argument("--db", choices=("sqlite", "postgres", "both", "none"), default="both")
    parser.add_argument("--export", type=Path)
    parser.add_argument("--no-reddwarf", action="store_true")
    parser.add_argument("--reddwarf-timeout", type=float, default=900.0)
    parser.add_argument("--runs", type=int, default=3,
                        help="imports and plain loads per database, taking turns (medians)")
    parser.add_argument("--steps", default="analyze,import,cluster",
                        help="comma-separated; 'import' alone measures only the imports")
    parser.add_argument("--generate", nargs=4, help=argparse.SUPPRESS)
    parser.add_argument("--refresh", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.refresh:
        refresh_figures(*args.refresh)
        return 0
    if args.generate:
        n, m, density, directory = args.generate
        print(write_export(int(n), int(m), float(density), Path(directory)))
        return 0
    with tempfile.TemporaryDirectory(prefix="hiroba-big-") as tmp:
        work = Path(tmp)
        export = args.export
        if export is None:
            n, m = (int(x) for x in args.size.lower().split("x"))
            export = work / "export"
            # in a child process: a child's peak RSS on Linux starts from the peak of the
            # process that starts it, so this launcher stays small
            n_votes = int(subprocess.run(
                [PYTHON, __file__, "--generate", str(n), str(m), str(args.density),
                 str(export)], check=True, capture_output=True, text=True).stdout)
            print(f"export: {n:,} participants x {m:,} statements, {n_votes:,} votes")
        print(f"cores: {os.cpu_count()}  load average: {os.getloadavg()[0]:.1f}")
        # The repository's sources compiled once, before the measured processes, as an
        # installed app has them: with PYTHONDONTWRITEBYTECODE set (this machine's
        # environment sets it) every `flask` process would compile them again (about
        # 0.25 s of CPU each), work that no deployment repeats per command.
        os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
        subprocess.run([PYTHON, "-m", "compileall", "-q", "-j", "0", "app", "deliberation",
                        "clustering", "migrations", "wsgi.py"], cwd=REPO, check=True,
                       stdout=subprocess.DEVNULL)
        steps = set(args.steps.split(","))
        if "analyze" in steps:
            ours = measure([PYTHON, "-m", "clustering", "analyze", str(export)])
            rd_python = reddwarf_python(args.no_reddwarf)
            base, why = None, "skipped (not installed or --no-reddwarf)"
            if rd_python:
                try:
                    base = measure([rd_python, "-c", REDDWARF_SCRIPT, str(export)],
                                   timeout=args.reddwarf_timeout, max_bytes=12 * 2**30)
                except Stopped as stopped:
                    why = str(stopped)
            report("analyze (whole process)", ours, "red-dwarf 0.4.0", base)
            if base is None:
                print(f"  red-dwarf: {why}")
                if "after" in why:
                    print(f"  ratio below {ours[0] / args.reddwarf_timeout:.3f}", flush=True)
        print(f"load average after: {os.getloadavg()[0]:.1f}")
        kinds = {"both": ["sqlite", "postgres"], "none": []}.get(args.db, [args.db])
        for kind in kinds:
            if kind == "postgres" and shutil.which("psql") is None:
                print("postgres: skipped (psql not found)")
                continue
            bench_database(kind, export, work, steps, args.runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
