"""Reader for Pol.is CSV export directories (old and new column sets).

Required: votes.csv, comments.csv. Optional: participants-votes.csv (or
participant-votes.csv) for Pol.is's group ids, summary.csv, and math-pca2.json (Pol.is's
math output), whose meta-tids mark meta statements in exports older than the is-meta
column. Files may start with a BOM; timestamps may be epoch milliseconds or seconds. Every
problem raises ExportFormatError.

votes.csv is the large file (a million rows for Pol.is's biggest conversations). It is read
into columns by pyarrow's CSV parser; a file that parser does not take as it is (any odd
cell, quote or row) is read again by the row-by-row reader below, which is the reference:
it accepts the same files and names the line and column of every problem.
"""

from __future__ import annotations

import csv
import dataclasses
import functools
import io
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow
import pyarrow.csv

__all__ = [
    "PROBLEM_KINDS",
    "Comment",
    "ExportFormatError",
    "PolisExport",
    "Vote",
    "VoteColumns",
    "check_text",
    "read_export",
]

_MS_THRESHOLD = 1e11  # epoch values above this are milliseconds (1e11 s is year 5138)
_MAX_EPOCH = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC).timestamp()
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_VOTE_COLUMNS = ("timestamp", "comment-id", "voter-id", "vote")


# The problems an export can have (ExportFormatError.kind), in English.
PROBLEM_KINDS = {
    "file_not_found": "file not found",
    "cannot_read": "cannot read file",
    "utf16": "the file is UTF-16 or UTF-32; save it as UTF-8",
    "not_utf8": "not valid UTF-8 text",
    "nul": "contains a NUL character (not a text file)",
    "unclosed_quote": "a quoted value is not closed properly (unbalanced quote)",
    "unreadable_csv": "unreadable CSV",
    "empty": "empty file (no header row)",
    "missing_column": "missing required column",
    "missing_value": "missing value",
    "not_number": '"{value}" is not a number',
    "not_integer": '"{value}" is not an integer',
    "not_finite": '"{value}" is not a finite number',
    "out_of_range": '"{value}" is out of range',
    "not_timestamp": '"{value}" is not a valid epoch timestamp',
    "not_vote": '"{value}" is not -1, 0 or 1',
    "not_bool": '"{value}" is not true/false',
    "not_directory": "not a directory",
    "not_math": "not a Pol.is math file (JSON with a list of meta-tids)",
}


class ExportFormatError(ValueError):
    """A problem in an export file: where (``file``, ``line``, ``column``), what (``kind``,
    a stable key of ``PROBLEM_KINDS``, with the offending ``value``) and, for people reading
    English, ``message``; str() is a single line. Callers that speak other languages word
    the problem from ``kind`` and ``value``."""

    def __init__(self, file: str, line: int | None, column: str | None, kind: str, *,
                 value: str = "", detail: str = ""):
        if kind not in PROBLEM_KINDS:
            raise ValueError(f"unknown export problem {kind!r}")
        self.file, self.line, self.column = file, line, column
        self.kind, self.value, self.detail = kind, value, detail
        self.message = PROBLEM_KINDS[kind].format(value=value) + (f" ({detail})" if detail else "")
        super().__init__(str(self))

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f" line {self.line}"
        if self.column is not None:
            where += f', column "{self.column}"'
        return f"{where}: {self.message}".replace("\n", " ")


@dataclass(frozen=True)
class Comment:
    comment_id: int
    author_id: int
    body: str
    timestamp: datetime
    moderated: int  # -1 rejected, 0 unmoderated, 1 accepted
    is_meta: bool
    is_seed: bool
    agrees: int
    disagrees: int
    group_informed_consensus: float | None


@dataclass(frozen=True)
class Vote:
    timestamp: datetime
    comment_id: int
    voter_id: int
    vote: int  # +1 agree, -1 disagree, 0 pass


