"""The one module that knows which array libraries exist.

Models never branch on the backend: they call ``xp = namespace(X, y)`` and then
use only functions of the Python Array API standard on ``xp``. Everything that
differs between NumPy, CuPy, PyTorch, JAX and array-api-strict (how to find a
namespace, how to copy to the host, how to wait for a GPU, where random numbers
come from) lives here. JAX's ``jax.numpy`` follows the standard itself; its arrays
are immutable, and it computes in float32 and int32 unless ``jax_enable_x64`` is on.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import importlib
import sys
from collections.abc import Sequence
from typing import Any

import array_api_compat
import numpy as np

BACKENDS: tuple[str, ...] = ("numpy", "array_api_strict", "torch", "cupy", "jax")

# The namespace module each backend name stands for (array-api-compat wraps the
# libraries that do not follow the standard to the letter).
_NAMESPACE_MODULES = {
    "numpy": "array_api_compat.numpy",
    "array_api_strict": "array_api_strict",
    "torch": "array_api_compat.torch",
    "cupy": "array_api_compat.cupy",
    "jax": "jax.numpy",  # the standard's namespace itself since JAX 0.4.32
}


def _library_of(x: Any) -> str | None:
    """Name of the array library ``x`` belongs to, or None if it is not an array."""
    if array_api_compat.is_numpy_array(x):
        return "numpy"
    if array_api_compat.is_cupy_array(x):
        return "cupy"
    if array_api_compat.is_torch_array(x):
        return "torch"
    if array_api_compat.is_jax_array(x):
        return "jax"
    if array_api_compat.is_array_api_obj(x):
        space = x.__array_namespace__()
        if array_api_compat.is_array_api_strict_namespace(space):
            return "array_api_strict"
        return getattr(space, "__name__", type(x).__module__)
    return None


def is_array(x: Any) -> bool:
    """True if ``x`` is an array of any library the standard covers."""
    return _library_of(x) is not None


def backend_name(x: Any) -> str:
    """Name of the backend an array belongs to ("numpy", "torch", ...)."""
    name = _library_of(x)
    if name is None:
        raise TypeError(f"expected an array, got {type(x).__name__}")
    return name


def namespace(*arrays: Any) -> Any:
    """The Array API namespace shared by ``arrays`` (None and Python scalars are ignored).

    Raises TypeError naming both libraries when arrays of different libraries
    are mixed, and when no argument is an array at all.
    """
    found: dict[str, Any] = {}
    for x in arrays:
        if x is None or isinstance(x, (bool, int, float, complex)):
            continue
        name = _library_of(x)
        if name is None:
            raise TypeError(
                f"expected arrays (numpy, cupy, torch, jax or array_api_strict), got {type(x).__name__}"
            )
        found.setdefault(name, x)
    if not found:
        raise TypeError("namespace() needs at least one array")
    if len(found) > 1:
        names = sorted(found)
        raise TypeError(
            f"arrays from different libraries were mixed: {' and '.join(names)}; "
            "convert them with scratchml.backends.asarray(..., backend=...) first"
        )
    return array_api_compat.array_namespace(*found.values())


def device(x: Any) -> Any:
    """The device an array lives on."""
    return array_api_compat.device(x)


CUPY_EXTRAS_HINT = (
    "install scratchml[cuda12] or scratchml[cuda13] (whichever matches your NVIDIA driver's CUDA)"
)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


@functools.cache
def _cupy_usable() -> tuple[bool, str]:
    """Whether CuPy runs here; if not, one line saying why and what to do."""
    try:
        import cupy
    except ModuleNotFoundError as exc:
        if exc.name in ("cupy", None) or (exc.name or "").startswith("cupy"):
            return False, f"CuPy is not installed; {CUPY_EXTRAS_HINT}"
        return False, f"CuPy is installed but cannot be imported ({_first_line(exc)})"
    except Exception as exc:  # a broken CUDA install
        return False, f"CuPy is installed but cannot be imported ({_first_line(exc)})"
    try:
        n_devices = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:
        text = str(exc)
        if "NoDevice" in text or "no CUDA-capable device" in text:
            return False, "CuPy is installed but this machine has no CUDA GPU"
        if "InsufficientDriver" in text or "libcuda" in text or "driver" in text.lower():
            return False, (
                "CuPy is installed but found no usable NVIDIA driver (no GPU here, or a driver "
                f"too old for this CuPy's CUDA: {_first_line(exc)})"
            )
        return False, f"CuPy cannot reach a GPU ({_first_line(exc)})"
    if n_devices < 1:
        return False, "CuPy is installed but this machine has no CUDA GPU"
    try:
        # A tiny kernel proves the driver, runtime and compiler all work.
        value = float((cupy.arange(3.0) * 2).sum())
    except Exception as exc:
        return False, f"CuPy found a GPU but cannot run a kernel on it ({_first_line(exc)})"
    if value != 6.0:
        return False, "CuPy computed a wrong result on the GPU"
    return True, ""


@functools.cache
def _torch_usable() -> tuple[bool, str]:
    try:
        import torch  # noqa: F401
    except Exception as exc:
        return False, f"torch is not importable ({type(exc).__name__}: {exc})"
    return True, ""


JAX_EXTRAS_HINT = "install scratchml[jax] (JAX's CPU build; see JAX's guide for its GPU builds)"


@functools.cache
def _jax_usable() -> tuple[bool, str]:
    """Whether JAX runs here; if not, one line saying why and what to do."""
    try:
        import jax
        import jax.numpy as jnp
    except ModuleNotFoundError as exc:
        if exc.name in ("jax", "jaxlib", None) or (exc.name or "").startswith(("jax", "jaxlib")):
            return False, f"JAX is not installed; {JAX_EXTRAS_HINT}"
        return False, f"JAX is installed but cannot be imported ({_first_line(exc)})"
    except Exception as exc:  # a jax and jaxlib that do not match, a broken plugin
        return False, f"JAX is installed but cannot be imported ({_first_line(exc)})"
    if not hasattr(jnp, "__array_namespace_info__"):
        return False, (
            f"JAX {jax.__version__} is too old: jax.numpy follows the Array API standard "
            f"from JAX 0.4.32 on; {JAX_EXTRAS_HINT}"
        )
    try:
        value = float(jnp.sum(jnp.arange(3.0) * 2))
    except Exception as exc:
        return False, f"JAX cannot compute on its default device ({_first_line(exc)})"
    if value != 6.0:
        return False, "JAX computed a wrong result on its default device"
    return True, ""


def jax_x64_enabled() -> bool:
    """True if JAX is imported and computes in 64 bits (``jax_enable_x64``); False otherwise.

    Without it JAX has float32 and int32 only: its default float and integer dtypes,
    and the widest it can hold.
    """
    import sys

    jax = sys.modules.get("jax")
    return bool(jax is not None and jax.config.read("jax_enable_x64"))


def why_unavailable(name: str) -> str:
    """Empty string if backend ``name`` is usable here, else the reason it is not."""
    _check_name(name)
    if name == "cupy":
        return _cupy_usable()[1]
    if name == "torch":
        return _torch_usable()[1]
    if name == "jax":
        return _jax_usable()[1]
    if name == "array_api_strict":
        try:
            importlib.import_module("array_api_strict")
        except ImportError as exc:
            return f"array_api_strict is not importable ({exc})"
    return ""


def available() -> list[str]:
    """Names of the backends usable on this machine (cupy only with a working GPU)."""
    return [name for name in BACKENDS if not why_unavailable(name)]


def _check_name(name: str) -> None:
    if name not in _NAMESPACE_MODULES:
        raise ValueError(f"unknown backend {name!r}; valid backends are {', '.join(BACKENDS)}")


def get(name: str) -> Any:
    """The Array API namespace of backend ``name`` ("numpy", "cupy", "torch", "jax", "array_api_strict")."""
    _check_name(name)
    reason = why_unavailable(name)
    if reason:
        raise RuntimeError(f"backend {name!r} is not usable here: {reason}")
    return importlib.import_module(_NAMESPACE_MODULES[name])


def _resolve_dtype(xp: Any, dtype: Any) -> Any:
    if dtype is None or not isinstance(dtype, str):
        return dtype
    valid = ("float32", "float64", "int32", "int64", "bool")
    if dtype not in valid:
        raise ValueError(f"unknown dtype {dtype!r}; valid dtypes are {', '.join(valid)}")
    return getattr(xp, dtype)


def _check_jax_dtype(dtype: Any) -> None:
    """A 64-bit dtype on JAX needs ``jax_enable_x64``; without it JAX would quietly
    compute in 32 bits, so say how to turn it on instead."""
    if dtype is None or jax_x64_enabled():
        return
    if np.dtype(dtype).itemsize == 8 and np.dtype(dtype).kind in "fiu":
        raise ValueError(
            f"dtype {np.dtype(dtype).name} on backend 'jax' needs JAX's 64-bit mode: run "
            "jax.config.update('jax_enable_x64', True) at startup (or set JAX_ENABLE_X64=1); "
            "without it JAX computes in float32 and int32"
        )


def _resolve_device(name: str, device: Any) -> Any:
    """Turn a device given as a string ("cuda", "cpu", "cuda:1") into the library's object."""
    if device is None or not isinstance(device, str):
        return device
    if name == "torch":
        import torch

        return torch.device(device)
    if name == "cupy":
        import cupy

        index = int(device.split(":")[1]) if ":" in device else 0
        return cupy.cuda.Device(index)
    if name == "numpy" and device == "cpu":
        return "cpu"
    if name == "jax":
        return _jax_device(device)
    if name == "array_api_strict":
        import array_api_strict

        return array_api_strict.Device(device)
    raise ValueError(f"device {device!r} is not valid for backend {name!r}")


