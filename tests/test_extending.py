"""Extending the library is one file each: an optimizer with a setting of its own, an
activation, a loss, an array library.

Each test copies that one file (the extending guide shows it) into a temporary folder,
imports it, and trains with it
end to end: a fit on every usable library, a stack, whose networks equal the single
fits, and the gradient checked by finite differences (float64).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

import scratchml as sm
from scratchml import backends
from scratchml.nn import activations, losses, optimizers
from scratchml.stacks import StackedMLPClassifier, StackedMLPRegressor

from .conftest import host, on

# The files the extending guide shows: the tests import exactly these.
EXAMPLES = Path(__file__).resolve().parent.parent / "docs" / "guide" / "extending"


def _import_file(tmp_path, name: str, example: str):
    """Import the guide's file ``example`` as the module ``name``, from a folder of its own,
    as a user would."""
    path = tmp_path / f"{name}.py"
    path.write_text((EXAMPLES / f"{example}.py").read_text())
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def rmsprop(tmp_path):
    module = _import_file(tmp_path, "user_rmsprop", "rmsprop")
    yield module.RMSprop
    del optimizers.OPTIMIZERS["rmsprop_test"]
    sys.modules.pop("user_rmsprop")


@pytest.fixture
def softplus(tmp_path):
    _import_file(tmp_path, "user_softplus", "softplus")
    yield "softplus_test"
    del activations.ACTIVATIONS["softplus_test"]
    sys.modules.pop("user_softplus")


@pytest.fixture
def huber(tmp_path):
    _import_file(tmp_path, "user_huber", "huber")
    yield "huber_test"
    del losses.LOSSES["huber_test"]
    sys.modules.pop("user_huber")


def _spirals(backend, dtype="float64"):
    X, y = sm.data.spirals(120, arms=2, seed=0, dtype=dtype)
    return on(backend, X), on(backend, y)


def _finite_difference_check(model, X, y):
    """The model's gradients against central differences of its loss (float64)."""
    grads = model.gradients(X, y)
    for layer, (W, _) in enumerate(model.params_):
        W_host = host(W)
        for index in [(0, 0), (W_host.shape[0] - 1, W_host.shape[1] - 1)]:
            step = 1e-6
            values = []
            for sign in (1, -1):
                shifted = W_host.copy()
                shifted[index] += sign * step
                params = list(model.params_)
                params[layer] = (backends.asarray(shifted, like=X), model.params_[layer][1])
                saved = model.params_
                model.params_ = params
                values.append(model.loss(X, y))
                model.params_ = saved
            numeric = (values[0] - values[1]) / (2 * step)
            assert host(grads[layer][0])[index] == pytest.approx(numeric, rel=1e-5, abs=1e-8)


