r"""
4. Backpropagation by hand
==========================

A 2 → 3 → 1 network (tanh hidden layer, sigmoid output, binary cross-entropy) on
four samples, taken through one forward pass and one backward pass with nothing but
NumPy and the chain rule. Every gradient is derived, checked against finite
differences and against what scratchml's :meth:`~scratchml.MLPClassifier.gradients`
computes; then one SGD step and one Adam step are taken by hand and compared with the
library's own steps from the same weights.

Every check is an ``assert``: the script stops with an error if a number disagrees
(:doc:`/learn/04-backprop`).
"""

# %%
# The computation graph
# ---------------------
#
# The forward pass (black) computes each box from the ones on its left; the backward
# pass (red) runs the chain rule from right to left, and each box hands the box before
# it the gradient of the loss with respect to its input. The parameters' gradients
# branch off on the way.

import matplotlib.pyplot as plt
import numpy as np

import scratchml as sm
from scratchml.nn import losses


# sphinx_gallery_start_ignore
def draw_graph():
    """The 2 → 3 → 1 network's forward and backward pass, as boxes and arrows."""
    fig, ax = plt.subplots(figsize=(11, 4.6))
    ax.set(xlim=(-0.6, 10.6), ylim=(-2.3, 2.6))
    ax.axis("off")
    box = {"boxstyle": "round,pad=0.35", "facecolor": "#eef3fb", "edgecolor": "#3465a4"}
    param = {"boxstyle": "round,pad=0.3", "facecolor": "#fdf6e3", "edgecolor": "#b58900"}
    chain = [
        (0.0, "$X$\n(4, 2)"),
        (2.5, "$Z_1 = X W_1 + b_1$\n(4, 3)"),
        (5.0, "$A_1 = \\tanh(Z_1)$\n(4, 3)"),
        (7.5, "$z = A_1 W_2 + b_2$\n(4, 1)"),
        (10.0, "$L = \\mathrm{mean\\ BCE}(z, y)$"),
    ]
    for x, text in chain:
        ax.text(x, 0, text, ha="center", va="center", bbox=box, fontsize=13)
    for x, text in ((2.5, "$W_1$ (2, 3), $b_1$ (3,)"), (7.5, "$W_2$ (3, 1), $b_2$ (1,)")):
        ax.text(x, 1.9, text, ha="center", va="center", bbox=param, fontsize=12)
        ax.annotate("", (x, 0.45), (x, 1.55), arrowprops={"arrowstyle": "->", "lw": 1.4})
        ax.annotate(
            "",
            (x + 0.5, 1.55),
            (x + 0.5, 0.45),
            arrowprops={"arrowstyle": "->", "lw": 1.4, "color": "tab:red"},
        )
    ax.text(
        3.05,
        1.0,
        "$dW_1 = X^\\top dZ_1$\n$db_1 = \\sum_s dZ_1$",
        color="tab:red",
        fontsize=12,
        va="center",
    )
    ax.text(
        8.05,
        1.0,
        "$dW_2 = A_1^\\top dz$\n$db_2 = \\sum_s dz$",
        color="tab:red",
        fontsize=12,
        va="center",
    )
    backward = [
        "",
        "",
        "$dZ_1 = dA_1 \\odot (1 - A_1^2)$",
        "$dA_1 = dz\\, W_2^\\top$",
        "$dz = (p - y)/n$",
    ]
    for (x0, _), (x1, _), label in zip(chain[:-1], chain[1:], backward[1:], strict=True):
        ax.annotate(
            "", (x1 - 1.05, 0.15), (x0 + 1.0, 0.15), arrowprops={"arrowstyle": "->", "lw": 1.4}
        )
        if label:
            ax.annotate(
                "",
                (x0 + 1.0, -0.55),
                (x1 - 1.05, -0.55),
                arrowprops={"arrowstyle": "->", "lw": 1.4, "color": "tab:red"},
            )
            ax.text((x0 + x1) / 2, -1.05, label, color="tab:red", ha="center", fontsize=12)
    ax.text(0.0, -1.9, "forward: left to right", fontsize=12)
    ax.text(10.0, -1.9, "backward: right to left", color="tab:red", ha="right", fontsize=12)
    fig.tight_layout()
    return fig


