"""Comment priority for routing the next statement (conversation.clj priority-metric)."""

from __future__ import annotations

import numpy as np

__all__ = ["META_PRIORITY", "importance", "priorities"]

META_PRIORITY = 7.0


def importance(A, P, S, E):
    p = (P + 1.0) / (S + 2.0)
    a = (A + 1.0) / (S + 2.0)
    return (1.0 - p) * (E + 1.0) * a


def priorities(A, D, S, extremity, is_meta) -> np.ndarray:
    """(importance * (1 + 8 * 2^(-S/5)))^2; meta statements get 7^2 = 49.

    A, D, S: counts over the clustered participants (summed over groups), P = S - A - D.
    """
    A = np.asarray(A, dtype=np.float64)
    S = np.asarray(S, dtype=np.float64)
    P = S - A - np.asarray(D, dtype=np.float64)
    val = importance(A, P, S, np.asarray(extremity, dtype=np.float64))
    val = val * (1.0 + 8.0 * np.power(2.0, S / -5.0))
    return np.where(np.asarray(is_meta, bool), META_PRIORITY, val) ** 2
