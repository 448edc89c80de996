"""Sweeps: the whole ``scratchml sweep`` of a grid against the scripts a researcher would write.

Two cases. *sweep-mixed* sweeps the spirals against a hand-written JAX script;
*sweep-digits* sweeps a real data set (scikit-learn's handwritten digits, written to a CSV
file) against the same JAX script and scikit-learn's ``GridSearchCV`` over
``MLPClassifier``.

sweep-mixed
-----------

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

sweep-digits
------------

scikit-learn's ``load_digits`` (1,797 8 × 8 images: 64 features, ten classes, shipped with
scikit-learn, nothing downloaded) is written to a CSV file in a fresh folder and read back
with ``scratchml.sweep.read_file``, as a researcher brings it to ``scratchml sweep --data``.
Every implementation trains the same networks on the same rows: the sweep's held-out split
(``userdata.split`` with data seed 0: 60% training, 20% validation, 20% test), each feature
standardised by the training rows' mean and sd; 64 → hidden → 10, tanh, softmax
cross-entropy, no L2, full-batch Adam, the same epochs, float32.

- scratchml: ``scratchml.sweep.run(X, y, grid, out, standardize=True)`` on the user-data
  path, into a fresh folder, without the report's pictures (``summary=False``);
- scikit-learn: ``GridSearchCV(MLPClassifier(solver="adam", batch_size=n_train,
  max_iter=epochs, tol=0, n_iter_no_change never reached, alpha=0, shuffle=False),
  param_grid=the grid, cv=[(training rows, validation rows)], refit=False, n_jobs=1)``
  over the standardised rows: every network runs every epoch and is scored on its
  training and validation rows (``return_train_score``; GridSearchCV has no test rows);
- JAX ``vmap`` + ``jit``: the script of sweep-mixed with ten softmax outputs, scored on
  the three parts.

The unit of both cases is one network-epoch: the report's rates are network-epochs per
second.
"""

from __future__ import annotations

import csv
import itertools
import tempfile
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .. import environment
from . import jax_baseline
from .base import Case, Implementation, importable


@dataclass(frozen=True)
class _GridWorkload:
    """What both sweep cases share: a grid of depths × widths × learning rates × seeds,
    one stack per architecture (``sizes`` and ``rows`` say its layers and training rows)."""

    name: str
    depths: tuple[int, ...]
    widths: tuple[int, ...]
    learning_rates: tuple[float, ...]
    seeds: int

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

    def sizes(self, depth: int, width: int) -> list[int]:
        """The layer sizes of one architecture, input to output."""
        raise NotImplementedError

    @property
    def rows(self) -> int:
        """The training rows every network's epoch runs over."""
        raise NotImplementedError

    @property
    def flops(self) -> float:
        """Matmul flops of one network-epoch, averaged over the grid's architectures."""
        total = 0.0
        for depth, width in self.architectures:
            sizes = self.sizes(depth, width)
            total += 6 * self.rows * sum(a * b for a, b in itertools.pairwise(sizes))
        return total / len(self.architectures)

    def case(self, title: str, calls: int, implementations: list[Implementation]) -> Case:
        """The bench case timing ``implementations`` on this grid, per network-epoch."""
        return Case(
            name=self.name,
            title=title,
            dtype="float32",
            unit="network-epoch",
            flops=self.flops,
            calls=calls,
            implementations=implementations,
        )


@dataclass(frozen=True)
class SweepWorkload(_GridWorkload):
    """A mixed grid of spiral networks: depths × widths × learning rates × seeds."""

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

    def sizes(self, depth: int, width: int) -> list[int]:
        """2 → hidden → 1 logit."""
        return [2, *([width] * depth), 1]

    @property
    def rows(self) -> int:
        """The spiral points of the training draw."""
        return self.n_samples

    @property
    def title(self) -> str:
        """One line saying what the sweep is: its grid, data and epochs."""
        return (
            f"a sweep of {self.n_networks} networks in {len(self.architectures)} stacks: depth "
            f"{'/'.join(map(str, self.depths))} × width {'/'.join(map(str, self.widths))} × "
            f"{len(self.learning_rates)} learning rates × {self.seeds} seeds, tanh, Adam, "
            f"{self.n_samples} spiral points, {self.epochs} epochs"
        )


