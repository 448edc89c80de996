"""A network's numbers depend only on its configuration, seed, data, library and dtype.

Not on the chunk size, its stack-mates or the rest of the grid: on NumPy bit for bit, in
float32 and float64. On PyTorch and JAX a refit of the same stack is bit for bit, and
another chunking agrees to rounding (what docs/guide/sweeps.md says).
"""

from __future__ import annotations

import numpy as np
import pytest

from scratchml import _training, backends
from scratchml.sweep import chunks, grid
from scratchml.sweep.userdata import UserData

GRID = {"depth": 2, "width": 8, "learning_rate": [0.01, 0.05], "l2": [0.0, 1e-3], "seeds": 3}


def _user_data() -> UserData:
    """Four classes in 24 features (wide enough for BLAS to pick kernels by size)."""
    rng = np.random.default_rng(3)
    labels = np.arange(240) % 4
    X = rng.normal(size=(240, 24)) + 1.5 * rng.normal(size=(4, 24))[labels]
    return UserData(X, labels.astype(np.int64))


def _setup(data: str, dtype: str, backend: str = "numpy", **extra_grid):
    if data == "spirals":
        settings = grid.check_settings(epochs=40, dtype=dtype, backend=backend)
        return settings, grid.expand({**GRID, **extra_grid}), None
    settings = grid.check_settings(
        epochs=40, dtype=dtype, backend=backend, data="blobs#0", task="classifier"
    )
    return settings, grid.expand({**GRID, **extra_grid}, folds=0), _user_data()


def _train(networks, settings, user, chunk_size):
    """Each network's parameters, loss history and scores, trained in chunks of chunk_size."""
    found = {}
    for chunk in chunks.make_chunks(networks, chunk_size):
        split = chunks.network_data(chunk.networks[0], settings, user)
        stack = chunks.stack_estimator(chunk.networks, settings).fit(split.X, split.y)
        scores = [
            stack.score(X, y) for X, y in ((split.X_val, split.y_val), (split.X_test, split.y_test))
        ]
        for i, network in enumerate(chunk.networks):
            params = [backends.to_numpy(a[i, ...]) for layer in stack.params_ for a in layer]
            found[network] = (params, stack.loss_history_[:, i], [float(s[i]) for s in scores])
    return found


def _same(a, b) -> bool:
    params_a, losses_a, scores_a = a
    params_b, losses_b, scores_b = b
    return (
        all(np.array_equal(p, q) for p, q in zip(params_a, params_b, strict=True))
        and np.array_equal(losses_a, losses_b)
        and scores_a == scores_b
    )


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("data", ["spirals", "user"])
def test_a_network_does_not_depend_on_its_chunk_or_grid_on_numpy(data, dtype):
    settings, networks, user = _setup(data, dtype)
    reference = _train(networks, settings, user, len(networks))
    for chunk_size in (1, 2, 5):
        found = _train(networks, settings, user, chunk_size)
        differ = [n for n in networks if not _same(found[n], reference[n])]
        assert not differ, f"chunk size {chunk_size}: {len(differ)} networks differ"
    # Inside another grid: other learning rates beside them, another l2, one width more.
    _, wider, _ = _setup(data, dtype, learning_rate=[0.01, 0.2, 0.05], l2=[1e-3, 0.0, 0.1])
    found = _train(wider, settings, user, 7)
    differ = [n for n in networks if not _same(found[n], reference[n])]
    assert not differ, f"in another grid: {len(differ)} networks differ"
    # A stack whose networks share one rate (a number, not an array, reaches Adam).
    shared = [n for n in networks if n.learning_rate == 0.05]
    found = _train(shared, settings, user, len(shared))
    assert all(_same(found[n], reference[n]) for n in shared)


@pytest.mark.parametrize("backend", ["torch", "jax"])
def test_on_torch_and_jax_the_same_stack_refits_bit_for_bit_and_others_agree_to_rounding(backend):
    reason = backends.why_unavailable(backend)
    if reason:
        pytest.skip(reason)
    settings, networks, user = _setup("user", "float32", backend)
    reference = _train(networks, settings, user, 5)
    again = _train(networks, settings, user, 5)
    assert all(_same(again[n], reference[n]) for n in networks)
    found = _train(networks, settings, user, 1)
    for network in networks:
        params, losses, _ = found[network]
        np.testing.assert_allclose(losses, reference[network][1], rtol=1e-4)
        for p, q in zip(params, reference[network][0], strict=True):
            np.testing.assert_allclose(p, q, rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("backend", ["numpy", "torch", "jax"])
def test_after_the_first_stack_the_chunks_start_from_the_last_stacks_speed(monkeypatch, backend):
    """A sweep's stack starts its chunks of epochs at the length the last stack's speed
    predicts for its own flops, not at one epoch (then 2, 4, ...), so it reads its
    losses on the host a few times instead of log2(epochs) times; and where the chunks
    end changes no number, on any library: the rows equal those of one epoch per chunk."""
    reason = backends.why_unavailable(backend)
    if reason:
        pytest.skip(reason)
    settings, networks, user = _setup("spirals", "float32", backend, width=[4, 8])
    stacks = [chunk.networks for chunk in chunks.make_chunks(networks, len(networks))]
    assert len(stacks) == 2  # two architectures
    # A first run warms the library up (a first call on torch loads and initialises it),
    # so that the speed the first stack records below is its own, even on a busy host.
    with _training.chunking(_training.ChunkPolicy(max_epochs=1, fixed=True)):
        per_epoch = [chunks.fit_stack(stack, settings, user) for stack in stacks]
    starts = []
    original = _training.ChunkLengths.__init__

    def recording(self, *args):
        original(self, *args)
        starts.append(self.length)

    monkeypatch.setattr(_training.ChunkLengths, "__init__", recording)
    monkeypatch.setattr(chunks, "_last_stack", {})
    found = [chunks.fit_stack(stack, settings, user) for stack in stacks]
    # Spiral networks of widths 4 and 8 take well under a millisecond an epoch: the
    # second stack's prediction is far above one epoch (the target is a quarter second).
    assert starts[0] == 1 and starts[1] > 1
    numbers = ("final_loss", "train_accuracy", "validation_accuracy", "test_accuracy")
    for a, b in zip(found, per_epoch, strict=True):
        assert [[row[k] for k in numbers] for row in a.rows] == [
            [row[k] for k in numbers] for row in b.rows
        ]
        np.testing.assert_array_equal(a.curves, b.curves)
