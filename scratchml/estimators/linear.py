"""Linear models: LinearRegression and LogisticRegression.

Both are networks without hidden layers (``params_ = [(W, b)]``, W of shape
(n_features, n_outputs)), so gradient descent reuses the layer math of ``nn``:
the prediction is X @ W + b, the gradient Xᵀ @ dZ + l2·W. LinearRegression's
"normal" solver instead solves the regularised normal equations directly.
"""

from __future__ import annotations

from typing import Any

from .. import backends
from .._convergence import (
    StopReason,
    warn_if_newton_stopped_short,
    warn_if_out_of_epochs,
    warn_if_separable,
)
from .._least_squares import least_squares_with_intercept, working_dtype
from .._progress import ProgressBar
from .._training import Snapshot, TrainResult, training_progress
from .._validation import HyperParameter, Options
from ..nn import layers
from ..nn.losses import get_loss
from .network import (
    CLASSIFIER_ATTRIBUTES,
    EPOCHS,
    FITTED_ATTRIBUTES,
    L2,
    LEARNING_RATE,
    N_ITER_NO_CHANGE,
    PROGRESS,
    RECORD_EVERY,
    REGRESSOR_ATTRIBUTES,
    TOL,
    ClassifierMixin,
    NetworkModel,
    Params,
    RegressorMixin,
)

# A linear model has no hidden layers: params_ is [(W, b)], and nothing else to name.
_LINEAR_ATTRIBUTES = {
    name: value
    for name, value in FITTED_ATTRIBUTES.items()
    if name not in ("activations_", "loss_name_")
} | {
    "params_": (
        "list of one (W, b)",
        "W (n_features, n_outputs) and b (n_outputs,), in the library, device and dtype "
        "of the training X; ``coef_`` and ``intercept_`` show them in scikit-learn's layout.",
    ),
    "coef_": ("array", "The weights, (n_outputs, n_features), or (n_features,) for 1-D y."),
    "intercept_": ("array", "The intercepts, (n_outputs,), or a 0-d array for 1-D y."),
}
_GD_LEARNING_RATE = LEARNING_RATE.replace(
    doc="The step size η of solver='gd': θ ← θ − η·g. The other solver ignores it."
)
_GD_EPOCHS = EPOCHS.replace(
    default=1000, doc="The largest number of iterations of the solver (steps of gradient descent)."
)
_LINEAR_L2 = L2.replace(
    doc="The L2 penalty: the objective adds (l2/2)·‖W‖², the intercept not penalised."
)


class _LinearModel(NetworkModel):
    solver: str
    tol: float | None

    def _solve_directly(self, xp: Any, params: Params, X: Any, Y: Any, loss_name: str) -> Any:
        raise NotImplementedError

    def _train(
        self,
        xp: Any,
        params: Params,
        X: Any,
        Y: Any,
        activations: list[str],
        loss_name: str,
        generator: Any,
        **options: Any,
    ) -> Any:
        """Gradient descent for solver="gd"; else the model's own direct solver."""
        if self.solver == "gd":
            result = super()._train(xp, params, X, Y, activations, loss_name, generator, **options)
            if result.divergence is None and self.tol is not None:
                warn_if_out_of_epochs(type(self).__name__, len(result.loss_history), self.epochs)
            return result
        return self._solve_directly(xp, params, X, Y, loss_name)

    def _initial_params(self, sizes: list[int], like: Any, generator: Any) -> Params:
        # Zeros: the objectives are convex, so no symmetry needs breaking.
        n_features, n_outputs = sizes
        xp = backends.namespace(like)
        where = {"dtype": like.dtype, "device": backends.device(like)}
        return [(xp.zeros((n_features, n_outputs), **where), xp.zeros((n_outputs,), **where))]

    @property
    def coef_(self) -> Any:
        """Weights in scikit-learn's layout: (n_outputs, n_features), or (n_features,) for 1-D y."""
        self._check_fitted()
        W = self.params_[0][0]
        if getattr(self, "y_ndim_", 2) == 1:
            return W[:, 0]
        return backends.namespace(W).matrix_transpose(W)

    @property
    def intercept_(self) -> Any:
        """Intercepts: (n_outputs,), or a 0-d array for 1-D y."""
        self._check_fitted()
        b = self.params_[0][1]
        return b[0] if getattr(self, "y_ndim_", 2) == 1 else b


