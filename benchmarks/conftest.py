"""Benchmark suites: run them with ``scratchml bench`` (see scratchml/bench.py).

They stay out of the default test run (``testpaths = ["tests"]``). Running them by hand
works too: ``python -m pytest benchmarks --benchmark-json results.json``.

What a case records. ``scratchml bench`` renders its report from the pytest-benchmark JSON;
a case tells it what was timed through the ``bench_case`` fixture, which fills
``benchmark.extra_info``:

- ``case``: short name of the work ("tiny", "spiral", ...), ``title``: what it is in words;
- ``impl``: "scratchml", or a peer ("pytorch", "sklearn", "jax"), or "gemm" (the matmul
  ceiling of the case, see test_training.py);
- ``backend``: the array library (scratchml's backend, or the library a ceiling ran on);
- ``device``: "cpu" or "cuda"; ``dtype``: "float32" or "float64";
- ``per_call``: how many units one timed call does (e.g. 20 epochs), ``unit``: "epoch",
  "fit", "network-epoch", ...; the report divides every time by ``per_call``;
- ``flops``: floating-point operations per unit, when known (GFLOP/s in the report).

Cases without these keys still appear in the report, in a plain table per group.

The run's settings come from environment variables that ``scratchml bench`` sets:
``SCRATCHML_BENCH_QUICK=1`` (small shapes, few rounds) and ``SCRATCHML_BENCH_BACKENDS``
(comma-separated scratchml backends; cases parametrized by ``backend`` outside it are
deselected). ``scratchml.bench.quick_mode()`` and ``scratchml.bench.selected_backends()``
read them.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from scratchml import bench


@pytest.fixture
def bench_case(benchmark):
    """Record what a case times: ``bench_case(case=..., impl=..., ...)`` (keys above)."""

    def record(**info):
        unknown = set(info) - set(bench.CASE_KEYS)
        if unknown:
            raise ValueError(f"unknown bench_case keys {sorted(unknown)}; use {bench.CASE_KEYS}")
        benchmark.extra_info.update(info)
        return benchmark

    return record


@pytest.fixture(scope="session")
def quick():
    """True in a ``--quick`` run: small shapes and few rounds."""
    return bench.quick_mode()


def pytest_collection_modifyitems(config, items):
    """Drop cases whose ``backend`` the run did not select; run each case's peers together.

    Every implementation of one case and dtype (scratchml on each backend, PyTorch,
    scikit-learn, JAX, the GEMM ceilings) runs back to back, seconds apart, so that
    a shared machine's load, which drifts over minutes, weighs alike on the times
    whose ratios the report shows.
    """
    selected = set(bench.selected_backends())
    keep, drop = [], []
    for item in items:
        (drop if _param(item, "backend") not in (None, *selected) else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
    modules: dict[object, int] = {}
    groups: dict[tuple[object, object], int] = {}
    for item in keep:
        modules.setdefault(item.module, len(modules))
        groups.setdefault((_param(item, "case"), _param(item, "dtype")), len(groups))
    # A stable sort: inside a group, the order the suites are written in.
    items[:] = sorted(
        keep,
        key=lambda item: (
            modules[item.module],
            groups[(_param(item, "case"), _param(item, "dtype"))],
        ),
    )


def _param(item, name):
    """The value of the item's parameter ``name``, or None."""
    callspec = getattr(item, "callspec", None)
    return callspec.params.get(name) if callspec is not None else None


def pytest_benchmark_update_machine_info(config, machine_info):
    """Library versions and GPU details go into the JSON, so the report needs nothing else."""
    machine_info.update(bench.environment_info())


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    fixture = item.funcargs.get("benchmark") if hasattr(item, "funcargs") else None
    if report.when == "call" and report.passed and fixture is not None and fixture.stats:
        cases = os.environ.get(bench.CASES_ENV)
        if cases:  # kept at once: a run that dies later still has this case
            bench.record_case(Path(cases), fixture.stats.as_dict(include_data=True))
        stats = fixture.stats.stats
        report.user_properties.append(
            ("bench_line", bench.progress_line(item.name, fixture.extra_info, stats.median))
        )


_config = []  # kept by pytest_configure: the progress lines go through its terminal reporter


def pytest_configure(config):
    _config[:] = [config]


def pytest_runtest_logreport(report):
    """One progress line per case, as soon as it is timed."""
    terminal = _config[0].pluginmanager.get_plugin("terminalreporter") if _config else None
    for key, line in report.user_properties:
        if key == "bench_line" and terminal is not None:
            terminal.write_line(f"{bench.PROGRESS_PREFIX}{line}", flush=True)
