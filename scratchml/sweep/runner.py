"""``run``: a grid → chunks → stacks → rows, curves and models on disk → the report."""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple, TextIO

from .. import backends
from .._files import write_atomically
from .._progress import ProgressBar, duration
from .chunks import (
    DaskExecutor,
    default_chunk_size,
    import_distributed,
    in_process,
    local_workers,
    make_chunks,
    work,
)
from .files import (
    MODELS_DIR,
    RESULTS_FILE,
    append_rows,
    network_row,
    read_curves,
    read_results,
    read_stored,
    row_key,
    rows_text,
    write_curves,
    write_model,
    write_sorted,
    write_stored,
)
from .grid import (
    DEFAULT_GRID,
    DEFAULT_THRESHOLD,
    Settings,
    check_grid,
    check_settings,
    expand,
    grid_differences,
    union,
)
from .report import configurations, write_report


class _Default:
    """A setting not given: the stored one when resuming, else the default."""

    def __repr__(self) -> str:
        return "default"


DEFAULT = _Default()


class SweepResult(NamedTuple):
    """What ``run`` did: where the files are, how many networks, how fast."""

    out: Path
    results: Path
    configs: Path
    summary: Path
    pictures: list[Path]
    n_networks: int  # in the grid
    n_trained: int  # trained by this call (the rest were already in results.csv)
    seconds: float  # wall time of this call's training
    network_epochs_per_second: float

    @property
    def heatmap(self) -> Path:
        """The first heatmap of mean test accuracy."""
        return self.pictures[0]


class SweepInterrupted(KeyboardInterrupt):
    """Ctrl-C during a sweep: every finished chunk is on disk; how to go on."""

    def __init__(self, out: Path, rows_saved: int, n_networks: int, resume_command: str):
        super().__init__(f"{rows_saved} of {n_networks} rows saved in {out / RESULTS_FILE}")
        self.out = out
        self.rows_saved = rows_saved
        self.n_networks = n_networks
        self.resume_command = resume_command


def _settings(given: Mapping[str, Any], stored: Mapping[str, Any], out: Path) -> Settings:
    """The settings asked for, the stored ones filling gaps; ValueError if they differ."""
    base = dict(stored.get("settings", {}))
    for key, value in given.items():
        if key in base and base[key] != value:
            raise ValueError(
                f"cannot resume the sweep in {out}: it ran with {key}={base[key]!r}, "
                f"this run asks for {key}={value!r}; use the same {key} or another --out"
            )
    return check_settings(**{**base, **given})


def _grid(
    grid: Mapping[str, Any] | None, stored: Mapping[str, Any], extend: bool, out: Path
) -> dict[str, list[Any]]:
    """The grid to run: the one asked for (the stored one if none), checked against sweep.json."""
    if grid is None:
        grid = stored.get("grid", DEFAULT_GRID)
    checked = check_grid(grid)
    if not stored:
        return checked
    previous = check_grid(stored["grid"])
    differences = grid_differences(previous, checked)
    if not differences:
        return checked
    if extend:
        return union(previous, checked)
    raise ValueError(
        f"cannot resume the sweep in {out} with another grid: {'; '.join(differences)}. "
        "Pass --extend (extend=True) to add the new grid points, or leave the grid "
        "out to resume the sweep as it was"
    )


def resume_command(out: Path, dask: str | None) -> str:
    """The command that continues the sweep in ``out``."""
    command = f"scratchml sweep --resume --out {out}"
    return f"{command} --dask {dask}" if dask else command


