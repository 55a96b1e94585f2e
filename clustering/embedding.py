"""UMAP of the participants, bounded by base clusters.

umap-learn lays out at most ``BASE_CLUSTERS`` points: the centres of a k-means of the
participants' scaled vote vectors (Pol.is's base clusters, found in the vote space instead of
the PCA plane). Every participant is then placed among the embedded centres the way
umap-learn's ``transform`` starts a new point: at the mean of its nearest centres' positions,
weighted by their fuzzy membership strengths. The layout's cost therefore no longer grows with
the number of participants; only the k-means and the placement do, linearly.

The fuzzy graph of the centres (UMAP's ``smooth_knn_dist``, membership strengths and fuzzy
union) is computed here in NumPy: umap-learn's own functions for it are numba code that is
compiled again in every process (several seconds of CPU), while on a hundred points the
vectorised form costs milliseconds. The layout itself is umap-learn's documented
``umap.umap_.simplicial_set_embedding`` with a fixed random state, one thread, and the same
parameters as ``umap.UMAP(n_neighbors=15, min_dist=0.1, n_epochs=200)``.

Everything here is a function of the scaled votes and of their canonical order: no seed, no
earlier run.
"""

from __future__ import annotations

import functools
import warnings

import numpy as np
import scipy.sparse as sp

__all__ = ["BASE_CLUSTERS", "base_clusters", "fuzzy_graph", "membership_weights",
           "umap_projection", "warm_up"]

BASE_CLUSTERS = 100
N_NEIGHBORS = 15
MIN_DIST = 0.1
SPREAD = 1.0
EPOCHS = 200
RANDOM_STATE = 0  # fixed: the embedding is a function of the votes
# Lloyd's iterations of the base clusters. They start from scratch on every run (no earlier
# centres), and on a round of 20,000 the labels of a few participants at the edges still
# move after 20 iterations at 55 ms each; the layout does not need them settled: with 8,
# the planted groups are found as well (adjusted Rand index against 20 iterations and
# against the planted groups in bench/README.md), and at 2,000 participants they have
# mostly settled by then.
KMEANS_ITERATIONS = 8
_SMOOTH_K_TOLERANCE = 1e-5  # umap-learn's values for the bandwidth search
_MIN_K_DIST_SCALE = 1e-3
_SEARCH_STEPS = 64


