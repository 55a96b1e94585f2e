"""Vote data and the sparse participant x statement vote matrix.

Conventions (ours, as in the CSV export): agree = +1, disagree = -1, pass = 0.
Pol.is's math uses the opposite sign internally; every formula here is written for ours.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np

__all__ = ["VoteData", "VoteMatrix", "build_matrix", "select_in_conv"]


@dataclass(frozen=True)
class VoteData:
    """Raw votes (one row per vote event, re-votes included) plus the statement list.

    ``excluded_ids``: moderated-out and meta statements, zeroed for the projection and left
    out of repness and consensus. ``meta_ids``: the meta subset (fixed comment priority).
    """

    participant: np.ndarray
    statement: np.ndarray
    value: np.ndarray
    timestamp: np.ndarray | None = None
    statement_ids: np.ndarray | None = None
    excluded_ids: frozenset = field(default_factory=frozenset)
    meta_ids: frozenset = field(default_factory=frozenset)

    @classmethod
    def from_arrays(
        cls,
        participant,
        statement,
        value,
        timestamp=None,
        *,
        statement_ids=None,
        excluded_ids=(),
        meta_ids=(),
    ) -> VoteData:
        p = np.asarray(participant, dtype=np.int64).ravel()
        s = np.asarray(statement, dtype=np.int64).ravel()
        v = np.asarray(value, dtype=np.float64).ravel()
        if not (len(p) == len(s) == len(v)):
            raise ValueError("participant, statement and value must have the same length")
        if len(v) and not np.all(np.isin(v, (-1.0, 0.0, 1.0))):
            raise ValueError("vote values must be -1, 0 or +1")
        t = None
        if timestamp is not None:
            t = np.asarray(timestamp, dtype=np.float64).ravel()
            if len(t) != len(p):
                raise ValueError("timestamp must have the same length as the votes")
        ids = np.unique(s) if statement_ids is None else np.asarray(statement_ids, np.int64)
        ids = np.union1d(ids, s)
        excl = frozenset(int(x) for x in excluded_ids) | frozenset(int(x) for x in meta_ids)
        return cls(p, s, v.astype(np.int8), t, ids, excl, frozenset(int(x) for x in meta_ids))

    @classmethod
    def from_export(cls, export) -> VoteData:
        """Build from a :class:`clustering.polis_export.PolisExport`."""
        votes = export.votes
        ts = np.array([v.timestamp.timestamp() for v in votes], dtype=np.float64)
        return cls.from_arrays(
            [v.voter_id for v in votes],
            [v.comment_id for v in votes],
            [v.vote for v in votes],
            ts,
            statement_ids=[c.comment_id for c in export.comments],
            excluded_ids=[c.comment_id for c in export.comments if c.moderated == -1],
            meta_ids=[c.comment_id for c in export.comments if c.is_meta],
        )


@dataclass(frozen=True)
class VoteMatrix:
    """Deduplicated votes in coordinate form, rows and columns sorted by id.

    ``rows``/``cols`` index ``participant_ids``/``statement_ids``; entries sorted by (row, col).
    """

    participant_ids: np.ndarray
    statement_ids: np.ndarray
    rows: np.ndarray
    cols: np.ndarray
    vals: np.ndarray
    excluded: np.ndarray  # bool per statement
    meta: np.ndarray  # bool per statement

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.participant_ids), len(self.statement_ids)

    def votes_per_participant(self) -> np.ndarray:
        return np.bincount(self.rows, minlength=self.shape[0])

    def digest(self) -> str:
        h = hashlib.sha256()
        for arr in (
            self.participant_ids[self.rows],
            self.statement_ids[self.cols],
            self.vals.astype(np.int8),
            self.statement_ids,
            self.statement_ids[self.excluded],
            self.statement_ids[self.meta],
        ):
            h.update(np.ascontiguousarray(arr).tobytes())
            h.update(b"|")
        return "sha256:" + h.hexdigest()


def build_matrix(data: VoteData) -> VoteMatrix:
    """Keep the latest vote per (participant, statement); later rows win ties."""
    n = len(data.value)
    order_keys = [np.arange(n)]
    if data.timestamp is not None:
        order_keys.append(data.timestamp)
    pids, rows = np.unique(data.participant, return_inverse=True)
    tids = np.asarray(data.statement_ids, dtype=np.int64)
    cols = np.searchsorted(tids, data.statement)
    # lexsort: last key is primary -> (row, col, timestamp, position)
    order = np.lexsort(tuple(order_keys) + (cols, rows))
    r, c = rows[order], cols[order]
    last = np.ones(n, dtype=bool)
    if n:
        last[:-1] = (r[1:] != r[:-1]) | (c[1:] != c[:-1])
    sel = order[last]
    excluded = np.isin(tids, np.fromiter(data.excluded_ids, np.int64, len(data.excluded_ids)))
    meta = np.isin(tids, np.fromiter(data.meta_ids, np.int64, len(data.meta_ids)))
    return VoteMatrix(
        participant_ids=pids.astype(np.int64),
        statement_ids=tids,
        rows=rows[sel].astype(np.int64),
        cols=cols[sel].astype(np.int64),
        vals=data.value[sel].astype(np.int8),
        excluded=excluded,
        meta=meta,
    )


def select_in_conv(vm: VoteMatrix, *, min_votes: int = 7, greedy_n: int = 15) -> np.ndarray:
    """Pol.is `in-conv`: >= min(7, n_statements) votes, topped up to 15 by most active.

    n_statements is the number of columns in Pol.is's matrix (statements with a vote).
    """
    counts = vm.votes_per_participant()
    n_cmts = int(np.count_nonzero(np.bincount(vm.cols, minlength=vm.shape[1])))
    mask = counts >= min(min_votes, n_cmts)
    mask &= counts > 0
    short = greedy_n - int(mask.sum())
    if short > 0:
        rest = np.flatnonzero(~mask & (counts > 0))
        # most votes first; ties by participant id (stable)
        rest = rest[np.argsort(-counts[rest], kind="stable")][:short]
        mask[rest] = True
    return mask
