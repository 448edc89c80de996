"""Save/load round trips on every backend; bad files are refused with a clear error."""

import json
import pickle
import zipfile

import numpy as np
import pytest

import scratchml as sm

from .conftest import host, on


def _fitted_models(backend):
    X, y = sm.data.spirals(120, arms=3, seed=0, dtype="float64")
    Xb, yb = on(backend, X), on(backend, y)
    yield sm.MLPClassifier(hidden_layers=(6, 5), activation=["relu", "tanh"], epochs=10).fit(Xb, yb)
    yield sm.MLPRegressor(hidden_layers=(4,), epochs=10).fit(Xb, on(backend, X[:, 0] * 3))
    yield sm.LogisticRegression(epochs=20).fit(Xb, yb)
    yield sm.LinearRegression(l2=0.1).fit(Xb, on(backend, np.stack([X[:, 0], X[:, 1]], 1)))


@pytest.mark.parametrize("target", ["numpy", "array_api_strict", "torch"])
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


def test_truncated_file_refused(tmp_path):
    path = _saved(tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=r"corrupt or truncated|not a scratchml model"):
        sm.load(path)


def test_corrupt_file_refused(tmp_path):
    path = tmp_path / "garbage.npz"
    path.write_bytes(b"\x00\x01not a model at all" * 10)
    with pytest.raises(ValueError, match=str(path.name)):
        sm.load(path)


def test_pickle_never_loaded(tmp_path):
    path = tmp_path / "evil.npz"
    path.write_bytes(pickle.dumps({"W0": np.zeros(2)}))
    with pytest.raises(ValueError, match="never unpickles"):
        sm.load(path)
    # An npz whose arrays are object arrays (pickled inside) is refused as well.
    object_path = tmp_path / "objects.npz"
    np.savez(
        object_path,
        __metadata__=np.array(json.dumps({"format": "scratchml"})),
        W0=np.array([{}], dtype=object),
    )
    with pytest.raises(ValueError, match="never unpickles"):
        sm.load(object_path)


def test_foreign_npz_refused(tmp_path):
    path = tmp_path / "foreign.npz"
    np.savez(path, weights=np.zeros(3))
    with pytest.raises(ValueError, match="not a scratchml model file"):
        sm.load(path)
    single = tmp_path / "single.npy"
    np.save(single, np.zeros(3))
    with pytest.raises(ValueError, match="single array"):
        sm.load(single)


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
