"""Stacks: M networks trained at once against the same M networks fitted one by one.

Every case times epochs of all M networks (forward + backward + Adam update, full batch)
on the same spiral points; the report shows the time per epoch of the whole stack, so
"stacked ÷ one by one" is read straight from one run. The one-by-one fits are the
ordinary ``MLPClassifier`` with network i's seed; the stack is ``StackedMLPClassifier``
with seeds 0..M−1, so both train the same networks.

CPU cases: 256 networks 2→8→8→2 on 200 points, and 2→16→16→2 on 1,000 points.
GPU case (skipped without a usable CuPy): 4,096 networks 2→32→32→2 on 2,000 points,
against the one-by-one CuPy loop (a subset of the networks, timed and scaled to M),
PyTorch eager on a stack (``torch.bmm`` with autograd, ``torch.optim.Adam``) and JAX
(``vmap`` + ``jit``), each where importable.

    scratchml bench                       # or: python -m pytest benchmarks/test_stacks.py
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import pytest

import scratchml as sm
from scratchml import backends, bench
from scratchml.ensemble import StackedMLPClassifier

QUICK = bench.quick_mode()
LEARNING_RATE = 0.01


@dataclass(frozen=True)
class StackCase:
    name: str
    n_models: int
    hidden: tuple[int, ...]
    n_samples: int
    epochs: int  # epochs per timed call
    rounds: int  # timed calls
    loop_models: int  # networks the one-by-one loop times (scaled to n_models)

    @property
    def sizes(self) -> tuple[int, ...]:
        return (2, *self.hidden, 2)

    @property
    def title(self) -> str:
        widths = "→".join(str(width) for width in self.sizes)
        return (
            f"{self.n_models:,} networks {widths} tanh, Adam, full batch, "
            f"{self.n_samples:,} spiral points"
        )

    @property
    def flops(self) -> int:
        """Matmul flops of one epoch of all networks (the binary output is one logit)."""
        widths = (2, *self.hidden, 1)
        per_network = sum(a * b for a, b in itertools.pairwise(widths))
        return 6 * self.n_samples * per_network * self.n_models


if QUICK:
    CPU_CASES = {
        "stack-8": StackCase("stack-8", 32, (8, 8), 200, 5, 3, 32),
        "stack-16": StackCase("stack-16", 32, (16, 16), 1_000, 3, 3, 32),
    }
else:
    CPU_CASES = {
        "stack-8": StackCase("stack-8", 256, (8, 8), 200, 20, 5, 256),
        "stack-16": StackCase("stack-16", 256, (16, 16), 1_000, 5, 3, 256),
    }
GPU_CASE = StackCase("stack-32-gpu", 4_096, (32, 32), 2_000, 20 if not QUICK else 3, 3, 16)


def _group(case: StackCase) -> str:
    return f"stacks: {case.title}, float32"


def _record(bench_case, case: StackCase, impl: str, backend: str, device: str, per_call: float):
    return bench_case(
        case=case.name,
        title=case.title,
        dtype="float32",
        impl=impl,
        backend=backend,
        device=device,
        per_call=per_call,
        unit="epoch of all networks",
        flops=case.flops,
    )


def _data(case: StackCase, backend: str = "numpy"):
    device = "cuda" if backend == "cupy" else None
    return sm.data.spirals(case.n_samples, arms=2, seed=0, backend=backend, device=device)


def _single_keywords() -> dict:
    """Train every epoch: no early stop where the estimator has one."""
    return {"tol": None} if "tol" in sm.MLPClassifier().get_params() else {}


def _stacked(case: StackCase, X, y):
    stack = StackedMLPClassifier(
        n_models=case.n_models,
        hidden_layers=case.hidden,
        activation="tanh",
        optimizer="adam",
        learning_rate=LEARNING_RATE,
        epochs=case.epochs,
        seed=0,
    )

    def fit():
        stack.fit(X, y)
        backends.synchronize(stack.params_[0][0])

    return fit


def _one_by_one(case: StackCase, X, y):
    singles = [
        sm.MLPClassifier(
            hidden_layers=case.hidden,
            activation="tanh",
            optimizer="adam",
            learning_rate=LEARNING_RATE,
            epochs=case.epochs,
            seed=i,
            **_single_keywords(),
        )
        for i in range(case.loop_models)
    ]

    def fit_all():
        for model in singles:
            model.fit(X, y)
        backends.synchronize(singles[-1].params_[0][0])

    return fit_all


def _time(benchmark, case: StackCase, target):
    benchmark.pedantic(target, rounds=case.rounds, warmup_rounds=1, iterations=1)


# --- CPU ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(c, id=c.name, marks=pytest.mark.benchmark(group=_group(c)))
        for c in CPU_CASES.values()
    ],
)
def test_stacked_fit_cpu(bench_case, case):
    X, y = _data(case)
    benchmark = _record(bench_case, case, "scratchml", "numpy", "cpu", case.epochs)
    _time(benchmark, case, _stacked(case, X, y))


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(c, id=c.name, marks=pytest.mark.benchmark(group=_group(c)))
        for c in CPU_CASES.values()
    ],
)
def test_one_by_one_fits_cpu(bench_case, case):
    X, y = _data(case)
    per_call = case.epochs * case.loop_models / case.n_models
    benchmark = _record(bench_case, case, "one-by-one", "numpy", "cpu", per_call)
    _time(benchmark, case, _one_by_one(case, X, y))


# --- GPU ------------------------------------------------------------------------------------


def _require_cupy():
    reason = backends.why_unavailable("cupy")
    if reason:
        pytest.skip(reason)


@pytest.mark.benchmark(group=_group(GPU_CASE))
def test_stacked_fit_gpu(bench_case):
    _require_cupy()
    case = GPU_CASE
    X, y = _data(case, "cupy")
    benchmark = _record(bench_case, case, "scratchml", "cupy", "cuda", case.epochs)
    _time(benchmark, case, _stacked(case, X, y))


@pytest.mark.benchmark(group=_group(GPU_CASE))
def test_one_by_one_fits_gpu(bench_case):
    _require_cupy()
    case = GPU_CASE
    X, y = _data(case, "cupy")
    per_call = case.epochs * case.loop_models / case.n_models
    benchmark = _record(bench_case, case, "one-by-one", "cupy", "cuda", per_call)
    _time(benchmark, case, _one_by_one(case, X, y))


def _host_problem(case: StackCase):
    """The case's data and initial stacked parameters on the host (Xavier normal, zero bias)."""
    import numpy as np

    X, y = _data(case)
    generator = np.random.default_rng(0)
    widths = (2, *case.hidden, 1)
    params = []
    for n_in, n_out in itertools.pairwise(widths):
        W = generator.standard_normal((case.n_models, n_in, n_out)) / np.sqrt(n_in)
        params += [W.astype(np.float32), np.zeros((case.n_models, n_out), np.float32)]
    return X, y.astype(np.float32), params


