"""The documentation site: its code examples run, every public name has a docstring, and the
built pages read without a network."""

import importlib
import importlib.util
import inspect
import os
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import pytest

import scratchml

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGES = sorted(DOCS.glob("**/*.md"))
PAGES = [page for page in PAGES if "_build" not in page.parts]
BLOCKS = [
    (page.relative_to(DOCS).as_posix(), index, block)
    for page in PAGES
    for index, block in enumerate(re.findall(r"```python\n(.*?)```", page.read_text(), flags=re.S))
]
BUILT = DOCS / "_build" / "html"


def _imports(block):
    return {m.split(".")[0] for m in re.findall(r"^(?:from|import) (\w[\w.]*)", block, flags=re.M)}


@pytest.mark.slow
@pytest.mark.parametrize(
    "page, index, block", BLOCKS, ids=[f"{page}-{index}" for page, index, _ in BLOCKS]
)
def test_python_blocks_of_the_guide_run(page, index, block):
    """Each ```python block of docs/ runs as a script of its own."""
    missing = sorted(m for m in _imports(block) if importlib.util.find_spec(m) is None)
    if missing:
        pytest.skip(f"needs {', '.join(missing)}")
    env = dict(os.environ, MPLBACKEND="Agg")
    done = subprocess.run(
        [sys.executable, "-c", block], capture_output=True, text=True, env=env, timeout=300
    )
    assert done.returncode == 0, f"{page} block {index}:\n{done.stderr[-3000:]}"


def test_the_guide_has_examples():
    assert len(BLOCKS) >= 8


def _public_modules():
    for info in pkgutil.walk_packages(scratchml.__path__, "scratchml."):
        if info.name.endswith("__main__") or any(p.startswith("_") for p in info.name.split(".")):
            continue
        try:
            yield importlib.import_module(info.name)
        except ImportError:  # a module for a library that is not installed
            continue


def _missing_docstrings(module):
    names = getattr(module, "__all__", None) or [n for n in vars(module) if not n.startswith("_")]
    for name in names:
        obj = getattr(module, name)
        if getattr(obj, "__module__", None) != module.__name__:
            continue  # documented where it is defined
        if not (inspect.isfunction(obj) or inspect.isclass(obj)):
            continue
        if not inspect.getdoc(obj):
            yield f"{module.__name__}.{name}"
        if inspect.isclass(obj):
            for attr, member in vars(obj).items():
                if attr.startswith("_"):
                    continue
                function = member.fget if isinstance(member, property) else member
                if inspect.isfunction(function) and not function.__doc__:
                    yield f"{module.__name__}.{name}.{attr}"


def test_every_public_name_has_a_docstring():
    """What the API reference shows: every public module, function, class and method."""
    missing = []
    for module in _public_modules():
        if not module.__doc__:
            missing.append(module.__name__)
        missing += list(_missing_docstrings(module))
    assert not missing, "public names without a docstring:\n" + "\n".join(missing)


def test_math_pages_include_the_code_rather_than_copy_it():
    for page in sorted((DOCS / "math").glob("*.md")):
        if page.name != "index.md":
            assert "literalinclude" in page.read_text(), page


@pytest.mark.skipif(not (BUILT / "index.html").exists(), reason="the site is not built")
def test_built_site_needs_no_network():
    """No page loads a remote script, stylesheet, font or image (MathJax from a CDN, say)."""
    remote = re.compile(r"<(?:script|link|img|iframe)\b[^>]*(?:src|href)=\"(?:https?:)?//", re.I)
    css_remote = re.compile(r"url\((?:['\"])?(?:https?:)?//|@import\s+['\"]?(?:https?:)?//", re.I)
    pattern = {".html": remote, ".css": css_remote}
    found = [
        path.relative_to(BUILT).as_posix()
        for path in BUILT.rglob("*")
        if path.suffix in pattern and pattern[path.suffix].search(path.read_text(errors="replace"))
    ]
    assert not found, f"pages that fetch from the network: {found}"
    for page in ("getting-started", "guide/backends", "math/network", "gallery/index"):
        assert (BUILT / f"{page}.html").exists(), page
