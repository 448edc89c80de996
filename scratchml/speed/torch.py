"""The PyTorch speed path: the layer math in PyTorch's fused operations.

On a GPU every operation is a kernel launch with a fixed host cost, so for the
small networks users sweep the number of operations per epoch is the speed.
PyTorch has single operations for several of the reference's small chains:

- ``addmm`` / ``baddbmm``: Z = A @ W + b in one operation instead of two (a narrow
  layer's W, and its dW, in the layout BLAS runs fast, as ``torch.nn.Linear`` keeps them);
- ``tanh_backward``, ``sigmoid_backward``, ``threshold_backward`` (relu),
  ``leaky_relu_backward``: dZ = dA * act'(Z) in one instead of two or three;
- ``log_softmax``: the softmax cross-entropy from one normalisation;
- ``add(alpha=)``, ``lerp``, ``addcmul``, ``addcdiv``: each optimizer's update in
  a few operations over the flat parameter vector.

Each computes the reference's formula; the tests compare them with it (to
rounding: a fused operation may round once where the reference rounds twice).
Activations and losses without a fused form here run the reference's definitions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from ..nn import layers, optimizers
from ..nn.activations import LEAKY_SLOPE
from .layerwise import Layerwise

_aten = torch.ops.aten

# act(Z) and dA * act'(Z), from the pass's Z and A.
_FORWARD: dict[str, Callable[[Any], Any]] = {
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "relu": torch.relu,
    "leaky_relu": lambda Z: torch.nn.functional.leaky_relu(Z, LEAKY_SLOPE),
}
_BACKWARD: dict[str, Callable[[Any, Any, Any], Any]] = {
    "tanh": lambda dA, Z, A: _aten.tanh_backward(dA, A),  # dA * (1 - A²)
    "sigmoid": lambda dA, Z, A: _aten.sigmoid_backward(dA, A),  # dA * A(1 - A)
    "relu": lambda dA, Z, A: _aten.threshold_backward(dA, A, 0),  # dA where A > 0
    "leaky_relu": lambda dA, Z, A: _aten.leaky_relu_backward(dA, Z, LEAKY_SLOPE, False),
    "identity": lambda dA, Z, A: dA,
}


class TorchPath(Layerwise):
    """PyTorch tensors (CPU or CUDA): fused operations for the layers, losses and updates."""

    name = "torch"

    def dense_forward(self, xp: Any, A_prev: Any, W: Any, b: Any) -> Any:
        """Z = A_prev @ W + b as one ``torch.addmm`` / ``baddbmm`` where it applies."""
        if layers.is_shared_input(A_prev, W):
            return super().dense_forward(xp, A_prev, W, b)
        if W.ndim == 2:
            if _narrow(W):
                # Column-major, as torch.nn.Linear keeps its weights: for a 64 → 3 layer on
                # 30,000 rows (one thread) 1.4 ms against 3.8 ms, for one tiny copy.
                W = W.mT.contiguous().mT
            return torch.addmm(b, A_prev, W)
        return torch.baddbmm(b.unsqueeze(-2), A_prev, W)

    def dense_backward(
        self, xp: Any, A_prev: Any, W: Any, dZ: Any, layer: int
    ) -> tuple[Any, Any, Any]:
        """dW, db, dA_prev; a narrow layer's dW in the form BLAS runs fast."""
        if not (A_prev.ndim == 2 and W.ndim == 2 and _narrow(W)):
            return super().dense_backward(xp, A_prev, W, dZ, layer)
        # dW = A_prevᵀ @ dZ computed as (dZᵀ @ A_prev)ᵀ: for a narrow output BLAS runs this
        # form far faster (64 → 3 on 30,000 rows: 0.6 ms against 4.8 ms); the same numbers.
        dW = (dZ.mT @ A_prev).mT
        dA_prev = dZ @ W.mT if layer > 0 else None
        return dW, torch.sum(dZ, dim=-2), dA_prev

    def activation_forward(self, xp: Any, name: str, Z: Any) -> Any:
        """act(Z) with torch's own kernel where it has one."""
        fused = _FORWARD.get(name)
        return fused(Z) if fused else super().activation_forward(xp, name, Z)

    def activation_backward(self, xp: Any, name: str, dA: Any, Z: Any, A: Any) -> Any:
        """dA * act'(Z) with torch's own backward kernel where it has one."""
        fused = _BACKWARD.get(name)
        return fused(dA, Z, A) if fused else super().activation_backward(xp, name, dA, Z, A)

    def loss_value_and_gradient(self, xp: Any, name: str, logits: Any, Y: Any) -> tuple[Any, Any]:
        """The loss and ∂loss/∂logits with torch's fused functions."""
        n_samples = logits.shape[-2]
        if name == "softmax_cross_entropy":
            # L = −mean_s Σ_k y_k log softmax(z)_k;  ∂L/∂z = (softmax(z) − y) / n
            log_probability = torch.log_softmax(logits, dim=-1)
            value = torch.sum(Y * log_probability, dim=(-2, -1)) * (-1 / n_samples)
            return value, (torch.exp(log_probability) - Y) / n_samples
        if name == "binary_cross_entropy":
            # L = mean_s [softplus(z) − y·z];  ∂L/∂z = (σ(z) − y) / n
            per_element = torch.nn.functional.binary_cross_entropy_with_logits(
                logits, Y.expand_as(logits), reduction="none"
            )
            value = torch.sum(per_element, dim=(-2, -1)) / n_samples
            return value, (torch.sigmoid(logits) - Y) / n_samples
        return super().loss_value_and_gradient(xp, name, logits, Y)

    def optimizer_step(self, optimizer: Any) -> Callable[[Any, Any, Any, Any], tuple[Any, Any]]:
        """The update with torch's fused element-wise functions (``add`` with ``alpha``, ``lerp``, ``addcmul``)."""
        fused = _FUSED_UPDATES.get(type(optimizer))
        if fused is None:
            return optimizer.step
        return lambda xp, theta, grad, state: fused(optimizer, xp, theta, grad, state)


