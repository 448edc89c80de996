"""What a sweep's rows say: one row per configuration (configs.csv), summary.md, pictures.

A *configuration* is every grid key but the seed: its networks differ only by their
initial weights (and mini-batch order). A seed *succeeds* when its test score reaches
``threshold``; a configuration is *reliable* when at least ``min_seeds`` of its seeds
succeed (k of n; by default every seed). The best seed is chosen on the validation
score, and its test score is reported beside it.
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
from pathlib import Path
from typing import Any

import numpy as np

from .. import backends, machine
from .._files import write_atomically
from .chunks import n_parameters, rank
from .files import KEY_COLUMNS, config_key, format_cell, model_file_name
from .grid import CONFIG_FIELDS, DATA_KEYS, GRID_KEYS, OPTIMIZER_KEYS, Network, Settings
from .userdata import UserData

CONFIGS_FILE = "configs.csv"
SUMMARY_FILE = "summary.md"
CURVES_PICTURE = "curves.png"

_INTEGERS = {
    "arms",
    "n_samples",
    "fold",
    "depth",
    "width",
    "seed",
    "epochs",
    "data_seed",
    "position",
}
_FLOATS = {
    "turns", "noise", "momentum", "beta_1", "beta_2", "epsilon", "learning_rate", "l2",
    "final_loss", "train_accuracy", "validation_accuracy", "test_accuracy", "seconds",
}  # fmt: skip
_OPTIONAL = {"arms", "turns", "noise", "n_samples", *OPTIMIZER_KEYS}

CONFIG_COLUMNS = (
    *(c for c in KEY_COLUMNS if c != "seed"),
    "n_parameters",
    "seeds",
    "threshold",
    "min_seeds",
    "successes",
    "success_rate",
    "reliable",
    "mean_test_accuracy",
    "min_test_accuracy",
    "max_test_accuracy",
    "mean_train_accuracy",
    "mean_final_loss",
    "diverged",
    "at_chance",
    "best_seed",
    "best_validation_accuracy",
    "best_test_accuracy",
    "model_file",
)


def parse_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """A row of results.csv (text) with its values as Python ints, floats, bools and None."""
    parsed: dict[str, Any] = {}
    for column, value in row.items():
        text = format_cell(value)
        if column in _OPTIONAL and text in ("", "nan", "None"):
            parsed[column] = None
        elif column in _INTEGERS:
            parsed[column] = int(text)
        elif column in _FLOATS:
            parsed[column] = float(text)
        elif column == "batch_size":
            parsed[column] = None if text in ("", "nan", "None") else int(float(text))
        elif column in ("diverged", "at_chance", "reliable"):
            parsed[column] = text == "True"
        else:
            parsed[column] = text
    return parsed


def as_rows(results: Any) -> list[dict[str, Any]]:
    """Rows as parsed dicts, from a list of mappings or a pandas DataFrame."""
    if hasattr(results, "to_dict") and hasattr(results, "columns"):
        results = results.to_dict("records")
    return [parse_row(row) for row in results]


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
    threshold: float = 0.95,
    min_seeds: int | None = None,
    user: UserData | None = None,
    task: str = "classifier",
) -> list[dict[str, Any]]:
    """One entry per configuration of ``rows``, in the rows' order, with its seeds' statistics.

    Parameters
    ----------
    rows : iterable of mapping
        Rows of results.csv (text or parsed).
    threshold : float
        Test score a seed must reach to count as a success.
    min_seeds : int, optional
        Successes that make a configuration reliable (default: all of its seeds).
    user : UserData, optional
        The user's data, for parameter counts (None: spirals).
    task : str
        "classifier" or "regressor" (parameter counts on the user's data).

    Returns
    -------
    list of dict
        ``CONFIG_COLUMNS``: the configuration's keys, its parameter count, seeds,
        successes, the success rate, whether it is reliable, mean / min / max test score
        over seeds, mean train score and final loss, how many seeds diverged or stayed
        at chance, the best seed on validation with its validation and test scores, and
        its model file's name.
    """
    check_min_seeds(min_seeds)
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        parsed = parse_row(row)
        groups.setdefault(config_key(parsed), []).append(parsed)
    configs = []
    for group in groups.values():
        test = np.array([r["test_accuracy"] for r in group])
        losses = np.array([r["final_loss"] for r in group])
        best = max(group, key=lambda r: rank({k: format_cell(v) for k, v in r.items()}))
        successes = int(np.sum(test >= threshold))
        needed = len(group) if min_seeds is None else min_seeds
        entry = {c: group[0][c] for c in KEY_COLUMNS if c != "seed"}
        entry.update(
            n_parameters=n_parameters(network_of(group[0]), user, task),
            seeds=len(group),
            threshold=threshold,
            min_seeds=needed,
            successes=successes,
            success_rate=successes / len(group),
            reliable=successes >= needed,
            mean_test_accuracy=float(test.mean()),
            min_test_accuracy=float(test.min()),
            max_test_accuracy=float(test.max()),
            mean_train_accuracy=float(np.mean([r["train_accuracy"] for r in group])),
            mean_final_loss=float(np.mean(losses)) if np.isfinite(losses).all() else math.nan,
            diverged=sum(r["diverged"] for r in group),
            at_chance=sum(r["at_chance"] for r in group),
            best_seed=best["seed"],
            best_validation_accuracy=best["validation_accuracy"],
            best_test_accuracy=best["test_accuracy"],
            model_file=f"models/{model_file_name(best)}",
        )
        configs.append(entry)
    return configs


def configs_text(configs: Sequence[Mapping[str, Any]]) -> str:
    """configs.csv's text: a header and one line per configuration."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CONFIG_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for config in configs:
        cells = {}
        for column, value in config.items():
            statistic = column not in CONFIG_FIELDS and column != "threshold"
            if isinstance(value, float) and statistic and not column.startswith("best_"):
                cells[column] = f"{value:.6g}"  # statistics: six significant digits
            else:
                cells[column] = format_cell(value)
        writer.writerow(cells)
    return buffer.getvalue()


# --- summary.md ------------------------------------------------------------------------------


def _data_setting(config: Mapping[str, Any]) -> tuple[Any, ...]:
    return tuple(config[key] for key in (*DATA_KEYS, "fold"))


def _setting_title(setting: Sequence[Any]) -> str:
    arms, turns, noise, n_samples, fold = setting
    if arms is None:
        return f"fold {fold}"
    return f"{arms} arms, {turns:g} turns, noise {noise:g}, {n_samples} training points"


_TABLE_KEYS = ("depth", "width", "activation", "optimizer", "learning_rate", "l2")


def _config_table(configs: Sequence[Mapping[str, Any]]) -> list[str]:
    keys = [*_TABLE_KEYS, *(k for k in OPTIMIZER_KEYS if any(c[k] is not None for c in configs))]
    head = [*keys, "parameters", "success", "mean", "min", "max", "at chance", "best (val → test)"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for c in configs:
        cells = [format_cell(c[k]) for k in keys]
        cells += [
            str(c["n_parameters"]),
            f"{c['successes']}/{c['seeds']}",
            f"{c['mean_test_accuracy']:.3f}",
            f"{c['min_test_accuracy']:.3f}",
            f"{c['max_test_accuracy']:.3f}",
            str(c["at_chance"]),
            f"[seed {c['best_seed']}]({c['model_file']}) "
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


def by_key_table(
    rows: Sequence[Mapping[str, Any]], configs: Sequence[Mapping[str, Any]], key: str
) -> list[str]:
    """Success by each value of one grid key, the other keys marginalised (markdown lines).

    Per value: the share of networks (every seed of every configuration with that value)
    whose test score reaches the threshold, reliable configurations of all, and the mean
    test score.
    """
    column = "seed" if key == "seeds" else key
    lines = [f"| {key} | networks | success rate | reliable configurations | mean test |"]
    lines.append("|---|---|---|---|---|")
    for value in sorted({r[column] for r in rows}, key=lambda v: (v is None, v)):
        group = [c for c in configs if c.get(column) == value]
        networks = sum(c["seeds"] for c in group)
        successes = sum(c["successes"] for c in group)
        mean = sum(c["mean_test_accuracy"] * c["seeds"] for c in group) / max(networks, 1)
        reliable = sum(c["reliable"] for c in group)
        lines.append(
            f"| {format_cell(value)} | {networks} | {successes / max(networks, 1):.2f} | "
            f"{reliable}/{len(group)} | {mean:.3f} |"
        )
    return lines


def _smallest(configs: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return sorted(configs, key=lambda c: (c["n_parameters"], c["depth"], -c["mean_test_accuracy"]))


def summary_text(
    rows: Sequence[Mapping[str, Any]],
    configs: Sequence[Mapping[str, Any]],
    settings: Settings,
    *,
    threshold: float,
    grid_size: int,
    pictures: Sequence[Path] = (),
    run_line: str = "",
    top: int = 5,
) -> str:
    """summary.md: the grid of the rows; success by each grid key; per data setting the
    smallest reliable network per activation, the smallest reliable and the best
    configurations; totals, throughput and the machine."""
    rows = as_rows(rows)
    lines = ["# Sweep summary", "", "## Grid (the values in results.csv)", ""]
    lines += ["| key | values |", "|---|---|"]
    grid = grid_of(rows)
    for key, values in grid.items():
        if values == [None]:  # a spiral key on the user's data, an optimizer default
            continue
        if key == "seeds" and len(values) > 4:
            shown = f"{len(values)} seeds, {values[0]} … {values[-1]}"
        else:
            shown = ", ".join(format_cell(v) for v in values)
        lines.append(f"| {key} | {shown} |")
    batch = (
        "full batch" if settings.batch_size is None else f"mini-batches of {settings.batch_size}"
    )
    coverage = "every network of the grid" if len(rows) == grid_size else f"of {grid_size}"
    if settings.on_spirals:
        data = (
            f"training data seed {settings.data_seed}, validation and test data held-out "
            f"draws with seeds {settings.data_seed + 2} and {settings.data_seed + 1}"
        )
    else:
        split = "one held-out split" if not settings.folds else f"{settings.folds}-fold"
        data = f"data {settings.data} ({settings.task}), {split}, shuffled with seed {settings.data_seed}"
    needed = configs[0]["min_seeds"] if configs else 0
    seeds = len(grid["seeds"])
    rule = "every seed" if needed >= seeds else f"at least {needed} of {seeds} seeds"
    score = "test R²" if settings.task == "regressor" else "test accuracy"
    lines += [
        "",
        f"{len(rows)} networks ({coverage}) in {len(configs)} configurations; "
        f"{settings.epochs} epochs, {batch}, {settings.dtype}, backend {settings.backend}; "
        f"{data}.",
        "",
        f"A configuration is every grid key but the seed. **Reliable**: {score} ≥ "
        f"{threshold:g} on {rule}; *success* counts the seeds that reach it. The best "
        "seed is chosen on the validation data and its test score shown beside "
        "(val → test); *at chance*: seeds no better than chance on their training data.",
        "",
    ]
    varying = [key for key, values in grid.items() if len(values) > 1 and key != "seeds"]
    if len({r["fold"] for r in rows}) > 1:
        varying.insert(0, "fold")
    if varying:
        lines += ["## Success by grid key (the other keys marginalised)", ""]
        for key in varying:
            lines += [*by_key_table(rows, configs, key), ""]
    by_setting: dict[tuple[Any, ...], list[Mapping[str, Any]]] = {}
    for config in configs:
        by_setting.setdefault(_data_setting(config), []).append(config)
    for setting, group in by_setting.items():
        reliable = [c for c in group if c["reliable"]]
        lines += [f"## {_setting_title(setting)}", ""]
        lines.append(f"{len(reliable)} of {len(group)} configurations are reliable.")
        lines.append("")
        if reliable:
            per_activation = {}
            for c in _smallest(reliable):
                per_activation.setdefault(c["activation"], c)
            lines += ["Smallest reliable network per activation:", ""]
            lines += [*_config_table(list(per_activation.values())), ""]
            lines += ["Smallest reliable networks (fewest parameters):", ""]
            lines += [*_config_table(_smallest(reliable)[:top]), ""]
        else:
            closest = sorted(group, key=lambda c: (-c["success_rate"], -c["min_test_accuracy"]))
            lines += ["None is reliable; the closest (most seeds reaching it):", ""]
            lines += [*_config_table(closest[:top]), ""]
        best = sorted(group, key=lambda c: (-c["mean_test_accuracy"], -c["min_test_accuracy"]))
        lines += [f"Best by mean {score} over seeds:", ""]
        lines += [*_config_table(best[:top]), ""]
    test = np.array([r["test_accuracy"] for r in rows])
    lines += ["## Totals", ""]
    if len(rows):
        lines += [
            f"- test score: mean {test.mean():.3f}, median {np.median(test):.3f}, "
            f"best {test.max():.3f}",
            f"- diverged: {sum(r['diverged'] for r in rows)} of {len(rows)} networks",
            f"- at chance: {sum(r['at_chance'] for r in rows)} of {len(rows)} networks",
            f"- stack training time over all rows (sum of `seconds`): "
            f"{sum(r['seconds'] for r in rows):.1f} s",
        ]
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


def _device(backend: str) -> str:
    gpu = backends.gpu_name(backend)
    return gpu if gpu else machine.cpu_description()


def write_report(
    out: Path,
    rows: Sequence[Mapping[str, Any]],
    settings: Settings,
    *,
    threshold: float,
    grid_size: int,
    min_seeds: int | None = None,
    by: Sequence[str] | None = None,
    curves: Mapping[tuple[str, ...], tuple[np.ndarray, np.ndarray]] | None = None,
    run_line: str = "",
    user: UserData | None = None,
) -> list[Path]:
    """Write configs.csv, the pictures and summary.md for ``rows``; the paths written.

    Pictures from an earlier report are removed first, so that every picture in ``out``
    shows the rows of this one.
    """
    from ..viz.sweep import sweep_curves, sweep_pictures

    configs = configurations(rows, threshold, min_seeds, user, settings.task)
    write_atomically(out / CONFIGS_FILE, configs_text(configs))
    for old in [*out.glob("heatmap*.png"), *out.glob("success*.png"), out / CURVES_PICTURE]:
        old.unlink(missing_ok=True)
    pictures = sweep_pictures(rows, out, threshold=threshold, by=by)
    if curves:
        pictures.append(sweep_curves(rows, curves, out / CURVES_PICTURE))
    summary = out / SUMMARY_FILE
    write_atomically(
        summary,
        summary_text(
            rows,
            configs,
            settings,
            threshold=threshold,
            grid_size=grid_size,
            pictures=pictures,
            run_line=run_line,
        ),
    )
    return [out / CONFIGS_FILE, *pictures, summary]
