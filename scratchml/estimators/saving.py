"""Save and load fitted models: arrays plus JSON metadata in one .npz, never pickle.

One network or a stack of M: a stack's weights keep their model axis (W (M, n_in, n_out),
b (M, n_out)), and its per-network loss history and divergence flags are arrays of the
file. ``load`` checks every entry the model's class needs before it builds the model.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from .. import backends

FORMAT = "scratchml"
FORMAT_VERSION = 1
_METADATA_KEY = "__metadata__"
# In the JSON of the hyper-parameters: init was given weights, stored as arrays.
_INIT_WEIGHTS_KEY = "__weights__"
# Fitted attributes that are plain JSON values.
_FITTED_SCALARS = (
    "n_features_in_",
    "n_outputs_",
    "y_ndim_",
    "activations_",
    "loss_name_",
    "n_iter_",
    "validation_scores_",
    "best_validation_score_",
)
# The first bytes of the files a user may hand to ``load`` by mistake.
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_NPY_MAGIC = b"\x93NUMPY"
_PICKLE_PROTOCOL_MARK = 0x80  # PROTO opcode, then the protocol number (2 to 5)


# Every estimator class a file may hold, by name: ``BaseEstimator`` registers each public
# subclass as it is defined, so this module needs to import none of them.
_MODEL_CLASSES: dict[str, type] = {}


def register_model_class(model_class: type) -> None:
    """Let ``load`` restore instances of ``cls``, a fitted estimator class, by its name.

    Parameters
    ----------
    model_class : type
        The estimator class; its ``__name__`` is what a saved file records.
    """
    _MODEL_CLASSES[model_class.__name__] = model_class


def _model_classes() -> dict[str, type]:
    return dict(_MODEL_CLASSES)


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


def _labels_without_objects(classes: np.ndarray) -> np.ndarray:
    """Class labels as an array ``np.load`` reads without pickle: strings as unicode (<U..).

    An object array of Python strings (what pandas gives) becomes a unicode array;
    one of numbers or booleans, a numeric one. Other objects cannot be stored.
    """
    if classes.dtype.kind != "O":
        return classes
    values = classes.tolist()
    if all(isinstance(v, str) for v in values):
        return np.asarray(values, dtype=str)
    plain = np.asarray(values)
    if plain.dtype.kind in "biuf":
        return plain
    kinds = sorted({type(v).__name__ for v in values})
    raise TypeError(
        f"classes_ holds Python objects of types {', '.join(kinds)}, which cannot be saved "
        "without pickle; fit on labels that are all strings or all numbers"
    )


def _hyperparameters_to_save(model: Any, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    """``get_params()`` as JSON; initial weights given as ``init=[(W, b), ...]`` go to
    ``arrays`` (``init_W0``, ``init_b0``, ...) and the JSON says how many layers they have."""
    params = model.get_params()
    init = params.get("init")
    if init is not None and not isinstance(init, str):
        for i, (W, b) in enumerate(init):
            arrays[f"init_W{i}"] = backends.to_numpy(W)
            arrays[f"init_b{i}"] = backends.to_numpy(b)
        params["init"] = {_INIT_WEIGHTS_KEY: len(init)}
    return _json_safe(params)


def _saved_hyperparameters(
    path: Path, metadata: dict[str, Any], arrays: dict[str, np.ndarray]
) -> dict[str, Any]:
    """The hyper-parameters of the file; given initial weights come back as NumPy arrays
    (``fit`` converts them to its X's library)."""
    hyperparameters = _from_json(metadata.get("hyperparameters", {}))
    init = hyperparameters.get("init")
    if isinstance(init, dict) and set(init) == {_INIT_WEIGHTS_KEY}:
        n_layers = init[_INIT_WEIGHTS_KEY]
        n_layers = n_layers if isinstance(n_layers, int) else 0
        keys = [(f"init_W{i}", f"init_b{i}") for i in range(n_layers)]
        if not keys or any(k not in arrays for pair in keys for k in pair):
            raise ValueError(f"{path} is missing the initial weights its init refers to")
        hyperparameters["init"] = [(arrays[W], arrays[b]) for W, b in keys]
    return hyperparameters


def save(model: Any, path: str | os.PathLike) -> Path:
    """Write a fitted model to ``path``: its parameters as arrays, everything else as JSON.

    The file is written to a temporary name first and then renamed, so an
    interrupted save never leaves a half-written model behind.

    Parameters
    ----------
    model : estimator
        A fitted scratchml estimator.
    path : str or path-like
        Where to write the ``.npz`` file.

    Returns
    -------
    Path
        ``path``.
    """
    path = Path(path)
    entries = _entries(model)
    temporary = path.with_name(path.name + ".partial")
    with open(temporary, "wb") as handle:
        np.savez(handle, **entries)
    os.replace(temporary, path)
    return path


def to_bytes(model: Any) -> bytes:
    """The bytes ``save`` writes for ``model``, made in memory (no file, no folder).

    Parameters
    ----------
    model : estimator
        A fitted scratchml estimator.

    Returns
    -------
    bytes
        The content of its ``.npz`` model file.
    """
    buffer = io.BytesIO()
    np.savez(buffer, **_entries(model))
    return buffer.getvalue()


def _entries(model: Any) -> dict[str, Any]:
    """The arrays of a model's file, its JSON metadata first."""
    if type(model).__name__ not in _model_classes():
        raise TypeError(f"model must be a scratchml estimator; got {type(model).__name__}")
    model._check_fitted()
    arrays: dict[str, np.ndarray] = {}
    for i, (W, b) in enumerate(model.params_):
        arrays[f"W{i}"] = backends.to_numpy(W)
        arrays[f"b{i}"] = backends.to_numpy(b)
    n_networks = model._n_networks
    if n_networks is not None:  # a stack: its per-network history and divergence flags
        arrays["loss_history_"] = np.asarray(model.loss_history_, dtype=np.float64)
        arrays["diverged_"] = np.asarray(model.diverged_, dtype=bool)
    if hasattr(model, "classes_"):
        arrays["classes_"] = _labels_without_objects(backends.to_numpy(model.classes_))
    if hasattr(model, "feature_names_in_"):
        arrays["feature_names_in_"] = np.asarray(model.feature_names_in_, dtype=str)
    metadata = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "class": type(model).__name__,
        "hyperparameters": _hyperparameters_to_save(model, arrays),
        "dtype": str(arrays["W0"].dtype),
        "saved_from_backend": backends.backend_name(model.params_[0][0]),
        "n_layers": len(model.params_),
        "n_networks": n_networks,
        "loss_history_": [] if n_networks is not None else [float(v) for v in model.loss_history_],
        "fitted": {
            name: _json_safe(getattr(model, name))
            for name in _FITTED_SCALARS
            if hasattr(model, name)
        },
    }
    return {_METADATA_KEY: np.array(json.dumps(metadata)), **arrays}