@dataclass(frozen=True)
class VoteColumns:
    """votes.csv as columns, in file order: one entry per row."""

    timestamp: np.ndarray  # float64 epoch seconds (UTC)
    comment_id: np.ndarray  # int64
    voter_id: np.ndarray  # int64
    vote: np.ndarray  # int8: +1 agree, -1 disagree, 0 pass

    def __len__(self) -> int:
        return len(self.vote)

    @classmethod
    def from_votes(cls, votes: list[Vote]) -> VoteColumns:
        return cls(
            np.array([v.timestamp.timestamp() for v in votes], dtype=np.float64),
            np.array([v.comment_id for v in votes], dtype=np.int64),
            np.array([v.voter_id for v in votes], dtype=np.int64),
            np.array([v.vote for v in votes], dtype=np.int8),
        )

    def rows(self) -> list[Vote]:
        return [
            Vote(datetime.fromtimestamp(t, tz=UTC), c, p, v)
            for t, c, p, v in zip(self.timestamp.tolist(), self.comment_id.tolist(),
                                  self.voter_id.tolist(), self.vote.tolist(), strict=True)
        ]


@dataclass(frozen=True)
class PolisExport:
    comments: list[Comment]
    vote_columns: VoteColumns
    group_ids: dict[int, int | None] | None = None
    summary: dict[str, str] | None = None
    files: list[str] = field(default_factory=list)

    @functools.cached_property
    def votes(self) -> list[Vote]:
        """The votes as objects (built on first use; large exports: use vote_columns)."""
        return self.vote_columns.rows()


