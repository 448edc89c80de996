"""Pictures of a sweep: per configuration, depth × width heatmaps split by the other keys,
and the loss curves of the best and the worst configurations.

Every picture says in its title what it shows and which keys its rows hold fixed, so a
picture of a filtered selection says so (pass ``selection=`` to name the filter too).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from ._common import new_figure, save_figure, set_title

# Keys that can split pictures (the heatmap's axes are depth and width).
SPLIT_KEYS = (
    "arms",
    "turns",
    "noise",
    "n_samples",
    "fold",
    "activation",
    "optimizer",
    "momentum",
    "beta_1",
    "beta_2",
    "epsilon",
    "learning_rate",
    "l2",
)
DATA_KEYS = ("arms", "turns", "noise", "n_samples", "fold")
_SHORT = {"learning_rate": "lr", "n_samples": "n", "activation": "", "optimizer": ""}
VALUES = {
    "test_accuracy": "mean test accuracy over seeds",
    "success_rate": "success rate: share of seeds with test accuracy ≥ {threshold:g}",
    "min_test_accuracy": "worst seed's test accuracy",
}


def _rows(results: Any) -> list[dict[str, Any]]:
    from ..sweep.files import read_results
    from ..sweep.report import as_rows

    if isinstance(results, (str, Path)):
        results = read_results(results)
    return as_rows(results)


def _label(key: str, value: Any) -> str:
    shown = f"{value:g}" if isinstance(value, float) else str(value)
    short = _SHORT.get(key, key)
    return f"{short} {shown}".strip() if short else shown


def _varying(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    return [key for key in SPLIT_KEYS if len({row[key] for row in rows}) > 1]


def _fixed_text(rows: Sequence[Mapping[str, Any]], skip: Iterable[str] = ()) -> str:
    """'arms 2, turns 1.5, ...': the keys with a single value in ``rows``."""
    skip = set(skip)
    parts = [
        _label(key, rows[0][key])
        for key in SPLIT_KEYS
        if key not in skip
        and len({row[key] for row in rows}) == 1
        and rows[0][key] is not None
        # spirals have one fold: saying so would only clutter the title
        and not (key == "fold" and rows[0]["arms"] is not None)
    ]
    parts.append(f"{rows[0]['epochs']} epochs")
    return ", ".join(parts)


def _cell_values(
    rows: Sequence[Mapping[str, Any]], value: str, threshold: float
) -> tuple[dict[tuple[int, int], float], dict[tuple[int, int], list[float]]]:
    by_cell: dict[tuple[int, int], list[float]] = {}
    for row in rows:
        by_cell.setdefault((row["depth"], row["width"]), []).append(row["test_accuracy"])
    values = {}
    for cell, accuracies in by_cell.items():
        array = np.array(accuracies)
        if value == "success_rate":
            values[cell] = float(np.mean(array >= threshold))
        elif value == "min_test_accuracy":
            values[cell] = float(array.min())
        else:
            values[cell] = float(array.mean())
    return values, by_cell


def sweep_heatmap(
    results: Any,
    path: str | Path | None = None,
    value: str = "test_accuracy",
    *,
    threshold: float = 0.95,
    by: Sequence[str] | None = None,
    selection: str | None = None,
) -> Figure:
    """A configuration per cell: ``value`` over seeds by depth (rows) × width (columns).

    Parameters
    ----------
    results : path, DataFrame or iterable of mappings
        A sweep's results.csv, or its rows (all of them or a filtered selection).
    path : str or Path, optional
        Where to save the figure.
    value : {"test_accuracy", "success_rate", "min_test_accuracy"}
        Mean test accuracy over seeds, the share of seeds reaching ``threshold``, or the
        worst seed's test accuracy.
    threshold : float
        The test accuracy a seed must reach to count as a success.
    by : sequence of str, optional
        Keys that make one panel per combination of their values (default: every key
        that varies in the rows besides depth and width).
    selection : str, optional
        A phrase naming how the rows were chosen, added to the title.

    Returns
    -------
    Figure
        The heatmap's figure (also saved when ``path`` is given).

    Raises
    ------
    ValueError
        No rows, an unknown value or key, or rows that vary in a key that is neither
        a heatmap axis nor in ``by`` (a cell would mix configurations: filter the rows or
        split them with ``sweep_pictures``).
    """
    rows = _rows(results)
    if not rows:
        raise ValueError("results has no rows: there is nothing to draw")
    if value not in VALUES:
        raise ValueError(f"value must be one of {', '.join(VALUES)}; got {value!r}")
    varying = _varying(rows)
    by = varying if by is None else list(by)
    unknown = [key for key in by if key not in SPLIT_KEYS]
    if unknown:
        raise ValueError(f"by: unknown key {unknown[0]!r}; valid keys are {', '.join(SPLIT_KEYS)}")
    mixed = [key for key in varying if key not in by]
    if mixed:
        raise ValueError(
            f"the rows vary in {', '.join(mixed)}, which is neither a heatmap axis nor in by: "
            "a cell would mix configurations; filter the rows, add the key to by, or use "
            "sweep_pictures (one file per value)"
        )
    by = [key for key in by if key in varying]
    depths = sorted({row["depth"] for row in rows})
    widths = sorted({row["width"] for row in rows})
    panel_values = [sorted({row[key] for row in rows}) for key in by]
    combos = list(itertools.product(*panel_values))
    n_cols = len(panel_values[-1]) if by else 1
    n_rows = len(combos) // n_cols
    panel_w = 0.55 * len(widths) + 1.4
    panel_h = 0.42 * len(depths) + 1.1
    fig = new_figure(panel_w * n_cols + 1.2, panel_h * n_rows + 0.9)
    axes = fig.subplots(n_rows, n_cols, squeeze=False)
    # Spirals: chance is 1 / arms; the user's data: the colour scale starts at 0.
    arms = [row["arms"] for row in rows if row["arms"] is not None]
    low = 1.0 / max(arms) if arms and value != "success_rate" else 0.0
    image = None
    for ax, combo in zip(axes.flat, combos, strict=True):
        panel_rows = [r for r in rows if all(r[k] == v for k, v in zip(by, combo, strict=True))]
        values, by_cell = _cell_values(panel_rows, value, threshold)
        grid = np.full((len(depths), len(widths)), np.nan)
        for (depth, width), v in values.items():
            grid[depths.index(depth), widths.index(width)] = v
        image = ax.imshow(
            np.ma.masked_invalid(grid), cmap="viridis", vmin=low, vmax=1.0, aspect="auto"
        )
        for (d, w), v in np.ndenumerate(grid):
            if np.isfinite(v):
                n = len(by_cell[(depths[d], widths[w])])
                text = f"{round(v * n)}/{n}" if value == "success_rate" else f"{v:.2f}"
                shade = "black" if v > low + 0.6 * (1 - low) else "white"
                ax.text(w, d, text, ha="center", va="center", fontsize=8, color=shade)
        ax.set_xticks(range(len(widths)), [str(w) for w in widths])
        ax.set_yticks(range(len(depths)), [str(d) for d in depths])
        ax.set_xlabel("width (units per hidden layer)")
        ax.set_ylabel("depth (hidden layers)")
        name = ", ".join(_label(k, v) for k, v in zip(by, combo, strict=True)) or "all rows"
        set_title(ax, f"{name} ({len(panel_rows)} networks)", fontsize=10)
    what = VALUES[value].format(threshold=threshold)
    fig.colorbar(image, ax=axes, label=what.split(":")[0], shrink=0.9)
    seeds = len({row["seed"] for row in rows})
    title = f"{what[0].upper()}{what[1:]}, by depth × width ({seeds} seeds per cell)"
    title += f"\nfixed: {_fixed_text(rows, skip=by)}"
    if selection:
        title += f"\nselection: {selection}"
    fig.suptitle(title, fontsize=11)
    if path is not None:
        save_figure(fig, path)
    return fig


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
) -> list[Path]:
    """Heatmaps of mean test accuracy (``heatmap*.png``) and success rate (``success*.png``).

    Keys that vary in the rows are split: those in ``by`` into panels of one picture,
    the others into one picture per combination of their values (``heatmap-arms2-turns1.5.png``).
    By default the network's keys (activation, optimizer, learning rate, l2) make the
    panels and the data's keys (arms, turns, noise, n_samples) the files.

    Parameters
    ----------
    results : path, DataFrame or iterable of mappings
        A sweep's results.csv, or its rows (all of them or a filtered selection).
    out : str or Path
        The folder to write into.
    threshold : float, default 0.95
        The test accuracy a seed must reach to count as a success.
    by : sequence of str, optional
        Keys that make panels (default: the network's keys).
    selection : str, optional
        A phrase naming how the rows were chosen, added to the titles.

    Returns
    -------
    list of Path
        The pictures written, heatmaps first.
    """
    rows = _rows(results)
    out = Path(out)
    varying = _varying(rows)
    if by is None:
        by = [key for key in varying if key not in DATA_KEYS]
    pages = [key for key in varying if key not in by]
    page_values = [sorted({row[key] for row in rows}) for key in pages]
    written: dict[str, list[Path]] = {"heatmap": [], "success": []}
    for combo in itertools.product(*page_values):
        page_rows = [r for r in rows if all(r[k] == v for k, v in zip(pages, combo, strict=True))]
        if not page_rows:
            continue
        suffix = "".join(f"-{_slug(k, v)}" for k, v in zip(pages, combo, strict=True))
        for stem, value in (("heatmap", "test_accuracy"), ("success", "success_rate")):
            path = out / f"{stem}{suffix}.png"
            sweep_heatmap(
                page_rows, path, value, threshold=threshold, by=by, selection=selection
            ).clear()
            written[stem].append(path)
    return written["heatmap"] + written["success"]


def sweep_curves(
    results: Any,
    curves: Mapping[tuple[str, ...], tuple[np.ndarray, np.ndarray]],
    path: str | Path | None = None,
    n: int = 3,
    *,
    selection: str | None = None,
) -> Path | Figure:
    """Training loss per epoch of every seed of the ``n`` best and ``n`` worst configurations.

    Configurations are ranked by mean test accuracy over seeds (then the worst seed's).

    Parameters
    ----------
    results : path, DataFrame or iterable of mappings
        The rows (all or a selection).
    curves : mapping
        Row key → (epochs, losses), as ``scratchml.sweep.load(out).curves`` holds them.
    path : str or Path, optional
        Where to save the picture (then the path is returned, else the figure).
    n : int
        How many configurations at each end.
    selection : str, optional
        A phrase naming how the rows were chosen, added to the title.

    Returns
    -------
    Path or Figure
        ``path`` when given, else the figure.
    """
    from ..sweep.files import config_key, format_cell, row_key

    rows = _rows(results)
    if not rows:
        raise ValueError("results has no rows: there is nothing to draw")
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(config_key(row), []).append(row)

    def score(group: list[dict[str, Any]]) -> tuple[float, float]:
        accuracies = [r["test_accuracy"] for r in group]
        return (float(np.mean(accuracies)), float(np.min(accuracies)))

    ranked = sorted(groups.values(), key=score, reverse=True)
    ends = {"best": ranked[:n], "worst": ranked[::-1][:n]}
    varying = [k for k in (*_varying(rows), "depth", "width") if len({r[k] for r in rows}) > 1]
    fig = new_figure(12, 4.6)
    axes = fig.subplots(1, 2, squeeze=False)[0]
    colours = ["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown"]
    for ax, (end, groups_shown) in zip(axes, ends.items(), strict=True):
        for colour, group in zip(itertools.cycle(colours), groups_shown):
            label = ", ".join(_label(k, group[0][k]) for k in varying) or "all rows"
            mean, worst = score(group)
            label += f": mean {mean:.3f}, min {worst:.3f}"
            for i, row in enumerate(group):
                key = row_key({k: format_cell(v) for k, v in row.items()})
                if key not in curves:
                    continue
                epochs, loss = curves[key]
                ax.plot(
                    epochs, loss, color=colour, lw=0.8, alpha=0.6, label=label if i == 0 else None
                )
        ax.set_yscale("log")
        ax.set_xlabel("epoch")
        ax.set_ylabel("training loss")
        ax.legend(fontsize=7, loc="upper right")
        set_title(ax, f"the {len(groups_shown)} {end} configurations (one line per seed)", 10)
    title = "Training loss of the best and worst configurations by mean test accuracy"
    title += f"\nfixed: {_fixed_text(rows, skip=varying)}"
    if selection:
        title += f"\nselection: {selection}"
    fig.suptitle(title, fontsize=11)
    if path is None:
        return fig
    saved = save_figure(fig, path)
    fig.clear()
    return saved
