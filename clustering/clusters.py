"""Two-level clustering as in Pol.is clusters.clj / conversation.clj.

Base clusters: k-means (k = base_k, 100 in Pol.is) on the clustered participants' positions.
Groups: weighted k-means on the base-cluster centres (weights = base-cluster sizes) for
k = 2 .. min(max_groups, 2 + n_base // 12); k chosen by the mean silhouette over base-cluster
centres (unweighted, as Pol.is), smoothed so a new k is adopted only after it wins
``k_buffer`` runs in a row.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score

__all__ = [
    "BaseClusters",
    "GroupClustering",
    "KSmoother",
    "base_clusters",
    "group_clusters",
    "max_k",
    "smooth_k",
]


@dataclass(frozen=True)
class BaseClusters:
    centres: np.ndarray  # (b, 2)
    labels: np.ndarray  # base cluster per clustered participant
    sizes: np.ndarray  # (b,)


@dataclass(frozen=True)
class GroupClustering:
    k: int
    base_labels: np.ndarray  # group per base cluster
    centres: np.ndarray  # (k, 2)
    silhouette: float


@dataclass(frozen=True)
class KSmoother:
    last_k: int | None = None
    last_k_count: int = 0
    smoothed_k: int | None = None


def _kmeans(X, k, *, seed, weights=None, init=None, max_iter=100, n_init=1):
    init_arg = "k-means++" if init is None else np.asarray(init, dtype=np.float64)
    km = KMeans(
        n_clusters=k,
        init=init_arg,
        n_init=1 if init is not None else n_init,
        max_iter=max_iter,
        random_state=seed,
        algorithm="lloyd",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        km.fit(X, sample_weight=weights)
    return km.labels_.astype(np.int64), km.cluster_centers_


def _compact(labels: np.ndarray, centres: np.ndarray, X: np.ndarray, w=None):
    """Drop empty clusters, renumber 0..b-1 in order of first appearance-free sorted id."""
    used = np.unique(labels)
    remap = np.full(len(centres), -1, dtype=np.int64)
    remap[used] = np.arange(len(used))
    labels = remap[labels]
    w = np.ones(len(X)) if w is None else w
    tot = np.bincount(labels, weights=w, minlength=len(used))
    cx = np.bincount(labels, weights=w * X[:, 0], minlength=len(used)) / tot
    cy = np.bincount(labels, weights=w * X[:, 1], minlength=len(used)) / tot
    return labels, np.column_stack([cx, cy])


def base_clusters(X: np.ndarray, base_k: int, *, seed: int, init=None) -> BaseClusters:
    n = len(X)
    if n == 0:
        return BaseClusters(np.zeros((0, 2)), np.zeros(0, np.int64), np.zeros(0, np.int64))
    n_distinct = len(np.unique(X, axis=0))
    k = max(1, min(base_k, n_distinct))
    if init is not None and len(init) != k:
        init = None
    labels, centres = _kmeans(X, k, seed=seed, init=init)
    labels, centres = _compact(labels, centres, X)
    return BaseClusters(centres, labels, np.bincount(labels, minlength=len(centres)))


def max_k(n_base: int, max_groups: int) -> int:
    return min(max_groups, 2 + n_base // 12)


def _order_cold(labels, centres, weights):
    k = len(centres)
    size = np.bincount(labels, weights=weights, minlength=k)
    order = np.lexsort((centres[:, 1], centres[:, 0], -size))
    rank = np.empty(k, dtype=np.int64)
    rank[order] = np.arange(k)
    return rank[labels], centres[order]


def group_clusterings(
    base: BaseClusters, max_groups: int, *, seed: int, previous: dict | None = None
) -> dict[int, GroupClustering]:
    """Weighted k-means on base centres for every candidate k, with silhouettes."""
    X, w = base.centres, base.sizes.astype(np.float64)
    b = len(X)
    out: dict[int, GroupClustering] = {}
    if b == 0:
        return out
    n_distinct = len(np.unique(X, axis=0))
    ks = [k for k in range(2, max_k(b, max_groups) + 1) if k <= n_distinct]
    for k in ks:
        init = None if previous is None else previous.get(k)
        labels, centres = _kmeans(X, k, seed=seed, weights=w, init=init, n_init=10)
        labels, centres = _compact(labels, centres, X, w)
        kk = len(centres)
        sil = float(silhouette_score(X, labels)) if 2 <= kk <= b - 1 else -1.0
        if init is None:
            labels, centres = _order_cold(labels, centres, w)
        out[k] = GroupClustering(kk, labels, centres, sil)
    if not out:  # fewer than 2 distinct base centres: a single group
        labels = np.zeros(b, dtype=np.int64)
        centre = (w[:, None] * X).sum(axis=0, keepdims=True) / w.sum()
        out[1] = GroupClustering(1, labels, centre, 0.0)
    return out


def smooth_k(
    clusterings: dict[int, GroupClustering], state: KSmoother, buffer: int = 4
) -> KSmoother:
    """Pol.is group-k-smoother: switch k only after it wins `buffer` runs in a row."""
    best = max(clusterings, key=lambda k: (clusterings[k].silhouette, -k))
    same = state.last_k is not None and best == state.last_k
    count = state.last_k_count + 1 if same else 1
    if count >= buffer:
        smoothed = best
    else:
        smoothed = state.smoothed_k if state.smoothed_k in clusterings else best
    return KSmoother(last_k=best, last_k_count=count, smoothed_k=smoothed)


def align_to_previous(gc: GroupClustering, previous_centres: np.ndarray | None, weights):
    """Renumber groups to keep identity with the previous run's group centres."""
    if previous_centres is None or len(previous_centres) == 0:
        return gc
    prev = np.asarray(previous_centres, dtype=np.float64)
    d = np.linalg.norm(gc.centres[:, None, :] - prev[None, :, :], axis=2)
    rows, cols = linear_sum_assignment(d)
    new_id = np.full(gc.k, -1, dtype=np.int64)
    new_id[rows] = cols
    free = [i for i in range(max(gc.k, len(prev)) + gc.k) if i not in set(cols.tolist())]
    unmatched = np.flatnonzero(new_id < 0)
    for i, f in zip(unmatched, free, strict=False):
        new_id[i] = f
    # compress to 0..k-1 keeping relative order of the assigned ids
    order = np.argsort(new_id, kind="stable")
    rank = np.empty(gc.k, dtype=np.int64)
    rank[order] = np.arange(gc.k)
    centres = np.empty_like(gc.centres)
    centres[rank] = gc.centres
    return GroupClustering(gc.k, rank[gc.base_labels], centres, gc.silhouette)


group_clusters = group_clusterings
