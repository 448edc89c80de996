"""Host synchronisations in training: none inside a step, one per chunk of epochs.

On a GPU, every ``float(x)``, ``bool(x)``, ``int(x)`` or host copy of a device array
waits for all queued device work. A CPU machine cannot see those waits, so the tests
here train on a *counting* array library: NumPy arrays behind a thin wrapper that
counts each conversion to a host value (``__float__``, ``__bool__``, ``__int__``,
``__index__``, ``__complex__``, ``__array__``, ``__dlpack__``, ``tolist``, ``item``).
It also counts copies of host data to the device (``asarray`` of host data): on a
GPU a copy from pageable host memory waits for the work queued before it. The
wrapper is an Array API namespace of its own (``__array_namespace__``), so
scratchml's code runs on it unchanged, exactly as on CuPy.

The tests also check that the chunked host checks decide exactly what per-epoch
checks would (same stopping epoch, same parameters).
"""

from __future__ import annotations

import contextlib
import sys
import types
import warnings

import array_api_compat.numpy as compat_numpy
import numpy as np
import pytest

import scratchml as sm
from scratchml import _training, backends
from scratchml.nn import layers, optimizers
from scratchml.nn.init import init_params

NAMESPACE = "scratchml_counting_namespace"


class Counter:
    """Host conversions seen, in total and while inside a training step."""

    def __init__(self) -> None:
        self.total = 0
        self.in_step = 0
        self.in_loop = 0
        self.step_depth = 0
        self.loop_depth = 0
        self.loop_kinds: dict[str, int] = {}

    def hit(self, kind: str) -> None:
        self.total += 1
        if self.step_depth:
            self.in_step += 1
        if self.loop_depth:
            self.in_loop += 1
            self.loop_kinds[kind] = self.loop_kinds.get(kind, 0) + 1


COUNTER = Counter()


class _Device:
    """The wrapper's one device (an object, as GPU libraries have, not a string)."""

    def __repr__(self) -> str:
        return "counting-cpu"


DEVICE = _Device()


def _unwrap(obj):
    if obj is DEVICE:
        return "cpu"
    if isinstance(obj, CountingArray):
        return obj._data
    if isinstance(obj, tuple):
        return tuple(_unwrap(o) for o in obj)
    if isinstance(obj, list):
        return [_unwrap(o) for o in obj]
    if isinstance(obj, dict):
        return {k: _unwrap(v) for k, v in obj.items()}
    return obj


def _wrap(obj):
    if isinstance(obj, np.ndarray | np.generic) and not isinstance(obj, np.dtype):
        return CountingArray(np.asarray(obj))
    if isinstance(obj, tuple):
        return tuple(_wrap(o) for o in obj)
    if isinstance(obj, list):
        return [_wrap(o) for o in obj]
    return obj


class CountingArray:
    """A NumPy array that counts every conversion to a host value."""

    __slots__ = ("_data",)

    def __init__(self, data: np.ndarray) -> None:
        self._data = data

    def __array_namespace__(self, api_version=None):
        return sys.modules[NAMESPACE]

    shape = property(lambda self: self._data.shape)
    dtype = property(lambda self: self._data.dtype)
    ndim = property(lambda self: self._data.ndim)
    size = property(lambda self: self._data.size)
    device = property(lambda self: DEVICE)
    mT = property(lambda self: CountingArray(np.swapaxes(self._data, -1, -2)))  # noqa: N815 - the standard's name

    def __repr__(self) -> str:
        return f"CountingArray({self._data!r})"

    def __len__(self) -> int:
        return len(self._data)

    def __getitem__(self, key):
        return _wrap(self._data[_unwrap(key)])

    # The host conversions: each one would wait for a GPU.
    def __float__(self) -> float:
        COUNTER.hit("__float__")
        return float(self._data)

    def __int__(self) -> int:
        COUNTER.hit("__int__")
        return int(self._data)

    def __index__(self) -> int:
        COUNTER.hit("__index__")
        return self._data.__index__()

    def __bool__(self) -> bool:
        COUNTER.hit("__bool__")
        return bool(self._data)

    def __complex__(self) -> complex:
        COUNTER.hit("__complex__")
        return complex(self._data)

    def __array__(self, dtype=None, copy=None):
        COUNTER.hit("__array__")
        return np.asarray(self._data, dtype=dtype)

    def __dlpack__(self, **kwargs):
        COUNTER.hit("__dlpack__")
        return self._data.__dlpack__(**kwargs)

    def __dlpack_device__(self):
        return self._data.__dlpack_device__()

    def tolist(self):
        COUNTER.hit("tolist")
        return self._data.tolist()

    def item(self):
        COUNTER.hit("item")
        return self._data.item()


