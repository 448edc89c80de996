"""Exercise 4: backpropagation through a ReLU layer.

A 3 → 4 → 1 network: Z1 = X W1 + b1, A1 = relu(Z1), z = A1 W2 + b2, and the mean binary
cross-entropy of σ(z). Given the gradient at the output, d_logits = (σ(z) − y)/n, write
``backward``: the gradients [(dW1, db1), (dW2, db2)]. Run this file: ``check`` compares
them with central finite differences of the loss and with the library's
``scratchml.nn.layers.loss_and_gradients``. (relu'(z) is 1 where z > 0, else 0.)
"""

import numpy as np

from scratchml.nn import layers, losses


def backward(params, X, d_logits):
    """[(dW1, db1), (dW2, db2)], shaped like params."""
    raise NotImplementedError("write the backward pass")


def check(backward):
    rng = np.random.default_rng(1)
    X, Y = rng.normal(size=(8, 3)), rng.integers(0, 2, size=(8, 1)).astype(float)
    params = [
        (rng.normal(size=(3, 4)), rng.normal(size=4)),
        (rng.normal(size=(4, 1)), rng.normal(size=1)),
    ]

    def loss(params):
        logits, _ = layers.forward(np, params, X, ["relu"])
        return float(losses.binary_cross_entropy(np, logits, Y))

    logits, _ = layers.forward(np, params, X, ["relu"])
    d_logits = (1 / (1 + np.exp(-logits)) - Y) / len(X)
    yours = backward(params, X, d_logits)
    _, expected = layers.loss_and_gradients(np, params, X, Y, ["relu"], "binary_cross_entropy")
    h = 1e-6
    for layer, ((dW, db), (W, b)) in enumerate(zip(yours, params, strict=True)):
        for name, mine, array in (("dW", dW, W), ("db", db, b)):
            assert np.shape(mine) == array.shape, f"{name}{layer + 1}: shape {np.shape(mine)}"
            for index in np.ndindex(array.shape):
                shifted = []
                for sign in (1, -1):
                    nudged = [(W_.copy(), b_.copy()) for W_, b_ in params]
                    nudged[layer][0 if name == "dW" else 1][index] += sign * h
                    shifted.append(loss(nudged))
                numeric = (shifted[0] - shifted[1]) / (2 * h)
                assert abs(mine[index] - numeric) < 1e-6, (
                    f"{name}{layer + 1}{list(index)}: {mine[index]} vs {numeric}"
                )
        assert np.allclose(dW, expected[layer][0]) and np.allclose(db, expected[layer][1])
    print("correct")


if __name__ == "__main__":
    check(backward)
