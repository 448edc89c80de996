"""Save/load round trips on every backend; bad files are refused with a clear error."""

import json
import pickle
import zipfile

import numpy as np
import pytest

import scratchml as sm
from scratchml import backends

from .conftest import host, on


def _fitted_models(backend):
    X, y = sm.data.spirals(120, arms=3, seed=0, dtype="float64")
    Xb, yb = on(backend, X), on(backend, y)
    yield sm.MLPClassifier(hidden_layers=(6, 5), activation=["relu", "tanh"], epochs=10).fit(Xb, yb)
    yield sm.MLPRegressor(hidden_layers=(4,), epochs=10).fit(Xb, on(backend, X[:, 0] * 3))
    yield sm.LogisticRegression(epochs=20).fit(Xb, yb)
    yield sm.LinearRegression(l2=0.1).fit(Xb, on(backend, np.stack([X[:, 0], X[:, 1]], 1)))


@pytest.mark.parametrize("target", ["numpy", "array_api_strict", "torch", "jax"])
def test_round_trip_across_backends(backend, target, tmp_path):
    if sm.backends.why_unavailable(target):
        pytest.skip(f"{target} not usable: {sm.backends.why_unavailable(target)}")
    X, _ = sm.data.spirals(30, seed=1, dtype="float64")
    for i, model in enumerate(_fitted_models(backend)):
        path = model.save(tmp_path / f"model{i}.npz")
        loaded = sm.load(path, backend=target)
        assert type(loaded) is type(model)
        assert loaded.get_params() == model.get_params()
        assert loaded.loss_history_ == model.loss_history_
        for (W, b), (lW, lb) in zip(model.params_, loaded.params_, strict=True):
            assert sm.backends.backend_name(lW) == target
            np.testing.assert_array_equal(host(W), host(lW))
            np.testing.assert_array_equal(host(b), host(lb))
        before = host(model.predict(on(backend, X)))
        after = host(loaded.predict(on(target, X)))
        # Different libraries may round the last bit of a float differently.
        np.testing.assert_allclose(before, after, rtol=1e-12, atol=1e-15)
        if hasattr(model, "classes_"):
            np.testing.assert_array_equal(host(model.classes_), host(loaded.classes_))


def test_save_unfitted_model_refused(tmp_path):
    with pytest.raises(sm.NotFittedError):
        sm.MLPClassifier().save(tmp_path / "m.npz")


def _saved(tmp_path):
    X, y = sm.data.blobs(40, centers=2, seed=0)
    return sm.LogisticRegression(epochs=5).fit(X, y).save(tmp_path / "model.npz")


# Each way a file can be wrong has its own diagnosis; no message borrows another's words.
DIAGNOSES = {
    "not_zip": "is not a zip/npz file",
    "foreign_zip": "is a zip file but not a scratchml model file",
    "truncated": "is truncated or corrupt",
    "pickled": "carries pickled Python objects",
}


def _diagnosis(path):
    with pytest.raises(ValueError) as caught:
        sm.load(path)
    message = str(caught.value)
    found = [kind for kind, words in DIAGNOSES.items() if words in message]
    assert len(found) == 1, message
    assert str(path.name) in message
    return found[0]


def test_random_bytes_are_not_a_zip_file(tmp_path):
    path = tmp_path / "garbage.npz"
    path.write_bytes(np.random.default_rng(0).bytes(500))
    assert _diagnosis(path) == "not_zip"
    text = tmp_path / "notes.npz"
    text.write_bytes(b"\x00\x01not a model at all" * 10)
    assert _diagnosis(text) == "not_zip"


def test_zip_of_other_files_is_not_a_model(tmp_path):
    path = tmp_path / "photos.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("a.txt", "hello")
        archive.writestr("b.csv", "1,2\n")
    assert _diagnosis(path) == "foreign_zip"
    with pytest.raises(ValueError, match=r"it holds: a\.txt, b\.csv"):
        sm.load(path)
    npz = tmp_path / "foreign.npz"
    np.savez(npz, weights=np.zeros(3))
    assert _diagnosis(npz) == "foreign_zip"


