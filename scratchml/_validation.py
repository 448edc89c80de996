"""Input checks shared by the estimators: clear errors naming the argument, before training.

What arrives from the outside world — lists, pandas DataFrames and Series, NumPy
object arrays, string class labels, scipy.sparse matrices — is turned into plain
arrays (or refused with a message that says what to do) here, on the host, once,
so the model math only ever sees numeric arrays of one namespace. pandas and
scipy stay optional: they are recognised by their type's module, never imported
unless the object in hand is already one of theirs.
"""

from __future__ import annotations

import numbers
import warnings
from typing import Any

import numpy as np

from . import backends
from .exceptions import data_conversion_warning


def _module_of(obj: Any) -> str:
    return getattr(type(obj), "__module__", "") or ""


def _is_sparse(obj: Any) -> bool:
    """scipy.sparse / cupyx sparse matrices and arrays, or a sparse torch tensor."""
    module = _module_of(obj)
    if module.startswith(("scipy.sparse", "cupyx.scipy.sparse")):
        return True
    return getattr(obj, "is_sparse", False) is True


def _is_dataframe(obj: Any) -> bool:
    return _module_of(obj).startswith("pandas") and hasattr(obj, "columns")


def _is_series(obj: Any) -> bool:
    return _module_of(obj).startswith("pandas") and hasattr(obj, "dtype") and hasattr(obj, "name")


# ---------------------------------------------------------------------------
# pandas: column names, nullable and category dtypes


def feature_names(X: Any) -> np.ndarray | None:
    """The column names of a DataFrame as an object array, or None (as scikit-learn).

    Names are recorded only when every column name is a string; mixed string and
    non-string names are refused, since they cannot be checked reliably later.
    """
    if not _is_dataframe(X):
        return None
    names = np.asarray(list(X.columns), dtype=object)
    is_str = [isinstance(name, str) for name in names]
    if all(is_str) and len(names):
        return names
    if any(is_str):
        kinds = sorted({type(name).__name__ for name in names})
        raise TypeError(
            "X has column names of mixed types "
            f"({', '.join(kinds)}); feature names are only supported when every column "
            "name is a string: convert them with X.columns = X.columns.astype(str)"
        )
    return None


def check_feature_names(fitted: np.ndarray | None, X: Any, estimator: str) -> None:
    """Prediction input must have the columns the model was fitted with, in the same order.

    The messages are scikit-learn's, so its tools and users recognise them.
    """
    given = feature_names(X)
    if fitted is None and given is None:
        return
    if fitted is None:
        warnings.warn(
            f"X has feature names, but {estimator} was fitted without feature names",
            UserWarning,
            stacklevel=4,
        )
        return
    if given is None:
        warnings.warn(
            f"X does not have valid feature names, but {estimator} was fitted with feature names",
            UserWarning,
            stacklevel=4,
        )
        return
    if len(given) == len(fitted) and bool(np.all(given == fitted)):
        return
    message = "The feature names should match those that were passed during fit.\n"
    unexpected = sorted(set(given) - set(fitted))
    missing = sorted(set(fitted) - set(given))
    if unexpected:
        message += "Feature names unseen at fit time:\n" + _name_list(unexpected)
    if missing:
        message += "Feature names seen at fit time, yet now missing:\n" + _name_list(missing)
    if not unexpected and not missing:
        position = next(i for i, (a, b) in enumerate(zip(given, fitted, strict=True)) if a != b)
        column = given[position]
        message += (
            "Feature names must be in the same order as they were in fit.\n"
            f"Column {column!r} is at position {position}; it was at position "
            f"{list(fitted).index(column)} in fit. Reorder with X[model.feature_names_in_].\n"
        )
    raise ValueError(message)


def _name_list(names: list[str], limit: int = 5) -> str:
    lines = [f"- {name}\n" for name in names[:limit]]
    return "".join(lines) + ("- ...\n" if len(names) > limit else "")


