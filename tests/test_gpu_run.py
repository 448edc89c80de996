"""The GPU run (.ci/gpu): its plumbing by its dry run, its steps by a rehearsal on a CPU."""

import contextlib
import importlib.machinery
import importlib.util
import json
import os
import re
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / ".ci" / "gpu"
STEPS = [
    "environment",
    "tests-cupy",
    "tests-torch-cuda",
    "tests-jax-cuda",
    "demo-cupy",
    "demo-torch",
    "demo-jax",
    "sweep-cupy",
    "sweep-torch",
    "sweep-jax",
    "bench",
]
# The short rehearsal CI runs (.ci/run); a folder it wrote can be named instead.
SHORT_REHEARSAL = [
    "--rehearse", "--budget", "200", "--tests", "tests/test_layers_fast.py", "--bench-case", "spiral",
]  # fmt: skip
REHEARSAL_FOLDER = "SCRATCHML_GPU_REHEARSAL"


def _load_script():
    """The script as a module (it has no .py suffix), to test its parts."""
    if "scratchml_gpu_run" in sys.modules:
        return sys.modules["scratchml_gpu_run"]
    loader = importlib.machinery.SourceFileLoader("scratchml_gpu_run", str(SCRIPT))
    spec = importlib.util.spec_from_loader("scratchml_gpu_run", loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules["scratchml_gpu_run"] = module  # its dataclasses look their module up there
    loader.exec_module(module)
    return module


def _dry_run(out, *more):
    done = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "--dry-run",
            "--out",
            str(out),
            "--wheels",
            str(out / "no"),
            *more,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    steps = [json.loads(line) for line in (out / "gpu-run.jsonl").read_text().splitlines()]
    return done, {step["name"]: step for step in steps}


def test_dry_run_writes_every_steps_files(tmp_path):
    done, steps = _dry_run(tmp_path)
    assert done.returncode == 0, done.stderr
    assert list(steps) == STEPS
    assert steps["environment"]["status"] == "passed"
    assert {steps[name]["status"] for name in STEPS[1:]} == {"dry run"}
    assert all(steps[name]["budget_s"] > 0 for name in STEPS)
    environment = json.loads((tmp_path / "environment.json").read_text())
    assert environment["python"] and environment["libraries"]["numpy"]
    for name in STEPS:
        log = (tmp_path / "logs" / f"{name}.log").read_text()
        assert steps[name]["command"] in log
    summary = (tmp_path / "gpu-run.md").read_text()
    assert summary.startswith("# GPU run (dry run")
    assert all(f"| {name} |" in summary for name in STEPS)


def test_dry_run_commands_are_offline_and_gpu_bound(tmp_path):
    _, steps = _dry_run(tmp_path)
    commands = {name: step["command"] for name, step in steps.items()}
    assert not any("pip install" in command for command in commands.values())
    assert "SCRATCHML_REQUIRE_BACKENDS=cupy" in commands["tests-cupy"]
    assert "-k cupy" in commands["tests-cupy"]
    assert "SCRATCHML_TEST_TORCH_DEVICE=cuda " in commands["tests-torch-cuda"]
    assert '"torch_device": "cuda"' in commands["demo-torch"]
    assert "--backend cupy --backend torch" in commands["bench"]
    assert f"--out {tmp_path}" in commands["bench"] and "--resume" in commands["bench"]
    # The 4,096-network stack first, full FP32 products, a report within the step's budget.
    assert "--case stack-32-gpu --case spiral --case wide" in commands["bench"]
    assert "--precision float32" in commands["bench"] and "--time-limit" in commands["bench"]
    # A sweep of a few thousand networks on each GPU library, torch's data on CUDA.
    gpu = _load_script()
    info = {
        "backends": dict.fromkeys(("cupy", "torch", "jax"), "usable"),
        "torch": {"cuda_available": True},
        "jax": {"default_backend": "gpu"},
    }
    planned = {s.name: s for s in gpu.plan(tmp_path, info, gpu.parse(["--out", str(tmp_path)]))}
    for library in ("cupy", "torch", "jax"):
        step = planned[f"sweep-{library}"]
        assert step.command[2] == "--sweep-step" and not step.skip
        job = json.loads(step.command[3])
        assert job["backend"] == library and job["out"] == str(tmp_path / "sweeps" / library)
        assert job["grid"]["seeds"] == 128 and job["grid"]["depth"] == [1, 2]
        assert job["torch_device"] == ("cuda" if library == "torch" else "")


def test_a_spent_budget_leaves_the_other_steps_out_of_time(tmp_path):
    done, steps = _dry_run(tmp_path, "--budget", "2")
    assert done.returncode == 0, done.stderr
    assert steps["environment"]["status"] == "passed"
    assert {steps[name]["status"] for name in STEPS[1:]} == {"out of time"}
    assert "out of time" in (tmp_path / "gpu-run.md").read_text()


def test_a_run_cut_short_still_reports_what_it_measured(tmp_path):
    gpu = _load_script()
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "tests-cupy.log").write_text(
        "[gw0] [ 10%] PASSED tests/test_mlp.py::test_fit[cupy]\n"
        "[gw1] [ 20%] PASSED tests/test_mlp.py::test_predict[cupy]\n"
        "[gw0] [ 30%] FAILED tests/test_io.py::test_load[cupy]\n"
        "[gw1] [ 40%] SKIPPED tests/test_io.py::test_save[cupy]\n"
    )
    assert (
        gpu.test_counts(tmp_path, "tests-cupy") == "cut short after 2 passed, 1 failed, 1 skipped"
    )


