"""Training epochs side by side: scratchml on each backend, PyTorch, scikit-learn and JAX.

Every implementation does the same work: a network of the case's widths (tanh hidden
layers, softmax cross-entropy output) trained by full-batch SGD (forward + backward +
update, no momentum, no L2) on the same data in the same dtype. Each first builds its
network and trains one epoch, untimed (this also compiles JAX's step); a timed call then
trains ``epochs`` more epochs (a warm-started ``fit`` for scratchml and scikit-learn,
input checks included; a loop of steps for PyTorch and JAX). GPU work is waited for
before the clock is read.

The GEMM ceiling of a case times only the matrix products an epoch must do — per layer
A @ W (forward), Aᵀ @ dZ (weight gradient) and dZ @ Wᵀ (input gradient), 6·n·n_in·n_out
flops in all — on the same library and device: no implementation of the epoch can beat
it. The report uses its *best* call, so that noise can only lower the share of it.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

import scratchml as sm

from .. import environment
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
from .jax_baseline import jax_device

DTYPES = ("float32", "float64")


@dataclass(frozen=True)
class Workload:
    """One training workload: data, widths, step size, and how long each timed call runs."""

    name: str
    sizes: tuple[int, ...]  # n_features, hidden widths..., n_classes
    n_samples: int
    data: str  # "spirals" (one arm per class) or "blobs" (one blob per class)
    learning_rate: float
    epochs: int  # epochs per timed call
    calls: int  # timed calls per implementation, over all rounds

    @property
    def title(self) -> str:
        """One line saying what the network and data are."""
        widths = "→".join(str(width) for width in self.sizes)
        data = "three-arm spiral points" if self.data == "spirals" else "rows"
        return f"{widths} tanh, softmax cross-entropy, {self.n_samples:,} {data}"

    @property
    def layers(self) -> list[tuple[int, int]]:
        """``(n_in, n_out)`` of every dense layer."""
        return list(zip(self.sizes[:-1], self.sizes[1:], strict=True))

    @property
    def flops(self) -> int:
        """Floating-point operations of the matmuls of one epoch: 6 · n · Σ n_in·n_out."""
        return 6 * self.n_samples * sum(n_in * n_out for n_in, n_out in self.layers)

    def smaller(self, n_samples: int) -> Workload:
        """The same network on fewer rows (for counting operations: same code path)."""
        return Workload(self.name, self.sizes, n_samples, self.data, self.learning_rate, 1, 1)


QUICK = {
    "tiny": Workload("tiny", (2, 2, 2, 2, 2, 3), 2_000, "spirals", 0.1, epochs=5, calls=3),
    "spiral": Workload("spiral", (2, 64, 64, 3), 2_000, "spirals", 0.1, epochs=3, calls=3),
    "wide": Workload("wide", (128, 256, 256, 10), 256, "blobs", 0.01, epochs=1, calls=3),
    "spiral-256": Workload("spiral-256", (2, 64, 64, 3), 256, "spirals", 0.1, epochs=20, calls=3),
}
FULL = {
    "tiny": Workload("tiny", (2, 2, 2, 2, 2, 3), 30_000, "spirals", 0.1, epochs=20, calls=9),
    "spiral": Workload("spiral", (2, 64, 64, 3), 30_000, "spirals", 0.1, epochs=5, calls=9),
    "wide": Workload("wide", (1024, 2048, 2048, 10), 4_096, "blobs", 0.01, epochs=1, calls=3),
    # The spiral network on a small batch: where per-operation overhead, not arithmetic, rules.
    "spiral-256": Workload("spiral-256", (2, 64, 64, 3), 256, "spirals", 0.1, epochs=200, calls=9),
}


def names(quick: bool) -> list[str]:
    """The names of the training cases (the small ones with ``quick``)."""
    return list(QUICK if quick else FULL)


def data(work: Workload, dtype: str, backend: str = "numpy", device: str = "cpu"):
    """The workload's data (X, integer labels y) on ``backend``; the same numbers everywhere."""
    if work.data == "spirals":
        X, y = sm.data.spirals(work.n_samples, arms=work.sizes[-1], seed=0, dtype=dtype)
    else:
        X, y = sm.data.blobs(
            work.n_samples, centers=work.sizes[-1], n_features=work.sizes[0], seed=0, dtype=dtype
        )
    return on(X, backend, device), on(y, backend, device)


