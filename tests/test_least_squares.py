"""LinearRegression's normal solver in float32 on unscaled columns, against float64 references.

Each case draws columns on scales 10⁻³ to 10³ (and means far from zero) and a target to
which every column contributes about equally; the float32 fit must agree with
numpy.linalg.lstsq computed in float64 on the same float32 data, and with scikit-learn.
Coefficients are compared in the units of their column (coefficient × the column's
standard deviation, relative to y's), so that a dropped small-scale column counts as an
error of order one, whatever its scale.
"""

import re

import numpy as np
import pytest

pytest.importorskip("hypothesis")

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import scratchml as sm

from .conftest import host, on

EPS32 = float(np.finfo(np.float32).eps)
PROPERTY = settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _columns(seed, n_samples, n_features, log_scale_range, correlation, offset):
    """float32 X with columns on scales 10^±log_scale_range, y (float32) and the scales."""
    rng = np.random.default_rng(seed)
    scales = 10.0 ** rng.uniform(-log_scale_range, log_scale_range, n_features)
    shared = rng.standard_normal((n_samples, 1))
    Z = np.sqrt(1 - correlation) * rng.standard_normal((n_samples, n_features))
    Z += np.sqrt(correlation) * shared
    X = (Z + offset * rng.standard_normal(n_features)) * scales
    w = rng.standard_normal(n_features) / scales  # each column adds about as much to y
    y = X @ w + 3.0 + 0.1 * rng.standard_normal(n_samples)
    return X.astype(np.float32), y.astype(np.float32)


def _centred_scaled_condition(X):
    """cond of X's centred columns at unit norm: what float32 accuracy depends on."""
    centred = X - X.mean(0)
    return np.linalg.cond(centred / np.linalg.norm(centred, axis=0))


def _column_error(coef, reference, X, y):
    """max_j |coef_j − reference_j|·std(x_j) / std(y): the error in each column's units."""
    return float(np.max(np.abs((coef - reference) * X.std(0))) / y.std())


def _lstsq64(X, y):
    X64, y64 = X.astype(np.float64), y.astype(np.float64)
    design = np.hstack([X64, np.ones((X64.shape[0], 1))])
    solution = np.linalg.lstsq(design, y64, rcond=None)[0]
    return solution[:-1], solution[-1]


sizes = st.tuples(st.integers(1, 5), st.integers(0, 3000)).map(
    lambda t: (t[0] + 2 + t[1], t[0])  # (n_samples, n_features), n_samples > n_features + 1
)


@PROPERTY
@given(
    seed=st.integers(0, 2**32 - 1),
    size=sizes,
    log_scale_range=st.floats(0, 3),
    correlation=st.sampled_from([0.0, 0.5, 0.9, 0.99]),
    offset=st.sampled_from([0.0, 1.0, 100.0]),
)
@example(seed=0, size=(20_000, 3), log_scale_range=3.0, correlation=0.0, offset=0.0)
def test_float32_least_squares_on_unscaled_columns_matches_lstsq_in_float64(
    backend, seed, size, log_scale_range, correlation, offset
):
    linear_model = pytest.importorskip("sklearn.linear_model")
    X, y = _columns(seed, *size, log_scale_range, correlation, offset)
    coef64, intercept64 = _lstsq64(X, y)
    model = sm.LinearRegression().fit(on(backend, X), on(backend, y))
    assert host(model.coef_).dtype == np.float32
    # A backward-stable float32 solver is off by about ε·cond² in these units.
    tolerance = 1e-5 + 50 * EPS32 * _centred_scaled_condition(X) ** 2
    error = _column_error(host(model.coef_), coef64, X, y)
    assert error <= tolerance
    # At least as right as scikit-learn's own float32 fit (scipy's lstsq), up to rounding.
    reference32 = linear_model.LinearRegression().fit(X, y)
    assert error <= 10 * _column_error(reference32.coef_, coef64, X, y) + 1e-6
    prediction = host(model.predict(on(backend, X))).astype(np.float64)
    expected = X.astype(np.float64) @ coef64 + intercept64
    assert np.max(np.abs(prediction - expected)) <= 1e-4 * (np.abs(expected).max() + y.std())


