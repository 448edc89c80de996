"""Losses computed from logits (numerically stable), with their gradients.

Shapes: logits and targets are ``(..., n_samples, n_outputs)``; a loss is the mean
over samples, so its value has shape ``(...)`` (0-d for one network).
Each loss is written twice over, and only twice: its value alone (what ``loss()``
and ``score`` need) and its value with ∂loss/∂logits from one pass over the logits
(what training needs; the shared exponentials are computed once). The gradient is
already divided by ``n_samples``; ``Loss.gradient`` is the second half of that pass.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from .activations import sigmoid


class Loss(NamedTuple):
    """A loss of the logits: its value, its value with its gradient, and the output function.

    Parameters
    ----------
    value : callable
        ``value(xp, logits, Y)``: the mean loss over the samples, shape (...).
    value_and_gradient : callable
        ``value_and_gradient(xp, logits, Y)``: the loss and ∂loss/∂logits from one pass.
    output : callable
        ``output(xp, logits)``: the predictions (probabilities, or values) from the logits.
    normaliser : callable or None, default None
        ``normaliser(n_samples, n_outputs)``: what the loss divides the sum of its
        per-element terms by; None where a term is not a function of one logit.
    value_and_gradient_of_transposes : callable or None, default None
        ``value_and_gradient`` of the transposes, logitsᵀ and Yᵀ of shape
        ``(..., n_outputs, n_samples)``, returning the gradient's transpose: for a speed
        path that lays the samples along the last axis. None where the loss has a
        ``normaliser`` (its terms are element-wise, so the path needs nothing but it).
    """

    value: Callable[[Any, Any, Any], Any]
    value_and_gradient: Callable[[Any, Any, Any], tuple[Any, Any]]
    output: Callable[[Any, Any], Any]  # logits -> predictions (probabilities, or values)
    # What the loss divides the sum of its per-element terms by, from (n_samples, n_outputs);
    # None where a term is not a function of one logit (softmax couples a sample's outputs).
    normaliser: Callable[[int, int], int] | None = None
    # value_and_gradient on (..., n_outputs, n_samples) arrays, for a loss that couples a
    # sample's outputs (an element-wise loss needs only its normaliser for that: see
    # transposed_value_and_gradient).
    value_and_gradient_of_transposes: Callable[[Any, Any, Any], tuple[Any, Any]] | None = None

    def gradient(self, xp: Any, logits: Any, Y: Any) -> Any:
        """∂loss/∂logits (the second half of ``value_and_gradient``).

        Parameters
        ----------
        xp : namespace
            The array namespace of the arrays.
        logits : array of shape (..., n_samples, n_outputs)
            The output layer's pre-activations.
        Y : array of shape (..., n_samples, n_outputs)
            The encoded targets, in the logits' dtype.

        Returns
        -------
        array of shape (..., n_samples, n_outputs)
            ∂loss/∂logits.
        """
        return self.value_and_gradient(xp, logits, Y)[1]

    @property
    def has_transposed_form(self) -> bool:
        """Whether ``transposed_value_and_gradient`` can run this loss (it has a
        ``normaliser`` or a ``value_and_gradient_of_transposes``)."""
        return self.normaliser is not None or self.value_and_gradient_of_transposes is not None

    def transposed_value_and_gradient(self, xp: Any, logits_t: Any, Y_t: Any) -> tuple[Any, Any]:
        """The loss and its gradient's transpose, from logitsᵀ and Yᵀ (..., n_outputs, n_samples).

        For a speed path that lays the samples along the last axis. A loss of element-wise
        terms is the same sum of terms in either layout, where its normaliser counts the
        samples as outputs and the outputs as samples: divided by the ratio of the two
        normalisers, it is the loss itself (n_samples for a mean over samples, 1 for a mean
        over samples and outputs). A loss that couples a sample's outputs runs its own form
        (``value_and_gradient_of_transposes``).

        Parameters
        ----------
        xp : namespace
            The array namespace of the arrays.
        logits_t : array of shape (..., n_outputs, n_samples)
            The transpose of the output layer's pre-activations.
        Y_t : array of shape (..., n_outputs, n_samples)
            The transpose of the encoded targets.

        Returns
        -------
        value : array of shape (...)
            The loss.
        gradient_t : array of shape (..., n_outputs, n_samples)
            The transpose of ∂loss/∂logits.
        """
        if self.value_and_gradient_of_transposes is not None:
            return self.value_and_gradient_of_transposes(xp, logits_t, Y_t)
        if self.normaliser is None:
            raise ValueError("this loss has no form on the transposes (has_transposed_form)")
        n_outputs, n_samples = logits_t.shape[-2:]
        ratio = self.normaliser(n_samples, n_outputs) / self.normaliser(n_outputs, n_samples)
        value, gradient_t = self.value_and_gradient(xp, logits_t, Y_t)
        if ratio == 1:
            return value, gradient_t
        return value / ratio, gradient_t / ratio


def _n_samples(logits: Any) -> int:
    return logits.shape[-2]


def _mean_over_samples(xp: Any, per_element: Any) -> Any:
    """Σ over samples and outputs / n_samples, shape (...): one reduction over both axes."""
    return xp.sum(per_element, axis=(-2, -1)) / _n_samples(per_element)


def half_squared_error(xp: Any, logits: Any, Y: Any) -> Any:
    """L = ½ · mean over samples and outputs of (ŷ − y)².

    Parameters
    ----------
    xp : namespace
        The array namespace of the arrays.
    logits : array of shape (..., n_samples, n_outputs)
        The output layer's pre-activations.
    Y : array of shape (..., n_samples, n_outputs)
        The encoded targets, in the logits' dtype.

    Returns
    -------
    array of shape (...)
        The mean loss over the samples: 0-d for one network, (M,) for a stack.
    """
    residual = logits - Y
    return 0.5 * xp.mean(residual * residual, axis=(-2, -1))


def half_squared_error_value_and_gradient(xp: Any, logits: Any, Y: Any) -> tuple[Any, Any]:
    """The loss and ∂L/∂ŷ = (ŷ − y) / (n_samples · n_outputs), sharing the residual ŷ − y.

    Parameters
    ----------
    xp : namespace
        The array namespace of the arrays.
    logits : array of shape (..., n_samples, n_outputs)
        The output layer's pre-activations.
    Y : array of shape (..., n_samples, n_outputs)
        The encoded targets, in the logits' dtype.

    Returns
    -------
    value : array of shape (...)
        The mean loss over the samples: 0-d for one network, (M,) for a stack.
    gradient : array of shape (..., n_samples, n_outputs)
        ∂value/∂logits (already divided by the number of samples).
    """
    residual = logits - Y
    n_terms = _n_samples(logits) * logits.shape[-1]
    return 0.5 * xp.sum(residual * residual, axis=(-2, -1)) / n_terms, residual / n_terms


def softplus(xp: Any, Z: Any) -> Any:
    """``log(1 + e^z) = max(z, 0) + log1p(e^-|z|)``: no overflow for large ``|z|``.

    Parameters
    ----------
    xp : namespace
        The array namespace of the arrays.
    Z : array
        Any shape.

    Returns
    -------
    array
        log(1 + e^z) element-wise, shaped like Z.
    """
    return xp.maximum(Z, xp.zeros_like(Z)) + xp.log1p(xp.exp(-xp.abs(Z)))


def binary_cross_entropy(xp: Any, logits: Any, Y: Any) -> Any:
    """L = mean[ −y log σ(z) − (1−y) log(1−σ(z)) ] = mean[ softplus(z) − y·z ].

    Parameters
    ----------
    xp : namespace
        The array namespace of the arrays.
    logits : array of shape (..., n_samples, n_outputs)
        The output layer's pre-activations.
    Y : array of shape (..., n_samples, n_outputs)
        The 0/1 targets, in the logits' dtype.

    Returns
    -------
    array of shape (...)
        The mean loss over the samples: 0-d for one network, (M,) for a stack.
    """
    return _mean_over_samples(xp, softplus(xp, logits) - Y * logits)


def binary_cross_entropy_value_and_gradient(xp: Any, logits: Any, Y: Any) -> tuple[Any, Any]:
    """The loss and ∂L/∂z = (σ(z) − y) / n_samples, sharing ``e^-|z|`` between softplus(z) and σ(z).

    Parameters
    ----------
    xp : namespace
        The array namespace of the arrays.
    logits : array of shape (..., n_samples, n_outputs)
        The output layer's pre-activations.
    Y : array of shape (..., n_samples, n_outputs)
        The 0/1 targets, in the logits' dtype.

    Returns
    -------
    value : array of shape (...)
        The mean loss over the samples: 0-d for one network, (M,) for a stack.
    gradient : array of shape (..., n_samples, n_outputs)
        ∂value/∂logits (already divided by the number of samples).
    """
    e = xp.exp(-xp.abs(logits))
    softplus_z = xp.maximum(logits, xp.zeros_like(logits)) + xp.log1p(e)
    r = 1 / (1 + e)  # σ(|z|)
    sigmoid_z = xp.where(logits >= 0, r, e * r)
    value = _mean_over_samples(xp, softplus_z - Y * logits)
    return value, (sigmoid_z - Y) / _n_samples(logits)


def log_softmax(xp: Any, logits: Any) -> Any:
    """z − logsumexp(z) along the class axis, shifted by the max for stability.

    Parameters
    ----------
    xp : namespace
        The array namespace of the arrays.
    logits : array of shape (..., n_classes)
        Class scores.

    Returns
    -------
    array of shape (..., n_classes)
        The log-probabilities.
    """
    shifted = logits - xp.max(logits, axis=-1, keepdims=True)
    return shifted - xp.log(xp.sum(xp.exp(shifted), axis=-1, keepdims=True))


def softmax(xp: Any, logits: Any) -> Any:
    """Class probabilities exp(z_k) / Σ_j exp(z_j) along the last axis.

    Parameters
    ----------
    xp : namespace
        The array namespace of the arrays.
    logits : array of shape (..., n_classes)
        Class scores.

    Returns
    -------
    array of shape (..., n_classes)
        The probabilities; each row sums to 1.
    """
    return xp.exp(log_softmax(xp, logits))


def softmax_cross_entropy(xp: Any, logits: Any, Y: Any) -> Any:
    """L = mean over samples of −Σ_k y_k log softmax(z)_k  (Y one-hot).

    Parameters
    ----------
    xp : namespace
        The array namespace of the arrays.
    logits : array of shape (..., n_samples, n_outputs)
        The output layer's pre-activations.
    Y : array of shape (..., n_samples, n_outputs)
        The one-hot targets, in the logits' dtype.

    Returns
    -------
    array of shape (...)
        The mean loss over the samples: 0-d for one network, (M,) for a stack.
    """
    return -_mean_over_samples(xp, Y * log_softmax(xp, logits))


def softmax_cross_entropy_value_and_gradient(
    xp: Any, logits: Any, Y: Any, class_axis: int = -1
) -> tuple[Any, Any]:
    """The loss and ∂L/∂z = (softmax(z) − y) / n_samples, from one set of exponentials.

    With s = z − max z and S = Σ_k e^{s_k}: log softmax = s − log S, softmax = e^s / S.

    Parameters
    ----------
    xp : namespace
        The array namespace of the arrays.
    logits : array of shape (..., n_samples, n_outputs)
        The output layer's pre-activations.
    Y : array of shape (..., n_samples, n_outputs)
        The one-hot targets, in the logits' dtype.
    class_axis : {-1, -2}, default -1
        The axis of the classes: -2 for the transposes, logitsᵀ and Yᵀ of shape
        (..., n_outputs, n_samples), whose gradient is then the gradient's transpose.

    Returns
    -------
    value : array of shape (...)
        The mean loss over the samples: 0-d for one network, (M,) for a stack.
    gradient : array of shape (..., n_samples, n_outputs)
        ∂value/∂logits (already divided by the number of samples).
    """
    n_samples = logits.shape[-2 if class_axis == -1 else -1]
    shifted = logits - xp.max(logits, axis=class_axis, keepdims=True)
    exp_shifted = xp.exp(shifted)
    row_total = xp.sum(exp_shifted, axis=class_axis, keepdims=True)
    value = xp.sum(Y * (xp.log(row_total) - shifted), axis=(-2, -1)) / n_samples
    return value, (exp_shifted / row_total - Y) / n_samples


def _softmax_cross_entropy_of_transposes(xp: Any, logits: Any, Y: Any) -> tuple[Any, Any]:
    return softmax_cross_entropy_value_and_gradient(xp, logits, Y, class_axis=-2)


def _identity(xp: Any, logits: Any) -> Any:
    return logits


LOSSES: dict[str, Loss] = {
    "squared_error": Loss(
        half_squared_error,
        half_squared_error_value_and_gradient,
        _identity,
        lambda n_samples, n_outputs: n_samples * n_outputs,
    ),
    "binary_cross_entropy": Loss(
        binary_cross_entropy,
        binary_cross_entropy_value_and_gradient,
        sigmoid,
        lambda n_samples, n_outputs: n_samples,
    ),
    "softmax_cross_entropy": Loss(
        softmax_cross_entropy,
        softmax_cross_entropy_value_and_gradient,
        softmax,
        value_and_gradient_of_transposes=_softmax_cross_entropy_of_transposes,
    ),
}


def get_loss(name: str) -> Loss:
    """The loss called ``name``; ValueError listing the valid names otherwise.

    Parameters
    ----------
    name : str
        'squared_error', 'binary_cross_entropy' or 'softmax_cross_entropy'.

    Returns
    -------
    Loss
        The registry's entry.

    Raises
    ------
    ValueError
        If ``name`` is not a loss.
    """
    if name not in LOSSES:
        raise ValueError(f"loss must be one of {', '.join(sorted(LOSSES))}; got {name!r}")
    return LOSSES[name]
