"""Multi-layer perceptrons: learning, scikit-learn as reference, determinism, namespaces."""

import warnings

import numpy as np
import pytest

import scratchml as sm

from .conftest import host, on


def test_two_spirals_small_tanh_network_learns(backend):
    X, y = sm.data.spirals(600, arms=2, noise=0.03, seed=0)
    Xb, yb = on(backend, X), on(backend, y)
    # tol=None: all 400 epochs run (stopping on a plateau is tested in test_convergence.py).
    clf = sm.MLPClassifier(hidden_layers=(16, 16), learning_rate=0.02, epochs=400, seed=0, tol=None)
    clf.fit(Xb, yb)
    assert clf.score(Xb, yb) >= 0.99
    assert len(clf.loss_history_) == 400 and clf.loss_history_[-1] < 0.1


def test_three_arms_mini_batch_adam(backend):
    X, y = sm.data.spirals(450, arms=3, noise=0.02, seed=1)
    Xb, yb = on(backend, X), on(backend, y)
    clf = sm.MLPClassifier(hidden_layers=(32, 32), epochs=150, batch_size=64, seed=1)
    clf.fit(Xb, yb)
    assert clf.score(Xb, yb) >= 0.97
    proba = host(clf.predict_proba(Xb))
    assert proba.shape == (450, 3)
    np.testing.assert_allclose(proba.sum(1), 1.0, rtol=1e-5)


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
@pytest.mark.parametrize("activation", ["relu", "leaky_relu", "sigmoid", "tanh", "identity"])
def test_every_optimizer_and_activation_reduces_the_loss(backend, optimizer, activation):
    X, y = sm.data.blobs(120, centers=[[-4, 0], [4, 0], [0, 5]], cluster_std=1.0, seed=3)
    Xb, yb = on(backend, X), on(backend, y)
    lr = {"sgd": 0.1, "momentum": 0.05, "adam": 0.01}[optimizer]
    clf = sm.MLPClassifier(
        hidden_layers=(8,), activation=activation, optimizer=optimizer, learning_rate=lr, epochs=60
    )
    clf.fit(Xb, yb)
    assert clf.loss_history_[-1] < 0.7 * clf.loss_history_[0]
    assert clf.score(Xb, yb) > 0.9


def test_outputs_live_in_the_input_namespace(backend, dtype):
    X, y = sm.data.blobs(50, centers=2, seed=0, dtype=dtype)
    Xb, yb = on(backend, X), on(backend, y)
    clf = sm.MLPClassifier(hidden_layers=(4,), epochs=5).fit(Xb, yb)
    for array in (clf.predict(Xb), clf.predict_proba(Xb), clf.classes_, *clf.params_[0]):
        assert sm.backends.backend_name(array) == backend
        assert sm.backends.device(array) == sm.backends.device(Xb)
    for W, b in clf.params_:
        assert host(W).dtype == np.dtype(dtype) and host(b).dtype == np.dtype(dtype)
    for dW, _db in clf.gradients(Xb, yb):
        assert host(dW).dtype == np.dtype(dtype)
    reg = sm.MLPRegressor(hidden_layers=(4,), epochs=5).fit(Xb, on(backend, X[:, 0] * 2))
    prediction = reg.predict(Xb)
    assert sm.backends.backend_name(prediction) == backend
    assert host(prediction).shape == (50,) and host(prediction).dtype == np.dtype(dtype)


def test_integer_features_are_promoted_to_float(backend):
    X = on(backend, np.array([[0, 1], [1, 0], [2, 2], [3, 1]] * 5))
    y = on(backend, np.array([0, 1, 0, 1] * 5))
    clf = sm.MLPClassifier(hidden_layers=(3,), epochs=3).fit(X, y)
    xp = sm.backends.namespace(X)
    assert xp.isdtype(clf.params_[0][0].dtype, "real floating")


def test_one_seed_gives_the_same_model_on_every_backend(backend):
    X, y = sm.data.spirals(200, arms=3, seed=2, dtype="float64")
    kwargs = dict(hidden_layers=(8, 8), epochs=40, batch_size=50, seed=5, learning_rate=0.01)
    reference = sm.MLPClassifier(**kwargs).fit(X, y)
    model = sm.MLPClassifier(**kwargs).fit(on(backend, X), on(backend, y))
    for (W, b), (rW, rb) in zip(model.params_, reference.params_, strict=True):
        np.testing.assert_allclose(host(W), rW, rtol=0, atol=1e-10)
        np.testing.assert_allclose(host(b), rb, rtol=0, atol=1e-10)
    np.testing.assert_allclose(model.loss_history_, reference.loss_history_, rtol=1e-10)


