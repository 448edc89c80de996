"""Old import paths that keep working: each gives what moved, with one FutureWarning.

The estimators moved out of ``scratchml.nn`` (which now holds the math alone) and the
top level into :mod:`scratchml.estimators`. ``import scratchml.linear`` still works: a
finder on ``sys.meta_path`` answers for the old names with the new modules (the same
objects) and a ``FutureWarning`` naming the new path. No file stands at the old paths, so
``scratchml.nn`` holds no module that imports an estimator. Names that were attributes
of a package (``scratchml.nn.MLPClassifier``) are answered by a module ``__getattr__``
that ``install`` gives the package.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import warnings
from types import ModuleType
from typing import Any

# old dotted name -> new dotted name
MOVED = {
    "scratchml.base": "scratchml.estimators.base",
    "scratchml.linear": "scratchml.estimators.linear",
    "scratchml.io": "scratchml.estimators.saving",
    "scratchml.nn.model": "scratchml.estimators.network",
    "scratchml.nn.estimators": "scratchml.estimators.mlp",
}
# package -> {old attribute: the module that now holds it}
MOVED_NAMES = {
    "scratchml.nn": {
        "MLPClassifier": "scratchml.estimators.mlp",
        "MLPRegressor": "scratchml.estimators.mlp",
    },
}
_warned: set[str] = set()


def _warn_once(old: str, new: str, stacklevel: int) -> None:
    if old in _warned:
        return
    _warned.add(old)
    warnings.warn(
        f"{old} moved to {new}; import it from there (or use the names scratchml exports). "
        "The old path will be removed in a future release.",
        FutureWarning,
        stacklevel=stacklevel + 1,
    )


class _MovedModuleLoader(importlib.abc.Loader):
    """Loads an old name as the module it moved to (no code runs twice)."""

    def __init__(self, new: str) -> None:
        self.new = new

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        _warn_once(spec.name, self.new, stacklevel=2)
        return importlib.import_module(self.new)

    def exec_module(self, module: ModuleType) -> None:
        """Nothing to run: the new module ran when it was imported."""


class MovedModules(importlib.abc.MetaPathFinder):
    """The finder for the old names of :data:`MOVED`."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        """A spec loading ``fullname`` as its new module, if it is an old name; else None.

        Parameters
        ----------
        fullname : str
            The dotted name being imported.
        path : optional
            The parent package's ``__path__`` (unused).
        target : optional
            A module to reload into (unused).

        Returns
        -------
        ModuleSpec or None
            The spec for an old name; None lets the other finders look.
        """
        if fullname not in MOVED:
            return None
        return importlib.machinery.ModuleSpec(fullname, _MovedModuleLoader(MOVED[fullname]))


def _moved_attributes(package: str, names: dict[str, str]) -> Any:
    """A module ``__getattr__`` for ``package`` that answers the moved ``names``."""

    def __getattr__(name: str) -> Any:  # noqa: N807
        if name not in names:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        _warn_once(f"{package}.{name}", f"{names[name]}.{name}", stacklevel=2)
        return getattr(importlib.import_module(names[name]), name)

    return __getattr__


def install() -> None:
    """Put the finder on ``sys.meta_path`` and the moved names on their packages (once)."""
    if not any(isinstance(finder, MovedModules) for finder in sys.meta_path):
        sys.meta_path.append(MovedModules())
    for package, names in MOVED_NAMES.items():
        sys.modules[package].__getattr__ = _moved_attributes(package, names)  # type: ignore[method-assign]
