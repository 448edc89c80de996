"""``run``: a grid → chunks → stacks → rows, curves and models on disk → the report."""

from __future__ import annotations

import queue
import shutil
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any, NamedTuple, TextIO

from .. import backends
from .._files import stage
from .._progress import ProgressBar, duration
from . import userdata
from .chunks import (
    DaskExecutor,
    _check_chunk_size,
    chunk_sizes,
    import_distributed,
    in_process,
    local_workers,
    make_chunks,
    stack_key,
    work,
)
from .files import (
    CURVES_DIR,
    DATA_FILE,
    MODELS_DIR,
    RESULTS_FILE,
    SETTINGS_FILE,
    STACKS_DIR,
    append_rows,
    network_row,
    read_curves,
    read_data,
    read_results,
    read_stored,
    row_key,
    rows_text,
    stored_chunk_sizes,
    write_curves,
    write_data,
    write_model,
    write_sorted,
    write_stack,
    write_stored,
)
from .grid import (
    DEFAULT_GRID,
    Settings,
    check_grid,
    check_settings,
    grid_differences,
    networks_of,
    union,
)
from .report import (
    ReportSettings,
    check_min_seeds_reachable,
    check_report,
    configurations,
    write_report,
)


class _Default:
    """A setting not given: the stored one when resuming, else the default."""

    def __repr__(self) -> str:
        return "default"


DEFAULT = _Default()


class SweepResult(NamedTuple):
    """What ``run`` did: where the files are, how many networks, how fast."""

    out: Path
    results: Path
    configs: Path | None  # None when run(summary=False)
    summary: Path | None
    pictures: list[Path]
    n_networks: int  # in the grid
    n_trained: int  # trained by this call (the rest were already in results.csv)
    seconds: float  # wall time of this call's training
    network_epochs_per_second: float

    @property
    def heatmap(self) -> Path:
        """The first heatmap (mean score on the judged split, depth × width)."""
        return self.pictures[0]


class SweepInterrupted(KeyboardInterrupt):
    """Ctrl-C during a sweep: every finished chunk is on disk; how to go on.

    ``nothing_written``: stopped before any network was saved, the files this run had
    begun were removed again.
    """

    def __init__(
        self,
        out: Path,
        rows_saved: int,
        n_networks: int,
        resume_command: str,
        nothing_written: bool = False,
    ):
        super().__init__(f"{rows_saved} of {n_networks} rows saved in {out / RESULTS_FILE}")
        self.out = out
        self.rows_saved = rows_saved
        self.n_networks = n_networks
        self.resume_command = resume_command
        self.nothing_written = nothing_written


class ReportInterrupted(KeyboardInterrupt):
    """Ctrl-C while the report was drawn: every network is saved; ``--resume`` redraws it.

    Parameters
    ----------
    out : Path
        The sweep's folder.
    """

    def __init__(self, out: Path):
        super().__init__(f"interrupted while writing the report in {out}")
        self.out = out


# The files and folders a sweep writes in its folder.
SWEEP_FILES = (RESULTS_FILE, SETTINGS_FILE, DATA_FILE)
SWEEP_DIRS = (CURVES_DIR, MODELS_DIR, STACKS_DIR)


def _remove(paths: Sequence[Path]) -> None:
    """Remove files and folders this run created (a folder with all it holds)."""
    for path in paths:
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


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
    grid: Mapping[str, Any] | None,
    stored: Mapping[str, Any],
    extend: bool,
    out: Path,
    spirals: bool,
) -> dict[str, list[Any]]:
    """The grid to run, checked against sweep.json.

    Resuming or extending, the keys not given are the stored sweep's, not the defaults:
    ``--extend --width 4`` adds width 4 to the stored grid and nothing else.
    """
    if not stored:
        return check_grid(grid if grid is not None else DEFAULT_GRID, spirals)
    previous = check_grid(stored["grid"], spirals)
    checked = check_grid({**previous, **(grid or {})}, spirals)
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


