import numpy as np
import pytest

import scratchml as sm

from .conftest import host


@pytest.mark.parametrize("arms", [1, 2, 3, 5])
def test_spirals_shapes_balance_and_geometry(arms):
    X, y = sm.data.spirals(301, arms=arms, noise=0.0, seed=0)
    assert X.shape == (301, 2) and X.dtype == np.float32 and y.dtype == np.int64
    counts = np.bincount(y, minlength=arms)
    assert counts.max() - counts.min() <= 1
    radius = np.linalg.norm(X, axis=1)
    assert radius.min() >= 0.2 - 1e-6 and radius.max() <= 1.0 + 1e-6


def test_spirals_arms_are_rotations_of_each_other():
    X, y = sm.data.spirals(3000, arms=3, noise=0.0, seed=0, dtype="float64")
    radius = np.linalg.norm(X, axis=1)
    angle = np.arctan2(X[:, 1], X[:, 0])
    # θ − 2π·turns·t − 2πk/arms is a multiple of 2π, with t = (r − 0.2) / 0.8.
    t = (radius - 0.2) / 0.8
    residual = angle - 2 * np.pi * t - 2 * np.pi * y / 3
    np.testing.assert_allclose(np.cos(residual), 1.0, atol=1e-9)


def test_same_seed_same_data_on_every_backend(backend):
    X, y = sm.data.spirals(50, seed=3, backend=backend, dtype="float64")
    Xn, yn = sm.data.spirals(50, seed=3, dtype="float64")
    assert sm.backends.backend_name(X) == backend
    np.testing.assert_array_equal(host(X), Xn)
    np.testing.assert_array_equal(host(y), yn)
    other, _ = sm.data.spirals(50, seed=4, dtype="float64")
    assert not np.allclose(Xn, other)


def test_blobs_given_centres():
    X, y = sm.data.blobs(400, centers=[[0, 0, 0], [10, 10, 10]], cluster_std=0.5, seed=0)
    assert X.shape == (400, 3)
    for k, centre in enumerate([[0, 0, 0], [10, 10, 10]]):
        np.testing.assert_allclose(X[y == k].mean(0), centre, atol=0.15)


def test_correlated_normal_has_the_asked_correlation():
    X, y = sm.data.correlated_normal(20000, n_features=4, correlation=0.6, n_classes=1, seed=0)
    corr = np.corrcoef(X.T.astype(np.float64))
    off_diagonal = corr[~np.eye(4, dtype=bool)]
    np.testing.assert_allclose(off_diagonal, 0.6, atol=0.03)
    assert set(np.unique(y)) == {0}


def test_correlated_normal_classes_are_separated():
    X, y = sm.data.correlated_normal(2000, n_features=5, class_sep=4.0, seed=1)
    gap = np.linalg.norm(X[y == 0].mean(0) - X[y == 1].mean(0))
    assert gap == pytest.approx(4.0, rel=0.1)
    _X3, y3 = sm.data.correlated_normal(30, n_features=2, n_classes=3, class_sep=2.0, seed=1)
    assert set(np.unique(y3)) == {0, 1, 2}
    with pytest.raises(ValueError, match="n_features >= 3"):
        sm.data.correlated_normal(10, n_features=2, n_classes=4)


def test_noisy_line_recovers_slope():
    X, y = sm.data.noisy_line(5000, slope=-1.5, intercept=0.5, noise=0.1, seed=0, dtype="float64")
    slope, intercept = np.polyfit(X[:, 0], y, 1)
    assert slope == pytest.approx(-1.5, abs=0.01) and intercept == pytest.approx(0.5, abs=0.01)
