"""Import a Pol.is CSV export (a directory) into a new round, in one transaction.

Pol.is semantics are kept: comment ids become ``Proposal.external_id``, voter ids (an
author's too: Pol.is records each author's own vote) ``Participant.external_id`` (source
"import"), ``moderated`` -1 becomes "rejected", 1 "published" and 0 "pending" (see
``STATUS``), ``is-meta``/``is-seed`` are kept, every row of votes.csv becomes a
``VoteEvent`` (source "import") and the latest vote per participant and proposal a
``Vote``. Any problem raises :class:`PolisImportError` naming file, line and column, and
nothing is written.
"""

from __future__ import annotations

import csv
import io
import lzma
import math
import zipfile
import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import BinaryIO

import numpy as np
import sqlalchemy as sa

from clustering.matrix import stable_argsort
from clustering.polis_export import (
    Comment,
    ExportFormatError,
    PolisExport,
    check_text,
    read_export,
)
from deliberation import csvfile
from deliberation.bulk import (
    EpochSeconds,
    insert_columns,
    without_reference_triggers,
)
from deliberation.database import add_unique, db
from deliberation.errors import N_, Conflict, DomainError
from deliberation.models import Participant, Proposal, Round, User, Vote, VoteEvent, audit
from deliberation.models.round import PHASES
from deliberation.services.facilitation import SLUG_RE
from deliberation.services.snapshot_requests import request_snapshot
from deliberation.text import NOT_UTF8, clean_text, text_key

__all__ = ["IMPORT_FILES", "PolisImportError", "UploadError", "check_new_round",
           "import_directory", "unpack_upload"]

IMPORT_FILES = ("comments.csv", "votes.csv", "participants-votes.csv",
                "participant-votes.csv", "summary.csv", "math-pca2.json")
MAX_UPLOAD_BYTES = 50 * 1024 * 1024  # one file, or the zip
MAX_UNPACKED_BYTES = 4 * MAX_UPLOAD_BYTES


# A proposal's status by the comment's ``moderated``. Pol.is shows an unmoderated comment (0)
# only in conversations without strict moderation, and the CSV export does not say which a
# conversation had: vtaiwan.uberx's 20 unmoderated comments, written after its moderators
# stopped, were never shown to anyone (each has only its author's vote). Published, they
# were most of what a resident was first asked to vote on (the vote order favours unseen
# proposals), unread by anyone; pending, a facilitator reads and approves them first.
STATUS = {-1: "rejected", 0: "pending", 1: "published"}

# What each problem of the export reader (``ExportFormatError.kind``), and of the checks
# below, reads as; ``%(value)s`` is the offending value.
PROBLEMS = {
    "file_not_found": N_("The file is missing."),
    "cannot_read": N_("The file cannot be read."),
    "utf16": NOT_UTF8,
    "not_utf8": NOT_UTF8,
    "nul": N_("The file is not a text file."),
    "unclosed_quote": N_("A quoted value is not closed."),
    "unreadable_csv": N_("The file is not a readable CSV file."),
    "empty": N_("The file is empty."),
    "missing_column": N_("A required column is missing."),
    "missing_value": N_("A value is missing."),
    "not_number": N_("“%(value)s” is not a valid number."),
    "not_integer": N_("“%(value)s” is not a valid number."),
    "not_finite": N_("“%(value)s” is not a valid number."),
    "out_of_range": N_("“%(value)s” is out of range."),
    "not_timestamp": N_("“%(value)s” is not a valid time."),
    "not_vote": N_("“%(value)s” is not -1, 0 or 1."),
    "not_bool": N_("“%(value)s” is not true or false."),
    "not_directory": N_("The export is not a folder."),
    "not_math": N_("The file is not Pol.is's math output (JSON with a list of meta-tids)."),
    "duplicate_comment": N_("Comment id %(value)s appears twice."),
    "unknown_comment": N_("Comment id %(value)s is not in comments.csv."),
}


