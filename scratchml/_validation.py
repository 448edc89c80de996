"""Input checks shared by the estimators: clear errors naming the argument, before training.

What arrives from the outside world — lists, pandas DataFrames and Series, NumPy
object arrays, string class labels, scipy.sparse matrices — is turned into plain
arrays (or refused with a message that says what to do) here, on the host, once,
so the model math only ever sees numeric arrays of one namespace. pandas and
scipy stay optional: they are recognised by their type's module, never imported
unless the object in hand is already one of theirs.
"""

from __future__ import annotations

import itertools
import math
import numbers
import warnings
from collections.abc import Mapping
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
    host = is_host_targets(y, labels)
    y = as_array(y, "y", labels=labels)
    xp, X = check_X(X, estimator=estimator)
    y = check_y(y, X.shape[0], multi_output=multi_output, labels=labels, estimator=estimator)
    return xp, X, targets_beside(X, y, host)


def is_host_targets(y: Any, labels: bool) -> bool:
    """Whether y, as given, is host data that goes with X of any library.

    Targets that are not arrays (lists, tuples, pandas objects) are; so are class
    labels in a NumPy array, since labels are host data (strings have no other
    library). An array of another library (torch, JAX, CuPy, array-api-strict) is
    not: it must come from X's library.
    """
    if not backends.is_array(y):
        return True
    return labels and isinstance(y, np.ndarray)


def targets_beside(X: Any, y: Any, host: bool) -> Any:
    """Checked y in X's library and on its device, where it is host data; else as it is.

    Host targets of a numeric (or boolean) dtype move to X's library and device, so
    numeric class labels (and ``classes_``) live where X lives; host labels of other
    kinds (strings, objects) stay NumPy arrays, and so do their ``classes_``. Targets of
    another array library raise the TypeError that names both libraries.
    """
    if not host:
        backends.namespace(X, y)  # TypeError naming both libraries if they are mixed
        return y
    if not isinstance(y, np.ndarray) or isinstance(X, np.ndarray) or y.dtype.kind not in "biuf":
        return y
    return backends.asarray(y, like=X)


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


def label_indices(xp: Any, classes: Any, y: Any, like: Any = None) -> Any:
    """Index of each label of y in ``classes``; unknown labels refused.

    The indices are in the namespace's default index dtype (int64; int32 on JAX
    without x64, where an int64 request would warn and be cut to int32 anyway).
    They are found where the classes live (host NumPy for string labels) and moved
    to ``like``'s library and device when it is given (the data's, for the one-hot
    targets the math uses).
    """
    check_same_namespace(y, classes, "y")
    labels_xp = backends.namespace(classes)
    try:
        index = labels_xp.searchsorted(classes, y)
        index = labels_xp.minimum(index, labels_xp.full_like(index, classes.shape[0] - 1))
        known = bool(labels_xp.all(labels_xp.take(classes, index) == y))
    except (TypeError, ValueError):  # labels of another kind than the classes
        known = False
    if not known:
        raise ValueError(
            "y holds labels the model was not fitted on; "
            f"known classes are {backends.to_numpy(classes).tolist()}"
        )
    index = labels_xp.astype(index, backends.default_index(labels_xp))
    if like is not None and backends.backend_name(index) != backends.backend_name(like):
        index = backends.asarray(index, like=like)
    return index


def decode_labels(xp: Any, classes: Any, index: Any) -> Any:
    """Class indices (n_samples,) → the labels themselves, in ``classes``' dtype.

    Where the classes live on the host (string labels) and the indices elsewhere, the
    indices come to the host: the labels are a NumPy array.
    """
    labels_xp = backends.namespace(classes)
    if backends.backend_name(index) != backends.backend_name(classes):
        index = backends.to_numpy(index)
    return labels_xp.take(classes, index)


