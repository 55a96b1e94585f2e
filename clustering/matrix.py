"""Vote data and the sparse participant x statement vote matrix.

Conventions (ours, as in the CSV export): agree = +1, disagree = -1, pass = 0.
Pol.is's math uses the opposite sign internally; every formula here is written for ours.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np

__all__ = ["VoteData", "VoteMatrix", "build_matrix", "canonical_order", "position_order",
           "select_in_conv"]


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
        v = np.asarray(value).ravel()
        if not (len(p) == len(s) == len(v)):
            raise ValueError("participant, statement and value must have the same length")
        if v.dtype.kind not in "iu":
            v = np.asarray(v, dtype=np.float64)
        if len(v) and not (((v == -1) | (v == 0) | (v == 1)).all()):
            raise ValueError("vote values must be -1, 0 or +1")
        t = None
        if timestamp is not None:
            t = np.asarray(timestamp, dtype=np.float64).ravel()
            if len(t) != len(p):
                raise ValueError("timestamp must have the same length as the votes")
        ids = _unique(s)
        if statement_ids is not None:
            ids = np.union1d(np.asarray(list(statement_ids), dtype=np.int64), ids)
        excl = frozenset(int(x) for x in excluded_ids) | frozenset(int(x) for x in meta_ids)
        return cls(p, s, v.astype(np.int8), t, ids, excl, frozenset(int(x) for x in meta_ids))

    @classmethod
    def from_export(cls, export) -> VoteData:
        """Build from a :class:`clustering.polis_export.PolisExport`."""
        votes = export.vote_columns
        return cls.from_arrays(
            votes.voter_id,
            votes.comment_id,
            votes.vote,
            votes.timestamp,
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


def _unique(values: np.ndarray) -> np.ndarray:
    """Sorted unique values; O(n) for small non-negative integers."""
    if values.size and values.min() >= 0 and values.max() < 4 * values.size + 1_000_000:
        return np.flatnonzero(np.bincount(values)).astype(np.int64)
    return np.unique(values).astype(np.int64)


def _dense_index(values: np.ndarray, ids: np.ndarray | None = None):
    """(sorted unique ids, index of each value) in O(n) when ids are small non-negative ints."""
    if values.size == 0:
        ids = np.zeros(0, np.int64) if ids is None else ids
        return ids, np.zeros(0, np.int64)
    lo, hi = int(values.min()), int(values.max())
    if ids is not None:
        lo, hi = min(lo, int(ids.min())), max(hi, int(ids.max()))
    if lo >= 0 and hi < 4 * (values.size + (0 if ids is None else ids.size)) + 1_000_000:
        present = np.zeros(hi + 1, dtype=bool)
        present[values if ids is None else ids] = True
        uniq = np.flatnonzero(present).astype(np.int64)
        table = np.cumsum(present, dtype=np.int64) - 1
        return uniq, table[values]
    if ids is None:
        uniq, inv = np.unique(values, return_inverse=True)
        return uniq.astype(np.int64), inv.astype(np.int64)
    return ids, np.searchsorted(ids, values).astype(np.int64)


def stable_argsort(keys: np.ndarray) -> np.ndarray:
    """``np.argsort(keys, kind="stable")`` for int64 keys.

    When the keys' span and a position fit in 63 bits together, the positions ride in the
    low bits of one packed array and a plain value sort does the work: NumPy sorts int64
    values with SIMD, several times faster than any argsort (figures in bench/README.md).
    """
    n = len(keys)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    low = int(keys.min())
    bits = max(n - 1, 1).bit_length()
    if int(keys.max()) - low >= 1 << (63 - bits):
        return np.argsort(keys, kind="stable")
    packed = keys.astype(np.int64) - low
    packed <<= bits
    packed |= np.arange(n, dtype=np.int64)
    packed.sort()
    packed &= (1 << bits) - 1
    return packed


def build_matrix(data: VoteData) -> VoteMatrix:
    """Keep the latest vote per (participant, statement).

    With timestamps, the latest vote wins, and of two votes of one pair at the same time
    the later row, as Hiroba's importer decides: Hiroba's open data gives each vote only
    its day, and keeps each voter's rows in the order they were cast. Without timestamps,
    the row order is the only clock: later rows win.

    Linear time when ids are small integers and rows arrive grouped (as most stores do);
    otherwise one stable sort of a combined (participant, statement) key.
    """
    n = len(data.value)
    pids, rows = _dense_index(data.participant)
    tids = np.asarray(data.statement_ids, dtype=np.int64)
    _, cols = _dense_index(data.statement, tids)
    m = len(tids)
    key = rows * max(m, 1) + cols
    if n and bool(np.all(key[1:] >= key[:-1])) and data.timestamp is None:
        order = None
    else:
        order = stable_argsort(key)
    k = key if order is None else key[order]
    if data.timestamp is not None and n:
        # Re-votes are few: order only the pairs with several votes by (time, row); the
        # rest keep their single vote, so no sort of every vote is needed
        dup = k[1:] == k[:-1]
        if dup.any():
            several = np.zeros(n, dtype=bool)
            several[1:] |= dup
            several[:-1] |= dup
            at = np.flatnonzero(several)
            sub = order[at]
            order[at] = sub[np.lexsort((sub, data.timestamp[sub], key[sub]))]
    last = np.ones(n, dtype=bool)
    if n:
        last[:-1] = k[1:] != k[:-1]
    sel = np.flatnonzero(last) if order is None else order[last]
    excluded = np.isin(tids, np.fromiter(data.excluded_ids, np.int64, len(data.excluded_ids)))
    meta = np.isin(tids, np.fromiter(data.meta_ids, np.int64, len(data.meta_ids)))
    return VoteMatrix(
        participant_ids=pids,
        statement_ids=tids,
        rows=rows[sel],
        cols=cols[sel],
        vals=data.value[sel].astype(np.int8, copy=False),
        excluded=excluded,
        meta=meta,
    )


def _mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: spreads nearby integers over all 64 bits."""
    x = x.astype(np.uint64)
    with np.errstate(over="ignore"):
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def canonical_order(vm: VoteMatrix) -> np.ndarray:
    """A permutation of the participants that depends only on what they voted.

    Each participant gets a 64-bit fingerprint of their (statement, vote) pairs (a sum, so
    the order of their votes does not matter); participants are sorted by fingerprint, then
    by number of votes. A statement enters the fingerprint by its column, its rank among
    the round's statements, not by its id: ids are a database's (a round's proposals get
    others in another database, or after other rounds were created), and with them the
    same votes came out in another order, so UMAP, which starts from rows spread over this
    order, found other groups. The rank among all statements, not only those in use, so
    that moderating one out or voting on one for the first time does not renumber the
    others. Two participants with equal keys voted identically (up to a 2^-64 chance), so
    their relative order cannot change any computation.
    """
    n = vm.shape[0]
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    code = vm.cols.astype(np.int64) * 4 + vm.vals.astype(np.int64) + 1
    h = _mix64(code.astype(np.uint64))
    counts = np.bincount(vm.rows, minlength=n)
    fingerprint = np.zeros(n, dtype=np.uint64)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    has = counts > 0
    with np.errstate(over="ignore"):
        fingerprint[has] = np.add.reduceat(h, starts[has])
    return np.lexsort((counts, fingerprint)).astype(np.int64)


