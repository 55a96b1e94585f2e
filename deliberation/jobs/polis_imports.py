"""Pol.is uploads imported in the background worker, with progress a page can show.

The web request only stores the upload (``queue_upload``: the Pol.is files of a zip or the
single CSV files, bounded in size, under ``folder/<job id>/``) and queues an
:class:`ImportJob`. A worker (``run_once``, looped by ``run_forever`` beside the
clustering runner) claims the oldest queued job, reads the files, writes the round with
the same bulk path as ``flask polis import`` in one transaction, records the outcome and
deletes the stored files.

Progress while writing goes to a small file beside the upload, not to the job row: the
import's transaction holds SQLite's only write lock until it commits, so a second
connection could not update the row meanwhile. ``rows_written`` reads that file.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any, BinaryIO

import sqlalchemy as sa

from deliberation.database import add_unique, db
from deliberation.errors import N_, Conflict, DomainError
from deliberation.jobs.runner import new_owner
from deliberation.models import ImportJob, Round, User
from deliberation.models._common import utcnow
from deliberation.services.facilitation import SLUG_RE

log = logging.getLogger(__name__)

LEASE = timedelta(hours=1)  # far beyond an upload's import (4 x 50 MB of CSV)
PROGRESS_FILE = "progress.json"
PROGRESS_EVERY = 0.5  # seconds between two writes of the progress file
REQUIRED = ("comments.csv", "votes.csv")
UNEXPECTED = [(N_("The import failed unexpectedly; nothing was imported. "
                  "Please try again or ask the operator to check the logs."), {})]
INTERRUPTED = [(N_("The import was interrupted; nothing was imported. "
                   "Please upload the export again."), {})]


def job_folder(folder: Path, job: ImportJob) -> Path:
    return folder / str(job.id)


def queue_upload(folder: Path, *, slug: str, phase: str, title: str | None,
                 actor: User | None, archive: BinaryIO | None = None,
                 files: dict[str, BinaryIO] | None = None) -> ImportJob:
    """Store an upload and queue its import; commits. Raises ``UploadError`` or a
    ``DomainError`` (bad slug, a round or queued import with that slug, a required file
    missing), storing nothing."""
    from deliberation.interop import polis_import  # NumPy and pyarrow: loaded on use

    if not SLUG_RE.match(slug or ""):
        raise DomainError(N_("The slug may contain only a-z, 0-9 and '-' (up to 64)."),
                          field="slug")
    taken = sa.or_(
        sa.exists().where(Round.slug == slug),
        sa.exists().where(ImportJob.slug == slug, ImportJob.stage.not_in(("done", "failed"))))
    address_taken = Conflict(N_("A round with this address already exists."), field="slug")
    if db.session.scalar(sa.select(taken)):
        raise address_taken
    job = ImportJob(slug=slug, title=title, round_phase=phase, stage="queued",
                    created_by_id=actor.id if actor is not None else None)
    add_unique(job, address_taken)
    target = job_folder(folder, job)
    try:
        target.mkdir(mode=0o700, parents=True)
        polis_import.unpack_upload(target, archive=archive, files=files)
        for name in REQUIRED:
            if not (target / name).is_file():
                raise polis_import.missing_file_error(name)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        shutil.rmtree(target, ignore_errors=True)
        raise
    return job


def rows_written(folder: Path, job: ImportJob) -> int:
    """Vote rows written so far (the job row's figure once the job has finished)."""
    if job.stage != "writing":
        return job.rows_written
    try:
        return int(json.loads((job_folder(folder, job) / PROGRESS_FILE).read_text())["rows"])
    except (OSError, ValueError, KeyError):
        return 0


class _Progress:
    """The import's progress callback: counts rows, writes the file now and then."""

    def __init__(self, path: Path) -> None:
        self.path, self.rows, self.written_at = path, 0, 0.0

    def __call__(self, rows: int) -> None:
        self.rows += rows
        now = time.monotonic()
        if now - self.written_at >= PROGRESS_EVERY:
            self.written_at = now
            partial = self.path.with_suffix(".tmp")
            partial.write_text(json.dumps({"rows": self.rows}))
            os.replace(partial, self.path)  # the page never reads a half-written file


def _claim(folder: Path, owner: str) -> ImportJob | None:
    now = utcnow()
    stale = db.session.execute(
        sa.update(ImportJob)
        .where(ImportJob.stage.in_(("reading", "writing")), ImportJob.lease_until < now)
        .values(stage="failed", error=INTERRUPTED, finished_at=now, lease_owner=None,
                lease_until=None)
        .returning(ImportJob.id)).scalars().all()
    for job_id in stale:
        log.warning("Pol.is import %s was interrupted; marked failed", job_id)
    _remove_finished_jobs_files(folder)
    candidate = db.session.scalar(
        sa.select(ImportJob.id).where(ImportJob.stage == "queued").order_by(ImportJob.id)
        .limit(1))
    claimed = None
    if candidate is not None:
        # Compare-and-set: of several workers, the one whose UPDATE matches wins.
        won = db.session.execute(
            sa.update(ImportJob).where(ImportJob.id == candidate, ImportJob.stage == "queued")
            .values(stage="reading", lease_owner=owner, lease_until=now + LEASE,
                    started_at=now)).rowcount
        claimed = candidate if won == 1 else None
    db.session.commit()
    return db.session.get(ImportJob, claimed) if claimed is not None else None


def _remove_finished_jobs_files(folder: Path) -> None:
    """Delete the stored files of jobs that have finished: those just marked interrupted, and
    any a crash or a migration (which does not know the folder) left behind. Only jobs whose
    row says done or failed: an upload being stored has a row nobody else sees yet."""
    names = [path.name for path in folder.iterdir()] if folder.is_dir() else []
    ids = [int(name) for name in names if name.isascii() and name.isdigit() and len(name) < 19]
    if not ids:
        return
    finished = db.session.scalars(sa.select(ImportJob.id).where(
        ImportJob.id.in_(ids), ImportJob.stage.in_(("done", "failed")))).all()
    for job_id in finished:
        shutil.rmtree(folder / str(job_id), ignore_errors=True)


def _finish(job_id: int, **values: Any) -> None:
    db.session.execute(sa.update(ImportJob).where(ImportJob.id == job_id).values(
        finished_at=utcnow(), lease_owner=None, lease_until=None, **values))
    db.session.commit()


def run_job(folder: Path, job: ImportJob) -> None:
    """Import a claimed job's files; records "done" with the round, or "failed" with the
    error. The stored files are deleted either way."""
    from deliberation.interop import polis_import  # NumPy and pyarrow: loaded on use

    job_id, target = job.id, job_folder(folder, job)
    try:
        export = polis_import.read_directory(target)
        job.stage, job.rows_read = "writing", len(export.vote_columns)
        job.rows_total = polis_import.rows_to_write(export)
        db.session.commit()
        actor = db.session.get(User, job.created_by_id) if job.created_by_id else None
        round_ = polis_import.import_export(
            export, directory=target, slug=job.slug, phase=job.round_phase, title=job.title,
            actor=actor, progress=_Progress(target / PROGRESS_FILE))
    except DomainError as error:
        db.session.rollback()
        _finish(job_id, stage="failed", error=[list(part) for part in error.parts()])
    except Exception:
        db.session.rollback()
        log.exception("Pol.is import %s failed", job_id)
        _finish(job_id, stage="failed", error=UNEXPECTED)
    else:
        _finish(job_id, stage="done", round_id=round_.id,
                rows_written=polis_import.rows_to_write(export))
    finally:
        shutil.rmtree(target, ignore_errors=True)


def run_once(folder: Path, owner: str | None = None) -> int | None:
    """Import the oldest queued upload, if any; returns its job id."""
    job = _claim(folder, owner or new_owner())
    if job is None:
        return None
    run_job(folder, job)
    return job.id


def run_forever(stop: threading.Event, app: Any) -> None:
    folder, poll = Path(app.config["IMPORT_FOLDER"]), float(app.config["IMPORT_POLL_SECONDS"])
    owner = new_owner()
    while not stop.is_set():
        try:
            with app.app_context():
                while not stop.is_set() and run_once(folder, owner) is not None:
                    pass
        except Exception:  # e.g. the database is down: wait and try again
            log.exception("Pol.is import pass failed; trying again")
        stop.wait(poll)


def start_thread(app: Any) -> tuple[threading.Thread, threading.Event]:
    stop = threading.Event()
    thread = threading.Thread(target=run_forever, args=(stop, app), name="hiroba-imports",
                              daemon=True)
    thread.start()
    return thread, stop
