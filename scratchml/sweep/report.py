"""What a sweep's rows say: one row per configuration (configs.csv), summary.md, pictures.

A *configuration* is every grid key but the seed and, with ``folds``, the fold: its
networks differ only by their initial weights (and mini-batch order) and the split they
trained on, and it pools them: k-fold × seeds networks (mean ± sd, k of n). A network
*succeeds* when its score on the judged split (``judge_on``: validation by default)
reaches ``threshold``; a configuration is *reliable* when at least ``min_seeds`` of its
networks succeed (k of n; by default all of them). The test score of what is chosen
is reported beside it and is never used to choose, so it stays an unbiased estimate.
Everything here is computed from the rows it is given, so a report always describes
exactly the rows it shows.
"""

from __future__ import annotations

import csv
import io
import math
import numbers
import platform
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .. import backends, machine
from .._files import write_atomically
from ..viz.sweep import score_name, sweep_curves, sweep_pictures
from .chunks import n_parameters, rank
from .files import KEY_COLUMNS, POOLED, format_cell, model_file_name, pooled_key, row_key
from .grid import (
    DATA_KEYS,
    DEFAULT_THRESHOLD,
    GRID_KEYS,
    JUDGE_SPLITS,
    OPTIMIZER_KEYS,
    REPORT_KEYS,
    Network,
    Settings,
    unknown_key_message,
)
from .rows import as_rows, parse_row
from .userdata import UserData

CONFIGS_FILE = "configs.csv"
SUMMARY_FILE = "summary.md"
CURVES_PICTURE = "curves.png"

CONFIG_COLUMNS = (
    *(c for c in KEY_COLUMNS if c not in POOLED),
    "n_parameters",
    "seeds",
    "folds",
    "networks",
    "judge_on",
    "threshold",
    "min_seeds",
    "successes",
    "success_rate",
    "reliable",
    "mean_validation_accuracy",
    "sd_validation_accuracy",
    "min_validation_accuracy",
    "max_validation_accuracy",
    "mean_test_accuracy",
    "sd_test_accuracy",
    "min_test_accuracy",
    "max_test_accuracy",
    "test_successes",
    "mean_train_accuracy",
    "mean_final_loss",
    "diverged",
    "at_chance",
    "best_seed",
    "best_fold",
    "best_validation_accuracy",
    "best_test_accuracy",
    "model_file",
)
# Keys a table or heatmap can put on an axis or split into panels.
TABLE_KEYS = (
    *DATA_KEYS, "fold", "depth", "width", "activation", "optimizer", *OPTIMIZER_KEYS,
    "optimizer_settings", "learning_rate", "l2",
)  # fmt: skip


@dataclass(frozen=True)
class ReportSettings:
    """How a sweep's success is judged and reported; kept in sweep.json.

    ``threshold``: the score a network must reach on ``judge_on`` ("validation" or
    "test") to succeed; ``min_seeds``: successes that make a configuration reliable
    (None: all of its networks); ``by``: keys that make panels of the pictures (None:
    the network's keys); ``axes``: pairs of keys that get a table and heatmaps of their
    own (besides depth × width).
    """

    threshold: float = DEFAULT_THRESHOLD
    min_seeds: int | None = None
    judge_on: str = "validation"
    by: tuple[str, ...] | None = None
    axes: tuple[tuple[str, str], ...] = ()

    def stored(self) -> dict[str, Any]:
        """The settings as sweep.json keeps them.

        Returns
        -------
        dict
            Each setting by name, ``by`` and ``axes`` as lists.
        """
        found = asdict(self)
        found["by"] = None if self.by is None else list(self.by)
        found["axes"] = [list(pair) for pair in self.axes]
        return found


