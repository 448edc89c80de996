"""Namespaces, conversion and dtypes: what every public function of scratchml starts with."""

from __future__ import annotations

from typing import Any

import array_api_compat
import numpy as np

from .base import SCALARS
from .registry import library, library_name_of, library_of, why_unavailable


def is_array(x: Any) -> bool:
    """True if ``x`` is an array of any library the standard covers.

    Parameters
    ----------
    x : object
        Any object.

    Returns
    -------
    bool
        Whether ``x`` is an array of NumPy, CuPy, PyTorch, JAX or array-api-strict.
    """
    return library_name_of(x) is not None


def backend_name(x: Any) -> str:
    """Name of the backend an array belongs to ("numpy", "torch", ...).

    Parameters
    ----------
    x : array
        An array of any supported library.

    Returns
    -------
    str
        The backend's name, as ``get`` takes it.

    Raises
    ------
    TypeError
        If ``x`` is not an array.
    """
    name = library_name_of(x)
    if name is None:
        raise TypeError(f"expected an array, got {type(x).__name__}")
    return name


def namespace(*arrays: Any) -> Any:
    """The Array API namespace shared by ``arrays`` (None and Python scalars are ignored).

    Parameters
    ----------
    *arrays : array, None or Python scalar
        The arguments of a function; None and Python scalars are skipped.

    Returns
    -------
    module
        The namespace (array-api-compat's ``array_namespace`` of the arrays).

    Raises
    ------
    TypeError
        Naming both libraries when arrays of different libraries are mixed, and when no
        argument is an array at all.
    """
    found: dict[str, Any] = {}
    for x in arrays:
        if x is None or isinstance(x, SCALARS):
            continue
        name = library_name_of(x)
        if name is None:
            raise TypeError(
                f"expected arrays (numpy, cupy, torch, jax or array_api_strict), got {type(x).__name__}"
            )
        found.setdefault(name, x)
    if not found:
        raise TypeError("namespace() needs at least one array")
    if len(found) > 1:
        names = sorted(found)
        raise TypeError(
            f"arrays from different libraries were mixed: {' and '.join(names)}; "
            "convert them with scratchml.backends.asarray(..., backend=...) first"
        )
    return array_api_compat.array_namespace(*found.values())


def device(x: Any) -> Any:
    """The device an array lives on.

    Parameters
    ----------
    x : array
        An array of any supported library.

    Returns
    -------
    object
        The library's device object (``"cpu"`` for NumPy).
    """
    return array_api_compat.device(x)


def get(name: str) -> Any:
    """The Array API namespace of backend ``name`` ("numpy", "cupy", "torch", "jax", "array_api_strict").

    Parameters
    ----------
    name : str
        "numpy", "cupy", "torch", "jax" or "array_api_strict".

    Returns
    -------
    module
        The backend's Array API namespace (array-api-compat's wrapper where needed).

    Raises
    ------
    ValueError
        For an unknown name (the valid ones are listed).
    RuntimeError
        If the backend is not usable here (saying why).
    """
    found = library(name)
    reason = why_unavailable(name)
    if reason:
        raise RuntimeError(f"backend {name!r} is not usable here: {reason}")
    return found.namespace()


def _resolve_dtype(xp: Any, dtype: Any) -> Any:
    if dtype is None or not isinstance(dtype, str):
        return dtype
    valid = ("float32", "float64", "int32", "int64", "bool")
    if dtype not in valid:
        raise ValueError(f"unknown dtype {dtype!r}; valid dtypes are {', '.join(valid)}")
    return getattr(xp, dtype)


