"""Stacks of networks: M networks of one architecture trained at once, as one set of arrays.

A stack is the layer math of ``nn/layers.py`` with a leading model axis: weights
``W (M, n_in, n_out)``, biases ``b (M, n_out)``, losses ``(M,)``. It trains with the
same optimizers and the same loop as ``MLPClassifier`` / ``MLPRegressor``, so
network i of a stack is the network ``MLPClassifier`` fits alone with network i's
seed, learning rate and l2 — up to floating-point rounding.

    stack = StackedMLPClassifier(n_models=8, hidden_layers=(16, 16), seed=0).fit(X, y)
    best = stack.best_model(X_val, y_val)        # a fitted MLPClassifier

Each network has its own seed (``seed + i`` for a single ``seed``), drawing its
initial weights and then shuffling its own mini-batches, exactly as a single fit
does. A network whose loss goes non-finite is frozen at its last finite parameters
and flagged in ``diverged_``; the others train on and nothing is raised.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any, Self

from . import backends
from ._training import Objective, Snapshot, gradient_descent
from ._validation import (
    as_array,
    check_feature_names,
    check_non_negative,
    check_positive,
    check_same_namespace,
    check_X,
    feature_names,
    to_float,
)
from .base import BaseEstimator
from .nn import MLPClassifier, MLPRegressor, layers
from .nn.estimators import reject_unknown_arguments
from .nn.losses import get_loss
from .nn.optimizers import get_optimizer

Params = list[tuple[Any, Any]]


def _is_sequence(value: Any) -> bool:
    return hasattr(value, "__len__") and not isinstance(value, (str, bytes))


class _Stacked(BaseEstimator):
    """M networks of one architecture trained at once (see the classifier / regressor)."""

    _single_class: type  # MLPClassifier or MLPRegressor: what network i becomes

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        reject_unknown_arguments(cls, args, kwargs)  # names the public class, suggests a fix
        return super().__new__(cls)

    def __init__(
        self,
        n_models: int = 8,
        hidden_layers: Sequence[int] = (64, 64),
        activation: str | Sequence[str] = "tanh",
        optimizer: str = "adam",
        learning_rate: float | Sequence[float] = 0.01,
        epochs: int = 500,
        batch_size: int | None = None,
        l2: float | Sequence[float] = 0.0,
        init: str = "auto",
        seed: int | Sequence[int | None] | None = 0,
        record_every: int = 0,
        progress: bool = False,
    ) -> None:
        self.n_models = n_models
        self.hidden_layers = hidden_layers
        self.activation = activation
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.epochs = epochs
        self.batch_size = batch_size
        self.l2 = l2
        self.init = init
        self.seed = seed
        self.record_every = record_every
        self.progress = progress

    # --- hyper-parameters ----------------------------------------------------------------
    def _n_models(self) -> int:
        check_positive(self.n_models, "n_models", integer=True)
        return int(self.n_models)

    def _per_network(self, name: str) -> list[Any]:
        """Hyper-parameter ``name`` as one value per network (a scalar is repeated)."""
        n_models = self._n_models()
        value = getattr(self, name)
        if not _is_sequence(value):
            if name == "seed" and isinstance(value, numbers.Integral):
                return [int(value) + i for i in range(n_models)]
            return [value] * n_models
        values = list(value)
        if len(values) != n_models:
            raise ValueError(
                f"{name} must be one value or a sequence of one per network (n_models = "
                f"{n_models}); got a sequence of length {len(values)}"
            )
        return values

    def _single(self, i: int) -> Any:
        """An unfitted single-network estimator with network i's hyper-parameters."""
        params = {
            name: getattr(self, name)
            for name in self._param_names()
            if name not in ("n_models", "learning_rate", "l2", "seed")
        }
        params["learning_rate"] = self._per_network("learning_rate")[i]
        params["l2"] = self._per_network("l2")[i]
        params["seed"] = self._per_network("seed")[i]
        # A stack trains every network for every epoch (no tol stopping): so does network i.
        params["tol"] = None
        return self._single_class(**params)

    def _validate_hyperparameters(self) -> None:
        self._n_models()
        for i, (rate, l2) in enumerate(
            zip(self._per_network("learning_rate"), self._per_network("l2"), strict=True)
        ):
            name = "learning_rate" if _is_sequence(self.learning_rate) else None
            check_positive(rate, f"{name}[{i}]" if name else "learning_rate")
            name = "l2" if _is_sequence(self.l2) else None
            check_non_negative(l2, f"{name}[{i}]" if name else "l2")
        for i, seed in enumerate(self._per_network("seed")):
            try:
                backends.rng(seed)
            except TypeError as exc:
                where = f"seed[{i}]" if _is_sequence(self.seed) else "seed"
                raise TypeError(f"{where}: {exc}") from exc
        self._single(0)._validate_hyperparameters()

    def _fitted_marker(self) -> str:
        return "params_"

    # --- data ------------------------------------------------------------------------------
    def _check_fit_data(self, template: Any, X: Any, y: Any) -> tuple[Any, Any, Any, dict]:
        """Validate (X, y) of a stack: X (n, d) or (M, n, d); y (n, ...) or (M, n, ...).

        Returns ``(xp, X, Y, attrs)``: X floating, in its own shape; Y the encoded
        targets (n, k) shared or (M, n, k) per network; ``attrs`` the fitted target
        attributes (``classes_``, ...), found from all networks' targets together.
        """
        n_models = self._n_models()
        names = feature_names(X)
        X = as_array(X, "X")
        y = as_array(y, "y", labels=template._estimator_type == "classifier")
        per_network_X = X.ndim == 3
        if per_network_X and X.shape[0] != n_models:
            raise ValueError(
                f"X of shape (n_models, n_samples, n_features) must have n_models = {n_models} "
                f"rows on its first axis; got shape {tuple(X.shape)}"
            )
        n_samples = X.shape[-2] if X.ndim >= 2 else (X.shape[0] if X.ndim else 0)
        per_network_y = per_network_X or (
            y.ndim >= 2
            and y.shape[0] == n_models
            and y.shape[1] == n_samples
            and y.shape[0] != n_samples
        )
        if per_network_y and (y.ndim < 2 or y.shape[0] != n_models):
            raise ValueError(
                f"with X of shape {tuple(X.shape)}, y must have n_models = {n_models} rows "
                f"on its first axis, one row of targets per network; got shape {tuple(y.shape)}"
            )
        # Check the networks' data as one long training set (M·n samples).
        X_flat = X
        if per_network_X:
            xp = backends.namespace(X)
            X_flat = xp.reshape(X, (n_models * X.shape[1], X.shape[2]))
        y_flat = y
        if per_network_y:
            xp = backends.namespace(y)
            y_flat = xp.reshape(y, (n_models * y.shape[1], *y.shape[2:]))
            if not per_network_X:  # X shared: check it once per network's targets
                xp = backends.namespace(X)
                X_flat = xp.concat([X] * n_models, axis=0) if X.ndim == 2 else X
        xp, X_flat, y_flat, _ = template._check_fit_data(X_flat, y_flat)
        Y, loss_name, target_attrs = template._encode_fit_targets(xp, X_flat, y_flat)
        if per_network_y:
            Y = xp.reshape(Y, (n_models, -1, Y.shape[-1]))
        X = xp.reshape(X_flat, (n_models, -1, X_flat.shape[-1])) if per_network_X else None
        if X is None:
            X = X_flat[:n_samples, ...] if per_network_y else X_flat
        attrs = {"feature_names_in_": names, **target_attrs, "loss_name_": loss_name}
        return xp, X, Y, attrs

    # --- fitting ---------------------------------------------------------------------------
    def fit(self, X: Any, y: Any) -> Self:
        """Train the M networks on X ((n, d) shared, or (M, n, d)) and y; returns self."""
        self._validate_hyperparameters()
        n_models = self._n_models()
        template = self._single(0)
        activations = template._hidden_activations()
        xp, X, Y, attrs = self._check_fit_data(template, X, y)
        loss_name = attrs.pop("loss_name_")
        sizes = [X.shape[-1], *template._hidden_sizes(), Y.shape[-1]]

        # Network i's generator draws its weights, then shuffles its mini-batches: as alone.
        # The draws (float64, as a single fit makes them) are stacked on the host and
        # moved once per array, not once per network.
        generators = [backends.rng(seed) for seed in self._per_network("seed")]
        host = backends.asarray([[0.0]], dtype="float64")
        host_xp = backends.namespace(host)
        networks = [template._initial_params(sizes, host, g) for g in generators]
        params = [
            tuple(
                backends.asarray(host_xp.stack([net[k][j] for net in networks]), like=X)
                for j in (0, 1)
            )
            for k in range(len(sizes) - 1)
        ]
        rate = self._per_network_array(xp, "learning_rate", X)
        l2 = self._per_network_array(xp, "l2", X)

        # Diverging networks overflow on their way to being frozen: no RuntimeWarning noise.
        with backends.quiet_float_warnings():
            result = gradient_descent(
                xp,
                params,
                X,
                Y,
                Objective(activations, loss_name, l2),
                get_optimizer(self.optimizer, rate),
                epochs=self.epochs,
                batch_size=self.batch_size,
                seed=generators,
                record_every=self.record_every,
                progress=bool(self.progress),
                desc=f"{type(self).__name__} ({n_models} networks)",
                n_models=n_models,
            )

        self.n_features_in_ = X.shape[-1]
        for name, value in attrs.items():
            if name == "feature_names_in_" and value is None:
                self.__dict__.pop(name, None)
            else:
                setattr(self, name, value)
        self.activations_ = activations
        self.loss_name_ = loss_name
        self.params_ = result.params
        self.loss_history_ = result.loss_history
        self.diverged_ = result.diverged
        self.history_ = result.history
        self.n_iter_ = result.loss_history.shape[0]
        return self

    def _per_network_array(self, xp: Any, name: str, like: Any) -> Any:
        """A per-network value: a Python float when all networks share it, else an (M,) array."""
        values = [float(v) for v in self._per_network(name)]
        if all(v == values[0] for v in values):
            return values[0]
        return backends.asarray(values, like=like)

    # --- using the fitted stack --------------------------------------------------------
    def _check_input(self, X: Any) -> tuple[Any, Any]:
        """X (n, d) shared or (M, n, d) per network, checked and in the parameters' dtype."""
        self._check_fitted()
        check_feature_names(getattr(self, "feature_names_in_", None), X, type(self).__name__)
        X = as_array(X, "X")
        W0 = self.params_[0][0]
        if X.ndim == 3:
            if X.shape[0] != W0.shape[0]:
                raise ValueError(
                    f"X of shape (n_models, n_samples, n_features) must have n_models = "
                    f"{W0.shape[0]}; got shape {tuple(X.shape)}"
                )
            xp = backends.namespace(X)
            n_models, n_samples, n_features = X.shape
            xp, flat = check_X(
                xp.reshape(X, (n_models * n_samples, n_features)), n_features=self.n_features_in_
            )
            X = xp.reshape(flat, (n_models, n_samples, n_features))
        else:
            xp, X = check_X(X, n_features=self.n_features_in_)
        check_same_namespace(X, W0)
        return xp, to_float(xp, X, W0.dtype)

    def _logits(self, X: Any) -> tuple[Any, Any]:
        xp, X = self._check_input(X)
        logits, _ = layers.forward(xp, self.params_, X, self.activations_)
        return xp, logits  # (M, n, n_outputs)

    def _targets(self, xp: Any, y: Any, n_samples: int) -> Any:
        """y (n, ...) shared or (M, n, ...) per network, as an array beside the model."""
        y = as_array(y, "y")
        if y.shape[0] != n_samples and not (
            y.ndim >= 2 and y.shape[0] == self.n_models and y.shape[1] == n_samples
        ):
            raise ValueError(
                f"y must have {n_samples} samples (shape (n_samples, ...) or "
                f"(n_models, n_samples, ...)); got shape {tuple(y.shape)}"
            )
        return y

    def model(self, i: int) -> Any:
        """Network i as a fitted MLPClassifier / MLPRegressor: it predicts, saves, loads, plots.

        Its ``loss_history_`` is network i's column of the stack's, up to the epoch it
        diverged if it did.
        """
        self._check_fitted()
        n_models = self.params_[0][0].shape[0]
        if (
            isinstance(i, bool)
            or not isinstance(i, numbers.Integral)
            or not -n_models <= i < n_models
        ):
            raise IndexError(f"network index must be an integer in [0, {n_models}); got {i!r}")
        i = int(i) % n_models
        single = self._single(i)
        single.n_features_in_ = self.n_features_in_
        for name in ("classes_", "n_outputs_", "y_ndim_", "feature_names_in_"):
            if hasattr(self, name):
                setattr(single, name, getattr(self, name))
        single.activations_ = list(self.activations_)
        single.loss_name_ = self.loss_name_
        single.params_ = [(W[i, ...], b[i, ...]) for W, b in self.params_]
        # Network i's losses, up to (not including) the epoch it diverged, if it did.
        column = self.loss_history_[:, i].tolist()
        finite = [v == v and abs(v) != float("inf") for v in column]
        n_finite = finite.index(False) if False in finite else len(column)
        single.loss_history_ = column[:n_finite]
        single.history_ = [
            Snapshot(s.epoch, [(W[i, ...], b[i, ...]) for W, b in s.params]) for s in self.history_
        ]
        single.n_iter_ = len(single.loss_history_)
        return single

    def best_index(self, X: Any = None, y: Any = None) -> int:
        """The index of the best network: the highest ``score(X, y)``, or without data the
        lowest final training loss; diverged networks come last."""
        self._check_fitted()
        if X is not None:
            scores = self.score(X, y)
            ranking = [(-float(s), i) for i, s in enumerate(scores.tolist())]
        else:
            last = self.loss_history_[-1]
            ranking = [(float(v), i) for i, v in enumerate(last.tolist())]
        ranked = sorted(
            (bool(self.diverged_[i]) or value != value, value, i) for value, i in ranking
        )
        return ranked[0][2]

    def best_model(self, X: Any = None, y: Any = None) -> Any:
        """``model(best_index(X, y))``: train candidates at once, keep the best."""
        return self.model(self.best_index(X, y))


