"""The gallery: every script of examples/ runs as a user downloads it, and sphinx-gallery
is set up to run every one of them when the documentation is built."""

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
SCRIPTS = sorted(EXAMPLES.rglob("*.py"))
# Seconds each takes on a busy 2-core VM: these take more than a few.
SLOW = {
    "benchmark_backends.py",
    "demo_spirals.py",
    "sweep_spirals.py",
    "sweep_digits.py",
    "backend_switch.py",
    "learn_07_init_depth.py",
    "learn_08_regularisation.py",
    "learn_09_stacks.py",
}


def _conf():
    """sphinx_gallery_conf as docs/conf.py writes it (read, not imported: no Sphinx needed)."""
    tree = ast.parse((ROOT / "docs" / "conf.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and node.targets[0].id == "sphinx_gallery_conf":
            return {
                key.value: value
                for key, value in zip(node.value.keys, node.value.values, strict=True)
            }
    raise AssertionError("docs/conf.py has no sphinx_gallery_conf")


def test_there_are_examples():
    names = {path.name for path in SCRIPTS}
    assert len(names) >= 6
    assert {"sweep_spirals.py", "benchmark_backends.py", "backend_switch.py"} <= names


def test_the_gallery_runs_every_script():
    """filename_pattern decides which scripts sphinx-gallery runs: it must match them all
    (sphinx-gallery's default runs only plot_*.py), and ignore_pattern none of them."""
    conf = _conf()
    pattern = ast.literal_eval(conf["filename_pattern"])
    ignore = ast.literal_eval(conf["ignore_pattern"])
    for path in SCRIPTS:
        shown = os.sep + path.name
        assert re.search(pattern, shown), path.name
        assert not re.search(ignore, shown), path.name
    assert ast.literal_eval(conf["abort_on_example_error"]) is True
    assert ast.literal_eval(conf["download_all_examples"]) is True


@pytest.mark.parametrize("path", SCRIPTS, ids=[path.name for path in SCRIPTS])
def test_every_example_has_a_title_and_text(path):
    """sphinx-gallery needs a docstring with a title first; the text says what it shows."""
    docstring = ast.get_docstring(ast.parse(path.read_text()))
    assert docstring, path.name
    title, underline, *rest = docstring.strip().splitlines()
    assert set(underline) == {"="} and len(underline) >= len(title), path.name
    assert " ".join(rest).strip(), path.name


@pytest.mark.parametrize(
    "path",
    [pytest.param(path, marks=[pytest.mark.slow] if path.name in SLOW else []) for path in SCRIPTS],
    ids=[path.name for path in SCRIPTS],
)
def test_example_runs_as_downloaded(path, tmp_path):
    """Each script runs on its own, in a folder of its own, as a downloaded .py would."""
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONPATH=str(ROOT))
    done = subprocess.run(
        [sys.executable, str(path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert done.returncode == 0, f"{path.name}:\n{done.stderr[-3000:]}"
    assert done.stdout.strip(), f"{path.name} printed nothing"
    assert not list(tmp_path.iterdir()), f"{path.name} wrote into the working folder"
