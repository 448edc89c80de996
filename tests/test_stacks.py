"""Stacked networks: network i of a stack is the network fitted alone with its settings."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import scratchml as sm
from scratchml import backends
from scratchml._training import ChunkPolicy, chunking
from scratchml.stacks import StackedMLPClassifier, StackedMLPRegressor

from .conftest import host, on

RATES = [0.05, 0.02, 0.1]
L2S = [0.0, 0.01, 0.001]
SEEDS = [3, 4, 7]


def _classification(n=48):
    return sm.data.spirals(n, arms=3, seed=2, dtype="float64")


def _regression(n=48):
    X, _ = sm.data.spirals(n, arms=2, seed=5, dtype="float64")
    return X, np.sin(2 * X[:, 0]) + X[:, 0] * X[:, 1]


def _assert_same_network(stacked, single, rtol=1e-10):
    for (W, b), (W1, b1) in zip(stacked.params_, single.params_, strict=True):
        np.testing.assert_allclose(host(W), host(W1), rtol=rtol, atol=1e-13)
        np.testing.assert_allclose(host(b), host(b1), rtol=rtol, atol=1e-13)


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
@pytest.mark.parametrize("batch_size", [None, 16], ids=["full-batch", "mini-batch"])
@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_network_i_equals_the_network_fitted_alone(backend, optimizer, batch_size, kind):
    X, y = _classification() if kind == "classifier" else _regression()
    Xb, yb = on(backend, X), on(backend, y)
    stack_cls, single_cls = (
        (StackedMLPClassifier, sm.MLPClassifier)
        if kind == "classifier"
        else (StackedMLPRegressor, sm.MLPRegressor)
    )
    settings = dict(hidden_layers=(5, 4), optimizer=optimizer, epochs=12, batch_size=batch_size)
    stack = stack_cls(n_networks=3, learning_rate=RATES, l2=L2S, seed=SEEDS, **settings).fit(Xb, yb)
    assert stack.loss_history_.shape == (12, 3)
    assert stack.diverged_.tolist() == [False, False, False]
    for i, (rate, l2, seed) in enumerate(zip(RATES, L2S, SEEDS, strict=True)):
        alone = single_cls(learning_rate=rate, l2=l2, seed=seed, **settings).fit(Xb, yb)
        _assert_same_network(stack.model(i), alone)
        np.testing.assert_allclose(stack.loss_history_[:, i], alone.loss_history_, rtol=1e-10)


def test_per_network_data_equals_separate_fits():
    """X (M, n, d) and y (M, n): network i trains on its own data set."""
    data = [sm.data.spirals(40, arms=2, seed=s, dtype="float64") for s in range(3)]
    X = np.stack([X for X, _ in data])
    y = np.stack([y for _, y in data])
    settings = dict(hidden_layers=(4,), epochs=10, batch_size=16, learning_rate=0.05)
    stack = StackedMLPClassifier(n_networks=3, seed=0, record_every=4, **settings).fit(X, y)
    for i in range(3):
        alone = sm.MLPClassifier(seed=i, record_every=4, **settings).fit(X[i], y[i])
        _assert_same_network(stack.model(i), alone)
        snapshots = stack.model(i).history_
        assert [s.epoch for s in snapshots] == [s.epoch for s in alone.history_] == [0, 4, 8, 10]
        for mine, theirs in zip(snapshots, alone.history_, strict=True):
            for (W, _), (W1, _) in zip(mine.params, theirs.params, strict=True):
                np.testing.assert_allclose(W, W1, rtol=1e-10, atol=1e-13)
    assert stack.predict(X).shape == (3, 40)
    np.testing.assert_allclose(
        stack.score(X, y), [stack.model(i).score(X[i], y[i]) for i in range(3)], rtol=1e-12
    )


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("one_chunk", [False, True])
def test_a_diverging_network_is_frozen_and_flagged_the_others_train_on(backend, one_chunk):
    """Also when the network diverges inside a chunk of epochs (one chunk of all 40): its
    losses read NaN from that epoch on, not from the chunk's end."""
    X, y = _regression(60)
    X, y = X * 5, y * 10
    Xb, yb = on(backend, X), on(backend, y)
    rates = [0.001, 1.0, 0.002]
    settings = dict(hidden_layers=(6,), activation="relu", optimizer="sgd", epochs=40)
    stack = StackedMLPRegressor(n_networks=3, learning_rate=rates, seed=[0, 1, 2], **settings)
    policy = ChunkPolicy(max_epochs=40, fixed=True) if one_chunk else ChunkPolicy()
    with chunking(policy):
        stack.fit(Xb, yb)  # nothing raised
    assert stack.diverged_.tolist() == [False, True, False]
    assert stack.diverged_.dtype == np.bool_
    for i in (0, 2):
        alone = sm.MLPRegressor(learning_rate=rates[i], seed=i, **settings).fit(Xb, yb)
        _assert_same_network(stack.model(i), alone)
    # The diverged network keeps the parameters its single fit keeps: the last finite ones.
    alone = sm.MLPRegressor(learning_rate=rates[1], seed=1, **settings)
    with pytest.raises(sm.DivergenceError) as info:
        alone.fit(Xb, yb)
    frozen = stack.model(1)
    _assert_same_network(frozen, alone)
    assert all(np.all(np.isfinite(host(W))) for W, _ in stack.params_)
    column = stack.loss_history_[:, 1]
    n_finite = info.value.epoch - 1
    assert np.all(np.isfinite(column[:n_finite])) and not np.isfinite(column[n_finite])
    assert np.all(np.isnan(column[n_finite + 1 :]))
    assert frozen.loss_history_ == pytest.approx(alone.loss_history_, rel=1e-10)


