"""Speed paths other than NumPy's equal the reference math, and launch few operations.

PyTorch's path (``scratchml.speed.torch``) computes the reference's formulas with
fused operations; each is compared with the plain math in float64. The number of
kernel-launching operations per epoch, counted on torch CPU tensors, is what sets
the speed of small networks on a GPU: the counts are pinned here (as ceilings, so a
regression fails and an improvement passes) and compared with PyTorch's own
training loop on the same network.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import scratchml as sm
from scratchml import backends, speed
from scratchml.nn import optimizers
from scratchml.nn.activations import ACTIVATIONS
from scratchml.nn.losses import LOSSES

torch = pytest.importorskip("torch", reason="the PyTorch path needs torch")
from scratchml._opcount import count_kernel_ops, ops_per_epoch  # noqa: E402
from scratchml.nn.kernels import PLAIN  # noqa: E402
from scratchml.speed import torch as speed_torch  # noqa: E402
from scratchml.speed.torch import TorchPath  # noqa: E402


def _problem(loss, n_networks=None, per_network_X=False, seed=0):
    rng = np.random.default_rng(seed)
    sizes = [2, 5, 4, {"softmax_cross_entropy": 3, "binary_cross_entropy": 1}.get(loss, 2)]
    lead = () if n_networks is None else (n_networks,)
    n = 13
    X = rng.standard_normal((*lead, n, 2) if per_network_X else (n, 2))
    if loss == "squared_error":
        Y = rng.standard_normal((n, sizes[-1]))
    elif loss == "binary_cross_entropy":
        Y = rng.integers(0, 2, (n, 1)).astype(float)
    else:
        Y = np.eye(sizes[-1])[rng.integers(0, sizes[-1], n)]
    params = [
        (rng.standard_normal((*lead, a, b)) * 0.7, rng.standard_normal((*lead, b)) * 0.3)
        for a, b in itertools.pairwise(sizes)
    ]
    return X, Y, params


def _torch(array):
    return torch.asarray(np.asarray(array), dtype=torch.float64)


def _host(tensor):
    """A NumPy copy of a torch tensor, wherever it lives (a CUDA tensor needs ``.cpu()``)."""
    return backends.to_numpy(tensor)


def _pass(path, X, Y, params, activations, loss, l2):
    xp = backends.get("torch")
    params_t = [(_torch(W), _torch(b)) for W, b in params]
    with path.training_run():
        value, grads = path.loss_and_gradients(xp, activations, loss, l2)(
            params_t, _torch(X), _torch(Y)
        )
    return _host(value), [(_host(dW), _host(db)) for dW, db in grads]


def _assert_close(fused, reference):
    np.testing.assert_allclose(fused[0], reference[0], rtol=1e-12, atol=1e-14)
    for (dW, db), (ref_dW, ref_db) in zip(fused[1], reference[1], strict=True):
        np.testing.assert_allclose(dW, ref_dW, rtol=1e-11, atol=1e-13)
        np.testing.assert_allclose(db, ref_db, rtol=1e-11, atol=1e-13)


@pytest.fixture(params=["CPU forms", "GPU forms"])
def forms(request, monkeypatch):
    """The path's kernels as they run on the CPU, or (on CPU tensors) as they run on a GPU.

    A stack's dense layers and a shared input's weight gradient take other forms on the
    CPU (batched products over a broadcast input, the bias added after) than on a GPU (the
    fold of ``nn.kernels``, ``baddbmm``): both are checked here on CPU tensors.
    """
    if request.param == "GPU forms":
        monkeypatch.setattr(speed_torch, "_on_cpu", lambda array: False)
    return request.param


@pytest.mark.parametrize("loss", sorted(LOSSES))
@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("shape", ["one network", "stack, shared X", "stack, X per network"])
def test_torch_path_equals_the_reference(activation, loss, shape, forms):
    n_networks = None if shape == "one network" else 3
    X, Y, params = _problem(loss, n_networks, per_network_X=shape.endswith("per network"))
    l2 = 0.05 if n_networks is None else _torch([0.0, 0.05, 0.2])
    acts = [activation, activation]
    fused = _pass(TorchPath(), X, Y, params, acts, loss, l2)
    reference = _pass(speed.Reference(), X, Y, params, acts, loss, l2)
    _assert_close(fused, reference)


@pytest.mark.parametrize("n_out", [1, 3, 16])
@pytest.mark.parametrize(
    "shape", ["one network", "stack, shared input", "stack, input per network"]
)
def test_torch_dense_kernels_equal_the_plain_forms(shape, n_out, forms):
    """Z = A @ W + b, dW = Aᵀ @ dZ, db and dA_prev equal nn.kernels' forms, in either form."""
    rng = np.random.default_rng(4)
    xp, fast = backends.get("torch"), TorchPath()
    lead = () if shape == "one network" else (5,)
    n, n_in = 11, 2 if shape == "stack, shared input" else 6
    A = _torch(
        rng.standard_normal((n, n_in) if shape != "stack, input per network" else (5, n, n_in))
    )
    W = _torch(rng.standard_normal((*lead, n_in, n_out)))
    b = _torch(rng.standard_normal((*lead, n_out)))
    dZ = _torch(rng.standard_normal((*lead, n, n_out)))
    cases = [
        ("dense", (A, W, b)),
        ("weight_gradient", (A, dZ)),
        ("bias_gradient", (dZ,)),
        ("input_gradient", (dZ, W)),
    ]
    for name, args in cases:
        fused, plain = getattr(fast, name)(xp, *args), getattr(PLAIN, name)(xp, *args)
        assert fused.shape == plain.shape, name
        np.testing.assert_allclose(_host(fused), _host(plain), rtol=1e-13, atol=1e-14)
    # The inputs are left as they were (the CPU's bias is added into the product's new array).
    before = [_host(x).copy() for x in (A, W, b)]
    fast.dense(xp, A, W, b)
    for x, saved in zip((A, W, b), before, strict=True):
        np.testing.assert_array_equal(_host(x), saved)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("n_classes", [2, 10, 15, 16, 40])
