"""Input checks shared by the estimators: clear errors naming the argument, before training."""

from __future__ import annotations

import numbers
from typing import Any

from . import backends


def as_array(obj: Any, name: str) -> Any:
    """Arrays pass through; lists and tuples become NumPy arrays (the namespace follows the data)."""
    if backends.is_array(obj):
        return obj
    if obj is None:
        raise TypeError(f"{name} must be an array, got None")
    try:
        return backends.asarray(obj)
    except Exception as exc:
        raise TypeError(f"{name} must be an array or array-like, got {type(obj).__name__}") from exc


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


def check_X(X: Any, name: str = "X", n_features: int | None = None) -> tuple[Any, Any]:
    """Validate a feature matrix; returns ``(xp, X)`` with X floating."""
    X = as_array(X, name)
    xp = backends.namespace(X)
    if not _is_numeric(xp, X):
        raise TypeError(f"{name} must hold real numbers; got dtype {X.dtype}")
    if X.ndim != 2:
        raise ValueError(
            f"{name} must be a 2-D array of shape (n_samples, n_features); got shape {tuple(X.shape)}"
            + ("; use X.reshape(-1, 1) for a single feature" if X.ndim == 1 else "")
        )
    if X.shape[0] == 0:
        raise ValueError(f"{name} is empty: it has 0 samples")
    if X.shape[1] == 0:
        raise ValueError(f"{name} has 0 features")
    if n_features is not None and X.shape[1] != n_features:
        raise ValueError(
            f"{name} has {X.shape[1]} features, but the model was fitted with {n_features}"
        )
    check_finite(xp, X, name)
    return xp, to_float(xp, X)


def check_X_y(X: Any, y: Any, multi_output: bool = False) -> tuple[Any, Any, Any]:
    """Validate a training pair; returns ``(xp, X, y)`` in one namespace, X floating."""
    X = as_array(X, "X")
    y = as_array(y, "y")
    backends.namespace(X, y)  # TypeError naming both libraries if they are mixed
    xp, X = check_X(X)
    if not _is_numeric(xp, y):
        raise TypeError(f"y must hold numbers; got dtype {y.dtype}")
    allowed = (1, 2) if multi_output else (1,)
    if y.ndim not in allowed:
        shape = "(n_samples,) or (n_samples, n_outputs)" if multi_output else "(n_samples,)"
        raise ValueError(f"y must have shape {shape}; got shape {tuple(y.shape)}")
    if y.shape[0] != X.shape[0]:
        raise ValueError(
            f"X and y have different numbers of samples: {X.shape[0]} and {y.shape[0]}"
        )
    if y.ndim == 2 and y.shape[1] == 0:
        raise ValueError("y has 0 outputs")
    check_finite(xp, y, "y")
    return xp, X, y


def check_same_namespace(X: Any, fitted: Any, name: str = "X") -> None:
    """Prediction input must come from the library the model lives in."""
    data_lib, model_lib = backends.backend_name(X), backends.backend_name(fitted)
    if data_lib != model_lib:
        raise TypeError(
            f"{name} comes from {data_lib} but the model was fitted on {model_lib} arrays; "
            f"convert {name} with scratchml.backends.asarray({name}, backend={model_lib!r}) "
            "or load the model on the other backend"
        )


def encode_labels(xp: Any, y: Any, dtype: Any) -> tuple[Any, Any]:
    """Class labels → ``(classes_, one_hot)``; one_hot is (n_samples, n_classes) in ``dtype``.

    Labels must be integers, booleans, or floats with integral values.
    """
    if xp.isdtype(y.dtype, "real floating") and not bool(xp.all(y == xp.round(y))):
        raise ValueError(
            "y must hold class labels (integers), but it has non-integral values; "
            "for a continuous target use a regressor (MLPRegressor, LinearRegression)"
        )
    classes = xp.sort(xp.unique_values(y))
    if classes.shape[0] < 2:
        raise ValueError(
            f"y has a single class ({classes_repr(classes)}); a classifier needs at least two"
        )
    return classes, one_hot(xp, xp.searchsorted(classes, y), classes.shape[0], dtype)


def one_hot(xp: Any, index: Any, n_classes: int, dtype: Any) -> Any:
    """Rows of the identity: (n_samples,) class indices → (n_samples, n_classes) in ``dtype``."""
    columns = xp.arange(n_classes, device=backends.device(index))
    return xp.astype(xp.expand_dims(index, axis=-1) == columns, dtype)


def classes_repr(classes: Any) -> str:
    return ", ".join(str(v) for v in backends.to_numpy(classes).tolist())


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
