"""The scikit-learn ecosystem: estimator checks, pipelines, pandas, sparse input, NotFittedError."""

import json
import os
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

import scratchml as sm

sklearn = pytest.importorskip("sklearn")

from sklearn.base import clone  # noqa: E402
from sklearn.model_selection import GridSearchCV, cross_val_score  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

# ---------------------------------------------------------------------------
# check_estimator

# Small networks keep the checks fast; they still pass the checks' accuracy bars.
CHECKED = {
    "LinearRegression": "sm.LinearRegression()",
    "LogisticRegression": "sm.LogisticRegression()",
    "MLPClassifier": "sm.MLPClassifier(hidden_layers=(16,), epochs=100)",
    "MLPRegressor": "sm.MLPRegressor(hidden_layers=(16,), epochs=100)",
}

# Checks that conflict with a deliberate design choice (listed in the README too).
EXPECTED_FAILED_CHECKS = {
    "check_array_api_mixed_inputs": (
        "one call takes arrays of one library: X from one library and y from another raise a "
        "TypeError naming both, rather than a silent copy of y onto X's library and device"
    ),
}

# Checks that pass, per estimator, with scikit-learn 1.9, so that a regression cannot go
# unnoticed (other versions have other checks: there, only "none fails" is asserted). These
# are the checks on NumPy; the Array API checks are counted per run, from the devices present.
COUNTED_VERSION = (1, 9)
EXPECTED_PASSED = {
    "LinearRegression": 52,
    "LogisticRegression": 54,
    "MLPClassifier": 54,
    "MLPRegressor": 52,
}

RUNNER = textwrap.dedent(
    """
    import json, os, sys, warnings
    warnings.simplefilter("ignore")
    import scratchml as sm

    # scikit-learn tries each library and device it knows (NumPy, array-api-strict, CuPy,
    # torch on cpu/cuda/xpu/mps, dpnp) and skips those it cannot import. CuPy installed on a
    # machine without a GPU imports but cannot make an array, and a CUDA build of torch
    # without a GPU claims CUDA: their checks are skipped here too, with the reason.
    from unittest import SkipTest
    from sklearn.utils import estimator_checks
    try:
        import torch
    except ImportError:
        torch = None
    make_arrays = estimator_checks._array_api_for_tests

    def arrays_for_tests(array_namespace, device_name=None, dtype_name=None):
        if array_namespace == "cupy" and sm.backends.why_unavailable("cupy"):
            raise SkipTest(sm.backends.why_unavailable("cupy"))
        if array_namespace == "torch" and device_name == "cuda" and torch is not None:
            if not torch.cuda.is_available():
                raise SkipTest("torch sees no CUDA device")
        return make_arrays(array_namespace, device_name, dtype_name)

    estimator_checks._array_api_for_tests = arrays_for_tests

    def present(namespace, device):
        # Whether this machine has the library and device of one Array API combination.
        if namespace == "numpy":
            return True
        if namespace == "array_api_strict":
            return not sm.backends.why_unavailable("array_api_strict")
        if namespace == "cupy":
            return not sm.backends.why_unavailable("cupy")
        if namespace == "torch" and torch is not None:
            if device == "cpu":
                return True
            if device == "cuda":
                return torch.cuda.is_available()
        return False  # xpu, mps, dpnp: not counted (they may still run and pass)

    from sklearn.utils._array_api import yield_namespace_device_dtype_combinations

    estimator = eval(sys.argv[1])
    results = estimator_checks.check_estimator(
        estimator, expected_failed_checks=json.loads(sys.argv[2]), on_fail=None, on_skip=None
    )
    combinations = list(yield_namespace_device_dtype_combinations())
    print(json.dumps({
        "present": [list(c) for c in combinations if present(c[0], c[1])],
        "results": [
            {"check": r["check_name"], "status": r["status"], "error": repr(r["exception"])[:500]}
            for r in results
        ],
    }))
    """
)


def _sklearn_version():
    return tuple(int(part) for part in sklearn.__version__.split(".")[:2])


