"""``scratchml bench``: one quick run end to end, the report's arithmetic, and the README table."""

from __future__ import annotations

import itertools
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from scratchml import bench

ROOT = Path(__file__).resolve().parents[1]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


# --- the report's arithmetic, on a made-up run -----------------------------------------------


def _bench(name, median, impl, backend="numpy", device="cpu", case="spiral", dtype="float32"):
    return {
        "name": name,
        "group": None,
        "extra_info": {
            "case": case,
            "title": "2→64→64→3",
            "impl": impl,
            "backend": backend,
            "device": device,
            "dtype": dtype,
            "per_call": 10,
            "unit": "epoch",
            "flops": 1e9,
        },
        "stats": {"median": median, "iqr": median / 10, "rounds": 5},
    }


def _run(*benches, quick=False):
    return {
        "datetime": "2026-01-01T00:00:00",
        "machine_info": {"scratchml_env": {"cpu_model": "Test CPU", "logical_cpus": 2}},
        "benchmarks": list(benches),
        "scratchml_bench": {"name": "cpu", "quick": quick, "backends": ["numpy"]},
    }


MADE_UP = _run(
    _bench("test_scratchml_epochs[numpy]", 0.20, "scratchml"),  # 20 ms per epoch
    _bench("test_scratchml_epochs[torch]", 0.30, "scratchml", backend="torch"),
    _bench("test_pytorch_epochs[cpu]", 0.40, "pytorch", backend="torch"),
    _bench("test_sklearn_epochs", 0.80, "sklearn"),
    _bench("test_gemm_ceiling[numpy]", 0.15, "gemm"),
    _bench("test_gemm_ceiling[torch]", 0.12, "gemm", backend="torch"),
    _bench("test_pytorch_epochs[cuda]", 0.01, "pytorch", backend="torch", device="cuda"),
    {"name": "test_other", "group": "stacks", "extra_info": {},
     "stats": {"median": 0.002, "iqr": 0.0001, "rounds": 9}},
)  # fmt: skip


def test_times_are_per_unit_and_ratios_compare_same_case_dtype_and_device():
    table = bench.rows(MADE_UP)
    numpy_row = bench._find(table, impl="scratchml", backend="numpy")
    assert numpy_row.median == pytest.approx(0.02)  # 0.2 s per call of 10 epochs
    ratio = bench.ratios(numpy_row, table)
    assert ratio.pytorch == pytest.approx(0.5)  # against PyTorch on the CPU, not on CUDA
    assert ratio.sklearn == pytest.approx(0.25)
    assert ratio.jax is None
    assert ratio.ceiling_percent == pytest.approx(75.0)  # NumPy's ceiling, 0.15 / 0.20
    torch_row = bench._find(table, impl="scratchml", backend="torch")
    assert bench.ratios(torch_row, table).ceiling_percent == pytest.approx(40.0)  # torch's
    ceiling_row = bench._find(table, impl="gemm", backend="numpy")
    assert bench.ratios(ceiling_row, table) == bench.Ratios(None, None, None, None)


def test_report_shows_every_case_with_its_ratios():
    report = bench.render_report(MADE_UP)
    assert "Test CPU, 2 logical cores; no GPU" in report
    assert "## spiral: 2→64→64→3" in report
    line = next(row for row in report.splitlines() if "**scratchml · numpy**" in row)
    assert re.search(r"\| 20\.0 \| 2\.00 \| 50\.0 \| 0\.50× \| 0\.25× \| — \| 75% \|$", line)
    assert "## stacks" in report  # a case without extra info gets a plain table
    assert "Quick run" not in report
    assert "Quick run" in bench.render_report({**MADE_UP, **_run(quick=True)})


def test_a_suite_can_compare_with_its_own_implementations():
    run = _run(
        _bench("test_stacked", 0.10, "scratchml", case="stack"),
        _bench("test_one_by_one", 0.40, "one-by-one", case="stack"),
    )
    stacked = bench._find(bench.rows(run), impl="scratchml")
    assert bench.ratios(stacked, bench.rows(run)).others == {"one-by-one": pytest.approx(0.25)}
    report = bench.render_report(run)
    assert "| ÷ JAX | ÷ one-by-one | % GEMM ceiling |" in report
    assert "| one-by-one · numpy | 40.0 |" in report
    assert "| — | 0.25× | — |" in bench.readme_table(run, "report.md")


def test_charts_are_pngs(tmp_path):
    paths = bench.render_charts(MADE_UP, tmp_path)
    assert [path.name for path in paths] == ["time_by_case.png", "speedup.png"]
    for path in paths:
        assert path.read_bytes()[:8] == PNG_MAGIC


def test_readme_block_is_replaced_between_the_markers(tmp_path):
    results = tmp_path / "results"
    (results / "cpu").mkdir(parents=True)
    (results / "cpu" / "results.json").write_text(json.dumps(MADE_UP))
    (results / "quick").mkdir()
    (results / "quick" / "results.json").write_text(json.dumps(_run(quick=True)))
    readme = tmp_path / "README.md"
    readme.write_text(f"# x\n\nbefore\n{bench.README_START}\nold\n{bench.README_END}\nafter\n")
    assert bench.update_readme(readme, results)
    text = readme.read_text()
    assert text.startswith("# x\n\nbefore\n") and text.endswith("\nafter\n")
    assert "old" not in text
    assert "| spiral | numpy | 20.0 ms / epoch | 0.50× | 0.25× | — | 75% |" in text
    assert "[full report](results/cpu/report.md)" in text
    assert "quick" not in text.split(bench.README_START)[1]  # quick runs stay out
    assert not bench.update_readme(readme, results)  # already up to date
    readme.write_text("no markers\n")
    with pytest.raises(ValueError, match="bench-table:start"):
        bench.update_readme(readme, results)


