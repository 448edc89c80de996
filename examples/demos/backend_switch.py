"""
Switching backends: the namespace follows the data
==================================================

scratchml is written once against the Python Array API standard: hand an estimator
arrays of another library and it trains with that library, and its fitted weights and
predictions are arrays of that library, on the same device (:doc:`/guide/backends`).
Here the same network trains on every backend installed (NumPy always; array-api-strict,
PyTorch, JAX and CuPy where they are installed), from the same seed.
"""

import numpy as np

import scratchml as sm

X, y = sm.data.spirals(n_samples=600, arms=2, noise=0.05, seed=0)
print("backends here:", sm.backends.available())

weights = {}
for backend in sm.backends.available():
    Xb = sm.backends.asarray(X, backend=backend)  # the one line that picks the library
    yb = sm.backends.asarray(y, backend=backend)
    clf = sm.MLPClassifier(hidden_layers=(16, 16), activation="tanh", epochs=200, seed=0)
    clf.fit(Xb, yb)
    W = clf.params_[0][0]
    print(
        f"{backend:18s} W is {type(W).__module__}.{type(W).__name__}, "
        f"accuracy {clf.score(Xb, yb):.3f}"
    )
    weights[backend] = sm.backends.to_numpy(W)  # one host copy, to compare

# %%
# The same seed gives the same initial weights on every backend, so the trained weights
# agree up to float32 rounding, whichever library did the arithmetic.

reference = weights["numpy"]
for backend, W in weights.items():
    print(f"{backend:18s} largest difference from NumPy: {np.max(np.abs(W - reference)):.2e}")

# %%
# Mixing libraries is an error that names both, rather than a silent copy.

if "array_api_strict" in weights:
    Xs = sm.backends.asarray(X, backend="array_api_strict")
    try:
        sm.MLPClassifier(epochs=1).fit(Xs, y)
    except TypeError as error:
        print("TypeError:", error)
