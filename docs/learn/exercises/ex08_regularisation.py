"""Exercise 8: the L2 penalty and its gradient.

The objective adds (λ/2)·Σ_layers ‖W‖² (the biases are not penalised). Write
``l2_term``: the penalty, and its gradients shaped like ``params`` (those of the biases
are zero). Run this file: ``check`` compares them with the library's
``scratchml.nn.layers.l2_penalty`` and ``add_l2``, and with finite differences.
"""

import numpy as np

from scratchml.nn import layers


def l2_term(params, l2):
    """(penalty, [(dW, db), ...])."""
    raise NotImplementedError("write the penalty and its gradient")


def check(l2_term):
    rng = np.random.default_rng(0)
    params = [
        (rng.normal(size=(3, 4)), rng.normal(size=4)),
        (rng.normal(size=(4, 2)), rng.normal(size=2)),
    ]
    l2 = 0.01
    penalty, grads = l2_term(params, l2)
    assert np.isclose(penalty, layers.l2_penalty(np, params, l2)), f"penalty {penalty}"
    zeros = [(np.zeros_like(W), np.zeros_like(b)) for W, b in params]
    _, expected = layers.add_l2(np, params, 0.0, zeros, l2)
    for (dW, db), (dW_lib, db_lib) in zip(grads, expected, strict=True):
        assert np.allclose(dW, dW_lib) and np.allclose(db, db_lib), "gradients differ from add_l2's"
    h, (W, b) = 1e-6, params[0]
    nudged = [(W + h * np.eye(3, 4), b), params[1]]
    numeric = (l2_term(nudged, l2)[0] - penalty) / h
    assert abs(numeric - np.sum(grads[0][0] * np.eye(3, 4))) < 1e-5
    print("correct")


if __name__ == "__main__":
    check(l2_term)
