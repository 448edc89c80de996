"""The NumPy speed path: kernels for the network pass of ``nn.layers`` in NumPy's fastest terms.

The forward, loss and backward are ``layers.loss_and_gradients``, run with the kernels
below (each tested against its plain form in ``nn.kernels``) and scheduled for NumPy:
where the numbers are written, which layout the products return, and which blocks run in
parallel — each block runs ``layers.loss_and_gradients`` itself.

NumPy (``NumpyPath``): a training pass over a tall, narrow matrix (30,000 samples
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
large batch (``MIN_BLOCK_ELEMENTS``) is cut into row blocks, one per core, whose forward and backward passes
run in threads (NumPy and BLAS release the GIL); the loss and its gradients are sums
over samples, so the blocks' results add up to the full batch's, up to rounding.
BLAS runs one thread per block meanwhile: the blocks already keep every core busy,
and BLAS threads that wait on busy cores spin instead of computing. A tall, narrow
block runs in parts whose widest arrays hold at most ``ROW_BLOCK_BYTES`` (1 MiB), one
after another in the thread's memory, so that what one operation writes is still in the
core's cache when the next reads it (``cache_blocks``).

A stack of M networks is cut along its model axis instead: blocks of networks whose
activations stay near the cores (``MODEL_BLOCK_BYTES``), run in the same threads (a
contiguous share of the blocks each, one after another in the share's memory), their
losses and gradients concatenated. A whole stack's activations (M · n_samples ·
width floats) do not fit in cache, and every element-wise pass over them would go to
memory; blocks much smaller than a few MiB cost more in per-call overhead.

A training run also keeps, per thread's block, the large arrays its passes write (products,
activations, derivatives), and later requests write into the same memory. A fresh
array of a few megabytes comes from the operating system as new pages, which it must
map and zero on first touch: on a 2-core VM that cost about as much as the arithmetic
itself (a 2 → 64 → 64 → 3 float32 epoch on 30,000 samples took about 45 ms with fresh
arrays, about 30 ms reusing them). Inside a pass, the activations and their derivatives
run as the reference's operations with NumPy's ``out=``, bit for bit the same numbers
(``_FAST_ACTIVATIONS``: an activation without an entry there runs its registry
definition as written, into fresh arrays); so does the softmax cross-entropy, but for
its sums, which NumPy runs fast as products with ones: equal up to rounding. The binary
cross-entropy gives the plain form's numbers bit for bit, with σ(z) written without its
``where`` (``_binary_cross_entropy``).

Reuse never shows: every array the math binds to a name — a cache's Z and A, dA_prev,
dZ, the logits' gradient, the gradients — is a distinct array that keeps its values,
as in the plain math. In-place work is done only on arrays a kernel makes for itself
(the product before its bias is added, the softmax's temporaries, the slope that
becomes dZ), and a buffer is handed out again only once nothing refers to it any more
(``Buffers``: its reference count says so), so the arrays of a pass that a learner
keeps stay as they were. A request takes the most recently used free buffer, so a
pass writes its temporaries into memory that is likely still in cache.
"""

from __future__ import annotations

import contextlib
import contextvars
import itertools
import os
import sys
import threading
from collections.abc import Callable, Hashable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from ..machine import usable_cores
from ..nn import layers
from ..nn.activations import LEAKY_SLOPE
from .reference import LossAndGradients, Params, Reference

# Up to this many classes, the row max of the logits is a chain of element-wise maxima.
SHORT_CLASS_AXIS = 16
# A stack's output layer with more than THIN and at most this many outputs returns its logits
# feature-major, whatever its input width (``dense``): the loss's reductions and broadcasts
# over the classes, the bias and the backward's products then run along the samples. One
# core, float32, stacks of 32 networks on 1,000 rows, CPU µs per network-epoch row-major ->
# feature-major: 2-32-10 176 -> 157, 2-32-16 214 -> 197, 2-32-5 148 -> 145, 2-32-3 132 ->
# 139; the digits' 64-16-10 200 -> 178. Hidden layers keep the rule of ``STACK_NARROW``:
# feature-major hidden layers were slower (2-32-8-2 155 -> 161, 2-64-12-12 325 -> 338).
SHORT_LOGITS = 16
# Products whose inner and output widths are at most this come out column-major. Wider
# ones keep BLAS's usual layout: row-major element-wise work is as fast there, and the
# swapped product is slower (a (4096, 2048) @ (2048, 10) product: 64 ms against 17 ms).
NARROW = 64
# A stack's products whose inner and output widths are at most this come out feature-major
# (``stack_matmul``). Measured on one core, stacks of 32 networks on 400 points, tanh,
# Adam, CPU µs per network-epoch row-major -> feature-major: 2-4-1 19.3 -> 18.3,
# 2-4-4-1 33.5 -> 25.1; at width 16 feature-major was slower (2-16-16-1 70.8 -> 81.5:
# BLAS's (M, k, n) @ (M, n, h) with both operands sample-major), at 8 and below faster.
# (Those timings read a shared input through its transposed view; see STACK_NARROW_INPUT.)
STACK_NARROW = 8
# ... and up to this width in a pass whose input has at most STACK_NARROW features (the
# spirals' 2 coordinates), read from a contiguous copy of the input's transpose
# (``_transposed``). One core, float32, 400 points, the pass alone, STACK_NARROW ->
# this: 32 networks 2-16-1 806 -> 745 µs, 2-16-16-1 1,712 -> 1,613 µs (2-4-1 and
# 2-4-4-1 unchanged). A wide input keeps STACK_NARROW: every layer of a pass must take one
# layout (a product's result meets the layer's other arrays), and the first layer's
# feature-major products from 64 pixels were slower (the digits, 6 networks, 64-16-10
# 1,093 -> 1,305 µs, 64-16-16-10 1,567 -> 1,740 µs).
STACK_NARROW_INPUT = 16
# A weight gradient Aᵀ @ dZ with at most this many entries is computed as that many dot
# products over the samples (2 × 2 over 30,000 samples: 14 µs, against 47 µs in BLAS).
TINY_PRODUCT = 16
# A product with 2 or 3 columns on one side (more than TINY_PRODUCT entries) runs as that
# many matrix-vector products: OpenBLAS packs such thin operands slowly. Measured on one
# core over 15,000 samples: a 64 → 3 layer's A @ W 250 µs against 300 µs, its Aᵀ @ dZ
# 250 µs against 340 µs, a 2 → 64 layer's Aᵀ @ dZ 165 µs against 310 µs. Products with
# fewer than ``THIN_MIN_DEPTH`` inner terms are faster in one BLAS call.
THIN = 3
THIN_MIN_DEPTH = 32
# A row block whose pass writes fewer numbers than this (samples × Σ layer widths) costs
# more in thread hand-offs than it saves. Measured on 2 cores with reused arrays: a
# 2→64→64→3 pass over 30,000 samples (3.9 M) gains 10% from two blocks, over 16,000
# (2.1 M) loses 10%; the 2-wide tiny network over 30,000 (0.3 M) loses 20%.
MIN_BLOCK_ELEMENTS = 1_500_000
# Each thread runs its rows of a single network's pass in blocks whose widest arrays
# (rows × the widest layer) hold at most this many bytes, one after another: a block's
# products, activations and derivatives then stay in the core's cache from the operation
# that writes them to those that read them, and the next block reuses the same memory.
# Measured on the 2-core VM (2 MiB of L2 per core), one thread, 2→64→64→3 tanh over
# 30,000 samples: float32 36 ms per pass in one block, 21 ms in 4 to 8 (1.9 to 1 MiB per
# array); float64 75 ms, 47 ms in 16.
ROW_BLOCK_BYTES = 2**20
# ... where a block's activations outnumber the weights this many times: every block
# computes gradients as large as the weights (a 1024 → 2048 layer is not split so).
ROW_BLOCK_WEIGHT_RATIO = 8
# A block of stacked networks keeps about this many bytes of activations. Each block's
# pass costs about fifty NumPy calls whatever its size, so small blocks pay in call
# overhead what they gain in cache. Measured on 2 cores (256 networks, Adam): 2-8-8-2 on
# 200 points 4.4 s per 200 epochs with 256 KiB blocks, 1.1-1.6 s with 4 MiB; 2-16-16-2
# on 1,000 points 5.0 s per 40 epochs, 1.7-2.4 s. From 4 to 8 MiB (a pass alone,
# float32, medians of 7 in-process pairs): one thread, 32 networks 2-16-16-1 on 400
# points 1,404 -> 1,317 µs (one block instead of two), 6 networks 64-32-32-10 on 1,079
# rows 2,557 -> 2,458 µs; 256 networks on 1,000 points, 2-16-16-1, 2-8-8-1, 2-32-32-1,
# 93.3 -> 94.8 ms on one thread and 91.7 -> 74.3 ms on two.
MODEL_BLOCK_BYTES = 8 * 2**20