def on(x, backend: str, device: str):
    """A host array moved to ``backend`` (on the GPU when ``device`` is "cuda")."""
    if backend == "numpy":
        return x
    return sm.backends.asarray(
        x, backend=backend, device="cuda" if backend == "torch" and device == "cuda" else None
    )


def cases(backend_names: Sequence[str], devices: Sequence[str], quick: bool) -> list[Case]:
    """Each workload in each dtype, on every selected backend and peer."""
    found = []
    for work in (QUICK if quick else FULL).values():
        for dtype in DTYPES:
            found.append(
                Case(
                    name=work.name,
                    title=work.title,
                    dtype=dtype,
                    unit="epoch",
                    flops=work.flops,
                    calls=work.calls,
                    implementations=_implementations(work, dtype, backend_names, devices),
                    op_counts=_op_counts(work),
                    compile_times=_compile_times(work, dtype, backend_names, compile_tries(quick)),
                )
            )
    return found


def _implementations(work, dtype, backend_names, devices) -> list[Implementation]:
    found = []
    for backend in backend_names:
        if backend == "array_api_strict" and work.name == "wide" and work.n_samples > 1_000:
            continue  # it would only time NumPy's BLAS again, slowly
        device = environment.device_of(backend)
        found.append(
            Implementation(
                "scratchml", backend, device, _scratchml(work, dtype, backend, device), work.epochs
            )
        )
    for device in devices:
        if importable("torch"):
            found.append(
                Implementation(
                    "pytorch", "torch", device, _pytorch(work, dtype, device), work.epochs
                )
            )
        if importable("jax"):
            found.append(
                Implementation("jax", "jax", device, _jax(work, dtype, device), work.epochs)
            )
    if importable("sklearn"):
        found.append(Implementation("sklearn", "numpy", "cpu", _sklearn(work, dtype), work.epochs))
    found += gemm_ceilings(gemm_products(work), dtype, devices, backend_names, work.epochs)
    return found


# --- scratchml -------------------------------------------------------------------------


def _scratchml_model(work: Workload):
    """Fitted for one epoch (untimed); each later ``fit`` continues for ``work.epochs``."""
    return sm.MLPClassifier(
        hidden_layers=work.sizes[1:-1],
        activation="tanh",
        optimizer="sgd",
        learning_rate=work.learning_rate,
        epochs=1,
        batch_size=None,
        l2=0.0,
        seed=0,
        tol=None,  # every epoch runs: no early stop
        warm_start=True,
    )


def _scratchml(work, dtype, backend, device):
    def prepare():
        if backend == "jax":
            x64_for(dtype)
        X, y = data(work, dtype, backend, device)
        model = _scratchml_model(work).fit(X, y).set_params(epochs=work.epochs)
        chunks: dict = {}

        def train():
            with chunk_length_kept(chunks):
                model.fit(X, y)
            environment.wait(model.params_[-1][0])

        return train

    return prepare


def _compile_times(work: Workload, dtype: str, backend_names: Sequence[str], tries: int) -> dict:
    """scratchml on JAX: the first fit's compile time (two epochs, cold less warm)."""
    if "jax" not in backend_names or sm.backends.why_unavailable("jax"):
        return {}

    def scratchml() -> float:
        x64_for(dtype)
        X, y = data(work, dtype, "jax", environment.device_of("jax"))

        def fit():
            model = _scratchml_model(work).set_params(epochs=2, warm_start=False).fit(X, y)
            environment.wait(model.params_[-1][0])

        return compile_seconds(fit, tries)

    return {"scratchml · jax": scratchml}


# --- PyTorch eager -------------------------------------------------------------------


