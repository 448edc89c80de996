"""Run the cases in a worker process, then write results.json, report.md and the charts.

Each measurement is appended to ``OUT/cases.jsonl`` as soon as it is taken; the files a
reader sees are written from them at the end (``cases.jsonl`` is then removed). A run
that stops part way — its time limit reached, the worker dead, the run itself stopped by
SIGTERM or Ctrl-C — still writes them from the measurements it has (the report says it
is incomplete) and keeps ``cases.jsonl``: ``resume=True`` takes only the others, and
:func:`render_records` (``scratchml bench --render-only``) writes the report from the
records of a run that was killed outright.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from .. import backends
from .._files import complete_lines, write_atomically
from . import cases, environment, precision
from .labels import label
from .report import render
from .results import median_of, summary

CASES_JSONL = "cases.jsonl"
RESULTS_JSON = "results.json"
EXIT_FAILURES = 3  # the worker finished, but some implementation raised an error
# Seconds of a time limit kept for writing the report and charts after the worker stops.
RENDER_SECONDS = 15
# OpenMP, BLAS, and the threads scratchml's NumPy path runs its blocks in.
_THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "SCRATCHML_NUM_THREADS",
)

# In a source checkout the committed reports live next to the package.
REPO_ROOT = Path(__file__).resolve().parents[2]
RESULTS_DIR = REPO_ROOT / "benchmarks" / "results"


def default_out(quick: bool) -> Path:
    """Where a run writes without ``--out``.

    A quick run: a temporary folder. A full run: ``benchmarks/results/<machine>`` in a
    source checkout, else ``./scratchml-bench/<machine>``.
    """
    kind = environment.machine_kind()
    if quick:
        return Path(tempfile.gettempdir()) / "scratchml-bench-quick" / kind
    if RESULTS_DIR.is_dir():
        return RESULTS_DIR / kind
    return Path("scratchml-bench") / kind


def check_settings(
    backend_names: Sequence[str],
    only: Sequence[str],
    dtypes: Sequence[str],
    rounds: int,
    quick: bool,
    time_limit: float | None = None,
    matmul_precision: str = precision.DEFAULT,
) -> None:
    """Refuse what cannot run, naming the argument and what was expected."""
    for name in backend_names:
        if name not in backends.BACKENDS:
            raise ValueError(
                f"unknown backend {name!r}; valid backends are {', '.join(backends.BACKENDS)}"
            )
        reason = backends.why_unavailable(name)
        if reason:
            raise ValueError(f"backend {name!r} is not usable here: {reason}")
    valid = cases.names(quick)
    unknown = [name for name in only if name not in valid]
    if unknown:
        raise ValueError(f"unknown case {unknown[0]!r}; valid cases are {', '.join(valid)}")
    for dtype in dtypes:
        if dtype not in ("float32", "float64"):
            raise ValueError(f"dtype must be 'float32' or 'float64'; got {dtype!r}")
    if not isinstance(rounds, int) or rounds < 1:
        raise ValueError(f"rounds must be a positive integer; got {rounds!r}")
    if time_limit is not None and not time_limit > RENDER_SECONDS:
        raise ValueError(
            f"time_limit must be more than {RENDER_SECONDS} seconds (the report's share); "
            f"got {time_limit!r}"
        )
    precision.check(matmul_precision)


def worker_environment(
    threads: int | None, matmul_precision: str = precision.DEFAULT
) -> dict[str, str]:
    """The worker's environment: thread caps and the precision of float32 products (before
    the libraries start), no GPU grab."""
    # A run started from inside a pytest-xdist worker must not look like one.
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST_XDIST")}
    env["MPLBACKEND"] = "Agg"
    # JAX would otherwise take 75% of the GPU's memory at its first use, leaving the cases
    # that run after it (CuPy, PyTorch, the stacked networks) short.
    env.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")
    precision.set_environment(env, matmul_precision)
    if threads is not None:
        env.update({name: str(threads) for name in _THREAD_VARIABLES})
        if threads == 1:
            env["XLA_FLAGS"] = (
                env.get("XLA_FLAGS", "") + " --xla_cpu_multi_thread_eigen=false"
            ).strip()
    # The worker imports this very scratchml, wherever it was imported from.
    package_root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
    return env


class _StoppedError(Exception):
    """SIGTERM reached the run (``timeout``, a job ended): write what was measured."""


@dataclass(frozen=True)
class _Settings:
    """What a run times and how: :func:`run`'s arguments, checked, with defaults filled in."""

    asked: tuple[str, ...]  # the backends as the caller named them (none: the defaults)
    backends: list[str]
    quick: bool
    rounds: int
    threads: int | None
    only: list[str]
    dtypes: list[str]
    time_limit: float | None
    precision: str

    @classmethod
    def checked(
        cls,
        backend_names: Sequence[str] | None,
        quick: bool,
        threads: int | None,
        rounds: int | None,
        only: Sequence[str],
        dtypes: Sequence[str],
        time_limit: float | None,
        matmul_precision: str,
    ) -> _Settings:
        """The settings of a run, or ValueError naming the argument that cannot run."""
        names = list(backend_names) if backend_names else environment.default_backends()
        rounds = rounds if rounds is not None else (1 if quick else 3)
        check_settings(names, only, dtypes, rounds, quick, time_limit, matmul_precision)
        if quick and threads is None:
            # A quick run checks that everything runs; one thread per library keeps it quick
            # (and sane) on a machine whose cores are busy with other work.
            threads = 1
        return cls(
            tuple(backend_names or ()), names, quick, rounds, threads, list(only), list(dtypes),
            time_limit, matmul_precision,
        )  # fmt: skip

    @property
    def stopped_by_limit(self) -> str:
        """Why a run stopped when its time limit did ("" for a run without one)."""
        if self.time_limit is None:
            return ""
        return f"the time limit ({self.time_limit:g} s) was reached"

    def command(self) -> str:
        """The ``scratchml bench`` command that repeats the run (its defaults left out)."""
        shown = ["scratchml bench"]
        shown += [f"--backend {name}" for name in self.asked]
        shown += ["--quick"] if self.quick else []
        shown += (
            [f"--threads {self.threads}"] if self.threads is not None and not self.quick else []
        )
        shown += [f"--rounds {self.rounds}"] if self.rounds != (1 if self.quick else 3) else []
        shown += [f"--case {name}" for name in self.only]
        shown += [f"--dtype {dtype}" for dtype in self.dtypes]
        shown += [f"--precision {self.precision}"] if self.precision != precision.DEFAULT else []
        shown += [f"--time-limit {self.time_limit:g}"] if self.time_limit is not None else []
        return " ".join(shown)

    def for_worker(self, records: Path, deadline: float | None) -> dict[str, Any]:
        """The worker's settings: what to time, where to append each measurement, and the
        time after which it starts nothing."""
        return {
            "backends": self.backends,
            "quick": self.quick,
            "rounds": self.rounds,
            "cases": self.only,
            "dtypes": self.dtypes,
            "records": str(records.resolve()),
            "deadline": deadline,
            "precision": self.precision,
        }


