"""What every model trained by backprop shares: fit, loss, gradients, targets.

A model here is a network ``params = [(W, b), ...]``. Logistic and linear
regression are networks without hidden layers, so they reuse the same layer
math, losses and training loop as the deep models.
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Callable, Sequence
from types import MappingProxyType, SimpleNamespace
from typing import TYPE_CHECKING, Any, Self, Union

from .. import backends, metrics
from .._training import (
    TrainingObjective,
    continued_generators,
    generator_state,
    gradient_descent,
)
from .._validation import (
    Boolean,
    HyperParameter,
    Interval,
    MappingOf,
    NoneValue,
    Options,
    check_feature_names,
    check_initial_weights,
    check_same_namespace,
    check_X,
    check_X_y,
    check_y,
    decode_labels,
    encode_labels,
    feature_names,
    is_host_targets,
    label_classes,
    label_indices,
    one_hot,
    targets_beside,
    to_float,
)
from ..exceptions import ConvergenceWarning, sklearn_flavour
from ..nn import layers
from ..nn.losses import LOSSES, get_loss
from ..nn.optimizers import BUILT_IN_SETTINGS, OPTIMIZERS, get_optimizer
from .base import BaseEstimator

if TYPE_CHECKING:
    import numpy

Params = list[tuple[Any, Any]]
# The types of two hyper-parameters, as the estimators' signatures show them: initial
# weights (one (W, b) pair of arrays per layer) and a seed (or a NumPy generator).
Weights = Sequence[tuple[Any, Any]]
Seed = Union[int, "numpy.random.Generator", None]


def optimizer_hyperparameter(name: str) -> HyperParameter:
    """An optimizer's setting as an estimator hyper-parameter, from the optimizer's declaration.

    Parameters
    ----------
    name : str
        The setting's name (``momentum``, ``beta_1``, ...), the same on the estimator.

    Returns
    -------
    HyperParameter
        Its default, range and meaning as the optimizer declares them, saying which
        optimizers use it.
    """
    users = [key for key, cls in OPTIMIZERS.items() if name in cls.settings]
    setting = OPTIMIZERS[users[0]].settings[name]
    return HyperParameter(
        setting.default,
        [setting.constraint()],
        f"{setting.doc} Used by optimizer={' or '.join(map(repr, users))}; the others ignore it.",
    )


# The built-in optimizers' settings are estimator parameters of their own, with
# scikit-learn's names; any optimizer's settings can also be given in optimizer_settings.
OPTIMIZER_SETTINGS = {name: optimizer_hyperparameter(name) for name in BUILT_IN_SETTINGS}
OPTIMIZER_SETTINGS_MAPPING = HyperParameter(
    None,
    [NoneValue(), MappingOf(str, "a dict of setting names to numbers", "dict of str to float")],
    """Settings of the optimizer beyond those above, by name: for an optimizer of your own,
    e.g. ``{'rho': 0.95}``. Each must be one the chosen optimizer declares; the ones that
    are parameters of their own (``momentum``, ``beta_1``, ...) are set there.""",
)


# --- the hyper-parameters every model trained by gradient descent shares ---------------
# Each estimator's table (``_hyperparameters``) lists these with its own defaults where
# they differ; see ``scratchml.estimators.base``.
LEARNING_RATE = HyperParameter(
    0.01,
    [Interval(float, 0, None, "neither")],
    """The step size η: each update moves the parameters by η times the optimizer's
    direction (for SGD, θ ← θ − η·g with g the gradient of the objective).""",
)
EPOCHS = HyperParameter(
    500,
    [Interval(int, 1, None)],
    """The largest number of passes over the training data (``tol`` may stop earlier).""",
)
L2 = HyperParameter(
    0.0,
    [Interval(float, 0, None)],
    """The L2 penalty: the objective adds (l2/2)·Σ‖W‖² over the weights, the biases not
    penalised, so each weight gradient gains l2·W. The data loss being a mean, this is
    scikit-learn's MLP ``alpha`` divided by the samples per step: l2 = alpha / n_samples
    for full batches, alpha / batch_size for mini-batches.""",
)
TOL = HyperParameter(
    1e-4,
    [Interval(float, 0, None), NoneValue()],
    """Training stops once more than ``n_iter_no_change`` epochs in a row have not lowered
    the loss by at least ``tol`` (with early stopping: raised the validation score by
    ``tol``), as scikit-learn's. None runs every epoch.""",
)
N_ITER_NO_CHANGE = HyperParameter(
    10,
    [Interval(int, 1, None)],
    """How many epochs in a row without an improvement of ``tol`` end training.""",
)
RECORD_EVERY = HyperParameter(
    0,
    [Interval(int, 0, None)],
    """Keep a snapshot of the parameters in ``history_`` every this many epochs (and the
    first and last), for animations; 0 keeps none.""",
)
LOSS_FUNCTION = HyperParameter(
    "auto",
    [Options(lambda: ("auto", *LOSSES))],
    """The loss the output layer is trained with, computed from the logits: 'auto' is the
    cross-entropy for a classifier (sigmoid for two classes, softmax for more) and half
    the squared error for a regressor; or a name of ``scratchml.nn.losses.LOSSES``,
    your own included. A classifier's loss other than 'binary_cross_entropy' sees one
    one-hot column per class.""",
)
PROGRESS = HyperParameter(
    False,
    [Boolean()],
    """Show a progress bar with the epoch and the loss while training.""",
)

