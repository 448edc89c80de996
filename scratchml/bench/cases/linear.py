"""The normal-equation fit: scratchml's ``LinearRegression(solver="normal")`` on each backend.

Against scikit-learn's ``LinearRegression().fit`` (an SVD-based least squares) on the same
data, and the GEMM ceiling Xᵀ X alone (the fit's dominant product). One fit per call.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

import scratchml as sm

from .. import environment
from .base import Case, Implementation, importable
from .training import DTYPES, gemm_ceilings, on

N_FEATURES = 50


def names() -> list[str]:
    """The names of the linear-model cases."""
    return ["normal"]


def cases(backend_names: Sequence[str], devices: Sequence[str], quick: bool) -> list[Case]:
    """The normal-equation cases for ``backend_names`` on ``devices`` (smaller with ``quick``)."""
    n = 2_000 if quick else 20_000
    calls = 3 if quick else 30
    found = []
    for dtype in DTYPES:
        implementations = [
            Implementation(
                "scratchml",
                backend,
                environment.device_of(backend),
                _scratchml(n, dtype, backend),
                1,
            )
            for backend in backend_names
        ]
        if importable("sklearn"):
            implementations.append(Implementation("sklearn", "numpy", "cpu", _sklearn(n, dtype), 1))
        products = [((n, N_FEATURES), (n, N_FEATURES), True, False)]
        implementations += gemm_ceilings(products, dtype, devices, backend_names, 1)
        found.append(
            Case(
                name="normal",
                title=f"LinearRegression normal equations, {n:,} × {N_FEATURES}",
                dtype=dtype,
                unit="fit",
                flops=2 * n * N_FEATURES**2,  # Xᵀ X dominates
                calls=calls,
                implementations=implementations,
            )
        )
    return found


def _data(n: int, dtype: str):
    generator = np.random.default_rng(0)
    X = generator.standard_normal((n, N_FEATURES))
    y = X @ generator.standard_normal(N_FEATURES) + 0.1 * generator.standard_normal(n)
    return X.astype(dtype), y.astype(dtype)


def _scratchml(n: int, dtype: str, backend: str):
    def prepare():
        X, y = _data(n, dtype)
        device = environment.device_of(backend)
        X, y = on(X, backend, device), on(y, backend, device)

        def fit():
            model = sm.LinearRegression(solver="normal").fit(X, y)
            environment.wait(model.params_[0][0])

        return fit

    return prepare


def _sklearn(n: int, dtype: str):
    def prepare():
        from sklearn.linear_model import LinearRegression

        X, y = _data(n, dtype)
        return lambda: LinearRegression().fit(X, y)

    return prepare