def run(
    backend_names: Sequence[str] | None = None,
    quick: bool = False,
    out: Path | None = None,
    note: str | None = None,
    threads: int | None = None,
    stream: TextIO | None = None,
    resume: bool = False,
    rounds: int | None = None,
    only: Sequence[str] = (),
    dtypes: Sequence[str] = (),
    time_limit: float | None = None,
    matmul_precision: str = precision.DEFAULT,
) -> int:
    """Time the cases, then write results.json, report.md and the charts into ``out``.

    ``backend_names``: the scratchml backends to time (default: every usable one but
    array_api_strict). ``threads`` caps every library's CPU threads (OpenMP, BLAS, XLA,
    scratchml's NumPy blocks);
    None leaves the libraries' defaults, except in a quick run, which uses one.
    ``rounds``: how many times every case is timed, each round after the other (default
    3, or 1 with ``quick``). ``resume`` keeps the measurements an interrupted run left in
    ``out/cases.jsonl`` and takes only the others. ``only``/``dtypes`` select cases.
    ``time_limit``: seconds for the whole call; no measurement starts in its last
    ``RENDER_SECONDS``, a worker still busy then is stopped, and the report is written
    from what was measured. ``matmul_precision``: "float32" (full FP32 products on every
    library, the default) or "tf32" (TF32 on a GPU), recorded in every row.

    Returns the exit code: 0 when every case ran, or when the time limit stopped the run
    (the report then holds what ran; the measurements stay in ``cases.jsonl`` for
    ``resume``); 1 when some implementation failed, or the run was stopped otherwise.
    """
    began = time.time()
    stream = stream if stream is not None else sys.stdout
    chosen = _Settings.checked(
        backend_names, quick, threads, rounds, only, dtypes, time_limit, matmul_precision
    )
    out = Path(out) if out is not None else default_out(quick)
    records, kept = _open_records(out, resume)
    env_info = environment.environment_info()
    _announce(chosen, env_info, out, records, kept, stream)
    # The worker starts nothing after this; a worker still busy at it is stopped.
    deadline = began + time_limit - RENDER_SECONDS if time_limit is not None else None
    started = time.perf_counter()
    returncode, stopped = _run_worker(chosen, out, records, deadline, stream)
    seconds = time.perf_counter() - started
    measured = [json.loads(line) for line in complete_lines(records)]
    if not any(record["kind"] == "times" for record in measured):
        print(f"the run timed nothing (worker exit code {returncode})", file=stream)
        return 1
    if not stopped and returncode not in (0, EXIT_FAILURES):
        stopped = f"the worker stopped (exit code {returncode})"
    info = {
        "name": out.name,
        "quick": quick,
        "backends": chosen.backends,
        "command": chosen.command(),
        "seconds": seconds,
        "threads": chosen.threads,
        "rounds": chosen.rounds,
        "note": note,
        "resumed": kept,
        "precision": matmul_precision,
        "complete": not stopped,
        "stopped": stopped or None,
    }
    written = write_results(out, measured, env_info, info, complete=not stopped)
    if stopped:
        print(
            f"{stopped} after {len(measured)} measurements; the report holds them, and "
            f"{records} keeps them: run again with --resume to take the rest",
            file=stream,
        )
    print(f"wrote {', '.join(str(path) for path in written)} in {seconds:.0f} s", file=stream)
    # A run stopped by its time limit did what it was asked: a report within the limit.
    by_limit = stopped.startswith("the time limit")
    return 0 if returncode in (0, -signal.SIGTERM) and (by_limit or not stopped) else 1


