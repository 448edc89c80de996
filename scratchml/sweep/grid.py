"""The grid of a sweep: its keys, their checked values, the networks it holds, TOML configs."""

from __future__ import annotations

import difflib
import itertools
import math
import numbers
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from .. import backends
from ..estimators.network import OPTIMIZER_SETTINGS

DATA_KEYS = ("arms", "turns", "noise", "n_samples")
# The built-in optimizers' settings, as the optimizers declare them (scikit-learn's names),
# passed to the stack estimator as keywords of these names; None (the default) leaves the
# estimator's own default. Any optimizer's settings (one of your own included) go in
# ``optimizer_settings``: a table of name → value per grid value, kept as text
# ("rho=0.95"), the stack's ``optimizer_settings``.
OPTIMIZER_KEYS = tuple(OPTIMIZER_SETTINGS)
ARCHITECTURE_KEYS = (
    "depth", "width", "activation", "optimizer", *OPTIMIZER_KEYS, "optimizer_settings",
)  # fmt: skip
# Inside one stack: every network of a chunk shares the keys above and varies these.
STACK_KEYS = ("learning_rate", "l2", "seed")
# ``fold``: which split of the user's data (k-fold); always 0 for spirals and a held-out split.
NETWORK_FIELDS = (*DATA_KEYS, "fold", *ARCHITECTURE_KEYS, *STACK_KEYS)
GRID_KEYS = DATA_KEYS + ARCHITECTURE_KEYS + ("learning_rate", "l2", "seeds")
# A configuration: every grid key but the seed (its networks differ only by seed).
CONFIG_FIELDS = NETWORK_FIELDS[:-1]
# Settings shared by every network of a sweep (TOML keys beside the grid's).
SETTING_KEYS = (
    "epochs", "batch_size", "backend", "dtype", "data_seed", "curve_every", "task", "folds",
    "standardize",
)  # fmt: skip
# How success is judged and reported (stored in sweep.json, used again on --resume).
REPORT_KEYS = ("threshold", "min_seeds", "judge_on", "by", "axes")
# TOML keys that are neither grid keys nor settings: where and how to run and report.
RUN_KEYS = ("out", "dask", "chunk_size", *REPORT_KEYS, "data", "target")

DEFAULT_GRID: dict[str, Any] = {
    "arms": [2],
    "turns": [1.0],
    "noise": [0.05],
    "n_samples": [400],
    "depth": [1, 2, 3],
    "width": [2, 4, 8, 16],
    "activation": ["tanh"],
    "optimizer": ["adam"],
    **{key: [None] for key in OPTIMIZER_KEYS},
    "optimizer_settings": [""],
    "learning_rate": [0.01],
    "l2": [0.0],
    "seeds": 4,
}
DEFAULT_EPOCHS = 300
# A network reaching this score (on validation, by default) succeeds on that seed.
DEFAULT_THRESHOLD = 0.95
# The splits success can be judged on: validation (the default; test stays an unbiased
# estimate of what was chosen) or test.
JUDGE_SPLITS = ("validation", "test")
TASKS = ("classifier", "regressor")


class Network(NamedTuple):
    """One point of the grid: a data set (spirals, or a fold of the user's) and a network.

    On the user's data the spiral keys are None and ``fold`` says which split it trains on.
    """

    arms: int | None
    turns: float | None
    noise: float | None
    n_samples: int | None
    fold: int
    depth: int
    width: int
    activation: str
    optimizer: str
    momentum: float | None
    beta_1: float | None
    beta_2: float | None
    epsilon: float | None
    optimizer_settings: str  # "" or "name=value,..." (``settings_text``)
    learning_rate: float
    l2: float
    seed: int


