"""Exercise 3: the forward pass of a network with one hidden layer.

params = [(W1, b1), (W2, b2)], W1 (d, h), W2 (h, k); the hidden layer is tanh and the
output layer returns its logits. Write ``forward``, then run this file: ``check``
compares it with the library's ``scratchml.nn.layers.forward``.
"""

import numpy as np

from scratchml.nn import layers


def forward(params, X):
    """The logits (n, k) of the network for the inputs X (n, d)."""
    raise NotImplementedError("write the forward pass")


def check(forward):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20, 3))
    params = [
        (rng.normal(size=(3, 5)), rng.normal(size=5)),
        (rng.normal(size=(5, 2)), rng.normal(size=2)),
    ]
    expected, _ = layers.forward(np, params, X, ["tanh"])
    yours = forward(params, X)
    assert np.shape(yours) == expected.shape, f"shape {np.shape(yours)}, expected {expected.shape}"
    assert np.allclose(yours, expected, rtol=1e-12, atol=1e-12), (
        f"yours\n{yours}\nlibrary\n{expected}"
    )
    print("correct")


if __name__ == "__main__":
    check(forward)
