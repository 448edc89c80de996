"""Animations: a 2-wide network morphing the plane, linear regression training, unit norms.

Every frame's geometry is computed up front on the host with NumPy, vectorised over
points and grid samples; arrays of other backends are copied to the host once, at
the start. The GIFs are written by matplotlib's Pillow writer (no ImageMagick).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from .. import backends
from ..nn.activations import get_activation
from ._common import (
    class_colors,
    class_labels,
    host,
    log_y_axis,
    new_figure,
    save_animation,
    set_title,
)
from .boundary import class_boundaries

Stage = tuple[str, Callable[[np.ndarray, float], np.ndarray]]


def _activation(name: str, Z: np.ndarray) -> np.ndarray:
    """The library's own activation, applied on the host (the frames are drawn there)."""
    return np.asarray(get_activation(name).forward(backends.get("numpy"), Z))


def _linear_map(A: np.ndarray, t: float, W: np.ndarray) -> np.ndarray:
    """The points A moved a fraction t of the way from the identity to A @ W."""
    return A @ ((1 - t) * np.eye(2) + t * W)


def _shift(A: np.ndarray, t: float, b: np.ndarray) -> np.ndarray:
    """The points A moved a fraction t of the way by the bias b."""
    return A + t * b


def _nonlinearity(A: np.ndarray, t: float, name: str) -> np.ndarray:
    """The points A moved a fraction t of the way to act(A)."""
    return (1 - t) * A + t * _activation(name, A)


def _ease(t: np.ndarray) -> np.ndarray:
    """Smoothstep 3t² − 2t³: each stage starts and ends at rest instead of jerking."""
    return t * t * (3 - 2 * t)


def _square_limits(
    points: np.ndarray, padding: float = 0.12
) -> tuple[tuple[float, float], tuple[float, float]]:
    """Square axis limits around the points (n, 2): equal aspect without distortion."""
    low, high = points.min(axis=0), points.max(axis=0)
    centre = (low + high) / 2
    half = max(float((high - low).max()) / 2, 1e-3) * (1 + padding)
    return (centre[0] - half, centre[0] + half), (centre[1] - half, centre[1] + half)


def _grid_lines(points: np.ndarray, n_lines: int, samples: int = 100) -> np.ndarray:
    """Horizontal and vertical lines covering the points (n, 2): (2·n_lines, samples, 2).

    Each line is a densely sampled polyline, so it bends smoothly under the network's
    nonlinear maps.
    """
    (x0, x1), (y0, y1) = _square_limits(points, padding=0.05)
    along = np.linspace(0.0, 1.0, samples)[None, :]
    fixed = np.linspace(0.0, 1.0, n_lines)[:, None]
    xs_along, ys_along = x0 + (x1 - x0) * along, y0 + (y1 - y0) * along  # (1, samples)
    xs_fixed, ys_fixed = x0 + (x1 - x0) * fixed, y0 + (y1 - y0) * fixed  # (n_lines, 1)
    shape = (n_lines, samples)
    horizontal = np.stack([np.broadcast_to(xs_along, shape), np.broadcast_to(ys_fixed, shape)], -1)
    vertical = np.stack([np.broadcast_to(xs_fixed, shape), np.broadcast_to(ys_along, shape)], -1)
    return np.concatenate([horizontal, vertical])