def check_report(stored: Mapping[str, Any] | None = None, **given: Any) -> ReportSettings:
    """Report settings: those given, the stored ones (sweep.json's) filling the gaps.

    Parameters
    ----------
    stored : mapping, optional
        The report settings a sweep stored (``ReportSettings.stored``).
    **given
        ``threshold``, ``min_seeds``, ``judge_on``, ``by``, ``axes``; a value of None is
        "not given".

    Returns
    -------
    ReportSettings

    Raises
    ------
    ValueError
        Naming the setting: a threshold outside (0, 1] for accuracies, min_seeds not a
        positive integer, an unknown split or key, axes that are not pairs of keys.
    """
    unknown = sorted(set(given) - set(REPORT_KEYS))
    if unknown:
        raise ValueError(unknown_key_message(unknown[0], REPORT_KEYS, "report setting"))
    values = {**dict(stored or {}), **{k: v for k, v in given.items() if v is not None}}
    values = {k: v for k, v in values.items() if k in REPORT_KEYS}
    threshold = values.get("threshold", DEFAULT_THRESHOLD)
    if (
        isinstance(threshold, bool)
        or not isinstance(threshold, numbers.Real)
        or not (0.0 < float(threshold) <= 1.0)
    ):
        raise ValueError(f"threshold must be a score in (0, 1]; got {threshold!r}")
    min_seeds = values.get("min_seeds")
    check_min_seeds(min_seeds)
    judge_on = values.get("judge_on", "validation")
    if judge_on not in JUDGE_SPLITS:
        raise ValueError(f"judge_on must be one of {', '.join(JUDGE_SPLITS)}; got {judge_on!r}")
    by = values.get("by")
    if by is not None:
        by = (by,) if isinstance(by, str) else tuple(by)
        for key in by:
            if key not in TABLE_KEYS:
                raise ValueError(f"by: {unknown_key_message(key, TABLE_KEYS, 'key')}")
    axes = values.get("axes") or ()
    if isinstance(axes, Sequence) and len(axes) == 2 and all(isinstance(k, str) for k in axes):
        axes = [axes]
    pairs = []
    for pair in axes:
        if isinstance(pair, str) or len(pair) != 2 or pair[0] == pair[1]:
            raise ValueError(f"axes must be pairs of two different keys; got {pair!r}")
        for key in pair:
            if key not in TABLE_KEYS:
                raise ValueError(f"axes: {unknown_key_message(key, TABLE_KEYS, 'key')}")
        pairs.append((str(pair[0]), str(pair[1])))
    return ReportSettings(float(threshold), min_seeds, judge_on, by, tuple(pairs))


def check_min_seeds_reachable(min_seeds: int | None, seeds: int, folds: int) -> None:
    """ValueError when ``min_seeds`` is more than a configuration's networks.

    Parameters
    ----------
    min_seeds : int or None
        Successes that make a configuration reliable.
    seeds : int
        Seeds of the grid.
    folds : int
        Folds pooled per configuration (0: one held-out split).
    """
    networks = seeds * max(folds, 1)
    if min_seeds is not None and min_seeds > networks:
        what = f"{seeds} seeds" + (f" × {folds} folds" if folds else "")
        raise ValueError(
            f"min_seeds is {min_seeds}, but a configuration has only {networks} networks "
            f"({what}); give at most {networks}"
        )


def network_of(row: Mapping[str, Any]) -> Network:
    """The grid point of a (parsed) row."""
    return Network(*(row[field] for field in Network._fields))


def check_min_seeds(min_seeds: Any) -> None:
    """ValueError unless ``min_seeds`` is None or a positive integer."""
    if min_seeds is not None and (
        isinstance(min_seeds, bool) or not isinstance(min_seeds, numbers.Integral) or min_seeds < 1
    ):
        raise ValueError(f"min_seeds must be a positive integer (k of n seeds); got {min_seeds!r}")


