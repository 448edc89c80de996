"""Synthetic data sets: spirals, blobs, correlated normals, a noisy line.

Everything is drawn on the host with a seeded NumPy Generator, vectorised, and
then moved to the requested backend, so one seed gives the same data everywhere.
Features come in ``dtype`` (float32 by default); class labels in the backend's
default index dtype: int64, or int32 on JAX unless ``jax_enable_x64`` is on.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from . import backends
from ._validation import check_non_negative, check_positive


def _deliver(
    X: np.ndarray, y: np.ndarray, dtype: str, backend: str, device: Any
) -> tuple[Any, Any]:
    X = backends.asarray(X, backend=backend, dtype=dtype, device=device)
    if np.issubdtype(y.dtype, np.integer):
        y_dtype = backends.default_index(backends.namespace(X))
    else:
        y_dtype = dtype
    return X, backends.asarray(y, backend=backend, dtype=y_dtype, device=device)


def _split_evenly(n_samples: int, n_groups: int) -> np.ndarray:
    """Group label of each sample, as even as possible: sizes differ by at most one."""
    return np.arange(n_samples) % n_groups


def spirals(
    n_samples: int = 1000,
    arms: int = 2,
    turns: float = 1.0,
    noise: float = 0.05,
    seed: int | None = 0,
    dtype: str = "float32",
    backend: str = "numpy",
    device: Any = None,
) -> tuple[Any, Any]:
    """Interleaved spirals, one class per arm.

    Arm k at parameter t ∈ [0, 1]: radius r = 0.2 + 0.8·t, angle θ = 2π·turns·t + 2πk/arms,
    point r·(cos θ, sin θ) plus Gaussian noise of standard deviation ``noise``.

    Parameters
    ----------
    n_samples : int, default 1000
        Number of points, split as evenly as possible between the arms.
    arms : int, default 2
        Number of arms, one class each.
    turns : float, default 1.0
        How far each arm winds (1.0 = a full turn).
    noise : float, default 0.05
        Standard deviation of the Gaussian noise added to each coordinate.
    seed : int or None, default 0
        Seed of the host generator; None draws fresh entropy.
    dtype : {"float32", "float64"}, default "float32"
        Dtype of X (integer labels take the backend's index dtype).
    backend : str, default "numpy"
        Array library of the result (``scratchml.backends.BACKENDS``).
    device : optional
        Device of the result, in the backend's terms (``"cuda:1"``, a CuPy device, ...).

    Returns
    -------
    X : array (n_samples, 2)
        The points, shuffled.
    y : array (n_samples,)
        Labels 0 … arms−1.
    """
    check_positive(n_samples, "n_samples", integer=True)
    check_positive(arms, "arms", integer=True)
    check_positive(turns, "turns")
    check_non_negative(noise, "noise")
    generator = backends.rng(seed)
    y = generator.permutation(_split_evenly(n_samples, arms))
    t = generator.uniform(0.0, 1.0, n_samples)
    radius = 0.2 + 0.8 * t
    angle = 2 * math.pi * turns * t + 2 * math.pi * y / arms
    X = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
    X += noise * generator.standard_normal(X.shape)
    return _deliver(X, y, dtype, backend, device)


def blobs(
    n_samples: int = 200,
    centers: int | Any = 2,
    n_features: int = 2,
    cluster_std: float = 1.0,
    center_box: tuple[float, float] = (-5.0, 5.0),
    seed: int | None = 0,
    dtype: str = "float32",
    backend: str = "numpy",
    device: Any = None,
) -> tuple[Any, Any]:
    """Isotropic Gaussian clusters, one class per cluster.

    Parameters
    ----------
    n_samples : int, default 200
        Number of points, split as evenly as possible between the clusters.
    centers : int or array (n_clusters, n_features), default 2
        A number of clusters (centres drawn uniformly in ``center_box``) or the centres.
    n_features : int, default 2
        Features per point, when ``centers`` is a number.
    cluster_std : float, default 1.0
        Standard deviation of every cluster along every feature.
    center_box : (float, float), default (-5.0, 5.0)
        Range of the drawn centres' coordinates.
    seed : int or None, default 0
        Seed of the host generator; None draws fresh entropy.
    dtype : {"float32", "float64"}, default "float32"
        Dtype of X (integer labels take the backend's index dtype).
    backend : str, default "numpy"
        Array library of the result (``scratchml.backends.BACKENDS``).
    device : optional
        Device of the result, in the backend's terms (``"cuda:1"``, a CuPy device, ...).

    Returns
    -------
    X : array (n_samples, n_features)
        The points, shuffled.
    y : array (n_samples,)
        Cluster labels 0 … n_clusters−1.
    """
    check_positive(n_samples, "n_samples", integer=True)
    check_positive(cluster_std, "cluster_std")
    generator = backends.rng(seed)
    if isinstance(centers, (int, np.integer)) and not isinstance(centers, bool):
        check_positive(centers, "centers", integer=True)
        check_positive(n_features, "n_features", integer=True)
        low, high = center_box
        centre_points = generator.uniform(low, high, (int(centers), n_features))
    else:
        centre_points = np.asarray(backends.to_numpy(centers), dtype=np.float64)
        if centre_points.ndim != 2 or centre_points.shape[0] == 0:
            raise ValueError(
                f"centers must be a count or an array (n_clusters, n_features); "
                f"got shape {centre_points.shape}"
            )
    y = generator.permutation(_split_evenly(n_samples, centre_points.shape[0]))
    X = centre_points[y] + cluster_std * generator.standard_normal(
        (n_samples, centre_points.shape[1])
    )
    return _deliver(X, y, dtype, backend, device)


def _simplex_means(n_classes: int, n_features: int, distance: float, generator: Any) -> np.ndarray:
    """Class means at the corners of a regular simplex, every pair ``distance`` apart,
    turned by a random rotation into the feature space."""
    centred = np.eye(n_classes) - 1.0 / n_classes  # corners e_k minus their centroid
    basis = np.linalg.svd(centred)[2][: n_classes - 1].T  # the (k−1)-dim space they span
    corners = centred @ basis  # (k, k−1): pairwise distances √2
    rotation = np.linalg.qr(generator.standard_normal((n_features, n_features)))[0]
    return corners @ rotation[:, : n_classes - 1].T * distance / np.sqrt(2)


def correlated_normal(
    n_samples: int = 500,
    n_features: int = 5,
    correlation: float = 0.5,
    n_classes: int = 2,
    class_sep: float = 2.0,
    seed: int | None = 0,
    dtype: str = "float32",
    backend: str = "numpy",
    device: Any = None,
) -> tuple[Any, Any]:
    """Classes drawn from multivariate normals with equicorrelated features.

    Every feature has variance 1 and every pair correlation ``correlation``:
    Σ = (1 − ρ)·I + ρ·11ᵀ. Class means sit at the corners of a randomly rotated
    regular simplex, every pair exactly ``class_sep`` apart.

    Parameters
    ----------
    n_samples : int, default 500
        Number of points, split as evenly as possible between the classes.
    n_features : int, default 5
        Features per point; at least ``n_classes - 1``.
    correlation : float, default 0.5
        ρ, the correlation of every pair of features, in (−1/(n_features−1), 1).
    n_classes : int, default 2
        Number of classes.
    class_sep : float, default 2.0
        Distance between every pair of class means.
    seed : int or None, default 0
        Seed of the host generator; None draws fresh entropy.
    dtype : {"float32", "float64"}, default "float32"
        Dtype of X (integer labels take the backend's index dtype).
    backend : str, default "numpy"
        Array library of the result (``scratchml.backends.BACKENDS``).
    device : optional
        Device of the result, in the backend's terms (``"cuda:1"``, a CuPy device, ...).

    Returns
    -------
    X : array (n_samples, n_features)
        The points, shuffled.
    y : array (n_samples,)
        Labels 0 … n_classes−1.
    """
    check_positive(n_samples, "n_samples", integer=True)
    check_positive(n_features, "n_features", integer=True)
    check_positive(n_classes, "n_classes", integer=True)
    check_non_negative(class_sep, "class_sep")
    if not -1.0 / max(n_features - 1, 1) < correlation < 1.0:
        raise ValueError(
            f"correlation must lie in (-1/(n_features-1), 1) for a valid covariance; got {correlation}"
        )
    if n_classes - 1 > n_features:
        raise ValueError(
            f"n_classes={n_classes} equidistant means need n_features >= {n_classes - 1}; "
            f"got n_features={n_features}"
        )
    generator = backends.rng(seed)
    covariance = (1 - correlation) * np.eye(n_features) + correlation * np.ones((n_features,) * 2)
    cholesky = np.linalg.cholesky(covariance)
    means = _simplex_means(n_classes, n_features, class_sep, generator)
    y = generator.permutation(_split_evenly(n_samples, n_classes))
    X = means[y] + generator.standard_normal((n_samples, n_features)) @ cholesky.T
    return _deliver(X, y, dtype, backend, device)


def noisy_line(
    n_samples: int = 100,
    slope: float = 2.0,
    intercept: float = 1.0,
    noise: float = 1.0,
    x_range: tuple[float, float] = (-3.0, 3.0),
    seed: int | None = 0,
    dtype: str = "float32",
    backend: str = "numpy",
    device: Any = None,
) -> tuple[Any, Any]:
    """Points y = slope·x + intercept + N(0, noise²), x uniform in ``x_range``.

    Parameters
    ----------
    n_samples : int, default 100
        Number of points.
    slope, intercept : float, default 2.0 and 1.0
        The line.
    noise : float, default 1.0
        Standard deviation of the Gaussian noise added to y.
    x_range : (float, float), default (-3.0, 3.0)
        Range of the uniform x.
    seed : int or None, default 0
        Seed of the host generator; None draws fresh entropy.
    dtype : {"float32", "float64"}, default "float32"
        Dtype of X (integer labels take the backend's index dtype).
    backend : str, default "numpy"
        Array library of the result (``scratchml.backends.BACKENDS``).
    device : optional
        Device of the result, in the backend's terms (``"cuda:1"``, a CuPy device, ...).

    Returns
    -------
    X : array (n_samples, 1)
        The x values, one feature, for one-feature regression.
    y : array (n_samples,)
        The noisy line at X.
    """
    check_positive(n_samples, "n_samples", integer=True)
    check_non_negative(noise, "noise")
    generator = backends.rng(seed)
    x = generator.uniform(x_range[0], x_range[1], n_samples)
    y = slope * x + intercept + noise * generator.standard_normal(n_samples)
    return _deliver(x[:, None], y, dtype, backend, device)
