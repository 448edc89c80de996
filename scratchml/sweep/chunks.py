"""Chunks: the networks of one data set and one architecture, trained as one stack.

This is the one place that builds a stack. A chunk runs in this process or as a Dask
task on another machine, so it returns everything the client writes: the rows, the
loss curves, and the model files of the best network of each configuration it holds.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import numbers
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

import numpy as np

from .. import _training, backends, data
from . import userdata
from .files import config_key, model_file_name, network_row, stack_id, stack_text
from .grid import ARCHITECTURE_KEYS, DATA_KEYS, OPTIMIZER_KEYS, Network, Settings, settings_of
from .userdata import UserData

# A chunk holds at most this much work (network-epoch flops), so that rows reach
# results.csv and the progress bar moves every few seconds; a GPU does ~1000× more. On
# one CPU core a stack runs 25-40 GFLOP/s: 1e11 is 2.5-4 s. Stacks smaller than that
# pay their per-step call overhead over fewer networks (sweep-digits on one core, 6
# networks per architecture: 6 chunks of 3-6 at 3e10, 4 chunks of 6 at 1e11, NumPy
# 0.38-0.41 -> 0.37 ms per network-epoch, torch 0.45-0.51 -> 0.44-0.47).
CHUNK_FLOPS = {"cpu": 1e11, "gpu": 2e13}
# Never use more than this share of the device's free memory for one chunk.
MEMORY_SHARE = 0.5


@dataclass(frozen=True)
class Chunk:
    """Networks of one data set and one architecture, trained as one stack."""

    index: int  # position among all chunks of the grid
    networks: tuple[Network, ...]


@dataclass(frozen=True)
class ChunkResult:
    """What training a chunk gives back: rows, curves, best models, and its cost."""

    index: int
    rows: list[dict[str, str]]
    curve_epochs: np.ndarray  # (P,) epochs (1-based) at which the losses were kept
    curves: np.ndarray  # (M, P) each network's training loss at those epochs
    models: dict[tuple[str, ...], tuple[tuple, str, bytes]]  # config → (rank, file name, bytes)
    network_epochs: int  # Σ epochs run over the chunk's networks
    splits: int  # times the chunk was halved after running out of device memory
    stacks: dict[str, str]  # each stack trained → its file's text (its networks, in order)


def stack_key(network: Network) -> tuple[Any, ...]:
    """What all networks of one stack share: the data set (and fold) and the architecture."""
    return network[: len(DATA_KEYS) + 1 + len(ARCHITECTURE_KEYS)]


def _check_chunk_size(chunk_size: Any) -> int:
    if (
        isinstance(chunk_size, bool)
        or not isinstance(chunk_size, numbers.Integral)
        or chunk_size < 1
    ):
        raise ValueError(f"chunk_size must be a positive integer; got {chunk_size!r}")
    return int(chunk_size)


def make_chunks(
    networks: Sequence[Network], chunk_size: int | Mapping[tuple[Any, ...], int]
) -> list[Chunk]:
    """Cut networks (in grid order) into stacks of one data set and one architecture.

    A group of G networks becomes ⌈G / chunk_size⌉ chunks of nearly equal size (130
    networks with chunk_size 128 make 65 + 65, not 128 + 2). The result depends only on
    the networks and ``chunk_size``: a resumed sweep makes the same chunks.

    Parameters
    ----------
    networks : sequence of Network
        In grid order.
    chunk_size : int or mapping
        The most networks per stack: one size for every architecture, or a size per
        ``stack_key`` (``chunk_sizes``).

    Returns
    -------
    list of Chunk

    Raises
    ------
    ValueError
        If a chunk size is not a positive integer, or a mapping misses a stack.
    """
    if not isinstance(chunk_size, Mapping):
        chunk_size = _check_chunk_size(chunk_size)
    chunks: list[Chunk] = []
    for key, group in itertools.groupby(networks, key=stack_key):
        members = tuple(group)
        if isinstance(chunk_size, Mapping):
            if key not in chunk_size:
                raise ValueError(f"chunk_size has no size for the stack {key}")
            size = _check_chunk_size(chunk_size[key])
        else:
            size = chunk_size
        pieces = math.ceil(len(members) / size)
        bounds = [round(k * len(members) / pieces) for k in range(pieces + 1)]
        for start, stop in itertools.pairwise(bounds):
            chunks.append(Chunk(len(chunks), members[start:stop]))
    return chunks


def layer_sizes(
    network: Network, data: UserData | None = None, task: str = "classifier"
) -> list[int]:
    """Units per layer, inputs to outputs (two classes: one sigmoid logit)."""
    if data is None:
        arms = spiral_keys(network)[0]
        n_in, outputs = 2, 1 if arms == 2 else arms
    else:
        n_in, outputs = data.n_features, data.n_outputs(task)
    return [n_in, *([network.width] * network.depth), outputs]


def _n_train(network: Network, data: UserData | None) -> int:
    return spiral_keys(network)[3] if data is None else len(data.X)


def spiral_keys(network: Network) -> tuple[int, float, float, int]:
    """A spiral network's arms, turns, noise and n_samples (ValueError on the user's data)."""
    arms, turns, noise, n_samples = network.arms, network.turns, network.noise, network.n_samples
    if arms is None or turns is None or noise is None or n_samples is None:
        raise ValueError(f"{network} has no spirals: it trains on the user's data")
    return arms, turns, noise, n_samples


def n_parameters(network: Network, data: UserData | None = None, task: str = "classifier") -> int:
    """Weights and biases of one network: Σ (n_in + 1)·n_out."""
    sizes = layer_sizes(network, data, task)
    return sum((n_in + 1) * n_out for n_in, n_out in itertools.pairwise(sizes))


def network_bytes(network: Network, settings: Settings, data: UserData | None = None) -> int:
    """Estimated device memory one network of a stack needs while it trains.

    Parameters P live about 8 times (weights, gradients, two Adam moments, the last
    finite copy, temporaries); each layer keeps about 4 arrays of (n_samples, n_out)
    (Z, A and their gradients). Scoring runs on all n_samples rows.
    """
    itemsize = 4 if settings.dtype == "float32" else 8
    sizes = layer_sizes(network, data, settings.task)
    activations = 4 * _n_train(network, data) * sum(sizes[1:])
    return itemsize * (8 * n_parameters(network, data, settings.task) + activations)


def network_epoch_flops(
    network: Network, data: UserData | None = None, task: str = "classifier"
) -> float:
    """Flops of one epoch of one network: forward + backward ≈ 6 · n · Σ n_in·n_out."""
    sizes = layer_sizes(network, data, task)
    return 6.0 * _n_train(network, data) * sum(a * b for a, b in itertools.pairwise(sizes))


def default_chunk_size(
    networks: Sequence[Network],
    settings: Settings,
    free_bytes: int | None,
    on_gpu: bool | None = None,
    data: UserData | None = None,
) -> int:
    """The largest stack that fits in half of ``free_bytes`` and holds a few seconds of work.

    Parameters
    ----------
    networks : sequence of Network
    settings : Settings
    free_bytes : int or None
        The device's free memory (``backends.free_memory``), or None when it is not
        known (workers of a cluster): then only the work cap applies.
    on_gpu : bool, optional
        Whether the networks train on a GPU (a bigger work cap); by default, for CuPy.
    data : UserData, optional
        The user's data (None: spirals).

    Returns
    -------
    int
    """
    if not networks:
        return 1
    if on_gpu is None:
        on_gpu = settings.backend == "cupy"
    work_cap = CHUNK_FLOPS["gpu" if on_gpu else "cpu"]
    size = 1 << 16
    for network in {stack_key(n): n for n in networks}.values():
        flops = network_epoch_flops(network, data, settings.task)
        size = min(size, int(work_cap / (settings.epochs * flops)))
        if free_bytes is not None:
            size = min(
                size, int(MEMORY_SHARE * free_bytes / network_bytes(network, settings, data))
            )
    return max(1, size)


def chunk_sizes(
    networks: Sequence[Network],
    settings: Settings,
    free_bytes: int | None,
    on_gpu: bool | None = None,
    data: UserData | None = None,
    known: Mapping[tuple[Any, ...], int] | None = None,
) -> dict[tuple[Any, ...], int]:
    """The chunk size of each stack (data set and architecture): its own, not the grid's.

    Each architecture gets ``default_chunk_size`` of its own networks, so width-4
    networks are not cut into the small stacks a width-64 network needs. Sizes in
    ``known`` (a stored sweep's) are kept, so that a resumed sweep cuts the same chunks.

    Parameters
    ----------
    networks : sequence of Network
    settings : Settings
    free_bytes : int or None
        As for ``default_chunk_size``.
    on_gpu : bool, optional
        As for ``default_chunk_size``.
    data : UserData, optional
        The user's data (None: spirals).
    known : mapping, optional
        Sizes already chosen, by ``stack_key``.

    Returns
    -------
    dict
        ``stack_key`` → the most networks per stack.
    """
    sizes = {}
    for key, network in {stack_key(n): n for n in networks}.items():
        if known is not None and key in known:
            sizes[key] = int(known[key])
        else:
            sizes[key] = default_chunk_size([network], settings, free_bytes, on_gpu, data)
    return sizes


def work(chunk: Chunk, settings: Settings, data: UserData | None = None) -> float:
    """Estimated flops to train a chunk (for the ETA)."""
    return settings.epochs * stack_epoch_flops(chunk.networks, settings, data)


def stack_epoch_flops(
    networks: Sequence[Network], settings: Settings, data: UserData | None = None
) -> float:
    """Flops of one epoch of a stack of ``networks``: the sum of its networks'."""
    return sum(network_epoch_flops(n, data, settings.task) for n in networks)


# --- training -------------------------------------------------------------------------------


class Split(NamedTuple):
    """The data of one stack: training, validation and test sets, on the sweep's backend."""

    X: Any
    y: Any
    X_val: Any
    y_val: Any
    X_test: Any
    y_test: Any


def spirals(network: Network, settings: Settings, seed: int) -> tuple[Any, Any]:
    """A draw of a network's spirals: training ``data_seed``, test ``+ 1``, validation ``+ 2``."""
    arms, turns, noise, n_samples = spiral_keys(network)
    return data.spirals(
        n_samples=n_samples,
        arms=arms,
        turns=turns,
        noise=noise,
        seed=seed,
        dtype=settings.dtype,
        backend=settings.backend,
    )


def network_data(network: Network, settings: Settings, user: UserData | None = None) -> Split:
    """The training, validation and test data a network of a sweep sees.

    Spirals: three draws of the network's spirals (seeds ``data_seed``, ``+ 2``, ``+ 1``).
    The user's data: the rows of the network's fold (``userdata.split`` with ``data_seed``);
    with ``settings.standardize``, every part scaled by the training rows' statistics.
    """
    if settings.on_spirals:
        seed = settings.data_seed
        return Split(
            *spirals(network, settings, seed),
            *spirals(network, settings, seed + 2),
            *spirals(network, settings, seed + 1),
        )
    if user is None:
        raise ValueError(f"the sweep ran on {settings.data}: pass its data (X, y)")
    parts = userdata.split(len(user.X), settings.folds, network.fold, settings.data_seed)
    y_dtype = settings.dtype if settings.task == "regressor" else None
    scale = userdata.standardizer(user.X[parts[0]]) if settings.standardize else None
    arrays = []
    for rows in parts:
        X = user.X[rows] if scale is None else scale(user.X[rows])
        arrays.append(backends.asarray(X, backend=settings.backend, dtype=settings.dtype))
        arrays.append(backends.asarray(user.y[rows], backend=settings.backend, dtype=y_dtype))
    return Split(*arrays)


# The data of the last stack trained in this process, for the next stack of the same data
# set: a grid's stacks come grouped by data set, whose draw (or split and scaling) is then
# made once, not once per architecture. One entry, read and replaced whole (Dask may
# train chunks in threads); ``in_process`` empties it when the sweep's chunks are done.
_recent: dict[str, tuple[tuple[Any, ...], Settings, UserData | None, Split]] = {}


# The speed of the last stack of each sweep's settings (library, dtype, batch size, ...) in
# this process: the seconds of its last chunk's epochs and its flops per epoch. A stack's
# fit reads its losses on the host once per chunk of epochs; on its own it starts at one
# epoch and doubles (8 chunks in 200 epochs), and each chunk costs a host read and, on JAX,
# a dispatch. The next stack starts at the length its own flops predict from the last
# one's speed; where the chunks end changes no number. ``in_process`` forgets it when the
# sweep's chunks are done.
_last_stack: dict[Settings, dict[str, float]] = {}


@contextlib.contextmanager
def _chunks_from_the_last_stack(settings: Settings, flops: float) -> Iterator[None]:
    """Inside, a stack of ``flops`` per epoch starts its chunks at the length the speed of
    the last stack of the same settings predicts (unless a chunk policy is set around the
    sweep)."""
    if _training.chunk_policy() is not None:
        yield
        return
    policy = _training.ChunkPolicy()
    carried: dict[str, float] = {}
    last = _last_stack.get(settings, {})
    if last.get("epoch_seconds", 0.0) > 0:
        predicted = last["epoch_seconds"] * flops / last["flops"]
        carried["length"] = max(1, min(int(policy.target_s / predicted), policy.max_epochs))
    with _training.chunking(policy._replace(carried=carried)):
        yield
    _last_stack[settings] = {**carried, "flops": flops}


def _stack_data(network: Network, settings: Settings, user: UserData | None) -> Split:
    """``network_data`` of a stack's first network, reused from the last stack if it is the same."""
    key = network[: len(DATA_KEYS) + 1]  # the data set and the fold
    last = _recent.get("data")
    if last is not None and last[0] == key and last[1] == settings and last[2] is user:
        return last[3]
    split = network_data(network, settings, user)
    _recent["data"] = (key, settings, user, split)
    return split


def stack_estimator(networks: Sequence[Network], settings: Settings) -> Any:
    """The unfitted stack estimator of networks of one data set and one architecture."""
    from ..estimators.stacks import StackedMLPClassifier, StackedMLPRegressor

    first = networks[0]
    estimator = StackedMLPRegressor if settings.task == "regressor" else StackedMLPClassifier
    optimizer = {
        key: getattr(first, key) for key in OPTIMIZER_KEYS if getattr(first, key) is not None
    }
    return estimator(
        n_networks=len(networks),
        hidden_layers=(first.width,) * first.depth,
        activation=first.activation,
        optimizer=first.optimizer,
        learning_rate=[n.learning_rate for n in networks],
        l2=[n.l2 for n in networks],
        seed=[n.seed for n in networks],
        epochs=settings.epochs,
        batch_size=settings.batch_size,
        optimizer_settings=settings_of(first.optimizer_settings) or None,
        **optimizer,
    )


def last_finite(history: np.ndarray) -> np.ndarray:
    """The last finite value of each column of (epochs, M); NaN where there is none."""
    finite = np.isfinite(history)
    last = np.where(finite.any(axis=0), history.shape[0] - 1 - np.argmax(finite[::-1], axis=0), 0)
    values = history[last, np.arange(history.shape[1])]
    return np.where(finite.any(axis=0), values, np.nan)


def curve_points(epochs_run: int, step: int) -> np.ndarray:
    """0-based epochs kept in a loss curve: every ``step``-th, and always the last."""
    points = list(range(step - 1, epochs_run, step))
    if not points or points[-1] != epochs_run - 1:
        points.append(epochs_run - 1)
    return np.array(points, dtype=np.int64)


def rank(row: dict[str, str]) -> tuple[float, float, int]:
    """Order of networks within a configuration: the best has the largest rank.

    Highest validation score, then lowest final loss, then lowest seed; never the test
    score, which stays an unbiased estimate of the chosen network.
    """
    loss = float(row["final_loss"])
    return (
        float(row["validation_accuracy"]),
        -loss if math.isfinite(loss) else -math.inf,
        -int(row["seed"]),
    )


def _model_bytes(model: Any) -> bytes:
    """A fitted network as the bytes of its scratchml model file (``save`` writes them)."""
    from ..estimators import saving

    return saving.to_bytes(model)


def _scores(stack: Any, X: Any, y: Any) -> np.ndarray:
    """Each network's score (accuracy or R²), at full precision: a refit gives the same."""
    return np.asarray(stack.score(X, y), dtype=np.float64)


def fit_stack(
    networks: Sequence[Network], settings: Settings, user: UserData | None = None
) -> ChunkResult:
    """Train networks of one data set and one architecture as one stack (chunk index -1)."""
    start = time.perf_counter()
    split = _stack_data(networks[0], settings, user)
    with _chunks_from_the_last_stack(settings, stack_epoch_flops(networks, settings, user)):
        stack = stack_estimator(networks, settings).fit(split.X, split.y)
    history = np.asarray(stack.loss_history_, dtype=np.float64).reshape(-1, len(networks))
    final_loss = last_finite(history)
    train = _scores(stack, split.X, split.y)
    validation = _scores(stack, split.X_val, split.y_val)
    test = _scores(stack, split.X_test, split.y_test)
    chance = userdata.chance_level(backends.to_numpy(split.y), settings.task)
    diverged = np.asarray(stack.diverged_, dtype=bool)
    seconds = (time.perf_counter() - start) / len(networks)
    keys = [network_row(network, settings) for network in networks]
    name = stack_id(keys)
    rows = [
        network_row(
            network,
            settings,
            final_loss=final_loss[i],
            train_accuracy=train[i],
            validation_accuracy=validation[i],
            test_accuracy=test[i],
            at_chance=userdata.at_chance(float(train[i]), chance),
            diverged=diverged[i],
            stack=name,
            position=i,
            seconds=f"{seconds:.4g}",
        )
        for i, network in enumerate(networks)
    ]
    points = curve_points(history.shape[0], settings.curve_step)
    best: dict[tuple[str, ...], int] = {}
    for i, row in enumerate(rows):
        key = config_key(row)
        if key not in best or rank(row) > rank(rows[best[key]]):
            best[key] = i
    models = {
        key: (rank(rows[i]), model_file_name(rows[i]), _model_bytes(stack.model(i)))
        for key, i in best.items()
    }
    return ChunkResult(
        -1,
        rows,
        points + 1,
        history[points].T.astype(np.float32),
        models,
        history.shape[0] * len(networks),
        0,
        {name: stack_text(keys)},
    )


def _merge(a: ChunkResult, b: ChunkResult) -> ChunkResult:
    """Two halves of a chunk as one result (the better model of a configuration in both)."""
    models = dict(a.models)
    for key, entry in b.models.items():
        if key not in models or entry[0] > models[key][0]:
            models[key] = entry
    return ChunkResult(
        a.index,
        a.rows + b.rows,
        a.curve_epochs,
        np.concatenate([a.curves, b.curves]),
        models,
        a.network_epochs + b.network_epochs,
        a.splits + b.splits + 1,
        {**a.stacks, **b.stacks},
    )


def _fit_halving(
    networks: Sequence[Network], settings: Settings, user: UserData | None
) -> ChunkResult:
    """``fit_stack``, halving the stack each time the device runs out of memory."""
    try:
        return fit_stack(networks, settings, user)
    except Exception as exc:
        if len(networks) < 2 or not backends.is_out_of_memory(exc):
            raise
    half = len(networks) // 2
    return _merge(
        _fit_halving(networks[:half], settings, user),
        _fit_halving(networks[half:], settings, user),
    )


def train_chunk(chunk: Chunk, settings: Settings, user: UserData | None = None) -> ChunkResult:
    """Train one chunk (in this process or on a Dask worker).

    On device out-of-memory (``backends.is_out_of_memory``) the stack is halved, and
    halved again, until it fits.

    Parameters
    ----------
    chunk : Chunk
    settings : Settings
    user : UserData, optional
        The user's data (None: spirals).

    Returns
    -------
    ChunkResult
        The rows in the chunk's order, the loss curves, the best model of each
        configuration the chunk holds, the stacks it trained (each network's row names
        its stack and place, so that ``model_for`` refits that exact stack).
    """
    return replace(_fit_halving(chunk.networks, settings, user), index=chunk.index)


# --- executors: this process, or a dask.distributed cluster --------------------------------

# How long to try to reach a Dask scheduler before giving up.
DASK_CONNECT_SECONDS = 10.0


def in_process(
    chunks: Sequence[Chunk], settings: Settings, user: UserData | None = None
) -> Iterator[ChunkResult]:
    """Chunks trained one after the other, here."""
    try:
        for chunk in chunks:
            yield train_chunk(chunk, settings, user)
    finally:
        _recent.clear()  # the last data set's arrays are not kept after the sweep
        _last_stack.clear()


def import_distributed() -> Any:
    """The dask.distributed module; ImportError naming the extra that installs it."""
    try:
        import distributed
    except ImportError as exc:
        raise ImportError(
            "running a sweep on Dask needs dask.distributed: pip install 'scratchml[distributed]'"
        ) from exc
    return distributed


def local_workers(address: Any) -> int:
    """N for ``local:N`` (a local cluster), 0 for a scheduler address; ValueError otherwise."""
    if not isinstance(address, str) or not address:
        raise ValueError(f"dask must be a scheduler address or local:N; got {address!r}")
    if not address.startswith("local:"):
        return 0
    count = address.removeprefix("local:")
    if not count.isdigit() or int(count) < 1:
        raise ValueError(f"dask must be ADDRESS or local:N with N ≥ 1 workers; got {address!r}")
    return int(count)


class DaskExecutor:
    """A client of a running scheduler (``ADDRESS``) or of a new local cluster (``local:N``).

    Connecting happens on creation, so an unreachable scheduler is found before any
    file is written; ``close`` closes the client, and the cluster if it made one.
    """

    def __init__(self, address: str) -> None:
        distributed = import_distributed()
        workers = local_workers(address)
        self.address = address
        self.cluster = None
        if workers:
            self.cluster = distributed.LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
            )
            self.client = distributed.Client(self.cluster)
            return
        try:
            self.client = distributed.Client(address, timeout=DASK_CONNECT_SECONDS)
        except Exception as exc:  # distributed raises OSError, TimeoutError, ValueError, ...
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise ConnectionError(
                f"cannot reach the Dask scheduler at {address}: {reason}"
            ) from None

    def run(
        self, chunks: Sequence[Chunk], settings: Settings, user: UserData | None = None
    ) -> Iterator[ChunkResult]:
        """Chunks as Dask tasks, one per chunk; results as they complete, in any order."""
        from distributed import as_completed

        # The user's data go to every worker once, not with every task.
        # (In a list: a tuple given alone would be scattered element by element.)
        shared = self.client.scatter([user], broadcast=True)[0] if user is not None else None
        futures = [
            self.client.submit(train_chunk, chunk, settings, shared, pure=False) for chunk in chunks
        ]
        try:
            for future in as_completed(futures):
                yield future.result()
                future.release()
        finally:
            for future in futures:
                future.cancel()

    def close(self) -> None:
        """Close the client (and the local cluster this executor started)."""
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()
