"""Exercise 5: one epoch of mini-batch SGD.

Write ``sgd_epoch``: go through the samples in the order ``order``, in batches of
``batch_size`` rows (the last one may be smaller), and after each batch move every
parameter against its gradient, W ← W − η·dW, b ← b − η·db. The gradients of a batch
come from the library's ``scratchml.nn.layers.loss_and_gradients`` (a tanh hidden layer,
the binary cross-entropy). Run this file: ``check`` compares your weights with those of
``scratchml.MLPClassifier`` trained for one epoch from the same weights.
"""

import numpy as np

import scratchml as sm
from scratchml.nn import init, layers


def sgd_epoch(params, X, Y, order, batch_size, learning_rate):
    """The parameters after one epoch: a new list of (W, b)."""
    raise NotImplementedError("write one epoch of mini-batch SGD")


def check(sgd_epoch):
    X, y = sm.data.spirals(n_samples=100, seed=0, dtype="float64")
    Y = y.reshape(-1, 1).astype(float)
    params = init.init_params([2, 8, 1], ["tanh", "identity"], "auto", 0, like=X)
    seed, batch_size, learning_rate = 3, 16, 0.5
    order = np.random.default_rng(seed).permutation(len(X))  # what fit draws first
    yours = sgd_epoch(
        [(W.copy(), b.copy()) for W, b in params], X, Y, order, batch_size, learning_rate
    )
    clf = sm.MLPClassifier(
        hidden_layers=(8,), activation="tanh", optimizer="sgd", learning_rate=learning_rate,
        batch_size=batch_size, epochs=1, tol=None, seed=seed, init=params,
    ).fit(X, y)  # fmt: skip
    for layer, ((W, b), (W_fit, b_fit)) in enumerate(zip(yours, clf.params_, strict=True)):
        assert np.allclose(W, W_fit, rtol=1e-10, atol=1e-12), f"W{layer + 1} differs from fit's"
        assert np.allclose(b, b_fit, rtol=1e-10, atol=1e-12), f"b{layer + 1} differs from fit's"
    assert not np.allclose(yours[0][0], params[0][0]), "the weights did not move"
    _ = layers  # your code may use layers.loss_and_gradients
    print("correct")


if __name__ == "__main__":
    check(sgd_epoch)
