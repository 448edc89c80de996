"""Linear models against numpy.linalg and scikit-learn."""

import numpy as np
import pytest

import scratchml as sm

from .conftest import host, on


def _regression(n_samples=60, n_features=4, n_targets=None, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, n_features)) * [1.0, 3.0, 0.5, 2.0][:n_features]
    shape = (n_features,) if n_targets is None else (n_features, n_targets)
    w = rng.standard_normal(shape)
    noise = 0.1 * rng.standard_normal((n_samples,) if n_targets is None else (n_samples, n_targets))
    return X, X @ w + 1.5 + noise


def _lstsq_with_intercept(X, y):
    design = np.hstack([X, np.ones((X.shape[0], 1))])
    solution = np.linalg.lstsq(design, y, rcond=None)[0]
    return solution[:-1], solution[-1]


@pytest.mark.parametrize("n_targets", [None, 3])
def test_normal_equations_match_lstsq(backend, n_targets):
    X, y = _regression(n_targets=n_targets)
    model = sm.LinearRegression().fit(on(backend, X), on(backend, y))
    coef, intercept = _lstsq_with_intercept(X, y)
    expected_coef = coef if n_targets is None else coef.T
    np.testing.assert_allclose(host(model.coef_), expected_coef, rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(host(model.intercept_), intercept, rtol=1e-9, atol=1e-10)
    prediction = model.predict(on(backend, X))
    assert sm.backends.backend_name(prediction) == backend
    assert host(prediction).shape == y.shape


def test_rank_deficient_gives_the_minimum_norm_solution_like_lstsq(backend):
    X, y = _regression(n_features=3)
    X = np.hstack([X, X[:, :1]])  # a duplicated column: XᵀX is singular
    model = sm.LinearRegression().fit(on(backend, X), on(backend, y))
    coef, _intercept = _lstsq_with_intercept(X - X.mean(0), y - y.mean())
    np.testing.assert_allclose(host(model.coef_), coef, rtol=1e-6, atol=1e-8)
    assert np.isfinite(host(model.intercept_))


def test_ridge_matches_scikit_learn(backend):
    linear_model = pytest.importorskip("sklearn.linear_model")
    X, y = _regression(n_targets=2)
    l2 = 0.05
    model = sm.LinearRegression(l2=l2).fit(on(backend, X), on(backend, y))
    # Our objective ½·mean(r²) + (l2/2)‖w‖² is Ridge's ‖r‖² + α‖w‖² with α = l2 · n_samples.
    ridge = linear_model.Ridge(alpha=l2 * X.shape[0]).fit(X, y)
    np.testing.assert_allclose(host(model.coef_), ridge.coef_, rtol=1e-8)
    np.testing.assert_allclose(host(model.intercept_), ridge.intercept_, rtol=1e-8)


def test_gradient_descent_converges_to_normal_equations(backend):
    X, y = _regression(n_features=2, seed=3)
    X = X / X.std(0)
    exact = sm.LinearRegression().fit(X, y)
    # tol=None: every one of the 500 epochs runs (the stopping rule is tested on its own).
    gd = sm.LinearRegression(solver="gd", learning_rate=0.5, epochs=500, record_every=50, tol=None)
    gd.fit(on(backend, X), on(backend, y))
    np.testing.assert_allclose(host(gd.coef_), exact.coef_, rtol=1e-6)
    np.testing.assert_allclose(host(gd.intercept_), exact.intercept_, rtol=1e-6)
    assert len(gd.loss_history_) == 500
    assert gd.loss_history_[-1] < gd.loss_history_[0]
    assert [s.epoch for s in gd.history_] == list(range(0, 501, 50))
    assert gd.score(on(backend, X), on(backend, y)) == pytest.approx(exact.score(X, y), rel=1e-6)


def test_r2_score_matches_scikit_learn():
    metrics = pytest.importorskip("sklearn.metrics")
    X, y = _regression(n_targets=2, seed=5)
    model = sm.LinearRegression().fit(X[:40], y[:40])
    expected = metrics.r2_score(y[40:], model.predict(X[40:]))
    assert model.score(X[40:], y[40:]) == pytest.approx(expected, rel=1e-10)


def test_logistic_regression_separates_blobs(backend, dtype):
    X, y = sm.data.blobs(200, centers=[[-3, -3], [3, 3]], cluster_std=1.0, seed=1, dtype=dtype)
    Xb, yb = on(backend, X), on(backend, y)
    model = sm.LogisticRegression().fit(Xb, yb)
    assert model.score(Xb, yb) == 1.0
    proba = model.predict_proba(Xb)
    assert sm.backends.backend_name(proba) == backend
    assert host(proba).dtype == np.dtype(dtype)
    np.testing.assert_allclose(host(proba).sum(1), 1.0, rtol=1e-5)
    assert host(model.coef_).shape == (1, 2) and host(model.intercept_).shape == (1,)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_logistic_regression_matches_scikit_learn(backend, n_classes):
    linear_model = pytest.importorskip("sklearn.linear_model")
    X, y = sm.data.blobs(150, centers=n_classes, cluster_std=2.5, seed=4, dtype="float64")
    X = (X - X.mean(0)) / X.std(0)
    l2 = 0.01
    model = sm.LogisticRegression(learning_rate=1.0, epochs=3000, l2=l2)
    model.fit(on(backend, X), on(backend, y))
    # scikit-learn minimises ½‖w‖² + C·Σ loss, i.e. our objective with C = 1 / (l2 · n_samples).
    reference = linear_model.LogisticRegression(C=1 / (l2 * X.shape[0]), tol=1e-12, max_iter=10_000)
    reference.fit(X, y)
    np.testing.assert_allclose(host(model.coef_), reference.coef_, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(host(model.intercept_), reference.intercept_, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(
        host(model.predict_proba(on(backend, X))), reference.predict_proba(X), atol=1e-5
    )


def test_logistic_keeps_original_labels(backend):
    X, y = sm.data.blobs(90, centers=3, seed=2, dtype="float64")
    labels = np.array([10, 20, 30])[y]
    model = sm.LogisticRegression().fit(on(backend, X), on(backend, labels))
    np.testing.assert_array_equal(host(model.classes_), [10, 20, 30])
    assert set(host(model.predict(on(backend, X))).tolist()) <= {10, 20, 30}
    assert model.score(on(backend, X), on(backend, labels)) > 0.9
