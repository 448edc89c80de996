"""Benchmarks: pytest-benchmark suites, run with `python -m pytest benchmarks`."""
