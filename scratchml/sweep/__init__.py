"""Sweeps: a grid of networks on spirals or on your data, trained as stacks, resumable.

A sweep asks how the data (``arms``, ``turns``, ``noise``, ``n_samples``) and the network
(``depth``, ``width``, ``activation``, ``optimizer``, ``learning_rate``, ``l2``, ``seeds``)
decide whether a network separates the spirals, and how reliably over seeds. The grid is
the product of the values given for each key; every point of it is one network.
Networks sharing a data set and an architecture differ only in learning rate, L2 and
seed, so they are trained together as one ``StackedMLPClassifier``: a *chunk*.
On your own data (``run(X, y, grid)``, ``scratchml sweep --data FILE``) the data keys
give way to a held-out split or k folds, and the networks may be regressors.

Nothing is lost: every chunk's rows are appended to ``results.csv`` and synced before
the next chunk is reported, with its loss curves and best models; ``resume=True``
trains only the networks without a row. Chunks are made the same way on every run
(the grid, settings and chunk size are kept in ``sweep.json``), data and networks are
seeded from the grid alone, and the finished file is sorted in grid order, so a resumed
sweep ends with the same rows as an uninterrupted one (all columns but ``seconds``).
Chunks run in this process, or on a ``dask.distributed`` cluster: the same rows.

    from scratchml import sweep
    sweep.run({"depth": [1, 2, 3], "width": [2, 4, 8], "seeds": 4}, out="sweeps/first")
    data = sweep.load("sweeps/first")       # rows, configs (DataFrames with pandas), curves
    refit = data.model_for(data.rows.iloc[0])   # the stack a row trained in, and its data
    sweep.run(X, y, {"depth": [1, 2], "width": [8, 32]}, out="sweeps/mine", folds=5)

The modules: ``grid`` (keys, checks, expansion, TOML), ``chunks`` (sizes, training one
stack, executors), ``files`` (results.csv, sweep.json, curves, models), ``report``
(configurations, configs.csv, summary.md), ``runner`` (``run``), ``loading``,
``userdata`` (reading a data file, splits, chance level).
"""

from .chunks import (
    CHUNK_FLOPS,
    Chunk,
    ChunkResult,
    chunk_sizes,
    default_chunk_size,
    make_chunks,
    n_parameters,
    network_bytes,
    network_data,
    network_epoch_flops,
    stack_estimator,
    train_chunk,
)
from .files import COLUMNS, KEY_COLUMNS, METRIC_COLUMNS, read_results
from .grid import (
    ARCHITECTURE_KEYS,
    DATA_KEYS,
    DEFAULT_EPOCHS,
    DEFAULT_GRID,
    DEFAULT_THRESHOLD,
    GRID_KEYS,
    JUDGE_SPLITS,
    OPTIMIZER_KEYS,
    REPORT_KEYS,
    SETTING_KEYS,
    VALUE_RULES,
    Network,
    Settings,
    check_grid,
    check_settings,
    check_values,
    expand,
    load_config,
)
from .loading import Refit, SweepData, load, model_for
from .report import CONFIG_COLUMNS, ReportSettings, check_report, configurations
from .rows import read_rows
from .runner import ReportInterrupted, SweepInterrupted, SweepResult, report, run
from .userdata import UserData, check_data, read_file

__all__ = [
    "ARCHITECTURE_KEYS",
    "CHUNK_FLOPS",
    "COLUMNS",
    "CONFIG_COLUMNS",
    "DATA_KEYS",
    "DEFAULT_EPOCHS",
    "DEFAULT_GRID",
    "DEFAULT_THRESHOLD",
    "GRID_KEYS",
    "JUDGE_SPLITS",
    "KEY_COLUMNS",
    "METRIC_COLUMNS",
    "OPTIMIZER_KEYS",
    "REPORT_KEYS",
    "SETTING_KEYS",
    "VALUE_RULES",
    "Chunk",
    "ChunkResult",
    "Network",
    "Refit",
    "ReportInterrupted",
    "ReportSettings",
    "Settings",
    "SweepData",
    "SweepInterrupted",
    "SweepResult",
    "UserData",
    "check_data",
    "check_grid",
    "check_report",
    "check_settings",
    "check_values",
    "chunk_sizes",
    "configurations",
    "default_chunk_size",
    "expand",
    "load",
    "load_config",
    "make_chunks",
    "model_for",
    "n_parameters",
    "network_bytes",
    "network_data",
    "network_epoch_flops",
    "read_file",
    "read_results",
    "read_rows",
    "report",
    "run",
    "stack_estimator",
    "train_chunk",
]
