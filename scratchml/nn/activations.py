"""Activation functions and their derivatives, for any Array API namespace: the one registry.

Each entry of ``ACTIVATIONS`` carries everything the library needs about one
activation, so adding one is one entry here:

- ``forward(xp, Z) -> A``, element-wise;
- ``derivative(xp, Z, A) -> dA/dZ``, element-wise, from whichever of Z or A is
  cheaper (tanh' = 1 − A², σ' = A·(1 − A), relu' = [Z > 0]);
- ``init``: the initialisation ``init="auto"`` picks for a layer feeding it: ``"he"``
  (variance 2 / fan_in, for half-rectified signals) or ``"lecun"`` (1 / fan_in);
- ``gain``: the factor ``init="orthogonal"`` scales its orthogonal weights by, so a
  signal keeps its scale through the activation (Saxe et al. 2014; PyTorch's
  ``calculate_gain``).

Speed paths may hold faster forms of some of these (NumPy writes tanh into reused
memory, for example); they are checked against these definitions, and
an activation without one runs these definitions as they are.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple

LEAKY_SLOPE = 0.01


class Activation(NamedTuple):
    """One activation: its function, its derivative and how to initialise layers feeding it.

    Parameters
    ----------
    forward : callable
        ``forward(xp, Z)``: the activation A, element-wise.
    derivative : callable
        ``derivative(xp, Z, A)``: dA/dZ, element-wise, from Z or A.
    init : str
        'he' or 'lecun': what ``init="auto"`` draws for a layer feeding this activation.
    gain : float
        The factor ``init="orthogonal"`` scales its weights by.
    """

    forward: Callable[[Any, Any], Any]
    derivative: Callable[[Any, Any, Any], Any]
    init: str  # "he" or "lecun": what init="auto" draws
    gain: float  # orthogonal init's gain


def sigmoid(xp: Any, Z: Any) -> Any:
    """σ(z) = 1 / (1 + e^-z), computed without overflow: ``e^-|z|`` never exceeds 1.

    Parameters
    ----------
    xp : namespace
        The array namespace of Z.
    Z : array
        Any shape.

    Returns
    -------
    array
        σ(Z) in (0, 1), shaped like Z.
    """
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
    "relu": Activation(_relu, _relu_derivative, "he", math.sqrt(2)),
    "leaky_relu": Activation(
        _leaky_relu, _leaky_relu_derivative, "he", math.sqrt(2 / (1 + LEAKY_SLOPE**2))
    ),
    "sigmoid": Activation(sigmoid, _sigmoid_derivative, "lecun", 1.0),
    "tanh": Activation(_tanh, _tanh_derivative, "lecun", 5 / 3),
    "identity": Activation(_identity, _identity_derivative, "lecun", 1.0),
}


def get_activation(name: str) -> Activation:
    """The activation called ``name``; ValueError listing the valid names otherwise.

    Parameters
    ----------
    name : str
        'relu', 'leaky_relu', 'sigmoid', 'tanh' or 'identity'.

    Returns
    -------
    Activation
        The registry's entry.

    Raises
    ------
    ValueError
        If ``name`` is not an activation.
    """
    if name not in ACTIVATIONS:
        raise ValueError(
            f"activation must be one of {', '.join(sorted(ACTIVATIONS))}; got {name!r}"
        )
    return ACTIVATIONS[name]
