"""The gradient-descent loop shared by every model trained iteratively."""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable
from typing import Any, NamedTuple, TextIO

from . import backends
from .exceptions import DivergenceError

Params = list[tuple[Any, Any]]


class Snapshot(NamedTuple):
    """Parameters after ``epoch`` epochs (epoch 0 is the initialisation)."""

    epoch: int
    params: Params


class TrainResult(NamedTuple):
    params: Params
    loss_history: list[float]
    history: list[Snapshot]
    divergence: DivergenceError | None


class Progress:
    """A small text progress bar on stderr: epochs done, current loss, elapsed time."""

    def __init__(self, total: int, desc: str, enabled: bool, stream: TextIO | None = None) -> None:
        self.total = total
        self.desc = desc
        self.enabled = enabled
        self.stream = stream if stream is not None else sys.stderr
        self.interactive = enabled and hasattr(self.stream, "isatty") and self.stream.isatty()
        self.start = time.perf_counter()
        self.last_draw = -math.inf
        self.next_line_epoch = 0

    def update(self, epoch: int, loss: float) -> None:
        if not self.enabled:
            return
        now = time.perf_counter()
        if self.interactive:
            # Redraw at most 10 times a second, and always at the end.
            if now - self.last_draw < 0.1 and epoch < self.total:
                return
            self.last_draw = now
            self.stream.write("\r" + self._line(epoch, loss, now))
            if epoch >= self.total:
                self.stream.write("\n")
        else:
            # Logs and pipes: one line per tenth of the run.
            if epoch < self.next_line_epoch and epoch < self.total:
                return
            self.next_line_epoch = epoch + max(1, self.total // 10)
            self.stream.write(self._line(epoch, loss, now) + "\n")
        self.stream.flush()

    def _line(self, epoch: int, loss: float, now: float) -> str:
        width = 24
        filled = int(width * epoch / self.total)
        bar = "#" * filled + "-" * (width - filled)
        return (
            f"{self.desc} [{bar}] {epoch}/{self.total} epochs  "
            f"loss {loss:.4g}  {now - self.start:.1f}s"
        )


def gradient_descent(
    xp: Any,
    params: Params,
    X: Any,
    Y: Any,
    loss_and_gradients: Callable[[Params, Any, Any], tuple[Any, Params]],
    optimizer: Any,
    epochs: int,
    batch_size: int | None = None,
    seed: Any = None,
    record_every: int = 0,
    progress: bool = False,
    desc: str = "training",
) -> TrainResult:
    """Train ``params`` for ``epochs`` passes over (X, Y), full batch or in shuffled mini-batches.

    The epoch loss is the sample-weighted mean of the batch losses (for full batch,
    the objective at the epoch's starting parameters); it reaches the host once per
    epoch. A non-finite loss stops training and returns the parameters of the last
    epoch whose loss was finite, with a DivergenceError to raise.
    """
    n_samples = X.shape[0]
    full_batch = batch_size is None or batch_size >= n_samples
    generator = backends.rng(seed)
    state = optimizer.init(xp, params)
    history = [Snapshot(0, params)] if record_every else []
    loss_history: list[float] = []
    last_finite = params
    bar = Progress(epochs, desc, progress)

    for epoch in range(1, epochs + 1):
        epoch_start = params
        if full_batch:
            epoch_loss, grads = loss_and_gradients(params, X, Y)
            params, state = optimizer.step(xp, params, grads, state)
        else:
            order = backends.permutation(generator, n_samples, like=X)
            X_shuffled, Y_shuffled = xp.take(X, order, axis=0), xp.take(Y, order, axis=0)
            epoch_loss = 0.0
            for start in range(0, n_samples, batch_size):
                stop = min(start + batch_size, n_samples)
                batch_loss, grads = loss_and_gradients(
                    params, X_shuffled[start:stop, ...], Y_shuffled[start:stop, ...]
                )
                epoch_loss = epoch_loss + batch_loss * (stop - start)
                params, state = optimizer.step(xp, params, grads, state)
            epoch_loss = epoch_loss / n_samples

        value = float(epoch_loss)  # the one host sync per epoch
        if not math.isfinite(value):
            kept = (
                f"its last parameters with a finite loss ({loss_history[-1]:.4g}, epoch {epoch - 1})"
                if loss_history
                else "its initial parameters"
            )
            error = DivergenceError(
                f"training diverged at epoch {epoch}: the loss became {value}; "
                f"the model keeps {kept}. Lower learning_rate or scale the features.",
                epoch=epoch,
                loss=value,
            )
            return TrainResult(last_finite, loss_history, history, error)
        last_finite = epoch_start
        loss_history.append(value)
        if record_every and (epoch % record_every == 0 or epoch == epochs):
            history.append(Snapshot(epoch, params))
        bar.update(epoch, value)

    return TrainResult(params, loss_history, history, None)