# --- fitted attributes, as the class docstrings list them ------------------------------
PARAMS_ATTRIBUTE = (
    "list of (W, b)",
    "The learned parameters, one (W, b) per layer: W (n_in, n_out), b (n_out,), in the "
    "library, device and dtype of the training X.",
)
FITTED_ATTRIBUTES = {
    "params_": PARAMS_ATTRIBUTE,
    "loss_history_": (
        "list of float",
        "The training objective (data loss plus penalty) before each epoch's step (or solver "
        "step), so its first entry is the objective at the initial weights; with mini-batches, "
        "the mean over the epoch's batches, each taken before its own step (scikit-learn's "
        "``loss_curve_``). One per epoch run: tol may stop training before ``epochs``. "
        "Continuing a fit (warm_start, partial_fit) appends to it.",
    ),
    "history_": (
        "list of Snapshot",
        "(epoch, params) snapshots every ``record_every`` epochs of the last fit; empty when "
        "``record_every`` is 0.",
    ),
    "n_iter_": ("int", "The number of epochs (or solver iterations) run in all."),
    "n_features_in_": ("int", "The number of features of the training X."),
    "feature_names_in_": (
        "ndarray of str",
        "The column names of a training DataFrame whose column names are all strings; "
        "absent otherwise.",
    ),
    "activations_": ("list of str", "The activation of each hidden layer."),
    "loss_name_": ("str", "The loss the output layer is trained with."),
}
CLASSIFIER_ATTRIBUTES = {
    "classes_": (
        "array",
        "The class labels, sorted; ``predict`` returns these. Numeric labels live in the "
        "training X's library and device, string labels in a NumPy array.",
    ),
}
REGRESSOR_ATTRIBUTES = {
    "n_outputs_": ("int", "The number of targets (columns of y)."),
    "y_ndim_": ("int", "1 if y was (n_samples,), 2 if (n_samples, n_outputs)."),
}


def on_the_data_device(method: Any) -> Any:
    """Run ``method(self, X, ...)`` with X's device current (CuPy makes arrays there).

    Every array a fit or a prediction makes must land on its input's device; CuPy's
    creation functions ignore ``device=`` and use the current device instead.

    Parameters
    ----------
    method : callable
        A method taking X as its first argument after ``self``.

    Returns
    -------
    callable
        The method, wrapped: it runs inside ``backends.on_device_of(X)``.
    """

    @functools.wraps(method)
    def on_device(self: Any, X: Any, *args: Any, **kwargs: Any) -> Any:
        with backends.on_device_of(X):
            return method(self, X, *args, **kwargs)

    return on_device