def test_a_bench_cut_short_reports_the_measurements_the_worker_wrote(tmp_path):
    """The summary reads cases.jsonl as the bench worker writes it (times, not pytest-benchmark's
    stats), and leaves out its operation counts and compile times."""
    from scratchml.bench import worker

    gpu = _load_script()
    settings = {
        "backends": ["numpy"],
        "quick": True,
        "rounds": 1,
        "cases": ["tiny"],
        "dtypes": ["float32"],
        "records": str(tmp_path / "cases.jsonl"),
    }
    worker.run(settings)
    with open(tmp_path / "cases.jsonl", "a") as records:
        records.write('{"id": "cut in the mi')  # the line a killed worker was writing
    measured = [
        json.loads(line) for line in (tmp_path / "cases.jsonl").read_text().splitlines()[:-1]
    ]
    times = [m for m in measured if m["kind"] == "times"]
    lines = gpu.bench_summary(tmp_path)
    assert f"the {len(times)} measurements it took" in lines[0]
    rows = [line for line in lines if line.startswith("| tiny |")]
    assert len(rows) == len(times)
    ours = next(m for m in times if m["impl"] == "scratchml")
    (row,) = [line for line in rows if "| scratchml · numpy |" in line]
    assert row.split("|")[4].strip() == "FP32"  # the precision its products ran in
    milliseconds = float(row.split("|")[5])
    expected = sorted(ours["times"])[len(ours["times"]) // 2] / ours["per_call"] * 1e3
    assert milliseconds == pytest.approx(expected, rel=1e-3, abs=1e-3)
    assert not any("?" in line for line in rows)


def test_test_counts_read_the_junit_file(tmp_path):
    gpu = _load_script()
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "tests-cupy.junit.xml").write_text(
        '<testsuites><testsuite tests="5" failures="1" errors="0" skipped="1">'
        '<testcase classname="tests.test_mlp" name="test_fit[cupy]"><failure/></testcase>'
        "</testsuite></testsuites>"
    )
    assert gpu.test_counts(tmp_path, "tests-cupy") == (
        "3 passed, 1 failed, 1 skipped; failed: tests.test_mlp::test_fit[cupy]"
    )


def test_carried_wheels_are_unpacked_for_the_path(tmp_path):
    gpu = _load_script()
    with zipfile.ZipFile(tmp_path / "carried_pkg-1.0-py3-none-any.whl", "w") as wheel:
        wheel.writestr("carried_pkg/__init__.py", "VERSION = '1.0'\n")
        wheel.writestr("carried_pkg-1.0.dist-info/METADATA", "Name: carried-pkg\nVersion: 1.0\n")
    site = gpu.unpack_wheels(tmp_path)
    try:
        assert (site / "carried_pkg" / "__init__.py").exists()
        done = subprocess.run(
            [sys.executable, "-c", "import carried_pkg; print(carried_pkg.VERSION)"],
            capture_output=True,
            text=True,
            env={"PYTHONPATH": str(site)},
        )
        assert done.stdout.strip() == "1.0"
    finally:
        import shutil

        shutil.rmtree(site)
    assert gpu.unpack_wheels(tmp_path / "none") is None


