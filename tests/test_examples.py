"""The example scripts of examples/ (the documentation's gallery) run, and their checks hold.

Each script asserts its own checks, so running it is the test; each runs as a user
would run it, ``python examples/<name>.py``, with this checkout's scratchml imported.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
BACKPROP = EXAMPLES / "learn" / "learn_04_backprop_by_hand.py"


def _run(script: Path) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    return subprocess.run(
        [sys.executable, str(script)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_backprop_by_hand_runs_and_its_checks_hold():
    result = _run(BACKPROP)
    assert result.returncode == 0, result.stderr
    for line in (
        "clf.gradients(X, y) agrees with the gradients by hand",
        "the library's SGD step agrees",
        "the library's Adam step agrees",
    ):
        assert line in result.stdout


@pytest.mark.parametrize(
    ("right", "wrong"),
    [
        ("dZ1 = dA1 * (1 - A1**2)", "dZ1 = dA1 * (1 - A1)"),  # tanh' taken as 1 - A
        ("dz = (p - Y) / n", "dz = p - Y"),  # the mean's 1/n forgotten
        ("d_logits = (s - Y3) / n", "d_logits = (s - Y3 + 1e-6) / n"),  # softmax - y, a little off
    ],
)
def test_backprop_by_hand_fails_on_a_wrong_derivative(tmp_path, right, wrong):
    source = BACKPROP.read_text()
    assert right in source
    script = tmp_path / "backprop_by_hand.py"
    script.write_text(source.replace(right, wrong))
    result = _run(script)
    assert result.returncode != 0
    assert "AssertionError" in result.stderr