# The variable that caps the threads the blocks run in (``_n_cores``).
THREADS_VARIABLE = "SCRATCHML_NUM_THREADS"


class Buffers:
    """The arrays one block's training passes write into, each reused once nobody holds it.

    A request gets a buffer of its shape and dtype that nothing outside these buffers
    refers to any more — no variable, cache or view of it, as its reference count says —
    the most recently handed out such buffer (the likeliest still in cache), or a new one.
    A pass so writes into the memory of its own dead arrays and of the previous pass,
    and never into an array somebody still holds: a cache, a result being read, or what
    a learner kept.
    """

    def __init__(self) -> None:
        self._free_or_held: dict[tuple[tuple[int, ...], Any], list[Any]] = {}
        self._ones: dict[tuple[tuple[int, ...], Any], Any] = {}
        self.made = 0  # buffers made so far; every other request reused one

    def empty(self, shape: tuple[int, ...], dtype: Any) -> Any:
        """An uninitialised C-contiguous NumPy array that nobody else holds.

        Parameters
        ----------
        shape : tuple of int
            The array's shape.
        dtype : numpy.dtype
            Its dtype.

        Returns
        -------
        numpy.ndarray
            A buffer no array outside these buffers refers to (its contents left from
            its last use), or a new one.
        """
        buffers = self._free_or_held.get((shape, dtype))
        if buffers is None:
            buffers = self._free_or_held[(shape, dtype)] = []
        for i in range(len(buffers) - 1, -1, -1):  # the most recently handed out first
            if sys.getrefcount(buffers[i]) <= _ONLY_LISTED:  # nothing else refers to it
                buffer = buffers.pop(i)
                break
        else:
            buffer = np.empty(shape, dtype)
            self.made += 1
        buffers.append(buffer)
        return buffer

    @property
    def nbytes(self) -> int:
        """Bytes held by the buffers."""
        arrays = [*self._ones.values()] + [b for kept in self._free_or_held.values() for b in kept]
        return sum(array.nbytes for array in arrays)

    def ones(self, shape: tuple[int, ...], dtype: Any) -> Any:
        """A read-only array of ones, made once.

        Parameters
        ----------
        shape : tuple of int
            The array's shape.
        dtype : numpy.dtype
            Its dtype.

        Returns
        -------
        numpy.ndarray
            Ones, read-only, the same array on every call with this shape and dtype.
        """
        if (shape, dtype) not in self._ones:
            ones = np.ones(shape, dtype)
            ones.flags.writeable = False
            self._ones[(shape, dtype)] = ones
        return self._ones[(shape, dtype)]


class TrainingMemory:
    """What a training run keeps between its passes: one ``Buffers`` per block.

    It also holds the run's number of threads (``_n_cores``), counted once when the run
    starts rather than on every pass (a system call and an environment lookup per pass),
    and, from its first pass in blocks on, single-threaded BLAS until the run ends
    (``held_until_the_run_ends``).
    """

    def __init__(self) -> None:
        self._blocks: dict[Hashable, Buffers] = {}
        self.cores: int | None = None
        self.held_until_the_run_ends = contextlib.ExitStack()
        self.blas_on_one_thread = False

    def block(self, key: Hashable) -> Buffers:
        """The buffers of block ``key`` (made on first use).

        Parameters
        ----------
        key : hashable
            The block, as ``(start, stop)`` of its rows or networks.

        Returns
        -------
        Buffers
            The block's buffers.
        """
        if key not in self._blocks:
            self._blocks[key] = Buffers()
        return self._blocks[key]

    @property
    def nbytes(self) -> int:
        """Bytes held by every block's buffers."""
        return sum(buffers.nbytes for buffers in self._blocks.values())


# The memory of the training run in progress in this context (None: fresh arrays).
_training_memory: contextvars.ContextVar[Any] = contextvars.ContextVar(
    "scratchml_training_memory", default=None
)