@pytest.mark.slow
@pytest.mark.parametrize("name", list(CHECKED))
def test_check_estimator(name):
    """scikit-learn's estimator checks, in a fresh process with its Array API support on."""
    if _sklearn_version() < (1, 6):
        pytest.skip("expected_failed_checks needs scikit-learn 1.6 or newer")
    env = dict(os.environ, SCIPY_ARRAY_API="1")  # read by SciPy at import: hence the process
    done = subprocess.run(
        [sys.executable, "-c", RUNNER, CHECKED[name], json.dumps(EXPECTED_FAILED_CHECKS)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    results = report["results"]
    failed = [(r["check"], r["error"]) for r in results if r["status"] == "failed"]
    assert not failed, failed
    xfailed = {r["check"] for r in results if r["status"] == "xfail"}
    assert xfailed <= set(EXPECTED_FAILED_CHECKS)
    if "torch" in sm.backends.available():  # the mixed-input check needs a second library
        assert xfailed == set(EXPECTED_FAILED_CHECKS)
    # One input check per library, device and dtype scikit-learn knows: each one whose
    # library and device this machine has must pass (not skip).
    input_checks = [r for r in results if r["check"] == "check_array_api_input"]
    passed_inputs = [r for r in input_checks if r["status"] == "passed"]
    assert len(passed_inputs) >= len(report["present"]), (report["present"], input_checks)
    assert report["present"], "NumPy and array-api-strict are always present"
    if _sklearn_version() != COUNTED_VERSION:
        return
    passed = [r["check"] for r in results if r["status"] == "passed"]
    on_numpy = [check for check in passed if not check.startswith("check_array_api")]
    assert len(on_numpy) == EXPECTED_PASSED[name], sorted(on_numpy)


# ---------------------------------------------------------------------------
# Pipelines and model selection on NumPy


def _classification(n=120):
    X, y = sm.data.blobs(n, centers=3, seed=0, dtype="float64")
    return 5.0 * X + 20.0, y  # off-centre and wide: the scaler has work to do


def test_make_pipeline_with_a_scaler():
    X, y = _classification()
    pipeline = make_pipeline(StandardScaler(), sm.MLPClassifier(hidden_layers=(8,), epochs=100))
    pipeline.fit(X, y)
    scaled = StandardScaler().fit_transform(X)
    alone = sm.MLPClassifier(hidden_layers=(8,), epochs=100).fit(scaled, y)
    np.testing.assert_array_equal(pipeline.predict(X), alone.predict(scaled))
    np.testing.assert_allclose(pipeline.predict_proba(X), alone.predict_proba(scaled))
    assert pipeline.score(X, y) == alone.score(scaled, y)


@pytest.mark.slow
def test_grid_search_in_two_processes():
    X, y = _classification()
    search = GridSearchCV(
        make_pipeline(StandardScaler(), sm.LogisticRegression(epochs=50)),
        {"logisticregression__l2": [0.0, 0.1, 10.0]},
        cv=3,
        n_jobs=2,
    )
    search.fit(X, y)
    assert search.best_params_["logisticregression__l2"] in (0.0, 0.1)
    assert search.cv_results_["mean_test_score"].shape == (3,)
    # Heavy regularisation is measurably worse: the grid really trained different models.
    assert search.cv_results_["mean_test_score"][2] <= search.best_score_


def test_cross_val_score_matches_a_manual_loop():
    from sklearn.model_selection import KFold

    X, y = sm.data.correlated_normal(90, n_features=3, seed=1, dtype="float64")
    target = X @ np.array([1.0, -2.0, 0.5]) + 0.1 * np.sin(X[:, 0])
    folds = KFold(n_splits=3, shuffle=True, random_state=0)
    scores = cross_val_score(sm.LinearRegression(), X, target, cv=folds)
    manual = [
        sm.LinearRegression().fit(X[train], target[train]).score(X[test], target[test])
        for train, test in folds.split(X)
    ]
    np.testing.assert_allclose(scores, manual)
    assert y.shape == (90,)


def test_clone_gives_an_unfitted_copy_with_the_same_parameters():
    model = sm.MLPClassifier(hidden_layers=(5, 3), activation=["relu", "tanh"], epochs=7, seed=3)
    model.fit(*_classification(40))
    copy = clone(model)
    assert copy is not model
    assert copy.get_params() == model.get_params()
    assert not hasattr(copy, "params_")
    with pytest.raises(sm.NotFittedError):
        copy.predict(np.zeros((1, 2)))


@pytest.mark.slow
def test_array_api_dispatch_pipeline_runs_on_torch():
    """scikit-learn's Array-API-aware scaler and a scratchml model, torch tensors end to end."""
    if sm.backends.why_unavailable("torch"):
        pytest.skip(f"torch not usable: {sm.backends.why_unavailable('torch')}")
    script = textwrap.dedent(
        """
        import numpy as np, sklearn, torch
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler
        import scratchml as sm

        sklearn.set_config(array_api_dispatch=True)
        X, y = sm.data.spirals(n_samples=400, arms=2, noise=0.05, seed=0, dtype="float64")
        X = 10 * X + 3
        Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
        model = make_pipeline(StandardScaler(), sm.MLPClassifier(hidden_layers=(16,), epochs=50))
        model.fit(Xt, yt)
        predicted = model.predict(Xt)
        assert isinstance(predicted, torch.Tensor), type(predicted)
        assert isinstance(model[-1].params_[0][0], torch.Tensor)
        proba = model.predict_proba(Xt)
        assert isinstance(proba, torch.Tensor)
        score = model.score(Xt, yt)
        # The same as the NumPy pipeline, up to float rounding of the two libraries.
        sklearn.set_config(array_api_dispatch=False)
        reference = make_pipeline(StandardScaler(), sm.MLPClassifier(hidden_layers=(16,), epochs=50))
        reference.fit(X, y)
        np.testing.assert_allclose(proba.numpy(), reference.predict_proba(X), rtol=1e-6, atol=1e-9)
        assert score == reference.score(X, y)
        print("ok", score)
        """
    )
    env = dict(os.environ, SCIPY_ARRAY_API="1")
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.startswith("ok")


# ---------------------------------------------------------------------------
# NotFittedError, and the messages scikit-learn's tools look for


def test_not_fitted_error_is_scikit_learns():
    from sklearn.exceptions import NotFittedError as SklearnNotFittedError
    from sklearn.utils.validation import check_is_fitted

    model = sm.MLPClassifier()
    with pytest.raises(SklearnNotFittedError):
        model.predict(np.zeros((2, 2)))
    try:
        model.predict_proba(np.zeros((2, 2)))
    except sm.NotFittedError as caught:
        assert isinstance(caught, (ValueError, AttributeError, SklearnNotFittedError))
        assert type(caught).__name__ == "NotFittedError"
    with pytest.raises(SklearnNotFittedError):
        check_is_fitted(model)
    check_is_fitted(model.fit(*_classification(30)))


def test_not_fitted_error_pickles_for_worker_processes():
    import pickle

    error = sm.NotFittedError("not fitted")
    again = pickle.loads(pickle.dumps(error))
    assert isinstance(again, sm.NotFittedError) and str(again) == "not fitted"
    divergence = pickle.loads(pickle.dumps(sm.DivergenceError("boom", epoch=3, loss=float("inf"))))
    assert divergence.epoch == 3


def test_import_does_not_load_optional_libraries():
    code = "import sys, scratchml; print(sorted(m for m in ('sklearn', 'pandas', 'scipy') if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_messages_the_ecosystem_recognises():
    X, y = _classification(20)
    with pytest.raises(ValueError, match="requires y to be passed, but the target y is None"):
        sm.MLPClassifier().fit(X, None)
    with pytest.raises(ValueError, match="Reshape your data"):
        sm.LinearRegression().fit(X[:, 0], y)
    with pytest.raises(
        ValueError, match=r"0 feature\(s\) \(shape=\(20, 0\)\) while a minimum of 1"
    ):
        sm.LinearRegression().fit(X[:, :0], y)
    with pytest.raises(ValueError, match="one class"):
        sm.LogisticRegression().fit(X[:1], y[:1])
    with pytest.raises(ValueError, match="Complex data not supported"):
        sm.LinearRegression().fit(X + 1j, y)
    with pytest.raises(ValueError, match="continuous"):
        sm.LogisticRegression().fit(X, X[:, 0])
    model = sm.LogisticRegression(epochs=3).fit(X, y)
    with pytest.raises(ValueError, match="X has 1 features, but LogisticRegression is expecting 2"):
        model.predict(X[:, :1])


def test_object_arrays_of_numbers_are_numbers():
    X, y = _classification(30)
    model = sm.LogisticRegression(epochs=5).fit(X.astype(object), y)
    np.testing.assert_array_equal(model.predict(X.astype(object)), model.predict(X))
    bad = X.astype(object)
    bad[0, 0] = {"a": 1}
    with pytest.raises(TypeError, match="X must hold real numbers"):
        sm.LogisticRegression().fit(bad, y)


# ---------------------------------------------------------------------------
# scipy.sparse


def test_sparse_input_is_refused_with_how_to_densify():
    scipy_sparse = pytest.importorskip("scipy.sparse")
    X, y = _classification(30)
    for make in (scipy_sparse.csr_matrix, scipy_sparse.csr_array, scipy_sparse.coo_matrix):
        with pytest.raises(TypeError, match=r"sparse input is not supported.*X\.toarray\(\)"):
            sm.MLPClassifier().fit(make(X), y)
    model = sm.LogisticRegression(epochs=3).fit(X, y)
    with pytest.raises(TypeError, match="sparse input is not supported"):
        model.predict(scipy_sparse.csr_matrix(X))
    np.testing.assert_array_equal(
        model.predict(scipy_sparse.csr_matrix(X).toarray()), model.predict(X)
    )


def test_sparse_is_recognised_without_scipy():
    """Detection looks at the type's module: nothing is imported to recognise it."""
    code = textwrap.dedent(
        """
        import sys
        sys.modules["scipy"] = None  # as if SciPy were not installed
        import numpy as np
        import scratchml as sm

        class csr_matrix:  # a stand-in with SciPy's module name
            __module__ = "scipy.sparse._csr"

        try:
            sm.LinearRegression().fit(csr_matrix(), np.zeros(3))
        except TypeError as error:
            assert "sparse input is not supported" in str(error), error
            print("refused")
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.strip() == "refused", done.stderr


# ---------------------------------------------------------------------------
# pandas


@pytest.fixture
def pd():
    return pytest.importorskip("pandas")


def _frame(pd, n=40):
    X, y = _classification(n)
    return pd.DataFrame({"height": X[:, 0], "weight": X[:, 1]}), pd.Series(y), X, y


@pytest.mark.parametrize(
    "make",
    [
        lambda: sm.LogisticRegression(epochs=20),
        lambda: sm.MLPClassifier(hidden_layers=(4,), epochs=20),
        lambda: sm.LinearRegression(),
        lambda: sm.MLPRegressor(hidden_layers=(4,), epochs=20),
    ],
    ids=["logistic", "mlp-classifier", "linear", "mlp-regressor"],
)
def test_dataframe_in_feature_names_recorded_and_checked(pd, make):
    frame, labels, X, y = _frame(pd)
    model = make().fit(frame, labels)
    assert model.feature_names_in_.dtype == object
    np.testing.assert_array_equal(model.feature_names_in_, ["height", "weight"])
    np.testing.assert_array_equal(model.predict(frame), make().fit(X, y).predict(X))
    with pytest.raises(ValueError, match=r"(?s)same order as they were in fit.*'weight'"):
        model.predict(frame[["weight", "height"]])
    renamed = frame.rename(columns={"weight": "mass"})
    with pytest.raises(ValueError, match=r"(?s)unseen at fit time:\n- mass.*missing:\n- weight"):
        model.predict(renamed)
    with pytest.raises(ValueError, match="unseen at fit time"):
        model.score(renamed, labels)
    with pytest.warns(UserWarning, match="X does not have valid feature names"):
        model.predict(X)
    # Refitted on a plain array, the model forgets the names (as scikit-learn's do).
    model.fit(X, y)
    assert not hasattr(model, "feature_names_in_")
    with pytest.warns(UserWarning, match="X has feature names, but"):
        model.predict(frame)


def test_non_string_column_names_are_not_recorded(pd):
    _, labels, X, _ = _frame(pd)
    model = sm.LogisticRegression(epochs=5).fit(pd.DataFrame(X), labels)
    assert not hasattr(model, "feature_names_in_")
    mixed = pd.DataFrame(X, columns=["a", 1])
    with pytest.raises(TypeError, match="mixed types"):
        sm.LogisticRegression().fit(mixed, labels)


def test_nullable_dtypes(pd):
    frame, labels, X, y = _frame(pd)
    counts = pd.Series(np.arange(len(frame)) % 7, dtype="Int64")
    with_ints = frame.assign(count=counts)
    model = sm.LogisticRegression(epochs=5).fit(with_ints, labels)
    reference = sm.LogisticRegression(epochs=5).fit(
        np.column_stack([X, np.arange(len(frame)) % 7]), y
    )
    np.testing.assert_allclose(
        model.predict_proba(with_ints),
        reference.predict_proba(np.column_stack([X, np.arange(len(frame)) % 7])),
    )
    with_na = with_ints.copy()
    with_na.loc[3, "count"] = pd.NA
    with pytest.raises(ValueError, match=r"column 'count' has 1 missing value\(s\) \(NA\)"):
        sm.LogisticRegression().fit(with_na, labels)
    floats = frame.astype("Float64")
    np.testing.assert_allclose(
        sm.LinearRegression().fit(floats, X[:, 0] * 2).predict(floats),
        sm.LinearRegression().fit(X, X[:, 0] * 2).predict(X),
    )
    nullable_labels = pd.Series(y, dtype="Int64")
    assert sm.LogisticRegression(epochs=5).fit(frame, nullable_labels).classes_.tolist() == [
        0,
        1,
        2,
    ]
    nullable_labels[0] = pd.NA
    with pytest.raises(ValueError, match="missing value"):
        sm.LogisticRegression().fit(frame, nullable_labels)


def test_category_features_get_a_clear_error(pd):
    frame, labels, _, _ = _frame(pd)
    frame["colour"] = pd.Categorical(["red", "blue"] * (len(frame) // 2))
    with pytest.raises(TypeError, match="column 'colour' has a category dtype; encode it"):
        sm.LogisticRegression().fit(frame, labels)
    frame["colour"] = frame["colour"].astype(str)
    with pytest.raises(TypeError, match="column 'colour' must hold real numbers"):
        sm.LogisticRegression().fit(frame, labels)


def test_one_column_frame_of_labels_is_a_column_vector(pd):
    frame, labels, _, _ = _frame(pd)
    names = pd.DataFrame({"species": np.array(["a", "b", "c"])[labels.to_numpy()]})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = sm.LogisticRegression(epochs=5).fit(frame, names)
    assert any("column-vector y" in str(w.message) for w in caught)
    np.testing.assert_array_equal(model.classes_, ["a", "b", "c"])


def test_clone_and_grid_search_with_given_weights(backend):
    """init=[(W, b), ...] holds arrays: clone copies them and checks identity, never ==."""
    from .conftest import host, on

    X, y = _classification(40)
    rng = np.random.default_rng(0)
    init = [
        (on(backend, rng.normal(size=(2, 3))), on(backend, np.zeros(3))),
        (on(backend, rng.normal(size=(3, 3))), on(backend, np.zeros(3))),  # 3 classes
    ]
    model = sm.MLPClassifier(hidden_layers=(3,), optimizer="momentum", init=init, epochs=5)
    copy = clone(model)
    assert copy.init is not init and len(copy.init) == 2
    for (W, b), (cW, cb) in zip(init, copy.init, strict=True):
        np.testing.assert_array_equal(host(W), host(cW))
        np.testing.assert_array_equal(host(b), host(cb))
    search = GridSearchCV(model, {"momentum": [0.0, 0.5]}, cv=2).fit(X, y)
    assert search.best_params_["momentum"] in (0.0, 0.5)
