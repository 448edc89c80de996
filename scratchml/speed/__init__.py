"""Speed paths: faster kernels for the network math, per array library, behind one interface.

The model math (``scratchml.nn.layers``, ``losses``, ``activations``, ``optimizers``)
is written once in the Array API standard's functions, as calls of a small set of
operations (``nn.kernels.Kernels``: the dense product, its three gradients, the
activation and its derivative, the loss with its gradient, the optimizers' element-wise
updates). A speed path is a ``Kernels`` subclass that runs some of those operations
faster in its library's own terms — NumPy: reused memory, column-major products;
PyTorch: fused operations; JAX: nothing per operation, the whole step compiled — and is
chosen in one place: ``path_for(xp)``. It never has a forward/backward loop, a derivative
or an update rule of its own; where it splits the work (NumPy's blocks of rows or
networks, JAX's blocks of networks) it runs ``layers.loss_and_gradients`` on each part.

The training loop asks for the path once per run and uses what it gives:

- ``path.training_run()``: a context for the run (NumPy keeps its memory there);
- ``path.loss_and_gradients(xp, activations, loss, l2)``: the function
  ``(params, X, Y) -> (objective, grads)`` for this run (``layers.loss_and_gradients``
  with the path's kernels, in blocks where the path splits the work);
- ``path.optimizer_step(optimizer)``: ``(xp, theta, grad, state) -> (theta, state)``,
  the optimizer's ``step`` with the path's kernels;
- ``path.training_step(xp, objective, layout, optimizer)``: the whole step
  ``(theta, state, X, Y) -> (loss, theta, state)`` built from the two above;
- ``path.training_epochs(...)``: epochs compiled as one call where the library
  compiles (JAX's ``jit``), else None and the loop runs its epoch step by step;
  ``path.scan`` runs an epoch's mini-batches, ``path.parameter_maps`` turns the
  parameters into θ and back;
- ``path.samples_layout(Y)``: targets in the memory layout the path prefers.

``Reference`` is the interface with the plain kernels: every library can run it, and
the tests compare every other path's kernels with it (bit for bit where a kernel only
changes where numbers are written, to rounding where it regroups sums). Inside
``reference_only()`` every library runs the plain kernels: the mode to step through
the math in a debugger without a library's fast forms in the way.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Iterator
from typing import Any

import array_api_compat

from .reference import Reference

__all__ = ["Reference", "path_for", "reference_only", "use_path"]

_REFERENCE = Reference()
_forced: Reference | None = None
# Each library's path, made on first use (importing it imports its library).
_PATHS: dict[str, Reference] = {}


def _path(module: str, name: str) -> Reference:
    if module not in _PATHS:
        _PATHS[module] = getattr(importlib.import_module(f".{module}", __name__), name)()
    return _PATHS[module]


def path_for(xp: Any) -> Reference:
    """The speed path for namespace ``xp``: the one selection point.

    Parameters
    ----------
    xp : namespace
        The array namespace the training runs in.

    Returns
    -------
    Reference
        The path forced by ``use_path`` if any; else NumPy's, PyTorch's or JAX's path
        for their namespaces and ``Reference`` for every other library.
    """
    if _forced is not None:
        return _forced
    if array_api_compat.is_numpy_namespace(xp):
        return _path("numpy", "NumpyPath")
    if array_api_compat.is_torch_namespace(xp):
        return _path("torch", "TorchPath")
    if array_api_compat.is_jax_namespace(xp):
        return _path("jax", "JaxPath")
    return _REFERENCE


@contextlib.contextmanager
def use_path(path: Reference) -> Iterator[None]:
    """Inside, every library trains with ``path`` (tests force one to compare it).

    Parameters
    ----------
    path : Reference
        The path every library trains with inside the context.

    Yields
    ------
    None
        Nothing; the previous choice is restored on leaving.
    """
    global _forced
    saved, _forced = _forced, path
    try:
        yield
    finally:
        _forced = saved


def reference_only() -> contextlib.AbstractContextManager[None]:
    """Inside, every library runs ``nn.layers`` with the plain kernels: no speed path at all.

    >>> with scratchml.speed.reference_only():
    ...     clf.fit(X, y)          # steps through layers.forward / backward as written

    Returns
    -------
    contextlib.AbstractContextManager
        The context: ``use_path`` with the plain ``Reference``.
    """
    return use_path(_REFERENCE)
