"""Sphinx configuration for the scratchml documentation.

Build (from the repository root, with ``pip install -e ".[docs]"`` alone; writes static
HTML that opens without a network, and keeps Sphinx's cache out of the HTML folder):

    python -m sphinx -W --keep-going -b html -d docs/_build/doctrees docs docs/_build/html

JAX, PyTorch and CuPy are not needed: the modules that import them (the speed paths of
:mod:`scratchml.speed`) are documented with those libraries mocked when they are missing.
The gallery runs every script of ``examples/`` (sphinx-gallery) on the backends installed.
"""

from __future__ import annotations

import importlib.util
import os
import re
import sys
from pathlib import Path

from sphinx.ext.autodoc.mock import mock

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))  # _validation_scope
os.environ.setdefault("MPLBACKEND", "Agg")

from _validation_scope import documented_by_their_base  # noqa: E402

import scratchml  # noqa: E402

project = "scratchml"
author = "scratchml contributors"
copyright = "scratchml contributors"
release = version = scratchml.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.viewcode",
    "sphinx.ext.mathjax",
    "sphinx-mathjax-offline",  # MathJax 3 shipped with the package: no CDN
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "gallery/examples/*.ipynb"]
templates_path = ["_templates"]

# Every reference must resolve (broken cross-references fail the -W build) ...
nitpicky = True
# ... except type names that belong to other libraries or to typing.
nitpick_ignore_regex = [
    (r"py:.*", r"(numpy|np|pandas|torch|jax|cupy|matplotlib|argparse|pathlib|os|typing)(\..*)?"),
    (r"py:.*", r"(Any|Self|Path|Callable|Iterator|Iterable|Sequence|Mapping|NamedTuple)"),
    (r"py:.*", r"scratchml(\..*)?\._\w+"),  # private bases named by show-inheritance
    (r"py:.*", r"(collections\.abc|contextlib|concurrent\.futures|dataclasses)\..*"),
]

# --- API reference -----------------------------------------------------------------------
# The speed paths and backends of libraries that are not installed are documented with the
# library mocked, so the docs build needs the docs extra alone. Only what is missing is
# mocked: the gallery's examples run on the real libraries where they are installed.
MOCKED = ["jax", "jaxlib", "torch", "cupy", "cupyx"]
autodoc_mock_imports = [name for name in MOCKED if importlib.util.find_spec(name) is None]
autosummary_generate = True
# The math pages that derive what a module computes: its API page links to them (the
# template in _templates/autosummary/module.rst), and they link back to it.
MATH_PAGES = {
    "scratchml.estimators.linear": ["linear-regression", "logistic-regression"],
    "scratchml.nn.layers": ["network"],
    "scratchml.nn.init": ["network"],
    "scratchml.nn.losses": ["losses-activations"],
    "scratchml.nn.activations": ["losses-activations"],
    "scratchml.nn.optimizers": ["optimizers"],
    "scratchml.nn.parameters": ["optimizers"],
}
autosummary_context = {"math_pages": MATH_PAGES}
autosummary_imported_members = False
autodoc_default_options = {"members": True, "undoc-members": True, "show-inheritance": True}
autodoc_member_order = "bysource"
autodoc_typehints = "none"  # the numpydoc sections and signatures say it
autodoc_preserve_defaults = True
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
# numpydoc's checks, each failing the -W build: a public name without a docstring (GL08),
# a parameter missing from Parameters (PR01), one documented that does not exist (PR02),
# in the wrong order (PR03), without a type or description (PR05-PR07, PR10), a function
# that returns something without a Returns section (RT01-RT03).
numpydoc_validation_checks = {
    "GL08",
    "PR01",
    "PR02",
    "PR03",
    "PR05",
    "PR06",
    "PR07",
    "PR10",
    "RT01",
    "RT02",
    "RT03",
}
numpydoc_validation_exclude = {
    r"\.__\w+__$",  # dunders
    r"\._\w+$",  # private names
    r"\.(count|index)$",  # the tuple methods a NamedTuple brings
    # Not validated yet (tests/test_docs.py still requires their docstrings): the
    # benchmark harness, being reworked; the sweep's internal modules and its record types
    # (their fields are documented as Attributes).
    r"^scratchml\.bench\b",
    r"^scratchml\.sweep\.(chunks|files|report)\.",
    r"^scratchml\.sweep\.grid\.(Network|Settings|grid_differences|union)$",
    r"^scratchml\.sweep\.(loading\.SweepData|loading\.Refit)$",
    r"^scratchml\.sweep\.runner\.(SweepResult|SweepInterrupted)$",
}