def position_order(positions: np.ndarray, signs: np.ndarray) -> np.ndarray:
    """A stable permutation of the rows by their position: the first coordinate, then the
    second, each multiplied by its sign in ``signs`` and rounded to the power of two just
    below a billionth of the largest one.

    ``canonical_order`` depends on the statements' order (each enters the fingerprint by
    its rank), and whatever starts from rows spread over it (UMAP's base clusters, the
    silhouette's sample) found other groups when a round's statements were numbered
    otherwise. Principal-component positions do not depend on the order of either the
    statements or the participants, only their last bits do (sums taken in another
    order): the rounding absorbs those, and ``signs`` (the sign each axis takes without
    a warm start) keeps a previous run's orientation of the axes from reversing the
    order. Rows with equal keys keep their order (the fingerprint's, when the rows
    arrive in it), so the permutation still depends on the votes alone.
    """
    n = len(positions)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    P = np.asarray(positions, dtype=np.float64) * np.asarray(signs, dtype=np.float64)
    top = float(np.abs(P).max(initial=0.0))
    if not np.isfinite(top) or top == 0.0:
        return np.arange(n, dtype=np.int64)
    # a power of two, so that the step itself has no last bits to differ in
    key = np.round(P / 2.0 ** np.floor(np.log2(top * 1e-9))).astype(np.int64)
    # np.lexsort is stable: the last key is the primary one
    return np.lexsort(key.T[::-1]).astype(np.int64)


def permute_participants(vm: VoteMatrix, order: np.ndarray) -> VoteMatrix:
    """The same votes with participant i of the result being ``order[i]`` of ``vm``."""
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    rows = rank[vm.rows]
    sort = stable_argsort(rows * max(vm.shape[1], 1) + vm.cols)
    return VoteMatrix(
        participant_ids=vm.participant_ids[order],
        statement_ids=vm.statement_ids,
        rows=rows[sort],
        cols=vm.cols[sort],
        vals=vm.vals[sort],
        excluded=vm.excluded,
        meta=vm.meta,
    )


def select_in_conv(
    vm: VoteMatrix, *, min_votes: int = 7, greedy_n: int = 15
) -> np.ndarray:
    """Pol.is `in-conv`: >= min(7, n_statements) votes, topped up to 15 by most active.

    n_statements is the number of columns in Pol.is's matrix (statements with a vote).
    Unlike Pol.is there is no "once in, stay in": the selection is a function of the votes,
    and votes are never taken back, so a participant only leaves when the top-up does.
    Ties in the top-up follow the matrix's row order (canonical in ``analyze``).
    """
    counts = vm.votes_per_participant()
    n_cmts = int(np.count_nonzero(np.bincount(vm.cols, minlength=vm.shape[1])))
    mask = counts >= min(min_votes, n_cmts)
    mask &= counts > 0
    short = greedy_n - int(mask.sum())
    if short > 0:
        rest = np.flatnonzero(~mask & (counts > 0))
        # most votes first; ties in row order (stable)
        rest = rest[np.argsort(-counts[rest], kind="stable")][:short]
        mask[rest] = True
    return mask