def _arguments(args: tuple[Any, ...], grid: Any, out: Any) -> tuple[Any, Any, Any, Any]:
    """(X, y, grid, out) from ``run(grid, out)`` or ``run(X, y, grid, out)``."""
    if args and (args[0] is None or isinstance(args[0], Mapping)):
        if len(args) > 2:
            raise TypeError("run(grid, out) takes at most 2 positional arguments")
        X = y = None
        grid_given, out_given = (*args, None)[:2]
    elif args:
        if len(args) < 2 or len(args) > 4:
            raise TypeError("run(X, y, grid, out): give X and y together, then the grid")
        X, y, grid_given, out_given = (*args, None, None)[:4]
    else:
        X = y = grid_given = out_given = None
    if grid_given is not None and grid is not None:
        raise TypeError("run() got the grid twice (positionally and as grid=)")
    if out_given is not None and out is not None:
        raise TypeError("run() got out twice (positionally and as out=)")
    return (
        X,
        y,
        grid if grid_given is None else grid_given,
        out_given if out_given is not None else out,
    )


@contextmanager
def _sigterm_as_ctrl_c() -> Iterator[None]:
    """SIGTERM (``kill``, a job scheduler's stop) handled like Ctrl-C: rows saved, resume hint."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def run(
    *args: Any,
    grid: Mapping[str, Any] | None = None,
    out: str | Path | None = None,
    epochs: Any = DEFAULT,
    batch_size: Any = DEFAULT,
    backend: Any = DEFAULT,
    dtype: Any = DEFAULT,
    data_seed: Any = DEFAULT,
    curve_every: Any = DEFAULT,
    task: Any = DEFAULT,
    folds: Any = DEFAULT,
    standardize: Any = DEFAULT,
    name: str = "array",
    resume: bool = False,
    extend: bool = False,
    chunk_size: int | None = None,
    dask: str | None = None,
    threshold: Any = DEFAULT,
    min_seeds: Any = DEFAULT,
    judge_on: Any = DEFAULT,
    by: Any = DEFAULT,
    axes: Any = DEFAULT,
    summary: bool = True,
    progress: bool = True,
    stream: TextIO | None = None,
) -> SweepResult:
    """Train every network of ``grid``; write results, curves, models and the report in ``out``.

    It has two call forms, told apart by the first positional argument (a mapping or
    None is a grid):

    - ``run(grid, out, ...)`` sweeps spirals;
    - ``run(X, y, grid, out, ...)`` sweeps the user's data.

    Parameters
    ----------
    *args
        The positional arguments of either form: ``grid, out`` (both optional) or
        ``X, y, grid, out`` (``grid`` and ``out`` optional). X (n_samples, n_features)
        and y are the user's data, in any array library: y is (n_samples,) class labels,
        or real targets of shape (n_samples,) or (n_samples, n_outputs). Each network
        trains on one split of them (``folds``) and is chosen on its validation rows;
        its test score is on rows it never saw. ``grid`` and ``out`` may be given here
        or by keyword, not both.
    grid : mapping, optional
        Keys of ``GRID_KEYS`` to a value or a list of values (``seeds``: a count N for
        seeds 0 … N−1, or a list); missing keys take ``DEFAULT_GRID``'s values, or when
        resuming or extending, the stored sweep's. On the user's data the spiral keys
        (``DATA_KEYS``) are left out.
    out : str or Path
        The sweep's folder (default ``sweeps/latest``).
    epochs, batch_size, backend, dtype, data_seed, curve_every
        Settings shared by every network (``Settings``); when resuming, those not given
        are the stored ones. Spirals: training data ``data.spirals`` with ``data_seed``,
        validation a draw with ``data_seed + 2``, test with ``data_seed + 1``.
    task : {"classifier", "regressor"}, optional
        On the user's data: by default a classifier unless y holds non-integer reals.
    folds : int, optional
        On the user's data: 0 (default) for one held-out split (20% test, 20%
        validation), k ≥ 3 for k-fold (a configuration pools its k × seeds networks).
    standardize : bool, optional
        On the user's data: scale each feature by the mean and sd of the training rows
        of each split (fold), validation and test rows with the same numbers (default
        False: the features as given).
    name : str
        What the rows call the user's data (with a hash of its values).
    resume : bool
        Continue the sweep in ``out``: train only the networks without a row.
    extend : bool
        Resume with more grid values: per key, the stored values plus the new ones.
    chunk_size : int, optional
        Most networks per stack, for every architecture (default: the stored sizes,
        else per architecture what fits in half the device's free memory and takes a
        few seconds). A network's numbers do not depend on it.
    dask : str, optional
        The address of a dask.distributed scheduler, or ``"local:N"`` for a local cluster
        of N worker processes.
    threshold : float, optional
        The score a network must reach on ``judge_on`` to succeed (default 0.95).
    min_seeds : int, optional
        Networks of a configuration (seeds, × folds) that must succeed for it to be
        reliable (k of n; default: every one); at most seeds × folds.
    judge_on : {"validation", "test"}, optional
        The split success is judged on (default validation; the test score of what is
        chosen is reported beside it).
    by : sequence of str, optional
        Keys that make panels in the pictures (the other varying keys make files).
    axes : pair of str or list of pairs, optional
        Pairs of keys (e.g. ``("learning_rate", "l2")``) that get a table in summary.md
        and heatmaps, besides depth × width. The report settings (``threshold``,
        ``min_seeds``, ``judge_on``, ``by``, ``axes``) are stored in sweep.json; resuming
        or extending without them uses the stored ones.
    summary : bool
        Write configs.csv, the pictures and summary.md (False: only the rows, curves,
        stacks and models; ``report(out)`` draws them later).
    progress : bool
        Show the progress line on ``stream`` (stderr): the data setting running, the
        successes so far, the rate and the time left.
    stream : text file, optional
        Where the progress line goes (default: stderr).

    Returns
    -------
    SweepResult
        The files written, how many networks, how fast.

    Raises
    ------
    ValueError
        A bad grid, setting, data or threshold (named), a resume with another grid or
        settings, or a resume where there is no sweep; before anything is written.
    FileExistsError
        ``out`` holds rows of a sweep and neither ``resume`` nor ``extend`` is set.
    ConnectionError
        The Dask scheduler cannot be reached (before anything is written).
    OSError
        ``out`` cannot be written (before anything is written).
    SweepInterrupted
        Ctrl-C or SIGTERM: finished chunks are saved; it says how many rows and how to
        resume.
    """
    X, y, grid, out = _arguments(args, grid, out)
    out = Path(out if out is not None else "sweeps/latest")
    asked_report = _given(
        threshold=threshold, min_seeds=min_seeds, judge_on=judge_on, by=by, axes=axes
    )
    _check_options(asked_report, chunk_size, dask)
    existing, stored = _existing_and_stored(out, resume, extend)
    given = _given(
        epochs=epochs, batch_size=batch_size, backend=backend, dtype=dtype, data_seed=data_seed,
        curve_every=curve_every, task=task, folds=folds, standardize=standardize,
    )  # fmt: skip
    user, settings = _data_and_settings(X, y, name, given, stored, out)
    checked = _grid(grid, stored, extend, out, settings.on_spirals)
    networks = networks_of(checked, settings)
    report_settings = check_report(stored.get("report"), **asked_report)
    check_min_seeds_reachable(report_settings.min_seeds, len(checked["seeds"]), settings.folds)
    if dask is None:
        _check_backend(settings.backend)
    sweep = _Sweep(out, settings, existing, user, report_settings, dask)
    chunk_size, sizes, chunks = _chunks(sweep, networks, chunk_size, stored)
    trained, seconds, rate = _write_and_train(
        sweep, checked, chunks, len(networks), chunk_size, sizes, progress, stream
    )
    results = _sort_rows(out, networks, settings)
    counts = (len(networks), trained, seconds, rate)
    if not summary:
        return SweepResult(out, results, None, None, [], *counts)
    try:
        written = report(out, run_line=_run_line(trained, seconds, rate, dask), prune=True)
    except KeyboardInterrupt:
        raise ReportInterrupted(out) from None
    return SweepResult(out, results, written[0], written[-1], written[1:-1], *counts)


class _Sweep(NamedTuple):
    """What training a sweep's chunks needs to know besides the chunks."""

    out: Path
    settings: Settings
    existing: list[dict[str, str]]  # the rows results.csv held before this run
    user: userdata.UserData | None  # the user's data (None: spirals)
    report: ReportSettings
    dask: str | None


