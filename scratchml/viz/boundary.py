"""Decision boundaries of 2-D classifiers, and loss curves."""

from __future__ import annotations

import itertools
from pathlib import Path as FilePath
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.contour import ContourSet
from matplotlib.lines import Line2D
from matplotlib.path import Path

from .. import backends
from ._common import (
    class_colors,
    class_labels,
    host,
    log_y_axis,
    new_figure,
    release,
    save_figure,
    set_title,
)

PROBABILITY_LEVELS = (0.1, 0.25, 0.5, 0.75, 0.9)


def plane_grid(X: np.ndarray, resolution: int, padding: float) -> tuple[np.ndarray, np.ndarray]:
    """A (resolution × resolution) grid covering the points plus ``padding``.

    Parameters
    ----------
    X : numpy.ndarray (n, 2)
        The points.
    resolution : int
        Grid points along each axis.
    padding : float
        Margin beyond the points, in data units.

    Returns
    -------
    xx : numpy.ndarray (resolution, resolution)
        The grid's first coordinates, as ``numpy.meshgrid`` gives them.
    yy : numpy.ndarray (resolution, resolution)
        Its second coordinates.
    """
    low, high = X.min(axis=0) - padding, X.max(axis=0) + padding
    xs = np.linspace(low[0], high[0], resolution)
    ys = np.linspace(low[1], high[1], resolution)
    return np.meshgrid(xs, ys)


def shade_classes(scores: np.ndarray, colors: np.ndarray, strength: float = 0.5) -> np.ndarray:
    """RGB pixels (n, 3) blending class colours by probability, paler where the model is unsure.

    ``scores`` (n, k) are probabilities. The blended colour is laid over white with an
    opacity that grows from 0.1 at chance level to ``strength`` at certainty, so the
    data points (drawn in full colour) stand out everywhere.

    Parameters
    ----------
    scores : numpy.ndarray (n, k)
        Class probabilities per pixel.
    colors : numpy.ndarray (k, 3)
        RGB colour of each class.
    strength : float, default 0.5
        Opacity at certainty.

    Returns
    -------
    numpy.ndarray (n, 3)
        RGB pixels.
    """
    k = scores.shape[1]
    blend = scores @ colors
    confidence = np.clip((scores.max(axis=1) - 1 / k) / (1 - 1 / k), 0.0, 1.0)
    alpha = 0.1 + (strength - 0.1) * confidence
    return 1 - (1 - blend) * alpha[:, None]


def _dilate(mask: np.ndarray) -> np.ndarray:
    """A 2-D boolean mask grown by one cell in all eight directions."""
    padded = np.pad(mask, 1)
    rows, cols = mask.shape
    grown = np.zeros_like(mask)
    for di in range(3):
        for dj in range(3):
            grown |= padded[di : di + rows, dj : dj + cols]
    return grown


def class_boundaries(
    ax: Axes, xx: np.ndarray, yy: np.ndarray, scores: np.ndarray, **style: Any
) -> list[ContourSet]:
    """Draw the lines where the winning class changes, from per-class scores on a grid.

    ``scores`` is (n_grid, k) — probabilities or logits — or (n_grid, 1), a single
    binary logit whose sign picks the class. For k ≥ 3 each pair of classes gets the
    zero line of ``score_i − score_j``, kept only where i and j are the two best: the
    boundaries come out smooth, not as the staircase of a contoured argmax.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Where to draw.
    xx, yy : numpy.ndarray
        The grid (``plane_grid``).
    scores : numpy.ndarray (n_grid, k) or (n_grid, 1)
        Per-class scores on the grid.
    **style
        Passed to ``Axes.contour`` (colors, linewidths, ...).

    Returns
    -------
    list of matplotlib.contour.ContourSet
        The lines drawn.
    """
    if scores.shape[1] == 1:
        scores = np.column_stack([np.zeros(len(scores)), scores[:, 0]])
    k = scores.shape[1]
    order = np.argsort(scores, axis=1)
    first, second = order[:, -1], order[:, -2]
    drawn: list[ContourSet] = []
    for i, j in itertools.combinations(range(k), 2):
        difference = scores[:, i] - scores[:, j]
        if k > 2:
            pair = ((first == i) & (second == j)) | ((first == j) & (second == i))
            # One cell of slack, so the lines reach the points where three classes meet.
            pair = _dilate(pair.reshape(xx.shape)).ravel()
            difference = np.ma.masked_where(~pair, difference)
        if not (difference.min() < 0 < difference.max()):
            continue  # the two never meet inside this view
        drawn.append(ax.contour(xx, yy, difference.reshape(xx.shape), levels=[0.0], **style))
    return drawn