def run(
    grid: Mapping[str, Any] | None = None,
    out: str | Path = "sweeps/latest",
    *,
    epochs: Any = DEFAULT,
    batch_size: Any = DEFAULT,
    backend: Any = DEFAULT,
    dtype: Any = DEFAULT,
    data_seed: Any = DEFAULT,
    curve_every: Any = DEFAULT,
    resume: bool = False,
    extend: bool = False,
    chunk_size: int | None = None,
    dask: str | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    by: Sequence[str] | None = None,
    progress: bool = True,
    stream: TextIO | None = None,
) -> SweepResult:
    """Train every network of ``grid``; write results, curves, models and the report in ``out``.

    Parameters
    ----------
    grid : mapping, optional
        Keys of ``GRID_KEYS`` to a value or a list of values (``seeds``: a count N for
        seeds 0 … N−1, or a list); missing keys take ``DEFAULT_GRID``'s values. When
        resuming, None means the stored grid.
    out : str or Path
        The sweep's folder.
    epochs, batch_size, backend, dtype, data_seed, curve_every
        Settings shared by every network (``Settings``); when resuming, those not given
        are the stored ones. Training data: ``data.spirals`` with ``data_seed``; test
        accuracy is on a held-out draw with seed ``data_seed + 1``.
    resume : bool
        Continue the sweep in ``out``: train only the networks without a row. The grid
        and settings must be the stored ones.
    extend : bool
        Resume with a different grid: the grid becomes, per key, the union of the stored
        values and the new ones, and the missing networks are trained.
    chunk_size : int, optional
        Most networks per stack (default: the stored one, else what fits in half the
        device's free memory and takes a few seconds).
    dask : str, optional
        The address of a dask.distributed scheduler, or ``"local:N"`` for a local cluster
        of N worker processes.
    threshold : float
        Test accuracy a seed must reach to count as a success (reports only).
    by : sequence of str, optional
        Keys that make panels in the pictures (the other varying keys make files).
    progress : bool
        Show the progress bar on ``stream``.
    stream : text file, optional
        Where the progress bar goes (default: stderr).

    Returns
    -------
    SweepResult
        The files written, how many networks, how fast.

    Raises
    ------
    ValueError
        A bad grid, setting or threshold (named), or a resume with another grid or
        settings; before anything is written.
    FileExistsError
        ``out`` holds rows of a sweep and neither ``resume`` nor ``extend`` is set.
    ConnectionError
        The Dask scheduler cannot be reached (before anything is written).
    OSError
        ``out`` cannot be written (before anything is written).
    SweepInterrupted
        Ctrl-C: finished chunks are saved; it says how many rows and how to resume.
    """
    out = Path(out)
    if not (0.0 < threshold <= 1.0):
        raise ValueError(f"threshold must be a test accuracy in (0, 1]; got {threshold!r}")
    if dask is not None:
        local_workers(dask)
        import_distributed()
    results = out / RESULTS_FILE
    existing = read_results(results)
    if existing and not (resume or extend):
        raise FileExistsError(
            f"{results} already holds {len(existing)} rows; pass --resume (resume=True) to "
            "continue that sweep, or choose another --out"
        )
    stored = read_stored(out) if existing else {}  # a header alone is no sweep to resume
    given = {
        key: value
        for key, value in dict(
            epochs=epochs,
            batch_size=batch_size,
            backend=backend,
            dtype=dtype,
            data_seed=data_seed,
            curve_every=curve_every,
        ).items()
        if value is not DEFAULT
    }
    settings = _settings(given, stored, out)
    checked = _grid(grid, stored, extend, out)
    networks = expand(checked)
    if dask is None:
        reason = backends.why_unavailable(settings.backend)
        if reason:
            raise ValueError(f"backend {settings.backend!r} is not usable here: {reason}")
    if chunk_size is None:
        # Workers of a cluster may be other machines: their free memory is not known here.
        free = backends.free_memory(settings.backend) if dask is None else None
        on_gpu = backends.gpu_name(settings.backend) is not None if dask is None else None
        chunk_size = stored.get("chunk_size") or default_chunk_size(
            networks, settings, free, on_gpu
        )
    chunks = make_chunks(networks, chunk_size)

    executor = DaskExecutor(dask) if dask is not None else None
    try:
        try:
            out.mkdir(parents=True, exist_ok=True)
            write_stored(out, checked, settings, chunk_size)
            if existing:
                read_results(results, repair=True)  # cut a torn last line before appending
            else:
                write_atomically(results, rows_text([], header=True))
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise OSError(f"cannot write the sweep's files in {out}: {reason}") from None
        trained, seconds, rate = _train(
            chunks, settings, out, existing, executor, progress, stream, dask
        )
    finally:
        if executor is not None:
            executor.close()
    all_rows = read_results(results)
    write_sorted(results, all_rows, [row_key(network_row(n, settings)) for n in networks])
    where = f"Dask ({dask})" if dask else "this process"
    run_line = (
        f"last run: {trained} networks in {seconds:.1f} s on {where}: {rate:,.0f} "
        f"network-epochs/s, {trained / seconds if seconds > 0 else 0:,.1f} networks/s"
    )
    written = report(out, threshold=threshold, by=by, run_line=run_line, prune=True)
    return SweepResult(
        out,
        results,
        written[0],
        written[-1],
        written[1:-1],
        len(networks),
        trained,
        seconds,
        rate,
    )