def _pandas_column_to_numpy(column: Any, what: str) -> np.ndarray:
    """One pandas Series as a NumPy array: nullable dtypes without NA, categories refused."""
    import pandas as pd  # only reached with a pandas object in hand

    dtype = column.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        raise TypeError(
            f"{what} has a category dtype; encode it as numbers first "
            "(e.g. sklearn.preprocessing.OneHotEncoder, or X[col].cat.codes for an ordinal code)"
        )
    if isinstance(dtype, pd.api.extensions.ExtensionDtype):
        n_missing = int(column.isna().sum())
        if n_missing:
            raise ValueError(
                f"{what} has {n_missing} missing value(s) (NA) in its nullable {dtype} dtype; "
                "fill or drop them first (e.g. .fillna(value) or .dropna())"
            )
        numpy_dtype = getattr(dtype, "numpy_dtype", None)
        if numpy_dtype is not None and numpy_dtype.kind in "biuf":
            return column.to_numpy(dtype=numpy_dtype)
    return column.to_numpy()


def _pandas_labels_to_numpy(column: Any, name: str) -> np.ndarray:
    """Class labels from pandas: categories and strings keep their values; NA is refused."""
    import pandas as pd

    if isinstance(column.dtype, pd.CategoricalDtype):
        n_missing = int(column.isna().sum())
        if n_missing:
            raise ValueError(
                f"{name} has {n_missing} missing value(s) (NA); drop those samples first"
            )
        return np.asarray(column)
    return _pandas_column_to_numpy(column, name)


def _from_pandas(obj: Any, name: str, labels: bool = False) -> np.ndarray:
    """A DataFrame or Series as a NumPy array (column by column, so errors name the column)."""
    if _is_series(obj):
        return _pandas_labels_to_numpy(obj, name) if labels else _pandas_column_to_numpy(obj, name)
    if labels and len(obj.columns) == 1:
        # A one-column frame of labels: a column vector, raveled (with a warning) later.
        return _pandas_labels_to_numpy(obj.iloc[:, 0], name)[:, None]
    columns = [
        _pandas_column_to_numpy(obj.iloc[:, i], f"{name} column {column!r}")
        for i, column in enumerate(obj.columns)
    ]
    if not columns:
        return np.empty((len(obj), 0))
    kinds = {column.dtype.kind for column in columns}
    if kinds <= set("biuf"):
        return np.stack(columns, axis=1).astype(np.result_type(*columns), copy=False)
    # Strings or objects among the columns: say which one below, in check_X.
    for i, column in enumerate(columns):
        if column.dtype.kind not in "biuf":
            try:
                columns[i] = column.astype(np.float64)
            except (TypeError, ValueError) as exc:
                raise TypeError(
                    f"{name} column {obj.columns[i]!r} must hold real numbers; got dtype "
                    f"{obj.dtypes.iloc[i]} ({exc}); encode it as numbers first"
                ) from exc
    return np.stack(columns, axis=1).astype(np.result_type(*columns), copy=False)


# ---------------------------------------------------------------------------
# Arrays


def as_array(obj: Any, name: str, labels: bool = False) -> Any:
    """Arrays pass through; lists, tuples and pandas objects become NumPy arrays.

    Sparse matrices are refused with a TypeError that says how to densify them.
    """
    if obj is None:
        raise TypeError(f"{name} must be an array, got None")
    if _is_sparse(obj):
        raise TypeError(
            f"{name} is a sparse matrix ({type(obj).__name__}); sparse input is not supported. "
            f"Densify it first with {name}.toarray() (for scipy.sparse), if it fits in memory"
        )
    if _is_dataframe(obj) or _is_series(obj):
        return _from_pandas(obj, name, labels=labels)
    if backends.is_array(obj):
        return obj
    try:
        return backends.asarray(obj)
    except Exception as exc:
        raise TypeError(f"{name} must be an array or array-like, got {type(obj).__name__}") from exc


