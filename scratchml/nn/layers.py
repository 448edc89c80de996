"""Layer math: pure forward and backward functions over one network or a stack of M.

Parameters are ``W: (..., n_in, n_out)`` and ``b: (..., n_out)``; activations are
``A: (..., n_samples, n_features)``. A leading model axis ``M`` trains M networks at
once with this same code. The input ``X: (n_samples, n_features)`` may be shared
by all M networks; its products with stacked weights are folded into one 2-D
matmul (CuPy's batched matmul with a broadcast batch axis is slow).

Backward returns gradients and never updates anything: optimizers apply them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from .._kernels import current_training_memory, kernels_for
from .losses import get_loss

Params = list[tuple[Any, Any]]


class LayerCache(NamedTuple):
    """What backward needs from one layer's forward pass."""

    A_prev: Any  # input to the layer   (..., n_samples, n_in)
    Z: Any  # pre-activation         (..., n_samples, n_out)
    A: Any  # activation output      (..., n_samples, n_out)


def _shared_input_matmul(xp: Any, X: Any, W: Any) -> Any:
    """X @ W for X (n, n_in) shared by stacked W (M, n_in, n_out) -> (M, n, n_out).

    The model axis is folded into the columns: X @ [W_1 | ... | W_M] is one 2-D product.
    """
    n_models, n_in, n_out = W.shape
    W_cols = xp.reshape(xp.permute_dims(W, (1, 0, 2)), (n_in, n_models * n_out))
    Z = xp.reshape(X @ W_cols, (X.shape[0], n_models, n_out))
    return xp.permute_dims(Z, (1, 0, 2))


def _shared_input_weight_gradient(xp: Any, X: Any, dZ: Any) -> Any:
    """Xᵀ @ dZ for X (n, n_in) shared and dZ (M, n, n_out) -> (M, n_in, n_out), as one 2-D product."""
    n_models, n_samples, n_out = dZ.shape
    dZ_cols = xp.reshape(xp.permute_dims(dZ, (1, 0, 2)), (n_samples, n_models * n_out))
    dW = xp.reshape(xp.matrix_transpose(X) @ dZ_cols, (X.shape[1], n_models, n_out))
    return xp.permute_dims(dW, (1, 0, 2))


def _is_shared(A: Any, W: Any) -> bool:
    return A.ndim == 2 and W.ndim == 3


def sum_over_samples(xp: Any, dZ: Any) -> Any:
    """Σ_samples dZ: (..., n_samples, n_out) -> (..., n_out).

    For one network it is the product 1ᵀ @ dZ: libraries sum a tall, narrow matrix
    over its rows slowly (NumPy loops over the short rows), and a matmul does not.
    """
    if dZ.ndim != 2:
        return kernels_for(xp).stack_sum_over_samples(xp, dZ)
    ones = kernels_for(xp).ones(xp, (1, dZ.shape[0]), dZ.dtype, dZ.device)
    return (ones @ dZ)[0, :]


def dense_forward(xp: Any, A_prev: Any, W: Any, b: Any) -> Any:
    """Z = A_prev @ W + b (the bias added in place: the product is a new array)."""
    if _is_shared(A_prev, W):
        Z = _shared_input_matmul(xp, A_prev, W)
    else:
        Z = kernels_for(xp).samples_matmul(xp, A_prev, W)
    Z += xp.expand_dims(b, axis=-2)
    return Z


def dense_backward(
    xp: Any, A_prev: Any, W: Any, dZ: Any, need_input_grad: bool = True
) -> tuple[Any, Any, Any | None]:
    """Gradients of a dense layer: dW = A_prevᵀ @ dZ, db = Σ_samples dZ, dA_prev = dZ @ Wᵀ."""
    if _is_shared(A_prev, W):
        dW = _shared_input_weight_gradient(xp, A_prev, dZ)
    else:
        dW = kernels_for(xp).weight_gradient(xp, A_prev, dZ)
    db = sum_over_samples(xp, dZ)
    dA_prev = None
    if need_input_grad:
        dA_prev = kernels_for(xp).samples_matmul(xp, dZ, xp.matrix_transpose(W))
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
        A_next = Z if is_output else kernels_for(xp).activation_forward(xp, activations[layer], Z)
        caches.append(LayerCache(A, Z, A_next))
        A = A_next
    return A, caches


def backward(
    xp: Any,
    params: Params,
    caches: list[LayerCache],
    d_logits: Any,
    activations: Sequence[str],
    l2: float = 0.0,
) -> Params:
    """Backpropagate ∂loss/∂logits through the network; returns [(dW, db), ...] like params.

    Per layer, from the last to the first:
        dZ = dA * act'(Z)           (the output layer has dZ = d_logits)
        dW = A_prevᵀ @ dZ + l2 * W  db = Σ_samples dZ
        dA_prev = dZ @ Wᵀ
    """
    grads: Params = [None] * len(params)  # type: ignore[list-item]
    dZ = d_logits
    for layer in range(len(params) - 1, -1, -1):
        W, _ = params[layer]
        cache = caches[layer]
        dW, db, dA_prev = dense_backward(xp, cache.A_prev, W, dZ, need_input_grad=layer > 0)
        if _penalised(l2):
            dW = dW + l2_gradient(xp, W, l2)
        grads[layer] = (dW, db)
        if layer > 0:
            previous = caches[layer - 1]
            dZ = kernels_for(xp).activation_backward(
                xp, activations[layer - 1], dA_prev, previous.Z, previous.A
            )
    return grads


def _penalised(l2: Any) -> bool:
    """False for a zero penalty; an array of per-network penalties counts as present."""
    return getattr(l2, "ndim", 0) > 0 or l2 != 0


