"""What every model trained by backprop shares: fit, loss, gradients, targets.

A model here is a network ``params = [(W, b), ...]``. Logistic and linear
regression are networks without hidden layers, so they reuse the same layer
math, losses and training loop as the deep models.
"""

from __future__ import annotations

from typing import Any, Self

from .. import backends
from .._training import gradient_descent
from .._validation import (
    check_non_negative,
    check_positive,
    check_same_namespace,
    check_X,
    check_X_y,
    encode_labels,
    one_hot,
    to_float,
)
from ..base import BaseEstimator
from . import layers
from .losses import get_loss

Params = list[tuple[Any, Any]]


class NetworkModel(BaseEstimator):
    """Base of the estimators: subclasses say which layers, optimizer and targets they use."""

    # Set by the classifier / regressor mixins.
    _loss_for: Any

    # --- what subclasses provide -------------------------------------------------
    def _hidden_sizes(self) -> list[int]:
        return []

    def _hidden_activations(self) -> list[str]:
        return []

    def _make_optimizer(self) -> Any:
        raise NotImplementedError

    def _initial_params(self, sizes: list[int], like: Any, generator: Any) -> Params:
        raise NotImplementedError

    def _validate_hyperparameters(self) -> None:
        check_positive(self.learning_rate, "learning_rate")
        check_positive(self.epochs, "epochs", integer=True)
        check_non_negative(self.l2, "l2")
        check_non_negative(self.record_every, "record_every", integer=True)

    def _batch_size(self) -> int | None:
        return None

    def _seed(self) -> Any:
        return None

    # --- fitting -------------------------------------------------------------------
    def _fitted_marker(self) -> str:
        return "params_"

    def fit(self, X: Any, y: Any) -> Self:
        """Learn the parameters from X (n_samples, n_features) and y; returns self."""
        self._validate_hyperparameters()
        activations = self._hidden_activations()
        xp, X, y = check_X_y(X, y, multi_output=self._multi_output)
        Y, loss_name, target_attrs = self._encode_fit_targets(xp, X, y)
        sizes = [X.shape[1], *self._hidden_sizes(), Y.shape[1]]
        generator = backends.rng(self._seed())
        params = self._initial_params(sizes, X, generator)
        result = self._train(xp, params, X, Y, activations, loss_name, generator)

        # Only now, with training done, does the model change.
        self.n_features_in_ = X.shape[1]
        for name, value in target_attrs.items():
            setattr(self, name, value)
        self.activations_ = activations
        self.loss_name_ = loss_name
        self.params_ = result.params
        self.loss_history_ = result.loss_history
        self.history_ = result.history
        self.n_iter_ = len(result.loss_history)
        if result.divergence is not None:
            raise result.divergence
        return self

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
        l2 = float(self.l2)

        def loss_and_gradients(p: Params, X_batch: Any, Y_batch: Any) -> tuple[Any, Params]:
            return layers.loss_and_gradients(xp, p, X_batch, Y_batch, activations, loss_name, l2)

        return gradient_descent(
            xp,
            params,
            X,
            Y,
            loss_and_gradients,
            self._make_optimizer(),
            epochs=self.epochs,
            batch_size=self._batch_size(),
            seed=generator,
            record_every=self.record_every,
            progress=bool(getattr(self, "progress", False)),
            desc=type(self).__name__,
        )

    # --- using a fitted model ----------------------------------------------------------
    def _check_input(self, X: Any) -> tuple[Any, Any]:
        self._check_fitted()
        xp, X = check_X(X, n_features=self.n_features_in_)
        W0 = self.params_[0][0]
        check_same_namespace(X, W0)
        return xp, to_float(xp, X, W0.dtype)

    def _logits(self, X: Any) -> tuple[Any, Any]:
        xp, X = self._check_input(X)
        logits, _ = layers.forward(xp, self.params_, X, self.activations_)
        return xp, logits

    def _check_pair(self, X: Any, y: Any) -> tuple[Any, Any, Any]:
        self._check_fitted()
        xp, X, y = check_X_y(X, y, multi_output=self._multi_output)
        xp, X = self._check_input(X)
        return xp, X, self._encode_targets(xp, y, X.dtype)

    def loss(self, X: Any, y: Any) -> float:
        """The training objective on (X, y): mean data loss plus (l2/2)·Σ‖W‖²."""
        xp, X, Y = self._check_pair(X, y)
        value = layers.objective(
            xp, self.params_, X, Y, self.activations_, self.loss_name_, self.l2
        )
        return float(value)

    def gradients(self, X: Any, y: Any) -> Params:
        """What backprop computes: [(dW, db), ...] of the objective, shaped like ``params_``."""
        xp, X, Y = self._check_pair(X, y)
        _, grads = layers.loss_and_gradients(
            xp, self.params_, X, Y, self.activations_, self.loss_name_, float(self.l2)
        )
        return grads


