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
    # one count of (group + 1, statement, vote) triples; group -1 lands in a block dropped
    code = ((labels[vm.rows] + 1) * m + vm.cols) * 3 + (vm.vals + 1)
    return _split_votes(np.bincount(code, minlength=3 * (k + 1) * m)[3 * m:], (k, m))


def overall_counts(vm: VoteMatrix) -> Counts:
    m = vm.shape[1]
    return _split_votes(np.bincount(vm.cols * 3 + (vm.vals + 1), minlength=3 * m), (m,))


def _split_votes(counts: np.ndarray, shape: tuple[int, ...]) -> Counts:
    by_vote = counts.reshape(*shape, 3).astype(np.int64, copy=False)
    return Counts(by_vote[..., 2].copy(), by_vote[..., 0].copy(), by_vote.sum(axis=-1))


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
