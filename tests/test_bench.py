"""``scratchml bench``: the report's arithmetic and words, the runner, and runs end to end."""

from __future__ import annotations

import importlib.metadata
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from pathlib import Path

import pytest

from scratchml import backends, bench, cli
from scratchml.bench import cases, environment, runner, worker
from scratchml.bench.results import find

ROOT = Path(__file__).resolve().parents[1]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
# A subprocess's limit: a hang, not a busy machine (a quick run takes well under a minute on
# two idle cores, and several times that on two cores shared by other work).
BUSY_MACHINE_LIMIT = 1800


# --- a made-up run ------------------------------------------------------------------------


def _entry(median, impl, backend="numpy", device="cpu", case="spiral", dtype="float32",
           best=None, round_medians=()):  # fmt: skip
    """One implementation's results.json entry; times per call of 10 epochs."""
    return {
        "name": cases.label(impl, backend, device),
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
        "stats": {"median": median, "iqr": median / 10, "min": best or median, "rounds": 6},
        "round_medians": list(round_medians),
    }


def _run(*entries, quick=False, rounds=3, operations=()):
    return {
        "datetime": "2026-01-01T00:00:00",
        "machine_info": {
            "scratchml_env": {"cpu_model": "Test CPU 9000", "logical_cpus": 2, "gpus": []}
        },
        "benchmarks": list(entries),
        "operations": list(operations),
        "scratchml_bench": {
            "name": "some-folder",
            "quick": quick,
            "backends": ["numpy"],
            "rounds": rounds,
        },
    }


MADE_UP = _run(
    _entry(0.20, "scratchml", round_medians=(0.16, 0.20, 0.24)),  # 20 ms per epoch
    _entry(0.30, "scratchml", backend="torch", round_medians=(0.25, 0.30, 0.45)),
    _entry(0.40, "pytorch", backend="torch", round_medians=(0.40, 0.40, 0.40)),
    _entry(0.80, "sklearn", round_medians=(0.80, 0.80, 0.80)),
    _entry(0.16, "gemm", best=0.15),
    _entry(0.13, "gemm", backend="torch", best=0.12),
    _entry(0.01, "pytorch", backend="torch", device="cuda"),
    operations=[
        {"case": "spiral", "who": "scratchml · torch", "per_unit": 52},
        {"case": "spiral", "who": "PyTorch eager", "per_unit": 26},
    ],
)


def test_ratios_are_scratchml_over_the_peer_on_the_same_case_dtype_and_device():
    table = bench.rows(MADE_UP)
    numpy_row = find(table, impl="scratchml", backend="numpy")
    assert numpy_row.median == pytest.approx(0.02)  # 0.2 s per call of 10 epochs
    found = bench.ratios(numpy_row, table)
    assert found.against["pytorch"].value == pytest.approx(0.5)  # the CPU PyTorch, not CUDA
    assert found.against["sklearn"].value == pytest.approx(0.25)
    assert "jax" not in found.against
    # A peer's row carries no peer-over-peer ratio (one direction everywhere), only its share.
    pytorch_row = find(table, impl="pytorch", device="cpu")
    assert bench.ratios(pytorch_row, table).against == {}
    assert bench.ratios(find(table, impl="gemm"), table) == bench.Ratios()


def test_each_ratio_has_its_range_over_rounds_and_a_flip_is_uncertain():
    table = bench.rows(MADE_UP)
    steady = bench.ratios(find(table, impl="scratchml", backend="numpy"), table)
    assert steady.against["pytorch"].low == pytest.approx(0.4)  # 0.16 / 0.40
    assert steady.against["pytorch"].high == pytest.approx(0.6)
    assert not steady.against["pytorch"].uncertain
    assert steady.against["pytorch"].text() == "0.50× (0.40–0.60)"
    flipping = bench.ratios(find(table, impl="scratchml", backend="torch"), table)
    assert flipping.against["pytorch"].low < 1 < flipping.against["pytorch"].high
    assert flipping.against["pytorch"].uncertain
    assert flipping.against["pytorch"].text().endswith(" uncertain")
    # One round (or an older run without rounds): a value, no range, never "uncertain".
    single = bench.Ratio(0.98)
    assert single.text() == "0.98×" and not single.uncertain


