"""Losses computed from logits (numerically stable), with their gradients.

Shapes: logits and targets are ``(..., n_samples, n_outputs)``; a loss is the mean
over samples, so its value has shape ``(...)`` (0-d for one network).
Each loss is written twice over, and only twice: its value alone (what ``loss()``
and ``score`` need) and its value with ∂loss/∂logits from one pass over the logits
(what training needs; the shared exponentials are computed once). The gradient is
already divided by ``n_samples``; ``Loss.gradient`` is the second half of that pass.

The class axis is short (2 to 10 classes, typically), and libraries reduce over a
short last axis slowly (NumPy: about 40× slower than an element-wise operation of
the same size). So the row max is taken as element-wise maxima of the class columns
and the row sum as a product with a ones vector: the same values, computed by the
fast element-wise and matmul paths.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from .activations import sigmoid


class Loss(NamedTuple):
    """A loss of the logits: its value, its value with its gradient, and the output function."""

    value: Callable[[Any, Any, Any], Any]
    value_and_gradient: Callable[[Any, Any, Any], tuple[Any, Any]]
    output: Callable[[Any, Any], Any]  # logits -> predictions (probabilities, or values)

    def gradient(self, xp: Any, logits: Any, Y: Any) -> Any:
        """∂loss/∂logits (the second half of ``value_and_gradient``)."""
        return self.value_and_gradient(xp, logits, Y)[1]


# Up to this many classes, the row max is a chain of element-wise maxima.
SHORT_CLASS_AXIS = 16


def _n_samples(logits: Any) -> int:
    return logits.shape[-2]


def max_over_classes(xp: Any, Z: Any) -> Any:
    """max_k Z[..., k] as shape (..., n_samples, 1): element-wise maxima of the class columns."""
    n_classes = Z.shape[-1]
    if n_classes > SHORT_CLASS_AXIS:
        return xp.max(Z, axis=-1, keepdims=True)
    row_max = Z[..., 0:1]
    for k in range(1, n_classes):
        row_max = xp.maximum(row_max, Z[..., k : k + 1])
    return row_max


def sum_over_classes(xp: Any, Z: Any) -> Any:
    """Σ_k Z[..., k] as shape (..., n_samples, 1), as one product Z @ 1 (Z flattened to 2-D)."""
    n_classes = Z.shape[-1]
    ones = xp.ones((n_classes, 1), dtype=Z.dtype, device=Z.device)
    return xp.reshape(xp.reshape(Z, (-1, n_classes)) @ ones, (*Z.shape[:-1], 1))


def _mean_over_samples(xp: Any, per_element: Any) -> Any:
    """Σ over samples and outputs / n_samples, shape (...): one reduction over both axes."""
    return xp.sum(per_element, axis=(-2, -1)) / _n_samples(per_element)


def half_squared_error(xp: Any, logits: Any, Y: Any) -> Any:
    """L = ½ · mean over samples and outputs of (ŷ − y)²."""
    residual = logits - Y
    return 0.5 * xp.mean(residual * residual, axis=(-2, -1))


def half_squared_error_value_and_gradient(xp: Any, logits: Any, Y: Any) -> tuple[Any, Any]:
    """The loss and ∂L/∂ŷ = (ŷ − y) / (n_samples · n_outputs), sharing the residual ŷ − y."""
    residual = logits - Y
    n_terms = _n_samples(logits) * logits.shape[-1]
    return 0.5 * xp.sum(residual * residual, axis=(-2, -1)) / n_terms, residual / n_terms


def softplus(xp: Any, Z: Any) -> Any:
    """log(1 + e^z) = max(z, 0) + log1p(e^-|z|): no overflow for large |z|."""
    return xp.maximum(Z, xp.zeros_like(Z)) + xp.log1p(xp.exp(-xp.abs(Z)))


def binary_cross_entropy(xp: Any, logits: Any, Y: Any) -> Any:
    """L = mean[ −y log σ(z) − (1−y) log(1−σ(z)) ] = mean[ softplus(z) − y·z ]."""
    return _mean_over_samples(xp, softplus(xp, logits) - Y * logits)


def binary_cross_entropy_value_and_gradient(xp: Any, logits: Any, Y: Any) -> tuple[Any, Any]:
    """The loss and ∂L/∂z = (σ(z) − y) / n_samples, sharing e^-|z| between softplus(z) and σ(z)."""
    e = xp.exp(-xp.abs(logits))
    softplus_z = xp.maximum(logits, xp.zeros_like(logits)) + xp.log1p(e)
    sigmoid_z = xp.where(logits >= 0, 1 / (1 + e), e / (1 + e))
    value = _mean_over_samples(xp, softplus_z - Y * logits)
    return value, (sigmoid_z - Y) / _n_samples(logits)


def log_softmax(xp: Any, logits: Any) -> Any:
    """z − logsumexp(z) along the class axis, shifted by the max for stability."""
    shifted = logits - max_over_classes(xp, logits)
    return shifted - xp.log(sum_over_classes(xp, xp.exp(shifted)))


def softmax(xp: Any, logits: Any) -> Any:
    """Class probabilities exp(z_k) / Σ_j exp(z_j) along the last axis."""
    return xp.exp(log_softmax(xp, logits))


def softmax_cross_entropy(xp: Any, logits: Any, Y: Any) -> Any:
    """L = mean over samples of −Σ_k y_k log softmax(z)_k  (Y one-hot)."""
    return -_mean_over_samples(xp, Y * log_softmax(xp, logits))


def softmax_cross_entropy_value_and_gradient(xp: Any, logits: Any, Y: Any) -> tuple[Any, Any]:
    """The loss and ∂L/∂z = (softmax(z) − y) / n_samples, from one set of exponentials.

    With s = z − max z and S = Σ_k e^{s_k}: log softmax = s − log S, softmax = e^s / S.
    """
    shifted = logits - max_over_classes(xp, logits)
    exp_shifted = xp.exp(shifted)
    row_total = sum_over_classes(xp, exp_shifted)
    value = -_mean_over_samples(xp, Y * (shifted - xp.log(row_total)))
    return value, (exp_shifted / row_total - Y) / _n_samples(logits)


def _identity(xp: Any, logits: Any) -> Any:
    return logits


LOSSES: dict[str, Loss] = {
    "squared_error": Loss(half_squared_error, half_squared_error_value_and_gradient, _identity),
    "binary_cross_entropy": Loss(
        binary_cross_entropy, binary_cross_entropy_value_and_gradient, sigmoid
    ),
    "softmax_cross_entropy": Loss(
        softmax_cross_entropy, softmax_cross_entropy_value_and_gradient, softmax
    ),
}


def get_loss(name: str) -> Loss:
    """The loss called ``name``; ValueError listing the valid names otherwise."""
    if name not in LOSSES:
        raise ValueError(f"loss must be one of {', '.join(sorted(LOSSES))}; got {name!r}")
    return LOSSES[name]