@pytest.mark.benchmark(group=_group(GPU_CASE))
def test_pytorch_stacked_gpu(bench_case):
    _require_cupy()
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("torch sees no CUDA device")
    case = GPU_CASE
    X_host, y_host, host_params = _host_problem(case)
    X = torch.asarray(X_host, device="cuda").expand(case.n_models, -1, -1)
    Y = torch.asarray(y_host, device="cuda").reshape(1, -1, 1).expand(case.n_models, -1, -1)
    params = [torch.asarray(p, device="cuda").requires_grad_() for p in host_params]
    optimizer = torch.optim.Adam(params, lr=LEARNING_RATE)

    def epochs():
        for _ in range(case.epochs):
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
        torch.cuda.synchronize()

    benchmark = _record(bench_case, case, "pytorch", "torch", "cuda", case.epochs)
    _time(benchmark, case, epochs)


@pytest.mark.benchmark(group=_group(GPU_CASE))
def test_jax_stacked_gpu(bench_case):
    _require_cupy()
    jax = pytest.importorskip("jax")
    jnp = pytest.importorskip("jax.numpy")
    try:
        gpu = jax.devices("gpu")[0]
    except RuntimeError:
        pytest.skip("jax sees no GPU")
    case = GPU_CASE
    X_host, y_host, host_params = _host_problem(case)
    X, y = jax.device_put(X_host, gpu), jax.device_put(y_host, gpu)
    params = [jax.device_put(p, gpu) for p in host_params]
    b1, b2, eps = 0.9, 0.999, 1e-8

    def network_loss(net, X, y):
        A = X
        for layer in range(0, len(net), 2):
            A = A @ net[layer] + net[layer + 1]
            if layer + 2 < len(net):
                A = jnp.tanh(A)
        z = A[:, 0]
        return jnp.mean(jnp.logaddexp(0.0, z) - y * z)  # BCE from logits

    grad_all = jax.vmap(jax.grad(network_loss), in_axes=(0, None, None))

    @jax.jit
    def step(state, t):
        params, m, v = state
        grads = grad_all(params, X, y)
        m = [b1 * m_ + (1 - b1) * g for m_, g in zip(m, grads, strict=True)]
        v = [b2 * v_ + (1 - b2) * g * g for v_, g in zip(v, grads, strict=True)]
        size = LEARNING_RATE * jnp.sqrt(1 - b2**t) / (1 - b1**t)
        params = [
            p - size * m_ / (jnp.sqrt(v_) + eps) for p, m_, v_ in zip(params, m, v, strict=True)
        ]
        return params, m, v

    zeros = [jnp.zeros_like(p) for p in params]
    state = {"value": (params, zeros, list(zeros)), "t": 0}

    def epochs():
        current = state["value"]
        for _ in range(case.epochs):
            state["t"] += 1
            current = step(current, float(state["t"]))
        jax.block_until_ready(current)
        state["value"] = current

    benchmark = _record(bench_case, case, "jax", "jax", "cuda", case.epochs)
    _time(benchmark, case, epochs)
