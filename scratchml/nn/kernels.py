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
    """``scale`` ready to multiply ``like``: a number as is, an (M,) array as (M, 1, ...).

    Parameters
    ----------
    xp : namespace
        The array namespace of the arrays (``backends.namespace``).
    scale : float or array
        A number, or an array (M,): one value per network of a stack.
    like : array
        The array ``scale`` multiplies, with the model axis first.

    Returns
    -------
    float or array
        ``scale`` unchanged if it is a number (0-d), else reshaped to (M, 1, ...) with
        ``like.ndim`` axes, so that it broadcasts over ``like``, in ``like``'s dtype: a
        scale kept wider (a stack's learning rates) is rounded once, as a number is.
    """
    if getattr(scale, "ndim", 0) == 0:
        return scale
    if scale.dtype != like.dtype:
        scale = xp.astype(scale, like.dtype)
    return xp.reshape(scale, (scale.shape[0],) + (1,) * (like.ndim - 1))


def is_shared_input(A: Any, W: Any) -> bool:
    """Whether A (n, n_in) is one input shared by a stack of weights W (M, n_in, n_out).

    Parameters
    ----------
    A : array
        A layer's input: (n, n_in), or (M, n, n_in) per network.
    W : array
        Its weights: (n_in, n_out), or (M, n_in, n_out) for a stack.

    Returns
    -------
    bool
        True when a 2-D input meets stacked 3-D weights.
    """
    return A.ndim == 2 and W.ndim == 3


def matmul_shared_input(xp: Any, X: Any, W: Any) -> Any:
    """X @ W for X (n, n_in) shared by stacked W (M, n_in, n_out) -> (M, n, n_out).

    The model axis is folded into the columns: X @ [W_1 | ... | W_M] is one 2-D product
    (a batched matmul that broadcasts X over M is slow on CuPy).

    Parameters
    ----------
    xp : namespace
        The array namespace of the arrays (``backends.namespace``).
    X : array of shape (n, n_in)
        The input every network shares.
    W : array of shape (M, n_in, n_out)
        The stacked weights.

    Returns
    -------
    array of shape (M, n, n_out)
        X @ W[m] for each network m, in X's namespace.
    """
    n_networks, n_in, n_out = W.shape
    W_cols = xp.reshape(xp.permute_dims(W, (1, 0, 2)), (n_in, n_networks * n_out))
    Z = xp.reshape(X @ W_cols, (X.shape[0], n_networks, n_out))
    return xp.permute_dims(Z, (1, 0, 2))


def weight_gradient_shared_input(xp: Any, X: Any, dZ: Any) -> Any:
    """Xᵀ @ dZ for X (n, n_in) shared and dZ (M, n, n_out) -> (M, n_in, n_out), one 2-D product.

    Parameters
    ----------
    xp : namespace
        The array namespace of the arrays (``backends.namespace``).
    X : array of shape (n, n_in)
        The input every network shares.
    dZ : array of shape (M, n, n_out)
        The gradient of the loss with respect to each network's pre-activations.

    Returns
    -------
    array of shape (M, n_in, n_out)
        Xᵀ @ dZ[m] for each network m.
    """
    n_networks, n_samples, n_out = dZ.shape
    dZ_cols = xp.reshape(xp.permute_dims(dZ, (1, 0, 2)), (n_samples, n_networks * n_out))
    dW = xp.reshape(xp.matrix_transpose(X) @ dZ_cols, (X.shape[1], n_networks, n_out))
    return xp.permute_dims(dW, (1, 0, 2))


