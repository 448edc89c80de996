r"""
7. Initialisation and depth: why 2-wide tanh towers train or die
================================================================

A tower of ten hidden layers, each two tanh units wide, can separate two spirals (the
picture on the home page is one). Whether it learns depends on its first weights: from
the usual Gaussian draw most towers stall, from orthogonal weights many learn. The
reason is how a signal, and its gradient, survive ten layers
(:doc:`/learn/07-init-depth`).
"""

# %%
# The signal through ten layers, at initialisation
# ------------------------------------------------
#
# LeCun's draw, :math:`W \sim \mathcal N(0, 1/n_{\text{in}})`, keeps the variance of
# :math:`Z = A W` equal to that of :math:`A` — before the tanh, which shrinks it again,
# layer after layer. With only two units the draw is also very uneven: a random 2 × 2
# matrix is often nearly singular, and squashes the plane onto a line that no later
# layer can unfold. Orthogonal weights (a rotation or reflection) times tanh's gain
# 5/3 keep both directions, at a scale tanh does not shrink.
#
# Below, for 64 towers of each kind: the spread of the points (the smaller singular
# value of the centred activations, how "two-dimensional" they still are) after each
# layer, and the size of each layer's weight gradient. The LeCun towers lose about a
# factor 2.5 of spread per layer: after ten layers the points lie on a line, to four
# digits, and the gradients are ten times smaller in every layer than the orthogonal
# towers'. The orthogonal towers keep the plane two-dimensional all the way up, and
# their gradients reach the first layer at the size they have near the top.

import matplotlib.pyplot as plt
import numpy as np

import scratchml as sm
from scratchml import viz
from scratchml.nn import init, layers
from scratchml.stacks import StackedMLPClassifier

X, y = sm.data.spirals(n_samples=300, arms=2, noise=0.03, seed=0, dtype="float64")
Y = np.reshape(y, (-1, 1)).astype(X.dtype)
depth, towers = 10, 64
sizes, acts = [2] + [2] * depth + [1], ["tanh"] * depth


def at_initialisation(kind):
    """Spread of the signal and gradient size per layer for ``towers`` towers."""
    params = init.init_params(sizes, [*acts, "identity"], kind, 0, like=X, n_networks=towers)
    _, caches = layers.forward(np, params, X, acts)
    centred = [cache.A - cache.A.mean(axis=-2, keepdims=True) for cache in caches[:-1]]
    spread = np.array([np.linalg.svd(A, compute_uv=False)[:, -1] for A in centred]) / np.sqrt(
        len(X)
    )
    _, grads = layers.loss_and_gradients(np, params, X, Y, acts, "binary_cross_entropy")
    sizes_ = np.array([np.linalg.norm(dW, axis=(-2, -1)) for dW, _ in grads])
    return np.median(spread, axis=1), np.median(sizes_, axis=1)


kinds = {"lecun": "LeCun, N(0, 1/fan_in)", "orthogonal": "orthogonal × 5/3"}
measured = {kind: at_initialisation(kind) for kind in kinds}
for kind, (spread, grad) in measured.items():
    print(
        f"{kind:10s} median spread after layer 10: {spread[-1]:.2e}, "
        f"median gradient size in layer 1: {grad[0]:.2e}"
    )

fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4))
for kind, (spread, grad) in measured.items():
    left.semilogy(range(1, depth + 1), spread, "o-", label=kinds[kind])
    right.semilogy(range(1, depth + 2), grad, "o-", label=kinds[kind])
left.set(
    xlabel="layer",
    ylabel="smaller singular value / sqrt(n)",
    title="how 2-D the signal stays (median)",
)
right.set(xlabel="layer", ylabel="||dW||", title="gradient size per layer at the start (median)")
for ax in (left, right):
    ax.legend()
fig.tight_layout()
plt.show()

# %%
# Training: eight towers of each kind, at once
# --------------------------------------------
#
# A :class:`scratchml.stacks.StackedMLPClassifier` trains eight towers side by side
# (chapter 9), the seeds 0–7, with Adam and a little L2, for 1200 full-batch epochs.

fits = {}
for kind in kinds:
    fits[kind] = StackedMLPClassifier(
        n_networks=8,
        hidden_layers=(2,) * depth,
        activation="tanh",
        optimizer="adam",
        learning_rate=0.02,
        l2=1e-4,
        epochs=1200,
        seed=list(range(8)),
        init=kind,
    ).fit(X, y)
    accuracies = fits[kind].score(X, y)
    print(
        f"{kind:10s} training accuracies: {' '.join(f'{a:.2f}' for a in accuracies)}; "
        f"above 0.95: {int(np.sum(accuracies > 0.95))} of 8"
    )

# %%
# The loss of every tower over the epochs. The LeCun towers sit on a plateau (the
# points of both arms squashed together give nothing to separate); the orthogonal
# towers get lower, and two of them find their way down to a loss near zero.

fig, ax = plt.subplots(figsize=(9, 4))
for (kind, fit), color in zip(fits.items(), ("tab:blue", "tab:orange"), strict=True):
    lines = ax.semilogy(fit.loss_history_, color=color, lw=1)
    lines[0].set_label(kinds[kind])
ax.set(xlabel="epoch", ylabel="training loss", title="eight towers of each kind")
ax.legend()
fig.tight_layout()
plt.show()

# %%
# The best tower of each kind. Even the best LeCun tower has found only a rough split;
# the orthogonal one has bent the plane, layer by layer, until one line separates the
# arms.

fig, axes = plt.subplots(1, 2, figsize=(11, 4.6))
for ax, (kind, fit) in zip(axes, fits.items(), strict=True):
    best = fit.model(int(np.argmax(fit.score(X, y))))
    viz.decision_boundary(best, X, y, ax=ax, resolution=120)
    ax.set_title(f"{kinds[kind]}: accuracy {best.score(X, y):.2f}", fontsize=10)
fig.tight_layout()
plt.show()
