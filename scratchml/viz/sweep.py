"""Pictures of a sweep: per configuration, depth × width heatmaps split by the other keys,
and the loss curves of the best and the worst configurations.

Every picture says in its title what it shows and which keys its rows hold fixed, so a
picture of a filtered selection says so (pass ``selection=`` to name the filter too).
The pictures draw the rows they are given, with their values as numbers
(``scratchml.sweep.load(out).rows`` or ``scratchml.sweep.read_rows(path)``): this module
reads no sweep file, so the sweep's report can draw with it.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, overload

import numpy as np
from matplotlib.figure import Figure

from ..nn.optimizers import BUILT_IN_SETTINGS
from ._common import new_figure, save_figure, set_title

# Keys that can split pictures into panels or files, or be a heatmap's axes.
SPLIT_KEYS = (
    "arms",
    "turns",
    "noise",
    "n_samples",
    "fold",
    "depth",
    "width",
    "activation",
    "optimizer",
    *BUILT_IN_SETTINGS,
    "optimizer_settings",
    "learning_rate",
    "l2",
)
DATA_KEYS = ("arms", "turns", "noise", "n_samples", "fold")
_SHORT = {"learning_rate": "lr", "n_samples": "n", "activation": "", "optimizer": ""}
_AXIS_LABELS = {"depth": "depth (hidden layers)", "width": "width (units per layer)"}
# What a cell shows: a statistic of the networks' scores on the split.
VALUES = {
    "mean": "mean {split} {score}",
    "success_rate": "success rate: share of networks with {split} {score} ≥ {threshold:g}",
    "min": "worst network's {split} {score}",
}
# Older names: a statistic of the test score.
_LEGACY_VALUES = {"test_accuracy": "mean", "min_test_accuracy": "min"}
SPLITS = ("validation", "test")
# Besides the split keys, what a configuration shares (its networks differ in seed and fold).
_SETTING_KEYS = ("epochs", "batch_size", "dtype", "data_seed", "backend", "data")


def score_name(task: str) -> str:
    """What a score is called: accuracy for a classifier, R² for a regressor.

    Parameters
    ----------
    task : {"classifier", "regressor"}
        What the networks are.

    Returns
    -------
    str
        ``"R²"`` for a regressor, else ``"accuracy"``.
    """
    return "R²" if task == "regressor" else "accuracy"


def _rows(results: Any) -> list[dict[str, Any]]:
    """The rows to draw, as dicts; a grid key's missing value (NaN in a DataFrame) is None."""
    if isinstance(results, (str, Path)):
        raise TypeError(
            f"results must be a sweep's rows, not the path {str(results)!r}: read them with "
            "scratchml.sweep.read_rows(path) or scratchml.sweep.load(out).rows"
        )
    if hasattr(results, "to_dict") and hasattr(results, "columns"):
        results = results.to_dict("records")
    rows = [
        {key: None if key in SPLIT_KEYS and _is_nan(value) else value for key, value in row.items()}
        for row in results
    ]
    if rows and isinstance(rows[0].get("validation_accuracy"), str):
        raise TypeError(
            "results holds text, as results.csv does: parse the rows with "
            "scratchml.sweep.read_rows (or scratchml.sweep.files.read_results and "
            "scratchml.sweep.rows.as_rows)"
        )
    return rows


def _is_nan(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)


def _configuration(row: Mapping[str, Any]) -> tuple[Any, ...]:
    """What a row's configuration is over every fold: its keys but the seed and the fold."""
    return tuple(row.get(key) for key in (*SPLIT_KEYS, *_SETTING_KEYS) if key != "fold")


def _label(key: str, value: Any) -> str:
    shown = f"{value:g}" if isinstance(value, float) else str(value)
    short = _SHORT.get(key, key)
    return f"{short} {shown}".strip() if short else shown


