"""Exercise 6: the momentum and Adam updates.

Write one step of each, on a flat parameter vector θ with gradient g:

- momentum:  v ← μ·v + g,  θ ← θ − η·v
- Adam (t counts steps from 1):  m ← β₁m + (1−β₁)g,  v ← β₂v + (1−β₂)g²,
  m̂ = m/(1−β₁ᵗ),  v̂ = v/(1−β₂ᵗ),  θ ← θ − η·m̂/(√v̂ + ε)

Run this file: ``check`` takes ten steps of each with random gradients and compares
them with the library's ``scratchml.nn.optimizers.Momentum`` and ``Adam``.
"""

import numpy as np

from scratchml.nn import optimizers


def momentum_step(theta, grad, velocity, learning_rate, momentum):
    """(theta, velocity) after one step."""
    raise NotImplementedError("write the momentum update")


def adam_step(theta, grad, m, v, t, learning_rate, beta_1=0.9, beta_2=0.999, epsilon=1e-8):
    """(theta, m, v) after step number t (t = 1 for the first)."""
    raise NotImplementedError("write the Adam update")


def check(momentum_step, adam_step):
    rng = np.random.default_rng(0)
    grads = rng.normal(size=(10, 6))
    library = optimizers.Momentum(0.1, momentum=0.8)
    theta = yours = rng.normal(size=6)
    state, velocity = library.init(np, theta), np.zeros(6)
    for g in grads:
        theta, state = library.step(np, theta, g, state)
        yours, velocity = momentum_step(yours, g, velocity, 0.1, 0.8)
        assert np.allclose(yours, theta, rtol=1e-12, atol=1e-14), (
            f"momentum: yours {yours}, library {theta}"
        )
    library = optimizers.Adam(0.01)
    theta = yours = rng.normal(size=6)
    state, m, v = library.init(np, theta), np.zeros(6), np.zeros(6)
    for t, g in enumerate(grads, start=1):
        theta, state = library.step(np, theta, g, state)
        yours, m, v = adam_step(yours, g, m, v, t, 0.01)
        assert np.allclose(yours, theta, rtol=1e-12, atol=1e-14), (
            f"Adam, step {t}: yours {yours}, library {theta}"
        )
    print("correct")


if __name__ == "__main__":
    check(momentum_step, adam_step)