@pytest.mark.parametrize(("lead", "targets"), [((), (37,)), ((4,), (37,)), ((4,), (4, 37))])
def test_torch_softmax_loss_equals_the_plain_form_on_either_side_of_the_short_class_axis(
    n_classes, lead, targets, dtype, forms
):
    """Below 16 classes a CPU loss runs on the transposes of the logits and targets: the
    same loss and gradient as the plain formula, in the logits' shape and dtype, for one
    network and a stack, with shared or per-network targets (float32 to its rounding)."""
    rng = np.random.default_rng(6)
    xp = backends.get("torch")
    rtol, atol = (1e-13, 1e-16) if dtype == torch.float64 else (2e-6, 1e-8)
    logits = _torch(rng.standard_normal((*lead, 37, n_classes)) * 3).to(dtype)
    Y = _torch(np.eye(n_classes)[rng.integers(0, n_classes, targets)]).to(dtype)
    fused = TorchPath().loss_and_gradient(xp, "softmax_cross_entropy", logits, Y)
    plain = PLAIN.loss_and_gradient(xp, "softmax_cross_entropy", logits, Y)
    assert tuple(fused[0].shape) == lead and fused[1].shape == logits.shape
    assert fused[0].dtype == fused[1].dtype == dtype
    np.testing.assert_allclose(_host(fused[0]), _host(plain[0]), rtol=rtol)
    np.testing.assert_allclose(_host(fused[1]), _host(plain[1]), rtol=10 * rtol, atol=atol)


