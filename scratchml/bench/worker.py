"""The process that times the cases: ``python -m scratchml.bench.worker SETTINGS_JSON``.

:func:`scratchml.bench.runner.run` starts it with the run's thread settings in its
environment (they must be set before NumPy, PyTorch and JAX start their thread pools),
reads its progress lines, and writes the report once it is done. It appends each
measurement to the records file as soon as it is taken, durably, so that a worker that
dies (a crash, a killed job, a lost GPU) loses nothing it measured.

A run has ``rounds`` rounds; each round times every case once, and inside a case every
implementation one after another (seconds apart), so that load which drifts over minutes
on a shared machine weighs alike on the times whose ratios the report shows, and
separate rounds show how far a ratio moves over the run. Operation counts and compile
times come after the last round; a deadline stops the worker before a measurement that
would start after it.
"""

from __future__ import annotations

import json
import math
import statistics
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from .._files import complete_lines, durable_append
from . import cases as bench_cases
from . import precision
from .cases import Case, Implementation, UnavailableError
from .runner import EXIT_FAILURES


def done_ids(path: Path) -> set[str]:
    """The ids of the records already in ``path`` (a line torn by a crash is cut off)."""
    found = set()
    for line in complete_lines(path, repair=True):
        try:
            found.add(json.loads(line)["id"])
        except (json.JSONDecodeError, KeyError, TypeError):
            continue
    return found


def measurement_id(case: Case, implementation: Implementation, round_number: int) -> str:
    """A measurement's key in ``cases.jsonl``: case, implementation, backend, device and round."""
    return (
        f"{case.key}|{implementation.impl}|{implementation.backend}|{implementation.device}"
        f"|round{round_number}"
    )


def _line(case: Case, implementation: Implementation, seconds: float, rounds: str) -> str:
    per_unit = seconds / implementation.per_call
    return (
        f"{case.name:<13} {case.dtype:<8} {implementation.label:<30} "
        f"{_ms(per_unit):>9} ms / {case.unit}{rounds}"
    )


def _ms(seconds: float) -> str:
    value = seconds * 1e3
    return f"{value:,.1f}" if value >= 10 else f"{value:.3f}"


def run(settings: dict[str, Any]) -> int:
    """Time every case of the run, appending each measurement to the records file.

    Every case's times come first, round after round; the operation counts and compile
    times after them. With ``settings["deadline"]`` (seconds since the epoch) no
    measurement starts after it: a run short of time keeps the times it took.
    """
    records = Path(settings["records"])
    done = done_ids(records)
    rounds = int(settings["rounds"])
    deadline = settings.get("deadline")
    chosen = precision.check(settings.get("precision", precision.DEFAULT))
    precision.apply(chosen)
    found = bench_cases.build(
        settings["backends"],
        settings["quick"],
        settings.get("cases", ()),
        settings.get("dtypes", ()),
    )
    failed = 0
    for round_number in range(1, rounds + 1):
        for case in found:
            for implementation in case.implementations:
                key = measurement_id(case, implementation, round_number)
                if key in done:
                    continue
                if _out_of_time(deadline, f"{case.key} {implementation.label} and what follows"):
                    return EXIT_FAILURES if failed else 0
                failed += _time_one(
                    case, implementation, key, round_number, rounds, chosen, records
                )
    failed += _measure_after_the_times(found, records, done, deadline, settings["quick"])
    return EXIT_FAILURES if failed else 0


def _out_of_time(deadline: float | None, what: str) -> bool:
    """True, and says so, when ``deadline`` has passed: ``what`` is then not measured."""
    if deadline is None or time.time() < deadline:
        return False
    print(f"time limit reached: {what} not taken", flush=True)
    return True