def _jax_device(device: str) -> Any:
    """A JAX device from "cpu", "gpu", "cuda:1", ... (the platform's first device by default)."""
    import jax

    platform, _, index = device.partition(":")
    try:
        devices = jax.devices(platform)
    except RuntimeError as exc:
        raise ValueError(
            f"device {device!r} is not available to JAX here ({_first_line(exc)})"
        ) from exc
    if not index.isdigit() or int(index) >= len(devices):
        if index:
            raise ValueError(
                f"device {device!r} is not valid for backend 'jax': it has {len(devices)} "
                f"{platform} device(s)"
            )
        return devices[0]
    return devices[int(index)]


def asarray(
    obj: Any,
    backend: str | None = None,
    dtype: Any = None,
    device: Any = None,
    like: Any = None,
) -> Any:
    """Convert ``obj`` (an array of any library, a list, a scalar) to an array of ``backend``.

    ``like=x`` puts the result in the namespace and on the device of ``x``
    (and, when ``dtype`` is not given and ``obj`` is floating, in ``x``'s dtype).
    Without ``backend`` or ``like`` the result is a NumPy array.
    Arrays of another library cross through one host copy.
    """
    if like is not None:
        if backend is not None:
            raise ValueError("give either backend= or like=, not both")
        backend = backend_name(like)
        device = array_api_compat.device(like) if device is None else device
    name = backend or "numpy"
    xp = get(name)
    dtype = _resolve_dtype(xp, dtype)
    device = _resolve_device(name, device)
    source = _library_of(obj)
    if source is not None and source != name:
        obj = to_numpy(obj)
    if like is not None and dtype is None:
        like_float = xp.isdtype(like.dtype, "real floating")
        obj_float = (
            xp.isdtype(obj.dtype, "real floating")
            if source == name
            else np.issubdtype(np.asarray(obj).dtype, np.floating)
        )
        if like_float and obj_float:
            dtype = like.dtype
    if name == "numpy" and source in (None, "numpy"):
        return np.asarray(obj, dtype=dtype)
    if name == "jax":
        _check_jax_dtype(dtype)
    with _cupy_device_context(name, device):
        return xp.asarray(obj, dtype=dtype, device=device)