class NumpyPath(Reference):
    """NumPy: reused memory, feature-major narrow products, blocks of rows or networks in threads."""

    name = "numpy"

    # --- the interface ---------------------------------------------------------------

    def samples_layout(self, Y: Any) -> Any:
        """``Y`` column-major when it is narrow, like the logits it meets."""
        # Narrow targets column-major, like the logits they meet (``samples_matmul``).
        if Y.ndim == 2 and Y.shape[-1] <= NARROW:
            return np.asfortranarray(Y)
        return Y

    @contextlib.contextmanager
    def training_run(self) -> Iterator[Any]:
        """Inside, the run's passes reuse the run's memory (yielded).

        The memory is the last finished run's (or a new one), and is kept for the next
        run after: warm-started fits and ``partial_fit`` calls then start with their
        arrays in place. One run's memory is kept, up to ``KEPT_MEMORY_BYTES``; two runs
        at once (in threads) never share one.

        Yields
        ------
        TrainingMemory
            The memory the run's passes reuse.
        """
        global _kept_memory
        with _pool_lock:
            memory, _kept_memory = _kept_memory, None
        memory = memory or TrainingMemory()
        memory.cores = _count_cores()
        token = _training_memory.set(memory)
        try:
            yield memory
        finally:
            _training_memory.reset(token)
            memory.held_until_the_run_ends.close()
            memory.blas_on_one_thread = False
            if memory.nbytes <= KEPT_MEMORY_BYTES:
                with _pool_lock:
                    _kept_memory = memory

    def loss_and_gradients(
        self, xp: Any, activations: Sequence[str], loss: str, l2: Any
    ) -> LossAndGradients:
        """The objective and its gradients, in blocks, each pass reusing its block's memory.

        One network: blocks of rows; the data loss is a mean over samples, so the
        blocks' losses and gradients, weighted by their shares n_block / n_samples, sum
        to the whole batch's. A stack: blocks of networks, whose results sit side by side
        on the model axis. The L2 term is added once, after (``layers.add_l2``).
        """
        memory = _training_memory.get()

        def pass_over(params: Params, X: Any, Y: Any, block: slice) -> tuple[Any, Params]:
            # In training, the block's large arrays reuse the memory its thread's blocks
            # and earlier passes no longer hold; ``dense`` knows the output layer's weights,
            # ``stack_matmul`` the layout its input's width allows.
            with (
                self.reusing(memory, (block.start, block.stop)),
                _pass_layout(params[-1][0], X.shape[-1]),
            ):
                return layers.loss_and_gradients(xp, params, X, Y, activations, loss, 0.0, self)

        def run(params: Params, X: Any, Y: Any) -> tuple[Any, Params]:
            if params[0][0].ndim == 3:
                value, grads = self._over_networks(xp, params, X, Y, pass_over)
            else:
                value, grads = self._over_rows(xp, params, X, Y, pass_over)
            return layers.add_l2(xp, params, value, grads, l2)

        return run

    def reads_are_free(self, x: Any) -> bool:
        """True: NumPy computes each array as it is called."""
        return True

    # --- blocks ----------------------------------------------------------------------

    def _over_networks(self, xp: Any, params: Params, X: Any, Y: Any, pass_over: Any) -> Any:
        """A stack in blocks of networks, their results side by side on the model axis."""
        W_first = params[0][0]
        widths = [W.shape[-1] for W, _ in params]
        blocks = self.model_blocks(W_first.shape[0], X.shape[-2], widths, W_first.dtype.itemsize)
        if len(blocks) == 1:  # the whole stack in one block, on this thread
            with _blas_on_one_thread():
                return pass_over(params, X, Y, blocks[0])

        # One contiguous share of the blocks per thread, run one after another in the
        # memory of the thread's share.
        n_shares = min(_n_cores(), len(blocks))
        bounds = [len(blocks) * i // n_shares for i in range(n_shares + 1)]
        shares = {
            blocks[start].start: blocks[start:stop] for start, stop in itertools.pairwise(bounds)
        }

        def thread_networks(share: slice) -> list[tuple[Any, Params]]:
            return [
                pass_over(
                    [(W[nets, ...], b[nets, ...]) for W, b in params],
                    X if X.ndim == 2 else X[nets, ...],
                    Y if Y.ndim == 2 else Y[nets, ...],
                    share,
                )
                for nets in shares[share.start]
            ]

        thread_blocks = [slice(share[0].start, share[-1].stop) for share in shares.values()]
        parts = [
            part
            for share in self.map_blocks(thread_networks, thread_blocks, stack=True)
            for part in share
        ]
        if len(parts) == 1:
            return parts[0]
        value = xp.concat([part_value for part_value, _ in parts], axis=0)
        grads = [
            tuple(xp.concat([part[layer][k] for _, part in parts], axis=0) for k in (0, 1))
            for layer in range(len(params))
        ]
        return value, grads

    def _over_rows(self, xp: Any, params: Params, X: Any, Y: Any, pass_over: Any) -> Any:
        """One network in blocks of rows, the blocks' results weighted by their shares.

        One block of rows per thread (``row_blocks``), each run in cache-sized parts
        (``cache_blocks``) that share the thread's memory.
        """
        n_samples = X.shape[-2]
        W_first = params[0][0]
        widths = [W.shape[-1] for W, _ in params]
        n_weights = sum(W.shape[-2] * W.shape[-1] for W, _ in params)
        thread_blocks = self.row_blocks(X, W_first.ndim, sum(widths))
        cache_blocks = {
            rows.start: self.cache_blocks(rows, max(widths), n_weights, W_first.dtype.itemsize)
            if X.ndim == 2
            else [rows]
            for rows in thread_blocks
        }
        if len(thread_blocks) == 1 and len(cache_blocks[0]) == 1:
            return pass_over(params, X, Y, thread_blocks[0])

        def thread_rows(rows: slice) -> list[tuple[Any, Params]]:
            # The thread's parts one after another, in the memory of its block of rows.
            return [
                pass_over(params, X[..., part, :], Y[..., part, :], rows)
                for part in cache_blocks[rows.start]
            ]

        parts = [part for share in self.map_blocks(thread_rows, thread_blocks) for part in share]
        blocks = [part for rows in thread_blocks for part in cache_blocks[rows.start]]
        shares = [(rows.stop - rows.start) / n_samples for rows in blocks]
        value = _weighted_sum(shares, [part_value for part_value, _ in parts])
        grads = [
            tuple(_weighted_sum(shares, [part[layer][k] for _, part in parts]) for k in (0, 1))
            for layer in range(len(params))
        ]
        return value, grads

    # --- the operations of one pass, in NumPy's terms ----------------------------------

    def dense(self, xp: Any, A_prev: Any, W: Any, b: Any) -> Any:
        """Z = A_prev @ W + b, the bias added in place (the product is the pass's own array).

        A stack's products, a shared input's included, run network by network
        (``samples_matmul`` hands them to ``stack_matmul``). In a training pass, a stack's
        output layer with a few outputs (``SHORT_LOGITS``) returns its logits feature-major.
        A stack's feature-major layer over its shared input adds the bias inside the
        product (``_dense_shared_input``).
        """
        if W.ndim != 3:
            Z = self.samples_matmul(xp, A_prev, W)
        else:
            feature_major = (
                THIN < W.shape[-1] <= SHORT_LOGITS and _is_output_layer(W)
            ) or _narrow_enough(W)
            if feature_major and A_prev.ndim == 2:
                return self._dense_shared_input(A_prev, W, b)
            Z = self.stack_matmul(A_prev, W, feature_major)
        Z += b[..., None, :]  # (NumPy's expand_dims costs more than the addition here)
        return Z

    def _dense_shared_input(self, X: Any, W: Any, b: Any) -> Any:
        """Z = [X 1] @ [W; b], feature-major, for a stack's shared (n, k) input X.

        The bias is the product's last term, added by BLAS. Added to a feature-major Z
        afterwards, it broadcasts over M · n_out runs of n samples, each a separate loop
        in NumPy: a stack of 32 networks 2 → 16 on 400 samples, float32, one core, the
        product 30 µs and the bias 57 µs, against 31 µs for the product with the bias
        inside (the copies into [X 1]ᵀ and [W; b] take about 2 µs). A hidden layer's
        activations written above a row of ones gained less than that row cost the pass's
        other operations (2-16-16-1 −1%, 2-4-4-1 +10%); a wide input's row-major
        products gained nothing (the digits' bias adds are runs of 16 to 32, and the copy
        of [X 1] costs 11 µs).
        """
        (n, k), (M, _, n_out) = X.shape, W.shape
        dtype = np.result_type(X.dtype, W.dtype)
        X_1_T = self._empty((k + 1, n), dtype)
        X_1_T[:k] = X.T
        X_1_T[k] = 1
        W_b = self._empty((M, k + 1, n_out), dtype)
        W_b[:, :k] = W
        W_b[:, k] = b
        # [X 1] as the transposed view of its contiguous transpose: ``stack_matmul`` reads
        # that without another copy (``_transposed``).
        return self.stack_matmul(X_1_T.T, W_b, feature_major=True)

    def bias_gradient(self, xp: Any, dZ: Any) -> Any:
        """db = 1ᵀ @ dZ: NumPy sums a tall, narrow matrix over its rows slowly, a product fast."""
        ones = self.ones((1, dZ.shape[-2]), dZ.dtype)
        return (ones @ dZ)[..., 0, :]

    def input_gradient(self, xp: Any, dZ: Any, W: Any) -> Any:
        """dA_prev = dZ @ Wᵀ, narrow results column-major (``samples_matmul``)."""
        return self.samples_matmul(xp, dZ, xp.matrix_transpose(W))

    def samples_matmul(self, xp: Any, A: Any, B: Any) -> Any:
        """A @ B for (n_samples, k) @ (k, n_out); narrow results come out column-major.

        Parameters
        ----------
        xp : namespace
            The array namespace of the arrays (``backends.namespace``).
        A : array of shape (..., n_samples, k)
            The left factor.
        B : array of shape (..., k, n_out)
            The right factor.

        Returns
        -------
        numpy.ndarray of shape (..., n_samples, n_out)
            A @ B; for 2-D factors a buffer, column-major when n_out is narrow.
        """
        if A.ndim != 2 or B.ndim != 2:  # a stack's products, into a buffer too
            return self.stack_matmul(A, B)
        dtype = np.result_type(A.dtype, B.dtype)
        if max(B.shape) > NARROW:
            return np.matmul(A, B, out=self._empty((A.shape[0], B.shape[1]), dtype))
        # (Bᵀ @ Aᵀ)ᵀ = A @ B; the result is a column-major (n_samples, n_out) view.
        out = self._empty((B.shape[1], A.shape[0]), dtype)
        if 2 <= B.shape[1] <= THIN and B.shape[0] >= THIN_MIN_DEPTH:
            # One matrix-vector product per output column (see THIN).
            for j in range(B.shape[1]):
                np.matmul(B[:, j], A.T, out=out[j])
            return out.T
        return np.matmul(B.T, A.T, out=out).T

    def stack_matmul(self, A: Any, B: Any, feature_major: bool | None = None) -> Any:
        """A @ B for a stack, (M, n, k) or (n, k) @ (M, k, n_out), network by network.

        NumPy's matmul calls BLAS once per network with that network's shapes, so a
        network's numbers do not depend on how many share its stack (see
        ``per_network_matmul``). Narrow results (``STACK_NARROW``) come out feature-major, as
        ``samples_matmul`` returns them for one network: each network's (n, n_out)
        result is the transpose of a C-contiguous (n_out, n), so that the bias added to
        it, its activation and their derivatives run along the samples, not along rows of
        n_out numbers (a stack of 32 networks 2 → 4 → 1 on 400 samples: the bias of
        the hidden layer 100 µs row-major, 30 µs feature-major).

        Parameters
        ----------
        A : numpy.ndarray of shape (M, n, k) or (n, k)
            The left factor: per network, or shared by the stack.
        B : numpy.ndarray of shape (M, k, n_out)
            One right factor per network.
        feature_major : bool, optional
            Whether the result comes out feature-major; by default if both of B's widths
            are at most ``STACK_NARROW`` (``STACK_NARROW_INPUT`` in a training pass over a
            narrow input).

        Returns
        -------
        numpy.ndarray of shape (M, n, n_out)
            A @ B[m] for each network m, in a buffer.
        """
        dtype = A.dtype if A.dtype == B.dtype else np.result_type(A.dtype, B.dtype)
        leading = _leading_shape(A, B)
        n, n_out = A.shape[-2], B.shape[-1]
        if feature_major is None:
            feature_major = _narrow_enough(B)
        if feature_major:
            out = self._empty((*leading, n_out, n), dtype)  # (Bᵀ @ Aᵀ)ᵀ = A @ B
            product = out.swapaxes(-1, -2)
        else:
            product = self._empty((*leading, n, n_out), dtype)
        if A.shape[-1] == 1:
            # One inner term: each entry is a single product (an outer product per network,
            # the backward through a one-output layer). NumPy's matmul runs its own loop
            # for it, not BLAS (32 networks, (400, 1) @ (1, 16): 244 µs); einsum writes the
            # same products in 78 µs.
            return np.einsum("...ik,...kj->...ij", A, B, out=product)
        if feature_major:
            A_T = self._transposed(A) if A.ndim == 2 else np.swapaxes(A, -1, -2)
            np.matmul(np.swapaxes(B, -1, -2), A_T, out=out)
            return product
        return np.matmul(A, B, out=product)

    def _transposed(self, A: Any) -> Any:
        """Aᵀ of a stack's shared (n, k) input, C-contiguous: a copy into a buffer.

        BLAS runs the stack's feature-major products with a shared input several times
        faster from a contiguous (k, n) than from the transposed view of a row-major
        (n, k): 32 networks, 400 samples, 2 → 4, float32, one core: the forward's
        Wᵀ @ Xᵀ 19.3 µs from the view against 7.6 µs, the weight gradient's Xᵀ @ dZ
        (dZ feature-major) 18.0 against 4.3 µs. The copy of a narrow input costs less than
        a microsecond (400 × 2).
        """
        if A.T.flags.c_contiguous:
            return A.T
        A_T = self._empty((A.shape[1], A.shape[0]), A.dtype)
        np.copyto(A_T, A.T)
        return A_T

    def weight_gradient(self, xp: Any, A: Any, dZ: Any) -> Any:
        """dW = Aᵀ @ dZ; tiny and thin ones as dot or matrix-vector products."""
        if A.ndim == 2 and dZ.ndim == 3:  # a shared input: network by network
            feature_major = dZ.swapaxes(-1, -2).flags.c_contiguous and dZ.shape[-1] > 1
            return per_network_matmul(self._transposed(A) if feature_major else A.T, dZ)
        if A.ndim != 2 or dZ.ndim != 2:
            return super().weight_gradient(xp, A, dZ)
        n_in, n_out = A.shape[1], dZ.shape[1]
        if n_in * n_out <= TINY_PRODUCT:
            # A few long dot products: BLAS spends 3× their time packing such thin operands.
            return xp.vecdot(A.T[:, None, :], dZ.T[None, :, :])
        dtype = np.result_type(A.dtype, dZ.dtype)
        if 2 <= n_in <= THIN:  # row i of dW is dZᵀ @ A[:, i] (see THIN)
            dW = np.empty((n_in, n_out), dtype)
            for i in range(n_in):
                np.matmul(dZ.T, A[:, i], out=dW[i])
            return dW
        if 2 <= n_out <= THIN:  # column j of dW is Aᵀ @ dZ[:, j]
            dW_T = np.empty((n_out, n_in), dtype)
            for j in range(n_out):
                np.matmul(A.T, dZ[:, j], out=dW_T[j])
            return np.ascontiguousarray(dW_T.T)
        return A.T @ dZ

    def activation(self, xp: Any, name: str, Z: Any) -> Any:
        """A = act(Z) into a buffer of its own (Z is left as the pre-activation)."""
        fast = _FAST_ACTIVATIONS.get(name, (None, None))[0]
        if fast is None:
            return super().activation(xp, name, Z)
        return fast(self, Z)

    def activation_gradient(self, xp: Any, name: str, dA: Any, Z: Any, A: Any) -> Any:
        """dZ = dA * act'(Z), written over the slope's own buffer; dA, Z and A are only read."""
        fast = _FAST_ACTIVATIONS.get(name, (None, None))[1]
        if fast is None:
            return super().activation_gradient(xp, name, dA, Z, A)
        dZ = self._like(dA)  # the slope first, then dZ over it: an array of this call's own
        return np.multiply(dA, fast(self, Z, A, dZ), out=dZ)

    def loss_and_gradient(self, xp: Any, name: str, logits: Any, Y: Any) -> tuple[Any, Any]:
        """The loss and ∂loss/∂logits; the cross-entropies' arrays written into buffers."""
        if name == "binary_cross_entropy":
            return self._binary_cross_entropy(logits, Y)
        if name != "softmax_cross_entropy":
            return super().loss_and_gradient(xp, name, logits, Y)
        # losses.softmax_cross_entropy_value_and_gradient: the same operations, with the
        # (..., n_samples, n_classes) arrays written into buffers, and the reductions done
        # as NumPy does them fast: the class axis's max and sum (see max_over_classes) and
        # the value's sum (sum_per_matrix), the sums equal to the plain ones up to rounding.
        n_samples = logits.shape[-2]
        shifted = np.subtract(logits, self.max_over_classes(logits), out=self._like(logits))
        exp_shifted = np.exp(shifted, out=self._like(logits))
        row_total = self.sum_over_classes(exp_shifted)
        log_total = np.log(row_total, out=self._like(row_total))
        minus_log_probability = np.subtract(log_total, shifted, out=shifted)
        per_element = np.multiply(Y, minus_log_probability, out=shifted)
        value = self.sum_per_matrix(per_element) / n_samples
        gradient = np.divide(exp_shifted, row_total, out=exp_shifted)
        np.subtract(gradient, Y, out=gradient)
        return value, np.divide(gradient, n_samples, out=gradient)

    def _binary_cross_entropy(self, logits: Any, Y: Any) -> tuple[Any, Any]:
        """losses.binary_cross_entropy_value_and_gradient, bit for bit, into buffers.

        The same operations on the same numbers, but for σ(z): the plain form picks
        σ(|z|) or e^-|z|·σ(|z|) per element with ``where``, which NumPy runs slowly
        (32 µs of the plain form's 84 for a stack of 32 networks on 400 samples). Here
        σ(z) = e^min(z, 0) · σ(|z|): the factor is exactly 1 where z ≥ 0, and exactly
        e^-|z| where z < 0 (min(z, 0) = −|z| there), so every element is the plain form's
        number. The whole loss takes 48 µs for that stack.
        """
        n_samples = logits.shape[-2]
        e = np.abs(logits, out=self._like(logits))
        np.exp(np.negative(e, out=e), out=e)  # e^-|z|
        softplus_z = np.maximum(logits, 0, out=self._like(logits))
        softplus_z += np.log1p(e, out=self._like(logits))
        r = np.add(1, e, out=self._like(logits))
        np.divide(1, r, out=r)  # σ(|z|)
        sigmoid_z = np.minimum(logits, 0, out=self._like(logits))
        np.exp(sigmoid_z, out=sigmoid_z)
        sigmoid_z *= r
        per_element = np.subtract(softplus_z, np.multiply(Y, logits, out=r), out=softplus_z)
        value = np.sum(per_element, axis=(-2, -1)) / n_samples
        gradient = np.subtract(sigmoid_z, Y, out=sigmoid_z)
        return value, np.divide(gradient, n_samples, out=gradient)

    def sum_per_matrix(self, A: Any) -> Any:
        """Σ over the last two axes of A: for a stack, each network's (n_samples, k) sum.

        A matrix contiguous in memory, row- or feature-major, is summed as one run of
        numbers by a product with ones (6 × 1,079 × 10 float32 feature-major: 6 µs, against
        14-21 µs for ``np.sum`` over the two axes); other layouts by ``np.sum``.

        Parameters
        ----------
        A : numpy.ndarray of shape (..., n_samples, k)
            The values.

        Returns
        -------
        numpy.ndarray of shape (...)
            Each matrix's sum.
        """
        for matrices in (A, A.swapaxes(-1, -2)):
            if matrices.flags.c_contiguous:
                size = A.shape[-2] * A.shape[-1]
                rows = matrices.reshape((*A.shape[:-2], 1, size))
                return (rows @ self.ones((size, 1), A.dtype))[..., 0, 0]
        return np.sum(A, axis=(-2, -1))

    def max_over_classes(self, Z: Any) -> Any:
        """max_k Z[:, k] as (n_samples, 1): element-wise maxima of the class columns.

        NumPy reduces over a short last axis slowly (about 40× an element-wise
        operation of the same size); a chain of column maxima gives the same values.

        Parameters
        ----------
        Z : numpy.ndarray of shape (..., n_samples, n_classes)
            Class scores.

        Returns
        -------
        numpy.ndarray of shape (..., n_samples, 1)
            Each row's maximum.
        """
        if Z.shape[-1] > SHORT_CLASS_AXIS:
            return np.max(Z, axis=-1, keepdims=True)
        row_max = Z[..., 0:1]
        if Z.shape[-1] > 1:
            out = self._empty((*Z.shape[:-1], 1), Z.dtype)
            for k in range(1, Z.shape[-1]):
                row_max = np.maximum(row_max, Z[..., k : k + 1], out=out)
        return row_max

    def sum_over_classes(self, Z: Any) -> Any:
        """Σ_k Z[:, k] as (n_samples, 1), as the product Z @ 1 (a fast path in NumPy).

        Parameters
        ----------
        Z : numpy.ndarray of shape (..., n_samples, n_classes)
            Values per class.

        Returns
        -------
        numpy.ndarray of shape (..., n_samples, 1)
            Each row's sum.
        """
        ones = self.ones((Z.shape[-1], 1), Z.dtype)
        out = self._empty((*Z.shape[:-1], 1), np.result_type(Z, ones))
        return np.matmul(Z, ones, out=out)

    # --- memory ----------------------------------------------------------------------------

    @contextlib.contextmanager
    def reusing(self, memory: Any, block: Hashable) -> Iterator[None]:
        """Inside, this thread's large arrays come from the block's buffers of ``memory``.

        Parameters
        ----------
        memory : TrainingMemory or None
            The run's memory; None (outside a training run) makes fresh arrays.
        block : hashable
            The block whose buffers this thread uses, as ``(start, stop)``.

        Yields
        ------
        None
            Nothing; the thread's previous buffers are restored on leaving.
        """
        if memory is None:
            yield
            return
        buffers = memory.block(block)
        saved, _local.buffers = getattr(_local, "buffers", None), buffers
        try:
            yield
        finally:
            _local.buffers = saved

    def ones(self, shape: tuple[int, ...], dtype: Any) -> Any:
        """A read-only array of ones: made once per training run inside one, else fresh.

        Parameters
        ----------
        shape : tuple of int
            The array's shape.
        dtype : numpy.dtype
            Its dtype.

        Returns
        -------
        numpy.ndarray
            Ones (read-only and reused inside a training run).
        """
        buffers = getattr(_local, "buffers", None)
        if buffers is None:
            return np.ones(shape, dtype)
        return buffers.ones(shape, np.dtype(dtype))

    def _empty(self, shape: tuple[int, ...], dtype: Any) -> Any:
        """A C-contiguous array: a free buffer inside ``reusing``, else a fresh one."""
        buffers = getattr(_local, "buffers", None)
        if buffers is None:
            return np.empty(shape, dtype)
        return buffers.empty(shape, dtype if isinstance(dtype, np.dtype) else np.dtype(dtype))

    def _like(self, A: Any, dtype: Any = None) -> Any:
        """An array shaped and laid out like A (column-major for a column-major A)."""
        dtype = A.dtype if dtype is None else dtype
        flags = A.flags
        if flags.c_contiguous:
            return self._empty(A.shape, dtype)
        if A.ndim >= 2 and A.swapaxes(-1, -2).flags.c_contiguous:
            # Column-major, or a stack of column-major (feature-major) matrices.
            return self._empty((*A.shape[:-2], A.shape[-1], A.shape[-2]), dtype).swapaxes(-1, -2)
        outer_first = sorted(range(A.ndim), key=lambda axis: -A.strides[axis])
        buffer = self._empty(tuple(A.shape[axis] for axis in outer_first), dtype)
        return np.transpose(buffer, np.argsort(outer_first))

    # --- blocks in threads -------------------------------------------------------------------

    def row_blocks(self, A: Any, params_ndim: int, width: int = 1) -> list[slice]:
        """One block per core for a single network's large pass; else one block.

        ``width`` is how many numbers per sample the pass writes (Σ layer widths).

        Parameters
        ----------
        A : numpy.ndarray of shape (n_samples, n_features)
            The pass's input.
        params_ndim : int
            The number of axes of the weights: 2 for one network, 3 for a stack.
        width : int, default 1
            How many numbers per sample the pass writes (Σ layer widths).

        Returns
        -------
        list of slice
            Contiguous blocks of rows covering [0, n_samples).
        """
        n_samples = A.shape[-2]
        n_blocks = min(_n_cores(), n_samples * width // MIN_BLOCK_ELEMENTS, n_samples)
        if A.ndim != 2 or params_ndim != 2 or n_blocks < 2:
            return [slice(0, n_samples)]
        bounds = [n_samples * i // n_blocks for i in range(n_blocks + 1)]
        return [slice(start, stop) for start, stop in itertools.pairwise(bounds)]

    def cache_blocks(self, rows: slice, widest: int, n_weights: int, itemsize: int) -> list[slice]:
        """``rows`` in parts whose widest arrays fit ``ROW_BLOCK_BYTES``, where that pays.

        Parameters
        ----------
        rows : slice
            One thread's rows of a single network's pass.
        widest : int
            The width of the widest layer.
        n_weights : int
            The number of weights of the network (Σ n_in · n_out).
        itemsize : int
            The number of bytes per number.

        Returns
        -------
        list of slice
            Contiguous parts covering ``rows``; ``[rows]`` itself where the rows' arrays
            are small, or where a part's activations would not outnumber the weights
            ``ROW_BLOCK_WEIGHT_RATIO`` times.
        """
        n_rows = rows.stop - rows.start
        n_parts = -(-n_rows * widest * itemsize // ROW_BLOCK_BYTES)
        if n_parts < 2 or (n_rows // n_parts) * widest < ROW_BLOCK_WEIGHT_RATIO * n_weights:
            return [rows]
        bounds = [rows.start + n_rows * i // n_parts for i in range(n_parts + 1)]
        return [slice(start, stop) for start, stop in itertools.pairwise(bounds)]

    def model_blocks(
        self, n_networks: int, n_samples: int, widths: list[int], itemsize: int
    ) -> list[slice]:
        """Blocks of networks whose forward and backward arrays fit in a core's cache.

        Parameters
        ----------
        n_networks : int
            The number of networks of the stack.
        n_samples : int
            The number of samples of the pass.
        widths : list of int
            The width of each layer.
        itemsize : int
            The number of bytes per number.

        Returns
        -------
        list of slice
            Contiguous blocks of networks covering [0, n_networks).
        """
        # Per network and layer, the pass keeps Z, A and dZ: 3 · n_samples · width numbers.
        per_network = 3 * n_samples * sum(widths) * itemsize
        size = max(1, min(MODEL_BLOCK_BYTES // per_network, -(-n_networks // _n_cores())))
        # Blocks of nearly equal size (6 networks of at most 4 a block: 3 + 3, not 4 + 2):
        # a small last block pays a whole pass's calls for a few networks.
        n_blocks = -(-n_networks // size)
        bounds = [n_networks * i // n_blocks for i in range(n_blocks + 1)]
        return [slice(start, stop) for start, stop in itertools.pairwise(bounds)]

    def map_blocks(
        self, fn: Callable[[slice], Any], blocks: list[slice], stack: bool = False
    ) -> list[Any]:
        """fn on each block, in parallel threads with single-threaded BLAS.

        A stack's blocks run with single-threaded BLAS even when there is one block:
        BLAS on several threads may sum in another order than on one, and a network's
        numbers must not depend on how many networks share its stack.

        Parameters
        ----------
        fn : callable
            ``fn(block) -> result``.
        blocks : list of slice
            The blocks.
        stack : bool, default False
            Whether the blocks are blocks of networks (always single-threaded BLAS).

        Returns
        -------
        list
            ``fn(block)`` for each block, in the blocks' order.
        """
        if len(blocks) == 1 and not stack:
            return [fn(blocks[0])]
        # One contiguous share of the blocks per core; this thread works on the first.
        n_shares = min(_n_cores(), len(blocks))
        bounds = [len(blocks) * i // n_shares for i in range(n_shares + 1)]
        shares = [blocks[start:stop] for start, stop in itertools.pairwise(bounds)]

        def run(share: list[slice]) -> list[Any]:
            return [fn(block) for block in share]

        with _blas_on_one_thread():
            futures = [_pool().submit(run, share) for share in shares[1:]]
            results = run(shares[0])
            for future in futures:
                results.extend(future.result())
        return results


# --- NumPy forms of activations: the registry's definitions written into buffers ----------
# Each is (forward(path, Z), slope(path, Z, A, out)), None where the registry's definition
# runs as written (into fresh arrays); the same element-wise operations in the
# same order as nn/activations.py (bit for bit the same numbers; the tests check it).
# The slope is written into ``out``, an array the kernel made for dZ (laid out like dA).


def _tanh_forward(path: NumpyPath, Z: Any) -> Any:
    return np.tanh(Z, out=path._like(Z))


def _tanh_slope(path: NumpyPath, Z: Any, A: Any, out: Any) -> Any:  # 1 - A·A
    slope = np.multiply(A, A, out=out)
    return np.subtract(1, slope, out=slope)


def _sigmoid_slope(path: NumpyPath, Z: Any, A: Any, out: Any) -> Any:  # A · (1 - A)
    slope = np.subtract(1, A, out=out)
    return np.multiply(A, slope, out=slope)


def _relu_forward(path: NumpyPath, Z: Any) -> Any:
    return np.maximum(Z, Z.dtype.type(0), out=path._like(Z))


def _relu_slope(path: NumpyPath, Z: Any, A: Any, out: Any) -> Any:  # Z > 0, as 1 or 0
    return np.greater(Z, 0, out=out)


def _leaky_relu_forward(path: NumpyPath, Z: Any) -> Any:
    A = np.multiply(Z, Z.dtype.type(LEAKY_SLOPE), out=path._like(Z))
    np.copyto(A, Z, where=np.greater(Z, 0, out=path._like(Z, bool)))
    return A


def _leaky_relu_slope(path: NumpyPath, Z: Any, A: Any, out: Any) -> Any:  # 1 where Z > 0, else
    slope = out  # the leaky slope
    slope[...] = LEAKY_SLOPE
    np.copyto(slope, 1, where=np.greater(Z, 0, out=path._like(Z, bool)))
    return slope


_FAST_ACTIVATIONS: dict[str, tuple[Callable[..., Any] | None, Callable[..., Any]]] = {
    "tanh": (_tanh_forward, _tanh_slope),
    "sigmoid": (None, _sigmoid_slope),
    "relu": (_relu_forward, _relu_slope),
    "leaky_relu": (_leaky_relu_forward, _leaky_relu_slope),
}


def per_network_matmul(A: Any, B: Any) -> Any:
    """A @ B[m] for each network m: A (n, k) shared, B (M, k, n_out) -> (M, n, n_out).

    NumPy's matmul broadcasts A over the model axis and calls BLAS once per network,
    with that network's shapes. Folding the model axis into one wide product
    (``nn.kernels.matmul_shared_input``) would hand BLAS a product whose width grows
    with M, and BLAS picks its kernels (and so its order of summation) by size: a
    network's numbers would then depend on how many networks share its block.

    Parameters
    ----------
    A : numpy.ndarray of shape (n, k)
        The factor every network shares (a layer's input, or its transpose).
    B : numpy.ndarray of shape (M, k, n_out)
        One factor per network.

    Returns
    -------
    numpy.ndarray of shape (M, n, n_out)
        A @ B[m] for each network m.
    """
    return np.matmul(A, B)


def _leading_shape(A: Any, B: Any) -> tuple[int, ...]:
    """The broadcast shape of A's and B's leading axes (a stack's model axis, or none).

    ``np.broadcast_shapes`` costs a few µs a call, several times a pass; a stack's
    factors have the same leading axes, or one of them has none.
    """
    lead_A, lead_B = A.shape[:-2], B.shape[:-2]
    if lead_A == lead_B or not lead_A:
        return lead_B
    if not lead_B:
        return lead_A
    return np.broadcast_shapes(lead_A, lead_B)


def _weighted_sum(weights: list[float], arrays: list[Any]) -> Any:
    """Σ_i weights[i] · arrays[i]."""
    total = weights[0] * arrays[0]
    for weight, array in zip(weights[1:], arrays[1:], strict=True):
        total = total + weight * array
    return total


_local = threading.local()  # the buffers of the pass this thread runs, its output layer's W


@contextlib.contextmanager
def _pass_layout(W: Any, n_features: int) -> Iterator[None]:
    """Inside, in this thread: ``_is_output_layer(W)`` holds (W is the pass's output layer),
    and a stack's products are feature-major up to the width its input's allows."""
    narrow = STACK_NARROW_INPUT if n_features <= STACK_NARROW else STACK_NARROW
    saved = getattr(_local, "output_weights", None), getattr(_local, "stack_narrow", STACK_NARROW)
    _local.output_weights, _local.stack_narrow = W, narrow
    try:
        yield
    finally:
        _local.output_weights, _local.stack_narrow = saved


def _narrow_enough(W: Any) -> bool:
    """Whether a stack's product with W (..., k, n_out) comes out feature-major by default:
    both widths at most ``STACK_NARROW``, or the wider limit of the pass (``_pass_layout``)."""
    return max(W.shape[-2:]) <= getattr(_local, "stack_narrow", STACK_NARROW)


def _is_output_layer(W: Any) -> bool:
    """Whether W is the output layer's weights of the training pass this thread runs."""
    return W is getattr(_local, "output_weights", None)


# What ``sys.getrefcount(buffers[i])`` counts for an array that only the list ``buffers``
# refers to (the list, the call's argument); a view of it, a cache or a variable adds one.
_listed = [np.empty(0)]
_ONLY_LISTED = sys.getrefcount(_listed[0])
del _listed


# The memory of the last finished NumPy training run, for the next one (see training_run).
_kept_memory: TrainingMemory | None = None
KEPT_MEMORY_BYTES = 256 * 2**20


def _n_cores() -> int:
    """The threads blocks run in: the usable cores, or SCRATCHML_NUM_THREADS if that is fewer.

    Inside a training run, as counted when it started (``_count_cores``).
    """
    memory = _training_memory.get()
    if memory is not None and memory.cores is not None:
        return memory.cores
    return _count_cores()


def _count_cores() -> int:
    """The usable cores, or SCRATCHML_NUM_THREADS if that is fewer.

    The number of threads sets how a batch is cut into blocks, and so the order of the
    sums: a fit on one thread rounds differently from a fit on two. It is read from a
    variable of scratchml's own, not from OMP_NUM_THREADS, so that a process whose
    OpenMP threads are capped (a Dask worker's are, by default) trains the same numbers
    as the process beside it. ``scratchml bench --threads N`` sets it.
    """
    cores = usable_cores()
    cap = os.environ.get(THREADS_VARIABLE, "").strip()
    if cap.isdigit() and int(cap) >= 1:
        return min(cores, int(cap))
    return cores


_pool_lock = threading.Lock()
_executor: ThreadPoolExecutor | None = None
_blas_controller: Any = None


def _pool() -> ThreadPoolExecutor:
    global _executor
    with _pool_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=max(_n_cores() - 1, 1))
        return _executor


def _blas_on_one_thread() -> contextlib.AbstractContextManager[Any]:
    """Single-threaded BLAS for a pass in blocks: in a training run, from now to its end.

    Limiting and restoring BLAS's threads around every pass cost about 5% of a small
    stack's training time (6 networks on 1,079 digits, one core, µs per network-epoch:
    64-16-10 183 -> 173, 64-32-32-10 453 -> 430), so a run limits them once, at its
    first pass in blocks, and restores them when it ends. Outside a run: around this
    pass only.
    """
    memory = _training_memory.get()
    if memory is None:
        return _single_threaded_blas()
    if not memory.blas_on_one_thread:
        memory.held_until_the_run_ends.enter_context(_single_threaded_blas())
        memory.blas_on_one_thread = True
    return contextlib.nullcontext()


_blas_limit_lock = threading.Lock()
_blas_limit_holders = 0  # contexts inside ``_single_threaded_blas``
_blas_limit: Any = None  # the limit they share (threadpoolctl's), while any holds it


@contextlib.contextmanager
def _single_threaded_blas() -> Iterator[None]:
    """BLAS on one thread (threadpoolctl, when installed) while any holder is inside.

    The limit is global to the process. Passes and runs in several threads share it:
    the first to enter sets it, the last to leave restores BLAS's threads, so one run's
    end never lets BLAS use several threads under another run's passes.
    """
    global _blas_limit_holders, _blas_limit
    with _blas_limit_lock:
        if _blas_limit_holders == 0:
            _blas_limit = _threadpool_limit()
            _blas_limit.__enter__()
        _blas_limit_holders += 1
    try:
        yield
    finally:
        with _blas_limit_lock:
            _blas_limit_holders -= 1
            if _blas_limit_holders == 0:
                _blas_limit.__exit__(None, None, None)
                _blas_limit = None


def _threadpool_limit() -> contextlib.AbstractContextManager[Any]:
    """threadpoolctl's context limiting BLAS to one thread, or nothing without it."""
    global _blas_controller
    try:
        import threadpoolctl
    except ImportError:
        return contextlib.nullcontext()
    with _pool_lock:
        if _blas_controller is None:
            _blas_controller = threadpoolctl.ThreadpoolController()
    return _blas_controller.limit(limits=1, user_api="blas")
