"""A logistic classifier separating two clusters."""

from __future__ import annotations

from pathlib import Path

from .. import data, viz
from ..estimators.linear import LogisticRegression
from ._common import DEFAULT_OUT, DemoResult, documented, prepare


@documented
def run(
    backend: str = "numpy",
    out: str | Path = DEFAULT_OUT,
    size: str = "default",
    seed: int = 0,
    progress: bool = True,
) -> DemoResult:
    """Two Gaussian clusters, the decision line and the probability contours (PNG)."""
    folder = prepare(out, size)
    small = size == "small"
    X, y = data.blobs(
        60 if small else 300,
        centers=[[-1.5, -1.0], [1.5, 1.0]],
        cluster_std=1.0,
        seed=seed,
        backend=backend,
    )
    # Newton's method (the default solver): converged in a handful of iterations.
    model = LogisticRegression(progress=progress).fit(X, y)
    accuracy = model.score(X, y)
    png = viz.save_decision_boundary(
        model,
        X,
        y,
        folder / "logistic_classification.png",
        title=f"Logistic regression: training accuracy {accuracy:.1%}",
        probability_contours=True,
        resolution=120 if small else 300,
    )
    return DemoResult("logistic_classification", [png], {"training_accuracy": accuracy}, model)
