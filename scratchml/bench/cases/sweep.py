"""A sweep: the whole ``scratchml sweep`` of a mixed grid against a hand-written JAX script.

The grid mixes architectures (depth × width), so it trains as several stacks, one per
architecture, with per-network learning rates and seeds inside each. Both sides do the
same work on the same data: the two-arm spirals (training, validation and test draws of
``scratchml.sweep``), the same networks (2 → hidden → 1 logit, tanh, binary
cross-entropy, Adam, full batch), the same epochs and dtype, and score every network on
the three draws.

- scratchml: ``scratchml.sweep.run`` of the grid into a fresh folder, as a user runs it —
  chunks, stacks, rows, loss curves, stack files and best models written — without the
  report's pictures (``summary=False``: drawing them is not training);
- JAX ``vmap`` + ``jit``: per architecture, one network's loss gradient mapped over the
  networks, the whole fit (every epoch of Adam, per-network learning rates) one compiled
  ``lax.fori_loop``, then the three accuracies; compiled by the untimed warm-up call (the
  hand-written JAX of ``jax_baseline.py``, shared with the stack case).

The unit is one network-epoch: the report's rates are network-epochs per second.
"""

from __future__ import annotations

import itertools
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import environment
from . import jax_baseline
from .base import Case, Implementation, importable


@dataclass(frozen=True)
class SweepWorkload:
    """A mixed grid of spiral networks: depths × widths × learning rates × seeds."""

    name: str
    depths: tuple[int, ...]
    widths: tuple[int, ...]
    learning_rates: tuple[float, ...]
    seeds: int
    n_samples: int
    epochs: int
    calls: int  # timed calls per implementation, over all rounds

    @property
    def grid(self) -> dict:
        """The grid as ``scratchml.sweep.run`` takes it."""
        return {
            "n_samples": self.n_samples,
            "depth": list(self.depths),
            "width": list(self.widths),
            "learning_rate": list(self.learning_rates),
            "seeds": self.seeds,
        }

    @property
    def architectures(self) -> list[tuple[int, int]]:
        """(depth, width) of each stack, in grid order."""
        return list(itertools.product(self.depths, self.widths))

    @property
    def networks_per_stack(self) -> int:
        """Networks of one architecture: learning rates × seeds."""
        return len(self.learning_rates) * self.seeds

    @property
    def n_networks(self) -> int:
        """Networks of the whole grid."""
        return len(self.architectures) * self.networks_per_stack

    @property
    def title(self) -> str:
        """One line saying what the sweep is: its grid, data and epochs."""
        return (
            f"a sweep of {self.n_networks} networks in {len(self.architectures)} stacks: depth "
            f"{'/'.join(map(str, self.depths))} × width {'/'.join(map(str, self.widths))} × "
            f"{len(self.learning_rates)} learning rates × {self.seeds} seeds, tanh, Adam, "
            f"{self.n_samples} spiral points, {self.epochs} epochs"
        )

    @property
    def flops(self) -> float:
        """Matmul flops of one network-epoch, averaged over the grid's architectures."""
        total = 0.0
        for depth, width in self.architectures:
            sizes = [2, *([width] * depth), 1]
            total += 6 * self.n_samples * sum(a * b for a, b in itertools.pairwise(sizes))
        return total / len(self.architectures)


def _workloads(quick: bool) -> list[SweepWorkload]:
    if quick:
        # Two architectures (a depth each): a mixed grid, half the compilations.
        return [SweepWorkload("sweep-mixed", (1, 2), (8,), (0.01, 0.05), 4, 200, 20, 3)]
    return [SweepWorkload("sweep-mixed", (1, 2), (4, 16), (0.01, 0.05), 16, 400, 200, 3)]


def names(quick: bool) -> list[str]:
    """The names of the sweep cases."""
    return [work.name for work in _workloads(quick)]


