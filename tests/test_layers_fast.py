"""The speed paths equal the plain Array API math they stand in for.

``scratchml.speed`` picks, per library, how the network pass runs (NumPy: reused
memory, column-major products, row blocks in threads); ``Reference`` is the plain
math of ``nn.layers``. Each test runs the same computation under both and compares,
in float64. The short-axis
reductions of the losses and layers are compared with NumPy's own reductions.
"""

from __future__ import annotations

import contextlib
import itertools

import numpy as np
import pytest

import scratchml as sm
from scratchml import backends, speed
from scratchml.nn import layers
from scratchml.nn.activations import ACTIVATIONS, get_activation
from scratchml.nn.kernels import PLAIN
from scratchml.nn.losses import LOSSES
from scratchml.speed import numpy as numpy_path

from .conftest import host, on


def _problem(loss, sizes, n_samples, seed=0, n_networks=None):
    rng = np.random.default_rng(seed)
    lead = () if n_networks is None else (n_networks,)
    n_out = sizes[-1]
    X = rng.standard_normal((n_samples, sizes[0]))
    if loss == "squared_error":
        Y = rng.standard_normal((*lead, n_samples, n_out))
    elif loss == "binary_cross_entropy":
        Y = rng.integers(0, 2, (*lead, n_samples, n_out)).astype(float)
    else:
        Y = np.eye(n_out)[rng.integers(0, n_out, (*lead, n_samples))]
    params = [
        (rng.standard_normal((*lead, a, b)) * 0.7, rng.standard_normal((*lead, b)) * 0.3)
        for a, b in itertools.pairwise(sizes)
    ]
    return X, Y, params


def _sizes(loss):
    n_out = {"softmax_cross_entropy": 3, "binary_cross_entropy": 1, "squared_error": 2}[loss]
    return [2, 5, 4, n_out]


def _run(path, backend, X, Y, params, acts, loss, l2):
    """The objective, gradients and logits as ``path`` computes them in a training run."""
    xp = backends.get(backend)
    params_b = [(on(backend, W), on(backend, b)) for W, b in params]
    with path.training_run():
        value, grads = path.loss_and_gradients(xp, acts, loss, l2)(
            params_b, on(backend, X), on(backend, Y)
        )
        grads = [(host(dW), host(db)) for dW, db in grads]  # before the next pass reuses memory
    logits, _ = layers.forward(xp, params_b, on(backend, X), acts)
    return host(value), grads, host(logits)


def _assert_same(fast, reference, rtol=1e-12):
    value, grads, logits = fast
    ref_value, ref_grads, ref_logits = reference
    np.testing.assert_allclose(value, ref_value, rtol=rtol, atol=1e-14)
    np.testing.assert_allclose(logits, ref_logits, rtol=rtol, atol=1e-14)
    for (dW, db), (ref_dW, ref_db) in zip(grads, ref_grads, strict=True):
        np.testing.assert_allclose(dW, ref_dW, rtol=rtol, atol=1e-14)
        np.testing.assert_allclose(db, ref_db, rtol=rtol, atol=1e-14)


@pytest.fixture
def small_row_blocks(monkeypatch):
    """Row blocks on tiny data: 3 uneven blocks of at least 2 rows, whatever the core count."""
    monkeypatch.setattr(numpy_path, "MIN_BLOCK_ELEMENTS", 2)
    monkeypatch.setattr(numpy_path, "_n_cores", lambda: 3)


@pytest.mark.parametrize("loss", sorted(LOSSES))
@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("l2", [0.0, 0.1])
def test_numpy_path_equals_the_reference(small_row_blocks, activation, loss, l2):
    X, Y, params = _problem(loss, _sizes(loss), n_samples=11)
    acts = [activation] * (len(params) - 1)
    fast = _run(numpy_path.NumpyPath(), "numpy", X, Y, params, acts, loss, l2)
    reference = _run(speed.Reference(), "numpy", X, Y, params, acts, loss, l2)
    _assert_same(fast, reference)


def test_row_blocks_split_every_sample_once(small_row_blocks):
    blocks = numpy_path.NumpyPath().row_blocks(np.zeros((11, 2)), params_ndim=2)
    assert len(blocks) == 3
    covered = np.concatenate([np.arange(11)[rows] for rows in blocks])
    np.testing.assert_array_equal(covered, np.arange(11))


def test_row_blocks_only_for_large_single_networks(monkeypatch):
    path = numpy_path.NumpyPath()
    monkeypatch.setattr(numpy_path, "_n_cores", lambda: 2)
    monkeypatch.setattr(numpy_path, "MIN_BLOCK_ELEMENTS", 1000)
    X = np.zeros((200, 2))
    assert len(path.row_blocks(X, params_ndim=2, width=10)) == 2  # 2,000 numbers
    assert len(path.row_blocks(X, params_ndim=2, width=9)) == 1  # 1,800
    assert len(path.row_blocks(X, params_ndim=3, width=10)) == 1  # a stack
    monkeypatch.setattr(numpy_path, "_n_cores", lambda: 1)
    assert len(path.row_blocks(X, params_ndim=2, width=10)) == 1


