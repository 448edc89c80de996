"""Figure plumbing shared by the pictures: headless figures, saving, GIFs, class colours.

Every picture is drawn on a ``matplotlib.figure.Figure`` made directly, never through
pyplot: no GUI backend is touched, nothing is registered globally, and a figure is
freed as soon as it is no longer referenced. That is what makes the package headless.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.animation import FuncAnimation, PillowWriter
from matplotlib.axes import Axes
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import LogFormatterSciNotation
from PIL import Image

from .. import backends

# Colour-blind friendly class colours (Okabe-Ito), cycled for many classes.
CLASS_COLORS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442"]


def class_colors(n_classes: int) -> np.ndarray:
    """(n_classes, 3) RGB colours, one per class."""
    return np.array([to_rgb(CLASS_COLORS[k % len(CLASS_COLORS)]) for k in range(n_classes)])


def host(x: Any) -> np.ndarray:
    """One host copy of an array from any backend (lists and Python numbers pass through)."""
    if backends.is_array(x):
        return backends.to_numpy(x)
    return np.asarray(x)


def class_labels(y: Any, classes: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """Host labels and their index into the sorted classes: (classes (k,), index (n,))."""
    y = host(y).ravel()
    classes = np.unique(y) if classes is None else host(classes)
    return classes, np.searchsorted(classes, y)


def new_figure(width: float, height: float) -> Figure:
    """A figure (size in inches) not tied to any GUI or pyplot state, so it works headless."""
    return Figure(figsize=(width, height), layout="constrained")


def root_figure(ax: Axes) -> Figure:
    """The figure ``ax`` is drawn in (for an axes of a subfigure, the figure holding it)."""
    figure: Any = ax.figure
    while not isinstance(figure, Figure):
        figure = figure.figure
    return figure


def set_title(ax: Axes, title: str, fontsize: float = 11) -> None:
    """Set an axes title, wrapped to the axes' width so that a long one is never clipped."""
    fig = root_figure(ax)
    width_in = fig.get_figwidth() * ax.get_position().width
    # A proportional font averages about 0.55 em per character.
    chars = max(int(width_in * 72 / (0.55 * fontsize)), 20)
    wrapped = "\n".join(textwrap.fill(line, chars) for line in title.split("\n"))
    ax.set_title(wrapped, fontsize=fontsize)


class _PlainLogFormatter(LogFormatterSciNotation):
    """Label the ticks matplotlib would label on a log axis, as plain numbers (0.6, 2, 30)."""

    def __call__(self, x: float, pos: int | None = None) -> str:
        return f"{x:.3g}" if super().__call__(x, pos) else ""


def log_y_axis(ax: Axes, values: np.ndarray) -> None:
    """Make the y axis logarithmic; within two decades, label it with plain numbers."""
    ax.set_yscale("log")
    positive = values[np.isfinite(values) & (values > 0)]
    if positive.size and positive.max() / positive.min() < 100:
        ax.yaxis.set_major_formatter(_PlainLogFormatter())
        ax.yaxis.set_minor_formatter(_PlainLogFormatter(labelOnlyBase=False))


def save_figure(fig: Figure, path: str | Path, dpi: int = 110) -> Path:
    """Write ``fig`` to ``path`` (PNG, or any format matplotlib knows) with nothing clipped."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi, bbox_inches="tight", pad_inches=0.08, facecolor="white")
    return path


def release(fig: Figure) -> None:
    """Drop everything a figure holds (the figure itself is freed with its last reference)."""
    fig.clear()


class SharedPaletteGifWriter(PillowWriter):
    """Matplotlib's Pillow GIF writer, with one colour palette shared by all frames.

    PillowWriter lets Pillow pick a palette per frame; flat plots then flicker slightly
    and compress badly. Here one palette is fitted to all frames and every frame is
    mapped to it without dithering: the GIF is 1.5 to 4 times smaller.
    """

    def __init__(self, fps: float, colors: int = 96) -> None:
        super().__init__(fps=fps)  # type: ignore[arg-type]  # Pillow takes any frame rate
        self.colors = colors

    def finish(self) -> None:
        frames = [frame.convert("RGB") for frame in self._frames]  # type: ignore[attr-defined]
        # The palette is fitted to every frame, shrunk (nearest keeps exact colours) so
        # that colours shown only briefly, like a fade, still get entries.
        width, height = frames[0].size
        shrink = max(1, round((len(frames) * width * height / 2e6) ** 0.5))
        small = [
            f.resize((width // shrink, height // shrink), Image.Resampling.NEAREST) for f in frames
        ]
        montage = Image.new("RGB", (small[0].width, small[0].height * len(small)))
        for k, frame in enumerate(small):
            montage.paste(frame, (0, k * small[0].height))
        palette = montage.quantize(self.colors, method=Image.Quantize.MEDIANCUT)
        indexed = [frame.quantize(palette=palette, dither=Image.Dither.NONE) for frame in frames]
        indexed[0].save(
            self.outfile,
            save_all=True,
            append_images=indexed[1:],
            duration=round(1000 / self.fps),
            loop=0,
        )


def save_animation(
    fig: Figure, update: Callable[[int], Any], n_frames: int, path: str | Path, fps: float, dpi: int
) -> Path:
    """Render ``update(frame_index)`` for every frame into a looping GIF (Pillow, no ImageMagick).

    The layout is computed once, on the first frame, and then frozen, so axes never
    jump between frames as titles and tick labels change. A thin bar along the bottom
    edge shows how far the animation has run; it also keeps consecutive frames distinct
    (held frames included), so Pillow never merges them and the GIF has ``n_frames``.
    """
    if n_frames < 1:
        raise ValueError(f"an animation needs at least one frame; got n_frames={n_frames}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    bar = Line2D([0, 0], [0.004, 0.004], transform=fig.transFigure, color="#D55E00", linewidth=2.5)
    fig.add_artist(bar)

    def draw(i: int) -> None:
        update(i)
        bar.set_xdata([0, (i + 1) / n_frames])

    draw(0)
    fig.draw_without_rendering()  # runs the layout engine once ...
    fig.set_layout_engine("none")  # ... and keeps its result for every frame
    animation = FuncAnimation(fig, draw, frames=n_frames, blit=False, repeat=False)
    animation.save(path, writer=SharedPaletteGifWriter(fps=fps), dpi=dpi)
    release(fig)
    return path
