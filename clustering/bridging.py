"""A cluster-free lens: Community Notes-style bridging scores per statement.

Model (twitter/communitynotes, documentation/under-the-hood/ranking-notes.md): every vote is
a rating r_un in [0, 1] predicted as

    r_un ~ mu + i_u + i_n + f_u * f_n

with one latent dimension. The statement intercept i_n is support that the main axis of
disagreement (f_u * f_n) does not explain: a statement liked by one side only gets a large
|f_n| and a small i_n; one liked across the axis gets a large i_n.

Ratings: agree = 1, disagree = 0, pass = 0.5 (the middle of the scale, as Community Notes
maps "somewhat helpful"); a pass is neither support nor opposition but still says the
participant saw the statement. Excluded (moderated-out, meta) statements are not rated.

Loss, as Community Notes' code normalises it (mean error, mean penalties):
    mean (r - r_hat)^2 + lambda_i (mean i_u^2 + mean i_n^2 + mu^2)
                       + lambda_f (mean f_u^2 + mean f_n^2),  lambda_i = 0.15, lambda_f = 0.03.
Community Notes fits it with Adam from a random start; here alternating least squares (each
statement's and each participant's (intercept, factor) pair is a 2x2 ridge problem, solved
exactly) from a start taken from the data (f_u = the participant's first principal
coordinate, standardised), so the result does not depend on a seed. The sweeps are
Anderson-accelerated and stop when a sweep moves no participant parameter (nor mu) by
1e-8, close enough that every score matches a fit solved far tighter (clustering/README.md
has the sweep counts and distances). As in Community Notes,
the factor's sign is chosen so that most participants have a negative factor.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from .matrix import VoteMatrix

__all__ = ["LAMBDA_F", "LAMBDA_I", "PASS_RATING", "Bridging", "bridging_scores"]

LAMBDA_I = 0.15
LAMBDA_F = 0.03
PASS_RATING = 0.5
_MAX_ITER = 500
_TOL = 1e-8
_MEMORY = 5


@dataclass(frozen=True)
class Bridging:
    statement_ids: np.ndarray
    intercept: np.ndarray  # i_n per statement (0 without ratings)
    factor: np.ndarray  # f_n per statement (0 without ratings)
    n_ratings: np.ndarray  # ratings per statement
    global_intercept: float  # mu
    participant_factor: np.ndarray  # f_u per participant of the matrix
    iterations: int

    def to_json_dict(self) -> dict:
        return {
            str(int(t)): ({"intercept": float(i), "factor": float(f), "n": int(c)} if c else
                          {"intercept": None, "factor": None, "n": 0})
            for t, i, f, c in zip(self.statement_ids.tolist(), self.intercept.tolist(),
                                  self.factor.tolist(), self.n_ratings.tolist(), strict=True)
        }


def _solve_pairs(c, sx, sxx, sy, sxy, a_i, a_f):
    """argmin_(b, f) sum (y - b - f x)^2 + a_i b^2 + a_f f^2 from the sums (2x2 equations)."""
    a11, a12, a22 = c + a_i, sx, sxx + a_f
    det = a11 * a22 - a12 * a12  # > 0: a_i, a_f > 0
    return (a22 * sy - a12 * sxy) / det, (a11 * sxy - a12 * sy) / det


def _half_step(S, R, c, sr, x, i_other, mu, a_i, a_f):
    """Best (intercept, factor) of each row of S given the other side's x and intercepts,
    and the sums of x over each row's ratings.

    S: rows x others indicator of ratings, R: the same with the ratings; sums of
    y = r - mu - i_other over each row's ratings, without forming y (one pass over S).
    """
    sx, sxx, si, six = (S @ np.column_stack([x, x * x, i_other, i_other * x])).T
    sy = sr - mu * c - si
    sxy = R @ x - mu * sx - six
    return (*_solve_pairs(c, sx, sxx, sy, sxy, a_i, a_f), sx)


def bridging_scores(vm: VoteMatrix, first_axis: np.ndarray, *, lambda_i: float = LAMBDA_I,
                    lambda_f: float = LAMBDA_F) -> Bridging:
    """Fit the model on ``vm``'s votes. ``first_axis``: a start for the participants' factor
    (their first principal coordinate)."""
    # One BLAS thread: the fit's dense work is dot products of one value per participant,
    # too small for threads to pay off, and the scores then do not depend on the machine's
    # thread count.
    with threadpool_limits(limits=1, user_api="blas"):
        return _fit(vm, first_axis, lambda_i, lambda_f)


def _fit(vm: VoteMatrix, first_axis: np.ndarray, lambda_i: float, lambda_f: float
         ) -> Bridging:
    n, m = vm.shape
    keep = ~vm.excluded[vm.cols]
    u, s = vm.rows[keep], vm.cols[keep]
    v = vm.vals[keep]
    r = np.where(v > 0, 1.0, np.where(v < 0, 0.0, PASS_RATING))
    total = len(r)
    n_ratings = np.bincount(s, minlength=m)
    if total == 0:
        return Bridging(vm.statement_ids, np.zeros(m), np.zeros(m), n_ratings, 0.0,
                        np.zeros(n), 0)
    # the matrix's entries are sorted by (row, column): the rows' CSR form directly
    c_u = np.bincount(u, minlength=n)
    indptr = np.concatenate([[0], np.cumsum(c_u)])
    S_u = sp.csr_matrix((np.ones(total), s, indptr), shape=(n, m))
    R_u = sp.csr_matrix((r, s, indptr), shape=(n, m))
    # The statements' side as transposed views (CSC) of the same arrays, not CSR copies: no
    # conversion, each statement's sums are added up in the same order (by participant), so
    # the same values to the last bit, and the four-column product runs about twice as fast
    # (it adds into 500 rows instead of gathering from 20,000).
    S_n, R_n = S_u.T, R_u.T
    c_u, c_n = c_u.astype(np.float64), n_ratings.astype(np.float64)
    sr_u, sr_n = np.bincount(u, weights=r, minlength=n), np.bincount(s, weights=r, minlength=m)
    raters, rated = c_u > 0, c_n > 0
    # penalties per parameter of the summed loss: lambda * N / (number of such parameters)
    per_rater, per_statement = total / raters.sum(), total / rated.sum()
    sum_r = float(r.sum())

    def sweep(z: np.ndarray):
        """One round of alternating least squares from the participants' (i_u, f_u) and mu:
        the statements' exact best answer, then the participants', then mu's."""
        i_u, f_u, mu = z[:n], z[n:2 * n], z[2 * n]
        b, f, _ = _half_step(S_n, R_n, c_n, sr_n, f_u, i_u, mu,
                             lambda_i * per_statement, lambda_f * per_statement)
        i_n, f_n = np.where(rated, b, 0.0), np.where(rated, f, 0.0)
        b, f, s_fn = _half_step(S_u, R_u, c_u, sr_u, f_n, i_n, mu,
                                lambda_i * per_rater, lambda_f * per_rater)
        i_u, f_u = np.where(raters, b, 0.0), np.where(raters, f, 0.0)
        explained = c_u @ i_u + c_n @ i_n + f_u @ s_fn
        mu = (sum_r - explained) / (total * (1 + lambda_i))
        return np.concatenate([i_u, f_u, [mu]]), i_n, f_n

    start = np.asarray(first_axis, dtype=np.float64)[raters]
    spread = start.std()
    z = np.zeros(2 * n + 1)
    z[n:2 * n][raters] = (start - start.mean()) / spread if spread > 0 else 0.0
    z[2 * n] = r.mean()
    # Anderson acceleration of the sweeps: plain alternation converges linearly at a rate
    # near 0.9 per sweep on real rounds (80-120 sweeps to a change of 1e-6); the next point
    # is the sweep's output corrected by the combination of the last few steps that best
    # cancels the residual. Should that ever run away (a residual 100 times the smallest
    # seen, or not finite), the fit goes back to the best sweep so far and continues with
    # plain sweeps, which always converge.
    steps: list[np.ndarray] = []
    changes: list[np.ndarray] = []
    previous = best = None
    accelerate = True
    iterations = 0
    for iterations in range(1, _MAX_ITER + 1):  # noqa: B007 - the count is reported
        g, i_n, f_n = sweep(z)
        residual = g - z
        size = float(np.max(np.abs(residual)))
        if size < _TOL:
            break
        if accelerate and not (size <= 100 * best[0] if best else np.isfinite(size)):
            accelerate = False
            g, i_n, f_n = best[1:]
        if best is None or size < best[0]:
            best = (size, g, i_n, f_n)
        if accelerate:
            if previous is not None:
                steps.append(g - previous[0])
                changes.append(residual - previous[1])
                if len(steps) > _MEMORY:
                    del steps[0], changes[0]
            previous = (g, residual)
        z = g
        if accelerate and steps:
            gamma = np.linalg.lstsq(np.column_stack(changes), residual, rcond=None)[0]
            z = g - np.column_stack(steps) @ gamma
    f_u, mu = g[n:2 * n], float(g[2 * n])
    if np.count_nonzero(f_u[raters] < 0) < np.count_nonzero(f_u[raters] > 0):
        f_u, f_n = -f_u, -f_n
    return Bridging(vm.statement_ids, i_n, f_n, n_ratings, mu, f_u, iterations)
