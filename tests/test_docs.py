"""The documentation site: its code examples run, every public name has a docstring, the math
is LaTeX, the build commands keep Sphinx's cache out of the HTML, and the built pages read
without a network."""

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


def test_text_blocks_hold_no_python():
    """Python is written in ```python blocks, which the tests run; a ```text block that
    holds Python would never be run and could rot unseen."""
    python = re.compile(r"^(?:import \w|from \w[\w.]* import |\w+ = \w+\.\w+\()", re.M)
    found = [
        f"{page.relative_to(DOCS)}: {block.splitlines()[0]}"
        for page in PAGES
        for block in re.findall(r"```text\n(.*?)```", page.read_text(), flags=re.S)
        if python.search(block)
    ]
    assert not found, found


def test_math_pages_write_formulas_in_latex():
    """Formulas are LaTeX ($...$, $$...$$), rendered by MathJax, not Unicode in text blocks."""
    for page in sorted((DOCS / "math").glob("*.md")):
        if page.name in ("index.md", "linear-regression.md"):
            continue
        text = page.read_text()
        assert "$$" in text, page.name
        assert "```text" not in text, page.name


def _build_commands():
    """Every documented or scripted Sphinx build: README, CI, docs/conf.py, pyproject."""
    for path in ("README.md", ".ci/run", "docs/conf.py", "pyproject.toml"):
        for line in (ROOT / path).read_text().splitlines():
            if re.search(r"sphinx\b.*-b html", line):
                yield path, line


def test_every_build_command_keeps_the_doctrees_out_of_the_html():
    """Without ``-d`` Sphinx writes its cache into ``docs/_build/html/.doctrees``."""
    commands = list(_build_commands())
    assert {path for path, _ in commands} >= {"README.md", ".ci/run", "docs/conf.py"}
    for path, line in commands:
        assert "-d docs/_build/doctrees" in line or line.rstrip().endswith("\\"), (path, line)
    ci = (ROOT / ".ci" / "run").read_text()
    assert "-d docs/_build/doctrees" in ci


def test_ci_builds_the_docs_with_the_docs_extra_alone():
    """The README says ``pip install -e ".[docs]"`` builds the site; CI checks exactly that,
    in a venv of its own rather than the test venv (which has JAX and PyTorch)."""
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"python3 -m venv \.venv-docs\n", ci)
    assert '.venv-docs/bin/pip install --quiet -e ".[docs]"\n' in ci
    assert ".venv-docs/bin/python -m sphinx -W" in ci
    readme = (ROOT / "README.md").read_text()
    assert 'pip install -e ".[docs]" && python -m sphinx -W' in readme


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


@pytest.mark.skipif(not (BUILT / "index.html").exists(), reason="the site is not built")
def test_built_site_renders_math_with_its_own_mathjax():
    page = (BUILT / "math" / "network.html").read_text()
    script = re.search(r'<script[^>]*src="([^"]*mathjax[^"]*)"', page)
    assert script, "math/network.html loads no MathJax"
    assert not script.group(1).startswith(("http:", "https:", "//")), script.group(1)
    assert (BUILT / "math" / script.group(1)).resolve().is_file(), script.group(1)
    assert page.count('class="math') >= 5  # formulas, not text


@pytest.mark.skipif(not (BUILT / "index.html").exists(), reason="the site is not built")
def test_built_site_has_the_gallery_with_downloads():
    """Each example of examples/ has its page, run at build time, with its .py and .ipynb."""
    examples = sorted((ROOT / "examples").glob("*.py"))
    assert examples
    downloads = {path.name for path in (BUILT / "_downloads").rglob("*") if path.is_file()}
    for example in examples:
        page = BUILT / "gallery" / "examples" / f"{example.stem}.html"
        assert page.exists(), page
        assert "sphx-glr-script-out" in page.read_text() or "<img" in page.read_text(), page
        assert {f"{example.stem}.py", f"{example.stem}.ipynb"} <= downloads, example.name
    assert not (BUILT / ".doctrees").exists(), "Sphinx's cache landed in the HTML folder"


