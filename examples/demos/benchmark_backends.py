"""
A benchmark: one network, every backend
=======================================

The same full-batch training of the spiral network (2 → 64 → 64 → 3, tanh, softmax
cross-entropy) timed on every backend installed here, each timed call a warm-started
``fit`` of a few epochs, the median of five calls reported. Small settings, so that it
runs in seconds: ``scratchml bench`` is the full benchmark, with PyTorch, scikit-learn and
JAX as peers and the report the README's table comes from (:doc:`/guide/benchmarks`).
"""

import time

import matplotlib.pyplot as plt
import numpy as np

import scratchml as sm

X, y = sm.data.spirals(n_samples=3000, arms=3, noise=0.05, seed=0)
EPOCHS, CALLS = 5, 5

timings = {}
for backend in sm.backends.available():
    Xb, yb = sm.backends.asarray(X, backend=backend), sm.backends.asarray(y, backend=backend)
    model = sm.MLPClassifier(
        hidden_layers=(64, 64),
        activation="tanh",
        optimizer="sgd",
        learning_rate=0.1,
        epochs=EPOCHS,
        seed=0,
        warm_start=True,  # each fit continues from the last: the timed calls only train
    )
    model.fit(Xb, yb)  # the first call compiles (JAX) and warms caches: not timed
    seconds = []
    for _ in range(CALLS):
        start = time.perf_counter()
        model.fit(Xb, yb)
        sm.backends.synchronize(model.params_[0][0])
        seconds.append(time.perf_counter() - start)
    timings[backend] = float(np.median(seconds)) / EPOCHS
    print(f"{backend:18s} {1000 * timings[backend]:8.2f} ms per epoch")

# %%
# Time per epoch; array-api-strict is the standard's reference implementation, written
# for checking code, not for speed.

fig, ax = plt.subplots(figsize=(7, 3))
ax.barh(list(timings), [1000 * t for t in timings.values()])
ax.set_xlabel("ms per full-batch epoch (median)")
ax.invert_yaxis()
fig.tight_layout()
plt.show()
