"""Save and load fitted models: arrays plus JSON metadata in one .npz, never pickle."""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from . import backends

FORMAT = "scratchml"
FORMAT_VERSION = 1
_METADATA_KEY = "__metadata__"
# Fitted attributes that are plain JSON values.
_FITTED_SCALARS = (
    "n_features_in_",
    "n_outputs_",
    "y_ndim_",
    "activations_",
    "loss_name_",
    "n_iter_",
)


def _model_classes() -> dict[str, type]:
    from .linear import LinearRegression, LogisticRegression
    from .nn import MLPClassifier, MLPRegressor

    classes = (LinearRegression, LogisticRegression, MLPClassifier, MLPRegressor)
    return {cls.__name__: cls for cls in classes}


def _json_safe(value: Any) -> Any:
    if isinstance(value, tuple):
        return {"__tuple__": [_json_safe(v) for v in value]}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    if isinstance(value, dict):
        return {key: _json_safe(v) for key, v in value.items()}
    if isinstance(value, np.generic):
        return value.item()
    return value


def _from_json(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"__tuple__"}:
        return tuple(_from_json(v) for v in value["__tuple__"])
    if isinstance(value, list):
        return [_from_json(v) for v in value]
    if isinstance(value, dict):
        return {key: _from_json(v) for key, v in value.items()}
    return value


def save(model: Any, path: str | os.PathLike) -> Path:
    """Write a fitted model to ``path``: its parameters as arrays, everything else as JSON.

    The file is written to a temporary name first and then renamed, so an
    interrupted save never leaves a half-written model behind.
    """
    if type(model).__name__ not in _model_classes():
        raise TypeError(f"model must be a scratchml estimator; got {type(model).__name__}")
    model._check_fitted()
    path = Path(path)
    arrays: dict[str, np.ndarray] = {}
    for i, (W, b) in enumerate(model.params_):
        arrays[f"W{i}"] = backends.to_numpy(W)
        arrays[f"b{i}"] = backends.to_numpy(b)
    if hasattr(model, "classes_"):
        arrays["classes_"] = backends.to_numpy(model.classes_)
    metadata = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "class": type(model).__name__,
        "hyperparameters": _json_safe(model.get_params()),
        "dtype": str(arrays["W0"].dtype),
        "saved_from_backend": backends.backend_name(model.params_[0][0]),
        "n_layers": len(model.params_),
        "loss_history_": [float(v) for v in model.loss_history_],
        "fitted": {
            name: _json_safe(getattr(model, name))
            for name in _FITTED_SCALARS
            if hasattr(model, name)
        },
    }
    temporary = path.with_name(path.name + ".partial")
    with open(temporary, "wb") as handle:
        np.savez(handle, **{_METADATA_KEY: np.array(json.dumps(metadata))}, **arrays)
    os.replace(temporary, path)
    return path


def _read(path: Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Every array of the file and its metadata; ValueError for anything not a scratchml model."""
    try:
        data = np.load(path, allow_pickle=False)
        if not isinstance(data, np.lib.npyio.NpzFile):
            raise ValueError("it holds a single array, not a saved model")
        with data:
            arrays = {name: data[name] for name in data.files}
    except FileNotFoundError:
        raise
    except ValueError as exc:
        if "pickle" in str(exc):
            raise ValueError(
                f"{path} holds pickled data; scratchml never unpickles (it could run code)"
            ) from exc
        raise ValueError(f"{path} is not a scratchml model file: {exc}") from exc
    except (zipfile.BadZipFile, OSError, EOFError, KeyError, AttributeError) as exc:
        raise ValueError(f"{path} is corrupt or truncated: {exc}") from exc
    if _METADATA_KEY not in arrays:
        raise ValueError(f"{path} is not a scratchml model file: it has no {_METADATA_KEY!r} entry")
    try:
        metadata = json.loads(str(arrays.pop(_METADATA_KEY)))
    except (json.JSONDecodeError, TypeError) as exc:
        raise ValueError(f"{path} has unreadable metadata: {exc}") from exc
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT:
        raise ValueError(f"{path} is not a scratchml model file (wrong format marker)")
    return metadata, arrays


def _check_arrays(path: Path, metadata: dict[str, Any], arrays: dict[str, np.ndarray]) -> list:
    n_layers = metadata.get("n_layers")
    if not isinstance(n_layers, int) or n_layers < 1:
        raise ValueError(f"{path} has a bad layer count: {n_layers!r}")
    params = []
    previous_out = metadata.get("fitted", {}).get("n_features_in_")
    for i in range(n_layers):
        W, b = arrays.get(f"W{i}"), arrays.get(f"b{i}")
        if W is None or b is None:
            raise ValueError(f"{path} is missing the arrays of layer {i}")
        if W.ndim != 2 or b.shape != (W.shape[1],) or (previous_out not in (None, W.shape[0])):
            raise ValueError(
                f"{path} has inconsistent shapes at layer {i}: W {W.shape}, b {b.shape}"
            )
        if (
            str(W.dtype) != metadata["dtype"]
            or not np.all(np.isfinite(W))
            or not np.all(np.isfinite(b))
        ):
            raise ValueError(f"{path} has a bad layer {i}: wrong dtype or non-finite values")
        previous_out = W.shape[1]
        params.append((W, b))
    return params


def load(path: str | os.PathLike, backend: str = "numpy", device: Any = None) -> Any:
    """Restore a model written by ``save`` onto ``backend`` (any of backends.available()).

    Refuses pickled, corrupt, truncated and foreign files with a ValueError that says why.
    Snapshots (``history_``) are not saved; ``loss_history_`` is.
    """
    path = Path(path)
    metadata, arrays = _read(path)
    version = metadata.get("format_version")
    if version != FORMAT_VERSION:
        raise ValueError(
            f"{path} has format version {version!r}; this scratchml reads version {FORMAT_VERSION}"
        )
    classes = _model_classes()
    name = metadata.get("class")
    if name not in classes:
        raise ValueError(
            f"{path} holds an unknown model class {name!r}; known: {', '.join(classes)}"
        )
    params = _check_arrays(path, metadata, arrays)
    hyperparameters = _from_json(metadata.get("hyperparameters", {}))
    try:
        model = classes[name](**hyperparameters)
    except TypeError as exc:
        raise ValueError(f"{path} has hyper-parameters {name} does not accept: {exc}") from exc

    def move(array: np.ndarray) -> Any:
        return backends.asarray(array, backend=backend, device=device)

    model.params_ = [(move(W), move(b)) for W, b in params]
    if "classes_" in arrays:
        model.classes_ = move(arrays["classes_"])
    for attribute, value in metadata.get("fitted", {}).items():
        if attribute in _FITTED_SCALARS:
            setattr(model, attribute, _from_json(value))
    model.loss_history_ = [float(v) for v in metadata.get("loss_history_", [])]
    model.history_ = []
    return model