def configurations(
    rows: Iterable[Mapping[str, Any]],
    threshold: float = DEFAULT_THRESHOLD,
    min_seeds: int | None = None,
    user: UserData | None = None,
    task: str = "classifier",
    judge_on: str = "validation",
) -> list[dict[str, Any]]:
    """One entry per configuration of ``rows`` (folds pooled), in the rows' order.

    Parameters
    ----------
    rows : iterable of mapping
        Rows of results.csv (text or parsed).
    threshold : float
        The score a network must reach on ``judge_on`` to succeed.
    min_seeds : int, optional
        Successes that make a configuration reliable (default: all of its networks).
    user : UserData, optional
        The user's data, for parameter counts (None: spirals).
    task : str
        "classifier" or "regressor" (parameter counts on the user's data).
    judge_on : {"validation", "test"}
        The split success is judged on.

    Returns
    -------
    list of dict
        ``CONFIG_COLUMNS``: the configuration's keys, its parameter count, seeds, folds
        and networks (seeds × folds), the judged split, successes on it (k of n), the
        success rate, whether it is reliable, mean / sd / min / max of its networks'
        validation and test scores, test successes, mean train score and final loss,
        how many networks diverged or stayed at chance, the best network on validation
        (seed, fold) with its validation and test scores, and its model file's name.
    """
    check_min_seeds(min_seeds)
    if judge_on not in JUDGE_SPLITS:
        raise ValueError(f"judge_on must be one of {', '.join(JUDGE_SPLITS)}; got {judge_on!r}")
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        parsed = parse_row(row)
        groups.setdefault(pooled_key(parsed), []).append(parsed)
    configs = []
    for group in groups.values():
        validation = np.array([r["validation_accuracy"] for r in group])
        test = np.array([r["test_accuracy"] for r in group])
        judged = validation if judge_on == "validation" else test
        losses = np.array([r["final_loss"] for r in group])
        best = max(group, key=lambda r: rank({k: format_cell(v) for k, v in r.items()}))
        successes = int(np.sum(judged >= threshold))
        needed = len(group) if min_seeds is None else min_seeds
        entry = {c: group[0][c] for c in KEY_COLUMNS if c not in POOLED}
        network = network_of(group[0])
        known = user is not None or network.arms is not None  # the user's data: its width
        entry.update(
            n_parameters=n_parameters(network, user, task) if known else None,
            seeds=len({r["seed"] for r in group}),
            folds=len({r["fold"] for r in group}),
            networks=len(group),
            judge_on=judge_on,
            threshold=threshold,
            min_seeds=needed,
            successes=successes,
            success_rate=successes / len(group),
            reliable=successes >= needed,
            mean_validation_accuracy=float(validation.mean()),
            sd_validation_accuracy=_sd(validation),
            min_validation_accuracy=float(validation.min()),
            max_validation_accuracy=float(validation.max()),
            mean_test_accuracy=float(test.mean()),
            sd_test_accuracy=_sd(test),
            min_test_accuracy=float(test.min()),
            max_test_accuracy=float(test.max()),
            test_successes=int(np.sum(test >= threshold)),
            mean_train_accuracy=float(np.mean([r["train_accuracy"] for r in group])),
            mean_final_loss=float(np.mean(losses)) if np.isfinite(losses).all() else math.nan,
            diverged=sum(r["diverged"] for r in group),
            at_chance=sum(r["at_chance"] for r in group),
            best_seed=best["seed"],
            best_fold=best["fold"],
            best_validation_accuracy=best["validation_accuracy"],
            best_test_accuracy=best["test_accuracy"],
            model_file=f"models/{model_file_name(best)}",
        )
        configs.append(entry)
    return configs


def _sd(values: np.ndarray) -> float:
    """The sample standard deviation (n − 1); 0 for a single value."""
    return float(values.std(ddof=1)) if len(values) > 1 else 0.0


