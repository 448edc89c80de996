"""Names whose numpydoc sections live in another docstring (read by conf.py and the tests)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re

# The packages whose classes override documented methods of a base: the kernels and hooks
# of ``speed.Reference``, the ``backends.Library`` protocol, and each optimizer's ``init`` and
# ``step`` (documented once, on ``nn.optimizers.Optimizer``).
PACKAGES = ("scratchml.speed", "scratchml.backends", "scratchml.nn")
SECTIONS = re.compile(r"(Parameters|Returns)\n-+")


def documented_by_their_base() -> set[str]:
    """Patterns for the methods that override a method documented with numpydoc sections.

    A ``Kernels`` operation, a ``Reference`` hook or a ``Library`` method is documented
    once, in its base class, with its Parameters and Returns (which numpydoc validates
    there); an override's docstring says in a line or two what it does differently
    (one ``torch.addmm``, say).

    Returns
    -------
    set of str
        Regular expressions, one per overriding method, as numpydoc's exclusions take them.
    """
    found = set()
    for package in PACKAGES:
        root = importlib.import_module(package)
        for info in pkgutil.walk_packages(root.__path__, f"{package}."):
            module = importlib.import_module(info.name)
            for cls in vars(module).values():
                if not inspect.isclass(cls) or cls.__module__ != module.__name__:
                    continue
                for name, member in vars(cls).items():
                    if name.startswith("_") or not inspect.isfunction(member):
                        continue
                    bases = [vars(base)[name] for base in cls.__mro__[1:] if name in vars(base)]
                    if bases and SECTIONS.search(inspect.getdoc(bases[0]) or ""):
                        found.add("^" + re.escape(f"{module.__name__}.{cls.__name__}.{name}") + "$")
    return found
