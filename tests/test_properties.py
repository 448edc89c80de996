"""Property-based checks (hypothesis) of the numerically delicate pieces."""

import numpy as np
import pytest

# Without hypothesis (a GPU image carries only what it needs) this module is skipped, not
# an import error that stops pytest from collecting every other test.
pytest.importorskip("hypothesis")

from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import scratchml as sm
from scratchml.nn.activations import sigmoid
from scratchml.nn.losses import LOSSES, softmax

xp = sm.backends.get("numpy")
finite = st.floats(-1e4, 1e4, allow_nan=False, allow_infinity=False)
logit_rows = arrays(np.float64, st.tuples(st.integers(1, 6), st.integers(2, 5)), elements=finite)


@given(logit_rows, st.floats(-50, 50))
def test_softmax_is_a_distribution_and_shift_invariant(logits, shift):
    probabilities = softmax(xp, logits)
    assert np.all(np.isfinite(probabilities)) and np.all(probabilities >= 0)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(softmax(xp, logits + shift), probabilities, atol=1e-12)


@given(logit_rows)
def test_cross_entropies_are_finite_and_non_negative(logits):
    n, k = logits.shape
    one_hot = np.eye(k)[np.arange(n) % k]
    for name, targets in (
        ("softmax_cross_entropy", one_hot),
        ("binary_cross_entropy", one_hot[:, :1]),
    ):
        value = float(LOSSES[name].value(xp, logits[:, : targets.shape[1]], targets))
        assert np.isfinite(value) and value >= 0


@given(arrays(np.float64, st.integers(1, 20), elements=st.floats(-800, 800)))
def test_sigmoid_is_bounded_and_symmetric(z):
    s = sigmoid(xp, z)
    assert np.all((s >= 0) & (s <= 1))
    np.testing.assert_allclose(s + sigmoid(xp, -z), 1.0, atol=1e-15)


@settings(max_examples=25, deadline=None)
@given(
    arrays(
        np.float64,
        st.tuples(st.integers(3, 20), st.integers(1, 3)),
        # Subnormal columns have no representable solution (test_least_squares: refused).
        elements=st.floats(-100, 100, allow_subnormal=False),
    ),
    st.floats(0.0, 10.0),
)
def test_ridge_solution_has_zero_gradient(X, l2):
    """At the normal-equation solution the gradient of the objective vanishes."""
    rng = np.random.default_rng(0)
    y = X @ rng.standard_normal(X.shape[1]) + rng.standard_normal(X.shape[0])
    model = sm.LinearRegression(l2=l2).fit(X, y)
    ((dW, db),) = model.gradients(X, y)
    scale = 1 + np.abs(X).max() ** 2 * (1 + np.abs(sm.backends.to_numpy(model.coef_)).max())
    assert np.abs(dW).max() <= 1e-7 * scale and np.abs(db).max() <= 1e-7 * scale


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 2**32 - 1), st.sampled_from(["numpy", "array_api_strict"]))
def test_round_trip_through_any_backend_is_exact(seed, backend):
    values = np.random.default_rng(seed).standard_normal((4, 3))
    moved = sm.backends.asarray(values, backend=backend)
    np.testing.assert_array_equal(sm.backends.to_numpy(moved), values)
