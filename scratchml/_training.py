"""The gradient-descent loop shared by every model trained iteratively, one network or a stack.

A *stack* is M networks of one architecture trained at once: parameters carry a
leading model axis ``(M, n_in, n_out)`` and the loss has shape ``(M,)``. The same
loop trains both; what differs is what happens when a loss goes non-finite, and a
small policy object says it: one network raises a DivergenceError
(``RaiseOnDivergence``), a stack freezes that network and trains on (``FreezeDiverged``).

Host synchronisation: epoch losses stay on the device and reach the host a chunk
of epochs at a time (one transfer per chunk), so a GPU is never stalled once per
epoch. The chunk grows while epochs are fast, bounded by the time between progress
updates (``ChunkPolicy``, passed in, or set around a fit with ``chunking``). Everything decided from the losses (divergence, ``tol`` stopping, the best
validation score) is decided exactly as if it had been checked every epoch.
"""

from __future__ import annotations

import contextlib
import contextvars
import math
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any, NamedTuple, TextIO

import numpy as np

from . import backends, speed
from ._progress import ProgressBar
from .exceptions import DivergenceError
from .nn.parameters import ParameterLayout

Params = list[tuple[Any, Any]]


class Snapshot(NamedTuple):
    """Parameters after ``epoch`` epochs (epoch 0 is the initialisation)."""

    epoch: int
    params: Params


class TrainingObjective(NamedTuple):
    """What a network minimises: its hidden activations, its loss and its L2 penalty.

    ``l2`` is a number, or for a stack an array (M,) of one penalty per network.
    """

    activations: Sequence[str]
    loss: str
    l2: Any = 0.0


class TrainResult(NamedTuple):
    """What a training run returns.

    For a stack, ``loss_history`` is a host NumPy array ``(epochs_run, M)`` (NaN after
    a network diverged) and ``diverged`` a NumPy bool ``(M,)``; for one network
    ``loss_history`` is a list of floats and ``diverged`` is None.
    """

    params: Params  # final params (the best-scoring ones when ``validation`` is given)
    loss_history: Any  # one float per epoch run (one network); NumPy (epochs_run, M) (stack)
    history: list[Snapshot]
    divergence: DivergenceError | None
    state: Any = None  # optimizer state after the last epoch run: pass it back to continue
    validation_scores: list[float] = []  # noqa: RUF012 - one per epoch when validation is given
    diverged: Any = None  # stacks: NumPy bool (M,), the networks frozen after a non-finite loss


def training_progress(
    total: int, desc: str, enabled: bool, stream: TextIO | None = None
) -> ProgressBar:
    """The progress bar of a training run: epochs done out of ``total``, with the loss."""
    return ProgressBar(total, desc, "epochs", enabled, stream)


def _show_loss(loss: float) -> str:
    return f"loss {loss:.4g}"


class ChunkPolicy(NamedTuple):
    """How many epochs run between two host synchronisations: a chunk policy.

    The adaptive policy (the default) starts at one epoch and doubles the chunk while
    a chunk takes less than ``target_s`` seconds, up to ``max_epochs``; it shrinks at
    once when epochs get slow. With a progress bar the target is its redraw interval,
    so the bar moves as smoothly as with per-epoch syncs. ``fixed=True`` runs every
    chunk ``max_epochs`` long (or what is left), with no clock in the decision: what
    counting operations per epoch needs. ``max_epochs`` also sizes the loss buffer of a
    compiled chunk. ``carried``: a dict that runs share; each run starts at the chunk
    length the last one reached (its ``"length"``) instead of one epoch, and writes its
    own there (and the seconds per epoch of its last chunk, ``"epoch_seconds"``) — a
    benchmark's timed fits then run at the steady length a long fit reaches.
    """

    max_epochs: int = 1024
    target_s: float = 0.25  # a diverging single network re-runs at most about this much work
    progress_target_s: float = 0.1
    fixed: bool = False
    carried: dict | None = None

    def lengths(self, total: int, progress: ProgressBar) -> ChunkLengths:
        """The chunk lengths of one run of ``total`` epochs."""
        return ChunkLengths(self, total, progress)


