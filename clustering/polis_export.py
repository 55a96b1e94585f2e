"""Reader for Pol.is CSV export directories (old and new column sets).

Required: votes.csv, comments.csv. Optional: participants-votes.csv (or
participant-votes.csv) for Pol.is's group ids, summary.csv. Files may start with a BOM;
timestamps may be epoch milliseconds or seconds. Every problem raises ExportFormatError.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

__all__ = [
    "Comment",
    "ExportFormatError",
    "PolisExport",
    "Vote",
    "read_export",
]

_MS_THRESHOLD = 1e11  # epoch values above this are milliseconds (1e11 s is year 5138)


class ExportFormatError(ValueError):
    """A problem in an export file; str() is a single line."""

    def __init__(self, file: str, line: int | None, column: str | None, message: str):
        self.file, self.line, self.column, self.message = file, line, column, message
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
class PolisExport:
    comments: list[Comment]
    votes: list[Vote]
    group_ids: dict[int, int | None] | None = None
    summary: dict[str, str] | None = None
    files: list[str] = field(default_factory=list)


def _read_text(path: Path) -> str:
    """Whole file as text (BOM stripped); decoding errors name their line."""
    name = path.name
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ExportFormatError(name, None, None, "file not found") from None
    except OSError as exc:
        raise ExportFormatError(name, None, None, f"cannot read file ({exc.strerror})") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ExportFormatError(name, line, None, "not valid UTF-8 text") from None


def _rows(path: Path, required: tuple[str, ...]) -> Iterator[tuple[int, dict[str, str]]]:
    name = path.name
    text = _read_text(path)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise ExportFormatError(name, 1, None, f"unreadable CSV ({exc})") from None
    if header is None:
        raise ExportFormatError(name, None, None, "empty file (no header row)")
    header = [h.strip() for h in header]
    for col in required:
        if col not in header:
            raise ExportFormatError(name, 1, col, "missing required column")
    prev = reader.line_num
    while True:
        start = prev + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise ExportFormatError(name, start, None, f"unreadable CSV ({exc})") from None
        prev = reader.line_num
        if not row or all(not c.strip() for c in row):
            continue
        yield start, dict(zip(header, row, strict=False))


def _get(name, line, row, col, *, required=True) -> str:
    val = row.get(col)
    if val is None or val.strip() == "":
        if required:
            raise ExportFormatError(name, line, col, "missing value")
        return ""
    return val.strip()


def _int(name, line, row, col, *, required=True) -> int | None:
    raw = _get(name, line, row, col, required=required)
    if raw == "":
        return None
    try:
        return int(raw)
    except ValueError:
        pass
    try:
        f = float(raw)
    except ValueError:
        raise ExportFormatError(name, line, col, f'"{raw}" is not a number') from None
    if not math.isfinite(f) or f != int(f):
        raise ExportFormatError(name, line, col, f'"{raw}" is not an integer')
    return int(f)


def _float(name, line, row, col) -> float | None:
    raw = _get(name, line, row, col, required=False)
    if raw == "":
        return None
    try:
        f = float(raw)
    except ValueError:
        raise ExportFormatError(name, line, col, f'"{raw}" is not a number') from None
    if not math.isfinite(f):
        raise ExportFormatError(name, line, col, f'"{raw}" is not a finite number')
    return f


def _time(name, line, row, col) -> datetime:
    raw = _get(name, line, row, col)
    try:
        t = float(raw)
    except ValueError:
        raise ExportFormatError(name, line, col, f'"{raw}" is not a number') from None
    if not math.isfinite(t) or t < 0:
        raise ExportFormatError(name, line, col, f'"{raw}" is not a valid epoch timestamp')
    if t > _MS_THRESHOLD:
        t /= 1000.0
    try:
        return datetime.fromtimestamp(t, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise ExportFormatError(name, line, col, f'"{raw}" is out of range') from None


def _bool(name, line, row, col) -> bool:
    raw = _get(name, line, row, col, required=False).lower()
    if raw in ("", "false", "0", "f", "no"):
        return False
    if raw in ("true", "1", "t", "yes"):
        return True
    raise ExportFormatError(name, line, col, f'"{raw}" is not true/false')


def read_votes(path: Path) -> list[Vote]:
    name = path.name
    out = []
    for line, row in _rows(path, ("timestamp", "comment-id", "voter-id", "vote")):
        vote = _int(name, line, row, "vote")
        if vote not in (-1, 0, 1):
            raise ExportFormatError(name, line, "vote", f'"{row["vote"].strip()}" is not -1, 0 or 1')
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
            raise ExportFormatError(name, line, "moderated", f'"{mod}" is not -1, 0 or 1')
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
        raise ExportFormatError(path.name, None, None, f"unreadable CSV ({exc})") from None
    return out


def read_export(path) -> PolisExport:
    """Read a Pol.is export directory."""
    d = Path(path)
    if not d.is_dir():
        raise ExportFormatError(str(path), None, None, "not a directory")
    files = ["comments.csv", "votes.csv"]
    comments = read_comments(d / "comments.csv")
    votes = read_votes(d / "votes.csv")
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
