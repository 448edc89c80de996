"""Least squares with an intercept, right on columns of any scale and in float32.

``least_squares_with_intercept`` solves what LinearRegression(solver="normal") minimises
with the standard's ``linalg`` only (it has no ``lstsq``). Three ideas, each standard:

- **Column equilibration** (Jacobi scaling; van der Sluis, 1969). Each centred column of X
  is divided by its norm before anything is decided or solved, and W is scaled back after.
  Among all scalings of the columns, equal norms come within a factor √d of the smallest
  condition number, so a feature measured in thousands beside one measured in units is as
  well posed as the data allow, and the decisions below (solve or SVD, which singular
  values are rounding) depend on how collinear the columns are, not on their units. Left
  unscaled, a float32 column 1000 times smaller than another has singular values under
  lstsq's cutoff ε·max(n, d)·s_max and is dropped as if it were rounding.
- **Iterative refinement** (Björck, 1967; Higham, *Accuracy and Stability of Numerical
  Algorithms*, §20.5). The normal equations square the condition number; one correction
  W ← W + G⁻¹(X̃ᵀ(Ỹ − X̃W) − ridge·W), with the residual computed from X̃ itself, brings
  the solution to the accuracy of a backward-stable least-squares solver whenever
  ε·cond(G) is small, which the fast path requires (cond(G) < 1/√ε).
- **The minimum-norm answer** where the columns are dependent: the singular value
  decomposition of the scaled matrix finds the rank (numpy.linalg.lstsq's cutoff), and
  W = X̂⁺ Ỹ for the rank-r part X̂ of X̃, which is lstsq's answer with l2 = 0.

float16 input is solved in float32 (no library's ``linalg`` takes float16); the caller
casts W back to X's dtype.
"""

from __future__ import annotations

from typing import Any

from . import backends


def working_dtype(xp: Any, dtype: Any) -> Any:
    """The dtype the direct solvers compute in: ``dtype``, or float32 for a narrower float."""
    return xp.float32 if xp.finfo(dtype).bits < 32 else dtype


def centred_mean(xp: Any, X: Any) -> Any:
    """Column means by the corrected two-pass algorithm (Chan, Golub & LeVeque, 1983).

    A second pass adds the mean of the deviations from the first estimate, which removes
    most of the first pass's rounding, so that columns centred on it average zero to
    working precision even when their mean is large next to their spread.
    """
    mean = xp.mean(X, axis=0)
    return mean + xp.mean(X - mean, axis=0)


def least_squares_with_intercept(xp: Any, X: Any, Y: Any, ridge: float) -> tuple[Any, Any]:
    """argmin over (W, b) of ‖X W + b − Y‖² + ridge·‖W‖², b not penalised.

    X is (n, d), Y (n, k); returns W (d, k) and b (k,), in X's dtype. The intercept makes
    the residuals sum to zero, so b = ȳ − x̄ W and W solves the problem on centred X̃, Ỹ.
    A column that is constant (its largest value equals its smallest) is exactly zero once
    centred, and gets a zero coefficient. Where many W fit equally well (dependent
    columns, ridge = 0), the one of smallest norm, as numpy.linalg.lstsq.
    """
    dtype = X.dtype
    work = working_dtype(xp, dtype)
    X, Y = xp.astype(X, work), xp.astype(Y, work)
    x_mean, y_mean = centred_mean(xp, X), centred_mean(xp, Y)
    constant = xp.max(X, axis=0) == xp.min(X, axis=0)
    centred = xp.where(constant, xp.zeros_like(x_mean), X - x_mean)
    W = least_squares(xp, centred, Y - y_mean, ridge)
    b = y_mean - x_mean @ W
    return xp.astype(W, dtype), xp.astype(b, dtype)