def _torch_model(torch, work: Workload, dtype: str, device: str):
    torch.manual_seed(0)
    layers = []
    for n_in, n_out in work.layers:
        layers += [torch.nn.Linear(n_in, n_out), torch.nn.Tanh()]
    return torch.nn.Sequential(*layers[:-1]).to(device=device, dtype=getattr(torch, dtype))


def _torch_epochs(torch, work: Workload, dtype: str, device: str):
    """A function training ``epochs`` SGD epochs of the workload in PyTorch eager."""
    X, y = data(work, dtype)
    X = torch.asarray(X, device=device)
    y = torch.asarray(y, dtype=torch.int64, device=device)
    model = _torch_model(torch, work, dtype, device)
    optimizer = torch.optim.SGD(model.parameters(), lr=work.learning_rate)
    loss_fn = torch.nn.CrossEntropyLoss()

    def train(epochs: int) -> None:
        with torch.enable_grad():
            for _ in range(epochs):
                optimizer.zero_grad()
                loss = loss_fn(model(X), y)
                loss.backward()
                optimizer.step()
        if device == "cuda":
            torch.cuda.synchronize()

    return train


def _pytorch(work, dtype, device):
    def prepare():
        import torch

        if device == "cuda" and not torch.cuda.is_available():
            raise UnavailableError("torch sees no CUDA device")
        train = _torch_epochs(torch, work, dtype, device)
        train(1)
        return lambda: train(work.epochs)

    return prepare


# --- scikit-learn --------------------------------------------------------------------


def _sklearn(work, dtype):
    def prepare():
        from sklearn.neural_network import MLPClassifier

        X, y = data(work, dtype)
        # batch_size=n and no shuffling: one full-batch step per epoch, like the others;
        # momentum=0, alpha=0 (no L2), and no early stop (tol=0, n_iter_no_change never reached).
        model = MLPClassifier(
            hidden_layer_sizes=work.sizes[1:-1],
            activation="tanh",
            solver="sgd",
            learning_rate="constant",
            learning_rate_init=work.learning_rate,
            momentum=0.0,
            nesterovs_momentum=False,
            alpha=0.0,
            batch_size=work.n_samples,
            shuffle=False,
            max_iter=1,
            tol=0.0,
            n_iter_no_change=2**31,
            warm_start=True,
            random_state=0,
        )

        def train():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # ConvergenceWarning: max_iter reached, as asked
                model.fit(X, y)

        train()
        model.set_params(max_iter=work.epochs)
        return train

    return prepare


# --- JAX -----------------------------------------------------------------------------


def _jax(work, dtype, device):
    def prepare():
        import jax

        x64_for(dtype)
        jnp = jax.numpy
        target = jax_device(device)
        X, y = data(work, dtype)
        X, y = jax.device_put(X, target), jax.device_put(y, target)

        def loss(params, X, y):
            A = X
            for W, b in params[:-1]:
                A = jnp.tanh(A @ W + b)
            W, b = params[-1]
            log_p = jax.nn.log_softmax(A @ W + b)
            return -jnp.mean(jnp.take_along_axis(log_p, y[:, None], axis=1))

        @jax.jit
        def step(params, X, y):
            value, grads = jax.value_and_grad(loss)(params, X, y)
            params = jax.tree_util.tree_map(lambda p, g: p - work.learning_rate * g, params, grads)
            return params, value

        generator = np.random.default_rng(0)
        params = [
            (
                jax.device_put(
                    (generator.standard_normal((n_in, n_out)) / np.sqrt(n_in)).astype(dtype), target
                ),
                jax.device_put(np.zeros(n_out, dtype=dtype), target),
            )
            for n_in, n_out in work.layers
        ]
        state = {"params": jax.block_until_ready(step(params, X, y)[0])}  # compiles

        def train():
            params = state["params"]
            for _ in range(work.epochs):
                params, _ = step(params, X, y)
            state["params"] = jax.block_until_ready(params)

        return train

    return prepare


# --- the GEMM ceiling ------------------------------------------------------------------