def base_clusters(X: sp.csr_matrix, k: int = BASE_CLUSTERS
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lloyd's k-means of the rows of ``X`` from ``k`` rows evenly spaced in their order (the
    canonical order: by PCA position, so a deterministic start spread along the first axis,
    which no numbering of the statements or the participants changes).
    Returns (labels, centres, squared distances of every row to every centre); clusters left
    empty are dropped, so there may be fewer than ``k``."""
    n = X.shape[0]
    start = np.unique(np.linspace(0, n - 1, min(n, k)).round().astype(np.int64))
    centres = X[start].toarray()
    row_sq = np.asarray(X.multiply(X).sum(axis=1)).ravel()
    labels = np.full(n, -1, dtype=np.int64)
    ones = np.ones(n)
    for _ in range(KMEANS_ITERATIONS):
        d2 = _squared_distances(X, row_sq, centres)
        new = d2.argmin(axis=1)
        if np.array_equal(new, labels):
            break
        labels = new
        sizes = np.bincount(labels, minlength=len(centres))
        member = sp.csr_matrix((ones, (labels, np.arange(n))), shape=(len(centres), n))
        sums = (member @ X).toarray()
        full = sizes > 0
        centres[full] = sums[full] / sizes[full, None]
    used = np.unique(labels)
    remap = np.full(len(centres), -1, dtype=np.int64)
    remap[used] = np.arange(len(used))
    centres = centres[used]
    return remap[labels], centres, _squared_distances(X, row_sq, centres)


def _squared_distances(X, row_sq: np.ndarray, centres: np.ndarray) -> np.ndarray:
    # |x|^2 - 2 x.c + |c|^2 in place on the product (20,000 x 100 at a city's scale): the
    # same sums, in the same order, as the expression written out, without its three
    # temporary arrays
    d2 = np.asarray(X @ centres.T)
    d2 *= -2.0
    d2 += row_sq[:, None]
    d2 += (centres ** 2).sum(axis=1)
    return np.maximum(d2, 0.0, out=d2)


def _smooth_knn_dist(distances: np.ndarray, k: float, local_connectivity: float
                     ) -> tuple[np.ndarray, np.ndarray]:
    """umap-learn's ``smooth_knn_dist``, all rows at once: for each row of sorted neighbour
    distances, rho (distance to the nearest neighbour at ``local_connectivity``) and sigma
    such that the memberships of the neighbours after the first sum to log2(k)."""
    n = distances.shape[0]
    target = np.log2(k)
    rho = np.zeros(n)
    if local_connectivity >= 1:
        index = int(np.floor(local_connectivity))
        positive = np.where(distances > 0.0, distances, np.inf)
        positive.sort(axis=1)
        count = (distances > 0.0).sum(axis=1)
        enough = count >= local_connectivity
        rho[enough] = positive[enough, index - 1]
        some = ~enough & (count > 0)
        rho[some] = distances[some].max(axis=1)
    lo = np.zeros(n)
    hi = np.full(n, np.inf)
    mid = np.ones(n)
    active = np.ones(n, dtype=bool)
    rest = distances[:, 1:] - rho[:, None]
    for _ in range(_SEARCH_STEPS):
        if not active.any():
            break
        r = rest[active]
        m = mid[active]
        psum = np.where(r > 0, np.exp(-np.maximum(r, 0.0) / m[:, None]), 1.0).sum(axis=1)
        done = np.abs(psum - target) < _SMOOTH_K_TOLERANCE
        over = ~done & (psum > target)
        under = ~done & ~over
        idx = np.flatnonzero(active)
        h = hi[idx]
        lw = lo[idx]
        h[over] = m[over]
        lw[under] = m[under]
        m = np.where(over | (under & np.isfinite(h)), (lw + h) / 2.0, np.where(under, m * 2, m))
        hi[idx], lo[idx], mid[idx] = h, lw, m
        active[idx[done]] = False
    sigma = mid
    floor = _MIN_K_DIST_SCALE * np.where(rho > 0.0, distances.mean(axis=1), distances.mean())
    return np.maximum(sigma, floor), rho


def fuzzy_graph(distances: np.ndarray, n_neighbors: int = N_NEIGHBORS) -> sp.coo_matrix:
    """UMAP's fuzzy simplicial set (``umap.umap_.fuzzy_simplicial_set`` with
    ``set_op_mix_ratio=1``, ``local_connectivity=1``) from a full square distance matrix."""
    n = distances.shape[0]
    nn = min(n_neighbors, n)
    order = np.argsort(distances, axis=1, kind="stable")[:, :nn]
    knn = np.take_along_axis(distances, order, axis=1)
    sigma, rho = _smooth_knn_dist(knn, float(nn), 1.0)
    gap = knn - rho[:, None]
    vals = np.where((gap <= 0) | (sigma[:, None] == 0), 1.0,
                    np.exp(-np.maximum(gap, 0.0) / sigma[:, None]))
    vals[order == np.arange(n)[:, None]] = 0.0
    g = sp.csr_matrix((vals.ravel(), (np.repeat(np.arange(n), nn), order.ravel())),
                      shape=(n, n))
    g.eliminate_zeros()
    t = g.T.tocsr()
    union = g + t - g.multiply(t)
    union.eliminate_zeros()
    return union.tocoo()


def membership_weights(d: np.ndarray, n_neighbors: int = N_NEIGHBORS
                       ) -> tuple[np.ndarray, np.ndarray]:
    """For rows of distances to the embedded points: the indices of the nearest
    ``n_neighbors`` and their normalised weights, as umap-learn's ``transform`` computes
    them for a new point (local connectivity 0, then ``init_graph_transform``)."""
    nn = min(n_neighbors, d.shape[1])
    order = np.argsort(d, axis=1, kind="stable")[:, :nn]
    knn = np.take_along_axis(d, order, axis=1)
    sigma, rho = _smooth_knn_dist(knn, float(nn), 0.0)
    gap = knn - rho[:, None]
    w = np.where((gap <= 0) | (sigma[:, None] == 0), 1.0,
                 np.exp(-np.maximum(gap, 0.0) / sigma[:, None]))
    # a full membership (the point coincides with an embedded one) takes that position
    whole = w == 1.0
    on_one = whole.any(axis=1)
    w[on_one] = 0.0
    w[on_one, whole[on_one].argmax(axis=1)] = 1.0
    w /= w.sum(axis=1, keepdims=True)
    return order, w


def _rounded(distances: np.ndarray) -> np.ndarray:
    """Distances to a multiple of the power of two just below a millionth of the largest.
    Their last bits depend on the order of the statements (the order of the sums), and
    what follows amplifies them: the layout's gradient descent (numbering a round's
    statements otherwise moved centres across the layout) and the placement, where a
    participant who coincides with a centre takes its place only at a distance of exactly
    zero. A power of two, so that the step itself has no last bits to differ in.
    umap-learn computes in float32: nothing it could resolve is lost."""
    largest = float(distances.max(initial=0.0))
    if not np.isfinite(largest) or largest <= 0.0:
        return distances
    step = 2.0 ** np.floor(np.log2(largest * 1e-6))
    return np.round(distances / step) * step


def _layout(points: np.ndarray) -> np.ndarray:
    with warnings.catch_warnings():
        # umap warns at import when TensorFlow (ParametricUMAP) is absent; irrelevant here
        warnings.simplefilter("ignore")
        from umap.umap_ import simplicial_set_embedding  # heavy import

    n = points.shape[0]
    sq = (points ** 2).sum(axis=1)
    distances = np.sqrt(np.maximum(sq[:, None] + sq[None, :] - 2.0 * points @ points.T, 0.0))
    np.fill_diagonal(distances, 0.0)
    distances = _rounded(distances)
    # as umap.UMAP does when there are fewer points than neighbours
    graph = fuzzy_graph(distances, min(N_NEIGHBORS, n - 1))
    a, b = _ab_params()
    # umap.UMAP's defaults (learning rate 1, repulsion 1, 5 negative samples); spectral
    # initialisation needs a few dozen points
    embedding, _ = simplicial_set_embedding(
        data=points, graph=graph, n_components=2, initial_alpha=1.0, a=a, b=b, gamma=1.0,
        negative_sample_rate=5, n_epochs=EPOCHS, init="random" if n < 50 else "spectral",
        random_state=np.random.RandomState(RANDOM_STATE), metric="euclidean",
        metric_kwds={}, densmap=False, densmap_kwds={}, output_dens=False, parallel=False,
        verbose=False)
    return np.asarray(embedding, dtype=np.float64)


@functools.cache  # a curve fit with constant inputs: once per process
def _ab_params() -> tuple[float, float]:
    from umap.umap_ import find_ab_params

    a, b = find_ab_params(SPREAD, MIN_DIST)
    return float(a), float(b)


def umap_projection(X: sp.csr_matrix, *, base_k: int = BASE_CLUSTERS,
                    fit_rows: np.ndarray | None = None) -> np.ndarray | None:
    """Every row of ``X`` (scaled vote vectors) in two dimensions, or None when there are
    too few distinct rows to embed.

    ``fit_rows``: the rows that make the base clusters, in the order whose evenly spaced
    rows start them (default: every row, in canonical order). The other rows are only
    placed among the embedded centres."""
    fit = X if fit_rows is None else X[fit_rows]
    if fit.shape[0] < 5 or fit.nnz == 0:
        return None
    _, centres, d2 = base_clusters(fit, base_k)
    if len(centres) < 5:
        return None
    embedded = _layout(centres)
    if not np.isfinite(embedded).all():
        return None
    if fit_rows is not None:
        row_sq = np.asarray(X.multiply(X).sum(axis=1)).ravel()
        d2 = _squared_distances(X, row_sq, centres)
    order, w = membership_weights(_rounded(np.sqrt(d2)))
    return np.einsum("ij,ijk->ik", w, embedded[order])


def warm_up() -> float:
    """Import umap-learn and compile its layout code now, on a small made-up matrix, so that
    the first real refresh does not pay for it (numba compiles the layout in each process).
    Returns the seconds it took."""
    import time

    started = time.perf_counter()
    rng = np.random.default_rng(0)
    n, m = 120, 12
    dense = rng.choice(np.array([-1.0, 0.0, 1.0, 0.0]), size=(n, m))
    dense[:, 0] = np.where(np.arange(n) % 2, 1.0, -1.0)  # two camps: a real embedding
    umap_projection(sp.csr_matrix(dense), base_k=60)
    return time.perf_counter() - started
