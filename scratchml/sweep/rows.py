"""A sweep's rows as Python values: results.csv holds text; the report, the loaded sweep and
the pictures (``scratchml.viz.sweep``, which draws the rows it is given) work on numbers."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .files import format_cell, read_results
from .grid import OPTIMIZER_KEYS

_INTEGERS = {
    "arms",
    "n_samples",
    "fold",
    "depth",
    "width",
    "seed",
    "epochs",
    "data_seed",
    "position",
}
_FLOATS = {
    "turns", "noise", *OPTIMIZER_KEYS, "learning_rate", "l2",
    "final_loss", "train_accuracy", "validation_accuracy", "test_accuracy", "seconds",
}  # fmt: skip
_OPTIONAL = {"arms", "turns", "noise", "n_samples", *OPTIMIZER_KEYS}


def parse_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """A row of results.csv (text) with its values as Python ints, floats, bools and None.

    Parameters
    ----------
    row : mapping
        Column → cell, as text (or already parsed: parsing again changes nothing).

    Returns
    -------
    dict
        Column → value; an optional key's empty cell (or NaN) is None.
    """
    parsed: dict[str, Any] = {}
    for column, value in row.items():
        text = format_cell(value)
        if column in _OPTIONAL and text in ("", "nan", "None"):
            parsed[column] = None
        elif column in _INTEGERS:
            parsed[column] = int(text)
        elif column in _FLOATS:
            parsed[column] = float(text)
        elif column == "batch_size":
            parsed[column] = None if text in ("", "nan", "None") else int(float(text))
        elif column in ("diverged", "at_chance", "reliable"):
            parsed[column] = text == "True"
        else:
            parsed[column] = text
    return parsed


def as_rows(results: Any) -> list[dict[str, Any]]:
    """Rows as parsed dicts, from a list of mappings or a pandas DataFrame.

    Parameters
    ----------
    results : DataFrame or iterable of mappings
        Rows of a results.csv, as text or already parsed.

    Returns
    -------
    list of dict
        Each row as ``parse_row`` gives it.
    """
    if hasattr(results, "to_dict") and hasattr(results, "columns"):
        results = results.to_dict("records")
    return [parse_row(row) for row in results]


def read_rows(results: Any) -> list[dict[str, Any]]:
    """Parsed rows from a results.csv path, a pandas DataFrame or an iterable of mappings.

    What the pictures of ``scratchml.viz`` (``sweep_heatmap``, ...) draw.

    Parameters
    ----------
    results : str, Path, DataFrame or iterable of mappings
        A sweep's results.csv, or its rows (text or parsed).

    Returns
    -------
    list of dict
        Each row with its values as Python ints, floats, bools and None.
    """
    if isinstance(results, (str, Path)):
        results = read_results(results)
    return as_rows(results)
