"""Sweeps: a grid of spiral networks, trained as stacks, with resumable results.

A sweep asks how the data (``arms``, ``turns``, ``noise``, ``n_samples``) and the network
(``depth``, ``width``, ``activation``, ``optimizer``, ``learning_rate``, ``l2``, ``seeds``)
decide whether a network separates the spirals. The grid is the product of the values
given for each key; every point of it is one network. Networks sharing a data set and an
architecture differ only in learning rate, L2 and seed, so they are trained together as
one ``StackedMLPClassifier`` (M networks on one leading model axis): a *chunk*.

Nothing is lost: every chunk's rows are appended to ``results.csv`` and flushed to disk
before the next chunk is reported, and ``resume=True`` trains only the chunks whose
rows are missing. Chunks are made the same way on every run (the chunk size is kept in
``sweep.json``), data and networks are seeded from the grid alone, and the finished file
is sorted in grid order, so a resumed sweep ends with the same rows as an uninterrupted
one (all columns but ``seconds``). Chunks run in this process, or on a ``dask.distributed``
cluster (``dask=``): the same chunks, the same rows.

    from scratchml import sweep
    sweep.run({"depth": [1, 2, 3], "width": [2, 4, 8], "seeds": 4}, out="sweeps/first")
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import math
import numbers
import os
import platform
import sys
import time
import tomllib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, NamedTuple, TextIO

import numpy as np

from . import backends, data

DATA_KEYS = ("arms", "turns", "noise", "n_samples")
ARCHITECTURE_KEYS = ("depth", "width", "activation", "optimizer")
# Inside one stack: every network of a chunk shares the keys above and varies these.
STACK_KEYS = ("learning_rate", "l2", "seed")
NETWORK_FIELDS = DATA_KEYS + ARCHITECTURE_KEYS + STACK_KEYS
GRID_KEYS = DATA_KEYS + ARCHITECTURE_KEYS + ("learning_rate", "l2", "seeds")
# Settings shared by every network of a sweep (TOML keys beside the grid's).
SETTING_KEYS = ("epochs", "batch_size", "backend", "dtype", "data_seed", "chunk_size")

KEY_COLUMNS = (*NETWORK_FIELDS, "epochs", "batch_size")
METRIC_COLUMNS = ("final_loss", "train_accuracy", "test_accuracy", "diverged", "seconds")
COLUMNS = KEY_COLUMNS + METRIC_COLUMNS

RESULTS_FILE = "results.csv"
SETTINGS_FILE = "sweep.json"
HEATMAP_FILE = "heatmap.png"
SUMMARY_FILE = "summary.md"

DEFAULT_GRID: dict[str, Any] = {
    "arms": [2],
    "turns": [1.0],
    "noise": [0.05],
    "n_samples": [400],
    "depth": [1, 2, 3],
    "width": [2, 4, 8, 16],
    "activation": ["tanh"],
    "optimizer": ["adam"],
    "learning_rate": [0.01],
    "l2": [0.0],
    "seeds": 4,
}
DEFAULT_EPOCHS = 300

# A chunk holds at most this much work (network-epoch flops), so that rows reach
# results.csv and the progress bar moves every few seconds; a GPU does ~1000× more.
CHUNK_FLOPS = {"cpu": 3e10, "gpu": 2e13}
# Never use more than this share of the device's free memory for one chunk.
MEMORY_SHARE = 0.5


class Network(NamedTuple):
    """One point of the grid: a data set and a network trained on it."""

    arms: int
    turns: float
    noise: float
    n_samples: int
    depth: int
    width: int
    activation: str
    optimizer: str
    learning_rate: float
    l2: float
    seed: int


class Chunk(NamedTuple):
    """Networks of one data set and one architecture, trained as one stack."""

    index: int  # position among all chunks of the grid
    networks: tuple[Network, ...]


@dataclass(frozen=True)
class Settings:
    """What every network of a sweep shares besides its grid point."""

    epochs: int = DEFAULT_EPOCHS
    batch_size: int | None = None  # None: full batch
    backend: str = "numpy"
    dtype: str = "float32"
    data_seed: int = 0  # training data seed; the held-out test set uses data_seed + 1


class ChunkResult(NamedTuple):
    index: int
    rows: list[dict[str, str]]
    network_epochs: int  # Σ epochs run over the chunk's networks
    splits: int  # times the chunk was halved after running out of device memory


class SweepResult(NamedTuple):
    """What ``run`` did: where the files are, how many networks, how fast."""

    out: Path
    results: Path
    heatmap: Path
    summary: Path
    n_networks: int  # in the grid
    n_trained: int  # trained by this call (the rest were already in results.csv)
    seconds: float  # wall time of this call's training
    network_epochs_per_second: float


# ---------------------------------------------------------------------------
# The grid: validation and expansion


def _values(grid: Mapping[str, Any], key: str) -> list[Any]:
    value = grid[key]
    if isinstance(value, (str, numbers.Number)):
        value = [value]
    if not isinstance(value, Sequence) or isinstance(value, str):
        raise ValueError(f"grid key {key!r} must be a value or a list of values; got {value!r}")
    if len(value) == 0:
        raise ValueError(f"grid key {key!r} is an empty list; give it at least one value")
    return list(value)


def _integers(key: str, values: list[Any], minimum: int) -> list[int]:
    for v in values:
        if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < minimum:
            raise ValueError(
                f"grid key {key!r}: every value must be an integer ≥ {minimum}; got {v!r}"
            )
    return [int(v) for v in values]


def _reals(key: str, values: list[Any], positive: bool) -> list[float]:
    for v in values:
        ok = isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(v)
        if not ok or not (v > 0 if positive else v >= 0):
            what = "a positive number" if positive else "a non-negative number"
            raise ValueError(f"grid key {key!r}: every value must be {what}; got {v!r}")
    return [float(v) for v in values]


def _names(key: str, values: list[Any], valid: Iterable[str]) -> list[str]:
    valid = sorted(valid)
    for v in values:
        if v not in valid:
            raise ValueError(
                f"grid key {key!r}: unknown value {v!r}; valid values are {', '.join(valid)}"
            )
    return [str(v) for v in values]


def check_grid(grid: Mapping[str, Any]) -> dict[str, list[Any]]:
    """The grid with every key present, as lists of checked values (defaults fill gaps).

    Raises ValueError naming the key for an unknown key, an empty list, a repeated
    value, or a value out of range (width 0, unknown activation, ...).
    """
    from .nn.activations import ACTIVATIONS
    from .nn.optimizers import OPTIMIZERS

    if not isinstance(grid, Mapping):
        raise TypeError(f"grid must be a mapping of key → values; got {type(grid).__name__}")
    unknown = sorted(set(grid) - set(GRID_KEYS))
    if unknown:
        raise ValueError(f"unknown grid key {unknown[0]!r}; valid keys are {', '.join(GRID_KEYS)}")
    full = {**DEFAULT_GRID, **grid}
    checked: dict[str, list[Any]] = {
        "arms": _integers("arms", _values(full, "arms"), 2),
        "turns": _reals("turns", _values(full, "turns"), positive=True),
        "noise": _reals("noise", _values(full, "noise"), positive=False),
        "n_samples": _integers("n_samples", _values(full, "n_samples"), 1),
        "depth": _integers("depth", _values(full, "depth"), 1),
        "width": _integers("width", _values(full, "width"), 1),
        "activation": _names("activation", _values(full, "activation"), ACTIVATIONS),
        "optimizer": _names("optimizer", _values(full, "optimizer"), OPTIMIZERS),
        "learning_rate": _reals("learning_rate", _values(full, "learning_rate"), positive=True),
        "l2": _reals("l2", _values(full, "l2"), positive=False),
    }
    seeds = full["seeds"]
    if isinstance(seeds, numbers.Integral) and not isinstance(seeds, bool):
        if seeds < 1:
            raise ValueError(f"grid key 'seeds': a number of seeds must be ≥ 1; got {seeds!r}")
        checked["seeds"] = list(range(int(seeds)))
    else:
        checked["seeds"] = _integers("seeds", _values(full, "seeds"), 0)
    for key, values in checked.items():
        repeated = [v for v in values if values.count(v) > 1]
        if repeated:
            raise ValueError(f"grid key {key!r} repeats the value {repeated[0]!r}")
    too_few = [n for n in checked["n_samples"] if n < max(checked["arms"])]
    if too_few:
        raise ValueError(
            f"grid key 'n_samples': {too_few[0]} samples cannot hold {max(checked['arms'])} arms"
        )
    return checked


def check_settings(**settings: Any) -> Settings:
    """Sweep-wide settings, checked; ValueError naming the setting otherwise."""
    from ._validation import check_non_negative, check_positive

    unknown = sorted(set(settings) - set(Settings.__dataclass_fields__))
    if unknown:
        raise ValueError(f"unknown setting {unknown[0]!r}")
    result = Settings(**settings)
    check_positive(result.epochs, "epochs", integer=True)
    if result.batch_size is not None:
        check_positive(result.batch_size, "batch_size", integer=True)
    if result.backend not in backends.BACKENDS:
        raise ValueError(
            f"backend must be one of {', '.join(backends.BACKENDS)}; got {result.backend!r}"
        )
    if result.dtype not in ("float32", "float64"):
        raise ValueError(f"dtype must be 'float32' or 'float64'; got {result.dtype!r}")
    check_non_negative(result.data_seed, "data_seed", integer=True)
    return result


def expand(grid: Mapping[str, Any]) -> list[Network]:
    """Every network of the grid, in grid order (the last key, the seed, varies fastest).

    Networks of one data set and one architecture are consecutive, so that they can be
    cut into stacks.
    """
    checked = check_grid(grid)
    axes = [checked[key] for key in (*DATA_KEYS, *ARCHITECTURE_KEYS, "learning_rate", "l2")]
    return [Network(*point) for point in itertools.product(*axes, checked["seeds"])]


def _stack_key(network: Network) -> tuple[Any, ...]:
    """What all networks of one stack share: the data set and the architecture."""
    return network[: len(DATA_KEYS) + len(ARCHITECTURE_KEYS)]


def make_chunks(networks: Sequence[Network], chunk_size: int) -> list[Chunk]:
    """Cut networks (in grid order) into stacks of one data set and one architecture.

    A group of G networks becomes ⌈G / chunk_size⌉ chunks of nearly equal size (130
    networks with chunk_size 128 make 65 + 65, not 128 + 2). The result depends only on
    the networks and ``chunk_size``: a resumed sweep makes the same chunks.
    """
    if (
        isinstance(chunk_size, bool)
        or not isinstance(chunk_size, numbers.Integral)
        or chunk_size < 1
    ):
        raise ValueError(f"chunk_size must be a positive integer; got {chunk_size!r}")
    chunks: list[Chunk] = []
    for _, group in itertools.groupby(networks, key=_stack_key):
        members = tuple(group)
        pieces = math.ceil(len(members) / chunk_size)
        bounds = [round(k * len(members) / pieces) for k in range(pieces + 1)]
        for start, stop in itertools.pairwise(bounds):
            chunks.append(Chunk(len(chunks), members[start:stop]))
    return chunks


def _layer_sizes(network: Network) -> list[int]:
    outputs = 1 if network.arms == 2 else network.arms  # binary: one sigmoid logit
    return [2, *([network.width] * network.depth), outputs]


def network_bytes(network: Network, settings: Settings) -> int:
    """Estimated device memory one network of a stack needs while it trains.

    Parameters P = Σ (n_in + 1)·n_out live about 8 times (weights, gradients, two Adam
    moments, the last finite copy, temporaries); each layer keeps about 4 arrays of
    (n_samples, n_out) (Z, A and their gradients). Scoring runs on all n_samples rows.
    """
    sizes = _layer_sizes(network)
    n_params = sum((n_in + 1) * n_out for n_in, n_out in itertools.pairwise(sizes))
    itemsize = 4 if settings.dtype == "float32" else 8
    return itemsize * (8 * n_params + 4 * network.n_samples * sum(sizes[1:]))


def network_epoch_flops(network: Network) -> float:
    """Flops of one epoch of one network: forward + backward ≈ 6 · n · Σ n_in·n_out."""
    sizes = _layer_sizes(network)
    return 6.0 * network.n_samples * sum(a * b for a, b in itertools.pairwise(sizes))


def default_chunk_size(
    networks: Sequence[Network], settings: Settings, free_bytes: int | None
) -> int:
    """The largest stack that fits in half of ``free_bytes`` and holds a few seconds of work.

    ``free_bytes``: the device's free memory (``backends.free_memory``), or None when it
    is not known (workers of a cluster): then only the work cap applies.
    """
    if not networks:
        return 1
    on_gpu = settings.backend == "cupy"
    work_cap = CHUNK_FLOPS["gpu" if on_gpu else "cpu"]
    size = 1 << 16
    for network in {_stack_key(n): n for n in networks}.values():
        size = min(size, int(work_cap / (settings.epochs * network_epoch_flops(network))))
        if free_bytes is not None:
            size = min(size, int(MEMORY_SHARE * free_bytes / network_bytes(network, settings)))
    return max(1, size)


# ---------------------------------------------------------------------------
# Training one chunk: the one place that builds a stack


def _row_key(row: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(_format(row[column]) for column in KEY_COLUMNS)


def _format(value: Any) -> str:
    """One cell of results.csv: exact round trip for floats, plain text for the rest."""
    if value is None:
        return ""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (numbers.Integral, np.integer)):
        return str(int(value))
    if isinstance(value, (numbers.Real, np.floating)):
        return repr(float(value))
    return str(value)


def _network_row(network: Network, settings: Settings, **metrics: Any) -> dict[str, str]:
    row = {**network._asdict(), "epochs": settings.epochs, "batch_size": settings.batch_size}
    return {column: _format(value) for column, value in {**row, **metrics}.items()}


def _spirals(network: Network, settings: Settings, seed: int) -> tuple[Any, Any]:
    return data.spirals(
        n_samples=network.n_samples,
        arms=network.arms,
        turns=network.turns,
        noise=network.noise,
        seed=seed,
        dtype=settings.dtype,
        backend=settings.backend,
    )


def _last_finite(history: np.ndarray) -> np.ndarray:
    """The last finite value of each column of (epochs, M); NaN where there is none."""
    finite = np.isfinite(history)
    last = np.where(finite.any(axis=0), history.shape[0] - 1 - np.argmax(finite[::-1], axis=0), 0)
    values = history[last, np.arange(history.shape[1])]
    return np.where(finite.any(axis=0), values, np.nan)


def _fit_stack(networks: Sequence[Network], settings: Settings) -> tuple[list[dict[str, str]], int]:
    """Train networks of one data set and one architecture as one stack; their rows."""
    from .ensemble import StackedMLPClassifier

    start = time.perf_counter()
    first = networks[0]
    X, y = _spirals(first, settings, settings.data_seed)
    X_test, y_test = _spirals(first, settings, settings.data_seed + 1)
    stack = StackedMLPClassifier(
        n_models=len(networks),
        hidden_layers=(first.width,) * first.depth,
        activation=first.activation,
        optimizer=first.optimizer,
        learning_rate=[n.learning_rate for n in networks],
        l2=[n.l2 for n in networks],
        seed=[n.seed for n in networks],
        epochs=settings.epochs,
        batch_size=settings.batch_size,
    ).fit(X, y)
    history = np.asarray(stack.loss_history_, dtype=np.float64).reshape(-1, len(networks))
    final_loss = _last_finite(history)
    train_accuracy = np.asarray(stack.score(X, y))
    test_accuracy = np.asarray(stack.score(X_test, y_test))
    diverged = np.asarray(stack.diverged_, dtype=bool)
    seconds = (time.perf_counter() - start) / len(networks)
    rows = [
        _network_row(
            network,
            settings,
            final_loss=final_loss[i],
            # Accuracies are k / n: six decimals show them whole, without float32 noise.
            train_accuracy=round(float(train_accuracy[i]), 6),
            test_accuracy=round(float(test_accuracy[i]), 6),
            diverged=diverged[i],
            seconds=f"{seconds:.4g}",
        )
        for i, network in enumerate(networks)
    ]
    return rows, history.shape[0] * len(networks)


def _work(chunk: Chunk, settings: Settings) -> float:
    """Estimated flops to train a chunk (for the ETA)."""
    return settings.epochs * sum(network_epoch_flops(n) for n in chunk.networks)


def _fit_halving(networks: Sequence[Network], settings: Settings) -> tuple[list, int, int]:
    """``_fit_stack``, halving the stack each time the device runs out of memory."""
    try:
        rows, network_epochs = _fit_stack(networks, settings)
        return rows, network_epochs, 0
    except Exception as exc:
        if len(networks) < 2 or not backends.is_out_of_memory(exc):
            raise
    half = len(networks) // 2
    rows_a, epochs_a, splits_a = _fit_halving(networks[:half], settings)
    rows_b, epochs_b, splits_b = _fit_halving(networks[half:], settings)
    return rows_a + rows_b, epochs_a + epochs_b, 1 + splits_a + splits_b


def train_chunk(chunk: Chunk, settings: Settings) -> ChunkResult:
    """Train one chunk (on this process or on a Dask worker) and return its rows.

    On device out-of-memory the stack is halved, and halved again, until it fits.
    """
    rows, network_epochs, splits = _fit_halving(chunk.networks, settings)
    return ChunkResult(chunk.index, rows, network_epochs, splits)


# ---------------------------------------------------------------------------
# results.csv: appended per chunk, flushed and synced; a torn last line is dropped


def _rows_text(rows: Iterable[Mapping[str, str]], header: bool = False) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    if header:
        writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def _durable_append(path: Path, text: str) -> None:
    """Append ``text`` and wait until it is on disk: a crash after this keeps it."""
    with open(path, "a", encoding="utf-8", newline="") as file:
        file.write(text)
        file.flush()
        os.fsync(file.fileno())


def read_results(path: str | Path, repair: bool = False) -> list[dict[str, str]]:
    """The complete rows of a results.csv, as dicts of strings.

    A last line without its newline was cut off mid-write (the process was killed):
    it is ignored, and with ``repair=True`` also cut from the file, so that appending
    goes on cleanly. Raises ValueError if the header is not a sweep's.
    """
    path = Path(path)
    raw = path.read_bytes()
    complete = raw[: raw.rfind(b"\n") + 1]
    if repair and len(complete) != len(raw):
        with open(path, "r+b") as file:
            file.truncate(len(complete))
            file.flush()
            os.fsync(file.fileno())
    lines = complete.decode("utf-8").splitlines()
    if not lines:
        return []
    header = next(csv.reader([lines[0]]))
    if tuple(header) != COLUMNS:
        raise ValueError(
            f"{path} is not a sweep's results file: its columns are {', '.join(header)}; "
            f"expected {', '.join(COLUMNS)}. Use another --out."
        )
    return [
        dict(zip(COLUMNS, cells, strict=True))
        for cells in csv.reader(lines[1:])
        if len(cells) == len(COLUMNS)
    ]


def _write_atomically(path: Path, text: str) -> None:
    """Replace ``path`` by ``text``: a crash leaves the old file or the new one, never half."""
    partial = path.with_name(path.name + ".partial")
    with open(partial, "w", encoding="utf-8", newline="") as file:
        file.write(text)
        file.flush()
        os.fsync(file.fileno())
    os.replace(partial, path)


def _write_sorted(path: Path, rows: list[dict[str, str]], order: Sequence[tuple[str, ...]]) -> None:
    """Rewrite results.csv in grid order (rows of other grids last), atomically."""
    rank = {key: i for i, key in enumerate(order)}
    rows = sorted(rows, key=lambda row: rank.get(_row_key(row), len(rank)))
    _write_atomically(path, _rows_text(rows, header=True))


# ---------------------------------------------------------------------------
# Progress


class SweepProgress:
    """Networks done / total, network-epochs per second and ETA, on stderr.

    The ETA extrapolates the time taken per unit of work (flops, estimated from the
    shapes) done so far to the work left, so that bigger networks later in the grid
    do not fool it. On a terminal one line is redrawn in place; in logs and pipes a plain line is
    written at most once a second (and at the end).
    """

    def __init__(self, total: int, done: int, enabled: bool, stream: TextIO | None = None):
        self.total, self.done, self.enabled = total, done, enabled
        self.stream = stream if stream is not None else sys.stderr
        self.interactive = enabled and hasattr(self.stream, "isatty") and self.stream.isatty()
        self.start = time.perf_counter()
        self.network_epochs = 0
        self.work_done = 0.0
        self.work_left = 0.0
        self.last_line = -math.inf
        self.drawn = 0

    def update(self, networks: int, network_epochs: int, work: float, work_left: float) -> None:
        """Count a finished chunk: its networks, network-epochs and work; the work left."""
        self.done += networks
        self.network_epochs += network_epochs
        self.work_done += work
        self.work_left = work_left
        if not self.enabled:
            return
        now = time.perf_counter()
        finished = self.done >= self.total
        if self.interactive:
            # Pad over what a longer previous line left on the terminal.
            line = self.line(now)
            self.stream.write("\r" + line.ljust(self.drawn) + ("\n" if finished else ""))
            self.drawn = len(line)
        elif finished or now - self.last_line >= 1.0:
            self.last_line = now
            self.stream.write(self.line(now) + "\n")
        self.stream.flush()

    def rate(self, now: float | None = None) -> float:
        elapsed = (time.perf_counter() if now is None else now) - self.start
        return self.network_epochs / elapsed if elapsed > 0 else 0.0

    def line(self, now: float) -> str:
        width = 24
        filled = int(width * self.done / max(self.total, 1))
        elapsed = now - self.start
        eta = "?" if self.work_done <= 0 else _duration(elapsed * self.work_left / self.work_done)
        return (
            f"sweep [{'#' * filled}{'-' * (width - filled)}] {self.done}/{self.total} networks  "
            f"{self.rate(now):,.0f} network-epochs/s  ETA {eta}  ({_duration(elapsed)})"
        )


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, seconds = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{seconds:02d}s"


# ---------------------------------------------------------------------------
# Executors: in-process, or a dask.distributed cluster


def _in_process(chunks: Sequence[Chunk], settings: Settings) -> Iterator[ChunkResult]:
    for chunk in chunks:
        yield train_chunk(chunk, settings)


def _import_distributed() -> Any:
    """The dask.distributed module; ImportError naming the extra that installs it."""
    try:
        import distributed
    except ImportError as exc:
        raise ImportError(
            "running a sweep on Dask needs dask.distributed: pip install 'scratchml[distributed]'"
        ) from exc
    return distributed


def _local_workers(address: Any) -> int:
    """N for ``local:N`` (a local cluster), 0 for a scheduler address; ValueError otherwise."""
    if not isinstance(address, str) or not address:
        raise ValueError(f"dask must be a scheduler address or local:N; got {address!r}")
    if not address.startswith("local:"):
        return 0
    count = address.removeprefix("local:")
    if not count.isdigit() or int(count) < 1:
        raise ValueError(f"dask must be ADDRESS or local:N with N ≥ 1 workers; got {address!r}")
    return int(count)


def _dask_client(address: str) -> tuple[Any, Any]:
    """(client, cluster): a client of a running scheduler (``ADDRESS``; cluster None), or of
    a new local cluster of worker processes (``local:N``), which the caller closes."""
    distributed = _import_distributed()
    workers = _local_workers(address)
    if not workers:
        return distributed.Client(address), None
    cluster = distributed.LocalCluster(
        n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
    )
    return distributed.Client(cluster), cluster


def _on_dask(chunks: Sequence[Chunk], settings: Settings, address: str) -> Iterator[ChunkResult]:
    """Chunks as Dask tasks, one per chunk; results as they complete, in any order."""
    from distributed import as_completed

    client, own_cluster = _dask_client(address)
    try:
        futures = [client.submit(train_chunk, chunk, settings, pure=False) for chunk in chunks]
        for future in as_completed(futures):
            yield future.result()
            future.release()
    finally:
        client.close()
        if own_cluster is not None:
            own_cluster.close()


# ---------------------------------------------------------------------------
# The sweep


def _check_out(out: Path, resume: bool, settings: Settings) -> dict[str, Any]:
    """Refuse to overwrite results, or to resume with other settings; the stored settings."""
    results = out / RESULTS_FILE
    stored_path = out / SETTINGS_FILE
    if not resume:
        if results.exists():
            raise FileExistsError(
                f"{results} already exists; pass --resume (resume=True) to continue that sweep, "
                "or choose another --out"
            )
        return {}
    if not stored_path.exists():
        return {}
    stored = json.loads(stored_path.read_text(encoding="utf-8"))
    for key, value in asdict(settings).items():
        if key in stored and stored[key] != value:
            raise ValueError(
                f"cannot resume the sweep in {out}: it ran with {key}={stored[key]!r}, "
                f"this run asks for {key}={value!r}; use the same {key} or another --out"
            )
    return stored


def run(
    grid: Mapping[str, Any],
    out: str | Path,
    *,
    epochs: int = DEFAULT_EPOCHS,
    batch_size: int | None = None,
    backend: str = "numpy",
    dtype: str = "float32",
    data_seed: int = 0,
    resume: bool = False,
    chunk_size: int | None = None,
    dask: str | None = None,
    progress: bool = True,
    stream: TextIO | None = None,
) -> SweepResult:
    """Train every network of ``grid`` and write results.csv, heatmap.png and summary.md in ``out``.

    ``grid`` maps keys of ``GRID_KEYS`` to a value or a list of values (``seeds``: a
    count N for seeds 0 … N−1, or a list); missing keys take ``DEFAULT_GRID``'s values.
    Training data: ``data.spirals`` with ``data_seed``; test accuracy is measured on a
    held-out draw of the same spirals with seed ``data_seed + 1``. ``chunk_size`` caps
    the networks per stack (default: what fits in half the device's free memory and
    takes a few seconds). ``dask``: the address of a dask.distributed scheduler, or
    ``"local:N"`` for a local cluster of N worker processes. ``resume``: continue the
    sweep already in ``out``, training only the chunks whose rows are missing.

    Everything is checked before any training: a bad grid raises ValueError naming the
    key, an existing results.csv without ``resume`` raises FileExistsError.
    """
    networks = expand(grid)
    checked_grid = check_grid(grid)
    settings = check_settings(
        epochs=epochs, batch_size=batch_size, backend=backend, dtype=dtype, data_seed=data_seed
    )
    if dask is None:
        reason = backends.why_unavailable(settings.backend)
        if reason:
            raise ValueError(f"backend {settings.backend!r} is not usable here: {reason}")
    else:
        _local_workers(dask)
        _import_distributed()
    out = Path(out)
    stored = _check_out(out, resume, settings)
    results = out / RESULTS_FILE
    done_rows = read_results(results, repair=True) if results.exists() else []
    done = {_row_key(row) for row in done_rows}
    if chunk_size is None:
        # Workers of a cluster may be other machines: their free memory is not known here.
        free = backends.free_memory(settings.backend) if dask is None else None
        chunk_size = stored.get("chunk_size") or default_chunk_size(networks, settings, free)
    chunks = make_chunks(networks, chunk_size)
    out.mkdir(parents=True, exist_ok=True)
    _write_atomically(
        out / SETTINGS_FILE,
        json.dumps({**asdict(settings), "chunk_size": chunk_size}, indent=2) + "\n",
    )
    if not results.exists() or results.stat().st_size == 0:
        _durable_append(results, _rows_text([], header=True))

    def missing(chunk: Chunk) -> int:
        return sum(_row_key(_network_row(n, settings)) not in done for n in chunk.networks)

    pending = [chunk for chunk in chunks if missing(chunk)]
    work_left = {chunk.index: _work(chunk, settings) for chunk in pending}
    bar = SweepProgress(len(networks), len(networks) - sum(map(missing, pending)), progress, stream)
    trained = 0
    start = time.perf_counter()
    executor = _in_process(pending, settings) if dask is None else _on_dask(pending, settings, dask)
    for result in executor:
        # A chunk retrained after a crash may have some rows already (a torn write):
        # only the missing ones are added.
        new_rows = [row for row in result.rows if _row_key(row) not in done]
        if new_rows:
            _durable_append(results, _rows_text(new_rows))
        done.update(_row_key(row) for row in new_rows)
        trained += len(result.rows)
        work = work_left.pop(result.index)
        bar.update(len(new_rows), result.network_epochs, work, sum(work_left.values()))
    seconds = time.perf_counter() - start

    order = [_row_key(_network_row(n, settings)) for n in networks]
    all_rows = read_results(results)
    _write_sorted(results, all_rows, order)
    all_rows = read_results(results)

    from .viz.sweep import sweep_heatmap

    heatmap = out / HEATMAP_FILE
    sweep_heatmap(all_rows, heatmap)
    summary = out / SUMMARY_FILE
    rate = bar.network_epochs / seconds if seconds > 0 else 0.0
    summary.write_text(
        _summary(
            checked_grid, settings, all_rows, chunk_size, len(chunks), trained, seconds, rate, dask
        ),
        encoding="utf-8",
    )
    return SweepResult(out, results, heatmap, summary, len(networks), trained, seconds, rate)


# ---------------------------------------------------------------------------
# summary.md


def _config_key(row: Mapping[str, str]) -> tuple[str, ...]:
    return tuple(row[c] for c in KEY_COLUMNS if c != "seed")


def _summary(
    grid: Mapping[str, list[Any]],
    settings: Settings,
    rows: list[dict[str, str]],
    chunk_size: int,
    n_chunks: int,
    trained: int,
    seconds: float,
    rate: float,
    dask: str | None,
) -> str:
    test = np.array([float(r["test_accuracy"]) for r in rows])
    train = np.array([float(r["train_accuracy"]) for r in rows])
    diverged = np.array([r["diverged"] == "True" for r in rows])
    lines = ["# Sweep summary", "", "## Grid", "", "| key | values |", "|---|---|"]
    for key, values in grid.items():
        if key == "seeds" and len(values) > 4:
            shown = f"{len(values)} seeds, {values[0]} … {values[-1]}"
        else:
            shown = ", ".join(map(str, values))
        lines.append(f"| {key} | {shown} |")
    batch = (
        "full batch" if settings.batch_size is None else f"mini-batches of {settings.batch_size}"
    )
    lines += [
        "",
        f"{settings.epochs} epochs, {batch}, {settings.dtype}; training data seed "
        f"{settings.data_seed}, test data a held-out draw with seed {settings.data_seed + 1}.",
        "",
        "## Totals",
        "",
        f"- networks: {len(rows)} in results.csv ({trained} trained by the last run), "
        f"in {n_chunks} stacks (chunk size {chunk_size})",
    ]
    if len(rows):
        lines += [
            f"- test accuracy: mean {test.mean():.3f}, median {np.median(test):.3f}, "
            f"best {test.max():.3f}; train accuracy: mean {train.mean():.3f}",
            f"- diverged: {int(diverged.sum())} of {len(rows)}",
        ]
    lines += ["", "## Best configurations (mean over seeds)", ""]
    by_config: dict[tuple[str, ...], list[dict[str, str]]] = {}
    for row in rows:
        by_config.setdefault(_config_key(row), []).append(row)
    ranked = sorted(
        by_config.values(),
        key=lambda group: -np.mean([float(r["test_accuracy"]) for r in group]),
    )
    shown_columns = [*DATA_KEYS, *ARCHITECTURE_KEYS, "learning_rate", "l2"]
    lines.append(
        "| "
        + " | ".join(shown_columns)
        + " | seeds | test accuracy | min over seeds | train accuracy | diverged |"
    )
    lines.append("|" + "---|" * (len(shown_columns) + 5))
    for group in ranked[:10]:
        accuracies = [float(r["test_accuracy"]) for r in group]
        cells = [group[0][c] for c in shown_columns]
        cells += [
            str(len(group)),
            f"{np.mean(accuracies):.3f}",
            f"{np.min(accuracies):.3f}",
            f"{np.mean([float(r['train_accuracy']) for r in group]):.3f}",
            str(sum(r["diverged"] == "True" for r in group)),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    where = f"Dask ({dask})" if dask else "this process"
    lines += [
        "",
        "## Throughput",
        "",
        f"- last run: {trained} networks in {seconds:.1f} s on {where}: "
        f"{rate:,.0f} network-epochs/s, {trained / seconds if seconds > 0 else 0:,.1f} networks/s",
        f"- stack training time over all rows (sum of `seconds`): "
        f"{sum(float(r['seconds']) for r in rows):.1f} s",
        "",
        "## Device",
        "",
        f"- backend {settings.backend}: {_device_description(settings.backend, dask)}",
        f"- Python {platform.python_version()}, NumPy {np.__version__}, {platform.platform()}",
        "",
    ]
    return "\n".join(lines)


def _device_description(backend: str, dask: str | None) -> str:
    if dask:
        return "the workers of the Dask cluster"
    gpu = backends.gpu_name(backend)
    if gpu:
        return gpu
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as file:
            names = [
                line.split(":", 1)[1].strip() for line in file if line.startswith("model name")
            ]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} logical cores"


# ---------------------------------------------------------------------------
# TOML files and the command line


def load_config(path: str | Path) -> dict[str, Any]:
    """Grid keys and settings from a TOML file; ValueError naming an unknown key.

    ``arms = [2, 3]``, ``width = [2, 4, 8]``, ``seeds = 5``, ``epochs = 300``, ...: every
    grid key of ``GRID_KEYS`` and every setting of ``SETTING_KEYS``, plus ``out`` and ``dask``.
    """
    path = Path(path)
    try:
        config = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path} is not valid TOML: {exc}") from exc
    valid = (*GRID_KEYS, *SETTING_KEYS, "out", "dask")
    for key in config:
        if key not in valid:
            raise ValueError(f"unknown key {key!r} in {path}; valid keys are {', '.join(valid)}")
    return config


def add_command(commands: Any) -> None:
    """Register ``scratchml sweep`` on the CLI's sub-command parsers."""
    sweep = commands.add_parser(
        "sweep",
        help="train a grid of spiral networks as stacks; results.csv, heatmap.png, summary.md",
        description="Train every network of a grid on spirals, as stacks of same-shape networks. "
        "List flags take several values; flags override --config.",
    )
    add = sweep.add_argument
    add(
        "--config", metavar="FILE", help="a TOML file of grid keys and settings (flags override it)"
    )
    add("--arms", type=int, nargs="+", metavar="N", help="number of spiral arms (classes)")
    add("--turns", type=float, nargs="+", metavar="T", help="turns of each spiral arm")
    add(
        "--noise", type=float, nargs="+", metavar="SD", help="standard deviation of the point noise"
    )
    add("--n-samples", type=int, nargs="+", dest="n_samples", metavar="N", help="training points")
    add("--depth", type=int, nargs="+", metavar="N", help="hidden layers")
    add("--width", type=int, nargs="+", metavar="N", help="units per hidden layer")
    add("--activation", nargs="+", metavar="NAME", help="relu, leaky_relu, sigmoid, tanh, identity")
    add("--optimizer", nargs="+", metavar="NAME", help="sgd, momentum or adam")
    add("--learning-rate", type=float, nargs="+", dest="learning_rate", metavar="RATE")
    add("--l2", type=float, nargs="+", metavar="PENALTY", help="L2 penalties")
    add("--seeds", type=int, metavar="N", help="N: network seeds 0 … N−1")
    add("--epochs", type=int, metavar="N", help=f"epochs per network (default {DEFAULT_EPOCHS})")
    add(
        "--batch-size",
        type=int,
        dest="batch_size",
        metavar="N",
        help="mini-batch size (default: full batch)",
    )
    add("--backend", choices=backends.BACKENDS, help="array library (default numpy)")
    add(
        "--out",
        metavar="DIR",
        help="folder for results.csv, heatmap.png, summary.md (default sweeps/latest)",
    )
    add("--resume", action="store_true", help="continue the sweep in --out")
    add("--chunk-size", type=int, dest="chunk_size", metavar="N", help="most networks per stack")
    add(
        "--dask",
        metavar="ADDRESS|local:N",
        help="ADDRESS of a dask.distributed scheduler, or local:N worker processes",
    )


def command(args: Any) -> int:
    """Run ``scratchml sweep`` from parsed arguments; 2 with a message for bad input."""
    try:
        config = load_config(args.config) if args.config else {}
        for key in (*GRID_KEYS, *SETTING_KEYS, "out", "dask"):
            value = getattr(args, key, None)
            if value is not None:
                config[key] = value
        grid = {key: config.pop(key) for key in GRID_KEYS if key in config}
        out = config.pop("out", "sweeps/latest")
        result = run(grid, out, resume=args.resume, **config)
    except (ValueError, TypeError, FileExistsError, ImportError) as exc:
        print(f"scratchml sweep: error: {exc}", file=sys.stderr)
        return 2
    print(
        f"{result.n_networks} networks ({result.n_trained} trained now, "
        f"{result.network_epochs_per_second:,.0f} network-epochs/s)"
    )
    for path in (result.results, result.heatmap, result.summary):
        print(f"    wrote {path}")
    return 0