class PolisImportError(DomainError):
    """A Pol.is export that cannot be imported: where (``file``, ``line``, ``column``) and
    what (``kind``, a key of ``PROBLEMS``, with the offending ``value``)."""

    code = "polis_import"

    def __init__(self, file: str, line: int | None, column: str | None, kind: str, *,
                 value: str = "") -> None:
        if line is not None and column is not None:
            where = N_("%(file)s, line %(line)s, column “%(column)s”: ")
        elif line is not None:
            where = N_("%(file)s, line %(line)s: ")
        else:
            where = N_("%(file)s: ")
        self.file, self.line, self.column, self.kind, self.value = file, line, column, kind, value
        super().__init__(where, file=file, line=line, column=column, kind=kind, value=value)

    @classmethod
    def from_export(cls, error: ExportFormatError) -> PolisImportError:
        return cls(error.file, error.line, error.column, error.kind, value=error.value)

    def parts(self) -> list[tuple[str, dict[str, object]]]:
        problem = PROBLEMS[self.kind]
        return [*super().parts(),
                (problem, {"value": self.value} if "%(value)s" in problem else {})]


def _data_line(path: Path, index: int) -> int | None:
    """The physical line of the ``index``-th non-blank data row of a CSV file."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return None
    reader = csv.reader(io.StringIO(text, newline=""))
    next(reader, None)
    prev = reader.line_num
    seen = -1
    for row in reader:
        start = prev + 1
        prev = reader.line_num
        if not row or all(not c.strip() for c in row):
            continue
        seen += 1
        if seen == index:
            return start
    return None


def missing_file_error(name: str) -> PolisImportError:
    """The error for a required file that an upload lacks."""
    return PolisImportError(name, None, None, "file_not_found")


def _statement_text(comment: Comment) -> str:
    """The text a comment's proposal gets (the quote our CSV writer adds to formula-like
    cells removed, invisible characters stripped)."""
    return clean_text(csvfile.restore(comment.body))


def _validate(directory: Path, export: PolisExport) -> None:
    seen: set[int] = set()
    for index, comment in enumerate(export.comments):
        if comment.comment_id in seen:
            raise PolisImportError("comments.csv",
                                   _data_line(directory / "comments.csv", index), "comment-id",
                                   "duplicate_comment", value=str(comment.comment_id))
        seen.add(comment.comment_id)
        # A statement without text would be an empty card to vote on (once approved, if
        # pending); a rejected one is never shown, so its text may be gone (exports that
        # blank them).
        if comment.moderated != -1 and not _statement_text(comment):
            raise PolisImportError("comments.csv",
                                   _data_line(directory / "comments.csv", index),
                                   "comment-body", "missing_value")
    known = np.isin(export.vote_columns.comment_id, np.fromiter(seen, np.int64, len(seen)))
    if not known.all():
        index = int(np.argmin(known))
        comment_id = int(export.vote_columns.comment_id[index])
        raise PolisImportError("votes.csv", _data_line(directory / "votes.csv", index),
                               "comment-id", "unknown_comment", value=str(comment_id))


def _title_and_description(export: PolisExport, title: str | None) -> tuple[str, str, str]:
    summary = export.summary or {}
    topic = clean_text(csvfile.restore(summary.get("topic", ""))) or "Pol.is conversation"
    description = clean_text(csvfile.restore(summary.get("conversation-description", "")))
    url = summary.get("url", "").strip()
    if url:
        description = (description + "\n\n" if description else "") + f"Pol.is: <{url}>"
    first = next((line.strip(" *#") for line in description.splitlines() if line.strip()), "")
    short = first if len(first) <= 500 else first[:499] + "…"
    return (title or topic)[:200], short, description


def check_new_round(slug: str, phase: str) -> Conflict:
    """Refuse a slug or phase the new round cannot have, before the export is read (a
    city's export takes seconds to read); returns the refusal for an address taken later."""
    if phase not in PHASES:
        raise DomainError(N_("Unknown phase %(phase)s."), phase=phase)
    if not SLUG_RE.match(slug or ""):
        raise DomainError(N_("The slug may contain only a-z, 0-9 and '-' (up to 64)."),
                          field="slug")
    taken = Conflict(N_("A round with this address already exists."), field="slug")
    if db.session.scalar(sa.select(Round.id).where(Round.slug == slug)) is not None:
        raise taken
    return taken


def import_export(export: PolisExport, *, directory: Path, slug: str, phase: str = "voting",
                  title: str | None = None, actor: User | None = None,
                  progress: Callable[[int], None] | None = None) -> Round:
    """Write an already-read export as a new round (one transaction).

    ``progress`` is called with the number of rows just written, for a progress bar: the
    whole import writes ``rows_to_write(export)`` of them.
    """
    taken = check_new_round(slug, phase)
    _validate(directory, export)
    full_title, summary, description = _title_and_description(export, title)
    votes = export.vote_columns
    comment_times = [c.timestamp.timestamp() for c in export.comments]
    earliest = min([*comment_times, *votes.timestamp.min(keepdims=True).tolist()],
                   default=math.inf) if len(votes) else min(comment_times, default=math.inf)
    try:
        round_ = Round(
            slug=slug, title=full_title, summary=summary, description=description,
            phase=phase, moderation_mode="open", source="polis",
            opens_at=_utc(earliest) if math.isfinite(earliest) else None,
            created_by_id=actor.id if actor is not None else None,
        )
        add_unique(round_, taken)  # a round given the address since the check above
        rid = round_.id

        # Participants: every voter (authors and voters share Pol.is's pid space), first
        # seen. An author-id that casts no vote is no participant and its statements have
        # no author: Pol.is records each author's own vote, so only an export that hides
        # its authors has such ids, as Hiroba's open data does with one id per statement
        # (made participants, a re-imported round counted a person per statement).
        # Every sighting in time order, the authors' comments before the votes and the
        # votes in file order among equal times (a stable sort), so each pid's first row
        # is its first sighting.
        author_ids = np.array([c.author_id for c in export.comments], np.int64)
        voting_author = np.isin(author_ids, votes.voter_id)
        n_authors = int(np.count_nonzero(voting_author))
        pids = np.concatenate([author_ids[voting_author], votes.voter_id])
        seen_at = np.concatenate([np.array(comment_times, np.float64)[voting_author],
                                  votes.timestamp])
        by_time = np.argsort(seen_at, kind="stable")
        external, pid_index, first_seen = _distinct_with_index(pids[by_time])
        comments = sorted(export.comments, key=lambda c: c.comment_id)
        comment_ids = np.array([c.comment_id for c in comments], np.int64)  # ascending

        # Vote history, oldest first; for ties the later row of the file wins: the votes'
        # part of the sightings above, in their order.
        is_vote = by_time >= n_authors
        order = by_time[is_vote] - n_authors
        voter = pid_index[is_vote]  # index into external
        comment = np.searchsorted(comment_ids, votes.comment_id[order])
        when = votes.timestamp[order]
        value = votes.vote[order]

        # Every reference in the rows below is the new round's id or an element of
        # ``participant_pk`` or ``proposal_pk``: ids read back from the database, of rows
        # this still open transaction wrote (no other transaction can see them, let alone
        # delete them). So the per-row foreign-key checks, which cost the database most of
        # its time in the vote loads, can only confirm what holds already, and are skipped
        # where the role may (the rows' encoding is tested by reading them back:
        # tests/test_bulk.py, tests/polis_import).
        with without_reference_triggers(), ThreadPoolExecutor(max_workers=1) as helper:
            # The latest vote per pair is the Vote; it was created at the pair's first
            # vote. Pairs in ascending order, which is the order of the votes' key
            # (round, participant, proposal) within the new round, so the key grows at
            # its right end (SQLite's default page cache is enough for that): the
            # participants' and the proposals' ids grow with the external ids (both
            # tables are written sorted). Found by a second thread while the database
            # writes the rows before them: NumPy sorts without holding the interpreter,
            # and the database works on its own core (seconds at 10M votes).
            pairs = helper.submit(_firsts_and_lasts, voter * len(comment_ids) + comment)

            insert_columns(Participant.__table__, {
                "round_id": rid, "source": "import", "kind": "unknown",
                "external_id": external.astype(str),
                "created_at": EpochSeconds(seen_at[by_time][first_seen]),
            }, len(external))
            participant_pk = _lookup(Participant, rid, external)

            texts = [_statement_text(c) for c in comments]
            authors = np.array([c.author_id for c in comments], dtype=np.int64)
            voted = np.isin(authors, external)
            author_pk = np.zeros(len(comments), dtype=np.int64)
            author_pk[voted] = participant_pk[np.searchsorted(external, authors[voted])]
            insert_columns(Proposal.__table__, {
                "round_id": rid,
                "author_id": np.ma.masked_array(author_pk, mask=~voted),  # NULL: no author
                "text": np.array(texts, dtype=object),
                "text_key": np.array([text_key(t) for t in texts], dtype=object),
                "status": np.array([STATUS[c.moderated] for c in comments], dtype=object),
                "is_seed": np.array([bool(c.is_seed) for c in comments]),
                "is_meta": np.array([bool(c.is_meta) for c in comments]),
                "external_id": np.array([str(c.comment_id) for c in comments], dtype=object),
                "report_count": 0,
                "created_at": EpochSeconds(np.array([c.timestamp.timestamp()
                                                     for c in comments])),
            }, len(comments))
            proposal_pk = _lookup(Proposal, rid, comment_ids)

            participant, proposal = participant_pk[voter], proposal_pk[comment]
            n_events = insert_columns(VoteEvent.__table__, {
                "round_id": rid, "participant_id": participant, "proposal_id": proposal,
                "value": value, "source": "import", "created_at": EpochSeconds(when),
            }, len(value), progress=progress)
            _, first, last = pairs.result()
            n_votes = insert_columns(Vote.__table__, {
                "round_id": rid, "participant_id": participant[last],
                "proposal_id": proposal[last], "value": value[last],
                "created_at": EpochSeconds(when[first]), "updated_at": EpochSeconds(when[last]),
            }, len(last), progress=progress)

        request_snapshot(round_)
        audit.record(
            "round.import_polis", actor=actor, target=round_, round_id=rid,
            files=list(export.files), proposals=len(comment_ids),
            participants=len(external), votes=n_votes, vote_events=n_events,
            rejected=sum(1 for c in export.comments if c.moderated == -1),
            unmoderated=sum(1 for c in export.comments if c.moderated == 0),
        )
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return round_


def _utc(epoch_seconds: float) -> datetime:
    return datetime.fromtimestamp(epoch_seconds, tz=UTC)


def _lookup(model: type, round_id: int, external_ids: np.ndarray) -> np.ndarray:
    """Primary keys of the round's rows, aligned with the sorted ``external_ids``."""
    rows = db.session.execute(sa.select(model.external_id, model.id)
                              .where(model.round_id == round_id)).all()
    by_external = {int(external): pk for external, pk in rows}
    return np.array([by_external[pid] for pid in external_ids.tolist()], dtype=np.int64)


def read_directory(path: str | Path) -> PolisExport:
    try:
        return read_export(Path(path))
    except ExportFormatError as error:
        raise PolisImportError.from_export(error) from None


def rows_to_write(export: PolisExport) -> int:
    """Vote rows an import of ``export`` writes: every event, and one vote per pair."""
    votes = export.vote_columns
    if not len(votes):
        return 0
    voter = votes.voter_id - votes.voter_id.min()
    pairs = np.sort(voter * (int(votes.comment_id.max()) + 1) + votes.comment_id)
    return len(votes) + 1 + int(np.count_nonzero(pairs[1:] != pairs[:-1]))


def _stable_order(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``keys`` in ascending order, and where each came from in ``keys``, equal keys in
    their order in ``keys``."""
    position = stable_argsort(keys)
    return keys[position], position


def _run_bounds(ordered: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Masks of the rows of sorted ``ordered`` that start, and that end, a run of equal
    values (both empty for no rows)."""
    differs = ordered[1:] != ordered[:-1]
    first = np.ones(len(ordered), dtype=bool)
    first[1:] = differs
    last = np.ones(len(ordered), dtype=bool)
    last[:-1] = differs
    return first, last


def _firsts_and_lasts(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The distinct values of ``keys`` in ascending order, and for each the index of its
    first and of its last occurrence in ``keys``.

    One sort for both ends: ``np.unique(..., return_index=True)`` finds only the first,
    and ``np.unique`` hashes, slower still on millions of distinct integers.
    """
    ordered, position = _stable_order(keys)
    first, last = _run_bounds(ordered)
    return ordered[first], position[first], position[last]


def _distinct_with_index(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The distinct values of ``keys`` in ascending order, for each row of ``keys`` the
    index of its value among them, and for each value the index of its first occurrence."""
    ordered, position = _stable_order(keys)
    first, _ = _run_bounds(ordered)
    index = np.empty(len(keys), dtype=np.int64)
    index[position] = np.cumsum(first) - 1
    return ordered[first], index, position[first]


def import_directory(path: str | Path, *, slug: str, phase: str = "voting",
                     title: str | None = None, actor: User | None = None) -> Round:
    """Import the Pol.is export in ``path`` as a new round ``slug``; returns the round."""
    export = read_directory(path)
    return import_export(export, directory=Path(path), slug=slug, phase=phase, title=title,
                         actor=actor)


class UploadError(DomainError):
    """An upload that cannot be unpacked; ``reason`` says why: ``too_large`` (the zip or
    ``file``), ``unpacked_too_large``, ``not_zip``, ``cannot_unpack`` (a damaged member, a
    password, or a compression method that Python's zipfile does not read)."""

    code = "polis_upload"

    def __init__(self, reason: str, *, file: str | None = None) -> None:
        if reason == "unpacked_too_large":
            message = N_("The zip file is too large when unpacked.")
        elif reason == "not_zip":
            message = N_("The uploaded file is not a zip file.")
        elif reason == "cannot_unpack":
            message = N_("This zip file cannot be opened: it may be damaged, protected by a "
                         "password or compressed in an unusual way. Zip the files again "
                         "without a password, or upload the CSV files one by one.")
        elif file:
            message = N_("%(file)s is too large (50 MB at most).")
        else:
            message = N_("The file is too large (50 MB at most).")
        super().__init__(message, file=file)
        self.reason, self.file = reason, file


# What zipfile and its decompressors raise for a damaged or unreadable archive: a bad
# header or checksum, a damaged deflate, bzip2 or LZMA stream (zlib.error, OSError,
# LZMAError), a truncated one (EOFError), offsets pointing before the start (ValueError),
# a password (RuntimeError) or an unknown compression method (NotImplementedError).
UNREADABLE_ZIP = (zipfile.BadZipFile, zlib.error, lzma.LZMAError, OSError, EOFError,
                  ValueError, RuntimeError, NotImplementedError)


def _read_limited(stream: BinaryIO, name: str | None) -> bytes:
    data = stream.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise UploadError("too_large", file=name)
    return data


def unpack_upload(target: Path, *, archive: BinaryIO | None = None,
                  files: dict[str, BinaryIO] | None = None) -> None:
    """Write an uploaded zip (only the Pol.is files in it, wherever they sit) or single
    CSV files (by Pol.is file name) into ``target``. A file that is not UTF-8 text raises
    :class:`PolisImportError` with its line."""
    if archive is not None:
        data = _read_limited(archive, None)
        try:
            zf = zipfile.ZipFile(io.BytesIO(data))
        except UNREADABLE_ZIP:
            raise UploadError("not_zip") from None
        with zf:
            total = 0
            for info in zf.infolist():
                name = PurePosixPath(info.filename).name
                if info.is_dir() or name not in IMPORT_FILES:
                    continue
                total += info.file_size
                if total > MAX_UNPACKED_BYTES:
                    raise UploadError("unpacked_too_large")
                try:
                    content = zf.read(info)
                except UNREADABLE_ZIP:
                    raise UploadError("cannot_unpack") from None
                _write_text(target / name, content)
        return
    for name, stream in (files or {}).items():
        if name not in IMPORT_FILES:
            raise UploadError("not_zip", file=name)
        _write_text(target / name, _read_limited(stream, name))


def _write_text(path: Path, content: bytes) -> None:
    # A file saved as Shift_JIS (what Excel writes by default in Japan) or UTF-16 is refused
    # while the facilitator is still on the upload page, not by the background import.
    try:
        check_text(path.name, content)
    except ExportFormatError as error:
        raise PolisImportError.from_export(error) from None
    path.write_bytes(content)