class ClassifierMixin:
    """Targets are class labels: one-hot for softmax, a 0/1 column for two classes."""

    _multi_output = False
    _estimator_type = "classifier"

    def _encode_fit_targets(self, xp: Any, X: Any, y: Any) -> tuple[Any, str, dict[str, Any]]:
        classes, encoded = encode_labels(xp, y, X.dtype)
        if classes.shape[0] == 2:
            return encoded[:, 1:], "binary_cross_entropy", {"classes_": classes}
        return encoded, "softmax_cross_entropy", {"classes_": classes}

    def _encode_targets(self, xp: Any, y: Any, dtype: Any) -> Any:
        classes = self.classes_
        check_same_namespace(y, classes, "y")
        index = xp.searchsorted(classes, y)
        index = xp.minimum(index, xp.full_like(index, classes.shape[0] - 1))
        if not bool(xp.all(xp.take(classes, index) == y)):
            raise ValueError(
                "y holds labels the model was not fitted on; "
                f"known classes are {backends.to_numpy(classes).tolist()}"
            )
        encoded = one_hot(xp, index, classes.shape[0], dtype)
        return encoded[:, 1:] if classes.shape[0] == 2 else encoded

    def predict_proba(self, X: Any) -> Any:
        """Class probabilities, shape (n_samples, n_classes), columns in ``classes_`` order."""
        xp, logits = self._logits(X)
        probabilities = get_loss(self.loss_name_).output(xp, logits)
        if self.classes_.shape[0] == 2:
            return xp.concat([1 - probabilities, probabilities], axis=1)
        return probabilities

    def predict(self, X: Any) -> Any:
        """The most probable class label of each sample, shape (n_samples,)."""
        xp, logits = self._logits(X)
        if self.classes_.shape[0] == 2:
            index = xp.astype(logits[:, 0] > 0, xp.int64)
        else:
            index = xp.argmax(logits, axis=1)
        return xp.take(self.classes_, index)

    def score(self, X: Any, y: Any) -> float:
        """Accuracy: the fraction of samples whose label is predicted right."""
        xp, X, y = check_X_y(X, y)
        predicted = self.predict(X)
        return float(xp.mean(xp.astype(predicted == y, X.dtype)))


class RegressorMixin:
    """Targets are real values, one column or several."""

    _multi_output = True
    _estimator_type = "regressor"

    def _encode_fit_targets(self, xp: Any, X: Any, y: Any) -> tuple[Any, str, dict[str, Any]]:
        Y = self._encode_targets(xp, y, X.dtype)
        return Y, "squared_error", {"n_outputs_": Y.shape[1], "y_ndim_": y.ndim}

    def _encode_targets(self, xp: Any, y: Any, dtype: Any) -> Any:
        y = to_float(xp, y, dtype)
        return y if y.ndim == 2 else xp.reshape(y, (-1, 1))

    def predict(self, X: Any) -> Any:
        """Predicted targets: (n_samples,) if fitted on 1-D y, else (n_samples, n_outputs)."""
        _xp, prediction = self._logits(X)
        return prediction[:, 0] if self.y_ndim_ == 1 else prediction

    def score(self, X: Any, y: Any) -> float:
        """Coefficient of determination R² = 1 − SS_res / SS_tot, averaged over outputs."""
        xp, X, Y = self._check_pair(X, y)
        prediction, _ = layers.forward(xp, self.params_, X, self.activations_)
        ss_res = xp.sum((Y - prediction) ** 2, axis=0)
        ss_tot = xp.sum((Y - xp.mean(Y, axis=0)) ** 2, axis=0)
        # A constant target has SS_tot = 0: score 1 if predicted exactly, else 0 (as scikit-learn).
        safe = xp.where(ss_tot > 0, ss_tot, xp.ones_like(ss_tot))
        r2 = xp.where(ss_tot > 0, 1 - ss_res / safe, xp.astype(ss_res == 0, ss_res.dtype))
        return float(xp.mean(r2))