def test_same_seed_same_model_different_seed_different_model():
    X, y = sm.data.spirals(100, seed=0)
    a = sm.MLPClassifier(hidden_layers=(4,), epochs=5, seed=1).fit(X, y)
    b = sm.MLPClassifier(hidden_layers=(4,), epochs=5, seed=1).fit(X, y)
    c = sm.MLPClassifier(hidden_layers=(4,), epochs=5, seed=2).fit(X, y)
    np.testing.assert_array_equal(a.params_[0][0], b.params_[0][0])
    assert not np.allclose(a.params_[0][0], c.params_[0][0])


def test_initialisation_scales_by_fan_in():
    X = np.zeros((10, 400))
    y = np.arange(10) % 2
    relu = sm.MLPClassifier(hidden_layers=(300,), activation="relu", epochs=1, learning_rate=1e-12)
    tanh = sm.MLPClassifier(hidden_layers=(300,), activation="tanh", epochs=1, learning_rate=1e-12)
    assert relu.fit(X, y).params_[0][0].std() == pytest.approx(np.sqrt(2 / 400), rel=0.02)
    assert tanh.fit(X, y).params_[0][0].std() == pytest.approx(np.sqrt(1 / 400), rel=0.02)
    assert tanh.params_[1][0].std() == pytest.approx(np.sqrt(1 / 300), rel=0.15)


