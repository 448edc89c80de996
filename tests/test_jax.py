"""What is particular to JAX: its namespace, devices, immutable arrays and 32-bit defaults.

The rest of the suite runs on JAX through the ``backend`` fixture, in JAX's 64-bit mode
(turned on in conftest.py so that float64 gradient checks run). JAX's defaults without
that mode (float32, int32, no warnings on a plain fit) are checked here in a fresh
interpreter, where the mode is off as a user would find it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import scratchml as sm
from scratchml import backends
from scratchml.stacks import StackedMLPClassifier

from .conftest import host, on

pytestmark = pytest.mark.skipif(
    bool(backends.why_unavailable("jax")),
    reason=f"jax not usable: {backends.why_unavailable('jax')}",
)


def _without_x64(code: str) -> str:
    """Run ``code`` in a fresh interpreter with JAX's default (32-bit) mode and warnings as
    errors; return its output."""
    env = {key: value for key, value in os.environ.items() if key != "JAX_ENABLE_X64"}
    env["MPLBACKEND"] = "Agg"
    prelude = "import warnings\nwarnings.simplefilter('error')\n"
    done = subprocess.run(
        [sys.executable, "-c", prelude + textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


# ---------------------------------------------------------------------------
# The backend itself


def test_jax_is_a_backend_name():
    import jax.numpy as jnp

    assert "jax" in backends.BACKENDS
    assert "jax" in backends.available()
    assert backends.why_unavailable("jax") == ""
    assert backends.get("jax") is jnp
    x = jnp.ones((2, 3))
    assert backends.backend_name(x) == "jax"  # not "jax.numpy"
    assert backends.namespace(x) is jnp


def test_round_trips_through_jax_keep_values_and_dtypes():
    data = np.arange(12, dtype=np.float32).reshape(3, 4)
    x = backends.asarray(data, backend="jax")
    assert backends.backend_name(x) == "jax" and x.dtype == np.float32
    back = backends.to_numpy(x)
    np.testing.assert_array_equal(back, data)
    back[0, 0] = -1.0  # a host copy of its own: writable, and JAX's array is untouched
    assert float(x[0, 0]) == 0.0
    if not backends.why_unavailable("torch"):
        t = backends.asarray(x, backend="torch")
        np.testing.assert_array_equal(backends.to_numpy(t), data)
        np.testing.assert_array_equal(host(backends.asarray(t, backend="jax")), data)
    like = backends.asarray(np.arange(3), like=x)
    assert backends.backend_name(like) == "jax"


def test_mixing_jax_with_another_library_names_both():
    x = backends.asarray(np.ones((4, 2)), backend="jax")
    with pytest.raises(TypeError, match="jax and numpy"):
        backends.namespace(x, np.ones(4))
    with pytest.raises(TypeError, match="jax"):  # a regressor's NumPy targets are data
        sm.LinearRegression().fit(x, np.array([0.0, 1.0, 0.0, 1.0]))
    strict_labels = backends.asarray(np.array([0, 1, 0, 1]), backend="array_api_strict")
    with pytest.raises(TypeError, match="jax"):  # labels from another array library
        sm.LogisticRegression(epochs=2).fit(x, strict_labels)
    # Labels are host data: a NumPy array of them goes with JAX X.
    model = sm.LogisticRegression(epochs=2, l2=1e-2).fit(x, np.array([0, 1, 0, 1]))
    assert backends.backend_name(model.classes_) == "jax"


def test_devices_by_name():
    import jax

    x = backends.asarray([1.0, 2.0], backend="jax", device="cpu")
    assert backends.device(x) == jax.devices("cpu")[0]
    assert backends.asarray([1.0], backend="jax", device="cpu:0").device == jax.devices("cpu")[0]
    with pytest.raises(ValueError, match="'cpu:99'"):
        backends.asarray([1.0], backend="jax", device="cpu:99")
    with pytest.raises(ValueError, match="'no-such-platform'"):
        backends.asarray([1.0], backend="jax", device="no-such-platform")


def test_synchronize_waits_for_a_jax_array():
    x = backends.asarray(np.ones((64, 64)), backend="jax")
    y = x @ x
    backends.synchronize(y)  # block_until_ready: returns once the product exists
    assert float(y[0, 0]) == 64.0


def test_random_draws_are_the_same_numbers_on_jax():
    like_jax = backends.asarray(np.zeros(1), backend="jax", dtype="float64")
    like_numpy = np.zeros(1)
    draws_jax = backends.random_normal(backends.rng(3), (4, 5), like_jax)
    draws_numpy = backends.random_normal(backends.rng(3), (4, 5), like_numpy)
    np.testing.assert_array_equal(host(draws_jax), draws_numpy)
    order = backends.permutation(backends.rng(3), 10, like_jax)
    assert backends.backend_name(order) == "jax"
    assert sorted(host(order).tolist()) == list(range(10))


def test_memory_and_out_of_memory_helpers():
    free = backends.free_memory("jax")
    assert free is None or free > 0
    import jax

    if jax.devices()[0].platform == "cpu":
        assert backends.gpu_name("jax") is None
    assert backends.is_out_of_memory(RuntimeError("RESOURCE_EXHAUSTED: Out of memory"))
    assert not backends.is_out_of_memory(RuntimeError("INVALID_ARGUMENT: shapes"))


def test_why_unavailable_names_the_extra_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "jax", None)  # as if JAX were not installed
    backends.forget_checks()
    try:
        reason = backends.why_unavailable("jax")
        assert "not installed" in reason and "scratchml[jax]" in reason
        assert "jax" not in backends.available()
        with pytest.raises(RuntimeError, match="jax"):
            backends.get("jax")
    finally:
        monkeypatch.undo()
        backends.forget_checks()
    assert backends.why_unavailable("jax") == ""


# ---------------------------------------------------------------------------
# Data, estimators and files on JAX (64-bit mode, as the whole suite runs)


@pytest.mark.parametrize(
    "generator",
    [sm.data.spirals, sm.data.blobs, sm.data.correlated_normal, sm.data.noisy_line],
)
def test_data_generators_give_the_same_data_on_jax(generator):
    X, y = generator(seed=4)
    Xj, yj = generator(seed=4, backend="jax")
    assert backends.backend_name(Xj) == "jax" == backends.backend_name(yj)
    assert Xj.dtype == np.float32
    np.testing.assert_array_equal(host(Xj), X)
    np.testing.assert_array_equal(host(yj), y)


@pytest.mark.slow  # JAX compiles each operation on first use
def test_mlp_on_jax_equals_mlp_on_numpy():
    X, y = sm.data.spirals(90, arms=3, seed=1, dtype="float64")
    settings = dict(hidden_layers=(8, 6), optimizer="adam", epochs=15, batch_size=32, seed=2)
    on_numpy = sm.MLPClassifier(**settings).fit(X, y)
    on_jax = sm.MLPClassifier(**settings).fit(on("jax", X), on("jax", y))
    for (W, b), (Wj, bj) in zip(on_numpy.params_, on_jax.params_, strict=True):
        assert backends.backend_name(Wj) == "jax"
        np.testing.assert_allclose(host(Wj), W, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(host(bj), b, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(on_jax.loss_history_, on_numpy.loss_history_, rtol=1e-9)
    predicted = on_jax.predict(on("jax", X))
    assert backends.backend_name(predicted) == "jax"
    np.testing.assert_array_equal(host(predicted), on_numpy.predict(X))
    assert backends.backend_name(on_jax.predict_proba(on("jax", X))) == "jax"


@pytest.mark.slow  # JAX compiles each operation on first use
def test_stack_on_jax_holds_the_networks_fitted_alone():
    X, y = sm.data.spirals(60, arms=3, seed=2, dtype="float64")
    Xj, yj = on("jax", X), on("jax", y)
    settings = dict(hidden_layers=(5,), optimizer="momentum", epochs=10, batch_size=16)
    stack = StackedMLPClassifier(n_networks=2, learning_rate=[0.05, 0.1], seed=[0, 1], **settings)
    stack.fit(Xj, yj)
    predicted = stack.predict(Xj)
    assert backends.backend_name(predicted) == "jax" and tuple(predicted.shape) == (2, 60)
    for i, (rate, seed) in enumerate([(0.05, 0), (0.1, 1)]):
        alone = sm.MLPClassifier(learning_rate=rate, seed=seed, **settings).fit(Xj, yj)
        for (W, b), (W1, b1) in zip(stack.model(i).params_, alone.params_, strict=True):
            np.testing.assert_allclose(host(W), host(W1), rtol=1e-10, atol=1e-13)
            np.testing.assert_allclose(host(b), host(b1), rtol=1e-10, atol=1e-13)


def test_save_on_numpy_load_on_jax(tmp_path):
    X, y = sm.data.blobs(60, centers=3, seed=0, dtype="float64")
    model = sm.MLPClassifier(hidden_layers=(4,), epochs=10).fit(X, y)
    loaded = sm.load(model.save(tmp_path / "m.npz"), backend="jax")
    assert all(backends.backend_name(W) == "jax" for W, _ in loaded.params_)
    assert backends.backend_name(loaded.classes_) == "jax"
    np.testing.assert_array_equal(host(loaded.predict(on("jax", X))), model.predict(X))
    back = sm.load(loaded.save(tmp_path / "again.npz"), backend="numpy")
    np.testing.assert_array_equal(back.params_[0][0], model.params_[0][0])


def test_string_labels_load_on_jax_as_host_labels(tmp_path):
    X, _ = sm.data.blobs(40, centers=2, seed=0)
    y = np.where(np.arange(40) % 2 == 0, "cat", "dog")
    model = sm.LogisticRegression(epochs=5).fit(X, y)
    path = model.save(tmp_path / "m.npz")
    loaded = sm.load(path, backend="jax")
    assert isinstance(loaded.classes_, np.ndarray)  # strings stay on the host
    Xj = backends.asarray(X, backend="jax")
    assert sm.backends.backend_name(loaded.params_[0][0]) == "jax"
    np.testing.assert_array_equal(loaded.predict(Xj), model.predict(X))


# ---------------------------------------------------------------------------
# JAX's defaults, as a user finds them: no 64-bit mode (a fresh interpreter each)


@pytest.mark.slow
def test_defaults_are_float32_and_int32_and_linear_fits_do_not_warn():
    out = _without_x64(
        """
        import numpy as np
        import scratchml as sm
        from scratchml import backends
        X, y = sm.data.spirals(120, arms=3, backend="jax")
        print(X.dtype, y.dtype)
        try:
            sm.data.spirals(10, dtype="float64", backend="jax")
        except ValueError as exc:
            print("refused:", "jax_enable_x64" in str(exc))
        clf = sm.LogisticRegression(epochs=20).fit(X, y)
        predicted = clf.predict(X)
        print(backends.backend_name(predicted), predicted.dtype, clf.classes_.dtype)
        print(clf.predict_proba(X).dtype)
        reg = sm.LinearRegression().fit(X, X[:, 0] + 2 * X[:, 1])
        print(reg.predict(X).dtype)
        reg = sm.LinearRegression(solver="gd", epochs=20, tol=None).fit(X, X[:, 0])
        print(reg.predict(X).dtype)
        x = backends.asarray(np.arange(3.0), backend="jax")
        print(x.dtype, backends.widest_float(backends.get("jax")))
        """
    )
    assert out.split() == (
        [
            "float32",
            "int32",
            "refused:",
            "True",
            "jax",
            "int32",
            "int32",
            "float32",
            "float32",
            "float32",
            "float32",
            "float32",
        ]
    )


@pytest.mark.slow
def test_load_without_x64_computes_in_float32(tmp_path):
    X, y = sm.data.blobs(50, centers=2, seed=0, dtype="float64")
    model = sm.LogisticRegression(epochs=10).fit(X, y)
    path = model.save(tmp_path / "m.npz")
    np.save(tmp_path / "X.npy", X)
    out = _without_x64(
        f"""
        import numpy as np
        import scratchml as sm
        from scratchml import backends
        model = sm.load({str(path)!r}, backend="jax")
        X = backends.asarray(np.load({str(tmp_path / "X.npy")!r}), backend="jax")
        print(model.params_[0][0].dtype, model.classes_.dtype, X.dtype)
        np.save({str(tmp_path / "p.npy")!r}, backends.to_numpy(model.predict_proba(X)))
        """
    )
    assert out.split() == ["float32", "int32", "float32"]
    np.testing.assert_allclose(np.load(tmp_path / "p.npy"), model.predict_proba(X), atol=1e-5)


@pytest.mark.slow
def test_networks_fit_score_and_stack_without_warnings_in_32_bit_mode():
    out = _without_x64(
        """
        import scratchml as sm
        from scratchml import backends
        from scratchml.stacks import StackedMLPClassifier
        X, y = sm.data.spirals(120, arms=3, backend="jax")
        for batch_size in (None, 32):
            clf = sm.MLPClassifier(hidden_layers=(8,), epochs=5, batch_size=batch_size)
            clf.fit(X, y)
            print(clf.predict(X).dtype, 0.0 <= clf.score(X, y) <= 1.0)
        binary = sm.MLPClassifier(hidden_layers=(8,), epochs=5).fit(X, y % 2)
        print(binary.predict(X).dtype)
        stopped = sm.MLPClassifier(hidden_layers=(8,), epochs=5, early_stopping=True).fit(X, y)
        print(stopped.predict(X).dtype)
        reg = sm.MLPRegressor(hidden_layers=(8,), epochs=5, batch_size=32).fit(X, X[:, 0])
        print(reg.predict(X).dtype)
        stack = StackedMLPClassifier(n_networks=2, hidden_layers=(8,), epochs=5, batch_size=32)
        stack.fit(X, y)
        print(backends.backend_name(stack.predict(X)), stack.predict(X).dtype)
        """
    )
    assert out.split() == [
        "int32",
        "True",
        "int32",
        "True",
        "int32",
        "int32",
        "float32",
        "jax",
        "int32",
    ]


# ---------------------------------------------------------------------------
# The command line and sweeps take --backend jax


@pytest.mark.slow
def test_demo_trains_on_jax(tmp_path):
    from scratchml.cli import main
    from scratchml.demos import DEMOS

    numpy_run = DEMOS["logistic_classification"](
        backend="numpy", out=tmp_path / "np", size="small", progress=False
    )
    command = ["demo", "logistic_classification", "--backend", "jax", "--small"]
    assert main([*command, "--out", str(tmp_path / "jax")]) == 0
    jax_run = DEMOS["logistic_classification"](
        backend="jax", out=tmp_path / "again", size="small", progress=False
    )
    assert backends.backend_name(jax_run.model.params_[0][0]) == "jax"
    for (W, b), (Wj, bj) in zip(numpy_run.model.params_, jax_run.model.params_, strict=True):
        np.testing.assert_allclose(host(Wj), W, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(host(bj), b, rtol=1e-4, atol=1e-5)


@pytest.mark.slow
def test_sweep_runs_on_jax(tmp_path):
    from scratchml import sweep

    grid = {"n_samples": 40, "turns": 0.5, "depth": [1], "width": [2, 3], "seeds": 2}
    on_jax = sweep.run(grid, tmp_path / "jax", epochs=3, backend="jax", progress=False)
    on_numpy = sweep.run(grid, tmp_path / "numpy", epochs=3, backend="numpy", progress=False)
    assert on_jax.n_trained == on_numpy.n_trained == 4
    jax_rows = on_jax.results.read_text().splitlines()
    numpy_rows = on_numpy.results.read_text().splitlines()
    assert jax_rows[0] == numpy_rows[0] and len(jax_rows) == len(numpy_rows)
