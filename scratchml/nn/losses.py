"""Losses computed from logits (numerically stable), with their gradients.

Shapes: logits and targets are ``(..., n_samples, n_outputs)``; a loss is the mean
over samples, so its value has shape ``(...)`` (0-d for one network).
Every ``*_gradient`` returns ∂loss/∂logits, already divided by ``n_samples``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from .activations import sigmoid


class Loss(NamedTuple):
    value: Callable[[Any, Any, Any], Any]
    gradient: Callable[[Any, Any, Any], Any]
    output: Callable[[Any, Any], Any]


def _n_samples(logits: Any) -> int:
    return logits.shape[-2]


def half_squared_error(xp: Any, logits: Any, Y: Any) -> Any:
    """L = ½ · mean over samples and outputs of (ŷ − y)²."""
    residual = logits - Y
    return 0.5 * xp.mean(residual * residual, axis=(-2, -1))


def half_squared_error_gradient(xp: Any, logits: Any, Y: Any) -> Any:
    """∂L/∂ŷ = (ŷ − y) / (n_samples · n_outputs)."""
    return (logits - Y) / (_n_samples(logits) * logits.shape[-1])


def softplus(xp: Any, Z: Any) -> Any:
    """log(1 + e^z) = max(z, 0) + log1p(e^-|z|): no overflow for large |z|."""
    return xp.maximum(Z, xp.zeros_like(Z)) + xp.log1p(xp.exp(-xp.abs(Z)))


def binary_cross_entropy(xp: Any, logits: Any, Y: Any) -> Any:
    """L = mean[ −y log σ(z) − (1−y) log(1−σ(z)) ] = mean[ softplus(z) − y·z ]."""
    per_sample = xp.sum(softplus(xp, logits) - Y * logits, axis=-1)
    return xp.mean(per_sample, axis=-1)


def binary_cross_entropy_gradient(xp: Any, logits: Any, Y: Any) -> Any:
    """∂L/∂z = (σ(z) − y) / n_samples."""
    return (sigmoid(xp, logits) - Y) / _n_samples(logits)


def log_softmax(xp: Any, logits: Any) -> Any:
    """z − logsumexp(z) along the class axis, shifted by the max for stability."""
    shifted = logits - xp.max(logits, axis=-1, keepdims=True)
    return shifted - xp.log(xp.sum(xp.exp(shifted), axis=-1, keepdims=True))


def softmax(xp: Any, logits: Any) -> Any:
    """Class probabilities exp(z_k) / Σ_j exp(z_j) along the last axis."""
    return xp.exp(log_softmax(xp, logits))


def softmax_cross_entropy(xp: Any, logits: Any, Y: Any) -> Any:
    """L = mean over samples of −Σ_k y_k log softmax(z)_k  (Y one-hot)."""
    return -xp.mean(xp.sum(Y * log_softmax(xp, logits), axis=-1), axis=-1)


def softmax_cross_entropy_gradient(xp: Any, logits: Any, Y: Any) -> Any:
    """∂L/∂z = (softmax(z) − y) / n_samples."""
    return (softmax(xp, logits) - Y) / _n_samples(logits)


def _identity(xp: Any, logits: Any) -> Any:
    return logits


LOSSES: dict[str, Loss] = {
    "squared_error": Loss(half_squared_error, half_squared_error_gradient, _identity),
    "binary_cross_entropy": Loss(binary_cross_entropy, binary_cross_entropy_gradient, sigmoid),
    "softmax_cross_entropy": Loss(softmax_cross_entropy, softmax_cross_entropy_gradient, softmax),
}


def get_loss(name: str) -> Loss:
    """The loss called ``name``; ValueError listing the valid names otherwise."""
    if name not in LOSSES:
        raise ValueError(f"loss must be one of {', '.join(sorted(LOSSES))}; got {name!r}")
    return LOSSES[name]