def _numeric_host_array(x: np.ndarray, name: str) -> np.ndarray:
    """NumPy input of a non-numeric dtype: objects holding numbers become float64, else an error."""
    kind = x.dtype.kind
    if kind == "c":
        raise ValueError(
            f"Complex data not supported: {name} has dtype {x.dtype}; scratchml models take real numbers"
        )
    if kind == "O":
        try:
            return x.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{name} must hold real numbers; {exc}") from exc
    if kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers; got dtype {x.dtype}")
    return x


def _is_numeric(xp: Any, x: Any) -> bool:
    return xp.isdtype(x.dtype, ("bool", "integral", "real floating"))


def check_finite(xp: Any, x: Any, name: str) -> None:
    if xp.isdtype(x.dtype, "real floating") and not bool(xp.all(xp.isfinite(x))):
        raise ValueError(f"{name} contains NaN or infinity; clean or impute it before fitting")


def to_float(xp: Any, x: Any, dtype: Any = None) -> Any:
    """``x`` in ``dtype``, or in its own floating dtype, or promoted to the default float."""
    if dtype is not None:
        return x if x.dtype == dtype else xp.astype(x, dtype)
    if xp.isdtype(x.dtype, "real floating"):
        return x
    return xp.astype(x, backends.default_float(xp, backends.device(x)))


def check_X(
    X: Any, name: str = "X", n_features: int | None = None, estimator: str = "the model"
) -> tuple[Any, Any]:
    """Validate a feature matrix; returns ``(xp, X)`` with X floating.

    ``estimator`` (a class name) is named in the wrong-number-of-features message.
    """
    X = as_array(X, name)
    if isinstance(X, np.ndarray):
        X = _numeric_host_array(X, name)
    xp = backends.namespace(X)
    if not _is_numeric(xp, X):
        raise TypeError(f"{name} must hold real numbers; got dtype {X.dtype}")
    if X.ndim != 2:
        hint = ""
        if X.ndim == 1:
            hint = (
                f". Reshape your data: {name}.reshape(-1, 1) if it has a single feature, "
                f"or {name}.reshape(1, -1) if it is a single sample"
            )
        raise ValueError(
            f"{name} must be a 2-D array of shape (n_samples, n_features); "
            f"got shape {tuple(X.shape)}{hint}"
        )
    shape = tuple(X.shape)
    if shape[0] == 0:
        raise ValueError(
            f"{name} is empty: it has 0 sample(s) (shape={shape}) while a minimum of 1 is required."
        )
    if shape[1] == 0:
        raise ValueError(
            f"{name} has 0 feature(s) (shape={shape}) while a minimum of 1 is required."
        )
    if n_features is not None and shape[1] != n_features:
        raise ValueError(
            f"{name} has {shape[1]} features, but {estimator} is expecting {n_features} "
            "features as input (the number it was fitted with)"
        )
    check_finite(xp, X, name)
    return xp, to_float(xp, X)


def check_X_y(
    X: Any,
    y: Any,
    multi_output: bool = False,
    labels: bool = False,
    estimator: str = "this model",
) -> tuple[Any, Any, Any]:
    """Validate a training pair; returns ``(xp, X, y)`` in one namespace, X floating.

    ``labels=True`` (classifiers): y holds class labels, see ``check_y``.
    """
    if y is None:
        check_y(y, 0, estimator=estimator)
    X = as_array(X, "X")
    y = as_array(y, "y", labels=labels)
    backends.namespace(X, y)  # TypeError naming both libraries if they are mixed
    xp, X = check_X(X, estimator=estimator)
    y = check_y(y, X.shape[0], multi_output=multi_output, labels=labels, estimator=estimator)
    return xp, X, y


