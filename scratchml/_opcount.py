"""Count the operations that launch kernels, on torch CPU tensors.

On a GPU every array operation is a kernel launch with a fixed host cost, so for
small networks the number of operations per epoch *is* the speed. That number can
be measured on a CPU: run the epoch on torch CPU tensors under a
``TorchDispatchMode`` that sees every ATen operation dispatched, and count those
that would launch a kernel on a device, leaving out views, metadata and
allocations (which launch none), and the profiler's markers.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

# Operations that run no kernel: they make views, allocate uninitialised memory or
# detach autograd history. (An operation marked as a view in its schema is also skipped.)
_NO_KERNEL = {
    "aten::empty",
    "aten::empty_strided",
    "aten::empty_like",
    "aten::detach",
    "aten::lift_fresh",
    "aten::alias",
    "aten::_unsafe_view",  # a reshape's view of the copy it follows
    "aten::_local_scalar_dense",  # a host read, counted separately by the host-sync tests
    "aten::result_type",
    "aten::is_nonzero",
    "aten::sym_size",
    "aten::sym_stride",
    "aten::sym_numel",
}


def count_kernel_ops(fn: Callable[[], Any]) -> Counter[str]:
    """Run ``fn()`` and count the kernel-launching ATen operations it dispatched, by name.

    ``sum(counter.values())`` is the total. Needs torch (CPU tensors are enough).
    """
    import torch
    from torch.utils._python_dispatch import TorchDispatchMode

    counts: Counter[str] = Counter()

    class _Counter(TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # type: ignore[no-untyped-def]
            name = func._schema.name
            if name not in _NO_KERNEL and not name.startswith("profiler::") and not func.is_view:
                counts[name.removeprefix("aten::")] += 1
            return func(*args, **(kwargs or {}))

    with torch.no_grad(), _Counter():
        fn()
    return counts


def ops_per_epoch(fit: Callable[[int], Any], few: int = 2, many: int = 6) -> float:
    """Kernel-launching operations per training epoch of ``fit(epochs)`` (torch tensors).

    Runs ``fit`` for ``few`` and for ``many`` epochs, each as one chunk of epochs (so
    the per-chunk work, one host read of the losses, is the same in both), and
    returns the difference per epoch: what one more epoch costs, the set-up of a
    run (initialisation, input checks) excluded.
    """
    from ._training import ChunkPolicy, chunking

    counts = []
    for epochs in (few, many):
        with chunking(ChunkPolicy(max_epochs=epochs, fixed=True)):
            ops = count_kernel_ops(lambda e=epochs: fit(e))  # type: ignore[misc]
            counts.append(sum(ops.values()))
    return (counts[1] - counts[0]) / (many - few)
