"""Class labels of any kind NumPy can sort; column-vector y; exact scores; quiet divergence."""

import warnings

import numpy as np
import pytest

import scratchml as sm
from scratchml.exceptions import DataConversionWarning

from .conftest import host, on

CLASSIFIERS = {
    "logistic": lambda: sm.LogisticRegression(epochs=30),
    "mlp": lambda: sm.MLPClassifier(hidden_layers=(6,), epochs=30, seed=0),
}

LABEL_KINDS = {
    "strings": np.array(["setosa", "versicolor", "virginica"]),
    "objects": np.array(["setosa", "versicolor", "virginica"], dtype=object),
    "ints": np.array([-4, 7, 12]),
    "integral-floats": np.array([0.0, 1.0, 5.0]),
    "bytes": np.array([b"a", b"b", b"c"]),
}


def _blobs(n=60, centers=3):
    return sm.data.blobs(n, centers=centers, seed=0, dtype="float64")


@pytest.mark.parametrize("kind", list(LABEL_KINDS))
@pytest.mark.parametrize("make", list(CLASSIFIERS.values()), ids=list(CLASSIFIERS))
def test_any_sortable_labels_are_kept_and_predicted(kind, make):
    X, y = _blobs()
    names = LABEL_KINDS[kind]
    reference = make().fit(X, y)  # the same problem with labels 0, 1, 2
    model = make().fit(X, names[y])
    assert model.classes_.dtype == names.dtype
    np.testing.assert_array_equal(model.classes_, np.sort(names))
    predicted = model.predict(X)
    assert predicted.dtype == names.dtype
    # Same math as with integer labels: the labels only name the classes.
    np.testing.assert_array_equal(predicted, names[reference.predict(X)])
    np.testing.assert_allclose(model.predict_proba(X), reference.predict_proba(X))
    assert model.score(X, names[y]) == reference.score(X, y)
    assert model.loss(X, names[y]) == pytest.approx(reference.loss(X, y))


@pytest.mark.parametrize("make", list(CLASSIFIERS.values()), ids=list(CLASSIFIERS))
def test_boolean_labels(make):
    X, y = _blobs(centers=2)
    model = make().fit(X, y.astype(bool))
    assert model.classes_.dtype == bool
    np.testing.assert_array_equal(model.classes_, [False, True])
    assert model.predict(X).dtype == bool
    assert model.score(X, y.astype(bool)) > 0.9


def test_unsorted_string_labels_are_sorted_into_classes():
    X, y = _blobs()
    names = np.array(["zebra", "ant", "moose"])
    model = sm.LogisticRegression(epochs=30).fit(X, names[y])
    np.testing.assert_array_equal(model.classes_, ["ant", "moose", "zebra"])
    proba = model.predict_proba(X)
    np.testing.assert_array_equal(model.predict(X), model.classes_[np.argmax(proba, axis=1)])


def test_lists_of_strings_and_pandas_labels():
    pd = pytest.importorskip("pandas")
    X, y = _blobs()
    names = np.array(["a", "b", "c"])[y]
    from_list = sm.LogisticRegression(epochs=30).fit(X, names.tolist())
    for labels in (
        pd.Series(names),
        pd.Series(names, dtype="category"),
        pd.Series(names).astype("string"),
    ):
        model = sm.LogisticRegression(epochs=30).fit(X, labels)
        np.testing.assert_array_equal(model.classes_, ["a", "b", "c"])
        np.testing.assert_array_equal(model.predict(X), from_list.predict(X))


def test_labels_numpy_cannot_sort_get_a_clear_error():
    X, y = _blobs()
    mixed = np.array(["a", 1, "b"], dtype=object)[y]
    with pytest.raises(TypeError, match="cannot sort"):
        sm.LogisticRegression().fit(X, mixed)
    missing = np.array(["a", None, "b"], dtype=object)[y]
    with pytest.raises((TypeError, ValueError), match=r"cannot sort|missing labels"):
        sm.LogisticRegression().fit(X, missing)


