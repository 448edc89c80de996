"""Stacks: M networks trained at once, against the alternatives a sweep user would pick.

Every implementation trains the same M networks (2 → hidden → 1 logit, tanh, binary
cross-entropy, Adam, full batch) on the same two-arm spiral points for the same number of
epochs, on the same device. A timed call is a whole fit from the host: the M networks'
initial parameters drawn on the host with NumPy, moved to the device, then ``epochs``
epochs — for every implementation alike (scratchml's ``fit`` does all of it; the peers
do the same steps inside their timed call). JAX's step is compiled by the untimed warm-up
call.

- scratchml: ``StackedMLPClassifier`` on each selected backend of the case's device, its
  initial weights drawn in one call per array like the peers' (``host_parameters``);
- one by one: the ordinary ``MLPClassifier`` fitted for network i's seed, M times (on the
  GPU a subset of the networks, timed and scaled to M);
- PyTorch stacked: the M networks as one batch of matrix products (``torch.baddbmm``)
  with autograd and ``torch.optim.Adam``;
- JAX ``vmap`` + ``jit``: one network's loss gradient mapped over the model axis, the Adam
  step compiled (the hand-written JAX of ``jax_baseline.py``, shared with the sweep case).

CPU cases: 256 networks 2→8→8→2 on 200 points, and 2→16→16→2 on 1,000 points; GPU case
(when a selected backend runs on the GPU): 4,096 networks 2→32→32→2 on 2,000 points.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

import scratchml as sm

from .. import environment
from . import jax_baseline
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
from .training import on, per_epoch

LEARNING_RATE = 0.01


@dataclass(frozen=True)
class StackWorkload:
    name: str
    n_networks: int
    hidden: tuple[int, ...]
    n_samples: int
    epochs: int  # epochs per timed call
    calls: int  # timed calls per implementation, over all rounds
    loop_models: int  # networks the one-by-one loop fits per call (scaled to n_networks)
    device: str

    @property
    def title(self) -> str:
        """One line saying what the stack is: networks, widths, activation, optimizer."""
        widths = "→".join(str(width) for width in (2, *self.hidden, 2))
        return (
            f"{self.n_networks:,} networks {widths} tanh, Adam, full batch, "
            f"{self.n_samples:,} spiral points"
        )

    @property
    def widths(self) -> tuple[int, ...]:
        """Layer widths as computed: two classes train one logit."""
        return (2, *self.hidden, 1)

    @property
    def flops(self) -> int:
        """Matmul flops of one epoch of all networks."""
        per_network = sum(a * b for a, b in itertools.pairwise(self.widths))
        return 6 * self.n_samples * per_network * self.n_networks

    def smaller(self) -> StackWorkload:
        """A copy with 4 networks on 64 points (for counting operations: same code path)."""
        return StackWorkload(self.name, 4, self.hidden, 64, 1, 1, 4, "cpu")


def _workloads(quick: bool) -> list[StackWorkload]:
    if quick:
        return [
            StackWorkload("stack-8", 32, (8, 8), 200, 5, 3, 32, "cpu"),
            StackWorkload("stack-16", 32, (16, 16), 1_000, 3, 3, 32, "cpu"),
            StackWorkload("stack-32-gpu", 4_096, (32, 32), 2_000, 3, 3, 16, "cuda"),
        ]
    return [
        StackWorkload("stack-8", 256, (8, 8), 200, 20, 6, 256, "cpu"),
        StackWorkload("stack-16", 256, (16, 16), 1_000, 5, 3, 256, "cpu"),
        StackWorkload("stack-32-gpu", 4_096, (32, 32), 2_000, 20, 3, 16, "cuda"),
    ]


def names(quick: bool) -> list[str]:
    """The names of the stack cases (the small ones with ``quick``)."""
    return [work.name for work in _workloads(quick)]


def cases(backend_names: Sequence[str], devices: Sequence[str], quick: bool) -> list[Case]:
    """The stack cases for ``backend_names`` on ``devices`` (smaller with ``quick``)."""
    found = []
    for work in _workloads(quick):
        if work.device not in devices:
            continue
        ours = [b for b in backend_names if environment.device_of(b) == work.device]
        found.append(
            Case(
                name=work.name,
                title=work.title,
                dtype="float32",
                unit="epoch of all networks",
                flops=work.flops,
                calls=work.calls,
                implementations=_implementations(work, ours),
                op_counts=_op_counts(work),
                compile_times=_compile_times(work, ours, compile_tries(quick)),
            )
        )
    return found


def _implementations(work: StackWorkload, ours: Sequence[str]) -> list[Implementation]:
    found = [
        Implementation("scratchml", backend, work.device, _stacked(work, backend), work.epochs)
        for backend in ours
    ]
    loop_backend = "numpy" if work.device == "cpu" else ("cupy" if "cupy" in ours else None)
    if loop_backend:
        per_call = work.epochs * work.loop_models / work.n_networks
        found.append(
            Implementation(
                "one-by-one", loop_backend, work.device, _one_by_one(work, loop_backend), per_call
            )
        )
    if importable("torch"):
        found.append(
            Implementation("pytorch-stacked", "torch", work.device, _pytorch(work), work.epochs)
        )
    if importable("jax"):
        found.append(Implementation("jax-vmap", "jax", work.device, _jax(work), work.epochs))
    return found


def _data(work: StackWorkload, backend: str = "numpy"):
    X, y = sm.data.spirals(work.n_samples, arms=2, seed=0)
    return on(X, backend, work.device), on(y, backend, work.device)


def _stack(work: StackWorkload, epochs: int):
    """scratchml's stack of the workload, drawing its initial weights as the peers do."""
    from scratchml.stacks import StackedMLPClassifier

    class OneDraw(StackedMLPClassifier):
        """Draws all M networks' weights in one call per array (``host_parameters``), as
        the peers do, instead of one generator and one draw per network (4,096 of them
        on the GPU case): the timed work is the same for every implementation."""

        def _generator(self):
            return sm.backends.rng(0)  # one generator (full batch: it never shuffles)

        def _initial_params(self, sizes, like, generator):
            host = host_parameters(work)
            return [
                (sm.backends.asarray(W, like=like), sm.backends.asarray(b, like=like))
                for W, b in zip(host[::2], host[1::2], strict=True)
            ]

    return OneDraw(
        n_networks=work.n_networks,
        hidden_layers=work.hidden,
        activation="tanh",
        optimizer="adam",
        learning_rate=LEARNING_RATE,
        epochs=epochs,
        seed=0,
    )


