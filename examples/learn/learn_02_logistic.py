r"""
2. Logistic regression and Newton's method
==========================================

Two overlapping clouds of points, two classes, and a model that gives each point a
probability, :math:`p = \sigma(w^\top x + b)`. Gradient descent on the cross-entropy
works as for the line, but slowly; Newton's method, which also uses the curvature, gets
to the minimum in a handful of steps. Both are written here with NumPy alone and checked
against :class:`scratchml.LogisticRegression` (:doc:`/learn/02-logistic`).
"""

# %%
# The data, the model and the loss
# --------------------------------
#
# With :math:`\tilde x = [x, 1]` and :math:`\theta = [w; b]`, the logit is
# :math:`z = \tilde x^\top \theta`, the probability :math:`p = \sigma(z)`, and the loss the
# mean cross-entropy
#
# .. math::
#
#    L(\theta) = \frac{1}{n} \sum_s \bigl[-y_s \log p_s - (1 - y_s) \log (1 - p_s)\bigr],
#    \qquad
#    \nabla L = \frac{1}{n} \tilde X^\top (p - y), \qquad
#    H = \frac{1}{n} \tilde X^\top \operatorname{diag}\bigl(p (1 - p)\bigr) \tilde X .

import matplotlib.pyplot as plt
import numpy as np

import scratchml as sm

X, y = sm.data.blobs(
    200, centers=np.array([[-1.0, -0.5], [1.0, 0.5]]), cluster_std=1.0, seed=0, dtype="float64"
)
X1 = np.hstack([X, np.ones((len(X), 1))])  # the column of ones carries the intercept b
n = len(X)


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def loss(theta):
    """The mean cross-entropy; theta may carry leading axes (a grid of parameters)."""
    z = np.einsum("...j,sj->...s", theta, X1)
    return np.mean(np.logaddexp(0, z) - y * z, axis=-1)  # softplus(z) - y z, stably


def gradient(theta):
    return X1.T @ (sigmoid(X1 @ theta) - y) / n


def hessian(theta):
    p = sigmoid(X1 @ theta)
    return X1.T @ (X1 * (p * (1 - p))[:, None]) / n


# %%
# Gradient descent and Newton, from zero
# --------------------------------------
#
# Gradient descent: :math:`\theta \leftarrow \theta - \eta \nabla L`, here 100 steps of
# :math:`\eta = 1`. Newton: :math:`\theta \leftarrow \theta - H^{-1} \nabla L`, the step
# to the minimum of the quadratic that matches :math:`L`'s value, slope and curvature
# at :math:`\theta`.

theta = np.zeros(3)
gd_points = [theta]
for _ in range(100):
    theta = theta - 1.0 * gradient(theta)
    gd_points.append(theta)
gd_path = np.array(gd_points)

theta = np.zeros(3)
newton_points = [theta]
for _ in range(6):
    theta = theta - np.linalg.solve(hessian(theta), gradient(theta))
    newton_points.append(theta)
newton_path = np.array(newton_points)
for step, point in enumerate(newton_path):
    print(f"Newton step {step}: loss = {loss(point):.12f}")
print(f"gradient descent, 100 steps: loss = {loss(gd_path[-1]):.12f}")

# %%
# The library: the same numbers
# -----------------------------
#
# ``LogisticRegression()`` runs Newton's method (with a line search that is not needed
# here: the full step is always accepted); ``solver="gd"`` runs our gradient descent.

newton = sm.LogisticRegression().fit(X, y)
library_theta = np.append(newton.coef_.ravel(), newton.intercept_)
print(
    "LogisticRegression(): w =",
    np.round(newton.coef_.ravel(), 6),
    "b =",
    np.round(newton.intercept_, 6),
)
np.testing.assert_allclose(library_theta, newton_path[-1], rtol=1e-8)
gd = sm.LogisticRegression(solver="gd", learning_rate=1.0, epochs=100, tol=None).fit(X, y)
np.testing.assert_allclose(np.append(gd.coef_.ravel(), gd.intercept_), gd_path[-1], rtol=1e-10)
print("both agree with the loops above")

# %%
# The loss surface, seen from above
# ---------------------------------
#
# The loss over the two weights, with the intercept held at its optimum, and the paths
# of both methods (drawn in the same plane). Both head the same way; Newton covers the
# distance in a few long steps, each sized by the curvature it measured, while gradient
# descent's steps shrink with the slope and it creeps for the rest. The boundary
# :math:`p = 0.5` is the line :math:`w^\top x + b = 0`.

best = newton_path[-1]
w1, w2 = np.meshgrid(np.linspace(-0.5, 3.5, 120), np.linspace(-0.5, 3.0, 120))
grid = np.stack([w1, w2, np.full_like(w1, best[2])], axis=-1)
surface = loss(grid)

fig, (left, middle, right) = plt.subplots(1, 3, figsize=(13, 4.2))
left.scatter(X[:, 0], X[:, 1], c=y, cmap="coolwarm", s=12, edgecolor="k", linewidth=0.3)
xs = np.array([X[:, 0].min(), X[:, 0].max()])
for theta, label, style in (
    (gd_path[5], "gradient descent, 5 steps", "--"),
    (gd_path[-1], "gradient descent, 100 steps", "-"),
    (best, "Newton, 6 steps", ":"),
):
    left.plot(xs, -(theta[0] * xs + theta[2]) / theta[1], style, color="k", label=label)
left.set(xlabel="$x_1$", ylabel="$x_2$", ylim=(X[:, 1].min(), X[:, 1].max()), title="boundaries")
left.legend(fontsize=8)
middle.contour(w1, w2, surface, levels=30, cmap="viridis")
middle.plot(
    gd_path[:, 0], gd_path[:, 1], ".-", color="tab:red", ms=3, lw=1, label="gradient descent"
)
middle.plot(newton_path[:, 0], newton_path[:, 1], "o-", color="k", ms=4, lw=1, label="Newton")
middle.set(xlabel="$w_1$", ylabel="$w_2$", title="loss over the weights")
middle.legend(fontsize=8)
minimum = loss(best)
right.semilogy(loss(gd_path) - minimum + 1e-17, label="gradient descent")
right.semilogy(loss(newton_path) - minimum + 1e-17, "o-", color="k", label="Newton")
right.set(xlabel="step", ylabel="L - L_min", ylim=(1e-17, 1), title="distance to the minimum")
right.legend(fontsize=8)
fig.tight_layout()
plt.show()

# %%
# Near the minimum Newton's error is squared at each step (quadratic convergence): 6
# steps reach the last digits of float64, where gradient descent's loss, after 100
# steps, is still about :math:`10^{-7}` above the minimum.
errors = [float(np.max(np.abs(point - best))) for point in newton_path[:6]]
print("Newton's distance to the minimum per step:", " ".join(f"{e:.1e}" for e in errors))
