"""What every demo shares: its result record and argument checks."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._validation import check_choice

SIZES = ("default", "small")

# Where pictures go unless told otherwise: a scratch folder in the working directory,
# so a quick run never overwrites the committed pictures in demos/results/.
DEFAULT_OUT = "scratchml-demos"


@dataclass
class DemoResult:
    """What a demo produced: the files it wrote, numbers worth printing, the fitted model.

    Parameters
    ----------
    name : str
        The demo's name (a key of ``scratchml.demos.DEMOS``).
    files : list of Path
        The pictures written.
    metrics : dict of str to float
        Figures worth printing (training accuracy, fitted coefficients, ...).
    model : estimator or None
        The fitted model, if the demo trains one.
    """

    name: str
    files: list[Path]
    metrics: dict[str, float] = field(default_factory=dict)
    model: Any = None


# The Parameters and Returns sections every demo's ``run`` shares (appended by ``documented``).
_RUN_SECTIONS = """

    Parameters
    ----------
    backend : str, default "numpy"
        Array library to train on (``scratchml.backends.BACKENDS``).
    out : str or Path, default "scratchml-demos"
        Folder the pictures are written to (made if missing).
    size : {"default", "small"}, default "default"
        ``"small"`` is the fast version: fewer points, frames and epochs.
    seed : int, default 0
        Seed of the data and the initial weights (the unit-norm demo draws nothing).
    progress : bool, default True
        Show a progress line while training.

    Returns
    -------
    DemoResult
        The files written, the figures worth printing and the fitted model.
    """


def documented(run: Any) -> Any:
    """Append the sections every demo's ``run`` shares to its docstring.

    Parameters
    ----------
    run : function
        A demo's ``run(backend, out, size, seed, progress)``.

    Returns
    -------
    function
        ``run``, its docstring completed.
    """
    run.__doc__ = run.__doc__.rstrip() + _RUN_SECTIONS
    return run


def prepare(out: str | Path, size: str) -> Path:
    """Check ``size`` and make the output folder.

    Parameters
    ----------
    out : str or Path
        The folder.
    size : str
        The demo's size, checked against ``SIZES``.

    Returns
    -------
    Path
        The folder, made if missing.
    """
    check_choice(size, "size", SIZES)
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    return folder