def test_gemm_share_uses_the_ceilings_best_call_and_flags_noise_above_100_percent():
    table = bench.rows(MADE_UP)
    share = bench.ratios(find(table, impl="scratchml", backend="numpy"), table).ceiling
    assert share.percent == pytest.approx(75.0)  # best 0.15 / median 0.20, not 0.16 / 0.20
    assert share.text() == "75%"
    fast = bench.rows(_run(_entry(0.10, "scratchml"), _entry(0.13, "gemm", best=0.11)))
    above = bench.ratios(find(fast, impl="scratchml"), fast).ceiling
    assert above.percent > 100 and above.above_ceiling
    assert above.text() == "100%†"  # never a share past 100% shown as a fact


def test_report_names_the_machine_states_the_direction_and_shows_ranges_and_operations():
    text = bench.render_report(MADE_UP)
    title = text.splitlines()[0]
    assert title.startswith("# ") and "Test CPU 9000" in title
    assert "some-folder" not in title
    assert bench.DIRECTION in text
    assert text.index(bench.DIRECTION) < text.index("## spiral")  # stated at the top
    assert "speed-up" not in text.lower() and "above 1: scratchml is faster" not in text
    line = next(row for row in text.splitlines() if "**scratchml · torch**" in row)
    assert "0.75× (0.62–1.12) uncertain" in line  # 0.30 / 0.40; rounds 0.25/0.40 … 0.45/0.40
    assert "| ops / unit |" in text
    assert line.rstrip().endswith("| 52 |")
    pytorch_line = next(row for row in text.splitlines() if "| PyTorch eager |" in row)
    assert pytorch_line.rstrip().endswith("| 26 |")
    assert "range over the rounds" in text


def test_targets_say_whose_they_are_and_where_they_come_from():
    text = bench.render_report(MADE_UP)
    assert "## The project's targets" in text
    assert "the project's own goals" in text.lower()
    assert "`TARGETS`" in text
    # spiral, scratchml · torch ÷ PyTorch eager ≤ 1.0: rounds 0.62–1.12 straddle it.
    line = next(row for row in text.splitlines() if "spiral epoch ≤ 1.0 × PyTorch" in row)
    assert line.rstrip().endswith("| uncertain |")
    ops = next(row for row in text.splitlines() if "kernel-launching ops per epoch" in row)
    assert "2.00× (52 ÷ 26)" in ops and ops.rstrip().endswith("| not met |")
    assert "## The project's targets" not in bench.render_report(
        _run(*MADE_UP["benchmarks"], quick=True)
    )


def test_charts_are_pngs_and_the_old_speedup_chart_goes(tmp_path):
    (tmp_path / bench.RESULTS_JSON).write_text(json.dumps(MADE_UP))
    (tmp_path / "speedup.png").write_bytes(PNG_MAGIC)  # left by an older version
    written = bench.render(tmp_path)
    assert [path.name for path in written] == [
        "results.json", "report.md", "time_by_case.png", "ratios.png",
    ]  # fmt: skip
    for name in ("time_by_case.png", "ratios.png"):
        assert (tmp_path / name).read_bytes()[:8] == PNG_MAGIC
    assert not (tmp_path / "speedup.png").exists()


def test_results_assemble_every_round_of_an_implementation():
    records = [
        {"id": f"r{r}", "kind": "times", "case": "tiny", "title": "t", "dtype": "float32",
         "unit": "epoch", "flops": 1.0, "impl": "scratchml", "backend": "numpy",
         "device": "cpu", "per_call": 2, "round": r, "times": times}
        for r, times in [(1, [0.2, 0.4, 0.3]), (2, [0.6, 0.8])]
    ] + [{"id": "o", "kind": "ops", "case": "tiny", "who": "PyTorch eager", "per_unit": 26}]  # fmt: skip
    data = runner.assemble(records)
    (entry,) = data["benchmarks"]
    assert entry["round_medians"] == pytest.approx([0.3, 0.7])
    assert entry["stats"]["rounds"] == 5 and entry["stats"]["min"] == pytest.approx(0.2)
    (row,) = bench.rows(data)
    assert row.round_medians == pytest.approx((0.15, 0.35))  # per epoch
    assert data["operations"] == [{"case": "tiny", "who": "PyTorch eager", "per_unit": 26}]


def test_compile_times_reach_the_report():
    records = [
        {"id": "t", "kind": "times", "case": "spiral", "title": "t", "dtype": "float32",
         "unit": "epoch", "flops": 1.0, "impl": "scratchml", "backend": "jax",
         "device": "cpu", "per_call": 1, "round": 1, "times": [0.01, 0.02]},
        {"id": "c", "kind": "compile", "case": "spiral", "who": "scratchml · jax", "seconds": 1.5},
    ]  # fmt: skip
    data = {**_run(), **runner.assemble(records)}
    assert data["compile_times"] == [{"case": "spiral", "who": "scratchml · jax", "seconds": 1.5}]
    assert "compile time" in bench.render_report(data) and "scratchml · jax 1.50 s" in (
        bench.render_report(data)
    )


