"""array-api-strict: the standard's minimal namespace (a NumPy inside), which proves portability."""

from __future__ import annotations

from typing import Any

import array_api_compat
import numpy as np

from .base import Library


class ArrayApiStrict(Library):
    """array-api-strict arrays; its devices ("CPU_DEVICE", "device1", ...) all compute on the CPU.

    Parameters
    ----------
    name : str
        The backend name users pass (``backends.get(name)``).
    namespace_module : str, optional
        The module of its Array API namespace (default: ``name``).
    """

    def owns(self, x: Any) -> bool:
        return hasattr(x, "__array_namespace__") and (
            array_api_compat.is_array_api_strict_namespace(x.__array_namespace__())
        )

    def to_numpy(self, x: Any) -> np.ndarray:
        return np.from_dlpack(x)  # it refuses np.asarray on purpose

    def resolve_device(self, device: str) -> Any:
        import array_api_strict

        return array_api_strict.Device(device)


LIBRARY = ArrayApiStrict("array_api_strict")