@pytest.mark.parametrize(("n_samples", "large"), [(10_000, 1000.0), (100_000, 100.0)])
def test_a_small_scale_feature_is_kept_in_float32(backend, n_samples, large):
    # Two informative features on scales `large` and 1: unscaled, the small one's singular
    # value fell under lstsq's cutoff ε·max(n, d)·s_max and its coefficient came out ~1e-8.
    rng = np.random.default_rng(0)
    X = (rng.standard_normal((n_samples, 2)) * [large, 1.0]).astype(np.float32)
    y = (X @ np.array([3.0 / large, 2.0]) + 0.1 * rng.standard_normal(n_samples)).astype(np.float32)
    coef64, _ = _lstsq64(X, y)
    model = sm.LinearRegression().fit(on(backend, X), on(backend, y))
    np.testing.assert_allclose(host(model.coef_), coef64, rtol=1e-5)
    assert model.score(on(backend, X), on(backend, y)) > 0.99


@PROPERTY
@given(
    seed=st.integers(0, 2**32 - 1),
    size=sizes,
    log_scale_range=st.floats(0, 3),
    log_l2=st.floats(-8, 0),
    n_targets=st.sampled_from([None, 2]),
)
def test_float32_ridge_on_unscaled_columns_matches_scikit_learn_in_float64(
    backend, seed, size, log_scale_range, log_l2, n_targets
):
    linear_model = pytest.importorskip("sklearn.linear_model")
    X, y = _columns(seed, *size, log_scale_range, correlation=0.5, offset=1.0)
    if n_targets is not None:
        y = np.stack([y, np.float32(2) * y - np.float32(1)], axis=1)
    l2 = 10.0**log_l2
    k = 1 if n_targets is None else n_targets
    X64, y64 = X.astype(np.float64), y.astype(np.float64)
    ridge = linear_model.Ridge(alpha=l2 * X.shape[0] * k, solver="svd").fit(X64, y64)
    model = sm.LinearRegression(l2=l2).fit(on(backend, X), on(backend, y))
    coef = host(model.coef_)
    tolerance = 1e-5 + 50 * EPS32 * _centred_scaled_condition(X) ** 2
    for j in range(k):
        ours = coef if n_targets is None else coef[j]
        theirs = ridge.coef_ if n_targets is None else ridge.coef_[j]
        target = y if n_targets is None else y[:, j]
        assert _column_error(ours, theirs, X, target) <= tolerance


@PROPERTY
@given(
    seed=st.integers(0, 2**32 - 1),
    size=sizes,
    power=st.integers(-12, 12),
)
def test_a_column_duplicated_on_another_scale_gives_lstsqs_minimum_norm(backend, seed, size, power):
    # x_d = 2^power · x_0 exactly in float32: X has rank d − 1 in any precision, and lstsq
    # (float64) gives the solution of smallest norm, whatever the scales.
    X, y = _columns(seed, *size, log_scale_range=2, correlation=0.0, offset=1.0)
    X = np.hstack([X, np.float32(2.0**power) * X[:, :1]])
    coef64, intercept64 = _lstsq64(X, y)
    model = sm.LinearRegression().fit(on(backend, X), on(backend, y))
    coef = host(model.coef_).astype(np.float64)
    # The same fit: the duplicated pair's sum and the other columns, in their columns' units.
    pair, pair64 = coef[0] + 2.0**power * coef[-1], coef64[0] + 2.0**power * coef64[-1]
    tolerance = 1e-5 + 50 * EPS32 * _centred_scaled_condition(X[:, :-1]) ** 2
    assert _column_error(np.r_[pair, coef[1:-1]], np.r_[pair64, coef64[1:-1]], X[:, :-1], y) <= (
        tolerance
    )
    # Split between the pair as the smallest norm has it. A float32 solver gets the minimum
    # norm solution to about ε·cond·‖W‖ in W's own units, where the other columns' large
    # coefficients (small-scale columns) dominate ‖W‖.
    norm64 = np.linalg.norm(coef64)
    np.testing.assert_allclose(coef, coef64, rtol=0, atol=1e-3 * norm64)
    assert np.linalg.norm(coef) == pytest.approx(norm64, rel=1e-4)
    prediction = host(model.predict(on(backend, X))).astype(np.float64)
    expected = X.astype(np.float64) @ coef64 + intercept64
    assert np.max(np.abs(prediction - expected)) <= 1e-4 * (np.abs(expected).max() + y.std())


