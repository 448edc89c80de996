"""Neural networks: activations, losses, layer math, optimizers and the MLP estimators."""

from . import activations, init, layers, losses, optimizers
from .estimators import MLPClassifier, MLPRegressor

__all__ = ["MLPClassifier", "MLPRegressor", "activations", "init", "layers", "losses", "optimizers"]
