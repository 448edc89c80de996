"""A finished (or interrupted) sweep, from Python: its rows, configurations, curves and models."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from .chunks import network_data, stack_estimator
from .files import (
    RESULTS_FILE,
    format_cell,
    read_curves,
    read_data,
    read_results,
    read_stack,
    read_stored,
    row_key,
)
from .grid import DEFAULT_THRESHOLD, Settings, check_grid, check_settings
from .report import configurations, network_of, parse_row
from .userdata import UserData


def _table(records: list[dict[str, Any]], out: Path) -> Any:
    """A pandas DataFrame of the records when pandas is installed, else the list itself.

    The DataFrame remembers its sweep's folder (``attrs["sweep"]``, kept by selections
    and rows of it), so that ``model_for(row)`` finds the row's stack.
    """
    try:
        import pandas
    except ImportError:
        return records
    frame = pandas.DataFrame.from_records(records)
    frame.attrs["sweep"] = str(out)
    return frame


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
        from ..estimators.saving import load as load_model

        return load_model(self.out / str(config["model_file"]), backend=backend)

    def model_for(self, row: Mapping[str, Any], backend: str | None = None) -> Refit:
        """``model_for(row, out)`` for a row of this sweep: the stack it trained in, and its data.

        Parameters
        ----------
        row : mapping
            A row of ``rows`` (a dict, or a DataFrame's row).
        backend : str, optional
            Array library for the data (default: the row's; another one reproduces the
            row only up to rounding).

        Returns
        -------
        Refit
            ``(estimator, position, X, y, X_val, y_val, X_test, y_test)``; ``fit()``
            trains the stack again.
        """
        return model_for(row, self.out, backend)


def load(
    out: str | Path, threshold: float = DEFAULT_THRESHOLD, min_seeds: int | None = None
) -> SweepData:
    """Read the sweep in ``out``.

    Parameters
    ----------
    out : str or Path
        A sweep's folder (results.csv and sweep.json).
    threshold : float
        Test score a seed must reach for the configurations' success rate.
    min_seeds : int, optional
        Successful seeds that make a configuration reliable (default: all).

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
    settings = check_settings(**stored.get("settings", {}))
    grid = check_grid(stored["grid"], settings.on_spirals) if "grid" in stored else {}
    user = None if settings.on_spirals else UserData(*read_data(out))
    return SweepData(
        rows=_table([parse_row(row) for row in text_rows], out),
        configs=_table(configurations(text_rows, threshold, min_seeds, user, settings.task), out),
        grid=grid,
        settings=settings,
        curves=read_curves(out),
        out=out,
    )


class Refit(NamedTuple):
    """The stack a sweep's row trained in, unfitted, with the data it saw.

    ``fit()`` trains that stack again and returns it; network ``position`` of it is the
    row's network: ``stack.score(X_test, y_test)[position]`` is the row's test score
    and ``stack.model(position)`` the network as an ``MLPClassifier`` /
    ``MLPRegressor``.
    """

    estimator: Any  # a StackedMLPClassifier / StackedMLPRegressor, unfitted
    position: int  # the row's network in the stack
    X: Any
    y: Any
    X_val: Any
    y_val: Any
    X_test: Any
    y_test: Any

    def fit(self) -> Any:
        """Train the stack on (X, y) as the sweep did.

        Returns
        -------
        StackedMLPClassifier or StackedMLPRegressor
            ``estimator``, fitted; network ``position`` of it is the row's network.
        """
        return self.estimator.fit(self.X, self.y)


def model_for(
    row: Mapping[str, Any], out: str | Path | None = None, backend: str | None = None
) -> Refit:
    """The stack a sweep's row trained in, and its data: refitting reproduces the row.

    A network's arithmetic may depend on which networks share its stack (blocks of
    networks, the width of the products the speed paths fold them into), so the row
    is reproduced by refitting the very stack it trained in — the same networks in
    the same order, recorded in ``OUT/stacks/`` — on the same data, backend and dtype.

    Parameters
    ----------
    row : mapping
        A row of results.csv, of ``load(out).rows`` (a dict, or a DataFrame's row).
    out : str or Path, optional
        The sweep's folder; a row of ``load(out).rows`` (a pandas row) knows it.
    backend : str, optional
        Array library for the data (default: the row's; another one reproduces the
        row only up to rounding).

    Returns
    -------
    Refit
        ``(estimator, position, X, y, X_val, y_val, X_test, y_test)``.

    Examples
    --------
    >>> data = scratchml.sweep.load("sweeps/spirals")                # doctest: +SKIP
    >>> refit = data.model_for(data.rows.iloc[7])                     # doctest: +SKIP
    >>> refit.fit().score(refit.X_test, refit.y_test)[refit.position]  # doctest: +SKIP
    """
    if out is None:
        out = getattr(row, "attrs", {}).get("sweep")
        if out is None:
            raise ValueError("model_for needs the sweep's folder: model_for(row, out)")
    out = Path(out)
    parsed = parse_row(dict(row.items()))
    if not parsed.get("stack"):
        raise ValueError("the row names no stack: give a row of results.csv or load(out).rows")
    members = [network_of(parse_row(member)) for member in read_stack(out, parsed["stack"])]
    position = int(parsed["position"])
    if members[position] != network_of(parsed):
        raise ValueError(f"the row is not network {position} of its stack in {out}")
    stored = read_stored(out).get("settings", {})
    settings = check_settings(
        **{
            **stored,
            "epochs": parsed["epochs"],
            "batch_size": parsed["batch_size"],
            "backend": backend or parsed["backend"],
            "dtype": parsed["dtype"],
            "data_seed": parsed["data_seed"],
        }
    )
    user = None if settings.on_spirals else UserData(*read_data(out))
    split = network_data(members[0], settings, user)
    return Refit(stack_estimator(members, settings), position, *split)
