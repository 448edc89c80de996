r"""
8. Regularisation and overfitting
=================================

A network with thousands of weights and a hundred noisy training points can learn the
points by heart — the noise included — and do worse on points it has not seen. We hold
out a validation set to see it happen, and add the L2 penalty
:math:`\tfrac{\lambda}{2}\sum \lVert W \rVert^2` to pull the weights towards zero. Seven
penalties train at once, as one stack (chapter 9) (:doc:`/learn/08-regularisation`).
"""

# %%
# A train/validation split
# ------------------------
#
# 600 points of two noisy spirals; the first 100 train, the other 500 only judge. (The
# points come shuffled, so the first 100 are a random sample.)

import matplotlib.pyplot as plt
import numpy as np

import scratchml as sm
from scratchml import viz
from scratchml.nn import layers, losses
from scratchml.stacks import StackedMLPClassifier

X, y = sm.data.spirals(n_samples=600, arms=2, noise=0.15, seed=3, dtype="float64")
X_train, y_train, X_valid, y_valid = X[:100], y[:100], X[100:], y[100:]
print(f"{len(X_train)} training points, {len(X_valid)} validation points")

# %%
# One network per penalty
# -----------------------
#
# A 2 → 64 → 64 → 1 ReLU network (4,353 parameters) for each :math:`\lambda` = ``l2``
# below, all from the same initial weights (seed 0), 600 full-batch epochs of Adam;
# snapshots every 20 epochs.

l2s = [0.0, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2]
stack = StackedMLPClassifier(
    n_networks=len(l2s),
    hidden_layers=(64, 64),
    activation="relu",
    optimizer="adam",
    learning_rate=0.01,
    l2=l2s,
    epochs=600,
    seed=[0] * len(l2s),
    record_every=20,
).fit(X_train, y_train)
train_accuracy, valid_accuracy = stack.score(X_train, y_train), stack.score(X_valid, y_valid)
for l2, train, valid in zip(l2s, train_accuracy, valid_accuracy, strict=True):
    print(f"l2 = {l2:<6}: training accuracy {train:.3f}, validation accuracy {valid:.3f}")
best = int(np.argmax(valid_accuracy))
print(f"best on validation: l2 = {l2s[best]}")

# %%
# Training and validation loss over the epochs
# --------------------------------------------
#
# From each snapshot, the data loss (without the penalty) on both sets: the stack's
# forward pass gives every network's logits at once. Without a penalty the training
# loss keeps falling towards zero while the validation loss turns and climbs: from
# there on the network learns the noise. With the best penalty both level off.

Y_train = np.reshape(y_train, (-1, 1)).astype(X.dtype)
Y_valid = np.reshape(y_valid, (-1, 1)).astype(X.dtype)


def data_loss(params, X_, Y_):
    logits, _ = layers.forward(np, params, X_, ["relu", "relu"])
    return losses.binary_cross_entropy(np, logits, Y_)  # one loss per network: (M,)


epochs = [snapshot.epoch for snapshot in stack.history_]
train_curve = np.array([data_loss(s.params, X_train, Y_train) for s in stack.history_])
valid_curve = np.array([data_loss(s.params, X_valid, Y_valid) for s in stack.history_])
print(
    f"l2 = 0: validation loss lowest at epoch {epochs[int(np.argmin(valid_curve[:, 0]))]}, "
    f"{valid_curve[:, 0].min():.3f}; at the end {valid_curve[-1, 0]:.3f}"
)

fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4))
for index, color in ((0, "tab:red"), (best, "tab:blue")):
    left.plot(
        epochs, train_curve[:, index], "--", color=color, label=f"training, l2 = {l2s[index]}"
    )
    left.plot(
        epochs, valid_curve[:, index], "-", color=color, label=f"validation, l2 = {l2s[index]}"
    )
left.set(xlabel="epoch", ylabel="cross-entropy", yscale="log", title="loss over the epochs")
left.legend(fontsize=8)
positions = np.arange(len(l2s))
right.plot(positions, train_accuracy, "o--", label="training")
right.plot(positions, valid_accuracy, "o-", label="validation")
right.set_xticks(positions, [str(l2) for l2 in l2s])
right.set(xlabel="l2", ylabel="accuracy", title="accuracy after 600 epochs")
right.legend()
fig.tight_layout()
plt.show()

# %%
# What the penalty changes
# ------------------------
#
# The boundaries of no penalty and of the best one, over the validation points.
# Without a penalty the boundary wraps around single noisy training points; the
# penalty smooths it. (With the largest, 0.03, the weights cannot grow enough to follow
# the spiral at all: 0.55 on validation, above.) The circled points are the training set; ``stack.model(i)`` is network ``i`` of the
# stack as a fitted :class:`scratchml.MLPClassifier`.

fig, axes = plt.subplots(1, 2, figsize=(12, 6))
for ax, index in zip(axes, (0, best), strict=True):
    model = stack.model(index)
    viz.decision_boundary(model, X_valid, y_valid, ax=ax, resolution=120)
    ax.scatter(X_train[:, 0], X_train[:, 1], s=30, facecolor="none", edgecolor="k", lw=0.8)
    ax.set_title(f"l2 = {l2s[index]}: validation accuracy {valid_accuracy[index]:.2f}", fontsize=12)
fig.tight_layout()
plt.show()