def _given(**settings: Any) -> dict[str, Any]:
    """The settings given (those not ``DEFAULT``)."""
    return {key: value for key, value in settings.items() if value is not DEFAULT}


def _check_options(
    asked_report: Mapping[str, Any], chunk_size: int | None, dask: str | None
) -> None:
    """ValueError (or ImportError) for a bad report setting, chunk size or Dask address."""
    check_report(**asked_report)
    if chunk_size is not None:
        _check_chunk_size(chunk_size)
    if dask is not None:
        local_workers(dask)
        import_distributed()


def _check_backend(backend: str) -> None:
    """ValueError unless ``backend`` is usable in this process."""
    reason = backends.why_unavailable(backend)
    if reason:
        raise ValueError(f"backend {backend!r} is not usable here: {reason}")


def _existing_and_stored(
    out: Path, resume: bool, extend: bool
) -> tuple[list[dict[str, str]], dict[str, Any]]:
    """The rows in ``out`` and its sweep.json; refused where they contradict resume/extend."""
    results = out / RESULTS_FILE
    existing = read_results(results)
    if existing and not (resume or extend):
        raise FileExistsError(
            f"{results} already holds {len(existing)} rows; pass --resume (resume=True) to "
            "continue that sweep, or choose another --out"
        )
    stored = read_stored(out) if (existing or resume or extend) else {}
    if (resume or extend) and "grid" not in stored:
        what = "does not exist" if not out.exists() else "holds no sweep (no sweep.json)"
        raise ValueError(
            f"there is nothing to {'extend' if extend else 'resume'}: {out} {what}; "
            "leave out --resume and --extend to start a new sweep there"
        )
    return existing, stored


