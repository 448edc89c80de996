"""Every array a fit or a prediction makes lands on its input's device.

array-api-strict's ``Device("device1")`` stands for a second GPU: an operation that
mixes arrays of two devices raises, so an array made without ``device=`` (on the
default device) fails these tests. CuPy's creation functions ignore ``device=``
and use the current device: every public method enters the data's device
(``backends.on_device_of``), which the second test checks.
"""

from __future__ import annotations

import contextlib

import numpy as np
import pytest

import scratchml as sm
from scratchml import backends

array_api_strict = pytest.importorskip("array_api_strict")


def _estimators():
    return {
        "mlp classifier, mini-batch, early stopping": (
            sm.MLPClassifier(hidden_layers=(4,), epochs=6, batch_size=20, early_stopping=True),
            "labels",
        ),
        "mlp regressor": (sm.MLPRegressor(hidden_layers=(3,), epochs=4), "values"),
        "logistic regression": (sm.LogisticRegression(epochs=5), "labels"),
        "linear regression": (sm.LinearRegression(), "values"),
        "stack, a seed per network": (
            sm.StackedMLPClassifier(
                n_networks=3, hidden_layers=(4,), epochs=5, batch_size=30, seed=[0, 1, 2]
            ),
            "labels",
        ),
        "stack regressor": (
            sm.StackedMLPRegressor(n_networks=2, hidden_layers=(3,), epochs=4),
            "values",
        ),
    }


@pytest.mark.parametrize("name", list(_estimators()))
def test_everything_stays_on_the_data_device(name):
    device = array_api_strict.Device("device1")
    model, kind = _estimators()[name]
    X, y = sm.data.spirals(90, arms=3, seed=0)
    Xd = array_api_strict.asarray(X, device=device)
    yd = array_api_strict.asarray(y if kind == "labels" else X[:, 0] + 1.0, device=device)
    model.fit(Xd, yd)
    outputs = [model.predict(Xd), *(W for layer in model.params_ for W in layer)]
    if kind == "labels":
        outputs.append(model.predict_proba(Xd))
    outputs += [dW for layer in model.gradients(Xd, yd) for dW in layer]
    for output in outputs:
        assert output.device == device
    assert np.all(np.isfinite(np.asarray(model.score(Xd, yd), dtype=float)))
    assert np.all(np.isfinite(np.asarray(model.loss(Xd, yd), dtype=float)))


def test_every_public_method_enters_the_data_device(monkeypatch):
    entered = []

    @contextlib.contextmanager
    def recording(*arrays):
        entered.append(arrays[0])
        yield

    monkeypatch.setattr(backends, "on_device_of", recording)
    X, y = sm.data.blobs(40, centers=2, seed=0)
    model = sm.MLPClassifier(hidden_layers=(3,), epochs=2)
    calls = {
        "fit": lambda: model.fit(X, y),
        "partial_fit": lambda: model.partial_fit(X, y),
        "predict": lambda: model.predict(X),
        "predict_proba": lambda: model.predict_proba(X),
        "score": lambda: model.score(X, y),
        "loss": lambda: model.loss(X, y),
        "gradients": lambda: model.gradients(X, y),
    }
    for method, call in calls.items():
        entered.clear()
        call()
        assert entered and entered[0] is X, f"{method} did not enter X's device"