def test_unknown_string_labels_in_loss():
    X, y = _blobs()
    model = sm.LogisticRegression(epochs=5).fit(X, np.array(["a", "b", "c"])[y])
    with pytest.raises(ValueError, match="labels the model was not fitted on"):
        model.loss(X, np.array(["a", "b", "z"])[y])
    with pytest.raises(ValueError, match="labels the model was not fitted on"):
        model.loss(X, y)  # numbers for a model of strings


@pytest.mark.parametrize("make", list(CLASSIFIERS.values()), ids=list(CLASSIFIERS))
def test_numeric_labels_on_every_backend(backend, make):
    """Array API libraries have no strings: their labels stay numbers, in their namespace."""
    X, y = _blobs()
    labels = np.array([3, 10, 42])[y]
    model = make().fit(on(backend, X), on(backend, labels))
    assert sm.backends.backend_name(model.classes_) == backend
    np.testing.assert_array_equal(host(model.classes_), [3, 10, 42])
    predicted = model.predict(on(backend, X))
    assert sm.backends.backend_name(predicted) == backend
    reference = make().fit(X, labels)
    np.testing.assert_array_equal(host(predicted), reference.predict(X))


@pytest.mark.parametrize("make", list(CLASSIFIERS.values()), ids=list(CLASSIFIERS))
def test_column_vector_y_is_raveled_with_a_warning(backend, make):
    X, y = _blobs()
    flat = make().fit(on(backend, X), on(backend, y))
    with pytest.warns(DataConversionWarning, match=r"y has shape \(60, 1\)"):
        column = make().fit(on(backend, X), on(backend, y[:, None]))
    np.testing.assert_array_equal(host(column.classes_), host(flat.classes_))
    np.testing.assert_array_equal(
        host(column.predict(on(backend, X))), host(flat.predict(on(backend, X)))
    )
    with pytest.warns(DataConversionWarning):
        assert column.score(on(backend, X), on(backend, y[:, None])) == flat.score(
            on(backend, X), on(backend, y)
        )


def test_column_vector_warning_is_scikit_learns_when_it_is_loaded():
    sklearn_exceptions = pytest.importorskip("sklearn.exceptions")
    X, y = _blobs()
    with pytest.warns(sklearn_exceptions.DataConversionWarning, match="A column-vector y"):
        sm.LogisticRegression(epochs=5).fit(X, y[:, None])


@pytest.mark.parametrize("n", [9, 20, 37])
def test_accuracy_is_an_exact_fraction(backend, n):
    X, y = _blobs(n, centers=2)
    model = sm.MLPClassifier(hidden_layers=(2,), epochs=3, seed=1).fit(
        on(backend, X, "float32"), on(backend, y)
    )
    score = model.score(on(backend, X, "float32"), on(backend, y))
    assert isinstance(score, float)
    n_correct = int(np.sum(host(model.predict(on(backend, X, "float32"))) == y))
    assert score == n_correct / n  # exactly, not float32 rounding


def test_r2_is_computed_in_float64_for_a_float32_model():
    X, y = sm.data.correlated_normal(200, n_features=3, seed=0, dtype="float32")
    target = (X @ np.array([1.0, -2.0, 0.5], dtype=np.float32) + 0.3 * np.cos(7 * X[:, 0])).astype(
        np.float32
    )
    model = sm.LinearRegression().fit(X, target)
    prediction = model.predict(X).astype(np.float64)
    wide = target.astype(np.float64)
    expected = 1 - np.sum((wide - prediction) ** 2) / np.sum((wide - wide.mean()) ** 2)
    assert model.score(X, target) == pytest.approx(expected, rel=1e-12)
    assert y.shape == (200,)


def test_divergence_raises_without_numpy_warnings():
    X, y = sm.data.spirals(200, seed=0, dtype="float64")
    model = sm.MLPRegressor(hidden_layers=(16, 16), optimizer="sgd", learning_rate=10.0, epochs=200)
    if "tol" in model.get_params():
        model.set_params(tol=None)  # run every epoch: the loss must reach infinity
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a RuntimeWarning would fail here
        with pytest.raises(sm.DivergenceError, match="diverged at epoch"):
            model.fit(100 * X, 100.0 * y)
    # The silence is scoped to training: NumPy warns as usual outside it.
    with pytest.warns(RuntimeWarning, match="overflow"):
        np.exp(np.array([1000.0]))