def _varying(rows: Sequence[Mapping[str, Any]], keys: Iterable[str] = SPLIT_KEYS) -> list[str]:
    return [key for key in keys if len({row[key] for row in rows}) > 1]


def _fixed_text(rows: Sequence[Mapping[str, Any]], skip: Iterable[str] = ()) -> str:
    """'arms 2, turns 1.5, ...': the keys with a single value in ``rows``."""
    skip = set(skip)
    parts = [
        _label(key, rows[0][key])
        for key in SPLIT_KEYS
        if key not in skip
        and len({row[key] for row in rows}) == 1
        and rows[0][key] is not None
        # one split of the data (spirals, or a held-out split): no fold to speak of
        and key != "fold"
    ]
    parts.append(f"{rows[0]['epochs']} epochs")
    return ", ".join(parts)


def _cell_values(
    rows: Sequence[Mapping[str, Any]],
    value: str,
    threshold: float,
    axes: tuple[str, str],
    split: str,
) -> tuple[dict[tuple[Any, Any], float], dict[tuple[Any, Any], list[float]]]:
    by_cell: dict[tuple[Any, Any], list[float]] = {}
    for row in rows:
        by_cell.setdefault((row[axes[0]], row[axes[1]]), []).append(row[f"{split}_accuracy"])
    values = {}
    for cell, scores in by_cell.items():
        array = np.array(scores)
        if value == "success_rate":
            values[cell] = float(np.mean(array >= threshold))
        elif value == "min":
            values[cell] = float(array.min())
        else:
            values[cell] = float(array.mean())
    return values, by_cell


