"""The one package that knows which array libraries exist.

Models never branch on the backend: they call ``xp = namespace(X, y)`` and then
use only functions of the Python Array API standard on ``xp``. Everything that
differs between NumPy, CuPy, PyTorch, JAX and array-api-strict (how to find a
namespace, how to copy to the host, which devices there are and how to wait for
them, how much memory is free) lives here: one module per library
(``numpy.py``, ``cupy.py``, ``torch.py``, ``jax.py``, ``array_api_strict.py``), each
a :class:`~scratchml.backends.base.Library`, listed in ``registry.py``. Adding a
library is one module and one line of the registry; this module only re-exports.

Random numbers are drawn on the host with NumPy (``random.py``) and moved, so one
seed gives the same model on every library.
"""

from __future__ import annotations

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
    "rng",
    "synchronize",
    "to_numpy",
    "why_unavailable",
    "widest_float",
]