class StackedMLPClassifier(_Stacked):
    """M multi-layer perceptron classifiers of one architecture, trained at once.

    Parameters are those of ``MLPClassifier`` after ``n_models``; ``learning_rate``,
    ``l2`` and ``seed`` take one value or a sequence of one per network (a single
    ``seed`` gives network i the seed ``seed + i``). X is (n, d) shared by all
    networks or (M, n, d); y is (n,) or (M, n). Network i equals
    ``MLPClassifier(seed=seed_i, learning_rate=lr_i, l2=l2_i, ...)`` fitted alone.

    Fitted: ``params_`` [(W (M, n_in, n_out), b (M, n_out)), ...], ``classes_``
    (shared by all networks), ``loss_history_`` NumPy (epochs_run, M) (NaN after a
    network diverged), ``diverged_`` NumPy bool (M,), ``history_``, ``n_iter_``.
    """

    _single_class = MLPClassifier
    _estimator_type = "classifier"

    def predict_proba(self, X: Any) -> Any:
        """Class probabilities of each network, shape (M, n_samples, n_classes)."""
        xp, logits = self._logits(X)
        probabilities = get_loss(self.loss_name_).output(xp, logits)
        if self.classes_.shape[0] == 2:
            return xp.concat([1 - probabilities, probabilities], axis=-1)
        return probabilities

    def predict(self, X: Any) -> Any:
        """Each network's most probable class label per sample, shape (M, n_samples)."""
        xp, logits = self._logits(X)
        if self.classes_.shape[0] == 2:
            index = xp.astype(logits[..., 0] > 0, xp.int64)
        else:
            index = xp.argmax(logits, axis=-1)
        labels = xp.take(self.classes_, xp.reshape(index, (-1,)))
        return xp.reshape(labels, index.shape)

    def score(self, X: Any, y: Any) -> Any:
        """Accuracy of each network, a NumPy array (M,)."""
        predicted = self.predict(X)
        xp = backends.namespace(predicted)
        y = self._targets(xp, y, predicted.shape[-1])
        correct = xp.sum(xp.astype(predicted == y, xp.int64), axis=-1)
        return backends.to_numpy(correct) / predicted.shape[-1]