def transformation_stages(
    params: Sequence[tuple[Any, Any]], activations: Sequence[str]
) -> list[Stage]:
    """The maps the hidden layers apply, in order: (title, fn(A, t) -> A), t ∈ [0, 1].

    Per hidden layer (W (2, 2), b (2,), activation σ), on points A (..., 2):
    linear map A → A·((1−t)·I + t·W) (the matrix is interpolated, so the plane moves
    smoothly), shift A → A + t·b, nonlinearity A → (1−t)·A + t·σ(A). At t = 1 the
    three compose to the layer's forward pass σ(A·W + b).

    Parameters
    ----------
    params : sequence of (W, b)
        The network's parameters; only the hidden layers' (2-wide) are used.
    activations : sequence of str
        One activation name per hidden layer.

    Returns
    -------
    list of (str, callable)
        Three stages per hidden layer: a title and ``fn(A, t) -> A``.
    """
    hidden = params[:-1]
    if len(activations) != len(hidden):
        raise ValueError(
            f"activations must name one function per hidden layer ({len(hidden)}); "
            f"got {len(activations)}: {list(activations)}"
        )
    stages: list[Stage] = []
    for layer, ((W, b), name) in enumerate(zip(hidden, activations, strict=True), start=1):
        W, b = host(W).astype(np.float64), host(b).astype(np.float64).reshape(-1)
        if W.shape != (2, 2):
            raise ValueError(
                f"hidden layer {layer} maps {W.shape[0]} → {W.shape[-1]} units; the "
                "transformation view needs 2-wide hidden layers (W of shape (2, 2))"
            )
        get_activation(name)  # an unknown name fails here, listing the valid ones
        stages.append((f"layer {layer}: linear map", functools.partial(_linear_map, W=W)))
        stages.append((f"layer {layer}: shift", functools.partial(_shift, b=b)))
        stages.append((f"layer {layer}: {name}", functools.partial(_nonlinearity, name=name)))
    return stages


