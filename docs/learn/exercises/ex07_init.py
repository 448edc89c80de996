"""Exercise 7: initial weights that keep the signal's size.

1. ``init_std``: the standard deviation of N(0, s²) weights for a layer with ``fan_in``
   inputs feeding ``activation``, such that the pre-activations Z = A W keep the
   variance of the inputs (LeCun: tanh, sigmoid, identity), or, for ``"relu"``, keep
   E[Z²] through a ReLU that zeroes half of them (He).
2. ``orthogonal``: an (n, n) matrix with orthonormal columns times ``gain``, drawn with
   the generator ``rng`` (hint: the Q of a QR decomposition of a Gaussian matrix).

Run this file: ``check`` compares ``init_std`` with ``scratchml.nn.init.init_scale`` and
measures the variance through ten layers, and checks ``orthogonal``'s WᵀW = gain²·I.
"""

import numpy as np

from scratchml.nn import init


def init_std(activation, fan_in):
    """The weights' standard deviation."""
    raise NotImplementedError("write the standard deviation")


def orthogonal(n, gain, rng):
    """An (n, n) array: orthonormal columns, times gain."""
    raise NotImplementedError("write an orthogonal draw")


def check(init_std, orthogonal):
    for activation in ("tanh", "sigmoid", "identity", "relu"):
        for fan_in in (2, 16, 300):
            expected = init.init_scale("auto", activation, fan_in)
            assert np.isclose(init_std(activation, fan_in), expected), (
                f"{activation}, fan_in {fan_in}"
            )
    rng = np.random.default_rng(0)
    Z = rng.normal(size=(2000, 256))  # pre-activations with E[Z²] = 1
    for _ in range(10):  # ten ReLU layers keep E[Z²] near 1 with He's draw
        Z = np.maximum(Z, 0) @ rng.normal(scale=init_std("relu", 256), size=(256, 256))
    assert 0.7 < np.mean(Z**2) < 1.4, f"E[Z²] after ten ReLU layers: {np.mean(Z**2):.3f}"
    W = orthogonal(5, 5 / 3, np.random.default_rng(1))
    assert np.shape(W) == (5, 5)
    assert np.allclose(W.T @ W, (5 / 3) ** 2 * np.eye(5)), "WᵀW is not gain²·I"
    print("correct")


if __name__ == "__main__":
    check(init_std, orthogonal)
