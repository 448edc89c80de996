"""The Learn track's examples (examples/learn/): every number each one prints is checked.

Each script runs as a learner runs it; its output is compared line by line with the
output recorded in tests/learn_output/<name>.txt: the words exactly, each number within a
tolerance (the example's own, or a line's rule below) plus one unit of its last printed
digit. A line whose number is rounding noise (a finite-difference error) is checked
against its bound instead. Regenerate a recording after a deliberate change with
``SCRATCHML_RECORD_LEARN_OUTPUT=1 pytest tests/test_learn_examples.py`` and read the diff.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LEARN = ROOT / "examples" / "learn"
RECORDED = Path(__file__).resolve().parent / "learn_output"
NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")

# Per example: (rtol, atol) for its numbers. Examples that train for hundreds of epochs
# get room for another CPU's rounding, which training amplifies.
TOLERANCE = {
    "learn_01_line": (1e-9, 1e-12),
    "learn_02_logistic": (1e-9, 1e-12),
    "learn_03_hidden_layer": (1e-3, 0.01),
    "learn_04_backprop_by_hand": (1e-9, 1e-12),
    "learn_05_training_loop": (1e-3, 0.01),
    "learn_06_optimizers": (1e-3, 0.02),
    "learn_07_init_depth": (0.05, 0.05),
    "learn_08_regularisation": (0.05, 0.03),
    "learn_09_stacks": (0.02, 0.02),
}
# Lines whose numbers are checked by a rule of their own: ("below", bound) for rounding
# noise; ("within", atol) for a number picked by training (an epoch, a chosen setting).
RULES = {
    "learn_04_backprop_by_hand": [
        (r"^largest \|by hand - finite differences\| = ", ("below", 1e-9)),
        (r"^largest \|\(s - y\)/n - finite differences\| = ", ("below", 1e-9)),
    ],
    "learn_07_init_depth": [(r"above 0\.95: ", ("within", 2))],
    "learn_08_regularisation": [
        (r"^best on validation: l2 = ", ("within", 0.01)),
        (r"^l2 = 0: validation loss lowest at epoch ", ("within", 40)),
    ],
}


def _run(path: Path, cwd: Path) -> str:
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONPATH=str(ROOT))
    done = subprocess.run(
        [sys.executable, str(path)], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, f"{path.name}:\n{done.stderr[-3000:]}"
    return done.stdout


def _last_digit(text: str) -> float:
    """One unit of the last printed digit of a number as printed (0.960 -> 0.001)."""
    mantissa, _, exponent = text.lower().partition("e")
    decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
    return 10.0 ** (-decimals + (int(exponent) if exponent else 0))


def _rule(name: str, line: str):
    for pattern, rule in RULES.get(name, []):
        if re.search(pattern, line):
            return rule
    return None


def _compare(name: str, got: str, expected: str) -> list[str]:
    rtol, atol = TOLERANCE[name]
    problems = []
    got_lines, expected_lines = got.splitlines(), expected.splitlines()
    if len(got_lines) != len(expected_lines):
        return [f"{len(got_lines)} lines printed, {len(expected_lines)} recorded"]
    for number, (line, recorded) in enumerate(zip(got_lines, expected_lines, strict=True), 1):
        words, recorded_words = NUMBER.sub("#", line), NUMBER.sub("#", recorded)
        if words != recorded_words:
            problems.append(f"line {number}: {line!r}, recorded {recorded!r}")
            continue
        rule = _rule(name, recorded)
        for value, was in zip(NUMBER.findall(line), NUMBER.findall(recorded), strict=True):
            x, y = float(value), float(was)
            if rule is not None and rule[0] == "below":
                ok = abs(x) < rule[1]
            elif rule is not None:
                ok = abs(x - y) <= rule[1]
            else:
                ok = abs(x - y) <= atol + rtol * abs(y) + _last_digit(was)
            if not ok:
                problems.append(f"line {number}: {value} where {was} was recorded: {line!r}")
    return problems


def test_every_learn_example_has_a_recording_and_a_tolerance():
    names = sorted(path.stem for path in LEARN.glob("learn_*.py"))
    assert names == sorted(TOLERANCE)
    if not os.environ.get("SCRATCHML_RECORD_LEARN_OUTPUT"):
        assert names == sorted(path.stem for path in RECORDED.glob("*.txt"))


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(
            name,
            marks=[pytest.mark.slow]
            if name in {"learn_07_init_depth", "learn_08_regularisation", "learn_09_stacks"}
            else [],
        )
        for name in sorted(TOLERANCE)
    ],
)
def test_every_number_the_example_prints(name, tmp_path):
    output = _run(LEARN / f"{name}.py", tmp_path)
    recording = RECORDED / f"{name}.txt"
    if os.environ.get("SCRATCHML_RECORD_LEARN_OUTPUT"):
        recording.write_text(output)
    problems = _compare(name, output, recording.read_text())
    assert not problems, "\n".join(problems)
    assert NUMBER.search(output), f"{name} prints no number"


def test_the_comparison_catches_a_changed_number():
    recorded = "training accuracy 0.960\nlargest |by hand - finite differences| = 3.1e-11\n"
    assert not _compare("learn_03_hidden_layer", recorded, recorded)
    assert _compare("learn_03_hidden_layer", recorded.replace("0.960", "0.900"), recorded)
    noisy = "largest |by hand - finite differences| = 7.0e-11\n"
    assert not _compare("learn_04_backprop_by_hand", noisy, noisy.replace("7.0", "2.0"))
    assert _compare("learn_04_backprop_by_hand", noisy.replace("e-11", "e-08"), noisy)