class LinearRegression(RegressorMixin, _LinearModel):
    """Least squares with optional L2: minimise ½·mean((X W + b − Y)²) + (l2/2)·‖W‖².

    The mean runs over samples and outputs alike (n·k residuals for k outputs), as
    the objective of docs/math/linear-regression.md, ``loss()`` and solver="gd" have it.

    solver="normal" solves (X̃ᵀX̃ + l2·n·k·I) W = X̃ᵀỸ on centred X̃, Ỹ (k outputs; the
    intercept is not penalised) with ``linalg.solve`` on columns scaled to unit norm,
    refined once, or by an SVD of the scaled X̃ when that system is ill-conditioned:
    then with l2=0 it gives numpy.linalg.lstsq's minimum-norm solution. So float32 is
    right on columns of any scale (docs/math/linear-regression.md); float16 X is solved
    in float32 and the parameters are stored in float16.
    solver="gd" runs full-batch gradient descent for at most ``epochs`` steps and
    stops earlier once the loss has not improved by at least ``tol`` for more than
    ``n_iter_no_change`` epochs in a row (``tol=None``: every epoch runs);
    ``n_iter_`` says how many ran. y may be (n_samples,) or (n_samples, n_targets).
    """

    _hyperparameters = {  # noqa: RUF012 - read-only once the class exists
        "solver": HyperParameter(
            "normal",
            [Options(("normal", "gd"))],
            """'normal' solves the regularised normal equations directly; 'gd' runs
            full-batch gradient descent.""",
        ),
        "learning_rate": _GD_LEARNING_RATE,
        "epochs": _GD_EPOCHS,
        "l2": _LINEAR_L2,
        "tol": TOL.replace(
            default=1e-6,
            doc="""With solver='gd', training stops once more than ``n_iter_no_change`` epochs in a row have
            not lowered the loss by at least ``tol``; None runs every epoch.""",
        ),
        "n_iter_no_change": N_ITER_NO_CHANGE,
        "record_every": RECORD_EVERY,
        "progress": PROGRESS,
    }
    _fitted_attributes = {**_LINEAR_ATTRIBUTES, **REGRESSOR_ATTRIBUTES}  # noqa: RUF012

    def __init__(
        self,
        solver: str = "normal",
        learning_rate: float = 0.01,
        epochs: int = 1000,
        l2: float = 0.0,
        tol: float | None = 1e-6,
        n_iter_no_change: int = 10,
        record_every: int = 0,
        progress: bool = False,
    ) -> None:
        self.solver = solver
        self.learning_rate = learning_rate
        self.epochs = epochs
        self.l2 = l2
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.record_every = record_every
        self.progress = progress

    def _solve_directly(self, xp: Any, params: Params, X: Any, Y: Any, loss_name: str) -> Any:
        """The normal equations on centred data (the intercept from the means).

        The penalty is l2·n·k (n samples, k outputs) because the data term is a mean over
        all n·k residuals: the gradient of the documented objective is zero here.
        """
        n_samples, n_outputs = Y.shape
        ridge = float(self.l2) * n_samples * n_outputs
        W, b = least_squares_with_intercept(xp, X, Y, ridge)
        _check_representable(xp, X, W, b)
        return _result(params=[(W, b)], loss_history=[], history=[])