@pytest.mark.parametrize("step", ["tests-cupy", "tests-torch-cuda", "tests-jax-cuda"])
def test_test_steps_without_their_gpu_library_are_skipped_with_the_reason(tmp_path, step):
    gpu = _load_script()
    args = gpu.parse(["--out", str(tmp_path)])
    info = {"backends": {"numpy": "usable", "cupy": "CuPy is not installed", "torch": "usable"}}
    steps = {s.name: s for s in gpu.plan(tmp_path, info, args)}
    expected = {
        "tests-cupy": "cupy not usable: CuPy is not installed",
        "tests-torch-cuda": "torch sees no CUDA device",
        "tests-jax-cuda": "this scratchml has no jax backend",
    }
    assert steps[step].skip == expected[step]
    assert steps["bench"].skip == "no GPU backend is usable"


def test_a_step_runs_under_its_budget_and_logs_as_it_goes(tmp_path):
    import os

    gpu = _load_script()
    (tmp_path / "logs").mkdir()
    say = gpu.Step("say", [sys.executable, "-c", "print('measured 42')"])
    outcome = gpu.run_step(say, tmp_path, 30, dict(os.environ), dry_run=False)
    assert (outcome.status, outcome.exit_code) == ("passed", 0)
    assert "measured 42" in (tmp_path / "logs" / "say.log").read_text()
    code = "import time; print('first half', flush=True); time.sleep(60)"
    hang = gpu.Step("hang", [sys.executable, "-c", code])
    outcome = gpu.run_step(hang, tmp_path, 1, dict(os.environ), dry_run=False)
    assert outcome.status == "timed out" and outcome.seconds < 30
    assert "first half" in (tmp_path / "logs" / "hang.log").read_text()


# --- the defects a first GPU run would have hit -------------------------------------------


def test_without_hypothesis_matplotlib_pil_or_array_api_strict_the_tests_still_collect(tmp_path):
    """A GPU image lacks them unless carried: their test files are skipped, the rest run."""
    for module in ("hypothesis", "matplotlib", "PIL", "array_api_strict"):
        (tmp_path / f"{module}.py").write_text(
            f"raise ModuleNotFoundError(\"No module named '{module}'\", name={module!r})\n"
        )
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "tests", "--collect-only", "-q", "-rs",
         "-p", "no:cacheprovider", "-p", "no:hypothesispytest", "-o", "addopts="],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)])},
        timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    collected = re.search(r"(\d+) tests collected", done.stdout)
    assert collected and int(collected.group(1)) > 100, done.stdout[-2000:]
    assert "test_properties.py" in done.stdout and "hypothesis" in done.stdout  # skipped


def test_the_environment_step_names_every_module_the_tests_import_that_is_missing(monkeypatch):
    gpu = _load_script()
    imported = gpu.test_imports()
    for module in ("hypothesis", "matplotlib", "array_api_strict", "PIL", "sklearn"):
        assert module in imported["required"] + imported["optional"]
    for module in ("hypothesis", "array_api_strict", "matplotlib"):
        monkeypatch.setitem(sys.modules, module, None)  # what `import` of a missing one sees
    info = gpu.describe(probe_gpus=False)
    assert {"hypothesis", "array_api_strict", "matplotlib"} <= set(info["missing"]["test files"])
    assert "matplotlib" in info["missing"]["scratchml"]


def test_results_go_to_out_then_to_the_out_variable_then_into_the_tree(tmp_path, monkeypatch):
    gpu = _load_script()
    info = {"results_folder": "gpu-nvidia-h100-80gb-hbm3"}
    monkeypatch.setenv("OUT", str(tmp_path / "back"))
    assert gpu.results_folder(gpu.parse(["--out", str(tmp_path / "x")]), info) == tmp_path / "x"
    assert gpu.results_folder(gpu.parse([]), info) == tmp_path / "back" / info["results_folder"]
    assert gpu.results_folder(gpu.parse(["--rehearse"]), info).parent == tmp_path / "back"
    monkeypatch.delenv("OUT")
    assert gpu.results_folder(gpu.parse([]), info) == (
        ROOT / "benchmarks" / "results" / info["results_folder"]
    )
    # The dry run, with $OUT and no --out, writes there.
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--dry-run", "--wheels", str(tmp_path / "none")],
        capture_output=True,
        text=True,
        env={**os.environ, "OUT": str(tmp_path / "back")},
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "back" / "gpu-dry-run" / "gpu-run.md").exists()


