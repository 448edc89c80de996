"""Shared fixtures: every test that takes ``backend`` runs on each usable array library."""

from __future__ import annotations

import os

import numpy as np
import pytest

from scratchml import backends

# cupy needs a working GPU; torch and jax tests run on their CPU builds when installed.
ALL_BACKENDS = backends.BACKENDS

# JAX computes in 32 bits unless its 64-bit mode is on; the suite checks gradients in
# float64 on every backend, so it turns that mode on (tests/test_jax.py checks JAX's
# 32-bit defaults in a fresh interpreter).
if not backends.why_unavailable("jax"):
    import jax

    jax.config.update("jax_enable_x64", True)


def _backend_params():
    params = []
    for name in ALL_BACKENDS:
        reason = backends.why_unavailable(name)
        marks = [pytest.mark.skip(reason=f"{name} not usable: {reason}")] if reason else []
        params.append(pytest.param(name, marks=marks, id=name))
    return params


# On a GPU machine, SCRATCHML_REQUIRE_BACKENDS=cupy turns every skip that names a required
# backend into a failure, so a run that claims "all CuPy cases ran" cannot skip one quietly.
REQUIRED_BACKENDS = [
    name for name in os.environ.get("SCRATCHML_REQUIRE_BACKENDS", "").split(",") if name
]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if REQUIRED_BACKENDS and report.skipped:
        reason = str(report.longrepr[-1] if isinstance(report.longrepr, tuple) else report.longrepr)
        missing = [name for name in REQUIRED_BACKENDS if name in reason]
        if missing:
            report.outcome = "failed"
            report.longrepr = f"required backend {missing[0]} was skipped: {reason}"


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
