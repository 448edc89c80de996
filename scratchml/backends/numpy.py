"""NumPy: the host library, through array-api-compat's standard namespace."""

from __future__ import annotations

from typing import Any

import array_api_compat
import numpy as np

from .base import Library


class NumPy(Library):
    """NumPy arrays, on the CPU ("cpu" is its one device).

    Parameters
    ----------
    name : str
        The backend name users pass (``backends.get(name)``).
    namespace_module : str, optional
        The module of its Array API namespace (default: ``name``).
    """

    def owns(self, x: Any) -> bool:
        return array_api_compat.is_numpy_array(x)

    def why_unavailable(self) -> str:
        return ""  # scratchml itself needs NumPy

    def asarray(self, obj: Any, dtype: Any, device: Any) -> Any:
        return np.asarray(obj, dtype=dtype)  # a plain ndarray, whatever ``obj`` was

    def resolve_device(self, device: str) -> Any:
        if device == "cpu":
            return "cpu"
        return super().resolve_device(device)


LIBRARY = NumPy("numpy", "array_api_compat.numpy")