DIGITS_FEATURES, DIGITS_CLASSES = 64, 10
DIGITS_ROWS = 1797  # scikit-learn's load_digits
DIGITS_DATA_SEED = 0  # the sweep's default data seed: its held-out split of the rows


@dataclass(frozen=True)
class DigitsWorkload(_GridWorkload):
    """A grid of digit classifiers: depths × widths × learning rates × seeds."""

    epochs: int
    calls: int  # timed calls per implementation, over all rounds

    @property
    def grid(self) -> dict:
        """The grid as ``scratchml.sweep.run`` takes it (tanh, Adam and no L2: its defaults)."""
        return {
            "depth": list(self.depths),
            "width": list(self.widths),
            "activation": "tanh",
            "optimizer": "adam",
            "learning_rate": list(self.learning_rates),
            "l2": 0.0,
            "seeds": self.seeds,
        }

    @property
    def n_train(self) -> int:
        """Training rows of the held-out split (the rest: 20% validation, 20% test)."""
        from ...sweep import userdata

        return len(userdata.split(DIGITS_ROWS, 0, 0, DIGITS_DATA_SEED)[0])

    def sizes(self, depth: int, width: int) -> list[int]:
        """64 pixels → hidden → 10 logits."""
        return [DIGITS_FEATURES, *([width] * depth), DIGITS_CLASSES]

    @property
    def rows(self) -> int:
        """The training rows of the held-out split."""
        return self.n_train

    @property
    def title(self) -> str:
        """One line saying what the sweep is: its grid, data and epochs."""
        return (
            f"a sweep of {self.n_networks} networks in {len(self.architectures)} stacks on "
            f"scikit-learn's digits (CSV, {DIGITS_FEATURES} features, {DIGITS_CLASSES} "
            f"classes, {self.n_train} training rows, standardised): depth "
            f"{'/'.join(map(str, self.depths))} × width {'/'.join(map(str, self.widths))} × "
            f"{len(self.learning_rates)} learning rates × {self.seeds} seeds, tanh, "
            f"full-batch Adam, {self.epochs} epochs"
        )


def _workloads(quick: bool) -> list[SweepWorkload]:
    if quick:
        # Two architectures (a depth each): a mixed grid, half the compilations.
        return [SweepWorkload("sweep-mixed", (1, 2), (8,), (0.01, 0.05), 4, 200, 20, 3)]
    return [SweepWorkload("sweep-mixed", (1, 2), (4, 16), (0.01, 0.05), 16, 400, 200, 3)]


def _digits_workloads(quick: bool) -> list[DigitsWorkload]:
    if quick:
        return [DigitsWorkload("sweep-digits", (1, 2), (16,), (0.01,), 2, 20, 1)]
    return [DigitsWorkload("sweep-digits", (1, 2), (16, 32), (0.01, 0.003), 3, 200, 3)]


# Cases a quick run leaves out unless named (``--case``): slow even at quick shapes.
QUICK_SLOW = ("sweep-digits",)


def names(quick: bool) -> list[str]:
    """The names of the sweep cases."""
    return [work.name for work in _workloads(quick)] + [
        work.name for work in _digits_workloads(quick)
    ]


def cases(backend_names: Sequence[str], devices: Sequence[str], quick: bool) -> list[Case]:
    """The sweep cases on the CPU: scratchml's selected CPU backends, JAX vmap+jit, and
    (sweep-digits) scikit-learn's GridSearchCV."""
    if "cpu" not in devices:
        return []
    return [
        *_mixed_cases(backend_names, quick),
        # The digits ship with scikit-learn: without it, no data and no peer.
        *(
            digits_case(work, backend_names)
            for work in _digits_workloads(quick)
            if importable("sklearn")
        ),
    ]


