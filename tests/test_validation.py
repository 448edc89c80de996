"""Bad input gets a clear error naming the argument, before any training starts."""

import numpy as np
import pytest

import scratchml as sm
from scratchml.nn.activations import ACTIVATIONS
from scratchml.nn.init import INITS
from scratchml.nn.optimizers import OPTIMIZERS

from .conftest import on

ESTIMATORS = [
    sm.LinearRegression,
    lambda **kw: sm.LinearRegression(solver="gd", **kw),
    sm.LogisticRegression,
    lambda **kw: sm.MLPClassifier(hidden_layers=(3,), epochs=2, **kw),
    lambda **kw: sm.MLPRegressor(hidden_layers=(3,), epochs=2, **kw),
]
IDS = ["linear-normal", "linear-gd", "logistic", "mlp-classifier", "mlp-regressor"]


def _xy(backend, n=20):
    X, y = sm.data.blobs(n, centers=2, seed=0, dtype="float64")
    return on(backend, X), on(backend, y)


@pytest.mark.parametrize("make", ESTIMATORS, ids=IDS)
def test_bad_X(backend, make):
    X, y = _xy(backend)
    Xh = sm.backends.to_numpy(X)
    cases = [
        (Xh[:, 0], "X must be a 2-D array"),
        (Xh[None], "X must be a 2-D array"),
        (np.where(np.arange(40).reshape(20, 2) == 3, np.nan, Xh), "X contains NaN or infinity"),
        (np.where(np.arange(40).reshape(20, 2) == 5, np.inf, Xh), "X contains NaN or infinity"),
        (Xh[:0], r"X is empty: it has 0 sample\(s\)"),
        (Xh[:, :0], r"X has 0 feature\(s\) \(shape=\(20, 0\)\) while a minimum of 1 is required"),
        (Xh[:15], "different numbers of samples: 15 and 20"),
    ]
    for bad, message in cases:
        model = make()
        y_used = y
        if message == "X is empty":
            y_used = y[:0]
        with pytest.raises(ValueError, match=message):
            model.fit(on(backend, bad), y_used)
        assert not hasattr(model, "params_"), "nothing half-fitted is left behind"


@pytest.mark.parametrize("make", ESTIMATORS, ids=IDS)
def test_bad_y(backend, make):
    X, y = _xy(backend)
    yh = sm.backends.to_numpy(y).astype(float)
    with pytest.raises(ValueError, match="y contains NaN"):
        make().fit(X, on(backend, np.where(np.arange(20) == 2, np.nan, yh)))
    with pytest.raises(ValueError, match="y must have shape"):
        make().fit(X, on(backend, np.zeros((20, 2, 2))))


@pytest.mark.parametrize("make", ESTIMATORS[2:4], ids=IDS[2:4])
def test_labels_must_be_classes(backend, make):
    X, _ = _xy(backend)
    with pytest.raises(ValueError, match="class labels"):
        make().fit(X, on(backend, np.linspace(0, 1, 20)))
    with pytest.raises(ValueError, match="only one class"):
        make().fit(X, on(backend, np.zeros(20, dtype=np.int64)))
    with pytest.raises(ValueError, match=r"shape \(n_samples,\)"):
        make().fit(X, on(backend, np.zeros((20, 2), dtype=np.int64)))


@pytest.mark.parametrize("make", ESTIMATORS, ids=IDS)
def test_predict_before_fit(backend, make):
    X, y = _xy(backend)
    model = make()
    with pytest.raises(sm.NotFittedError, match="not fitted yet"):
        model.predict(X)
    with pytest.raises(ValueError, match="not fitted yet"):  # NotFittedError is a ValueError
        model.score(X, y)


@pytest.mark.parametrize("make", ESTIMATORS, ids=IDS)
def test_wrong_number_of_features_at_predict(backend, make):
    X, y = _xy(backend)
    model = make().fit(X, y)
    wide = on(backend, np.zeros((3, 5)))
    name = type(model).__name__
    with pytest.raises(ValueError, match=f"X has 5 features, but {name} is expecting 2 features"):
        model.predict(wide)


