"""Animations: a 2-wide network morphing the plane, linear regression training, unit norms."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.collections import LineCollection

from .. import backends
from ..nn.activations import get_activation
from ._common import class_colors, class_labels, host, new_figure, save_animation


def _activation(name: str, Z: np.ndarray) -> np.ndarray:
    """The library's own activation, applied on the host (the frames are drawn there)."""
    return np.asarray(get_activation(name).forward(backends.get("numpy"), Z))


def _square_limits(
    points: np.ndarray, padding: float = 0.12
) -> tuple[tuple[float, float], tuple[float, float]]:
    """Square axis limits around the points (equal aspect without distortion)."""
    low, high = points.min(axis=0), points.max(axis=0)
    centre = (low + high) / 2
    half = max(float((high - low).max()) / 2, 1e-3) * (1 + padding)
    return (centre[0] - half, centre[0] + half), (centre[1] - half, centre[1] + half)


def _grid_lines(points: np.ndarray, n_lines: int, samples: int = 120) -> np.ndarray:
    """Horizontal and vertical lines covering the points: (2·n_lines, samples, 2)."""
    (x0, x1), (y0, y1) = _square_limits(points, padding=0.05)
    along = np.linspace(0, 1, samples)
    lines = []
    for fixed in np.linspace(0, 1, n_lines):
        lines.append(
            np.column_stack([x0 + (x1 - x0) * along, np.full(samples, y0 + (y1 - y0) * fixed)])
        )
        lines.append(
            np.column_stack([np.full(samples, x0 + (x1 - x0) * fixed), y0 + (y1 - y0) * along])
        )
    return np.stack(lines)


def transformation_stages(
    params: Sequence[tuple[Any, Any]], activations: Sequence[str], frames_per_step: int
) -> list[tuple[str, Any]]:
    """The maps to interpolate, in order: (title, fn(A, t) -> A) per stage, t ∈ [0, 1]."""
    stages = []
    for layer, ((W, b), name) in enumerate(zip(params[:-1], activations, strict=True), start=1):
        W, b = host(W), host(b)
        if W.shape != (2, 2):
            raise ValueError(
                f"layer {layer} maps {W.shape[0]} → {W.shape[1]}; the view needs 2-wide layers"
            )
        stages.append(
            (f"layer {layer}: linear map", lambda A, t, W=W: A @ ((1 - t) * np.eye(2) + t * W))
        )
        stages.append((f"layer {layer}: shift", lambda A, t, b=b: A + t * b))
        stages.append(
            (
                f"layer {layer}: {name}",
                lambda A, t, name=name: (1 - t) * A + t * _activation(name, A),
            )
        )
    return stages


def layer_transformation_animation(
    params: Sequence[tuple[Any, Any]],
    activations: Sequence[str],
    X: Any,
    y: Any,
    path: str | Path,
    frames_per_step: int = 8,
    fps: int = 20,
    title: str | None = None,
    grid_lines: int = 15,
    hold_frames: int = 15,
    dpi: int = 80,
) -> Path:
    """GIF of a network with 2-wide hidden layers bending the plane, layer by layer.

    Each hidden layer is shown as three smooth steps: the linear map A → A·W (the matrix
    interpolated from the identity), the shift by b, and the nonlinearity. A grid and the
    data ride along. The last frames shade the output layer's decision regions in the
    final hidden space, where the classes should be linearly separable.
    Frames: hold_frames + 3·frames_per_step·n_hidden + hold_frames.
    """
    X_host = host(X).astype(np.float64)
    classes, index = class_labels(y)
    colors = class_colors(len(classes))
    stages = transformation_stages(params, activations, frames_per_step)

    # Every frame's points and grid, computed up front, vectorised per frame.
    points, grid = X_host, _grid_lines(X_host, grid_lines)
    frames = [("input space", points, grid)] * hold_frames
    for name, fn in stages:
        for t in np.linspace(0, 1, frames_per_step + 1)[1:]:
            frames.append((name, fn(points, t), fn(grid, t)))
        points, grid = fn(points, 1.0), fn(grid, 1.0)
    final = len(frames)
    frames += [("output layer: decision regions", points, grid)] * hold_frames

    W_out, b_out = (host(a).astype(np.float64) for a in params[-1])
    fig = new_figure(5, 5.2)
    ax = fig.subplots()
    lines = LineCollection([], colors="0.55", linewidths=0.5, zorder=1)
    ax.add_collection(lines)
    dots = [
        ax.scatter(
            [],
            [],
            s=9,
            color=colors[k],
            edgecolors="k",
            linewidths=0.25,
            zorder=3,
            label=f"class {c}",
        )
        for k, c in enumerate(classes)
    ]
    region = ax.imshow(
        np.zeros((2, 2, 3)), extent=(0, 1, 0, 1), origin="lower", zorder=0, visible=False
    )
    ax.legend(loc="upper right", fontsize=7, framealpha=0.85)
    ax.set_xticks([])
    ax.set_yticks([])
    heading = title or "How the network separates the classes"

    def update(i: int) -> None:
        name, pts, grd = frames[i]
        lines.set_segments(grd)
        for k, dot in enumerate(dots):
            dot.set_offsets(pts[index == k])
        (x0, x1), (y0, y1) = _square_limits(pts)
        ax.set_xlim(x0, x1)
        ax.set_ylim(y0, y1)
        ax.set_aspect("equal")
        if i >= final:
            xx, yy = np.meshgrid(np.linspace(x0, x1, 160), np.linspace(y0, y1, 160))
            logits = np.column_stack([xx.ravel(), yy.ravel()]) @ W_out + b_out
            winner = (logits[:, 0] > 0).astype(int) if logits.shape[1] == 1 else logits.argmax(1)
            image = 1 - (1 - colors[winner]) * 0.35
            region.set_data(image.reshape(160, 160, 3))
            region.set_extent((x0, x1, y0, y1))
            region.set_visible(True)
        else:
            region.set_visible(False)
        ax.set_title(f"{heading}\n{name}", fontsize=10)

    return save_animation(fig, update, len(frames), path, fps, dpi)