class NetworkModel(BaseEstimator):
    """Base of the estimators, one network or a stack of M: fit, loss, gradients, targets.

    Subclasses say which layers, optimizer and targets they use. A stack
    (``scratchml.stacks``) is this same plumbing with a model axis: it overrides
    only what the axis changes (its data's shapes, one generator and one initial draw
    per network, per-network learning rates and penalties, scores as arrays). Each
    subclass writes its ``__init__`` out, as its table declares it.
    """

    # A stack of networks sets this: arrays carry a leading model axis.
    _n_networks: int | None = None

    # The loss of the output layer: the MLPs and stacks take it as a parameter; the linear
    # models train with the loss their targets call for.
    loss_function: str = "auto"

    # The hyper-parameters every subclass's __init__ stores (each declares its others).
    learning_rate: Any
    epochs: int
    l2: Any
    record_every: int

    # Set by the classifier / regressor mixins (annotations only: a stack lists its mixin
    # after this class, so a definition here would shadow the mixin's).
    _estimator_type: str
    _multi_output: bool
    _encode_fit_targets: Callable[..., tuple[Any, str, dict[str, Any]]]
    _encode_targets: Callable[[Any, Any, Any], Any]

    # What fit learns (the fitted attributes of the class docstring).
    params_: Params
    loss_history_: Any
    n_iter_: int
    activations_: list[str]
    loss_name_: str
    classes_: Any
    y_ndim_: int

    # How a model trains where it takes no parameter for it: a linear model by plain
    # gradient descent, full batch; a stack runs every epoch and starts each fit afresh.
    _FIXED_SETTINGS = MappingProxyType(
        {
            "optimizer": "sgd",
            "batch_size": None,
            "seed": None,
            "tol": None,
            "n_iter_no_change": N_ITER_NO_CHANGE.default,
            "early_stopping": False,
            "validation_fraction": 0.1,
            "warm_start": False,
            "progress": False,
        }
    )

    def _settings(self) -> SimpleNamespace:
        """Every training setting: the hyper-parameters, and the fixed ones of ``_FIXED_SETTINGS``."""
        return SimpleNamespace(**{**self._FIXED_SETTINGS, **self.get_params()})

    # --- what subclasses provide -------------------------------------------------
    def _hidden_sizes(self) -> list[int]:
        return []

    def _hidden_activations(self) -> list[str]:
        return []

    def _make_optimizer(self, like: Any) -> Any:
        """The optimizer of ``optimizer`` with the learning rate and its own settings."""
        name = self._settings().optimizer
        return get_optimizer(name, self._learning_rate(like), **self._optimizer_options(name))

    def _optimizer_options(self, name: str) -> dict[str, Any]:
        """The optimizer's own settings (momentum, Adam's betas, ...) from the parameters.

        One value for a whole stack; plain SGD, which a linear model uses, has none.
        """
        declared = OPTIMIZERS[name].settings
        params = self.get_params()
        extra = dict(params.get("optimizer_settings") or {})
        for setting in extra:
            if setting in params:
                raise ValueError(
                    f"optimizer_settings sets {setting!r}, which is a parameter of its own: "
                    f"pass {setting}={extra[setting]!r} instead"
                )
            if setting not in declared:
                raise ValueError(
                    f"optimizer_settings sets {setting!r}, which optimizer {name!r} does not "
                    f"have; its settings are: {', '.join(declared) or 'none'}"
                )
        return {
            setting: float(extra[setting] if setting in extra else params[setting])
            for setting in declared
            if setting in extra or setting in params
        }

    def _learning_rate(self, like: Any) -> Any:
        """The learning rate as the optimizer takes it (a stack: one per network)."""
        return float(self.learning_rate)

    def _initial_params(self, sizes: list[int], like: Any, generator: Any) -> Params:
        raise NotImplementedError

    def _validate_hyperparameters(self) -> None:
        """Check each parameter against its table entry (subclasses add checks across them)."""
        self._validate_params()

    # --- fitting -------------------------------------------------------------------
    def _fitted_marker(self) -> str:
        return "params_"

    @on_the_data_device
    def fit(self, X: Any, y: Any) -> Self:
        """Learn the parameters from X (n_samples, n_features) and y; returns self.

        With ``warm_start=True`` and a fitted model, training continues from
        ``params_`` and the optimizer's state instead of a fresh initialisation.

        Parameters
        ----------
        X : array of shape (n_samples, n_features)
            The training inputs, in any supported library (NumPy, PyTorch, JAX, CuPy,
            array-api-strict); the fitted attributes live in X's library, device and
            dtype.
        y : array of shape (n_samples,) or (n_samples, n_outputs)
            Class labels (a classifier: in X's library, or a list or NumPy array of labels
            with X of any library) or targets (a regressor: in X's library, or a list).

        Returns
        -------
        self
            The fitted estimator.
        """
        return self._fit(X, y, continue_training=bool(self._settings().warm_start))

    def _fit(
        self,
        X: Any,
        y: Any,
        continue_training: bool,
        one_epoch: bool = False,
        classes: Any = None,
    ) -> Self:
        """fit, warm-started fit and partial_fit (``one_epoch``: one pass, no early stopping)."""
        self._validate_hyperparameters()
        settings = self._settings()
        activations = self._hidden_activations()
        continuing = continue_training and hasattr(self, "params_")
        xp, X, Y, loss_name, fitted_attrs = self._fit_data(X, y, continuing, one_epoch, classes)
        sizes = [X.shape[-1], *self._hidden_sizes(), Y.shape[-1]]
        generator, params, state = self._starting_point(sizes, X, continuing)
        validation = None
        if settings.early_stopping and not one_epoch:
            X, Y, validation = self._hold_out_validation(xp, X, Y, activations, generator)
        # A diverging run overflows on the way to its DivergenceError: no RuntimeWarning noise.
        with backends.quiet_float_warnings():
            result = self._train(
                xp,
                params,
                X,
                Y,
                activations,
                loss_name,
                generator,
                state=state,
                epochs=1 if one_epoch else self.epochs,
                validation=validation,
                stop_early=not one_epoch,
            )

        # Only now, with training done, does the model change.
        self.n_features_in_ = X.shape[-1]
        self._set_fitted_attributes(fitted_attrs)
        self.activations_ = activations
        self.loss_name_ = loss_name
        self.params_ = result.params
        self._record_losses(result, continuing)
        self.history_ = result.history
        self._shuffle_state_ = generator_state(generator)  # where a continued fit goes on
        if result.state is not None:
            self._optimizer_state_ = (self._optimizer_name(), result.state)
        if validation is not None:
            self.validation_scores_ = list(result.validation_scores)
            self.best_validation_score_ = max(self.validation_scores_, default=None)
        else:
            self.__dict__.pop("validation_scores_", None)
            self.__dict__.pop("best_validation_score_", None)
        if result.divergence is not None:
            raise result.divergence
        self._warn_if_stalled_above_start(result.loss_history, validation is not None)
        return self

    def _starting_point(
        self, sizes: list[int], like: Any, continuing: bool
    ) -> tuple[Any, Any, Any]:
        """``(generator, params, optimizer state)`` a fit starts from: the fitted ones or fresh."""
        if not continuing:
            generator = self._generator()
            return generator, self._initial_params(sizes, like, generator), None
        self._check_same_architecture(sizes)
        generator = self._continued_generator()
        state = getattr(self, "_optimizer_state_", None)
        if state is not None and state[0] != self._optimizer_name():
            state = None  # the optimizer was changed: start its state afresh
        return generator, self.params_, None if state is None else state[1]

    def _warn_if_stalled_above_start(self, losses: list[float], monitored_validation: bool) -> None:
        """A run that ``tol`` stopped with the loss above its first value has not learned.

        Without this, a learning rate so large that the loss grows (but stays finite)
        would stop quietly after ``n_iter_no_change`` epochs and look like a fitted model.
        """
        stopped_early = len(losses) < self.epochs and not monitored_validation
        if stopped_early and len(losses) > 1 and losses[-1] > losses[0]:
            settings = self._settings()
            warnings.warn(
                f"{type(self).__name__} stopped after {len(losses)} epochs because the loss "
                f"did not improve by tol={settings.tol} for n_iter_no_change="
                f"{settings.n_iter_no_change} epochs, and it ended above its first value "
                f"({losses[0]:.4g} -> {losses[-1]:.4g}): the model has not learned. "
                "Lower learning_rate or scale the features.",
                sklearn_flavour(ConvergenceWarning),
                stacklevel=3,
            )

    def _fit_data(
        self, X: Any, y: Any, continuing: bool, one_epoch: bool, classes: Any
    ) -> tuple[Any, Any, Any, str, dict[str, Any]]:
        """Check and encode the training data once: ``(xp, X, Y, loss name, fitted attrs)``."""
        xp, X, y, input_attrs = self._check_fit_data(X, y)
        if continuing:
            X = self._check_continuation(xp, X)
        Y, loss_name, target_attrs = self._encode_fit_targets(
            xp, X, y, **self._classes_for(xp, y, continuing, one_epoch, classes)
        )
        return xp, X, Y, loss_name, {**input_attrs, **target_attrs}

    def _generator(self) -> Any:
        """The host random generator that draws the initial weights, then the mini-batches."""
        return backends.rng(self._settings().seed)

    def _continued_generator(self) -> Any:
        """The generator a continued fit shuffles with: the last fit's, where it stopped.

        So the continued epochs are shuffled as those of one longer fit. A model without
        that state (loaded from a file) draws from ``seed + n_iter_``, so that its
        mini-batches are at least not shuffled as the first fit's were.
        """
        saved = getattr(self, "_shuffle_state_", None)
        if saved is not None:
            return continued_generators(saved)
        seed = self._settings().seed
        return backends.rng(None if seed is None else seed + self.n_iter_)

    def _record_losses(self, result: Any, continuing: bool) -> None:
        """``loss_history_`` (one float per epoch, across warm-started fits) and ``n_iter_``."""
        previous = self.loss_history_ if continuing else []
        self.loss_history_ = [*previous, *result.loss_history]
        self.n_iter_ = (self.n_iter_ if continuing else 0) + len(result.loss_history)

    def _host_score(self, value: Any) -> Any:
        """A score computed on the device, for the caller: a float (a stack: NumPy (M,))."""
        return float(value)

    def _optimizer_name(self) -> str:
        return str(self._settings().optimizer)

    def _check_continuation(self, xp: Any, X: Any) -> Any:
        """X for continuing a fitted model: same features, same library, the model's dtype."""
        if X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {X.shape[1]} features, but {type(self).__name__} is expecting "
                f"{self.n_features_in_} features as input; continuing training (warm_start, "
                "partial_fit) needs the same features"
            )
        W0 = self.params_[0][0]
        check_same_namespace(X, W0, method=f"{type(self).__name__}.fit()")
        return to_float(xp, X, W0.dtype)

    def _check_same_architecture(self, sizes: list[int]) -> None:
        fitted = [self.params_[0][0].shape[0], *(W.shape[1] for W, _ in self.params_)]
        if fitted != sizes:
            raise ValueError(
                f"cannot continue training: the fitted layer sizes are {fitted}, the "
                f"hyper-parameters now give {sizes}; fit with warm_start=False to start afresh"
            )

    def _classes_for(
        self, xp: Any, y: Any, continuing: bool, one_epoch: bool, classes: Any
    ) -> dict[str, Any]:
        """The fixed label set to encode y against, as keyword arguments (regressors: none)."""
        if self._estimator_type != "classifier":
            if classes is not None:
                raise ValueError("classes is for classifiers; a regressor takes no classes")
            return {}
        if not continuing:
            if one_epoch and classes is None:
                raise ValueError(
                    f"{type(self).__name__}.partial_fit needs classes=... (every class label "
                    "that will ever appear) on its first call"
                )
            if classes is None:
                return {}
            if not backends.is_array(classes):
                classes = backends.asarray(list(classes), like=y)
            return {"classes": label_classes(xp, classes)}  # sorted, distinct
        known = backends.to_numpy(self.classes_).tolist()
        given = None
        if classes is not None:
            given = (
                backends.to_numpy(classes).tolist() if backends.is_array(classes) else list(classes)
            )
        if given is not None and sorted(given) != known:
            raise ValueError(
                f"classes must stay those of the first partial_fit call ({known}); got {given}"
            )
        return {"classes": self.classes_}

    def _hold_out_validation(
        self, xp: Any, X: Any, Y: Any, activations: list[str], generator: Any
    ) -> tuple[Any, Any, Any]:
        """Set aside ``validation_fraction`` of the samples for early stopping.

        The split is seeded (the model's seed); for classifiers it is stratified: each
        class gives round(fraction · its count) samples, at least one, and keeps at least
        one for training. Returns ``(X_train, Y_train, validation)``, where
        ``validation(params)`` is the held-out accuracy (classifiers) or R² (regressors)
        as a 0-d array.
        """
        n_samples = X.shape[0]
        fraction = float(self._settings().validation_fraction)
        order = backends.permutation(generator, n_samples, like=X)
        if self._estimator_type == "classifier":
            one_hot_Y = Y if Y.shape[1] > 1 else xp.concat([1 - Y, Y], axis=1)
            label = xp.argmax(one_hot_Y, axis=1)
            index = backends.default_index(xp)
            counts = xp.astype(xp.sum(one_hot_Y, axis=0), index)
            if int(xp.min(counts)) < 2:
                raise ValueError(
                    "early_stopping holds out samples of every class, so each class needs "
                    f"at least 2 samples; the smallest class has {int(xp.min(counts))}"
                )
            # Shuffle, then group by class (stable: each class stays shuffled).
            order = xp.take(order, xp.argsort(xp.take(label, order), stable=True))
            wanted = xp.astype(xp.round(fraction * xp.astype(counts, X.dtype)), index)
            wanted = xp.minimum(xp.maximum(wanted, xp.ones_like(counts)), counts - 1)
            ordered_label = xp.take(label, order)
            first_of_class = xp.cumulative_sum(counts) - counts
            rank = xp.arange(n_samples, device=backends.device(X)) - xp.take(
                first_of_class, ordered_label
            )
            held_out = xp.astype(rank < xp.take(wanted, ordered_label), xp.int32)
            order = xp.take(order, xp.argsort(held_out, descending=True, stable=True))
            n_valid = int(xp.sum(wanted))
        else:
            n_valid = max(2, math.ceil(fraction * n_samples))
            if n_samples - n_valid < 1:
                raise ValueError(
                    f"early_stopping needs at least 3 samples (2 held out); got {n_samples}"
                )
        valid_index, train_index = order[:n_valid], xp.sort(order[n_valid:])
        X_valid, Y_valid = xp.take(X, valid_index, axis=0), xp.take(Y, valid_index, axis=0)

        if self._estimator_type == "classifier":
            truth = _class_index(xp, Y_valid)

            def validation(params: Params) -> Any:
                logits, _ = layers.forward(xp, params, X_valid, activations)
                return metrics.accuracy(xp, _class_index(xp, logits, logits=True), truth)

        else:

            def validation(params: Params) -> Any:
                prediction, _ = layers.forward(xp, params, X_valid, activations)
                return metrics.r2_score(xp, Y_valid, prediction)

        return xp.take(X, train_index, axis=0), xp.take(Y, train_index, axis=0), validation

    def _train(
        self,
        xp: Any,
        params: Params,
        X: Any,
        Y: Any,
        activations: list[str],
        loss_name: str,
        generator: Any,
        *,
        state: Any = None,
        epochs: int | None = None,
        validation: Any = None,
        stop_early: bool = True,
    ) -> Any:
        settings = self._settings()
        return gradient_descent(
            xp,
            params,
            X,
            Y,
            TrainingObjective(activations, loss_name, self._l2_value(X)),
            self._make_optimizer(X),
            epochs=self.epochs if epochs is None else epochs,
            batch_size=settings.batch_size,
            seed=generator,
            record_every=self.record_every,
            progress=bool(settings.progress),
            desc=self._progress_desc(),
            state=state,
            tol=settings.tol if stop_early else None,
            n_iter_no_change=settings.n_iter_no_change,
            validation=validation,
            n_networks=self._n_networks,
        )

    def _progress_desc(self) -> str:
        return type(self).__name__

    def _l2_value(self, like: Any) -> Any:
        """The L2 penalty as the math takes it (a stack: one per network)."""
        return float(self.l2)

    # --- checking input ----------------------------------------------------------------
    def _check_fit_data(self, X: Any, y: Any) -> tuple[Any, Any, Any, dict[str, Any]]:
        """Validate a training pair: ``(xp, X, y, input_attrs)``.

        ``input_attrs`` (the DataFrame's ``feature_names_in_``, or None) is set with
        the other fitted attributes once training has succeeded.
        """
        names = feature_names(X)
        xp, X, y = check_X_y(
            X,
            y,
            multi_output=self._multi_output,
            labels=self._estimator_type == "classifier",
            estimator=type(self).__name__,
        )
        return xp, X, y, {"feature_names_in_": names}

    def _set_fitted_attributes(self, attributes: dict[str, Any]) -> None:
        """Set fitted attributes; a None ``feature_names_in_`` removes an old one (as scikit-learn)."""
        for name, value in attributes.items():
            if name == "feature_names_in_" and value is None:
                self.__dict__.pop(name, None)
            else:
                setattr(self, name, value)

    def _check_input(self, X: Any, method: str = "predict") -> tuple[Any, Any]:
        """Validate X for a fitted model: ``(xp, X)``, X in the parameters' dtype.

        ``method`` is named when X comes from another array library than the model.
        """
        self._check_fitted()
        check_feature_names(getattr(self, "feature_names_in_", None), X, type(self).__name__)
        xp, X = self._check_X(X)
        W0 = self.params_[0][0]
        check_same_namespace(X, W0, method=f"{type(self).__name__}.{method}()")
        return xp, to_float(xp, X, W0.dtype)

    def _check_X(self, X: Any) -> tuple[Any, Any]:
        """X (n_samples, n_features) with the fitted number of features (a stack: or (M, n, d))."""
        return check_X(X, n_features=self.n_features_in_, estimator=type(self).__name__)

    def _logits(self, X: Any, method: str = "predict") -> tuple[Any, Any]:
        xp, X = self._check_input(X, method)
        return xp, self._forward(xp, X)

    def _forward(self, xp: Any, X: Any) -> Any:
        """The fitted network's output layer (logits or predictions) on checked X."""
        logits, _ = layers.forward(xp, self.params_, X, self.activations_)
        return logits

    def _check_pair(self, X: Any, y: Any, method: str = "score") -> tuple[Any, Any, Any]:
        """Validate (X, y) for a fitted model; y encoded as in training (one-hot for classes)."""
        xp, X = self._check_input(X, method)
        y = self._check_targets(X, y)
        return xp, X, self._encode_targets(xp, y, X.dtype)

    def _check_targets(self, X: Any, y: Any) -> Any:
        """Validate y for the checked input X (same samples, same library)."""
        labels = self._estimator_type == "classifier"
        host = is_host_targets(y, labels)
        y = check_y(
            y,
            X.shape[0],
            multi_output=self._multi_output,
            labels=labels,
            estimator=type(self).__name__,
        )
        return targets_beside(X, y, host)  # TypeError if y is of another array library

    @on_the_data_device
    def loss(self, X: Any, y: Any) -> float:
        """The training objective on (X, y): mean data loss plus (l2/2)·Σ‖W‖².

        Parameters
        ----------
        X : array of shape (n_samples, n_features)
            The inputs, in any supported library (NumPy, PyTorch, JAX, CuPy,
            array-api-strict). A stack also takes (M, n_samples, n_features): one data
            set per network.
        y : array of shape (n_samples,) or (n_samples, n_outputs)
            Class labels or targets, as ``fit`` takes them (a stack: shared or per network).

        Returns
        -------
        float or numpy.ndarray
            The objective, a Python float; a stack gives one per network, a NumPy array
            of shape (M,).
        """
        xp, X, Y = self._check_pair(X, y, "loss")
        l2 = self._l2_value(X)
        value = layers.objective(xp, self.params_, X, Y, self.activations_, self.loss_name_, l2)
        return self._host_score(value)

    @on_the_data_device
    def gradients(self, X: Any, y: Any) -> Params:
        """What backprop computes: [(dW, db), ...] of the objective, shaped like ``params_``.

        Parameters
        ----------
        X : array of shape (n_samples, n_features)
            The inputs, in any supported library (NumPy, PyTorch, JAX, CuPy,
            array-api-strict). A stack also takes (M, n_samples, n_features): one data
            set per network.
        y : array of shape (n_samples,) or (n_samples, n_outputs)
            Class labels or targets, as ``fit`` takes them (a stack: shared or per network).

        Returns
        -------
        list of (dW, db)
            The gradient of ``loss(X, y)`` with respect to each layer's W (n_in, n_out) and
            b (n_out,) (a stack: (M, n_in, n_out) and (M, n_out)), in X's namespace and
            on its device.
        """
        xp, X, Y = self._check_pair(X, y, "gradients")
        _, grads = layers.loss_and_gradients(
            xp, self.params_, X, Y, self.activations_, self.loss_name_, self._l2_value(X)
        )
        return grads