def _open_records(out: Path, resume: bool) -> tuple[Path, int]:
    """``out``'s records file (emptied unless ``resume``) and how many complete
    measurements it already holds (an interrupted write repaired)."""
    out.mkdir(parents=True, exist_ok=True)
    records = out / CASES_JSONL
    if not resume:
        records.unlink(missing_ok=True)
    return records, len(complete_lines(records, repair=True))


def _announce(
    chosen: _Settings,
    env_info: dict[str, Any],
    out: Path,
    records: Path,
    kept: int,
    stream: TextIO,
) -> None:
    """The run's first lines: what it times, on which machine, into which folder."""
    print(
        f"scratchml bench: {'quick' if chosen.quick else 'full'} run, {chosen.rounds} round(s), "
        f"scratchml on {', '.join(chosen.backends)} "
        f"({environment.machine_line(env_info['scratchml_env'])}) -> {out}",
        file=stream,
        flush=True,
    )
    if kept:
        print(f"  resuming: {kept} measurements already taken in {records}", file=stream)


def _run_worker(
    chosen: _Settings, out: Path, records: Path, deadline: float | None, stream: TextIO
) -> tuple[int, str]:
    """Run the worker in ``out``, its lines shown on ``stream``; it appends each measurement
    to ``records`` and starts nothing after ``deadline``, and is terminated if still busy
    a few seconds past it.

    Returns its exit code and why the run stopped early ("" when it did not): the time
    limit, SIGTERM or Ctrl-C (the worker is then stopped too).
    """
    stopped = ""
    settings = json.dumps(chosen.for_worker(records, deadline))
    process = subprocess.Popen(
        [sys.executable, "-m", "scratchml.bench.worker", settings],
        cwd=out,
        env=worker_environment(chosen.threads, chosen.precision),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    timer = None
    if deadline is not None:
        # Past the deadline by a few seconds: the measurement in progress will not end soon.
        timer = threading.Timer(max(0.0, deadline - time.time() + 5), process.terminate)
        timer.daemon = True
        timer.start()
    previous = _stop_on_sigterm()
    try:
        assert process.stdout is not None
        for line in process.stdout:
            print("  " + line.rstrip(), file=stream, flush=True)
            if line.startswith("time limit reached"):
                stopped = chosen.stopped_by_limit
        process.wait()
    except (_StoppedError, KeyboardInterrupt) as exc:
        stopped = "the run was stopped (SIGTERM)" if isinstance(exc, _StoppedError) else "Ctrl-C"
        _end(process)
    finally:
        if timer is not None:
            timer.cancel()
        _restore_sigterm(previous)
    if (
        not stopped
        and deadline is not None
        and process.returncode not in (0, EXIT_FAILURES)
        and time.time() >= deadline
    ):
        stopped = chosen.stopped_by_limit
    return process.returncode, stopped


def write_results(
    out: Path,
    measured: list[dict[str, Any]],
    env_info: dict[str, Any],
    info: dict[str, Any],
    complete: bool = True,
) -> list[Path]:
    """results.json from the records, then report.md and the charts; a complete run's
    records file is removed, an incomplete run's kept (for ``resume``)."""
    data = assemble(measured)
    data["machine_info"] = env_info
    data["datetime"] = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
    data["scratchml_bench"] = info
    write_atomically(out / RESULTS_JSON, json.dumps(data, indent=1) + "\n")
    if complete:
        (out / CASES_JSONL).unlink(missing_ok=True)
    return render(out)


def render_records(out: Path, note: str | None = None) -> list[Path]:
    """results.json, report.md and the charts of ``out`` from the records a run left in
    ``out/cases.jsonl`` (a run killed before it wrote them); the report says it is
    incomplete, and the records stay for ``resume``."""
    records = Path(out) / CASES_JSONL
    measured = [json.loads(line) for line in complete_lines(records, repair=True)]
    if not any(record.get("kind") == "times" for record in measured):
        raise FileNotFoundError(f"no measurement to report in {records}")
    info = {
        "name": Path(out).name,
        "command": "scratchml bench --render-only (from the records of a run that stopped)",
        "rounds": max(record.get("round", 1) for record in measured),
        "backends": sorted(
            {
                r["backend"]
                for r in measured
                if r.get("kind") == "times" and r["impl"] == "scratchml"
            }
        ),
        "note": note,
        "complete": False,
        "stopped": "the run stopped before it wrote its report",
    }
    return write_results(Path(out), measured, environment.environment_info(), info, False)


def _stop_on_sigterm():
    """SIGTERM raises _StoppedError in the main thread (so the report is still written)."""
    if threading.current_thread() is not threading.main_thread():
        return None

    def stop(signum, frame):
        raise _StoppedError

    return signal.signal(signal.SIGTERM, stop)


def _restore_sigterm(previous) -> None:
    if previous is not None and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, previous)


