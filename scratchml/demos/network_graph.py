"""The original collection's 7-layer network, trained, drawn with its weights."""

from __future__ import annotations

from pathlib import Path

from .. import data, viz
from ..estimators.mlp import MLPClassifier
from ._common import DEFAULT_OUT, DemoResult, documented, prepare

HIDDEN = (10, 20, 50, 50, 20, 10)


@documented
def run(
    backend: str = "numpy",
    out: str | Path = DEFAULT_OUT,
    size: str = "default",
    seed: int = 0,
    progress: bool = True,
) -> DemoResult:
    """Train 5 → 10 → 20 → 50 → 50 → 20 → 10 → 1 (relu, sigmoid output) and draw it.

    The original drew two sigmoid output units for two classes; a binary sigmoid
    output carries the same information in one unit, P(class 1), so that is what is
    trained and drawn.
    """
    folder = prepare(out, size)
    small = size == "small"
    X, y = data.correlated_normal(
        100 if small else 1000,
        n_features=5,
        correlation=0.6,
        class_sep=2.0,
        seed=seed,
        backend=backend,
    )
    model = MLPClassifier(
        hidden_layers=(4, 6, 4) if small else HIDDEN,
        activation="relu",
        learning_rate=0.003,
        epochs=10 if small else 300,
        seed=seed,
        progress=progress,
    ).fit(X, y)
    accuracy = model.score(X, y)
    sizes = (
        " → ".join(str(W.shape[0]) for W, _ in model.params_)
        + f" → {model.params_[-1][0].shape[1]}"
    )
    png = viz.network_graph(
        model.params_,
        folder / "network_graph.png",
        title=f"Network {sizes} (relu, one sigmoid output unit)\n"
        f"trained on correlated normal data (5 features, 2 classes): "
        f"training accuracy {accuracy:.1%}",
    )
    return DemoResult("network_graph", [png], {"training_accuracy": accuracy}, model)
