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
        if page.name == "index.md":
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
    path = script.group(1).split("?")[0]  # Sphinx may add a ?v=checksum
    assert (BUILT / "math" / path).resolve().is_file(), script.group(1)
    assert page.count('class="math') >= 5  # formulas, not text


@pytest.mark.skipif(not (BUILT / "index.html").exists(), reason="the site is not built")
def test_built_site_has_the_gallery_with_downloads():
    """Each example of examples/ has its page, run at build time, with its .py and .ipynb."""
    examples = sorted((ROOT / "examples").rglob("*.py"))
    assert examples
    downloads = {path.name for path in (BUILT / "_downloads").rglob("*") if path.is_file()}
    for example in examples:
        folder = example.parent.relative_to(ROOT / "examples")
        page = BUILT / "gallery" / "examples" / folder / f"{example.stem}.html"
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


# --- the Learn track, the math pages' figures and code ------------------------------------

LEARN = DOCS / "learn"
CHAPTERS = [
    "01-line",
    "02-logistic",
    "03-hidden-layer",
    "04-backprop",
    "05-training-loop",
    "06-optimizers",
    "07-init-depth",
    "08-regularisation",
    "09-stacks",
]


def _toctree(text):
    block = re.search(r"```\{toctree\}\n(.*?)```", text, flags=re.S).group(1)
    return [
        line.strip() for line in block.splitlines() if line.strip() and not line.startswith(":")
    ]


def test_the_learn_track_lists_its_chapters_in_order():
    index = (LEARN / "index.md").read_text()
    assert _toctree(index) == CHAPTERS
    linked = re.findall(r"\]\((\d\d-[\w-]+)\.md\)", index)
    assert linked == CHAPTERS, linked
    assert sorted(page.stem for page in LEARN.glob("*.md")) == sorted([*CHAPTERS, "index"])


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_every_chapter_has_the_math_the_code_a_figure_an_example_and_an_exercise(chapter):
    text = (LEARN / f"{chapter}.md").read_text()
    number = chapter[:2]
    assert text.startswith(f"# {int(number)}. "), "the title carries the chapter's number"
    assert "**The idea.**" in text
    assert "$$" in text, "the math, in LaTeX"
    assert re.search(r"\{literalinclude\} \.\./\.\./scratchml/", text), "the library's code"
    images = re.findall(r"!\[[^\]]+\]\(([^)]+)\)", text)
    assert images, "a figure"
    for image in images:
        assert image.startswith("../gallery/examples/learn/images/sphx_glr_learn_"), image
    example = re.search(r"\{doc\}`[^`]*<\.\./gallery/examples/learn/(learn_\d\d_\w+)>`", text)
    assert example and example.group(1).startswith(f"learn_{number}_"), "its runnable example"
    assert (ROOT / "examples" / "learn" / f"{example.group(1)}.py").is_file()
    exercise = re.search(r"\{literalinclude\} (exercises/ex(\d\d)_\w+\.py)", text)
    assert exercise and exercise.group(2) == number, "its exercise"
    assert f"{{download}}`Download {Path(exercise.group(1)).name} <{exercise.group(1)}>`" in text
    following = CHAPTERS.index(chapter) + 1
    if following < len(CHAPTERS):
        assert "**Next:** [" in text and f"]({CHAPTERS[following]}.md)" in text


def test_home_page_and_getting_started_send_a_learner_to_the_track_first():
    home = (DOCS / "index.md").read_text()
    assert _toctree(home)[0] == "learn/index"
    first_link = re.search(r"\]\(([^)]+\.md)\)", home.split("```{toctree}")[0]).group(1)
    assert first_link == "learn/index.md"
    start = (DOCS / "getting-started.md").read_text()
    assert re.search(r"\]\(([^)]+\.md)\)", start).group(1) == "learn/index.md"


def test_math_pages_have_a_figure():
    for page in sorted((DOCS / "math").glob("*.md")):
        assert re.search(r"!\[[^\]]+\]\(", page.read_text()), page.name


def test_included_code_is_the_formula_not_the_whole_function():
    """A ``:pyobject:`` include on the math and Learn pages is cut to the formula's lines
    (``:start-at:`` and friends) rather than the function with its docstring and signature;
    a short helper that is only its formula (``_tanh_derivative``) may be whole."""
    whole = {"_tanh_derivative"}
    for page in [*sorted((DOCS / "math").glob("*.md")), *sorted(LEARN.glob("*.md"))]:
        for block in re.findall(r"```\{literalinclude\}.*?```", page.read_text(), flags=re.S):
            found = re.search(r":pyobject: (\S+)", block)
            if found and found.group(1) not in whole:
                assert re.search(r":(start-at|start-after|lines):", block), (page.name, block)