def _check_representable(xp: Any, X: Any, W: Any, b: Any) -> None:
    """ValueError naming X's columns whose least-squares coefficients overflow X's dtype.

    A column that varies only in subnormal numbers (2e-313 beside zeros) is not zero, so the
    solution fits y with a coefficient of about 1 / 2e-313, beyond float64's range, as
    numpy.linalg.lstsq's is. Returning infinite or NaN coefficients would be silently wrong.
    """
    finite = xp.all(xp.isfinite(W), axis=1)
    if bool(xp.all(finite)) and bool(xp.all(xp.isfinite(b))):
        return
    columns = [int(j) for j in backends.to_numpy(xp.nonzero(~finite)[0])] or list(range(X.shape[1]))
    spans = backends.to_numpy(xp.max(X, axis=0) - xp.min(X, axis=0))
    described = ", ".join(f"{j} (spans {float(spans[j]):.3g})" for j in columns)
    dtype = str(X.dtype).rsplit(".", 1)[-1]
    raise ValueError(
        f"X's least-squares coefficients overflow {dtype}: column(s) {described} vary too "
        "little for any representable coefficient to fit y; rescale X (e.g. standardise its "
        "columns), drop those columns, or set l2 > 0"
    )


class LogisticRegression(ClassifierMixin, _LinearModel):
    """Logistic regression: sigmoid for two classes, softmax for more.

    Minimises mean cross-entropy (from the logits X @ W + b) + (l2/2)·‖W‖², the
    intercept not penalised. ``coef_`` is (1, n_features) for two classes,
    (n_classes, n_features) otherwise.

    solver="newton" (the default) takes Newton steps θ ← θ − t·H⁻¹g on all the
    parameters θ = [W; b] at once, solving H s = g with ``linalg.solve`` — iteratively
    reweighted least squares. H is the objective's exact Hessian: for classes a, c
    the block (1/n)·X̃ᵀ diag(p_a(δ_ac − p_c)) X̃ + δ_ac·l2·I (X̃ = [X, 1]), which is
    (n_classes·(n_features+1)) square for softmax, so the solver suits up to a few
    hundred features × classes; use solver="gd" beyond. A backtracking line search
    (halving t until the objective decreases enough) makes it converge from zero on
    any data. It stops once the Newton step H⁻¹g moves no parameter by more than
    ``tol`` — the error left is then of order tol², since Newton converges
    quadratically — or by more than a few units in the last place of the largest
    parameter. Where the objective no longer changes by more than its own rounding, a
    step is kept if it halves the gradient's norm, so the fit ends where the gradient
    is at its rounding, the precision X's dtype allows, on every library: in float32
    within a few ε of the float64 optimum, relative to the largest parameter, on
    well-conditioned problems, and about 1e-5 on nearly separable ones. A
    ConvergenceWarning says when it could not (``epochs`` ran out, or nothing improved
    while a gradient component was still many times its rounding), and, with l2=0,
    when the classes are linearly separable: then no finite optimum exists.
    float16 X is solved in float32 and the parameters are stored in float16.

    solver="gd" runs full-batch gradient descent with ``learning_rate`` and stops
    once the loss has not improved by more than ``tol`` for ``n_iter_no_change``
    epochs in a row (``tol=None``: run every epoch). For both solvers ``epochs`` caps
    the iterations and ``n_iter_`` reports how many ran.
    """

    _hyperparameters = {  # noqa: RUF012 - read-only once the class exists
        "solver": HyperParameter(
            "newton",
            [Options(("newton", "gd"))],
            """'newton' takes damped Newton steps (iteratively reweighted least squares);
            'gd' runs full-batch gradient descent.""",
        ),
        "learning_rate": _GD_LEARNING_RATE.replace(default=0.1),
        "epochs": _GD_EPOCHS,
        "l2": _LINEAR_L2,
        "tol": TOL.replace(
            default=1e-6,
            doc="""With solver='newton', training stops once the Newton step moves no parameter by
            more than ``tol`` (or than the rounding of the largest parameter); solver='gd' once more
            than ``n_iter_no_change`` epochs in a row have not lowered the loss by more than
            ``tol``. None runs every iteration.""",
        ),
        "n_iter_no_change": N_ITER_NO_CHANGE.replace(
            doc="How many epochs of solver='gd' in a row without an improvement of ``tol`` "
            "end training."
        ),
        "record_every": RECORD_EVERY,
        "progress": PROGRESS,
    }
    _fitted_attributes = {**_LINEAR_ATTRIBUTES, **CLASSIFIER_ATTRIBUTES}  # noqa: RUF012

    def __init__(
        self,
        solver: str = "newton",
        learning_rate: float = 0.1,
        epochs: int = 1000,
        l2: float = 0.0,
        tol: float | None = 1e-6,
        n_iter_no_change: int = 10,
        record_every: int = 0,
        progress: bool = False,
    ) -> None:
        self.solver = solver
        self.learning_rate = learning_rate
        self.epochs = epochs
        self.l2 = l2
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.record_every = record_every
        self.progress = progress

    def _train(self, xp: Any, params: Params, X: Any, Y: Any, *args: Any, **options: Any) -> Any:
        """Either solver; then, without a penalty, a word if no finite optimum exists."""
        result = super()._train(xp, params, X, Y, *args, **options)
        if result.divergence is None and float(self.l2) == 0:
            warn_if_separable(xp, result.params, X, Y)
        return result

    def _solve_directly(self, xp: Any, params: Params, X: Any, Y: Any, loss_name: str) -> Any:
        """Newton steps (iteratively reweighted least squares); float16 in float32."""
        dtype, work = X.dtype, working_dtype(xp, X.dtype)
        result = _newton(
            xp,
            [(xp.astype(W, work), xp.astype(b, work)) for W, b in params],
            xp.astype(X, work),
            xp.astype(Y, work),
            loss_name,
            float(self.l2),
            max_iter=self.epochs,
            tol=None if self.tol is None else float(self.tol),
            record_every=self.record_every,
            progress=training_progress(self.epochs, type(self).__name__, bool(self.progress)),
        )
        if work == dtype:
            return result
        return result._replace(
            params=[(xp.astype(W, dtype), xp.astype(b, dtype)) for W, b in result.params]
        )