def test_budgets_fit_the_call_with_margin_and_a_skipped_steps_time_goes_to_the_later_steps():
    """A lent GPU machine runs one command of at most 600 s: the environment's budget (a cold
    machine) and every step's weight add up within the run's budget, a minute short of it."""
    gpu = _load_script()
    assert gpu.CALL_LIMIT == 600
    assert gpu.ENVIRONMENT_BUDGET >= 90  # three CUDA libraries starting on a cold machine
    assert gpu.ENVIRONMENT_BUDGET + sum(gpu.WEIGHTS.values()) <= gpu.TOTAL_BUDGET
    assert gpu.TOTAL_BUDGET <= gpu.CALL_LIMIT - 60
    # The tests take at most 35% of the run (they took ~200 of 450 s).
    tests = sum(weight for name, weight in gpu.WEIGHTS.items() if name.startswith("tests-"))
    assert tests <= 0.35 * gpu.TOTAL_BUDGET
    assert gpu.environment_budget(gpu.parse([])) == gpu.ENVIRONMENT_BUDGET
    steps = list(gpu.WEIGHTS)
    without_cupy = [name for name in steps if "cupy" not in name]
    left = gpu.TOTAL_BUDGET - gpu.ENVIRONMENT_BUDGET
    everything = gpu.share(left, "tests-torch-cuda", steps[1:], gpu.WEIGHTS)
    cupy_skipped = gpu.share(left, "tests-torch-cuda", without_cupy, gpu.WEIGHTS)
    assert cupy_skipped > everything >= gpu.WEIGHTS["tests-torch-cuda"]
    # The last step gets all that is left.
    assert gpu.share(97.5, "bench", ["bench"], gpu.WEIGHTS) == 97


def test_only_some_steps_keeps_the_rows_of_the_others(tmp_path):
    done, first = _dry_run(tmp_path)
    assert done.returncode == 0, done.stderr
    done, steps = _dry_run(tmp_path, "--only", "bench")
    assert done.returncode == 0, done.stderr
    assert list(steps) == STEPS
    assert steps["tests-cupy"] == first["tests-cupy"]
    summary = (tmp_path / "gpu-run.md").read_text()
    assert all(f"| {name} |" in summary for name in STEPS)


def test_jax_leaves_the_gpu_memory_alone_in_every_test_process():
    """conftest sets XLA_PYTHON_CLIENT_PREALLOCATE=false before anything imports JAX."""
    code = """
import os, sys
os.environ.pop("XLA_PYTHON_CLIENT_PREALLOCATE", None)
seen = {}
class Watch:
    def find_spec(self, name, path=None, target=None):
        if name == "jax":
            seen.setdefault("jax", os.environ.get("XLA_PYTHON_CLIENT_PREALLOCATE"))
        return None
sys.meta_path.insert(0, Watch())
import tests.conftest
print(seen.get("jax", "false"), os.environ.get("XLA_PYTHON_CLIENT_PREALLOCATE"))
"""
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["false", "false"]


def test_every_extra_pins_dask_and_distributed_to_one_version():
    """dask-cuda pins dask and distributed exactly; the test and distributed extras must
    resolve to the same versions, or a client and a GPU worker disagree."""
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    pins = {}
    for extra, requirements in extras.items():
        for requirement in requirements:
            name = re.split(r"[\[<>=!~; ]", requirement, maxsplit=1)[0].lower()
            if name in ("dask", "distributed"):
                version = re.search(r"==\s*([\w.]+)", requirement)
                assert version, f"{extra}: {requirement} is not one version"
                pins.setdefault(name, set()).add(version.group(1))
    assert set(extras) >= {"test", "distributed", "distributed-cuda"}
    assert pins and all(len(versions) == 1 for versions in pins.values()), pins


# --- the rehearsal --------------------------------------------------------------------------