def configs_text(configs: Sequence[Mapping[str, Any]]) -> str:
    """configs.csv's text: a header and one line per configuration."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CONFIG_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for config in configs:
        writer.writerow({column: format_cell(value) for column, value in config.items()})
    return buffer.getvalue()


# --- summary.md ------------------------------------------------------------------------------


def _data_setting(config: Mapping[str, Any]) -> tuple[Any, ...]:
    return tuple(config[key] for key in DATA_KEYS)


def _setting_title(setting: Sequence[Any], settings: Settings) -> str:
    arms, turns, noise, n_samples = setting
    if arms is None:
        if settings.folds:
            return f"{settings.data}, {settings.folds} folds pooled"
        return f"{settings.data}, one held-out split"
    return f"{arms} arms, {turns:g} turns, noise {noise:g}, {n_samples} training points"


_TABLE_KEYS = ("depth", "width", "activation", "optimizer", "learning_rate", "l2")


def _mean_sd(config: Mapping[str, Any], split: str) -> str:
    mean, sd = config[f"mean_{split}_accuracy"], config[f"sd_{split}_accuracy"]
    return f"{mean:.3f} ± {sd:.3f}"


def _config_table(configs: Sequence[Mapping[str, Any]], judge_on: str) -> list[str]:
    optional = (*OPTIMIZER_KEYS, "optimizer_settings")
    keys = [*_TABLE_KEYS, *(k for k in optional if any(c[k] not in (None, "") for c in configs))]
    other = "test" if judge_on == "validation" else "validation"
    head = [
        *keys, "parameters", f"success ({judge_on})", f"{judge_on} mean ± sd",
        f"{judge_on} min", f"{other} mean ± sd", "at chance", "best (val → test)",
    ]  # fmt: skip
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for c in configs:
        cells = [format_cell(c[k]) for k in keys]
        best = f"seed {c['best_seed']}" + (f", fold {c['best_fold']}" if c["folds"] > 1 else "")
        cells += [
            str(c["n_parameters"]),
            f"{c['successes']}/{c['networks']}",
            _mean_sd(c, judge_on),
            f"{c[f'min_{judge_on}_accuracy']:.3f}",
            _mean_sd(c, other),
            str(c["at_chance"]),
            f"[{best}]({c['model_file']}) "
            f"{c['best_validation_accuracy']:.3f} → {c['best_test_accuracy']:.3f}",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def grid_of(rows: Iterable[Mapping[str, Any]]) -> dict[str, list[Any]]:
    """The values each grid key takes in ``rows``, sorted (``seeds``: the seeds present)."""
    values: dict[str, set[Any]] = {key: set() for key in GRID_KEYS}
    for row in rows:
        for key in GRID_KEYS:
            values[key].add(row["seed" if key == "seeds" else key])
    return {key: sorted(v) for key, v in values.items()}


def _sorted_values(rows: Iterable[Mapping[str, Any]], key: str) -> list[Any]:
    return sorted({r[key] for r in rows}, key=lambda v: (v is None, v))


def by_key_table(
    rows: Sequence[Mapping[str, Any]],
    configs: Sequence[Mapping[str, Any]],
    key: str,
    judge_on: str = "validation",
) -> list[str]:
    """Success by each value of one grid key, the other keys marginalised (markdown lines).

    Per value: the share of networks (every seed and fold of every configuration with
    that value) whose score on ``judge_on`` reaches the threshold, reliable
    configurations of all, and the mean validation and test scores.
    """
    column = "seed" if key == "seeds" else key
    lines = [
        f"| {key} | networks | success rate ({judge_on}) | reliable configurations | "
        "mean validation | mean test |",
        "|---|---|---|---|---|---|",
    ]
    for value in _sorted_values(rows, column):
        group = [c for c in configs if c.get(column) == value]
        networks = sum(c["networks"] for c in group)
        successes = sum(c["successes"] for c in group)
        means = {
            split: sum(c[f"mean_{split}_accuracy"] * c["networks"] for c in group)
            / max(networks, 1)
            for split in ("validation", "test")
        }
        reliable = sum(c["reliable"] for c in group)
        lines.append(
            f"| {format_cell(value)} | {networks} | {successes / max(networks, 1):.2f} | "
            f"{reliable}/{len(group)} | {means['validation']:.3f} | {means['test']:.3f} |"
        )
    return lines


def two_key_cells(
    rows: Iterable[Mapping[str, Any]],
    row_key: str,
    column_key: str,
    split: str = "validation",
    threshold: float = DEFAULT_THRESHOLD,
) -> dict[tuple[Any, Any], dict[str, Any]]:
    """The networks of each pair of values of two keys, pooled: their scores on ``split``.

    Every other key is marginalised: a cell pools every network (seed, fold and the
    values of the other keys) that has its two values.

    Parameters
    ----------
    rows : iterable of mapping
        Rows of results.csv (text or parsed).
    row_key, column_key : str
        Two keys of ``TABLE_KEYS`` (``depth``, ``learning_rate``, ``l2``, ...).
    split : {"validation", "test"}
        The scores the cells hold.
    threshold : float
        The score a network must reach to count as a success.

    Returns
    -------
    dict
        (row value, column value) → ``{"n", "mean", "sd", "min", "successes"}``.
    """
    for key in (row_key, column_key):
        if key not in TABLE_KEYS:
            raise ValueError(unknown_key_message(key, TABLE_KEYS, "key"))
    if split not in JUDGE_SPLITS:
        raise ValueError(f"split must be one of {', '.join(JUDGE_SPLITS)}; got {split!r}")
    scores: dict[tuple[Any, Any], list[float]] = {}
    for row in as_rows(rows):
        scores.setdefault((row[row_key], row[column_key]), []).append(row[f"{split}_accuracy"])
    return {
        cell: {
            "n": len(values),
            "mean": float(np.mean(values)),
            "sd": _sd(np.array(values)),
            "min": float(np.min(values)),
            "successes": int(np.sum(np.array(values) >= threshold)),
        }
        for cell, values in scores.items()
    }


def two_key_table(
    rows: Sequence[Mapping[str, Any]],
    row_key: str,
    column_key: str,
    split: str = "validation",
    threshold: float = DEFAULT_THRESHOLD,
) -> list[str]:
    """A markdown table of two keys: per cell mean ± sd on ``split`` and k/n ≥ threshold.

    Parameters
    ----------
    rows : sequence of mapping
        Rows of results.csv (text or parsed), all or a selection.
    row_key, column_key : str
        The keys of the table's rows and columns.
    split : {"validation", "test"}
        The scores shown.
    threshold : float
        The score a network must reach to count in k of n.

    Returns
    -------
    list of str
        The table's lines.
    """
    parsed = as_rows(rows)
    cells = two_key_cells(parsed, row_key, column_key, split, threshold)
    row_values = _sorted_values(parsed, row_key)
    column_values = _sorted_values(parsed, column_key)
    lines = [
        f"| {row_key} \\ {column_key} | " + " | ".join(_shown(v) for v in column_values) + " |",
        "|---|" + "---|" * len(column_values),
    ]
    for r in row_values:
        shown = []
        for c in column_values:
            cell = cells.get((r, c))
            shown.append(
                "–"
                if cell is None
                else f"{cell['mean']:.3f} ± {cell['sd']:.3f} ({cell['successes']}/{cell['n']})"
            )
        lines.append(f"| {_shown(r)} | " + " | ".join(shown) + " |")
    return lines


def smallest_first(
    configs: Sequence[Mapping[str, Any]], judge_on: str = "validation"
) -> list[Mapping[str, Any]]:
    """Configurations by size: fewest parameters, then depth, width, best mean on ``judge_on``.

    Parameters
    ----------
    configs : sequence of mapping
        Entries of ``configurations``.
    judge_on : {"validation", "test"}
        The split whose mean score breaks ties.

    Returns
    -------
    list of mapping
        The configurations, smallest first.
    """
    return sorted(
        configs,
        key=lambda c: (
            c["n_parameters"] is None,
            c["n_parameters"] or 0,
            c["depth"],
            c["width"],
            -c[f"mean_{judge_on}_accuracy"],
        ),
    )


def _shown(value: Any) -> str:
    """A key's value in a table: 0.001, 0, tanh."""
    return f"{value:g}" if isinstance(value, float) else format_cell(value)


