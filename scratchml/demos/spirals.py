"""Two and three spirals separated by networks whose hidden layers are 2 units wide.

Because every hidden layer is 2-D, each step the network takes is a map of the plane:
the GIF morphs the plane layer by layer until a line (two arms) or three linear
regions (three arms) separate the classes.

How the networks get there. From the usual Gaussian init a deep stack of 2-wide tanh
layers collapses the plane onto a curve and stalls, so the weights start random
orthogonal times tanh's gain 5/3 (``init="orthogonal"``); Adam, mini-batches of 50,
a little L2. Even so, one network alone finds a separating map only some of the time
(measured with the settings below, NumPy float32, 20 seeds): about half the runs
separate two arms of a full turn and about nine in ten separate three arms of three
quarters of a turn; the rest stall at 75–95%. Three arms of a full turn were out of
reach (0–3% of 30 runs), which is why the three-arm demo winds its arms 0.75 turns.

So each demo trains 8 candidate networks from different initialisations *at once*, as
one stack (the layer math's leading model axis; the stack costs little more than one
network), and keeps the one with the lowest training loss: random restarts, run in
parallel. Every seed checked separates its spirals (the README lists them).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .. import backends, data, viz
from .._training import Progress
from .._validation import check_X_y
from ..exceptions import DivergenceError
from ..nn import MLPClassifier, layers
from ..nn.init import init_params
from ..nn.optimizers import get_optimizer
from ._common import DemoResult, prepare


@dataclass(frozen=True)
class SpiralConfig:
    """The data and the training of one spiral demo."""

    turns: float  # how far each arm winds (1.0 = a full turn)
    depth: int  # hidden layers, each 2 tanh units wide
    learning_rate: float  # Adam
    l2: float  # (l2/2)·Σ‖W‖² in the loss
    epochs: int
    batch_size: int
    candidates: int  # networks trained at once; the lowest final loss is kept
    n_samples: int = 1000
    noise: float = 0.03
    frames_per_step: int = 6  # GIF frames per linear map / shift / nonlinearity
    hold_frames: int = 12  # GIF frames held on the input and on the output


CONFIGS = {
    2: SpiralConfig(
        turns=1.0,
        depth=10,
        learning_rate=0.003,
        l2=1e-4,
        epochs=2000,
        batch_size=50,
        candidates=8,
    ),
    3: SpiralConfig(
        turns=0.75,
        depth=8,
        learning_rate=0.005,
        l2=1e-4,
        epochs=2000,
        batch_size=50,
        candidates=8,
    ),
}
# The test suite's version: a few seconds, same code paths.
SMALL = {
    arms: SpiralConfig(
        turns=config.turns,
        depth=3,
        learning_rate=0.01,
        l2=config.l2,
        epochs=20,
        batch_size=50,
        candidates=2,
        n_samples=150,
        frames_per_step=2,
        hold_frames=2,
    )
    for arms, config in CONFIGS.items()
}


@dataclass
class Candidates:
    """What training the stack produced: the kept network and how every candidate did."""

    model: MLPClassifier  # fitted, holding the kept candidate
    best: int  # its index in the stack
    loss_histories: np.ndarray  # (epochs, candidates), per-epoch mean training loss
    final_losses: np.ndarray  # (candidates,), training objective at the end
    accuracies: np.ndarray  # (candidates,), training accuracy of each


def fit_candidates(X: Any, y: Any, config: SpiralConfig, seed: int, progress: bool) -> Candidates:
    """Train ``config.candidates`` 2-wide tanh classifiers at once and keep the best.

    All candidates see the same shuffled mini-batches; each has its own orthogonal
    initialisation and its own Adam state. The stack's parameters are
    ``W: (candidates, n_in, n_out)``, its losses ``(candidates,)``: the same layer math
    and optimizer as ``MLPClassifier.fit``, with a leading model axis. The kept
    candidate becomes a fitted ``MLPClassifier`` (its ``loss_history_`` included), so
    it predicts, scores, saves and draws like any other.
    """
    model = MLPClassifier(
        hidden_layers=(2,) * config.depth,
        activation="tanh",
        optimizer="adam",
        learning_rate=config.learning_rate,
        l2=config.l2,
        epochs=config.epochs,
        batch_size=config.batch_size,
        init="orthogonal",
        seed=seed,
    )
    model._validate_hyperparameters()
    xp, X, y = check_X_y(X, y)
    Y, loss_name, target_attrs = model._encode_fit_targets(xp, X, y)
    activations = model._hidden_activations()
    sizes = [X.shape[1], *model._hidden_sizes(), Y.shape[1]]
    generator = backends.rng(seed)
    params = init_params(
        sizes,
        [*activations, "identity"],
        "orthogonal",
        generator,
        like=X,
        n_models=config.candidates,
    )
    optimizer = get_optimizer("adam", config.learning_rate)
    state = optimizer.init(xp, params)
    n_samples = X.shape[0]
    bar = Progress(config.epochs, f"{config.candidates} networks at once", progress)
    epoch_losses = []
    for epoch in range(1, config.epochs + 1):
        order = backends.permutation(generator, n_samples, like=X)
        X_shuffled, Y_shuffled = xp.take(X, order, axis=0), xp.take(Y, order, axis=0)
        total = 0.0
        for start in range(0, n_samples, config.batch_size):
            stop = min(start + config.batch_size, n_samples)
            X_batch, Y_batch = X_shuffled[start:stop, ...], Y_shuffled[start:stop, ...]
            batch_loss, grads = layers.loss_and_gradients(
                xp, params, X_batch, Y_batch, activations, loss_name, config.l2
            )  # batch_loss: (candidates,)
            total = total + batch_loss * (stop - start)
            params, state = optimizer.step(xp, params, grads, state)
        epoch_losses.append(total / n_samples)  # (candidates,), stays on the device
        if progress:
            bar.update(epoch, float(xp.min(epoch_losses[-1])))

    final_loss = backends.to_numpy(
        layers.objective(xp, params, X, Y, activations, loss_name, config.l2)
    )
    if not np.isfinite(final_loss).any():
        raise DivergenceError(
            f"every one of the {config.candidates} candidate networks diverged; "
            "lower the learning rate",
            epoch=config.epochs,
            loss=float("nan"),
        )
    best = int(np.nanargmin(np.where(np.isfinite(final_loss), final_loss, np.nan)))
    logits, _ = layers.forward(xp, params, X, activations)
    accuracies = _accuracies(backends.to_numpy(logits), backends.to_numpy(Y))
    loss_histories = backends.to_numpy(xp.stack(epoch_losses)).astype(np.float64)

    # The kept candidate becomes the estimator's fitted state, exactly as fit() sets it.
    model.n_features_in_ = X.shape[1]
    for name, value in target_attrs.items():
        setattr(model, name, value)
    model.activations_ = activations
    model.loss_name_ = loss_name
    model.params_ = [(W[best, ...], b[best, ...]) for W, b in params]
    model.loss_history_ = [float(value) for value in loss_histories[:, best]]
    model.history_ = []
    model.n_iter_ = config.epochs
    return Candidates(model, best, loss_histories, final_loss, accuracies)


def _accuracies(logits: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """Training accuracy of each stacked network: logits (M, n, k), targets (n, k)."""
    if Y.shape[1] == 1:  # binary: one logit, class 1 where it is positive
        return ((logits[..., 0] > 0) == (Y[:, 0] > 0.5)).mean(axis=-1)
    return (logits.argmax(axis=-1) == Y.argmax(axis=-1)).mean(axis=-1)


def _run(
    arms: int, backend: str, out: str | Path, size: str, seed: int, progress: bool
) -> DemoResult:
    name = {2: "two_spirals", 3: "three_spirals"}[arms]
    folder = prepare(out, size)
    config = (SMALL if size == "small" else CONFIGS)[arms]
    X, y = data.spirals(
        config.n_samples,
        arms=arms,
        turns=config.turns,
        noise=config.noise,
        seed=seed,
        backend=backend,
    )
    fitted = fit_candidates(X, y, config, seed, progress)
    model = fitted.model
    accuracy = model.score(X, y)
    turns = f"{config.turns:g} turn" + ("" if config.turns == 1 else "s")
    gif = viz.layer_transformation_animation(
        model.params_,
        model.activations_,
        X,
        y,
        folder / f"{name}.gif",
        frames_per_step=config.frames_per_step,
        hold_frames=config.hold_frames,
        dpi=72,
        title=f"{arms} spirals ({turns}), {config.depth} hidden layers of 2 tanh units",
    )
    fig = viz.new_figure(10, 4.6)
    ax_boundary, ax_loss = fig.subplots(1, 2, width_ratios=[1.15, 1])
    viz.decision_boundary(
        model,
        X,
        y,
        ax=ax_boundary,
        resolution=120 if size == "small" else 300,
        title=f"{arms} spirals ({turns}): accuracy {accuracy:.1%}",
    )
    _candidate_losses(ax_loss, fitted)
    png = viz.save_figure(fig, folder / f"{name}_boundary.png")
    metrics = {
        "training_accuracy": accuracy,
        "candidates": float(config.candidates),
        "candidates_separating": float(np.sum(fitted.accuracies >= (0.97 if arms == 2 else 0.95))),
    }
    return DemoResult(name, [gif, png], metrics, model)


def _candidate_losses(ax: Any, fitted: Candidates) -> None:
    """The kept network's loss curve, with the other candidates' faintly behind it."""
    viz.loss_curve(
        fitted.model.loss_history_,
        ax=ax,
        title=f"Training loss: the kept network (blue) and the other "
        f"{fitted.loss_histories.shape[1] - 1} candidates (grey)",
    )
    ax.set_ylabel("cross-entropy + L2 penalty")
    epochs = np.arange(1, fitted.loss_histories.shape[0] + 1)
    others = np.delete(fitted.loss_histories, fitted.best, axis=1)
    ax.plot(epochs, others, color="0.6", linewidth=0.7, alpha=0.6, zorder=1)


def run_two(
    backend: str = "numpy",
    out: str | Path = "demos/results",
    size: str = "default",
    seed: int = 0,
    progress: bool = True,
) -> DemoResult:
    """Two spirals, a 2-wide tanh network: transformation GIF and decision-boundary PNG."""
    return _run(2, backend, out, size, seed, progress)


def run_three(
    backend: str = "numpy",
    out: str | Path = "demos/results",
    size: str = "default",
    seed: int = 0,
    progress: bool = True,
) -> DemoResult:
    """Three spirals, a 2-wide tanh network with a softmax output: GIF and PNG."""
    return _run(3, backend, out, size, seed, progress)