def _stacked(work: StackWorkload, backend: str):
    def prepare():
        if backend == "jax":
            x64_for("float32")
        X, y = _data(work, backend)
        stack = _stack(work, work.epochs)
        chunks: dict = {}

        def fit():
            with chunk_length_kept(chunks):
                stack.fit(X, y)
            environment.wait(stack.params_[0][0])

        return fit

    return prepare


def _one_by_one(work: StackWorkload, backend: str):
    def prepare():
        X, y = _data(work, backend)
        singles = [
            sm.MLPClassifier(
                hidden_layers=work.hidden,
                activation="tanh",
                optimizer="adam",
                learning_rate=LEARNING_RATE,
                epochs=work.epochs,
                seed=i,
                tol=None,
            )
            for i in range(work.loop_models)
        ]

        chunks: dict = {}

        def fit_all():
            with chunk_length_kept(chunks):
                for model in singles:
                    model.fit(X, y)
            environment.wait(singles[-1].params_[0][0])

        return fit_all

    return prepare


def host_parameters(work: StackWorkload) -> list[np.ndarray]:
    """Initial parameters of the M networks on the host: [W1, b1, W2, b2, ...], LeCun normal."""
    generator = np.random.default_rng(0)
    params = []
    for n_in, n_out in itertools.pairwise(work.widths):
        W = generator.standard_normal((work.n_networks, n_in, n_out)) / np.sqrt(n_in)
        params += [W.astype(np.float32), np.zeros((work.n_networks, n_out), np.float32)]
    return params


