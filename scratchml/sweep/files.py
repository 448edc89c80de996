"""What a sweep keeps on disk, and how each file survives a crash.

``OUT/results.csv``      one row per network, appended and synced per chunk (the commit point)
``OUT/sweep.json``       the grid and settings the rows belong to, the chunk size
``OUT/curves/*.npz``     each network's loss every k epochs, one file per chunk
``OUT/models/*.npz``     the best network of each configuration, as a scratchml model file
``OUT/stacks/*.csv``     the networks of each trained stack, in their order (``model_for``)
``OUT/data.npz``         the user's data (X, y) of a sweep on them

A chunk's curves and model files are written (atomically) before its rows are appended:
a network with a row always has its curve and, if it is the best of its
configuration, its model file. Files written for rows that never made it are simply
written again, identically, when the chunk is trained again. (``run`` writes a chunk's
files in a thread of its own while the next chunk trains, in this same order.)
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import numbers
import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from .._files import complete_lines, durable_append, stage, write_atomically
from .grid import CONFIG_FIELDS, NETWORK_FIELDS, OPTIMIZER_KEYS, Network, Settings

KEY_COLUMNS = (*NETWORK_FIELDS, "epochs", "batch_size", "dtype", "data_seed", "backend", "data")
# Scores are accuracies for a classifier, R² for a regressor. ``at_chance``: no better on
# its training data than chance; ``stack`` / ``position``: the stack the network trained in
# (its file OUT/stacks/STACK.csv) and its place there.
METRIC_COLUMNS = (
    "final_loss", "train_accuracy", "validation_accuracy", "test_accuracy", "at_chance",
    "diverged", "stack", "position", "seconds",
)  # fmt: skip
COLUMNS = KEY_COLUMNS + METRIC_COLUMNS

RESULTS_FILE = "results.csv"
SETTINGS_FILE = "sweep.json"
CURVES_DIR = "curves"
MODELS_DIR = "models"
STACKS_DIR = "stacks"
DATA_FILE = "data.npz"


def format_cell(value: Any) -> str:
    """One cell of results.csv: exact round trip for floats, plain text for the rest."""
    # Text, Python floats and ints first, by their exact type: a sweep formats tens of
    # thousands of cells, and the abstract-class checks below cost ten times more.
    kind = type(value)
    if kind is str:
        return value
    if kind is float:
        return repr(value)
    if kind is int:
        return str(value)
    if value is None:
        return ""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (numbers.Integral, np.integer)):
        return str(int(value))
    if isinstance(value, (numbers.Real, np.floating)):
        return repr(float(value))
    return str(value)


def network_row(network: Network, settings: Settings, **metrics: Any) -> dict[str, str]:
    """A row of results.csv: the network, the settings that decide it, and ``metrics``."""
    row = dict(zip(NETWORK_FIELDS, map(format_cell, network), strict=True))
    row["epochs"] = format_cell(settings.epochs)
    row["batch_size"] = format_cell(settings.batch_size)
    row["dtype"] = format_cell(settings.dtype)
    row["data_seed"] = format_cell(settings.data_seed)
    row["backend"] = format_cell(settings.backend)
    row["data"] = format_cell(settings.data)
    for column, value in metrics.items():
        row[column] = format_cell(value)
    return row


_KEY_CELLS = operator.itemgetter(*KEY_COLUMNS)


def row_key(row: Mapping[str, Any]) -> tuple[str, ...]:
    """What identifies a row's network: its key columns, as text."""
    return tuple(map(format_cell, _KEY_CELLS(row)))


def config_key(row: Mapping[str, Any]) -> tuple[str, ...]:
    """What identifies a row's configuration on one split: its key columns but the seed."""
    return tuple(format_cell(row[column]) for column in KEY_COLUMNS if column != "seed")


def pooled_key(row: Mapping[str, Any]) -> tuple[str, ...]:
    """A row's configuration over every fold: its key columns but the seed and the fold."""
    return tuple(format_cell(row[column]) for column in KEY_COLUMNS if column not in POOLED)


# The columns a configuration pools over: its networks differ only in these.
POOLED = ("seed", "fold")


def model_file_name(row: Mapping[str, Any]) -> str:
    """The model file of a network: its configuration and seed, readable, e.g.
    ``arms2-turns1.5-noise0.05-n400-depth3-width8-tanh-adam-lr0.01-l2_0.0-seed3.npz``."""
    cell = {key: format_cell(row[key]) for key in (*CONFIG_FIELDS, "seed")}
    data = (
        f"arms{cell['arms']}-turns{cell['turns']}-noise{cell['noise']}-n{cell['n_samples']}-"
        if cell["arms"]
        else f"fold{cell['fold']}-"
    )
    optimizer = "".join(f"-{key}_{cell[key]}" for key in OPTIMIZER_KEYS if cell[key])
    optimizer += "".join(
        f"-{item.replace('=', '_')}" for item in cell["optimizer_settings"].split(",") if item
    )
    return (
        f"{data}depth{cell['depth']}-width{cell['width']}-{cell['activation']}-"
        f"{cell['optimizer']}{optimizer}-lr{cell['learning_rate']}-l2_{cell['l2']}-"
        f"seed{cell['seed']}.npz"
    )