def _label_along(ax: Axes, contours: ContourSet, fmt: Any, fontsize: float) -> None:
    """Label each contour level at a different fraction of its length, so labels do not pile up."""
    positions = []
    paths = contours.get_paths()
    for index, path in enumerate(paths):
        vertices = np.asarray(path.vertices)
        if vertices.shape[0] < 2:
            continue
        # A level's path holds all its pieces; each MOVETO starts one.
        starts = [0] if path.codes is None else np.flatnonzero(path.codes == Path.MOVETO)
        pieces = [p for p in np.split(vertices, starts[1:]) if len(p) > 1]
        lengths = [np.linalg.norm(np.diff(p, axis=0), axis=1) for p in pieces]
        longest = int(np.argmax([step.sum() for step in lengths]))
        piece, arc = pieces[longest], np.concatenate([[0.0], np.cumsum(lengths[longest])])
        # Staggered between 30% and 70% of the way along: off the corners (and the legend).
        at = (0.3 + 0.4 * index / max(len(paths) - 1, 1)) * arc[-1]
        positions.append((np.interp(at, arc, piece[:, 0]), np.interp(at, arc, piece[:, 1])))
    if positions:
        ax.clabel(contours, fmt=fmt, fontsize=fontsize, manual=positions, inline_spacing=3)


def decision_boundary(
    model: Any,
    X: Any,
    y: Any,
    ax: Axes | None = None,
    resolution: int = 250,
    title: str | None = None,
    padding: float = 0.5,
    probability_contours: bool = False,
) -> Axes:
    """Shade the plane by a fitted 2-D classifier's predicted class and draw the data on top.

    ``model`` has ``predict_proba(X) -> (n, n_classes)`` (in X's namespace) and, ideally,
    ``classes_``; ``X`` is (n, 2) and ``y`` (n,), arrays of any backend. The grid
    (resolution², 2), ``padding`` data units beyond the points, is one ``predict_proba``
    call in X's namespace and one copy back. A pixel blends the class colours weighted by
    probability over white, more opaque where the model is confident; black lines mark
    where the predicted class changes (P = 0.5 for two classes). With
    ``probability_contours`` (two classes) P(class 1) = 0.1, 0.25, 0.5, 0.75, 0.9 are
    drawn and labelled.

    Parameters
    ----------
    model : estimator
        A fitted classifier of 2-D points with ``predict_proba``.
    X : array (n, 2)
        The points, any backend.
    y : array (n,)
        Their labels.
    ax : matplotlib.axes.Axes, optional
        Where to draw (default: a new figure).
    resolution : int, default 250
        Grid points along each axis.
    title : str, optional
        The picture's title.
    padding : float, default 0.5
        Margin beyond the points, in data units.
    probability_contours : bool, default False
        Draw and label P(class 1) = 0.1 … 0.9 (two classes).

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on.
    """
    X_host = host(X)
    if X_host.ndim != 2 or X_host.shape[1] != 2:
        raise ValueError(f"X must have shape (n_samples, 2) to draw a boundary; got {X_host.shape}")
    classes, index = class_labels(y, getattr(model, "classes_", None))
    xx, yy = plane_grid(X_host, resolution, padding)
    proba = _grid_probabilities(model, X, xx, yy)
    colors = class_colors(max(proba.shape[1], len(classes)))
    if ax is None:
        ax = new_figure(5.5, 5).subplots()

    _shade_plane(ax, xx, yy, proba, colors)
    handles: list[Line2D] = []
    if probability_contours and proba.shape[1] == 2:
        handles.append(_probability_contours(ax, xx, yy, proba[:, 1], classes[-1]))
    class_boundaries(ax, xx, yy, proba, colors="k", linewidths=1.6, zorder=2)
    handles.append(Line2D([], [], color="k", linewidth=1.6, label="decision boundary"))
    _scatter_classes(ax, X_host, classes, index, colors)
    _legend_under(ax, handles)
    set_title(ax, title or f"Decision regions of {type(model).__name__}")
    return ax


def _grid_probabilities(model: Any, X: Any, xx: np.ndarray, yy: np.ndarray) -> np.ndarray:
    """``model.predict_proba`` on the grid's points, in X's namespace: (n_grid, k) on the host.

    One call and one copy back; a binary model returning P(class 1) only gets the
    column of class 0 added.
    """
    grid = np.column_stack([xx.ravel(), yy.ravel()])
    proba = host(
        model.predict_proba(backends.asarray(grid, like=X) if backends.is_array(X) else grid)
    ).astype(np.float64)
    if proba.ndim == 1:  # a binary model returning P(class 1) only
        proba = np.column_stack([1 - proba, proba])
    return proba