def _operator(name):
    def method(self, *args):
        return _wrap(getattr(self._data, name)(*_unwrap(args)))

    method.__name__ = name
    return method


for _name in [
    "__add__",
    "__radd__",
    "__sub__",
    "__rsub__",
    "__mul__",
    "__rmul__",
    "__truediv__",
    "__rtruediv__",
    "__floordiv__",
    "__rfloordiv__",
    "__mod__",
    "__rmod__",
    "__pow__",
    "__rpow__",
    "__matmul__",
    "__rmatmul__",
    "__and__",
    "__rand__",
    "__or__",
    "__ror__",
    "__xor__",
    "__rxor__",
    "__lshift__",
    "__rshift__",
    "__lt__",
    "__le__",
    "__gt__",
    "__ge__",
    "__eq__",
    "__ne__",
    "__neg__",
    "__pos__",
    "__abs__",
    "__invert__",
]:
    setattr(CountingArray, _name, _operator(_name))


class _Info:
    """The namespace's inspection object, taking the wrapper's device."""

    def __init__(self, info):
        self._info = info

    def __getattr__(self, name):
        method = getattr(self._info, name)
        return lambda *args, **kwargs: _wrap(method(*_unwrap(args), **_unwrap(kwargs)))


class CountingNamespace(types.ModuleType):
    """array-api-compat's NumPy namespace, taking and returning counting arrays."""

    def __getattr__(self, name):
        value = getattr(compat_numpy, name)
        if name == "__array_namespace_info__":
            return lambda: _Info(value())
        if isinstance(value, type) or not callable(value):
            return value  # dtypes and constants

        def function(*args, **kwargs):
            if name == "asarray" and args and not isinstance(args[0], CountingArray):
                # A copy of host data to a GPU waits for the work queued before it.
                COUNTER.hit("host-to-device")
            return _wrap(value(*_unwrap(args), **_unwrap(kwargs)))

        function.__name__ = name
        return function


@pytest.fixture
def counting(monkeypatch):
    """Register the counting namespace as a backend and count conversions inside steps."""
    namespace = CountingNamespace(NAMESPACE)
    monkeypatch.setitem(sys.modules, NAMESPACE, namespace)
    monkeypatch.setitem(backends.LIBRARIES, NAMESPACE, backends.Library(NAMESPACE))
    counter = Counter()
    monkeypatch.setattr(sys.modules[__name__], "COUNTER", counter)

    def inside(attr):
        @contextlib.contextmanager
        def scope():
            setattr(counter, attr, getattr(counter, attr) + 1)
            try:
                yield
            finally:
                setattr(counter, attr, getattr(counter, attr) - 1)

        return scope

    in_step, in_loop = inside("step_depth"), inside("loop_depth")

    def counted(function, scope):
        def wrapper(*args, **kwargs):
            with scope():
                return function(*args, **kwargs)

        return wrapper

    monkeypatch.setattr(layers, "loss_and_gradients", counted(layers.loss_and_gradients, in_step))
    for cls in (optimizers.SGD, optimizers.Momentum, optimizers.Adam):
        monkeypatch.setattr(cls, "step", counted(cls.step, in_step))
    monkeypatch.setattr(_training, "gradient_descent", counted(_training.gradient_descent, in_loop))
    for module in ("scratchml.estimators.network", "scratchml.estimators.stacks"):
        if module in sys.modules and hasattr(sys.modules[module], "gradient_descent"):
            monkeypatch.setattr(sys.modules[module], "gradient_descent", _training.gradient_descent)
    # Chunks double every time (no clock in the decision), so the counts are exact.
    with _training.chunking(_training.ChunkPolicy(target_s=float("inf"))):
        yield counter


def _counting(array) -> CountingArray:
    return CountingArray(np.asarray(array))


def _data(kind):
    X, y = sm.data.spirals(96, arms=3 if kind == "multiclass" else 2, seed=0, dtype="float64")
    if kind == "regression":
        y = np.sin(X[:, 0]) + X[:, 1]
    return _counting(X), _counting(y)