def test_predict_score_and_model_agree(tmp_path):
    X, y = _classification(60)
    stack = StackedMLPClassifier(n_networks=4, hidden_layers=(6,), epochs=30, seed=10).fit(X, y)
    predicted, proba = stack.predict(X), stack.predict_proba(X)
    assert predicted.shape == (4, 60) and proba.shape == (4, 60, 3)
    np.testing.assert_allclose(proba.sum(axis=-1), 1.0)
    scores = stack.score(X, y)
    assert isinstance(scores, np.ndarray) and scores.shape == (4,)
    for i in range(4):
        single = stack.model(i)
        assert isinstance(single, sm.MLPClassifier) and single.seed == 10 + i
        np.testing.assert_array_equal(single.predict(X), predicted[i])
        np.testing.assert_allclose(single.predict_proba(X), proba[i], rtol=1e-12)
        assert single.score(X, y) == pytest.approx(scores[i])
        assert single.loss_history_ == pytest.approx(stack.loss_history_[:, i].tolist())
        loaded = sm.load(single.save(tmp_path / f"net{i}.npz"), backend="numpy")
        np.testing.assert_array_equal(loaded.predict(X), predicted[i])
    best = stack.best_index(X, y)
    assert scores[best] == scores.max()
    assert stack.best_model().loss_history_[-1] == stack.loss_history_[-1].min()
    with pytest.raises(IndexError, match="network index"):
        stack.model(4)


def test_binary_and_string_labels():
    X, y = sm.data.spirals(50, arms=2, seed=0, dtype="float64")
    labels = np.array(["left", "right"])[y]
    stack = StackedMLPClassifier(n_networks=2, hidden_layers=(4,), epochs=20).fit(X, labels)
    assert stack.classes_.tolist() == ["left", "right"]
    predicted = stack.predict(X)
    assert predicted.shape == (2, 50) and set(np.unique(predicted)) <= {"left", "right"}
    assert stack.predict_proba(X).shape == (2, 50, 2)
    alone = sm.MLPClassifier(hidden_layers=(4,), epochs=20, seed=1).fit(X, labels)
    np.testing.assert_array_equal(stack.model(1).predict(X), alone.predict(X))


def test_regressor_predict_and_score_shapes():
    X, y = _regression(40)
    Y = np.stack([y, -y], axis=1)
    stack = StackedMLPRegressor(n_networks=2, hidden_layers=(5,), epochs=20).fit(X, Y)
    assert stack.predict(X).shape == (2, 40, 2)
    scores = stack.score(X, Y)
    for i in range(2):
        assert stack.model(i).score(X, Y) == pytest.approx(scores[i], rel=1e-10)
    one = StackedMLPRegressor(n_networks=2, hidden_layers=(5,), epochs=5).fit(X, y)
    assert one.predict(X).shape == (2, 40)
    assert one.model(0).predict(X).shape == (40,)


def test_outputs_live_in_the_input_namespace(backend):
    X, y = _classification(30)
    Xb, yb = on(backend, X, "float32"), on(backend, y)
    stack = StackedMLPClassifier(n_networks=2, hidden_layers=(3,), epochs=5).fit(Xb, yb)
    assert backends.backend_name(stack.params_[0][0]) == backend
    assert stack.params_[0][0].shape == (2, 2, 3) and stack.params_[0][1].shape == (2, 3)
    assert backends.backend_name(stack.predict(Xb)) == backend
    assert stack.params_[0][0].dtype == Xb.dtype
    assert stack.score(Xb, yb).shape == (2,)