def given_weights(init: Any, sizes: list[int], like: Any, n_networks: int | None = None) -> Params:
    """``init=[(W, b), ...]``: checked against the layer ``sizes``, in ``like``'s library,
    device and dtype (arrays of another library cross through one host copy).

    Parameters
    ----------
    init : sequence of (W, b)
        One pair per layer: W (n_in, n_out) and b (n_out,), or with a model axis
        (n_networks, n_in, n_out) and (n_networks, n_out).
    sizes : list of int
        The layer widths, inputs first: layer i maps ``sizes[i]`` to ``sizes[i + 1]``.
    like : array
        An array of the training data: the weights take its namespace, device and dtype.
    n_networks : int, optional
        The number of networks of a stack; None for one network.

    Returns
    -------
    list of (W, b)
        The weights as arrays of ``like``'s namespace.
    """
    check_initial_weights(init, sizes, n_networks)
    return [
        (
            backends.asarray(W, like=like, dtype=like.dtype),
            backends.asarray(b, like=like, dtype=like.dtype),
        )
        for W, b in init
    ]


def _class_index(xp: Any, Z: Any, logits: bool = False) -> Any:
    """The class index of each sample, from one-hot targets / a 0-1 column, or from logits."""
    if Z.shape[-1] == 1:
        index = backends.default_index(xp)
        return xp.astype(Z[..., 0] > (0 if logits else 0.5), index)
    return xp.argmax(Z, axis=-1)


