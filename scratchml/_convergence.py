"""Warnings for a logistic fit that ended away from its optimum, or that has none.

Newton's method (``LogisticRegression(solver="newton")``) ends for one of three reasons
(``StopReason``): the Newton step moved no parameter by more than ``tol`` (or by more than
the rounding of the parameters), ``epochs`` iterations ran out, or neither the objective nor
the gradient improves any more in X's precision. The first is convergence; the second
warns; the third warns only when a gradient component is still ``ROUNDINGS`` times its own
rounding or more, i.e. when the fit did not reach the precision the dtype allows.

With ``l2 = 0`` and training classes that a linear model separates, the objective has no
minimum at all: the loss tends to zero only as ‖W‖ → ∞, so the coefficients depend on when
training stopped. ``warn_if_separable`` says so, whichever solver ran.
"""

from __future__ import annotations

import enum
import warnings
from typing import Any

from .exceptions import ConvergenceWarning, sklearn_flavour

ROUNDINGS = 16  # a gradient this many times its rounding has not reached it


class StopReason(enum.Enum):
    """Why Newton's method ended."""

    CONVERGED = "converged"
    ITERATIONS = "iterations"
    PRECISION = "precision"


def _warn(message: str) -> None:
    # fit → _train → _solve_directly → _newton → here: point at the caller of fit.
    warnings.warn(message, sklearn_flavour(ConvergenceWarning), stacklevel=6)


def warn_if_newton_stopped_short(
    xp: Any,
    stop: StopReason,
    params: Any,
    X1: Any,
    Y: Any,
    gradient: Any,
    rounding: Any,
    l2: float,
    max_iter: int,
) -> None:
    """A ConvergenceWarning when Newton's method ended short of the precision X's dtype allows.

    At the optimum the gradient g = (1/n)·X̃ᵀ(P − Y) + l2·W is zero; evaluated in floating
    point it is not, but each component stays within its rounding (``rounding``, the same
    shape as ``gradient``: see ``linear._rounding``). Stopping because nothing improves
    while a component is still many times its rounding is not convergence. ``X1`` is X
    with a column of ones, (n, d + 1); ``gradient`` the stacked gradient at ``params``.
    """
    if stop is StopReason.CONVERGED:
        return
    if l2 == 0 and separates(xp, params, X1[:, :-1], Y):
        return  # there is no optimum to reach; warn_if_separable says so
    if stop is StopReason.ITERATIONS:
        _warn(
            f"LogisticRegression's Newton solver did not converge in {max_iter} iterations "
            "(epochs): its last step still moved a parameter by more than tol. Raise epochs, "
            "or scale the features."
        )
        return
    times = float(xp.max(xp.abs(gradient) / rounding))
    if times > ROUNDINGS:
        _warn(
            "LogisticRegression's Newton solver stopped where neither the objective nor its "
            f"gradient improves in {X1.dtype} precision, with a gradient component still "
            f"{times:.3g} times its rounding: the optimum was not reached. Scale the "
            "features, or fit in float64."
        )


def separates(xp: Any, params: Any, X: Any, Y: Any) -> bool:
    """Whether the linear model ``params`` classifies every sample of (X, Y) strictly right.

    Y is one-hot (n, k), or a 0/1 column (n, 1) for two classes. One host read.
    """
    W, b = params[0]
    logits = X @ W + b
    if Y.shape[1] == 1:  # binary: the logit's sign must match the label
        return bool(xp.all((2 * Y - 1) * logits > 0))
    true_logit = xp.sum(Y * logits, axis=1)  # softmax: the true class's logit above every other
    others = xp.max(xp.where(Y > 0, xp.full_like(logits, -xp.inf), logits), axis=1)
    return bool(xp.all(true_logit > others))


def warn_if_out_of_epochs(estimator: str, epochs_run: int, epochs: int) -> None:
    """A ConvergenceWarning when gradient descent on a convex objective used every epoch.

    With ``tol`` set, a run stops once the loss stops improving by ``tol``; one that ran all
    ``epochs`` was still improving, so it ended short of the optimum (scikit-learn's
    iterative solvers warn alike when they reach ``max_iter``).
    """
    if epochs_run >= epochs:
        warnings.warn(
            f"{estimator}'s gradient descent did not converge in {epochs} epochs: the loss was "
            "still improving by more than tol. Raise epochs or learning_rate, scale the "
            "features, or use the default solver.",
            sklearn_flavour(ConvergenceWarning),
            stacklevel=5,
        )


def warn_if_separable(xp: Any, params: Any, X: Any, Y: Any) -> None:
    """A ConvergenceWarning when the fitted model separates the training classes (l2 = 0).

    If W classifies every training sample strictly right, so does c·W for any c > 1, with
    a lower cross-entropy: the objective has no minimiser, and the weights of a fit grow
    until training stops.
    """
    W = params[0][0]
    if separates(xp, params, X, Y):
        _warn(
            "The training classes are linearly separable and l2=0, so the objective has no "
            "finite minimum: the loss goes to zero only as the weights grow without bound "
            f"(the largest |W| is now {float(xp.max(xp.abs(W))):.3g}), and the coefficients "
            "depend on when training stopped. Set l2 > 0 for a finite optimum."
        )
