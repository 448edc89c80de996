"""Training epochs side by side: scratchml on each backend, PyTorch, scikit-learn and JAX.

Every implementation does the same work: a network of the case's widths (tanh hidden
layers, softmax cross-entropy output) trained by full-batch SGD (forward + backward +
update, no momentum, no L2) on the same data in the same dtype. Each first builds its
network and trains one epoch, untimed; a timed call then trains ``epochs`` more epochs
(a warm-started ``fit`` for scratchml and scikit-learn, a loop of steps for PyTorch and
JAX), and the report divides its time by ``epochs``. One untimed warm-up call comes first
(it compiles JAX's step). GPU work is waited for before the clock is read.

The GEMM ceiling of a case times only the matrix products an epoch must do — per layer
A @ W (forward), Aᵀ @ dZ (weight gradient) and dZ @ Wᵀ (input gradient), 6·n·n_in·n_out
flops in all — on the same library and device: no implementation of the epoch can beat it,
and "% of the GEMM ceiling" says how close one comes.

Run them with ``scratchml bench`` (``--quick`` for small shapes and few rounds).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pytest

import scratchml as sm
from scratchml import backends, bench

QUICK = bench.quick_mode()
DTYPES = ["float32", "float64"]


@dataclass(frozen=True)
class Case:
    """One training workload: data, widths, step size, and how long each timed call runs."""

    name: str
    sizes: tuple[int, ...]  # n_features, hidden widths..., n_classes
    n_samples: int
    data: str  # "spirals" (three arms) or "blobs" (one blob per class)
    learning_rate: float
    epochs: int  # epochs per timed call
    rounds: int  # timed calls

    @property
    def title(self) -> str:
        widths = "→".join(str(width) for width in self.sizes)
        data = "three-arm spiral points" if self.data == "spirals" else "rows"
        return f"{widths} tanh, softmax cross-entropy, {self.n_samples:,} {data}"

    @property
    def layers(self) -> list[tuple[int, int]]:
        return list(zip(self.sizes[:-1], self.sizes[1:], strict=True))

    @property
    def flops(self) -> int:
        """Floating-point operations of the matmuls of one epoch: 6 · n · Σ n_in·n_out."""
        return 6 * self.n_samples * sum(n_in * n_out for n_in, n_out in self.layers)


if QUICK:
    CASES = {
        "tiny": Case("tiny", (2, 2, 2, 2, 2, 3), 2_000, "spirals", 0.1, epochs=5, rounds=3),
        "spiral": Case("spiral", (2, 64, 64, 3), 2_000, "spirals", 0.1, epochs=3, rounds=3),
        "wide": Case("wide", (128, 256, 256, 10), 256, "blobs", 0.01, epochs=1, rounds=3),
    }
else:
    CASES = {
        "tiny": Case("tiny", (2, 2, 2, 2, 2, 3), 30_000, "spirals", 0.1, epochs=20, rounds=10),
        "spiral": Case("spiral", (2, 64, 64, 3), 30_000, "spirals", 0.1, epochs=5, rounds=10),
        "wide": Case("wide", (1024, 2048, 2048, 10), 4_096, "blobs", 0.01, epochs=1, rounds=3),
    }
# array_api_strict checks portability; on the wide case it would only time NumPy's BLAS
# again, slowly, so it runs the small cases (and everything in a quick run).
STRICT_CASES = set(CASES) if QUICK else {"tiny", "spiral"}


def _case_params(extra=()):
    """(case, dtype, *extra) combinations as pytest params with readable ids."""
    params = []
    for case in CASES:
        for dtype in DTYPES:
            for values in extra or [()]:
                values = values if isinstance(values, tuple) else (values,)
                params.append(
                    pytest.param(case, dtype, *values, id="-".join([case, dtype, *values]))
                )
    return params


def _device_of(backend: str) -> str:
    return bench.device_of(backend)


def _data(case: Case, dtype: str, backend: str = "numpy", device=None):
    """The case's data (X, integer labels y) on ``backend``; the same numbers everywhere."""
    if case.data == "spirals":
        return sm.data.spirals(
            case.n_samples, arms=case.sizes[-1], seed=0, dtype=dtype, backend=backend, device=device
        )
    return sm.data.blobs(
        case.n_samples,
        centers=case.sizes[-1],
        n_features=case.sizes[0],
        seed=0,
        dtype=dtype,
        backend=backend,
        device=device,
    )