def encode_labels(
    xp: Any, y: Any, dtype: Any, classes: Any = None, like: Any = None
) -> tuple[Any, Any]:
    """Class labels → ``(classes_, one_hot)``; one_hot is (n_samples, n_classes) in ``dtype``.

    ``like`` (the training X) gives one_hot's library and device where they differ from
    the labels' (string labels on the host, X elsewhere).

    ``classes`` fixes the label set (e.g. all classes, given before the first batch);
    by default it is the sorted distinct labels of y. Labels must be integers,
    booleans, floats with integral values or, for NumPy input, any sortable labels.
    """
    if classes is None:
        classes = label_classes(xp, y)
    index = label_indices(xp, classes, y, like=like)
    return classes, one_hot(xp, index, classes.shape[0], dtype)


def one_hot(xp: Any, index: Any, n_classes: int, dtype: Any) -> Any:
    """Rows of the identity: (n_samples,) class indices → (n_samples, n_classes) in ``dtype``."""
    columns = xp.arange(n_classes, device=backends.device(index))
    return xp.astype(xp.expand_dims(index, axis=-1) == columns, dtype)


def classes_repr(classes: Any) -> str:
    return ", ".join(str(v) for v in backends.to_numpy(classes).tolist())


# ---------------------------------------------------------------------------
# Hyper-parameters


def check_value(value: Any, name: str, *constraints: Any) -> None:
    """ValueError naming ``name`` unless one of ``constraints`` accepts ``value``.

    The one way values are checked: an estimator's table (``HyperParameter.check``), the
    sweep grid and plain functions' arguments all go through the constraint classes below
    (``Interval``, ``Options``, ...) and say what they expect in the same words.
    """
    if not any(c.accepts(value) for c in constraints):
        expected = " or ".join(c.describe() for c in constraints)
        raise ValueError(f"{name} must be {expected}; got {short_repr(value)}")


def check_positive(value: Any, name: str, integer: bool = False) -> None:
    """``check_value`` with a positive integer or a positive (finite) number."""
    check_value(
        value, name, Interval(int, 1, None) if integer else Interval(float, 0, None, "neither")
    )


def check_non_negative(value: Any, name: str, integer: bool = False) -> None:
    """``check_value`` with a non-negative integer or number."""
    check_value(value, name, Interval(int if integer else float, 0, None))


def check_choice(value: Any, name: str, choices: tuple[str, ...]) -> None:
    """``check_value`` with one of the names ``choices``."""
    check_value(value, name, Options(choices))


# ---------------------------------------------------------------------------
# Hyper-parameter tables: each estimator declares its parameters once (type, range,
# default, description) and validation, get_params, __init__ and the docs read it,
# in the manner of scikit-learn's ``_parameter_constraints``.


def _is_real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _is_sequence(value: Any) -> bool:
    """A list or tuple of values (not a string, not an array)."""
    return isinstance(value, (list, tuple))


def is_per_network(value: Any) -> bool:
    """A stack's per-network value: a list, a tuple or a 1-D NumPy array (one per network)."""
    return _is_sequence(value) or (isinstance(value, np.ndarray) and value.ndim == 1)


class Interval:
    """Numbers of one kind (``int`` or ``float``) between ``low`` and ``high``.

    ``closed`` says which ends belong: "left", "right", "both" or "neither"; a None
    end is unbounded. Real numbers must also be finite.
    """

    def __init__(
        self, kind: type, low: float | None, high: float | None, closed: str = "left"
    ) -> None:
        self.kind, self.low, self.high, self.closed = kind, low, high, closed

    def accepts(self, value: Any) -> bool:
        integer = self.kind is int
        if not _is_real(value) or (integer and not isinstance(value, numbers.Integral)):
            return False
        if not math.isfinite(value):
            return False
        left = self.closed in ("left", "both")
        right = self.closed in ("right", "both")
        if self.low is not None and not (value >= self.low if left else value > self.low):
            return False
        return self.high is None or (value <= self.high if right else value < self.high)

    def type_name(self) -> str:
        return "int" if self.kind is int else "float"

    def describe(self) -> str:
        noun = "integer" if self.kind is int else "number"
        left_closed = self.closed in ("left", "both")
        if self.high is None and self.low == 0:
            return f"a non-negative {noun}" if left_closed else f"a positive {noun}"
        if self.high is None and self.kind is int and self.low == 1 and left_closed:
            return "a positive integer"
        if self.low is not None and self.high is not None and self.closed == "neither":
            return f"a {noun} strictly between {self.low} and {self.high}"
        left = "[" if self.closed in ("left", "both") else "("
        right = "]" if self.closed in ("right", "both") else ")"
        low = "-∞" if self.low is None else self.low
        high = "∞" if self.high is None else self.high
        return f"a {noun} in {left}{low}, {high}{right}"