def to_numpy(x: Any) -> np.ndarray:
    """One host copy of ``x`` as a NumPy array (for plots and files)."""
    name = _library_of(x)
    if name is None or name == "numpy":
        return np.asarray(x)
    if name == "cupy":
        return x.get()
    if name == "torch":
        return x.detach().cpu().numpy()
    if name == "array_api_strict":
        return np.from_dlpack(x)
    if name == "jax":
        return np.array(x)  # np.asarray would give a read-only view of JAX's buffer
    return np.asarray(x)


def synchronize(x: Any = None) -> None:
    """Wait until all queued device work on ``x``'s device is finished (a no-op on CPU)."""
    name = _library_of(x) if x is not None else None
    if name == "cupy":
        import cupy

        cupy.cuda.get_current_stream().synchronize()
    elif name == "torch" and x.device.type == "cuda":
        import torch

        torch.cuda.synchronize(x.device)
    elif name == "jax":
        x.block_until_ready()  # JAX dispatches asynchronously, on CPU too


def widest_float(xp: Any, device: Any = None) -> Any:
    """float64 where the device has it (for exact-enough scores), else the default float."""
    dtypes = xp.__array_namespace_info__().dtypes(device=device, kind="real floating")
    return dtypes.get("float64", default_float(xp, device))


