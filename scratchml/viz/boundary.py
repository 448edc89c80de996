"""Decision boundaries and loss curves."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.axes import Axes

from .. import backends
from ._common import class_colors, class_labels, host, new_figure, save_figure


def plane_grid(X: np.ndarray, resolution: int, padding: float) -> tuple[np.ndarray, np.ndarray]:
    """A (resolution × resolution) grid covering the points with some padding: (xx, yy)."""
    low, high = X.min(axis=0) - padding, X.max(axis=0) + padding
    xs = np.linspace(low[0], high[0], resolution)
    ys = np.linspace(low[1], high[1], resolution)
    return np.meshgrid(xs, ys)


def decision_boundary(
    model: Any,
    X: Any,
    y: Any,
    ax: Axes | None = None,
    resolution: int = 250,
    title: str | None = None,
    padding: float = 0.3,
    probability_contours: bool = False,
) -> Axes:
    """Shade the plane by the predicted class of a fitted 2-D classifier, points on top.

    The colour of a pixel blends the class colours weighted by ``predict_proba``, so
    confident regions are saturated and uncertain ones pale. The whole grid is one
    ``predict_proba`` call in X's namespace and one copy back to the host.
    With ``probability_contours`` (two classes) the P(class 1) = 0.1 … 0.9 levels are drawn.
    """
    X_host = host(X)
    if X_host.ndim != 2 or X_host.shape[1] != 2:
        raise ValueError(f"X must have shape (n_samples, 2) to draw a boundary; got {X_host.shape}")
    classes, index = class_labels(y, getattr(model, "classes_", None))
    xx, yy = plane_grid(X_host, resolution, padding)
    grid = np.column_stack([xx.ravel(), yy.ravel()])
    proba = host(
        model.predict_proba(backends.asarray(grid, like=X) if backends.is_array(X) else grid)
    )
    colors = class_colors(len(classes))
    # Blend towards white where the model is unsure: weight = how far above chance it is.
    blend = proba @ colors
    confidence = (proba.max(axis=1) - 1 / len(classes)) / (1 - 1 / len(classes))
    image = 1 - (1 - blend) * (0.25 + 0.5 * confidence[:, None])
    if ax is None:
        ax = new_figure(5.5, 5).subplots()
    extent = (xx.min(), xx.max(), yy.min(), yy.max())
    ax.imshow(
        image.reshape(resolution, resolution, 3),
        origin="lower",
        extent=extent,
        interpolation="bilinear",
    )
    winner = proba.argmax(axis=1).reshape(xx.shape)
    ax.contour(xx, yy, winner, levels=np.arange(len(classes)) + 0.5, colors="k", linewidths=1.2)
    if probability_contours and len(classes) == 2:
        levels = [0.1, 0.25, 0.5, 0.75, 0.9]
        lines = ax.contour(
            xx,
            yy,
            proba[:, 1].reshape(xx.shape),
            levels=levels,
            colors="0.25",
            linewidths=0.7,
            linestyles="--",
        )
        ax.clabel(lines, fmt=lambda v: f"p={v:g}", fontsize=7)
    for k, label in enumerate(classes):
        points = X_host[index == k]
        ax.scatter(
            points[:, 0],
            points[:, 1],
            s=12,
            color=colors[k],
            edgecolors="k",
            linewidths=0.4,
            label=f"class {label}",
        )
    ax.set(xlim=extent[:2], ylim=extent[2:], xlabel="$x_1$", ylabel="$x_2$", aspect="equal")
    ax.legend(loc="upper right", fontsize=8, framealpha=0.85)
    if title:
        ax.set_title(title)
    return ax


def save_decision_boundary(
    model: Any, X: Any, y: Any, path: str | Path, title: str | None = None, **kwargs: Any
) -> Path:
    """``decision_boundary`` written to a PNG; returns the path."""
    fig = new_figure(5.5, 5)
    decision_boundary(model, X, y, ax=fig.subplots(), title=title, **kwargs)
    return save_figure(fig, path)


def loss_curve(
    loss_history: Any, ax: Axes | None = None, title: str | None = "Training loss", log: bool = True
) -> Axes:
    """The loss per epoch (log scale by default)."""
    losses = np.asarray(loss_history, dtype=float)
    if ax is None:
        ax = new_figure(5, 3.5).subplots()
    ax.plot(np.arange(1, len(losses) + 1), losses, color="#0072B2", linewidth=1.5)
    if log and np.all(losses > 0):
        ax.set_yscale("log")
    ax.set(xlabel="epoch", ylabel="loss")
    ax.grid(True, alpha=0.3)
    if title:
        ax.set_title(title)
    return ax
