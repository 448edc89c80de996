"""The one package that knows which array libraries exist.

Models never branch on the backend: they call ``xp = namespace(X, y)`` and then
use only functions of the Python Array API standard on ``xp``. Everything that
differs between NumPy, CuPy, PyTorch, JAX and array-api-strict (how to find a
namespace, how to copy to the host, which devices there are and how to wait for
them, how much memory is free) lives here: one module per library
(``numpy.py``, ``cupy.py``, ``torch.py``, ``jax.py``, ``array_api_strict.py``), each
a :class:`~scratchml.backends.base.Library`, listed in ``registry.py``. Adding a
library is one module of your own: a ``Library`` subclass, handed to :func:`register`.

Random numbers are drawn on the host with NumPy (``random.py``) and moved, so one
seed gives the same model on every library.
"""

from __future__ import annotations

from . import registry
from .arrays import (
    asarray,
    backend_name,
    default_float,
    default_index,
    device,
    get,
    is_array,
    namespace,
    quiet_float_warnings,
    to_numpy,
    widest_float,
)
from .base import Library
from .cupy import CUPY_EXTRAS_HINT
from .devices import (
    accelerator_memory,
    default_device,
    describe,
    free_memory,
    gpu_name,
    is_accelerator,
    is_out_of_memory,
    on_device_of,
    synchronize,
)
from .driver import cuda_extra, driver_cuda_version, driver_summary
from .jax import JAX_EXTRAS_HINT, jax_x64_enabled
from .random import (
    check_seed,
    host_normal,
    host_orthogonal,
    permutation,
    random_normal,
    random_orthogonal,
    rng,
)
from .registry import BACKENDS, LIBRARIES, available, forget_checks, why_unavailable


def register(library: Library) -> None:
    """Make an array library a backend: ``asarray(..., backend=library.name)``, ``available()``,
    the estimators, stacks and sweeps all take it from then on.

    The library's namespace must follow the Python Array API standard (as
    ``array_api_compat.array_namespace`` finds it); ``library`` says the rest (see
    :class:`Library`: recognising its arrays, host copies, devices).

    Parameters
    ----------
    library : Library
        An instance of your ``Library`` subclass, named as users will pass it.

    Raises
    ------
    ValueError
        If a backend of that name exists.
    """
    global BACKENDS
    registry.register(library)
    BACKENDS = registry.BACKENDS


__all__ = [
    "BACKENDS",
    "CUPY_EXTRAS_HINT",
    "JAX_EXTRAS_HINT",
    "LIBRARIES",
    "Library",
    "accelerator_memory",
    "asarray",
    "available",
    "backend_name",
    "check_seed",
    "cuda_extra",
    "default_device",
    "default_float",
    "default_index",
    "describe",
    "device",
    "driver_cuda_version",
    "driver_summary",
    "forget_checks",
    "free_memory",
    "get",
    "gpu_name",
    "host_normal",
    "host_orthogonal",
    "is_accelerator",
    "is_array",
    "is_out_of_memory",
    "jax_x64_enabled",
    "namespace",
    "on_device_of",
    "permutation",
    "quiet_float_warnings",
    "random_normal",
    "random_orthogonal",
    "register",
    "rng",
    "synchronize",
    "to_numpy",
    "why_unavailable",
    "widest_float",
]
