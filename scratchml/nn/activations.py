"""Activation functions and their derivatives, written for any Array API namespace.

Each activation is a pair: ``forward(xp, Z) -> A`` and ``derivative(xp, Z, A) -> dA/dZ``
(element-wise; the derivative may use whichever of Z or A is cheaper).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

LEAKY_SLOPE = 0.01


class Activation(NamedTuple):
    forward: Callable[[Any, Any], Any]
    derivative: Callable[[Any, Any, Any], Any]


def sigmoid(xp: Any, Z: Any) -> Any:
    """σ(z) = 1 / (1 + e^-z), computed without overflow: e^-|z| never exceeds 1."""
    e = xp.exp(-xp.abs(Z))
    return xp.where(Z >= 0, 1 / (1 + e), e / (1 + e))


def _relu(xp: Any, Z: Any) -> Any:
    return xp.maximum(Z, xp.zeros_like(Z))


def _relu_derivative(xp: Any, Z: Any, A: Any) -> Any:
    return xp.astype(Z > 0, Z.dtype)


def _leaky_relu(xp: Any, Z: Any) -> Any:
    return xp.where(Z > 0, Z, LEAKY_SLOPE * Z)


def _leaky_relu_derivative(xp: Any, Z: Any, A: Any) -> Any:
    return xp.where(Z > 0, xp.ones_like(Z), xp.full_like(Z, LEAKY_SLOPE))


def _sigmoid_derivative(xp: Any, Z: Any, A: Any) -> Any:
    return A * (1 - A)


def _tanh(xp: Any, Z: Any) -> Any:
    return xp.tanh(Z)


def _tanh_derivative(xp: Any, Z: Any, A: Any) -> Any:
    return 1 - A * A


def _identity(xp: Any, Z: Any) -> Any:
    return Z


def _identity_derivative(xp: Any, Z: Any, A: Any) -> Any:
    return xp.ones_like(Z)


ACTIVATIONS: dict[str, Activation] = {
    "relu": Activation(_relu, _relu_derivative),
    "leaky_relu": Activation(_leaky_relu, _leaky_relu_derivative),
    "sigmoid": Activation(sigmoid, _sigmoid_derivative),
    "tanh": Activation(_tanh, _tanh_derivative),
    "identity": Activation(_identity, _identity_derivative),
}

RELU_LIKE = ("relu", "leaky_relu")


def get_activation(name: str) -> Activation:
    """The activation called ``name``; ValueError listing the valid names otherwise."""
    if name not in ACTIVATIONS:
        raise ValueError(
            f"activation must be one of {', '.join(sorted(ACTIVATIONS))}; got {name!r}"
        )
    return ACTIVATIONS[name]