# sphinx_gallery_end_ignore
# The drawing code (boxes and arrows in matplotlib) is in the downloadable script.
draw_graph()
plt.show()

# %%
# The data and the weights
# ------------------------
#
# Four samples with two features each, labelled as XOR, and weights chosen by hand so
# that every number below can be followed. Shapes follow the library: :math:`X` is
# (n_samples, n_features) = (4, 2), :math:`W_1` is (n_in, n_out) = (2, 3), :math:`b_1` is
# (3,), :math:`W_2` is (3, 1) and :math:`b_2` is (1,).

np.set_printoptions(precision=6, suppress=True)

X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
y = np.array([0, 1, 1, 0])
Y = y.reshape(-1, 1).astype(float)  # the targets as a column, like the logits
n = X.shape[0]

W1 = np.array([[0.5, -0.3, 0.8], [0.2, 0.7, -0.6]])
b1 = np.array([0.1, -0.2, 0.05])
W2 = np.array([[0.9], [-0.4], [0.6]])
b2 = np.array([-0.1])
params = [(W1, b1), (W2, b2)]

# %%
# The forward pass
# ----------------
#
# .. math::
#
#    Z_1 = X W_1 + b_1, \qquad A_1 = \tanh(Z_1), \qquad
#    z = A_1 W_2 + b_2, \qquad p = \sigma(z) = \frac{1}{1 + e^{-z}}
#
# and the loss is the mean binary cross-entropy over the :math:`n = 4` samples,
#
# .. math::
#
#    L = \frac{1}{n} \sum_{s=1}^{n} \ell_s, \qquad
#    \ell_s = -y_s \log p_s - (1 - y_s) \log(1 - p_s).


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def forward(params, X):
    """The hidden activations and the output logits of the 2 → 3 → 1 network."""
    (W1, b1), (W2, b2) = params
    A1 = np.tanh(X @ W1 + b1)
    return A1, A1 @ W2 + b2


def loss(params):
    _, z = forward(params, X)
    p = sigmoid(z)
    return float(np.mean(-Y * np.log(p) - (1 - Y) * np.log(1 - p)))


Z1 = X @ W1 + b1
A1 = np.tanh(Z1)
z = A1 @ W2 + b2
p = sigmoid(z)
L = loss(params)
print("Z1 =\n", Z1)
print("A1 = tanh(Z1) =\n", A1)
print("z =", z.ravel())
print("p = sigmoid(z) =", p.ravel())
print(f"L = {L:.12f}")

# %%
# The gradient at the output: :math:`\sigma(z) - y`, derived
# ------------------------------------------------------------
#
# The sigmoid's derivative is written with itself:
#
# .. math::
#
#    \sigma'(z) = \frac{e^{-z}}{(1 + e^{-z})^2}
#               = \sigma(z)\,\bigl(1 - \sigma(z)\bigr).
#
# Differentiate one sample's loss :math:`\ell = -y \log \sigma(z) - (1-y) \log(1-\sigma(z))`
# by the chain rule, with :math:`\frac{d}{dz}\log\sigma = \sigma'/\sigma = 1 - \sigma` and
# :math:`\frac{d}{dz}\log(1-\sigma) = -\sigma'/(1-\sigma) = -\sigma`:
#
# .. math::
#
#    \frac{\partial \ell}{\partial z} = -y\,(1 - \sigma(z)) + (1 - y)\,\sigma(z)
#    = \sigma(z) - y.
#
# The :math:`\sigma(1-\sigma)` of the sigmoid cancels against the logarithms: the
# gradient is just "prediction minus target", and it never vanishes for a confident wrong
# prediction (the reason the loss is computed from the logits :math:`z`, not from
# :math:`p`). The mean over samples divides by :math:`n`:
#
# .. math::
#
#    dz = \frac{\partial L}{\partial z} = \frac{p - y}{n} \qquad \text{(shape (4, 1))}.

