"""Sweeps on the user's own data: reading a file, the held-out split or the k folds."""

from __future__ import annotations

import csv
import hashlib
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

# A held-out split: this share of the rows for the test set, as much again for validation.
HELD_OUT_SHARE = 0.2
# A network is "at chance" when it closes less than this share of the gap between chance
# (the majority class's share, or R² = 0) and a perfect training score.
CHANCE_MARGIN = 0.1


class UserData(NamedTuple):
    """The user's data, on the host: features (n, d) and targets (n,) or (n, k).

    Parameters
    ----------
    X : numpy.ndarray
        The features, (n_samples, n_features), float64.
    y : numpy.ndarray
        The targets: a classifier's class indices 0 … k−1, (n_samples,) int64; a
        regressor's real targets, (n_samples,) or (n_samples, n_outputs) float64.
    """

    X: np.ndarray
    y: np.ndarray

    @property
    def n_features(self) -> int:
        """Columns of X: the networks' inputs."""
        return int(self.X.shape[1])

    def n_outputs(self, task: str) -> int:
        """Output units: one logit for two classes, k for k classes; the targets' columns.

        Parameters
        ----------
        task : {"classifier", "regressor"}
            What the networks learn from ``y``.

        Returns
        -------
        int
            A classifier's: 1 for two classes, else the number of classes in ``y``. A
            regressor's: 1 for a 1-D ``y``, else its columns.
        """
        if task == "regressor":
            return 1 if self.y.ndim == 1 else int(self.y.shape[1])
        n_classes = len(np.unique(self.y))
        return 1 if n_classes == 2 else n_classes


def check_data(X: Any, y: Any, task: str | None = None) -> tuple[UserData, str]:
    """The user's X, y as host arrays, and the task (a classifier unless y is real-valued).

    Parameters
    ----------
    X : array
        The features, (n_samples, n_features), at least 10 rows of finite numbers; any
        array library (copied to the host).
    y : array
        The targets: (n_samples,) class labels (numbers or text), or real targets of shape
        (n_samples,) or (n_samples, n_outputs).
    task : {"classifier", "regressor", "auto"}, optional
        What the networks learn. None or "auto": a regressor when ``y`` holds reals that
        are not all whole numbers, else a classifier.

    Returns
    -------
    data : UserData
        X as float64; a classifier's y as class indices 0 … k−1 (int64, the labels in
        sorted order), a regressor's as float64.
    task : str
        "classifier" or "regressor": ``task``, or the one chosen from ``y``.

    Raises
    ------
    ValueError
        X not 2-D, y not 1-D or 2-D, lengths that differ, too few rows, non-finite values,
        a regression target that is not numeric.
    """
    from .. import backends

    X = np.asarray(backends.to_numpy(X) if not isinstance(X, np.ndarray) else X)
    y = np.asarray(backends.to_numpy(y) if not isinstance(y, np.ndarray) else y)
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D (n_samples, n_features); got shape {X.shape}")
    if y.ndim not in (1, 2) or len(y) != len(X):
        raise ValueError(
            f"y must be (n_samples,) or (n_samples, n_outputs) with n_samples = {len(X)}; "
            f"got shape {y.shape}"
        )
    if len(X) < 10:
        raise ValueError(
            f"X has {len(X)} rows; a sweep needs at least 10 (train, validation, test)"
        )
    if not np.issubdtype(X.dtype, np.number) or not np.isfinite(X).all():
        raise ValueError("X must hold finite numbers")
    if task is None or task == "auto":
        real = np.issubdtype(y.dtype, np.floating) and not np.all(np.mod(y, 1) == 0)
        task = "regressor" if real else "classifier"
    if task == "classifier":
        if y.ndim != 1:
            raise ValueError(f"a classifier's y must be 1-D class labels; got shape {y.shape}")
        if np.issubdtype(y.dtype, np.floating) and not np.isfinite(y).all():
            row = int(np.flatnonzero(~np.isfinite(y))[0])
            raise ValueError(
                f"y[{row}] is {y[row]}: a class label must be a value, not NaN or infinity"
            )
        _, y = np.unique(y, return_inverse=True)  # labels → 0 … k−1, in sorted order
        if y.max() < 1:
            raise ValueError("y holds a single class; a classifier needs at least two")
    elif not np.issubdtype(y.dtype, np.number) or not np.isfinite(y).all():
        raise ValueError("a regressor's y must hold finite numbers")
    return UserData(
        X.astype(np.float64), y.astype(np.int64 if task == "classifier" else np.float64)
    ), task