def _time_one(
    case: Case,
    implementation: Implementation,
    key: str,
    round_number: int,
    rounds: int,
    chosen: str,
    records: Path,
) -> int:
    """Time one implementation of a case in one round and append its record; returns the
    failures (1 when it raised, 0 when it ran or cannot run here)."""
    calls = max(1, math.ceil(case.calls / rounds))
    who = f"{case.name:<13} {case.dtype:<8} {implementation.label:<30}"
    try:
        times = _call_times(implementation, calls, chosen)
    except UnavailableError as exc:
        print(f"{who} skipped: {exc}", flush=True)
        return 0
    except Exception:
        print(f"{who} FAILED", flush=True)
        traceback.print_exc(file=sys.stdout)
        return 1
    record = {
        "id": key,
        "kind": "times",
        "case": case.name,
        "title": case.title,
        "dtype": case.dtype,
        "unit": case.unit,
        "flops": case.flops,
        "impl": implementation.impl,
        "backend": implementation.backend,
        "device": implementation.device,
        "per_call": implementation.per_call,
        "precision": precision.label(case.dtype, implementation.device, chosen),
        "round": round_number,
        "times": times,
    }
    durable_append(records, json.dumps(record) + "\n")
    shown = f"  (round {round_number}/{rounds})" if rounds > 1 else ""
    print(_line(case, implementation, statistics.median(times), shown), flush=True)
    return 0


def _call_times(implementation: Implementation, calls: int, chosen: str) -> list[float]:
    """The seconds of ``calls`` timed calls, after the untimed preparation and warm-up.

    The prepared call, and the arrays it holds, go with this function's frame: freed
    before the next implementation prepares.
    """
    target = implementation.prepare()
    precision.apply(chosen)  # for a library the preparation loaded
    target()  # warm-up, untimed: first-call costs, JIT compilation
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        target()
        times.append(time.perf_counter() - start)
    return times


def _measure_after_the_times(
    found: list[Case], records: Path, done: set[str], deadline: float | None, quick: bool
) -> int:
    """Operation counts and compile times, once per case name (the float64 copy of a case
    shares them), after every time is taken: a cold JAX compile is seconds, and a run
    short of time spends them last. A quick run (does it all run?) times one compilation:
    the first case's. Returns the failures."""
    measured: set[str] = set()
    compiles_left = 1 if quick else len(found)
    failed = 0
    for case in found:
        if case.name in measured:
            continue
        measured.add(case.name)
        if (case.op_counts or case.compile_times) and _out_of_time(
            deadline, f"{case.name}'s operation counts and compile times and what follows"
        ):
            break
        failed += _measure_once(case, records, done, with_compile=compiles_left > 0)
        compiles_left -= bool(case.compile_times)
    return failed


def _measure_once(case: Case, records: Path, done: set[str], with_compile: bool = True) -> int:
    """Kernel-launching operations per unit and (``with_compile``) first-call compile
    times, once per case name (the float64 copy of a case shares them); returns the
    failures."""
    measures = [
        ("ops", "per_unit", who, count, f"{{:>9.0f}} kernel ops / {case.unit}", "counting the operations of")
        for who, count in case.op_counts.items()
    ] + [
        ("compile", "seconds", who, time_it, "{:>9.2f} s to compile", "timing the compilation of")
        for who, time_it in (case.compile_times if with_compile else {}).items()
    ]  # fmt: skip
    failed = 0
    for kind, field, who, measure, shown, doing in measures:
        key = f"{kind}|{case.name}|{who}"
        if key in done:
            continue
        done.add(key)
        try:
            value = float(measure())
        except Exception:
            failed += 1
            print(f"{case.name:<13} {doing} {who} FAILED", flush=True)
            traceback.print_exc(file=sys.stdout)
            continue
        record = {"id": key, "kind": kind, "case": case.name, "who": who, field: value}
        durable_append(records, json.dumps(record) + "\n")
        print(f"{case.name:<13} {'':<8} {who:<30} " + shown.format(value), flush=True)
    return failed


def main(argv: list[str] | None = None) -> int:
    """Entry point of the worker process: run the JSON job in ``argv[0]``; returns the exit code."""
    argv = sys.argv[1:] if argv is None else argv
    return run(json.loads(argv[0]))


if __name__ == "__main__":
    sys.exit(main())
