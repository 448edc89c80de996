"""Speed paths behind the plain Array API math of ``nn/layers.py``, chosen in one place.

The layer math calls ``kernels_for(xp)`` for the few operations whose fastest form
depends on the array library. ``Reference`` is the plain ``xp`` math: every backend
can run it, tests compare every other implementation with it, and
``use_kernels(Reference())`` forces it. Models never branch on the backend: they
call the same methods whatever the selection returns.

NumPy (``NumpyKernels``): a training pass over a tall, narrow matrix (30,000 samples
by 2 to 64 features) is dominated by how NumPy walks memory, not by arithmetic.
An element-wise operation that broadcasts a bias of 2 numbers over a row-major
(n, 2) array runs its inner loop over 2 elements at a time, about 10× slower than
over a column-major one; so does a sum over samples. The products below return
narrow (n, n_out) results column-major (feature-major: each feature's n values are
contiguous): ``A @ W`` computed as ``(Wᵀ @ Aᵀ)ᵀ``, the same product with the
operands' roles swapped in BLAS. Every later element-wise operation keeps that
layout, so the whole pass runs over long contiguous columns. Products with a wide
side (a 1024 → 2048 layer, or 2048 → 10) keep the row-major layout, which BLAS
computes faster there.

NumPy runs element-wise work on one core. With several cores, a single network's
full batch is cut into row blocks, one per core, whose forward and backward passes
run in threads (NumPy and BLAS release the GIL); the loss and its gradients are sums
over samples, so the blocks' results add up to the full batch's, up to rounding.
BLAS runs one thread per block meanwhile: the blocks already keep every core busy,
and BLAS threads that wait on busy cores spin instead of computing.

A stack of M networks is cut along its model axis instead: blocks of networks whose
activations fit in a core's cache, run in the same threads, their losses and
gradients concatenated. A whole stack's activations (M · n_samples · width floats)
do not fit in cache, and every element-wise pass over them would go to memory.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import array_api_compat

# Products whose inner and output widths are at most this come out column-major. Wider
# ones keep BLAS's usual layout: row-major element-wise work is as fast there, and the
# swapped product is slower (a (4096, 2048) @ (2048, 10) product: 64 ms against 17 ms).
NARROW = 64
# A row block below this many samples costs more in thread hand-offs than it saves.
MIN_ROWS_PER_BLOCK = 4096
# A block of stacked networks keeps about this many bytes of activations (a core's L2).
MODEL_BLOCK_BYTES = 256 * 1024


class Reference:
    """The plain Array API math: what every other kernel set must equal."""

    name = "reference"

    def samples_matmul(self, xp: Any, A: Any, B: Any) -> Any:
        """A @ B for A (..., n_samples, k) and B (..., k, n_out) -> (..., n_samples, n_out)."""
        return A @ B

    def stack_sum_over_samples(self, xp: Any, dZ: Any) -> Any:
        """Σ_samples dZ for a stack: (M, n_samples, n_out) -> (M, n_out)."""
        return xp.sum(dZ, axis=-2)

    def row_blocks(self, A: Any, params_ndim: int) -> list[slice]:
        """Slices of the sample axis of A to process separately: one block, all rows."""
        return [slice(0, A.shape[-2])]

    def model_blocks(
        self, n_models: int, n_samples: int, widths: list[int], itemsize: int
    ) -> list[slice]:
        """Slices of a stack's model axis to process separately: one block, all networks."""
        return [slice(0, n_models)]

    def map_blocks(self, fn: Callable[[slice], Any], blocks: list[slice]) -> list[Any]:
        """[fn(block) for block in blocks], one after another."""
        return [fn(block) for block in blocks]


