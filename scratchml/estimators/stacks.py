"""Stacks of networks: M networks of one architecture trained at once, as one set of arrays.

A stack is the layer math of ``nn/layers.py`` with a leading model axis: weights
``W (M, n_in, n_out)``, biases ``b (M, n_out)``, losses ``(M,)``. It trains with the
same optimizers and the same loop as ``MLPClassifier`` / ``MLPRegressor``, so
network i of a stack is the network ``MLPClassifier`` fits alone with network i's
seed, learning rate and l2 — up to floating-point rounding.

    stack = StackedMLPClassifier(n_networks=8, hidden_layers=(16, 16), seed=0).fit(X, y)
    best = stack.best_model(X_val, y_val)        # a fitted MLPClassifier

Each network has its own seed (``seed + i`` for a single ``seed``), drawing its
initial weights and then shuffling its own mini-batches, exactly as a single fit
does. A network whose loss goes non-finite is frozen at its last finite parameters
and flagged in ``diverged_``; the others train on and nothing is raised.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Self

from .. import backends, speed
from .._training import Snapshot
from .._validation import (
    HyperParameter,
    Interval,
    Options,
    WeightList,
    as_array,
    feature_names,
    is_host_targets,
    is_per_network,
    targets_beside,
)
from ..nn import layers
from ..nn.init import INITS, host_params
from .mlp import INIT, MLPClassifier, MLPRegressor
from .network import (
    CLASSIFIER_ATTRIBUTES,
    FITTED_ATTRIBUTES,
    OPTIMIZER_SETTINGS,
    REGRESSOR_ATTRIBUTES,
    ClassifierMixin,
    NetworkModel,
    RegressorMixin,
    Seed,
    Weights,
    given_weights,
)

Params = list[tuple[Any, Any]]


def _stack_table() -> dict[str, HyperParameter]:
    """A stack's hyper-parameters: ``n_networks``, then MLPClassifier's that a stack takes.

    ``learning_rate``, ``l2`` and ``seed`` may differ between networks; a stack trains
    every network every epoch and starts each fit afresh, so it has no ``tol``, early
    stopping or warm start.
    """
    single = MLPClassifier.hyperparameter_table()
    table = {
        "n_networks": HyperParameter(
            8, [Interval(int, 1, None)], "M, the number of networks trained at once."
        )
    }
    for name in (
        "hidden_layers", "activation", "loss_function", "optimizer", "learning_rate", *OPTIMIZER_SETTINGS,
        "optimizer_settings", "epochs", "batch_size", "l2", "init", "seed", "record_every",
        "progress",
    ):  # fmt: skip
        table[name] = single[name]
    for name in ("learning_rate", "l2"):
        table[name] = single[name].replace(per_network=True)
    table["seed"] = single["seed"].replace(
        per_network=True,
        doc="""Seeds network i's host random generator, which draws its initial weights, then
        shuffles its mini-batches, as a fit of network i alone would. A single integer
        gives network i the seed seed + i; None: fresh randomness each fit.""",
    )
    table["init"] = INIT.replace(
        constraints=[Options(INITS), WeightList(model_axis=True)],
        doc=INIT.doc.replace(
            "W (n_in, n_out) and b (n_out,)", "W (M, n_in, n_out) and b (M, n_out)"
        ),
    )
    return table


class _Stacked(NetworkModel):
    """M networks of one architecture trained at once (see the classifier / regressor).

    The estimator plumbing is ``NetworkModel``'s, one network's: this class overrides
    only what the model axis changes.
    """

    _single_class: type  # MLPClassifier or MLPRegressor: what network i becomes
    score: Callable[..., Any]  # the classifier's or regressor's (the mixin comes after)

    _hyperparameters = _stack_table()

    def __init__(
        self,
        n_networks: int = 8,
        hidden_layers: int | Sequence[int] = (64, 64),
        activation: str | Sequence[str] = "tanh",
        loss_function: str = "auto",
        optimizer: str = "adam",
        learning_rate: float | Sequence[float] = 0.01,
        momentum: float = 0.9,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        optimizer_settings: Mapping[str, float] | None = None,
        epochs: int = 500,
        batch_size: int | None = None,
        l2: float | Sequence[float] = 0.0,
        init: str | Weights = "auto",
        seed: Seed | Sequence[int] = 0,
        record_every: int = 0,
        progress: bool = False,
    ) -> None:
        self.n_networks = n_networks
        self.hidden_layers = hidden_layers
        self.activation = activation
        self.loss_function = loss_function
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.momentum = momentum
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.optimizer_settings = optimizer_settings
        self.epochs = epochs
        self.batch_size = batch_size
        self.l2 = l2
        self.init = init
        self.seed = seed
        self.record_every = record_every
        self.progress = progress

    # --- hyper-parameters ----------------------------------------------------------------
    def _checked_n_networks(self) -> int:
        self._hyperparameters["n_networks"].check(self.n_networks, "n_networks")
        return int(self.n_networks)

    def _per_network(self, name: str) -> list[Any]:
        """Hyper-parameter ``name`` as one value per network (a scalar is repeated)."""
        n_networks = self._checked_n_networks()
        value = getattr(self, name)
        if not is_per_network(value):
            if name == "seed" and isinstance(value, numbers.Integral):
                return [int(value) + i for i in range(n_networks)]
            return [value] * n_networks
        values = list(value)
        if len(values) != n_networks:
            raise ValueError(
                f"{name} must be one value or a sequence of one per network (n_networks = "
                f"{n_networks}); got a sequence of length {len(values)}"
            )
        return values

    def _single(self, i: int) -> Any:
        """An unfitted single-network estimator with network i's hyper-parameters."""
        params = self.get_params()
        del params["n_networks"]
        for name, parameter in self._hyperparameters.items():
            if parameter.per_network:
                params[name] = self._per_network(name)[i]
        if not isinstance(self.init, str):
            params["init"] = [(W[i, ...], b[i, ...]) for W, b in self.init]
        # A stack trains every network for every epoch (no tol stopping): so does network i.
        params["tol"] = None
        return self._single_class(**params)

    def _validate_hyperparameters(self) -> None:
        self._checked_n_networks()
        super()._validate_hyperparameters()
        for name, parameter in self._hyperparameters.items():
            if parameter.per_network:
                self._per_network(name)  # one value, or one per network
        self._single(0)._hidden_activations()  # one activation per hidden layer

    @property
    def _n_networks(self) -> int:  # type: ignore[override]
        return self._checked_n_networks()

    def _hidden_sizes(self) -> list[int]:
        return self._single(0)._hidden_sizes()

    def _hidden_activations(self) -> list[str]:
        return self._single(0)._hidden_activations()

    def _generator(self) -> Any:
        # Network i's generator draws its weights, then shuffles its mini-batches: as alone.
        return [backends.rng(seed) for seed in self._per_network("seed")]

    def _initial_params(self, sizes: list[int], like: Any, generators: Any) -> Params:
        """Each network's initial draw, as it would be alone, stacked on the model axis.

        The draws (float64, as a single fit makes them) are stacked on the host and
        moved once per array, not once per network.
        """
        if not isinstance(self.init, str):
            return given_weights(self.init, sizes, like, n_networks=self._checked_n_networks())
        # MLPClassifier's draw (``_MLP._initial_params``), without re-reading the
        # hyper-parameters for each network.
        layer_activations = [*self._hidden_activations(), "identity"]
        networks = [host_params(sizes, layer_activations, self.init, g) for g in generators]
        host = backends.get("numpy")
        return [
            tuple(
                backends.asarray(host.stack([net[k][j] for net in networks]), like=like)
                for j in (0, 1)
            )
            for k in range(len(sizes) - 1)
        ]

    def _learning_rate(self, like: Any) -> Any:
        rate = self._per_network_array(backends.namespace(like), "learning_rate", like)
        if isinstance(rate, float):
            return rate
        # Per-network rates in the widest float the device has: Adam's step size
        # η·√(1−β₂ᵗ)/(1−β₁ᵗ) is then computed as from a Python float and rounded to X's
        # dtype once (``kernels.per_network``), so a network takes the same steps beside
        # stack-mates with other rates as in a stack that shares its rate.
        xp = backends.namespace(like)
        values = [float(v) for v in self._per_network("learning_rate")]
        return backends.asarray(
            values, like=like, dtype=backends.widest_float(xp, backends.device(like))
        )

    def _l2_value(self, like: Any) -> Any:
        return self._per_network_array(backends.namespace(like), "l2", like)

    def _per_network_array(self, xp: Any, name: str, like: Any) -> Any:
        """A per-network value: a Python float when all networks share it, else an (M,) array."""
        values = [float(v) for v in self._per_network(name)]
        if all(v == values[0] for v in values):
            return values[0]
        return backends.asarray(values, like=like)

    def _record_losses(self, result: Any, continuing: bool) -> None:
        self.loss_history_ = result.loss_history  # NumPy (epochs_run, M), NaN once diverged
        self.diverged_ = result.diverged
        self.n_iter_ = result.loss_history.shape[0]

    def _forward(self, xp: Any, X: Any) -> Any:
        """The networks' outputs, with the library's speed-path kernels.

        The plain kernels fold a shared X's product over the model axis into one wide
        product; the speed paths compute each network's product with its own shapes
        where that matters (NumPy), so a network's predictions do not depend on its
        stack-mates.
        """
        logits, _ = layers.forward(xp, self.params_, X, self.activations_, speed.path_for(xp))
        return logits

    def _host_score(self, value: Any) -> Any:
        return backends.to_numpy(value)

    def _progress_desc(self) -> str:
        return f"{type(self).__name__} ({self._checked_n_networks()} networks)"

    # --- data ------------------------------------------------------------------------------
    def fit(self, X: Any, y: Any) -> Self:
        """Train the M networks on X and y at once; returns self.

        Parameters
        ----------
        X : array of shape (n_samples, n_features) or (M, n_samples, n_features)
            The training inputs, shared by the networks or one data set per network, in
            any supported library; the fitted attributes live in X's library, device and
            dtype.
        y : array of shape (n_samples, ...) or (M, n_samples, ...)
            Class labels (a classifier: (n_samples,) or (M, n_samples); a list or NumPy
            array of labels goes with X of any library) or targets (a regressor:
            (n_samples,), (n_samples, n_outputs) or with M first), shared or one per
            network.

        Returns
        -------
        self
            The fitted stack.
        """
        return super().fit(X, y)

    def _fit_data(
        self, X: Any, y: Any, continuing: bool, one_epoch: bool, classes: Any
    ) -> tuple[Any, Any, Any, str, dict[str, Any]]:
        """Check and encode (X, y) of a stack: X (n, d) or (M, n, d); y (n, ...) or (M, n, ...).

        Returns ``(xp, X, Y, loss name, attrs)``: X floating, in its own shape; Y the
        encoded targets (n, k) shared or (M, n, k) per network; ``attrs`` the fitted
        attributes (``classes_``, ...), found from all networks' targets together.
        """
        n_networks = self._checked_n_networks()
        names = feature_names(X)
        X = as_array(X, "X")
        host = is_host_targets(y, self._estimator_type == "classifier")
        y = as_array(y, "y", labels=self._estimator_type == "classifier")
        if host:  # a list of targets, or labels: beside X before they are reshaped
            y = targets_beside(X, y, host)
        per_network_X = X.ndim == 3
        if per_network_X and X.shape[0] != n_networks:
            raise ValueError(
                f"X of shape (n_networks, n_samples, n_features) must have n_networks = {n_networks} "
                f"rows on its first axis; got shape {tuple(X.shape)}"
            )
        n_samples = X.shape[-2] if X.ndim >= 2 else (X.shape[0] if X.ndim else 0)
        per_network_y = per_network_X or (
            y.ndim >= 2
            and y.shape[0] == n_networks
            and y.shape[1] == n_samples
            and y.shape[0] != n_samples
        )
        if per_network_y and (y.ndim < 2 or y.shape[0] != n_networks):
            raise ValueError(
                f"with X of shape {tuple(X.shape)}, y must have n_networks = {n_networks} rows "
                f"on its first axis, one row of targets per network; got shape {tuple(y.shape)}"
            )
        # Check the networks' data as one long training set (M·n samples).
        X_flat = X
        if per_network_X:
            xp = backends.namespace(X)
            X_flat = xp.reshape(X, (n_networks * X.shape[1], X.shape[2]))
        y_flat = y
        if per_network_y:
            xp = backends.namespace(y)
            y_flat = xp.reshape(y, (n_networks * y.shape[1], *y.shape[2:]))
            if not per_network_X:  # X shared: check it once per network's targets
                xp = backends.namespace(X)
                X_flat = xp.concat([X] * n_networks, axis=0) if X.ndim == 2 else X
        xp, X_flat, y_flat, _ = self._check_fit_data(X_flat, y_flat)
        Y, loss_name, target_attrs = self._encode_fit_targets(xp, X_flat, y_flat)
        if per_network_y:
            Y = xp.reshape(Y, (n_networks, -1, Y.shape[-1]))
        X = xp.reshape(X_flat, (n_networks, -1, X_flat.shape[-1])) if per_network_X else None
        if X is None:
            X = X_flat[:n_samples, ...] if per_network_y else X_flat
        return xp, X, Y, loss_name, {"feature_names_in_": names, **target_attrs}

    # --- using the fitted stack --------------------------------------------------------
    def _check_X(self, X: Any) -> tuple[Any, Any]:
        """X (n, d) shared or (M, n, d) per network, with the fitted number of features."""
        X = as_array(X, "X")
        if X.ndim != 3:
            return super()._check_X(X)
        n_networks = self.params_[0][0].shape[0]
        if X.shape[0] != n_networks:
            raise ValueError(
                f"X of shape (n_networks, n_samples, n_features) must have n_networks = "
                f"{n_networks}; got shape {tuple(X.shape)}"
            )
        xp = backends.namespace(X)
        n_networks, n_samples, n_features = X.shape
        xp, flat = super()._check_X(xp.reshape(X, (n_networks * n_samples, n_features)))
        return xp, xp.reshape(flat, (n_networks, n_samples, n_features))

    def _check_targets(self, X: Any, y: Any) -> Any:
        """y (n, ...) shared or (M, n, ...) per network, beside X and in its library."""
        host = is_host_targets(y, self._estimator_type == "classifier")
        y = as_array(y, "y", labels=self._estimator_type == "classifier")
        n_samples = X.shape[-2]
        if y.shape[0] != n_samples and not (
            y.ndim >= 2 and y.shape[0] == self.params_[0][0].shape[0] and y.shape[1] == n_samples
        ):
            raise ValueError(
                f"y must have {n_samples} samples (shape (n_samples, ...) or "
                f"(n_networks, n_samples, ...)); got shape {tuple(y.shape)}"
            )
        return targets_beside(X, y, host)  # TypeError if y is of another array library

    def _check_pair(self, X: Any, y: Any, method: str = "score") -> tuple[Any, Any, Any]:
        """Validate (X, y) for the fitted stack; y encoded as in training, shared or per network."""
        xp, X = self._check_input(X, method)
        y = self._check_targets(X, y)
        one_network_ndim = 1 if self._estimator_type == "classifier" else self.y_ndim_
        if y.ndim <= one_network_ndim:
            return xp, X, self._encode_targets(xp, y, X.dtype)
        flat = backends.namespace(y).reshape(y, (-1, *y.shape[2:]))  # y: host strings too
        Y = self._encode_targets(xp, flat, X.dtype)
        return xp, X, xp.reshape(Y, (y.shape[0], y.shape[1], Y.shape[-1]))

    def model(self, i: int) -> Any:
        """Network i as a fitted MLPClassifier / MLPRegressor: it predicts, saves, loads, plots.

        Its ``loss_history_`` is network i's column of the stack's, up to the epoch it
        diverged if it did.

        Parameters
        ----------
        i : int
            The network's index in [0, M); negative indices count from the end.

        Returns
        -------
        MLPClassifier or MLPRegressor
            A fitted single network whose ``params_`` are views of the stack's: W
            (n_in, n_out) and b (n_out,), in the stack's namespace and on its device.

        Raises
        ------
        IndexError
            If ``i`` is not an integer in [-M, M).
        """
        self._check_fitted()
        n_networks = self.params_[0][0].shape[0]
        if (
            isinstance(i, bool)
            or not isinstance(i, numbers.Integral)
            or not -n_networks <= i < n_networks
        ):
            raise IndexError(f"network index must be an integer in [0, {n_networks}); got {i!r}")
        i = int(i) % n_networks
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
        lowest final training loss; diverged networks come last.

        Parameters
        ----------
        X : array of shape (n_samples, n_features) or (M, n_samples, n_features), optional
            Data to score each network on, shared or one set per network; None ranks
            by the final training loss.
        y : array of shape (n_samples, ...) or (M, n_samples, ...), optional
            The labels or targets of X, as ``score`` takes them; needed with X.

        Returns
        -------
        int
            The index in [0, M) of the best network (the lowest index among ties).
        """
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
        """``model(best_index(X, y))``: train candidates at once, keep the best.

        Parameters
        ----------
        X : array of shape (n_samples, n_features) or (M, n_samples, n_features), optional
            Data to score each network on, shared or one set per network; None ranks
            by the final training loss.
        y : array of shape (n_samples, ...) or (M, n_samples, ...), optional
            The labels or targets of X, as ``score`` takes them; needed with X.

        Returns
        -------
        MLPClassifier or MLPRegressor
            The best network as a fitted single estimator (see ``model``).
        """
        return self.model(self.best_index(X, y))


_STACK_ATTRIBUTES = {
    **FITTED_ATTRIBUTES,
    "params_": (
        "list of (W, b)",
        "The learned parameters of the M networks, one (W, b) per layer: W (M, n_in, n_out), "
        "b (M, n_out), in the library, device and dtype of the training X.",
    ),
    "loss_history_": (
        "numpy.ndarray of shape (epochs_run, M)",
        "Each network's training objective per epoch; NaN after a network diverged.",
    ),
    "diverged_": (
        "numpy.ndarray of bool, shape (M,)",
        "The networks whose loss went non-finite; each keeps its last finite parameters.",
    ),
    "n_iter_": ("int", "The number of epochs run."),
}


class StackedMLPClassifier(_Stacked, ClassifierMixin):
    """M multi-layer perceptron classifiers of one architecture, trained at once.

    Parameters are those of ``MLPClassifier`` after ``n_networks``; ``learning_rate``,
    ``l2`` and ``seed`` take one value or a sequence of one per network (a single
    ``seed`` gives network i the seed ``seed + i``). X is (n, d) shared by all
    networks or (M, n, d); y is (n,) or (M, n). Network i equals
    ``MLPClassifier(seed=seed_i, learning_rate=lr_i, l2=l2_i, ...)`` fitted alone.
    ``predict`` gives (M, n) labels, ``predict_proba`` (M, n, n_classes), ``score``
    and ``loss`` a NumPy array (M,).
    """

    _single_class = MLPClassifier
    _fitted_attributes = {**_STACK_ATTRIBUTES, **CLASSIFIER_ATTRIBUTES}  # noqa: RUF012


class StackedMLPRegressor(_Stacked, RegressorMixin):
    """M multi-layer perceptron regressors of one architecture, trained at once.

    As ``StackedMLPClassifier``, with ``MLPRegressor``'s loss: y is (n,) or
    (n, n_outputs) shared, or (M, n) / (M, n, n_outputs) per network. ``score`` is
    each network's R², a NumPy array (M,).
    """

    _single_class = MLPRegressor
    _fitted_attributes = {**_STACK_ATTRIBUTES, **REGRESSOR_ATTRIBUTES}  # noqa: RUF012