def _data_and_settings(
    X: Any, y: Any, name: str, given: dict[str, Any], stored: Mapping[str, Any], out: Path
) -> tuple[userdata.UserData | None, Settings]:
    """The user's data (given, or the stored sweep's; None on spirals) and the settings."""
    user = None
    if X is not None:
        user, given["task"] = userdata.check_data(X, y, given.get("task"))
        given["data"] = userdata.fingerprint(name, user)
    elif stored and stored.get("settings", {}).get("data", "spirals") != "spirals":
        user = userdata.UserData(*read_data(out))
    return user, _settings(given, stored, out)


def _chunks(
    sweep: _Sweep, networks: Sequence[Any], chunk_size: int | None, stored: Mapping[str, Any]
) -> tuple[int | None, Any, list[Any]]:
    """The chunk size asked for or stored, the sizes per architecture chosen, the chunks."""
    if chunk_size is None:
        chunk_size = stored.get("chunk_size")
    if chunk_size is not None:
        return chunk_size, None, make_chunks(networks, chunk_size)
    # Each architecture its own size; the sizes a stored sweep chose are kept, so
    # that a resumed sweep cuts the same chunks (its numbers would not change).
    # Workers of a cluster may be other machines: their free memory is not known here.
    backend, local = sweep.settings.backend, sweep.dask is None
    free = backends.free_memory(backend) if local else None
    on_gpu = backends.gpu_name(backend) is not None if local else None
    sizes = chunk_sizes(
        networks, sweep.settings, free, on_gpu, sweep.user, stored_chunk_sizes(stored)
    )
    return chunk_size, sizes, make_chunks(networks, sizes)


