"""The math of neural networks, and nothing else: activations, losses, layer math, kernels,
parameter layouts, initialisation and optimizers.

Every function here is pure Array API math over its arguments; this package imports no
estimator, sweep or plotting code. The estimators that train with it are in
:mod:`scratchml.estimators` (``scratchml.MLPClassifier`` and friends).
"""

from . import activations, init, kernels, layers, losses, optimizers, parameters

__all__ = [
    "activations",
    "init",
    "kernels",
    "layers",
    "losses",
    "optimizers",
    "parameters",
]
