"""The PyTorch speed path: kernels for the layer math in PyTorch's fused operations.

On a GPU every operation is a kernel launch with a fixed host cost, so for the
small networks users sweep the number of operations per epoch is the speed.
PyTorch has single operations for several of the plain kernels' small chains:

- ``addmm`` / ``baddbmm``: Z = A @ W + b in one operation instead of two (a narrow
  layer's W, and its dW, in the layout BLAS runs fast, as ``torch.nn.Linear`` keeps them);
  on the CPU, where a copy costs more than an operation, a stack's narrow layers take
  ``bmm`` and an in-place bias add, and a shared input is broadcast rather than folded;
- ``tanh_backward``, ``sigmoid_backward``, ``threshold_backward`` (relu),
  ``leaky_relu_backward``: dZ = dA * act'(Z) in one instead of two or three;
- ``log_softmax``: the softmax cross-entropy from one normalisation;
- ``add(alpha=)``, ``lerp``, ``addcdiv``: the optimizers' element-wise updates over the
  flat parameter vector.

These are kernels only: the forward and backward passes and the update rules are
``nn.layers`` and ``nn.optimizers``, which call them. Each computes its plain kernel's
formula; the tests compare them with it (to rounding: a fused operation may round once
where the plain form rounds twice). Activations and losses without a fused form here
run their registry definitions.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from typing import Any

import torch

from ..nn.activations import LEAKY_SLOPE
from ..nn.kernels import is_shared_input, per_network
from .reference import Reference

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


class TorchPath(Reference):
    """PyTorch tensors (CPU or CUDA): fused operations for the layers, losses and updates."""

    name = "torch"

    def dense(self, xp: Any, A_prev: Any, W: Any, b: Any) -> Any:
        """Z = A_prev @ W + b: ``addmm``; for a stack ``baddbmm`` (on the CPU, ``bmm`` + b if narrow).

        A stack's shared input is folded into one 2-D product on a GPU (``nn.kernels``);
        on the CPU it is broadcast to every network as a view.
        """
        if W.ndim == 2:
            if _narrow(W):
                # Column-major, as torch.nn.Linear keeps its weights: for a 64 → 3 layer on
                # 30,000 rows (one thread) 1.4 ms against 3.8 ms, for one tiny copy.
                W = W.mT.contiguous().mT
            return torch.addmm(b, A_prev, W)
        if not _on_cpu(W):
            if is_shared_input(A_prev, W):
                return super().dense(xp, A_prev, W, b)  # the fold: one 2-D product
            return torch.baddbmm(b.unsqueeze(-2), A_prev, W)
        # On the CPU the fold's copies (W, and its (n, M, n_out) result) cost more than the
        # product, and MKL's batched product that starts from the bias (baddbmm) was several
        # times slower than bmm + add for narrow outputs (1 to 15 columns, under one AVX-512
        # register of float32; 32 networks, 400 rows), faster from 16 columns on. Training
        # the sweep's stacks (2 → 4|16 (→ 4|16) → 1) took ~20% less CPU time.
        if is_shared_input(A_prev, W):
            A_prev = A_prev.expand(W.shape[0], *A_prev.shape)
        if W.shape[-1] >= _WIDE_ON_CPU:
            return torch.baddbmm(b.unsqueeze(-2), A_prev, W)
        return torch.bmm(A_prev, W).add_(b.unsqueeze(-2))  # adds into its own new array

    def weight_gradient(self, xp: Any, A_prev: Any, dZ: Any) -> Any:
        """dW = A_prevᵀ @ dZ; for a narrow output computed as (dZᵀ @ A_prev)ᵀ.

        BLAS runs that form far faster when dZ has few columns (64 → 3 on 30,000 rows:
        0.6 ms against 4.8 ms); the same numbers. A stack's shared input is folded into one
        2-D product on a GPU (``nn.kernels``), broadcast to every network on the CPU.
        """
        narrow = dZ.shape[-1] < A_prev.shape[-1] and A_prev.ndim == dZ.ndim
        if narrow and (dZ.ndim == 2 or _on_cpu(dZ)):
            # Stacks too on the CPU: 32 networks, 16 → 1 on 400 rows 24 µs against 113 µs
            # (with flatten's copy of a multi-output dW; 4 → 1 is 11 µs slower).
            return (dZ.mT @ A_prev).mT
        if A_prev.ndim == 2 and dZ.ndim == 3 and _on_cpu(dZ):
            # A shared input on the CPU: a batched product over A_prevᵀ broadcast (a view)
            # instead of the fold's copy of dZ as (n, M·n_out) and its permuted result
            # (32 networks 2 → 16 on 400 rows: 22 µs against 130 µs).
            return torch.bmm(A_prev.mT.expand(dZ.shape[0], *A_prev.mT.shape), dZ)
        return super().weight_gradient(xp, A_prev, dZ)

    def bias_gradient(self, xp: Any, dZ: Any) -> Any:
        """db = Σ_samples dZ (``torch.sum`` over the sample axis)."""
        return torch.sum(dZ, dim=-2)

    def activation(self, xp: Any, name: str, Z: Any) -> Any:
        """act(Z) with torch's own kernel where it has one."""
        fused = _FORWARD.get(name)
        return fused(Z) if fused else super().activation(xp, name, Z)

    def activation_gradient(self, xp: Any, name: str, dA: Any, Z: Any, A: Any) -> Any:
        """dA * act'(Z) with torch's own backward kernel where it has one."""
        fused = _BACKWARD.get(name)
        return fused(dA, Z, A) if fused else super().activation_gradient(xp, name, dA, Z, A)

    def loss_and_gradient(self, xp: Any, name: str, logits: Any, Y: Any) -> tuple[Any, Any]:
        """The loss and ∂loss/∂logits with torch's fused functions."""
        n_samples = logits.shape[-2]
        if name == "softmax_cross_entropy":
            # L = −mean_s Σ_k y_k log softmax(z)_k;  ∂L/∂z = (softmax(z) − y) / n
            if _on_cpu(logits) and logits.shape[-1] < _SHORT_CLASS_AXIS_ON_CPU:
                return _softmax_cross_entropy_along_samples(logits, Y)
            log_probability = torch.log_softmax(logits, dim=-1)
            value = torch.sum(Y * log_probability, dim=(-2, -1)) * (-1 / n_samples)
            return value, (torch.exp(log_probability) - Y) / n_samples
        if name == "binary_cross_entropy":
            # L = mean_s [softplus(z) − y·z];  ∂L/∂z = (σ(z) − y) / n
            per_element = torch.nn.functional.binary_cross_entropy_with_logits(
                logits, Y.expand_as(logits), reduction="none"
            )
            if logits.shape[-1] == 1:  # one logit: the mean over samples, one operation
                value = torch.mean(per_element, dim=(-2, -1))
            else:
                value = torch.sum(per_element, dim=(-2, -1)) / n_samples
            # σ(z) is a new array: the subtraction and division write into it.
            return value, torch.sigmoid(logits).sub_(Y).div_(n_samples)
        return super().loss_and_gradient(xp, name, logits, Y)

    def reads_are_free(self, x: Any) -> bool:
        """For CPU tensors: torch computes them as they are called (a GPU queues its work)."""
        return _on_cpu(x)

    # --- updates: one fused operation where the scale is one number -------------------------

    def add_scaled(self, xp: Any, a: Any, b: Any, scale: Any) -> Any:
        """a + scale·b as ``torch.add(a, b, alpha=scale)``."""
        if isinstance(scale, numbers.Real):
            return torch.add(a, b, alpha=float(scale))
        return super().add_scaled(xp, a, b, scale)

    def moving_average(self, xp: Any, average: Any, value: Any, decay: float) -> Any:
        """decay·average + (1 − decay)·value = average + (1 − decay)(value − average): ``lerp``."""
        return torch.lerp(average, value, 1 - decay)

    def subtract_scaled(self, xp: Any, a: Any, b: Any, scale: Any) -> Any:
        """a − scale·b as ``torch.add(a, b, alpha=-scale)``."""
        if isinstance(scale, numbers.Real):
            return torch.add(a, b, alpha=-float(scale))
        return super().subtract_scaled(xp, a, b, scale)

    def subtract_scaled_quotient(self, xp: Any, a: Any, b: Any, c: Any, scale: Any) -> Any:
        """a − scale·b / c as ``torch.addcdiv``."""
        if isinstance(scale, numbers.Real):
            return torch.addcdiv(a, b, c, value=-float(scale))
        return torch.addcdiv(a, per_network(xp, scale, a) * b, c, value=-1)


