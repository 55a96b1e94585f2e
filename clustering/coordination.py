"""Coordinated voting: blocks of accounts with near-identical votes that arrived in a burst.

Modelled on Community Notes' post-selection similarity (communitynotes, ``scoring/src/
scoring/post_selection_similarity.py``): raters who keep rating the same notes within
minutes of each other are linked, and the connected components of those links are treated
as one voice. Here the signal is simpler because every participant sees the same
proposals: two participants are **linked** when

1. their vote vectors are near-identical: of the proposals either of them voted on, the
   share on which both cast the same vote is at least ``min_similarity`` (the same
   proposals chosen *and* the same answers), over at least ``min_shared`` common identical
   votes. One flipped vote in six keeps a pair linked (5/6), so a script that adds a little
   random noise to each account still forms one block; and
2. they arrived in a burst: their accounts were created, or they cast their first vote in
   the round, within ``window_seconds`` of each other.

Accounts made slowly, one every few hours or days, never form a burst. So two
participants are also linked, whenever they arrived, when they cast **exactly the same
answers on the same proposals**, at least ``identical_min_votes`` of them, agreeing with
some and disagreeing with others. Pol.is-style routing shows each person proposals in a
weighted random order, so independent people seldom even vote on the same set; four real
Pol.is rounds (3,000 people, 97,000 votes) hold no two such participants at 5 votes, let
alone 15. People who agree (or disagree) with everything are left out: that is a common
honest pattern, and a vector of one answer says nothing about who wrote it. A script that
adds noise escapes this rule (it is exact) but not the burst rule if it is fast.

A **block** is a connected component of links with at least ``min_block_size`` members.
Honest neighbours at a workshop may match on a few consensual seeds; matching on every
proposal they chose, in the same minutes, is what scripted accounts do. A flagged block
is only ever a reason for a facilitator to look (the escalation engine asks whether the
decision depends on it); nobody's votes are deleted.

Pairs are compared only within the time window (participants sorted by time), so the work
grows with the size of bursts, not with the square of the round.

Accounts can also be made slowly, vote differently from each other so that they sit in
different opinion groups, and wait: then, minutes before a snapshot, they all change their
answer on one proposal to carry it across the groups. Their vote vectors are not alike and
they did not arrive together, so neither rule above links them. What gives them away is the
change itself: people seldom change an answer (in the four real Pol.is rounds above, 1 to
13 people per round ever did, in rounds of 14 days to over 4 years, and never two changed
one proposal to the same answer). So :func:`find_switch_blocks` flags ``min_block_size`` or more
participants who changed their answer on the **same proposal** to the **same answer**
in the round, whenever, whatever else they voted. Any window would be a pace to keep
under: sleepers that change four at a time 21 minutes apart pass a window of 20 minutes,
four a day pass a day, four a month pass 30 days. A real change of mind together (a town
meeting that persuaded a room, or people persuaded one by one over weeks) is flagged too,
and then a facilitator who knows the round looks at it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

DEFAULTS = {
    "min_similarity": 0.8,
    "min_shared": 5,
    "window_seconds": 20 * 60,
    "min_block_size": 5,
    "identical_min_votes": 15,
    "switch_window_seconds": None,  # the whole round (see the module's docstring)
}
_CHUNK = 512  # rows compared at once (memory: chunk x window x 3 statements floats)


@dataclass(frozen=True)
class Block:
    """A flagged block: its participants and how alike and how close in time they are."""

    participant_ids: list[int]
    similarity: float  # smallest share of identical votes over the block's links
    span_seconds: float  # from the first to the last arrival in the block
    n_votes: int  # median number of votes per member
    # True when voting exactly alike linked members that did not arrive in a burst
    identical: bool = False
    # (proposal id, answer) when the members are linked by changing their answer on that
    # proposal to that answer together (find_switch_blocks); ``similarity`` is then 0 and
    # ``span_seconds`` spans the changes
    switched_to: tuple[int, int] | None = None

    def to_dict(self) -> dict[str, object]:
        found: dict[str, object] = {
            "participant_ids": self.participant_ids, "size": len(self.participant_ids),
            "span_seconds": round(self.span_seconds, 1), "n_votes": self.n_votes}
        if self.switched_to is None:
            found.update(similarity=round(self.similarity, 4), identical=self.identical)
        else:
            found.update(switched_proposal_id=self.switched_to[0],
                         switched_answer=self.switched_to[1])
        return found


def _one_hot(participant_index: np.ndarray, statement_index: np.ndarray, values: np.ndarray,
             n_participants: int, n_statements: int) -> np.ndarray:
    """Participants x (statement, vote) indicator matrix (dense float32)."""
    columns = statement_index * 3 + (values.astype(np.int64) + 1)
    matrix = np.zeros((n_participants, 3 * n_statements), dtype=np.float32)
    matrix[participant_index, columns] = 1.0
    return matrix


def _links(onehot: np.ndarray, voted: np.ndarray, times: np.ndarray, counts: np.ndarray, *,
           min_similarity: float, min_shared: int, window: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Linked pairs (i < j) under one arrival time, with their similarity."""
    order = np.argsort(times, kind="stable")
    sorted_times = times[order]
    rows_out, cols_out, sims_out = [], [], []
    n = len(order)
    for start in range(0, n, _CHUNK):
        stop = min(start + _CHUNK, n)
        hi = int(np.searchsorted(sorted_times, sorted_times[stop - 1] + window, side="right"))
        if hi <= start + 1:
            continue
        rows, cols = order[start:stop], order[start:hi]
        shared = onehot[rows] @ onehot[cols].T  # identical (statement, vote) pairs
        both = voted[rows] @ voted[cols].T  # statements both voted on, alike or not
        union = counts[rows][:, None] + counts[cols][None, :] - both
        with np.errstate(divide="ignore", invalid="ignore"):
            similarity = np.where(union > 0, shared / union, 0.0)
        close = np.abs(sorted_times[start:stop][:, None] - sorted_times[start:hi][None, :]) \
            <= window
        later = np.arange(start, stop)[:, None] < np.arange(start, hi)[None, :]
        hit = close & later & (shared >= min_shared) & (similarity >= min_similarity)
        r, c = np.nonzero(hit)
        rows_out.append(rows[r])
        cols_out.append(cols[c])
        sims_out.append(similarity[r, c])
    if not rows_out:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0)
    return np.concatenate(rows_out), np.concatenate(cols_out), np.concatenate(sims_out)