def quiet_float_warnings() -> Any:
    """A context in which NumPy does not warn about overflow or invalid values.

    Training checks the loss for NaN and infinity itself and raises DivergenceError
    with the epoch and loss, so NumPy's ``RuntimeWarning: overflow encountered`` on
    the way there is noise. NumPy (and array-api-strict, which computes with it)
    are the libraries that warn; the others stay silent anyway.
    """
    return np.errstate(over="ignore", invalid="ignore", divide="ignore")


def default_float(xp: Any, device: Any = None) -> Any:
    """The namespace's default real floating dtype (what integer input is promoted to)."""
    return xp.__array_namespace_info__().default_dtypes(device=device)["real floating"]


def default_index(xp: Any, device: Any = None) -> Any:
    """The namespace's default dtype for indices and class labels (int64; JAX: int32 unless x64)."""
    return xp.__array_namespace_info__().default_dtypes(device=device)["indexing"]


# ---------------------------------------------------------------------------
# Random numbers: the standard has none. Draw on the host with NumPy's
# Generator (float64) and move, so one seed gives the same numbers everywhere.


def rng(seed: int | np.random.Generator | None) -> np.random.Generator:
    """A host random generator from a seed (an existing Generator is passed through)."""
    if isinstance(seed, np.random.Generator):
        return seed
    check_seed(seed)
    return np.random.default_rng(seed)


def check_seed(seed: Any) -> None:
    """TypeError unless ``seed`` is an int, a NumPy Generator or None (what ``rng`` takes)."""
    if isinstance(seed, np.random.Generator) or seed is None:
        return
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an int, a numpy Generator or None, got {seed!r}")


def random_normal(
    generator: np.random.Generator,
    shape: Sequence[int],
    like: Any,
    scale: float = 1.0,
) -> Any:
    """Normal draws N(0, scale²) made on the host and moved next to ``like`` (its dtype)."""
    return asarray(host_normal(generator, shape, scale), like=like)


def random_orthogonal(
    generator: np.random.Generator,
    shape: Sequence[int],
    like: Any,
    gain: float = 1.0,
) -> Any:
    """``gain`` × a random matrix with orthonormal rows or columns (QR of normal draws, on the host).

    Works on stacks (..., rows, cols); the sign fix makes the draw uniform (Haar).
    """
    return asarray(host_orthogonal(generator, shape, gain), like=like)