def test_mixed_libraries_name_both():
    X, y = sm.data.blobs(20, centers=2, seed=0)
    Xs = sm.backends.asarray(X, backend="array_api_strict")
    with pytest.raises(TypeError, match="array_api_strict and numpy"):
        sm.LinearRegression().fit(Xs, y.astype(float))  # a regressor's NumPy targets are data
    with pytest.raises(TypeError, match="mixed"):  # labels of another array library
        sm.LogisticRegression().fit(X, sm.backends.asarray(y, backend="array_api_strict"))
    model = sm.LogisticRegression(epochs=2).fit(X, y)
    with pytest.raises(
        TypeError, match="X comes from array_api_strict but the model was fitted on numpy"
    ):
        model.predict(Xs)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(learning_rate=0), "learning_rate must be a positive number; got 0"),
        (dict(learning_rate=-0.1), "learning_rate must be a positive number"),
        (dict(learning_rate="fast"), "learning_rate must be a positive number"),
        (dict(epochs=0), "epochs must be a positive integer; got 0"),
        (dict(epochs=2.5), "epochs must be a positive integer"),
        (dict(l2=-1.0), "l2 must be a non-negative number"),
        (dict(record_every=-1), "record_every must be a non-negative integer"),
        (dict(batch_size=0), "batch_size must be a positive integer"),
        # The valid names come from the registries, and a name with spaces never joins them.
        (
            dict(activation="no such activation"),
            "activation must be one of " + ", ".join(map(repr, sorted(ACTIVATIONS))),
        ),
        (dict(activation=["tanh"]), "one per hidden layer"),
        (
            dict(optimizer="no such optimizer"),
            "optimizer must be one of " + ", ".join(map(repr, OPTIMIZERS)),
        ),
        (dict(init="no such init"), "init must be one of " + ", ".join(map(repr, INITS))),
        (
            dict(hidden_layers=(4, 0)),
            r"hidden_layers must be a positive integer or a sequence of positive integers; "
            r"got \(4, 0\)",
        ),
        (dict(hidden_layers="64"), "hidden_layers must be a positive integer or a sequence"),
        # The optimizers' own settings, with scikit-learn's names and ranges.
        (dict(momentum=1.0), r"momentum must be a number in \[0, 1\); got 1.0"),
        (dict(momentum=-0.1), r"momentum must be a number in \[0, 1\)"),
        (dict(beta_1=1), r"beta_1 must be a number in \[0, 1\); got 1"),
        (dict(beta_2=float("nan")), r"beta_2 must be a number in \[0, 1\)"),
        (dict(epsilon=0.0), "epsilon must be a positive number; got 0.0"),
        (dict(learning_rate=float("inf")), "learning_rate must be a positive number; got inf"),
        (dict(tol=-1.0), "tol must be a non-negative number or None; got -1.0"),
        (dict(n_iter_no_change=0), "n_iter_no_change must be a positive integer"),
        (dict(early_stopping="yes"), "early_stopping must be True or False"),
        (dict(validation_fraction=1.0), "validation_fraction must be a number strictly between"),
        (dict(seed=-1), "seed must be a non-negative integer or a numpy.random.Generator or None"),
        (dict(init=[(np.zeros(3), np.zeros(3))]), "init must be one of .* or a list of"),
    ],
)
def test_bad_hyperparameters_fail_before_training(kwargs, message):
    X, y = sm.data.blobs(20, centers=2, seed=0)
    clf = sm.MLPClassifier(
        hidden_layers=(4, 4), **{k: v for k, v in kwargs.items() if k != "hidden_layers"}
    )
    if "hidden_layers" in kwargs:
        clf.set_params(hidden_layers=kwargs["hidden_layers"])
    with pytest.raises(ValueError, match=message):
        clf.fit(X, y)
    assert not hasattr(clf, "params_")


def test_unknown_solver_lists_valid_ones():
    X, y = sm.data.noisy_line(10)
    with pytest.raises(ValueError, match="solver must be one of 'normal', 'gd'; got 'qr'"):
        sm.LinearRegression(solver="qr").fit(X, y)


