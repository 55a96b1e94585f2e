"""Group-aware consensus (conversation.clj) and majority consensus (repness.clj)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .stats import Z90, Counts, prop_test

__all__ = ["ConsensusComment", "group_aware_consensus", "select_consensus"]


def group_aware_consensus(c: Counts) -> tuple[np.ndarray, np.ndarray]:
    """Prod over groups of (A_g + 1) / (S_g + 2), and the disagree analogue."""
    seen = c.seen.astype(np.float64) + 2.0
    agree = np.prod((c.agree + 1.0) / seen, axis=0)
    disagree = np.prod((c.disagree + 1.0) / seen, axis=0)
    return agree, disagree


@dataclass(frozen=True)
class ConsensusComment:
    tid: int
    n_success: int
    n_trials: int
    p_success: float
    p_test: float


def select_consensus(
    overall: Counts, statement_ids: np.ndarray, excluded: np.ndarray, max_n: int = 5
) -> dict[str, list[ConsensusComment]]:
    """Pol.is select-consensus-comments over all participants: p > 0.5 and z > 1.2816,
    ranked by p * z, top 5, for agree and disagree."""
    ns = overall.seen
    out: dict[str, list[ConsensusComment]] = {}
    for name, n in (("agree", overall.agree), ("disagree", overall.disagree)):
        p = (1 + n) / (2 + ns)
        z = prop_test(n, ns)
        ok = np.flatnonzero(~excluded & (p > 0.5) & (z > Z90))
        order = ok[np.argsort(-(p[ok] * z[ok]), kind="stable")][:max_n]
        out[name] = [
            ConsensusComment(int(statement_ids[j]), int(n[j]), int(ns[j]), float(p[j]),
                             float(z[j]))
            for j in order
        ]
    return out