def _torch_fit(torch, work: StackWorkload, device: str):
    """A function fitting the M networks for ``epochs`` epochs from host parameters."""
    X_host, y_host = sm.data.spirals(work.n_samples, arms=2, seed=0)
    X = torch.asarray(X_host, device=device).expand(work.n_networks, -1, -1)
    Y = torch.asarray(y_host.astype(np.float32), device=device)
    Y = Y.reshape(1, -1, 1).expand(work.n_networks, -1, -1)

    def fit(epochs: int) -> None:
        with torch.enable_grad():
            params = [
                torch.asarray(p, device=device).requires_grad_() for p in host_parameters(work)
            ]
            optimizer = torch.optim.Adam(params, lr=LEARNING_RATE)
            for _ in range(epochs):
                optimizer.zero_grad()
                A = X
                for layer in range(0, len(params), 2):
                    A = torch.baddbmm(params[layer + 1].unsqueeze(1), A, params[layer])
                    if layer + 2 < len(params):
                        A = torch.tanh(A)
                # Each network's mean loss; their sum gives each network its own gradient.
                losses = torch.nn.functional.binary_cross_entropy_with_logits(
                    A, Y, reduction="none"
                ).mean(dim=(1, 2))
                losses.sum().backward()
                optimizer.step()
        if device == "cuda":
            torch.cuda.synchronize()

    return fit


def _pytorch(work: StackWorkload):
    def prepare():
        import torch

        if work.device == "cuda" and not torch.cuda.is_available():
            raise UnavailableError("torch sees no CUDA device")
        fit = _torch_fit(torch, work, work.device)
        return lambda: fit(work.epochs)

    return prepare


def _jax(work: StackWorkload):
    def prepare():
        import jax

        x64_for("float32")
        target = jax_baseline.jax_device(work.device)
        X_host, y_host = sm.data.spirals(work.n_samples, arms=2, seed=0)
        X = jax.device_put(X_host, target)
        y = jax.device_put(y_host.astype(np.float32), target)
        grad_all = jax.vmap(jax.grad(jax_baseline.loss), in_axes=(0, None, None))

        @jax.jit
        def step(state, t):
            params, m, v = state
            return jax_baseline.adam(params, m, v, grad_all(params, X, y), LEARNING_RATE, t)

        def fit():
            params = [jax.device_put(p, target) for p in host_parameters(work)]
            state = jax_baseline.adam_start(params)
            for t in range(1, work.epochs + 1):
                state = step(state, float(t))
            jax.block_until_ready(state)

        return fit

    return prepare


def _op_counts(work: StackWorkload) -> dict:
    """Who → operations per epoch of all networks, on torch CPU tensors (a small copy)."""
    if not importable("torch"):
        return {}
    small = work.smaller()

    def pytorch() -> float:
        import torch

        return per_epoch(_torch_fit(torch, small, "cpu"))

    counts = {"PyTorch stacked (bmm)": pytorch}
    if not sm.backends.why_unavailable("torch"):

        def scratchml() -> float:
            X, y = _data(small, "torch")
            return per_epoch(lambda epochs: _stack(small, epochs).fit(X, y))

        counts["scratchml · torch"] = scratchml
    return counts


def _compile_times(work: StackWorkload, ours: Sequence[str], tries: int) -> dict:
    """scratchml on JAX: the first fit's compile time (two epochs, cold less warm)."""
    if "jax" not in ours:
        return {}

    def scratchml() -> float:
        x64_for("float32")
        X, y = _data(work, "jax")

        def fit():
            stack = _stack(work, 2).fit(X, y)
            environment.wait(stack.params_[0][0])

        return compile_seconds(fit, tries)

    return {"scratchml · jax": scratchml}
