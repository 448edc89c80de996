r"""
9. Many networks at once: stacks and a small sweep
==================================================

Which learning rate? Which seed? Which depth and width? Small networks answer such
questions cheaply if many of them train at once. A stack gives every weight array a
leading model axis :math:`M`, ``W`` of shape ``(M, n_in, n_out)``, and runs the same
layer math (chapter 4) on all :math:`M` networks in one pass; a sweep cuts a grid of
settings into such stacks (:doc:`/learn/09-stacks`).
"""

# %%
# Twelve networks, one fit
# ------------------------
#
# Four learning rates × three seeds of a 2 → 16 → 16 → 1 tanh network on two spirals,
# as one :class:`scratchml.stacks.StackedMLPClassifier`: ``learning_rate`` and ``seed``
# take one value per network.

import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import scratchml as sm
from scratchml import sweep
from scratchml.nn import layers
from scratchml.stacks import StackedMLPClassifier

X, y = sm.data.spirals(n_samples=400, arms=2, noise=0.05, seed=0, dtype="float64")
rates, seeds = [0.001, 0.003, 0.01, 0.03], [0, 1, 2]
grid = [(rate, seed) for rate in rates for seed in seeds]
stack = StackedMLPClassifier(
    n_networks=len(grid),
    hidden_layers=(16, 16),
    activation="tanh",
    optimizer="adam",
    learning_rate=[rate for rate, _ in grid],
    seed=[seed for _, seed in grid],
    epochs=300,
).fit(X, y)
W1 = stack.params_[0][0]
print(f"first layer's weights: shape {W1.shape}; loss history: shape {stack.loss_history_.shape}")
for rate in rates:
    scores = [stack.score(X, y)[i] for i, (r, _) in enumerate(grid) if r == rate]
    print(f"learning rate {rate}: training accuracy {' '.join(f'{s:.3f}' for s in scores)}")

# %%
# One forward pass for all of them: the same ``layers.forward`` as for one network,
# with parameters that carry the model axis, gives logits of shape ``(M, n, 1)``.
logits, _ = layers.forward(np, stack.params_, X, ["tanh", "tanh"])
print(f"logits of all networks at once: shape {logits.shape}")

# %%
# Network ``i`` of the stack is the network :class:`scratchml.MLPClassifier` fits alone
# with the same settings; ``stack.model(i)`` hands it out as one.
i = grid.index((0.01, 1))
alone = sm.MLPClassifier(
    hidden_layers=(16, 16), activation="tanh", learning_rate=0.01, seed=1, epochs=300, tol=None
).fit(X, y)
largest = max(
    float(np.max(np.abs(a - b)))
    for layer, layer_alone in zip(stack.model(i).params_, alone.params_, strict=True)
    for a, b in zip(layer, layer_alone, strict=True)
)
print(
    f"network {i} of the stack vs fitted alone: weights agree to {'1e-9' if largest < 1e-9 else largest}"
)
assert largest < 1e-9

fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4))
colors = plt.cm.viridis(np.linspace(0, 0.9, len(rates)))
for index, (rate, seed) in enumerate(grid):
    color = colors[rates.index(rate)]
    left.semilogy(
        stack.loss_history_[:, index], color=color, lw=1, label=f"lr {rate}" if seed == 0 else None
    )
    right.plot(rate, stack.loss_history_[-1, index], "o", color=color)
left.set(xlabel="epoch", ylabel="training loss", title="twelve networks, one fit")
left.legend()
right.set(
    xscale="log",
    yscale="log",
    xlabel="learning rate",
    ylabel="final loss",
    title="final loss, three seeds per rate",
)
fig.tight_layout()
plt.show()

# %%
# A small sweep
# -------------
#
# :func:`scratchml.sweep.run` takes a grid — here depth × width, three seeds each, 18
# networks — groups the networks of one shape into stacks, trains them, and writes one
# row per network to ``results.csv``, a summary and pictures (:doc:`/guide/sweeps`). A
# network's numbers depend only on its own settings, never on its stack-mates.

out = Path(tempfile.mkdtemp()) / "sweep"
sweep_grid = {"depth": [1, 2, 3], "width": [4, 16], "learning_rate": [0.03], "seeds": 3}
result = sweep.run(sweep_grid, out=out, epochs=200, progress=False)
print(f"{result.n_trained} networks trained")
configs = sweep.load(out).configs
rows = configs.to_dict("records") if hasattr(configs, "to_dict") else configs
for row in rows:
    print(
        f"depth {row['depth']}, width {row['width']:2d}: mean test accuracy {row['mean_test_accuracy']:.3f}"
    )

# %%
# The sweep's heatmap (the PNG it wrote, its white margin cut off).
image = plt.imread(result.heatmap)
ink = np.argwhere((image[..., :3] < 0.98).any(axis=-1))
(top, left_), (bottom, right_) = ink.min(axis=0), ink.max(axis=0) + 1
fig, ax = plt.subplots(figsize=(8, 5.5))
ax.imshow(image[top:bottom, left_:right_])
ax.axis("off")
fig.tight_layout()
plt.show()
