"""A drawing of a fully connected network: nodes per layer, edges coloured by weight."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.cm import ScalarMappable
from matplotlib.collections import LineCollection
from matplotlib.colors import TwoSlopeNorm

from ._common import host, new_figure, save_figure


def _node_heights(n_nodes: int, tallest: int) -> np.ndarray:
    """Vertical positions of a layer's nodes, centred, spaced as in the tallest layer."""
    spacing = 2.0 / max(tallest - 1, 1)
    return (np.arange(n_nodes) - (n_nodes - 1) / 2) * spacing


def network_graph(
    params: Sequence[tuple[Any, Any]],
    path: str | Path | None = None,
    title: str | None = None,
    layer_names: Sequence[str] | None = None,
    cmap: str = "RdBu_r",
) -> Any:
    """Draw a network from its parameters [(W (n_in, n_out), b), ...].

    Every weight W[i, j] is an edge from node i of one layer to node j of the next,
    coloured by its value on a diverging colormap centred at 0 and drawn thicker
    and more opaque when |W[i, j]| is large. Returns the figure, or the path if given.
    """
    weights = [host(W) for W, _ in params]
    sizes = [weights[0].shape[0], *(W.shape[1] for W in weights)]
    tallest = max(sizes)
    limit = max(float(np.abs(W).max()) for W in weights) or 1.0
    norm = TwoSlopeNorm(vmin=-limit, vcenter=0.0, vmax=limit)
    colormap = ScalarMappable(norm=norm, cmap=cmap)

    segments, values = [], []
    for layer, W in enumerate(weights):
        y_from = _node_heights(W.shape[0], tallest)
        y_to = _node_heights(W.shape[1], tallest)
        rows, cols = np.meshgrid(np.arange(W.shape[0]), np.arange(W.shape[1]), indexing="ij")
        starts = np.column_stack([np.full(rows.size, layer), y_from[rows.ravel()]])
        ends = np.column_stack([np.full(rows.size, layer + 1), y_to[cols.ravel()]])
        segments.append(np.stack([starts, ends], axis=1))
        values.append(W.ravel())
    segments_all, values_all = np.concatenate(segments), np.concatenate(values)
    order = np.argsort(np.abs(values_all))  # strong weights drawn last, on top
    strength = np.abs(values_all[order]) / limit
    colors = colormap.to_rgba(values_all[order])
    colors[:, 3] = 0.15 + 0.85 * strength

    fig = new_figure(11, 6)
    ax = fig.subplots()
    ax.add_collection(
        LineCollection(segments_all[order], colors=colors, linewidths=0.3 + 2.2 * strength)
    )
    node_size = np.clip(2400 / tallest, 12, 180)
    for layer, n_nodes in enumerate(sizes):
        ax.scatter(
            np.full(n_nodes, layer),
            _node_heights(n_nodes, tallest),
            s=node_size,
            facecolor="white",
            edgecolor="0.15",
            linewidths=0.8,
            zorder=3,
        )
    if layer_names is None:
        layer_names = (
            [f"input\n({sizes[0]})"]
            + [f"hidden {i}\n({n})" for i, n in enumerate(sizes[1:-1], start=1)]
            + [f"output\n({sizes[-1]})"]
        )
    ax.set_xticks(range(len(sizes)), layer_names)
    ax.tick_params(axis="x", length=0, labelsize=9)
    ax.set_yticks([])
    for side in ("top", "right", "left", "bottom"):
        ax.spines[side].set_visible(False)
    ax.set_xlim(-0.4, len(sizes) - 0.6)
    ax.set_ylim(-1.1, 1.1)
    fig.colorbar(colormap, ax=ax, label="weight", shrink=0.8, pad=0.01)
    ax.set_title(title or f"Network {' → '.join(map(str, sizes))}")
    return save_figure(fig, path, dpi=100) if path is not None else fig