EPOCHS = 256

ESTIMATORS = {
    "mlp-classifier-full-batch": (
        "multiclass",
        lambda: sm.MLPClassifier(hidden_layers=(8,), epochs=EPOCHS, learning_rate=0.01),
    ),
    "mlp-classifier-mini-batch": (
        "binary",
        lambda: sm.MLPClassifier(hidden_layers=(8,), epochs=EPOCHS, batch_size=32),
    ),
    "mlp-regressor-full-batch": (
        "regression",
        lambda: sm.MLPRegressor(hidden_layers=(8,), epochs=EPOCHS, optimizer="momentum"),
    ),
    "mlp-regressor-mini-batch": (
        "regression",
        lambda: sm.MLPRegressor(hidden_layers=(8,), epochs=EPOCHS, batch_size=40, optimizer="sgd"),
    ),
    "logistic-regression-gd": (
        "binary",
        lambda: sm.LogisticRegression(epochs=EPOCHS).set_params(
            **({"solver": "gd"} if "solver" in sm.LogisticRegression().get_params() else {})
        ),
    ),
}


def _fit_and_count(counter, make, kind):
    X, y = _data(kind)
    model = make()
    if "tol" in model.get_params():
        model.set_params(tol=None)  # run every epoch: the count is per epoch
    model.fit(X, y)
    return model


def check_syncs(counter, epochs):
    """The rule: no host sync inside a step, and well under one per epoch in the loop.

    Chunks double (1, 2, 4, ... epochs): 256 epochs take 9 chunks, each with one copy
    of its losses to the host and, with mini-batches, one copy of its shuffles to the
    device (made right after the previous chunk's sync, when the device is idle).
    """
    assert counter.in_step == 0, f"{counter.in_step} host syncs inside training steps"
    assert counter.in_loop <= epochs / 8, (
        f"{counter.in_loop} host syncs in the training loop over {epochs} epochs: "
        f"{counter.loop_kinds}"
    )


@pytest.mark.parametrize("case", list(ESTIMATORS))
def test_no_host_sync_inside_a_step_and_few_per_epoch(counting, case):
    kind, make = ESTIMATORS[case]
    model = _fit_and_count(counting, make, kind)
    assert model.n_iter_ == EPOCHS
    assert isinstance(model.params_[0][0], CountingArray)  # the fit really ran on the wrapper
    assert counting.total > 0  # input validation converts a few values: the counter sees them
    check_syncs(counting, EPOCHS)


def test_stacks_sync_once_per_chunk(counting):
    from scratchml.stacks import StackedMLPClassifier

    X, y = _data("binary")
    stack = StackedMLPClassifier(
        n_networks=4,
        hidden_layers=(4,),
        epochs=EPOCHS,
        batch_size=32,
        learning_rate=[0.01, 0.1, 1e3, 0.02],
    ).fit(X, y)
    assert stack.loss_history_.shape == (EPOCHS, 4)
    check_syncs(counting, EPOCHS)


@pytest.fixture
def float_loss_in_step(monkeypatch):
    """Read the loss on the host inside every step: the classic hidden sync."""
    original = layers.loss_and_gradients

    def syncing(*args, **kwargs):
        loss, grads = original(*args, **kwargs)
        float(loss)  # a host round trip per step
        return loss, grads

    monkeypatch.setattr(layers, "loss_and_gradients", syncing)


def test_the_check_catches_a_host_sync_in_the_step(float_loss_in_step, counting):
    kind, make = ESTIMATORS["mlp-classifier-mini-batch"]
    _fit_and_count(counting, make, kind)
    assert counting.in_step >= EPOCHS * 3  # one per mini-batch
    with pytest.raises(AssertionError, match="inside training steps"):
        check_syncs(counting, EPOCHS)


def test_the_check_catches_a_host_sync_per_epoch(counting):
    """A chunk of one epoch (a sync per epoch, as a per-epoch loss check makes) fails too."""
    kind, make = ESTIMATORS["mlp-regressor-full-batch"]
    with _training.chunking(_training.ChunkPolicy(max_epochs=1)):
        _fit_and_count(counting, make, kind)
    with pytest.raises(AssertionError, match="in the training loop"):
        check_syncs(counting, EPOCHS)


# --- chunked checks decide exactly as per-epoch checks -------------------------------------


