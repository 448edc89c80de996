"""The JAX speed path: training compiled by XLA with ``jax.jit``.

A chunk of full-batch epochs is one compiled loop, a mini-batch epoch one compiled
function. Each step in them is the learner's math as written (``layers.loss_and_gradients``:
forward, loss, backward; the optimizer's ``step`` over the flat parameter vector); JAX traces it once and XLA
fuses its element-wise work into a few kernels, which is what the reference's
operation-by-operation form costs most of on an accelerator. This works because
the math is pure: no host reads inside a step, no arrays written in place,
optimizers that return new state.

Compiled epochs are kept per network shape, loss, activations and optimizer rule,
with the learning rate and the L2 penalty as arguments: warm-started fits,
``partial_fit`` calls and a sweep's stacks of one architecture compile once.

A loss of one output (binary cross-entropy, one regression target) is evaluated with
its samples along the last axis, where XLA's CPU code vectorises.

On a CPU, a stack's pass runs over blocks of networks (``jax.lax.map``), as the
NumPy path does: XLA runs each operation over the whole array it is given, and a
whole stack's activations (M · n_samples · width numbers) do not fit in cache, so
every element-wise pass would go to memory. A block's arrays stay in cache. On a
GPU the whole stack is one pass: there the parallelism is the speed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import jax

from ..nn import layers
from ..nn.losses import get_loss
from .reference import LossAndGradients, Params, Reference

# (epoch, plan, rows, activations, loss, penalised, layout, optimizer class, its
# hyper-parameters) -> the jitted chunk of epochs
_COMPILED: dict[tuple[Any, ...], Any] = {}

# The activations of one block of networks (n_samples x the widest layer, per network)
# on a CPU. Measured on 2 cores, one XLA thread (256 networks 2-16-16-1 on 1,000 points,
# float32, loss and gradients): 55 ms as one pass; 27-30 ms in blocks of 0.5-4 MiB.
BLOCK_BYTES = 2**20

# On a CPU, a network whose layers are all at most this wide trains on the transposes of its
# arrays (``_FeatureMajor``). Measured on one core, 32 networks on 400 spiral points, tanh,
# the gradient of each network written by hand in JAX, µs per network-epoch, (n, width)
# against (width, n): 2-4-1 8.1 -> 4.4, 2-16-1 21.5 -> 12.6, 2-4-4-1 16.7 -> 8.2,
# 2-16-16-1 51.4 -> 32.7.
NARROW = 64

# layout -> jitted (flatten, views): one call each instead of an eager operation per array
_MAPS: dict[Any, tuple[Any, Any]] = {}


def compiled_count() -> int:
    """How many compiled training functions are kept (one per architecture, loss and rule).

    Returns
    -------
    int
        The number of compiled training functions in the cache.
    """
    return len(_COMPILED)


def clear_compiled() -> None:
    """Forget the compiled training functions: the next fit of each shape traces and compiles."""
    _COMPILED.clear()
    _MAPS.clear()


class JaxPath(Reference):
    """JAX arrays: the reference step, compiled into chunks of epochs."""

    name = "jax"

    def loss_and_gradient(self, xp: Any, name: str, logits: Any, Y: Any) -> tuple[Any, Any]:
        """The loss and ∂loss/∂logits; one output's element-wise loss with the samples last.

        XLA's CPU code vectorises along the last axis, so on (..., n, 1) arrays exp and
        log1p run one number at a time (4-6x slower than on (..., 1, n); their fused sum
        about 50x). An element-wise loss of one output runs on its transposes, (..., 1, n)
        (``Loss.transposed_value_and_gradient``).
        """
        loss = get_loss(name)
        if logits.shape[-1] != 1 or Y.shape[-1] != 1 or loss.normaliser is None:
            return loss.value_and_gradient(xp, logits, Y)
        value, grad_t = loss.transposed_value_and_gradient(
            xp, xp.matrix_transpose(logits), xp.matrix_transpose(Y)
        )
        return value, xp.matrix_transpose(grad_t)

    def training_epochs(
        self,
        xp: Any,
        objective: Any,
        layout: Any,
        optimizer: Any,
        epoch: Callable[..., tuple[Any, ...]],
        plan: Any,
        capacity: int,
    ) -> Callable[..., tuple[Any, ...]]:
        """Epochs in one compiled call (see ``Reference.training_epochs``).

        A ``jax.lax.fori_loop`` whose length is an argument, not a constant: chunks of any
        length run the one compiled loop. Each epoch's loss is written into a buffer of
        ``capacity`` rows (one row for a mini-batch epoch), read by the host after the call.
        """
        rows = capacity if plan.batch_size is None else 1
        guarded = plan.stack and plan.batch_size is None

        def epochs(path: Reference, xp: Any, objective: Any, rule: Any, *arrays: Any) -> Any:
            theta, state, X, Y, orders, offsets, alive, kept, n_epochs = arrays
            steps = (
                Reference.training_step(path, xp, objective, layout, rule),
                Reference.training_step(path, xp, objective, layout, rule, True)
                if guarded
                else None,
            )

            def body(i: Any, carry: tuple[Any, ...]) -> tuple[Any, ...]:
                theta, state, losses, alive, kept, _ = carry
                order = None if orders is None else orders[i, ...]
                new_theta, new_state, loss, alive, kept = epoch(
                    xp, path, steps, plan, theta, state, X, Y, order, offsets, alive, kept
                )
                losses = losses.at[i].set(loss)
                return new_theta, new_state, losses, alive, kept, (theta, state)

            losses = xp.zeros((rows, *theta.shape[:-1]), dtype=theta.dtype)
            carry = (theta, state, losses, alive, kept, (theta, state))
            return jax.lax.fori_loop(0, n_epochs, body, carry)

        return self._compiled((epoch, plan, rows), epochs, xp, objective, layout, optimizer)

    def parameter_maps(
        self, xp: Any, layout: Any
    ) -> tuple[Callable[[Params], Any], Callable[[Any], Params]]:
        """θ from the parameters and back, each one compiled call (eager, one per array)."""
        if layout not in _MAPS:
            flatten, views = super().parameter_maps(xp, layout)
            _MAPS[layout] = (jax.jit(flatten), jax.jit(views))
        return _MAPS[layout]

    def scan(self, body: Callable[[Any, Any], Any], carry: Any, xs: tuple[Any, ...]) -> Any:
        """``jax.lax.scan``: the body is traced and compiled once, whatever the length."""
        return jax.lax.scan(lambda c, x: (body(c, x), None), carry, xs)[0]

    def _compiled(
        self,
        what: tuple[Any, ...],
        function: Callable[..., Any],
        xp: Any,
        objective: Any,
        layout: Any,
        optimizer: Any,
    ) -> Callable[..., Any]:
        """``function(path, xp, objective, rule, *arrays)`` compiled, for this run's rate and l2.

        Kept per (what, activations, loss, penalised, layout, optimizer rule and its
        hyper-parameters); the learning rate and the penalty are traced arguments.
        """
        activations, loss, l2 = objective
        penalised = layers.is_penalised(l2)
        kind = type(optimizer)
        hyperparameters = tuple((name, getattr(optimizer, name)) for name in kind.settings)
        key = (what, tuple(activations), loss, penalised, layout, kind, hyperparameters)
        compiled = _COMPILED.get(key)
        if compiled is None:

            def run_compiled(rate: Any, l2: Any, *arrays: Any, on_cpu: bool) -> Any:
                rule = kind(rate, **dict(hyperparameters))
                path = (
                    (_FeatureMajorBlocks() if _narrow(layout) else _NetworkBlocks())
                    if on_cpu
                    else self
                )
                return function(path, xp, (activations, loss, l2), rule, *arrays)

            compiled = _COMPILED[key] = jax.jit(run_compiled, static_argnames="on_cpu")
        rate = optimizer.learning_rate
        # A penalty goes in as an array (a traced value, not a constant baked into the code).
        l2_value = xp.asarray(l2) if penalised else 0.0
        on_cpu: list[bool] = []  # where the run's arrays are, learnt at its first call

        def run(theta: Any, *arrays: Any) -> Any:
            if not on_cpu:
                on_cpu.append(all(d.platform == "cpu" for d in theta.devices()))
            return compiled(rate, l2_value, theta, *arrays, on_cpu=on_cpu[0])

        return run


class _NetworkBlocks(JaxPath):
    """The pass of a stack on a CPU: blocks of networks whose activations fit in cache."""

    def loss_and_gradients(
        self, xp: Any, activations: Sequence[str], loss: str, l2: Any
    ) -> LossAndGradients:
        whole = super().loss_and_gradients(xp, activations, loss, l2)

        def run(params: Params, X: Any, Y: Any) -> tuple[Any, Params]:
            W0 = params[0][0]
            if W0.ndim < 3:
                return whole(params, X, Y)  # one network
            n_networks = W0.shape[0]
            widest = max(W.shape[-1] for W, _ in params)
            per_network = X.shape[-2] * max(widest, X.shape[-1]) * X.dtype.itemsize
            size = max(1, BLOCK_BYTES // per_network)
            n_blocks = n_networks // size
            if n_blocks < 2:
                return whole(params, X, Y)
            # Per-network arrays split along the model axis; a shared X or Y is shared.
            networks = (params, X if X.ndim == 3 else None, Y if Y.ndim == 3 else None)
            penalties = l2 if getattr(l2, "ndim", 0) == 1 else None

            def block(start: int, stop: int | None, reshape: bool) -> tuple[Any, Params]:
                def part(a: Any) -> Any:
                    a = a[start:stop]
                    return xp.reshape(a, (n_blocks, size, *a.shape[1:])) if reshape else a

                return jax.tree.map(part, (networks, penalties))

            def one_block(part: Any) -> tuple[Any, Params]:
                (p, X_part, Y_part), l2_part = part
                pass_ = super(_NetworkBlocks, self).loss_and_gradients(
                    xp, activations, loss, l2 if l2_part is None else l2_part
                )
                return pass_(p, X if X_part is None else X_part, Y if Y_part is None else Y_part)

            full = n_blocks * size
            value, grads = jax.lax.map(one_block, block(0, full, reshape=True))
            value, grads = jax.tree.map(
                lambda a: xp.reshape(a, (full, *a.shape[2:])), (value, grads)
            )
            if full < n_networks:  # the networks left over: one smaller block
                rest = one_block(block(full, None, reshape=False))
                value, grads = jax.tree.map(
                    lambda a, b: xp.concat([a, b], axis=0), (value, grads), rest
                )
            return value, grads

        return run


def _narrow(layout: Any) -> bool:
    """Whether every layer of ``layout`` (``nn.parameters.ParameterLayout``) is at most NARROW wide."""
    return max(max(shape) for shape in layout.shapes) <= NARROW


class _FeatureMajor(JaxPath):
    """The CPU pass of a narrow network or stack, on the transposes of its arrays.

    XLA's CPU code vectorises element-wise work along an array's last axis. A narrow
    network's arrays (n_samples, width) have 2 to 64 numbers there, and its tanh, its
    bias and the derivatives run a few numbers at a time; on their transposes (width,
    n_samples) they run along the samples (a pass 1.6 to 2x faster; see NARROW). This
    pass is ``layers.loss_and_gradients`` as written, given Xᵀ and Yᵀ: every array it
    passes between the kernels is the transpose of the one its comments name (Zᵀ, Aᵀ,
    dZᵀ, ...), and the kernels below compute the same formulas on transposes:

        Zᵀ = Wᵀ A_prevᵀ + b        dW = (dZᵀ A_prev)ᵀ        db = Σ_samples dZᵀ
        dA_prevᵀ = W dZᵀ           act and act' element-wise, as they are

    The parameters and their gradients are the parameters' own shapes. A stack's blocks of
    networks (``_FeatureMajorBlocks``) are cut first, then each block's pass runs so.
    """

    def loss_and_gradients(
        self, xp: Any, activations: Sequence[str], loss: str, l2: Any
    ) -> LossAndGradients:
        transposed = super().loss_and_gradients(xp, activations, loss, l2)

        def run(params: Params, X: Any, Y: Any) -> tuple[Any, Params]:
            return transposed(params, xp.matrix_transpose(X), xp.matrix_transpose(Y))

        return run

    def dense(self, xp: Any, A_prev: Any, W: Any, b: Any) -> Any:
        """Zᵀ = Wᵀ A_prevᵀ + b, from A_prevᵀ (..., n_in, n)."""
        return xp.matrix_transpose(W) @ A_prev + b[..., :, None]

    def weight_gradient(self, xp: Any, A_prev: Any, dZ: Any) -> Any:
        """dW = A_prevᵀ @ dZ = (dZᵀ A_prev)ᵀ, from A_prevᵀ (..., n_in, n) and dZᵀ (..., n_out, n).

        Both operands contract over their last axis, the samples, where they lie in memory:
        XLA then copies no (n, width) transpose of dZᵀ before the product, only its small
        (n_out, n_in) result (sweep-digits on JAX, one core: 7% less time per network-epoch).
        """
        return xp.matrix_transpose(dZ @ xp.matrix_transpose(A_prev))

    def bias_gradient(self, xp: Any, dZ: Any) -> Any:
        """db = Σ_samples dZ, from dZᵀ (..., n_out, n)."""
        return xp.sum(dZ, axis=-1)

    def input_gradient(self, xp: Any, dZ: Any, W: Any) -> Any:
        """dA_prevᵀ = W dZᵀ = (dZ Wᵀ)ᵀ, from dZᵀ (..., n_out, n)."""
        return W @ dZ

    def loss_and_gradient(self, xp: Any, name: str, logits: Any, Y: Any) -> tuple[Any, Any]:
        """The loss of logitsᵀ (..., n_outputs, n) against Yᵀ, and its gradient's transpose.

        A loss with a form on the transposes (``Loss.transposed_value_and_gradient``: an
        element-wise loss, or the softmax with its class reductions along axis -2) runs
        there, every pass along the samples; any other runs on the logits, as ``JaxPath``
        runs it.
        """
        loss = get_loss(name)
        if loss.has_transposed_form:
            return loss.transposed_value_and_gradient(xp, logits, Y)
        value, grad = super().loss_and_gradient(
            xp, name, xp.matrix_transpose(logits), xp.matrix_transpose(Y)
        )
        return value, xp.matrix_transpose(grad)


class _FeatureMajorBlocks(_NetworkBlocks, _FeatureMajor):
    """A narrow stack on a CPU: blocks of networks, each block's pass on the transposes."""