def _write_and_train(
    sweep: _Sweep,
    grid: Mapping[str, list[Any]],
    chunks: Sequence[Any],
    n_networks: int,
    chunk_size: int | None,
    sizes: Any,
    progress: bool,
    stream: TextIO | None,
) -> tuple[int, float, float]:
    """Begin the sweep's files, train the chunks; stopped, leave resumable files (or none)."""
    out = sweep.out
    # What this run creates: removed again if it is stopped before any network is saved.
    created = [
        path
        for path in (out, *(out / name for name in (*SWEEP_FILES, *SWEEP_DIRS)))
        if not path.exists()
    ]
    executor = DaskExecutor(sweep.dask) if sweep.dask is not None else None
    writer = _Writer()
    try:
        try:
            _begin_files(sweep, grid, chunk_size, sizes, writer)
            with _sigterm_as_ctrl_c():
                return _train(chunks, sweep, executor, writer, progress, stream)
        finally:
            writer.finish()  # everything begun is on disk (or its error raised)
    except KeyboardInterrupt:
        # The rows on disk, once every write has run (a count kept while stopping could
        # miss the last chunk's): a sweep with rows is never removed.
        saved = len(read_results(out / RESULTS_FILE))
        if saved == 0:
            _remove(created)  # stopped before any network was saved: leave nothing behind
        raise SweepInterrupted(
            out, saved, n_networks, resume_command(out, sweep.dask), nothing_written=saved == 0
        ) from None
    finally:
        if executor is not None:
            executor.close()


def _begin_files(
    sweep: _Sweep,
    grid: Mapping[str, list[Any]],
    chunk_size: int | None,
    sizes: Any,
    writer: _Writer,
) -> None:
    """The folder, the user's data, sweep.json and results.csv ready for appending rows.

    They are written here, so that a folder that cannot be written fails before any
    training; ``writer`` syncs them and puts them in place, before any chunk's files.
    """
    out, results = sweep.out, sweep.out / RESULTS_FILE
    staged: list[Callable[[], None]] = []
    try:
        out.mkdir(parents=True, exist_ok=True)
        if sweep.user is not None and not (out / DATA_FILE).exists():
            write_data(out, sweep.user.X, sweep.user.y, staged)
        write_stored(out, grid, sweep.settings, chunk_size, sizes, sweep.report.stored(), staged)
        if sweep.existing:
            read_results(results, repair=True)  # cut a torn last line before appending
        else:
            staged.append(stage(results, rows_text([], header=True)))
    except OSError as exc:
        raise _unwritable(out, exc) from None

    def put_in_place() -> None:
        try:
            for finish in staged:
                finish()
        except OSError as exc:
            raise _unwritable(out, exc) from None

    writer.submit(put_in_place)


def _unwritable(out: Path, exc: OSError) -> OSError:
    return OSError(f"cannot write the sweep's files in {out}: {exc.strerror or exc}")


def _sort_rows(out: Path, networks: Sequence[Any], settings: Settings) -> Path:
    """Rewrite results.csv with its rows in the grid's order (chunks finish in any order)."""
    results = out / RESULTS_FILE
    order = [row_key(network_row(n, settings)) for n in networks]
    write_sorted(results, read_results(results), order)
    return results


def _run_line(trained: int, seconds: float, rate: float, dask: str | None) -> str:
    """The report's line on this run: networks, seconds, where, how fast."""
    where = f"Dask ({dask})" if dask else "this process"
    return (
        f"last run: {trained} networks in {seconds:.1f} s on {where}: {rate:,.0f} "
        f"network-epochs/s, {trained / seconds if seconds > 0 else 0:,.1f} networks/s"
    )