class ClassifierMixin:
    """Targets are class labels: one-hot for softmax, a 0/1 column for two classes.

    Two classes train one logit z = P(class 1) on the logit scale (a sigmoid output
    and the binary cross-entropy), not two softmax columns carrying the same
    information. Labels may be anything NumPy can sort (strings, booleans,
    integers, integral floats, objects) given as host data (a list, a NumPy array,
    pandas), with X of any library, and numbers in X's own library. They are encoded
    once, in ``fit``: the model math sees class indices only, ``classes_`` keeps the
    labels and ``predict`` returns them — in X's library for numeric labels, in NumPy
    for strings (no array library holds them).
    """

    _multi_output = False
    _estimator_type = "classifier"

    # What the mixin uses of the estimator it is mixed into (NetworkModel).
    loss_function: str
    classes_: Any
    loss_name_: str
    params_: Params
    activations_: list[str]
    _logits: Callable[..., tuple[Any, Any]]
    _forward: Callable[[Any, Any], Any]
    _check_input: Callable[..., tuple[Any, Any]]
    _check_targets: Callable[[Any, Any], Any]
    _host_score: Callable[[Any], Any]

    def _encode_fit_targets(
        self, xp: Any, X: Any, y: Any, classes: Any = None
    ) -> tuple[Any, str, dict[str, Any]]:
        classes, encoded = encode_labels(xp, y, X.dtype, classes=classes, like=X)
        n_classes = classes.shape[0]
        loss = self.loss_function
        if loss == "auto":
            loss = "binary_cross_entropy" if n_classes == 2 else "softmax_cross_entropy"
        if loss == "binary_cross_entropy":
            if n_classes != 2:
                raise ValueError(
                    f"loss_function='binary_cross_entropy' needs two classes; y has {n_classes}: "
                    "use loss_function='auto' or 'softmax_cross_entropy'"
                )
            return encoded[:, 1:], loss, {"classes_": classes}
        # Any other loss sees one column per class (one-hot targets).
        return encoded, loss, {"classes_": classes}

    def _encode_targets(self, xp: Any, y: Any, dtype: Any) -> Any:
        classes = self.classes_
        index = label_indices(xp, classes, y, like=self.params_[0][0])  # the data's device
        encoded = one_hot(xp, index, classes.shape[0], dtype)
        return encoded[:, 1:] if self.loss_name_ == "binary_cross_entropy" else encoded

    @on_the_data_device
    def predict_proba(self, X: Any) -> Any:
        """Class probabilities, shape (n_samples, n_classes), columns in ``classes_`` order.

        A stack gives (M, n_samples, n_classes).

        Parameters
        ----------
        X : array of shape (n_samples, n_features)
            The inputs, in any supported library (NumPy, PyTorch, JAX, CuPy,
            array-api-strict). A stack also takes (M, n_samples, n_features): one data
            set per network.

        Returns
        -------
        array of shape (n_samples, n_classes)
            Each row sums to 1; in X's namespace and on its device, in the model's dtype.
            A stack gives (M, n_samples, n_classes).
        """
        xp, logits = self._logits(X, "predict_proba")
        probabilities = get_loss(self.loss_name_).output(xp, logits)
        if probabilities.shape[-1] == 1:  # two classes on one logit
            return xp.concat([1 - probabilities, probabilities], axis=-1)
        return probabilities

    def _predict_labels(self, xp: Any, X: Any) -> Any:
        """The most probable class label of each sample (X checked)."""
        logits = self._forward(xp, X)
        index = _class_index(xp, logits, logits=True)
        labels = decode_labels(xp, self.classes_, xp.reshape(index, (-1,)))
        if index.ndim == 1:
            return labels
        return backends.namespace(labels).reshape(labels, tuple(index.shape))

    @on_the_data_device
    def predict(self, X: Any) -> Any:
        """The most probable class label of each sample, shape (n_samples,), from ``classes_``.

        A stack gives (M, n_samples).

        Parameters
        ----------
        X : array of shape (n_samples, n_features)
            The inputs, in any supported library (NumPy, PyTorch, JAX, CuPy,
            array-api-strict). A stack also takes (M, n_samples, n_features): one data
            set per network.

        Returns
        -------
        array of shape (n_samples,)
            Labels from ``classes_``, in their dtype, in X's namespace and on its device.
            A stack gives (M, n_samples).
        """
        xp, X = self._check_input(X)
        return self._predict_labels(xp, X)

    @on_the_data_device
    def score(self, X: Any, y: Any) -> Any:
        """Accuracy: the fraction of samples whose label is predicted right (exact: count / n).

        A float; a stack gives one per network, a NumPy array (M,).

        Parameters
        ----------
        X : array of shape (n_samples, n_features)
            The inputs, in any supported library (NumPy, PyTorch, JAX, CuPy,
            array-api-strict). A stack also takes (M, n_samples, n_features): one data
            set per network.
        y : array of shape (n_samples,)
            The true labels. A stack also takes (M, n_samples), one per network.

        Returns
        -------
        float or numpy.ndarray
            The accuracy in [0, 1], a Python float; a stack gives a NumPy array (M,).
        """
        xp, X = self._check_input(X, "score")
        y = self._check_targets(X, y)
        labels = self._predict_labels(xp, X)  # host NumPy for string labels
        return self._host_score(metrics.accuracy(backends.namespace(labels), labels, y))


