"""Pictures of a sweep: mean test accuracy by depth × width."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from ._common import new_figure, save_figure, set_title


def _read_rows(results: str | Path | Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    if isinstance(results, (str, Path)):
        with open(results, encoding="utf-8", newline="") as file:
            return list(csv.DictReader(file))
    return list(results)


def _sorted_values(rows: list[Mapping[str, Any]], key: str, kind: type) -> list[Any]:
    return sorted({kind(row[key]) for row in rows})


def sweep_heatmap(
    results: str | Path | Iterable[Mapping[str, Any]],
    path: str | Path | None = None,
    value: str = "test_accuracy",
) -> Figure:
    """Mean ``value`` by depth (rows) × width (columns), one panel per activation × arms.

    ``results``: a sweep's results.csv, or its rows as mappings. Each cell is the mean
    over seeds and every other grid key (turns, noise, learning rate, ...), written in
    the cell; a cell no network reached stays blank. The colour scale runs from chance
    level (1 / arms, for the most arms shown) to 1. With ``path`` the figure is saved.
    """
    rows = _read_rows(results)
    if not rows:
        raise ValueError("results has no rows: there is nothing to draw")
    activations = _sorted_values(rows, "activation", str)
    arms = _sorted_values(rows, "arms", int)
    depths = _sorted_values(rows, "depth", int)
    widths = _sorted_values(rows, "width", int)

    # Sum and count per (activation, arms, depth, width) cell, for the means.
    totals = np.zeros((len(activations), len(arms), len(depths), len(widths)))
    counts = np.zeros_like(totals)
    for row in rows:
        cell = (
            activations.index(str(row["activation"])),
            arms.index(int(row["arms"])),
            depths.index(int(row["depth"])),
            widths.index(int(row["width"])),
        )
        totals[cell] += float(row[value])
        counts[cell] += 1
    with np.errstate(invalid="ignore"):
        means = totals / counts

    panel_w = 0.55 * len(widths) + 1.3
    panel_h = 0.45 * len(depths) + 1.0
    fig = new_figure(panel_w * len(arms) + 1.0, panel_h * len(activations))
    axes = fig.subplots(len(activations), len(arms), squeeze=False)
    low = 1.0 / max(arms)
    image = None
    for i, activation in enumerate(activations):
        for j, n_arms in enumerate(arms):
            ax = axes[i, j]
            panel = means[i, j]
            image = ax.imshow(
                np.ma.masked_invalid(panel), cmap="viridis", vmin=low, vmax=1.0, aspect="auto"
            )
            for (d, w), mean in np.ndenumerate(panel):
                if np.isfinite(mean):
                    shade = "black" if mean > low + 0.6 * (1 - low) else "white"
                    ax.text(w, d, f"{mean:.2f}", ha="center", va="center", fontsize=8, color=shade)
            ax.set_xticks(range(len(widths)), [str(w) for w in widths])
            ax.set_yticks(range(len(depths)), [str(d) for d in depths])
            ax.set_xlabel("width (units per hidden layer)")
            ax.set_ylabel("depth (hidden layers)")
            n = int(counts[i, j].sum())
            set_title(ax, f"{activation}, {n_arms} arms ({n} networks)", fontsize=10)
    label = value.replace("_", " ")
    fig.colorbar(image, ax=axes, label=f"mean {label}", shrink=0.9)
    fig.suptitle(f"Mean {label} by depth × width (over seeds and the other grid keys)")
    if path is not None:
        save_figure(fig, path)
    return fig