def test_cache_blocks_split_tall_narrow_passes_only():
    """A thread's rows in parts of at most ROW_BLOCK_BYTES per array, where the weights are few."""
    path = numpy_path.NumpyPath()
    spiral = 2 * 64 + 64 * 64 + 64 * 3
    parts = path.cache_blocks(slice(100, 30_100), widest=64, n_weights=spiral, itemsize=4)
    assert len(parts) == 8  # 30,000 × 64 float32: 7.7 MB
    covered = np.concatenate([np.arange(30_100)[part] for part in parts])
    np.testing.assert_array_equal(covered, np.arange(100, 30_100))
    assert all((p.stop - p.start) * 64 * 4 <= numpy_path.ROW_BLOCK_BYTES for p in parts)
    assert path.cache_blocks(slice(0, 4_000), 64, spiral, 4) == [slice(0, 4_000)]  # 1 MB
    wide = 1024 * 2048 + 2048 * 2048 + 2048 * 10  # every part would repeat 6 M weight gradients
    assert path.cache_blocks(slice(0, 4_096), 2048, wide, 4) == [slice(0, 4_096)]


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_numpy_path_in_cache_blocks_equals_the_reference(small_row_blocks, monkeypatch, activation):
    """3 thread blocks, each run in parts of 1 or 2 rows sharing the thread's memory."""
    monkeypatch.setattr(numpy_path, "ROW_BLOCK_BYTES", 80)
    monkeypatch.setattr(numpy_path, "ROW_BLOCK_WEIGHT_RATIO", 0)
    loss = "softmax_cross_entropy"
    X, Y, params = _problem(loss, _sizes(loss), n_samples=11)
    fast = _run(numpy_path.NumpyPath(), "numpy", X, Y, params, [activation] * 2, loss, 0.1)
    reference = _run(speed.Reference(), "numpy", X, Y, params, [activation] * 2, loss, 0.1)
    _assert_same(fast, reference)


def test_row_blocks_propagate_errors(small_row_blocks):
    def fail(rows):
        raise RuntimeError(f"block {rows.start}")

    blocks = numpy_path.NumpyPath().row_blocks(np.zeros((11, 2)), params_ndim=2)
    with pytest.raises(RuntimeError, match="block"):
        numpy_path.NumpyPath().map_blocks(fail, blocks)


@pytest.mark.parametrize("loss", sorted(LOSSES))
def test_stack_fast_path_equals_reference(loss):
    """A stack of 4 networks sharing X (the folded products) on both paths."""
    X, Y, params = _problem(loss, _sizes(loss), n_samples=9, n_networks=4)
    acts = ["tanh", "relu"]
    fast = _run(numpy_path.NumpyPath(), "numpy", X, Y, params, acts, loss, 0.05)
    reference = _run(speed.Reference(), "numpy", X, Y, params, acts, loss, 0.05)
    _assert_same(fast, reference)


def _leaves(result):
    """The objective, every gradient and the logits of ``_run``'s result, in one list."""
    value, grads, logits = result
    return [value, *(array for layer in grads for array in layer), logits]