class RegressorMixin:
    """Targets are real values, one column or several."""

    _multi_output = True
    _estimator_type = "regressor"

    # What the mixin uses of the estimator it is mixed into (NetworkModel).
    loss_function: str
    params_: Params
    activations_: list[str]
    y_ndim_: int
    _logits: Callable[..., tuple[Any, Any]]
    _forward: Callable[[Any, Any], Any]
    _check_pair: Callable[..., tuple[Any, Any, Any]]
    _host_score: Callable[[Any], Any]

    def _encode_fit_targets(self, xp: Any, X: Any, y: Any) -> tuple[Any, str, dict[str, Any]]:
        Y = self._encode_targets(xp, y, X.dtype)
        loss = self.loss_function
        loss = "squared_error" if loss == "auto" else loss
        return Y, loss, {"n_outputs_": Y.shape[-1], "y_ndim_": y.ndim}

    def _encode_targets(self, xp: Any, y: Any, dtype: Any) -> Any:
        y = to_float(xp, y, dtype)
        return y if y.ndim == 2 else xp.reshape(y, (-1, 1))

    @on_the_data_device
    def predict(self, X: Any) -> Any:
        """Predicted targets: (n_samples,) if fitted on 1-D y, else (n_samples, n_outputs).

        A stack gives (M, n_samples) or (M, n_samples, n_outputs).

        Parameters
        ----------
        X : array of shape (n_samples, n_features)
            The inputs, in any supported library (NumPy, PyTorch, JAX, CuPy,
            array-api-strict). A stack also takes (M, n_samples, n_features): one data
            set per network.

        Returns
        -------
        array of shape (n_samples,) or (n_samples, n_outputs)
            The predictions, in X's namespace and on its device, in the model's dtype;
            1-D when the training y was. A stack gives (M, n_samples) or
            (M, n_samples, n_outputs).
        """
        _xp, prediction = self._logits(X)
        return prediction[..., 0] if self.y_ndim_ == 1 else prediction

    @on_the_data_device
    def score(self, X: Any, y: Any) -> Any:
        """Coefficient of determination R² = 1 − SS_res / SS_tot, averaged over outputs.

        A float (in float64 where the device has it); a stack gives one per network,
        a NumPy array (M,).

        Parameters
        ----------
        X : array of shape (n_samples, n_features)
            The inputs, in any supported library (NumPy, PyTorch, JAX, CuPy,
            array-api-strict). A stack also takes (M, n_samples, n_features): one data
            set per network.
        y : array of shape (n_samples,) or (n_samples, n_outputs)
            The true targets, shaped as in ``fit``. A stack also takes them per network,
            (M, n_samples) or (M, n_samples, n_outputs).

        Returns
        -------
        float or numpy.ndarray
            R² (1 is perfect; it can be negative), a Python float; a stack gives a NumPy
            array (M,).
        """
        xp, X, Y = self._check_pair(X, y)
        prediction = self._forward(xp, X)
        return self._host_score(metrics.r2_score(xp, Y, prediction))