# --- labels are host data: they go with X of any library --------------------------------

ALL_CLASSIFIERS = {
    **CLASSIFIERS,
    "stack": lambda: sm.StackedMLPClassifier(
        n_networks=2, hidden_layers=(6,), epochs=30, seed=[0, 1]
    ),
}
HOST_LABELS = {
    "list-of-ints": lambda y: np.array([3, 10, 42])[y].tolist(),
    "list-of-strings": lambda y: np.array(["ant", "bee", "cat"])[y].tolist(),
    "numpy-strings": lambda y: np.array(["ant", "bee", "cat"])[y],
    "numpy-ints": lambda y: np.array([3, 10, 42])[y],
}


@pytest.mark.parametrize("kind", list(HOST_LABELS))
@pytest.mark.parametrize("make", list(ALL_CLASSIFIERS.values()), ids=list(ALL_CLASSIFIERS))
def test_host_labels_go_with_X_of_any_library(backend, kind, make):
    """A list or NumPy array of labels with X of any library, as scikit-learn takes them.

    Numeric labels (and ``classes_``, ``predict``) live in X's library; string labels on
    the host, in NumPy, since no array library holds strings.
    """
    X, y = _blobs()
    labels = HOST_LABELS[kind](y)
    reference = make().fit(X, labels)  # all NumPy
    Xb = on(backend, X)
    model = make().fit(Xb, labels)
    numeric = np.asarray(labels).dtype.kind in "iu"
    where = backend if numeric else "numpy"
    assert sm.backends.backend_name(model.classes_) == where
    np.testing.assert_array_equal(host(model.classes_), reference.classes_)
    predicted = model.predict(Xb)
    assert sm.backends.backend_name(predicted) == where
    np.testing.assert_array_equal(host(predicted), reference.predict(X))
    np.testing.assert_allclose(host(model.predict_proba(Xb)), reference.predict_proba(X))
    np.testing.assert_allclose(model.score(Xb, labels), reference.score(X, labels))
    np.testing.assert_allclose(model.loss(Xb, labels), reference.loss(X, labels))


@pytest.mark.parametrize(
    "make",
    [
        sm.LinearRegression,
        lambda: sm.MLPRegressor(hidden_layers=(4,), epochs=20),
        lambda: sm.StackedMLPRegressor(n_networks=2, hidden_layers=(4,), epochs=20),
    ],
    ids=["linear", "mlp", "stack"],
)
def test_regression_targets_as_a_list_go_with_X_of_any_library(backend, make):
    X, _ = _blobs()
    target = (X @ np.array([1.0, -2.0]) + 0.5).tolist()
    reference = make().fit(X, target)
    model = make().fit(on(backend, X), target)
    np.testing.assert_allclose(host(model.predict(on(backend, X))), reference.predict(X))
    np.testing.assert_allclose(model.score(on(backend, X), target), reference.score(X, target))


def test_arrays_of_two_device_libraries_still_raise():
    """Host data is accepted with any X; two array libraries in one call are not mixed."""
    if "torch" not in sm.backends.available():
        pytest.skip("torch is not usable here")
    X, y = _blobs()
    other = "jax" if "jax" in sm.backends.available() else "array_api_strict"
    with pytest.raises(TypeError, match=r"mixed.*torch|torch.*mixed"):
        sm.LogisticRegression().fit(on("torch", X), on(other, y))
    with pytest.raises(TypeError, match="mixed"):  # a regressor's NumPy targets are data
        sm.LinearRegression().fit(on("torch", X), y.astype(float))


def test_partial_fit_with_host_string_labels_on_any_library(backend):
    X, y = _blobs()
    names = np.array(["ant", "bee", "cat"])[y]
    model = sm.MLPClassifier(hidden_layers=(4,), seed=0)
    for start in range(0, 60, 20):
        model.partial_fit(
            on(backend, X[start : start + 20]),
            names[start : start + 20].tolist(),
            classes=["cat", "ant", "bee"],
        )
    np.testing.assert_array_equal(model.classes_, ["ant", "bee", "cat"])
    assert set(model.predict(on(backend, X)).tolist()) <= {"ant", "bee", "cat"}