def _stack_parameters(xp: Any, W: Any, b: Any) -> Any:
    """θ = [W; b] as one vector, class by class: (n_outputs · (n_features + 1),)."""
    theta = xp.concat([W, xp.expand_dims(b, axis=0)], axis=0)  # (D, k)
    return xp.reshape(xp.matrix_transpose(theta), (-1,))


def _unstack_parameters(xp: Any, theta: Any, n_features: int, n_outputs: int) -> tuple[Any, Any]:
    """The inverse of ``_stack_parameters``: (W (n_features, k), b (k,))."""
    columns = xp.matrix_transpose(xp.reshape(theta, (n_outputs, n_features + 1)))
    return columns[:n_features, :], columns[n_features, :]


def _hessian(xp: Any, X1: Any, P: Any, l2: float, softmax: bool) -> Any:
    """The objective's Hessian in θ = [W; b] (class-major), shape (k·D, k·D), D = n_features + 1.

    Block (a, c) = (1/n)·X̃ᵀ diag(p_a·(δ_ac − p_c)) X̃ + δ_ac·l2·I (bias row excluded from I).
    For softmax it is singular along "add the same vector to every class column" (the
    probabilities do not change): adding diag(s) to every block, s_j the mean over classes
    of the blocks' diagonals at j, fixes those directions without changing the solution,
    because the gradient is orthogonal to them (its class columns sum to zero) and the
    matrix added maps them, and the directions orthogonal to them, to themselves. s keeps
    each feature's own scale: one number for all (the mean of the whole diagonal) would add
    a large feature's x² to a small feature's entries and, in float32, round those away.
    """
    n_samples, n_params = X1.shape
    n_outputs = P.shape[1]
    where = {"dtype": X1.dtype, "device": backends.device(X1)}
    penalty = l2 * xp.concat(
        [xp.ones((n_params - 1,), **where), xp.zeros((1,), **where)]
    )  # the intercept is not penalised
    blocks = [[None] * n_outputs for _ in range(n_outputs)]
    for a in range(n_outputs):
        for c in range(a, n_outputs):
            weight = P[:, a] * ((1.0 if a == c else 0.0) - P[:, c])  # (n,)
            block = xp.matrix_transpose(X1) @ (X1 * xp.expand_dims(weight, axis=1)) / n_samples
            if a == c:
                block = block + xp.eye(n_params, **where) * penalty
            blocks[a][c] = block
            blocks[c][a] = block
    if softmax:
        diagonals = xp.stack([xp.linalg.diagonal(blocks[a][a]) for a in range(n_outputs)])
        shift = xp.eye(n_params, **where) * xp.mean(diagonals, axis=0)  # diag(s), (D, D)
        blocks = [[block + shift for block in row] for row in blocks]
    return xp.concat([xp.concat(row, axis=1) for row in blocks], axis=0)


