"""The hand-written JAX that the stack and sweep cases time scratchml against.

What a researcher would write for many small classifiers without scratchml: one
network's forward pass and cross-entropy (binary, or softmax over ten digits), its
gradient mapped over the networks with ``jax.vmap``, and Adam written out. The stack case
(``stacks.py``) and the sweep cases (``sweep.py``) build their peers from these
functions, so all of them time the same baseline.

A peer is independent of scratchml on purpose: nothing here calls scratchml's math
(``scratchml.nn``), so the comparison is with JAX as a user writes it, not with scratchml
on JAX. JAX is imported inside the functions: the case modules import this one on
machines without JAX too.

A network is a flat list ``[W1, b1, W2, b2, ...]`` (``W`` of shape ``(n_in, n_out)``),
tanh between layers, one logit out (``logits``, ``loss``, ``accuracy``) or one per class
(``outputs``, ``softmax_loss``, ``class_accuracy``).
"""

from __future__ import annotations

from .base import UnavailableError

BETA1, BETA2, EPSILON = 0.9, 0.999, 1e-8  # Adam's settings (as torch.optim.Adam's defaults)


def jax_device(device: str):
    """JAX's device for "cpu" or "cuda" (UnavailableError when JAX has none)."""
    import jax

    try:
        return jax.devices("cpu" if device == "cpu" else "gpu")[0]
    except RuntimeError as exc:
        raise UnavailableError(f"JAX has no {device} device") from exc


def outputs(net, X):
    """One network's output units for the rows of ``X``: affine layers, tanh between them."""
    import jax.numpy as jnp

    A = X
    for layer in range(0, len(net), 2):
        A = A @ net[layer] + net[layer + 1]
        if layer + 2 < len(net):
            A = jnp.tanh(A)
    return A


def logits(net, X):
    """One binary network's logits for the rows of ``X`` (its one output unit)."""
    return outputs(net, X)[:, 0]


def loss(net, X, y):
    """One network's mean binary cross-entropy from its logits (``y`` holds 0.0 or 1.0)."""
    import jax.numpy as jnp

    z = logits(net, X)
    return jnp.mean(jnp.logaddexp(0.0, z) - y * z)


def accuracy(net, X, y):
    """One network's share of rows classified right (logit above 0 for class 1)."""
    import jax.numpy as jnp

    return jnp.mean((logits(net, X) > 0) == (y > 0.5))


def softmax_loss(net, X, y):
    """One network's mean softmax cross-entropy (``y`` holds class indices 0 … k−1)."""
    import jax
    import jax.numpy as jnp

    z = outputs(net, X)
    picked = jnp.take_along_axis(z, y[:, None], axis=1)[:, 0]
    return jnp.mean(jax.nn.logsumexp(z, axis=1) - picked)


def class_accuracy(net, X, y):
    """One network's share of rows whose largest output is their class."""
    import jax.numpy as jnp

    return jnp.mean(jnp.argmax(outputs(net, X), axis=1) == y)


def adam_start(net):
    """Adam's starting state for ``net``: ``(net, m, v)``, both moments zero."""
    import jax.numpy as jnp

    zeros = [jnp.zeros_like(p) for p in net]
    return net, zeros, list(zeros)


def adam(net, m, v, grads, rate, t):
    """One Adam step of step size ``rate`` at step ``t`` (from 1): the new ``(net, m, v)``."""
    import jax.numpy as jnp

    m = [BETA1 * m_ + (1 - BETA1) * g for m_, g in zip(m, grads, strict=True)]
    v = [BETA2 * v_ + (1 - BETA2) * g * g for v_, g in zip(v, grads, strict=True)]
    size = rate * jnp.sqrt(1 - BETA2**t) / (1 - BETA1**t)
    net = [p - size * m_ / (jnp.sqrt(v_) + EPSILON) for p, m_, v_ in zip(net, m, v, strict=True)]
    return net, m, v