@pytest.mark.parametrize("keep", [0.5, 0.9, 0.99])
def test_truncated_model_file(tmp_path, keep):
    path = _saved(tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    assert _diagnosis(path) == "truncated"


def test_corrupt_member_is_reported_as_corrupt(tmp_path):
    path = _saved(tmp_path)
    data = bytearray(path.read_bytes())
    start = data.index(b"\x93NUMPY", data.index(b"W0.npy"))
    data[start + 128 : start + 132] = b"\xff" * 4  # W0's values (after its 128-byte header)
    path.write_bytes(bytes(data))
    assert _diagnosis(path) == "truncated"


def test_npz_with_object_array_carries_pickles(tmp_path):
    object_path = tmp_path / "objects.npz"
    np.savez(
        object_path,
        __metadata__=np.array(json.dumps({"format": "scratchml"})),
        W0=np.array([{}], dtype=object),
    )
    assert _diagnosis(object_path) == "pickled"
    with pytest.raises(ValueError, match="never unpickles"):
        sm.load(object_path)


def test_pickle_file_is_named_and_never_loaded(tmp_path):
    path = tmp_path / "evil.npz"
    path.write_bytes(pickle.dumps({"W0": np.zeros(2)}))
    with pytest.raises(ValueError, match=r"is a Python pickle.*never unpickles"):
        sm.load(path)


def test_single_npy_array_refused(tmp_path):
    single = tmp_path / "single.npy"
    np.save(single, np.zeros(3))
    with pytest.raises(ValueError, match="single array"):
        sm.load(single)


def test_string_labels_round_trip_without_pickle(tmp_path):
    X, y = sm.data.blobs(60, centers=3, seed=0)
    names = np.array(["cat", "dog", "emu"])[y]
    for labels in (names, names.astype(object)):
        model = sm.MLPClassifier(hidden_layers=(4,), epochs=5).fit(X, labels)
        path = model.save(tmp_path / "labels.npz")
        with np.load(path, allow_pickle=False) as data:
            assert data["classes_"].dtype.kind == "U"
        loaded = sm.load(path)
        np.testing.assert_array_equal(loaded.classes_, ["cat", "dog", "emu"])
        np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    if not sm.backends.why_unavailable("array_api_strict"):
        # Labels are host data: on another library the weights move, the strings stay NumPy,
        # as a fit there with string labels keeps them.
        loaded = sm.load(path, backend="array_api_strict")
        assert isinstance(loaded.classes_, np.ndarray)
        Xs = sm.backends.asarray(X, backend="array_api_strict")
        np.testing.assert_array_equal(loaded.predict(Xs), model.predict(X))


def test_boolean_labels_round_trip(tmp_path):
    X, y = sm.data.blobs(40, centers=2, seed=0)
    model = sm.LogisticRegression(epochs=5).fit(X, y.astype(bool))
    loaded = sm.load(model.save(tmp_path / "bool.npz"))
    assert loaded.classes_.dtype == bool
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


def test_mixed_object_labels_cannot_be_saved(tmp_path):
    X, y = sm.data.blobs(40, centers=2, seed=0)
    model = sm.LogisticRegression(epochs=5).fit(X, y)
    model.classes_ = np.array([1.5, "a"], dtype=object)  # no fit makes this, but a user may set it
    with pytest.raises(TypeError, match="cannot be saved without pickle"):
        model.save(tmp_path / "m.npz")
    assert not (tmp_path / "m.npz").exists()


def test_feature_names_round_trip(tmp_path):
    pd = pytest.importorskip("pandas")
    X, y = sm.data.blobs(40, centers=2, seed=0)
    frame = pd.DataFrame(X, columns=["height", "weight"])
    model = sm.LogisticRegression(epochs=5).fit(frame, y)
    loaded = sm.load(model.save(tmp_path / "named.npz"))
    assert loaded.feature_names_in_.dtype == object
    np.testing.assert_array_equal(loaded.feature_names_in_, ["height", "weight"])
    with pytest.raises(ValueError, match="Feature names must be in the same order"):
        loaded.predict(frame[["weight", "height"]])


def _rewrite(path, edit_metadata=None, edit_arrays=None):
    with np.load(path, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    metadata = json.loads(str(arrays.pop("__metadata__")))
    if edit_metadata:
        edit_metadata(metadata)
    if edit_arrays:
        edit_arrays(arrays)
    np.savez(path, __metadata__=np.array(json.dumps(metadata)), **arrays)


@pytest.mark.parametrize(
    ("edit_metadata", "edit_arrays", "message"),
    [
        (lambda m: m.update(format_version=99), None, "format version 99"),
        (lambda m: m.update({"class": "RandomForest"}), None, "unknown model class 'RandomForest'"),
        (None, lambda a: a.pop("W0"), "missing the arrays of layer 0"),
        (None, lambda a: a.update(W0=np.zeros((2, 7))), "inconsistent shapes"),
        (None, lambda a: a.update(W0=np.full_like(a["W0"], np.nan)), "non-finite"),
        (lambda m: m.update(format="other"), None, "wrong format marker"),
    ],
)
def test_tampered_files_refused(tmp_path, edit_metadata, edit_arrays, message):
    path = _saved(tmp_path)
    _rewrite(path, edit_metadata, edit_arrays)
    with pytest.raises(ValueError, match=message):
        sm.load(path)


def test_missing_file_is_a_file_not_found_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        sm.load(tmp_path / "nope.npz")


def test_save_is_atomic_and_a_zip(tmp_path):
    path = _saved(tmp_path)
    assert zipfile.is_zipfile(path)
    assert not list(tmp_path.glob("*.partial"))


def test_optimizer_settings_and_given_weights_round_trip(tmp_path):
    X, y = sm.data.spirals(60, seed=0, dtype="float64")
    rng = np.random.default_rng(0)
    init = [(rng.normal(size=(2, 4)), np.zeros(4)), (rng.normal(size=(4, 1)), np.zeros(1))]
    model = sm.MLPClassifier(
        hidden_layers=(4,), optimizer="adam", beta_1=0.7, beta_2=0.9, epsilon=1e-6,
        momentum=0.2, init=init, epochs=5,
    ).fit(X, y)  # fmt: skip
    loaded = sm.load(model.save(tmp_path / "m.npz"), backend="array_api_strict")
    params, saved = model.get_params(), loaded.get_params()
    assert {k: v for k, v in saved.items() if k != "init"} == {
        k: v for k, v in params.items() if k != "init"
    }
    assert (saved["beta_1"], saved["beta_2"], saved["epsilon"], saved["momentum"]) == (
        0.7, 0.9, 1e-6, 0.2,
    )  # fmt: skip
    for (W, b), (sW, sb) in zip(init, saved["init"], strict=True):
        np.testing.assert_array_equal(W, sW)
        np.testing.assert_array_equal(b, sb)
    # Refitted, the loaded model's hyper-parameters give the same model.
    again = sm.MLPClassifier(**saved).fit(X, y)
    np.testing.assert_array_equal(again.params_[0][0], model.params_[0][0])


def test_a_file_missing_its_initial_weights_is_refused(tmp_path):
    X, y = sm.data.spirals(40, seed=0, dtype="float64")
    init = [(np.ones((2, 3)), np.zeros(3)), (np.ones((3, 1)), np.zeros(1))]
    path = (
        sm.MLPClassifier(hidden_layers=(3,), init=init, epochs=2).fit(X, y).save(tmp_path / "m.npz")
    )
    with np.load(path) as data:
        arrays = {k: data[k] for k in data.files if k != "init_b1"}
    np.savez(path, **arrays)
    with pytest.raises(ValueError, match="missing the initial weights its init refers to"):
        sm.load(path)


# ---------------------------------------------------------------------------
# Stacks, and the entries every model needs


@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_a_fitted_stack_saves_and_loads_on_every_library(backend, kind, tmp_path):
    from scratchml.stacks import StackedMLPClassifier, StackedMLPRegressor

    X, y = sm.data.spirals(150, arms=3, seed=2, dtype="float64")
    if kind == "regressor":
        y = np.stack([np.sin(X[:, 0]), X[:, 1]], axis=1)
    cls = StackedMLPClassifier if kind == "classifier" else StackedMLPRegressor
    stack = cls(
        n_networks=3, hidden_layers=(5,), epochs=15, learning_rate=[0.01, 0.03, 0.1], seed=[4, 5, 6]
    ).fit(X, y)
    path = stack.save(tmp_path / "stack.npz")
    again = sm.load(path, backend=backend)
    assert type(again) is cls and again.get_params() == stack.get_params()
    Xb = backends.asarray(X, backend=backend)
    np.testing.assert_allclose(backends.to_numpy(again.predict(Xb)), stack.predict(X), atol=1e-12)
    np.testing.assert_array_equal(again.loss_history_, stack.loss_history_)
    np.testing.assert_array_equal(again.diverged_, stack.diverged_)
    np.testing.assert_allclose(
        again.score(Xb, backends.asarray(y, backend=backend)), stack.score(X, y)
    )
    # Network i of the loaded stack is network i of the fitted one.
    one = again.model(2)
    np.testing.assert_allclose(
        backends.to_numpy(one.params_[0][0]), stack.model(2).params_[0][0], atol=1e-15
    )


@pytest.mark.parametrize(
    ("model", "entry"),
    [
        (lambda: sm.MLPClassifier(hidden_layers=(3,), epochs=2), "classes_"),
        (lambda: sm.LogisticRegression(), "classes_"),
        (lambda: sm.MLPRegressor(hidden_layers=(3,), epochs=2), "n_outputs_"),
        (lambda: sm.LinearRegression(), "y_ndim_"),
        (lambda: sm.MLPClassifier(hidden_layers=(3,), epochs=2), "loss_name_"),
        (lambda: sm.MLPRegressor(hidden_layers=(3,), epochs=2), "activations_"),
        (lambda: sm.LinearRegression(), "n_features_in_"),
    ],
)
def test_a_file_without_an_entry_its_class_needs_is_refused(model, entry, tmp_path):
    X, y = sm.data.spirals(60, seed=0, dtype="float64")
    estimator = model()
    if estimator._estimator_type == "regressor":
        y = X[:, 0] * 2.0
    path = estimator.fit(X, y).save(tmp_path / "m.npz")

    def drop(metadata):
        metadata["fitted"].pop(entry, None)

    _rewrite(path, drop, lambda arrays: arrays.pop(entry, None))
    with pytest.raises(ValueError, match=f"missing '{entry}'"):
        sm.load(path)


def test_a_stack_file_missing_its_history_or_flags_is_refused(tmp_path):
    from scratchml.stacks import StackedMLPClassifier

    X, y = sm.data.spirals(60, seed=0)
    stack = StackedMLPClassifier(n_networks=2, hidden_layers=(3,), epochs=3).fit(X, y)
    path = stack.save(tmp_path / "s.npz")
    _rewrite(path, None, lambda arrays: arrays.pop("diverged_"))
    with pytest.raises(ValueError, match="divergence flags"):
        sm.load(path)
    path = stack.save(tmp_path / "s.npz")
    _rewrite(path, lambda m: m.update({"class": "MLPClassifier"}))
    with pytest.raises(ValueError, match="do not fit a MLPClassifier"):
        sm.load(path)
