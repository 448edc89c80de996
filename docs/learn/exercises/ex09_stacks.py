"""Exercise 9: one dense layer for a stack of M networks.

The input A (n, n_in) is shared by all M networks; each has its own W[m] (n_in, n_out)
and b[m] (n_out,). Write ``stacked_dense``: Z of shape (M, n, n_out), Z[m] = A W[m] + b[m],
without a Python loop over m (matmul broadcasts over leading axes). Run this file:
``check`` compares it with the library's ``scratchml.nn.layers.forward`` on a one-layer
stack, and with each network computed alone.
"""

import numpy as np

from scratchml.nn import layers


def stacked_dense(A, W, b):
    """Z (M, n, n_out) for A (n, n_in), W (M, n_in, n_out), b (M, n_out)."""
    raise NotImplementedError("write the stacked layer")


def check(stacked_dense):
    rng = np.random.default_rng(0)
    A, W, b = rng.normal(size=(10, 3)), rng.normal(size=(6, 3, 4)), rng.normal(size=(6, 4))
    Z = stacked_dense(A, W, b)
    assert np.shape(Z) == (6, 10, 4), f"shape {np.shape(Z)}, expected (6, 10, 4)"
    expected, _ = layers.forward(np, [(W, b)], A, [])
    assert np.allclose(Z, expected, rtol=1e-12, atol=1e-12), "Z differs from layers.forward's"
    for m in range(6):
        assert np.allclose(Z[m], A @ W[m] + b[m]), f"network {m} differs from A @ W[m] + b[m]"
    print("correct")


if __name__ == "__main__":
    check(stacked_dense)