def _narrow(W: Any) -> bool:
    """A layer with fewer outputs than inputs (a network's output layer, typically)."""
    return W.shape[-1] < W.shape[-2]


def _is_scalar(rate: Any) -> bool:
    return getattr(rate, "ndim", 0) == 0


def _sgd(opt: optimizers.SGD, xp: Any, theta: Any, grad: Any, state: Any) -> tuple[Any, Any]:
    # θ ← θ − η·g
    if _is_scalar(opt.learning_rate):
        return torch.add(theta, grad, alpha=-float(opt.learning_rate)), state
    return opt.step(xp, theta, grad, state)


def _momentum(
    opt: optimizers.Momentum, xp: Any, theta: Any, grad: Any, velocity: Any
) -> tuple[Any, Any]:
    # v ← β·v + g;  θ ← θ − η·v
    velocity = torch.add(grad, velocity, alpha=opt.beta)
    if _is_scalar(opt.learning_rate):
        return torch.add(theta, velocity, alpha=-float(opt.learning_rate)), velocity
    return theta - optimizers.per_network(xp, opt.learning_rate, theta) * velocity, velocity


def _adam(opt: optimizers.Adam, xp: Any, theta: Any, grad: Any, state: Any) -> tuple[Any, Any]:
    # m ← β₁m + (1−β₁)g = m + (1−β₁)(g − m);  v ← β₂v + (1−β₂)g²;  θ ← θ − η_t·m / (√v + ε̂)
    t, m, v = state
    t += 1
    b1, b2 = opt.beta1, opt.beta2
    m = torch.lerp(m, grad, 1 - b1)
    v = torch.addcmul(v * b2, grad, grad, value=1 - b2)
    step_size = opt.learning_rate * (1 - b2**t) ** 0.5 / (1 - b1**t)
    denominator = torch.sqrt(v).add_(opt.epsilon * (1 - b2**t) ** 0.5)  # a fresh array: ours
    if _is_scalar(step_size):
        theta = torch.addcdiv(theta, m, denominator, value=-float(step_size))
    else:
        step = optimizers.per_network(xp, step_size, theta) * m
        theta = torch.addcdiv(theta, step, denominator, value=-1)
    return theta, (t, m, v)


_FUSED_UPDATES: dict[type, Callable[..., tuple[Any, Any]]] = {
    optimizers.SGD: _sgd,
    optimizers.Momentum: _momentum,
    optimizers.Adam: _adam,
}