def _shade_plane(
    ax: Axes, xx: np.ndarray, yy: np.ndarray, proba: np.ndarray, colors: np.ndarray
) -> None:
    """Paint each grid cell by its class probabilities and fit the view to the grid."""
    image = shade_classes(proba, colors[: proba.shape[1]])
    dx, dy = xx[0, 1] - xx[0, 0], yy[1, 0] - yy[0, 0]
    extent = (xx[0, 0] - dx / 2, xx[0, -1] + dx / 2, yy[0, 0] - dy / 2, yy[-1, 0] + dy / 2)
    ax.imshow(
        image.reshape(*xx.shape, 3),
        origin="lower",
        extent=extent,
        interpolation="bilinear",
        zorder=0,
    )
    # Limits first: contour labels are placed in display coordinates.
    ax.set(xlim=extent[:2], ylim=extent[2:], xlabel="$x_1$", ylabel="$x_2$", aspect="equal")


def _probability_contours(
    ax: Axes, xx: np.ndarray, yy: np.ndarray, p_last: np.ndarray, last_class: Any
) -> Line2D:
    """Draw and label P(last class) = 0.1 … 0.9 (0.5 solid, the others dashed); its legend entry."""
    levels = list(PROBABILITY_LEVELS)
    boundary = [level == 0.5 for level in levels]
    contours = ax.contour(
        xx,
        yy,
        p_last.reshape(xx.shape),
        levels=levels,
        colors=["k" if b else "0.3" for b in boundary],
        linewidths=[1.6 if b else 0.9 for b in boundary],
        linestyles=["-" if b else "--" for b in boundary],
        zorder=2,
    )
    _label_along(ax, contours, lambda v: f"{v:g}", fontsize=8)
    label = f"P(class {last_class}) = 0.1 … 0.9"
    return Line2D([], [], color="0.3", linestyle="--", linewidth=0.9, label=label)


def _scatter_classes(
    ax: Axes, X: np.ndarray, classes: np.ndarray, index: np.ndarray, colors: np.ndarray
) -> None:
    """The data on top: each class's points in its colour, labelled for the legend."""
    for k, label in enumerate(classes):
        points = X[index == k]
        ax.scatter(
            points[:, 0],
            points[:, 1],
            s=16,
            color=colors[k],
            edgecolors="k",
            linewidths=0.5,
            label=f"class {label}",
            zorder=3,
        )


def _legend_under(ax: Axes, extra_handles: list[Line2D]) -> None:
    """The classes' markers and the lines' entries, below the axes: it never hides the data."""
    class_handles, _ = ax.get_legend_handles_labels()
    entries = [*class_handles, *extra_handles]
    ax.legend(
        handles=entries,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.11),
        ncols=min(len(entries), 4),
        fontsize=8,
        frameon=False,
        handletextpad=0.4,
        columnspacing=1.2,
    )


def save_decision_boundary(
    model: Any, X: Any, y: Any, path: str | FilePath, title: str | None = None, **kwargs: Any
) -> FilePath:
    """``decision_boundary`` written to a PNG.

    Parameters
    ----------
    model : estimator
        A fitted 2-D classifier with ``predict_proba``.
    X : array (n, 2)
        The points, any backend.
    y : array (n,)
        Their labels.
    path : str or Path
        The PNG to write.
    title : str, optional
        The picture's title.
    **kwargs
        Passed to ``decision_boundary``.

    Returns
    -------
    Path
        ``path``.
    """
    fig = new_figure(5.5, 5)
    decision_boundary(model, X, y, ax=fig.subplots(), title=title, **kwargs)
    path = save_figure(fig, path)
    release(fig)
    return path


def loss_curve(
    loss_history: Any, ax: Axes | None = None, title: str | None = None, log: bool = True
) -> Axes:
    """Plot the training loss per epoch (``loss_history``: n_epochs floats or a 1-D array).

    Epoch e (1-based) is drawn at x = e. The y axis is logarithmic when ``log`` is true
    and every loss is positive.

    Parameters
    ----------
    loss_history : array-like (n_epochs,)
        One loss per epoch.
    ax : matplotlib.axes.Axes, optional
        Where to draw (default: a new figure).
    title : str, optional
        The plot's title.
    log : bool, default True
        A logarithmic y axis (when every loss is positive).

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on.
    """
    losses = host(loss_history).astype(np.float64).ravel()
    if ax is None:
        ax = new_figure(5, 3.5).subplots()
    epochs = np.arange(1, len(losses) + 1)
    ax.plot(epochs, losses, color="#0072B2", linewidth=1.3)
    if log and len(losses) and np.all(losses > 0):
        log_y_axis(ax, losses)
    ax.set(xlabel="epoch", ylabel="loss")
    if len(losses):
        ax.set_xlim(0, len(losses) + 1)
    ax.grid(True, which="major", alpha=0.3)
    set_title(ax, title or "Training loss")
    return ax