class ChunkLengths:
    """The chunk length of one run, following its policy as the chunks' timings come in."""

    def __init__(self, policy: ChunkPolicy, total: int, progress: ProgressBar) -> None:
        self.policy = policy
        self.length = policy.max_epochs if policy.fixed else 1
        self.target_s = policy.target_s
        self.cap = policy.max_epochs
        if progress.enabled and not policy.fixed:
            self.target_s = min(policy.target_s, policy.progress_target_s)
            if not progress.interactive:
                self.cap = max(1, total // 10)
        if policy.carried is not None and not policy.fixed:
            self.length = min(policy.carried.get("length", self.length), self.cap)

    def update(self, epochs: int, seconds: float) -> None:
        """Record that ``epochs`` epochs took ``seconds``: the next chunk's length."""
        if self.policy.fixed:
            return
        per_epoch = seconds / max(epochs, 1)
        fits = self.target_s / per_epoch if per_epoch > 0 else math.inf
        self.length = int(max(1, min(fits, 2 * self.length, self.cap)))
        if self.policy.carried is not None:
            self.policy.carried["length"] = self.length
            self.policy.carried["epoch_seconds"] = per_epoch


# The chunk policy of runs that are not given one (``chunking`` sets it for a block of code).
_CHUNK_POLICY: contextvars.ContextVar[ChunkPolicy | None] = contextvars.ContextVar(
    "scratchml_chunk_policy", default=None
)


def chunk_policy() -> ChunkPolicy | None:
    """The chunk policy ``chunking`` set for this block of code, or None (the default)."""
    return _CHUNK_POLICY.get()


@contextlib.contextmanager
def chunking(policy: ChunkPolicy) -> Iterator[ChunkPolicy]:
    """Train with chunk policy ``policy`` inside the block: every fit in it, through any estimator.

    For measurements (operations per epoch, host reads per chunk) that drive training
    through an estimator's ``fit``, which takes no chunk policy of its own.
    """
    token = _CHUNK_POLICY.set(policy)
    try:
        yield policy
    finally:
        _CHUNK_POLICY.reset(token)


class _NoImprovement:
    """scikit-learn's stopping rule, on host floats.

    An epoch *improves* when the loss drops to ``best − tol`` or below (or the
    validation score rises to ``best + tol`` or above); after more than
    ``n_iter_no_change`` epochs in a row without improvement, training stops.
    ``best`` follows every strict improvement, however small.
    """

    def __init__(self, tol: float, n_iter_no_change: int, higher_is_better: bool) -> None:
        self.tol = tol
        self.patience = n_iter_no_change
        self.sign = 1.0 if higher_is_better else -1.0
        self.best = -math.inf
        self.count = 0

    def epochs_before_stop_possible(self) -> int:
        """The fewest epochs after which ``update`` could say stop (a chunk may run this many)."""
        return self.patience + 1 - self.count

    def update(self, value: float) -> tuple[bool, bool]:
        """Record one epoch's value; returns ``(new_best, stop)``."""
        signed = self.sign * value
        if signed < self.best + self.tol:
            self.count += 1
        else:
            self.count = 0
        new_best = signed > self.best
        if new_best:
            self.best = signed
        return new_best, self.count > self.patience


class EpochPlan(NamedTuple):
    """What one epoch is: one full-batch step, or shuffled mini-batches; one network or a stack."""

    n_samples: int
    batch_size: int | None  # None: the epoch is one full-batch step
    stack: bool
    per_network: bool  # a stack whose networks shuffle with generators of their own


def run_epoch(
    xp: Any,
    path: Any,
    steps: tuple[Any, Any],
    plan: EpochPlan,
    theta: Any,
    state: Any,
    X: Any,
    Y: Any,
    order: Any,
    offsets: Any,
    alive: Any,
    kept: Any,
) -> tuple[Any, Any, Any, Any, Any]:
    """One epoch from parameters θ: ``(theta, state, loss, alive, kept)``, all on the device.

    ``steps`` are the path's training step and (a full-batch stack's) guarded step.
    Mini-batches: the rows of X and Y in ``order`` (one shuffle (n,), or one per network
    (M, n) with ``offsets``), cut into batches of ``plan.batch_size`` (the last one
    smaller); ``path.scan`` runs the step over the full batches. The epoch loss is the
    sample-weighted mean of the batch losses (full batch: the objective at the epoch's
    starting parameters). A stack's networks whose loss is not finite are frozen at
    their last finite parameters (``kept``); ``alive`` says which still train.
    """
    step, guarded_step = steps
    if plan.batch_size is None:
        if plan.stack:
            loss, theta, state, alive, kept = guarded_step(theta, state, X, Y, alive, kept)
        else:
            loss, theta, state = step(theta, state, X, Y)
        return theta, state, loss, alive, kept
    if plan.per_network:
        X_shuffled, Y_shuffled = _shuffled(xp, X, order, offsets), _shuffled(xp, Y, order, offsets)
    else:
        X_shuffled, Y_shuffled = xp.take(X, order, axis=-2), xp.take(Y, order, axis=-2)
    n, size = plan.n_samples, plan.batch_size
    n_full = n // size

    def batch_step(carry: tuple[Any, Any, Any], batch: tuple[Any, Any]) -> tuple[Any, Any, Any]:
        theta, state, total = carry
        batch_loss, theta, state = step(theta, state, *batch)
        return theta, state, total + batch_loss * batch[0].shape[-2]

    start = theta
    total = xp.zeros_like(theta[..., 0])  # shape () or (M,): one loss per network
    full = (
        _full_batches(xp, X_shuffled, n_full, size),
        _full_batches(xp, Y_shuffled, n_full, size),
    )
    theta, state, total = path.scan(batch_step, (theta, state, total), full)
    if n_full * size < n:  # the last, smaller batch
        tail = (X_shuffled[..., n_full * size :, :], Y_shuffled[..., n_full * size :, :])
        theta, state, total = batch_step((theta, state, total), tail)
    loss = total / n
    if plan.stack:
        alive, theta, kept = path.keep_finite_networks(xp, alive, loss, start, theta, kept)
    return theta, state, loss, alive, kept


def _shuffled(xp: Any, A: Any, order: Any, offsets: Any) -> Any:
    """Rows of A in each network's order: (M, n, k) from A (n, k) or (M, n, k).

    ``offsets`` (M, 1) are the row offsets of network m in a flattened (M·n, k) array.
    """
    n_networks, n = order.shape
    if A.ndim == 2:
        flat, index = A, xp.reshape(order, (-1,))
    else:
        flat = xp.reshape(A, (n_networks * n, A.shape[-1]))
        index = xp.reshape(order + offsets, (-1,))
    return xp.reshape(xp.take(flat, index, axis=0), (n_networks, n, A.shape[-1]))


def _full_batches(xp: Any, A: Any, n_batches: int, size: int) -> Any:
    """The first ``n_batches · size`` rows of A (..., n, k) as batches: (n_batches, ..., size, k)."""
    lead = A.shape[:-2]
    batches = xp.reshape(A[..., : n_batches * size, :], (*lead, n_batches, size, A.shape[-1]))
    if not lead:
        return batches
    return xp.permute_dims(batches, (len(lead), *range(len(lead)), len(lead) + 1, len(lead) + 2))


class _Epochs:
    """Runs chunks of epochs: full batch, or shuffled mini-batches (one shuffle, or one per network).

    Libraries that compile (JAX) run a chunk of full-batch epochs as one compiled loop,
    and a mini-batch epoch as one compiled function; the others run ``run_epoch`` as is.
    """

    def __init__(
        self,
        xp: Any,
        X: Any,
        Y: Any,
        path: Any,
        objective: TrainingObjective,
        layout: ParameterLayout,
        optimizer: Any,
        batch_size: int | None,
        generators: Any,
        n_networks: int | None,
        max_epochs: int,
    ) -> None:
        # Targets in the layout the library's element-wise work runs fastest on.
        self.xp, self.X, self.Y, self.path = xp, X, path.samples_layout(Y), path
        self.stack = n_networks is not None
        self.n_samples = X.shape[-2]
        self.full_batch = batch_size is None or batch_size >= self.n_samples
        self.generators = generators  # one Generator, or a list of M (one shuffle per network)
        self.per_network = isinstance(generators, list)
        self.plan = EpochPlan(
            self.n_samples,
            None if self.full_batch else batch_size,
            self.stack,
            self.per_network and not self.full_batch,
        )
        self.offsets = None
        if self.plan.per_network and n_networks is not None:
            n = self.n_samples
            # Row offsets of network m in a flattened (M·n, ...) array.
            self.offsets = backends.asarray(
                np.arange(n_networks).reshape(-1, 1) * n, dtype=self._index_dtype(), like=X
            )
        self.compiled = path.training_epochs(
            xp, objective, layout, optimizer, run_epoch, self.plan, max_epochs
        )
        if self.compiled is None:
            guarded = self.stack and self.full_batch  # one step is the epoch: it also freezes
            self.steps = (
                path.training_step(xp, objective, layout, optimizer),
                path.training_step(xp, objective, layout, optimizer, True) if guarded else None,
            )
        self.orders: Any = None

    def _index_dtype(self) -> Any:
        """Indices in the library's own index dtype (int32 on JAX without 64-bit mode)."""
        return backends.default_index(self.xp)

    def run_chunk(
        self, n_epochs: int, theta: Any, state: Any, alive: Any = None, kept: Any = None
    ) -> tuple[Any, ...]:
        """``n_epochs`` epochs (their shuffles drawn by ``prepare``) from θ.

        Returns ``(theta, state, losses, alive, kept, last_start)``: ``losses`` an array on
        the device whose first ``n_epochs`` rows are the epochs' losses, ``last_start`` the
        parameters and optimizer state the last epoch started from.
        """
        if self.compiled is not None and self.full_batch:
            return self.compiled(theta, state, self.X, self.Y, None, None, alive, kept, n_epochs)
        losses = []
        for _ in range(n_epochs):
            last_start = (theta, state)
            theta, state, loss, alive, kept = self.run_one(theta, state, alive, kept)
            losses.append(loss)
        return theta, state, self.xp.stack(losses), alive, kept, last_start

    def run_one(self, theta: Any, state: Any, alive: Any, kept: Any) -> tuple[Any, ...]:
        """One epoch (its shuffle drawn by ``prepare``): ``(theta, state, loss, alive, kept)``."""
        order = None
        if not self.full_batch:
            order = self.orders[self.next_order, ...]
            self.next_order += 1
        if self.compiled is None:
            return run_epoch(
                self.xp, self.path, self.steps, self.plan, theta, state,
                self.X, self.Y, order, self.offsets, alive, kept,
            )  # fmt: skip
        orders = None if order is None else self.xp.expand_dims(order, axis=0)  # one epoch
        theta, state, losses, alive, kept, _ = self.compiled(
            theta, state, self.X, self.Y, orders, self.offsets, alive, kept, 1
        )
        return theta, state, losses[0, ...], alive, kept

    # Shuffled indices of a chunk held on the device at most (int64: 32 MiB).
    MAX_PREPARED_INDICES = 2**22

    def max_prepared_epochs(self) -> int:
        """How many epochs' shuffles ``prepare`` may draw at once."""
        if self.full_batch:
            return sys.maxsize
        per_epoch = self.n_samples * (len(self.generators) if self.per_network else 1)
        return max(1, self.MAX_PREPARED_INDICES // per_epoch)

    def prepare(self, n_epochs: int) -> None:
        """Draw the shuffles of the next ``n_epochs`` epochs and move them in one copy.

        A copy from host memory to a GPU waits for the work queued before it, so one
        copy per epoch would be a host synchronisation per epoch; made at a chunk's
        start, right after the previous chunk's losses reached the host, it finds the
        device idle. The draws are those epoch-by-epoch shuffling makes: each
        generator draws its epochs in order.
        """
        if self.full_batch or n_epochs < 1:
            return
        n = self.n_samples
        if self.per_network:
            draws = [[g.permutation(n) for g in self.generators] for _ in range(n_epochs)]
        else:
            draws = [self.generators.permutation(n) for _ in range(n_epochs)]
        self.orders = backends.asarray(np.asarray(draws), dtype=self._index_dtype(), like=self.X)
        self.next_order = 0

    def save_rng(self) -> Any:
        return None if self.per_network else self.generators.bit_generator.state

    def restore_rng(self, saved: Any) -> None:
        if saved is not None:
            self.generators.bit_generator.state = saved


def _generators(seed: Any, n_networks: int | None) -> Any:
    """One host Generator, or (for a stack given a sequence of seeds) one per network."""
    if n_networks is not None and isinstance(seed, Sequence) and not isinstance(seed, str):
        if len(seed) != n_networks:
            raise ValueError(f"seed must hold one seed per network ({n_networks}); got {len(seed)}")
        return [backends.rng(s) for s in seed]
    return backends.rng(seed)


def generator_state(generators: Any) -> Any:
    """Where a run's shuffling stopped: a generator's state, or a list of them (a stack).

    ``gradient_descent`` advances the generators it is given by exactly the shuffles of
    the epochs it ran, so a run continued from this state (``continued_generators``)
    shuffles its epochs as one uninterrupted run would have.
    """
    if isinstance(generators, list):
        return [g.bit_generator.state for g in generators]
    return generators.bit_generator.state


def continued_generators(saved: Any) -> Any:
    """Generators that carry on from ``generator_state``'s result (new objects each call)."""
    if isinstance(saved, list):
        return [continued_generators(s) for s in saved]
    generator = np.random.Generator(getattr(np.random, saved["bit_generator"])())
    generator.bit_generator.state = saved
    return generator


def _divergence_error(epoch: int, value: float, loss_history: list[float]) -> DivergenceError:
    kept = (
        f"its last parameters with a finite loss ({loss_history[-1]:.4g}, epoch {epoch - 1})"
        if loss_history
        else "its initial parameters"
    )
    return DivergenceError(
        f"training diverged at epoch {epoch}: the loss became {value}; "
        f"the model keeps {kept}. Lower learning_rate or scale the features.",
        epoch=epoch,
        loss=value,
    )


class _Checkpoint(NamedTuple):
    """A run at a chunk's start: enough to replay the chunk's epochs (``_replay``)."""

    epoch: int
    theta: Any
    state: Any
    rng_state: Any
    previous: tuple[Any, Any]  # θ and optimizer state the epoch before started from


class _Run:
    """One training run between host reads: θ, the optimizer state, and what was recorded.

    ``previous`` holds the parameters and optimizer state the last finished epoch started
    from; ``alive`` and ``kept`` are a stack's device-side divergence bookkeeping (which
    networks still train, and each one's last finite parameters).
    """

    def __init__(
        self,
        runner: _Epochs,
        divergence: RaiseOnDivergence | FreezeDiverged,
        views: Callable[[Any], Params],
        params: Params,
        theta: Any,
        state: Any,
        epochs: int,
        record_every: int,
        validation: Callable[[Params], Any] | None,
        monitor: _NoImprovement | None,
        bar: ProgressBar,
    ) -> None:
        self.runner, self.divergence, self.views, self.bar = runner, divergence, views, bar
        self.theta, self.state, self.previous = theta, state, (theta, state)
        self.alive, self.kept = divergence.device_state(runner.xp, theta, runner.X)
        self.epoch, self.epochs = 0, epochs
        self.record_every, self.validation, self.monitor = record_every, validation, monitor
        self.history = [Snapshot(0, params)] if record_every else []
        self.loss_history: list[Any] = []
        self.validation_scores: list[float] = []
        self.best_theta = theta

    def train(self, lengths: ChunkLengths) -> TrainResult:
        """Run chunks of epochs until ``epochs``, a stop or a divergence that ends the run."""
        while self.epoch < self.epochs:
            length = self.next_length(lengths.length)
            start = self.checkpoint()
            self.runner.prepare(length)
            tick = time.perf_counter()
            losses, scores, candidates = self.chunk(length)
            lengths.update(length, time.perf_counter() - tick)
            ended = self.divergence.record(self, losses, scores, start)
            if ended is not None:
                return ended
            if self.should_stop(losses, scores, candidates):
                break
        return self.divergence.result(self)

    def checkpoint(self) -> _Checkpoint:
        """The run before its next chunk, to replay epochs of it from."""
        return _Checkpoint(
            self.epoch, self.theta, self.state, self.runner.save_rng(), self.previous
        )

    def next_length(self, chunk_length: int) -> int:
        """How many epochs the next chunk runs."""
        length = min(chunk_length, self.epochs - self.epoch, self.runner.max_prepared_epochs())
        if self.monitor is not None:
            # A stop can only fall on the chunk's last epoch; with validation, every
            # epoch's parameters are held until the chunk's scores reach the host.
            length = min(length, self.monitor.epochs_before_stop_possible())
            if self.validation is not None:
                length = min(length, 16)
        return length

    def chunk(self, length: int) -> tuple[np.ndarray, np.ndarray, list[Any]]:
        """Run ``length`` epochs; their losses and validation scores reach the host at once.

        Returns ``(losses, scores, candidates)``: host arrays, ``losses`` (length,) or
        (length, M), ``scores`` (length,) or empty, and θ after each scored epoch.
        """
        if self.validation is None and not self.record_every:
            self.theta, self.state, losses, self.alive, self.kept, self.previous = (
                self.runner.run_chunk(length, self.theta, self.state, self.alive, self.kept)
            )
            self.epoch += length
            values = _host_losses(losses, length)  # the one host synchronisation
            return values[:length], values[length:], []
        losses, scores, candidates = [], [], []  # epoch by epoch: each is scored or recorded
        for _ in range(length):
            self.epoch += 1
            self.previous = (self.theta, self.state)
            self.theta, self.state, loss, self.alive, self.kept = self.runner.run_one(
                self.theta, self.state, self.alive, self.kept
            )
            losses.append(loss)
            if self.validation is not None:
                scores.append(self.validation(self.views(self.theta)))
                candidates.append(self.theta)
            if self.record_every and (
                self.epoch % self.record_every == 0 or self.epoch == self.epochs
            ):
                self.history.append(Snapshot(self.epoch, self.views(self.theta)))
        xp, X = self.runner.xp, self.runner.X
        # The one host synchronisation of the chunk (scores in float64 where the device
        # has it, so an accuracy k/n reaches the host without float32 rounding).
        if scores:
            wide = backends.widest_float(xp, backends.device(X))
            values = backends.to_numpy(xp.stack([xp.astype(v, wide) for v in losses + scores]))
        else:
            values = backends.to_numpy(xp.stack(losses))
        return values[:length], values[length:], candidates

    def should_stop(self, losses: np.ndarray, scores: np.ndarray, candidates: list[Any]) -> bool:
        """Feed the chunk's monitored values to the stopping rule; keeps the best θ scored."""
        if self.monitor is None:
            return False
        watched = scores if self.validation is not None else losses
        stop = False
        for i, value in enumerate(watched.tolist()):
            new_best, stop = self.monitor.update(value)
            if new_best and self.validation is not None:
                self.best_theta = candidates[i]
        return stop


class RaiseOnDivergence:
    """One network: a non-finite epoch loss ends training with a DivergenceError.

    The run returns the parameters the last epoch with a finite loss started from,
    found by replaying the chunk from its start, and the error for the caller to raise.
    """

    def device_state(self, xp: Any, theta: Any, X: Any) -> tuple[Any, Any]:
        return None, None  # nothing to freeze on the device

    def record(
        self, run: _Run, losses: np.ndarray, scores: np.ndarray, start: _Checkpoint
    ) -> TrainResult | None:
        """Record a chunk's host values; a TrainResult ends the run."""
        bad = np.flatnonzero(~np.isfinite(losses))
        if bad.size:
            first = int(bad[0])  # epoch start.epoch + first + 1 diverged
            run.loss_history.extend(losses[:first].tolist())
            run.validation_scores.extend(scores[:first].tolist())
            diverged_at = start.epoch + first + 1
            theta, state = _replay(run.runner, start, first - 1)
            history = [s for s in run.history if s.epoch < diverged_at]
            error = _divergence_error(diverged_at, float(losses[first]), run.loss_history)
            return TrainResult(
                run.views(theta), run.loss_history, history, error, state, run.validation_scores
            )
        run.loss_history.extend(losses.tolist())
        run.validation_scores.extend(scores.tolist())
        run.bar.update(run.epoch, _show_loss(run.loss_history[-1]))
        return None

    def result(self, run: _Run) -> TrainResult:
        theta = run.best_theta if run.validation is not None else run.theta
        return TrainResult(
            run.views(theta), run.loss_history, run.history, None, run.state, run.validation_scores
        )


class FreezeDiverged:
    """A stack of M networks: a network whose loss goes non-finite is frozen and flagged.

    It keeps its last finite parameters, its loss history reads NaN from then on, and
    the others train on; nothing is raised.
    """

    def __init__(self, n_networks: int) -> None:
        self.n_networks = n_networks
        self.frozen = np.zeros(n_networks, dtype=bool)  # on the host: networks whose loss went bad

    def device_state(self, xp: Any, theta: Any, X: Any) -> tuple[Any, Any]:
        alive = xp.ones((self.n_networks,), dtype=xp.bool, device=backends.device(X))
        return alive, theta

    def record(
        self, run: _Run, losses: np.ndarray, scores: np.ndarray, start: _Checkpoint
    ) -> TrainResult | None:
        """Record a chunk's host losses (length, M); a stack's run never ends early."""
        # NaN from a network's first non-finite loss on (a frozen network's loss at its
        # kept parameters is finite again, and is not its training loss).
        frozen = np.logical_or.accumulate(~np.isfinite(losses), axis=0) | self.frozen
        run.loss_history.extend(np.where(frozen, np.nan, losses))
        self.frozen = frozen[-1]
        last = losses[-1][~self.frozen]
        run.bar.update(run.epoch, _show_loss(float(last.min()) if last.size else math.nan))
        return None

    def result(self, run: _Run) -> TrainResult:
        rows = np.stack(run.loss_history)  # (epochs_run, M)
        return TrainResult(
            run.views(run.theta), rows, run.history, None, run.state, [], self.frozen
        )


def _monitor(
    tol: float | None, n_iter_no_change: int, validation: Callable[[Params], Any] | None
) -> _NoImprovement | None:
    """The stopping rule: on the loss with ``tol``, on the validation score when given."""
    if tol is None and validation is None:
        return None
    return _NoImprovement(
        0.0 if tol is None else tol,
        n_iter_no_change if tol is not None else sys.maxsize,
        higher_is_better=validation is not None,
    )


def gradient_descent(
    xp: Any,
    params: Params,
    X: Any,
    Y: Any,
    objective: TrainingObjective,
    optimizer: Any,
    epochs: int,
    batch_size: int | None = None,
    seed: Any = None,
    record_every: int = 0,
    progress: bool = False,
    desc: str = "training",
    *,
    state: Any = None,
    tol: float | None = None,
    n_iter_no_change: int = 10,
    validation: Callable[[Params], Any] | None = None,
    n_networks: int | None = None,
    chunks: ChunkPolicy | None = None,
) -> TrainResult:
    """Train ``params`` for up to ``epochs`` passes over (X, Y), full batch or in shuffled mini-batches.

    One network: ``X (n, d)``, ``Y (n, k)``; a non-finite epoch loss ends training with the
    parameters of the last epoch whose loss was finite and a DivergenceError to raise. A stack
    of ``n_networks = M``: parameters ``(M, n_in, n_out)``, ``X`` (n, d) or (M, n, d), ``Y``
    (n, k) or (M, n, k), losses (M,); a network whose loss goes non-finite is frozen at its last
    finite parameters and flagged in ``diverged``. ``objective`` says what is minimised; the
    array library's speed path (``scratchml.speed``, chosen once here) computes it.

    ``seed``: a seed or a Generator (a stack: also a sequence of M, one shuffle per network).
    Generators advance by exactly the shuffles of the epochs run: a run continued with them
    and ``state`` (the optimizer state an earlier run returned) is one longer run. ``tol``:
    None runs every epoch; else training stops as scikit-learn's MLP does, after more than
    ``n_iter_no_change`` epochs in a row in which the monitored value (the epoch loss, or the
    0-d score ``validation(params)``, higher is better) did not improve by ``tol``; with
    ``validation`` the best-scoring parameters are returned. ``chunks``: how many epochs run
    between host reads (None: the policy ``chunking`` set, by default adaptive).
    """
    if n_networks is not None and (tol is not None or validation is not None):
        raise ValueError("tol and validation stop single networks; a stack runs every epoch")
    divergence = RaiseOnDivergence() if n_networks is None else FreezeDiverged(n_networks)
    chunks = chunks if chunks is not None else chunk_policy() or ChunkPolicy()
    path = speed.path_for(xp)
    # Inside the run, NumPy passes write into the memory of the previous pass.
    with path.training_run():
        generators = _generators(seed, n_networks)
        # The optimizers update all parameters as one vector θ; the layers see views of it.
        layout = ParameterLayout.of(params)
        flatten, views = path.parameter_maps(xp, layout)
        theta = flatten(params)
        runner = _Epochs(
            xp, X, Y, path, objective, layout, optimizer, batch_size, generators, n_networks,
            chunks.max_epochs,
        )  # fmt: skip
        state = optimizer.init(xp, theta) if state is None else state
        run = _Run(
            runner, divergence, views, params, theta, state, epochs, record_every, validation,
            _monitor(tol, n_iter_no_change, validation), training_progress(epochs, desc, progress),
        )  # fmt: skip
        return run.train(chunks.lengths(epochs, run.bar))


def _host_losses(losses: Any, n_epochs: int) -> np.ndarray:
    """The first ``n_epochs`` rows of a chunk's losses, on the host.

    A small buffer comes whole and is cut on the host: cutting it on the device first
    would be one more operation to launch (and, on JAX, to dispatch eagerly).
    """
    if losses.shape[0] > n_epochs and math.prod(losses.shape) > 2**16:
        losses = losses[:n_epochs, ...]
    return backends.to_numpy(losses)[:n_epochs]


def _replay(runner: _Epochs, start: _Checkpoint, n_epochs: int) -> tuple[Any, Any]:
    """The parameters θ and optimizer state ``n_epochs`` epochs after the chunk's start.

    Epochs are deterministic, so re-running them from the chunk's start (its parameters,
    optimizer state and random state) gives the parameters the loop passed through
    without holding on to every epoch's copy. ``n_epochs = -1`` is the epoch before.
    """
    if n_epochs < 0:
        return start.previous
    if n_epochs == 0:
        return start.theta, start.state
    runner.restore_rng(start.rng_state)
    runner.prepare(n_epochs)
    theta, state, *_ = runner.run_chunk(n_epochs, start.theta, start.state)
    return theta, state