def table_axes(rows: Sequence[Mapping[str, Any]], report: ReportSettings) -> list[tuple[str, str]]:
    """The pairs of keys that get a table: depth × width, learning rate × l2 when both
    vary, and the pairs asked for (``report.axes``)."""
    varying = {key for key in TABLE_KEYS if len({r[key] for r in rows}) > 1}
    pairs = [("depth", "width")]
    if {"learning_rate", "l2"} <= varying:
        pairs.append(("learning_rate", "l2"))
    for pair in report.axes:
        if pair not in pairs:
            pairs.append(pair)
    return pairs


def summary_text(
    rows: Sequence[Mapping[str, Any]],
    configs: Sequence[Mapping[str, Any]],
    settings: Settings,
    *,
    threshold: float | None = None,
    grid_size: int,
    pictures: Sequence[Path] = (),
    run_line: str = "",
    top: int = 5,
    report: ReportSettings | None = None,
) -> str:
    """summary.md: the grid of the rows; success by each grid key; tables of two keys; per
    data setting the smallest reliable network per activation, the smallest reliable and
    the best configurations; totals, throughput and the machine."""
    report = report or ReportSettings()
    if threshold is not None:
        report = ReportSettings(
            threshold, report.min_seeds, report.judge_on, report.by, report.axes
        )
    name = score_name(settings.task)
    rows = as_rows(rows)
    grid = grid_of(rows)
    lines = ["# Sweep summary", "", "## Grid (the values in results.csv)", ""]
    lines += _grid_lines(grid)
    lines += _reading_lines(rows, configs, settings, grid_size, report)
    lines += _by_key_lines(rows, configs, grid, report.judge_on)
    lines += _two_key_lines(rows, report, name)
    by_setting: dict[tuple[Any, ...], list[Mapping[str, Any]]] = {}
    for config in configs:
        by_setting.setdefault(_data_setting(config), []).append(config)
    for setting, group in by_setting.items():
        lines += [f"## {_setting_title(setting, settings)}", ""]
        lines += _setting_lines(group, settings, report, top)
    lines += ["## Totals", ""]
    lines += _totals_lines(rows, name)
    if run_line:
        lines.append(f"- {run_line}")
    if pictures:
        lines += ["", "## Pictures", ""]
        lines += [f"- [{path.name}]({path.name})" for path in pictures]
    lines += [
        "",
        "## Machine",
        "",
        f"- backend {settings.backend}: {_device(settings.backend)}",
        f"- Python {platform.python_version()}, NumPy {np.__version__}, {platform.platform()}",
        "",
    ]
    return "\n".join(lines)