# --- results.csv ------------------------------------------------------------------------------


def rows_text(
    rows: Iterable[Mapping[str, str]], header: bool = False, columns: Sequence[str] = COLUMNS
) -> str:
    """Rows as CSV text (with the header line if asked)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n", extrasaction="ignore")
    if header:
        writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def read_results(path: str | Path, repair: bool = False) -> list[dict[str, str]]:
    """The complete rows of a results.csv, as dicts of strings.

    Parameters
    ----------
    path : str or Path
        A sweep's results.csv.
    repair : bool
        Also cut a torn last line (a write the process was killed in) from the file,
        so that appending goes on cleanly. Without it the torn line is only ignored.

    Returns
    -------
    list of dict
        One dict per complete row, column → text; [] for a missing or empty file.

    Raises
    ------
    ValueError
        If the header is not a sweep's.
    """
    lines = complete_lines(path, repair=repair)
    if not lines:
        return []
    header = tuple(next(csv.reader([lines[0]])))
    columns = COLUMNS if header == COLUMNS else header
    if header != COLUMNS and header != _COLUMNS_BEFORE_OPTIMIZER_SETTINGS:
        raise ValueError(
            f"{path} is not a results file of this version of scratchml's sweeps: its columns "
            f"are {', '.join(header)}; expected {', '.join(COLUMNS)}. Use another --out."
        )
    rows = [
        dict(zip(columns, cells, strict=True))
        for cells in csv.reader(lines[1:])
        if len(cells) == len(columns)
    ]
    if header != COLUMNS:  # an earlier release's: "" where it had no column, today's order
        rows = [{column: row.get(column, "") for column in COLUMNS} for row in rows]
    if header != COLUMNS and repair:  # a sweep of an earlier release: its file in today's form
        write_atomically(Path(path), rows_text(rows, header=True))
    return rows


# results.csv as releases before ``optimizer_settings`` wrote it: read as "" there, and
# rewritten in today's form when the sweep goes on (--resume, --extend).
_COLUMNS_BEFORE_OPTIMIZER_SETTINGS = tuple(c for c in COLUMNS if c != "optimizer_settings")


def append_rows(path: Path, rows: Sequence[Mapping[str, str]]) -> None:
    """Append rows to results.csv and wait until they are on disk (the header first if new)."""
    new = not path.exists() or path.stat().st_size == 0
    durable_append(path, rows_text(rows, header=new))


def write_sorted(path: Path, rows: list[dict[str, str]], order: Sequence[tuple[str, ...]]) -> None:
    """Rewrite results.csv in grid order, atomically (not at all if it is in order already)."""
    rank = {key: i for i, key in enumerate(order)}
    rows = sorted(rows, key=lambda row: rank.get(row_key(row), len(rank)))
    text = rows_text(rows, header=True)
    # Chunks trained here finish in grid order: the appended file is the sorted one, and
    # is on disk already; writing it again would cost a write and a sync for nothing.
    if not path.exists() or path.read_bytes() != text.encode("utf-8"):
        write_atomically(path, text)


# --- sweep.json -------------------------------------------------------------------------------


def read_stored(out: Path) -> dict[str, Any]:
    """What sweep.json holds ({} when there is none)."""
    path = out / SETTINGS_FILE
    if not path.exists():
        return {}
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path} cannot be read as a sweep's settings: {exc}") from None
    if not isinstance(stored, dict):
        raise ValueError(f"{path} is not a sweep's settings file")
    return stored


def write_stored(
    out: Path,
    grid: Mapping[str, list[Any]],
    settings: Settings,
    chunk_size: int | None,
    chunk_sizes: Mapping[tuple[Any, ...], int] | None = None,
    report: Mapping[str, Any] | None = None,
    staged: list[Callable[[], None]] | None = None,
) -> None:
    """Write sweep.json: the grid, the settings, the chunk sizes and the report settings.

    ``chunk_size`` is the size asked for (None: each architecture its own, kept in
    ``chunk_sizes`` per stack), ``report`` how success is judged and reported. With
    ``staged``, the file is written but synced and put in place by the call added to it
    (``_files.stage``).
    """
    stored: dict[str, Any] = {
        "grid": dict(grid),
        "settings": asdict(settings),
        "chunk_size": chunk_size,
    }
    if chunk_sizes is not None:
        stored["chunk_sizes"] = [
            {"stack": list(key), "size": size} for key, size in chunk_sizes.items()
        ]
    if report is not None:
        stored["report"] = dict(report)
    _write(out / SETTINGS_FILE, json.dumps(stored, indent=2) + "\n", staged)


def _write(path: Path, content: str | bytes, staged: list[Callable[[], None]] | None) -> None:
    """``write_atomically``, or with ``staged`` its second half left to the caller."""
    if staged is None:
        write_atomically(path, content)
    else:
        staged.append(stage(path, content))


def stored_chunk_sizes(stored: Mapping[str, Any]) -> dict[tuple[Any, ...], int]:
    """The chunk size of each stack a stored sweep chose (``write_stored``)."""
    return {tuple(entry["stack"]): int(entry["size"]) for entry in stored.get("chunk_sizes", [])}


# --- curves and model files -------------------------------------------------------------------


def write_curves(
    out: Path, rows: Sequence[Mapping[str, str]], epochs: np.ndarray, losses: np.ndarray
) -> Path:
    """Save the loss curves of a chunk's networks: ``losses`` (M, P) at ``epochs`` (P,).

    The file is named after its networks, so a chunk trained again writes the same file.
    """
    keys = np.array(["\t".join(row_key(row)) for row in rows])
    name = hashlib.sha1("\n".join(keys.tolist()).encode()).hexdigest()[:16]
    buffer = io.BytesIO()
    np.savez(
        buffer,
        keys=keys,
        epoch=np.asarray(epochs, dtype=np.int64),
        loss=np.asarray(losses, dtype=np.float32),
    )
    path = out / CURVES_DIR / f"chunk-{name}.npz"
    path.parent.mkdir(exist_ok=True)
    write_atomically(path, buffer.getvalue())
    return path


def read_curves(out: Path) -> dict[tuple[str, ...], tuple[np.ndarray, np.ndarray]]:
    """Row key → (epochs, losses) for every network whose curve is saved in ``out``."""
    curves: dict[tuple[str, ...], tuple[np.ndarray, np.ndarray]] = {}
    for path in sorted((out / CURVES_DIR).glob("chunk-*.npz")):
        with np.load(path, allow_pickle=False) as saved:
            epochs, losses = saved["epoch"], saved["loss"]
            for key, loss in zip(saved["keys"].tolist(), losses, strict=True):
                curves.setdefault(tuple(key.split("\t")), (epochs, loss))
    return curves


def write_model(out: Path, name: str, content: bytes) -> Path:
    """Save a model file's bytes (as ``io.save`` wrote them) under OUT/models."""
    path = out / MODELS_DIR / name
    path.parent.mkdir(exist_ok=True)
    write_atomically(path, content)
    return path


