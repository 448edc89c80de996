"""A finished (or interrupted) sweep, from Python: its rows, configurations, curves and models."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from .chunks import spirals
from .files import RESULTS_FILE, format_cell, read_curves, read_results, read_stored, row_key
from .grid import DEFAULT_THRESHOLD, Settings, check_grid, check_settings
from .report import configurations, network_of, parse_row


def _table(records: list[dict[str, Any]]) -> Any:
    """A pandas DataFrame of the records when pandas is installed, else the list itself."""
    try:
        import pandas
    except ImportError:
        return records
    return pandas.DataFrame.from_records(records)


@dataclass
class SweepData:
    """What ``load`` returns.

    Attributes
    ----------
    rows : DataFrame or list of dict
        One per network (results.csv, values typed).
    configs : DataFrame or list of dict
        One per configuration (every grid key but the seed): success rate, mean / min /
        max test accuracy over seeds, best seed and its model file (as configs.csv).
    grid : dict
        The sweep's grid, as stored in sweep.json.
    settings : Settings
    curves : dict
        Row key → (epochs, training losses) of every network whose curve is saved.
    out : Path
    """

    rows: Any
    configs: Any
    grid: dict[str, list[Any]]
    settings: Settings
    curves: dict[tuple[str, ...], tuple[np.ndarray, np.ndarray]]
    out: Path

    def curve(self, row: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray]:
        """(epochs, training loss) of a row's network (1-based epochs, every k of them).

        Parameters
        ----------
        row : mapping
            A row of ``rows``.

        Returns
        -------
        epochs : numpy.ndarray
            The epochs whose loss was kept.
        losses : numpy.ndarray
            The training loss at each.
        """
        key = row_key({k: format_cell(v) for k, v in parse_row(dict(row)).items()})
        if key not in self.curves:
            raise KeyError(f"no saved loss curve for this row in {self.out}")
        return self.curves[key]

    def model(self, config: Mapping[str, Any], backend: str = "numpy") -> Any:
        """The saved best network of a configuration (a row of ``configs``), fitted.

        Parameters
        ----------
        config : mapping
            A row of ``configs``.
        backend : str, default "numpy"
            The backend to load it on.

        Returns
        -------
        MLPClassifier
            The fitted network.
        """
        from ..io import load as load_model

        return load_model(self.out / str(config["model_file"]), backend=backend)


def load(out: str | Path, threshold: float = DEFAULT_THRESHOLD) -> SweepData:
    """Read the sweep in ``out``.

    Parameters
    ----------
    out : str or Path
        A sweep's folder (results.csv and sweep.json).
    threshold : float
        Test accuracy a seed must reach for the configurations' success rate.

    Returns
    -------
    SweepData
        ``rows`` and ``configs`` are pandas DataFrames when pandas is installed, else
        lists of dicts; filter them and pass them to ``scratchml.viz.sweep_heatmap``.

    Examples
    --------
    >>> sweep = scratchml.sweep.load("sweeps/spirals")            # doctest: +SKIP
    >>> c = sweep.configs
    >>> c[(c.arms == 3) & (c.turns == 1.5) & (c.success_rate == 1)]  # doctest: +SKIP
    """
    out = Path(out)
    if not (out / RESULTS_FILE).exists():
        raise FileNotFoundError(f"{out} holds no sweep: {out / RESULTS_FILE} does not exist")
    text_rows = read_results(out / RESULTS_FILE)
    stored = read_stored(out)
    grid = check_grid(stored["grid"]) if "grid" in stored else {}
    settings = check_settings(**stored.get("settings", {}))
    return SweepData(
        rows=_table([parse_row(row) for row in text_rows]),
        configs=_table(configurations(text_rows, threshold)),
        grid=grid,
        settings=settings,
        curves=read_curves(out),
        out=out,
    )


class Refit(NamedTuple):
    """An unfitted estimator set up as a sweep's network, and its data."""

    estimator: Any  # an MLPClassifier
    X: Any
    y: Any
    X_test: Any
    y_test: Any


def model_for(row: Mapping[str, Any], backend: str | None = None) -> Refit:
    """The exact estimator and data of a sweep's row: ``estimator.fit(X, y)`` reproduces it.

    The network is an ``MLPClassifier`` with the row's architecture, optimizer,
    learning rate, l2, seed, epochs and batch size, training every epoch (``tol=None``)
    as a stack does; the data are the row's spirals with its data seed (test: the
    held-out draw with seed ``data_seed + 1``). Network i of a stack equals it up to
    floating-point rounding.

    Parameters
    ----------
    row : mapping
        A row of results.csv, of ``load(out).rows`` (a dict, or a DataFrame's row).
    backend : str, optional
        Array library for the data (default: the row's).

    Returns
    -------
    Refit
        ``(estimator, X, y, X_test, y_test)``.
    """
    from ..nn import MLPClassifier

    parsed = parse_row(dict(row.items()))
    network = network_of(parsed)
    settings = check_settings(
        epochs=parsed["epochs"],
        batch_size=parsed["batch_size"],
        backend=backend or parsed["backend"],
        dtype=parsed["dtype"],
        data_seed=parsed["data_seed"],
    )
    estimator = MLPClassifier(
        hidden_layers=(network.width,) * network.depth,
        activation=network.activation,
        optimizer=network.optimizer,
        learning_rate=network.learning_rate,
        epochs=settings.epochs,
        batch_size=settings.batch_size,
        l2=network.l2,
        seed=network.seed,
        tol=None,
    )
    X, y = spirals(network, settings, settings.data_seed)
    X_test, y_test = spirals(network, settings, settings.data_seed + 1)
    return Refit(estimator, X, y, X_test, y_test)