def _grid_lines(grid: Mapping[str, list[Any]]) -> list[str]:
    """The grid's table: each key and its values (a long run of seeds shortened)."""
    lines = ["| key | values |", "|---|---|"]
    for key, values in grid.items():
        if values == [None]:  # a spiral key on the user's data, an optimizer default
            continue
        if key == "seeds" and len(values) > 4:
            shown = f"{len(values)} seeds, {values[0]} … {values[-1]}"
        else:
            shown = ", ".join(format_cell(v) for v in values)
        lines.append(f"| {key} | {shown} |")
    return lines


def _data_text(settings: Settings) -> str:
    """Where the networks' data came from: the spirals' seeds, or the user's file and split."""
    if settings.on_spirals:
        return (
            f"training data seed {settings.data_seed}, validation and test data held-out "
            f"draws with seeds {settings.data_seed + 2} and {settings.data_seed + 1}"
        )
    split = (
        "one held-out split (20% test, 20% validation)"
        if not settings.folds
        else f"{settings.folds}-fold, folds pooled per configuration"
    )
    scaled = (
        "features standardised with each training split's mean and sd"
        if settings.standardize
        else "features used as given (not standardised)"
    )
    return (
        f"data {settings.data} ({settings.task}), {split}, shuffled with seed "
        f"{settings.data_seed}; {scaled}"
    )


def _per_configuration(settings: Settings) -> str:
    """What a configuration's networks differ in: its seeds (and folds)."""
    return "networks (seeds × folds)" if settings.folds else "seeds"


def _reliable_rule(configs: Sequence[Mapping[str, Any]], settings: Settings) -> str:
    """How many of a configuration's networks must succeed: all, or at least k of them."""
    needed = configs[0]["min_seeds"] if configs else 0
    networks = configs[0]["networks"] if configs else 0
    per = _per_configuration(settings)
    if needed >= networks:
        return f"every one of its {networks} {per}"
    return f"at least {needed} of its {networks} {per}"