def data_setting(network: Any, settings: Settings | None = None) -> str:
    """The data setting of a network, in words: '3 arms, 1.5 turns, noise 0.05, 400 points'.

    On the user's data: its name, and the fold with k-fold.
    """
    if network.arms is None:
        name = settings.data.split("#")[0] if settings is not None else "your data"
        return f"{name}, fold {network.fold}" if settings and settings.folds else name
    return (
        f"{network.arms} arms, {network.turns:g} turns, noise {network.noise:g}, "
        f"{network.n_samples} points"
    )


def _train(
    chunks: Sequence[Any],
    sweep: _Sweep,
    executor: DaskExecutor | None,
    writer: _Writer,
    progress: bool,
    stream: TextIO | None,
) -> tuple[int, float, float]:
    """Train the chunks that miss rows; ``writer`` writes each one's files as it completes."""
    settings, existing = sweep.settings, sweep.existing
    done = {row_key(row) for row in existing}
    n_networks = sum(len(chunk.networks) for chunk in chunks)
    if done:  # resumed: the chunks that miss rows, and how many rows are already saved
        missing = [
            sum(row_key(network_row(n, settings)) not in done for n in chunk.networks)
            for chunk in chunks
        ]
        pending = [chunk for chunk, count in zip(chunks, missing, strict=True) if count]
        saved = n_networks - sum(missing)
    else:
        pending, saved = list(chunks), 0
    gpu = sweep.dask is None and backends.gpu_name(settings.backend) is not None
    eta = _Eta(pending, settings, sweep.user, gpu)
    network_epochs = 0
    trained = 0
    threshold, judged = sweep.report.threshold, f"{sweep.report.judge_on}_accuracy"
    successes = sum(float(row[judged]) >= threshold for row in existing)
    bar = ProgressBar(n_networks, "sweep", "networks", progress, stream, log_seconds=30.0)
    first = data_setting(pending[0].networks[0], settings) if pending else "nothing to train"
    bar.update(saved, f"{first}: starting")
    counts = [saved, successes]  # rows on disk, and how many of them succeed

    def saved_chunk(new_rows: list[dict[str, Any]], note: tuple[str, float, float]) -> None:
        # The count the bar shows is of rows on disk: the writer calls this once they are.
        counts[0] += len(new_rows)
        counts[1] += sum(float(row[judged]) >= threshold for row in new_rows)
        next_setting, rate, left = note
        bar.update(
            counts[0],
            f"{next_setting}  {counts[1]}/{counts[0]} ≥ {threshold:g} "
            f"({sweep.report.judge_on})  {rate:,.0f} network-epochs/s  ETA {duration(left)}",
        )

    def save(result: Any, note: tuple[str, float, float]) -> None:
        saved_chunk(_save_chunk(sweep.out, result, done), note)

    start = time.perf_counter()
    chunk_results = (
        in_process(pending, settings, sweep.user)
        if executor is None
        else executor.run(pending, settings, sweep.user)
    )
    try:
        try:
            for result in chunk_results:
                trained += len(result.rows)
                network_epochs += result.network_epochs
                elapsed = time.perf_counter() - start
                left = eta.done(result.index, elapsed)
                rate = network_epochs / elapsed if elapsed > 0 else 0.0
                note = (eta.next_setting(), rate, left)
                writer.submit(partial(save, result, note))
        finally:
            writer.finish()  # what was trained is written, whatever stopped the loop
    except KeyboardInterrupt:
        if progress:
            (stream or sys.stderr).write("\n")
        raise SweepInterrupted(
            sweep.out, counts[0], n_networks, resume_command(sweep.out, sweep.dask)
        ) from None
    seconds = time.perf_counter() - start
    return trained, seconds, network_epochs / seconds if seconds > 0 else 0.0