def _newton(
    xp: Any,
    params: Params,
    X: Any,
    Y: Any,
    loss_name: str,
    l2: float,
    max_iter: int,
    tol: float | None,
    record_every: int,
    progress: ProgressBar,
) -> TrainResult:
    """Damped Newton from ``params``: at most ``max_iter`` steps; see LogisticRegression.

    ``loss_history`` holds the objective before each step taken (as gradient descent's
    full-batch epochs do); ``history`` snapshots every ``record_every`` steps.
    """
    n_samples, n_features = X.shape
    n_outputs = Y.shape[1]
    softmax = loss_name == "softmax_cross_entropy"
    X1 = xp.concat([X, xp.ones((n_samples, 1), dtype=X.dtype, device=backends.device(X))], axis=1)
    probabilities = get_loss(loss_name).output
    history = [Snapshot(0, params)] if record_every else []
    loss_history: list[float] = []
    value, grads = layers.loss_and_gradients(xp, params, X, Y, [], loss_name, l2)
    value, gradient = float(value), _stack_parameters(xp, *grads[0])
    stop = StopReason.ITERATIONS
    for iteration in range(1, max_iter + 1):
        W, b = params[0]
        P = probabilities(xp, X @ W + b)
        hessian = _hessian(xp, X1, P, l2, softmax)
        direction = _solve(xp, hessian, xp.reshape(gradient, (-1, 1)))[:, 0]
        step_W, step_b = _unstack_parameters(xp, direction, n_features, n_outputs)
        objective = (X, Y, loss_name, l2)
        flat = _rounding(xp, X1, Y, P, params, value, l2)[0]
        accepted = _line_search(
            xp, (W, b), (step_W, step_b), direction, gradient, value, flat, objective
        )
        if accepted is None:  # neither the objective nor the gradient improves: rounding
            stop = StopReason.PRECISION
            break
        loss_history.append(value)
        params = accepted
        # The full Newton step H⁻¹g estimates the distance to the optimum; a short step taken
        # along it (t ≪ 1) says nothing about convergence.
        newton_step = float(xp.max(xp.abs(direction)))
        value, grads = layers.loss_and_gradients(xp, params, X, Y, [], loss_name, l2)
        value, gradient = float(value), _stack_parameters(xp, *grads[0])
        # A move within a few units in the last place of the largest parameter is rounding.
        resolution = (
            4
            * float(xp.finfo(X.dtype).eps)
            * float(xp.max(xp.abs(_stack_parameters(xp, *params[0]))))
        )
        converged = tol is not None and newton_step <= max(tol, resolution)
        if record_every and (iteration % record_every == 0 or converged or iteration == max_iter):
            history.append(Snapshot(iteration, params))
        progress.update(iteration, f"loss {value:.4g}")
        if converged:
            stop = StopReason.CONVERGED
            break
    if record_every and history[-1].params is not params:
        history.append(Snapshot(len(loss_history), params))
    if tol is not None:
        W, b = params[0]
        rounding = _rounding(xp, X1, Y, probabilities(xp, X @ W + b), params, value, l2)[1]
        warn_if_newton_stopped_short(xp, stop, params, X1, Y, gradient, rounding, l2, max_iter)
    return _result(params=params, loss_history=loss_history, history=history)