def _record(bench_case, case: Case, dtype: str, impl: str, backend: str, device: str):
    return bench_case(
        case=case.name,
        title=case.title,
        dtype=dtype,
        impl=impl,
        backend=backend,
        device=device,
        per_call=case.epochs,
        unit="epoch",
        flops=case.flops,
    )


def _time(benchmark, case: Case, target):
    """One untimed warm-up call, then ``case.rounds`` timed calls of ``target``."""
    benchmark.pedantic(target, rounds=case.rounds, warmup_rounds=1, iterations=1)


# --- scratchml -----------------------------------------------------------------------


def _scratchml_classifier(case: Case):
    """Fitted for one epoch (untimed); each later ``fit`` continues for ``case.epochs``."""
    model = sm.MLPClassifier(
        hidden_layers=case.sizes[1:-1],
        activation="tanh",
        optimizer="sgd",
        learning_rate=case.learning_rate,
        epochs=1,
        batch_size=None,
        l2=0.0,
        seed=0,
        tol=None,  # every epoch runs: no early stop
        warm_start=True,
    )
    return model


@pytest.mark.parametrize(
    ("case", "dtype", "backend"), _case_params([(name,) for name in backends.BACKENDS])
)
def test_scratchml_epochs(bench_case, case, dtype, backend):
    reason = backends.why_unavailable(backend)
    if reason:
        pytest.skip(reason)
    if backend == "array_api_strict" and case not in STRICT_CASES:
        pytest.skip("array_api_strict runs the small cases only")
    spec = CASES[case]
    device = _device_of(backend)
    X, y = _data(spec, dtype, backend, device="cuda" if device == "cuda" else None)
    benchmark = _record(bench_case, spec, dtype, "scratchml", backend, device)
    model = _scratchml_classifier(spec).fit(X, y).set_params(epochs=spec.epochs)

    def train():
        model.fit(X, y)
        backends.synchronize(model.params_[-1][0])

    _time(benchmark, spec, train)


# --- PyTorch eager -------------------------------------------------------------------


@pytest.mark.parametrize(("case", "dtype", "device"), _case_params(["cpu", "cuda"]))
def test_pytorch_epochs(bench_case, case, dtype, device):
    torch = pytest.importorskip("torch")
    _skip_unused_device(device)
    if device == "cuda" and not torch.cuda.is_available():
        pytest.skip("torch sees no CUDA device")
    spec = CASES[case]
    X, y = _data(spec, dtype)
    torch_dtype = getattr(torch, dtype)
    X = torch.asarray(X, dtype=torch_dtype, device=device)
    y = torch.asarray(y, dtype=torch.int64, device=device)
    benchmark = _record(bench_case, spec, dtype, "pytorch", "torch", device)
    torch.manual_seed(0)
    layers = []
    for n_in, n_out in spec.layers:
        layers += [torch.nn.Linear(n_in, n_out), torch.nn.Tanh()]
    model = torch.nn.Sequential(*layers[:-1]).to(device=device, dtype=torch_dtype)
    optimizer = torch.optim.SGD(model.parameters(), lr=spec.learning_rate)
    loss_fn = torch.nn.CrossEntropyLoss()

    def train(epochs):
        for _ in range(epochs):
            optimizer.zero_grad()
            loss = loss_fn(model(X), y)
            loss.backward()
            optimizer.step()
        if device == "cuda":
            torch.cuda.synchronize()

    train(1)
    _time(benchmark, spec, lambda: train(spec.epochs))


# --- scikit-learn --------------------------------------------------------------------


