"""Multi-layer perceptrons: MLPClassifier and MLPRegressor."""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from typing import Any, Self

from .._validation import (
    HOST_GENERATOR,
    Boolean,
    HyperParameter,
    Interval,
    NoneValue,
    Options,
    SequenceOf,
    WeightList,
)
from ..nn.activations import ACTIVATIONS
from ..nn.init import INITS, init_params
from ..nn.optimizers import OPTIMIZERS
from .network import (
    CLASSIFIER_ATTRIBUTES,
    EPOCHS,
    FITTED_ATTRIBUTES,
    L2,
    LEARNING_RATE,
    LOSS_FUNCTION,
    N_ITER_NO_CHANGE,
    OPTIMIZER_SETTINGS,
    OPTIMIZER_SETTINGS_MAPPING,
    PROGRESS,
    RECORD_EVERY,
    REGRESSOR_ATTRIBUTES,
    TOL,
    ClassifierMixin,
    NetworkModel,
    Params,
    RegressorMixin,
    Seed,
    Weights,
    given_weights,
    on_the_data_device,
)


def _layer_widths() -> list[Any]:
    width = Interval(int, 1, None)
    return [
        width,
        SequenceOf(width, "a sequence of positive integers", "sequence of int"),
    ]


_ACTIVATION_NAMES = Options(lambda: sorted(ACTIVATIONS))

HIDDEN_LAYERS = HyperParameter(
    (64, 64),
    _layer_widths(),
    """The width of each hidden layer, input side first: (64, 64) is two hidden layers of
    64 units; () has none (a linear or logistic model).""",
)
ACTIVATION = HyperParameter(
    "tanh",
    [
        _ACTIVATION_NAMES,
        SequenceOf(
            _ACTIVATION_NAMES,
            "a sequence of those names, one per hidden layer",
            "sequence of str",
        ),
    ],
    """The activation of the hidden layers, A = act(A_prev @ W + b): one name for all, or
    one per hidden layer. The output layer is softmax (classes), sigmoid (two classes) or
    the identity (regression), its loss computed from the logits.""",
)
OPTIMIZER = HyperParameter(
    "adam",
    [Options(lambda: tuple(OPTIMIZERS))],
    """The update rule: 'sgd' (θ ← θ − η·g), 'momentum' (v ← μ·v + g; θ ← θ − η·v),
    'adam' (bias-corrected moment estimates, Kingma & Ba), or the name of an optimizer of
    your own (a subclass of ``scratchml.nn.optimizers.Optimizer``).""",
)
BATCH_SIZE = HyperParameter(
    None,
    [Interval(int, 1, None), NoneValue()],
    """Samples per mini-batch, reshuffled every epoch by the seeded generator (the last
    batch may be smaller). None: full batch, one step per epoch.""",
)
INIT = HyperParameter(
    "auto",
    [Options(INITS), WeightList()],
    """The initial weights (biases start at zero). A name draws them: 'he' N(0, 2/fan_in),
    'lecun' N(0, 1/fan_in) (LeCun's fan-in draw; 'xavier' is its older name here and draws
    the same numbers, though Glorot's Xavier averages fan-in and fan-out), 'orthogonal'
    random orthogonal matrices times the activation's gain, 'auto' He for relu-like layers
    and LeCun otherwise. Or the weights themselves: a list of (W, b) arrays of any library, one
    pair per layer, W (n_in, n_out) and b (n_out,), which fit converts to X's library,
    device and dtype; their shapes must fit X's features, ``hidden_layers`` and the
    targets (one output column for two classes, n_classes for more, n_outputs for a
    regressor).""",
)
SEED = HyperParameter(
    0,
    [
        Interval(int, 0, None),
        HOST_GENERATOR,
        NoneValue(),
    ],
    """Seeds the host random generator that draws the initial weights, then shuffles the
    mini-batches (and the early-stopping split): one seed gives one model on every
    library. None: fresh randomness each fit.""",
)
EARLY_STOPPING = HyperParameter(
    False,
    [Boolean()],
    """Hold out a seeded ``validation_fraction`` of the data (stratified for classifiers),
    monitor its accuracy (R² for regressors) for ``tol`` stopping instead of the loss, and
    keep the parameters of the best epoch.""",
)
VALIDATION_FRACTION = HyperParameter(
    0.1,
    [Interval(float, 0, 1, "neither")],
    """The fraction of the training data held out when ``early_stopping`` is on.""",
)
WARM_START = HyperParameter(
    False,
    [Boolean()],
    """Make ``fit`` continue from the fitted parameters and optimizer state instead of a
    fresh initialisation.""",
)


