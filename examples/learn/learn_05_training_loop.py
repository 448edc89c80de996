r"""
5. The training loop
====================

``fit`` is a loop: draw the initial weights, then, epoch after epoch, shuffle the
samples, cut them into mini-batches, and for each batch compute the loss and its
gradients (chapter 4) and let the optimizer take a step. Here that loop is written
out from the library's public math — :mod:`scratchml.nn.init`, :mod:`scratchml.nn.layers`,
:mod:`scratchml.nn.parameters`, :mod:`scratchml.nn.optimizers` — and it lands on the
same weights as :meth:`scratchml.MLPClassifier.fit` (:doc:`/learn/05-training-loop`).
"""

# %%
# The model ``fit`` trains
# ------------------------

import matplotlib.pyplot as plt
import numpy as np

import scratchml as sm
from scratchml import speed
from scratchml.nn import init, layers, optimizers, parameters

X, y = sm.data.spirals(n_samples=300, arms=2, noise=0.05, seed=0, dtype="float64")
hidden, seed, epochs, batch_size, learning_rate = (16, 16), 0, 60, 32, 0.01

clf = sm.MLPClassifier(
    hidden_layers=hidden,
    activation="tanh",
    optimizer="adam",
    learning_rate=learning_rate,
    epochs=epochs,
    batch_size=batch_size,
    tol=None,
    seed=seed,
).fit(X, y)
print(f"fit: training accuracy {clf.score(X, y):.3f}, final epoch loss {clf.loss_history_[-1]:.6f}")

# %%
# The same loop, written out
# --------------------------
#
# One random generator, seeded once, draws the initial weights and then each epoch's
# shuffle, in that order. Two classes train one logit with the binary cross-entropy,
# the labels as a column of 0s and 1s. The optimizer works on all parameters at once
# as one flat vector :math:`\theta`; ``layout.views`` gives the layers their
# :math:`(W, b)` back, and ``layout.flatten`` lays the gradients out like
# :math:`\theta`. The epoch's loss is the mean of its batches' losses, weighted by
# their sizes.

activations = ["tanh"] * len(hidden)
rng = np.random.default_rng(seed)
params = init.init_params([2, *hidden, 1], [*activations, "identity"], "auto", rng, like=X)
Y = np.reshape(y, (-1, 1)).astype(X.dtype)
layout = parameters.ParameterLayout.of(params)
theta = layout.flatten(np, params)
optimizer = optimizers.Adam(learning_rate)
state = optimizer.init(np, theta)
n = len(X)
loss_history, sizes_per_step = [], []
for _ in range(epochs):
    order = rng.permutation(n)
    total = 0.0
    for start in range(0, n, batch_size):
        rows = order[start : start + batch_size]
        loss, grads = layers.loss_and_gradients(
            np, layout.views(np, theta), X[rows], Y[rows], activations, "binary_cross_entropy"
        )
        theta, state = optimizer.step(np, theta, layout.flatten(np, grads), state)
        total += float(loss) * len(rows)
        sizes_per_step.append([float(np.linalg.norm(dW)) for dW, _ in grads])
    loss_history.append(total / n)
mine = layout.views(np, theta)

# %%
# The same weights
# ----------------
#
# On NumPy, ``fit`` runs the same formulas with faster kernels (results written into
# reused memory, and so on), which can round the last bit differently; inside
# :func:`scratchml.speed.reference_only` it runs the plain forms, the very functions
# called above, and the weights agree bit for bit.

largest = max(
    float(np.max(np.abs(a - b)))
    for (W, b_), (W_fit, b_fit) in zip(mine, clf.params_, strict=True)
    for a, b in ((W, W_fit), (b_, b_fit))
)
print(f"largest difference from fit's weights: {'below 1e-12' if largest < 1e-12 else largest}")
assert largest < 1e-12
np.testing.assert_allclose(loss_history, clf.loss_history_, rtol=1e-12)
with speed.reference_only():
    plain = sm.MLPClassifier(**clf.get_params()).fit(X, y)
assert all(
    np.array_equal(a, b)
    for layer, layer_fit in zip(mine, plain.params_, strict=True)
    for a, b in zip(layer, layer_fit, strict=True)
)
assert loss_history == plain.loss_history_
print("inside speed.reference_only(): the same weights, bit for bit")

# %%
# What the loop saw
# -----------------
#
# Left: the loss of every epoch (ours and ``fit``'s are the same numbers). Right: the
# size :math:`\lVert dW \rVert` of each layer's weight gradient at every step (faint)
# and its mean over each epoch. Each batch is a different sample of the data, so the
# gradients are noisy from step to step. Around epoch 20 the hidden layers' gradients
# grow as the network starts to bend the plane around the spiral and the loss drops
# fastest; the output layer's shrink as its predictions get right.

gradient_sizes = np.array(sizes_per_step)
steps_per_epoch = len(gradient_sizes) // epochs
fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4))
left.plot(range(1, epochs + 1), loss_history, "o", ms=4, label="our loop")
left.plot(range(1, epochs + 1), clf.loss_history_, "-", label="fit's loss_history_")
left.set(xlabel="epoch", ylabel="loss", yscale="log", title="loss per epoch")
left.legend()
step = np.arange(len(gradient_sizes)) / steps_per_epoch
per_epoch = gradient_sizes[: epochs * steps_per_epoch].reshape(epochs, steps_per_epoch, -1)
for layer in range(gradient_sizes.shape[1]):
    (line,) = right.plot(step, gradient_sizes[:, layer], lw=0.5, alpha=0.35)
    right.plot(
        np.arange(epochs) + 0.5,
        per_epoch[:, :, layer].mean(axis=1),
        color=line.get_color(),
        lw=2,
        label=f"layer {layer + 1}",
    )
right.set(xlabel="epoch", ylabel="||dW||", yscale="log", title="gradient size per layer")
right.legend()
fig.tight_layout()
plt.show()