class Options:
    """One of a set of names; ``names`` may be a callable, read when checking (a registry)."""

    def __init__(self, names: Any) -> None:
        self._names = names

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._names() if callable(self._names) else self._names)

    def accepts(self, value: Any) -> bool:
        return isinstance(value, str) and value in self.names

    def type_name(self) -> str:
        return "{" + ", ".join(map(repr, self.names)) + "}"

    def describe(self) -> str:
        return "one of " + ", ".join(map(repr, self.names))


class Boolean:
    """True or False."""

    def accepts(self, value: Any) -> bool:
        return isinstance(value, (bool, np.bool_))

    def type_name(self) -> str:
        return "bool"

    def describe(self) -> str:
        return "True or False"


class NoneValue:
    """None (what it means is the parameter's description)."""

    def accepts(self, value: Any) -> bool:
        return value is None

    def type_name(self) -> str:
        return "None"

    def describe(self) -> str:
        return "None"


class InstanceOf:
    """An instance of ``kind`` (e.g. a ``numpy.random.Generator``: ``HOST_GENERATOR``)."""

    def __init__(self, kind: type, name: str) -> None:
        self.kind, self.name = kind, name

    def accepts(self, value: Any) -> bool:
        return isinstance(value, self.kind)

    def type_name(self) -> str:
        return self.name

    def describe(self) -> str:
        return f"a {self.name}"


# The host random generator a seed may also be (random draws are made on the host).
HOST_GENERATOR = InstanceOf(np.random.Generator, "numpy.random.Generator")


class SequenceOf:
    """A list or tuple whose every entry satisfies ``item`` (layer widths, activation names).

    ``describe`` and ``type_name`` say it in words and as a numpydoc type.
    """

    def __init__(self, item: Any, describe: str, type_name: str) -> None:
        self.item, self._describe, self._type_name = item, describe, type_name

    def accepts(self, value: Any) -> bool:
        return _is_sequence(value) and all(self.item.accepts(v) for v in value)

    def type_name(self) -> str:
        return self._type_name

    def describe(self) -> str:
        return self._describe


class MappingOf:
    """A dict from keys of one type to real numbers (an optimizer's settings, by name)."""

    def __init__(self, key: type, describe: str, type_name: str) -> None:
        self.key, self._describe, self._type_name = key, describe, type_name

    def accepts(self, value: Any) -> bool:
        return isinstance(value, Mapping) and all(
            isinstance(k, self.key) and _is_real(v) for k, v in value.items()
        )

    def type_name(self) -> str:
        return self._type_name

    def describe(self) -> str:
        return self._describe


class WeightList:
    """Given initial weights: a list of (W, b) pairs of arrays, one pair per layer.

    One network: W (n_in, n_out), b (n_out,). A stack (``model_axis``): W (M, n_in,
    n_out), b (M, n_out). That the shapes fit the architecture and the data is
    checked at fit time (``check_initial_weights``).
    """

    def __init__(self, model_axis: bool = False) -> None:
        self.model_axis = model_axis

    def accepts(self, value: Any) -> bool:
        lead = 1 if self.model_axis else 0
        return (
            _is_sequence(value)
            and len(value) > 0
            and all(
                _is_sequence(pair)
                and len(pair) == 2
                and getattr(pair[0], "ndim", None) == 2 + lead
                and getattr(pair[1], "ndim", None) == 1 + lead
                for pair in value
            )
        )

    def type_name(self) -> str:
        return "list of (W, b) arrays"

    def describe(self) -> str:
        if self.model_axis:
            return "a list of (W, b) array pairs, W (M, n_in, n_out) and b (M, n_out)"
        return "a list of (W, b) array pairs, W (n_in, n_out) and b (n_out,)"


