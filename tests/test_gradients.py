"""Backprop is checked against central finite differences in float64, and against PyTorch."""

import itertools

import numpy as np
import pytest

from scratchml import backends
from scratchml.nn import layers
from scratchml.nn.activations import ACTIVATIONS
from scratchml.nn.losses import LOSSES

from .conftest import host, on

SIZES = [3, 4, 3]  # two hidden layers, then the output layer


def _problem(loss, n_samples=7, seed=0):
    """Random data, targets matching the loss and parameters on the host (float64)."""
    rng = np.random.default_rng(seed)
    n_out = 3 if loss == "softmax_cross_entropy" else (1 if loss == "binary_cross_entropy" else 2)
    sizes = [*SIZES, n_out]
    X = rng.standard_normal((n_samples, sizes[0]))
    if loss == "squared_error":
        Y = rng.standard_normal((n_samples, n_out))
    elif loss == "binary_cross_entropy":
        Y = rng.integers(0, 2, (n_samples, 1)).astype(float)
    else:
        Y = np.eye(n_out)[rng.integers(0, n_out, n_samples)]
    params = [
        (rng.standard_normal((a, b)) * 0.8, rng.standard_normal(b) * 0.3)
        for a, b in itertools.pairwise(sizes)
    ]
    return X, Y, params


def _on_backend(backend, params):
    return [(on(backend, W), on(backend, b)) for W, b in params]


def _numeric_gradients(objective, params, eps=1e-6):
    grads = []
    for W, b in params:
        layer = []
        for array in (W, b):
            g = np.zeros_like(array)
            for index in np.ndindex(array.shape):
                saved = array[index]
                array[index] = saved + eps
                up = objective()
                array[index] = saved - eps
                down = objective()
                array[index] = saved
                g[index] = (up - down) / (2 * eps)
            layer.append(g)
        grads.append(tuple(layer))
    return grads


def _relative_error(a, b):
    flat_a = np.concatenate([np.ravel(x) for pair in a for x in pair])
    flat_b = np.concatenate([np.ravel(x) for pair in b for x in pair])
    return np.linalg.norm(flat_a - flat_b) / max(
        np.linalg.norm(flat_a) + np.linalg.norm(flat_b), 1e-300
    )


@pytest.mark.parametrize("loss", sorted(LOSSES))
@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("l2", [0.0, 0.1])
def test_backprop_matches_finite_differences(backend, activation, loss, l2):
    X, Y, params = _problem(loss)
    xp = backends.get(backend)
    acts = [activation] * (len(params) - 1)
    Xb, Yb = on(backend, X), on(backend, Y)

    def objective():
        value = layers.objective(xp, _on_backend(backend, params), Xb, Yb, acts, loss, l2)
        return float(value)

    _, grads = layers.loss_and_gradients(xp, _on_backend(backend, params), Xb, Yb, acts, loss, l2)
    analytic = [(host(dW), host(db)) for dW, db in grads]
    numeric = _numeric_gradients(objective, params)
    assert _relative_error(analytic, numeric) <= 1e-6
    for (dW, db), (W, b) in zip(analytic, params, strict=True):
        assert dW.shape == W.shape and db.shape == b.shape


@pytest.mark.parametrize("loss", sorted(LOSSES))
def test_mixed_activations_per_layer(backend, loss):
    X, Y, params = _problem(loss, seed=1)
    xp = backends.get(backend)
    acts = ["relu", "sigmoid"]
    Xb, Yb = on(backend, X), on(backend, Y)
    _, grads = layers.loss_and_gradients(xp, _on_backend(backend, params), Xb, Yb, acts, loss)

    def objective():
        return float(layers.objective(xp, _on_backend(backend, params), Xb, Yb, acts, loss))

    analytic = [(host(dW), host(db)) for dW, db in grads]
    assert _relative_error(analytic, _numeric_gradients(objective, params)) <= 1e-6


