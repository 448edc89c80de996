r"""
6. Optimizers: SGD, momentum, Adam
==================================

Every optimizer starts from :math:`\theta \leftarrow \theta - \eta g` and changes what
:math:`g` is replaced by. First the three of :mod:`scratchml.nn.optimizers` walk a
two-parameter valley, where each path can be seen; then they train the same network
from the same initial weights (:doc:`/learn/06-optimizers`).
"""

# %%
# A narrow valley
# ---------------
#
# :math:`f(\theta) = \tfrac12 (\theta_1^2 + 25\, \theta_2^2)`: 25 times steeper across
# (:math:`\theta_2`) than along (:math:`\theta_1`). Its gradient is
# :math:`(\theta_1, 25\, \theta_2)`. The library's optimizers take any flat vector
# :math:`\theta`: here one of two numbers.

import matplotlib.pyplot as plt
import numpy as np

import scratchml as sm
from scratchml import viz
from scratchml.nn import init, optimizers

curvature = np.array([1.0, 25.0])


def f(theta):
    return 0.5 * np.sum(curvature * theta**2, axis=-1)


def walk(optimizer, steps=60, start=(-4.0, 1.0)):
    """The points an optimizer visits from ``start``, using its own init and step."""
    theta = np.array(start)
    state = optimizer.init(np, theta)
    path = [theta]
    for _ in range(steps):
        theta, state = optimizer.step(np, theta, curvature * theta, state)
        path.append(theta)
    return np.array(path)


walkers = {
    "SGD, eta 0.07": optimizers.SGD(0.07),
    "momentum 0.7, eta 0.05": optimizers.Momentum(0.05, momentum=0.7),
    "Adam, eta 0.3": optimizers.Adam(0.3),
}
paths = {name: walk(optimizer) for name, optimizer in walkers.items()}
for name, path in paths.items():
    print(f"{name}: f after 60 steps = {f(path[-1]):.3e}")

# %%
# SGD's step along the valley is :math:`\eta \theta_1`, small, and it cannot take a
# larger :math:`\eta`: across, a step above :math:`2/25` overshoots more than it gains
# (chapter 1). Momentum accumulates the steps that keep pointing the same way (along the
# valley) while those that alternate (across it) cancel out: it ends many orders of
# magnitude lower. Adam divides each coordinate's step by the root mean square of its
# recent gradients, so both coordinates move at about :math:`\eta` per step whatever
# their slope: it heads for the minimum on a straight diagonal, then circles around it
# while its averages settle. On a plain quadratic that is no better than SGD; its strength
# is in networks, where the gradients of different weights differ by orders of magnitude.

t1, t2 = np.meshgrid(np.linspace(-4.5, 1.5, 200), np.linspace(-1.5, 1.5, 200))
fig, axes = plt.subplots(1, 2, figsize=(13, 4.3), gridspec_kw={"width_ratios": [1.6, 1]})
axes[0].contour(
    t1, t2, f(np.stack([t1, t2], axis=-1)), levels=np.geomspace(0.01, 40, 14), cmap="viridis"
)
for name, path in paths.items():
    axes[0].plot(path[:, 0], path[:, 1], ".-", ms=3, lw=1, label=name)
    axes[1].semilogy(f(path), label=name)
axes[0].plot(0, 0, "k*", ms=12)
axes[0].set(xlabel=r"$\theta_1$", ylabel=r"$\theta_2$", title="paths on f", aspect="equal")
axes[0].legend(fontsize=10, loc="lower right")
axes[1].set(xlabel="step", ylabel=r"$f(\theta)$", title="loss per step")
axes[1].legend(fontsize=10)
fig.tight_layout()
plt.show()

# %%
# The same network, the same weights
# ----------------------------------
#
# Three spirals, a 2 → 32 → 32 → 3 tanh network, full-batch training. ``init=`` hands
# each fit the same initial weights, so the only difference is the optimizer. SGD's
# learning rate 0.5 and momentum's 0.05 with :math:`\mu = 0.9` make the same step
# :math:`\eta / (1 - \mu) = 0.5` once the velocity has built up along a steady slope.

X, y = sm.data.spirals(n_samples=450, arms=3, noise=0.05, seed=0, dtype="float64")
weights = init.init_params([2, 32, 32, 3], ["tanh", "tanh", "identity"], "auto", 0, like=X)
settings = {"sgd": 0.5, "momentum": 0.05, "adam": 0.01}
fits = {}
for name, learning_rate in settings.items():
    fits[name] = sm.MLPClassifier(
        hidden_layers=(32, 32),
        activation="tanh",
        optimizer=name,
        learning_rate=learning_rate,
        epochs=300,
        tol=None,
        init=weights,
    ).fit(X, y)
    print(
        f"{name:9s} learning rate {learning_rate}: final loss {fits[name].loss_history_[-1]:.4f}, "
        f"training accuracy {fits[name].score(X, y):.3f}"
    )
    assert fits[name].loss_history_[0] == fits["sgd"].loss_history_[0]  # the same start

fig, axes = plt.subplots(2, 2, figsize=(10, 9))
axes = axes.flat
for name, fit in fits.items():
    axes[0].semilogy(fit.loss_history_, label=name)
axes[0].set(xlabel="epoch", ylabel="loss", title="loss per epoch")
axes[0].legend()
for ax, (name, fit) in zip(axes[1:], fits.items(), strict=True):
    viz.decision_boundary(fit, X, y, ax=ax, resolution=100)
    ax.set_title(f"{name}: accuracy {fit.score(X, y):.2f}", fontsize=12)
    ax.legend().remove()
fig.tight_layout()
plt.show()