dz = (p - Y) / n
print("dz = (p - y) / n =", dz.ravel())

# %%
# Backward through the network
# ----------------------------
#
# The output layer is :math:`z = A_1 W_2 + b_2`. Each :math:`W_2[j, 0]` multiplies
# :math:`A_1[s, j]` in every sample's logit, and :math:`b_2` is added to every logit, so
#
# .. math::
#
#    dW_2 = A_1^\top dz, \qquad db_2 = \sum_s dz_s, \qquad dA_1 = dz\, W_2^\top .
#
# Through the activation, element by element, with :math:`\tanh'(Z) = 1 - \tanh^2(Z) = 1 - A_1^2`:
#
# .. math::
#
#    dZ_1 = dA_1 \odot (1 - A_1^2),
#
# and the first layer is the same rule as the second:
#
# .. math::
#
#    dW_1 = X^\top dZ_1, \qquad db_1 = \sum_s dZ_1[s, :].

dW2 = A1.T @ dz
db2 = dz.sum(axis=0)
dA1 = dz @ W2.T
dZ1 = dA1 * (1 - A1**2)
dW1 = X.T @ dZ1
db1 = dZ1.sum(axis=0)
by_hand = [(dW1, db1), (dW2, db2)]
for name, value in [("dW2", dW2), ("db2", db2), ("dA1", dA1), ("dZ1", dZ1), ("dW1", dW1)]:
    print(f"{name} =\n{value}")
print("db1 =", db1)

# %%
# Checked against finite differences
# ----------------------------------
#
# Each partial derivative is also a limit: nudge one parameter by :math:`\pm h` and
# measure the loss,
#
# .. math::
#
#    \frac{\partial L}{\partial \theta_i} \approx
#    \frac{L(\theta + h e_i) - L(\theta - h e_i)}{2h},
#
# whose error is of order :math:`h^2` (the even terms of the Taylor series cancel), plus
# the rounding of :math:`L` divided by :math:`h`. With :math:`h = 10^{-6}` in float64 both
# are below :math:`10^{-9}`.


def finite_differences(params, h=1e-6):
    """Central differences of ``loss`` for every weight and bias, shaped like ``params``."""
    estimates = []
    for layer, (W, b) in enumerate(params):
        estimate = []
        for array_index, array in enumerate((W, b)):
            gradient = np.zeros_like(array)
            for index in np.ndindex(array.shape):
                shifted = []
                for sign in (+1, -1):
                    nudged = [[w.copy(), c.copy()] for w, c in params]
                    nudged[layer][array_index][index] += sign * h
                    shifted.append(loss(nudged))
                gradient[index] = (shifted[0] - shifted[1]) / (2 * h)
            estimate.append(gradient)
        estimates.append(tuple(estimate))
    return estimates


numerical = finite_differences(params)
largest = max(
    np.max(np.abs(hand - numeric))
    for layer_hand, layer_numeric in zip(by_hand, numerical, strict=True)
    for hand, numeric in zip(layer_hand, layer_numeric, strict=True)
)
print(f"largest |by hand - finite differences| = {largest:.2e}")
assert largest < 1e-9, largest

# %%
# Checked against the library
# ---------------------------
#
# scratchml's :class:`~scratchml.MLPClassifier` with one hidden layer of 3 tanh units
# is this network (two classes: one sigmoid output unit, binary cross-entropy, no L2
# by default). ``clf.gradients(X, y)`` runs the library's forward and backward pass and
# returns :math:`[(dW_1, db_1), (dW_2, db_2)]`.
#
# ``init=`` takes the starting weights as a list of ``(W, b)`` arrays, shaped like
# ``params_``: the models below start from exactly our numbers and take one full-batch
# step. ``clf.gradients`` evaluates at a fitted model's ``params_``; to ask it about our
# weights, the fitted model's ``params_`` are set back to them.