_PLACEHOLDER = re.compile(r"\|\s*\?\s*\||\|\s*\|\s*\|")


def _tables(text: str) -> dict[str, list[list[str]]]:
    """Each markdown table of the summary, by the section it is in: its rows' cells."""
    tables, section = {}, "steps"
    for line in text.splitlines():
        if line.startswith("## "):
            section = line[3:].strip().lower()
        elif line.startswith("|") and not line.startswith("|---"):
            tables.setdefault(section, []).append([c.strip() for c in line.strip("|").split("|")])
    return tables


def test_ci_runs_the_short_rehearsal_and_checks_it():
    ci = (ROOT / ".ci" / "run").read_text()
    assert '--out "$rehearsal"' in ci and " ".join(SHORT_REHEARSAL) in ci
    assert 'SCRATCHML_GPU_REHEARSAL="$rehearsal"' in ci


@pytest.mark.slow
def test_a_rehearsal_runs_every_step_and_fills_every_table_with_numbers(tmp_path):
    """The short rehearsal CI runs, or the folder CI's own rehearsal wrote ($SCRATCHML_GPU_REHEARSAL).

    CI's folder: every step passed. The suite's own rehearsal shares the machine with the
    other tests, so a step may run out of its budget there; it must still leave its row
    with numbers (a machine that is busy is not a defect), and at least the tests, one
    sweep and the bench must have passed."""
    gpu = _load_script()
    out = Path(os.environ[REHEARSAL_FOLDER]) if os.environ.get(REHEARSAL_FOLDER) else None
    strict = out is not None
    budget = gpu.TOTAL_BUDGET
    if out is None:
        out, budget = tmp_path, int(SHORT_REHEARSAL[SHORT_REHEARSAL.index("--budget") + 1])
        done = subprocess.run(
            [sys.executable, str(SCRIPT), *SHORT_REHEARSAL, "--out", str(out),
             "--wheels", str(tmp_path / "none")],
            capture_output=True,
            text=True,
            timeout=1800,
        )  # fmt: skip
        assert done.returncode in (0, 1), done.stdout[-4000:]
    steps = {
        step["name"]: step
        for step in map(json.loads, (out / "gpu-run.jsonl").read_text().splitlines())
    }
    assert list(steps) == STEPS
    allowed = {"passed"} if strict else {"passed", "timed out"}
    for name, step in steps.items():
        if "cupy" in name:
            assert step["status"] == "skipped" and "CuPy" in step["note"]
        else:
            assert step["status"] in allowed, step
    passed = {name for name, step in steps.items() if step["status"] == "passed"}
    assert {"tests-torch-cuda", "tests-jax-cuda", "bench"} <= passed, steps
    assert passed & {"sweep-torch", "sweep-jax"}, steps
    assert sum(step["seconds"] for step in steps.values()) <= budget
    tables = _tables((out / "gpu-run.md").read_text())
    assert set(tables) == {"steps", "sweeps", "benchmarks"}
    for section, rows in tables.items():
        header, *body = rows
        assert body, section
        for row in body:
            assert len(row) == len(header) and all(row), (section, row)
            assert not _PLACEHOLDER.search("|" + "|".join(row) + "|"), (section, row)
    results = {row[0]: row for row in tables["steps"][1:]}
    assert re.match(r"\d+ passed, 0 failed", results["tests-torch-cuda"][4])
    assert re.match(r"\d+ passed, 0 failed", results["tests-jax-cuda"][4])
    for library in ("torch", "jax"):
        if f"demo-{library}" in passed:
            assert "training accuracy" in results[f"demo-{library}"][4]
    sweeps = {row[0]: row for row in tables["sweeps"][1:]}
    assert {f"sweep-{library}" for library in sweeps} >= passed & {"sweep-torch", "sweep-jax"}
    for row in sweeps.values():
        networks, chunk_size, training_s, first_pass_s, rate = (
            float(row[i].replace(",", "")) for i in (1, 3, 5, 6, 7)
        )
        assert networks > 0 and chunk_size >= 1 and training_s > 0 and rate > 0
        assert first_pass_s > 0
    timed = {row[2] for row in tables["benchmarks"][1:]}
    assert {"scratchml · torch", "scratchml · jax", "PyTorch eager", "JAX jit"} <= timed
    assert {row[3] for row in tables["benchmarks"][1:]} == {"FP32"}
    assert all(float(row[4]) > 0 for row in tables["benchmarks"][1:])
    # The torch steps ran under CUDA's host-copy rule.
    log = (out / "logs" / "tests-torch-cuda.log").read_text()
    assert (
        "SCRATCHML_TEST_TORCH_DEVICE=cuda-on-cpu" in log and "torch tensors on: cuda-on-cpu" in log
    )


