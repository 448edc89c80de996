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

This is the code that trains, on every array library and for stacks: each operation above
is one call of ``kernels`` (``nn.kernels.Kernels``: the formula itself, unless a speed path of
``scratchml.speed`` hands in a faster form of it, such as NumPy writing into reused memory or
PyTorch's fused ``addmm``). A learner stepping through any fit meets these lines.

Everything here is pure: nothing passed in is written over, forward keeps what
backward needs in its caches, backward returns gradients and optimizers apply them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from .kernels import PLAIN, Kernels, per_network
from .losses import get_loss

Params = list[tuple[Any, Any]]


class LayerCache(NamedTuple):
    """What backward needs from one layer's forward pass.

    Parameters
    ----------
    A_prev : array of shape (..., n_samples, n_in)
        The layer's input.
    Z : array of shape (..., n_samples, n_out)
        Its pre-activation, A_prev @ W + b.
    A : array of shape (..., n_samples, n_out)
        Its output act(Z) (Z itself for the output layer).
    """

    A_prev: Any  # input to the layer   (..., n_samples, n_in)
    Z: Any  # pre-activation         (..., n_samples, n_out)
    A: Any  # activation output      (..., n_samples, n_out)


def forward(
    xp: Any, params: Params, X: Any, activations: Sequence[str], kernels: Kernels = PLAIN
) -> tuple[Any, list[LayerCache]]:
    """Run the network: hidden layers use ``activations``, the last layer returns logits.

    Returns ``(logits, caches)``; logits have shape ``(..., n_samples, n_outputs)``.

    Parameters
    ----------
    xp : namespace
        The array namespace of the arrays.
    params : list of (W, b)
        W (..., n_in, n_out) and b (..., n_out) per layer; the leading axis (M,) of a stack.
    X : array of shape (..., n_samples, n_features)
        The inputs; a 2-D X is shared by all networks of a stack.
    activations : sequence of str
        The hidden layers' activations, one per hidden layer (the output layer has none:
        it returns logits).
    kernels : Kernels, default PLAIN
        The operations to compute with: the plain definitions, or a speed path's.

    Returns
    -------
    logits : array of shape (..., n_samples, n_outputs)
        The output layer's pre-activations.
    caches : list of LayerCache
        One per layer, for ``backward``.
    """
    caches = []
    A = X
    for layer, (W, b) in enumerate(params):
        Z = kernels.dense(xp, A, W, b)  # Z = A_prev @ W + b
        is_output = layer == len(params) - 1
        A_next = Z if is_output else kernels.activation(xp, activations[layer], Z)  # A = act(Z)
        caches.append(LayerCache(A, Z, A_next))
        A = A_next
    return A, caches


def backward(
    xp: Any,
    params: Params,
    caches: list[LayerCache],
    d_logits: Any,
    activations: Sequence[str],
    kernels: Kernels = PLAIN,
) -> Params:
    """Backpropagate ∂loss/∂logits through the network; returns [(dW, db), ...] like params.

    Per layer, from the last to the first::

        dZ = dA * act'(Z)           (the output layer has dZ = d_logits)
        dW = A_prevᵀ @ dZ           db = Σ_samples dZ
        dA_prev = dZ @ Wᵀ

    These are the data loss's gradients; ``loss_and_gradients`` adds the L2 term.

    Parameters
    ----------
    xp : namespace
        The array namespace of the arrays.
    params : list of (W, b)
        W (..., n_in, n_out) and b (..., n_out) per layer; the leading axis (M,) of a stack.
    caches : list of LayerCache
        What ``forward`` kept, one per layer.
    d_logits : array of shape (..., n_samples, n_outputs)
        ∂loss/∂logits.
    activations : sequence of str
        The hidden layers' activations, one per hidden layer (the output layer has none:
        it returns logits).
    kernels : Kernels, default PLAIN
        The operations to compute with: the plain definitions, or a speed path's.

    Returns
    -------
    list of (dW, db)
        The gradients of the data loss, shaped like ``params``.
    """
    grads: Params = [None] * len(params)  # type: ignore[list-item]
    dZ = d_logits
    for layer in range(len(params) - 1, -1, -1):
        W, _ = params[layer]
        A_prev = caches[layer].A_prev
        dW = kernels.weight_gradient(xp, A_prev, dZ)  # dW = A_prevᵀ @ dZ
        db = kernels.bias_gradient(xp, dZ)  # db = Σ_samples dZ
        grads[layer] = (dW, db)
        if layer > 0:  # the input layer's dA_prev would be ∂L/∂X: nobody needs it
            dA_prev = kernels.input_gradient(xp, dZ, W)  # dA_prev = dZ @ Wᵀ
            previous = caches[layer - 1]
            dZ = kernels.activation_gradient(  # dZ = dA * act'(Z), one layer down
                xp, activations[layer - 1], dA_prev, previous.Z, previous.A
            )
    return grads


# --- the L2 penalty: (l2/2)·Σ‖W‖², biases not penalised -------------------------------------


def is_penalised(l2: Any) -> bool:
    """False for a zero number; an array (per-network penalties, or one traced value) is present.

    Parameters
    ----------
    l2 : float or array
        The L2 penalty.

    Returns
    -------
    bool
        False only for a number equal to 0.
    """
    return hasattr(l2, "ndim") or l2 != 0


def l2_penalty(xp: Any, params: Params, l2: Any) -> Any:
    """(l2 / 2) · Σ_layers ‖W‖², shape (...); ``l2`` may be an array (M,), one per network.

    Parameters
    ----------
    xp : namespace
        The array namespace of the arrays.
    params : list of (W, b)
        W (..., n_in, n_out) and b (..., n_out) per layer; the leading axis (M,) of a stack.
    l2 : float or array
        The L2 penalty: a number, or an array (M,) with one per network.

    Returns
    -------
    array of shape (...)
        (l2 / 2) · Σ ‖W‖² over the layers: 0-d for one network, (M,) for a stack.
    """
    total = 0.0
    for W, _ in params:
        total = total + xp.sum(W * W, axis=(-2, -1))
    return 0.5 * l2 * total


def add_l2(xp: Any, params: Params, data_loss: Any, grads: Params, l2: Any) -> tuple[Any, Params]:
    """The objective and its gradients: data loss + (l2/2)·Σ‖W‖², and dW + l2·W.

    Parameters
    ----------
    xp : namespace
        The array namespace of the arrays.
    params : list of (W, b)
        W (..., n_in, n_out) and b (..., n_out) per layer; the leading axis (M,) of a stack.
    data_loss : array of shape (...)
        The data loss.
    grads : list of (dW, db)
        Its gradients, shaped like ``params``.
    l2 : float or array
        The L2 penalty: a number, or an array (M,) with one per network.

    Returns
    -------
    objective : array of shape (...)
        ``data_loss`` + (l2/2)·Σ‖W‖².
    grads : list of (dW, db)
        Its gradients: each dW gains l2·W (``grads`` itself when l2 is 0).
    """
    if not is_penalised(l2):
        return data_loss, grads
    l2_W = per_network(xp, l2, params[0][0])  # one l2 per network: (M, 1, 1)
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
    kernels: Kernels = PLAIN,
) -> tuple[Any, Params]:
    """The training objective (data loss + L2 penalty, shape (...)) and its gradients.

    Forward, the loss with its gradient ∂loss/∂logits, backward, then the L2 term.

    Parameters
    ----------
    xp : namespace
        The array namespace of the arrays.
    params : list of (W, b)
        W (..., n_in, n_out) and b (..., n_out) per layer; the leading axis (M,) of a stack.
    X : array of shape (..., n_samples, n_features)
        The inputs; a 2-D X is shared by all networks of a stack.
    Y : array of shape (..., n_samples, n_outputs)
        The encoded targets (one-hot, a 0/1 column, or real values), in X's dtype.
    activations : sequence of str
        The hidden layers' activations, one per hidden layer (the output layer has none:
        it returns logits).
    loss : str
        The loss's name in ``losses.LOSSES``.
    l2 : float or array, default 0.0
        The L2 penalty: a number, or an array (M,) with one per network.
    kernels : Kernels, default PLAIN
        The operations to compute with: the plain definitions, or a speed path's.

    Returns
    -------
    objective : array of shape (...)
        The mean data loss plus the L2 penalty: 0-d for one network, (M,) for a stack.
    grads : list of (dW, db)
        Its gradients, shaped like ``params``.
    """
    logits, caches = forward(xp, params, X, activations, kernels)
    data_loss, d_logits = kernels.loss_and_gradient(xp, loss, logits, Y)
    grads = backward(xp, params, caches, d_logits, activations, kernels)
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
    """The training objective alone (no backward pass).

    Parameters
    ----------
    xp : namespace
        The array namespace of the arrays.
    params : list of (W, b)
        W (..., n_in, n_out) and b (..., n_out) per layer; the leading axis (M,) of a stack.
    X : array of shape (..., n_samples, n_features)
        The inputs; a 2-D X is shared by all networks of a stack.
    Y : array of shape (..., n_samples, n_outputs)
        The encoded targets (one-hot, a 0/1 column, or real values), in X's dtype.
    activations : sequence of str
        The hidden layers' activations, one per hidden layer (the output layer has none:
        it returns logits).
    loss : str
        The loss's name in ``losses.LOSSES``.
    l2 : float or array, default 0.0
        The L2 penalty: a number, or an array (M,) with one per network.

    Returns
    -------
    array of shape (...)
        The mean data loss plus the L2 penalty: 0-d for one network, (M,) for a stack.
    """
    logits, _ = forward(xp, params, X, activations)
    value = get_loss(loss).value(xp, logits, Y)
    return value + l2_penalty(xp, params, l2) if is_penalised(l2) else value