def _identical_links(onehot: np.ndarray, counts: np.ndarray, values: np.ndarray,
                     p_index: np.ndarray, min_votes: int) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (i, j) with exactly the same answers on the same ``min_votes`` or more
    proposals, some agree and some disagree: each such group chained by row order."""
    agrees = np.bincount(p_index[values == 1], minlength=len(counts))
    disagrees = np.bincount(p_index[values == -1], minlength=len(counts))
    idx = np.nonzero((counts >= min_votes) & (agrees > 0) & (disagrees > 0))[0]
    if len(idx) < 2:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    # One row of bits per participant; equal rows are equal vote vectors.
    packed = np.packbits(onehot[idx] > 0, axis=1)
    _, group = np.unique(packed, axis=0, return_inverse=True)
    group = group.reshape(-1)
    order = np.argsort(group, kind="stable")
    same = group[order][1:] == group[order][:-1]
    return idx[order[:-1][same]], idx[order[1:][same]]


def find_blocks(
    participant_ids: Sequence[int],
    vote_participants: Sequence[int],
    vote_statements: Sequence[int],
    vote_values: Sequence[int],
    arrival_times: Sequence[Sequence[float]],
    *,
    min_similarity: float = DEFAULTS["min_similarity"],
    min_shared: int = DEFAULTS["min_shared"],
    window_seconds: float = DEFAULTS["window_seconds"],
    min_block_size: int = DEFAULTS["min_block_size"],
    identical_min_votes: int | None = DEFAULTS["identical_min_votes"],
) -> list[Block]:
    """Blocks of coordinated participants, largest first.

    ``vote_*`` are parallel arrays of the current votes (participant id, statement id,
    value in {-1, 0, 1}); ``arrival_times`` holds one or more arrays of seconds parallel to
    ``participant_ids`` (e.g. account creation and first vote): a pair is in a burst if it
    is close in any of them. NaN times never link. ``identical_min_votes`` None turns the
    rule for exactly alike voters off.
    """
    ids = np.asarray(participant_ids, dtype=np.int64)
    n = len(ids)
    if n < max(min_block_size, 2) or len(vote_participants) == 0:
        return []
    vp = np.asarray(vote_participants, dtype=np.int64)
    # Each vote's row in ``participant_ids`` (the last one if an id repeats), by binary
    # search over the sorted ids: a million votes in milliseconds, not a dict per vote.
    order = np.argsort(ids, kind="stable")
    sorted_ids = ids[order]
    found = np.searchsorted(sorted_ids, vp, side="right") - 1
    keep = (found >= 0) & (sorted_ids[np.maximum(found, 0)] == vp)
    p_index = order[found[keep]]
    statements, s_index = np.unique(np.asarray(vote_statements, dtype=np.int64)[keep],
                                    return_inverse=True)
    values = np.asarray(vote_values, dtype=np.int64)[keep]
    if np.any((values < -1) | (values > 1)):
        raise ValueError("votes must be -1, 0 or 1")
    onehot = _one_hot(p_index, s_index, values, n, len(statements))
    counts = onehot.sum(axis=1)
    voted = onehot.reshape(n, len(statements), 3).sum(axis=2)

    rows, cols, sims = [], [], []
    for times in arrival_times:
        t = np.asarray(times, dtype=np.float64)
        if t.shape != (n,):
            raise ValueError("arrival times must be parallel to participant_ids")
        # never linked: unknown times, or fewer votes than an identical pair must share
        idx = np.nonzero(~np.isnan(t) & (counts >= min_shared))[0]
        r, c, s = _links(onehot[idx], voted[idx], t[idx], counts[idx], min_similarity=min_similarity,
                         min_shared=min_shared, window=float(window_seconds))
        rows.append(idx[r])
        cols.append(idx[c])
        sims.append(s)
    all_times = np.vstack([np.asarray(t, dtype=np.float64) for t in arrival_times])
    spaced = [np.zeros(len(r), dtype=bool) for r in rows]
    if identical_min_votes is not None:
        r, c = _identical_links(onehot, counts, values, p_index, identical_min_votes)
        with np.errstate(invalid="ignore"):
            burst = (np.abs(all_times[:, r] - all_times[:, c]) <= window_seconds).any(axis=0)
        rows.append(r)
        cols.append(c)
        sims.append(np.ones(len(r)))
        spaced.append(~burst)
    r, c, s = np.concatenate(rows), np.concatenate(cols), np.concatenate(sims)
    spaced_links = np.concatenate(spaced)
    if len(r) == 0:
        return []
    graph = coo_matrix((np.ones(len(r)), (r, c)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    linked = np.zeros(n, dtype=bool)
    linked[r] = linked[c] = True
    blocks = []
    for label in np.unique(labels[linked]):
        members = np.nonzero(labels == label)[0]
        if len(members) < min_block_size:
            continue
        in_block = labels[r] == label
        member_times = all_times[:, members]
        spans = [np.nanmax(row) - np.nanmin(row) for row in member_times
                 if not np.all(np.isnan(row))]
        blocks.append(Block(
            participant_ids=sorted(int(ids[m]) for m in members),
            similarity=float(s[in_block].min()),
            span_seconds=float(min(spans)) if spans else 0.0,
            n_votes=int(np.median(counts[members])),
            identical=bool(spaced_links[in_block].any()),
        ))
    blocks.sort(key=lambda b: (-len(b.participant_ids), b.participant_ids[0]))
    return blocks


def find_switch_blocks(
    switch_participants: Sequence[int],
    switch_statements: Sequence[int],
    switch_values: Sequence[int],
    switch_times: Sequence[float],
    *,
    window_seconds: float | None = DEFAULTS["switch_window_seconds"],
    min_block_size: int = DEFAULTS["min_block_size"],
) -> list[Block]:
    """Blocks of participants who changed their answer on the same proposal to the same
    answer within ``window_seconds`` of each other (None: whenever), largest first.

    The ``switch_*`` arrays are parallel, one row per (participant, statement) whose answer
    was changed: the answer it was changed to (the current vote) and when (seconds). A row
    belongs to a block when at least ``min_block_size`` such changes of the same statement
    to the same answer fall within one window that holds it; overlapping windows make one
    block, and changes further apart than the window start another. ``n_votes`` is the
    number of changes.
    """
    participants = np.asarray(switch_participants, dtype=np.int64)
    statements = np.asarray(switch_statements, dtype=np.int64)
    values = np.asarray(switch_values, dtype=np.int64)
    times = np.asarray(switch_times, dtype=np.float64)
    if not (len(participants) == len(statements) == len(values) == len(times)):
        raise ValueError("the switch arrays must be parallel")
    if np.any((values < -1) | (values > 1)):
        raise ValueError("votes must be -1, 0 or 1")
    if window_seconds is None:
        window_seconds = np.inf
    known = ~np.isnan(times)
    participants, statements, values, times = (
        column[known] for column in (participants, statements, values, times))
    size = max(min_block_size, 2)
    blocks = []
    order = np.lexsort((times, values, statements))
    keys = np.stack([statements[order], values[order]], axis=1)
    starts = np.flatnonzero(np.r_[True, np.any(keys[1:] != keys[:-1], axis=1)])
    for begin, end in zip(starts, np.r_[starts[1:], len(order)], strict=True):
        rows = order[begin:end]
        if len(rows) < size:
            continue
        t = times[rows]
        # the changes from each one to the size-th after it: a burst when within the window
        burst = np.flatnonzero(t[size - 1:] - t[:len(t) - size + 1] <= window_seconds)
        member = np.zeros(len(rows), dtype=bool)
        for first in burst:
            member[first:first + size] = True
        picked = np.flatnonzero(member)
        if not len(picked):
            continue
        # bursts further apart than the window are separate blocks
        breaks = np.flatnonzero(np.diff(t[picked]) > window_seconds) + 1
        for part in np.split(picked, breaks):
            blocks.append(Block(
                participant_ids=sorted(int(p) for p in participants[rows[part]]),
                similarity=0.0, span_seconds=float(t[part[-1]] - t[part[0]]),
                n_votes=len(part),
                switched_to=(int(statements[rows[0]]), int(values[rows[0]]))))
    blocks.sort(key=lambda b: (-len(b.participant_ids), b.participant_ids[0]))
    return blocks