def _recorded_stack_layouts(monkeypatch):
    """A list that gains (output width, feature-major?) for every product ``stack_matmul`` returns."""
    layouts = []
    original = numpy_path.NumpyPath.stack_matmul

    def recording(self, A, B, feature_major=None):
        Z = original(self, A, B, feature_major)
        layouts.append((B.shape[-1], Z[0].flags.f_contiguous and not Z[0].flags.c_contiguous))
        return Z

    monkeypatch.setattr(numpy_path.NumpyPath, "stack_matmul", recording)
    return layouts


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("n_classes", [3, 4, 10, 16, 17])
def test_a_stacks_short_logits_come_out_feature_major_with_the_reference_numbers(
    monkeypatch, n_classes, dtype
):
    """The output layer of 4 to 16 classes returns feature-major logits; hidden layers don't.

    Feature-major: each network's (n_samples, n_classes) logits are the transpose of a
    C-contiguous (n_classes, n_samples) array. Either side of the band keeps the rule of
    ``STACK_NARROW``; the hidden layer here (9 → 12) is wider than it. The objective and
    the gradients are the reference's, to the dtype's rounding.
    """
    layouts = _recorded_stack_layouts(monkeypatch)
    loss = "softmax_cross_entropy"
    X, Y, params = _problem(loss, [9, 12, n_classes], n_samples=40, n_networks=3)
    X, Y = X.astype(dtype), Y.astype(dtype)
    params = [(W.astype(dtype), b.astype(dtype)) for W, b in params]
    fast = _run(numpy_path.NumpyPath(), "numpy", X, Y, params, ["tanh"], loss, 0.05)
    # Every product of the pass (the blocks' forward and backward), by output width.
    assert set(layouts) == {(12, False), (n_classes, 4 <= n_classes <= 16)}
    reference = _run(speed.Reference(), "numpy", X, Y, params, ["tanh"], loss, 0.05)
    if dtype == "float64":
        _assert_same(fast, reference)
    else:  # float32's rounding, on gradients of order 0.1
        for got, expected in zip(_leaves(fast), _leaves(reference), strict=True):
            np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    ("sizes", "feature_major"),
    [
        ([2, 12, 12, 1], True),  # a narrow input: feature-major up to STACK_NARROW_INPUT
        ([2, 17, 17, 1], False),  # wider than it
        ([9, 12, 12, 1], False),  # a wide input keeps STACK_NARROW
        ([2, 16, 16, 1], True),
        ([8, 16, 16, 1], True),  # STACK_NARROW features are still narrow
    ],
)
def test_a_stacks_hidden_layers_take_one_layout_by_its_inputs_width(
    monkeypatch, sizes, feature_major
):
    """Every product of a pass that writes a layer's activations (forward) or their gradient
    (backward) takes the layer's layout: feature-major up to ``STACK_NARROW_INPUT`` when the
    input has at most ``STACK_NARROW`` features, up to ``STACK_NARROW`` otherwise."""
    layouts = _recorded_stack_layouts(monkeypatch)
    loss = "binary_cross_entropy"
    X, Y, params = _problem(loss, sizes, n_samples=40, n_networks=3)
    fast = _run(numpy_path.NumpyPath(), "numpy", X, Y, params, ["tanh", "tanh"], loss, 0.0)
    # The hidden layers' products, forward and backward, all in one layout (the single
    # logit's (n, 1) columns are both layouts at once).
    assert {fm for width, fm in layouts if width == sizes[1]} == {feature_major}
    reference = _run(speed.Reference(), "numpy", X, Y, params, ["tanh", "tanh"], loss, 0.0)
    _assert_same(fast, reference)


@pytest.mark.parametrize("per_network_X", [False, True])
def test_stack_in_single_network_blocks_equals_reference(monkeypatch, per_network_X):
    """One network per block, blocks shared unevenly by 3 threads; X shared or per network."""
    monkeypatch.setattr(numpy_path, "MODEL_BLOCK_BYTES", 1)
    monkeypatch.setattr(numpy_path, "_n_cores", lambda: 3)
    loss = "softmax_cross_entropy"
    X, Y, params = _problem(loss, _sizes(loss), n_samples=9, n_networks=5)
    if per_network_X:
        X = np.stack([X + i for i in range(5)])
    l2 = np.linspace(0.0, 0.2, 5)
    assert len(numpy_path.NumpyPath().model_blocks(5, 9, [5, 4, 3], 8)) == 5
    fast = _run(numpy_path.NumpyPath(), "numpy", X, Y, params, ["tanh", "sigmoid"], loss, l2)
    reference = _run(speed.Reference(), "numpy", X, Y, params, ["tanh", "sigmoid"], loss, l2)
    _assert_same(fast, reference)


@pytest.mark.parametrize(
    ("n_networks", "cores", "sizes"),
    [(6, 1, [3, 3]), (7, 1, [3, 4]), (4, 1, [4]), (9, 1, [3, 3, 3]), (6, 2, [3, 3]), (1, 1, [1])],
)
def test_blocks_of_networks_are_nearly_equal(monkeypatch, n_networks, cores, sizes):
    """A stack is cut into blocks of nearly equal size, none larger than fits the block
    bytes (here 4 networks) or a core's share: no small last block."""
    per_network = 3 * 10 * (5 + 3) * 8  # Z, A and dZ of 10 samples through widths 5 and 3
    monkeypatch.setattr(numpy_path, "MODEL_BLOCK_BYTES", 4 * per_network)
    monkeypatch.setattr(numpy_path, "_n_cores", lambda: cores)
    blocks = numpy_path.NumpyPath().model_blocks(n_networks, 10, [5, 3], 8)
    assert [b.stop - b.start for b in blocks] == sizes
    assert blocks[0].start == 0 and blocks[-1].stop == n_networks
    assert all(a.stop == b.start for a, b in itertools.pairwise(blocks))