def _mixed_cases(backend_names: Sequence[str], quick: bool) -> list[Case]:
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
        found.append(work.case(work.title, work.calls, implementations))
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


def _initial(work: Any, sizes: list[int]) -> list[np.ndarray]:
    """Normal weights scaled by 1/√fan-in, zero biases, one set per network, on the host."""
    params: list[list[np.ndarray]] = [[] for _ in range(2 * len(sizes) - 2)]
    for _ in work.learning_rates:
        for seed in range(work.seeds):
            generator = np.random.default_rng(seed)
            for layer, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
                W = generator.standard_normal((n_in, n_out)) / np.sqrt(n_in)
                params[2 * layer].append(W.astype(np.float32))
                params[2 * layer + 1].append(np.zeros(n_out, np.float32))
    return [np.stack(p) for p in params]


def _jax_script(
    work: Any,
    parts: Callable[[], list[tuple[np.ndarray, np.ndarray]]],
    labels: str,
    loss: str,
    accuracy: str,
):
    """The hand-written JAX vmap + jit peer of a sweep: per architecture, one network's whole
    fit (every epoch of Adam, its own learning rate) mapped over the networks, compiled, then
    its three accuracies. ``labels`` is the labels' dtype; ``loss`` and ``accuracy`` name the
    functions of ``jax_baseline`` the networks train and are scored with."""

    def prepare():
        import jax
        import jax.numpy as jnp

        target = jax_baseline.jax_device("cpu")
        (X, y), (X_val, y_val), (X_test, y_test) = [
            (jax.device_put(X, target), jax.device_put(y.astype(labels), target))
            for X, y in parts()
        ]
        rates = np.repeat(np.asarray(work.learning_rates, np.float32), work.seeds)
        loss_of, accuracy_of = getattr(jax_baseline, loss), getattr(jax_baseline, accuracy)

        def fit_one(net, rate):
            """One network's whole fit, then its three accuracies (vmapped over networks)."""

            def epoch(t, state):
                net, m, v = state
                grads = jax.grad(loss_of)(net, X, y)
                return jax_baseline.adam(net, m, v, grads, rate, (t + 1).astype(jnp.float32))

            net, _, _ = jax.lax.fori_loop(0, work.epochs, epoch, jax_baseline.adam_start(net))
            return tuple(
                accuracy_of(net, *draw) for draw in ((X, y), (X_val, y_val), (X_test, y_test))
            )

        fit_all = jax.jit(jax.vmap(fit_one))
        stacks = {arch: _initial(work, work.sizes(*arch)) for arch in work.architectures}

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


def _jax(work: SweepWorkload):
    """The spirals' peer: 2 → hidden → 1 logit, binary cross-entropy."""
    return _jax_script(
        work,
        lambda: _spirals(work),
        "float32",
        "loss",
        "accuracy",
    )


# --- sweep-digits --------------------------------------------------------------------------


def digits_case(work: DigitsWorkload, backend_names: Sequence[str]) -> Case:
    """The sweep-digits case of ``work``: scratchml's CPU backends, GridSearchCV, JAX.

    It needs scikit-learn (the data ships with it).
    """
    per_call = work.n_networks * work.epochs
    implementations = [
        Implementation("scratchml", backend, "cpu", _digits_scratchml(work, backend), per_call)
        for backend in backend_names
        if environment.device_of(backend) == "cpu"
    ]
    implementations.append(
        Implementation("sklearn", "numpy", "cpu", _digits_sklearn(work), per_call)
    )
    if importable("jax"):
        implementations.append(
            Implementation("jax-vmap", "jax", "cpu", _digits_jax(work), per_call)
        )
    return work.case(work.title, work.calls, implementations)