class NumpyKernels(Reference):
    """NumPy: narrow sample-by-feature products come out feature-major (column-major)."""

    name = "numpy"

    def samples_matmul(self, xp: Any, A: Any, B: Any) -> Any:
        if A.ndim != 2 or B.ndim != 2 or max(B.shape) > NARROW:
            return A @ B
        # (Bᵀ @ Aᵀ)ᵀ = A @ B; the result is a column-major (n_samples, n_out) view.
        return xp.matrix_transpose(xp.matrix_transpose(B) @ xp.matrix_transpose(A))

    def stack_sum_over_samples(self, xp: Any, dZ: Any) -> Any:
        # NumPy sums over the middle axis of (M, n, narrow) slowly; 1ᵀ @ dZ is a batched matmul.
        ones = xp.ones((1, dZ.shape[-2]), dtype=dZ.dtype)
        return (ones @ dZ)[..., 0, :]

    def row_blocks(self, A: Any, params_ndim: int) -> list[slice]:
        """One block per core for a single network's large batch; else one block."""
        n_samples = A.shape[-2]
        n_blocks = min(_n_cores(), n_samples // MIN_ROWS_PER_BLOCK)
        if A.ndim != 2 or params_ndim != 2 or n_blocks < 2:
            return [slice(0, n_samples)]
        bounds = [n_samples * i // n_blocks for i in range(n_blocks + 1)]
        return [slice(start, stop) for start, stop in itertools.pairwise(bounds)]

    def model_blocks(
        self, n_models: int, n_samples: int, widths: list[int], itemsize: int
    ) -> list[slice]:
        """Blocks of networks whose forward and backward arrays fit in a core's cache."""
        # Per network and layer, the pass keeps Z, A and dZ: 3 · n_samples · width numbers.
        per_network = 3 * n_samples * sum(widths) * itemsize
        size = max(1, min(MODEL_BLOCK_BYTES // per_network, -(-n_models // _n_cores())))
        return [slice(start, min(start + size, n_models)) for start in range(0, n_models, size)]

    def map_blocks(self, fn: Callable[[slice], Any], blocks: list[slice]) -> list[Any]:
        """fn on each block, in parallel threads with single-threaded BLAS."""
        if len(blocks) == 1:
            return [fn(blocks[0])]
        # One contiguous share of the blocks per core; this thread works on the first.
        n_shares = min(_n_cores(), len(blocks))
        bounds = [len(blocks) * i // n_shares for i in range(n_shares + 1)]
        shares = [blocks[start:stop] for start, stop in itertools.pairwise(bounds)]

        def run(share: list[slice]) -> list[Any]:
            return [fn(block) for block in share]

        with _single_threaded_blas():
            futures = [_pool().submit(run, share) for share in shares[1:]]
            results = run(shares[0])
            for future in futures:
                results.extend(future.result())
        return results


def _n_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


_pool_lock = threading.Lock()
_executor: ThreadPoolExecutor | None = None
_blas_controller: Any = None


def _pool() -> ThreadPoolExecutor:
    global _executor
    with _pool_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=max(_n_cores() - 1, 1))
        return _executor


def _single_threaded_blas() -> Any:
    """A context limiting BLAS to one thread (threadpoolctl, when installed)."""
    global _blas_controller
    try:
        import threadpoolctl
    except ImportError:
        return contextlib.nullcontext()
    with _pool_lock:
        if _blas_controller is None:
            _blas_controller = threadpoolctl.ThreadpoolController()
    return _blas_controller.limit(limits=1, user_api="blas")


_REFERENCE = Reference()
_NUMPY = NumpyKernels()
_forced: Reference | None = None


def kernels_for(xp: Any) -> Reference:
    """The kernel set for namespace ``xp``: the one selection point."""
    if _forced is not None:
        return _forced
    if array_api_compat.is_numpy_namespace(xp):
        return _NUMPY
    return _REFERENCE


@contextlib.contextmanager
def use_kernels(kernels: Reference) -> Iterator[None]:
    """Run the block with ``kernels`` for every namespace (tests force ``Reference()``)."""
    global _forced
    saved, _forced = _forced, kernels
    try:
        yield
    finally:
        _forced = saved
