"""The GPU run (.ci/gpu): its plumbing, checked on any machine by its dry run."""

import importlib.machinery
import importlib.util
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / ".ci" / "gpu"
STEPS = [
    "environment",
    "tests-cupy",
    "tests-torch-cuda",
    "tests-jax-cuda",
    "demo-cupy",
    "demo-torch",
    "demo-jax",
    "bench",
]


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
    assert all(0 < steps[name]["budget_s"] <= 140 for name in STEPS)
    assert sum(steps[name]["budget_s"] for name in STEPS) <= 8 * 60
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
    assert "SCRATCHML_TEST_TORCH_DEVICE=cuda" in commands["tests-torch-cuda"]
    assert "torch.set_default_device(" in commands["demo-torch"]
    assert "--backend cupy --backend torch" in commands["bench"]
    assert f"--out {tmp_path}" in commands["bench"] and "--resume" in commands["bench"]
    for case in ("spiral", "wide", "stack-32-gpu"):
        assert f"--case {case}" in commands["bench"]


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
    case = {
        "name": "test_scratchml_epochs[spiral-float32-cupy]",
        "extra_info": {"case": "spiral", "impl": "scratchml", "backend": "cupy", "device": "cuda"},
        "stats": {"median": 0.0125},
    }
    (tmp_path / "cases.jsonl").write_text(json.dumps(case) + "\n" + '{"name": "cut in the mi')
    lines = gpu.bench_summary(tmp_path, started=0.0)
    assert "the 1 cases it timed" in lines[0]
    assert lines[-1].startswith("| spiral | scratchml | cupy | cuda |")
    assert "12.500" in lines[-1]


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
    args = gpu._parser().parse_args(["--out", str(tmp_path)])
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
