"""Multi-layer perceptrons: MLPClassifier and MLPRegressor."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import Any, Self

from .._validation import check_choice, check_positive
from .activations import ACTIVATIONS
from .init import INITS, init_params
from .model import ClassifierMixin, NetworkModel, Params, RegressorMixin, on_the_data_device
from .optimizers import OPTIMIZERS, get_optimizer

# What scikit-learn calls the same things: the slips a scikit-learn user makes first.
SCIKIT_LEARN_NAMES = {
    "hidden_layer_sizes": "hidden_layers",
    "learning_rate_init": "learning_rate",
    "max_iter": "epochs",
    "alpha": "l2",
    "C": "l2 (C = 1 / (l2 · n_samples))",
    "random_state": "seed",
    "solver": "optimizer",
    "verbose": "progress",
    # The stacks' former name for their number of networks.
    "n_models": "n_networks",
}


def reject_unknown_arguments(cls: type, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """TypeError naming the public class, the slip, a suggestion and the valid parameters.

    Called from ``__new__``, before Python's own check in ``__init__`` (whose message
    would name the private base class that defines ``__init__``).
    """
    valid = cls._param_names()  # type: ignore[attr-defined]
    if len(args) > len(valid):
        raise TypeError(
            f"{cls.__name__} takes at most {len(valid)} arguments ({', '.join(valid)}); "
            f"got {len(args)} positional arguments"
        )
    for name in kwargs:
        if name in valid:
            continue
        suggestion = SCIKIT_LEARN_NAMES.get(name)
        if suggestion is None or suggestion.split()[0] not in valid:
            close = difflib.get_close_matches(name, valid, n=1)
            suggestion = close[0] if close else None
        hint = f"; did you mean {suggestion}?" if suggestion else "."
        raise TypeError(
            f"{cls.__name__} got an unexpected keyword argument {name!r}{hint} "
            f"Valid parameters are: {', '.join(valid)}"
        )


class _MLP(NetworkModel):
    """A fully connected network trained by backprop (see MLPClassifier / MLPRegressor)."""

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        reject_unknown_arguments(cls, args, kwargs)
        return super().__new__(cls)

    def __init__(
        self,
        hidden_layers: Sequence[int] = (64, 64),
        activation: str | Sequence[str] = "tanh",
        optimizer: str = "adam",
        learning_rate: float = 0.01,
        epochs: int = 500,
        batch_size: int | None = None,
        l2: float = 0.0,
        init: str = "auto",
        seed: int | None = 0,
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
        self.optimizer = optimizer
        self.learning_rate = learning_rate
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
        """
        return self._fit(X, y, continue_training=True, one_epoch=True, classes=classes)

    def _validate_hyperparameters(self) -> None:
        super()._validate_hyperparameters()
        self._hidden_sizes()
        self._hidden_activations()
        check_choice(self.optimizer, "optimizer", tuple(OPTIMIZERS))
        check_choice(self.init, "init", INITS)
        if self.batch_size is not None:
            check_positive(self.batch_size, "batch_size", integer=True)

    def _hidden_sizes(self) -> list[int]:
        sizes = self.hidden_layers
        if isinstance(sizes, int) and not isinstance(sizes, bool):
            sizes = (sizes,)
        if not isinstance(sizes, Sequence) or isinstance(sizes, str):
            raise ValueError(
                f"hidden_layers must be a sequence of layer widths like (64, 64); got {sizes!r}"
            )
        for width in sizes:
            check_positive(width, "every entry of hidden_layers", integer=True)
        return [int(width) for width in sizes]

    def _hidden_activations(self) -> list[str]:
        n_hidden = len(self._hidden_sizes())
        names = (
            [self.activation] * n_hidden if isinstance(self.activation, str) else self.activation
        )
        if not isinstance(names, Sequence) or len(names) != n_hidden:
            raise ValueError(
                f"activation must be one name or one per hidden layer ({n_hidden}); "
                f"got {self.activation!r}"
            )
        for name in names:
            check_choice(name, "activation", tuple(sorted(ACTIVATIONS)))
        return list(names)

    def _make_optimizer(self, like: Any = None) -> Any:
        return get_optimizer(self.optimizer, float(self.learning_rate))

    def _initial_params(self, sizes: list[int], like: Any, generator: Any) -> Params:
        layer_activations = [*self._hidden_activations(), "identity"]
        return init_params(sizes, layer_activations, self.init, generator, like=like)

    def _batch_size(self) -> int | None:
        return self.batch_size

    def _seed(self) -> Any:
        return self.seed


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

    Fitted: ``params_`` [(W (n_in, n_out), b (n_out,)), ...], ``classes_``,
    ``loss_history_`` (one float per epoch, across warm-started fits),
    ``history_`` (snapshots every ``record_every`` epochs of the last fit),
    ``n_features_in_``, ``n_iter_`` (epochs run in all), and with early stopping
    ``validation_scores_`` (one per epoch) and ``best_validation_score_``.
    """


class MLPRegressor(RegressorMixin, _MLP):
    """A multi-layer perceptron regressor: identity output, loss ½·mean((ŷ − y)²) + L2.

    y may be (n_samples,) or (n_samples, n_outputs); ``predict`` returns the same shape.
    Stopping, early stopping (held-out R², a seeded random split), ``warm_start`` and
    ``partial_fit`` work as for MLPClassifier (``partial_fit`` takes no classes).
    """