_UTF16_32_BOMS = (b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")


def _read_bytes(path: Path) -> bytes:
    name = path.name
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise ExportFormatError(name, None, None, "file_not_found") from None
    except OSError as exc:
        raise ExportFormatError(name, None, None, "cannot_read",
                                detail=str(exc.strerror)) from None


def _decode(name: str, raw: bytes) -> str:
    """The file as text (one leading UTF-8 BOM dropped); encoding problems name their line."""
    if raw.startswith(_UTF16_32_BOMS):
        raise ExportFormatError(name, 1, None, "utf16")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ExportFormatError(name, line, None, "not_utf8") from None
    nul = text.find("\x00")
    if nul >= 0:
        line = text.count("\n", 0, nul) + 1
        raise ExportFormatError(name, line, None, "nul")
    return text


def check_text(name: str, raw: bytes) -> None:
    """Raise the reader's ``ExportFormatError`` if the file ``name`` holding ``raw`` is not
    UTF-8 text without NUL (a Shift_JIS or UTF-16 file, a binary one)."""
    # plain ASCII without NUL passes every check, and finding that out is far cheaper than
    # decoding a copy of the whole file
    if not raw.isascii() or b"\x00" in raw:
        _decode(name, raw)


def _read_text(path: Path) -> str:
    return _decode(path.name, _read_bytes(path))


def _rows(path: Path, required: tuple[str, ...]) -> Iterator[tuple[int, dict[str, str]]]:
    name = path.name
    text = _read_text(path)
    # strict: a quote that is never closed is an error, not a value running to the end.
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise _csv_error(name, 1, exc) from None
    if header is None:
        raise ExportFormatError(name, None, None, "empty")
    header = [h.strip() for h in header]
    for col in required:
        if col not in header:
            raise ExportFormatError(name, 1, col, "missing_column")
    prev = reader.line_num
    while True:
        start = prev + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise _csv_error(name, start, exc) from None
        prev = reader.line_num
        if not row or all(not c.strip() for c in row):
            continue
        yield start, dict(zip(header, row, strict=False))


def _csv_error(name: str, line: int, exc: csv.Error) -> ExportFormatError:
    # The csv module says what went wrong only in its English message.
    if "unexpected end of data" in str(exc) or "expected after '\"'" in str(exc):
        return ExportFormatError(name, line, None, "unclosed_quote")
    return ExportFormatError(name, line, None, "unreadable_csv", detail=str(exc))


def _get(name, line, row, col, *, required=True) -> str:
    val = row.get(col)
    if val is None or val.strip() == "":
        if required:
            raise ExportFormatError(name, line, col, "missing_value")
        return ""
    return val.strip()


def _int(name, line, row, col, *, required=True) -> int | None:
    raw = _get(name, line, row, col, required=required)
    if raw == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        pass
    else:
        if not _INT64_MIN <= value <= _INT64_MAX:
            raise ExportFormatError(name, line, col, "out_of_range", value=raw)
        return value
    try:
        f = float(raw)
    except ValueError:
        raise ExportFormatError(name, line, col, "not_number", value=raw) from None
    if not math.isfinite(f) or f != int(f):
        raise ExportFormatError(name, line, col, "not_integer", value=raw)
    if not _INT64_MIN <= f <= _INT64_MAX:
        raise ExportFormatError(name, line, col, "out_of_range", value=raw)
    return int(f)


def _float(name, line, row, col) -> float | None:
    raw = _get(name, line, row, col, required=False)
    if raw == "":
        return None
    try:
        f = float(raw)
    except ValueError:
        raise ExportFormatError(name, line, col, "not_number", value=raw) from None
    if not math.isfinite(f):
        raise ExportFormatError(name, line, col, "not_finite", value=raw)
    return f


def _time(name, line, row, col) -> datetime:
    raw = _get(name, line, row, col)
    try:
        t = float(raw)
    except ValueError:
        raise ExportFormatError(name, line, col, "not_number", value=raw) from None
    if not math.isfinite(t) or t < 0:
        raise ExportFormatError(name, line, col, "not_timestamp", value=raw)
    if t > _MS_THRESHOLD:
        t /= 1000.0
    try:
        return datetime.fromtimestamp(t, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise ExportFormatError(name, line, col, "out_of_range", value=raw) from None


def _bool(name, line, row, col) -> bool:
    raw = _get(name, line, row, col, required=False).lower()
    if raw in ("", "false", "0", "f", "no"):
        return False
    if raw in ("true", "1", "t", "yes"):
        return True
    raise ExportFormatError(name, line, col, "not_bool", value=raw)


def read_vote_columns(path: Path) -> VoteColumns:
    """votes.csv as columns: pyarrow's parser for a regular file, else the reference reader."""
    raw = _read_bytes(path)
    check_text(path.name, raw)  # the reference reader's encoding and NUL checks
    columns = _parse_regular_votes(raw)
    if columns is None:
        return VoteColumns.from_votes(read_votes(path))
    return columns


def _parse_regular_votes(raw: bytes) -> VoteColumns | None:
    """Columns of a votes.csv whose every cell is a plain number in range; None otherwise.

    Anything irregular (a quote anywhere, a blank cell, a short or long row, a float id,
    a timestamp out of range...) returns None, so the reference reader decides and explains.
    """
    if b'"' in raw:  # quoting rules are the reference reader's to apply
        return None
    # Pol.is writes whole epoch milliseconds: reading them as integers is faster than as
    # floats (and their columns come out without a copy); fractional times read again
    table = _arrow_votes(raw, pyarrow.int64()) or _arrow_votes(raw, pyarrow.float64())
    if table is None:
        return None
    # Through the DLPack protocol rather than pyarrow's to_numpy(): to_numpy() imports
    # pandas whenever it is installed (about 0.4 s of CPU) to convert what these
    # null-free number columns never need.
    t, comment, voter, vote = (np.from_dlpack(table.column(name).combine_chunks())
                               for name in _VOTE_COLUMNS)
    if len(t):
        if t.min() > _MS_THRESHOLD:
            t = t / 1000.0
        elif t.max() > _MS_THRESHOLD:  # milliseconds and seconds mixed
            t = np.where(t > _MS_THRESHOLD, t / 1000.0, t)
        if not (np.isfinite(t).all() and t.min() >= 0 and t.max() <= _MAX_EPOCH):
            return None
        if vote.min() < -1 or vote.max() > 1:
            return None
    return VoteColumns(t.astype(np.float64), comment.astype(np.int64),
                       voter.astype(np.int64), vote.astype(np.int8))


def _arrow_votes(raw: bytes, time_type) -> pyarrow.Table | None:
    types = {"timestamp": time_type, "comment-id": pyarrow.int64(),
             "voter-id": pyarrow.int64(), "vote": pyarrow.int8()}
    try:
        table = pyarrow.csv.read_csv(
            pyarrow.py_buffer(raw),
            parse_options=pyarrow.csv.ParseOptions(quote_char=False),
            convert_options=pyarrow.csv.ConvertOptions(
                column_types=types, include_columns=list(_VOTE_COLUMNS),
                quoted_strings_can_be_null=False),
        )
    except (pyarrow.ArrowException, ValueError):
        return None
    if any(table.column(name).null_count for name in _VOTE_COLUMNS):
        return None
    return table


def read_votes(path: Path) -> list[Vote]:
    """The reference reader of votes.csv: row by row, every problem with its line."""
    name = path.name
    out = []
    for line, row in _rows(path, ("timestamp", "comment-id", "voter-id", "vote")):
        vote = _int(name, line, row, "vote")
        if vote not in (-1, 0, 1):
            raise ExportFormatError(name, line, "vote", "not_vote",
                                    value=row["vote"].strip())
        out.append(
            Vote(
                timestamp=_time(name, line, row, "timestamp"),
                comment_id=_int(name, line, row, "comment-id"),
                voter_id=_int(name, line, row, "voter-id"),
                vote=vote,
            )
        )
    return out


def read_comments(path: Path) -> list[Comment]:
    name = path.name
    req = ("timestamp", "comment-id", "author-id", "agrees", "disagrees", "moderated",
           "comment-body")
    out = []
    for line, row in _rows(path, req):
        mod = _int(name, line, row, "moderated")
        if mod not in (-1, 0, 1):
            raise ExportFormatError(name, line, "moderated", "not_vote", value=str(mod))
        out.append(
            Comment(
                comment_id=_int(name, line, row, "comment-id"),
                author_id=_int(name, line, row, "author-id"),
                body=row.get("comment-body") or "",
                timestamp=_time(name, line, row, "timestamp"),
                moderated=mod,
                is_meta=_bool(name, line, row, "is-meta"),
                is_seed=_bool(name, line, row, "is-seed"),
                agrees=_int(name, line, row, "agrees"),
                disagrees=_int(name, line, row, "disagrees"),
                group_informed_consensus=_float(name, line, row, "group-informed-consensus"),
            )
        )
    return out


def read_group_ids(path: Path) -> dict[int, int | None]:
    name = path.name
    out: dict[int, int | None] = {}
    for line, row in _rows(path, ("participant", "group-id")):
        out[_int(name, line, row, "participant")] = _int(
            name, line, row, "group-id", required=False
        )
    return out


def read_summary(path: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    try:
        for row in csv.reader(io.StringIO(_read_text(path), newline="")):
            if row and row[0].strip():
                out[row[0].strip()] = row[1] if len(row) > 1 else ""
    except csv.Error as exc:
        raise ExportFormatError(path.name, None, None, "unreadable_csv",
                                detail=str(exc)) from None
    return out


def read_meta_ids(path: Path) -> set[int]:
    """The meta statements (``meta-tids``) of a Pol.is math output (math-pca2.json)."""
    try:
        output = json.loads(_read_text(path))
    except (json.JSONDecodeError, RecursionError):  # not JSON, or nested beyond the parser
        raise ExportFormatError(path.name, None, None, "not_math") from None
    tids = output.get("meta-tids", []) if isinstance(output, dict) else None
    if not isinstance(tids, list) or not all(type(t) is int for t in tids):
        raise ExportFormatError(path.name, None, None, "not_math")
    return set(tids)


def read_export(path) -> PolisExport:
    """Read a Pol.is export directory."""
    d = Path(path)
    if not d.is_dir():
        raise ExportFormatError(str(path), None, None, "not_directory")
    files = ["comments.csv", "votes.csv"]
    comments = read_comments(d / "comments.csv")
    if (d / "math-pca2.json").is_file():
        # Older exports have no is-meta column: Pol.is's math says which statements were
        # meta (the biodiversity HiveMind's "I am under 30 years of age", "I live in a
        # large NZ city"...), which are questions about the participant, not statements
        # to agree with, and which its groups were computed without.
        meta = read_meta_ids(d / "math-pca2.json")
        comments = [dataclasses.replace(c, is_meta=True) if c.comment_id in meta else c
                    for c in comments]
        files.append("math-pca2.json")
    votes = read_vote_columns(d / "votes.csv")
    group_ids = None
    for pv in ("participants-votes.csv", "participant-votes.csv"):
        if (d / pv).is_file():
            group_ids = read_group_ids(d / pv)
            files.append(pv)
            break
    summary = None
    if (d / "summary.csv").is_file():
        summary = read_summary(d / "summary.csv")
        files.append("summary.csv")
    return PolisExport(comments, votes, group_ids, summary, files)