def host_normal(generator: np.random.Generator, shape: Sequence[int], scale: float = 1.0) -> Any:
    """``random_normal``'s values, left on the host (NumPy float64)."""
    return generator.standard_normal(tuple(shape)) * scale


def host_orthogonal(generator: np.random.Generator, shape: Sequence[int], gain: float = 1.0) -> Any:
    """``random_orthogonal``'s values, left on the host (NumPy float64)."""
    rows, cols = shape[-2], shape[-1]
    draws = generator.standard_normal(tuple(shape))
    tall = draws if rows >= cols else np.swapaxes(draws, -1, -2)
    q, r = np.linalg.qr(tall)
    q = q * np.sign(np.diagonal(r, axis1=-2, axis2=-1))[..., None, :]
    values = q if rows >= cols else np.swapaxes(q, -1, -2)
    return gain * values


def permutation(generator: np.random.Generator, n: int, like: Any) -> Any:
    """A random permutation of ``range(n)`` made on the host, as an index array beside ``like``.

    Its dtype is the namespace's default index dtype (int64; int32 on JAX without x64).
    """
    order = generator.permutation(n)
    return asarray(order, like=like, dtype=default_index(get(backend_name(like))))


# ---------------------------------------------------------------------------
# Device memory, for sizing work (sweeps cut their stacks to fit).

# Libraries whose memory ``free_memory`` can read.
_MEMORY_LIBRARIES = ("numpy", "array_api_strict", "torch", "cupy", "jax")


def _host_free_memory() -> int:
    """Available RAM in bytes."""
    import os

    try:
        import psutil

        return int(psutil.virtual_memory().available)
    except ImportError:
        return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))


def _torch_free_memory(device: Any) -> int:
    """Free bytes where torch puts new tensors: a CUDA device's free memory plus the
    blocks torch's caching allocator holds but no tensor uses; RAM for the CPU."""
    import torch

    device = torch.get_default_device() if device is None else torch.device(device)
    if device.type != "cuda" or not torch.cuda.is_available():
        return _host_free_memory()
    free, _total = torch.cuda.mem_get_info(device)
    cached = torch.cuda.memory_reserved(device) - torch.cuda.memory_allocated(device)
    return int(free) + int(cached)


def _jax_free_memory(device: Any) -> int:
    """Free bytes on a JAX device: the allocator's limit minus what is in use (GPU);
    RAM when the device keeps no statistics (CPU)."""
    import jax

    device = jax.devices()[0] if device is None else device
    stats = device.memory_stats() if hasattr(device, "memory_stats") else None
    if not stats or "bytes_limit" not in stats:
        return _host_free_memory()
    return int(stats["bytes_limit"]) - int(stats.get("bytes_in_use", 0))


def _cupy_free_memory(device: Any) -> int:
    """Free bytes on a CuPy device: the driver's free memory plus CuPy's pool's free blocks."""
    import cupy

    index = getattr(device, "id", device)
    with cupy.cuda.Device(index):
        pool = cupy.get_default_memory_pool()
        return int(cupy.cuda.runtime.memGetInfo()[0]) + int(pool.free_bytes())


def free_memory(name: str, device: Any = None) -> int | None:
    """Bytes free for new arrays of backend ``name`` on ``device``; None if unknown.

    Parameters
    ----------
    name : str
        A backend name ("numpy", "cupy", "torch", "jax", "array_api_strict").
    device : optional
        The device the arrays will live on (``backends.device(X)``). None: the
        library's default device (for torch, ``torch.get_default_device()``: the CPU
        unless a program chose CUDA; for CuPy, the current device).

    Returns
    -------
    int or None
        GPU: the device's free memory plus what the library's allocator holds but
        does not use (CuPy's memory pool, torch's caching allocator; for JAX, the
        allocator's limit minus the bytes in use). CPU: available RAM.
    """
    if name not in _MEMORY_LIBRARIES:
        raise ValueError(
            f"unknown backend {name!r}; valid backends are {', '.join(_MEMORY_LIBRARIES)}"
        )
    try:
        if name == "cupy" and _cupy_usable()[0]:
            return _cupy_free_memory(device)
        if name == "torch" and _torch_usable()[0]:
            return _torch_free_memory(device)
        if name == "jax" and "jax" in sys.modules:  # only a program using JAX asks
            return _jax_free_memory(device)
        return _host_free_memory()
    except (OSError, ValueError, RuntimeError, AttributeError, TypeError):
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


