"""Two and three spirals separated by networks whose hidden layers are 2 units wide.

Because every hidden layer is 2-D, each step the network takes is a map of the plane:
the GIF morphs the plane layer by layer until a line (two arms) or three linear
regions (three arms) separate the classes.

How the networks get there. From the usual Gaussian init a deep stack of 2-wide tanh
layers collapses the plane onto a curve and stalls, so the weights start random
orthogonal times tanh's gain 5/3 (``init="orthogonal"``); Adam, mini-batches of 50,
a little L2. Even so, one network alone finds a separating map only some of the time
(measured with the settings below, NumPy float32, 20 seeds): about half the runs
separate two arms of a full turn and about nine in ten reach 95% on three arms of
three quarters of a turn; the rest stall at 75–95%. Three arms of a full turn were out of
reach (0–3% of 30 runs), which is why the three-arm demo winds its arms 0.75 turns.

So each demo trains 8 candidate networks from different initialisations *at once*, as
one ``StackedMLPClassifier`` (the layer math's leading model axis; the stack costs
little more than one network), and keeps the one with the lowest training loss:
random restarts, run in parallel. The demo reports how many candidates separate the
classes, and how often the kept network's loss spiked (rose above twice its lowest
value so far): Adam's steps grow relative to the gradient once the loss is small, and
the curves show it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .. import data, viz
from ..estimators.mlp import MLPClassifier
from ..estimators.stacks import StackedMLPClassifier
from ..exceptions import DivergenceError
from ._common import DEFAULT_OUT, DemoResult, documented, prepare


@dataclass(frozen=True)
class SpiralConfig:
    """The data and the training of one spiral demo.

    Parameters
    ----------
    turns : float
        How far each arm winds (1.0 = a full turn).
    depth : int
        Hidden layers, each 2 tanh units wide.
    learning_rate : float
        Adam's step size.
    l2 : float
        The penalty (l2/2)·Σ‖W‖² in the loss.
    epochs, batch_size : int
        Training length and mini-batch size.
    candidates : int
        Networks trained at once; the lowest final loss is kept.
    n_samples : int, default 1000
        Training points.
    noise : float, default 0.03
        The spirals' noise.
    frames_per_step : int, default 6
        GIF frames per linear map, shift and nonlinearity.
    hold_frames : int, default 12
        GIF frames held on the input and on the output.
    """

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
# The fast version (``--small``, and the test suite's): fewer points, frames and epochs,
# shallower networks and arms of half a turn, which a shallow 2-wide network separates
# within a few hundred mini-batch steps (a full turn needs the deep network and
# thousands of epochs; a short run of that is an untrained picture).
SMALL = {
    2: SpiralConfig(
        turns=0.5,
        depth=3,
        learning_rate=0.03,
        l2=1e-4,
        epochs=150,
        batch_size=50,
        candidates=4,
        n_samples=150,
        frames_per_step=2,
        hold_frames=2,
    ),
    3: SpiralConfig(
        turns=0.5,
        depth=4,
        learning_rate=0.02,
        l2=1e-4,
        epochs=200,
        batch_size=50,
        candidates=4,
        n_samples=200,
        frames_per_step=2,
        hold_frames=2,
    ),
}


@dataclass
class Candidates:
    """What training the stack produced: the kept network and how every candidate did.

    Parameters
    ----------
    model : MLPClassifier
        Fitted, holding the kept candidate.
    best : int
        Its index in the stack.
    loss_histories : numpy.ndarray (epochs, candidates)
        Per-epoch mean training loss of every candidate.
    final_losses : numpy.ndarray (candidates,)
        Training objective of each at the end.
    accuracies : numpy.ndarray (candidates,)
        Training accuracy of each.
    """

    model: MLPClassifier  # fitted, holding the kept candidate
    best: int  # its index in the stack
    loss_histories: np.ndarray  # (epochs, candidates), per-epoch mean training loss
    final_losses: np.ndarray  # (candidates,), training objective at the end
    accuracies: np.ndarray  # (candidates,), training accuracy of each


def fit_candidates(X: Any, y: Any, config: SpiralConfig, seed: int, progress: bool) -> Candidates:
    """Train ``config.candidates`` 2-wide tanh classifiers at once and keep the best.

    The candidates are one ``StackedMLPClassifier``: parameters ``W: (candidates, n_in,
    n_out)``, the same layer math, optimizer and training loop as ``MLPClassifier.fit``
    with a leading model axis. Candidate i has its own seed (``candidates · seed + i``),
    so its own orthogonal initialisation and its own mini-batch order, exactly as if
    fitted alone. The kept candidate, the one with the lowest final training objective,
    is a fitted ``MLPClassifier`` (its ``loss_history_`` included): it predicts, scores,
    saves and draws like any other.

    Parameters
    ----------
    X, y : array
        The training spirals, on the backend to train on.
    config : SpiralConfig
        The network and its training.
    seed : int
        The demo's seed.
    progress : bool
        Show a progress line.

    Returns
    -------
    Candidates
        The kept network and every candidate's losses and accuracy.
    """
    stack = StackedMLPClassifier(
        n_networks=config.candidates,
        hidden_layers=(2,) * config.depth,
        activation="tanh",
        optimizer="adam",
        learning_rate=config.learning_rate,
        l2=config.l2,
        epochs=config.epochs,
        batch_size=config.batch_size,
        init="orthogonal",
        seed=[config.candidates * seed + i for i in range(config.candidates)],
        progress=progress,
    ).fit(X, y)
    if bool(np.all(stack.diverged_)):
        raise DivergenceError(
            f"every one of the {config.candidates} candidate networks diverged; "
            "lower the learning rate",
            epoch=config.epochs,
            loss=float("nan"),
        )
    networks = [stack.model(i) for i in range(config.candidates)]
    final_losses = np.array(
        [np.nan if stack.diverged_[i] else net.loss(X, y) for i, net in enumerate(networks)]
    )
    best = int(np.nanargmin(final_losses))
    accuracies = np.asarray(stack.score(X, y), dtype=np.float64)
    loss_histories = np.asarray(stack.loss_history_, dtype=np.float64)
    return Candidates(networks[best], best, loss_histories, final_losses, accuracies)


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
        "loss_spikes": float(count_loss_spikes(model.loss_history_)),
        "lowest_loss": float(np.min(model.loss_history_)),
    }
    return DemoResult(name, [gif, png], metrics, model)


def count_loss_spikes(losses: Any, factor: float = 2.0) -> int:
    """How many times the loss jumps above ``factor`` × its lowest value so far.

    Each excursion counts once (the epoch it crosses the line), however long it lasts.

    Parameters
    ----------
    losses : array-like (epochs,)
        A loss history.
    factor : float, default 2.0
        How far above the lowest loss so far counts as a spike.

    Returns
    -------
    int
        The number of spikes.
    """
    losses = np.asarray(losses, dtype=np.float64)
    best_before = np.minimum.accumulate(losses)[:-1]
    above = losses[1:] > factor * best_before
    return int(np.sum(above[1:] & ~above[:-1]) + (above[0] if above.size else 0))


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


@documented
def run_two(
    backend: str = "numpy",
    out: str | Path = DEFAULT_OUT,
    size: str = "default",
    seed: int = 0,
    progress: bool = True,
) -> DemoResult:
    """Two spirals, a 2-wide tanh network: transformation GIF and decision-boundary PNG."""
    return _run(2, backend, out, size, seed, progress)


@documented
def run_three(
    backend: str = "numpy",
    out: str | Path = DEFAULT_OUT,
    size: str = "default",
    seed: int = 0,
    progress: bool = True,
) -> DemoResult:
    """Three spirals, a 2-wide tanh network with a softmax output: GIF and PNG."""
    return _run(3, backend, out, size, seed, progress)