def test_a_constant_column_gets_a_zero_coefficient(backend):
    X, y = _columns(3, 500, 2, log_scale_range=1, correlation=0.0, offset=0.0)
    X = np.hstack([X, np.full((500, 1), 0.1, dtype=np.float32)])  # 0.1 is inexact in binary
    model = sm.LinearRegression().fit(on(backend, X), on(backend, y))
    coef64, _ = _lstsq64(X[:, :2], y)
    assert host(model.coef_)[2] == 0.0
    np.testing.assert_allclose(host(model.coef_)[:2], coef64, rtol=1e-4)


def test_float16_input_is_solved_in_float32_and_kept_in_float16(backend):
    if backend == "array_api_strict":
        pytest.skip("array_api_strict has no float16 (the standard has none)")
    X, y = _columns(4, 200, 3, log_scale_range=1, correlation=0.0, offset=1.0)
    X16, y16 = X.astype(np.float16), y.astype(np.float16)
    model = sm.LinearRegression().fit(on(backend, X16), on(backend, y16))
    assert host(model.coef_).dtype == np.float16
    coef64, intercept64 = _lstsq64(X16, y16)
    # The solution rounded to float16: half a unit in the last place, 2⁻¹¹ relative.
    np.testing.assert_allclose(host(model.coef_), coef64, rtol=2e-3, atol=1e-3)
    np.testing.assert_allclose(host(model.intercept_), intercept64, rtol=2e-3, atol=1e-3)
    assert model.score(on(backend, X16), on(backend, y16)) > 0.99
    ridge = sm.LinearRegression(l2=0.1).fit(on(backend, X16), on(backend, y16))
    assert np.all(np.isfinite(host(ridge.coef_)))


@pytest.mark.parametrize(
    ("dtype", "tiny", "spans"),
    [("float64", 2.2250738585e-313, "2.23e-313"), ("float32", 1e-40, "1e-40")],
)
def test_coefficients_beyond_the_dtypes_range_are_refused_naming_the_column(
    backend, dtype, tiny, spans
):
    """A lone column that varies only in subnormal numbers needs a coefficient of about
    1/tiny to fit y (numpy.linalg.lstsq's overflows too): a ValueError naming the column,
    not an infinite or NaN coefficient. A penalty gives a finite one; beside a column of
    ordinary scale, it is below the rank cutoff and gets lstsq's zero. A library that
    flushes subnormal numbers to zero (XLA on the CPU) sees a zero column: coefficient 0."""
    X = np.array([[tiny], [0.0], [0.0], [0.0]], dtype=dtype)
    y = np.array([1.0, 2.0, 0.5, 3.0], dtype=dtype)
    try:
        model = sm.LinearRegression().fit(on(backend, X), on(backend, y))
    except ValueError as error:
        assert re.search(rf"overflow {dtype}: column\(s\) 0 \(spans {spans}\)", str(error))
    else:
        assert backend == "jax", f"{backend} returned {host(model.coef_)}"
        assert host(model.coef_)[0] == 0.0
    ridge = sm.LinearRegression(l2=1.0).fit(on(backend, X), on(backend, y))
    assert np.all(np.isfinite(host(ridge.coef_)))
    beside = np.hstack([np.array([[1.0], [2.0], [4.0], [3.0]], dtype=dtype), X])
    model = sm.LinearRegression().fit(on(backend, beside), on(backend, y))
    assert host(model.coef_)[1] == 0.0 and np.isfinite(host(model.coef_)[0])
