"""Neural networks: activations, losses, layer math, parameters, optimizers and the MLP estimators."""

from typing import Any

from . import activations, init, layers, losses, optimizers, parameters

__all__ = [
    "MLPClassifier",
    "MLPRegressor",
    "activations",
    "init",
    "layers",
    "losses",
    "optimizers",
    "parameters",
]


def __getattr__(name: str) -> Any:
    # The estimators are imported on first use: they import the training loop, which
    # imports the math modules above (importing them here first keeps that acyclic).
    if name in ("MLPClassifier", "MLPRegressor"):
        from . import estimators

        return getattr(estimators, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
