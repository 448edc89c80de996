"""``scratchml bench``: time the benchmark cases, then write a report and charts from the run.

The cases ship with the package (:mod:`scratchml.bench.cases`), so an installed
``scratchml[bench]`` runs them from any folder. The package is split by concern:

- :mod:`~scratchml.bench.cases`: the workloads and every implementation of each
  (scratchml on each backend, PyTorch, scikit-learn, JAX, the GEMM ceilings);
- :mod:`~scratchml.bench.runner` and :mod:`~scratchml.bench.worker`: the run, in rounds,
  each measurement appended to ``OUT/cases.jsonl`` as soon as it is taken (``--resume``);
- :mod:`~scratchml.bench.results`: rows and ratios (scratchml's time ÷ the other's), and
  the run's settings and title;
- :mod:`~scratchml.bench.labels`: what each implementation is called (every other module
  names them with it);
- :mod:`~scratchml.bench.report`, :mod:`~scratchml.bench.charts`: ``report.md``,
  ``time_by_case.png`` and ``ratios.png``;
- :mod:`~scratchml.bench.readme`: the README's table, from the committed reports;
- :mod:`~scratchml.bench.environment`: devices and library versions (the machine itself
  comes from :mod:`scratchml.machine`).

Typical use::

    scratchml bench --out benchmarks/results/cpu --readme        # full run, this machine
    scratchml bench --quick                                        # small shapes, quickly
    scratchml bench --backend cupy --backend torch                 # on an NVIDIA GPU
    scratchml bench --out benchmarks/results/cpu --resume         # after a run that died
    scratchml bench --time-limit 120 --out DIR                     # a report within 2 minutes
    scratchml bench --render-only --out DIR                        # the report of a killed run
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .. import backends
from .cases import names as case_names
from .precision import PRECISIONS
from .readme import README_END, README_START, committed_results, readme_block, update_readme
from .report import render, render_report
from .results import DIRECTION, Ratio, Ratios, Row, Share, ratios, rows
from .runner import CASES_JSONL, RENDER_SECONDS, RESULTS_JSON, render_records, run

__all__ = [
    "CASES_JSONL",
    "DIRECTION",
    "README_END",
    "README_START",
    "RESULTS_JSON",
    "Ratio",
    "Ratios",
    "Row",
    "Share",
    "add_arguments",
    "committed_results",
    "main",
    "ratios",
    "readme_block",
    "render",
    "render_records",
    "render_report",
    "rows",
    "run",
    "update_readme",
]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``scratchml bench`` flags to ``parser``: what to time, how the run goes,
    and what it writes (a group of ``--help`` each)."""
    _add_what_to_time(parser.add_argument_group("what to time"))
    _add_how_it_runs(parser.add_argument_group("how the run goes"))
    _add_what_it_writes(parser.add_argument_group("what it writes"))


def _add_what_to_time(group: argparse._ArgumentGroup) -> None:
    """--backend, --case, --dtype, --quick, --rounds, --precision."""
    group.add_argument(
        "--backend",
        action="append",
        choices=backends.BACKENDS,
        help="scratchml backend to time (repeat for several; default: every usable one but "
        "array_api_strict)",
    )
    group.add_argument(
        "--case",
        action="append",
        dest="cases",
        metavar="NAME",
        help=f"time only this case (repeat for several): {', '.join(case_names())}",
    )
    group.add_argument(
        "--dtype", action="append", dest="dtypes", choices=("float32", "float64"),
        help="time only this dtype (default: both)",
    )  # fmt: skip
    group.add_argument(
        "--quick", action="store_true", help="small shapes, few calls, one round: does it all run?"
    )
    group.add_argument(
        "--rounds",
        type=int,
        help="time every case this many times, in separate rounds; the report shows each "
        "ratio's range over them (default: 3, or 1 with --quick)",
    )
    group.add_argument(
        "--precision",
        choices=PRECISIONS,
        default="float32",
        help="float32 matrix products on a GPU: full FP32 on every library (float32, the "
        "default) or TF32 on every library (tf32); recorded in every row",
    )


def _add_how_it_runs(group: argparse._ArgumentGroup) -> None:
    """--threads, --time-limit, --resume."""
    group.add_argument(
        "--threads",
        type=int,
        help="CPU threads per library (default: the libraries' own, one per core; 1 with --quick)",
    )
    group.add_argument(
        "--time-limit",
        type=float,
        metavar="SECONDS",
        help="seconds for the whole call: no measurement starts in the last "
        f"{RENDER_SECONDS}, and the report holds what was measured by then (--resume later "
        "takes the rest)",
    )
    group.add_argument(
        "--resume",
        action="store_true",
        help="keep the measurements an interrupted run left in OUT/cases.jsonl; take only the rest",
    )


def _add_what_it_writes(group: argparse._ArgumentGroup) -> None:
    """--out, --note, --readme, --render-only."""
    group.add_argument(
        "--out",
        type=Path,
        help="folder for results.json, report.md and the charts (default: "
        "benchmarks/results/<cpu|gpu-MODEL> in a source checkout, else "
        "./scratchml-bench/<cpu|gpu-MODEL>; a temporary folder with --quick)",
    )
    group.add_argument("--note", help="a sentence about the machine or run, for the report")
    group.add_argument(
        "--readme",
        action="store_true",
        help="then regenerate README.md's benchmark table from benchmarks/results/*/results.json "
        "(in a source checkout)",
    )
    group.add_argument(
        "--render-only",
        action="store_true",
        help="do not run: re-render report.md and the charts from OUT/results.json, or from "
        "the measurements in OUT/cases.jsonl of a run that stopped before writing them",
    )


def main(args: argparse.Namespace) -> int:
    """Run ``scratchml bench`` with parsed arguments; returns the exit code."""
    code = 0
    try:
        if args.render_only:
            if args.out is None:
                raise ValueError("--render-only needs --out, the folder holding results.json")
            results, records = args.out / RESULTS_JSON, args.out / CASES_JSONL
            newer = records.exists() and (
                not results.exists() or records.stat().st_mtime > results.stat().st_mtime
            )
            for path in render_records(args.out, args.note) if newer else render(args.out):
                print(f"wrote {path}")
        elif not (args.readme and args.out is None and not args.quick and not args.backend):
            # (`scratchml bench --readme` alone only regenerates the README's table.)
            code = run(
                args.backend,
                quick=args.quick,
                out=args.out,
                note=args.note,
                threads=args.threads,
                resume=args.resume,
                rounds=args.rounds,
                only=args.cases or (),
                dtypes=args.dtypes or (),
                time_limit=args.time_limit,
                matmul_precision=args.precision,
            )
        if args.readme:
            changed = update_readme()
            print(f"README.md benchmark table {'updated' if changed else 'already up to date'}")
    except (ValueError, FileNotFoundError) as exc:
        print(f"scratchml bench: {exc}", file=sys.stderr)
        return 2
    return code
