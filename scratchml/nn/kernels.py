"""The operations the network math is written in, in their plain Array API form.

``layers.forward`` / ``layers.backward`` / ``layers.loss_and_gradients`` and the optimizers'
``step`` are the code that trains on every array library. They do their arithmetic through
a small, named set of operations — this class — so that each library can run a faster form
of an operation without a second copy of the math around it:

============================  ====================================================
``dense``                     Z = A_prev @ W + b
``weight_gradient``           dW = A_prevᵀ @ dZ
``bias_gradient``             db = Σ_samples dZ
``input_gradient``            dA_prev = dZ @ Wᵀ
``activation``                A = act(Z)
``activation_gradient``       dZ = dA * act'(Z)
``loss_and_gradient``         the loss of the logits and ∂loss/∂logits
``add_scaled``                a + s·b  (momentum's velocity)
``subtract_scaled``           a − s·b  (a gradient step θ − η·g)
``moving_average``            β·a + (1 − β)·b  (Adam's moment estimates)
``subtract_scaled_quotient``  a − s·b / c  (Adam's step)
============================  ====================================================

The forms here are the definitions: each is the formula in the standard's ``xp`` functions,
and activations and losses come from their registries (``activations.py``, ``losses.py``),
where each derivative is written once. The speed paths (``scratchml.speed``) subclass
``Kernels`` and override some operations (NumPy writes into reused memory, PyTorch calls its
fused operations); the tests compare every override with the form here.

A scale ``s`` or rate ``β`` is a number, or for a stack of M networks an array (M,) that
multiplies each network's row of θ (``per_network``).
"""

from __future__ import annotations

from typing import Any

from .activations import get_activation
from .losses import get_loss


def per_network(xp: Any, scale: Any, like: Any) -> Any:
    """``scale`` ready to multiply ``like``: a number as is, an (M,) array as (M, 1, ...)."""
    if getattr(scale, "ndim", 0) == 0:
        return scale
    return xp.reshape(scale, (scale.shape[0],) + (1,) * (like.ndim - 1))


def is_shared_input(A: Any, W: Any) -> bool:
    """Whether A (n, n_in) is one input shared by a stack of weights W (M, n_in, n_out)."""
    return A.ndim == 2 and W.ndim == 3


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


class Kernels:
    """The operations of the network math, as their definitions (see the module docstring)."""

    name = "plain"

    # --- a dense layer: Z = A_prev @ W + b and its three gradients ---------------------

    def dense(self, xp: Any, A_prev: Any, W: Any, b: Any) -> Any:
        """Z = A_prev @ W + b; shapes (..., n, n_in) @ (..., n_in, n_out) + (..., n_out)."""
        shared = is_shared_input(A_prev, W)
        product = matmul_shared_input(xp, A_prev, W) if shared else A_prev @ W
        return product + xp.expand_dims(b, axis=-2)

    def weight_gradient(self, xp: Any, A_prev: Any, dZ: Any) -> Any:
        """dW = A_prevᵀ @ dZ, shape (..., n_in, n_out): ∂Z[s, j]/∂W[i, j] = A_prev[s, i]."""
        if A_prev.ndim == 2 and dZ.ndim == 3:
            return weight_gradient_shared_input(xp, A_prev, dZ)
        return xp.matrix_transpose(A_prev) @ dZ

    def bias_gradient(self, xp: Any, dZ: Any) -> Any:
        """db = Σ_samples dZ, shape (..., n_out): ∂Z[s, j]/∂b[j] = 1."""
        return xp.sum(dZ, axis=-2)

    def input_gradient(self, xp: Any, dZ: Any, W: Any) -> Any:
        """dA_prev = dZ @ Wᵀ, shape (..., n, n_in): ∂Z[s, j]/∂A_prev[s, i] = W[i, j]."""
        return dZ @ xp.matrix_transpose(W)

    # --- activations -----------------------------------------------------------------

    def activation(self, xp: Any, name: str, Z: Any) -> Any:
        """A = act(Z), element-wise (``activations.ACTIVATIONS[name].forward``)."""
        return get_activation(name).forward(xp, Z)

    def activation_gradient(self, xp: Any, name: str, dA: Any, Z: Any, A: Any) -> Any:
        """dZ = dA * act'(Z): the chain rule through an element-wise activation."""
        return dA * get_activation(name).derivative(xp, Z, A)

    # --- the loss --------------------------------------------------------------------

    def loss_and_gradient(self, xp: Any, name: str, logits: Any, Y: Any) -> tuple[Any, Any]:
        """The loss of the logits, shape (...), and ∂loss/∂logits, from one pass."""
        return get_loss(name).value_and_gradient(xp, logits, Y)

    # --- the optimizers' element-wise updates over θ ----------------------------------

    def add_scaled(self, xp: Any, a: Any, b: Any, scale: Any) -> Any:
        """a + scale·b."""
        return a + per_network(xp, scale, a) * b

    def moving_average(self, xp: Any, average: Any, value: Any, decay: float) -> Any:
        """decay·average + (1 − decay)·value: an exponential moving average's update."""
        return decay * average + (1 - decay) * value

    def subtract_scaled(self, xp: Any, a: Any, b: Any, scale: Any) -> Any:
        """a − scale·b."""
        return a - per_network(xp, scale, a) * b

    def subtract_scaled_quotient(self, xp: Any, a: Any, b: Any, c: Any, scale: Any) -> Any:
        """a − scale·b / c."""
        return a - per_network(xp, scale, a) * b / c


PLAIN = Kernels()
