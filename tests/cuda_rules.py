"""CUDA's host-copy rule for torch, enforced on a CPU.

On a GPU run the tests make CUDA torch's default device, and a CUDA tensor refuses a
host copy by NumPy (``t.numpy()``, ``np.asarray(t)``, ``np.testing.assert_allclose(t, ...)``)
until ``.cpu()`` has copied it: "can't convert cuda:0 device type tensor to numpy". On a
CPU every tensor is a host tensor, so code that forgets ``.cpu()`` passes there and fails
on the first GPU. :class:`HostCopyRule` keeps the rule on a CPU: a torch function mode
that tracks which tensors would live on the GPU and refuses NumPy's host copies of them.

A tensor counts as a device tensor when a factory made it without ``device=`` (the
default device is the GPU's) or with a CUDA device, when ``.cuda()``/``.to("cuda")`` made
it, or when an operation on a device tensor made it. ``.cpu()``, ``.to("cpu")``,
``device="cpu"`` and ``torch.from_numpy`` make host tensors, and operations on host
tensors alone give host tensors. What a real CUDA tensor allows stays allowed: ``.item()``,
``float(t)``, ``.tolist()``.

``SCRATCHML_TEST_TORCH_DEVICE=cuda-on-cpu`` turns it on for a test run (tests/conftest.py);
``python -c "import tests.cuda_rules as r; r.install(); ..."`` for a script.
"""

from __future__ import annotations

import torch
from torch.overrides import TorchFunctionMode
from torch.utils._device import _device_constructors
from torch.utils._pytree import tree_flatten
from torch.utils.weak import WeakIdKeyDictionary

# The value of SCRATCHML_TEST_TORCH_DEVICE that asks for it.
EMULATED = "cuda-on-cpu"
MESSAGE = (
    "can't convert cuda:0 device type tensor to numpy. Use Tensor.cpu() to copy the tensor "
    "to host memory first. (CUDA's host-copy rule, kept on the CPU by tests/cuda_rules.py)"
)
_HOST_COPIES = (torch.Tensor.numpy, torch.Tensor.__array__)
_MOVES = (torch.Tensor.cpu, torch.Tensor.cuda, torch.Tensor.to)


def _device_type(device) -> str | None:
    """ "cpu" or "cuda" for a device argument, None when there is none."""
    if device is None:
        return None
    if isinstance(device, int):
        return "cuda"  # an index means a CUDA device
    return torch.device(device).type


def _to_device(args, kwargs) -> str | None:
    """The device type ``Tensor.to(...)`` moves to, or None when it keeps the device."""
    if "device" in kwargs:
        return _device_type(kwargs["device"])
    for arg in args[1:]:
        if isinstance(arg, torch.Tensor):
            return None  # .to(other): other's device, decided by the caller
        if isinstance(arg, (str, torch.device, int)) and not isinstance(arg, bool):
            return _device_type(arg)
    return None


class HostCopyRule(TorchFunctionMode):
    """A torch function mode that refuses NumPy's host copies of (emulated) device tensors."""

    def __init__(self) -> None:
        super().__init__()
        self.on_device = WeakIdKeyDictionary()
        self.constructors = _device_constructors()

    def is_device_tensor(self, tensor: torch.Tensor) -> bool:
        """True when ``tensor`` would live on the GPU (so NumPy cannot read it)."""
        return tensor in self.on_device

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func in _HOST_COPIES and self.is_device_tensor(args[0]):
            raise TypeError(MESSAGE)
        result = func(*args, **kwargs)
        inputs = [x for x in tree_flatten((args, kwargs))[0] if isinstance(x, torch.Tensor)]
        if func is torch.Tensor.cpu:
            where = "cpu"
        elif func is torch.Tensor.cuda:
            where = "cuda"
        elif func is torch.Tensor.to:
            where = _to_device(args, kwargs)
            if where is None and len(args) > 1 and isinstance(args[1], torch.Tensor):
                where = "cuda" if self.is_device_tensor(args[1]) else "cpu"
        elif "device" in kwargs and kwargs["device"] is not None:
            where = _device_type(kwargs["device"])
        elif func in self.constructors:
            where = "cuda"  # the default device: the GPU's
        else:
            where = None
        if where is None:  # the inputs decide
            where = "cuda" if any(self.is_device_tensor(x) for x in inputs) else "cpu"
        elif (
            func in _MOVES
            and result is args[0]
            and self.is_device_tensor(result) != (where == "cuda")
        ):
            # On a CPU .cpu() of a tensor is the tensor itself; on a GPU it is a copy: a
            # new tensor (a view), so the device tensor stays one.
            result = result.view_as(result)
        outputs = tree_flatten(result)[0]
        for output in outputs:
            if not isinstance(output, torch.Tensor):
                continue
            if any(output is x for x in inputs):
                continue  # an in-place operation (or .to() that changed nothing) keeps its tag
            if where == "cuda":
                self.on_device[output] = True
            else:
                self.on_device.pop(output, None)
        return result


_installed: list[HostCopyRule] = []


def install() -> HostCopyRule:
    """Enforce the rule from now on in this process (once; returns the mode)."""
    if not _installed:
        rule = HostCopyRule()
        rule.__enter__()
        _installed.append(rule)
    return _installed[0]
