"""Softplus, an activation: this file is all it takes (``activation="softplus_test"``)."""

from scratchml.nn.activations import ACTIVATIONS, Activation, sigmoid


def softplus(xp, Z):
    """log(1 + eᶻ), without overflow: log(1 + e^-|z|) + max(z, 0)."""
    return xp.log1p(xp.exp(-xp.abs(Z))) + xp.maximum(Z, xp.zeros_like(Z))


# softplus' = σ; a layer feeding it is drawn with LeCun's init, its orthogonal gain 1.
ACTIVATIONS["softplus_test"] = Activation(softplus, lambda xp, Z, A: sigmoid(xp, Z), "lecun", 1.0)