# --- the committed reports and the README ---------------------------------------------------


def test_readme_table_is_rendered_from_the_committed_reports():
    readme = (ROOT / "README.md").read_text()
    start, end = readme.index(bench.README_START), readme.index(bench.README_END)
    assert readme[start : end + len(bench.README_END)] == bench.readme_block(), (
        "README.md's benchmark table differs from benchmarks/results/: "
        "run `scratchml bench --readme`"
    )


def test_committed_reports_match_their_results():
    for path in bench.committed_results():
        data = json.loads(path.read_text())
        assert (path.parent / "report.md").read_text() == bench.render_report(data)
        for chart in ("time_by_case.png", "speedup.png"):
            assert (path.parent / chart).read_bytes()[:8] == PNG_MAGIC


def test_benchmarks_stay_out_of_the_default_test_run():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert config["tool"]["pytest"]["ini_options"]["testpaths"] == ["tests"]


def test_unusable_backend_is_refused_by_name():
    result = subprocess.run(
        [sys.executable, "-m", "scratchml", "bench", "--backend", "cupy", "--out", "unused"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    if not bench.backends.why_unavailable("cupy"):
        pytest.skip("cupy is usable here")
    assert result.returncode == 2
    assert "backend 'cupy' is not usable here" in result.stderr
    assert not (ROOT / "unused").exists()


# --- one quick run, end to end ---------------------------------------------------------------


def test_quick_run_writes_a_report_of_every_case_and_the_charts(tmp_path):
    # One test, not several sharing a fixture: under pytest-xdist each worker would run it.
    from PIL import Image

    result = subprocess.run(
        [sys.executable, "-m", "scratchml", "bench", "--quick", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    data = json.loads((tmp_path / "results.json").read_text())
    table = bench.rows(data)
    report = (tmp_path / "report.md").read_text()
    assert report == bench.render_report(data)
    assert "Quick run" in report
    for case in ("tiny", "spiral", "wide", "normal"):
        assert f"## {case}: " in report
        for dtype in ("float32", "float64"):
            found = bench._find(table, case=case, dtype=dtype, impl="scratchml", backend="numpy")
            assert found is not None and found.median > 0
    assert "scikit-learn" in report and "GEMM ceiling · numpy" in report
    for row in table:  # cases of every suite in benchmarks/, the stacked networks' included
        assert (f"## {row.case}: " if row.case else f"## {row.group or 'ungrouped'}") in report
    assert len(re.findall(r"ms / |ms per call", result.stdout)) == len(table)  # a line per case
    # Each case's implementations run back to back: one stretch of lines per (case, dtype).
    timed = [line.split()[:2] for line in result.stdout.splitlines() if " ms " in line]
    stretches = [tuple(key) for key, _ in itertools.groupby(timed)]
    assert len(stretches) == len(set(stretches)), stretches
    for chart in ("time_by_case.png", "speedup.png"):
        with Image.open(tmp_path / chart) as image:
            assert image.format == "PNG" and image.width > 600 and image.height > 300


def test_an_interrupted_run_resumes_with_the_cases_it_timed(tmp_path):
    """Each case is kept as soon as it is timed; ``resume`` times only the others."""
    import io

    def run(*, resume, only):
        output = io.StringIO()
        code = bench.run(
            ["numpy"], quick=True, out=tmp_path, pytest_args=["-k", only], stream=output,
            resume=resume,
        )  # fmt: skip
        return code, output.getvalue()

    # A stale case from an earlier, interrupted run is dropped by a run that starts over.
    stale = {"fullname": "benchmarks/test_training.py::gone", "name": "gone", "stats": {}}
    (tmp_path / bench.CASES_JSONL).write_text(json.dumps(stale) + "\n")
    code, _ = run(resume=False, only="tiny and float32")
    assert code == 0 and not (tmp_path / bench.CASES_JSONL).exists()
    first = json.loads((tmp_path / bench.RESULTS_JSON).read_text())["benchmarks"]
    assert first and all("float32" in case["name"] for case in first)
    assert "gone" not in [case["name"] for case in first]

    # As if the run had died after its float32 cases, in the middle of writing one more line.
    lines = [json.dumps(case) for case in first] + ['{"fullname": "benchmarks/test_tr']
    (tmp_path / bench.CASES_JSONL).write_text("\n".join(lines))
    (tmp_path / bench.RESULTS_JSON).unlink()
    code, output = run(resume=True, only="tiny")
    assert code == 0, output
    assert f"resuming: {len(first)} cases already timed" in output
    timed_now = [line for line in output.splitlines() if " ms / " in line]
    assert timed_now and all("float64" in line for line in timed_now)
    data = json.loads((tmp_path / bench.RESULTS_JSON).read_text())
    by_name = {case["name"]: case for case in data["benchmarks"]}
    for case in first:  # kept as they were timed, not timed again
        assert by_name[case["name"]]["stats"]["median"] == case["stats"]["median"]
    assert len(by_name) == len(first) + len(timed_now)
    assert f"(resumed: {len(first)} of them" in (tmp_path / "report.md").read_text()
    assert not (tmp_path / bench.CASES_JSONL).exists()
