"""JAX: ``jax.numpy`` is the standard's namespace itself (JAX 0.4.32 on).

Its arrays are immutable, it dispatches asynchronously (on the CPU too), and it computes
in float32 and int32 unless ``jax_enable_x64`` is on.
"""

from __future__ import annotations

import sys
from typing import Any

import array_api_compat
import numpy as np

from .base import Library, first_line

JAX_EXTRAS_HINT = "install scratchml[jax] (JAX's CPU build; see JAX's guide for its GPU builds)"


def jax_x64_enabled() -> bool:
    """True if JAX is imported and computes in 64 bits (``jax_enable_x64``); False otherwise.

    Without it JAX has float32 and int32 only: its default float and integer dtypes,
    and the widest it can hold.

    Returns
    -------
    bool
        Whether 64-bit mode is on (False while JAX is not imported: it is not started here).
    """
    jax = sys.modules.get("jax")
    return bool(jax is not None and jax.config.read("jax_enable_x64"))


class Jax(Library):
    """JAX arrays. A device name is a platform and an index (``"gpu"``, ``"cuda:1"``, ``"cpu"``);
    without an index, JAX's default device when it is of that platform, else its first one.

    Parameters
    ----------
    name : str
        The backend name users pass (``backends.get(name)``).
    namespace_module : str, optional
        The module of its Array API namespace (default: ``name``).
    """

    error_modules = ("jax", "jaxlib")

    def owns(self, x: Any) -> bool:
        return array_api_compat.is_jax_array(x)

    def why_unavailable(self) -> str:
        try:
            import jax
            import jax.numpy as jnp
        except ModuleNotFoundError as exc:
            if exc.name is None or exc.name.startswith("jax"):  # jax, jaxlib and their parts
                return f"JAX is not installed; {JAX_EXTRAS_HINT}"
            return f"JAX is installed but cannot be imported ({first_line(exc)})"
        except Exception as exc:  # a jax and jaxlib that do not match, a broken plugin
            return f"JAX is installed but cannot be imported ({first_line(exc)})"
        if not hasattr(jnp, "__array_namespace_info__"):
            return (
                f"JAX {jax.__version__} is too old: jax.numpy follows the Array API standard "
                f"from JAX 0.4.32 on; {JAX_EXTRAS_HINT}"
            )
        try:
            value = float(jnp.sum(jnp.arange(3.0) * 2))
        except Exception as exc:
            return f"JAX cannot compute on its default device ({first_line(exc)})"
        return "" if value == 6.0 else "JAX computed a wrong result on its default device"

    def to_numpy(self, x: Any) -> np.ndarray:
        return np.array(x)  # np.asarray would give a read-only view of JAX's buffer

    def check_dtype(self, dtype: Any) -> None:
        """A 64-bit dtype needs ``jax_enable_x64``; without it JAX would quietly compute in
        32 bits, so say how to turn it on instead.

        Raises
        ------
        ValueError
            For a 64-bit dtype while JAX's 64-bit mode is off.
        """
        if dtype is None or jax_x64_enabled():
            return
        if np.dtype(dtype).itemsize == 8 and np.dtype(dtype).kind in "fiu":
            raise ValueError(
                f"dtype {np.dtype(dtype).name} on backend 'jax' needs JAX's 64-bit mode: run "
                "jax.config.update('jax_enable_x64', True) at startup (or set JAX_ENABLE_X64=1); "
                "without it JAX computes in float32 and int32"
            )

    def resolve_device(self, device: str) -> Any:
        import jax

        platform, _, index = device.partition(":")
        try:
            devices = jax.devices(platform)
        except RuntimeError as exc:
            raise ValueError(
                f"device {device!r} is not available to JAX here ({first_line(exc)})"
            ) from exc
        if not index:
            default = self.default_device()
            return default if default in devices else devices[0]
        if not index.isdigit() or int(index) >= len(devices):
            raise ValueError(
                f"device {device!r} is not valid for backend 'jax': it has {len(devices)} "
                f"{platform} device(s)"
            )
        return devices[int(index)]

    def default_device(self) -> Any:
        import jax

        chosen = getattr(jax.config, "jax_default_device", None)  # set by jax.default_device(...)
        return chosen if chosen is not None and not isinstance(chosen, str) else jax.devices()[0]

    def is_accelerator(self, device: Any) -> bool:
        return device.platform != "cpu"

    def synchronize(self, x: Any) -> None:
        x.block_until_ready()  # waits on the array's own device

    def accelerator_name(self, device: Any) -> str | None:
        if device.platform == "cpu":
            return None
        stats = device.memory_stats() or {}
        limit = stats.get("bytes_limit")
        return (
            f"{device.device_kind}, {limit / 2**30:.0f} GiB" if limit else str(device.device_kind)
        )

    def describe(self) -> str:
        import jax

        default = self.default_device()
        if default.platform == "cpu":
            try:
                gpus = jax.devices("gpu")
            except RuntimeError:
                gpus = []
            if not gpus:
                return "CPU only: JAX sees no GPU (its CPU build, or no CUDA plugin)"
            return f"JAX sees {len(gpus)} GPU(s), but its default device is the CPU"
        count = len(jax.devices(default.platform))
        return (
            f"JAX sees a GPU: {count} {default.platform} device(s), default {default} "
            f"({self.accelerator_name(default)})"
        )

    def free_memory(self, device: Any) -> int:
        """The allocator's limit minus the bytes in use (GPU); RAM when the device keeps no
        statistics (CPU).
        """
        if "jax" not in sys.modules:  # only a program using JAX asks: do not start JAX for it
            return super().free_memory(device)
        import jax

        device = jax.devices()[0] if device is None else device
        stats = device.memory_stats() if hasattr(device, "memory_stats") else None
        if not stats or "bytes_limit" not in stats:
            return super().free_memory(device)
        return int(stats["bytes_limit"]) - int(stats.get("bytes_in_use", 0))


LIBRARY = Jax("jax", "jax.numpy")