def digits_csv(folder: Path) -> Path:
    """scikit-learn's digits written to ``folder/digits.csv``: 64 pixel columns, then the digit."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    path = folder / "digits.csv"
    with path.open("w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow([f"pixel{i}" for i in range(DIGITS_FEATURES)] + ["digit"])
        for image, digit in zip(digits.data, digits.target, strict=True):
            writer.writerow([*image.tolist(), int(digit)])
    return path


def digits_parts() -> list[tuple[np.ndarray, np.ndarray]]:
    """(X, y) of the sweep's training, validation and test rows of the digits' CSV file.

    The rows and the scaling are the sweep's own (``userdata.split`` with the data seed,
    ``userdata.standardizer`` of the training rows); X float32, y the digits (int64).
    """
    from ...sweep import read_file, userdata

    X, y = read_file(digits_csv(Path(tempfile.mkdtemp(prefix="scratchml-bench-digits-"))), "digit")
    data, _ = userdata.check_data(X, y, "classifier")
    parts = userdata.split(len(data.X), 0, 0, DIGITS_DATA_SEED)
    scale = userdata.standardizer(data.X[parts[0]])
    return [(scale(data.X[rows]).astype(np.float32), data.y[rows]) for rows in parts]


def _digits_scratchml(work: DigitsWorkload, backend: str):
    def prepare():
        from ... import sweep

        folder = Path(tempfile.mkdtemp(prefix="scratchml-bench-digits-"))
        X, y = sweep.read_file(digits_csv(folder), target="digit")
        calls = itertools.count()

        def run_sweep():
            return sweep.run(
                X,
                y,
                work.grid,
                folder / f"run-{next(calls)}",
                name="digits.csv",
                epochs=work.epochs,
                backend=backend,
                dtype="float32",
                data_seed=DIGITS_DATA_SEED,
                standardize=True,
                summary=False,
                progress=False,
            )

        run_sweep()  # untimed: imports, first allocations
        return run_sweep

    return prepare


def digits_search(work: DigitsWorkload, n_train: int, n_validation: int):
    """scikit-learn's GridSearchCV of the grid over ``n_train`` + ``n_validation`` rows.

    One full-batch Adam step per epoch (``batch_size=n_train``, no shuffling) for exactly
    ``epochs`` epochs (``tol=0`` and ``n_iter_no_change`` never reached), no L2
    (``alpha=0``), tanh; one split, the first ``n_train`` rows training and the rest
    validation; one process, nothing refitted.
    """
    from sklearn.model_selection import GridSearchCV
    from sklearn.neural_network import MLPClassifier

    network = MLPClassifier(
        activation="tanh",
        solver="adam",
        alpha=0.0,
        batch_size=n_train,
        shuffle=False,
        max_iter=work.epochs,
        tol=0.0,
        n_iter_no_change=2**31,
        early_stopping=False,
    )
    grid = {
        "hidden_layer_sizes": [(width,) * depth for depth, width in work.architectures],
        "learning_rate_init": list(work.learning_rates),
        "random_state": list(range(work.seeds)),
    }
    split = [(np.arange(n_train), np.arange(n_train, n_train + n_validation))]
    return GridSearchCV(
        network,
        grid,
        cv=split,
        refit=False,
        n_jobs=1,
        return_train_score=True,
        error_score="raise",
    )


def _digits_sklearn(work: DigitsWorkload):
    def prepare():
        (X, y), (X_val, y_val), _ = digits_parts()
        X_both, y_both = np.concatenate([X, X_val]), np.concatenate([y, y_val])

        def search():
            found = digits_search(work, len(X), len(X_val))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # ConvergenceWarning: max_iter reached, as asked
                found.fit(X_both, y_both)
            return found

        search()  # untimed: imports, first allocations
        return search

    return prepare


def _digits_jax(work: DigitsWorkload):
    """The digits' peer: 64 → hidden → 10 logits, softmax cross-entropy."""
    return _jax_script(
        work,
        digits_parts,
        "int32",
        "softmax_loss",
        "class_accuracy",
    )