class StackedMLPRegressor(_Stacked):
    """M multi-layer perceptron regressors of one architecture, trained at once.

    As ``StackedMLPClassifier``, with ``MLPRegressor``'s loss: y is (n,) or
    (n, n_outputs) shared, or (M, n) / (M, n, n_outputs) per network.
    """

    _single_class = MLPRegressor
    _estimator_type = "regressor"

    def predict(self, X: Any) -> Any:
        """Each network's predictions: (M, n_samples), or (M, n_samples, n_outputs)."""
        _xp, prediction = self._logits(X)
        return prediction[..., 0] if self.y_ndim_ == 1 else prediction

    def score(self, X: Any, y: Any) -> Any:
        """R² of each network (averaged over outputs), a NumPy array (M,)."""
        xp, X = self._check_input(X)
        prediction, _ = layers.forward(xp, self.params_, X, self.activations_)
        Y = to_float(xp, self._targets(xp, y, prediction.shape[-2]), prediction.dtype)
        if self.y_ndim_ == 1:  # targets (n,) or (M, n): one output column
            Y = xp.expand_dims(Y, axis=-1)
        ss_res = xp.sum((Y - prediction) ** 2, axis=-2)
        ss_tot = xp.sum((Y - xp.mean(Y, axis=-2, keepdims=True)) ** 2, axis=-2)
        safe = xp.where(ss_tot > 0, ss_tot, xp.ones_like(ss_tot))
        r2 = xp.where(ss_tot > 0, 1 - ss_res / safe, xp.astype(ss_res == 0, ss_res.dtype))
        return backends.to_numpy(xp.mean(r2, axis=-1))