def check_y(
    y: Any,
    n_samples: int,
    multi_output: bool = False,
    labels: bool = False,
    estimator: str = "this model",
) -> Any:
    """Validate targets for ``n_samples`` samples.

    ``labels=True`` (classifiers): NumPy labels may be of any dtype NumPy can sort
    (strings, objects, booleans, integers, integral floats); other libraries have
    numeric labels only. A column vector of shape (n_samples, 1) is raveled with a
    DataConversionWarning. Otherwise y must be numeric: (n_samples,), or also
    (n_samples, n_outputs) when ``multi_output``.
    """
    if y is None:
        raise ValueError(
            f"{estimator} requires y to be passed, but the target y is None; "
            "call fit(X, y) with the targets"
        )
    y = as_array(y, "y", labels=labels)
    xp = backends.namespace(y)
    if isinstance(y, np.ndarray):
        if not labels or y.dtype.kind == "c":
            y = _numeric_host_array(y, "y")
        # Labels may be of any kind NumPy can sort; label_classes checks that.
    elif not _is_numeric(xp, y):
        raise TypeError(f"y must hold numbers; got dtype {y.dtype}")
    if labels and y.ndim == 2 and y.shape[1] == 1:
        warnings.warn(
            "A column-vector y was passed when a 1d array was expected: y has shape "
            f"{tuple(y.shape)} and a classifier takes (n_samples,), so it was raveled. "
            "Pass y.ravel() to silence this warning.",
            data_conversion_warning(),
            stacklevel=4,
        )
        y = xp.reshape(y, (-1,))
    allowed = (1, 2) if multi_output else (1,)
    if y.ndim not in allowed:
        shape = "(n_samples,) or (n_samples, n_outputs)" if multi_output else "(n_samples,)"
        raise ValueError(f"y must have shape {shape}; got shape {tuple(y.shape)}")
    if y.shape[0] != n_samples:
        raise ValueError(f"X and y have different numbers of samples: {n_samples} and {y.shape[0]}")
    if y.ndim == 2 and y.shape[1] == 0:
        raise ValueError("y has 0 outputs")
    if not isinstance(y, np.ndarray) or y.dtype.kind in "biuf":
        check_finite(xp, y, "y")
    return y


class MixedLibrariesError(TypeError, ValueError):
    """Arrays of one library given to a model fitted on another.

    A TypeError (scratchml's rule for mixed libraries) and a ValueError (what
    scikit-learn's Array API tools expect when a namespace differs from fit's).
    """


class MixedDevicesError(ValueError):
    """Arrays on one device given to a model whose parameters live on another.

    A ValueError, as scikit-learn's Array API tools raise for arrays on different devices.
    """


def check_same_namespace(X: Any, fitted: Any, name: str = "X", method: str = "") -> None:
    """Prediction input must come from the library, and live on the device, of the model.

    ``method`` ("MLPClassifier.predict()") is named in the message when given.
    """
    data_lib, model_lib = backends.backend_name(X), backends.backend_name(fitted)
    if data_lib != model_lib:
        where = f"{method} input" if method else "input"
        raise MixedLibrariesError(
            f"{name} comes from {data_lib} but the model was fitted on {model_lib} arrays "
            f"({where} must use the same namespace as fit); convert {name} with "
            f"scratchml.backends.asarray({name}, backend={model_lib!r}) "
            "or load the model on the other backend"
        )
    data_device, model_device = backends.device(X), backends.device(fitted)
    if data_device != model_device:
        where = f"{method} input" if method else "input"
        raise MixedDevicesError(
            f"{name} is on device {data_device} but the model's parameters are on device "
            f"{model_device} ({where} must be on the model's device); move {name} there with "
            f"scratchml.backends.asarray({name}, like=model.params_[0][0]), or load the model "
            f"onto {name}'s device with scratchml.load(path, backend={model_lib!r}, "
            f"device=scratchml.backends.device({name}))"
        )


# ---------------------------------------------------------------------------
# Class labels: encoded once, in fit; the model math sees class indices only.


def _unique_host_labels(y: np.ndarray) -> np.ndarray:
    if y.dtype.kind == "f" and not bool(np.all(y == np.round(y))):
        raise ValueError(_continuous_message())
    try:
        classes = np.unique(y)
    except TypeError as exc:
        raise TypeError(
            "y holds class labels NumPy cannot sort (mixed kinds such as numbers and strings, "
            f"or None); make them all one kind: {exc}"
        ) from exc
    if classes.dtype.kind == "O":
        _check_object_labels(classes)
    return classes


