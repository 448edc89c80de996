"""What every benchmark case module builds on: the case and implementation types, and the
helpers their implementations share (is a library importable, JAX's 64-bit mode, scratchml's
chunk length kept between timed fits, JAX's compile time).

The case modules (``training``, ``stacks``, ``linear``, ``sweep``) import this module, and
the package imports them: the arrows run one way.
"""

from __future__ import annotations

import contextlib
import importlib.util
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

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
