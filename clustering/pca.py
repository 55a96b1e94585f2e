"""Pol.is PCA on the column-mean-imputed vote matrix, without densifying it.

Imputing the column mean and then centring leaves 0 at every missing cell, so the centred
matrix C is sparse with entries only where someone voted. The principal components are the
top eigenvectors of C^T C. Pol.is (pca.clj) finds them by power iteration from a vector of
ones; we solve the same eigenproblem to convergence (dense `eigh` when small, Lanczos
otherwise), then fix each sign so results do not depend on the solver.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from .matrix import VoteMatrix

__all__ = ["PCAResult", "canonical_signs", "centred_matrix", "pca", "project_participants",
           "project_statements"]

_DENSE_LIMIT = 400  # statements; above this use Lanczos on the implicit Gram operator


@dataclass(frozen=True)
class PCAResult:
    center: np.ndarray  # per statement (our sign), 0 for excluded / unvoted
    comps: np.ndarray  # (2, n_statements)
    n_cols: int  # columns of Pol.is's matrix: statements with at least one vote


def centred_matrix(vm: VoteMatrix, centred_on: np.ndarray | None = None
                   ) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
    """Return (C, center, voted_cols): C sparse centred votes (excluded columns dropped).

    ``centred_on`` (a mask of the participants): the statements' means, and which
    statements count as voted, are those of these participants' votes (default: all)."""
    n, m = vm.shape
    keep = ~vm.excluded[vm.cols]
    r, c, v = vm.rows[keep], vm.cols[keep], vm.vals[keep].astype(np.float64)
    counted = slice(None) if centred_on is None else centred_on[r]
    sums = np.bincount(c[counted], weights=v[counted], minlength=m)
    cnts = np.bincount(c[counted], minlength=m)
    center = np.divide(sums, cnts, out=np.zeros(m), where=cnts > 0)
    data = v - center[c]
    # the matrix's entries are sorted by (row, column): its CSR form without a conversion
    indptr = np.concatenate([[0], np.cumsum(np.bincount(r, minlength=n))])
    C = sp.csr_matrix((data, c, indptr), shape=(n, m))
    voters = vm.cols if centred_on is None else vm.cols[centred_on[vm.rows]]
    voted_cols = np.bincount(voters, minlength=m) > 0
    return C, center, voted_cols


def canonical_signs(comps: np.ndarray) -> np.ndarray:
    """+1 or -1 per component: what makes its largest entry positive, the orientation it
    has without a reference."""
    signs = np.ones(comps.shape[0])
    if comps.shape[1]:
        largest = comps[np.arange(comps.shape[0]), np.abs(comps).argmax(axis=1)]
        signs[largest < 0] = -1.0
    return signs


def _fix_signs(comps: np.ndarray, reference: np.ndarray | None) -> np.ndarray:
    """Each component oriented like its reference one (a positive dot product), or, with
    none or one orthogonal to it, as ``canonical_signs`` orients it."""
    comps = comps * canonical_signs(comps)[:, None]
    if reference is not None:
        for i in range(min(len(comps), len(reference))):
            if float(comps[i] @ reference[i]) < 0:
                comps[i] = -comps[i]
    return comps


def pca(vm: VoteMatrix, C: sp.csr_matrix, center: np.ndarray, voted_cols: np.ndarray,
        *, n_comps: int = 2, reference: np.ndarray | None = None) -> PCAResult:
    """Top principal components of the sparse centred matrix C."""
    n, m = C.shape
    comps = np.zeros((n_comps, m))
    if m and n:
        if m <= _DENSE_LIMIT:
            G = (C.T @ C).toarray()
            w, vecs = np.linalg.eigh(G)
            idx = np.argsort(-w, kind="stable")[:n_comps]
            got = vecs[:, idx].T
            got[w[idx] <= 1e-12 * max(1.0, float(w.max(initial=0.0)))] = 0.0
        else:
            # imported here: rounds of up to _DENSE_LIMIT statements never load it
            from scipy.sparse.linalg import LinearOperator, eigsh

            # C.T: a transposed view (CSC) of C's arrays; its product adds up each statement's
            # entries in the same order as a CSR copy of the transpose, without the copy
            op = LinearOperator((m, m), matvec=lambda x: C.T @ (C @ x), dtype=np.float64)
            v0 = np.ones(m) / np.sqrt(m)
            w, vecs = eigsh(op, k=n_comps, which="LA", v0=v0, tol=1e-10)
            idx = np.argsort(-w, kind="stable")
            got = vecs[:, idx].T
        comps[: got.shape[0]] = got
    comps = _fix_signs(comps, reference)
    return PCAResult(center=center, comps=comps, n_cols=int(voted_cols.sum()))


def project_participants(vm: VoteMatrix, C: sp.csr_matrix, res: PCAResult) -> np.ndarray:
    """Pol.is sparsity-aware projection: sqrt(n_cols / n_voted) * (C_row . pc).

    As in Pol.is, zeroed (excluded) columns count as voted for every participant.
    """
    n = C.shape[0]
    raw = np.asarray(C @ res.comps.T)
    keep = ~vm.excluded[vm.cols]
    n_voted = np.bincount(vm.rows[keep], minlength=n)
    n_excl_cols = int(np.count_nonzero(vm.excluded & (np.bincount(vm.cols, minlength=vm.shape[1]) > 0)))
    n_voted = n_voted + n_excl_cols
    scale = np.sqrt(res.n_cols / np.maximum(n_voted, 1))
    return raw * scale[:, None]


def project_statements(res: PCAResult) -> tuple[np.ndarray, np.ndarray]:
    """Pol.is comment projection (a lone agree vote) and extremity (its length)."""
    agree_offset = 1.0 - res.center
    proj = np.sqrt(res.n_cols) * agree_offset[:, None] * res.comps.T
    return proj, np.sqrt((proj**2).sum(axis=1))