def _check_object_labels(classes: np.ndarray) -> None:
    for label in classes.tolist():
        if label is None or (isinstance(label, float) and label != label):
            raise ValueError("y holds missing labels (None or NaN); drop those samples first")


def _continuous_message() -> str:
    return (
        "y must hold class labels, but it has non-integral values (Unknown label type: "
        "continuous); for a continuous target use a regressor (MLPRegressor, LinearRegression)"
    )


def label_classes(xp: Any, y: Any) -> Any:
    """The sorted distinct labels of y: NumPy labels of any sortable dtype, else numeric."""
    if isinstance(y, np.ndarray):
        classes = _unique_host_labels(y)
    else:
        if xp.isdtype(y.dtype, "real floating") and not bool(xp.all(y == xp.round(y))):
            raise ValueError(_continuous_message())
        classes = xp.sort(xp.unique_values(y))
    if classes.shape[0] < 2:
        raise ValueError(
            f"y has only one class ({classes_repr(classes)}); a classifier needs at least two"
        )
    return classes


def label_indices(xp: Any, classes: Any, y: Any) -> Any:
    """Index of each label of y in ``classes``; unknown labels refused.

    The indices are in the namespace's default index dtype (int64; int32 on JAX
    without x64, where an int64 request would warn and be cut to int32 anyway).
    """
    check_same_namespace(y, classes, "y")
    try:
        index = xp.searchsorted(classes, y)
        index = xp.minimum(index, xp.full_like(index, classes.shape[0] - 1))
        known = bool(xp.all(xp.take(classes, index) == y))
    except (TypeError, ValueError):  # labels of another kind than the classes
        known = False
    if not known:
        raise ValueError(
            "y holds labels the model was not fitted on; "
            f"known classes are {backends.to_numpy(classes).tolist()}"
        )
    return xp.astype(index, backends.default_index(xp))


def decode_labels(xp: Any, classes: Any, index: Any) -> Any:
    """Class indices (n_samples,) → the labels themselves, in ``classes``' dtype."""
    return xp.take(classes, index)


def encode_labels(xp: Any, y: Any, dtype: Any, classes: Any = None) -> tuple[Any, Any]:
    """Class labels → ``(classes_, one_hot)``; one_hot is (n_samples, n_classes) in ``dtype``.

    ``classes`` fixes the label set (e.g. all classes, given before the first batch);
    by default it is the sorted distinct labels of y. Labels must be integers,
    booleans, floats with integral values or, for NumPy input, any sortable labels.
    """
    if classes is None:
        classes = label_classes(xp, y)
    index = label_indices(xp, classes, y)
    return classes, one_hot(xp, index, classes.shape[0], dtype)


def one_hot(xp: Any, index: Any, n_classes: int, dtype: Any) -> Any:
    """Rows of the identity: (n_samples,) class indices → (n_samples, n_classes) in ``dtype``."""
    columns = xp.arange(n_classes, device=backends.device(index))
    return xp.astype(xp.expand_dims(index, axis=-1) == columns, dtype)


def classes_repr(classes: Any) -> str:
    return ", ".join(str(v) for v in backends.to_numpy(classes).tolist())


# ---------------------------------------------------------------------------
# Hyper-parameters


def check_positive(value: Any, name: str, integer: bool = False) -> None:
    kind = numbers.Integral if integer else numbers.Real
    if isinstance(value, bool) or not isinstance(value, kind) or not value > 0:
        what = "a positive integer" if integer else "a positive number"
        raise ValueError(f"{name} must be {what}; got {value!r}")


def check_non_negative(value: Any, name: str, integer: bool = False) -> None:
    kind = numbers.Integral if integer else numbers.Real
    if isinstance(value, bool) or not isinstance(value, kind) or not value >= 0:
        what = "a non-negative integer" if integer else "a non-negative number"
        raise ValueError(f"{name} must be {what}; got {value!r}")


def check_choice(value: Any, name: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}; got {value!r}")
