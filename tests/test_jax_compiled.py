"""JAX trains with compiled steps, and they give the eager (reference) path's results.

``scratchml.speed.jax`` compiles training with ``jax.jit`` (a chunk of full-batch epochs as
one loop, a mini-batch epoch as one function). Everything the
training loop decides from the losses (divergence, ``tol`` stopping, early
stopping, a stack's frozen networks) must come out exactly as on the eager path
(``speed.reference_only()``), and compiled steps must be reused across fits.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import scratchml as sm
from scratchml import backends, speed
from scratchml.exceptions import DivergenceError

pytestmark = [
    pytest.mark.skipif(
        bool(backends.why_unavailable("jax")), reason=f"jax: {backends.why_unavailable('jax')}"
    ),
    pytest.mark.slow,  # each test compiles JAX steps: seconds on a CPU
]


def _jax_data(n=150, arms=3, seed=0):
    X, y = sm.data.spirals(n, arms=arms, seed=seed, dtype="float64")
    return backends.asarray(X, backend="jax"), backends.asarray(y, backend="jax")


def _both(make, X, y):
    """The same estimator fitted on the compiled path and on the eager reference."""
    from scratchml.speed.jax import JaxPath

    assert isinstance(speed.path_for(backends.namespace(X)), JaxPath)
    compiled = make().fit(X, y)
    with speed.reference_only():
        eager = make().fit(X, y)
    return compiled, eager


def _assert_same_fit(compiled, eager, rtol=1e-9, params_rtol=1e-8):
    """Equal up to rounding: XLA fuses operations, so it rounds in other places."""
    np.testing.assert_allclose(
        np.asarray(compiled.loss_history_), np.asarray(eager.loss_history_), rtol=rtol
    )
    for (W, b), (W_ref, b_ref) in zip(compiled.params_, eager.params_, strict=True):
        for got, want in ((W, W_ref), (b, b_ref)):
            want = backends.to_numpy(want)
            atol = params_rtol * np.abs(want).max()  # rounding is relative to the largest
            np.testing.assert_allclose(backends.to_numpy(got), want, rtol=params_rtol, atol=atol)


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
@pytest.mark.parametrize("batch_size", [None, 40])
@pytest.mark.parametrize("l2", [0.0, 1e-3])
def test_compiled_fit_equals_the_eager_fit(optimizer, batch_size, l2):
    X, y = _jax_data()
    kwargs = {"hidden_layers": (8, 8), "optimizer": optimizer, "epochs": 30, "tol": None}
    compiled, eager = _both(
        lambda: sm.MLPClassifier(batch_size=batch_size, l2=l2, seed=1, **kwargs), X, y
    )
    _assert_same_fit(compiled, eager)


@pytest.mark.parametrize("batch_size", [None, 40])
@pytest.mark.parametrize("task", ["binary", "regression"])
def test_one_output_fits_equal_the_eager_fits(task, batch_size):
    """One output: the compiled path evaluates the loss with the samples last."""
    X, y = _jax_data(arms=2)
    kwargs = {"hidden_layers": (8,), "epochs": 30, "tol": None, "batch_size": batch_size}
    if task == "binary":
        compiled, eager = _both(lambda: sm.MLPClassifier(l2=1e-3, **kwargs), X, y)
    else:
        compiled, eager = _both(lambda: sm.MLPRegressor(**kwargs), X, X[:, 0] - X[:, 1])
    _assert_same_fit(compiled, eager)


def test_tol_and_early_stopping_stop_at_the_same_epoch():
    X, y = _jax_data()
    for kwargs in ({"tol": 1e-2, "n_iter_no_change": 3}, {"early_stopping": True}):
        compiled, eager = _both(
            lambda kw=kwargs: sm.MLPClassifier(hidden_layers=(6,), epochs=300, **kw), X, y
        )
        assert compiled.n_iter_ == eager.n_iter_
        _assert_same_fit(compiled, eager)


def test_divergence_is_caught_at_the_same_epoch_with_the_same_parameters():
    X, _ = _jax_data()
    errors, models = [], []
    for context in (speed.use_path(speed.path_for(backends.namespace(X))), speed.reference_only()):
        model = sm.MLPRegressor(
            hidden_layers=(16,), optimizer="sgd", learning_rate=50.0, epochs=400, tol=None
        )
        with context, pytest.raises(DivergenceError) as caught:
            model.fit(X, X[:, 0] * 1e3)
        errors.append(caught.value)
        models.append(model)
    assert errors[0].epoch == errors[1].epoch
    # Fifty epochs of explosive growth amplify the rounding differences of fusion.
    _assert_same_fit(*models, rtol=1e-5, params_rtol=1e-5)


def test_a_stack_freezes_the_same_networks():
    X, _ = _jax_data(arms=2)
    rates = [0.01, 0.05, 200.0, 2000.0]
    compiled, eager = _both(
        lambda: sm.StackedMLPRegressor(
            n_networks=4, hidden_layers=(16,), optimizer="sgd", learning_rate=rates, epochs=100
        ),
        X,
        X[:, 0] * 10,
    )
    np.testing.assert_array_equal(compiled.diverged_, eager.diverged_)
    assert compiled.diverged_.any() and not compiled.diverged_.all()
    # Each diverged network froze at the same epoch; the others trained alike.
    np.testing.assert_array_equal(np.isnan(compiled.loss_history_), np.isnan(eager.loss_history_))
    kept = ~compiled.diverged_
    np.testing.assert_allclose(
        compiled.loss_history_[:, kept], eager.loss_history_[:, kept], rtol=1e-9
    )


def test_steps_compile_once_per_architecture():
    from scratchml.speed import jax as jax_path

    X, y = _jax_data()
    kwargs = {"hidden_layers": (5, 7), "epochs": 3, "tol": None}
    sm.MLPClassifier(learning_rate=0.01, **kwargs).fit(X, y)
    before = jax_path.compiled_count()
    # Another learning rate, another seed, a warm start and partial_fit: the same step.
    sm.MLPClassifier(learning_rate=0.05, seed=3, **kwargs).fit(X, y)
    warm = sm.MLPClassifier(warm_start=True, **kwargs).fit(X, y)
    warm.fit(X, y)
    online = sm.MLPClassifier(**kwargs)
    for _ in range(3):
        online.partial_fit(X, y, classes=[0, 1, 2])
    assert jax_path.compiled_count() == before
    sm.MLPClassifier(hidden_layers=(5, 8), epochs=3).fit(X, y)  # another architecture
    assert jax_path.compiled_count() == before + 1


@pytest.mark.parametrize("batch_size", [None, 50])
def test_a_stack_in_blocks_of_networks_equals_the_eager_stack(monkeypatch, batch_size):
    """On a CPU the compiled pass runs blocks of networks (and a smaller last block)."""
    from scratchml.speed import jax as jax_path

    X, y = _jax_data(arms=2)
    # A step's samples x 8 wide x 8 bytes: two networks a block, so 7 networks are 3 blocks + 1.
    monkeypatch.setattr(jax_path, "BLOCK_BYTES", 2 * (batch_size or 150) * 8 * 8)
    monkeypatch.setattr(jax_path, "_COMPILED", {})
    traced = []
    real_map = jax_path.jax.lax.map
    monkeypatch.setattr(jax_path.jax.lax, "map", lambda f, xs: traced.append(1) or real_map(f, xs))
    compiled, eager = _both(
        lambda: sm.StackedMLPClassifier(
            n_networks=7,
            hidden_layers=(8, 8),
            learning_rate=[0.01 * (i + 1) for i in range(7)],
            l2=[0.0, 1e-3, 0.0, 1e-2, 0.0, 0.0, 1e-4],
            batch_size=batch_size,
            epochs=20,
        ),
        X,
        y,
    )
    assert traced, "the compiled pass did not run in blocks"
    np.testing.assert_allclose(compiled.loss_history_, eager.loss_history_, rtol=1e-9)
    _assert_same_fit(compiled, eager)


def test_full_batch_epochs_run_in_chunks_of_one_compiled_call(monkeypatch):
    """Full batch: one call runs a chunk of epochs; a mini-batch epoch is one call."""
    from scratchml.speed.jax import JaxPath

    calls = []
    real = JaxPath.training_epochs

    def counted(self, *args, **kwargs):
        run = real(self, *args, **kwargs)
        return lambda *arrays: calls.append(arrays[-1]) or run(*arrays)

    monkeypatch.setattr(JaxPath, "training_epochs", counted)
    X, y = _jax_data()
    model = sm.MLPClassifier(hidden_layers=(8,), epochs=400, tol=None).fit(X, y)
    assert len(model.loss_history_) == 400 and sum(calls) == 400
    assert len(calls) < 400 / 4, f"{len(calls)} calls for 400 epochs"
    calls.clear()
    sm.MLPClassifier(hidden_layers=(8,), epochs=7, batch_size=40, tol=None).fit(X, y)
    assert calls == [1] * 7  # one compiled call per epoch, each running its four batches


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("stack", [False, True])
@pytest.mark.parametrize(
    "loss, n_outputs",
    [("softmax_cross_entropy", 3), ("binary_cross_entropy", 1), ("squared_error", 2)],
)
def test_the_feature_major_cpu_pass_equals_the_plain_pass(loss, n_outputs, stack, dtype):
    """On a CPU a narrow network's pass runs on the transposes of its arrays: the kernels
    compute the plain formulas on transposes, so the objective and gradients are the plain
    pass's, for one network and for a stack (with a shared and a per-network X)."""
    from scratchml.nn import layers
    from scratchml.nn.parameters import ParameterLayout
    from scratchml.speed import jax as jax_path

    xp = backends.get("jax")
    # float64: the same formulas to rounding; float32: to float32's rounding.
    value_rtol, rtol, atol = (1e-12, 1e-10, 1e-13) if dtype == "float64" else (2e-5, 2e-5, 1e-6)
    rng = np.random.default_rng(0)
    lead = (4,) if stack else ()
    sizes = [3, 5, 4, n_outputs]
    params = [
        (
            xp.asarray(rng.standard_normal((*lead, n_in, n_out)), dtype=dtype),
            xp.asarray(rng.standard_normal((*lead, n_out)), dtype=dtype),
        )
        for n_in, n_out in itertools.pairwise(sizes)
    ]
    assert jax_path._narrow(ParameterLayout.of(params))
    Y = rng.standard_normal((23, n_outputs))
    if loss != "squared_error":
        Y = (Y > 0).astype(float) if n_outputs == 1 else np.eye(3)[rng.integers(0, 3, 23)]
    inputs = [rng.standard_normal((23, 3))] + ([rng.standard_normal((4, 23, 3))] if stack else [])
    l2 = xp.asarray([0.0, 1e-2, 0.0, 1e-3], dtype=dtype) if stack else 1e-2
    activations = ["tanh", "relu"]
    for X in inputs:
        X, Y_ = xp.asarray(X, dtype=dtype), xp.asarray(Y, dtype=dtype)
        want_value, want = layers.loss_and_gradients(xp, params, X, Y_, activations, loss, l2)
        run = jax_path._FeatureMajor().loss_and_gradients(xp, activations, loss, l2)
        value, got = run(params, X, Y_)
        np.testing.assert_allclose(np.asarray(value), np.asarray(want_value), rtol=value_rtol)
        for pair, pair_want in zip(got, want, strict=True):
            for g, w in zip(pair, pair_want, strict=True):
                assert g.shape == w.shape and g.dtype == w.dtype
                np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=rtol, atol=atol)


def test_wide_networks_keep_the_row_major_cpu_pass(monkeypatch):
    """A network with a layer wider than NARROW trains row-major; both passes fit alike."""
    from scratchml.speed import jax as jax_path

    X, y = _jax_data()
    real_narrow = jax_path._narrow
    chosen: list[bool] = []
    monkeypatch.setattr(
        jax_path, "_narrow", lambda layout: chosen.append(real_narrow(layout)) or chosen[-1]
    )
    made = []
    for narrow in (64, 4):  # (8, 8) is narrow, then wide
        monkeypatch.setattr(jax_path, "NARROW", narrow)
        monkeypatch.setattr(jax_path, "_COMPILED", {})
        chosen.clear()
        made.append(sm.MLPClassifier(hidden_layers=(8, 8), epochs=30, tol=None, seed=1).fit(X, y))
        assert chosen and set(chosen) == {narrow == 64}
    _assert_same_fit(*made)
