"""Opinion groups: deterministic k-means on the participants' positions.

Pol.is (clusters.clj, conversation.clj) runs k-means on 100 base clusters, initialised from
its previous run, so its groups depend on the conversation's update history; a cold k-means
with random restarts depends on the seed, and on real conversations the k = 2 split has
several local optima of nearly equal inertia that decide escalations. Here the groups are a
function of the votes alone:

- the participants arrive in a canonical order (by PCA position, ``matrix.position_order``,
  ties by ``matrix.canonical_order``), so ids, row order and the statements' order cannot
  matter;
- for each k = 2 .. ``max_k`` the initial centres come from bisecting: the group with the
  largest within-group sum of squares is split across its own principal axis, then Lloyd's
  iterations (plain NumPy, no threads, so the sums do not depend on the machine) run on all
  participants to convergence;
- k is the one with the best mean silhouette (ties: the smaller k);
- groups are numbered by size (largest first), then by position. A previous run's centres
  may renumber them (``align_to_previous``) but never change who is in which group.

Splitting across the principal axis starts where disagreement is largest, as Pol.is's
groups do; measured against Pol.is's published groups it does better than keeping the
lowest inertia over many random restarts (bench/escalation_stability.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["GroupClustering", "align_to_previous", "group_clusterings", "max_k", "pick_k"]

_MAX_ITER = 300
_SILHOUETTE_SAMPLE = 1000  # above this many participants the silhouette uses a fixed sample


@dataclass(frozen=True)
class GroupClustering:
    k: int
    labels: np.ndarray  # group per clustered participant
    centres: np.ndarray  # (k, 2)
    silhouette: float


def max_k(n_points: int, max_groups: int, base_k: int = 100) -> int:
    """Largest k tried: Pol.is's bound, 2 + (number of base clusters) // 12."""
    return min(max_groups, 2 + min(base_k, n_points) // 12)


def _means(X: np.ndarray, labels: np.ndarray, k: int, previous: np.ndarray) -> np.ndarray:
    counts = np.bincount(labels, minlength=k).astype(np.float64)
    centres = previous.copy()
    filled = counts > 0
    for d in range(X.shape[1]):
        sums = np.bincount(labels, weights=X[:, d], minlength=k)
        centres[filled, d] = sums[filled] / counts[filled]
    return centres


def _assign(X: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """The nearest centre of each row; ties: the lower centre index, fixed by the init order.

    One centre at a time over the columns, as argmin over a (rows, centres, dims) array of
    squared differences would give, without that array and its reductions over a short
    axis, which is several times faster on large rounds (figures in bench/README.md)."""
    columns = [np.ascontiguousarray(X[:, d]) for d in range(X.shape[1])]
    best = labels = None
    for j, centre in enumerate(centres.tolist()):
        dist = (columns[0] - centre[0]) ** 2
        for column, c in zip(columns[1:], centre[1:], strict=True):
            dist += (column - c) ** 2
        if best is None:
            best, labels = dist, np.zeros(len(X), dtype=np.int64)
        else:
            closer = dist < best
            labels[closer] = j
            np.minimum(best, dist, out=best)
    return labels


def _lloyd(X: np.ndarray, centres: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    labels = _assign(X, centres)
    for _ in range(_MAX_ITER):
        centres = _means(X, labels, len(centres), centres)
        new = _assign(X, centres)
        if np.array_equal(new, labels):
            break
        labels = new
    return labels, centres


def _split(X: np.ndarray, labels: np.ndarray, centres: np.ndarray) -> np.ndarray | None:
    """Initial centres for k + 1 groups: split the widest group across its principal axis."""
    k = len(centres)
    resid = X - centres[labels]
    sse = np.bincount(labels, weights=(resid**2).sum(axis=1), minlength=k)
    for j in np.argsort(-sse, kind="stable"):
        pts = X[labels == j]
        if len(pts) < 2:
            continue
        centred = pts - pts.mean(axis=0)
        _, vecs = np.linalg.eigh(centred.T @ centred)
        t = centred @ vecs[:, -1]
        # t and -t give the same two halves (zero goes right either way)
        right = t >= 0
        if right.all() or not right.any():
            continue
        out = np.vstack([centres, pts[right].mean(axis=0)])
        out[j] = pts[~right].mean(axis=0)
        return out
    return None


def _silhouette_sample(X: np.ndarray) -> np.ndarray:
    """Rows the silhouette is measured on: all, or an evenly spaced subset of the canonical
    order (by PCA position: a function of the votes, spread along the first axis)."""
    n = len(X)
    if n <= _SILHOUETTE_SAMPLE:
        return np.arange(n)
    return np.linspace(0, n - 1, _SILHOUETTE_SAMPLE).round().astype(np.int64)


def _silhouette(D: np.ndarray, labels: np.ndarray) -> float:
    """Mean silhouette (as scikit-learn's: 0 for members of singleton groups) from the
    pairwise distances D of the sampled rows; one matrix product per k."""
    used, labels = np.unique(labels, return_inverse=True)
    k, n = len(used), len(labels)
    if not 2 <= k <= n - 1:
        return -1.0
    onehot = np.zeros((n, k))
    onehot[np.arange(n), labels] = 1.0
    sums = D @ onehot  # distance from each row to each group, summed
    size = onehot.sum(axis=0)
    own = size[labels]
    a = sums[np.arange(n), labels] / np.maximum(own - 1, 1)
    mean_to = sums / size
    mean_to[np.arange(n), labels] = np.inf
    b = mean_to.min(axis=1)
    s = np.where(own > 1, (b - a) / np.maximum(np.maximum(a, b), 1e-300), 0.0)
    return float(s.mean())


def _count_distinct(X: np.ndarray) -> int:
    """The number of distinct rows: after one sort by the columns, the rows that differ
    from the one before (``np.unique(X, axis=0)`` sorts the rows as opaque records, several
    times slower on 20,000 positions)."""
    if len(X) == 0:
        return 0
    ordered = X[np.lexsort(X.T[::-1])]
    return 1 + int(np.count_nonzero((ordered[1:] != ordered[:-1]).any(axis=1)))


def _distances(S: np.ndarray) -> np.ndarray:
    """Pairwise Euclidean distances of the rows of ``S`` (at most 1,000 2-D points), in
    plain NumPy: importing scipy.spatial for them would cost a cold analyze more than
    computing them. Added up one column at a time in place, the same sums as summing
    the (rows, rows, dims) array of squared differences, without building it."""
    D = np.zeros((len(S), len(S)))
    for column in S.T:
        difference = column[:, None] - column[None, :]
        difference *= difference
        D += difference
    return np.sqrt(D, out=D)


def _order_cold(labels: np.ndarray, centres: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    k = len(centres)
    size = np.bincount(labels, minlength=k)
    order = np.lexsort((centres[:, 1], centres[:, 0], -size))
    rank = np.empty(k, dtype=np.int64)
    rank[order] = np.arange(k)
    return rank[labels], centres[order]


def group_clusterings(X: np.ndarray, max_groups: int, *, base_k: int = 100,
                      judged_on: np.ndarray | None = None) -> dict[int, GroupClustering]:
    """Groups for every candidate k (2 .. max_k), with silhouettes; {1: ...} if fewer than
    two distinct positions. ``X`` must be in canonical order. The silhouettes measure the
    groups' distances in ``judged_on`` (the same rows, in another space) when given, in
    ``X`` otherwise."""
    X = np.asarray(X, dtype=np.float64)
    n = len(X)
    out: dict[int, GroupClustering] = {}
    if n == 0:
        return out
    n_distinct = _count_distinct(X)
    top = min(max_k(n_distinct, max_groups, base_k), n_distinct)
    labels = np.zeros(n, dtype=np.int64)
    centres = X.mean(axis=0, keepdims=True)
    sample = _silhouette_sample(X)
    D = _distances((X if judged_on is None else np.asarray(judged_on, dtype=np.float64))[sample])
    for k in range(2, top + 1):
        init = _split(X, labels, centres)
        if init is None:
            break
        labels, centres = _lloyd(X, init)
        used = np.unique(labels)
        if len(used) < k:  # a group emptied: more groups than the data holds
            break
        ordered, ordered_centres = _order_cold(labels, centres)
        out[k] = GroupClustering(k, ordered, ordered_centres, _silhouette(D, labels[sample]))
    if not out:
        out[1] = GroupClustering(1, np.zeros(n, dtype=np.int64), X.mean(axis=0, keepdims=True),
                                 0.0)
    return out


def pick_k(clusterings: dict[int, GroupClustering]) -> int:
    """The k with the best silhouette; ties go to the smaller k."""
    return max(clusterings, key=lambda k: (clusterings[k].silhouette, -k))


def align_to_previous(gc: GroupClustering, previous_centres: np.ndarray | None
                      ) -> GroupClustering:
    """Renumber groups to keep identity with the previous run's group centres."""
    if previous_centres is None or len(previous_centres) == 0:
        return gc
    # imported here: only a run with previous centres needs it, and loading scipy.optimize
    # is a noticeable part of a cold `python -m clustering analyze`
    from scipy.optimize import linear_sum_assignment

    prev = np.asarray(previous_centres, dtype=np.float64)
    d = np.linalg.norm(gc.centres[:, None, :] - prev[None, :, :], axis=2)
    rows, cols = linear_sum_assignment(d)
    new_id = np.full(gc.k, -1, dtype=np.int64)
    new_id[rows] = cols
    taken = set(cols.tolist())
    free = [i for i in range(len(prev) + gc.k) if i not in taken]
    for i, f in zip(np.flatnonzero(new_id < 0), free, strict=False):
        new_id[i] = f
    # compress to 0..k-1 keeping the relative order of the assigned ids
    order = np.argsort(new_id, kind="stable")
    rank = np.empty(gc.k, dtype=np.int64)
    rank[order] = np.arange(gc.k)
    centres = np.empty_like(gc.centres)
    centres[rank] = gc.centres
    return GroupClustering(gc.k, rank[gc.labels], centres, gc.silhouette)
