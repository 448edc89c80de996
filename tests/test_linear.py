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


def _centred_lstsq(X, y, rcond=None):
    """lstsq's minimum-norm coefficients on centred data; the intercept from the means."""
    coef = np.linalg.lstsq(X - X.mean(0), y - y.mean(0), rcond=rcond)[0]
    return coef, y.mean(0) - X.mean(0) @ coef


@pytest.mark.parametrize("n_targets", [None, 2])
@pytest.mark.parametrize("seed", range(5))
def test_a_column_collinear_up_to_rounding_gives_lstsqs_minimum_norm(backend, seed, n_targets):
    # x4 = x1 + x2 holds up to rounding: XᵀX is singular in all but its last bits, and a
    # plain solve of the normal equations returns a finite but arbitrary answer.
    X, y = _regression(n_features=3, n_targets=n_targets, seed=seed)
    X = np.hstack([X, X[:, :1] + X[:, 1:2]])
    model = sm.LinearRegression().fit(on(backend, X), on(backend, y))
    coef, intercept = _centred_lstsq(X, y)
    coef = coef if n_targets is None else coef.T
    np.testing.assert_allclose(host(model.coef_), coef, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(host(model.intercept_), intercept, rtol=1e-8, atol=1e-10)
    assert np.linalg.norm(host(model.coef_)) == pytest.approx(np.linalg.norm(coef), rel=1e-8)


def test_float32_collinear_column_gives_lstsqs_minimum_norm(backend):
    X, y = _regression(n_features=3, seed=7)
    X = np.hstack([X, X[:, :1] - 2 * X[:, 2:3]]).astype(np.float32)
    y = y.astype(np.float32)
    model = sm.LinearRegression().fit(on(backend, X), on(backend, y))
    # NumPy's lstsq computes float32 in float64; its cutoff in float32's precision instead
    # treats the float32 rounding of the last column as what it is.
    cutoff = np.finfo(np.float32).eps * max(X.shape)
    coef, intercept = _centred_lstsq(X.astype(np.float64), y.astype(np.float64), cutoff)
    np.testing.assert_allclose(host(model.coef_), coef, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(host(model.intercept_), intercept, rtol=1e-4, atol=1e-5)


def test_fewer_samples_than_features_gives_lstsqs_minimum_norm(backend):
    X, y = _regression(n_samples=6, n_features=4, n_targets=2, seed=1)
    X = np.hstack([X, X[:, ::-1] ** 2])  # 8 features, 6 samples
    model = sm.LinearRegression().fit(on(backend, X), on(backend, y))
    coef, intercept = _centred_lstsq(X, y)
    np.testing.assert_allclose(host(model.coef_), coef.T, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(host(model.intercept_), intercept, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(host(model.predict(on(backend, X))), y, atol=1e-8)


def _ridge_fit(backend, solver, X, y, l2):
    if solver == "normal":
        return sm.LinearRegression(l2=l2).fit(on(backend, X), on(backend, y))
    # tol=None: every epoch runs; with standardised X the steps contract fast.
    gd = sm.LinearRegression(solver="gd", learning_rate=1.5, epochs=3000, l2=l2, tol=None)
    return gd.fit(on(backend, X), on(backend, y))


@pytest.mark.parametrize("solver", ["normal", "gd"])
@pytest.mark.parametrize("n_targets", [None, 3])
def test_ridge_matches_scikit_learn(backend, solver, n_targets):
    linear_model = pytest.importorskip("sklearn.linear_model")
    X, y = _regression(n_targets=n_targets, seed=2)
    X = (X - X.mean(0)) / X.std(0)
    l2 = 0.05
    model = _ridge_fit(backend, solver, X, y, l2)
    # The objective ½·mean(r²) + (l2/2)‖W‖², the mean over all n·k residuals, is k·n times
    # Ridge's ‖r‖² + α‖W‖² with α = l2 · n_samples · n_outputs (k = 1 for 1-D y).
    n_outputs = 1 if y.ndim == 1 else y.shape[1]
    ridge = linear_model.Ridge(alpha=l2 * X.shape[0] * n_outputs).fit(X, y)
    np.testing.assert_allclose(host(model.coef_), ridge.coef_, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(host(model.intercept_), ridge.intercept_, rtol=1e-8, atol=1e-10)


def test_multi_target_ridge_solvers_minimise_the_same_objective(backend):
    X, y = _regression(n_targets=3, seed=4)
    X = (X - X.mean(0)) / X.std(0)
    l2 = 0.1
    exact = _ridge_fit(backend, "normal", X, y, l2)
    gd = _ridge_fit(backend, "gd", X, y, l2)
    np.testing.assert_allclose(host(gd.coef_), host(exact.coef_), rtol=1e-8, atol=1e-10)
    # The objective that loss() reports (the documented one) is stationary at the solution.
    for dW, db in exact.gradients(on(backend, X), on(backend, y)):
        np.testing.assert_allclose(host(dW), 0.0, atol=1e-12)
        np.testing.assert_allclose(host(db), 0.0, atol=1e-12)


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
