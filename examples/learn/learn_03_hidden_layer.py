r"""
3. One hidden layer
===================

Four clouds of points labelled like XOR: no line separates the two classes, so logistic
regression cannot do better than a coin toss. One hidden layer of four tanh units can:
each unit draws a line, bends the plane along it, and the output unit separates the bent
points with one line again. The fitted model keeps snapshots of its weights
(``record_every``, ``history_``), so we can watch the boundary form
(:doc:`/learn/03-hidden-layer`).
"""

# %%
# Data a line cannot separate
# ---------------------------

import copy

import matplotlib.pyplot as plt
import numpy as np

import scratchml as sm
from scratchml import viz
from scratchml.nn import activations, layers

centers = np.array([[-1.0, -1.0], [1.0, 1.0], [-1.0, 1.0], [1.0, -1.0]])
X, cloud = sm.data.blobs(400, centers=centers, cluster_std=0.45, seed=0, dtype="float64")
y = cloud // 2  # clouds 0 and 1 (the diagonal) are class 0; clouds 2 and 3 class 1

linear = sm.LogisticRegression().fit(X, y)
print(f"logistic regression, training accuracy: {linear.score(X, y):.3f}")

# %%
# A network with one hidden layer
# -------------------------------
#
# .. math::
#
#    A_1 = \tanh(X W_1 + b_1), \qquad z = A_1 W_2 + b_2, \qquad p = \sigma(z),
#
# with :math:`W_1` of shape (2, 4): four hidden units. ``record_every=10`` keeps the
# weights every 10 epochs in ``history_`` (epoch 0 is the initialisation).

clf = sm.MLPClassifier(
    hidden_layers=(4,),
    activation="tanh",
    optimizer="adam",
    learning_rate=0.05,
    epochs=200,
    tol=None,
    seed=1,
    record_every=10,
).fit(X, y)
print(f"one hidden layer of 4 tanh units, training accuracy: {clf.score(X, y):.3f}")
print(
    f"snapshots kept: {len(clf.history_)}, at epochs {clf.history_[0].epoch} to {clf.history_[-1].epoch}"
)

# %%
# The forward pass is the library's ``layers.forward``: the same function every fit
# runs. Its logits, through the sigmoid, are ``predict_proba``'s second column.
logits, caches = layers.forward(np, clf.params_, X, ["tanh"])
p = 1 / (1 + np.exp(-logits[:, 0]))
np.testing.assert_allclose(p, clf.predict_proba(X)[:, 1], rtol=1e-12)
print(f"hidden activations: shape {caches[0].A.shape}, logits: shape {logits.shape}")

# %%
# The boundary over the epochs
# ----------------------------
#
# Each panel is the model with the weights of one snapshot. The dashed lines are the
# hidden units' own lines :math:`x^\top W_1[:, j] + b_1[j] = 0`, where each unit's
# :math:`\tanh` changes sign: the boundary is made of pieces of them.


def at(snapshot):
    """The fitted model with the weights of one snapshot of ``history_``."""
    model = copy.copy(clf)
    model.params_ = snapshot.params
    return model


fig, axes = plt.subplots(2, 2, figsize=(10, 9.5))
for ax, snapshot in zip(axes.flat, [clf.history_[i] for i in (0, 2, 6, -1)], strict=True):
    model = at(snapshot)
    viz.decision_boundary(model, X, y, ax=ax, resolution=120, padding=0.4)
    (W1, b1), _ = snapshot.params
    xs = np.linspace(-2.5, 2.5, 2)
    for j in range(W1.shape[1]):
        ax.plot(xs, -(W1[0, j] * xs + b1[j]) / W1[1, j], "--", color="0.35", lw=0.8)
    ax.set(
        xlim=(X[:, 0].min() - 0.4, X[:, 0].max() + 0.4),
        ylim=(X[:, 1].min() - 0.4, X[:, 1].max() + 0.4),
    )
    ax.set_title(f"epoch {snapshot.epoch}: accuracy {model.score(X, y):.2f}", fontsize=12)
fig.tight_layout()
plt.show()

# %%
# The activations the hidden units may use
# ----------------------------------------
#
# Each activation of :mod:`scratchml.nn.activations` is a function and its derivative
# (which backpropagation multiplies by, chapter 4). tanh and the sigmoid saturate: their
# derivative vanishes for large :math:`|z|`. ReLU's does not, for :math:`z > 0`.

z = np.linspace(-4, 4, 401)
fig, (values, slopes) = plt.subplots(1, 2, figsize=(11, 3.8))
for name, style in (("tanh", "-"), ("sigmoid", "-"), ("relu", "-"), ("leaky_relu", "--")):
    activation = activations.get_activation(name)
    a = activation.forward(np, z)
    values.plot(z, a, style, label=name)
    slopes.plot(z, activation.derivative(np, z, a), style, label=name)
values.set(xlabel="z", title="act(z)", ylim=(-1.5, 4))
slopes.set(xlabel="z", title="act'(z)", ylim=(-0.1, 1.1))
for ax in (values, slopes):
    ax.axhline(0, color="0.8", lw=0.8)
    ax.legend(fontsize=9)
fig.tight_layout()
plt.show()