_GPU_MODULES = ("cupy", "cupy_backends", "cupyx", "torch", "jax", "jaxlib")


def is_out_of_memory(exc: BaseException) -> bool:
    """True if ``exc`` says a device (or the host) ran out of memory for an array.

    Recognises NumPy's MemoryError, CuPy's ``OutOfMemoryError``, CUDA runtime, driver and
    library allocation failures (``CUBLAS_STATUS_ALLOC_FAILED``, ``CUSOLVER_STATUS_ALLOC_FAILED``,
    ``cudaErrorMemoryAllocation``, ...), ``torch.OutOfMemoryError`` and JAX's
    ``RESOURCE_EXHAUSTED`` runtime errors, also when raised as the cause of another error.
    Only libraries already imported can have raised it, so none is imported here.
    """
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if _is_out_of_memory_error(exc):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def _is_out_of_memory_error(exc: BaseException) -> bool:
    if isinstance(exc, MemoryError):  # NumPy's allocation failures subclass it
        return True
    cupy = sys.modules.get("cupy")
    cupy_oom = getattr(
        getattr(getattr(cupy, "cuda", None), "memory", None), "OutOfMemoryError", None
    )
    torch = sys.modules.get("torch")
    torch_oom = getattr(torch, "OutOfMemoryError", None) or getattr(
        getattr(torch, "cuda", None), "OutOfMemoryError", None
    )
    for oom in (cupy_oom, torch_oom):
        if isinstance(oom, type) and isinstance(exc, oom):
            return True
    # The message decides only for the errors GPU libraries raise (RuntimeError subclasses,
    # or types of their modules): a ValueError that merely says "out of memory" is not one.
    module = type(exc).__module__.split(".")[0]
    if not isinstance(exc, RuntimeError) and module not in _GPU_MODULES:
        return False
    text = f"{type(exc).__name__}: {exc}".lower()
    return any(marker in text for marker in _OUT_OF_MEMORY_MARKERS)


def gpu_name(name: str) -> str | None:
    """The GPU that backend ``name`` computes on (model and memory), or None on CPU."""
    try:
        if name == "cupy" and _cupy_usable()[0]:
            import cupy

            props = cupy.cuda.runtime.getDeviceProperties(cupy.cuda.Device().id)
            label = props["name"]
            label = label.decode() if isinstance(label, bytes) else label
            return f"{label}, {props['totalGlobalMem'] / 2**30:.0f} GiB"
        if name == "torch" and _torch_usable()[0]:
            import torch

            if torch.cuda.is_available():
                props = torch.cuda.get_device_properties(torch.cuda.current_device())
                return f"{props.name}, {props.total_memory / 2**30:.0f} GiB"
        if name == "jax" and _jax_usable()[0]:
            return _jax_gpu_name()
    except Exception:  # a broken driver: describe the machine as CPU-only
        return None
    return None


def _jax_gpu_name() -> str | None:
    """JAX's default device when it is an accelerator (its kind and memory), else None."""
    import jax

    device = jax.devices()[0]
    if device.platform == "cpu":
        return None
    stats = device.memory_stats() or {}
    limit = stats.get("bytes_limit")
    return f"{device.device_kind}, {limit / 2**30:.0f} GiB" if limit else str(device.device_kind)


# ---------------------------------------------------------------------------
# Devices: several GPUs in one machine