def _line_search(
    xp: Any,
    params: tuple[Any, Any],
    step: tuple[Any, Any],
    direction: Any,
    gradient: Any,
    value: float,
    flat: float,
    objective: tuple[Any, Any, str, float],
) -> Params | None:
    """The Newton step's length t, halved until it is good enough: the new parameters.

    Backtracking (Armijo): the full Newton step near the optimum, shorter far from it.
    Where the objective no longer changes by more than its own rounding ``flat`` (see
    ``_rounding``), it cannot tell a better point from a worse one; there the gradient
    can: a step that halves its norm is kept, as Newton's method near the optimum does.
    None when no length in 30 halvings is good enough (rounding decides).
    """
    (W, b), (step_W, step_b) = params, step
    X, Y, loss_name, l2 = objective
    slope = float(xp.vecdot(gradient, direction))  # > 0: -direction descends
    gradient_norm = float(xp.linalg.vector_norm(gradient))
    t = 1.0
    for _ in range(30):
        trial = [(W - t * step_W, b - t * step_b)]
        trial_value = float(layers.objective(xp, trial, X, Y, [], loss_name, l2))
        if trial_value < value and trial_value <= value - 1e-4 * t * slope:
            return trial
        if trial_value <= value + flat:
            _, trial_grads = layers.loss_and_gradients(xp, trial, X, Y, [], loss_name, l2)
            trial_gradient = _stack_parameters(xp, *trial_grads[0])
            if float(xp.linalg.vector_norm(trial_gradient)) <= 0.5 * gradient_norm:
                return trial
        t *= 0.5
    return None


def _rounding(
    xp: Any, X1: Any, Y: Any, P: Any, params: Params, value: float, l2: float
) -> tuple[float, Any]:
    """How much rounding moves the objective and each gradient component: (float, like θ).

    A first-order model, in X's precision ε. Each logit z_ic = Σ_j x̃_ij θ_jc is a sum
    that rounds by about ε·m_i, m_i = max_c Σ_j |x̃_ij θ_jc| (large weights on large
    features: m_i ≫ |z_i|). That moves sample i's loss by (p_i − y_i)·δz_i, and each
    δp_ic = p_ic·Σ_a p_a(δz_ic − δz_ia) by at most 2|p_ic − y_ic|·ε·m_i, beside the ε of its
    own rounding. So the objective rounds by about ε·(4|L| + mean_i m_i·Σ_c |p_ic − y_ic|),
    and the gradient (1/n)·X̃ᵀ(P − Y) + l2·W by about
    ε·((1/n)·|X̃|ᵀ(1 + 2·m·|P − Y|) + l2·|W|).
    """
    W, b = params[0]
    n_samples = X1.shape[0]
    eps = float(xp.finfo(X1.dtype).eps)
    theta = xp.concat([W, xp.expand_dims(b, axis=0)], axis=0)  # (D, k)
    m = xp.max(xp.abs(X1) @ xp.abs(theta), axis=1, keepdims=True)  # (n, 1)
    moved = m * xp.abs(P - Y)  # (n, k)
    objective = eps * (4 * abs(value) + float(xp.mean(xp.sum(moved, axis=1))))
    data = xp.matrix_transpose(xp.abs(X1)) @ (1 + 2 * moved) / n_samples  # (D, k)
    gradient = eps * (data[:-1, :] + l2 * xp.abs(W)), eps * data[-1, :]
    return objective, _stack_parameters(xp, *gradient)


def _solve(xp: Any, matrix: Any, rhs: Any) -> Any:
    """matrix⁻¹ @ rhs by ``linalg.solve``; the pseudo-inverse if the matrix is singular."""
    try:
        solution = xp.linalg.solve(matrix, rhs)
        if bool(xp.all(xp.isfinite(solution))):
            return solution
    except Exception:  # each library raises its own singular-matrix error
        pass
    return xp.linalg.pinv(matrix) @ rhs


def _result(**fields: Any) -> TrainResult:
    """A TrainResult from the fields given; the others None (a solver with no optimizer state)."""
    values: dict[str, Any] = {name: fields.get(name) for name in TrainResult._fields}
    return TrainResult(**values)
