"""Layer math: forward and backward passes over one network or a stack of M, as the calculus.

Parameters are ``W: (..., n_in, n_out)`` and ``b: (..., n_out)``; activations are
``A: (..., n_samples, n_features)``. A leading model axis ``M`` trains M networks at
once with this same code. Per dense layer, with act the layer's activation::

    forward:   Z = A_prev @ W + b              A = act(Z)   (the last layer: logits)
    backward:  dZ = dA * act'(Z)               (the last layer: dZ = ∂loss/∂logits)
               dW = A_prevᵀ @ dZ               db = Σ_samples dZ
               dA_prev = dZ @ Wᵀ

These follow from the chain rule on Z = A_prev @ W + b: ∂Z[s, j]/∂W[i, j] = A_prev[s, i],
so ∂L/∂W[i, j] = Σ_s A_prev[s, i]·dZ[s, j]; ∂Z[s, j]/∂b[j] = 1; ∂Z[s, j]/∂A_prev[s, i] = W[i, j].
The objective adds (l2/2)·Σ‖W‖², whose gradient l2·W is added to each dW.

Everything here is pure: nothing passed in is written over, forward keeps what
backward needs in its caches, backward returns gradients and optimizers apply them.
This is the reference every speed path (``scratchml.speed``) is tested against; a
learner can step through it by training inside ``scratchml.speed.reference_only()``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from .activations import get_activation
from .losses import get_loss

Params = list[tuple[Any, Any]]


class LayerCache(NamedTuple):
    """What backward needs from one layer's forward pass."""

    A_prev: Any  # input to the layer   (..., n_samples, n_in)
    Z: Any  # pre-activation         (..., n_samples, n_out)
    A: Any  # activation output      (..., n_samples, n_out)


def matmul_shared_input(xp: Any, X: Any, W: Any) -> Any:
    """X @ W for X (n, n_in) shared by stacked W (M, n_in, n_out) -> (M, n, n_out).

    The model axis is folded into the columns: X @ [W_1 | ... | W_M] is one 2-D product
    (a batched matmul that broadcasts X over M is slow on CuPy).
    """
    n_networks, n_in, n_out = W.shape
    W_cols = xp.reshape(xp.permute_dims(W, (1, 0, 2)), (n_in, n_networks * n_out))
    Z = xp.reshape(X @ W_cols, (X.shape[0], n_networks, n_out))
    return xp.permute_dims(Z, (1, 0, 2))


def weight_gradient_shared_input(xp: Any, X: Any, dZ: Any) -> Any:
    """Xᵀ @ dZ for X (n, n_in) shared and dZ (M, n, n_out) -> (M, n_in, n_out), one 2-D product."""
    n_networks, n_samples, n_out = dZ.shape
    dZ_cols = xp.reshape(xp.permute_dims(dZ, (1, 0, 2)), (n_samples, n_networks * n_out))
    dW = xp.reshape(xp.matrix_transpose(X) @ dZ_cols, (X.shape[1], n_networks, n_out))
    return xp.permute_dims(dW, (1, 0, 2))


def is_shared_input(A: Any, W: Any) -> bool:
    """Whether A (n, n_in) is one input shared by a stack of weights W (M, n_in, n_out)."""
    return A.ndim == 2 and W.ndim == 3


def dense_forward(xp: Any, A_prev: Any, W: Any, b: Any) -> Any:
    """Z = A_prev @ W + b."""
    product = matmul_shared_input(xp, A_prev, W) if is_shared_input(A_prev, W) else A_prev @ W
    return product + xp.expand_dims(b, axis=-2)


def dense_backward(
    xp: Any, A_prev: Any, W: Any, dZ: Any, need_input_grad: bool = True
) -> tuple[Any, Any, Any | None]:
    """(dW, db, dA_prev) = (A_prevᵀ @ dZ, Σ_samples dZ, dZ @ Wᵀ); dA_prev None if not needed."""
    if is_shared_input(A_prev, W):
        dW = weight_gradient_shared_input(xp, A_prev, dZ)
    else:
        dW = xp.matrix_transpose(A_prev) @ dZ
    db = xp.sum(dZ, axis=-2)
    dA_prev = dZ @ xp.matrix_transpose(W) if need_input_grad else None
    return dW, db, dA_prev