def on_device_of(*arrays: Any) -> contextlib.AbstractContextManager[Any]:
    """A context in which new arrays land on the device of ``arrays`` (the first array given).

    CuPy creates arrays on its *current* device, and its creation functions (``zeros``,
    ``ones``, ``arange``, ...) ignore ``device=``; inside this context the current device is
    the data's, so a fit on ``cuda:1`` makes everything on ``cuda:1``. For every other library
    it does nothing (they honour ``device=``, which scratchml always passes).

    Examples
    --------
    >>> with backends.on_device_of(X):  # doctest: +SKIP
    ...     model.fit(X, y)
    """
    for x in arrays:
        if x is None or isinstance(x, (bool, int, float, complex)):
            continue
        if _library_of(x) == "cupy":
            import cupy

            return cupy.cuda.Device(_cupy_device_index(array_api_compat.device(x)))
        break
    return contextlib.nullcontext()


def _cupy_device_index(device: Any) -> int:
    """The index of a CuPy device given as ``cupy.cuda.Device``, an int or "cuda:N"."""
    if isinstance(device, str):
        return int(device.split(":")[1]) if ":" in device else 0
    return int(getattr(device, "id", device))


def _cupy_device_context(name: str, device: Any) -> contextlib.AbstractContextManager[Any]:
    """CuPy's device ``device`` made current (for CuPy calls that ignore ``device=``)."""
    if name != "cupy" or device is None:
        return contextlib.nullcontext()
    import cupy

    return cupy.cuda.Device(_cupy_device_index(device))


# ---------------------------------------------------------------------------
# The NVIDIA driver, and the CuPy extra that matches it


def driver_cuda_version() -> tuple[int, int] | None:
    """The newest CUDA version the installed NVIDIA driver supports, e.g. (13, 0); None without one.

    Asks the driver library itself (``cuDriverGetVersion`` in libcuda), else reads the
    "CUDA Version" that ``nvidia-smi`` prints.
    """
    for library in ("libcuda.so.1", "libcuda.so", "nvcuda.dll", "libcuda.dylib"):
        try:
            cuda = ctypes.CDLL(library)
        except OSError:
            continue
        version = ctypes.c_int(0)
        try:
            if cuda.cuDriverGetVersion(ctypes.byref(version)) == 0 and version.value > 0:
                return version.value // 1000, version.value % 1000 // 10
        except AttributeError:
            continue
    return _nvidia_smi_cuda_version()


def _nvidia_smi_cuda_version() -> tuple[int, int] | None:
    import re
    import shutil
    import subprocess

    if not shutil.which("nvidia-smi"):
        return None
    try:
        text = subprocess.run(
            ["nvidia-smi"], capture_output=True, text=True, timeout=20, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    found = re.search(r"CUDA Version:\s*(\d+)\.(\d+)", text)
    return (int(found.group(1)), int(found.group(2))) if found else None


def cuda_extra(version: tuple[int, int] | None) -> str | None:
    """The scratchml extra whose CuPy runs on a driver supporting CUDA ``version``.

    CuPy's ``cuda13x`` build needs a driver for CUDA 13, ``cuda12x`` one for CUDA 12 (a newer
    driver runs both: the newest matching build is named). None: no driver, or one too old.
    """
    if version is None or version[0] < 12:
        return None
    return "cuda13" if version[0] >= 13 else "cuda12"


def driver_summary() -> str:
    """One line on the NVIDIA driver and the extra (``pip install "scratchml[cudaXX]"``) to use."""
    version = driver_cuda_version()
    if version is None:
        return "no NVIDIA driver found: CuPy (the cuda12/cuda13 extras) needs an NVIDIA GPU and its driver"
    extra = cuda_extra(version)
    cuda = f"{version[0]}.{version[1]}"
    if extra is None:
        return (
            f"the NVIDIA driver supports CUDA {cuda}; CuPy needs CUDA 12 or newer: "
            "update the driver, then install scratchml[cuda12] or scratchml[cuda13]"
        )
    return f"the NVIDIA driver supports CUDA {cuda}: install scratchml[{extra}] for CuPy"