def _reading_lines(
    rows: Sequence[Mapping[str, Any]],
    configs: Sequence[Mapping[str, Any]],
    settings: Settings,
    grid_size: int,
    report: ReportSettings,
) -> list[str]:
    """What was trained, on which data, and how to read the tables (success, reliability)."""
    judge_on, threshold = report.judge_on, report.threshold
    other = "test" if judge_on == "validation" else "validation"
    name = score_name(settings.task)
    batch = (
        "full batch" if settings.batch_size is None else f"mini-batches of {settings.batch_size}"
    )
    coverage = "every network of the grid" if len(rows) == grid_size else f"of {grid_size}"
    return [
        "",
        f"{len(rows)} networks ({coverage}) in {len(configs)} configurations; "
        f"{settings.epochs} epochs, {batch}, {settings.dtype}, backend {settings.backend}; "
        f"{_data_text(settings)}.",
        "",
        "A configuration is every grid key but the seed"
        + (" and the fold" if settings.folds else "")
        + f". A network **succeeds** when its {judge_on} {name} ≥ {threshold:g}; a "
        f"configuration is **reliable** when {_reliable_rule(configs, settings)} succeed "
        f"(k/n). Success is judged on the {judge_on} data; the {other} score is shown beside it"
        + (
            " and never used to choose, so it estimates how the chosen networks do on new data"
            if judge_on == "validation"
            else " (judging on test makes the test score optimistic)"
        )
        + ". Scores are mean ± sd over a configuration's networks. The best network of a "
        "configuration is chosen on validation (val → test); *at chance*: networks no "
        "better than chance on their training data.",
        "",
    ]


def _by_key_lines(
    rows: Sequence[Mapping[str, Any]],
    configs: Sequence[Mapping[str, Any]],
    grid: Mapping[str, list[Any]],
    judge_on: str,
) -> list[str]:
    """Success by each grid key that varies, the other keys marginalised."""
    varying = [key for key, values in grid.items() if len(values) > 1 and key != "seeds"]
    if not varying:
        return []
    lines = ["## Success by grid key (the other keys marginalised)", ""]
    for key in varying:
        lines += [*by_key_table(rows, configs, key, judge_on), ""]
    return lines


def _two_key_lines(
    rows: Sequence[Mapping[str, Any]], report: ReportSettings, name: str
) -> list[str]:
    """A table per pair of axes (depth × width first) whose keys take two values or more."""
    judge_on, threshold = report.judge_on, report.threshold
    lines: list[str] = []
    for row_axis, column_axis in table_axes(rows, report):
        if len({r[row_axis] for r in rows}) * len({r[column_axis] for r in rows}) < 2:
            continue
        lines += [
            f"## {row_axis} × {column_axis}: {judge_on} {name}, mean ± sd (k/n ≥ {threshold:g})",
            "",
            "Each cell pools every network with those two values (the other keys marginalised).",
            "",
            *two_key_table(rows, row_axis, column_axis, judge_on, threshold),
            "",
        ]
    return lines


def _setting_lines(
    group: Sequence[Mapping[str, Any]],
    settings: Settings,
    report: ReportSettings,
    top: int,
) -> list[str]:
    """One data setting's configurations: how many are reliable, the smallest reliable ones
    (or the closest), and the best."""
    judge_on = report.judge_on
    name = score_name(settings.task)
    reliable = [c for c in group if c["reliable"]]
    lines = [f"{len(reliable)} of {len(group)} configurations are reliable.", ""]
    if reliable:
        lines += _reliable_lines(reliable, settings, report, top)
    else:
        closest = sorted(
            group,
            key=lambda c: (-c["success_rate"], -c[f"min_{judge_on}_accuracy"]),
        )
        lines += ["None is reliable; the closest (most networks reaching it):", ""]
        lines += [*_config_table(closest[:top], judge_on), ""]
    best = sorted(
        group,
        key=lambda c: (-c[f"mean_{judge_on}_accuracy"], -c[f"min_{judge_on}_accuracy"]),
    )
    lines += [f"Best by mean {judge_on} {name}:", ""]
    lines += [*_config_table(best[:top], judge_on), ""]
    return lines