def test_fit_is_the_same_on_either_path(small_row_blocks):
    """A whole fit (float64, SGD) follows the same trajectory on both paths."""
    import scratchml as sm

    X, y = sm.data.spirals(60, arms=3, seed=1, dtype="float64")
    fits = []
    for path in (numpy_path.NumpyPath(), speed.Reference()):
        with speed.use_path(path):
            model = sm.MLPClassifier(
                hidden_layers=(6, 6), optimizer="sgd", learning_rate=0.3, epochs=30, seed=0
            ).fit(X, y)
        fits.append(model)
    np.testing.assert_allclose(fits[0].loss_history_, fits[1].loss_history_, rtol=1e-10)
    for (W, b), (W_ref, b_ref) in zip(fits[0].params_, fits[1].params_, strict=True):
        np.testing.assert_allclose(W, W_ref, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(b, b_ref, rtol=1e-9, atol=1e-12)


def test_selection_point():
    assert isinstance(speed.path_for(backends.get("numpy")), numpy_path.NumpyPath)
    assert type(speed.path_for(backends.get("array_api_strict"))) is speed.Reference
    with speed.reference_only():
        assert type(speed.path_for(backends.get("numpy"))) is speed.Reference


# --- short-axis reductions against NumPy's own -----------------------------------------


@pytest.mark.parametrize("lead", [(), (3,)])
@pytest.mark.parametrize("n_classes", [1, 2, 3, 10, 16, 17, 40])
def test_class_axis_max_and_sum_match_numpy(n_classes, lead):
    Z = np.random.default_rng(n_classes).standard_normal((*lead, 7, n_classes)) * 5
    path = numpy_path.NumpyPath()
    np.testing.assert_array_equal(path.max_over_classes(Z), Z.max(-1, keepdims=True))
    np.testing.assert_allclose(path.sum_over_classes(Z), Z.sum(-1, keepdims=True), rtol=1e-13)


@pytest.mark.parametrize("lead", [(), (3,)])
def test_bias_gradient_is_the_sum_over_samples(lead):
    """db = Σ_samples dZ, in the reference and as NumPy's 1ᵀ @ dZ."""
    rng = np.random.default_rng(0)
    dZ = rng.standard_normal((*lead, 13, 4))
    xp = backends.get("numpy")
    db = PLAIN.bias_gradient(xp, dZ)
    np.testing.assert_allclose(db, dZ.sum(-2), rtol=1e-13)
    db_fast = numpy_path.NumpyPath().bias_gradient(xp, dZ)
    np.testing.assert_allclose(db_fast, dZ.sum(-2), rtol=1e-13)


@pytest.mark.parametrize("lead", [(), (3,), "shared"])
@pytest.mark.parametrize(("n_in", "n_out"), [(2, 2), (2, 64), (64, 3), (70, 70)])
def test_numpy_dense_kernels_equal_the_plain_forms(lead, n_in, n_out):
    """NumPy's products (column-major, thin, tiny, folded) equal the plain kernels' formulas."""
    rng = np.random.default_rng(2)
    xp, fast = backends.get("numpy"), numpy_path.NumpyPath()
    stack = () if lead == () else (3,)
    A = rng.standard_normal((57, n_in) if lead in ((), "shared") else (*stack, 57, n_in))
    W, b = rng.standard_normal((*stack, n_in, n_out)), rng.standard_normal((*stack, n_out))
    dZ = rng.standard_normal((*stack, 57, n_out))
    pairs = [
        (fast.dense(xp, A, W, b), PLAIN.dense(xp, A, W, b)),
        (fast.weight_gradient(xp, A, dZ), PLAIN.weight_gradient(xp, A, dZ)),
        (fast.input_gradient(xp, dZ, W), PLAIN.input_gradient(xp, dZ, W)),
        (fast.bias_gradient(xp, dZ), PLAIN.bias_gradient(xp, dZ)),
    ]
    for got, expected in pairs:
        assert got.shape == expected.shape
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("in_training", [False, True])
def test_a_shared_inputs_feature_major_products_equal_the_plain_forms(dtype, in_training):
    """A stack's products with a shared row-major (n, k) input and feature-major results run
    from a contiguous copy of its transpose, and its layer adds the bias inside the product
    ([X 1] @ [W; b]): the same numbers, each a distinct array, the inputs left as they were."""
    rng = np.random.default_rng(4)
    xp, fast = backends.get("numpy"), numpy_path.NumpyPath()
    X = rng.standard_normal((57, 2)).astype(dtype)
    W = rng.standard_normal((3, 2, 4)).astype(dtype)
    b = rng.standard_normal((3, 4)).astype(dtype)
    X_before, W_before, b_before = X.copy(), W.copy(), b.copy()
    dZ = np.ascontiguousarray(rng.standard_normal((3, 4, 57)).astype(dtype)).swapaxes(-1, -2)
    rtol = 1e-5 if dtype == "float32" else 1e-12
    with contextlib.ExitStack() as stack:
        if in_training:
            stack.enter_context(fast.reusing(numpy_path.TrainingMemory(), (0, 3)))
        Z = fast.stack_matmul(X, W)
        dW = fast.weight_gradient(xp, X, dZ)
        Z_again = fast.stack_matmul(X, W + 1)
        Z_b = fast.dense(xp, X, W, b)
        Z_b_again = fast.dense(xp, X, W + 1, b - 1)
    for array, before in ((X, X_before), (W, W_before), (b, b_before)):
        np.testing.assert_array_equal(array, before)
    assert Z_b[0].flags.f_contiguous and not Z_b[0].flags.c_contiguous
    np.testing.assert_allclose(Z_b, PLAIN.dense(xp, X, W, b), rtol=rtol, atol=rtol)
    np.testing.assert_allclose(Z_b_again, PLAIN.dense(xp, X, W + 1, b - 1), rtol=rtol, atol=rtol)
    assert not np.shares_memory(Z_b, Z_b_again)
    assert Z[0].flags.f_contiguous and not Z[0].flags.c_contiguous  # feature-major
    np.testing.assert_allclose(Z, X @ W, rtol=rtol)
    np.testing.assert_allclose(dW, X.T @ dZ, rtol=rtol)
    np.testing.assert_allclose(Z_again, X @ (W + 1), rtol=rtol)
    assert not np.shares_memory(Z, Z_again)
    np.testing.assert_allclose(Z, X @ W, rtol=rtol)  # the second product wrote elsewhere


def test_column_major_products_stay_column_major():
    """NumPy's products return column-major results, so later element-wise work runs fast."""
    rng = np.random.default_rng(0)
    A, W = rng.standard_normal((50, 2)), rng.standard_normal((2, 3))
    Z = numpy_path.NumpyPath().samples_matmul(backends.get("numpy"), A, W)
    assert Z.flags.f_contiguous
    np.testing.assert_allclose(Z, A @ W, rtol=1e-14)
    W_wide = rng.standard_normal((2, numpy_path.NARROW + 1))
    Z_wide = numpy_path.NumpyPath().samples_matmul(backends.get("numpy"), A, W_wide)
    assert Z_wide.flags.c_contiguous
    np.testing.assert_allclose(Z_wide, A @ W_wide, rtol=1e-14)
    A_wide = rng.standard_normal((50, numpy_path.NARROW + 1))
    W_tall = rng.standard_normal((numpy_path.NARROW + 1, 3))
    Z_from_wide = numpy_path.NumpyPath().samples_matmul(backends.get("numpy"), A_wide, W_tall)
    assert Z_from_wide.flags.c_contiguous


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shared", [False, True])
@pytest.mark.parametrize("n_out", [1, 4, 16])
@pytest.mark.parametrize("feature_major", [None, False, True])
def test_a_stacks_products_with_one_inner_term_are_its_single_products(
    feature_major, n_out, shared, dtype
):
    """(n, 1) @ (1, n_out) per network — the backward through a one-output layer, or a
    one-feature input — is an outer product: each entry one rounded product, bit for bit."""
    rng = np.random.default_rng(n_out)
    A = rng.standard_normal((37, 1) if shared else (3, 37, 1)).astype(dtype)
    B = rng.standard_normal((3, 1, n_out)).astype(dtype)
    path = numpy_path.NumpyPath()
    with path.reusing(numpy_path.TrainingMemory(), (0, 3)):
        product = path.stack_matmul(A, B, feature_major)
        assert product.shape == (3, 37, n_out) and product.dtype == dtype
        np.testing.assert_array_equal(product, A * B)


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("n_in", [1, 2, 3, 5, numpy_path.THIN_MIN_DEPTH, 64])
@pytest.mark.parametrize("n_out", [1, 2, 3, 4, 64])
def test_numpy_products_equal_plain_matmul(order, n_in, n_out):
    """Every way NumPy's products are computed (BLAS, dot products, matrix-vector) is A @ B."""
    rng = np.random.default_rng(n_in * 100 + n_out)
    layout = np.asfortranarray if order == "F" else np.ascontiguousarray
    A = layout(rng.standard_normal((41, n_in)))
    W = rng.standard_normal((n_in, n_out))
    dZ = layout(rng.standard_normal((41, n_out)))
    fast, xp = numpy_path.NumpyPath(), backends.get("numpy")
    np.testing.assert_allclose(fast.samples_matmul(xp, A, W), A @ W, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(fast.weight_gradient(xp, A, dZ), A.T @ dZ, rtol=1e-12, atol=1e-13)
    with fast.reusing(numpy_path.TrainingMemory(), (0, 41)):  # into buffers: the same numbers
        np.testing.assert_allclose(fast.samples_matmul(xp, A, W), A @ W, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("loss", sorted(LOSSES))
@pytest.mark.parametrize("lead", [(), (3,)])
def test_value_and_gradient_equals_the_separate_value_and_gradient(backend, loss, lead):
    # The fused one-pass form the training step uses against the plain definitions.
    rng = np.random.default_rng(0)
    n_outputs = 1 if loss != "softmax_cross_entropy" else 4
    logits = rng.normal(size=(*lead, 50, n_outputs)) * 5
    if loss == "squared_error":
        Y = rng.normal(size=logits.shape)
    elif loss == "binary_cross_entropy":  # one 0/1 column
        Y = rng.integers(0, 2, size=logits.shape).astype(float)
    else:  # one-hot rows
        Y = np.eye(n_outputs)[rng.integers(0, n_outputs, size=logits.shape[:-1])]
    xp = backends.get(backend)
    Z, T = on(backend, logits, "float64"), on(backend, Y, "float64")
    value, gradient = LOSSES[loss].value_and_gradient(xp, Z, T)
    np.testing.assert_allclose(host(value), host(LOSSES[loss].value(xp, Z, T)), rtol=1e-12)
    np.testing.assert_allclose(
        host(gradient), host(LOSSES[loss].gradient(xp, Z, T)), rtol=1e-12, atol=1e-15
    )


# --- training memory: the arrays a pass writes are reused by its next pass -------------


def _special_values(shape, dtype, order, seed=0):
    """Random values with zeros of both signs, infinities and NaN mixed in, laid out as asked."""
    rng = np.random.default_rng(seed)
    values = (rng.standard_normal(shape) * 3).astype(dtype)
    flat = values.reshape(-1)
    flat[:6] = [0.0, -0.0, np.inf, -np.inf, np.nan, 30.0]
    rng.shuffle(flat)
    if order == "F":
        return np.asfortranarray(values)
    if order == "permuted":  # a stack's (M, n, k) view of an (n, M, k) array
        return np.ascontiguousarray(values.transpose(1, 0, 2)).transpose(1, 0, 2)
    return values


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    ("shape", "order"), [((40, 3), "C"), ((40, 3), "F"), ((2, 40, 3), "permuted")]
)
def test_numpy_activations_equal_the_reference_bit_for_bit(name, dtype, shape, order):
    xp = backends.get("numpy")
    fast, reference = numpy_path.NumpyPath(), get_activation(name)
    Z = _special_values(shape, dtype, order)
    dA = _special_values(shape, dtype, order, seed=1)
    memory = numpy_path.TrainingMemory()
    for _ in range(2):  # fresh buffers, then the same buffers again
        Z_pass, dA_pass = Z.copy(order="K"), dA.copy(order="K")
        with fast.reusing(memory, (0, 1)), np.errstate(all="ignore"):
            A_pass = fast.activation(xp, name, Z_pass)
            A = A_pass.copy(order="K")
            dZ = fast.activation_gradient(xp, name, dA_pass, Z_pass, A_pass)
        with np.errstate(all="ignore"):  # inf · 0 gives NaN in both
            A_ref = reference.forward(xp, Z)
            dZ_ref = dA * reference.derivative(xp, Z, A_ref)
        np.testing.assert_array_equal(A, A_ref)
        np.testing.assert_array_equal(np.signbit(A), np.signbit(A_ref))
        np.testing.assert_array_equal(dZ, dZ_ref)
        np.testing.assert_array_equal(np.signbit(dZ), np.signbit(dZ_ref))
        assert A.dtype == Z.dtype and dZ.dtype == Z.dtype
        assert A.strides == Z.strides or name == "identity" or A.strides == A_ref.strides
    # Outside a training pass nothing given is written over.
    Z_kept, dA_kept = Z.copy(order="K"), dA.copy(order="K")
    with np.errstate(all="ignore"):
        A = fast.activation(xp, name, Z)
        A_kept = A.copy(order="K")
        fast.activation_gradient(xp, name, dA.copy(order="K"), Z, A)
    for given, kept in [(Z, Z_kept), (A, A_kept), (dA, dA_kept)]:
        np.testing.assert_array_equal(given, kept)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activations_in_a_training_pass_write_over_nothing_they_are_given(name):
    """Z stays the pre-activation, A its own array; the derivative reads Z, A and dA only."""
    xp = backends.get("numpy")
    fast = numpy_path.NumpyPath()
    Z_given = np.asfortranarray(np.random.default_rng(0).standard_normal((50, 4)))
    Z, dA = Z_given.copy(order="K"), np.full_like(Z_given, 2.0)
    act = get_activation(name)
    with fast.reusing(numpy_path.TrainingMemory(), (0, 50)):
        A = fast.activation(xp, name, Z)
        A_kept = A.copy()
        dZ = fast.activation_gradient(xp, name, dA, Z, A)
    assert name == "identity" or not np.shares_memory(A, Z)
    assert not np.shares_memory(dZ, dA) and not np.shares_memory(dZ, A)
    np.testing.assert_array_equal(Z, Z_given)
    np.testing.assert_array_equal(A, A_kept)
    np.testing.assert_array_equal(A, act.forward(xp, Z_given))
    np.testing.assert_array_equal(dA, 2.0)
    np.testing.assert_array_equal(dZ, 2.0 * act.derivative(xp, Z_given, act.forward(xp, Z_given)))


def test_training_passes_reuse_their_arrays_and_return_fresh_results(small_row_blocks):
    """The second pass writes into the first pass's arrays; what a pass returns is its own."""
    xp = backends.get("numpy")
    loss = "softmax_cross_entropy"
    X, Y, params = _problem(loss, [2, 5, 4, 3], n_samples=11)
    other = [(W * 0.5, b - 1.0) for W, b in params]
    path = numpy_path.NumpyPath()
    allocated = []
    original_empty = numpy_path.Buffers.empty

    def counting_empty(self, shape, dtype):
        before = self.made
        buffer = original_empty(self, shape, dtype)
        allocated.append(self.made - before)
        return buffer

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(numpy_path.Buffers, "empty", counting_empty)
        patch.setattr(numpy_path, "_kept_memory", None)
        with path.training_run():
            loss_and_gradients = path.loss_and_gradients(xp, ["tanh", "relu"], loss, 0.0)
            value, grads = loss_and_gradients(params, X, Y)
            first_pass_new = sum(allocated)
            kept = (value.copy(), [(dW.copy(), db.copy()) for dW, db in grads])
            allocated.clear()
            loss_and_gradients(other, X, Y)
    assert first_pass_new > 0 and len(allocated) >= first_pass_new
    assert sum(allocated) == 0  # the second pass allocated nothing new
    # The first pass's results are untouched by the second pass.
    np.testing.assert_array_equal(value, kept[0])
    for (dW, db), (dW_kept, db_kept) in zip(grads, kept[1], strict=True):
        np.testing.assert_array_equal(dW, dW_kept)
        np.testing.assert_array_equal(db, db_kept)
    ref_value, ref_grads = layers.loss_and_gradients(xp, params, X, Y, ["tanh", "relu"], loss)
    np.testing.assert_allclose(value, ref_value, rtol=1e-12)
    for (dW, db), (ref_dW, ref_db) in zip(grads, ref_grads, strict=True):
        np.testing.assert_allclose(dW, ref_dW, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(db, ref_db, rtol=1e-12, atol=1e-14)


def test_arrays_outside_training_are_fresh():
    """Without a training run in progress (predict, a lone forward), nothing is reused."""
    xp = backends.get("numpy")
    X, _, params = _problem("squared_error", [2, 5, 2], n_samples=20)
    first, _ = layers.forward(xp, params, X, ["tanh"])
    kept = first.copy()
    second, _ = layers.forward(xp, [(W + 1, b) for W, b in params], X, ["tanh"])
    assert not np.shares_memory(first, second)
    np.testing.assert_array_equal(first, kept)


@pytest.mark.parametrize("loss", sorted(LOSSES))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("networks", [(), (3,)], ids=["network", "stack"])
def test_numpy_loss_equals_the_reference(loss, dtype, order, networks):
    xp = backends.get("numpy")
    rng = np.random.default_rng(3)
    n_outputs = 1 if loss == "binary_cross_entropy" else 4
    logits = (rng.standard_normal((*networks, 60, n_outputs)) * 6).astype(dtype)
    # Signed zeros, and logits whose e^-|z| underflows or whose σ(z) rounds to 1.
    logits[..., :6, 0] = [0.0, -0.0, 120.0, -120.0, 30.0, -30.0]
    if loss == "squared_error":
        Y = rng.standard_normal(logits.shape).astype(dtype)
    elif loss == "binary_cross_entropy":
        Y = rng.integers(0, 2, logits.shape).astype(dtype)
    else:
        Y = np.eye(n_outputs, dtype=dtype)[rng.integers(0, n_outputs, 60)]
    if order == "F":  # each network's matrix column-major
        logits, Y = (np.swapaxes(np.swapaxes(a, -1, -2).copy(), -1, -2) for a in (logits, Y))
    fast = numpy_path.NumpyPath()
    memory = numpy_path.TrainingMemory()
    reference = LOSSES[loss].value_and_gradient(xp, logits, Y)
    for _ in range(2):  # fresh buffers, then the same buffers again
        with fast.reusing(memory, (0, 60)):
            value, gradient = fast.loss_and_gradient(xp, loss, logits, Y)
        if loss == "softmax_cross_entropy":
            # The class-axis max and sum are NumPy's fast forms: equal up to rounding.
            rtol = 1e-6 if dtype == "float32" else 1e-13
            np.testing.assert_allclose(value, reference[0], rtol=rtol)
            np.testing.assert_allclose(gradient, reference[1], rtol=rtol, atol=rtol / 60)
        else:
            np.testing.assert_array_equal(value, reference[0])
            np.testing.assert_array_equal(gradient, reference[1])
        assert gradient.dtype == reference[1].dtype and np.asarray(value).dtype == dtype


def test_a_training_run_hands_its_memory_to_the_next(monkeypatch):
    """Warm-started fits start with their arrays in place; runs at once never share memory."""
    path = numpy_path.NumpyPath()
    monkeypatch.setattr(numpy_path, "_kept_memory", None)
    with path.training_run() as first:
        first.block((0, 1)).empty((4, 3), np.float64)
        with path.training_run() as concurrent:  # e.g. another thread's fit
            assert concurrent is not first
    with path.training_run() as second:
        assert second is first
    monkeypatch.setattr(numpy_path, "KEPT_MEMORY_BYTES", 10)
    with path.training_run() as big:
        big.block((0, 1)).empty((4, 3), np.float64)  # 96 bytes: more than may be kept
    with path.training_run() as after:
        assert after is not big


def test_warm_started_fits_equal_one_long_fit():
    """Continuing with the previous run's memory changes no number (float64, SGD)."""
    import scratchml as sm

    X, y = sm.data.spirals(300, arms=3, seed=2, dtype="float64")
    kwargs = {"hidden_layers": (8, 8), "optimizer": "sgd", "learning_rate": 0.2, "seed": 0}
    long = sm.MLPClassifier(epochs=30, tol=None, **kwargs).fit(X, y)
    warm = sm.MLPClassifier(epochs=10, tol=None, warm_start=True, **kwargs)
    for _ in range(3):
        warm.fit(X, y)
    for (W, b), (W_long, b_long) in zip(warm.params_, long.params_, strict=True):
        np.testing.assert_array_equal(W, W_long)
        np.testing.assert_array_equal(b, b_long)


def test_numpy_blocks_run_in_no_more_threads_than_scratchml_num_threads(monkeypatch):
    """SCRATCHML_NUM_THREADS caps the NumPy path's threads; OMP_NUM_THREADS does not (a
    Dask worker caps OpenMP, and must train the same numbers as the process beside it)."""
    from scratchml.machine import usable_cores

    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    monkeypatch.delenv("SCRATCHML_NUM_THREADS", raising=False)
    assert numpy_path._n_cores() == usable_cores()
    monkeypatch.setenv("SCRATCHML_NUM_THREADS", "1")
    assert numpy_path._n_cores() == 1
    monkeypatch.setenv("SCRATCHML_NUM_THREADS", "64")
    assert numpy_path._n_cores() == usable_cores()
    for unset in ("", "auto"):
        monkeypatch.setenv("SCRATCHML_NUM_THREADS", unset)
        assert numpy_path._n_cores() == usable_cores()


def test_a_stack_trains_on_single_threaded_blas_until_its_run_ends(monkeypatch):
    """A stack's passes run BLAS on one thread (a network's numbers must not depend on its
    stack-mates); a run limits it once, and BLAS has its threads back when the run ends."""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    blas = threadpoolctl.ThreadpoolController().select(user_api="blas")
    if not blas.lib_controllers:
        pytest.skip("threadpoolctl finds no BLAS to limit")

    def blas_threads():
        return {controller.num_threads for controller in blas.lib_controllers}

    seen = []
    original = numpy_path.NumpyPath.stack_matmul

    def recording(self, A, B, feature_major=None):
        seen.append(blas_threads())
        return original(self, A, B, feature_major)

    monkeypatch.setattr(numpy_path.NumpyPath, "stack_matmul", recording)
    X, y = np.random.default_rng(0).standard_normal((30, 2)), np.arange(30) % 2
    with blas.limit(limits=2):
        before = blas_threads()
        sm.StackedMLPClassifier(n_networks=3, hidden_layers=(4,), epochs=3, seed=[0, 1, 2]).fit(
            X, y
        )
        assert seen and all(threads == {1} for threads in seen)
        assert blas_threads() == before
        seen.clear()
        with numpy_path._single_threaded_blas(), numpy_path._single_threaded_blas():
            pass  # nested holders: the last to leave restores
        assert blas_threads() == before


@pytest.mark.parametrize(
    ("alive", "loss"),
    [
        ([True, True, True], [0.5, 0.25, 1.0]),
        ([True, True, True], [0.5, np.nan, 1.0]),
        ([True, False, True], [0.5, 0.25, np.inf]),
    ],
)
@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_paths_keep_finite_networks_as_the_plain_form(backend, alive, loss):
    """The shortcut of the paths that read checks for free (NumPy, torch's CPU tensors:
    every network alive and finite) and its fallback give the plain form's alive, θ and
    kept parameters; the shortcut hands θ and the step's start back uncopied."""
    from scratchml.nn.parameters import keep_finite_networks

    if backends.why_unavailable(backend):
        pytest.skip(f"{backend} not usable: {backends.why_unavailable(backend)}")
    xp = backends.get(backend)
    rng = np.random.default_rng(0)
    start, theta, kept = (on(backend, rng.standard_normal((3, 5))) for _ in range(3))
    args = (on(backend, alive), on(backend, loss), start, theta, kept)
    path = speed.path_for(xp)
    on_host = str(backends.device(theta)) == "cpu"
    assert path.reads_are_free(theta) == on_host
    fast = path.keep_finite_networks(xp, *args)
    plain = keep_finite_networks(xp, *args)
    for got, expected in zip(fast, plain, strict=True):
        np.testing.assert_array_equal(host(got), host(expected))
    if on_host and all(alive) and np.all(np.isfinite(loss)):
        assert fast[1] is theta and fast[2] is start