def test_failed_refit_keeps_the_previous_model():
    X, y = sm.data.blobs(20, centers=2, seed=0)
    model = sm.LogisticRegression(epochs=5).fit(X, y)
    before = model.params_[0][0].copy()
    with pytest.raises(ValueError):
        model.fit(X[:, :1].ravel(), y)
    np.testing.assert_array_equal(model.params_[0][0], before)


def test_unknown_labels_in_loss():
    X, y = sm.data.blobs(20, centers=2, seed=0)
    model = sm.LogisticRegression(epochs=5).fit(X, y)
    with pytest.raises(ValueError, match="labels the model was not fitted on"):
        model.loss(X, y + 5)


def test_lists_are_accepted_as_numpy():
    model = sm.LinearRegression().fit([[0.0], [1.0], [2.0]], [1.0, 3.0, 5.0])
    np.testing.assert_allclose(model.predict([[3.0]]), [7.0])
    with pytest.raises(TypeError, match="X must be an array"):
        sm.LinearRegression().fit(None, [1.0])
    with pytest.raises(TypeError, match="X must hold real numbers"):
        sm.LinearRegression().fit(np.array([["a"], ["b"]]), [1.0, 2.0])


def test_data_generators_check_arguments():
    with pytest.raises(ValueError, match="n_samples must be a positive integer"):
        sm.data.spirals(0)
    with pytest.raises(ValueError, match="arms must be a positive integer"):
        sm.data.spirals(10, arms=0)
    with pytest.raises(ValueError, match="correlation must lie"):
        sm.data.correlated_normal(10, n_features=3, correlation=-0.9)
    with pytest.raises(ValueError, match="unknown backend 'tensorflow'"):
        sm.data.blobs(10, backend="tensorflow")


# ---------------------------------------------------------------------------
# Data on another device than the model (array-api-strict has a second device)


def _on_device(array, device):
    return sm.backends.asarray(array, backend="array_api_strict", device=device)


@pytest.mark.parametrize("make", ESTIMATORS, ids=IDS)
def test_data_on_another_device_says_how_to_move_it(make):
    pytest.importorskip("array_api_strict")
    X, y = sm.data.blobs(20, centers=2, seed=0, dtype="float64")
    model = make().fit(_on_device(X, None), _on_device(y, None))
    X1 = _on_device(X, "device1")
    with pytest.raises(ValueError) as caught:
        model.predict(X1)
    message = str(caught.value)
    assert "device1" in message and "CPU_DEVICE" in message
    assert "scratchml.backends.asarray(X, like=model.params_[0][0])" in message
    # The advice works: moved next to the model, the same data predicts.
    moved = sm.backends.asarray(X1, like=model.params_[0][0])
    np.testing.assert_array_equal(
        sm.backends.to_numpy(model.predict(moved)),
        sm.backends.to_numpy(model.predict(_on_device(X, None))),
    )


def test_a_model_loaded_onto_another_device_says_how_to_load_it(tmp_path):
    strict = pytest.importorskip("array_api_strict")
    X, y = sm.data.blobs(30, centers=3, seed=0, dtype="float64")
    path = sm.MLPClassifier(hidden_layers=(4,), epochs=5).fit(X, y).save(tmp_path / "m.npz")
    loaded = sm.load(path, backend="array_api_strict", device="device1")
    assert sm.backends.device(loaded.params_[0][0]) == strict.Device("device1")
    assert sm.backends.device(loaded.classes_) == strict.Device("device1")
    with pytest.raises(ValueError, match=r"scratchml\.load\(path, backend='array_api_strict'"):
        loaded.predict(_on_device(X, None))
    # Given data on its own device, the loaded model predicts what the saved one did.
    predicted = loaded.predict(_on_device(X, "device1"))
    assert sm.backends.device(predicted) == strict.Device("device1")
    again = sm.load(path)
    np.testing.assert_array_equal(sm.backends.to_numpy(predicted), again.predict(X))