# --- what a CPU rehearsal could not see (a cold GPU machine, CUDA's rules, a call cut short) ---


def _partial_probe(gpu, tmp_path, args):
    """The plan of a run whose environment probe ran out of time after the versions."""
    info = {"libraries": {"numpy": "2.0"}, "missing": {}, "probe": "stopped in: the backends"}
    return {step.name: step for step in gpu.plan(tmp_path, info, args)}


def test_a_probe_out_of_time_skips_no_step(tmp_path):
    """It used to skip every later step as "this scratchml has no torch backend"."""
    gpu = _load_script()
    steps = _partial_probe(gpu, tmp_path, gpu.parse(["--out", str(tmp_path)]))
    assert {name: step.skip for name, step in steps.items() if step.skip} == {}
    rehearsal = _partial_probe(gpu, tmp_path, gpu.parse(["--rehearse", "--out", str(tmp_path)]))
    assert {name for name, step in rehearsal.items() if step.skip} == {
        "tests-cupy",
        "demo-cupy",
        "sweep-cupy",
    }
    assert all("CuPy" in rehearsal[name].skip for name in ("tests-cupy", "sweep-cupy"))


def test_a_probe_out_of_time_leaves_what_it_found_and_the_run_goes_on(tmp_path):
    """A probe that hangs (here: on importing scratchml.machine) is stopped at its budget;
    its row says where, environment.json keeps the versions, and every step has a row."""
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(
        "import sys, time\n"
        "class Hang:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'scratchml.machine' and '--describe' in sys.argv:\n"
        "            time.sleep(60)\n"
        "sys.meta_path.insert(0, Hang())\n"
    )
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--dry-run", "--out", str(out), "--wheels",
         str(tmp_path / "none"), "--environment-budget", "3"],
        capture_output=True, text=True, timeout=300,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(hook), str(ROOT)])},
    )  # fmt: skip
    steps = {
        step["name"]: step
        for step in map(json.loads, (out / "gpu-run.jsonl").read_text().splitlines())
    }
    assert list(steps) == STEPS, done.stdout[-3000:]
    environment = steps["environment"]
    assert environment["status"] == "timed out" and environment["budget_s"] == 3
    assert "timed out in scratchml and the GPUs" in environment["note"]
    assert "the later steps run" in environment["note"]
    assert {steps[name]["status"] for name in STEPS[1:]} == {"dry run"}
    info = json.loads((out / "environment.json").read_text())
    assert info["libraries"]["numpy"] and info["probe"] == "stopped in: scratchml and the GPUs"


def test_the_torch_steps_hold_cuda_rules_and_the_jax_step_runs_its_slow_marked_tests(tmp_path):
    gpu = _load_script()
    info = {
        "backends": dict.fromkeys(("cupy", "torch", "jax"), "usable"),
        "torch": {"cuda_available": True},
        "jax": {"default_backend": "gpu"},
    }
    for mode, device in ([], "cuda"), (["--rehearse"], "cuda-on-cpu"):
        args = gpu.parse([*mode, "--out", str(tmp_path)])
        steps = {step.name: step for step in gpu.plan(tmp_path, info, args)}
        assert steps["tests-torch-cuda"].env["SCRATCHML_TEST_TORCH_DEVICE"] == device
        for name in ("demo-torch", "sweep-torch"):
            assert json.loads(steps[name].command[3])["torch_device"] == device
        # JAX's compiled-training tests carry the slow marker (they compile on a CPU): on
        # the GPU as in a rehearsal, the JAX step runs them.
        assert "-m" not in steps["tests-jax-cuda"].command[3:]  # (after python -m pytest)
        assert "-m" in steps["tests-torch-cuda"].command[3:]


