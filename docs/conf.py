"""Sphinx configuration for the scratchml documentation.

Build (from the repository root; writes static HTML that opens without a network):

    python -m sphinx -W --keep-going -b html docs docs/_build/html
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("MPLBACKEND", "Agg")

import scratchml  # noqa: E402

project = "scratchml"
author = "scratchml contributors"
copyright = "scratchml contributors"
release = version = scratchml.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.viewcode",
    "numpydoc",
    "myst_parser",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
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
autosummary_generate = True
autosummary_imported_members = False
autodoc_default_options = {"members": True, "undoc-members": True, "show-inheritance": True}
autodoc_member_order = "bysource"
autodoc_typehints = "none"  # the numpydoc sections and signatures say it
autodoc_preserve_defaults = True
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
# GL08: a public name without a docstring fails the build.
numpydoc_validation_checks = {"GL08"}
numpydoc_validation_exclude = {
    r"\.__\w+__$",  # dunders
    r"\._\w+$",  # private names
    r"\.(count|index)$",  # the tuple methods a NamedTuple brings
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
        module = importlib.import_module(info.name)
        for name, obj in vars(module).items():
            home = getattr(obj, "__module__", None)
            if name.startswith("_") or inspect.ismodule(obj) or home is None:
                continue
            if home != info.name:
                found.add("^" + re.escape(f"{info.name}.{name}") + "$")
    return found


numpydoc_validation_exclude |= _imported_names()

# --- Markdown ----------------------------------------------------------------------------
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

# --- HTML: everything local, nothing fetched --------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"scratchml {version}"
html_static_path: list[str] = []
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "navbar_align": "left",
    "footer_start": ["copyright"],
    "footer_end": [],
    "secondary_sidebar_items": ["page-toc", "sourcelink"],
}
html_show_sourcelink = False
html_copy_source = False
# No page may load MathJax (from a CDN): the math pages write formulas as text and code,
# and tests/test_docs.py checks that the built pages fetch nothing.


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


def setup(app):
    app.connect("autodoc-process-docstring", _note_module, priority=100)
    app.connect("autodoc-skip-member", _skip_submodule_aliases)