def asarray(
    obj: Any,
    backend: str | None = None,
    dtype: Any = None,
    device: Any = None,
    like: Any = None,
) -> Any:
    """Convert ``obj`` (an array of any library, a list, a scalar) to an array of ``backend``.

    Arrays of another library cross through one host copy.

    Parameters
    ----------
    obj : array, nested sequence or scalar
        The data: an array of any supported library, a (nested) list, or a scalar.
    backend : str, optional
        The library of the result; without ``backend`` or ``like``, NumPy.
    dtype : dtype or str, optional
        ``"float32"``, ``"float64"``, ``"int32"``, ``"int64"``, ``"bool"`` or a dtype of the
        library.
    device : object or str, optional
        The library's device, or its name: ``"cpu"``, ``"cuda"`` (the *current* CUDA
        device), ``"cuda:1"``; JAX also takes ``"gpu"``.
    like : array, optional
        Put the result in the namespace and on the device of ``like`` (and, when ``dtype``
        is not given and ``obj`` is floating, in ``like``'s dtype).

    Returns
    -------
    array
        An array of the backend's namespace, on ``device``, in ``dtype``.
    """
    if like is not None:
        if backend is not None:
            raise ValueError("give either backend= or like=, not both")
        backend = backend_name(like)
        device = array_api_compat.device(like) if device is None else device
    name = backend or "numpy"
    xp = get(name)
    target = library(name)
    dtype = _resolve_dtype(xp, dtype)
    device = target.as_device(device)
    source = library_name_of(obj)
    if source is not None and source != name:
        obj = to_numpy(obj)
    if like is not None and dtype is None:
        like_float = xp.isdtype(like.dtype, "real floating")
        obj_float = (
            xp.isdtype(obj.dtype, "real floating")
            if source == name
            else np.issubdtype(np.asarray(obj).dtype, np.floating)
        )
        if like_float and obj_float:
            dtype = like.dtype
    target.check_dtype(dtype)
    return target.asarray(obj, dtype, device)


def to_numpy(x: Any) -> np.ndarray:
    """One host copy of ``x`` as a NumPy array (for plots and files).

    Parameters
    ----------
    x : array or array-like
        An array of any supported library, on any device, or host data.

    Returns
    -------
    numpy.ndarray
        The values on the host (a copy where ``x`` lives elsewhere).
    """
    found = library_of(x)
    return np.asarray(x) if found is None else found.to_numpy(x)


def default_float(xp: Any, device: Any = None) -> Any:
    """The namespace's default real floating dtype (what integer input is promoted to).

    Parameters
    ----------
    xp : module
        An Array API namespace.
    device : object, optional
        The device the dtype is for (the default device if None).

    Returns
    -------
    dtype
        The namespace's default real floating dtype on that device.
    """
    return xp.__array_namespace_info__().default_dtypes(device=device)["real floating"]


def default_index(xp: Any, device: Any = None) -> Any:
    """The namespace's default dtype for indices and class labels (int64; JAX: int32 unless x64).

    Parameters
    ----------
    xp : module
        An Array API namespace.
    device : object, optional
        The device the dtype is for (the default device if None).

    Returns
    -------
    dtype
        The namespace's default indexing dtype on that device.
    """
    return xp.__array_namespace_info__().default_dtypes(device=device)["indexing"]


def widest_float(xp: Any, device: Any = None) -> Any:
    """float64 where the device has it (for exact-enough scores), else the default float.

    Parameters
    ----------
    xp : module
        An Array API namespace.
    device : object, optional
        The device the dtype is for (the default device if None).

    Returns
    -------
    dtype
        float64 if the device supports it, else the default real floating dtype.
    """
    dtypes = xp.__array_namespace_info__().dtypes(device=device, kind="real floating")
    return dtypes.get("float64", default_float(xp, device))


def quiet_float_warnings() -> Any:
    """A context in which NumPy does not warn about overflow or invalid values.

    Training checks the loss for NaN and infinity itself and raises DivergenceError
    with the epoch and loss, so NumPy's ``RuntimeWarning: overflow encountered`` on
    the way there is noise. NumPy (and array-api-strict, which computes with it)
    are the libraries that warn; the others stay silent anyway.

    Returns
    -------
    contextlib.AbstractContextManager
        ``numpy.errstate`` ignoring overflow, invalid values and division by zero.
    """
    return np.errstate(over="ignore", invalid="ignore", divide="ignore")