@pytest.mark.skipif(not (BUILT / "index.html").exists(), reason="the site is not built")
def test_built_site_captions_included_code_and_links_api_and_math():
    """Each included block is captioned with its file; API pages and math pages link both ways."""
    for page in sorted((DOCS / "math").glob("*.md")):
        includes = page.read_text().count("{literalinclude}")
        html = (BUILT / "math" / f"{page.stem}.html").read_text()
        captions = re.findall(r'<span class="caption-text">([^<]+)</span>', html)
        assert len(captions) == includes, page.name
        assert all((ROOT / caption).is_file() for caption in captions), captions
    layers = (BUILT / "api" / "generated" / "scratchml.nn.layers.html").read_text()
    assert "../../math/network.html" in layers
    network = (BUILT / "math" / "network.html").read_text()
    assert "api/generated/scratchml.nn.layers.html" in network


def _conf_value(name):
    """A literal assignment of docs/conf.py, read without importing Sphinx."""
    import ast

    for node in ast.parse((DOCS / "conf.py").read_text()).body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == name:
            return ast.literal_eval(node.value)
    raise AssertionError(f"docs/conf.py sets no {name}")


def _public_members(cls):
    """The public methods (class and static ones too) and properties of ``cls`` that scratchml
    defines, inherited ones included: the top-level page shows the estimators with
    ``:inherited-members:``, so a method of a private base (``_MLP.partial_fit``) is shown."""
    for attr in dir(cls):
        if attr.startswith("_"):
            continue
        member = inspect.getattr_static(cls, attr)
        if isinstance(member, property):
            function = member.fget
        else:
            function = getattr(member, "__func__", member)  # classmethod, staticmethod
        if inspect.isfunction(function) and function.__module__.startswith("scratchml"):
            yield attr


def _documented_names():
    """Functions, classes, methods and properties the API pages show, by their full names."""
    for module in _public_modules():
        names = getattr(module, "__all__", None) or list(vars(module))
        for name in names:
            obj = getattr(module, name, None)
            if name.startswith("_") or getattr(obj, "__module__", None) != module.__name__:
                continue
            if inspect.isfunction(obj):
                yield f"{module.__name__}.{name}"
            elif inspect.isclass(obj):
                yield f"{module.__name__}.{name}"
                for attr in _public_members(obj):
                    yield f"{module.__name__}.{name}.{attr}"


def test_numpydoc_sections_cover_every_parameter():
    """What the -W build enforces, without building: numpydoc's checks of docs/conf.py
    (every parameter documented, a Returns section, ...) on every name the API shows."""
    validate = pytest.importorskip("numpydoc.validate")
    checks = _conf_value("numpydoc_validation_checks")
    assert {"GL08", "PR01", "PR02", "RT01"} <= checks
    sys.path.insert(0, str(DOCS))
    from _validation_scope import documented_by_their_base

    overrides = documented_by_their_base()
    assert overrides, "no override of a documented base method found"
    exclude = re.compile("|".join(_conf_value("numpydoc_validation_exclude") | overrides))
    failures = [
        f"{name}: {code} {message}"
        for name in _documented_names()
        if not exclude.search(name)
        for code, message in validate.validate(name)["errors"]
        if code in checks
    ]
    assert not failures, "\n".join(failures)


def test_numpydoc_checks_catch_a_missing_parameter():
    """The checks in force do flag a parameter left out of a docstring."""
    validate = pytest.importorskip("numpydoc.validate")
    checks = _conf_value("numpydoc_validation_checks")

    def scale(x, factor):
        """Scale ``x``.

        Parameters
        ----------
        x : float
            The value.

        Returns
        -------
        float
            ``x`` times ``factor``.
        """
        return x * factor

    found = {code for code, _ in validate.validate(validate.get_doc_object(scale))["errors"]}
    assert "PR01" in found & checks
