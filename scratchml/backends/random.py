"""Random numbers: the standard has none. Draw on the host with NumPy's Generator
(float64) and move, so one seed gives the same numbers on every library and device."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .arrays import asarray, backend_name, default_index, get


def check_seed(seed: Any) -> None:
    """TypeError unless ``seed`` is an int, a NumPy Generator or None (what ``rng`` takes).

    Parameters
    ----------
    seed : object
        The seed to check.

    Raises
    ------
    TypeError
        If ``seed`` is not an int, a NumPy Generator or None (a bool is refused).
    """
    if isinstance(seed, np.random.Generator) or seed is None:
        return
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an int, a numpy Generator or None, got {seed!r}")


def rng(seed: int | np.random.Generator | None) -> np.random.Generator:
    """A host random generator from a seed (an existing Generator is passed through).

    Parameters
    ----------
    seed : int, numpy.random.Generator or None
        The seed (None: fresh entropy), or a generator to use as is.

    Returns
    -------
    numpy.random.Generator
        ``seed`` itself if it is a Generator, else ``numpy.random.default_rng(seed)``.
    """
    if isinstance(seed, np.random.Generator):
        return seed
    check_seed(seed)
    return np.random.default_rng(seed)


def host_normal(generator: np.random.Generator, shape: Sequence[int], scale: float = 1.0) -> Any:
    """``random_normal``'s values, left on the host (NumPy float64).

    Parameters
    ----------
    generator : numpy.random.Generator
        The host generator to draw from (``rng(seed)``).
    shape : sequence of int
        The shape of the draw.
    scale : float, default 1.0
        The standard deviation.

    Returns
    -------
    numpy.ndarray
        Of ``shape``.
    """
    return generator.standard_normal(tuple(shape)) * scale


def host_orthogonal(generator: np.random.Generator, shape: Sequence[int], gain: float = 1.0) -> Any:
    """``random_orthogonal``'s values, left on the host (NumPy float64).

    Parameters
    ----------
    generator : numpy.random.Generator
        The host generator to draw from (``rng(seed)``).
    shape : sequence of int
        ``(..., rows, cols)``.
    gain : float, default 1.0
        The factor the orthogonal matrices are scaled by.

    Returns
    -------
    numpy.ndarray
        Of ``shape``: ``gain`` × Q of the QR decomposition of normal draws, the sign of each
        column fixed by R's diagonal so that the draw is uniform (Haar).
    """
    rows, cols = shape[-2], shape[-1]
    draws = generator.standard_normal(tuple(shape))
    tall = draws if rows >= cols else np.swapaxes(draws, -1, -2)
    q, r = np.linalg.qr(tall)
    q = q * np.sign(np.diagonal(r, axis1=-2, axis2=-1))[..., None, :]
    values = q if rows >= cols else np.swapaxes(q, -1, -2)
    return gain * values


def random_normal(
    generator: np.random.Generator,
    shape: Sequence[int],
    like: Any,
    scale: float = 1.0,
) -> Any:
    """Normal draws N(0, scale²) made on the host and moved next to ``like`` (its dtype).

    Parameters
    ----------
    generator : numpy.random.Generator
        The host generator to draw from (``rng(seed)``).
    shape : sequence of int
        The shape of the draw.
    like : array
        The result takes its namespace, device and floating dtype.
    scale : float, default 1.0
        The standard deviation.

    Returns
    -------
    array
        Of ``shape``.
    """
    return asarray(host_normal(generator, shape, scale), like=like)


def random_orthogonal(
    generator: np.random.Generator,
    shape: Sequence[int],
    like: Any,
    gain: float = 1.0,
) -> Any:
    """``gain`` × a random matrix with orthonormal rows or columns (QR of normal draws, on the host).

    Works on stacks (..., rows, cols); the sign fix makes the draw uniform (Haar).

    Parameters
    ----------
    generator : numpy.random.Generator
        The host generator to draw from (``rng(seed)``).
    shape : sequence of int
        ``(..., rows, cols)``.
    like : array
        The result takes its namespace, device and floating dtype.
    gain : float, default 1.0
        The factor the orthogonal matrices are scaled by.

    Returns
    -------
    array
        Of ``shape``.
    """
    return asarray(host_orthogonal(generator, shape, gain), like=like)


def permutation(generator: np.random.Generator, n: int, like: Any) -> Any:
    """A random permutation of ``range(n)`` made on the host, as an index array beside ``like``.

    Parameters
    ----------
    generator : numpy.random.Generator
        The host generator to draw from (``rng(seed)``).
    n : int
        The number of indices.
    like : array
        The result takes its namespace and device.

    Returns
    -------
    array
        Shape ``(n,)``, in the namespace's default index dtype (int64; int32 on JAX
        without x64).
    """
    order = generator.permutation(n)
    return asarray(order, like=like, dtype=default_index(get(backend_name(like))))
