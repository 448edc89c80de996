"""PyTorch: tensors on the CPU or a CUDA GPU, through array-api-compat's standard namespace."""

from __future__ import annotations

from typing import Any

import array_api_compat
import numpy as np

from .base import Library, first_line


class Torch(Library):
    """PyTorch tensors. ``"cuda"`` means the current CUDA device (``torch.cuda.current_device()``).

    Parameters
    ----------
    name : str
        The backend name users pass (``backends.get(name)``).
    namespace_module : str, optional
        The module of its Array API namespace (default: ``name``).
    """

    error_modules = ("torch",)

    def owns(self, x: Any) -> bool:
        return array_api_compat.is_torch_array(x)

    def why_unavailable(self) -> str:
        try:
            import torch  # noqa: F401
        except Exception as exc:
            return f"torch is not importable ({first_line(exc)})"
        return ""

    def to_numpy(self, x: Any) -> np.ndarray:
        return x.detach().cpu().numpy()

    def resolve_device(self, device: Any) -> Any:
        """A ``torch.device`` with its index: a bare ``"cuda"`` is the current CUDA device.

        torch leaves the index of ``torch.device("cuda")`` open, and some of its calls
        (``torch.cuda.mem_get_info``) refuse such a device; the index of the current device
        makes every call mean the same GPU.
        """
        import torch

        device = torch.device(device)
        if device.type == "cuda" and device.index is None and torch.cuda.is_available():
            device = torch.device("cuda", torch.cuda.current_device())
        return device

    def as_device(self, device: Any) -> Any:
        return None if device is None else self.resolve_device(device)

    def default_device(self) -> Any:
        import torch

        return self.resolve_device(torch.get_default_device())

    def is_accelerator(self, device: Any) -> bool:
        return self.resolve_device(device).type != "cpu"

    def synchronize(self, x: Any) -> None:
        if x.device.type == "cuda":
            import torch

            torch.cuda.synchronize(x.device)  # the tensor's GPU, not the current one

    def accelerator_name(self, device: Any) -> str | None:
        import torch

        device = self.resolve_device(device)
        if device.type != "cuda" or not torch.cuda.is_available():
            return None
        props = torch.cuda.get_device_properties(device)
        return f"{props.name}, {props.total_memory / 2**30:.0f} GiB"

    def describe(self) -> str:
        import torch

        if not torch.cuda.is_available():
            build = (
                "a CPU-only build of torch"
                if torch.version.cuda is None
                else f"torch built for CUDA {torch.version.cuda}, but no usable GPU or driver"
            )
            return f"CPU only: torch sees no CUDA device ({build})"
        count = torch.cuda.device_count()
        current = torch.cuda.current_device()
        return (
            f"torch sees CUDA: {count} device(s), current cuda:{current} "
            f"({self.accelerator_name(f'cuda:{current}')}); new tensors go to "
            f"{self.default_device()} unless given device="
        )

    def free_memory(self, device: Any) -> int:
        """A CUDA device's free memory plus the blocks torch's caching allocator holds but no
        tensor uses; RAM for the CPU. None: torch's default device.
        """
        import torch

        device = self.default_device() if device is None else self.as_device(device)
        if device.type != "cuda" or not torch.cuda.is_available():
            return super().free_memory(device)
        free, _total = torch.cuda.mem_get_info(device)
        cached = torch.cuda.memory_reserved(device) - torch.cuda.memory_allocated(device)
        return int(free) + int(cached)

    def out_of_memory_types(self) -> tuple[type, ...]:
        import sys

        torch = sys.modules.get("torch")
        oom = getattr(torch, "OutOfMemoryError", None) or getattr(
            getattr(torch, "cuda", None), "OutOfMemoryError", None
        )
        return (oom,) if isinstance(oom, type) else ()


LIBRARY = Torch("torch", "array_api_compat.torch")