def read_file(path: str | Path, target: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """X and y from a ``.npz`` (arrays ``X`` and ``y``, or ``target`` for y) or a ``.csv``.

    A CSV file has a header line; ``target`` names the column of y, every other column
    is a numeric feature; y may be text (class names).

    Parameters
    ----------
    path : str or Path
        The file, ``.npz`` or ``.csv`` (the suffix decides).
    target : str, optional
        The name of y: for a ``.npz`` file the array (default ``"y"``); for a ``.csv``
        file the column, which must be given.

    Returns
    -------
    X : numpy.ndarray
        The features, (n_samples, n_features) (float64 from a CSV file).
    y : numpy.ndarray
        The targets as stored, (n_samples,) or (n_samples, n_outputs); from a CSV file,
        (n_samples,) floats or, when a cell is not a number, strings.

    Raises
    ------
    ValueError
        A missing or unreadable file, an unknown suffix, a missing array or column (the
        ones there are listed), a feature cell that is not a number.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"data file {path} does not exist")
    suffix = path.suffix.lower()
    if suffix == ".npz":
        return _read_npz(path, target or "y")
    if suffix != ".csv":
        raise ValueError(f"data file {path}: expected a .npz or .csv file")
    if target is None:
        raise ValueError(f"data file {path} is a CSV file: name the target column (--target)")
    return _read_csv(path, target)


def _read_npz(path: Path, y_name: str) -> tuple[np.ndarray, np.ndarray]:
    """Arrays ``X`` and ``y_name`` of a ``.npz`` file, X 2-D with rows, both finite."""
    try:
        with np.load(path, allow_pickle=False) as saved:
            names = list(saved.files)
            if "X" not in names or y_name not in names:
                raise ValueError(
                    f"data file {path} must hold arrays 'X' and {y_name!r}; it holds "
                    f"{', '.join(names) or 'none'}"
                )
            X, y = saved["X"], saved[y_name]
    except (OSError, ValueError) as exc:
        if "must hold" in str(exc):
            raise
        raise ValueError(f"data file {path} cannot be read as .npz: {exc}") from None
    if X.ndim != 2 or X.shape[0] == 0:
        raise ValueError(
            f"data file {path}: X must be a 2-D array with rows (n_samples, "
            f"n_features); it has shape {X.shape}"
        )
    _check_finite(path, "X", X)
    _check_finite(path, y_name, y)
    return X, y


def _read_csv(path: Path, target: str) -> tuple[np.ndarray, np.ndarray]:
    """The numeric feature columns and the ``target`` column of a CSV file with a header."""
    header, body = _csv_rows(path, target)
    column = header.index(target)
    features = [i for i in range(len(header)) if i != column]
    X = np.empty((len(body), len(features)), dtype=np.float64)
    labels = []
    for row, (line, cells) in enumerate(body):
        if len(cells) != len(header):
            raise ValueError(
                f"data file {path}, row {row + 1} (line {line}): {len(cells)} cells, but the "
                f"header has {len(header)} columns"
            )
        for j, i in enumerate(features):
            X[row, j] = _number(cells[i], path, header[i], row, line)
        labels.append(cells[column].strip())
    return X, _csv_target(path, target, labels, [line for line, _ in body])


def _csv_rows(path: Path, target: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """A CSV file's header and its non-empty rows (with their line numbers)."""
    try:
        with path.open(encoding="utf-8", newline="") as file:
            rows = list(csv.reader(file))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ValueError(f"data file {path} cannot be read as CSV: {exc}") from None
    if not rows:
        raise ValueError(f"data file {path} is empty")
    header = rows[0]
    body = [(line, r) for line, r in enumerate(rows[1:], start=2) if r]
    if target not in header:
        raise ValueError(
            f"data file {path} has no column {target!r}; its columns are {', '.join(header)}"
        )
    if not body:
        raise ValueError(f"data file {path} has a header but no rows of data")
    return header, body


def _csv_target(path: Path, target: str, labels: list[str], lines: list[int]) -> np.ndarray:
    """y from the target column's cells: finite numbers, else class names; none missing."""
    missing = [row for row, label in enumerate(labels) if label.lower() in ("", "nan", "na")]
    if missing:
        row = missing[0]
        raise ValueError(
            f"data file {path}, column {target!r}, row {row + 1} (line {lines[row]}): the "
            f"target is missing ({labels[row]!r}); remove the row or fill it in"
        )
    try:
        y = np.array([float(v) for v in labels])
    except ValueError:
        return np.array(labels)  # class names
    bad = np.flatnonzero(~np.isfinite(y))
    if bad.size:
        row = int(bad[0])
        raise ValueError(
            f"data file {path}, column {target!r}, row {row + 1} (line {lines[row]}): "
            f"{labels[row]!r} is not a finite number"
        )
    return y


def _number(cell: str, path: Path, column: str, row: int, line: int) -> float:
    """A feature cell as a finite float; ValueError naming the file, column and row."""
    where = f"data file {path}, column {column!r}, row {row + 1} (line {line})"
    if not cell.strip():
        raise ValueError(f"{where}: the cell is empty; every feature must be a number")
    try:
        value = float(cell)
    except ValueError:
        raise ValueError(f"{where}: {cell!r} is not a number") from None
    if not math.isfinite(value):
        raise ValueError(f"{where}: {cell!r} is not a finite number")
    return value


def _check_finite(path: Path, name: str, array: np.ndarray) -> None:
    """ValueError naming the file, array and first index of a non-finite number in it."""
    if not np.issubdtype(array.dtype, np.number):
        return
    bad = np.argwhere(~np.isfinite(array))
    if bad.size:
        index = tuple(int(i) for i in bad[0])
        shown = ", ".join(map(str, index))
        raise ValueError(
            f"data file {path}: {name}[{shown}] is {array[index]}; every value must be finite"
        )


def standardizer(X_train: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """Scaling by the training rows' statistics: (X − mean) / sd, per feature.

    A feature constant on the training rows keeps scale 1 (it is only centred), as in
    scikit-learn's ``StandardScaler``. Validation and test rows are scaled with the
    training rows' mean and sd, so their statistics never reach training.

    Parameters
    ----------
    X_train : numpy.ndarray of shape (n_train, n_features)
        The training rows of one split (fold).

    Returns
    -------
    callable
        ``scale(X) -> (X − mean) / sd`` for any rows of the data, float64.
    """
    mean = X_train.mean(axis=0)
    sd = X_train.std(axis=0)
    sd = np.where(sd > 0, sd, 1.0)
    return lambda X: (np.asarray(X, dtype=np.float64) - mean) / sd


def fingerprint(name: str, data: UserData) -> str:
    """What a sweep's rows say about its data: a name and a hash of the values.

    Parameters
    ----------
    name : str
        What the user calls the data.
    data : UserData
        The checked data (``check_data``); the hash covers the bytes of X and y.

    Returns
    -------
    str
        ``"name#hash"``, the hash the first 10 hex digits of the SHA-1 of X and y.
    """
    digest = hashlib.sha1(np.ascontiguousarray(data.X).tobytes())
    digest.update(np.ascontiguousarray(data.y).tobytes())
    return f"{name}#{digest.hexdigest()[:10]}"


def split(n: int, folds: int, fold: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row indices (train, validation, test) of one split of n rows, shuffled by ``seed``.

    ``folds = 0``: one held-out split — 20% test, 20% validation, the rest training.
    ``folds = k ≥ 3``: k parts; fold i tests on part i, validates on part i+1 (mod k) and
    trains on the others.

    Parameters
    ----------
    n : int
        Rows of the data.
    folds : int
        0 for one held-out split, k ≥ 3 for k-fold.
    fold : int
        Which fold, 0 … k−1 (ignored when ``folds`` is 0).
    seed : int
        Seed of the shuffle; every fold of one seed cuts the same shuffled order, so
        that the k folds' test parts cover every row once.

    Returns
    -------
    train : numpy.ndarray
        The training rows' indices, (n_train,) int64.
    validation : numpy.ndarray
        The validation rows' indices, (n_validation,) int64.
    test : numpy.ndarray
        The test rows' indices, (n_test,) int64; the three are disjoint and together
        hold every row once.
    """
    order = np.random.default_rng(seed).permutation(n)
    if folds == 0:
        held = max(1, round(HELD_OUT_SHARE * n))
        return order[2 * held :], order[held : 2 * held], order[:held]
    parts = np.array_split(order, folds)
    test, validation = parts[fold], parts[(fold + 1) % folds]
    train = np.concatenate([p for i, p in enumerate(parts) if i not in (fold, (fold + 1) % folds)])
    return train, validation, test


def chance_level(y_train: np.ndarray, task: str) -> float:
    """The training score of a network that learned nothing: the majority share, or R² = 0.

    Parameters
    ----------
    y_train : numpy.ndarray
        The training targets: class indices (n_train,), or a regressor's targets.
    task : {"classifier", "regressor"}
        What the networks learn.

    Returns
    -------
    float
        A classifier's: the share of the most frequent class in ``y_train``; a
        regressor's: 0.0 (the R² of predicting the mean).
    """
    if task == "regressor":
        return 0.0
    return float(np.bincount(np.asarray(y_train, dtype=np.int64)).max() / len(y_train))


def at_chance(train_score: float, chance: float) -> bool:
    """Whether a training score closes less than ``CHANCE_MARGIN`` of the gap above chance.

    Parameters
    ----------
    train_score : float
        A network's score on its training rows (accuracy or R²).
    chance : float
        The score of learning nothing (``chance_level``).

    Returns
    -------
    bool
        True when ``train_score < chance + CHANCE_MARGIN · (1 − chance)``.
    """
    return bool(train_score < chance + CHANCE_MARGIN * (1.0 - chance))
