"""The benchmark cases: what is timed, on which implementations, with which peers.

A :class:`~scratchml.bench.cases.base.Case` is one workload in one dtype (a network's training epochs, a stack of
networks, a linear-regression fit); its :class:`~scratchml.bench.cases.base.Implementation`\\ s are the ways of doing
that same work — scratchml on each selected backend, the peers (PyTorch, scikit-learn,
JAX), and the GEMM ceiling (the workload's matrix products alone). Every implementation
of a case does the same work on the same data: only the timed call differs.

An implementation's ``prepare()`` does everything that is not timed (data on the device,
model built, JIT compiled) and returns the timed call, which does ``per_call`` units of
work and waits for the device before returning. It may raise :class:`~scratchml.bench.cases.base.UnavailableError` to say
why it cannot run here (no JAX GPU, say); the runner then skips it with that reason.

A case may also count *kernel-launching operations per unit of work*
(``Case.op_counts``: who → a function returning the count), on torch CPU tensors with
``scratchml._opcount.count_kernel_ops``. The count depends on the shapes only
through the code path they select, so it is taken on a small copy of the case.

And where a library compiles (scratchml on JAX), the *first call's compile time*
(``Case.compile_times``): the median over three tries (one in a quick run) of a cold fit
(every compiled step and JAX's caches cleared) less the same fit warm. The worker takes
these after every case is timed, so that a run short of time times the cases first.
"""

from __future__ import annotations

from collections.abc import Sequence

from .. import environment
from ..labels import label
from . import linear, stacks, sweep, training
from .base import (
    Case,
    Implementation,
    UnavailableError,
    chunk_length_kept,
    compile_seconds,
    compile_tries,
    importable,
    x64_for,
)

__all__ = [
    "QUICK_REPEATS",
    "Case",
    "Implementation",
    "UnavailableError",
    "build",
    "chunk_length_kept",
    "compile_seconds",
    "compile_tries",
    "importable",
    "label",
    "names",
    "x64_for",
]


# Cases a quick run leaves out unless named (``--case``): at its small shapes they run the
# code paths of the cases before them again (spiral's network, stack-8's stack).
QUICK_REPEATS = ("spiral-256", "stack-16")


def build(
    backend_names: Sequence[str],
    quick: bool,
    only: Sequence[str] = (),
    dtypes: Sequence[str] = (),
) -> list[Case]:
    """Every case of a run, in run order: the GPU's cases first (the 4,096-network stack:
    a GPU run short of time measures what only a GPU can show before anything else),
    then training epochs, stacks, the normal-equation fit and the sweeps.

    ``backend_names`` are the scratchml backends to time; peers run on the devices those
    backends use. ``only`` keeps the cases with those names, ``dtypes`` those dtypes
    (both: everything when empty; a quick run without ``only`` leaves out
    ``QUICK_REPEATS`` and the slow ``sweep.QUICK_SLOW``, and without ``dtypes`` times
    float32 alone).
    """
    devices = sorted({environment.device_of(name) for name in backend_names})
    found = [
        *training.cases(backend_names, devices, quick),
        *stacks.cases(backend_names, devices, quick),
        *linear.cases(backend_names, devices, quick),
        *sweep.cases(backend_names, devices, quick),
    ]
    if quick and not only:
        left_out = (*QUICK_REPEATS, *sweep.QUICK_SLOW)
        only = [name for name in names(quick) if name not in left_out]
    if quick and not dtypes:
        dtypes = ["float32"]
    chosen = [
        case
        for case in found
        if (not only or case.name in only) and (not dtypes or case.dtype in dtypes)
    ]
    return sorted(chosen, key=lambda case: not case.name.endswith("-gpu"))  # stable


def names(quick: bool = False) -> list[str]:
    """The case names a run can select with ``--case``."""
    return [*training.names(quick), *stacks.names(quick), *linear.names(), *sweep.names(quick)]
