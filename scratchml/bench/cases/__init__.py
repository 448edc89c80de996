"""The benchmark cases: what is timed, on which implementations, with which peers.

A :class:`Case` is one workload in one dtype (a network's training epochs, a stack of
networks, a linear-regression fit); its :class:`Implementation`\\ s are the ways of doing
that same work — scratchml on each selected backend, the peers (PyTorch, scikit-learn,
JAX), and the GEMM ceiling (the workload's matrix products alone). Every implementation
of a case does the same work on the same data: only the timed call differs.

An implementation's ``prepare()`` does everything that is not timed (data on the device,
model built, JIT compiled) and returns the timed call, which does ``per_call`` units of
work and waits for the device before returning. It may raise :class:`UnavailableError` to say
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

import contextlib
import importlib.util
import statistics
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from .. import environment
from ..labels import label


class UnavailableError(Exception):
    """An implementation that cannot run here (the message says why)."""


@dataclass(frozen=True)
class Implementation:
    """One way of doing a case's work, and the untimed setup that returns its timed call."""

    impl: str  # "scratchml", a peer ("pytorch", "sklearn", "jax", "pytorch-stacked", ...), "gemm"
    backend: str  # scratchml's backend, or the library a peer or ceiling computes with
    device: str  # "cpu" or "cuda"
    prepare: Callable[[], Callable[[], object]]
    per_call: float  # units of work one timed call does

    @property
    def label(self) -> str:
        """Who runs it, in words: "scratchml · numpy", "PyTorch eager (cuda)", ..."""
        return label(self.impl, self.backend, self.device)


@dataclass(frozen=True)
class Case:
    """One workload in one dtype, with every implementation that does it."""

    name: str
    title: str
    dtype: str
    unit: str  # "epoch", "fit", "epoch of all networks"
    flops: float | None  # matmul floating-point operations per unit
    calls: int  # timed calls per implementation over the whole run (split over rounds)
    implementations: list[Implementation]
    op_counts: dict[str, Callable[[], float]] = field(default_factory=dict)
    compile_times: dict[str, Callable[[], float]] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """``name/dtype``: the case's key in results and reports."""
        return f"{self.name}/{self.dtype}"


def importable(module: str) -> bool:
    """True when ``module`` can be imported (without importing it)."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


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
    then training epochs, stacks, the normal-equation fit and the sweep.

    ``backend_names`` are the scratchml backends to time; peers run on the devices those
    backends use. ``only`` keeps the cases with those names, ``dtypes`` those dtypes
    (both: everything when empty; a quick run without ``only`` leaves out
    ``QUICK_REPEATS``, and without ``dtypes`` times float32 alone).
    """
    from . import linear, stacks, sweep, training

    devices = sorted({environment.device_of(name) for name in backend_names})
    found = [
        *training.cases(backend_names, devices, quick),
        *stacks.cases(backend_names, devices, quick),
        *linear.cases(backend_names, devices, quick),
        *sweep.cases(backend_names, devices, quick),
    ]
    if quick and not only:
        only = [name for name in names(quick) if name not in QUICK_REPEATS]
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
    from . import linear, stacks, sweep, training

    return [*training.names(quick), *stacks.names(quick), *linear.names(), *sweep.names(quick)]


@contextlib.contextmanager
def chunk_length_kept(memory: dict) -> Iterator[None]:
    """Inside, scratchml's fits start their chunk of epochs where the last one left it.

    scratchml's training loop reads the losses on the host once per chunk of epochs;
    each ``fit`` starts a chunk at one epoch and doubles it while epochs are fast, so a
    short timed fit would pay several host synchronisations (6 in 5 epochs) where
    PyTorch's loop pays one. A user's long fit reaches its steady chunk length within
    a few epochs; keeping it between the timed fits of one implementation (``memory``
    is that implementation's) times that steady state, as the peers' loops are.
    """
    from ..._training import ChunkPolicy, chunking

    with chunking(ChunkPolicy(carried=memory)):
        yield


def x64_for(dtype: str) -> None:
    """JAX's 64-bit mode exactly as a case of ``dtype`` needs it: on for float64, else off.

    Every JAX implementation (scratchml on JAX and the JAX peers) sets it before it
    prepares, so that one case's 64-bit mode never leaks into the next case's rows.
    """
    import jax

    jax.config.update("jax_enable_x64", dtype == "float64")


def compile_tries(quick: bool) -> int:
    """Cold fits per compile time: the median of 3, or 1 in a quick run (does it run?)."""
    return 1 if quick else 3


def compile_seconds(fit: Callable[[], object], tries: int = 3) -> float:
    """A cold fit's seconds less a warm one's, median over ``tries``: JAX's compile time."""
    import jax

    from ...speed import jax as jax_path

    gaps = []
    for _ in range(tries):
        jax_path.clear_compiled()
        jax.clear_caches()
        start = time.perf_counter()
        fit()
        cold = time.perf_counter() - start
        start = time.perf_counter()
        fit()
        gaps.append(cold - (time.perf_counter() - start))
    return statistics.median(gaps)