def _read(path: Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Every array of the file and its metadata; ValueError for anything not a scratchml model.

    Each way a file can be wrong gets its own message: not a zip/npz file at all
    (a pickle is named as one), a zip of other things, a truncated or corrupt zip,
    and an npz that carries pickled Python objects.
    """
    with open(path, "rb") as handle:  # FileNotFoundError passes through as it is
        head = handle.read(8)
    if head.startswith(_NPY_MAGIC):
        raise ValueError(f"{path} holds a single array (.npy), not a saved model (.npz)")
    if not head.startswith(_ZIP_MAGIC):
        if len(head) >= 2 and head[0] == _PICKLE_PROTOCOL_MARK and 2 <= head[1] <= 5:
            raise ValueError(
                f"{path} is a Python pickle, not a scratchml model; "
                "scratchml never unpickles (unpickling can run arbitrary code)"
            )
        raise ValueError(
            f"{path} is not a zip/npz file (it starts with {head!r}), so it is not a scratchml model"
        )
    if not zipfile.is_zipfile(path):
        raise ValueError(
            f"{path} is truncated or corrupt: it starts like a zip/npz file but its directory "
            "at the end is missing (was the copy or download cut short?)"
        )
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.namelist()
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise ValueError(f"{path} is truncated or corrupt: {exc}") from exc
    if _METADATA_KEY + ".npy" not in members:
        shown = ", ".join(members[:5]) + (", ..." if len(members) > 5 else "")
        raise ValueError(
            f"{path} is a zip file but not a scratchml model file: it has no "
            f"{_METADATA_KEY!r} entry (it holds: {shown or 'nothing'})"
        )
    arrays: dict[str, np.ndarray] = {}
    name = "?"
    try:
        with np.load(path, allow_pickle=False) as data:
            for name in data.files:
                arrays[name] = data[name]
    except ValueError as exc:
        if "pickle" in str(exc):
            raise ValueError(
                f"{path} carries pickled Python objects (entry {name!r}); scratchml never "
                "unpickles (unpickling can run arbitrary code), so it refuses this file"
            ) from exc
        raise ValueError(f"{path} is truncated or corrupt: entry {name!r}: {exc}") from exc
    except (zipfile.BadZipFile, OSError, EOFError, KeyError) as exc:
        raise ValueError(f"{path} is truncated or corrupt: {exc}") from exc
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
    n_networks = metadata.get("n_networks")
    if n_networks is not None and (not isinstance(n_networks, int) or n_networks < 1):
        raise ValueError(f"{path} has a bad number of networks: {n_networks!r}")
    lead = () if n_networks is None else (n_networks,)
    params = []
    previous_out = metadata.get("fitted", {}).get("n_features_in_")
    for i in range(n_layers):
        W, b = arrays.get(f"W{i}"), arrays.get(f"b{i}")
        if W is None or b is None:
            raise ValueError(f"{path} is missing the arrays of layer {i}")
        if (
            W.ndim != 2 + len(lead)
            or W.shape[: len(lead)] != lead
            or b.shape != (*lead, W.shape[-1])
            or previous_out not in (None, W.shape[-2])
        ):
            raise ValueError(
                f"{path} has inconsistent shapes at layer {i}: W {W.shape}, b {b.shape}"
                + (f" (a stack of {n_networks} networks)" if lead else "")
            )
        if (
            str(W.dtype) != metadata["dtype"]
            or not np.all(np.isfinite(W))
            or not np.all(np.isfinite(b))
        ):
            raise ValueError(f"{path} has a bad layer {i}: wrong dtype or non-finite values")
        previous_out = W.shape[-1]
        params.append((W, b))
    if lead:
        history, diverged = arrays.get("loss_history_"), arrays.get("diverged_")
        if history is None or history.ndim != 2 or history.shape[1] != n_networks:
            raise ValueError(f"{path} is missing the stack's loss history (epochs, {n_networks})")
        if diverged is None or diverged.shape != lead or diverged.dtype != bool:
            raise ValueError(f"{path} is missing the stack's divergence flags ({n_networks},)")
    return params


def _required_entries(model_class: type) -> list[str]:
    """The fitted attributes a file must give ``model_class`` for its methods to work."""
    documented = getattr(model_class, "_fitted_attributes", {})
    wanted = ["n_features_in_", "n_iter_"]
    wanted += [name for name in ("classes_", "n_outputs_", "y_ndim_") if name in documented]
    wanted += [name for name in ("activations_", "loss_name_") if name in documented]
    return wanted


def _check_required(path: Path, name: str, metadata: dict[str, Any], arrays: dict) -> None:
    """ValueError naming the first entry a ``name`` model needs that the file lacks."""
    fitted = metadata.get("fitted", {})
    fitted = fitted if isinstance(fitted, dict) else {}
    for entry in _required_entries(_MODEL_CLASSES[name]):
        if entry not in fitted and entry not in arrays:
            raise ValueError(
                f"{path} is missing {entry!r}, which a fitted {name} needs; the file is "
                "incomplete or was not written by scratchml's save"
            )


def load(path: str | os.PathLike, backend: str = "numpy", device: Any = None) -> Any:
    """Restore a model written by ``save`` onto ``backend`` (any of backends.available()).

    Refuses pickled, corrupt, truncated and foreign files with a ValueError that says why.
    Snapshots (``history_``) are not saved; ``loss_history_`` is. On JAX without its
    64-bit mode, a float64 model is loaded in float32 (and integer labels in int32),
    as JAX makes every array it is given.

    Parameters
    ----------
    path : str or os.PathLike
        A file written by ``save``.
    backend : str
        The array library to put the parameters in ("numpy", "cupy", "torch", ...).
    device : optional
        Where the parameters (and ``classes_``) live: a library device object
        (``scratchml.backends.device(X)``) or a name such as "cuda:1" (CuPy, torch) or
        "device1" (array-api-strict). None: the library's default (for CuPy, the current
        GPU). The model then takes data on that device only; data on another device gets
        a ValueError saying how to move it.

    Returns
    -------
    estimator
        The fitted model, of the class that was saved.
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
    _check_required(path, name, metadata, arrays)
    is_stack = "n_networks" in getattr(classes[name], "_hyperparameters", {})
    if (metadata.get("n_networks") is not None) != is_stack:
        raise ValueError(f"{path} holds arrays that do not fit a {name}")
    hyperparameters = _saved_hyperparameters(path, metadata, arrays)
    try:
        model = classes[name](**hyperparameters)
    except TypeError as exc:
        raise ValueError(f"{path} has hyper-parameters {name} does not accept: {exc}") from exc

    def move(array: np.ndarray) -> Any:
        return backends.asarray(array, backend=backend, device=device)

    model.params_ = [(move(W), move(b)) for W, b in params]
    if "classes_" in arrays:
        labels = arrays["classes_"]
        # Labels are host data: numbers move with the model, strings stay NumPy arrays
        # (as a fit on data of that library with string labels keeps them).
        model.classes_ = move(labels) if labels.dtype.kind in "biuf" else labels
    if "feature_names_in_" in arrays:
        model.feature_names_in_ = arrays["feature_names_in_"].astype(object)
    for attribute, value in metadata.get("fitted", {}).items():
        if attribute in _FITTED_SCALARS:
            setattr(model, attribute, _from_json(value))
    if metadata.get("n_networks") is not None:
        model.loss_history_ = arrays["loss_history_"]
        model.diverged_ = arrays["diverged_"]
    else:
        model.loss_history_ = [float(v) for v in metadata.get("loss_history_", [])]
    model.history_ = []
    return model