def test_estimator_api_and_validation():
    base = pytest.importorskip("sklearn.base")
    stack = StackedMLPClassifier(n_networks=3, learning_rate=[0.1, 0.2, 0.3])
    params = stack.get_params()
    assert next(iter(params)) == "n_networks" and params["learning_rate"] == [0.1, 0.2, 0.3]
    assert base.clone(stack).get_params() == params
    assert stack.set_params(epochs=3) is stack and stack.epochs == 3
    X, y = _classification(20)
    with pytest.raises(ValueError, match="learning_rate must be one value or a sequence"):
        StackedMLPClassifier(n_networks=2, learning_rate=[0.1, 0.2, 0.3]).fit(X, y)
    with pytest.raises(ValueError, match=r"l2\[1\]"):
        StackedMLPClassifier(n_networks=2, l2=[0.0, -1.0]).fit(X, y)
    with pytest.raises(ValueError, match="seed must be one value"):
        StackedMLPClassifier(n_networks=2, seed=[1]).fit(X, y)
    with pytest.raises(ValueError, match="n_networks"):
        StackedMLPClassifier(n_networks=0).fit(X, y)
    with pytest.raises(ValueError, match="n_networks = 2"):
        StackedMLPClassifier(n_networks=2).fit(np.stack([X, X, X]), np.stack([y, y, y]))
    with pytest.raises(ValueError, match="activation"):
        StackedMLPClassifier(n_networks=2, activation="swish").fit(X, y)
    with pytest.raises(
        TypeError, match=r"StackedMLPClassifier got an unexpected keyword.*hidden_layers"
    ):
        StackedMLPClassifier(hidden_layer_sizes=(3,))
    with pytest.raises(sm.NotFittedError):
        StackedMLPClassifier().predict(X)
    fitted = StackedMLPClassifier(n_networks=2, hidden_layers=(3,), epochs=2).fit(X, y)
    with pytest.raises(ValueError, match="features"):
        fitted.predict(X[:, :1])


def test_progress_bar_reports_the_stack(capsys):
    X, y = _classification(30)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        StackedMLPClassifier(n_networks=3, hidden_layers=(3,), epochs=10, progress=True).fit(X, y)
    err = capsys.readouterr().err
    assert "3 networks" in err and "10/10 epochs" in err


def test_pandas_input_keeps_feature_names():
    pd = pytest.importorskip("pandas")
    X, y = sm.data.spirals(40, arms=2, seed=0, dtype="float64")
    frame = pd.DataFrame(X, columns=["x0", "x1"])
    labels = pd.Series(np.array(["in", "out"])[y])
    stack = StackedMLPClassifier(n_networks=2, hidden_layers=(3,), epochs=5).fit(frame, labels)
    assert stack.feature_names_in_.tolist() == ["x0", "x1"]
    assert stack.model(0).feature_names_in_.tolist() == ["x0", "x1"]
    assert stack.score(frame, labels).shape == (2,)
    with pytest.raises(ValueError, match="feature names should match"):
        stack.predict(frame[["x1", "x0"]])


@pytest.mark.parametrize("init", ["auto", "he", "orthogonal"])
def test_initial_networks_equal_single_initialisations_exactly(backend, init):
    X, y = _classification(30)
    Xb, yb = on(backend, X, "float32"), on(backend, y)
    settings = dict(hidden_layers=(4, 3), epochs=1, record_every=1, init=init)
    stack = StackedMLPClassifier(n_networks=3, seed=5, **settings).fit(Xb, yb)
    alone = sm.MLPClassifier(seed=7, **settings).fit(Xb, yb)
    initial, expected = stack.model(2).history_[0].params, alone.history_[0].params
    for (W, b), (W1, b1) in zip(initial, expected, strict=True):
        np.testing.assert_array_equal(host(W), host(W1))
        np.testing.assert_array_equal(host(b), host(b1))


def test_per_network_values_may_be_a_numpy_array():
    X, y = _classification(30)
    rates = np.array([0.05, 0.2])
    stack = StackedMLPClassifier(
        n_networks=2, hidden_layers=(3,), learning_rate=rates, epochs=5
    ).fit(X, y)
    assert stack.model(1).learning_rate == 0.2
    with pytest.raises(ValueError, match=r"learning_rate\[0\] must be a positive number"):
        StackedMLPClassifier(n_networks=2, learning_rate=np.array([-1.0, 0.1])).fit(X, y)