class _MLP(NetworkModel):
    """A fully connected network trained by backprop (see MLPClassifier / MLPRegressor)."""

    _hyperparameters = {  # noqa: RUF012 - read-only once the class exists
        "hidden_layers": HIDDEN_LAYERS,
        "activation": ACTIVATION,
        "loss_function": LOSS_FUNCTION,
        "optimizer": OPTIMIZER,
        "learning_rate": LEARNING_RATE,
        **OPTIMIZER_SETTINGS,
        "optimizer_settings": OPTIMIZER_SETTINGS_MAPPING,
        "epochs": EPOCHS,
        "batch_size": BATCH_SIZE,
        "l2": L2,
        "init": INIT,
        "seed": SEED,
        "record_every": RECORD_EVERY,
        "progress": PROGRESS,
        "tol": TOL,
        "n_iter_no_change": N_ITER_NO_CHANGE,
        "early_stopping": EARLY_STOPPING,
        "validation_fraction": VALIDATION_FRACTION,
        "warm_start": WARM_START,
    }

    def __init__(
        self,
        hidden_layers: int | Sequence[int] = (64, 64),
        activation: str | Sequence[str] = "tanh",
        loss_function: str = "auto",
        optimizer: str = "adam",
        learning_rate: float = 0.01,
        momentum: float = 0.9,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        optimizer_settings: Mapping[str, float] | None = None,
        epochs: int = 500,
        batch_size: int | None = None,
        l2: float = 0.0,
        init: str | Weights = "auto",
        seed: Seed = 0,
        record_every: int = 0,
        progress: bool = False,
        tol: float | None = 1e-4,
        n_iter_no_change: int = 10,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        warm_start: bool = False,
    ) -> None:
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
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.warm_start = warm_start

    @on_the_data_device
    def partial_fit(self, X: Any, y: Any, classes: Any = None) -> Self:
        """One epoch on (X, y), continuing from the current parameters; returns self.

        The first call initialises the network; a classifier needs ``classes`` (every
        label that will ever appear) then, as scikit-learn's. Later calls continue
        with the optimizer's state. No early stopping and no ``tol`` here: the caller
        decides when to stop.

        Parameters
        ----------
        X : array of shape (n_samples, n_features)
            The training inputs.
        y : array of shape (n_samples,) or (n_samples, n_outputs)
            Class labels (classifier) or targets (regressor).
        classes : array-like, optional
            Every class label, on a classifier's first call.

        Returns
        -------
        self
            The model, trained one epoch further.
        """
        return self._fit(X, y, continue_training=True, one_epoch=True, classes=classes)

    def _validate_hyperparameters(self) -> None:
        super()._validate_hyperparameters()
        self._hidden_activations()  # one activation per hidden layer

    def _hidden_sizes(self) -> list[int]:
        sizes = self.hidden_layers
        if isinstance(sizes, int | numbers.Integral):
            return [int(sizes)]
        return [int(w) for w in sizes]

    def _hidden_activations(self) -> list[str]:
        n_hidden = len(self._hidden_sizes())
        if isinstance(self.activation, str):
            return [self.activation] * n_hidden
        if len(self.activation) != n_hidden:
            raise ValueError(
                f"activation must be one name or one per hidden layer ({n_hidden}); "
                f"got {self.activation!r}"
            )
        return list(self.activation)

    def _initial_params(self, sizes: list[int], like: Any, generator: Any) -> Params:
        if not isinstance(self.init, str):
            return given_weights(self.init, sizes, like)
        layer_activations = [*self._hidden_activations(), "identity"]
        return init_params(sizes, layer_activations, self.init, generator, like=like)


_MLP_ATTRIBUTES = {
    **FITTED_ATTRIBUTES,
    "validation_scores_": (
        "list of float",
        "With early_stopping: the held-out score after each epoch.",
    ),
    "best_validation_score_": (
        "float",
        "With early_stopping: the best of ``validation_scores_``.",
    ),
}


class MLPClassifier(ClassifierMixin, _MLP):
    """A multi-layer perceptron classifier: sigmoid output for two classes, softmax for more.

    Hidden layers: A = act(A_prev @ W + b). Loss: cross-entropy computed from the
    logits, plus (l2/2)·Σ‖W‖². Trained full batch or in seeded shuffled mini-batches.

    Stopping, as scikit-learn's MLPClassifier: training ends after ``epochs``, or
    earlier once more than ``n_iter_no_change`` epochs in a row have not lowered the
    training loss by at least ``tol`` (``tol=None`` runs every epoch). With
    ``early_stopping=True`` a seeded, stratified ``validation_fraction`` of the data
    is held out and its accuracy is monitored instead; the parameters of the best
    epoch are kept. ``warm_start=True`` makes ``fit`` continue from the fitted
    parameters and optimizer state; ``partial_fit`` runs one epoch at a time.
    ``init=[(W, b), ...]`` starts from given weights.
    """

    _fitted_attributes = {**_MLP_ATTRIBUTES, **CLASSIFIER_ATTRIBUTES}  # noqa: RUF012


class MLPRegressor(RegressorMixin, _MLP):
    """A multi-layer perceptron regressor: identity output, loss ½·mean((ŷ − y)²) + L2.

    y may be (n_samples,) or (n_samples, n_outputs); ``predict`` returns the same shape.
    Stopping, early stopping (held-out R², a seeded random split), ``warm_start``,
    ``partial_fit`` (which takes no classes) and ``init`` work as for MLPClassifier.
    """

    _fitted_attributes = {**_MLP_ATTRIBUTES, **REGRESSOR_ATTRIBUTES}  # noqa: RUF012
