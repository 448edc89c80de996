"""The array libraries scratchml knows: the ones that ship are listed here; a library of your
own is one module that defines a :class:`~scratchml.backends.base.Library` and hands it to
:func:`scratchml.backends.register`."""

from __future__ import annotations

import importlib
from typing import Any

import array_api_compat

from .base import Library

# One line per library: the module of this package that defines its LIBRARY, in the order
# listings show them. Importing a module imports no array library (each does so lazily).
_MODULES = (
    "numpy",
    "array_api_strict",
    "torch",
    "cupy",
    "jax",
)

#: Every library, by backend name, in the order listings show them.
LIBRARIES: dict[str, Library] = {
    found.name: found
    for found in (importlib.import_module(f".{module}", __package__).LIBRARY for module in _MODULES)
}

#: The backend names, in the order listings show them.
BACKENDS: tuple[str, ...] = tuple(LIBRARIES)

# Why each library is unusable ("" when it is usable), found once per process: the
# checks import the library and run a tiny computation.
_reasons: dict[str, str] = {}


def library(name: str) -> Library:
    """The library registered as ``name``; ValueError listing the valid names otherwise.

    Parameters
    ----------
    name : str
        A backend name (``BACKENDS``).

    Returns
    -------
    Library
        Its registered instance (whether or not it is usable here).

    Raises
    ------
    ValueError
        If no library is registered as ``name``.
    """
    try:
        return LIBRARIES[name]
    except (KeyError, TypeError):
        raise ValueError(
            f"unknown backend {name!r}; valid backends are {', '.join(LIBRARIES)}"
        ) from None


def library_of(x: Any) -> Library | None:
    """The registered library ``x`` is an array of; None if none is (or ``x`` is no array).

    Parameters
    ----------
    x : object
        Any object.

    Returns
    -------
    Library or None
        The library whose ``owns(x)`` is true, or None.
    """
    for candidate in LIBRARIES.values():
        if candidate.owns(x):
            return candidate
    return None


def library_name_of(x: Any) -> str | None:
    """Name of the library ``x`` is an array of; for an array of a library scratchml does not
    register, its namespace's module name; None if ``x`` is not an array.

    Parameters
    ----------
    x : object
        Any object.

    Returns
    -------
    str or None
        The backend's name, the module name of an unregistered namespace, or None.
    """
    found = library_of(x)
    if found is not None:
        return found.name
    if array_api_compat.is_array_api_obj(x) and hasattr(x, "__array_namespace__"):
        space = x.__array_namespace__()
        return getattr(space, "__name__", type(x).__module__)
    return None


def why_unavailable(name: str) -> str:
    """Empty string if backend ``name`` is usable here, else one line on why not and what to do.

    Parameters
    ----------
    name : str
        A backend name (``BACKENDS``).

    Returns
    -------
    str
        ``""`` when usable; otherwise the reason and the extra to install (CuPy, JAX).
    """
    found = library(name)
    if name not in _reasons:
        _reasons[name] = found.why_unavailable()
    return _reasons[name]


def register(found: Library) -> None:
    """Add an array library under ``found.name`` (use :func:`scratchml.backends.register`).

    Parameters
    ----------
    found : Library
        The library: how to recognise its arrays, copy them to the host, name its devices.

    Raises
    ------
    ValueError
        If a library of that name is registered already.
    """
    global BACKENDS
    if found.name in LIBRARIES:
        raise ValueError(f"a backend named {found.name!r} is registered already")
    LIBRARIES[found.name] = found
    BACKENDS = tuple(LIBRARIES)
    _reasons.pop(found.name, None)


def forget_checks() -> None:
    """Forget which libraries were found usable: the next question checks again.

    For a program that installs a library while running, and for tests that stand a
    fake module in for one.
    """
    _reasons.clear()


def available() -> list[str]:
    """Names of the backends usable on this machine (cupy only with a working GPU).

    Returns
    -------
    list of str
        The usable backends' names, in the registry's order.
    """
    return [name for name in LIBRARIES if not why_unavailable(name)]
