"""Figure plumbing shared by the pictures: headless figures, saving, class colours."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.animation import FuncAnimation, PillowWriter
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from .. import backends

# Colour-blind friendly class colours (Okabe-Ito), cycled for many classes.
CLASS_COLORS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442"]


def class_colors(n_classes: int) -> np.ndarray:
    """(n_classes, 3) RGB colours, one per class."""
    return np.array([to_rgb(CLASS_COLORS[k % len(CLASS_COLORS)]) for k in range(n_classes)])


def host(x: Any) -> np.ndarray:
    """One host copy of an array from any backend (Python numbers pass through)."""
    if backends.is_array(x):
        return backends.to_numpy(x)
    return np.asarray(x)


def new_figure(width: float, height: float) -> Figure:
    """A figure not tied to any GUI or pyplot state, so it works headless."""
    return Figure(figsize=(width, height), layout="constrained")


def save_figure(fig: Figure, path: str | Path, dpi: int = 110) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi)
    return path


def save_animation(
    fig: Figure, update: Any, n_frames: int, path: str | Path, fps: int, dpi: int
) -> Path:
    """Render ``update(frame_index)`` for every frame into a GIF with Pillow (no ImageMagick).

    A thin bar along the bottom edge shows how far the animation has run; it also keeps
    every frame distinct, so Pillow never merges frames and the GIF has ``n_frames``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    bar = Line2D([0, 0], [0.004, 0.004], transform=fig.transFigure, color="#D55E00", linewidth=3)
    fig.add_artist(bar)

    def draw(i: int) -> None:
        update(i)
        bar.set_xdata([0, (i + 1) / n_frames])

    animation = FuncAnimation(fig, draw, frames=n_frames, blit=False)
    animation.save(path, writer=PillowWriter(fps=fps), dpi=dpi)
    return path


def class_labels(y: Any, classes: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """Host labels and their index into the sorted classes: (classes, index)."""
    y = host(y)
    classes = np.unique(y) if classes is None else host(classes)
    return classes, np.searchsorted(classes, y)
