"""Shared fixtures: every test that takes ``backend`` runs on each usable array library.

Two environment variables serve a run on a GPU machine:

- ``SCRATCHML_REQUIRE_BACKENDS=cupy,torch`` stops the run at once when a named backend is
  not usable, and fails any test that skips because one of them is missing, so a run that
  claims "all CuPy cases ran" cannot skip one quietly.
- ``SCRATCHML_TEST_TORCH_DEVICE=cuda`` makes CUDA torch's default device, so every torch
  tensor the tests make (``backends.asarray(..., backend="torch")``) lives on the GPU.
  ``SCRATCHML_TEST_TORCH_DEVICE=cuda-on-cpu`` keeps them on the CPU but holds them to
  CUDA's host-copy rule (tests/cuda_rules.py): a NumPy copy without ``.cpu()`` fails, as
  it would on the GPU.
"""

from __future__ import annotations

import os
import re
import sys

# Before anything imports JAX: on a GPU, each test process's JAX would otherwise take 75%
# of the GPU's memory at its first use (pytest-xdist runs several such processes, beside
# CuPy and torch in the same ones).
os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")

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


@pytest.fixture(autouse=True)
def _jax_64_bit_mode_as_the_suite_sets_it():
    """A test that switches JAX's 64-bit mode (the benchmark cases set it per case) gives
    it back, so later tests in the same process compute as the suite expects."""
    yield
    jax_module = sys.modules.get("jax")
    usable = jax_module is not None and not backends.why_unavailable("jax")
    if usable and not jax_module.config.read("jax_enable_x64"):
        jax_module.config.update("jax_enable_x64", True)


REQUIRED_BACKENDS = [
    name.strip() for name in os.environ.get("SCRATCHML_REQUIRE_BACKENDS", "").split(",") if name
]
TORCH_DEVICE = os.environ.get("SCRATCHML_TEST_TORCH_DEVICE", "")

# A skip that names a required backend and says it is missing (not, say, "cupy is usable here").
_MISSING = re.compile(
    r"not usable|not installed|not importable|could not import|no module named|no usable"
    r"|no cuda|sees no|cannot reach|cannot be imported|no gpu",
    re.IGNORECASE,
)


def _backend_params():
    params = []
    for name in ALL_BACKENDS:
        reason = backends.why_unavailable(name)
        marks = [pytest.mark.skip(reason=f"{name} not usable: {reason}")] if reason else []
        params.append(pytest.param(name, marks=marks, id=name))
    return params


def _required_but_unusable() -> list[str]:
    """One line per backend named in SCRATCHML_REQUIRE_BACKENDS that cannot run here."""
    problems = []
    for name in REQUIRED_BACKENDS:
        if name not in ALL_BACKENDS:
            problems.append(f"{name}: not a backend ({', '.join(ALL_BACKENDS)})")
        elif backends.why_unavailable(name):
            problems.append(f"{name}: {backends.why_unavailable(name)}")
    if TORCH_DEVICE and TORCH_DEVICE != "cuda-on-cpu":
        import torch

        try:
            torch.empty(0, device=TORCH_DEVICE)
        except (RuntimeError, AssertionError) as exc:
            problems.append(f"SCRATCHML_TEST_TORCH_DEVICE={TORCH_DEVICE}: {exc}")
    return problems


def pytest_configure(config):
    problems = _required_but_unusable()
    if problems:
        raise pytest.UsageError(
            "a backend this run requires is not usable:\n  " + "\n  ".join(problems)
        )
    if TORCH_DEVICE == "cuda-on-cpu":
        from tests import cuda_rules

        cuda_rules.install()
    elif TORCH_DEVICE:
        import torch

        torch.set_default_device(TORCH_DEVICE)


def pytest_collection_modifyitems(config, items):
    """JAX cases on a CPU are slow: JAX compiles each operation and each training step on
    first use (seconds per test). The quick inner loop (``pytest -m "not slow"``) leaves
    them to the full run; on a JAX GPU they run in both."""
    if backends.why_unavailable("jax"):
        return
    import jax

    if jax.default_backend() != "cpu":
        return
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is not None and callspec.params.get("backend") == "jax":
            item.add_marker(pytest.mark.slow)


def pytest_report_header(config):
    lines = [f"scratchml backends usable here: {', '.join(backends.available())}"]
    if REQUIRED_BACKENDS:
        lines.append(f"required backends: {', '.join(REQUIRED_BACKENDS)}")
    if TORCH_DEVICE:
        lines.append(f"torch tensors on: {TORCH_DEVICE}")
    return lines


def skip_means_missing(reason: str, required: list[str]) -> str | None:
    """The required backend a skip reason says is missing, or None."""
    for name in required:
        if name.lower() in reason.lower() and _MISSING.search(reason):
            return name
    return None


# "No module named 'matplotlib'" (or 'matplotlib.axes'): the top-level name that is missing.
_NO_MODULE = re.compile(r"ModuleNotFoundError: No module named '([A-Za-z0-9_]+)")


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    """A test module that imports a library this machine lacks (matplotlib, PIL, ...) is
    skipped with that reason, instead of an error that stops the whole run's collection."""
    outcome = yield
    report = outcome.get_result()
    if not report.failed or not isinstance(collector, pytest.Module):
        return
    found = _NO_MODULE.search(str(report.longrepr))
    if found and found.group(1) not in ("scratchml", "tests"):
        report.outcome = "skipped"
        report.longrepr = (str(collector.path), 0, f"Skipped: {found.group(1)} is not installed")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if REQUIRED_BACKENDS and report.skipped:
        reason = str(report.longrepr[-1] if isinstance(report.longrepr, tuple) else report.longrepr)
        missing = skip_means_missing(reason, REQUIRED_BACKENDS)
        if missing:
            report.outcome = "failed"
            report.longrepr = f"required backend {missing} was skipped: {reason}"


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
