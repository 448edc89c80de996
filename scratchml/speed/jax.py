"""The JAX speed path: each training step compiled by XLA with ``jax.jit``.

The step is the reference math as written (forward, loss, backward, the
optimizer's update over the flat parameter vector); JAX traces it once and XLA
fuses its element-wise work into a few kernels, which is what the reference's
operation-by-operation form costs most of on an accelerator. This works because
the math is pure: no host reads inside a step, no arrays written in place,
optimizers that return new state.

Compiled steps are kept per network shape, loss, activations and optimizer rule,
with the learning rate and the L2 penalty as arguments: warm-started fits,
``partial_fit`` calls and a sweep's stacks of one architecture compile once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax

from ..nn import layers
from .reference import Reference

# (activations, loss, penalised, layout, optimizer class, its hyper-parameters) -> jitted step
_COMPILED: dict[tuple[Any, ...], Any] = {}


class JaxPath(Reference):
    """JAX arrays: the reference step, compiled."""

    name = "jax"

    def training_step(
        self, xp: Any, objective: Any, layout: Any, optimizer: Any, guarded: bool = False
    ) -> Callable[..., tuple[Any, ...]]:
        """The whole step, compiled with ``jax.jit`` (see ``Reference.training_step``)."""
        activations, loss, l2 = objective
        penalised = layers.is_penalised(l2)
        kind = type(optimizer)
        hyperparameters = tuple((name, getattr(optimizer, name)) for name in kind.hyperparameters)
        key = (tuple(activations), loss, penalised, layout, kind, hyperparameters, guarded)
        compiled = _COMPILED.get(key)
        if compiled is None:
            reference = super().training_step

            def step(rate: Any, l2: Any, *arrays: Any) -> Any:
                rule = kind(rate, **dict(hyperparameters))
                objective = (activations, loss, l2)
                return reference(xp, objective, layout, rule, guarded)(*arrays)

            compiled = _COMPILED[key] = jax.jit(step)
        rate = optimizer.learning_rate
        # A penalty goes in as an array (a traced value, not a constant baked into the code).
        l2_value = xp.asarray(l2) if penalised else 0.0
        return lambda *arrays: compiled(rate, l2_value, *arrays)