def test_the_host_copy_rule_refuses_what_a_cuda_tensor_refuses():
    torch = pytest.importorskip("torch")
    import numpy as np

    from scratchml import backends
    from tests import cuda_rules

    with cuda_rules.HostCopyRule():
        on_device = torch.ones(3, dtype=torch.float64)
        for host_copy in (
            on_device.numpy,
            lambda: np.asarray(on_device),
            lambda: np.testing.assert_allclose(on_device, 1.0),
            lambda: (on_device * 2)[1:].numpy(),
            lambda: torch.asarray(np.ones(2)).numpy(),  # the default device: the GPU's
            lambda: on_device.to(torch.float32).numpy(),
        ):
            with pytest.raises(TypeError, match=r"Use Tensor\.cpu"):
                host_copy()
        # What a CUDA tensor allows, and host tensors.
        assert on_device.cpu().numpy().tolist() == [1.0, 1.0, 1.0]
        assert backends.to_numpy(on_device).sum() == 3.0
        assert float(on_device.sum()) == 3.0 and on_device.sum().item() == 3.0
        assert on_device.tolist() == [1.0, 1.0, 1.0]
        host = torch.zeros(2, device="cpu")
        assert (host + 1).numpy().tolist() == [1.0, 1.0]
        assert torch.from_numpy(np.ones(2)).numpy().tolist() == [1.0, 1.0]
        with pytest.raises(TypeError):
            (host + on_device[:2]).numpy()  # an operation with a device tensor: on the device
        # Gradients live where their parameters live.
        weight = torch.ones(2, requires_grad=True)
        (weight * 3).sum().backward()
        with pytest.raises(TypeError):
            weight.grad.numpy()
        assert weight.grad.cpu().numpy().tolist() == [3.0, 3.0]
        # .cpu() of a device tensor is a new tensor: the device tensor stays one.
        on_device.cpu()
        with pytest.raises(TypeError):
            on_device.numpy()


@pytest.mark.slow
def test_the_torch_cases_keep_cudas_host_copy_rule():
    """The files whose torch cases once called .numpy() on what is a CUDA tensor on a GPU
    (58 failures there), run as a rehearsal runs them."""
    pytest.importorskip("torch")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=",
         "tests/test_speed_paths.py", "tests/test_hyperparameters.py", "tests/test_gradients.py",
         "-k", "torch and not pytorch", "-m", "not slow"],
        capture_output=True, text=True, cwd=ROOT, timeout=1800,
        env={**os.environ, "SCRATCHML_TEST_TORCH_DEVICE": "cuda-on-cpu",
             "SCRATCHML_REQUIRE_BACKENDS": "torch"},
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-4000:]
    assert re.search(r"\d+ passed", done.stdout)


def test_the_steps_set_full_fp32_products_as_the_bench_does():
    """JAX computes float32 products in TF32 on an H100 unless told; torch and CuPy do not."""
    from scratchml.bench import precision

    gpu = _load_script()
    env: dict[str, str] = {}
    precision.set_environment(env, "float32")
    assert env == gpu.FULL_FP32
    assert env["JAX_DEFAULT_MATMUL_PRECISION"] == "highest"


def test_a_step_in_flight_has_its_row_while_it_runs(tmp_path, monkeypatch):
    gpu = _load_script()
    monkeypatch.setattr(gpu, "REFRESH_SECONDS", 0.2)
    (tmp_path / "logs").mkdir()
    seen = []
    code = "import time; print('half way', flush=True); time.sleep(1.5)"
    step = gpu.Step("bench", [sys.executable, "-c", code])
    outcome = gpu.run_step(step, tmp_path, 30, dict(os.environ), False, seen.append)
    assert outcome.status == "passed"
    flying = [o for o in seen if o.status == "in flight"]
    assert len(flying) >= 3 and flying[-1].seconds >= 0.5 and flying[-1].budget_s == 30


