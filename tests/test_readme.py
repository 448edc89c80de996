"""The README is the front door: its code must run and its commands must be what CI runs."""

import importlib.util
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
BLOCKS = re.findall(r"```python\n(.*?)```", README, flags=re.S)
QUICK_START = re.search(r"## Quick start\n.*?```python\n(.*?)```", README, flags=re.S).group(1)

# What `pip install -e .` (the README's main command) does not install.
NOT_IN_MAIN_INSTALL = (
    "array_api_strict",
    "sklearn",
    "scipy",
    "pandas",
    "torch",
    "jax",
    "jaxlib",
    "cupy",
    "hypothesis",
    "pytest",
)

BLOCK_IMPORTS = textwrap.dedent(
    """
    import importlib.abc, sys

    class _NotInstalled(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in {blocked!r}:
                raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
            return None

    sys.meta_path.insert(0, _NotInstalled())
    """
)


def _run(code, env_extra=None):
    env = dict(os.environ, MPLBACKEND="Agg", **(env_extra or {}))
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=600
    )


def _imports(block):
    return {m.split(".")[0] for m in re.findall(r"^(?:from|import) (\w[\w.]*)", block, flags=re.M)}


@pytest.mark.slow  # each block runs in its own interpreter
@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_python_blocks_run(index):
    """Each block runs as a script of its own (SciPy's Array API switch set, as documented)."""
    block = BLOCKS[index]
    missing = sorted(m for m in _imports(block) if importlib.util.find_spec(m) is None)
    if missing:
        pytest.skip(f"needs {', '.join(missing)}")
    done = _run(block, {"SCIPY_ARRAY_API": "1"})
    assert done.returncode == 0, done.stderr[-3000:]


def test_quick_start_runs_after_the_main_install_only():
    """The Quick start needs nothing beyond `pip install -e .`: the test extras are blocked."""
    assert "numpy" in _imports(QUICK_START) or "scratchml" in _imports(QUICK_START)
    prelude = BLOCK_IMPORTS.format(blocked=set(NOT_IN_MAIN_INSTALL))
    check = "\nimport scratchml\nassert scratchml.backends.available() == ['numpy'], scratchml.backends.available()\n"
    done = _run(prelude + check + QUICK_START)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "numpy <class 'numpy.ndarray'>" in done.stdout
    assert "array_api_strict" not in done.stdout


def test_ci_runs_the_readme_test_command():
    awk = (ROOT / ".ci" / "run").read_text()
    assert "<!-- test-command -->" in awk
    found = subprocess.run(
        ["awk", "/<!-- test-command -->/{getline; getline; print; exit}", str(ROOT / "README.md")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert found.endswith("python -m pytest -n auto")
    assert found in README


def test_exactly_two_setup_commands():
    commands = re.findall(r"```bash\n(python3 -m venv .*?)\n```", README)
    assert len(commands) == 2
    assert "scratchml demo all" in commands[0]
    assert "pytest" in commands[1]


def test_the_main_command_writes_where_git_does_not_look():
    """Running the main job never changes a clone: its default folder is ignored by git."""
    main = re.findall(r"```bash\n(python3 -m venv .*?)\n```", README)[0]
    assert "--out" not in main  # the default folder, ./scratchml-demos/
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", "scratchml-demos/two_spirals.gif"], cwd=ROOT
    )
    assert ignored.returncode == 0
