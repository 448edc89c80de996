"""One training step (forward + backward + Adam update), side by side across backends.

Every case in a group does the same work on the same data, so the ratios inside one
run are what to read (this machine is shared; single times are noisy):

    python -m pytest benchmarks --benchmark-json benchmarks/results/cpu.json
    python benchmarks/report.py benchmarks/results/cpu.json > benchmarks/results/cpu.md
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import scratchml as sm
from scratchml import backends
from scratchml.nn import layers
from scratchml.nn.init import init_params
from scratchml.nn.optimizers import Adam

N_SAMPLES = 2000
HIDDEN = (64, 64)
ACTIVATIONS = ["tanh", "tanh"]
N_MODELS = 64  # the stacked-sweep case: 64 small networks trained at once
SMALL_HIDDEN = (8, 8)


def _usable(name):
    reason = backends.why_unavailable(name)
    return pytest.param(name, marks=pytest.mark.skip(reason=reason) if reason else [], id=name)


BACKENDS = [_usable(name) for name in ("numpy", "array_api_strict", "torch", "cupy")]


def _data(backend, dtype="float32"):
    X, y = sm.data.spirals(N_SAMPLES, arms=2, seed=0, dtype=dtype, backend=backend)
    xp = backends.get(backend)
    Y = xp.astype(xp.reshape(y, (-1, 1)), X.dtype)
    return xp, X, Y


def _scratchml_step(xp, X, Y, params, acts, n_models=None):
    optimizer = Adam(0.01)
    state = {"params": params, "opt": optimizer.init(xp, params)}

    def step():
        loss, grads = layers.loss_and_gradients(
            xp, state["params"], X, Y, acts, "binary_cross_entropy"
        )
        state["params"], state["opt"] = optimizer.step(xp, state["params"], grads, state["opt"])
        backends.synchronize(loss)
        return loss

    return step


@pytest.mark.benchmark(group="train-step: MLP 2-64-64-1, 2000 samples, float32")
@pytest.mark.parametrize("backend", BACKENDS)
def test_scratchml_step(benchmark, backend):
    xp, X, Y = _data(backend)
    params = init_params([2, *HIDDEN, 1], [*ACTIVATIONS, "identity"], "auto", 0, like=X)
    benchmark(_scratchml_step(xp, X, Y, params, ACTIVATIONS))


@pytest.mark.benchmark(group="train-step: MLP 2-64-64-1, 2000 samples, float32")
def test_pytorch_autograd_step(benchmark):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    X, y = sm.data.spirals(N_SAMPLES, arms=2, seed=0)
    X, Y = torch.asarray(X), torch.asarray(y, dtype=torch.float32).reshape(-1, 1)
    model = torch.nn.Sequential(
        torch.nn.Linear(2, 64),
        torch.nn.Tanh(),
        torch.nn.Linear(64, 64),
        torch.nn.Tanh(),
        torch.nn.Linear(64, 1),
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    loss_fn = torch.nn.BCEWithLogitsLoss()

    def step():
        optimizer.zero_grad()
        loss = loss_fn(model(X), Y)
        loss.backward()
        optimizer.step()
        return loss

    benchmark(step)


@pytest.mark.benchmark(group="train-step: MLP 2-64-64-1, 2000 samples, float32")
def test_scikit_learn_step(benchmark):
    neural_network = pytest.importorskip("sklearn.neural_network")
    X, y = sm.data.spirals(N_SAMPLES, arms=2, seed=0)
    model = neural_network.MLPClassifier(
        HIDDEN, activation="tanh", learning_rate_init=0.01, batch_size=N_SAMPLES, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.partial_fit(X, y, classes=np.array([0, 1]))
    benchmark(model.partial_fit, X, y)


@pytest.mark.benchmark(group=f"sweep: {N_MODELS} MLPs 2-8-8-1, 2000 samples, float32")
@pytest.mark.parametrize("backend", BACKENDS)
def test_stacked_networks_step(benchmark, backend):
    """All M networks in one stacked forward/backward (the leading model axis)."""
    xp, X, Y = _data(backend)
    params = init_params(
        [2, *SMALL_HIDDEN, 1], [*ACTIVATIONS, "identity"], "auto", 0, like=X, n_models=N_MODELS
    )
    benchmark(_scratchml_step(xp, X, Y, params, ACTIVATIONS))


@pytest.mark.benchmark(group=f"sweep: {N_MODELS} MLPs 2-8-8-1, 2000 samples, float32")
@pytest.mark.parametrize("backend", BACKENDS)
def test_networks_one_by_one_step(benchmark, backend):
    """The same M networks, stepped one after another in a Python loop."""
    xp, X, Y = _data(backend)
    steps = [
        _scratchml_step(
            xp,
            X,
            Y,
            init_params([2, *SMALL_HIDDEN, 1], [*ACTIVATIONS, "identity"], "auto", m, like=X),
            ACTIVATIONS,
        )
        for m in range(N_MODELS)
    ]

    def step_all():
        for step in steps:
            step()

    benchmark(step_all)


@pytest.mark.benchmark(group="fit: LinearRegression normal equations, 20000 x 50, float64")
@pytest.mark.parametrize("backend", BACKENDS)
def test_linear_regression_fit(benchmark, backend):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20000, 50))
    y = X @ rng.standard_normal(50) + 0.1 * rng.standard_normal(20000)
    Xb, yb = backends.asarray(X, backend=backend), backends.asarray(y, backend=backend)
    benchmark(lambda: backends.synchronize(sm.LinearRegression().fit(Xb, yb).params_[0][0]))


@pytest.mark.benchmark(group="fit: LinearRegression normal equations, 20000 x 50, float64")
def test_scikit_learn_linear_regression_fit(benchmark):
    linear_model = pytest.importorskip("sklearn.linear_model")
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20000, 50))
    y = X @ rng.standard_normal(50) + 0.1 * rng.standard_normal(20000)
    benchmark(linear_model.LinearRegression().fit, X, y)
