"""A finished (or interrupted) sweep, from Python: its rows, configurations, curves and models."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
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
from .grid import Settings, check_grid, check_settings
from .report import (
    ReportSettings,
    check_report,
    configurations,
    network_of,
    smallest_first,
    two_key_cells,
    two_key_table,
)
from .rows import parse_row
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
        One per configuration (every grid key but the seed and the fold): successes on
        the judged split (k of n), mean / sd / min / max validation and test scores,
        the best network and its model file (as configs.csv).
    grid : dict
        The sweep's grid, as stored in sweep.json.
    settings : Settings
    curves : dict
        Row key → (epochs, training losses) of every network whose curve is saved.
    out : Path
    report : ReportSettings
        How success is judged (threshold, min_seeds, judge_on): the stored ones, or
        those given to ``load``.
    """

    rows: Any
    configs: Any
    grid: dict[str, list[Any]]
    settings: Settings
    curves: dict[tuple[str, ...], tuple[np.ndarray, np.ndarray]]
    out: Path
    report: ReportSettings = field(default_factory=ReportSettings)

    def _rows(self, rows: Any) -> Any:
        return self.rows if rows is None else rows

    def smallest_reliable(self, configs: Any = None) -> dict[str, Any] | None:
        """The reliable configuration with the fewest parameters (then the least deep,
        the narrowest, the best mean score on the judged split), or None.

        Parameters
        ----------
        configs : DataFrame or list of dict, optional
            A selection of ``configs`` (default: all of them).

        Returns
        -------
        dict or None
            Its row of ``configs`` (``CONFIG_COLUMNS``): successes k of ``networks`` on
            the judged split, mean ± sd of the validation and test scores, ...
        """
        reliable = [c for c in _records(self.configs if configs is None else configs)]
        reliable = [c for c in reliable if c["reliable"]]
        found = smallest_first(reliable, self.report.judge_on)
        return dict(found[0]) if found else None

    def table(
        self,
        row_key: str,
        column_key: str,
        split: str | None = None,
        rows: Any = None,
    ) -> str:
        """A markdown table of two keys: mean ± sd of the scores on ``split`` and k/n.

        Each cell pools every network with its two values (seeds, folds and the other
        keys marginalised); k counts those reaching the sweep's threshold.

        Parameters
        ----------
        row_key, column_key : str
            Keys of the grid (``"learning_rate"``, ``"l2"``, ``"depth"``, ...).
        split : {"validation", "test"}, optional
            The scores (default: the split success is judged on).
        rows : DataFrame or list of dict, optional
            A selection of ``rows`` (default: all of them).

        Returns
        -------
        str
            The table's markdown text.
        """
        lines = two_key_table(
            _records(self._rows(rows)),
            row_key,
            column_key,
            split or self.report.judge_on,
            self.report.threshold,
        )
        return "\n".join(lines)

    def cells(
        self,
        row_key: str,
        column_key: str,
        split: str | None = None,
        rows: Any = None,
    ) -> dict[tuple[Any, Any], dict[str, Any]]:
        """The numbers behind ``table``: (row value, column value) → n, mean, sd, min, successes.

        Parameters
        ----------
        row_key, column_key : str
            Keys of the grid.
        split : {"validation", "test"}, optional
            The scores (default: the split success is judged on).
        rows : DataFrame or list of dict, optional
            A selection of ``rows`` (default: all of them).

        Returns
        -------
        dict
            Per pair of values, ``{"n", "mean", "sd", "min", "successes"}``.
        """
        return two_key_cells(
            _records(self._rows(rows)),
            row_key,
            column_key,
            split or self.report.judge_on,
            self.report.threshold,
        )

    def heatmap(
        self,
        row_key: str = "depth",
        column_key: str = "width",
        path: str | Path | None = None,
        value: str = "mean",
        split: str | None = None,
        rows: Any = None,
        by: Any = (),
    ) -> Any:
        """A heatmap of two keys (``scratchml.viz.sweep_heatmap``), other keys pooled.

        Parameters
        ----------
        row_key, column_key : str
            The keys of the heatmap's rows and columns.
        path : str or Path, optional
            Where to save it.
        value : {"mean", "success_rate", "min"}
            What a cell shows.
        split : {"validation", "test"}, optional
            The scores (default: the split success is judged on).
        rows : DataFrame or list of dict, optional
            A selection of ``rows`` (default: all of them).
        by : sequence of str
            Keys that make panels (default none: the other keys are pooled).

        Returns
        -------
        Figure
            The heatmap's figure (also saved when ``path`` is given).
        """
        from ..viz.sweep import sweep_heatmap

        return sweep_heatmap(
            _records(self._rows(rows)),
            path,
            value,
            split=split or self.report.judge_on,
            threshold=self.report.threshold,
            axes=(row_key, column_key),
            by=list(by),
            task=self.settings.task,
            marginalise=True,
        )

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
    out: str | Path,
    threshold: float | None = None,
    min_seeds: int | None = None,
    judge_on: str | None = None,
) -> SweepData:
    """Read the sweep in ``out``.

    Parameters
    ----------
    out : str or Path
        A sweep's folder (results.csv and sweep.json).
    threshold : float, optional
        The score a network must reach on the judged split to succeed (default: the
        sweep's stored setting, else 0.95).
    min_seeds : int, optional
        Successful networks that make a configuration reliable (default: the stored
        setting, else all).
    judge_on : {"validation", "test"}, optional
        The split success is judged on (default: the stored setting, else validation).

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
    chosen = check_report(
        stored.get("report"), threshold=threshold, min_seeds=min_seeds, judge_on=judge_on
    )
    configs = configurations(
        text_rows, chosen.threshold, chosen.min_seeds, user, settings.task, chosen.judge_on
    )
    return SweepData(
        rows=_table([parse_row(row) for row in text_rows], out),
        configs=_table(configs, out),
        grid=grid,
        settings=settings,
        curves=read_curves(out),
        out=out,
        report=chosen,
    )


def _records(rows: Any) -> list[dict[str, Any]]:
    """Rows as a list of dicts, from a DataFrame or a list."""
    if hasattr(rows, "to_dict") and hasattr(rows, "columns"):
        return rows.to_dict("records")
    return list(rows)


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

    The row is reproduced by refitting the very stack it trained in — the same networks
    in the same order, recorded in ``OUT/stacks/`` — on the same data (its split and,
    with ``standardize``, its scaling), backend and dtype. On NumPy a network's numbers
    do not depend on its stack-mates, so its scores come back exactly; on PyTorch and
    JAX the same stack does.

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
