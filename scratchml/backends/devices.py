"""Devices and their memory: waiting for work, where new arrays go, what is free, and
which errors mean that an allocation failed."""

from __future__ import annotations

import contextlib
from typing import Any

from . import arrays
from .base import SCALARS, Library
from .registry import LIBRARIES, library, library_of, why_unavailable


def synchronize(x: Any = None) -> None:
    """Wait until all queued work on the device ``x`` lives on is finished (a no-op on CPU).

    Parameters
    ----------
    x : array, optional
        The array whose device to wait on: a CuPy array on ``cuda:1`` waits for
        ``cuda:1``'s stream even when ``cuda:0`` is current. None: nothing to wait for.
    """
    found = library_of(x) if x is not None else None
    if found is not None:
        found.synchronize(x)


def on_device_of(*arrays_: Any) -> contextlib.AbstractContextManager[Any]:
    """A context in which new arrays land on the device of ``arrays`` (the first array given).

    CuPy creates arrays on its *current* device, and its creation functions (``zeros``,
    ``ones``, ``arange``, ...) ignore ``device=``; inside this context the current device is
    the data's, so a fit on ``cuda:1`` makes everything on ``cuda:1``. For every other library
    it does nothing (they honour ``device=``, which scratchml always passes).

    Parameters
    ----------
    *arrays_ : array, None or Python scalar
        The data; None and Python scalars are skipped, the first array decides.

    Returns
    -------
    contextlib.AbstractContextManager
        The library's device context for that array's device (CuPy), else one that
        does nothing.

    Examples
    --------
    >>> with backends.on_device_of(X):  # doctest: +SKIP
    ...     model.fit(X, y)
    """
    for x in arrays_:
        if x is None or isinstance(x, SCALARS):
            continue
        found = library_of(x)
        if found is None:
            break
        return found.device_context(arrays.device(x))
    return contextlib.nullcontext()


def default_device(name: str) -> Any:
    """The device arrays of backend ``name`` land on when no ``device=`` is given.

    Parameters
    ----------
    name : str
        A backend name.

    Returns
    -------
    object
        The library's device: ``"cpu"`` for NumPy; for torch ``torch.get_default_device()``
        (the CPU unless a program chose CUDA); for CuPy the current device; for JAX its
        default device.
    """
    arrays.get(name)  # ValueError for an unknown name, RuntimeError when unusable
    return library(name).default_device()


def _where(where: Any, backend: str | None) -> tuple[Library, Any]:
    """The library and device meant by an array, or by a device (and its backend's name)."""
    found = library_of(where)
    if found is not None:
        return found, arrays.device(where)
    if backend is None:
        raise TypeError(
            "give an array, or a device together with backend= (the device's library), "
            f"got {type(where).__name__} without a backend"
        )
    arrays.get(backend)
    found = library(backend)
    device = found.default_device() if where is None else where
    return found, found.as_device(device)


def is_accelerator(where: Any, backend: str | None = None) -> bool:
    """True if an array lives on (or a device is) a GPU or another accelerator.

    A sweep or benchmark asks this of its data (or of the device it will make data on)
    to size its work and label its results: torch on the CPU is a CPU run even on a
    machine where torch sees CUDA.

    Parameters
    ----------
    where : array, device, str or None
        An array; or a device of ``backend`` (its object or its name, e.g. ``"cuda:1"``);
        None: ``backend``'s default device (:func:`default_device`).
    backend : str, optional
        The library of the device; not needed for an array.

    Returns
    -------
    bool
        Whether the device is a GPU or another accelerator.
    """
    found, device = _where(where, backend)
    return bool(found.is_accelerator(device))


def accelerator_memory(where: Any, backend: str | None = None) -> int | None:
    """Bytes free for new arrays on the accelerator ``where`` is on; None on a CPU.

    Parameters
    ----------
    where : array, device, str or None
        As for :func:`is_accelerator`.
    backend : str, optional
        The library of the device; not needed for an array.

    Returns
    -------
    int or None
        As :func:`free_memory` counts it, for a GPU; None for the CPU (or when the
        library cannot say).
    """
    found, device = _where(where, backend)
    if not found.is_accelerator(device):
        return None
    return free_memory(found.name, device)