def _reliable_lines(
    reliable: Sequence[Mapping[str, Any]],
    settings: Settings,
    report: ReportSettings,
    top: int,
) -> list[str]:
    """The smallest reliable network in words, then per activation and the smallest few."""
    judge_on, threshold = report.judge_on, report.threshold
    other = "test" if judge_on == "validation" else "validation"
    name = score_name(settings.task)
    ranked = smallest_first(reliable, judge_on)
    smallest = ranked[0]
    lines = [
        f"**The smallest reliable network**: depth {smallest['depth']}, width "
        f"{smallest['width']} ({smallest['n_parameters']} parameters, "
        f"{smallest['activation']}, {smallest['optimizer']}, learning rate "
        f"{smallest['learning_rate']:g}, l2 {smallest['l2']:g}): {judge_on} "
        f"{name} ≥ {threshold:g} in {smallest['successes']} of "
        f"{smallest['networks']} {_per_configuration(settings)}, {judge_on} "
        f"{_mean_sd(smallest, judge_on)}, {other} {_mean_sd(smallest, other)}.",
        "",
    ]
    per_activation: dict[str, Mapping[str, Any]] = {}
    for config in ranked:
        per_activation.setdefault(config["activation"], config)
    lines += ["Smallest reliable network per activation:", ""]
    lines += [*_config_table(list(per_activation.values()), judge_on), ""]
    lines += ["Smallest reliable networks (fewest parameters):", ""]
    lines += [*_config_table(ranked[:top], judge_on), ""]
    return lines


def _totals_lines(rows: Sequence[Mapping[str, Any]], name: str) -> list[str]:
    """Every row's scores (mean, median, best), diverged and at-chance counts, training time."""
    if not len(rows):
        return []
    lines = []
    for split in ("validation", "test"):
        values = np.array([r[f"{split}_accuracy"] for r in rows])
        lines.append(
            f"- {split} {name}: mean {values.mean():.3f}, median "
            f"{np.median(values):.3f}, best {values.max():.3f}"
        )
    lines += [
        f"- diverged: {sum(r['diverged'] for r in rows)} of {len(rows)} networks",
        f"- at chance: {sum(r['at_chance'] for r in rows)} of {len(rows)} networks",
        f"- stack training time over all rows (sum of `seconds`): "
        f"{sum(r['seconds'] for r in rows):.1f} s",
    ]
    return lines


def _device(backend: str) -> str:
    gpu = backends.gpu_name(backend)
    return gpu if gpu else machine.cpu_description()


def write_pictures(
    out: Path,
    rows: Sequence[Mapping[str, Any]],
    settings: Settings,
    report: ReportSettings,
    curves: Mapping[tuple[str, ...], tuple[np.ndarray, np.ndarray]] | None = None,
) -> list[Path]:
    """Draw the heatmaps and the curves of the parsed ``rows`` in ``out``; the paths written.

    Pictures from an earlier report are removed first, so that every picture in ``out``
    shows the rows of this one.
    """
    for old in [*out.glob("heatmap*.png"), *out.glob("success*.png"), out / CURVES_PICTURE]:
        old.unlink(missing_ok=True)
    pictures = sweep_pictures(
        rows,
        out,
        threshold=report.threshold,
        by=report.by,
        split=report.judge_on,
        task=settings.task,
    )
    for pair in table_axes(rows, report)[1:]:
        pictures += sweep_pictures(
            rows,
            out,
            threshold=report.threshold,
            split=report.judge_on,
            task=settings.task,
            axes=pair,
            values=("mean",),
        )
    if curves:
        per_row = [curves.get(row_key({k: format_cell(v) for k, v in row.items()})) for row in rows]
        pictures.append(sweep_curves(rows, per_row, out / CURVES_PICTURE, split=report.judge_on))
    return pictures


def write_report(
    out: Path,
    rows: Sequence[Mapping[str, Any]],
    settings: Settings,
    *,
    report: ReportSettings,
    grid_size: int,
    curves: Mapping[tuple[str, ...], tuple[np.ndarray, np.ndarray]] | None = None,
    run_line: str = "",
    user: UserData | None = None,
) -> list[Path]:
    """Write configs.csv, the pictures and summary.md for ``rows``; the paths written.

    The pictures are those of ``write_pictures``.
    """
    configs = configurations(
        rows, report.threshold, report.min_seeds, user, settings.task, report.judge_on
    )
    write_atomically(out / CONFIGS_FILE, configs_text(configs))
    pictures = write_pictures(out, as_rows(rows), settings, report, curves)
    summary = out / SUMMARY_FILE
    write_atomically(
        summary,
        summary_text(
            rows,
            configs,
            settings,
            grid_size=grid_size,
            pictures=pictures,
            run_line=run_line,
            report=report,
        ),
    )
    return [out / CONFIGS_FILE, *pictures, summary]
