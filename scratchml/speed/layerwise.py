"""A speed path that replaces some of the layer operations, and runs the pass as layers does.

``layers.loss_and_gradients`` is forward, loss, backward over the layers. A path that
only needs faster forms of a few of those operations (a fused bias add, a fused
activation derivative, a loss written into reused memory) subclasses ``Layerwise``
and overrides those: the loop over the layers is written here once, with each
operation defaulting to the reference math of ``nn``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..nn import layers
from ..nn.activations import get_activation
from ..nn.layers import LayerCache
from ..nn.losses import get_loss
from .reference import LossAndGradients, Params, Reference


class Layerwise(Reference):
    """The pass of ``layers.loss_and_gradients``, each operation overridable."""

    def loss_and_gradients(
        self, xp: Any, activations: Sequence[str], loss: str, l2: Any
    ) -> LossAndGradients:
        """The objective and its gradients, layer by layer through this path's operations."""

        def run(params: Params, X: Any, Y: Any) -> tuple[Any, Params]:
            value, grads = self.data_loss_and_gradients(xp, params, X, Y, activations, loss)
            return layers.add_l2(xp, params, value, grads, l2)

        return run

    def data_loss_and_gradients(
        self, xp: Any, params: Params, X: Any, Y: Any, activations: Sequence[str], loss: str
    ) -> tuple[Any, Params]:
        """The data loss and its gradients (no L2): ``layers``' forward, loss, backward."""
        caches = []
        A = X
        for layer, (W, b) in enumerate(params):
            Z = self.dense_forward(xp, A, W, b)
            is_output = layer == len(params) - 1
            A_next = Z if is_output else self.activation_forward(xp, activations[layer], Z)
            caches.append(LayerCache(A, Z, A_next))
            A = A_next
        value, dZ = self.loss_value_and_gradient(xp, loss, A, Y)
        grads: Params = [None] * len(params)  # type: ignore[list-item]
        for layer in range(len(params) - 1, -1, -1):
            cache = caches[layer]
            dW, db, dA_prev = self.dense_backward(xp, cache.A_prev, params[layer][0], dZ, layer)
            grads[layer] = (dW, db)
            if layer > 0:
                before = caches[layer - 1]
                name = activations[layer - 1]
                dZ = self.activation_backward(xp, name, dA_prev, before.Z, before.A)
        return value, grads

    # --- the operations, as the reference computes them ---------------------------------

    def dense_forward(self, xp: Any, A_prev: Any, W: Any, b: Any) -> Any:
        """Z = A_prev @ W + b."""
        return layers.dense_forward(xp, A_prev, W, b)

    def dense_backward(
        self, xp: Any, A_prev: Any, W: Any, dZ: Any, layer: int
    ) -> tuple[Any, Any, Any]:
        """dW = A_prevᵀ @ dZ, db = Σ_samples dZ, dA_prev = dZ @ Wᵀ (None for layer 0)."""
        return layers.dense_backward(xp, A_prev, W, dZ, need_input_grad=layer > 0)

    def activation_forward(self, xp: Any, name: str, Z: Any) -> Any:
        """A = act(Z)."""
        return get_activation(name).forward(xp, Z)

    def activation_backward(self, xp: Any, name: str, dA: Any, Z: Any, A: Any) -> Any:
        """dZ = dA * act'(Z)."""
        return dA * get_activation(name).derivative(xp, Z, A)

    def loss_value_and_gradient(self, xp: Any, name: str, logits: Any, Y: Any) -> tuple[Any, Any]:
        """The loss of the logits and ∂loss/∂logits, in one pass."""
        return get_loss(name).value_and_gradient(xp, logits, Y)
