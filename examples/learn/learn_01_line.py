r"""
1. A line fitted by gradient descent
====================================

Fifty noisy points near the line :math:`y = 2x + 1`, and a model :math:`\hat y = wx + b`
with two parameters. Gradient descent starts at :math:`w = b = 0` and repeats one step:
compute the gradient of the loss, move a little against it. The loop below is written
with nothing but NumPy; :class:`scratchml.LinearRegression` with ``solver="gd"`` runs the
same steps and must land on the same two numbers, and the normal equations give the
exact minimum that gradient descent walks towards (:doc:`/learn/01-line`).
"""

# %%
# The data and the loss
# ---------------------
#
# The loss is half the mean squared residual,
#
# .. math::
#
#    L(w, b) = \frac{1}{2n} \sum_{s=1}^{n} (w x_s + b - y_s)^2,
#
# and its two partial derivatives are means of the residual :math:`r_s = w x_s + b - y_s`:
#
# .. math::
#
#    \frac{\partial L}{\partial w} = \frac{1}{n} \sum_s r_s x_s, \qquad
#    \frac{\partial L}{\partial b} = \frac{1}{n} \sum_s r_s .
#
# The points' :math:`x` lie in :math:`[0, 4]`, away from 0: then :math:`w` and :math:`b`
# pull against each other (a steeper line needs a lower intercept), and the loss surface
# is a long, tilted valley rather than a round bowl.

import matplotlib.pyplot as plt
import numpy as np

import scratchml as sm

X, y = sm.data.noisy_line(
    n_samples=50, slope=2.0, intercept=1.0, noise=0.5, x_range=(0.0, 4.0), seed=0, dtype="float64"
)
x = X[:, 0]
n = len(x)


def loss(w, b):
    """L(w, b): works on numbers and on grids of them alike."""
    return 0.5 * np.mean((np.expand_dims(w, -1) * x + np.expand_dims(b, -1) - y) ** 2, axis=-1)


def gradient(w, b):
    """(∂L/∂w, ∂L/∂b) at (w, b)."""
    residual = w * x + b - y
    return np.mean(residual * x), np.mean(residual)


# %%
# Gradient descent, by hand
# -------------------------
#
# :math:`\theta \leftarrow \theta - \eta\, \nabla L(\theta)` with the learning rate
# :math:`\eta = 0.25`, 100 times, keeping every point the walk passes through.

learning_rate, steps = 0.25, 100
w, b = 0.0, 0.0
visited = [(w, b)]
for _ in range(steps):
    dw, db = gradient(w, b)
    w, b = w - learning_rate * dw, b - learning_rate * db
    visited.append((w, b))
path = np.array(visited)
print(f"by hand, after {steps} steps: w = {w:.6f}, b = {b:.6f}, loss = {loss(w, b):.6f}")

# %%
# The library does the same steps
# -------------------------------
#
# ``LinearRegression(solver="gd")`` starts from zeros and takes full-batch gradient
# steps of the same loss (``tol=None``: every one of the ``epochs`` runs). The normal
# equations (``solver="normal"``, the default) solve :math:`\nabla L = 0` directly.

gd = sm.LinearRegression(solver="gd", learning_rate=learning_rate, epochs=steps, tol=None)
gd.fit(X, y)
exact = sm.LinearRegression().fit(X, y)
print(f"LinearRegression(solver='gd'): w = {gd.coef_[0]:.6f}, b = {float(gd.intercept_):.6f}")
print(f"normal equations: w = {exact.coef_[0]:.6f}, b = {float(exact.intercept_):.6f}")
assert abs(gd.coef_[0] - w) < 1e-12 and abs(gd.intercept_ - b) < 1e-12
# The library's loss history is the loss before each step: the same numbers as ours.
np.testing.assert_allclose(gd.loss_history_, loss(path[:-1, 0], path[:-1, 1]), rtol=1e-12)

# %%
# The walk on the loss surface
# ----------------------------
#
# Contours of :math:`L(w, b)` and the 100 steps. Straight downhill is mostly *across*
# the valley, where it is steep: with this step size each step overshoots the valley
# floor and lands on the other side, a little lower, so the walk zig-zags across while it
# drifts along the floor towards the minimum. The loss falls fast while the zig-zag dies
# out, then slowly along the gentle floor: the picture on the right, on a log scale, is
# the distance to the minimum's loss.

w_grid, b_grid = np.meshgrid(np.linspace(-0.5, 5.0, 200), np.linspace(-1.0, 2.5, 200))
surface = loss(w_grid, b_grid)
minimum = loss(exact.coef_[0], float(exact.intercept_))

fig, (left, middle, right) = plt.subplots(1, 3, figsize=(13, 4.2))
left.scatter(x, y, s=12, color="0.3")
line_x = np.array([0.0, 4.0])
for step, shade in ((1, "0.8"), (5, "0.6"), (20, "0.4"), (steps, "tab:red")):
    left.plot(line_x, path[step, 0] * line_x + path[step, 1], color=shade, label=f"step {step}")
left.set(xlabel="x", ylabel="y", title="the line after some steps")
left.legend(fontsize=8)
middle.contour(
    w_grid, b_grid, surface, levels=np.geomspace(minimum, surface.max(), 25), cmap="viridis"
)
middle.plot(path[:, 0], path[:, 1], ".-", color="tab:red", markersize=3, linewidth=1)
middle.plot(exact.coef_[0], exact.intercept_, "k*", markersize=12, label="minimum")
middle.set(xlabel="w", ylabel="b", title="loss surface and the walk")
middle.legend(fontsize=8)
right.semilogy(gd.loss_history_ - minimum)
right.set(xlabel="step", ylabel="L - L_min", title="distance to the minimum")
fig.tight_layout()
plt.show()

# %%
# Too large a step
# ----------------
#
# The valley is steepest across, with curvature :math:`\lambda_{\max}`, the largest
# eigenvalue of the Hessian :math:`\frac{1}{n}\sum_s [x_s, 1]^\top [x_s, 1]`. A step
# larger than :math:`2 / \lambda_{\max}` overshoots across the valley by more than it
# gained, every time: the loss grows without bound.

hessian = np.array([[np.mean(x * x), np.mean(x)], [np.mean(x), 1.0]])
largest = np.linalg.eigvalsh(hessian)[-1]
print(f"largest curvature: {largest:.4f}, so steps diverge above eta = {2 / largest:.4f}")
for eta in (0.9 * 2 / largest, 1.1 * 2 / largest):
    w, b = 0.0, 0.0
    for _ in range(50):
        dw, db = gradient(w, b)
        w, b = w - eta * dw, b - eta * db
    print(f"eta = {eta:.4f}: loss after 50 steps = {loss(w, b):.4g}")