@pytest.mark.slow
def test_a_call_killed_during_a_step_leaves_that_steps_row(tmp_path):
    """SIGKILL (nothing to catch): the row written while the step ran; SIGTERM: "killed"."""
    import signal
    import time

    for kill, status in ((signal.SIGKILL, "in flight"), (signal.SIGTERM, "killed")):
        out = tmp_path / status.replace(" ", "-")
        process = subprocess.Popen(
            [sys.executable, str(SCRIPT), "--rehearse", "--only", "sweep-torch", "--out",
             str(out), "--wheels", str(tmp_path / "none"), "--budget", "300"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        try:
            waited = time.monotonic()
            steps = {}
            while time.monotonic() - waited < 300:
                if (out / "gpu-run.jsonl").exists():
                    lines = (out / "gpu-run.jsonl").read_text().splitlines()
                    steps = {s["name"]: s for s in map(json.loads, filter(None, lines))}
                    if steps.get("sweep-torch", {}).get("status") == "in flight":
                        break
                time.sleep(0.2)
            assert steps.get("sweep-torch", {}).get("status") == "in flight", steps
            # The step runs under `timeout`, the leader of a process group of its own.
            children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text()
            process.send_signal(kill)
            process.wait(timeout=60)
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
            for child in children.split() if "children" in locals() else []:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(int(child), signal.SIGKILL)
        steps = {
            s["name"]: s for s in map(json.loads, (out / "gpu-run.jsonl").read_text().splitlines())
        }
        assert steps["sweep-torch"]["status"] == status, steps
        assert f"| sweep-torch | {status} |" in (out / "gpu-run.md").read_text()


def test_the_readme_says_how_to_get_torchs_cpu_build_and_the_command_stays_offline():
    """On PyPI torch==2.13.0 is the CUDA build (several GB): the README must not say the pin
    takes the CPU build, and must say how to get it, without changing the command CI runs
    where only the package index (or a local wheel) is reachable."""
    readme = (ROOT / "README.md").read_text()
    command = readme.split("<!-- test-command -->")[1].split("```")[1]
    assert "torch==2.13.0" in command and "download.pytorch.org" not in command
    assert "so pip takes the CPU build" not in readme
    assert "--index-url https://download.pytorch.org/whl/cpu" in readme


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["numpy", "jax"])
def test_the_sweep_step_times_training_apart_from_compiling_and_says_it_before_drawing(
    tmp_path, backend
):
    if backend == "jax":
        pytest.importorskip("jax")
    job = {
        "backend": backend,
        "grid": {"n_samples": 100, "depth": [1, 2], "width": [4], "learning_rate": [0.1],
                 "l2": [0], "seeds": 2},
        "epochs": 5, "out": str(tmp_path / "sweeps" / backend), "torch_device": "",
    }  # fmt: skip
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--sweep-step", json.dumps(job)],
        capture_output=True, text=True, cwd=ROOT, timeout=1800,
        env={**os.environ, "JAX_PLATFORMS": "cpu", "MPLBACKEND": "Agg"},
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    lines = done.stdout.splitlines()
    rate = next(i for i, line in enumerate(lines) if "network-epochs/s)" in line)
    drawn = next(i for i, line in enumerate(lines) if line.strip().startswith("wrote "))
    assert rate < drawn  # the rate is out before the pictures
    measured = json.loads((tmp_path / "sweeps" / backend / "rate.json").read_text())
    assert measured["networks"] == 4 and measured["network_epochs"] == 20
    assert measured["network_epochs_per_s"] > 0 and measured["training_seconds"] > 0
    if backend == "jax":  # the first pass compiled; the timed one found it done
        assert measured["first_pass_compile_seconds"] > 0
        assert measured["compile_seconds"] < 0.5 * measured["first_pass_compile_seconds"]
    gpu = _load_script()
    facts = gpu.sweep_facts(tmp_path, backend)  # the summary's reading of it
    assert facts["network_epochs_per_s"] == measured["network_epochs_per_s"]
    assert facts["first_pass_s"] == measured["first_pass_seconds"]


@pytest.mark.slow
def test_the_demo_step_says_its_accuracy_before_drawing_the_animation(tmp_path):
    job = {"backend": "numpy", "out": str(tmp_path / "demo"), "torch_device": ""}
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--demo-step", json.dumps(job)],
        capture_output=True, text=True, cwd=ROOT, timeout=1800,
        env={**os.environ, "MPLBACKEND": "Agg"},
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    lines = done.stdout.splitlines()
    accuracy = next(i for i, line in enumerate(lines) if "training accuracy" in line)
    gif = next(i for i, line in enumerate(lines) if ".gif" in line)
    assert accuracy < gif, lines
    assert (tmp_path / "demo" / "two_spirals.gif").exists()