def library_model(optimizer="sgd", learning_rate=0.5):
    """An MLPClassifier that starts from our weights and takes one full-batch step."""
    return sm.MLPClassifier(
        hidden_layers=(3,),
        activation="tanh",
        optimizer=optimizer,
        learning_rate=learning_rate,
        epochs=1,
        tol=None,
        init=[(W.copy(), b.copy()) for W, b in params],
    )


clf = library_model().fit(X, y)
clf.params_ = [(W.copy(), b.copy()) for W, b in params]
print(f"clf.loss(X, y) = {clf.loss(X, y):.12f}")
assert abs(clf.loss(X, y) - L) < 1e-14
for (dW, db), (dW_lib, db_lib) in zip(by_hand, clf.gradients(X, y), strict=True):
    np.testing.assert_allclose(dW_lib, dW, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(db_lib, db, rtol=1e-12, atol=1e-15)
print("clf.gradients(X, y) agrees with the gradients by hand")

# %%
# With more classes: softmax − y, derived
# ---------------------------------------
#
# With :math:`K` classes the output layer has :math:`K` logits per sample and the
# probabilities are the softmax :math:`s_k = e^{z_k} / \sum_j e^{z_j}`. For a one-hot
# target :math:`y` the loss is :math:`\ell = -\sum_k y_k \log s_k`. Its logarithm is
# simple,
#
# .. math::
#
#    \log s_k = z_k - \log \sum_j e^{z_j}, \qquad
#    \frac{\partial \log s_k}{\partial z_i}
#    = \delta_{ki} - \frac{e^{z_i}}{\sum_j e^{z_j}} = \delta_{ki} - s_i,
#
# so
#
# .. math::
#
#    \frac{\partial \ell}{\partial z_i} = -\sum_k y_k (\delta_{ki} - s_i)
#    = -y_i + s_i \sum_k y_k = s_i - y_i,
#
# because a one-hot :math:`y` sums to 1. Again "prediction minus target". With two
# classes and logits :math:`(0, z)`, :math:`s_1 = e^z / (1 + e^z) = \sigma(z)`: the
# sigmoid case above is this one.
#
# A 3-class output layer on the same hidden activations, checked the same two ways:
# against central differences of :math:`L` in the logits, and against the library's
# softmax cross-entropy, whose gradient is already divided by :math:`n`.

W2_three = np.array([[0.3, -0.5, 0.2], [0.6, 0.1, -0.4], [-0.2, 0.4, 0.7]])
logits = A1 @ W2_three  # (4, 3)
labels = np.array([0, 2, 1, 2])
Y3 = np.eye(3)[labels]  # one-hot


def softmax_loss(logits):
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_s = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return float(-np.mean(np.sum(Y3 * log_s, axis=1)))


s = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
d_logits = (s - Y3) / n
print("softmax(z) - y, over n =\n", d_logits)
h = 1e-6
numeric = np.zeros_like(logits)
for index in np.ndindex(logits.shape):
    up, down = logits.copy(), logits.copy()
    up[index] += h
    down[index] -= h
    numeric[index] = (softmax_loss(up) - softmax_loss(down)) / (2 * h)
print(f"largest |(s - y)/n - finite differences| = {np.max(np.abs(d_logits - numeric)):.2e}")
assert np.max(np.abs(d_logits - numeric)) < 1e-9
value, library_gradient = losses.softmax_cross_entropy_value_and_gradient(np, logits, Y3)
assert abs(float(value) - softmax_loss(logits)) < 1e-14
np.testing.assert_allclose(library_gradient, d_logits, rtol=1e-12, atol=1e-15)
# Two classes: softmax over the logits (0, z) gives back σ(z) − y.
two = np.hstack([np.zeros_like(z), z])
two_s = np.exp(two) / np.exp(two).sum(axis=1, keepdims=True)
np.testing.assert_allclose(two_s[:, 1:] - Y, p - Y, rtol=1e-12, atol=1e-15)

# %%
# One SGD step
# ------------
#
# Stochastic gradient descent on the full batch moves every parameter against its
# gradient, :math:`\theta \leftarrow \theta - \eta\, \nabla_\theta L`, here with
# :math:`\eta = 0.5`. The library's model, continued for one epoch with
# ``optimizer="sgd"`` and ``batch_size=None`` (the full batch: one step per epoch),
# must land on the same weights.

eta = 0.5
sgd_by_hand = [
    (W - eta * dW, b - eta * db) for (W, b), (dW, db) in zip(params, by_hand, strict=True)
]
sgd_model = library_model("sgd", eta).fit(X, y)
for name, (W, b), (W_lib, b_lib) in zip(("1", "2"), sgd_by_hand, sgd_model.params_, strict=True):
    print(f"after one SGD step: W{name} =\n{W}\nb{name} = {b}")
    np.testing.assert_allclose(W_lib, W, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(b_lib, b, rtol=1e-13, atol=1e-15)
print("the library's SGD step agrees")
print(f"loss before {L:.12f}, after {loss(sgd_by_hand):.12f}")
assert loss(sgd_by_hand) < L

# %%
# One Adam step
# -------------
#
# Adam keeps running means of the gradient and of its square, starting from zero, and
# corrects them for that start (:math:`t` counts steps, from 1):
#
# .. math::
#
#    m \leftarrow \beta_1 m + (1 - \beta_1) g, \qquad
#    v \leftarrow \beta_2 v + (1 - \beta_2) g^2, \qquad
#    \hat m = \frac{m}{1 - \beta_1^t}, \qquad \hat v = \frac{v}{1 - \beta_2^t},
#
# .. math::
#
#    \theta \leftarrow \theta - \eta\, \frac{\hat m}{\sqrt{\hat v} + \epsilon},
#
# with the defaults :math:`\beta_1 = 0.9`, :math:`\beta_2 = 0.999`,
# :math:`\epsilon = 10^{-8}`. At :math:`t = 1` the corrections undo the start exactly,
# :math:`\hat m = g` and :math:`\hat v = g^2`, so the first step is
# :math:`\eta\, g / (|g| + \epsilon)`: almost exactly :math:`\eta` for every parameter
# whatever the size of its gradient, in the direction of :math:`-g`. (The library folds
# the two corrections into the step size, the paper's own efficient form; the result
# agrees to rounding.)

eta, beta1, beta2, epsilon, t = 0.1, 0.9, 0.999, 1e-8, 1
adam_by_hand = []
for (W, b), (dW, db) in zip(params, by_hand, strict=True):
    updated = []
    for theta, g in ((W, dW), (b, db)):
        m = (1 - beta1) * g  # from m = 0
        v = (1 - beta2) * g**2  # from v = 0
        m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
        updated.append(theta - eta * m_hat / (np.sqrt(v_hat) + epsilon))
    adam_by_hand.append(tuple(updated))
adam_model = library_model("adam", eta).fit(X, y)
for name, (W, b), (W_lib, b_lib), (W0, b0) in zip(
    ("1", "2"), adam_by_hand, adam_model.params_, params, strict=True
):
    print(f"after one Adam step: W{name} =\n{W}\nb{name} = {b}")
    moves = np.abs(np.concatenate([(W - W0).ravel(), b - b0]))
    print(f"  every parameter moved by between {moves.min():.10f} and {moves.max():.10f}")
    np.testing.assert_allclose(W_lib, W, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(b_lib, b, rtol=1e-12, atol=1e-14)
print("the library's Adam step agrees")
print(f"loss before {L:.12f}, after {loss(adam_by_hand):.12f}")