def _sklearn_full_batch_sgd(kind, X, y, clf, epochs, lr, l2):
    """scikit-learn's MLP trained from our initial parameters with plain full-batch SGD."""
    neural_network = pytest.importorskip("sklearn.neural_network")
    cls = neural_network.MLPClassifier if kind == "classifier" else neural_network.MLPRegressor
    reference = cls(
        hidden_layer_sizes=tuple(clf.hidden_layers),
        activation=clf.activation,
        solver="sgd",
        learning_rate_init=lr,
        momentum=0.0,
        nesterovs_momentum=False,
        batch_size=X.shape[0],
        alpha=l2 * X.shape[0],  # scikit-learn divides alpha by n_samples
        shuffle=False,
        max_iter=1,
        n_iter_no_change=10**9,
        tol=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference.fit(X, y)  # builds its layers; we then overwrite them with ours
        initial = clf.history_[0].params
        reference.coefs_ = [np.array(W) for W, _ in initial]
        reference.intercepts_ = [np.array(b) for _, b in initial]
        reference.set_params(warm_start=True, max_iter=epochs)
        reference._optimizer = None
        reference.fit(X, y)
    return reference


@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_training_trajectory_matches_scikit_learn(kind):
    X, labels = sm.data.spirals(80, arms=3, seed=4, dtype="float64")
    lr, l2, epochs = 0.05, 0.001, 30
    kwargs = dict(
        hidden_layers=(6, 5),
        activation="tanh",
        optimizer="sgd",
        learning_rate=lr,
        epochs=epochs,
        l2=l2,
        record_every=epochs,
        seed=0,
        # The reference's stopping rule, so that neither run stops before `epochs`.
        tol=0.0,
        n_iter_no_change=10**9,
    )
    if kind == "classifier":
        y = labels
        ours = sm.MLPClassifier(**kwargs).fit(X, y)
    else:
        # One output: scikit-learn's gradient sums over outputs while its loss averages.
        y = X[:, 0] * X[:, 1] + np.sin(3 * X[:, 0])
        ours = sm.MLPRegressor(**kwargs).fit(X, y)
    reference = _sklearn_full_batch_sgd(kind, X, y, ours, epochs, lr, l2)
    assert ours.n_iter_ == epochs == len(reference.loss_curve_) - 1
    for (W, b), rW, rb in zip(ours.params_, reference.coefs_, reference.intercepts_, strict=True):
        np.testing.assert_allclose(W, rW, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(b, rb, rtol=1e-9, atol=1e-12)
    if kind == "classifier":
        np.testing.assert_allclose(ours.predict_proba(X), reference.predict_proba(X), atol=1e-12)
    else:
        np.testing.assert_allclose(ours.predict(X), reference.predict(X), atol=1e-12)


def test_accuracy_comparable_to_scikit_learn():
    neural_network = pytest.importorskip("sklearn.neural_network")
    X, y = sm.data.spirals(500, arms=2, noise=0.05, seed=7, dtype="float64")
    Xt, yt = sm.data.spirals(500, arms=2, noise=0.05, seed=8, dtype="float64")
    ours = sm.MLPClassifier(hidden_layers=(32, 32), learning_rate=0.01, epochs=500).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = neural_network.MLPClassifier(
            (32, 32),
            activation="tanh",
            learning_rate_init=0.01,
            max_iter=500,
            batch_size=500,
            random_state=0,
        ).fit(X, y)
    assert ours.score(Xt, yt) >= reference.score(Xt, yt) - 0.03


def test_regressor_multi_output_learns_a_smooth_function(backend):
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (300, 2))
    Y = np.stack([np.sin(2 * X[:, 0]), X[:, 0] * X[:, 1]], axis=1)
    reg = sm.MLPRegressor(hidden_layers=(32,), epochs=400, learning_rate=0.02)
    reg.fit(on(backend, X), on(backend, Y))
    assert host(reg.predict(on(backend, X))).shape == (300, 2)
    assert reg.score(on(backend, X), on(backend, Y)) > 0.95


def test_history_snapshots_and_loss_method(backend):
    X, y = sm.data.spirals(100, seed=0)
    Xb, yb = on(backend, X), on(backend, y)
    clf = sm.MLPClassifier(hidden_layers=(4, 4), epochs=25, record_every=10).fit(Xb, yb)
    assert [s.epoch for s in clf.history_] == [0, 10, 20, 25]
    assert all(len(s.params) == 3 for s in clf.history_)
    # The full-batch epoch loss is the objective at the epoch's starting parameters.
    last = sm.MLPClassifier(hidden_layers=(4, 4), epochs=24).fit(Xb, yb)
    assert clf.loss_history_[-1] == pytest.approx(last.loss(Xb, yb), rel=1e-5)
    grads = clf.gradients(Xb, yb)
    assert [tuple(host(g).shape) for g, _ in grads] == [
        tuple(host(W).shape) for W, _ in clf.params_
    ]


def test_progress_bar_reports_epochs(capsys):
    X, y = sm.data.spirals(50, seed=0)
    sm.MLPClassifier(hidden_layers=(3,), epochs=20, progress=True).fit(X, y)
    err = capsys.readouterr().err
    assert "20/20 epochs" in err and "loss" in err


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_divergence_raises_and_keeps_last_finite_parameters():
    X, y = sm.data.noisy_line(50, seed=0, dtype="float64")
    X = X * 1000  # unscaled features and a large step: gradient descent blows up
    # tol=None: the rising loss would otherwise end training (no improvement) before overflow.
    model = sm.LinearRegression(solver="gd", learning_rate=1.0, epochs=1000, tol=None)
    with pytest.raises(sm.DivergenceError, match="diverged at epoch") as info:
        model.fit(X, y)
    assert info.value.epoch == len(model.loss_history_) + 1
    assert not np.isfinite(info.value.loss)
    assert all(np.isfinite(model.loss_history_))
    W, b = model.params_[0]
    assert np.all(np.isfinite(W)) and np.all(np.isfinite(b))
    # The kept parameters are exactly those whose loss was recorded last.
    assert model.loss(X, y) == pytest.approx(model.loss_history_[-1], rel=1e-9)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_divergence_in_mini_batches():
    X, y = sm.data.spirals(200, seed=0, dtype="float64")
    clf = sm.MLPRegressor(
        hidden_layers=(8,), optimizer="sgd", learning_rate=50.0, epochs=200, batch_size=16
    )
    with pytest.raises(sm.DivergenceError):
        clf.fit(X * 100, y * 1.0)
    assert all(np.all(np.isfinite(W)) for W, _ in clf.params_)


def test_estimator_api_follows_scikit_learn():
    base = pytest.importorskip("sklearn.base")
    clf = sm.MLPClassifier(hidden_layers=(5,), learning_rate=0.1)
    params = clf.get_params()
    assert params["hidden_layers"] == (5,) and params["learning_rate"] == 0.1
    clone = base.clone(clf)
    assert clone.get_params() == params and clone is not clf
    assert clf.set_params(epochs=3) is clf and clf.epochs == 3
    with pytest.raises(ValueError, match="valid parameters are"):
        clf.set_params(epoch=3)
    assert "hidden_layers=(5,)" in repr(clf)
    for cls in (sm.LinearRegression, sm.LogisticRegression, sm.MLPRegressor):
        assert base.clone(cls()).get_params() == cls().get_params()


def test_fitted_models_work_in_scikit_learn_tools():
    model_selection = pytest.importorskip("sklearn.model_selection")
    X, y = sm.data.blobs(120, centers=2, seed=0, dtype="float64")
    scores = model_selection.cross_val_score(sm.LogisticRegression(epochs=200), X, y, cv=3)
    assert np.all(scores > 0.95)
