"""Written once: the math a learner reads in ``nn/`` is the code every library trains with.

A default fit on NumPy, PyTorch and JAX (while JAX traces it) runs the functions of
``nn/layers.py`` — forward, backward, the objective with its gradients — and the optimizer's
``step`` in ``nn/optimizers.py``; the speed paths only hand them kernels.
"""

from __future__ import annotations

import os
import sys
import threading

import pytest

import scratchml as sm
from scratchml import backends

LEARNER_FUNCTIONS = {
    "layers.py": {"forward", "backward", "loss_and_gradients", "add_l2"},
    "optimizers.py": {"step"},
}


def _calls_into_nn(fit):
    """The (file, function) pairs of scratchml/nn/ that ran during ``fit()``, in any thread."""
    seen = set()

    def profile(frame, event, arg):
        if event == "call":
            path = frame.f_code.co_filename.replace(os.sep, "/")
            if "/scratchml/nn/" in path:
                seen.add((path.rsplit("/", 1)[1], frame.f_code.co_name))

    threading.setprofile(profile)
    sys.setprofile(profile)
    try:
        fit()
    finally:
        sys.setprofile(None)
        threading.setprofile(None)
    return seen


def _usable(backend):
    if backend not in backends.available():
        pytest.skip(f"{backend} not usable: {backends.why_unavailable(backend)}")


@pytest.mark.parametrize("backend", ["numpy", "torch", pytest.param("jax", marks=pytest.mark.slow)])
@pytest.mark.parametrize("batch_size", [None, 16])
def test_a_default_fit_runs_the_learners_layer_math(backend, batch_size):
    _usable(backend)
    if backend == "jax":
        from scratchml.speed import jax as jax_path

        jax_path.clear_compiled()  # so that this fit traces the math again
    X, y = sm.data.spirals(n_samples=64, arms=2, noise=0.05, seed=0)
    X, y = backends.asarray(X, backend=backend), backends.asarray(y, backend=backend)
    model = sm.MLPClassifier(hidden_layers=(8,), epochs=3, batch_size=batch_size, l2=1e-3)
    seen = _calls_into_nn(lambda: model.fit(X, y))
    for file, functions in LEARNER_FUNCTIONS.items():
        missing = {name for name in functions if (file, name) not in seen}
        assert not missing, f"{backend}: nn/{file} {sorted(missing)} never ran during fit"
    # The kernels the math called are this library's speed path's (or the plain ones).
    assert ("kernels.py", "subtract_scaled_quotient") in seen or backend == "torch"


def test_a_stack_runs_the_same_layer_math():
    X, y = sm.data.spirals(n_samples=64, arms=2, noise=0.05, seed=0)
    stack = sm.StackedMLPClassifier(n_networks=3, hidden_layers=(8,), epochs=2)
    seen = _calls_into_nn(lambda: stack.fit(X, y))
    assert {("layers.py", "forward"), ("layers.py", "backward")} <= seen
    assert ("optimizers.py", "step") in seen


def test_speed_paths_hold_kernels_not_passes():
    """No speed path defines a pass or an update rule of its own: only kernels and plumbing."""
    from scratchml import speed
    from scratchml.nn.kernels import Kernels

    kernel_names = {name for name in vars(Kernels) if not name.startswith("_")}
    interface = {name for name in vars(speed.Reference) if not name.startswith("_")}
    paths = [speed.path_for(backends.get("numpy"))]
    for backend in ("torch", "jax"):
        if backend in backends.available():
            paths.append(speed.path_for(backends.get(backend)))
    for path in paths:
        for cls in type(path).__mro__:
            if cls.__module__.startswith("scratchml.speed.") and cls is not speed.Reference:
                public = {n for n in vars(cls) if not n.startswith("_") and callable(vars(cls)[n])}
                # Its public methods are kernels or the training interface; a few are the
                # path's own helpers for its kernels (NumPy's products and buffers).
                for name in public & {"forward", "backward", "step", "data_loss_and_gradients"}:
                    pytest.fail(f"{cls.__name__}.{name}: a pass or rule outside nn/")
        assert kernel_names <= set(dir(path)) and interface <= set(dir(path))