# --- stacks: which networks trained together --------------------------------------------------


def stack_id(rows: Sequence[Mapping[str, Any]]) -> str:
    """The name of the stack of these rows' networks, in this order (the same on every run)."""
    keys = "\n".join("\t".join(row_key(row)) for row in rows)
    return hashlib.sha1(keys.encode()).hexdigest()[:16]


def stack_text(rows: Sequence[Mapping[str, str]]) -> str:
    """A stack's file: the key columns of its networks, one line each, in stack order."""
    return rows_text(rows, header=True, columns=KEY_COLUMNS)


def write_stack(out: Path, name: str, text: str) -> Path:
    """Save a stack's file under OUT/stacks."""
    path = out / STACKS_DIR / f"{name}.csv"
    path.parent.mkdir(exist_ok=True)
    write_atomically(path, text)
    return path


def read_stack(out: Path, name: str) -> list[dict[str, str]]:
    """The networks of the stack ``name`` of the sweep in ``out``, in stack order."""
    path = out / STACKS_DIR / f"{name}.csv"
    if not path.exists():
        raise FileNotFoundError(f"{out} has no file of the stack {name!r} ({path})")
    with path.open(encoding="utf-8", newline="") as file:
        return list(csv.DictReader(file))


# --- the user's data ----------------------------------------------------------------------------


def write_data(
    out: Path, X: np.ndarray, y: np.ndarray, staged: list[Callable[[], None]] | None = None
) -> Path:
    """Save the user's data of a sweep (so that resuming and ``model_for`` find them).

    With ``staged``, as ``write_stored``: synced and put in place by the call added to it.
    """
    buffer = io.BytesIO()
    np.savez(buffer, X=X, y=y)
    path = out / DATA_FILE
    _write(path, buffer.getvalue(), staged)
    return path


def read_data(out: Path) -> tuple[np.ndarray, np.ndarray]:
    """The user's data (X, y) a sweep in ``out`` ran on."""
    path = out / DATA_FILE
    if not path.exists():
        raise FileNotFoundError(f"{out} has no {DATA_FILE}: the sweep's data are missing")
    with np.load(path, allow_pickle=False) as saved:
        return saved["X"], saved["y"]