def _tick(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def sweep_heatmap(
    results: Any,
    path: str | Path | None = None,
    value: str = "mean",
    *,
    split: str | None = None,
    threshold: float = 0.95,
    by: Sequence[str] | None = None,
    selection: str | None = None,
    axes: Sequence[str] = ("depth", "width"),
    task: str = "classifier",
    marginalise: bool = False,
) -> Figure:
    """A statistic of the networks' scores per pair of values of two keys (rows × columns).

    By default the axes are depth (rows) × width (columns); any two keys may be the axes
    (``axes=("learning_rate", "l2")``). Each cell pools the seeds (and folds) of its
    configuration; the keys in ``by`` make one panel per combination of their values.

    Parameters
    ----------
    results : DataFrame or iterable of mappings
        A sweep's rows, all of them or a filtered selection, with their values as numbers
        (``scratchml.sweep.load(out).rows``, ``scratchml.sweep.read_rows(path)``).
    path : str or Path, optional
        Where to save the figure.
    value : {"mean", "success_rate", "min"}
        The mean score, the share of networks reaching ``threshold``, or the worst
        network's score. (``"test_accuracy"`` and ``"min_test_accuracy"``, older
        names, are the mean and min on the test split.)
    split : {"validation", "test"}, optional
        The scores shown (default validation; test for the older value names).
    threshold : float
        The score a network must reach to count as a success.
    by : sequence of str, optional
        Keys that make one panel per combination of their values (default: every key
        that varies in the rows besides the axes).
    selection : str, optional
        A phrase naming how the rows were chosen, added to the title.
    axes : pair of str, default ("depth", "width")
        The keys of the heatmap's rows and columns.
    task : {"classifier", "regressor"}, default "classifier"
        What the scores are: accuracies (a colour scale from chance to 1) or R²
        (from the lowest value shown, at most 0, to 1).
    marginalise : bool, default False
        Pool the networks of every key that varies besides the axes and ``by`` into
        the cells (say so in the title) instead of refusing.

    Returns
    -------
    Figure
        The heatmap's figure (also saved when ``path`` is given).

    Raises
    ------
    ValueError
        No rows, an unknown value, split or key, or rows that vary in a key that is
        neither an axis nor in ``by`` (a cell would mix configurations: filter the rows,
        split them with ``sweep_pictures`` or pass ``marginalise=True``).
    """
    rows = _rows(results)
    if not rows:
        raise ValueError("results has no rows: there is nothing to draw")
    value, split, pair = _checked_request(value, split, axes, by)
    by, mixed = _panel_keys(rows, pair, by, marginalise)
    row_values, column_values = _axis_values(rows, pair[0]), _axis_values(rows, pair[1])
    combos = list(itertools.product(*(sorted({row[key] for row in rows}) for key in by)))
    chosen = [_rows_with(rows, by, combo) for combo in combos]
    n_cols = len({row[by[-1]] for row in rows}) if by else 1
    fig, panels = _panels(len(row_values), len(column_values), len(combos) // n_cols, n_cols)
    cells = [_cell_values(panel_rows, value, threshold, pair, split) for panel_rows in chosen]
    low = _colour_floor(rows, [v for values, _ in cells for v in values.values()], value, task)
    images = []
    for ax, combo, panel_rows, (values, by_cell) in zip(
        panels.flat, combos, chosen, cells, strict=True
    ):
        grid = np.full((len(row_values), len(column_values)), np.nan)
        for (a, b), v in values.items():
            grid[row_values.index(a), column_values.index(b)] = v
        images.append(_draw_cells(ax, grid, by_cell, row_values, column_values, value, low))
        _label_panel(ax, pair, row_values, column_values)
        title = ", ".join(_label(k, v) for k, v in zip(by, combo, strict=True)) or "all rows"
        set_title(ax, f"{title} ({len(panel_rows)} networks)", fontsize=10)
    what = VALUES[value].format(split=split, score=score_name(task), threshold=threshold)
    fig.colorbar(
        images[-1],
        ax=panels,
        label=what.split(":")[0],
        shrink=0.9,
        extend="min" if task == "regressor" and value != "success_rate" else "neither",
    )
    fig.suptitle(_heatmap_title(rows, what, pair, by, mixed, selection), fontsize=11)
    if path is not None:
        save_figure(fig, path)
    return fig


def _checked_request(
    value: str, split: str | None, axes: Sequence[str], by: Sequence[str] | None
) -> tuple[str, str, tuple[str, str]]:
    """The statistic, the split and the axes asked for (older value names translated)."""
    if value in _LEGACY_VALUES:
        value, split = _LEGACY_VALUES[value], split or "test"
    if value not in VALUES:
        raise ValueError(f"value must be one of {', '.join(VALUES)}; got {value!r}")
    split = split or "validation"
    if split not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(SPLITS)}; got {split!r}")
    pair = tuple(axes)
    if len(pair) != 2 or pair[0] == pair[1]:
        raise ValueError(f"axes must be two different keys; got {pair!r}")
    unknown = [key for key in (*pair, *(by or ())) if key not in SPLIT_KEYS]
    if unknown:
        raise ValueError(f"unknown key {unknown[0]!r}; valid keys are {', '.join(SPLIT_KEYS)}")
    return value, split, (pair[0], pair[1])


def _panel_keys(
    rows: Sequence[Mapping[str, Any]],
    axes: tuple[str, str],
    by: Sequence[str] | None,
    marginalise: bool,
) -> tuple[list[str], list[str]]:
    """The keys that make panels and those pooled into the cells (``marginalise``)."""
    varying = [key for key in _varying(rows) if key not in axes]
    panel_keys = varying if by is None else [key for key in by if key not in axes]
    mixed = [key for key in varying if key not in panel_keys]
    if mixed and not marginalise:
        raise ValueError(
            f"the rows vary in {', '.join(mixed)}, which is neither a heatmap axis nor in by: "
            "a cell would mix configurations; filter the rows, add the key to by, pass "
            "marginalise=True, or use sweep_pictures (one file per value)"
        )
    return [key for key in panel_keys if key in varying], mixed


def _axis_values(rows: Sequence[Mapping[str, Any]], key: str) -> list[Any]:
    return sorted({row[key] for row in rows}, key=lambda v: (v is None, v))


def _rows_with(
    rows: Sequence[Mapping[str, Any]], keys: Sequence[str], values: Sequence[Any]
) -> list[Mapping[str, Any]]:
    """The rows whose ``keys`` hold ``values``."""
    return [r for r in rows if all(r[k] == v for k, v in zip(keys, values, strict=True))]


def _panels(n_row_values: int, n_column_values: int, n_rows: int, n_cols: int) -> tuple[Any, Any]:
    """A figure of ``n_rows`` × ``n_cols`` panels, each wide enough for its ticks and labels."""
    panel_w = max(0.6 * n_column_values + 1.6, 3.2)
    panel_h = max(0.45 * n_row_values + 1.3, 2.2)
    fig = new_figure(panel_w * n_cols + 1.4, panel_h * n_rows + 1.2)
    return fig, fig.subplots(n_rows, n_cols, squeeze=False)


def _colour_floor(
    rows: Sequence[Mapping[str, Any]], shown: Sequence[float], value: str, task: str
) -> float:
    """Where the colour scale starts (it ends at 1)."""
    if value == "success_rate":
        return 0.0
    if task == "regressor":
        # R² runs from −∞ to 1: the scale starts at the lowest value shown (at most 0,
        # at least −1: worse networks all look equally bad).
        return max(min([0.0, *shown]), -1.0)
    # Accuracy: chance is 1 / arms on spirals; on the user's data the scale starts at 0.
    arms = [row["arms"] for row in rows if row["arms"] is not None]
    return 1.0 / max(arms) if arms else 0.0


def _draw_cells(
    ax: Any,
    grid: np.ndarray,
    by_cell: Mapping[tuple[Any, Any], list[float]],
    row_values: Sequence[Any],
    column_values: Sequence[Any],
    value: str,
    low: float,
) -> Any:
    """The panel's image, each cell's value written on it (k/n for a success rate)."""
    image = ax.imshow(np.ma.masked_invalid(grid), cmap="viridis", vmin=low, vmax=1.0, aspect="auto")
    for (i, j), v in np.ndenumerate(grid):
        if np.isfinite(v):
            n = len(by_cell[(row_values[i], column_values[j])])
            text = f"{round(v * n)}/{n}" if value == "success_rate" else f"{v:.2f}"
            shade = "black" if v > low + 0.6 * (1 - low) else "white"
            ax.text(j, i, text, ha="center", va="center", fontsize=8, color=shade)
    return image


def _label_panel(
    ax: Any, axes: tuple[str, str], row_values: Sequence[Any], column_values: Sequence[Any]
) -> None:
    ax.set_xticks(range(len(column_values)), [_tick(v) for v in column_values])
    ax.set_yticks(range(len(row_values)), [_tick(v) for v in row_values])
    ax.set_xlabel(_AXIS_LABELS.get(axes[1], axes[1]), fontsize=9)
    ax.set_ylabel(_AXIS_LABELS.get(axes[0], axes[0]), fontsize=9)


def _heatmap_title(
    rows: Sequence[Mapping[str, Any]],
    what: str,
    axes: tuple[str, str],
    by: Sequence[str],
    mixed: Sequence[str],
    selection: str | None,
) -> str:
    """What the cells show, per how many networks, what is fixed, pooled and selected."""
    per_cell = "networks" if len({row["fold"] for row in rows}) > 1 else "seeds"
    count = len({(row["seed"], row["fold"]) for row in rows})
    title = f"{what[0].upper()}{what[1:]}, by {axes[0]} × {axes[1]} ({count} {per_cell} per "
    title += "configuration)"
    title += f"\nfixed: {_fixed_text(rows, skip=[*by, *axes, *mixed])}"
    if mixed:
        title += f"\npooled over: {', '.join(mixed)}"
    if selection:
        title += f"\nselection: {selection}"
    return title


def _slug(key: str, value: Any) -> str:
    shown = f"{value:g}" if isinstance(value, float) else str(value)
    return f"{_SHORT.get(key, key) or key}{shown}"


def sweep_pictures(
    results: Any,
    out: str | Path,
    *,
    threshold: float = 0.95,
    by: Sequence[str] | None = None,
    selection: str | None = None,
    split: str = "validation",
    task: str = "classifier",
    axes: Sequence[str] = ("depth", "width"),
    values: Sequence[str] = ("mean", "success_rate"),
) -> list[Path]:
    """Heatmaps of the mean score (``heatmap*.png``) and the success rate (``success*.png``).

    Keys that vary in the rows are split: those in ``by`` into panels of one picture,
    the others into one picture per combination of their values (``heatmap-arms2-turns1.5.png``).
    By default the network's keys (activation, optimizer, learning rate, l2) make the
    panels and the data's keys (arms, turns, noise, n_samples) the files; folds are
    pooled. Axes other than depth × width name the file after them
    (``heatmap-learning_rate-l2.png``; panels per depth and width by default).

    Parameters
    ----------
    results : DataFrame or iterable of mappings
        A sweep's rows, all of them or a filtered selection, with their values as numbers
        (``scratchml.sweep.load(out).rows``, ``scratchml.sweep.read_rows(path)``).
    out : str or Path
        The folder to write into.
    threshold : float, default 0.95
        The score a network must reach to count as a success.
    by : sequence of str, optional
        Keys that make panels (default: the network's keys).
    selection : str, optional
        A phrase naming how the rows were chosen, added to the titles.
    split : {"validation", "test"}, default "validation"
        The scores shown.
    task : {"classifier", "regressor"}, default "classifier"
        What the scores are (see ``sweep_heatmap``).
    axes : pair of str, default ("depth", "width")
        The heatmaps' axes.
    values : sequence of str, default ("mean", "success_rate")
        The pictures to draw: ``heatmap`` for the mean, ``success`` for the success
        rate, ``worst`` for the minimum.

    Returns
    -------
    list of Path
        The pictures written, heatmaps first.
    """
    rows = _rows(results)
    out = Path(out)
    axes = tuple(axes)
    varying = [key for key in _varying(rows) if key not in axes and key != "fold"]
    default_axes = axes == ("depth", "width")
    if by is None:
        by = [key for key in varying if key not in DATA_KEYS]
    by = [key for key in by if key not in axes]
    pages = [key for key in varying if key not in by and key in DATA_KEYS]
    page_values = [sorted({row[key] for row in rows}) for key in pages]
    stems = {"mean": "heatmap", "success_rate": "success", "min": "worst"}
    written: dict[str, list[Path]] = {stems[v]: [] for v in values}
    axes_part = "" if default_axes else f"-{axes[0]}-{axes[1]}"
    for combo in itertools.product(*page_values):
        page_rows = [r for r in rows if all(r[k] == v for k, v in zip(pages, combo, strict=True))]
        if not page_rows:
            continue
        suffix = axes_part + "".join(f"-{_slug(k, v)}" for k, v in zip(pages, combo, strict=True))
        for value in values:
            path = out / f"{stems[value]}{suffix}.png"
            sweep_heatmap(
                page_rows,
                path,
                value,
                split=split,
                threshold=threshold,
                by=by,
                selection=selection,
                axes=axes,
                task=task,
                marginalise=True,
            ).clear()
            written[stems[value]].append(path)
    return [path for paths in written.values() for path in paths]


@overload
def sweep_curves(
    results: Any,
    curves: Sequence[tuple[np.ndarray, np.ndarray] | None],
    path: None = None,
    n: int = 3,
    *,
    selection: str | None = None,
    split: str = "validation",
) -> Figure: ...


@overload
def sweep_curves(
    results: Any,
    curves: Sequence[tuple[np.ndarray, np.ndarray] | None],
    path: str | Path,
    n: int = 3,
    *,
    selection: str | None = None,
    split: str = "validation",
) -> Path: ...


def sweep_curves(
    results: Any,
    curves: Sequence[tuple[np.ndarray, np.ndarray] | None],
    path: str | Path | None = None,
    n: int = 3,
    *,
    selection: str | None = None,
    split: str = "validation",
) -> Path | Figure:
    """Training loss per epoch of every network of the ``n`` best and ``n`` worst configurations.

    Configurations (folds pooled) are ranked by their networks' mean score on ``split``
    (then the worst network's).

    Parameters
    ----------
    results : DataFrame or iterable of mappings
        The rows (all or a selection), with their values as numbers.
    curves : sequence
        Each row's (epochs, losses), or None where it has no curve: for the rows of
        ``data = scratchml.sweep.load(out)``, ``[data.curve(row) for row in rows]``.
    path : str or Path, optional
        Where to save the picture (then the path is returned, else the figure).
    n : int
        How many configurations at each end.
    selection : str, optional
        A phrase naming how the rows were chosen, added to the title.
    split : {"validation", "test"}, default "validation"
        The scores that rank the configurations.

    Returns
    -------
    Path or Figure
        ``path`` when given, else the figure.
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(SPLITS)}; got {split!r}")

    rows = _rows(results)
    if not rows:
        raise ValueError("results has no rows: there is nothing to draw")
    curves = list(curves)
    if len(curves) != len(rows):
        raise ValueError(
            f"curves must hold one curve (or None) per row: {len(rows)}; got {len(curves)}"
        )
    groups: dict[tuple[Any, ...], list[_Network]] = {}
    for row, curve in zip(rows, curves, strict=True):
        groups.setdefault(_configuration(row), []).append((row, curve))
    ranked = sorted(groups.values(), key=lambda group: _group_score(group, split), reverse=True)
    ends = {"best": ranked[:n], "worst": ranked[::-1][:n]}
    varying = [k for k in _varying(rows) if k != "fold"]
    fig = new_figure(12, 4.6)
    axes = fig.subplots(1, 2, squeeze=False)[0]
    for ax, (end, groups_shown) in zip(axes, ends.items(), strict=True):
        _draw_curves(ax, groups_shown, varying, split)
        set_title(ax, f"the {len(groups_shown)} {end} configurations (one line per network)", 10)
    title = f"Training loss of the best and worst configurations by mean {split} score"
    title += f"\nfixed: {_fixed_text(rows, skip=varying)}"
    if selection:
        title += f"\nselection: {selection}"
    fig.suptitle(title, fontsize=11)
    if path is None:
        return fig
    saved = save_figure(fig, path)
    fig.clear()
    return saved


# A network of sweep_curves: its row and its loss curve (epochs, losses), if it has one.
_Network = tuple[dict[str, Any], tuple[np.ndarray, np.ndarray] | None]


def _group_score(group: Sequence[_Network], split: str) -> tuple[float, float]:
    """A configuration's rank: its networks' mean score on ``split``, then the worst one's."""
    accuracies = [row[f"{split}_accuracy"] for row, _ in group]
    return (float(np.mean(accuracies)), float(np.min(accuracies)))


def _draw_curves(
    ax: Any, groups: Sequence[Sequence[_Network]], varying: Sequence[str], split: str
) -> None:
    """One line per network, a colour per configuration, on a log scale."""
    colours = ["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown"]
    for colour, group in zip(itertools.cycle(colours), groups):
        label = ", ".join(_label(k, group[0][0][k]) for k in varying) or "all rows"
        mean, worst = _group_score(group, split)
        label += f": mean {mean:.3f}, min {worst:.3f}"
        for i, (_, curve) in enumerate(group):
            if curve is None:
                continue
            epochs, loss = curve
            ax.plot(epochs, loss, color=colour, lw=0.8, alpha=0.6, label=label if i == 0 else None)
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("training loss")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7, loc="upper right")
