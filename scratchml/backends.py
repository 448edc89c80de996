"""The one module that knows which array libraries exist.

Models never branch on the backend: they call ``xp = namespace(X, y)`` and then
use only functions of the Python Array API standard on ``xp``. Everything that
differs between NumPy, CuPy, PyTorch, JAX and array-api-strict (how to find a
namespace, how to copy to the host, how to wait for a GPU, where random numbers
come from) lives here. JAX's ``jax.numpy`` follows the standard itself; its arrays
are immutable, and it computes in float32 and int32 unless ``jax_enable_x64`` is on.
"""

from __future__ import annotations

import functools
import importlib
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
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))):
        raise TypeError(f"seed must be an int, a numpy Generator or None, got {seed!r}")
    return np.random.default_rng(seed)


def random_normal(
    generator: np.random.Generator,
    shape: Sequence[int],
    like: Any,
    scale: float = 1.0,
) -> Any:
    """Normal draws N(0, scale²) made on the host and moved next to ``like`` (its dtype)."""
    values = generator.standard_normal(tuple(shape)) * scale
    return asarray(values, like=like)


def random_orthogonal(
    generator: np.random.Generator,
    shape: Sequence[int],
    like: Any,
    gain: float = 1.0,
) -> Any:
    """``gain`` × a random matrix with orthonormal rows or columns (QR of normal draws, on the host).

    Works on stacks (..., rows, cols); the sign fix makes the draw uniform (Haar).
    """
    rows, cols = shape[-2], shape[-1]
    draws = generator.standard_normal(tuple(shape))
    tall = draws if rows >= cols else np.swapaxes(draws, -1, -2)
    q, r = np.linalg.qr(tall)
    q = q * np.sign(np.diagonal(r, axis1=-2, axis2=-1))[..., None, :]
    values = q if rows >= cols else np.swapaxes(q, -1, -2)
    return asarray(gain * values, like=like)


def permutation(generator: np.random.Generator, n: int, like: Any) -> Any:
    """A random permutation of ``range(n)`` made on the host, as an index array beside ``like``.

    Its dtype is the namespace's default index dtype (int64; int32 on JAX without x64).
    """
    order = generator.permutation(n)
    name = backend_name(like)
    xp = get(name)
    return xp.asarray(order, dtype=default_index(xp), device=array_api_compat.device(like))


# ---------------------------------------------------------------------------
# Device memory, for sizing work (sweeps cut their stacks to fit).


def free_memory(name: str) -> int | None:
    """Bytes free for new arrays on backend ``name``'s default device; None if unknown.

    GPU (cupy, or torch with CUDA): the device's free memory plus what the library's
    memory pool holds but does not use. CPU: available RAM.
    """
    import os

    _check_name(name)
    try:
        if name == "cupy" and _cupy_usable()[0]:
            import cupy

            pool = cupy.get_default_memory_pool()
            return int(cupy.cuda.runtime.memGetInfo()[0]) + int(pool.free_bytes())
        if name == "torch" and _torch_usable()[0]:
            import torch

            if torch.cuda.is_available():
                return int(torch.cuda.mem_get_info()[0])
        if name == "jax" and _jax_usable()[0]:
            free = _jax_free_memory()
            if free is not None:
                return free
        try:
            import psutil

            return int(psutil.virtual_memory().available)
        except ImportError:
            return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (OSError, ValueError, RuntimeError, AttributeError):
        return None


def _jax_free_memory() -> int | None:
    """Bytes JAX's allocator can still hand out on its default device; None on CPU
    (where JAX reports no memory statistics and available RAM is the answer)."""
    import jax

    device = jax.devices()[0]
    stats = device.memory_stats() if device.platform != "cpu" else None
    if not stats or "bytes_limit" not in stats:
        return None
    return int(stats["bytes_limit"]) - int(stats.get("bytes_in_use", 0))


def _is_jax_out_of_memory(exc: BaseException) -> bool:
    """XLA reports an allocation failure as a RuntimeError whose text says RESOURCE_EXHAUSTED
    (``jax.errors.JaxRuntimeError``; ``XlaRuntimeError`` in older releases)."""
    import sys

    return (
        "jax" in sys.modules and isinstance(exc, RuntimeError) and "RESOURCE_EXHAUSTED" in str(exc)
    )


def is_out_of_memory(exc: BaseException) -> bool:
    """True if ``exc`` says a device (or the host) ran out of memory for an array.

    Only libraries already imported can have raised it, so none is imported here.
    """
    import sys

    if isinstance(exc, MemoryError):  # NumPy's allocation failures subclass it
        return True
    cupy = sys.modules.get("cupy")
    if cupy is not None and isinstance(exc, cupy.cuda.memory.OutOfMemoryError):
        return True
    if _is_jax_out_of_memory(exc):
        return True
    torch = sys.modules.get("torch")
    oom = getattr(getattr(torch, "cuda", None), "OutOfMemoryError", None)
    return oom is not None and isinstance(exc, oom)


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
