"""Scores of predictions: accuracy and the coefficient of determination R², written once.

Both work on one network's predictions ``(n_samples, ...)`` or a stack's
``(M, n_samples, ...)``, and return one score per network on the device (a 0-d
array for one network), so early stopping can score every epoch without a host read.
They are computed in the widest float the device has, so a float32 model's score
is not float32 rounding (an accuracy k/n is then exactly Python's k / n).
"""

from __future__ import annotations

from typing import Any

from . import backends


def accuracy(xp: Any, predicted: Any, y: Any) -> Any:
    """The fraction of samples whose label is predicted right, over the last axis: shape (...).

    Parameters
    ----------
    xp : namespace
        The arrays' Array API namespace.
    predicted, y : array (..., n_samples)
        Predicted and true labels (``y`` may lack the model axis).

    Returns
    -------
    array (...)
        k/n per network, in the widest float of the device; 0-d for one network.
    """
    wide = backends.widest_float(xp, backends.device(predicted))
    n_correct = xp.sum(xp.astype(predicted == y, wide), axis=-1)
    return n_correct / predicted.shape[-1]


def r2_score(xp: Any, Y: Any, prediction: Any) -> Any:
    """R² = 1 − SS_res / SS_tot per output, averaged over outputs: shape (...).

    ``Y`` and ``prediction`` are ``(..., n_samples, n_outputs)`` (Y may lack the model
    axis). A constant target has SS_tot = 0: it scores 1 if predicted exactly, else 0,
    as scikit-learn's ``r2_score`` does.

    Parameters
    ----------
    xp : namespace
        The arrays' Array API namespace.
    Y : array (..., n_samples, n_outputs)
        The targets.
    prediction : array (..., n_samples, n_outputs)
        The predictions.

    Returns
    -------
    array (...)
        R² per network, in the widest float of the device; 0-d for one network.
    """
    wide = backends.widest_float(xp, backends.device(prediction))
    Y, prediction = xp.astype(Y, wide), xp.astype(prediction, wide)
    ss_res = xp.sum((Y - prediction) ** 2, axis=-2)
    ss_tot = xp.sum((Y - xp.mean(Y, axis=-2, keepdims=True)) ** 2, axis=-2)
    safe = xp.where(ss_tot > 0, ss_tot, xp.ones_like(ss_tot))
    r2 = xp.where(ss_tot > 0, 1 - ss_res / safe, xp.astype(ss_res == 0, wide))
    return xp.mean(r2, axis=-1)