def layer_transformation_animation(
    params: Sequence[tuple[Any, Any]],
    activations: Sequence[str],
    X: Any,
    y: Any,
    path: str | Path,
    frames_per_step: int = 12,
    fps: float = 20,
    title: str | None = None,
    grid_lines: int = 15,
    hold_frames: int | None = None,
    dpi: int = 80,
) -> Path:
    """GIF of a classifier with 2-wide hidden layers bending the plane, layer by layer.

    ``params`` [(W, b), ...]: hidden W (2, 2), b (2,); the output layer W (2, k), b (k,)
    (k = 1: one sigmoid logit; k ≥ 2: softmax). ``activations``: one name per hidden
    layer ("tanh", "sigmoid", "relu", "leaky_relu", "identity"). X (n, 2), y (n,).
    Each hidden layer is three smoothly eased steps of ``frames_per_step`` frames: the
    linear map, the shift by b, the nonlinearity (see ``transformation_stages``). A
    ``grid_lines`` × ``grid_lines`` grid and the data ride along; the view follows the
    points. The last frames shade the output layer's decision regions in the final
    hidden space and draw its boundary lines, where the classes should be separable.
    The first and last frames are held ``hold_frames`` frames (default: one second).
    Frames: 2·hold_frames + 3·frames_per_step·n_hidden.

    Parameters
    ----------
    params : sequence of (W, b)
        Hidden W (2, 2), b (2,); the output layer W (2, k), b (k,).
    activations : sequence of str
        One name per hidden layer.
    X : array (n, 2)
        The points, any backend.
    y : array (n,)
        Their labels.
    path : str or Path
        The GIF to write.
    frames_per_step : int, default 12
        Frames per linear map, shift and nonlinearity.
    fps : float, default 20
        Frames per second.
    title : str, optional
        Title over every frame.
    grid_lines : int, default 15
        Lines of the grid that rides along, in each direction.
    hold_frames : int, optional
        Frames the first and last pictures are held (default: one second).
    dpi : int, default 80
        Resolution of the frames.

    Returns
    -------
    Path
        ``path``.
    """
    hold = _hold_length(frames_per_step, fps, hold_frames)
    X_host = _plane_points(X)
    stages = transformation_stages(params, activations)
    W_out, b_out = _output_layer(params[-1])
    classes, index = class_labels(y)
    colors = class_colors(max(len(classes), 2 if W_out.shape[1] == 1 else W_out.shape[1]))
    frames = _plane_frames(X_host, stages, grid_lines, frames_per_step, hold)
    first_final = len(frames) - hold
    heading = title or "How the network separates the classes"

    fig = new_figure(5, 5.5)
    ax = fig.subplots()
    grid_artist, dots = _draw_plane(ax, colors, len(classes))
    _legend_below(fig, classes, colors)
    regions: list[Any] = []  # the output layer's regions and boundaries, drawn once at the end

    def update(i: int) -> None:
        name, points, grid = frames[i]
        _move_plane(ax, grid_artist, dots, index, points, grid)
        if i >= first_final and not regions:
            regions.extend(_output_regions(ax, W_out, b_out, colors))
        # Fade the regions in over the first half of the final hold.
        alpha = min(1.0, (i - first_final + 1) / max(hold // 2, 1)) if i >= first_final else 0.0
        for artist in regions:
            artist.set_visible(alpha > 0)
            artist.set_alpha(alpha)
        set_title(ax, f"{heading}\n{name}", fontsize=10)

    return save_animation(fig, update, len(frames), path, fps, dpi)


def _hold_length(frames_per_step: int, fps: float, hold_frames: int | None) -> int:
    """How many frames the first and last pictures are held (default: one second)."""
    if frames_per_step < 1:
        raise ValueError(f"frames_per_step must be at least 1; got {frames_per_step}")
    hold = round(fps) if hold_frames is None else int(hold_frames)
    if hold < 1:
        raise ValueError(f"hold_frames must be at least 1; got {hold_frames}")
    return hold


def _plane_points(X: Any) -> np.ndarray:
    """X copied to the host as float64, checked to be points of the plane (n, 2)."""
    X_host = host(X).astype(np.float64)
    if X_host.ndim != 2 or X_host.shape[1] != 2:
        raise ValueError(f"X must have shape (n_samples, 2); got {X_host.shape}")
    return X_host


def _output_layer(layer: tuple[Any, Any]) -> tuple[np.ndarray, np.ndarray]:
    """The output layer's W (2, k) and b (k,) on the host, as float64."""
    W_out, b_out = (host(a).astype(np.float64) for a in layer)
    if W_out.ndim != 2 or W_out.shape[0] != 2:
        raise ValueError(f"the output layer's W must have shape (2, k); got {W_out.shape}")
    return W_out, b_out.reshape(-1)


Frame = tuple[str, np.ndarray, np.ndarray]


def _plane_frames(
    points: np.ndarray, stages: Sequence[Stage], grid_lines: int, frames_per_step: int, hold: int
) -> list[Frame]:
    """Every frame's (title, points, grid), computed up front; each is one vectorised map.

    The input space is held ``hold`` frames, each stage is ``frames_per_step`` eased
    frames, and the final hidden space is held ``hold`` frames.
    """
    grid = _grid_lines(points, grid_lines)
    frames: list[Frame] = [("input space", points, grid)] * hold
    steps = _ease(np.linspace(0.0, 1.0, frames_per_step + 1)[1:])
    for name, fn in stages:
        frames += [(name, fn(points, t), fn(grid, t)) for t in steps]
        points, grid = fn(points, 1.0), fn(grid, 1.0)
    return frames + [("output layer: decision regions", points, grid)] * hold


def _draw_plane(ax: Axes, colors: np.ndarray, n_classes: int) -> tuple[LineCollection, list[Any]]:
    """Empty artists for the grid and each class's points, moved by every frame."""
    grid = LineCollection([], colors="0.55", linewidths=0.5, zorder=1)
    ax.add_collection(grid)
    dots = [
        ax.scatter([], [], s=9, color=colors[k], edgecolors="k", linewidths=0.25, zorder=3)
        for k in range(n_classes)
    ]
    ax.set_xticks([])
    ax.set_yticks([])
    return grid, dots


def _legend_below(fig: Figure, classes: np.ndarray, colors: np.ndarray) -> None:
    """One marker per class and the output boundary's line, in a row under the axes."""
    handles = [
        Line2D(
            [],
            [],
            marker="o",
            linestyle="",
            color=colors[k],
            markeredgecolor="k",
            label=f"class {c}",
        )
        for k, c in enumerate(classes)
    ]
    handles.append(Line2D([], [], color="k", linewidth=1.5, label="output decision boundary"))
    fig.legend(
        handles=handles,
        loc="outside lower center",
        ncols=len(handles),
        fontsize=7.5,
        frameon=False,
        handletextpad=0.3,
        columnspacing=1.0,
    )


def _move_plane(
    ax: Axes,
    grid_artist: LineCollection,
    dots: Sequence[Any],
    index: np.ndarray,
    points: np.ndarray,
    grid: np.ndarray,
) -> None:
    """Show one frame's grid and points; the square view follows the points."""
    grid_artist.set_segments(list(grid))
    for k, dot in enumerate(dots):
        dot.set_offsets(points[index == k])
    (x0, x1), (y0, y1) = _square_limits(points)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal")


def _output_regions(
    ax: Axes, W_out: np.ndarray, b_out: np.ndarray, colors: np.ndarray
) -> list[Any]:
    """Shade the output layer's decision regions over the current view and draw its boundaries.

    Returns the artists drawn (the regions' image first), for the caller to fade in.
    """
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    xx, yy = np.meshgrid(np.linspace(x0, x1, 200), np.linspace(y0, y1, 200))
    grid_points = np.column_stack([xx.ravel(), yy.ravel()])
    logits = grid_points @ W_out + b_out
    winner = (logits[:, 0] > 0).astype(int) if logits.shape[1] == 1 else logits.argmax(1)
    # Flat pale regions: a GIF palette would band a probability gradient.
    image = 1 - (1 - colors[winner]) * 0.3
    region = ax.imshow(
        image.reshape(*xx.shape, 3),
        extent=(x0, x1, y0, y1),
        origin="lower",
        interpolation="nearest",
        zorder=0,
    )
    lines = class_boundaries(ax, xx, yy, logits, colors="k", linewidths=1.5, zorder=2)
    ax.set(xlim=(x0, x1), ylim=(y0, y1))
    return [region, *lines]


def _snapshot_line(snapshot: Any) -> tuple[int, float, float]:
    """(epoch, slope, intercept) of an (epoch, coef, intercept) tuple or a Snapshot(epoch, params)."""
    if hasattr(snapshot, "params"):
        W, b = snapshot.params[0]
        return int(snapshot.epoch), float(host(W).ravel()[0]), float(host(b).ravel()[0])
    epoch, coef, intercept = snapshot
    return int(epoch), float(host(coef).ravel()[0]), float(host(intercept).ravel()[0])


def regression_animation(
    X: Any,
    y: Any,
    snapshots: Sequence[Any],
    loss_history: Any,
    path: str | Path,
    fps: float = 15,
    title: str | None = None,
    dpi: int = 80,
) -> Path:
    """GIF of gradient descent fitting a line: the line over the scatter, the loss beside it.

    X (n, 1) or (n,), y (n,). ``snapshots``: (epoch, coef, intercept) tuples (coef a
    scalar or shape (1,), any backend or Python floats) or a fitted model's ``history_``
    (Snapshot(epoch, [(W, b)])). ``loss_history``: one loss per epoch, where entry e is
    the loss after e epochs (scratchml records each epoch's loss at its starting
    parameters). Left: data, the current line and its residuals. Right: the loss curve
    (log scale) with a marker at the current epoch. One frame per snapshot.

    Parameters
    ----------
    X : array (n, 1) or (n,)
        The single feature.
    y : array (n,)
        The targets.
    snapshots : sequence
        (epoch, coef, intercept) tuples, or a fitted model's ``history_``.
    loss_history : array-like (epochs,)
        One loss per epoch.
    path : str or Path
        The GIF to write.
    fps : float, default 15
        Frames per second.
    title : str, optional
        Title over the frames.
    dpi : int, default 80
        Resolution of the frames.

    Returns
    -------
    Path
        ``path``.
    """
    x, target = host(X).astype(np.float64), host(y).astype(np.float64).ravel()
    if x.ndim == 2 and x.shape[1] != 1:
        raise ValueError(f"X must have one feature, shape (n_samples, 1); got {x.shape}")
    x = x.ravel()
    if len(x) != len(target):
        raise ValueError(f"X and y have different lengths: {len(x)} and {len(target)}")
    lines = [_snapshot_line(s) for s in snapshots]
    if not lines:
        raise ValueError("snapshots is empty: nothing to animate")
    losses = host(loss_history).astype(np.float64).ravel()

    def loss_at(epoch: int) -> float:
        return float(losses[min(max(epoch, 0), len(losses) - 1)]) if len(losses) else np.nan

    fig = new_figure(10, 4.4)
    ax_fit, ax_loss = fig.subplots(1, 2, width_ratios=[1.25, 1])
    ax_fit.scatter(x, target, s=16, color="#0072B2", alpha=0.75, edgecolors="none", label="data")
    span = x.max() - x.min() or 1.0
    xs = np.array([x.min() - 0.03 * span, x.max() + 0.03 * span])
    residuals = LineCollection([], colors="#D55E00", linewidths=0.6, alpha=0.35, zorder=1)
    ax_fit.add_collection(residuals)
    (fit_line,) = ax_fit.plot([], [], color="#D55E00", linewidth=2.5, label="model ŷ = w·x + b")
    pad = 0.12 * (target.max() - target.min() or 1.0)
    ax_fit.set(xlim=xs, ylim=(target.min() - pad, target.max() + pad), xlabel="x", ylabel="y")
    ax_fit.legend(loc="upper left", fontsize=9)
    ax_fit.grid(True, alpha=0.3)

    ax_loss.plot(np.arange(len(losses)), losses, color="0.35", linewidth=1.3)
    if len(losses) and np.all(losses > 0):
        log_y_axis(ax_loss, losses)
    (marker,) = ax_loss.plot([], [], "o", color="#D55E00", markersize=8, zorder=3)
    ax_loss.set(xlabel="epoch", ylabel="loss  ½·mean((ŷ − y)²)")
    set_title(ax_loss, "Training loss", fontsize=11)
    ax_loss.grid(True, which="major", alpha=0.3)
    heading = title or "Linear regression by gradient descent"
    fig.suptitle(heading, fontsize=12)

    def update(i: int) -> None:
        epoch, slope, intercept = lines[i]
        fit_line.set_data(xs, slope * xs + intercept)
        predicted = slope * x + intercept
        residuals.set_segments(
            list(np.stack([np.column_stack([x, target]), np.column_stack([x, predicted])], axis=1))
        )
        loss = loss_at(epoch)
        marker.set_data([min(epoch, max(len(losses) - 1, 0))], [loss])
        ax_fit.set_title(
            f"epoch {epoch}:  ŷ = {slope:.3f}·x + {intercept:.3f},   loss {loss:.4g}", fontsize=11
        )

    return save_animation(fig, update, len(lines), path, fps, dpi)


def unit_ball(p: float, n_points: int = 800) -> np.ndarray:
    """Points (m, 2) around the whole unit p-norm circle ``{x ∈ R² : |x₁|^p + |x₂|^p = 1}``.

    m = 4·⌊n_points/4⌋ + 1 (closed: the last point repeats the first). The curve is
    parametrised as ``x = (sgn cos φ·|cos φ|^(2/p), sgn sin φ·|sin φ|^(2/p))``: every point
    satisfies the equation exactly (``|cos φ|² + |sin φ|² = 1``), the four axis points are
    hit for every p, and nothing overflows, since only numbers ≤ 1 are raised to a power.
    Points crowd where the curve bends (the spikes of p < 1, the corners of large p).

    Parameters
    ----------
    p : float
        The norm's exponent, > 0.
    n_points : int, default 800
        About how many points.

    Returns
    -------
    numpy.ndarray (m, 2)
        The closed curve.
    """
    if p <= 0:
        raise ValueError(f"p must be positive; got {p}")
    phi = np.linspace(0, 2 * np.pi, 4 * max(n_points // 4, 1) + 1)
    c, s = np.cos(phi), np.sin(phi)
    # cos(π/2) is 6e-17 in floating point, and (6e-17)^(2/p) is not small for large p.
    c, s = np.where(np.abs(c) < 1e-12, 0.0, c), np.where(np.abs(s) < 1e-12, 0.0, s)
    return np.column_stack([np.sign(c) * np.abs(c) ** (2 / p), np.sign(s) * np.abs(s) ** (2 / p)])


def unit_norm_animation(
    path: str | Path,
    p_min: float = 0.1,
    p_max: float = 100.0,
    n_frames: int = 60,
    fps: float = 15,
    n_points: int = 800,
    dpi: int = 80,
) -> Path:
    """GIF of the unit p-norm ball as p sweeps from ``p_min`` to ``p_max`` and back (log-spaced).

    The loop repeats no frame (p_min and p_max appear once each), so it needs an even
    number of frames: an odd ``n_frames`` is rounded down. The unit circle (p = 2),
    diamond (p = 1) and square (p = ∞) are drawn for reference.

    Parameters
    ----------
    path : str or Path
        The GIF to write.
    p_min, p_max : float, default 0.1 and 100.0
        The range of p.
    n_frames : int, default 60
        Frames of the whole loop, up and back.
    fps : float, default 15
        Frames per second.
    n_points : int, default 800
        Points per curve (see ``unit_ball``).
    dpi : int, default 80
        Resolution of the frames.

    Returns
    -------
    Path
        ``path``.
    """
    if not 0 < p_min < p_max:
        raise ValueError(f"need 0 < p_min < p_max; got p_min={p_min}, p_max={p_max}")
    if n_frames < 2:
        raise ValueError(f"n_frames must be at least 2; got {n_frames}")
    forward = np.geomspace(p_min, p_max, n_frames // 2 + 1)
    ps = np.concatenate([forward, forward[-2:0:-1]])
    balls = [unit_ball(p, n_points) for p in ps]  # all frames' geometry, computed up front

    fig = new_figure(5, 5.5)
    ax = fig.subplots()
    ax.axhline(0, color="0.85", linewidth=0.8, zorder=0)
    ax.axvline(0, color="0.85", linewidth=0.8, zorder=0)
    circle = unit_ball(2.0, 400)
    references = [
        ax.plot([-1, 0, 1, 0, -1], [0, -1, 0, 1, 0], "-.", color="0.55", linewidth=1)[0],
        ax.plot(circle[:, 0], circle[:, 1], "--", color="0.35", linewidth=1)[0],
        ax.plot([-1, 1, 1, -1, -1], [-1, -1, 1, 1, -1], ":", color="0.35", linewidth=1.2)[0],
    ]
    blue = to_rgb("#0072B2")
    (outline,) = ax.fill(*balls[0].T, facecolor=(*blue, 0.35), edgecolor=blue, linewidth=2)
    ax.set(xlim=(-1.2, 1.2), ylim=(-1.2, 1.2), xlabel="$x_1$", ylabel="$x_2$")
    ax.set_aspect("equal")
    fig.legend(
        [outline, *references],
        ["‖x‖ₚ = 1", "p = 1", "p = 2", "p = ∞"],
        loc="outside lower center",
        ncols=4,
        fontsize=8,
        frameon=False,
    )

    def update(i: int) -> None:
        outline.set_xy(balls[i])
        ax.set_title(f"Unit ball  $\\|x\\|_p = 1$,   p = {ps[i]:.3g}", fontsize=12)

    return save_animation(fig, update, len(ps), path, fps, dpi)