@pytest.mark.parametrize(("case", "dtype"), _case_params())
def test_sklearn_epochs(bench_case, case, dtype):
    neural_network = pytest.importorskip("sklearn.neural_network")
    spec = CASES[case]
    X, y = _data(spec, dtype)
    benchmark = _record(bench_case, spec, dtype, "sklearn", "numpy", "cpu")
    # batch_size=n and no shuffling: one full-batch step per epoch, like the others;
    # momentum=0, alpha=0 (no L2), and no early stop (tol=0, n_iter_no_change never reached).
    model = neural_network.MLPClassifier(
        hidden_layer_sizes=spec.sizes[1:-1],
        activation="tanh",
        solver="sgd",
        learning_rate="constant",
        learning_rate_init=spec.learning_rate,
        momentum=0.0,
        nesterovs_momentum=False,
        alpha=0.0,
        batch_size=spec.n_samples,
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
    model.set_params(max_iter=spec.epochs)
    _time(benchmark, spec, train)


# --- JAX -----------------------------------------------------------------------------


def _jax_device(jax, device: str):
    try:
        return jax.devices("cpu" if device == "cpu" else "gpu")[0]
    except RuntimeError:
        pytest.skip(f"JAX has no {device} device")


@pytest.mark.parametrize(("case", "dtype", "device"), _case_params(["cpu", "cuda"]))
def test_jax_epochs(bench_case, case, dtype, device):
    jax = pytest.importorskip("jax")
    _skip_unused_device(device)
    jax.config.update("jax_enable_x64", True)  # float64 cases; float32 arrays stay float32
    jnp = jax.numpy
    target_device = _jax_device(jax, device)
    spec = CASES[case]
    X, y = _data(spec, dtype)
    X, y = jax.device_put(X, target_device), jax.device_put(y, target_device)
    benchmark = _record(bench_case, spec, dtype, "jax", "jax", device)

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
        params = jax.tree_util.tree_map(lambda p, g: p - spec.learning_rate * g, params, grads)
        return params, value

    generator = np.random.default_rng(0)
    params = [
        (
            jax.device_put(
                (generator.standard_normal((n_in, n_out)) / np.sqrt(n_in)).astype(dtype),
                target_device,
            ),
            jax.device_put(np.zeros(n_out, dtype=dtype), target_device),
        )
        for n_in, n_out in spec.layers
    ]
    state = {"params": step(params, X, y)[0]}  # the untimed first epoch

    def train():
        params = state["params"]
        for _ in range(spec.epochs):
            params, _ = step(params, X, y)
        state["params"] = jax.block_until_ready(params)

    _time(benchmark, spec, train)


# --- the GEMM ceiling ------------------------------------------------------------------


def _skip_unused_device(device: str) -> None:
    if device not in bench.selected_devices():
        pytest.skip(f"no selected backend runs on {device}")


def gemm_products(case: Case) -> list[tuple[tuple[int, int], tuple[int, int], bool, bool]]:
    """The epoch's matmuls as (lhs shape, rhs shape, transpose lhs, transpose rhs)."""
    n = case.n_samples
    products = []
    for n_in, n_out in case.layers:
        products += [
            ((n, n_in), (n_in, n_out), False, False),  # Z = A @ W
            ((n, n_in), (n, n_out), True, False),  # dW = Aᵀ @ dZ
            ((n, n_out), (n_in, n_out), False, True),  # dA = dZ @ Wᵀ
        ]
    return products


def gemm_epochs(library: str, device: str, products, dtype: str, repeats: int):
    """A function that runs ``products`` ``repeats`` times on ``library`` and waits for them."""
    generator = np.random.default_rng(0)
    host = [
        (generator.standard_normal(a).astype(dtype), generator.standard_normal(b).astype(dtype))
        for a, b, _, _ in products
    ]
    flags = [(ta, tb) for _, _, ta, tb in products]
    if library in ("numpy", "cupy"):
        module = np
        if library == "cupy":
            module = pytest.importorskip("cupy")
        operands = [(module.asarray(a), module.asarray(b)) for a, b in host]

        def run():
            for _ in range(repeats):
                for (a, b), (ta, tb) in zip(operands, flags, strict=True):
                    (a.T if ta else a) @ (b.T if tb else b)
            backends.synchronize(operands[0][0])

        return run
    if library == "torch":
        torch = pytest.importorskip("torch")
        operands = [
            (torch.asarray(a, device=device), torch.asarray(b, device=device)) for a, b in host
        ]

        def run():
            for _ in range(repeats):
                for (a, b), (ta, tb) in zip(operands, flags, strict=True):
                    (a.mT if ta else a) @ (b.mT if tb else b)
            if device == "cuda":
                torch.cuda.synchronize()

        return run
    raise ValueError(f"no GEMM ceiling for library {library!r}")


# No ceiling for JAX: XLA compiles the whole epoch as one program (its layouts and fusions
# differ from those of standalone products), so its standalone matmuls are no bound for it.
GEMM_LIBRARIES = [("numpy", "cpu"), ("torch", "cpu"), ("torch", "cuda"), ("cupy", "cuda")]


def _skip_unused_library(library: str, device: str) -> None:
    """Time a ceiling only where a case of this run computes with that library and device.

    NumPy's always runs: scikit-learn, the CPU reference of every run, computes with it.
    """
    if library == "numpy":
        return
    _skip_unused_device(device)
    if library == "cupy" and "cupy" not in bench.selected_backends():
        pytest.skip("cupy is not selected")
    if library == "torch":
        pytest.importorskip("torch")
        if device == "cuda" and not bench.cuda_available():
            pytest.skip("torch sees no CUDA device")
    if library == "cupy" and backends.why_unavailable("cupy"):
        pytest.skip(backends.why_unavailable("cupy"))


@pytest.mark.parametrize(("case", "dtype", "library", "device"), _case_params(GEMM_LIBRARIES))
def test_gemm_ceiling(bench_case, case, dtype, library, device):
    _skip_unused_library(library, device)
    spec = CASES[case]
    run = gemm_epochs(library, device, gemm_products(spec), dtype, repeats=spec.epochs)
    benchmark = _record(bench_case, spec, dtype, "gemm", library, device)
    _time(benchmark, spec, run)


# --- the normal-equation fit ---------------------------------------------------------------

NORMAL = Case("normal", (50, 1), 2_000 if QUICK else 20_000, "normal", 0.0, 1, 5 if QUICK else 30)
NORMAL_TITLE = f"LinearRegression normal equations, {NORMAL.n_samples:,} × {NORMAL.sizes[0]}"
NORMAL_FLOPS = 2 * NORMAL.n_samples * NORMAL.sizes[0] ** 2  # Xᵀ X dominates


def _regression_data(dtype: str):
    generator = np.random.default_rng(0)
    n, d = NORMAL.n_samples, NORMAL.sizes[0]
    X = generator.standard_normal((n, d))
    y = X @ generator.standard_normal(d) + 0.1 * generator.standard_normal(n)
    return X.astype(dtype), y.astype(dtype)


def _record_normal(bench_case, dtype, impl, backend, device):
    return bench_case(
        case="normal",
        title=NORMAL_TITLE,
        dtype=dtype,
        impl=impl,
        backend=backend,
        device=device,
        per_call=1,
        unit="fit",
        flops=NORMAL_FLOPS,
    )


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("backend", list(backends.BACKENDS))
def test_linear_regression_fit(bench_case, backend, dtype):
    reason = backends.why_unavailable(backend)
    if reason:
        pytest.skip(reason)
    device = _device_of(backend)
    X, y = _regression_data(dtype)
    on_device = "cuda" if device == "cuda" else None
    Xb = backends.asarray(X, backend=backend, device=on_device)
    yb = backends.asarray(y, backend=backend, device=on_device)
    benchmark = _record_normal(bench_case, dtype, "scratchml", backend, device)

    def fit():
        model = sm.LinearRegression(solver="normal").fit(Xb, yb)
        backends.synchronize(model.params_[0][0])

    _time(benchmark, NORMAL, fit)


@pytest.mark.parametrize("dtype", DTYPES)
def test_sklearn_linear_regression_fit(bench_case, dtype):
    linear_model = pytest.importorskip("sklearn.linear_model")
    X, y = _regression_data(dtype)
    benchmark = _record_normal(bench_case, dtype, "sklearn", "numpy", "cpu")
    _time(benchmark, NORMAL, lambda: linear_model.LinearRegression().fit(X, y))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    ("library", "device"), [("numpy", "cpu"), ("torch", "cpu"), ("torch", "cuda"), ("cupy", "cuda")]
)
def test_linear_regression_gemm_ceiling(bench_case, dtype, library, device):
    _skip_unused_library(library, device)
    n, d = NORMAL.n_samples, NORMAL.sizes[0]
    run = gemm_epochs(library, device, [((n, d), (n, d), True, False)], dtype, repeats=1)
    benchmark = _record_normal(bench_case, dtype, "gemm", library, device)
    _time(benchmark, NORMAL, run)