def test_gpu_results_folder_is_named_after_the_whole_model(monkeypatch):
    monkeypatch.setattr(
        environment, "usable_gpus", lambda: ["NVIDIA H100 80GB HBM3, driver 580.1, 81559 MiB"]
    )
    assert environment.machine_kind() == "gpu-h100-80gb-hbm3"
    monkeypatch.setattr(environment, "usable_gpus", lambda: [])
    assert environment.machine_kind() == "cpu"


def test_array_api_strict_is_timed_only_when_asked(monkeypatch):
    monkeypatch.setattr(backends, "available", lambda: ["numpy", "array_api_strict", "torch"])
    assert environment.default_backends() == ["numpy", "torch"]


def test_an_unusable_backend_is_refused_by_name_before_anything_runs(monkeypatch, tmp_path, capsys):
    real = backends.why_unavailable
    monkeypatch.setattr(
        backends, "why_unavailable", lambda name: "no GPU here" if name == "cupy" else real(name)
    )
    out = tmp_path / "never"
    code = cli.main(["bench", "--backend", "cupy", "--out", str(out)])
    assert code == 2
    assert "backend 'cupy' is not usable here: no GPU here" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--case", "huge"], "unknown case 'huge'; valid cases are tiny, spiral"),
        (["--rounds", "0"], "rounds must be a positive integer; got 0"),
    ],
)
def test_bad_settings_are_refused_by_name(tmp_path, capsys, flags, message):
    out = tmp_path / "never"
    assert cli.main(["bench", "--quick", "--out", str(out), *flags]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_the_help_names_every_case_a_run_can_select():
    import argparse

    parser = argparse.ArgumentParser()
    bench.add_arguments(parser)
    shown = "".join(parser.format_help().split())  # wrapped lines may break at a hyphen
    for name in cases.names():
        assert name in shown, name


def test_stack_peers_initialise_inside_their_timed_call_like_scratchml(monkeypatch):
    """The same work for every implementation: each timed call starts from the host."""
    pytest.importorskip("torch")
    from scratchml.bench.cases import stacks

    made = []
    original = stacks.host_parameters
    monkeypatch.setattr(stacks, "host_parameters", lambda work: made.append(1) or original(work))
    work = stacks.StackWorkload("stack-test", 4, (4,), 32, 2, 1, 4, "cpu")
    timed = stacks._pytorch(work)()
    assert made == []  # nothing drawn while preparing
    timed()
    timed()
    assert len(made) == 2  # drawn again in every timed call, as scratchml's fit does


def test_a_timed_fit_keeps_the_chunk_length_the_last_one_reached(monkeypatch):
    """One host read of the losses per timed fit once warm, as PyTorch's loop has one: a
    fresh chunk length per fit (1, 2, ... epochs) would read them several times."""
    from scratchml import _training

    # Epochs count as fast whatever the machine's load: the chunk doubles after each read.
    original_init = _training.ChunkLengths.__init__

    def init(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        self.target_s = 1e9

    monkeypatch.setattr(_training.ChunkLengths, "__init__", init)
    updates = []
    original = _training.ChunkLengths.update
    monkeypatch.setattr(
        _training.ChunkLengths,
        "update",
        lambda self, epochs, seconds: updates.append(epochs) or original(self, epochs, seconds),
    )
    (case,) = cases.build(["numpy"], quick=True, only=["spiral"], dtypes=["float32"])
    (ours,) = [i for i in case.implementations if i.impl == "scratchml"]
    assert case.implementations[0].per_call > 2  # several epochs per timed call
    timed = ours.prepare()
    timed()  # the runner's untimed warm-up call
    updates.clear()
    timed()
    assert updates == [ours.per_call]  # every epoch of the call in one chunk


def test_the_stack_draws_its_initial_weights_in_one_call_like_its_peers(monkeypatch):
    import numpy as np

    from scratchml.bench.cases import stacks

    work = stacks.StackWorkload("stack-test", 64, (4, 4), 32, 2, 1, 4, "cpu")
    X, y = stacks._data(work)
    drawn = []
    original = backends.rng
    monkeypatch.setattr(backends, "rng", lambda seed: drawn.append(seed) or original(seed))
    stack = stacks._stack(work, 2).fit(X, y)
    made = [seed for seed in drawn if not isinstance(seed, np.random.Generator)]
    assert len(made) <= 1  # one generator, not one per network
    peers = stacks.host_parameters(work)
    first = stack._initial_params([2, 4, 4, 1], X, stack._generator())
    for (W, b), W_peer, b_peer in zip(first, peers[::2], peers[1::2], strict=True):
        assert backends.to_numpy(W).tolist() == W_peer.tolist()
        assert backends.to_numpy(b).tolist() == b_peer.tolist()
    assert stack.params_[0][0].shape == (64, 2, 4)


def test_the_jax_baseline_is_jax_alone_not_scratchml_math():
    """The JAX peers are what a user writes without scratchml: the baseline's math imports
    JAX and nothing of scratchml (only the bench's UnavailableError, to say JAX has no GPU)."""
    import ast

    from scratchml.bench.cases import jax_baseline

    imported = set()
    for node in ast.walk(ast.parse(Path(jax_baseline.__file__).read_text())):
        if isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add("." * node.level + (node.module or ""))
    assert imported == {"__future__", "jax", "jax.numpy", ".base"}


def test_the_stack_and_sweep_cases_share_one_jax_baseline():
    """Written once: the case files hold no copy of the forward pass, the loss or Adam."""
    from scratchml.bench.cases import stacks, sweep

    for module in (stacks, sweep):
        source = Path(module.__file__).read_text()
        for copied in ("logaddexp", "BETA1", "EPSILON", "jnp.tanh"):
            assert copied not in source, f"{module.__name__} has its own {copied}"


def test_the_jax_peers_64_bit_mode_does_not_reach_later_float32_rows():
    """In a fresh process (this one has 64-bit mode on for the test suite)."""
    pytest.importorskip("jax")
    code = """
import jax
from scratchml.bench import cases
found = cases.build(["jax"], quick=True, only=["spiral-256"], dtypes=["float64", "float32"])
by_dtype = {case.dtype: case for case in found}
(peer,) = [i for i in by_dtype["float64"].implementations if i.impl == "jax"]
peer.prepare()
assert jax.config.jax_enable_x64, "a float64 case computes in 64 bits"
(ours,) = [i for i in by_dtype["float32"].implementations if i.impl == "scratchml"]
ours.prepare()
print("x64 after:", jax.config.jax_enable_x64)
"""
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "JAX_PLATFORMS": "cpu"},
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "x64 after: False" in done.stdout


def test_operation_counts_are_per_epoch_and_need_only_torch_cpu():
    pytest.importorskip("torch")
    if backends.why_unavailable("torch"):
        pytest.skip(backends.why_unavailable("torch"))
    (case,) = cases.build(["numpy"], quick=True, only=["spiral"], dtypes=["float32"])
    counts = {who: count() for who, count in case.op_counts.items()}
    assert set(counts) == {"scratchml · torch", "PyTorch eager"}
    assert all(value > 0 for value in counts.values()), counts
    # Same work per epoch: the same order of magnitude (the ratio is what the report shows).
    assert 0.5 < counts["scratchml · torch"] / counts["PyTorch eager"] < 10, counts


# --- the committed reports and the README ---------------------------------------------------


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
    assert "\nold\n" not in text
    assert " ".join(text.split()).count(bench.DIRECTION) == 1  # stated once, at the top
    assert "| spiral | numpy | 20.0 ms / epoch | 0.50× (0.40–0.60) |" in text
    assert "[full report](results/cpu/report.md)" in text
    assert "Test CPU 9000" in text
    assert "quick" not in text.split(bench.README_START)[1]  # quick runs stay out
    assert not bench.update_readme(readme, results)  # already up to date
    readme.write_text("no markers\n")
    with pytest.raises(ValueError, match="bench-table:start"):
        bench.update_readme(readme, results)


def test_readme_table_is_rendered_from_the_committed_reports():
    readme = (ROOT / "README.md").read_text()
    start, end = readme.index(bench.README_START), readme.index(bench.README_END)
    assert readme[start : end + len(bench.README_END)] == bench.readme_block(), (
        "README.md's benchmark table differs from benchmarks/results/: "
        "run `scratchml bench --readme`"
    )


def test_committed_reports_match_their_results():
    found = bench.committed_results()
    assert found, "no committed report under benchmarks/results/"
    for path in found:
        data = json.loads(path.read_text())
        assert (path.parent / "report.md").read_text() == bench.render_report(data), (
            f"{path.parent}/report.md is stale: scratchml bench --render-only --out {path.parent}"
        )
        for chart in ("time_by_case.png", "ratios.png"):
            assert (path.parent / chart).read_bytes()[:8] == PNG_MAGIC


def test_the_cases_are_not_collected_as_tests():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert config["tool"]["pytest"]["ini_options"]["testpaths"] == ["tests"]
    assert not list((ROOT / "scratchml" / "bench").rglob("test_*.py"))


# --- runs end to end ----------------------------------------------------------------------


@pytest.mark.slow
def test_quick_run_writes_a_report_of_every_case_and_the_charts(tmp_path):
    from PIL import Image

    out = tmp_path / "out"
    # This checkout's scratchml, run from a folder that is not the checkout.
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    result = subprocess.run(
        [sys.executable, "-m", "scratchml", "bench", "--quick", "--out", str(out)],
        capture_output=True, text=True, cwd=tmp_path, timeout=BUSY_MACHINE_LIMIT,
        env={**os.environ, "PYTHONPATH": path},
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    data = json.loads((out / "results.json").read_text())
    table = bench.rows(data)
    text = (out / "report.md").read_text()
    assert text == bench.render_report(data)
    assert "Quick run" in text and bench.DIRECTION in text
    for case in ("tiny", "spiral", "wide", "stack-8", "normal", "sweep-mixed"):
        assert f"## {case}: " in text
        found = find(table, case=case, dtype="float32", impl="scratchml", backend="numpy")
        assert found is not None and found.median > 0
    assert "scikit-learn" in text and "GEMM ceiling · numpy" in text
    assert not any(row.backend == "array_api_strict" for row in table)  # not asked for
    if not backends.why_unavailable("torch"):
        assert find(table, case="stack-8", impl="pytorch-stacked") is not None
        assert "| ops / unit |" in text
    if cases.importable("jax"):
        assert find(table, case="stack-8", impl="jax-vmap") is not None
    timed = [line.split()[:2] for line in result.stdout.splitlines() if " ms / " in line]
    assert len(timed) == len(table)  # one progress line per measurement
    # Each case's implementations run back to back: one stretch of lines per (case, dtype).
    stretches = [tuple(key) for key, _ in itertools.groupby(timed)]
    assert len(stretches) == len(set(stretches)), stretches
    for chart in ("time_by_case.png", "ratios.png"):
        with Image.open(out / chart) as image:
            assert image.format == "PNG" and image.width > 600 and image.height > 300
    assert not list(tmp_path.glob("*.jsonl")) and not (out / bench.CASES_JSONL).exists()


@pytest.mark.slow
def test_rounds_and_an_interrupted_run_resumes_with_what_it_measured(tmp_path):
    """Each measurement is kept as soon as it is taken; ``resume`` takes only the others."""
    import io

    def run(*, resume, rounds=2):
        output = io.StringIO()
        code = bench.run(
            ["numpy"], quick=True, out=tmp_path, stream=output, resume=resume, rounds=rounds,
            only=["tiny"], dtypes=["float32"],
        )  # fmt: skip
        return code, output.getvalue()

    code, output = run(resume=False)
    assert code == 0, output
    first = json.loads((tmp_path / bench.RESULTS_JSON).read_text())
    row = find(bench.rows(first), impl="scratchml")
    assert len(row.round_medians) == 2  # two rounds, each with its own median
    assert "(round 2/2)" in output
    assert "(" in next(line for line in (tmp_path / "report.md").read_text().splitlines()
                       if "**scratchml · numpy**" in line)  # fmt: skip

    # As if the run had died during round 2, in the middle of writing one more line.
    records = [
        {"id": worker.measurement_id(case, implementation, 1), "kind": "times",
         "case": case.name, "title": case.title, "dtype": case.dtype, "unit": case.unit,
         "flops": case.flops, "impl": implementation.impl, "backend": implementation.backend,
         "device": implementation.device, "per_call": implementation.per_call, "round": 1,
         "times": [1.0]}
        for case in cases.build(["numpy"], True, ["tiny"], ["float32"])
        for implementation in case.implementations
    ]  # fmt: skip
    lines = [json.dumps(record) for record in records]
    (tmp_path / bench.CASES_JSONL).write_text("\n".join(lines) + '\n{"id": "tiny/flo')
    (tmp_path / bench.RESULTS_JSON).unlink()
    code, output = run(resume=True)
    assert code == 0, output
    assert f"resuming: {len(records)} measurements already taken" in output
    assert "(round 1/2)" not in output and "(round 2/2)" in output
    data = json.loads((tmp_path / bench.RESULTS_JSON).read_text())
    for entry in data["benchmarks"]:  # round 1 kept as it was measured, not taken again
        assert entry["round_medians"][0] == 1.0
    assert f"(resumed: {len(records)} measurements" in (tmp_path / "report.md").read_text()
    assert not (tmp_path / bench.CASES_JSONL).exists()


def _source_copy(destination: Path) -> Path:
    """The files a wheel is built from, copied (a build must not write into the checkout)."""
    destination.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        if (ROOT / name).exists():
            shutil.copy2(ROOT / name, destination / name)
    shutil.copytree(
        ROOT / "scratchml", destination / "scratchml", ignore=shutil.ignore_patterns("__pycache__")
    )
    return destination


@pytest.mark.slow
def test_an_installed_wheel_runs_the_quick_benchmark_from_an_empty_folder(tmp_path):
    """pip install "scratchml[bench]" then `scratchml bench --quick`, away from the checkout.

    The fresh environment sees this environment's libraries (NumPy, torch, ...) through a
    .pth file, so nothing is downloaded; scratchml itself comes from the wheel.
    """
    source = _source_copy(tmp_path / "source")
    dist = tmp_path / "dist"
    pip = [sys.executable, "-m", "pip"]
    # Build with this environment's setuptools when it is new enough for pyproject.toml's
    # build requirement (no download); otherwise let pip fetch one (build isolation).
    try:
        setuptools_major = int(importlib.metadata.version("setuptools").split(".")[0])
    except importlib.metadata.PackageNotFoundError:
        setuptools_major = 0
    isolation = ["--no-build-isolation"] if setuptools_major >= 68 else []
    subprocess.run(
        [*pip, "wheel", "--no-deps", *isolation, "-q", "-w", str(dist), str(source)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    (wheel,) = dist.glob("scratchml-*.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    Path(site, "_libraries_of_the_test_run.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    # The libraries come through the .pth file; the wheel itself is installed alone, by the
    # venv's own pip (pips differ in what they see through a .pth file when resolving), and
    # its metadata must still declare what the bench extra brings.
    subprocess.run(
        [str(python), "-m", "pip", "install", "--no-index", "--no-deps", "--force-reinstall", "-q", str(wheel)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    with zipfile.ZipFile(wheel) as archive:
        (metadata,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        declared = archive.read(metadata).decode()
    assert "Provides-Extra: bench" in declared
    assert re.search(r"Requires-Dist: scikit-learn.*extra == .bench.", declared)
    empty = tmp_path / "empty"
    empty.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    where = subprocess.run(
        [str(python), "-c", "import scratchml; print(scratchml.__file__)"],
        capture_output=True, text=True, cwd=empty, env=env, check=True,
    ).stdout.strip()  # fmt: skip
    assert Path(where).resolve().is_relative_to(venv.resolve()), where
    assert not Path(where).resolve().is_relative_to(ROOT)
    script = venv / ("Scripts/scratchml.exe" if os.name == "nt" else "bin/scratchml")
    result = subprocess.run(
        [str(script), "bench", "--quick", "--out", "X"],
        capture_output=True, text=True, cwd=empty, env=env, timeout=BUSY_MACHINE_LIMIT,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    assert (empty / "X" / "report.md").exists()
    assert "## tiny: " in (empty / "X" / "report.md").read_text()


# --- a run on a GPU machine: short of time, killed, precisions --------------------------------


def test_a_quick_run_is_quick():
    """float32 only, no case that repeats another's code path at its shapes, one cold fit per
    compile time and one compile time in all: well under a minute on two cores."""
    found = cases.build(["numpy", "torch", "jax"], quick=True)
    assert [case.name for case in found] == [
        "tiny", "spiral", "wide", "stack-8", "normal", "sweep-mixed"
    ]  # fmt: skip
    assert {case.dtype for case in found} == {"float32"}
    assert cases.compile_tries(quick=True) == 1 and cases.compile_tries(quick=False) == 3
    from scratchml.bench.cases import sweep as sweep_case

    (work,) = sweep_case._workloads(quick=True)
    assert len(work.architectures) == 2  # mixed, and two compilations per library
    # Every case stays selectable by name, in both dtypes.
    named = cases.build(["numpy"], quick=True, only=["stack-16"], dtypes=["float32"])
    assert [case.name for case in named] == ["stack-16"]


def test_the_gpu_stack_case_is_timed_first(monkeypatch):
    monkeypatch.setattr(environment, "device_of", lambda name: "cuda" if name == "torch" else "cpu")
    found = cases.build(["numpy", "torch"], quick=True, only=["spiral", "stack-32-gpu"])
    assert [case.name for case in found][:1] == ["stack-32-gpu"]
    assert {case.name for case in found} == {"spiral", "stack-32-gpu"}


def _fake_case(name, log):
    """A case whose implementations and compile time only log that they ran."""

    def implementation(impl):
        def prepare():
            return lambda: log.append(("times", name, impl))

        return cases.Implementation(impl, "numpy", "cpu", prepare, 1)

    def compile_time():
        log.append(("compile", name, "scratchml"))
        return 0.5

    return cases.Case(
        name=name, title=name, dtype="float32", unit="epoch", flops=None, calls=1,
        implementations=[implementation("scratchml"), implementation("pytorch")],
        compile_times={"scratchml · jax": compile_time},
    )  # fmt: skip


def test_compile_times_come_after_every_time_and_nothing_starts_after_the_deadline(
    monkeypatch, tmp_path, capsys
):
    import time

    log = []
    found = [_fake_case("first", log), _fake_case("second", log)]
    monkeypatch.setattr(worker.bench_cases, "build", lambda *args: found)
    settings = {"backends": ["numpy"], "quick": False, "rounds": 1,
                "records": str(tmp_path / "cases.jsonl")}  # fmt: skip
    assert worker.run(settings) == 0
    kinds = [kind for kind, _, _ in log]
    first_compile = kinds.index("compile")
    assert "times" not in kinds[first_compile:]  # every time before any compile time
    assert [entry[1] for entry in log if entry[0] == "compile"] == ["first", "second"]
    records = [json.loads(line) for line in (tmp_path / "cases.jsonl").read_text().splitlines()]
    assert [r["kind"] for r in records] == ["times"] * 4 + ["compile"] * 2
    assert {r["precision"] for r in records if r["kind"] == "times"} == {"FP32"}
    # A deadline already past: nothing starts, and the worker says why.
    log.clear()
    settings["records"] = str(tmp_path / "late.jsonl")
    assert worker.run({**settings, "deadline": time.time() - 1}) == 0
    assert log == [] and "time limit reached" in capsys.readouterr().out


def test_every_library_computes_float32_products_in_the_precision_of_the_run():
    """JAX uses TF32 on a GPU unless told; a run sets one precision for all, in the worker's
    environment before any library loads, and records it in each row."""
    from scratchml.bench import precision

    env = runner.worker_environment(1)
    assert env["JAX_DEFAULT_MATMUL_PRECISION"] == "highest"
    assert env["CUPY_TF32"] == "0" and env["NVIDIA_TF32_OVERRIDE"] == "0"
    tf32 = runner.worker_environment(1, "tf32")
    assert tf32["JAX_DEFAULT_MATMUL_PRECISION"] == "tensorfloat32" and tf32["CUPY_TF32"] == "1"
    assert "NVIDIA_TF32_OVERRIDE" not in tf32
    assert precision.label("float32", "cuda", "float32") == "FP32"
    assert precision.label("float32", "cuda", "tf32") == "TF32"
    assert precision.label("float32", "cpu", "tf32") == "FP32"  # a CPU has no TF32
    assert precision.label("float64", "cuda", "tf32") == "FP64"
    with pytest.raises(ValueError, match="precision must be one of 'float32', 'tf32'"):
        precision.check("bf16")
    if cases.importable("jax"):
        done = subprocess.run(
            [sys.executable, "-c", "import jax; print(jax.config.jax_default_matmul_precision)"],
            capture_output=True, text=True, env={**env, "JAX_PLATFORMS": "cpu"},
            timeout=BUSY_MACHINE_LIMIT,
        )  # fmt: skip
        assert done.stdout.strip() == "highest", done.stderr[-2000:]


def test_a_report_shows_each_rows_precision_and_the_runs_setting():
    entry = _entry(0.2, "scratchml")
    entry["extra_info"]["precision"] = "FP32"
    data = _run(entry, _entry(0.4, "pytorch", backend="torch"))
    data["scratchml_bench"]["precision"] = "float32"
    text = bench.render_report(data)
    assert "- **Matrix products**: full FP32 for float32, alike on every library" in text
    assert "| dtype | implementation | precision | ms / epoch |" in text
    assert "| float32 | **scratchml · numpy** | FP32 | 20.0 |" in text
    # A run from before precisions were recorded renders as it did.
    assert "precision" not in bench.render_report(MADE_UP)


def test_the_report_of_a_run_killed_before_writing_it_renders_from_its_records(tmp_path):
    settings = {"backends": ["numpy"], "quick": True, "rounds": 1, "cases": ["tiny"],
                "dtypes": ["float32"], "records": str(tmp_path / bench.CASES_JSONL)}  # fmt: skip
    worker.run(settings)
    with open(tmp_path / bench.CASES_JSONL, "a") as records:
        records.write('{"id": "cut in the mi')
    assert cli.main(["bench", "--render-only", "--out", str(tmp_path)]) == 0
    text = (tmp_path / "report.md").read_text()
    assert "> **Incomplete run**: the run stopped before it wrote its report." in text
    assert "## tiny: " in text and "**scratchml · numpy**" in text
    if cases.importable("torch"):
        assert "÷ PyTorch eager" in text  # ratios, not only raw times
    assert (tmp_path / bench.CASES_JSONL).exists()  # kept for --resume


def test_a_time_limit_must_leave_the_report_its_share(tmp_path, capsys):
    code = cli.main(["bench", "--quick", "--out", str(tmp_path), "--time-limit", "10"])
    assert code == 2
    assert "time_limit must be more than 15 seconds" in capsys.readouterr().err


@pytest.mark.slow
def test_a_bench_stopped_by_sigterm_writes_its_report_and_resumes(tmp_path):
    """`timeout` ends a GPU run's bench with SIGTERM: the report holds what it measured."""
    import signal
    import time

    out = tmp_path / "out"
    command = [sys.executable, "-m", "scratchml", "bench", "--backend", "numpy", "--quick",
               "--case", "tiny", "--case", "spiral", "--case", "normal", "--out", str(out)]  # fmt: skip
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "PYTHONPATH": path}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, env=env)  # fmt: skip
    records = out / bench.CASES_JSONL
    waited = time.monotonic()
    while time.monotonic() - waited < BUSY_MACHINE_LIMIT:
        if records.exists() and '"kind": "times"' in records.read_text():
            break
        time.sleep(0.1)
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=BUSY_MACHINE_LIMIT)
    assert process.returncode == 1, output[-3000:]
    data = json.loads((out / bench.RESULTS_JSON).read_text())
    assert data["scratchml_bench"]["complete"] is False
    assert "Incomplete run**: the run was stopped (SIGTERM)" in (out / "report.md").read_text()
    assert records.exists() and "--resume" in output
    taken = len(bench.rows(data))
    done = subprocess.run([*command, "--resume"], capture_output=True, text=True, env=env,
                          timeout=BUSY_MACHINE_LIMIT)  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:]
    data = json.loads((out / bench.RESULTS_JSON).read_text())
    assert data["scratchml_bench"]["complete"] is True and len(bench.rows(data)) > taken
    assert {case for case in (row.case for row in bench.rows(data))} == {"tiny", "spiral", "normal"}
    assert not records.exists()


def test_a_run_out_of_time_writes_its_report_from_what_it_had(tmp_path, monkeypatch):
    """The time limit is reached before the worker starts a measurement: the report holds the
    measurements an earlier run left, says it is incomplete, and --resume can go on."""
    import io

    records = [
        {"id": worker.measurement_id(case, implementation, 1), "kind": "times",
         "case": case.name, "title": case.title, "dtype": case.dtype, "unit": case.unit,
         "flops": case.flops, "impl": implementation.impl, "backend": implementation.backend,
         "device": implementation.device, "per_call": implementation.per_call, "round": 1,
         "precision": "FP32", "times": [1.0]}
        for case in cases.build(["numpy"], True, ["tiny"], ["float32"])
        for implementation in case.implementations[:2]
    ]  # fmt: skip
    (tmp_path / bench.CASES_JSONL).write_text("".join(json.dumps(r) + "\n" for r in records))
    monkeypatch.setattr(runner, "RENDER_SECONDS", 15.9)  # the deadline: 0.1 s after the start
    output = io.StringIO()
    code = bench.run(
        ["numpy"], quick=True, out=tmp_path, stream=output, resume=True, only=["tiny"],
        dtypes=["float32"], time_limit=16,
    )  # fmt: skip
    # (The worker says so, or on a busy machine is stopped before it starts: the same.)
    assert code == 0, output.getvalue()
    data = json.loads((tmp_path / bench.RESULTS_JSON).read_text())
    assert data["scratchml_bench"]["complete"] is False
    assert len(bench.rows(data)) == 2
    text = (tmp_path / "report.md").read_text()
    assert "> **Incomplete run**: the time limit (16 s) was reached." in text
    assert (tmp_path / bench.CASES_JSONL).exists()