@pytest.mark.parametrize(("n_out", "product"), [(4, {"bmm": 1, "add_": 1}), (16, {"baddbmm": 1})])
def test_on_the_cpu_a_shared_input_is_broadcast_not_copied(n_out, product):
    """On the CPU a stack's shared input costs no copies: one product (and the bias's add)."""
    rng = np.random.default_rng(5)
    xp, fast = backends.get("torch"), TorchPath()
    X = _torch(rng.standard_normal((40, 2)))
    W, b = _torch(rng.standard_normal((8, 2, n_out))), _torch(rng.standard_normal((8, n_out)))
    dZ = _torch(rng.standard_normal((8, 40, n_out)))
    assert count_kernel_ops(lambda: fast.dense(xp, X, W, b)) == product
    assert count_kernel_ops(lambda: fast.weight_gradient(xp, X, dZ)) == {"bmm": 1}
    assert fast.dense(xp, X, W, b).is_contiguous()  # each network's Z in one block


@pytest.mark.parametrize("name", sorted(optimizers.OPTIMIZERS))
@pytest.mark.parametrize("per_network_rate", [False, True])
def test_torch_updates_equal_the_reference_formulas(name, per_network_rate):
    rng = np.random.default_rng(1)
    xp = backends.get("torch")
    rate = _torch([0.01, 0.1, 0.3]) if per_network_rate else 0.05
    optimizer = optimizers.get_optimizer(name, rate)
    theta = _torch(rng.standard_normal((3, 7)))
    fused_step = TorchPath().optimizer_step(optimizer)
    fused = reference = (theta, optimizer.init(xp, theta))
    for _ in range(5):  # several steps: the state (moments, step count) carries over
        grad = _torch(rng.standard_normal((3, 7)))
        fused = fused_step(xp, *fused[:1], grad, fused[1])
        reference = optimizer.step(xp, *reference[:1], grad, reference[1])
        np.testing.assert_allclose(_host(fused[0]), _host(reference[0]), rtol=1e-13)


@pytest.mark.parametrize("per_network_scale", [False, True])
def test_torch_update_kernels_are_fused_and_equal_the_plain_forms(per_network_scale):
    """Each update kernel is one fused operation for a number, and equals its plain form."""
    rng = np.random.default_rng(3)
    xp, fast = backends.get("torch"), TorchPath()
    a, b, c = (_torch(rng.standard_normal((3, 7))) for _ in range(3))
    c = c.abs() + 0.5
    scale = _torch([0.01, 0.1, 0.3]) if per_network_scale else 0.05
    cases = [
        ("add_scaled", (a, b, scale)),
        ("subtract_scaled", (a, b, scale)),
        ("moving_average", (a, b, 0.9)),
        ("subtract_scaled_quotient", (a, b, c, scale)),
    ]
    for name, args in cases:
        fused = getattr(fast, name)(xp, *args)
        plain = getattr(speed.Reference, name)(fast, xp, *args)
        np.testing.assert_allclose(_host(fused), _host(plain), rtol=1e-14, atol=1e-16)
        if not per_network_scale:
            n_ops = sum(count_kernel_ops(lambda n=name, a=args: getattr(fast, n)(xp, *a)).values())
            assert n_ops == 1, f"{name}: {n_ops} operations"


def test_a_fit_on_torch_follows_the_reference():
    X, y = sm.data.spirals(200, arms=3, seed=0, dtype="float64")
    Xt, yt = backends.asarray(X, backend="torch"), backends.asarray(y, backend="torch")
    kwargs = {"hidden_layers": (8, 8), "epochs": 40, "tol": None, "seed": 0}
    fused = sm.MLPClassifier(**kwargs).fit(Xt, yt)
    with speed.reference_only():
        reference = sm.MLPClassifier(**kwargs).fit(Xt, yt)
    np.testing.assert_allclose(fused.loss_history_, reference.loss_history_, rtol=1e-10)
    for (W, _), (W_ref, _) in zip(fused.params_, reference.params_, strict=True):
        np.testing.assert_allclose(_host(W), _host(W_ref), rtol=1e-8, atol=1e-10)


def test_the_torch_path_is_chosen_for_torch_tensors():
    assert isinstance(speed.path_for(backends.get("torch")), TorchPath)
    with speed.reference_only():
        assert type(speed.path_for(backends.get("torch"))) is speed.Reference