def _imported_names() -> set[str]:
    """``module.name`` for every name a scratchml module imports rather than defines.

    autodoc leaves those out of the page, but numpydoc's validation still sees them.
    """
    import importlib
    import inspect
    import pkgutil

    found = set()
    for info in pkgutil.walk_packages(scratchml.__path__, "scratchml."):
        if info.name.endswith("__main__"):
            continue
        with mock(autodoc_mock_imports):
            module = importlib.import_module(info.name)
        for name, obj in vars(module).items():
            home = getattr(obj, "__module__", None)
            if name.startswith("_") or inspect.ismodule(obj) or home is None:
                continue
            if home != info.name:
                found.add("^" + re.escape(f"{info.name}.{name}") + "$")
    return found


with mock(autodoc_mock_imports):
    numpydoc_validation_exclude |= _imported_names() | documented_by_their_base()

# --- Markdown ----------------------------------------------------------------------------
# $...$ and $$...$$ are LaTeX (rendered by the bundled MathJax); amsmath's environments too.
myst_enable_extensions = ["colon_fence", "deflist", "dollarmath", "amsmath"]
myst_heading_anchors = 3

# --- HTML: everything local, nothing fetched --------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"scratchml {version}"
html_static_path = ["_static"]
html_css_files = ["scratchml.css"]
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "navbar_align": "left",
    "footer_start": ["copyright"],
    "footer_end": [],
    # The Learn track, the math and the gallery give their column the page's width (their
    # figures and code need it); the guide and the API keep the page's table of contents.
    "secondary_sidebar_items": {
        "index": ["page-toc", "sourcelink"],
        "getting-started": ["page-toc", "sourcelink"],
        "guide/**": ["page-toc", "sourcelink"],
        "api/**": ["page-toc", "sourcelink"],
        "learn/**": [],
        "math/**": [],
        "gallery/**": [],
    },
}
html_show_sourcelink = False
html_copy_source = False
# MathJax comes from the sphinx-mathjax-offline package, copied into _static/mathjax; no
# page may load anything remote (tests/test_docs.py checks the built pages).

# --- Gallery: every script of examples/ runs at build time ----------------------------
sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "gallery/examples",
    "filename_pattern": r".*\.py$",  # run them all, not only plot_*.py
    "ignore_pattern": r"/_",  # helpers named _*.py are not examples
    # The Learn track first, in its order, then the demos (not alphabetically).
    "subsection_order": ["../examples/learn", "../examples/demos"],  # relative to docs/
    "within_subsection_order": "_gallery_order.TrackOrder",
    "download_all_examples": True,  # a zip of the .py files and one of the notebooks
    "abort_on_example_error": True,
    "remove_config_comments": True,
    "image_scrapers": ("matplotlib",),
    "reset_modules": ("matplotlib",),
    "show_memory": False,
    "show_signature": False,
    "min_reported_time": 1,
    "write_computation_times": False,
}


_documenting: list[str] = [""]


def _note_module(app, what, name, obj, options, lines):
    if what == "module":
        _documenting[0] = name


def _skip_submodule_aliases(app, what, name, obj, skip, options):
    """A package's function named like one of its submodules (``sweep.report``, the demos)
    is documented on its own module's page; documenting it twice would clash."""
    import importlib.util
    import inspect

    package = _documenting[0]
    if what != "module" or inspect.ismodule(obj) or not package.startswith("scratchml"):
        return None
    if getattr(obj, "__module__", None) == package:
        return None
    try:
        if importlib.util.find_spec(f"{package}.{name}") is not None:
            return True
    except (ImportError, ValueError):
        return None
    return None


def _captioned_literalinclude():
    """``literalinclude`` that captions each included block with its file's path in the
    repository (``scratchml/nn/layers.py``) unless the page gives a caption of its own."""
    from sphinx.directives.code import LiteralInclude

    class CaptionedLiteralInclude(LiteralInclude):
        def run(self):
            if "caption" not in self.options:
                _, path = self.env.relfn2path(self.arguments[0], self.env.docname)
                self.options["caption"] = Path(path).resolve().relative_to(ROOT).as_posix()
            return super().run()

    return CaptionedLiteralInclude


def setup(app):
    app.connect("autodoc-process-docstring", _note_module, priority=100)
    app.connect("autodoc-skip-member", _skip_submodule_aliases)
    app.add_directive("literalinclude", _captioned_literalinclude(), override=True)