def test_an_optimizer_with_a_setting_of_its_own_is_one_file(rmsprop, backend):
    assert "rho" in rmsprop.settings and "rmsprop_test" in optimizers.OPTIMIZERS
    X, y = _spirals(backend)
    settings = {"rho": 0.8}
    model = sm.MLPClassifier(
        hidden_layers=(8,), optimizer="rmsprop_test", optimizer_settings=settings,
        learning_rate=0.01, epochs=30, tol=None, seed=3,
    ).fit(X, y)  # fmt: skip
    assert model.loss_history_[-1] < model.loss_history_[0]
    stack = StackedMLPClassifier(
        n_networks=2, hidden_layers=(8,), optimizer="rmsprop_test",
        optimizer_settings=settings, learning_rate=0.01, epochs=30, seed=3,
    ).fit(X, y)  # fmt: skip
    for (W, b), (Ws, bs) in zip(model.params_, stack.params_, strict=True):
        np.testing.assert_allclose(host(Ws)[0], host(W), rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(host(bs)[0], host(b), rtol=1e-9, atol=1e-12)
    with pytest.raises(ValueError, match="rho must be a number in"):
        sm.MLPClassifier(optimizer="rmsprop_test", optimizer_settings={"rho": 2.0}).fit(X, y)
    with pytest.raises(ValueError, match="its settings are: rho, eps"):
        sm.MLPClassifier(optimizer="rmsprop_test", optimizer_settings={"beta": 0.5}).fit(X, y)


def test_a_user_optimizer_matches_its_formula_step_by_step(rmsprop):
    X, y = _spirals("numpy")
    epochs = 5
    model = sm.MLPClassifier(
        hidden_layers=(4,), optimizer="rmsprop_test", optimizer_settings={"rho": 0.7},
        learning_rate=0.05, epochs=epochs, tol=None, seed=1,
    ).fit(X, y)  # fmt: skip
    # Hand-written RMSprop from the same initial weights and the library's gradients.
    probe = sm.MLPClassifier(hidden_layers=(4,), epochs=1, tol=None, seed=1, learning_rate=1e-300)
    probe.optimizer = "sgd"
    probe.fit(X, y)
    params = [(np.array(W), np.array(b)) for W, b in probe.params_]
    mean_square = [(np.zeros_like(W), np.zeros_like(b)) for W, b in params]
    for _ in range(epochs):
        probe.params_ = params
        grads = probe.gradients(X, y)
        new_params, new_ms = [], []
        for (W, b), (dW, db), (sW, sb) in zip(params, grads, mean_square, strict=True):
            sW = 0.7 * sW + 0.3 * dW * dW
            sb = 0.7 * sb + 0.3 * db * db
            new_params.append(
                (W - 0.05 * dW / (np.sqrt(sW) + 1e-8), b - 0.05 * db / (np.sqrt(sb) + 1e-8))
            )
            new_ms.append((sW, sb))
        params, mean_square = new_params, new_ms
    for (W, b), (Wm, bm) in zip(params, model.params_, strict=True):
        np.testing.assert_allclose(host(Wm), W, rtol=1e-10, atol=1e-13)
        np.testing.assert_allclose(host(bm), b, rtol=1e-10, atol=1e-13)


def test_an_activation_is_one_file(softplus, backend):
    X, y = _spirals(backend)
    model = sm.MLPClassifier(
        hidden_layers=(6, 6), activation=softplus, epochs=40, tol=None, seed=0
    ).fit(X, y)
    assert model.activations_ == [softplus, softplus]
    assert model.loss_history_[-1] < model.loss_history_[0]
    _finite_difference_check(model, X, y)
    stack = StackedMLPClassifier(
        n_networks=2, hidden_layers=(6, 6), activation=softplus, epochs=40, seed=0
    ).fit(X, y)
    np.testing.assert_allclose(
        host(stack.params_[0][0])[0], host(model.params_[0][0]), rtol=1e-9, atol=1e-12
    )


def test_a_loss_is_one_file(huber, backend):
    X, _ = _spirals(backend)
    y = on(backend, np.sin(host(X)[:, 0]) + host(X)[:, 1] ** 2)
    model = sm.MLPRegressor(
        hidden_layers=(6,), loss_function=huber, epochs=40, tol=None, seed=0
    ).fit(X, y)
    assert model.loss_name_ == huber
    assert model.loss_history_[-1] < model.loss_history_[0]
    _finite_difference_check(model, X, y)
    stack = StackedMLPRegressor(
        n_networks=2, hidden_layers=(6,), loss_function=huber, epochs=40, seed=0
    ).fit(X, y)
    np.testing.assert_allclose(
        host(stack.params_[0][0])[0], host(model.params_[0][0]), rtol=1e-9, atol=1e-12
    )
    with pytest.raises(ValueError, match="loss_function must be one of"):
        sm.MLPRegressor(loss_function="no_such_loss").fit(X, y)


def test_an_array_library_is_one_file(tmp_path, monkeypatch):
    pytest.importorskip("array_api_strict")
    from scratchml.backends import registry

    # The library this file adds owns array-api-strict's arrays: stand it in for that one.
    monkeypatch.delitem(registry.LIBRARIES, "array_api_strict")
    monkeypatch.setattr(registry, "BACKENDS", tuple(registry.LIBRARIES))
    monkeypatch.setattr(backends, "BACKENDS", tuple(registry.LIBRARIES))
    monkeypatch.setitem(sys.modules, "user_strict_again", None)
    try:
        _import_file(tmp_path, "user_strict_again", "strict_again")
        assert "strict_again" in backends.BACKENDS
        assert "strict_again" in backends.available()
        X, y = sm.data.spirals(120, arms=2, seed=0, dtype="float64", backend="strict_again")
        assert backends.backend_name(X) == "strict_again"
        model = sm.MLPClassifier(hidden_layers=(6,), epochs=20, tol=None, seed=0).fit(X, y)
        assert backends.backend_name(model.predict(X)) == "strict_again"
        reference = sm.MLPClassifier(hidden_layers=(6,), epochs=20, tol=None, seed=0).fit(
            backends.to_numpy(X), backends.to_numpy(y)
        )
        np.testing.assert_allclose(
            backends.to_numpy(model.params_[0][0]), reference.params_[0][0], rtol=1e-10, atol=1e-12
        )
        stack = StackedMLPClassifier(n_networks=2, hidden_layers=(6,), epochs=20, seed=0).fit(X, y)
        assert backends.backend_name(stack.params_[0][0]) == "strict_again"
        # A sweep on it: the grid's networks train on the new library, rows as on any other.
        from scratchml import sweep
        from scratchml.sweep.files import read_results

        grid = {"n_samples": 60, "turns": 0.5, "depth": [1], "width": [3], "seeds": 2}
        sweep.run(grid, tmp_path / "sweep", epochs=3, backend="strict_again", progress=False)
        rows = read_results(tmp_path / "sweep" / "results.csv")
        assert [row["backend"] for row in rows] == ["strict_again", "strict_again"]
    finally:
        registry.LIBRARIES.pop("strict_again", None)


def test_a_user_optimizer_and_its_setting_sweep(rmsprop, softplus, tmp_path):
    from scratchml import sweep
    from scratchml.sweep.files import read_results

    grid = {
        "n_samples": 60, "turns": 0.5, "depth": [1], "width": [3],
        "activation": [softplus], "optimizer": ["rmsprop_test"],
        "optimizer_settings": [{"rho": 0.8}, {"rho": 0.95}],
        "learning_rate": [0.01], "seeds": 2,
    }  # fmt: skip
    out = tmp_path / "sweep"
    sweep.run(grid, out, epochs=5, progress=False)
    rows = read_results(out / "results.csv")
    assert sorted({row["optimizer_settings"] for row in rows}) == ["rho=0.8", "rho=0.95"]
    assert {row["activation"] for row in rows} == {softplus}
    # A row's network is the one its settings describe: refit alone, the same loss.
    row = next(r for r in rows if r["optimizer_settings"] == "rho=0.8")
    refit = sweep.model_for(row, out)
    assert refit.estimator.get_params()["optimizer_settings"] == {"rho": 0.8}
    stack = refit.fit()
    assert float(stack.loss_history_[-1, refit.position]) == float(row["final_loss"])
    with pytest.raises(ValueError, match="no optimizer's setting"):
        sweep.run({**grid, "optimizer_settings": [{"nonsense": 1.0}]}, tmp_path / "b", epochs=2)
    with pytest.raises(ValueError, match="its own grid key"):
        sweep.run({**grid, "optimizer_settings": [{"momentum": 0.5}]}, tmp_path / "c", epochs=2)