class _Writer:
    """Runs the sweep's writes (each a call) in a thread of its own, in the order given.

    Most of writing a chunk's files is waiting for the disk to confirm (a sync per
    file): done here, it overlaps the next chunk's training instead of adding to it.
    The files are written exactly as before, one chunk after the other (the sweep's
    own files first), each chunk's rows last: the states a process killed at any moment
    leaves on disk are the same. ``finish`` waits until every call given has run, and
    raises the first error one met (after which no other call runs).
    """

    def __init__(self) -> None:
        self.error: BaseException | None = None  # the first call that failed, until raised
        self.failed = False
        self.queue: queue.SimpleQueue[Callable[[], None] | None] = queue.SimpleQueue()
        self.done = threading.Event()  # set once the thread has run its last write
        self.thread = threading.Thread(target=self._run, name="sweep-writer", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            while (write := self.queue.get()) is not None:
                if self.failed:
                    continue
                try:
                    write()
                except BaseException as exc:  # handed to the training thread, raised there
                    self.error, self.failed = exc, True
        finally:
            self.done.set()

    def submit(self, write: Callable[[], None]) -> None:
        """Queue a write (raising first the error an earlier one met, if any)."""
        self._raise()
        self.queue.put(write)

    def finish(self) -> None:
        """Wait until every queued write has run; raise the error one met, if any.

        A Ctrl-C while it waits does not stop it: what is queued is trained, and
        writing it takes a moment. Calling it again only raises a pending error. (It
        waits on an event, not ``Thread.join``: a join interrupted by Ctrl-C marks the
        thread as stopped while it still runs.)
        """
        if not self.done.is_set():
            self.queue.put(None)
        while True:
            try:
                self.done.wait()
                break
            except KeyboardInterrupt:
                continue
        self._raise()

    def _raise(self) -> None:
        if self.error is not None:
            error, self.error = self.error, None
            raise error


def _save_chunk(out: Path, result: Any, done: set[tuple[str, ...]]) -> list[dict[str, Any]]:
    """Write a trained chunk's curves, stacks, models, then its rows (the commit); the new rows.

    A chunk trained again after a crash may have some rows already (a torn write): only
    the missing ones are added, and ``done`` gains their keys.
    """
    new_rows = [row for row in result.rows if row_key(row) not in done]
    # Each file is written atomically (synced, then renamed) as before, several at once:
    # a disk confirms concurrent syncs together (4 small files: ~8 ms instead of ~24).
    # All are in place before the rows are appended.
    _all_done(
        [
            partial(write_curves, out, result.rows, result.curve_epochs, result.curves),
            *(partial(write_stack, out, stack, text) for stack, text in result.stacks.items()),
            *(
                partial(write_model, out, model_name, content)
                for _, model_name, content in result.models.values()
            ),
        ]
    )
    if new_rows:
        append_rows(out / RESULTS_FILE, new_rows)
    done.update(row_key(row) for row in new_rows)
    return new_rows


# Files of a chunk written (and synced) at the same time, at most.
CONCURRENT_WRITES = 8


def _all_done(writes: Sequence[Callable[[], Any]]) -> None:
    """Run the writes, up to ``CONCURRENT_WRITES`` at once; wait for all; raise the first error."""
    if len(writes) < 2:
        for write in writes:
            write()
        return
    with ThreadPoolExecutor(min(len(writes), CONCURRENT_WRITES)) as pool:
        futures = [pool.submit(write) for write in writes]
    for future in futures:
        future.result()


# A prior for the time of one epoch of a stack: a fixed cost, a cost per layer (operations
# launched whatever their size) and its flops at a typical throughput. Only the shape
# matters: finished chunks scale it to this machine, and an architecture already seen
# uses its own measured time.
EPOCH_SECONDS = {"cpu": (0.9e-3, 0.25e-3, 7e9), "gpu": (2e-3, 1e-3, 5e12)}


class _Eta:
    """Time left after each chunk: measured per architecture, else a prior scaled to the machine.

    Small networks cost mostly per-operation overhead, not flops, so flops alone put the
    time of a big network after a small one off by a large factor; the prior
    (``EPOCH_SECONDS``) counts both, and is scaled by how long the finished chunks took
    against it.
    """

    def __init__(self, pending: Sequence[Any], settings: Settings, user: Any, gpu: bool) -> None:
        fixed, per_layer, throughput = EPOCH_SECONDS["gpu" if gpu else "cpu"]
        self.pending = {chunk.index: chunk for chunk in pending}
        self.settings = settings
        self.prior = {
            chunk.index: settings.epochs * (fixed + per_layer * (chunk.networks[0].depth + 1))
            + work(chunk, settings, user) / throughput
            for chunk in pending
        }
        self.per_network_epoch: dict[tuple[Any, ...], list[float]] = {}
        self.observed = [0.0, 0.0]  # seconds taken, prior seconds of the finished chunks
        self.last = 0.0

    def done(self, index: int, elapsed: float) -> float:
        """Record a finished chunk (``elapsed`` since the start); the seconds left."""
        chunk = self.pending.pop(index)
        # On Dask, chunks finish in parallel: the wall time between two is still what
        # each took of the cluster's time, which is what the ETA needs.
        seconds = max(elapsed - self.last, 0.0)
        self.last = elapsed
        spent = self.per_network_epoch.setdefault(stack_key(chunk.networks[0]), [0.0, 0.0])
        spent[0] += seconds
        spent[1] += len(chunk.networks) * self.settings.epochs
        self.observed[0] += seconds
        self.observed[1] += self.prior.pop(index)
        scale = self.observed[0] / max(self.observed[1], 1e-12)
        left = 0.0
        for i, rest in self.pending.items():
            seen = self.per_network_epoch.get(stack_key(rest.networks[0]))
            if seen:
                left += seen[0] / seen[1] * len(rest.networks) * self.settings.epochs
            else:
                left += scale * self.prior[i]
        return left

    def next_setting(self) -> str:
        """The data setting of the next chunk to train (or 'done')."""
        for chunk in self.pending.values():
            return data_setting(chunk.networks[0], self.settings)
        return "done"


def report(
    out: str | Path,
    *,
    threshold: float | None = None,
    min_seeds: int | None = None,
    judge_on: str | None = None,
    by: Sequence[str] | None = None,
    axes: Any = None,
    run_line: str = "",
    prune: bool = False,
) -> list[Path]:
    """Write configs.csv, the pictures and summary.md of the sweep in ``out``, from its rows.

    The report settings not given are the sweep's stored ones (``run``'s), else the
    defaults: threshold 0.95 on validation, every network of a configuration.

    Parameters
    ----------
    out : str or Path
        A sweep's folder.
    threshold : float, optional
        The score a network must reach on the judged split to succeed.
    min_seeds : int, optional
        Successful networks that make a configuration reliable.
    judge_on : {"validation", "test"}, optional
        The split success is judged on.
    by : sequence of str, optional
        Keys that make panels (the other varying keys make one picture each).
    axes : pair of str or list of pairs, optional
        Pairs of keys that get a table and heatmaps besides depth × width.
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
    chosen = check_report(
        stored.get("report"),
        threshold=threshold,
        min_seeds=min_seeds,
        judge_on=judge_on,
        by=by,
        axes=axes,
    )
    check_min_seeds_reachable(chosen.min_seeds, len(stored["grid"]["seeds"]), settings.folds)
    user = None if settings.on_spirals else userdata.UserData(*read_data(out))
    grid_size = len(networks_of(stored["grid"], settings))
    written = write_report(
        out,
        rows,
        settings,
        report=chosen,
        grid_size=grid_size,
        curves=read_curves(out),
        run_line=run_line,
        user=user,
    )
    if prune:
        configs = configurations(
            rows, chosen.threshold, chosen.min_seeds, user, settings.task, chosen.judge_on
        )
        kept = {Path(c["model_file"]).name for c in configs}
        for path in (out / MODELS_DIR).glob("*.npz"):
            if path.name not in kept:
                path.unlink()
    return written


__all__ = ["DEFAULT", "ReportInterrupted", "SweepInterrupted", "SweepResult", "report", "run"]
