"""Shared fixtures: every test that takes ``backend`` runs on each usable array library."""

from __future__ import annotations

import numpy as np
import pytest

from scratchml import backends

# cupy needs a working GPU; torch tests run on its CPU build when it is installed.
ALL_BACKENDS = ("numpy", "array_api_strict", "torch", "cupy")


def _backend_params():
    params = []
    for name in ALL_BACKENDS:
        reason = backends.why_unavailable(name)
        marks = [pytest.mark.skip(reason=f"{name} not usable: {reason}")] if reason else []
        params.append(pytest.param(name, marks=marks, id=name))
    return params


@pytest.fixture(params=_backend_params())
def backend(request):
    """Name of an array backend usable on this machine."""
    return request.param


@pytest.fixture(params=["float64", "float32"])
def dtype(request):
    return request.param


def on(backend_name, array, dtype=None):
    """Put a NumPy array (or list) on ``backend_name``."""
    return backends.asarray(np.asarray(array), backend=backend_name, dtype=dtype)


def host(x):
    return backends.to_numpy(x)