def _snapshot_line(snapshot: Any) -> tuple[int, float, float]:
    """(epoch, slope, intercept) from a Snapshot(epoch, [(W, b)]) or an (epoch, coef, intercept) tuple."""
    if hasattr(snapshot, "params"):
        W, b = snapshot.params[0]
        return snapshot.epoch, float(host(W).ravel()[0]), float(host(b).ravel()[0])
    epoch, coef, intercept = snapshot
    return epoch, float(host(coef).ravel()[0]), float(host(intercept).ravel()[0])


def regression_animation(
    X: Any,
    y: Any,
    snapshots: Sequence[Any],
    loss_history: Sequence[float],
    path: str | Path,
    fps: int = 15,
    title: str | None = None,
    dpi: int = 80,
) -> Path:
    """GIF of gradient descent fitting a line: the line over the scatter, the loss beside it.

    ``snapshots`` are a fitted model's ``history_`` (Snapshot(epoch, [(W, b)])) or
    (epoch, coef, intercept) tuples. One frame per snapshot.
    """
    x, target = host(X).astype(float).ravel(), host(y).astype(float).ravel()
    lines = [_snapshot_line(s) for s in snapshots]
    losses = np.asarray(loss_history, dtype=float)
    fig = new_figure(10, 4.2)
    ax_fit, ax_loss = fig.subplots(1, 2, width_ratios=[1.2, 1])
    ax_fit.scatter(x, target, s=14, color="#0072B2", alpha=0.7, edgecolors="none", label="data")
    xs = np.array([x.min(), x.max()])
    (fit_line,) = ax_fit.plot([], [], color="#D55E00", linewidth=2.5, label="model")
    ax_fit.set(xlabel="x", ylabel="y")
    pad = 0.1 * (target.max() - target.min())
    ax_fit.set_ylim(target.min() - pad, target.max() + pad)
    ax_fit.legend(loc="upper left")
    ax_fit.grid(True, alpha=0.3)
    epochs = np.arange(1, len(losses) + 1)
    ax_loss.plot(epochs, losses, color="0.4")
    if np.all(losses > 0):
        ax_loss.set_yscale("log")
    (marker,) = ax_loss.plot([], [], "o", color="#D55E00", markersize=7)
    ax_loss.set(xlabel="epoch", ylabel="loss  ½·mean((ŷ − y)²)", title="Training loss")
    ax_loss.grid(True, alpha=0.3)
    heading = title or "Linear regression by gradient descent"

    def update(i: int) -> None:
        epoch, slope, intercept = lines[i]
        fit_line.set_data(xs, slope * xs + intercept)
        loss = losses[min(max(epoch - 1, 0), len(losses) - 1)] if len(losses) else float("nan")
        marker.set_data([max(epoch, 1)], [loss])
        ax_fit.set_title(
            f"{heading}\nepoch {epoch}:  y = {slope:.2f}·x + {intercept:.2f}   loss {loss:.3f}"
        )

    return save_animation(fig, update, len(lines), path, fps, dpi)


def unit_ball(p: float, n_points: int = 801) -> np.ndarray:
    """Points of {x ∈ R² : |x₁|^p + |x₂|^p = 1}, (n_points, 2), around the whole boundary.

    Parametrised as x = (sgn cos φ·|cos φ|^(2/p), sgn sin φ·|sin φ|^(2/p)), which satisfies
    the equation exactly, hits the four axis points, and never overflows (|cos φ| ≤ 1).
    """
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
    fps: int = 15,
    n_points: int = 801,
    dpi: int = 80,
) -> Path:
    """GIF of the unit p-norm ball as p sweeps from ``p_min`` to ``p_max`` and back (log-spaced).

    The loop has no repeated frame: p_min and p_max appear once each, so an odd
    ``n_frames`` is rounded down to an even count.
    """
    forward = np.geomspace(p_min, p_max, n_frames // 2 + 1)
    ps = np.concatenate([forward, forward[-2:0:-1]])
    n_frames = len(ps)
    fig = new_figure(5, 5.3)
    ax = fig.subplots()
    circle = unit_ball(2.0, 400)
    ax.plot(circle[:, 0], circle[:, 1], "--", color="0.5", linewidth=1, label="p = 2")
    ax.plot([-1, 1, 1, -1, -1], [-1, -1, 1, 1, -1], ":", color="0.5", linewidth=1, label="p = ∞")
    ax.plot([-1, 0, 1, 0, -1], [0, -1, 0, 1, 0], "-.", color="0.7", linewidth=1, label="p = 1")
    (outline,) = ax.fill(
        *unit_ball(p_min, n_points).T, color="#0072B2", alpha=0.35, edgecolor="#0072B2", linewidth=2
    )
    ax.set(xlim=(-1.2, 1.2), ylim=(-1.2, 1.2), aspect="equal", xlabel="$x_1$", ylabel="$x_2$")
    ax.axhline(0, color="0.85", linewidth=0.8, zorder=0)
    ax.axvline(0, color="0.85", linewidth=0.8, zorder=0)
    ax.legend(loc="lower right", fontsize=8)

    def update(i: int) -> None:
        outline.set_xy(unit_ball(ps[i], n_points))
        ax.set_title(f"Unit ball  $\\|x\\|_p = 1$,   p = {ps[i]:.3g}")

    return save_animation(fig, update, n_frames, path, fps, dpi)
