"""The grid of a sweep: its keys, their checked values, the networks it holds, TOML configs."""

from __future__ import annotations

import itertools
import math
import numbers
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from .. import backends

DATA_KEYS = ("arms", "turns", "noise", "n_samples")
ARCHITECTURE_KEYS = ("depth", "width", "activation", "optimizer")
# Inside one stack: every network of a chunk shares the keys above and varies these.
STACK_KEYS = ("learning_rate", "l2", "seed")
NETWORK_FIELDS = DATA_KEYS + ARCHITECTURE_KEYS + STACK_KEYS
GRID_KEYS = DATA_KEYS + ARCHITECTURE_KEYS + ("learning_rate", "l2", "seeds")
# A configuration: every grid key but the seed (its networks differ only by seed).
CONFIG_FIELDS = NETWORK_FIELDS[:-1]
# Settings shared by every network of a sweep (TOML keys beside the grid's).
SETTING_KEYS = ("epochs", "batch_size", "backend", "dtype", "data_seed", "curve_every")
# TOML keys that are neither grid keys nor settings: where and how to run and report.
RUN_KEYS = ("out", "dask", "chunk_size", "threshold", "by")

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
# A network reaching this test accuracy on a seed "separates" the spirals on that seed.
DEFAULT_THRESHOLD = 0.95


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


@dataclass(frozen=True)
class Settings:
    """What every network of a sweep shares besides its grid point.

    ``curve_every``: each network's training loss is kept every this many epochs
    (and at the last epoch); 0 picks about 100 points per curve.
    """

    epochs: int = DEFAULT_EPOCHS
    batch_size: int | None = None  # None: full batch
    backend: str = "numpy"
    dtype: str = "float32"
    data_seed: int = 0  # training data seed; the held-out test set uses data_seed + 1
    curve_every: int = 0

    @property
    def curve_step(self) -> int:
        """Epochs between two kept points of a loss curve."""
        return self.curve_every or max(1, self.epochs // 100)


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

    Parameters
    ----------
    grid : mapping
        Keys of ``GRID_KEYS`` to a value or a list of values; ``seeds`` is a count N
        (seeds 0 … N−1) or a list of seeds.

    Returns
    -------
    dict
        Every key of ``GRID_KEYS`` to its list of values (``seeds`` as a list).

    Raises
    ------
    ValueError
        Naming the key: an unknown key, an empty list, a repeated value, or a value out
        of range (width 0, unknown activation, ...).
    """
    from ..nn.activations import ACTIVATIONS
    from ..nn.optimizers import OPTIMIZERS

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


def grid_differences(stored: Mapping[str, list[Any]], asked: Mapping[str, list[Any]]) -> list[str]:
    """How two checked grids differ, one phrase per key (empty when they are the same)."""
    return [
        f"{key} is {_shown(asked[key])} here but {_shown(stored[key])} in the sweep"
        for key in GRID_KEYS
        if list(stored.get(key, [])) != list(asked[key])
    ]


def union(stored: Mapping[str, list[Any]], asked: Mapping[str, list[Any]]) -> dict[str, list[Any]]:
    """Per key, the stored values then the new ones: the grid an extended sweep covers."""
    return {
        key: [*stored[key], *(v for v in asked[key] if v not in stored[key])] for key in GRID_KEYS
    }


def _shown(values: Sequence[Any]) -> str:
    return ", ".join(map(str, values)) if len(values) <= 8 else f"{len(values)} values"


def check_settings(**settings: Any) -> Settings:
    """Sweep-wide settings, checked.

    Parameters
    ----------
    **settings
        Fields of ``Settings`` by name (``epochs``, ``batch_size``, ``backend``, ...).

    Returns
    -------
    Settings
        The settings, the missing ones at their defaults.

    Raises
    ------
    ValueError
        Naming the setting: unknown, non-positive epochs or batch size, an unknown
        backend or dtype, a negative data seed or curve step.
    """
    from .._validation import check_non_negative, check_positive

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
    check_non_negative(result.curve_every, "curve_every", integer=True)
    return result


def expand(grid: Mapping[str, Any]) -> list[Network]:
    """Every network of the grid, in grid order (the last key, the seed, varies fastest).

    Networks of one data set and one architecture are consecutive, so that they can be
    cut into stacks.

    Parameters
    ----------
    grid : mapping
        As for ``check_grid``.

    Returns
    -------
    list of Network
        One per grid point.
    """
    checked = check_grid(grid)
    axes = [checked[key] for key in (*DATA_KEYS, *ARCHITECTURE_KEYS, "learning_rate", "l2")]
    return [Network(*point) for point in itertools.product(*axes, checked["seeds"])]


def load_config(path: str | Path) -> dict[str, Any]:
    """Grid keys and settings from a TOML file.

    ``arms = [2, 3]``, ``width = [2, 4, 8]``, ``seeds = 5``, ``epochs = 300``, ...: every
    key of ``GRID_KEYS`` and ``SETTING_KEYS``, plus ``out``, ``dask``, ``chunk_size``,
    ``threshold`` and ``by``.

    Parameters
    ----------
    path : str or Path
        The TOML file.

    Returns
    -------
    dict
        Key → value as written in the file.

    Raises
    ------
    ValueError
        The file is missing, unreadable, not TOML, or has an unknown key (named).
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ValueError(f"config file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise ValueError(f"config file {path} cannot be read: {reason}") from None
    try:
        config = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"config file {path} is not valid TOML: {exc}") from None
    valid = (*GRID_KEYS, *SETTING_KEYS, *RUN_KEYS)
    for key in config:
        if key not in valid:
            raise ValueError(f"unknown key {key!r} in {path}; valid keys are {', '.join(valid)}")
    return config