class HyperParameter:
    """One hyper-parameter of an estimator: its default, the values it takes, what it does.

    ``constraints``: a value is valid when any one of them accepts it. ``per_network``
    (stacks): a single value, or a sequence of one value per network, each valid.
    ``doc`` is the description paragraph of the class docstring's Parameters section,
    which states the type, the default and the range from the constraints.

    The sweep grid (or anyone) checks a value with ``check(value, name)``.
    """

    def __init__(self, default: Any, constraints: Any, doc: str, per_network: bool = False) -> None:
        self.default = default
        self.constraints = tuple(constraints)
        self.doc = " ".join(doc.split())
        self.per_network = per_network

    def replace(self, **changes: Any) -> HyperParameter:
        """A copy with some fields changed (another estimator's default, say)."""
        fields = {
            "default": self.default,
            "constraints": self.constraints,
            "doc": self.doc,
            "per_network": self.per_network,
        }
        return HyperParameter(**{**fields, **changes})

    def accepts(self, value: Any) -> bool:
        """Whether ``value`` (one value; not a per-network sequence) is valid."""
        return any(c.accepts(value) for c in self.constraints)

    def describe(self) -> str:
        """What the valid values are, in words ("a positive number or None")."""
        return " or ".join(c.describe() for c in self.constraints)

    def check(self, value: Any, name: str) -> None:
        """ValueError naming ``name`` unless ``value`` is valid (each entry, per network)."""
        if self.per_network and is_per_network(value) and not self.accepts(value):
            if len(value) == 0:
                raise ValueError(f"{name} must not be an empty sequence")
            for i, entry in enumerate(value):
                self.check_one(entry, f"{name}[{i}]")
            return
        self.check_one(value, name)

    def check_one(self, value: Any, name: str) -> None:
        check_value(value, name, *self.constraints)

    def type_text(self) -> str:
        """The numpydoc type: ``float or None, default=0.0001``."""
        names = [c.type_name() for c in self.constraints]
        if self.per_network:
            values = [n for n in names if n != "None"]
            names.append(f"sequence of {values[0]}" if len(values) == 1 else "sequence of those")
        return f"{' or '.join(names)}, default={self.default!r}"

    def doc_text(self) -> str:
        """The description paragraph: what it does, then its range."""
        if any(isinstance(c, (Interval, SequenceOf)) for c in self.constraints):
            text = f"{self.doc} Valid values: {self.describe()}."
        else:
            text = self.doc
        if self.per_network:
            text += " A stack takes one value for all networks or a sequence of one per network."
        return text


def short_repr(value: Any) -> str:
    """``repr`` for messages and reprs, with arrays shown by their library and shape only."""
    if backends.is_array(value):
        return f"<{backends.backend_name(value)} array of shape {tuple(value.shape)}>"
    if _is_sequence(value) and any(backends.is_array(v) or _is_sequence(v) for v in value):
        inner = ", ".join(short_repr(v) for v in value)
        return f"({inner})" if isinstance(value, tuple) else f"[{inner}]"
    return repr(value)


def check_initial_weights(init: Any, sizes: list[int], n_networks: int | None) -> None:
    """ValueError naming ``init`` unless the given weights fit layer sizes ``sizes``.

    ``sizes`` is [n_features, hidden widths..., n_outputs]; with ``n_networks`` each W
    is (M, n_in, n_out) and each b (M, n_out).
    """
    lead = () if n_networks is None else (n_networks,)
    wanted = [((*lead, n_in, n_out), (*lead, n_out)) for n_in, n_out in itertools.pairwise(sizes)]
    given = [(tuple(W.shape), tuple(b.shape)) for W, b in init]
    if given != wanted:
        layers = " → ".join(map(str, sizes))
        raise ValueError(
            f"init gives weights of shapes {given}, but the network ({layers}, from X's "
            f"features, hidden_layers and the targets) needs {wanted}"
        )