@pytest.mark.parametrize("loss", sorted(LOSSES))
def test_stack_of_networks_equals_each_network(backend, loss):
    """A leading model axis trains M networks with the same code, model by model identical."""
    xp = backends.get(backend)
    problems = [_problem(loss, seed=s) for s in range(3)]
    X, Y, _ = problems[0]  # shared data, different parameters per model
    acts = ["tanh", "relu"]
    stacked = [
        (
            on(backend, np.stack([p[2][i][0] for p in problems])),
            on(backend, np.stack([p[2][i][1] for p in problems])),
        )
        for i in range(len(problems[0][2]))
    ]
    Xb, Yb = on(backend, X), on(backend, Y)
    values, grads = layers.loss_and_gradients(xp, stacked, Xb, Yb, acts, loss, l2=0.05)
    assert tuple(values.shape) == (3,)
    for m, (_, _, params) in enumerate(problems):
        value, single = layers.loss_and_gradients(
            xp, _on_backend(backend, params), Xb, Yb, acts, loss, l2=0.05
        )
        np.testing.assert_allclose(host(values)[m], float(value), rtol=1e-12)
        for (dW, db), (sW, sb) in zip(grads, single, strict=True):
            np.testing.assert_allclose(host(dW)[m], host(sW), rtol=1e-10, atol=1e-14)
            np.testing.assert_allclose(host(db)[m], host(sb), rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("loss", sorted(LOSSES))
@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_backprop_matches_pytorch_autograd(activation, loss):
    torch = pytest.importorskip("torch")
    X, Y, params = _problem(loss, seed=2)
    acts = [activation] * (len(params) - 1)
    xp = backends.get("numpy")
    _, grads = layers.loss_and_gradients(xp, params, X, Y, acts, loss, l2=0.01)

    # Autograd differentiates the registry's own forward on torch tensors: an independent
    # check of each hand-written derivative, for every activation the registry holds.
    torch_xp = backends.get("torch")
    tparams = [
        (torch.tensor(W, requires_grad=True), torch.tensor(b, requires_grad=True))
        for W, b in params
    ]
    A = torch.tensor(X)
    for i, (W, b) in enumerate(tparams):
        A = A @ W + b
        if i < len(tparams) - 1:
            A = ACTIVATIONS[activation].forward(torch_xp, A)
    target = torch.tensor(Y)
    if loss == "squared_error":
        value = 0.5 * torch.nn.functional.mse_loss(A, target)
    elif loss == "binary_cross_entropy":
        value = torch.nn.functional.binary_cross_entropy_with_logits(A, target)
    else:
        value = torch.nn.functional.cross_entropy(A, target.argmax(dim=1))
    value = value + 0.5 * 0.01 * sum((W**2).sum() for W, _ in tparams)
    value.backward()
    for (dW, db), (W, b) in zip(grads, tparams, strict=True):
        np.testing.assert_allclose(dW, W.grad.cpu().numpy(), rtol=1e-10, atol=1e-13)
        np.testing.assert_allclose(db, b.grad.cpu().numpy(), rtol=1e-10, atol=1e-13)


def test_losses_stay_finite_for_huge_logits(backend):
    xp = backends.get(backend)
    logits = on(backend, [[1000.0, -1000.0, 0.0], [-800.0, 800.0, 5.0]])
    one_hot = on(backend, [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    value = float(LOSSES["softmax_cross_entropy"].value(xp, logits, one_hot))
    assert np.isfinite(value) and value == pytest.approx((2000.0 + 1600.0) / 2)
    column = on(backend, [[1000.0], [-1000.0]])
    targets = on(backend, [[0.0], [1.0]])
    assert float(LOSSES["binary_cross_entropy"].value(xp, column, targets)) == pytest.approx(1000.0)
    grad = host(LOSSES["binary_cross_entropy"].gradient(xp, column, targets))
    np.testing.assert_allclose(grad, [[0.5], [-0.5]])


@pytest.mark.parametrize("loss", [n for n, entry in LOSSES.items() if entry.normaliser])
def test_an_elementwise_loss_is_its_normalised_sum_in_any_layout(loss):
    """``Loss.normaliser``: a one-output loss with its samples laid along the last axis is
    the same loss once divided by the ratio of the normalisers (what the JAX path uses)."""
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((3, 50, 1)) * 4
    Y = (rng.random((50, 1)) > 0.5).astype(float)
    entry = LOSSES[loss]
    value, grad = entry.value_and_gradient(np, logits, Y)
    ratio = entry.normaliser(50, 1) / entry.normaliser(1, 50)
    value_t, grad_t = entry.value_and_gradient(np, np.swapaxes(logits, -1, -2), Y.T)
    np.testing.assert_allclose(value_t / ratio, value, rtol=1e-13)
    np.testing.assert_allclose(np.swapaxes(grad_t, -1, -2) / ratio, grad, rtol=1e-13)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("backend", ["numpy", "array_api_strict"])
def test_every_loss_on_the_transposes_is_the_loss(backend, dtype):
    """``Loss.transposed_value_and_gradient``: from (..., n_outputs, n_samples) arrays, every
    loss is the loss and its gradient the gradient's transpose, with several outputs.
    Element-wise losses get there through their normaliser; a loss that couples a sample's
    outputs (softmax) through its own ``value_and_gradient_of_transposes``."""
    xp = backends.get(backend)
    rtol, atol = (1e-13, 1e-16) if dtype == "float64" else (2e-6, 1e-9)
    rng = np.random.default_rng(1)
    logits = (rng.standard_normal((3, 50, 4)) * 4).astype(dtype)
    Y = np.eye(4, dtype=dtype)[rng.integers(0, 4, 50)]
    for name, entry in LOSSES.items():
        if entry.normaliser is not None:
            assert entry.value_and_gradient_of_transposes is None, name
        else:
            assert entry.value_and_gradient_of_transposes is not None, name
        assert entry.has_transposed_form, name
        value, grad = entry.value_and_gradient(xp, xp.asarray(logits), xp.asarray(Y))
        value_t, grad_t = entry.transposed_value_and_gradient(
            xp, xp.asarray(np.swapaxes(logits, -1, -2)), xp.asarray(Y.T)
        )
        assert tuple(value_t.shape) == (3,) and tuple(grad_t.shape) == (3, 4, 50), name
        assert value_t.dtype == value.dtype and grad_t.dtype == grad.dtype, name
        np.testing.assert_allclose(host(value_t), host(value), rtol=rtol, err_msg=name)
        np.testing.assert_allclose(
            np.swapaxes(host(grad_t), -1, -2), host(grad), rtol=rtol, atol=atol, err_msg=name
        )
