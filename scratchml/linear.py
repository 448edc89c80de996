"""Linear models: LinearRegression and LogisticRegression.

Both are networks without hidden layers (``params_ = [(W, b)]``, W of shape
(n_features, n_outputs)), so gradient descent reuses the layer math of ``nn``:
the prediction is X @ W + b, the gradient Xᵀ @ dZ + l2·W. LinearRegression's
"normal" solver instead solves the regularised normal equations directly.
"""

from __future__ import annotations

from typing import Any

from . import backends
from ._training import TrainResult
from ._validation import check_choice
from .nn.model import ClassifierMixin, NetworkModel, Params, RegressorMixin
from .nn.optimizers import SGD


class _LinearModel(NetworkModel):
    def _make_optimizer(self) -> Any:
        return SGD(float(self.learning_rate))

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
    """Least squares with optional L2: minimise ½·mean((X w + b − y)²) + (l2/2)·‖w‖².

    solver="normal" solves (X̃ᵀX̃ + l2·n·I) w = X̃ᵀỹ on centred X̃, ỹ (the intercept
    is not penalised) with ``linalg.solve``, falling back to the pseudo-inverse
    (the minimum-norm solution, as lstsq gives) when the system is singular.
    solver="gd" runs full-batch gradient descent for ``epochs`` steps.
    y may be (n_samples,) or (n_samples, n_targets).
    """

    def __init__(
        self,
        solver: str = "normal",
        learning_rate: float = 0.01,
        epochs: int = 1000,
        l2: float = 0.0,
        record_every: int = 0,
        progress: bool = False,
    ) -> None:
        self.solver = solver
        self.learning_rate = learning_rate
        self.epochs = epochs
        self.l2 = l2
        self.record_every = record_every
        self.progress = progress

    def _validate_hyperparameters(self) -> None:
        check_choice(self.solver, "solver", ("normal", "gd"))
        super()._validate_hyperparameters()

    def _train(
        self,
        xp: Any,
        params: Params,
        X: Any,
        Y: Any,
        activations: list[str],
        loss_name: str,
        generator: Any,
    ) -> Any:
        if self.solver == "gd":
            return super()._train(xp, params, X, Y, activations, loss_name, generator)
        n_samples, n_features = X.shape
        x_mean = xp.mean(X, axis=0)
        y_mean = xp.mean(Y, axis=0)
        Xc, Yc = X - x_mean, Y - y_mean
        gram = xp.matrix_transpose(Xc) @ Xc
        if self.l2:
            gram = gram + (self.l2 * n_samples) * xp.eye(
                n_features, dtype=X.dtype, device=backends.device(X)
            )
        rhs = xp.matrix_transpose(Xc) @ Yc
        W = self._solve(xp, gram, rhs)
        b = y_mean - x_mean @ W
        return TrainResult([(W, b)], [], [], None)

    @staticmethod
    def _solve(xp: Any, gram: Any, rhs: Any) -> Any:
        try:
            W = xp.linalg.solve(gram, rhs)
            if bool(xp.all(xp.isfinite(W))):
                return W
        except Exception:  # each library raises its own singular-matrix error
            pass
        return xp.linalg.pinv(gram) @ rhs


class LogisticRegression(ClassifierMixin, _LinearModel):
    """Logistic regression by full-batch gradient descent: sigmoid for two classes, softmax for more.

    Minimises mean cross-entropy (from the logits X @ W + b) + (l2/2)·‖W‖².
    ``coef_`` is (1, n_features) for two classes, (n_classes, n_features) otherwise.
    """

    def __init__(
        self,
        learning_rate: float = 0.1,
        epochs: int = 1000,
        l2: float = 0.0,
        record_every: int = 0,
        progress: bool = False,
    ) -> None:
        self.learning_rate = learning_rate
        self.epochs = epochs
        self.l2 = l2
        self.record_every = record_every
        self.progress = progress