# --- kernel-launching operations per epoch ---------------------------------------------

# Ceilings for scratchml on torch 2.13 CPU tensors (float32, full batch). PyTorch's own
# loop on the same epoch counted 21 (SGD), 23 (momentum) and 28 (Adam) operations. A stack
# runs other forms on the CPU than on a GPU (``forms``): the GPU forms' counts are pinned
# as they were, the CPU forms' beside them.
PINNED = {
    "mlp sgd": 26,
    "mlp momentum": 27,
    "mlp adam": 31,
    # On the CPU a softmax over fewer than 16 classes adds one copy (its transpose).
    "mlp sgd, CPU forms": 27,
    "mlp momentum, CPU forms": 28,
    "mlp adam, CPU forms": 32,
    "stack adam": 38,
    "stack adam, a learning rate per network": 41,
    # On the CPU a stack whose networks all train keeps θ without the guard's two where.
    "stack adam, CPU forms": 34,
    "stack adam, a learning rate per network, CPU forms": 37,
}


def _spirals(arms):
    X, y = sm.data.spirals(300, arms=arms, seed=0)
    return backends.asarray(X, backend="torch"), backends.asarray(y, backend="torch")


def _mlp_ops(optimizer):
    X, y = _spirals(3)
    return ops_per_epoch(
        lambda epochs: sm.MLPClassifier(
            hidden_layers=(64, 64), optimizer=optimizer, epochs=epochs, tol=None
        ).fit(X, y)
    )


def _pytorch_ops(optimizer):
    """PyTorch's own full-batch epoch: nn.Sequential, cross-entropy, a foreach optimizer."""
    X, y = _spirals(3)
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Linear(2, 64), torch.nn.Tanh(), torch.nn.Linear(64, 64), torch.nn.Tanh(),
        torch.nn.Linear(64, 3),
    )  # fmt: skip
    make = {
        "sgd": lambda p: torch.optim.SGD(p, lr=0.01, foreach=True),
        "momentum": lambda p: torch.optim.SGD(p, lr=0.01, momentum=0.9, foreach=True),
        "adam": lambda p: torch.optim.Adam(p, lr=0.01, foreach=True),
    }
    opt = make[optimizer](net.parameters())

    def epoch():
        with torch.enable_grad():
            opt.zero_grad(set_to_none=True)
            torch.nn.functional.cross_entropy(net(X), y).backward()
            opt.step()

    epoch()  # the optimizer's state is made on its first step
    return sum(count_kernel_ops(epoch).values())


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_operations_per_epoch_of_one_network(optimizer, forms):
    ours, theirs = _mlp_ops(optimizer), _pytorch_ops(optimizer)
    name = f"mlp {optimizer}" + (", CPU forms" if forms == "CPU forms" else "")
    assert ours <= PINNED[name], f"{ours} operations per epoch"
    assert ours <= 1.5 * theirs, f"{ours} against PyTorch's {theirs}"


@pytest.mark.parametrize("per_network_rate", [False, True])
def test_operations_per_epoch_of_a_stack_do_not_grow_with_its_size(per_network_rate, forms):
    X, y = _spirals(2)
    counts = []
    for n_networks in (4, 64):
        rate = [0.01, 0.02] * (n_networks // 2) if per_network_rate else 0.01
        counts.append(
            ops_per_epoch(
                lambda epochs, m=n_networks, r=rate: sm.StackedMLPClassifier(
                    n_networks=m, hidden_layers=(32, 32), learning_rate=r, epochs=epochs
                ).fit(X, y)
            )
        )
    assert counts[0] == counts[1]
    name = "stack adam" + (", a learning rate per network" if per_network_rate else "")
    name += ", CPU forms" if forms == "CPU forms" else ""
    assert counts[0] <= PINNED[name], f"{counts[0]} operations per epoch"
    assert counts[0] <= 1.5 * _pytorch_ops("adam")