def free_memory(name: str, device: Any = None) -> int | None:
    """Bytes free for new arrays of backend ``name`` on ``device``; None if unknown.

    Parameters
    ----------
    name : str
        A backend name ("numpy", "cupy", "torch", "jax", "array_api_strict").
    device : optional
        The device the arrays will live on (``backends.device(X)``), or its name
        (``"cuda"``: the current CUDA device). None: the library's default device (for
        torch, ``torch.get_default_device()``: the CPU unless a program chose CUDA; for
        CuPy, the current device).

    Returns
    -------
    int or None
        GPU: the device's free memory plus what the library's allocator holds but
        does not use (CuPy's memory pool, torch's caching allocator; for JAX, the
        allocator's limit minus the bytes in use). CPU: available RAM (use
        :func:`accelerator_memory` for None on a CPU).
    """
    found = library(name)
    try:
        return found.free_memory(found.as_device(device))
    except (ImportError, OSError, ValueError, RuntimeError, AttributeError, TypeError):
        return None  # the library is missing, or its driver cannot say


def gpu_name(name: str, device: Any = None) -> str | None:
    """The GPU that backend ``name`` computes on (model and memory), or None on a CPU.

    Parameters
    ----------
    name : str
        A backend name.
    device : optional
        The device asked about; None: the backend's default device, where its new arrays
        land (so torch with CUDA but tensors on the CPU gives None).

    Returns
    -------
    str or None
        The GPU's model and memory, or None on a CPU, for an unusable backend or a
        driver that cannot say.
    """
    found = library(name)
    try:
        if why_unavailable(name):
            return None
        device = found.default_device() if device is None else found.as_device(device)
        return found.accelerator_name(device) if found.is_accelerator(device) else None
    except Exception:  # a broken driver: describe the machine as CPU-only
        return None


# What the libraries say when an allocation fails: CuPy's pool and the CUDA runtime and
# driver, the CUDA libraries' handles and workspaces (cuBLAS, cuSOLVER, cuFFT, cuRAND,
# cuSPARSE: *_STATUS_ALLOC_FAILED), torch ("CUDA out of memory"), XLA ("RESOURCE_EXHAUSTED").
_OUT_OF_MEMORY_MARKERS = (
    "out of memory",
    "_status_alloc_failed",
    "cudaerrormemoryallocation",
    "cuda_error_out_of_memory",
    "resource_exhausted",
    "resource exhausted",
)


def is_out_of_memory(exc: BaseException) -> bool:
    """True if ``exc`` says a device (or the host) ran out of memory for an array.

    Recognises NumPy's MemoryError, CuPy's ``OutOfMemoryError``, CUDA runtime, driver and
    library allocation failures (``CUBLAS_STATUS_ALLOC_FAILED``, ``CUSOLVER_STATUS_ALLOC_FAILED``,
    ``cudaErrorMemoryAllocation``, ...), ``torch.OutOfMemoryError`` and JAX's
    ``RESOURCE_EXHAUSTED`` runtime errors, also when raised as the cause of another error.
    Only libraries already imported can have raised it, so none is imported here.

    Parameters
    ----------
    exc : BaseException
        The exception raised.

    Returns
    -------
    bool
        Whether it, or an exception in its chain of causes, is an out-of-memory error.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if _is_out_of_memory_error(current):
            return True
        current = current.__cause__ or current.__context__
    return False


def _is_out_of_memory_error(exc: BaseException) -> bool:
    if isinstance(exc, MemoryError):  # NumPy's allocation failures subclass it
        return True
    libraries = LIBRARIES.values()
    own_types = tuple(oom for found in libraries for oom in found.out_of_memory_types())
    if own_types and isinstance(exc, own_types):
        return True
    # The message decides only for the errors GPU libraries raise (RuntimeError subclasses,
    # or types of their modules): a ValueError that merely says "out of memory" is not one.
    module = type(exc).__module__.split(".")[0]
    gpu_modules = {module for found in libraries for module in found.error_modules}
    if not isinstance(exc, RuntimeError) and module not in gpu_modules:
        return False
    text = f"{type(exc).__name__}: {exc}".lower()
    return any(marker in text for marker in _OUT_OF_MEMORY_MARKERS)


def describe(name: str) -> str:
    """One phrase on where backend ``name`` computes here: whether torch sees CUDA, JAX a GPU.

    Parameters
    ----------
    name : str
        A backend name.

    Returns
    -------
    str
        ``""`` when the backend is not usable (:func:`~scratchml.backends.why_unavailable` says why).
    """
    found = library(name)
    if why_unavailable(name):
        return ""
    try:
        return found.describe()
    except Exception as exc:  # a broken driver: say so rather than fail the listing
        return f"cannot list its devices ({type(exc).__name__}: {exc})"