def test_the_gallery_orders_the_track_first():
    sys.path.insert(0, str(DOCS))
    import ast

    from _gallery_order import ORDER, TrackOrder

    tree = ast.parse((DOCS / "conf.py").read_text())
    conf = next(
        node.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        and getattr(node.targets[0], "id", None) == "sphinx_gallery_conf"
    )
    order = {
        key.value: ast.literal_eval(value)
        for key, value in zip(conf.keys, conf.values, strict=True)
        if key.value in ("subsection_order", "within_subsection_order")
    }
    assert order["subsection_order"] == ["../examples/learn", "../examples/demos"]
    assert order["within_subsection_order"] == "_gallery_order.TrackOrder"
    key = TrackOrder("examples/learn")
    learn = sorted((ROOT / "examples" / "learn").glob("*.py"), key=lambda path: key(str(path)))
    assert [path.stem[:8] for path in learn] == [f"learn_{n:02d}" for n in range(1, 10)]
    demos = sorted(path.name for path in (ROOT / "examples" / "demos").glob("*.py"))
    assert sorted(ORDER) == demos
    assert not list((ROOT / "examples").glob("*.py")), "every example sits in a subsection"
    for folder in ("learn", "demos"):
        assert (ROOT / "examples" / folder / "GALLERY_HEADER.rst").is_file()


def test_the_gallery_page_names_examples_once():
    """The gallery's page links its examples in its text; its toctree is hidden, so the
    page does not list "Examples" a second time."""
    page = (DOCS / "gallery" / "index.md").read_text()
    assert ":hidden:" in page.split("```{toctree}")[1].split("```")[0]


@pytest.mark.skipif(not (BUILT / "index.html").exists(), reason="the site is not built")
def test_built_site_shows_every_figure_of_the_track_and_the_math():
    for page in [*(f"learn/{chapter}" for chapter in CHAPTERS), "math/index", "math/network"]:
        html = (BUILT / f"{page}.html").read_text()
        sources = re.findall(r'<img[^>]+src="([^"]+)"', html)
        assert sources, page
        for source in sources:
            assert (BUILT / page).parent.joinpath(source).resolve().is_file(), (page, source)


@pytest.mark.skipif(not (BUILT / "index.html").exists(), reason="the site is not built")
def test_built_gallery_lists_the_track_in_order_with_real_thumbnails():
    html = (BUILT / "gallery" / "examples" / "index.html").read_text()
    shown = re.findall(r'href="(?:learn|demos)/(\w+)\.html', html)
    shown = [name for name in dict.fromkeys(shown) if name != "index"]
    assert shown[:9] == sorted(shown[:9]) and all(n.startswith("learn_") for n in shown[:9])
    assert shown.index("learn_09_stacks") < shown.index("demo_linear_regression")
    thumbs = DOCS / "gallery" / "examples" / "learn" / "images" / "thumb"
    thumbnail = thumbs / "sphx_glr_learn_04_backprop_by_hand_thumb.png"
    assert thumbnail.is_file()
    placeholder = (
        Path(importlib.util.find_spec("sphinx_gallery").origin).parent / "_static" / "no_image.png"
    )
    assert thumbnail.read_bytes() != placeholder.read_bytes()


@pytest.mark.skipif(not (BUILT / "index.html").exists(), reason="the site is not built")
def test_built_search_finds_the_backprop_page():
    """Searching "backpropagation" (stemmed by Sphinx to "backpropag") lists the chapter,
    whose title holds the word."""
    import json

    text = (BUILT / "searchindex.js").read_text()
    index = json.loads(text[text.index("(") + 1 : text.rindex(")")])
    hits = index["titleterms"]["backpropag"]
    hits = hits if isinstance(hits, list) else [hits]
    assert "learn/04-backprop" in {index["docnames"][i] for i in hits}


@pytest.mark.skipif(not (BUILT / "index.html").exists(), reason="the site is not built")
def test_built_code_blocks_hold_no_docstring():
    """The included lines are the formula: no numpydoc section of a docstring slipped in
    (a ``:start-at:`` that matched a line of the docstring instead of the code)."""
    pages = [*(f"learn/{chapter}" for chapter in CHAPTERS), "math/linear-regression",
             "math/logistic-regression", "math/network", "math/losses-activations",
             "math/optimizers"]  # fmt: skip
    for page in pages:
        html = (BUILT / f"{page}.html").read_text()
        for block in re.findall(
            r'<div class="highlight-\w+ notranslate">(.*?)</pre>', html, flags=re.S
        ):
            text = re.sub(r"<[^>]+>", "", block)
            assert "----------" not in text, (page, text[:300])


@pytest.mark.skipif(not (BUILT / "index.html").exists(), reason="the site is not built")
def test_built_site_has_the_stylesheet_that_keeps_code_in_the_column():
    css = (BUILT / "_static" / "scratchml.css").read_text()
    assert "pre-wrap" in css
    assert "scratchml.css" in (BUILT / "learn" / "01-line.html").read_text()