def forward(
    xp: Any, params: Params, X: Any, activations: Sequence[str]
) -> tuple[Any, list[LayerCache]]:
    """Run the network: hidden layers use ``activations``, the last layer returns logits.

    Returns ``(logits, caches)``; logits have shape ``(..., n_samples, n_outputs)``.
    """
    caches = []
    A = X
    for layer, (W, b) in enumerate(params):
        Z = dense_forward(xp, A, W, b)
        is_output = layer == len(params) - 1
        A_next = Z if is_output else get_activation(activations[layer]).forward(xp, Z)
        caches.append(LayerCache(A, Z, A_next))
        A = A_next
    return A, caches


def backward(
    xp: Any,
    params: Params,
    caches: list[LayerCache],
    d_logits: Any,
    activations: Sequence[str],
) -> Params:
    """Backpropagate ∂loss/∂logits through the network; returns [(dW, db), ...] like params.

    Per layer, from the last to the first::

        dZ = dA * act'(Z)           (the output layer has dZ = d_logits)
        dW = A_prevᵀ @ dZ           db = Σ_samples dZ
        dA_prev = dZ @ Wᵀ

    These are the data loss's gradients; ``loss_and_gradients`` adds the L2 term.
    """
    grads: Params = [None] * len(params)  # type: ignore[list-item]
    dZ = d_logits
    for layer in range(len(params) - 1, -1, -1):
        W, _ = params[layer]
        cache = caches[layer]
        dW, db, dA_prev = dense_backward(xp, cache.A_prev, W, dZ, need_input_grad=layer > 0)
        grads[layer] = (dW, db)
        if layer > 0:
            previous = caches[layer - 1]
            slope = get_activation(activations[layer - 1]).derivative(xp, previous.Z, previous.A)
            dZ = dA_prev * slope
    return grads


# --- the L2 penalty: (l2/2)·Σ‖W‖², biases not penalised -------------------------------------


def is_penalised(l2: Any) -> bool:
    """False for a zero number; an array (per-network penalties, or one traced value) is present."""
    return hasattr(l2, "ndim") or l2 != 0


def _per_network_l2(xp: Any, l2: Any) -> Any:
    """``l2`` to multiply W: a number as is; one value per network (M,) as (M, 1, 1)."""
    if getattr(l2, "ndim", 0) == 0:
        return l2
    return xp.reshape(l2, (l2.shape[0], 1, 1))


def l2_penalty(xp: Any, params: Params, l2: Any) -> Any:
    """(l2 / 2) · Σ_layers ‖W‖², shape (...); ``l2`` may be an array (M,), one per network."""
    total = 0.0
    for W, _ in params:
        total = total + xp.sum(W * W, axis=(-2, -1))
    return 0.5 * l2 * total


def add_l2(xp: Any, params: Params, data_loss: Any, grads: Params, l2: Any) -> tuple[Any, Params]:
    """The objective and its gradients: data loss + (l2/2)·Σ‖W‖², and dW + l2·W."""
    if not is_penalised(l2):
        return data_loss, grads
    l2_W = _per_network_l2(xp, l2)
    grads = [(dW + l2_W * W, db) for (dW, db), (W, _) in zip(grads, params, strict=True)]
    return data_loss + l2_penalty(xp, params, l2), grads


# --- the objective ------------------------------------------------------------------------


def loss_and_gradients(
    xp: Any,
    params: Params,
    X: Any,
    Y: Any,
    activations: Sequence[str],
    loss: str,
    l2: Any = 0.0,
) -> tuple[Any, Params]:
    """The training objective (data loss + L2 penalty, shape (...)) and its gradients."""
    logits, caches = forward(xp, params, X, activations)
    data_loss, d_logits = get_loss(loss).value_and_gradient(xp, logits, Y)
    grads = backward(xp, params, caches, d_logits, activations)
    return add_l2(xp, params, data_loss, grads, l2)


def objective(
    xp: Any,
    params: Params,
    X: Any,
    Y: Any,
    activations: Sequence[str],
    loss: str,
    l2: Any = 0.0,
) -> Any:
    """The training objective alone (no backward pass)."""
    logits, _ = forward(xp, params, X, activations)
    value = get_loss(loss).value(xp, logits, Y)
    return value + l2_penalty(xp, params, l2) if is_penalised(l2) else value