def _end(process: subprocess.Popen) -> None:
    """Stop the worker: SIGTERM, then SIGKILL a few seconds later."""
    process.terminate()
    try:
        process.wait(timeout=3)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def assemble(measured: list[dict[str, Any]]) -> dict[str, Any]:
    """results.json's content from the records: one entry per implementation of a case,
    its calls of every round together, and each round's median."""
    entries: dict[tuple, dict[str, Any]] = {}
    ops, compile_times = [], []
    for record in measured:
        if record["kind"] == "ops":
            ops.append({key: record[key] for key in ("case", "who", "per_unit")})
            continue
        if record["kind"] == "compile":
            compile_times.append({key: record[key] for key in ("case", "who", "seconds")})
            continue
        key = tuple(record[k] for k in ("case", "dtype", "impl", "backend", "device"))
        entry = entries.setdefault(
            key,
            {
                "name": label(record["impl"], record["backend"], record["device"]),
                "fullname": "|".join(key),
                "group": None,
                "extra_info": {
                    k: record[k]
                    for k in (
                        "case",
                        "title",
                        "impl",
                        "backend",
                        "device",
                        "dtype",
                        "per_call",
                        "unit",
                        "flops",
                    )
                }
                | {"precision": record.get("precision")},
                "by_round": {},
            },
        )
        entry["by_round"].setdefault(record["round"], []).extend(record["times"])
    benchmarks = []
    for entry in entries.values():
        by_round = entry.pop("by_round")
        times = [t for r in sorted(by_round) for t in by_round[r]]
        entry["stats"] = {**summary(times), "data": times}
        entry["round_medians"] = [median_of(by_round[r]) for r in sorted(by_round)]
        benchmarks.append(entry)
    return {"benchmarks": benchmarks, "operations": ops, "compile_times": compile_times}
