"""The process that times the cases: ``python -m scratchml.bench.worker SETTINGS_JSON``.

:func:`scratchml.bench.runner.run` starts it with the run's thread settings in its
environment (they must be set before NumPy, PyTorch and JAX start their thread pools),
reads its progress lines, and writes the report once it is done. It appends each
measurement to the records file as soon as it is taken, durably, so that a worker that
dies (a crash, a killed job, a lost GPU) loses nothing it measured.

A run has ``rounds`` rounds; each round times every case once, and inside a case every
implementation one after another (seconds apart), so that load which drifts over minutes
on a shared machine weighs alike on the times whose ratios the report shows, and
separate rounds show how far a ratio moves over the run.
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
    """Time every case of the run, appending each measurement to the records file."""
    records = Path(settings["records"])
    done = done_ids(records)
    rounds = int(settings["rounds"])
    found = bench_cases.build(
        settings["backends"],
        settings["quick"],
        settings.get("cases", ()),
        settings.get("dtypes", ()),
    )
    failed = 0
    for round_number in range(1, rounds + 1):
        for case in found:
            calls = max(1, math.ceil(case.calls / rounds))
            for implementation in case.implementations:
                key = measurement_id(case, implementation, round_number)
                if key in done:
                    continue
                try:
                    target = implementation.prepare()
                    target()  # warm-up, untimed: first-call costs, JIT compilation
                    times = []
                    for _ in range(calls):
                        start = time.perf_counter()
                        target()
                        times.append(time.perf_counter() - start)
                except UnavailableError as exc:
                    print(
                        f"{case.name:<13} {case.dtype:<8} {implementation.label:<30} skipped: {exc}",
                        flush=True,
                    )
                    continue
                except Exception:
                    failed += 1
                    print(
                        f"{case.name:<13} {case.dtype:<8} {implementation.label:<30} FAILED",
                        flush=True,
                    )
                    traceback.print_exc(file=sys.stdout)
                    continue
                finally:
                    target = None  # free the implementation's arrays before the next one
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
                    "round": round_number,
                    "times": times,
                }
                durable_append(records, json.dumps(record) + "\n")
                shown = f"  (round {round_number}/{rounds})" if rounds > 1 else ""
                print(_line(case, implementation, statistics.median(times), shown), flush=True)
            if round_number == 1:
                failed += _count_operations(case, records, done)
                failed += _time_compilation(case, records, done)
    return EXIT_FAILURES if failed else 0


def _count_operations(case: Case, records: Path, done: set[str]) -> int:
    """Kernel-launching operations per unit, once per case name; returns the failures."""
    failed = 0
    for who, count in case.op_counts.items():
        key = f"ops|{case.name}|{who}"
        if key in done:
            continue
        done.add(key)  # the float64 copy of the case shares the count
        try:
            per_unit = float(count())
        except Exception:
            failed += 1
            print(f"{case.name:<13} counting the operations of {who} FAILED", flush=True)
            traceback.print_exc(file=sys.stdout)
            continue
        record = {"id": key, "kind": "ops", "case": case.name, "who": who, "per_unit": per_unit}
        durable_append(records, json.dumps(record) + "\n")
        print(
            f"{case.name:<13} {'':<8} {who:<30} {per_unit:>9.0f} kernel ops / {case.unit}",
            flush=True,
        )
    return failed


def _time_compilation(case: Case, records: Path, done: set[str]) -> int:
    """The first call's compile time, once per case name; returns the failures."""
    failed = 0
    for who, measure in case.compile_times.items():
        key = f"compile|{case.name}|{who}"
        if key in done:
            continue
        done.add(key)
        try:
            seconds = float(measure())
        except Exception:
            failed += 1
            print(f"{case.name:<13} timing the compilation of {who} FAILED", flush=True)
            traceback.print_exc(file=sys.stdout)
            continue
        record = {"id": key, "kind": "compile", "case": case.name, "who": who, "seconds": seconds}
        durable_append(records, json.dumps(record) + "\n")
        print(f"{case.name:<13} {'':<8} {who:<30} {seconds:>9.2f} s to compile", flush=True)
    return failed


def main(argv: list[str] | None = None) -> int:
    """Entry point of the worker process: run the JSON job in ``argv[0]``; returns the exit code."""
    argv = sys.argv[1:] if argv is None else argv
    return run(json.loads(argv[0]))


if __name__ == "__main__":
    sys.exit(main())