def gemm_products(work: Workload) -> list[tuple[tuple[int, int], tuple[int, int], bool, bool]]:
    """The epoch's matmuls as (lhs shape, rhs shape, transpose lhs, transpose rhs)."""
    n = work.n_samples
    products = []
    for n_in, n_out in work.layers:
        products += [
            ((n, n_in), (n_in, n_out), False, False),  # Z = A @ W
            ((n, n_in), (n, n_out), True, False),  # dW = Aᵀ @ dZ
            ((n, n_out), (n_in, n_out), False, True),  # dA = dZ @ Wᵀ
        ]
    return products


def gemm_ceilings(products, dtype, devices, backend_names, per_call) -> list[Implementation]:
    """The products alone, on every library and device a contender of the case computes with.

    NumPy's always runs (scikit-learn computes with it); PyTorch's where PyTorch runs (as
    scratchml's backend or as the peer); CuPy's where CuPy is selected. No ceiling for JAX:
    XLA compiles the whole epoch as one program, so standalone products bound nothing.
    """
    found = [
        Implementation(
            "gemm", "numpy", "cpu", _gemm("numpy", "cpu", products, dtype, per_call), per_call
        )
    ]
    for device in devices:
        if importable("torch"):
            found.append(
                Implementation(
                    "gemm",
                    "torch",
                    device,
                    _gemm("torch", device, products, dtype, per_call),
                    per_call,
                )
            )
    if "cupy" in backend_names:
        found.append(
            Implementation(
                "gemm", "cupy", "cuda", _gemm("cupy", "cuda", products, dtype, per_call), per_call
            )
        )
    return found


def _gemm(library: str, device: str, products, dtype: str, repeats: int):
    def prepare():
        generator = np.random.default_rng(0)
        host = [
            (generator.standard_normal(a).astype(dtype), generator.standard_normal(b).astype(dtype))
            for a, b, _, _ in products
        ]
        flags = [(ta, tb) for _, _, ta, tb in products]
        if library == "torch":
            import torch

            if device == "cuda" and not torch.cuda.is_available():
                raise UnavailableError("torch sees no CUDA device")
            operands = [
                (torch.asarray(a, device=device), torch.asarray(b, device=device)) for a, b in host
            ]
        elif library == "cupy":
            import cupy

            operands = [(cupy.asarray(a), cupy.asarray(b)) for a, b in host]
        else:
            operands = host

        def run():
            result = None
            for _ in range(int(repeats)):
                for (a, b), (ta, tb) in zip(operands, flags, strict=True):
                    result = (_t(a) if ta else a) @ (_t(b) if tb else b)
            environment.wait(result)

        return run

    return prepare


def _t(x):
    """The transpose of a 2-D array of any of the libraries (``.mT`` or ``.T``)."""
    return x.mT if hasattr(x, "mT") else x.T


# --- kernel-launching operations per epoch -------------------------------------------------


def _op_counts(work: Workload) -> dict:
    """Who → a function counting kernel-launching operations per epoch on torch CPU tensors."""
    if not importable("torch"):
        return {}
    small = work.smaller(n_samples=64)
    counts = {"PyTorch eager": lambda: _count_pytorch(small)}
    if not sm.backends.why_unavailable("torch"):
        counts["scratchml · torch"] = lambda: _count_scratchml(small)
    return counts


def per_epoch(run) -> float:
    """Operations per epoch: the count of 12 epochs less that of 2, over 10.

    Each run is one chunk of epochs (``_opcount.ops_per_epoch``), so the difference
    leaves out exactly what a call does once (input checks, initialisation, one host
    read of the losses), whatever the machine's speed.
    """
    from ..._opcount import ops_per_epoch

    return ops_per_epoch(run, few=2, many=12)


def _count_scratchml(work: Workload) -> float:
    X, y = data(work, "float32", "torch", "cpu")
    model = _scratchml_model(work).fit(X, y)
    return per_epoch(lambda epochs: model.set_params(epochs=epochs).fit(X, y))


def _count_pytorch(work: Workload) -> float:
    import torch

    return per_epoch(_torch_epochs(torch, work, "float32", "cpu"))