# Outputs from this width on take ``baddbmm`` on the CPU, narrower ones ``bmm`` + b.
_WIDE_ON_CPU = 16
# Below this many classes, a CPU log-softmax runs along the samples of the logits'
# transpose. torch's CPU kernel along a short last axis is slow: one thread, AVX-512,
# (6, 1079, 10) 904 µs against 68 µs with the transposing copy, (30000, 3) 1,113 µs
# against 226 µs; from 16 classes on the last axis is the faster one (16: 83 against 121).
_SHORT_CLASS_AXIS_ON_CPU = 16


def _softmax_cross_entropy_along_samples(logits: Any, Y: Any) -> tuple[Any, Any]:
    """The softmax cross-entropy of a few classes on the CPU, computed on the transposes.

    With the classes on the last axis every operation would run an inner loop of a few
    numbers; on the transposes (classes × samples) each runs along the samples. The
    targets are transposed too, so that no operation mixes the two layouts, and the
    value's sum over samples and classes is one product with the targets when they are
    shared by a stack (one-hot rows: the sum of the log-probabilities of the labels).
    The gradient comes back as the transpose of a (classes × samples) array.
    """
    n_samples = logits.shape[-2]
    log_probability = torch.log_softmax(logits.mT.contiguous(), dim=-2)
    Y_t = Y.mT.contiguous()
    if Y_t.ndim == 2:  # one set of targets: Σ_s,k y·log p as one product
        value = log_probability.reshape(*logits.shape[:-2], -1) @ Y_t.reshape(-1)
    else:
        value = torch.sum(Y_t * log_probability, dim=(-2, -1))
    gradient = torch.exp(log_probability).sub_(Y_t).div_(n_samples)  # (softmax − y) / n
    return value * (-1 / n_samples), gradient.mT


def _on_cpu(array: Any) -> bool:
    """Whether a tensor lives in host memory, where copies cost more than extra launches.

    On a GPU every operation is a launch with a fixed host cost, so a shared input keeps
    the fold of ``nn.kernels`` (one 2-D product); on the CPU a batched product over a
    broadcast view of the input does the same work without the fold's copies.
    """
    return array.device.type == "cpu"


def _narrow(W: Any) -> bool:
    """A layer with fewer outputs than inputs (a network's output layer, typically)."""
    return W.shape[-1] < W.shape[-2]