class Kernels:
    """The operations of the network math, as their definitions (see the module docstring)."""

    name = "plain"

    # --- a dense layer: Z = A_prev @ W + b and its three gradients ---------------------

    def dense(self, xp: Any, A_prev: Any, W: Any, b: Any) -> Any:
        """Z = A_prev @ W + b; shapes (..., n, n_in) @ (..., n_in, n_out) + (..., n_out).

        Parameters
        ----------
        xp : namespace
            The array namespace of the arrays (``backends.namespace``).
        A_prev : array of shape (n, n_in) or (M, n, n_in)
            The layer's input (a 2-D input is shared by a stack's networks).
        W : array of shape (n_in, n_out) or (M, n_in, n_out)
            The weights.
        b : array of shape (n_out,) or (M, n_out)
            The biases.

        Returns
        -------
        array of shape (n, n_out) or (M, n, n_out)
            The pre-activations Z.
        """
        shared = is_shared_input(A_prev, W)
        product = matmul_shared_input(xp, A_prev, W) if shared else A_prev @ W
        return product + xp.expand_dims(b, axis=-2)

    def weight_gradient(self, xp: Any, A_prev: Any, dZ: Any) -> Any:
        """dW = A_prevᵀ @ dZ, shape (..., n_in, n_out): ∂Z[s, j]/∂W[i, j] = A_prev[s, i].

        Parameters
        ----------
        xp : namespace
            The array namespace of the arrays (``backends.namespace``).
        A_prev : array of shape (n, n_in) or (M, n, n_in)
            The layer's input in the forward pass.
        dZ : array of shape (n, n_out) or (M, n, n_out)
            ∂loss/∂Z.

        Returns
        -------
        array of shape (n_in, n_out) or (M, n_in, n_out)
            ∂loss/∂W.
        """
        if A_prev.ndim == 2 and dZ.ndim == 3:
            return weight_gradient_shared_input(xp, A_prev, dZ)
        return xp.matrix_transpose(A_prev) @ dZ

    def bias_gradient(self, xp: Any, dZ: Any) -> Any:
        """db = Σ_samples dZ, shape (..., n_out): ∂Z[s, j]/∂b[j] = 1.

        Parameters
        ----------
        xp : namespace
            The array namespace of the arrays (``backends.namespace``).
        dZ : array of shape (n, n_out) or (M, n, n_out)
            ∂loss/∂Z.

        Returns
        -------
        array of shape (n_out,) or (M, n_out)
            ∂loss/∂b.
        """
        return xp.sum(dZ, axis=-2)

    def input_gradient(self, xp: Any, dZ: Any, W: Any) -> Any:
        """dA_prev = dZ @ Wᵀ, shape (..., n, n_in): ∂Z[s, j]/∂A_prev[s, i] = W[i, j].

        Parameters
        ----------
        xp : namespace
            The array namespace of the arrays (``backends.namespace``).
        dZ : array of shape (n, n_out) or (M, n, n_out)
            ∂loss/∂Z.
        W : array of shape (n_in, n_out) or (M, n_in, n_out)
            The layer's weights.

        Returns
        -------
        array of shape (n, n_in) or (M, n, n_in)
            ∂loss/∂A_prev, passed on to the layer below.
        """
        return dZ @ xp.matrix_transpose(W)

    # --- activations -----------------------------------------------------------------

    def activation(self, xp: Any, name: str, Z: Any) -> Any:
        """A = act(Z), element-wise (``activations.ACTIVATIONS[name].forward``).

        Parameters
        ----------
        xp : namespace
            The array namespace of the arrays (``backends.namespace``).
        name : str
            The activation's name in ``activations.ACTIVATIONS`` ('relu', 'tanh', ...).
        Z : array
            Pre-activations, any shape.

        Returns
        -------
        array
            act(Z), shaped like Z.
        """
        return get_activation(name).forward(xp, Z)

    def activation_gradient(self, xp: Any, name: str, dA: Any, Z: Any, A: Any) -> Any:
        """dZ = dA * act'(Z): the chain rule through an element-wise activation.

        Parameters
        ----------
        xp : namespace
            The array namespace of the arrays (``backends.namespace``).
        name : str
            The activation's name in ``activations.ACTIVATIONS``.
        dA : array
            ∂loss/∂A, shaped like Z.
        Z : array
            The pre-activations of the forward pass.
        A : array
            act(Z) from the forward pass (some derivatives are cheaper from A).

        Returns
        -------
        array
            ∂loss/∂Z, shaped like Z.
        """
        return dA * get_activation(name).derivative(xp, Z, A)

    # --- the loss --------------------------------------------------------------------

    def loss_and_gradient(self, xp: Any, name: str, logits: Any, Y: Any) -> tuple[Any, Any]:
        """The loss of the logits, shape (...), and ∂loss/∂logits, from one pass.

        Parameters
        ----------
        xp : namespace
            The array namespace of the arrays (``backends.namespace``).
        name : str
            The loss's name in ``losses.LOSSES``.
        logits : array of shape (n, k) or (M, n, k)
            The output layer's pre-activations.
        Y : array of shape (n, k) or (M, n, k)
            The encoded targets (one-hot, a 0/1 column, or real values).

        Returns
        -------
        loss : array of shape () or (M,)
            The mean loss over the samples.
        gradient : array
            ∂loss/∂logits, shaped like ``logits``.
        """
        return get_loss(name).value_and_gradient(xp, logits, Y)

    # --- the optimizers' element-wise updates over θ ----------------------------------

    def add_scaled(self, xp: Any, a: Any, b: Any, scale: Any) -> Any:
        """a + scale·b.

        Parameters
        ----------
        xp : namespace
            The array namespace of the arrays (``backends.namespace``).
        a, b : array
            Arrays of one shape: θ-shaped vectors (n_params,), or (M, n_params) for a stack.
        scale : float or array
            A number, or for a stack an array (M,) scaling each network's row.

        Returns
        -------
        array
            The result, shaped like ``a``, in its namespace.
        """
        return a + per_network(xp, scale, a) * b

    def moving_average(self, xp: Any, average: Any, value: Any, decay: float) -> Any:
        """decay·average + (1 − decay)·value: an exponential moving average's update.

        Parameters
        ----------
        xp : namespace
            The array namespace of the arrays (``backends.namespace``).
        average : array
            The current average, θ-shaped.
        value : array
            The new value, shaped like ``average``.
        decay : float
            The decay rate β in [0, 1).

        Returns
        -------
        array
            The updated average, shaped like ``average``.
        """
        return decay * average + (1 - decay) * value

    def subtract_scaled(self, xp: Any, a: Any, b: Any, scale: Any) -> Any:
        """a − scale·b.

        Parameters
        ----------
        xp : namespace
            The array namespace of the arrays (``backends.namespace``).
        a, b : array
            Arrays of one shape: θ-shaped vectors (n_params,), or (M, n_params) for a stack.
        scale : float or array
            A number, or for a stack an array (M,) scaling each network's row.

        Returns
        -------
        array
            The result, shaped like ``a``, in its namespace.
        """
        return a - per_network(xp, scale, a) * b

    def subtract_scaled_quotient(self, xp: Any, a: Any, b: Any, c: Any, scale: Any) -> Any:
        """a − scale·b / c.

        Parameters
        ----------
        xp : namespace
            The array namespace of the arrays (``backends.namespace``).
        a, b, c : array
            Arrays of one shape: θ-shaped vectors (n_params,), or (M, n_params) for a stack.
        scale : float or array
            A number, or for a stack an array (M,) scaling each network's row.

        Returns
        -------
        array
            The result, shaped like ``a``, in its namespace.
        """
        return a - per_network(xp, scale, a) * b / c


PLAIN = Kernels()