def _train(
    chunks: Sequence[Any],
    settings: Settings,
    out: Path,
    existing: list[dict[str, str]],
    executor: DaskExecutor | None,
    progress: bool,
    stream: TextIO | None,
    dask: str | None,
) -> tuple[int, float, float]:
    """Train the chunks that miss rows; write each one's files as it completes."""
    results = out / RESULTS_FILE
    done = {row_key(row) for row in existing}
    n_networks = sum(len(chunk.networks) for chunk in chunks)

    def missing(chunk: Any) -> int:
        return sum(row_key(network_row(n, settings)) not in done for n in chunk.networks)

    pending = [chunk for chunk in chunks if missing(chunk)]
    work_left = {chunk.index: work(chunk, settings) for chunk in pending}
    work_done = 0.0
    network_epochs = 0
    trained = 0
    bar = ProgressBar(n_networks, "sweep", "networks", progress, stream, log_seconds=30.0)
    saved = n_networks - sum(map(missing, pending))
    bar.update(saved, "starting")
    start = time.perf_counter()
    chunk_results = (
        in_process(pending, settings) if executor is None else executor.run(pending, settings)
    )
    try:
        for result in chunk_results:
            # A chunk trained again after a crash may have some rows already (a torn write):
            # only the missing ones are added. Curves and models first: rows commit a chunk.
            new_rows = [row for row in result.rows if row_key(row) not in done]
            write_curves(out, result.rows, result.curve_epochs, result.curves)
            for _, name, content in result.models.values():
                write_model(out, name, content)
            if new_rows:
                append_rows(results, new_rows)
            done.update(row_key(row) for row in new_rows)
            saved += len(new_rows)
            trained += len(result.rows)
            network_epochs += result.network_epochs
            work_done += work_left.pop(result.index)
            elapsed = time.perf_counter() - start
            eta = duration(elapsed * sum(work_left.values()) / work_done) if work_done else "?"
            rate = network_epochs / elapsed if elapsed > 0 else 0.0
            bar.update(saved, f"{rate:,.0f} network-epochs/s  ETA {eta}")
    except KeyboardInterrupt:
        if progress:
            (stream or sys.stderr).write("\n")
        raise SweepInterrupted(out, saved, n_networks, resume_command(out, dask)) from None
    seconds = time.perf_counter() - start
    return trained, seconds, network_epochs / seconds if seconds > 0 else 0.0


def report(
    out: str | Path,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    by: Sequence[str] | None = None,
    run_line: str = "",
    prune: bool = False,
) -> list[Path]:
    """Write configs.csv, the pictures and summary.md of the sweep in ``out``, from its rows.

    Parameters
    ----------
    out : str or Path
        A sweep's folder.
    threshold : float
        Test accuracy a seed must reach to count as a success.
    by : sequence of str, optional
        Keys that make panels (the other varying keys make one picture each).
    run_line : str
        A line about the run (throughput) for the summary.
    prune : bool
        Remove model files that are no configuration's best (kept by an earlier chunk).

    Returns
    -------
    list of Path
        configs.csv, the pictures, summary.md.
    """
    out = Path(out)
    rows = read_results(out / RESULTS_FILE)
    if not rows:
        raise ValueError(f"{out / RESULTS_FILE} has no rows: there is nothing to report")
    stored = read_stored(out)
    settings = check_settings(**stored["settings"])
    grid_size = len(expand(stored["grid"]))
    written = write_report(
        out,
        rows,
        settings,
        threshold=threshold,
        grid_size=grid_size,
        by=by,
        curves=read_curves(out),
        run_line=run_line,
    )
    if prune:
        kept = {Path(c["model_file"]).name for c in configurations(rows, threshold)}
        for path in (out / MODELS_DIR).glob("*.npz"):
            if path.name not in kept:
                path.unlink()
    return written


__all__ = ["DEFAULT", "SweepInterrupted", "SweepResult", "report", "run"]
