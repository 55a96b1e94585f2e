"""Synthetic conversations with planted opinion groups (for tests and benchmarks)."""

from __future__ import annotations

import numpy as np

from .matrix import VoteData

__all__ = ["planted_conversation"]


def planted_conversation(
    n_participants: int,
    n_statements: int,
    *,
    density: float = 0.1,
    n_groups: int = 3,
    strength: float = 2.5,
    pass_rate: float = 0.15,
    planar: bool = False,
    seed: int = 0,
) -> tuple[VoteData, np.ndarray]:
    """Votes of ``n_participants`` in ``n_groups`` planted groups on random statements.

    Each participant votes on about ``density * n_statements`` distinct statements. ``planar``: the group profiles
    lie on a circle in a 2-D opinion plane, so many groups stay separable in two dimensions. Returns (data, true group per
    participant id 0..n-1). Memory and time are linear in the number of votes.
    """
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, n_groups, size=n_participants)
    # per group and statement: probability of agreeing when not passing
    if planar:
        theta = 2 * np.pi * np.arange(n_groups) / n_groups
        basis = rng.standard_normal((2, n_statements))
        logits = strength * np.column_stack([np.cos(theta), np.sin(theta)]) @ basis
    else:
        logits = strength * rng.standard_normal((n_groups, n_statements))
    p_agree = 1.0 / (1.0 + np.exp(-logits))
    per = rng.binomial(n_statements, density, size=n_participants)
    per = np.clip(per, 1, n_statements)
    # draws with replacement that leave about `per` distinct statements per participant
    with np.errstate(divide="ignore", invalid="ignore"):
        draws = np.log1p(-per / n_statements) / np.log1p(-1.0 / n_statements)
    draws = np.where(per >= n_statements, 4 * n_statements, np.rint(draws)).astype(np.int64)
    if n_statements == 1:
        draws = per
    rows = np.repeat(np.arange(n_participants, dtype=np.int64), draws)
    cols = rng.integers(0, n_statements, size=len(rows), dtype=np.int64)
    key = np.unique(rows * n_statements + cols)  # one vote per pair, sorted
    rows, cols = key // n_statements, key % n_statements
    u = rng.random(len(rows))
    pa = p_agree[truth[rows], cols]
    cut = (1.0 - pass_rate) * pa
    values = np.where(u < cut, 1, np.where(u < 1.0 - pass_rate, -1, 0)).astype(np.int8)
    data = VoteData.from_arrays(rows, cols, values, statement_ids=np.arange(n_statements))
    return data, truth