def _train(chunk, loss, optimizer, epochs, X, Y, **kwargs):
    """gradient_descent with chunks of exactly ``chunk`` epochs."""
    params = init_params([2, 6, Y.shape[1]], ["tanh", "identity"], "auto", 0, like=X)
    objective = _training.TrainingObjective(["tanh"], loss, 0.0)
    chunks = _training.ChunkPolicy(max_epochs=chunk, fixed=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return _training.gradient_descent(
            np, params, X, Y, objective, optimizer, epochs, seed=0, chunks=chunks, **kwargs
        )


def _same(a, b):
    assert a.loss_history == b.loss_history
    assert a.validation_scores == b.validation_scores
    assert [s.epoch for s in a.history] == [s.epoch for s in b.history]
    assert (a.divergence is None) == (b.divergence is None)
    if a.divergence is not None:
        assert a.divergence.epoch == b.divergence.epoch
    for (W, bias), (W2, bias2) in zip(a.params, b.params, strict=True):
        np.testing.assert_array_equal(W, W2)
        np.testing.assert_array_equal(bias, bias2)
    # The optimizer state belongs to the parameters returned: a run continues from both.
    for state, state2 in zip(_leaves(a.state), _leaves(b.state), strict=True):
        np.testing.assert_array_equal(state, state2)


def _leaves(tree):
    if isinstance(tree, list | tuple):
        return [leaf for item in tree for leaf in _leaves(item)]
    return [] if tree is None else [tree]


def _spirals():
    X, y = sm.data.spirals(120, arms=2, seed=1, dtype="float64")
    return X, y.reshape(-1, 1).astype(np.float64)


@pytest.mark.parametrize("batch_size", [None, 16])
@pytest.mark.parametrize(
    "stopping",
    [
        {"tol": 1e-2, "n_iter_no_change": 3},
        {"tol": 1e-4, "n_iter_no_change": 6, "validation": True},
        {"validation": True},
    ],
    ids=["tol-on-loss", "tol-on-validation", "best-validation"],
)
def test_chunked_stopping_equals_per_epoch(batch_size, stopping):
    X, Y = _spirals()
    kwargs = dict(stopping)
    if kwargs.pop("validation", False):

        def accuracy(params):
            logits, _ = layers.forward(np, params, X, ["tanh"])
            return np.mean((logits > 0) == (Y > 0.5))

        kwargs["validation"] = accuracy
    runs = [
        _train(
            chunk,
            "binary_cross_entropy",
            optimizers.Adam(0.02),
            150,
            X,
            Y,
            batch_size=batch_size,
            record_every=7,
            **kwargs,
        )
        for chunk in (1, 3, 64)
    ]
    assert len(runs[0].loss_history) < 150 or "tol" not in kwargs
    for run in runs[1:]:
        _same(runs[0], run)


@pytest.mark.parametrize("optimizer", [optimizers.SGD(3.0), optimizers.Momentum(3.0)])
@pytest.mark.parametrize("batch_size", [None, 16])
def test_chunked_divergence_equals_per_epoch(batch_size, optimizer):
    """A single network diverging inside a chunk keeps the same parameters and epoch."""
    X, Y = _spirals()
    X, Y = X * 30, Y * 1000
    runs = [
        _train(
            chunk,
            "squared_error",
            optimizer,
            300,
            X,
            Y,
            batch_size=batch_size,
            record_every=3,
        )
        for chunk in (1, 2, 5, 64)
    ]
    assert runs[0].divergence is not None and runs[0].divergence.epoch > 3
    for run in runs[1:]:
        _same(runs[0], run)


def test_resuming_from_state_continues_the_run():
    """Two runs of 20 epochs, the second from the first's state, equal one run of 40."""
    X, Y = _spirals()
    whole = _train(8, "binary_cross_entropy", optimizers.Adam(0.02), 40, X, Y)
    first = _train(8, "binary_cross_entropy", optimizers.Adam(0.02), 20, X, Y)
    params = first.params

    objective = _training.TrainingObjective(["tanh"], "binary_cross_entropy")
    second = _training.gradient_descent(
        np, params, X, Y, objective, optimizers.Adam(0.02), 20, state=first.state
    )
    assert first.loss_history + second.loss_history == whole.loss_history
    for (W, b), (W2, b2) in zip(second.params, whole.params, strict=True):
        np.testing.assert_array_equal(W, W2)
        np.testing.assert_array_equal(b, b2)
