"""Multi-layer perceptrons: MLPClassifier and MLPRegressor."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .._validation import check_choice, check_positive
from .activations import ACTIVATIONS
from .init import INITS, init_params
from .model import ClassifierMixin, NetworkModel, Params, RegressorMixin
from .optimizers import OPTIMIZERS, get_optimizer


class _MLP(NetworkModel):
    """A fully connected network trained by backprop (see MLPClassifier / MLPRegressor)."""

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

    def _make_optimizer(self) -> Any:
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

    Fitted: ``params_`` [(W (n_in, n_out), b (n_out,)), ...], ``classes_``,
    ``loss_history_`` (one float per epoch), ``history_`` (snapshots every
    ``record_every`` epochs), ``n_features_in_``, ``n_iter_``.
    """


class MLPRegressor(RegressorMixin, _MLP):
    """A multi-layer perceptron regressor: identity output, loss ½·mean((ŷ − y)²) + L2.

    y may be (n_samples,) or (n_samples, n_outputs); ``predict`` returns the same shape.
    """