@dataclass(frozen=True)
class Settings:
    """What every network of a sweep shares besides its grid point.

    ``curve_every``: each network's training loss is kept every this many epochs
    (and at the last epoch); 0 picks about 100 points per curve. ``data``: "spirals",
    or the name and content hash of the user's data; ``task``: a classifier or a
    regressor (spirals: a classifier); ``folds``: 0 for one held-out split of the
    user's data, k ≥ 3 for k-fold; ``standardize``: on the user's data, scale each
    feature to mean 0 and standard deviation 1 with the statistics of the training
    rows of each split (fold), never of its validation or test rows.
    """

    epochs: int = DEFAULT_EPOCHS
    batch_size: int | None = None  # None: full batch
    backend: str = "numpy"
    dtype: str = "float32"
    data_seed: int = 0  # training data seed (spirals: validation data_seed + 2, test + 1)
    curve_every: int = 0
    data: str = "spirals"
    task: str = "classifier"
    folds: int = 0
    standardize: bool = False

    @property
    def curve_step(self) -> int:
        """Epochs between two kept points of a loss curve."""
        return self.curve_every or max(1, self.epochs // 100)

    @property
    def on_spirals(self) -> bool:
        """Whether the networks train on spirals (else on the user's data)."""
        return self.data == "spirals"


def _values(grid: Mapping[str, Any], key: str) -> list[Any]:
    value = grid[key]
    if value is None or isinstance(value, (str, numbers.Number)):
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


def _reals(key: str, values: list[Any], low: float, high: float, open_low: bool) -> list[float]:
    for v in values:
        ok = isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(v)
        if not ok or not ((v > low if open_low else v >= low) and v < high):
            bound = "> " if open_low else "≥ "
            what = f"a number {bound}{low:g}" + (f" and < {high:g}" if high < math.inf else "")
            raise ValueError(f"grid key {key!r}: every value must be {what}; got {v!r}")
    return [float(v) for v in values]


def _estimator_parameter(key: str, values: list[Any]) -> list[Any]:
    """Values of an estimator parameter, checked by the stack estimator's own table.

    The grid keys that are hyper-parameters of the networks (``activation``,
    ``learning_rate``, ``momentum``, ...) take what ``StackedMLPClassifier`` takes, checked
    by its declared parameter table, so the grid and the estimator cannot disagree.
    """
    from ..estimators.stacks import StackedMLPClassifier

    entry = StackedMLPClassifier.hyperparameter_table()[key]
    for v in values:
        entry.check_one(v, f"grid key {key!r}: a value")
    return [
        float(v) if isinstance(v, numbers.Real) and not isinstance(v, bool) else v for v in values
    ]


def settings_text(settings: Mapping[str, Any] | None) -> str:
    """An optimizer's settings as one cell of text: "" or "name=value,..." (sorted, exact).

    Parameters
    ----------
    settings : mapping or None
        Setting name → number.

    Returns
    -------
    str
        The canonical text, which ``settings_of`` reads back.
    """
    return ",".join(f"{name}={float(value)!r}" for name, value in sorted((settings or {}).items()))


def settings_of(text: str) -> dict[str, float]:
    """The settings ``settings_text`` wrote.

    Parameters
    ----------
    text : str
        "" or "name=value,...".

    Returns
    -------
    dict of str to float
        Setting name → value.
    """
    pairs = [item.split("=", 1) for item in text.split(",") if item]
    return {name: float(value) for name, value in pairs}


def _optimizer_settings(key: str, values: list[Any]) -> list[str]:
    """Tables of optimizer settings (or their text), checked by the estimator's table and
    against what the registered optimizers declare, kept as ``settings_text``."""
    from ..estimators.stacks import StackedMLPClassifier
    from ..nn.optimizers import all_settings

    entry = StackedMLPClassifier.hyperparameter_table()[key]
    declared = all_settings()
    checked = []
    for value in values:
        table = settings_of(value) if isinstance(value, str) else value
        entry.check_one(table or None, f"grid key {key!r}: a value")
        for name in table or {}:
            if name in OPTIMIZER_KEYS or name not in declared:
                where = "its own grid key" if name in OPTIMIZER_KEYS else "no optimizer's setting"
                raise ValueError(
                    f"grid key {key!r}: {name!r} is {where}; the settings optimizers declare "
                    f"beyond those keys are: {', '.join(n for n in declared if n not in OPTIMIZER_KEYS) or 'none'}"
                )
        checked.append(settings_text(table))
    return checked


def _optional(check: Any) -> Any:
    """A rule that also takes None (the estimator's own default)."""

    def rule(key: str, values: list[Any]) -> list[Any]:
        given = check(key, [v for v in values if v is not None])
        it = iter(given)
        return [None if v is None else next(it) for v in values]

    return rule


# The one table of what each grid key takes: key → rule(key, values) → checked values.
VALUE_RULES: dict[str, Any] = {
    "arms": lambda k, v: _integers(k, v, 2),
    "turns": lambda k, v: _reals(k, v, 0.0, math.inf, open_low=True),
    "noise": lambda k, v: _reals(k, v, 0.0, math.inf, open_low=False),
    "n_samples": lambda k, v: _integers(k, v, 1),
    "depth": lambda k, v: _integers(k, v, 1),
    "width": lambda k, v: _integers(k, v, 1),
    # The networks' hyper-parameters: the estimator's table says what each takes.
    "activation": _estimator_parameter,
    "optimizer": _estimator_parameter,
    **{key: _optional(_estimator_parameter) for key in OPTIMIZER_KEYS},
    "optimizer_settings": lambda k, v: _optimizer_settings(k, v),
    "learning_rate": _estimator_parameter,
    "l2": _estimator_parameter,
}


def check_values(key: str, value: Any) -> list[Any]:
    """The checked list of values of one grid key (``seeds``: a count N or a list of seeds).

    Every grid value is checked here, by ``VALUE_RULES``, and nowhere else.

    Parameters
    ----------
    key : str
        A key of ``GRID_KEYS``.
    value : Any
        Its value or list of values; for ``seeds``, a count N (seeds 0 … N−1) or a list
        of seeds.

    Returns
    -------
    list
        The checked values, in the order given; ``seeds`` as the list of seeds.

    Raises
    ------
    ValueError
        Naming the key: an empty list, a repeated value, a value out of range.
    """
    if key == "seeds":
        if isinstance(value, numbers.Integral) and not isinstance(value, bool):
            if value < 1:
                raise ValueError(f"grid key 'seeds': a number of seeds must be ≥ 1; got {value!r}")
            checked = list(range(int(value)))
        else:
            checked = _integers("seeds", _values({key: value}, key), 0)
    else:
        checked = VALUE_RULES[key](key, _values({key: value}, key))
    repeated = [v for v in checked if checked.count(v) > 1]
    if repeated:
        raise ValueError(f"grid key {key!r} repeats the value {repeated[0]!r}")
    return checked


def unknown_key_message(key: str, valid: Sequence[str], what: str = "grid key") -> str:
    """'unknown grid key 'widht' (did you mean width?); valid keys are ...'.

    Parameters
    ----------
    key : str
        The key given that is not valid.
    valid : sequence of str
        The keys that are; the closest one to ``key``, if any is close, is suggested.
    what : str, default "grid key"
        What a key is called in the message ("setting", "key", ...).

    Returns
    -------
    str
        The message of the error to raise.
    """
    close = difflib.get_close_matches(key, valid, n=1)
    hint = f" (did you mean {close[0]}?)" if close else ""
    return f"unknown {what} {key!r}{hint}; valid keys are {', '.join(valid)}"


def check_grid(grid: Mapping[str, Any], spirals: bool = True) -> dict[str, list[Any]]:
    """The grid with every key present, as lists of checked values (defaults fill gaps).

    Parameters
    ----------
    grid : mapping
        Keys of ``GRID_KEYS`` to a value or a list of values; ``seeds`` is a count N
        (seeds 0 … N−1) or a list of seeds.
    spirals : bool
        Whether the networks train on spirals. On the user's data the spiral keys
        (``DATA_KEYS``) are None and may not be given.

    Returns
    -------
    dict
        Every key of ``GRID_KEYS`` to its list of values (``seeds`` as a list).

    Raises
    ------
    ValueError
        Naming the key: an unknown key (with the closest valid one), an empty list, a
        repeated value, or a value out of range (width 0, unknown activation, ...).
    """
    if not isinstance(grid, Mapping):
        raise TypeError(f"grid must be a mapping of key → values; got {type(grid).__name__}")
    unknown = sorted(set(grid) - set(GRID_KEYS))
    if unknown:
        raise ValueError(unknown_key_message(unknown[0], GRID_KEYS))
    full = {**DEFAULT_GRID, **grid}
    if not spirals:
        given = [k for k in DATA_KEYS if k in grid and _values(grid, k) != [None]]
        if given:
            raise ValueError(
                f"grid key {given[0]!r} sets up spirals; a sweep on your own data takes "
                f"only the network's keys: {', '.join(GRID_KEYS[len(DATA_KEYS) :])}"
            )
        full.update({key: [None] for key in DATA_KEYS})
    checked = {
        key: [None] if not spirals and key in DATA_KEYS else check_values(key, full[key])
        for key in GRID_KEYS
    }
    if spirals:
        too_few = [n for n in checked["n_samples"] if n < max(checked["arms"])]
        if too_few:
            raise ValueError(
                f"grid key 'n_samples': {too_few[0]} samples cannot hold "
                f"{max(checked['arms'])} arms"
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
        raise ValueError(unknown_key_message(unknown[0], SETTING_KEYS, "setting"))
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
    if result.task not in TASKS:
        raise ValueError(f"task must be one of {', '.join(TASKS)}; got {result.task!r}")
    check_non_negative(result.folds, "folds", integer=True)
    if result.folds in (1, 2):
        raise ValueError(
            f"folds must be 0 (one held-out split) or k ≥ 3 (a test, a validation and "
            f"training folds); got {result.folds}"
        )
    if result.on_spirals and (result.task != "classifier" or result.folds):
        raise ValueError("spirals are a classification task with a held-out draw: no folds")
    if not isinstance(result.standardize, bool):
        raise ValueError(f"standardize must be True or False; got {result.standardize!r}")
    if result.on_spirals and result.standardize:
        raise ValueError("standardize scales your own data's features; spirals need none")
    return result


def networks_of(grid: Mapping[str, Any], settings: Settings) -> list[Network]:
    """Every network of a sweep's grid under its settings (on the user's data: each fold).

    Parameters
    ----------
    grid : mapping
        As for ``check_grid``.
    settings : Settings
        The sweep's settings: spirals, or the user's data split into ``settings.folds``.

    Returns
    -------
    list of Network
        As ``expand`` returns them: one per grid point (and per fold on the user's data),
        in grid order.
    """
    return expand(grid, None if settings.on_spirals else settings.folds)


def expand(grid: Mapping[str, Any], folds: int | None = None) -> list[Network]:
    """Every network of the grid, in grid order (the last key, the seed, varies fastest).

    Networks of one data set and one architecture are consecutive, so that they can be
    cut into stacks.

    Parameters
    ----------
    grid : mapping
        As for ``check_grid``.
    folds : int, optional
        None for spirals; on the user's data, 0 (one held-out split: fold 0) or the
        number k of folds (folds 0 … k−1).

    Returns
    -------
    list of Network
        One per grid point.
    """
    checked = check_grid(grid, spirals=folds is None)
    fold_values = range(max(1, folds or 0))
    axes = [
        *(checked[key] for key in DATA_KEYS),
        fold_values,
        *(checked[key] for key in (*ARCHITECTURE_KEYS, "learning_rate", "l2")),
        checked["seeds"],
    ]
    return [Network(*point) for point in itertools.product(*axes)]


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
            raise ValueError(f"{path}: " + unknown_key_message(key, valid, "key"))
    return config