def least_squares(xp: Any, X: Any, Y: Any, ridge: float) -> Any:
    """argmin_W ‖X W − Y‖² + ridge·‖W‖², the minimum-norm one where there are many.

    X (n, d), Y (n, k); returns W (d, k). With G = XᵀX + ridge·I and D = diag(G)^½ (the
    norms of the columns, ridge included), the scaled system Ĝ Ŵ = D⁻¹XᵀY, Ĝ = D⁻¹GD⁻¹
    (unit diagonal), W = D⁻¹Ŵ, is solved by ``linalg.solve`` and refined once while
    Ĝ's condition number λ_max/λ_min stays below 1/√ε (ε the dtype's machine epsilon):
    each refinement then shrinks the error by a factor of at least √ε. Beyond that bound
    ``_svd_least_squares`` gives lstsq's answer.
    """
    n_features = X.shape[1]
    where = {"dtype": X.dtype, "device": backends.device(X)}
    gram = xp.matrix_transpose(X) @ X
    if ridge:
        gram = gram + ridge * xp.eye(n_features, **where)
    norms = xp.sqrt(xp.linalg.diagonal(gram))
    norms = xp.where(norms > 0, norms, xp.ones_like(norms))  # a zero column stays zero
    column = xp.expand_dims(norms, axis=1)  # (d, 1): divides row j of W, or of XᵀY, by ‖x_j‖
    scaled_gram = gram / (column * xp.matrix_transpose(column))
    eigenvalues = xp.linalg.eigvalsh(scaled_gram)  # d³: small next to XᵀX's n·d²
    # One host read decides the path (the eigenvalues themselves stay on the device).
    well_conditioned = xp.min(eigenvalues) > xp.max(eigenvalues) * xp.finfo(X.dtype).eps ** 0.5
    if not bool(well_conditioned):
        return _svd_least_squares(xp, X, Y, ridge, norms)
    W = xp.linalg.solve(scaled_gram, xp.matrix_transpose(X) @ Y / column) / column
    # One step of refinement: the residual of the normal equations, from X itself.
    normal_residual = xp.matrix_transpose(X) @ (Y - X @ W) - ridge * W
    return W + xp.linalg.solve(scaled_gram, normal_residual / column) / column


def _svd_least_squares(xp: Any, X: Any, Y: Any, ridge: float, norms: Any) -> Any:
    """``least_squares`` by the singular values of the scaled X itself (never forming XᵀX).

    A = X D⁻¹ (unit columns; with a ridge, the rows √ridge·D⁻¹ below, and zeros below Y,
    make the penalty part of the least-squares problem). With A = U diag(s) Vᵀ, singular
    values at or below ε·max(rows, d)·s_max are rounding, not signal (numpy.linalg.lstsq's
    default cutoff). With all of them kept, W = D⁻¹ V diag(1/s) Uᵀ Y. With r < d kept,
    W = D⁻¹ V_r diag(1/s_r) U_rᵀ Y fits, and so does W plus anything in X's null space
    N = D⁻¹ V₀; the smallest W (lstsq's answer) has no part in N, so that part is
    projected out. Where the SVD gives no V₀ (fewer samples than features), the rank-r
    part of X is U_r B, B = diag(s_r) V_rᵀ D (r × d, independent rows), and its
    minimum-norm least-squares solution is W = B⁺ U_rᵀ Y.
    """
    n_features = X.shape[1]
    where = {"dtype": X.dtype, "device": backends.device(X)}
    A = X / norms
    if ridge:
        A = xp.concat([A, ridge**0.5 * xp.eye(n_features, **where) / norms], axis=0)
        Y = xp.concat([Y, xp.zeros((n_features, Y.shape[1]), **where)], axis=0)
    U, s, Vt = xp.linalg.svd(A, full_matrices=False)
    cutoff = xp.finfo(X.dtype).eps * max(A.shape) * xp.max(s)
    rank = int(xp.sum(xp.astype(s > cutoff, xp.int32)))  # s is in decreasing order
    if rank == 0:  # X is zero: every W fits as well, and W = 0 is the smallest
        return xp.zeros((n_features, Y.shape[1]), **where)
    projected = xp.matrix_transpose(U[:, :rank]) @ Y  # (r, k)
    column = xp.expand_dims(norms, axis=1)
    kept = xp.matrix_transpose(Vt[:rank, :])  # (d, r)
    W = kept @ (projected / xp.expand_dims(s[:rank], axis=1)) / column
    if rank == n_features:
        return W
    if Vt.shape[0] == n_features:
        # Every null direction of the scaled A is at hand (n ≥ d): those of X are
        # N = D⁻¹V₀. W fits as well as any solution; the smallest-norm one is W less its
        # part in span(N), removed through an orthonormal basis Q of N (QR).
        Q, _ = xp.linalg.qr(xp.matrix_transpose(Vt[rank:, :]) / column)
        return W - Q @ (xp.matrix_transpose(Q) @ W)
    B = xp.expand_dims(s[:rank], axis=1) * Vt[:rank, :] * norms  # (r, d)
    return _pseudo_inverse_times(xp, B, projected)


def _pseudo_inverse_times(xp: Any, B: Any, C: Any) -> Any:
    """B⁺ C for B (r, d) with independent rows, by B's SVD.

    No singular value of B is cut: its rows are independent by construction (s_r above
    the cutoff, V_r orthonormal, D positive), and its small singular values come from
    small-scale columns (D), which is signal, not rounding.
    """
    P, sigma, Qt = xp.linalg.svd(B, full_matrices=False)
    inverse = 1 / xp.where(sigma > 0, sigma, xp.ones_like(sigma))
    inverse = xp.where(sigma > 0, inverse, xp.zeros_like(sigma))
    return xp.matrix_transpose(Qt) @ (
        xp.expand_dims(inverse, axis=1) * (xp.matrix_transpose(P) @ C)
    )
