"""CuPy: NVIDIA GPUs, through array-api-compat's standard namespace."""

from __future__ import annotations

import contextlib
from typing import Any

import array_api_compat
import numpy as np

from .base import Library, first_line

CUPY_EXTRAS_HINT = (
    "install scratchml[cuda12] or scratchml[cuda13] (whichever matches your NVIDIA driver's CUDA)"
)


def device_index(device: Any) -> int | None:
    """The index of a CuPy device given as ``cupy.cuda.Device``, an int or ``"cuda[:N]"``.

    None for a bare ``"cuda"`` (and for None): the current device, whichever it is then.

    Parameters
    ----------
    device : cupy.cuda.Device, int, str or None
        The device, its index, or its name (``"cuda"``, ``"cuda:1"``; ``"gpu"`` too).

    Returns
    -------
    int or None
        Its index; None for a bare ``"cuda"`` or None.

    Raises
    ------
    ValueError
        For a name that is not a CUDA device.
    """
    if device is None:
        return None
    if isinstance(device, str):
        platform, _, index = device.partition(":")
        if platform not in ("cuda", "gpu") or (index and not index.isdigit()):
            raise ValueError(f"device {device!r} is not valid for backend 'cupy'")
        return int(index) if index else None
    return int(getattr(device, "id", device))


class CuPy(Library):
    """CuPy arrays. Its creation functions make arrays on the *current* device and
    ignore ``device=``, so :meth:`device_context` makes the data's device current.

    Parameters
    ----------
    name : str
        The backend name users pass (``backends.get(name)``).
    namespace_module : str, optional
        The module of its Array API namespace (default: ``name``).
    """

    error_modules = ("cupy", "cupy_backends", "cupyx")

    def owns(self, x: Any) -> bool:
        return array_api_compat.is_cupy_array(x)

    def why_unavailable(self) -> str:
        try:
            import cupy
        except ModuleNotFoundError as exc:
            if exc.name in ("cupy", None) or (exc.name or "").startswith("cupy"):
                return f"CuPy is not installed; {CUPY_EXTRAS_HINT}"
            return f"CuPy is installed but cannot be imported ({first_line(exc)})"
        except Exception as exc:  # a broken CUDA install
            return f"CuPy is installed but cannot be imported ({first_line(exc)})"
        try:
            n_devices = cupy.cuda.runtime.getDeviceCount()
        except Exception as exc:
            return _no_gpu_reason(exc)
        if n_devices < 1:
            return "CuPy is installed but this machine has no CUDA GPU"
        try:
            # A tiny kernel proves the driver, runtime and compiler all work.
            value = float((cupy.arange(3.0) * 2).sum())
        except Exception as exc:
            return f"CuPy found a GPU but cannot run a kernel on it ({first_line(exc)})"
        return "" if value == 6.0 else "CuPy computed a wrong result on the GPU"

    def to_numpy(self, x: Any) -> np.ndarray:
        return x.get()

    def resolve_device(self, device: Any) -> Any:
        import cupy

        return cupy.cuda.Device(device_index(device))  # Device(None): the current one

    def default_device(self) -> Any:
        return self.resolve_device(None)

    def is_accelerator(self, device: Any) -> bool:
        return True

    def device_context(self, device: Any) -> contextlib.AbstractContextManager[Any]:
        if device is None:
            return contextlib.nullcontext()
        return self.resolve_device(device)

    def synchronize(self, x: Any) -> None:
        import cupy

        with self.device_context(x.device):  # streams are per device: the array's one
            cupy.cuda.get_current_stream().synchronize()

    def accelerator_name(self, device: Any) -> str | None:
        import cupy

        props = cupy.cuda.runtime.getDeviceProperties(self.resolve_device(device).id)
        label = props["name"]
        label = label.decode() if isinstance(label, bytes) else label
        return f"{label}, {props['totalGlobalMem'] / 2**30:.0f} GiB"

    def describe(self) -> str:
        import cupy

        current = self.default_device().id
        count = cupy.cuda.runtime.getDeviceCount()
        return f"CUDA: {count} device(s), current cuda:{current} ({self.accelerator_name(current)})"

    def free_memory(self, device: Any) -> int:
        """The driver's free memory on the device plus CuPy's pool's free blocks."""
        import cupy

        with self.resolve_device(device):
            pool = cupy.get_default_memory_pool()
            return int(cupy.cuda.runtime.memGetInfo()[0]) + int(pool.free_bytes())

    def out_of_memory_types(self) -> tuple[type, ...]:
        import sys

        cupy = sys.modules.get("cupy")
        oom = getattr(
            getattr(getattr(cupy, "cuda", None), "memory", None), "OutOfMemoryError", None
        )
        return (oom,) if isinstance(oom, type) else ()


def _no_gpu_reason(exc: BaseException) -> str:
    """Why CuPy cannot count the GPUs, from the CUDA runtime's error."""
    text = str(exc)
    if "NoDevice" in text or "no CUDA-capable device" in text:
        return "CuPy is installed but this machine has no CUDA GPU"
    if "InsufficientDriver" in text or "libcuda" in text or "driver" in text.lower():
        return (
            "CuPy is installed but found no usable NVIDIA driver (no GPU here, or a driver "
            f"too old for this CuPy's CUDA: {first_line(exc)})"
        )
    return f"CuPy cannot reach a GPU ({first_line(exc)})"


LIBRARY = CuPy("cupy", "array_api_compat.cupy")
