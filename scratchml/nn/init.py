"""Weight initialisation by fan-in, drawn on the host so one seed gives one model everywhere."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from .. import backends
from .activations import ACTIVATIONS

# "xavier" is the name this draw had first; it stays accepted and draws exactly as "lecun".
INITS = ("auto", "he", "lecun", "xavier", "orthogonal")


def init_scale(init: str, activation: str, fan_in: int) -> float:
    """Standard deviation of a layer's weights (normal inits).

    He: sqrt(2 / fan_in), for relu-like layers (keeps the variance of a half-rectified
    signal); LeCun: sqrt(1 / fan_in), for tanh, sigmoid, identity (keeps the variance
    of a layer's pre-activations equal to its inputs'). ``"xavier"`` is an older name
    here for the same LeCun draw, kept so that code passing it keeps working; it is not
    Glorot and Bengio's sqrt(2 / (fan_in + fan_out)), which averages fan-in and fan-out.

    Parameters
    ----------
    init : str
        'auto', 'he', 'lecun' or 'xavier' (the normal draws).
    activation : str
        The activation the layer feeds; 'auto' picks by it.
    fan_in : int
        The number of inputs of the layer.

    Returns
    -------
    float
        The standard deviation of the layer's weights.
    """
    if init == "auto":
        # The activation's registry entry says which; the output layer's "sigmoid",
        # "softmax" and "identity" draw as LeCun.
        init = ACTIVATIONS[activation].init if activation in ACTIVATIONS else "lecun"
    gain = 2.0 if init == "he" else 1.0
    return math.sqrt(gain / fan_in)


def init_params(
    layer_sizes: Sequence[int],
    activations: Sequence[str],
    init: str,
    seed: Any,
    like: Any,
    n_networks: int | None = None,
) -> list[tuple[Any, Any]]:
    """Weights N(0, scale²) and zero biases for layers ``layer_sizes[i] -> layer_sizes[i+1]``.

    ``activations`` has one name per layer (the output layer's included: "identity",
    "sigmoid" or "softmax"). With ``n_networks`` the arrays get a leading model axis.
    ``init="orthogonal"`` draws random orthogonal weights times the activation's gain
    (its registry entry: 5/3 for tanh, √2 for relu): deep narrow networks keep their signal, which is what
    lets a stack of 2-wide tanh layers learn (the spiral demos).
    Arrays land in the namespace, device and dtype of ``like``.

    Parameters
    ----------
    layer_sizes : sequence of int
        The widths, inputs first: layer i maps ``layer_sizes[i]`` to ``layer_sizes[i + 1]``.
    activations : sequence of str
        One activation per layer, the output layer's included ('identity', 'sigmoid' or
        'softmax' there).
    init : str
        'auto' (from each activation: He for relu-like, LeCun otherwise), 'he', 'lecun',
        'xavier' (the same draw as 'lecun') or 'orthogonal'.
    seed : int, numpy.random.Generator or None
        The seed of the host generator the weights are drawn from.
    like : array
        An array of the training data: the parameters take its namespace, device and dtype.
    n_networks : int, optional
        The number of networks of a stack: the arrays get a leading axis of that length.

    Returns
    -------
    list of (W, b)
        W (n_in, n_out) and b (n_out,) per layer, or (n_networks, n_in, n_out) and
        (n_networks, n_out), in ``like``'s namespace.
    """
    host = host_params(layer_sizes, activations, init, seed, n_networks)
    return [tuple(backends.asarray(p, like=like) for p in layer) for layer in host]  # type: ignore[misc]


def host_params(
    layer_sizes: Sequence[int],
    activations: Sequence[str],
    init: str,
    seed: Any,
    n_networks: int | None = None,
) -> list[tuple[Any, Any]]:
    """``init_params``' draws, left on the host (NumPy float64): a stack stacks its networks'
    draws there and moves each stacked array once.

    Parameters
    ----------
    layer_sizes : sequence of int
        The widths, inputs first: layer i maps ``layer_sizes[i]`` to ``layer_sizes[i + 1]``.
    activations : sequence of str
        One activation per layer, the output layer's included ('identity', 'sigmoid' or
        'softmax' there).
    init : str
        'auto' (from each activation: He for relu-like, LeCun otherwise), 'he', 'lecun',
        'xavier' (the same draw as 'lecun') or 'orthogonal'.
    seed : int, numpy.random.Generator or None
        The seed of the host generator the weights are drawn from.
    n_networks : int, optional
        The number of networks of a stack: the arrays get a leading axis of that length.

    Returns
    -------
    list of (W, b)
        NumPy float64 arrays, shaped as ``init_params`` returns them.
    """
    generator = backends.rng(seed)
    host = backends.get("numpy")
    lead = () if n_networks is None else (n_networks,)
    params = []
    for fan_in, fan_out, activation in zip(
        layer_sizes[:-1], layer_sizes[1:], activations, strict=True
    ):
        shape = (*lead, fan_in, fan_out)
        if init == "orthogonal":
            gain = ACTIVATIONS[activation].gain if activation in ACTIVATIONS else 1.0
            W = backends.host_orthogonal(generator, shape, gain=gain)
        else:
            W = backends.host_normal(generator, shape, init_scale(init, activation, fan_in))
        params.append((W, host.zeros((*lead, fan_out), dtype=host.float64)))
    return params
