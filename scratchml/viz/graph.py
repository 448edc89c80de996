"""A drawing of a fully connected network: nodes per layer, edges coloured by weight."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.cm import ScalarMappable
from matplotlib.collections import LineCollection
from matplotlib.colors import TwoSlopeNorm

from ._common import host, new_figure, release, root_figure, save_figure, set_title


def _node_heights(n_nodes: int, tallest: int) -> np.ndarray:
    """Vertical positions of a layer's nodes, centred on 0, spaced as in the tallest layer."""
    spacing = 2.0 / max(tallest - 1, 1)
    return (np.arange(n_nodes) - (n_nodes - 1) / 2) * spacing


def _edges(weights: Sequence[np.ndarray], tallest: int) -> tuple[np.ndarray, np.ndarray]:
    """Every weight as a segment between its two nodes: (segments (E, 2, 2), values (E,))."""
    segments, values = [], []
    for layer, W in enumerate(weights):
        n_in, n_out = W.shape
        y_from = np.repeat(_node_heights(n_in, tallest), n_out)  # W.ravel() is row-major
        y_to = np.tile(_node_heights(n_out, tallest), n_in)
        starts = np.column_stack([np.full(W.size, layer, dtype=float), y_from])
        ends = np.column_stack([np.full(W.size, layer + 1, dtype=float), y_to])
        segments.append(np.stack([starts, ends], axis=1))
        values.append(W.ravel())
    return np.concatenate(segments), np.concatenate(values)


def network_graph(
    params: Sequence[tuple[Any, Any]],
    path: str | Path | None = None,
    ax: Axes | None = None,
    title: str | None = None,
    layer_names: Sequence[str] | None = None,
    cmap: str = "RdBu_r",
) -> Any:
    """Draw a fully connected network from its parameters [(W (n_in, n_out), b (n_out,)), ...].

    Nodes stand in one column per layer, vertically centred. Each weight W[i, j] is an
    edge from node i of one layer to node j of the next, coloured on a diverging colormap
    centred at 0 (red positive, blue negative), thicker and more opaque as ``|W[i, j]|``
    grows; strong edges are drawn on top. Nodes are filled with their bias on the same
    scale (symmetric, ± the largest ``|W|``). All edges are one LineCollection. Arrays of any backend; each is copied to the host once.
    Writes a PNG and returns its path when ``path`` is given, else returns the Axes.

    Parameters
    ----------
    params : sequence of (W, b)
        W (n_in, n_out) and b (n_out,) per layer, any backend.
    path : str or Path, optional
        The PNG to write.
    ax : matplotlib.axes.Axes, optional
        Where to draw (default: a new figure).
    title : str, optional
        The picture's title.
    layer_names : sequence of str, optional
        A label under each column of nodes (input, hidden layers, output).
    cmap : str, default "RdBu_r"
        The diverging colormap of weights and biases.

    Returns
    -------
    Path or matplotlib.axes.Axes
        ``path`` when given, else the Axes.
    """
    weights, biases = _host_layers(params)
    sizes = [weights[0].shape[0], *(W.shape[1] for W in weights)]
    labels = _layer_labels(layer_names, sizes)
    tallest = max(sizes)
    segments, values = _edges(weights, tallest)
    limit = _weight_limit(values)
    colormap = ScalarMappable(norm=TwoSlopeNorm(vmin=-limit, vcenter=0.0, vmax=limit), cmap=cmap)

    owns_figure = ax is None
    if ax is None:
        ax = new_figure(max(6.0, 1.3 * len(sizes) + 1.5), 6).subplots()
    fig = root_figure(ax)
    _draw_edges(ax, segments, values, colormap, limit)
    _draw_nodes(ax, sizes, biases, colormap, tallest)
    _columns_only(ax, labels)
    fig.colorbar(colormap, ax=ax, label="weight (edges), bias (nodes)", shrink=0.8, pad=0.01)
    set_title(ax, title or f"Network {' → '.join(map(str, sizes))}")
    if path is None:
        return ax
    path = save_figure(fig, path, dpi=100)
    if owns_figure:
        release(fig)
    return path


def _host_layers(
    params: Sequence[tuple[Any, Any]],
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The weights and biases on the host as float64, checked to chain (n_in, n_out) layers."""
    weights = [host(W).astype(np.float64) for W, _ in params]
    biases = [host(b).astype(np.float64).ravel() for _, b in params]
    for layer, W in enumerate(weights):
        if W.ndim != 2 or (layer and W.shape[0] != weights[layer - 1].shape[1]):
            raise ValueError(
                f"params[{layer}] W has shape {W.shape}; expected (n_in, n_out) chained layers"
            )
    return weights, biases


def _layer_labels(layer_names: Sequence[str] | None, sizes: Sequence[int]) -> list[str]:
    """A label per column of nodes: its name (default input, hidden i, output) and its width."""
    if layer_names is None:
        layer_names = [
            "input",
            *(f"hidden {i}" for i in range(1, len(sizes) - 1)),
            "output",
        ]
    if len(layer_names) != len(sizes):
        raise ValueError(f"layer_names needs {len(sizes)} names (one per layer); got {layer_names}")
    return [f"{name}\n({size})" for name, size in zip(layer_names, sizes, strict=True)]


def _weight_limit(values: np.ndarray) -> float:
    """The colour scale's half-width: the largest ``|W|`` (1 when every weight is 0)."""
    limit = float(np.abs(values).max()) if values.size else 0.0
    return limit if limit > 0 else 1.0


def _draw_edges(
    ax: Axes, segments: np.ndarray, values: np.ndarray, colormap: ScalarMappable, limit: float
) -> None:
    """All edges as one LineCollection, weak ones first and faint, strong ones on top."""
    magnitude = np.abs(values)
    order = np.argsort(magnitude)  # weak edges first, strong ones on top
    strength = np.clip(magnitude[order] / limit, 0.0, 1.0)
    colors = colormap.to_rgba(values[order])
    # Dense layers have thousands of edges: keep weak ones faint so structure shows.
    colors[:, 3] = 0.08 + 0.87 * strength
    linewidths = 0.25 + 2.0 * strength
    ax.add_collection(LineCollection(list(segments[order]), colors=colors, linewidths=linewidths))


def _draw_nodes(
    ax: Axes,
    sizes: Sequence[int],
    biases: Sequence[np.ndarray],
    colormap: ScalarMappable,
    tallest: int,
) -> None:
    """One column of nodes per layer: inputs white, the others filled with their bias."""
    node_size = float(np.clip(2400 / tallest, 12, 200))
    for layer, n_nodes in enumerate(sizes):
        face = np.ones((n_nodes, 4)) if layer == 0 else colormap.to_rgba(biases[layer - 1])
        ax.scatter(
            np.full(n_nodes, layer),
            _node_heights(n_nodes, tallest),
            s=node_size,
            c=face,
            edgecolors="0.15",
            linewidths=0.8,
            zorder=3,
        )


def _columns_only(ax: Axes, labels: Sequence[str]) -> None:
    """No frame and no y axis: only the columns' labels under the nodes, and a snug view."""
    ax.set_xticks(range(len(labels)), labels)
    ax.tick_params(axis="x", length=0, labelsize=9)
    ax.set_yticks([])
    for side in ("top", "right", "left", "bottom"):
        ax.spines[side].set_visible(False)
    ax.set_xlim(-0.4, len(labels) - 0.6)
    ax.set_ylim(-1.08, 1.08)
