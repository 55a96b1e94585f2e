"""Vote counts per group and the Pol.is test statistics (stats.clj), vectorised."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .matrix import VoteMatrix

__all__ = ["Z90", "Counts", "group_counts", "prop_test", "two_prop_test"]

Z90 = 1.2816  # one-sided 90% (stats.clj z-sig-90?)


@dataclass(frozen=True)
class Counts:
    """Vote counts, shape (groups, statements) or (statements,)."""

    agree: np.ndarray
    disagree: np.ndarray
    seen: np.ndarray  # agree + disagree + pass

    @property
    def passes(self) -> np.ndarray:
        return self.seen - self.agree - self.disagree


def group_counts(vm: VoteMatrix, labels: np.ndarray, k: int) -> Counts:
    """Counts per group (labels per participant, -1 = not clustered) and statement."""
    m = vm.shape[1]
    g = labels[vm.rows]
    keep = g >= 0
    key = g[keep] * m + vm.cols[keep]
    v = vm.vals[keep]
    size = k * m
    agree = np.bincount(key, weights=(v == 1), minlength=size).astype(np.int64)
    disagree = np.bincount(key, weights=(v == -1), minlength=size).astype(np.int64)
    seen = np.bincount(key, minlength=size).astype(np.int64)
    return Counts(agree.reshape(k, m), disagree.reshape(k, m), seen.reshape(k, m))


def overall_counts(vm: VoteMatrix) -> Counts:
    m = vm.shape[1]
    v = vm.vals
    return Counts(
        np.bincount(vm.cols, weights=(v == 1), minlength=m).astype(np.int64),
        np.bincount(vm.cols, weights=(v == -1), minlength=m).astype(np.int64),
        np.bincount(vm.cols, minlength=m).astype(np.int64),
    )


def prop_test(succ, n):
    succ = np.asarray(succ, dtype=np.float64) + 1
    n = np.asarray(n, dtype=np.float64) + 1
    return 2 * np.sqrt(n) * (succ / n - 0.5)


def two_prop_test(succ_in, succ_out, pop_in, pop_out):
    s1 = np.asarray(succ_in, dtype=np.float64) + 1
    s2 = np.asarray(succ_out, dtype=np.float64) + 1
    n1 = np.asarray(pop_in, dtype=np.float64) + 1
    n2 = np.asarray(pop_out, dtype=np.float64) + 1
    pi1, pi2 = s1 / n1, s2 / n2
    pi_hat = (s1 + s2) / (n1 + n2)
    denom = np.sqrt(pi_hat * (1 - pi_hat) * (1 / n1 + 1 / n2))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (pi1 - pi2) / denom
    return np.where(pi_hat == 1, 0.0, z)