def _per_network_l2(xp: Any, l2: Any, W: Any) -> Any:
    """``l2`` to multiply W: a number as is; one value per network (M,) as (M, 1, 1)."""
    if getattr(l2, "ndim", 0) == 0:
        return l2
    return xp.reshape(l2, (l2.shape[0], 1, 1))


def l2_gradient(xp: Any, W: Any, l2: Any) -> Any:
    """∂/∂W of (l2/2)·‖W‖² = l2 · W; one penalty per network when ``l2`` is an array (M,)."""
    return _per_network_l2(xp, l2, W) * W


def l2_penalty(xp: Any, params: Params, l2: float) -> Any:
    """(l2 / 2) · Σ_layers ‖W‖² over weights (biases are not penalised); shape (...).

    For a stack, ``l2`` may be an array (M,): one penalty per network.
    """
    total = 0.0
    for W, _ in params:
        total = total + xp.sum(W * W, axis=(-2, -1))
    return 0.5 * l2 * total


def _objective_at(xp: Any, params: Params, logits: Any, Y: Any, loss: str, l2: float) -> Any:
    """Data loss of the logits plus the L2 penalty of the weights; shape (...)."""
    return _plus_l2_penalty(xp, params, get_loss(loss).value(xp, logits, Y), l2)


def _plus_l2_penalty(xp: Any, params: Params, data_loss: Any, l2: Any) -> Any:
    """The objective: the data loss plus (l2/2)·Σ‖W‖² when there is a penalty."""
    return data_loss + l2_penalty(xp, params, l2) if _penalised(l2) else data_loss


def _weighted_sum(weights: list[float], arrays: list[Any]) -> Any:
    """Σ_i weights[i] · arrays[i]."""
    total = weights[0] * arrays[0]
    for weight, array in zip(weights[1:], arrays[1:], strict=True):
        total = total + weight * array
    return total


def loss_and_gradients(
    xp: Any,
    params: Params,
    X: Any,
    Y: Any,
    activations: Sequence[str],
    loss: str,
    l2: float = 0.0,
) -> tuple[Any, Params]:
    """The training objective (data loss + L2 penalty, shape (...)) and its gradients.

    The pass may run in blocks, in parallel where the library gains from it (the
    blocks are chosen in ``scratchml._kernels``). One network: blocks of rows; the
    data loss is a mean over samples, so the blocks' losses and gradients, weighted
    by their shares n_block / n_samples, sum to the whole batch's. A stack: blocks
    of networks, whose results sit side by side on the model axis. The L2 term is
    added once, after.
    """
    kernels = kernels_for(xp)
    n_samples = X.shape[-2]
    memory = current_training_memory()

    def pass_over(params: Params, X: Any, Y: Any, block: slice) -> tuple[Any, Params]:
        # In training, the block's large arrays reuse the memory of its previous pass.
        with kernels.reusing(memory, (block.start, block.stop)):
            logits, caches = forward(xp, params, X, activations)
            value, d_logits = kernels.loss_value_and_gradient(xp, loss, logits, Y)
            return value, backward(xp, params, caches, d_logits, activations)

    W_first = params[0][0]
    if W_first.ndim == 3:
        # A stack: blocks of networks, their results side by side on the model axis.
        widths = [W.shape[-1] for W, _ in params]
        itemsize = 8 if W_first.dtype == xp.float64 else 4
        model_blocks = kernels.model_blocks(W_first.shape[0], n_samples, widths, itemsize)

        def block_of_networks(nets: slice) -> tuple[Any, Params]:
            return pass_over(
                [(W[nets, ...], b[nets, ...]) for W, b in params],
                X if X.ndim == 2 else X[nets, ...],
                Y if Y.ndim == 2 else Y[nets, ...],
                nets,
            )

        parts = kernels.map_blocks(block_of_networks, model_blocks)
        if len(parts) == 1:
            value, grads = parts[0]
        else:
            value = xp.concat([part_value for part_value, _ in parts], axis=0)
            grads = [
                (
                    xp.concat([part[layer][0] for _, part in parts], axis=0),
                    xp.concat([part[layer][1] for _, part in parts], axis=0),
                )
                for layer in range(len(params))
            ]
    else:
        width = sum(W.shape[-1] for W, _ in params)
        row_blocks = kernels.row_blocks(X, W_first.ndim, width)
        parts = kernels.map_blocks(
            lambda rows: pass_over(params, X[..., rows, :], Y[..., rows, :], rows), row_blocks
        )
        if len(parts) == 1:
            value, grads = parts[0]
        else:
            shares = [(rows.stop - rows.start) / n_samples for rows in row_blocks]
            value = _weighted_sum(shares, [part_value for part_value, _ in parts])
            grads = [
                (
                    _weighted_sum(shares, [part[layer][0] for _, part in parts]),
                    _weighted_sum(shares, [part[layer][1] for _, part in parts]),
                )
                for layer in range(len(params))
            ]
    if _penalised(l2):
        grads = [
            (dW + l2_gradient(xp, W, l2), db)
            for (dW, db), (W, _) in zip(grads, params, strict=True)
        ]
    return _plus_l2_penalty(xp, params, value, l2), grads


def objective(
    xp: Any,
    params: Params,
    X: Any,
    Y: Any,
    activations: Sequence[str],
    loss: str,
    l2: float = 0.0,
) -> Any:
    """The training objective alone (no backward pass)."""
    logits, _ = forward(xp, params, X, activations)
    return _objective_at(xp, params, logits, Y, loss, l2)
