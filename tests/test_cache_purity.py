"""A NumPy fit shows the learner the math as ``nn/layers.py`` writes it.

The NumPy speed path writes into reused memory and works in place, but only on arrays of
its own that nobody else sees. Whatever the math binds to a name — each layer's cache
(A_prev, Z = A_prev @ W + b, A = act(Z)), each kernel's result (dA_prev, dZ, the logits'
gradient), the parameters, the gradients — holds what the plain math defines, as distinct
arrays, unchanged by the rest of the pass and by later passes. These tests watch a real
fit (single networks, row blocks in threads, mini-batches, a stack) through wrappers
around ``layers.forward``/``layers.backward`` and the path's kernels.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest

import scratchml as sm
from scratchml.nn import layers
from scratchml.nn.activations import get_activation
from scratchml.nn.kernels import PLAIN
from scratchml.speed import numpy as numpy_path
from scratchml.stacks import StackedMLPClassifier

# The kernels whose results the math binds to names (dense: Z, activation: A,
# input_gradient: dA_prev, activation_gradient: dZ, loss_and_gradient: the loss and
# ∂loss/∂logits, and the gradients).
KERNELS = (
    "dense",
    "activation",
    "input_gradient",
    "activation_gradient",
    "loss_and_gradient",
    "weight_gradient",
    "bias_gradient",
)


class Watch:
    """Wraps a fit's forward, backward and kernels; checks each pass when backward returns.

    ``keep``: hold every pass's caches, parameters and results until the fit ends (as a
    learner collecting activations would), and check then that no later pass wrote over them.
    """

    def __init__(self, monkeypatch: pytest.MonkeyPatch, keep: bool = False) -> None:
        self.keep = keep
        self.kept: list[tuple[np.ndarray, np.ndarray]] = []
        self.passes = 0
        self.new_buffers: list[int] = []  # per pass, in order: buffers made, not reused
        self._lock = threading.Lock()
        self._local = threading.local()  # the pass this thread runs (row blocks run in threads)
        monkeypatch.setattr(numpy_path, "_kept_memory", None)  # no earlier run's buffers
        forward, backward = layers.forward, layers.backward

        def watched_forward(xp, params, X, activations, kernels=PLAIN):
            self._local.results, self._local.new_buffers = [], 0
            logits, caches = forward(xp, params, X, activations, kernels)
            self._local.at_forward = [(c.Z.copy(), c.A.copy()) for c in caches]
            return logits, caches

        def watched_backward(xp, params, caches, d_logits, activations, kernels=PLAIN):
            grads = backward(xp, params, caches, d_logits, activations, kernels)
            if kernels is not PLAIN:
                self._check(forward, params, caches, activations, grads)
            return grads

        monkeypatch.setattr(layers, "forward", watched_forward)
        monkeypatch.setattr(layers, "backward", watched_backward)
        for name in KERNELS:
            monkeypatch.setattr(numpy_path.NumpyPath, name, self._recording(name))
        empty = numpy_path.Buffers.empty

        def counted_empty(buffers, shape, dtype):
            made = buffers.made
            buffer = empty(buffers, shape, dtype)
            self._local.new_buffers += buffers.made - made
            return buffer

        monkeypatch.setattr(numpy_path.Buffers, "empty", counted_empty)

    def _recording(self, name):
        kernel = getattr(numpy_path.NumpyPath, name)

        def recorded(path, *args):
            result = kernel(path, *args)
            results = getattr(self._local, "results", None)
            if results is not None:
                for array in result if isinstance(result, tuple) else (result,):
                    results.append((name, array, np.array(array, copy=True)))
            return result

        return recorded

    def _check(self, plain_forward, params, caches, activations, grads):
        X = caches[0].A_prev
        _, reference = plain_forward(np, params, X, activations)  # the plain kernels
        hidden = len(caches) - 1
        for layer, (cache, (Z_then, A_then), ref) in enumerate(
            zip(caches, self._local.at_forward, reference, strict=True)
        ):
            if layer < hidden:
                act = activations[layer]
                assert cache.Z is not cache.A and not np.shares_memory(cache.Z, cache.A), act
                # A is act(Z), after backward as well (backward wrote over neither).
                np.testing.assert_array_equal(cache.A, get_activation(act).forward(np, cache.Z))
            if layer > 0:
                assert cache.A_prev is caches[layer - 1].A
            np.testing.assert_array_equal(cache.Z, Z_then)
            np.testing.assert_array_equal(cache.A, A_then)
            np.testing.assert_allclose(cache.Z, ref.Z, rtol=1e-10, atol=1e-12)
            np.testing.assert_allclose(cache.A, ref.A, rtol=1e-10, atol=1e-12)
        # No kernel wrote over another kernel's result (dA_prev, dZ, ∂loss/∂logits, ...).
        for name, array, then in self._local.results:
            np.testing.assert_array_equal(array, then, err_msg=name)
        with self._lock:
            self.passes += 1
            self.new_buffers.append(self._local.new_buffers)
            if self.keep:
                arrays = [a for cache in caches for a in cache] + [a for p in params for a in p]
                arrays += [a for g in grads for a in g] + [a for _, a, _ in self._local.results]
                self.kept += [(a, a.copy()) for a in arrays]
        self._local.results = self._local.at_forward = None  # hold nothing into the next pass

    def check_kept(self) -> None:
        """What was kept still holds the values it had when its pass ended."""
        assert self.kept
        for array, then in self.kept:
            np.testing.assert_array_equal(array, then)


def _data(n_samples=120, dtype="float64"):
    return sm.data.spirals(n_samples, arms=3, noise=0.1, seed=1, dtype=dtype)


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "relu", "leaky_relu"])
def test_a_numpy_fit_keeps_each_layers_Z_and_A_as_the_math_defines_them(monkeypatch, activation):
    monkeypatch.setattr(numpy_path, "_n_cores", lambda: 1)
    watch = Watch(monkeypatch)
    X, y = _data()
    sm.MLPClassifier(
        hidden_layers=(8, 5), activation=activation, epochs=4, learning_rate=0.1, tol=None
    ).fit(X, y)
    assert watch.passes == 4
    # The first pass made the buffers; the later ones wrote into them again (the reuse that
    # makes the path fast), and the checks above held all the same.
    assert watch.new_buffers[0] > 0 and watch.new_buffers[1:] == [0, 0, 0]


def test_row_blocks_in_threads_and_mini_batches_keep_the_caches_pure(monkeypatch):
    monkeypatch.setattr(numpy_path, "MIN_BLOCK_ELEMENTS", 2)  # 3 row blocks in threads
    monkeypatch.setattr(numpy_path, "_n_cores", lambda: 3)
    watch = Watch(monkeypatch)
    X, y = _data()
    sm.MLPClassifier(
        hidden_layers=(64, 64), activation="tanh", optimizer="adam", epochs=2, tol=None
    ).fit(X, y)
    assert watch.passes == 2 * 3
    sm.MLPRegressor(hidden_layers=(6,), activation="tanh", epochs=2, batch_size=50, tol=None).fit(
        X, X[:, 0] * X[:, 1]
    )
    assert watch.passes == 2 * 3 + 2 * 3 * 3  # 3 mini-batches (the last smaller), 3 blocks
    # Only the first epoch of each fit made buffers.
    assert sum(watch.new_buffers[3:6]) == 0 and sum(watch.new_buffers[6 + 9 :]) == 0


def test_cache_sized_parts_of_row_blocks_keep_the_caches_pure(monkeypatch):
    monkeypatch.setattr(numpy_path, "MIN_BLOCK_ELEMENTS", 2)  # 2 row blocks in threads
    monkeypatch.setattr(numpy_path, "_n_cores", lambda: 2)
    monkeypatch.setattr(numpy_path, "ROW_BLOCK_BYTES", 16 * 8 * 20)  # parts of 20 rows
    monkeypatch.setattr(numpy_path, "ROW_BLOCK_WEIGHT_RATIO", 0)
    watch = Watch(monkeypatch)
    X, y = _data()
    sm.MLPClassifier(hidden_layers=(16, 8), activation="tanh", epochs=3, tol=None).fit(X, y)
    assert watch.passes == 3 * 2 * 3  # each thread's 60 rows in 3 parts
    # The parts of a thread share its memory: only the first part of the first epoch made
    # buffers (the next parts found them free again).
    assert watch.new_buffers[0] > 0 and sum(watch.new_buffers[6:]) == 0
    assert sum(watch.new_buffers) <= 2 * watch.new_buffers[0]


def test_a_stack_keeps_each_layers_Z_and_A_as_the_math_defines_them(monkeypatch):
    monkeypatch.setattr(numpy_path, "_n_cores", lambda: 2)  # 2 blocks of networks: 2 and 1
    watch = Watch(monkeypatch)
    X, y = _data()
    StackedMLPClassifier(
        n_networks=3, hidden_layers=(8, 4), activation="tanh", epochs=3, learning_rate=0.1
    ).fit(X, y)
    assert watch.passes == 3 * 2
    assert sum(watch.new_buffers[2:]) == 0


def test_caches_kept_by_the_caller_are_not_written_over_by_later_passes(monkeypatch):
    """A learner who keeps each epoch's caches and gradients finds them as they were."""
    monkeypatch.setattr(numpy_path, "_n_cores", lambda: 1)
    watch = Watch(monkeypatch, keep=True)
    X, y = _data()
    sm.MLPClassifier(
        hidden_layers=(8, 5), activation="tanh", optimizer="momentum", epochs=4, tol=None
    ).fit(X, y)
    StackedMLPClassifier(n_networks=2, hidden_layers=(4,), activation="relu", epochs=3).fit(X, y)
    assert watch.passes == 4 + 3
    watch.check_kept()
    assert all(watch.new_buffers)  # each pass wrote into new memory, not into what was kept


def test_in_float32_too(monkeypatch):
    watch = Watch(monkeypatch)
    X, y = _data(dtype="float32")
    sm.MLPClassifier(hidden_layers=(16,), activation="tanh", epochs=3, tol=None).fit(X, y)
    assert watch.passes == 3