def cases(backend_names: Sequence[str], devices: Sequence[str], quick: bool) -> list[Case]:
    """The sweep case on the CPU: scratchml's selected CPU backends and JAX vmap+jit."""
    if "cpu" not in devices:
        return []
    found = []
    for work in _workloads(quick):
        ours = [b for b in backend_names if environment.device_of(b) == "cpu"]
        per_call = work.n_networks * work.epochs
        implementations = [
            Implementation("scratchml", backend, "cpu", _scratchml(work, backend), per_call)
            for backend in ours
        ]
        if importable("jax"):
            implementations.append(Implementation("jax-vmap", "jax", "cpu", _jax(work), per_call))
        found.append(
            Case(
                name=work.name,
                title=work.title,
                dtype="float32",
                unit="network-epoch",
                flops=work.flops,
                calls=work.calls,
                implementations=implementations,
            )
        )
    return found


def _scratchml(work: SweepWorkload, backend: str):
    def prepare():
        from ... import sweep

        folder = Path(tempfile.mkdtemp(prefix="scratchml-bench-sweep-"))
        calls = itertools.count()

        def run_sweep():
            out = folder / f"run-{next(calls)}"
            sweep.run(
                work.grid,
                out,
                epochs=work.epochs,
                backend=backend,
                dtype="float32",
                summary=False,
                progress=False,
            )

        run_sweep()  # untimed: imports, first allocations
        return run_sweep

    return prepare


def _spirals(work: SweepWorkload):
    """The training, validation and test draws of the sweep's spirals (NumPy, float32)."""
    from ... import data
    from ...sweep import Settings

    settings = Settings(epochs=work.epochs)
    seeds = (settings.data_seed, settings.data_seed + 2, settings.data_seed + 1)
    return [
        data.spirals(n_samples=work.n_samples, arms=2, turns=1.0, noise=0.05, seed=s) for s in seeds
    ]


def _initial(work: SweepWorkload, depth: int, width: int) -> list[np.ndarray]:
    """Normal weights scaled by 1/√fan-in, zero biases, one set per network, on the host."""
    sizes = [2, *([width] * depth), 1]
    params: list[list[np.ndarray]] = [[] for _ in range(2 * depth + 2)]
    for _ in work.learning_rates:
        for seed in range(work.seeds):
            generator = np.random.default_rng(seed)
            for layer, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
                W = generator.standard_normal((n_in, n_out)) / np.sqrt(n_in)
                params[2 * layer].append(W.astype(np.float32))
                params[2 * layer + 1].append(np.zeros(n_out, np.float32))
    return [np.stack(p) for p in params]


def _jax(work: SweepWorkload):
    def prepare():
        import jax
        import jax.numpy as jnp

        target = jax_baseline.jax_device("cpu")
        (X, y), (X_val, y_val), (X_test, y_test) = [
            (jax.device_put(X, target), jax.device_put(y.astype(np.float32), target))
            for X, y in _spirals(work)
        ]
        rates = np.repeat(np.asarray(work.learning_rates, np.float32), work.seeds)

        def fit_one(net, rate):
            """One network's whole fit, then its three accuracies (vmapped over networks)."""

            def epoch(t, state):
                net, m, v = state
                grads = jax.grad(jax_baseline.loss)(net, X, y)
                return jax_baseline.adam(net, m, v, grads, rate, (t + 1).astype(jnp.float32))

            net, _, _ = jax.lax.fori_loop(0, work.epochs, epoch, jax_baseline.adam_start(net))
            return tuple(
                jax_baseline.accuracy(net, *draw)
                for draw in ((X, y), (X_val, y_val), (X_test, y_test))
            )

        fit_all = jax.jit(jax.vmap(fit_one))
        stacks = {arch: _initial(work, *arch) for arch in work.architectures}

        def run_script():
            """Every stack fitted; per architecture, (train, validation, test) accuracies."""
            scores = {}
            for arch in work.architectures:
                net = [jax.device_put(p, target) for p in stacks[arch]]
                scores[arch] = jax.block_until_ready(fit_all(net, jax.device_put(rates, target)))
            return scores

        run_script()  # untimed: compiles each architecture's fit
        return run_script

    return prepare
