"""Gradient descent fitting a line, frame by frame."""

from __future__ import annotations

from pathlib import Path

from .. import data, viz
from ..estimators.linear import LinearRegression
from ._common import DEFAULT_OUT, DemoResult, documented, prepare


@documented
def run(
    backend: str = "numpy",
    out: str | Path = DEFAULT_OUT,
    size: str = "default",
    seed: int = 0,
    progress: bool = True,
) -> DemoResult:
    """Fit y = 2x + 1 + noise by gradient descent; GIF of the line and the loss."""
    folder = prepare(out, size)
    small = size == "small"
    X, y = data.noisy_line(
        30 if small else 120,
        slope=2.0,
        intercept=1.0,
        noise=1.0,
        x_range=(-3.0, 3.0),
        seed=seed,
        backend=backend,
    )
    # With x centred, slope and intercept converge independently at rates 1 − η·E[x²]
    # and 1 − η: a small step lets the eye follow the line turning and rising.
    epochs = 12 if small else 300
    model = LinearRegression(
        solver="gd",
        learning_rate=0.02,
        epochs=epochs,
        record_every=2 if small else 4,
        progress=progress,
    ).fit(X, y)
    exact = LinearRegression(solver="normal").fit(X, y)
    gif = viz.regression_animation(
        X, y, model.history_, model.loss_history_, folder / "linear_regression.gif"
    )
    metrics = {
        "slope": float(model.coef_[0]),
        "intercept": float(model.intercept_),
        "normal_equations_slope": float(exact.coef_[0]),
        "normal_equations_intercept": float(exact.intercept_),
    }
    return DemoResult("linear_regression", [gif], metrics, model)
