"""``scratchml bench``: run the benchmark suites, then write a report and charts from the run.

The suites in ``benchmarks/`` are pytest-benchmark tests (kept out of the default test
run). This module runs them in a subprocess with ``--benchmark-json``, and renders
everything a reader sees from that one JSON file: ``report.md`` (machine, library
versions, per case the median time per epoch, its IQR, the ratios to PyTorch eager and
to scikit-learn, and the share of the GEMM ceiling measured in the same run),
``time_by_case.png`` and ``speedup.png``. Every figure is a median of that run or a ratio
of two medians of that run. The README's benchmark table is rendered from the committed
reports by :func:`readme_block`, so it cannot drift from them.

Typical use::

    scratchml bench --out benchmarks/results/cpu --readme        # full run, this machine
    scratchml bench --quick                                        # under a minute
    scratchml bench --backend cupy --backend torch --out benchmarks/results/gpu-h100
    scratchml bench --out benchmarks/results/cpu --resume         # after a run that died

Each case is appended to ``OUT/cases.jsonl`` as soon as it is timed; the files a reader
sees are written once the run is complete (``cases.jsonl`` is then removed). A run that
dies part way (a crash, a killed job, a lost GPU) leaves its timed cases there, and
``--resume`` times only the others.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import importlib.metadata
import importlib.util
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from . import backends

QUICK_ENV = "SCRATCHML_BENCH_QUICK"
BACKENDS_ENV = "SCRATCHML_BENCH_BACKENDS"
# Where the suites append each case as soon as it is timed (one JSON object per line), so
# that a run that dies part way keeps its cases and ``--resume`` times only the rest.
CASES_ENV = "SCRATCHML_BENCH_CASES"
CASES_JSONL = "cases.jsonl"
PROGRESS_PREFIX = "[bench] "
CASE_KEYS = ("case", "title", "impl", "backend", "device", "dtype", "per_call", "unit", "flops")
RESULTS_JSON = "results.json"
README_START = "<!-- bench-table:start -->"
README_END = "<!-- bench-table:end -->"
_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")

# Where the suites and the committed reports live: next to the package in a source checkout.
REPO_ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS_DIR = REPO_ROOT / "benchmarks"
RESULTS_DIR = BENCHMARKS_DIR / "results"

PEERS = {"pytorch": "PyTorch eager", "sklearn": "scikit-learn", "jax": "JAX jit"}
# The library whose matmuls an implementation runs on: its GEMM ceiling.
_COMPUTE_LIBRARY = {"pytorch": "torch", "sklearn": "numpy", "jax": "jax"}
_SCRATCHML_LIBRARY = {"numpy": "numpy", "array_api_strict": "numpy", "torch": "torch"}


# --- the run's settings, shared with benchmarks/ ---------------------------------------


def quick_mode() -> bool:
    """True when the suites run in quick mode (small shapes, few rounds)."""
    return os.environ.get(QUICK_ENV, "") == "1"


def selected_backends() -> list[str]:
    """scratchml backends this run times: the environment's choice, else every usable one."""
    chosen = os.environ.get(BACKENDS_ENV, "")
    if not chosen:
        return backends.available()
    return [name for name in chosen.split(",") if name]


@functools.cache
def cuda_available() -> bool:
    """True when PyTorch sees a CUDA device."""
    if importlib.util.find_spec("torch") is None:
        return False
    import torch

    return bool(torch.cuda.is_available())


def device_of(backend: str) -> str:
    """Where scratchml computes on ``backend``: CuPy and PyTorch (with CUDA) on the GPU."""
    if backend == "cupy" or (backend == "torch" and cuda_available()):
        return "cuda"
    return "cpu"


def selected_devices() -> set[str]:
    """Devices of the selected backends; peers run on each of them."""
    return {device_of(name) for name in selected_backends()}


# --- what machine and which libraries ----------------------------------------------------


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _gpus() -> list[str]:
    """'name, driver D' per NVIDIA GPU (nvidia-smi, else PyTorch/CuPy), or []."""
    if shutil.which("nvidia-smi"):
        try:
            out = subprocess.run(
                [
                    "nvidia-smi",
                    "--query-gpu=name,driver_version,memory.total",
                    "--format=csv,noheader",
                ],
                capture_output=True,
                text=True,
                timeout=20,
                check=True,
            ).stdout
            return [
                f"{name.strip()}, driver {driver.strip()}, {memory.strip()}"
                for name, driver, memory in (line.split(",") for line in out.strip().splitlines())
            ]
        except (OSError, subprocess.SubprocessError, ValueError):
            pass
    if cuda_available():
        import torch

        return [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    return []


def _version(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def environment_info() -> dict[str, Any]:
    """The machine and library versions, for the report (JSON-serialisable)."""
    versions: dict[str, str] = {"python": platform.python_version()}
    for name, distribution in [
        ("scratchml", "scratchml"),
        ("numpy", "numpy"),
        ("array-api-compat", "array-api-compat"),
        ("array-api-strict", "array-api-strict"),
        ("torch", "torch"),
        ("scikit-learn", "scikit-learn"),
        ("jax", "jax"),
        ("jaxlib", "jaxlib"),
        ("pytest-benchmark", "pytest-benchmark"),
    ]:
        found = _version(distribution)
        if found:
            versions[name] = found
    if importlib.util.find_spec("cupy") is not None:
        try:
            import cupy

            versions["cupy"] = cupy.__version__
            versions["cuda runtime (cupy)"] = str(cupy.cuda.runtime.runtimeGetVersion())
        except Exception as exc:  # a CuPy without a usable CUDA still has a version to report
            versions["cupy"] = f"not usable ({type(exc).__name__})"
    if "torch" in versions:
        import torch

        versions["torch"] += f" (CUDA {torch.version.cuda}, CPU threads: {torch.get_num_threads()})"
    blas = []
    if importlib.util.find_spec("threadpoolctl") is not None:
        import numpy  # noqa: F401  (loads the BLAS threadpoolctl should see)
        import threadpoolctl

        for pool in threadpoolctl.threadpool_info():
            if pool.get("user_api") == "blas":
                blas.append(
                    f"{pool.get('internal_api')} {pool.get('version')} "
                    f"(threads: {pool.get('num_threads')})"
                )
    return {
        "scratchml_env": {
            "cpu_model": _cpu_model(),
            "logical_cpus": os.cpu_count(),
            "usable_cpus": len(os.sched_getaffinity(0))
            if hasattr(os, "sched_getaffinity")
            else None,
            "gpus": _gpus(),
            "os": f"{platform.system()} {platform.release()}",
            "versions": versions,
            "blas": sorted(set(blas)),
        }
    }


# --- rows of a run ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One timed case of a run, per unit of work (an epoch, a fit, ...)."""

    name: str
    group: str | None
    case: str | None
    title: str
    impl: str | None
    backend: str | None
    device: str | None
    dtype: str | None
    unit: str
    per_call: float  # units of work per timed call
    flops: float | None
    median: float  # seconds per unit
    iqr: float  # seconds per unit
    rounds: int

    @property
    def label(self) -> str:
        """Who ran it, in words: "scratchml · numpy", "PyTorch eager", "GEMM ceiling · torch"."""
        return _label(self.name, self.impl, self.backend, self.device)

    @property
    def library(self) -> str | None:
        """The library whose matmuls this row runs on (its GEMM ceiling's library)."""
        if self.impl == "scratchml":
            return _SCRATCHML_LIBRARY.get(self.backend or "", self.backend)
        if self.impl == "gemm":
            return self.backend
        return _COMPUTE_LIBRARY.get(self.impl or "")


def _label(name: str, impl: str | None, backend: str | None, device: str | None) -> str:
    on_gpu = " (cuda)" if device == "cuda" else ""
    if impl == "scratchml":
        return f"scratchml · {backend}{on_gpu}"
    if impl == "gemm":
        return f"GEMM ceiling · {backend}{on_gpu}"
    if impl in PEERS:
        return PEERS[impl] + on_gpu
    if impl:  # another implementation a suite compares with, e.g. "one-by-one"
        return f"{impl} · {backend}{on_gpu}"
    return name.removeprefix("test_")


def rows(data: dict[str, Any]) -> list[Row]:
    """The run's cases in run order, times per unit (pytest-benchmark JSON in)."""
    found = []
    for bench in data.get("benchmarks", []):
        info = bench.get("extra_info", {})
        per_call = float(info.get("per_call", 1))
        stats = bench["stats"]
        found.append(
            Row(
                name=bench["name"],
                group=bench.get("group"),
                case=info.get("case"),
                title=info.get("title", bench.get("group") or bench["name"]),
                impl=info.get("impl"),
                backend=info.get("backend"),
                device=info.get("device"),
                dtype=info.get("dtype"),
                unit=info.get("unit", "call"),
                per_call=per_call,
                flops=info.get("flops"),
                median=stats["median"] / per_call,
                iqr=stats["iqr"] / per_call,
                rounds=int(stats["rounds"]),
            )
        )
    return found


def _find(table: list[Row], **match: Any) -> Row | None:
    for row in table:
        if all(getattr(row, key) == value for key, value in match.items()):
            return row
    return None


@dataclass(frozen=True)
class Ratios:
    """A row's time over its peers' (same case and dtype; PyTorch and JAX on the same device)."""

    pytorch: float | None
    sklearn: float | None
    jax: float | None
    ceiling_percent: float | None
    others: dict[str, float] = field(default_factory=dict)  # ÷ other implementations, by name


def ratios(row: Row, table: list[Row]) -> Ratios:
    """Time ÷ PyTorch, ÷ scikit-learn, ÷ JAX (below 1: faster), and % of the GEMM ceiling."""
    if row.impl == "gemm":  # a ceiling is a yardstick, not a contender
        return Ratios(None, None, None, None)
    same = {"case": row.case, "dtype": row.dtype}
    pytorch = _find(table, impl="pytorch", device=row.device, **same)
    sklearn = _find(table, impl="sklearn", **same)
    jax = _find(table, impl="jax", device=row.device, **same)
    ceiling = _find(table, impl="gemm", backend=row.library, device=row.device, **same)

    def over(peer: Row | None) -> float | None:
        return row.median / peer.median if peer is not None and peer.median > 0 else None

    others = {}
    for impl in _other_impls(r for r in table if r.case == row.case and r.dtype == row.dtype):
        other = _find(table, impl=impl, device=row.device, **same) or _find(
            table, impl=impl, **same
        )
        if other is not row and over(other) is not None:
            others[impl] = over(other)
    return Ratios(
        pytorch=over(pytorch),
        sklearn=over(sklearn),
        jax=over(jax),
        ceiling_percent=100 * ceiling.median / row.median if ceiling and row.median > 0 else None,
        others=others,
    )


def _other_impls(table: Iterable[Row]) -> list[str]:
    """Implementations other than scratchml, the peers and the ceiling (e.g. "one-by-one")."""
    known = {"scratchml", "gemm", *PEERS}
    return _ordered(row.impl for row in table if row.impl and row.impl not in known)


# --- formatting -------------------------------------------------------------------------------


def _ms(seconds: float) -> str:
    value = seconds * 1e3
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    if value >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def _ratio(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}×"


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f}%"


def _gflops(row: Row) -> str:
    if not row.flops or row.median <= 0:
        return "—"
    return f"{row.flops / row.median / 1e9:.1f}"


def _ordered(values: Iterable[Any]) -> list[Any]:
    """Distinct values in first-seen order."""
    return list(dict.fromkeys(values))


def _impl_order(row: Row) -> tuple[int, str]:
    rank = {"scratchml": 0, "pytorch": 1, "jax": 2, "sklearn": 3, "gemm": 4}
    backend_rank = {name: i for i, name in enumerate(backends.BACKENDS)}
    return rank.get(row.impl or "", 5), f"{backend_rank.get(row.backend or '', 9)}{row.device}"


def _run_info(data: dict[str, Any]) -> dict[str, Any]:
    return data.get("scratchml_bench", {})


def _env(data: dict[str, Any]) -> dict[str, Any]:
    return data.get("machine_info", {}).get("scratchml_env", {})


def machine_line(data: dict[str, Any]) -> str:
    """The machine in one line: CPU model and cores, GPUs."""
    env = _env(data)
    cores = env.get("logical_cpus")
    usable = env.get("usable_cpus")
    line = f"{env.get('cpu_model', '?')}, {cores} logical cores"
    if usable and usable != cores:
        line += f" ({usable} usable)"
    gpus = env.get("gpus") or []
    return line + ("; GPU: " + "; ".join(gpus) if gpus else "; no GPU")


# --- report.md --------------------------------------------------------------------------------


def render_report(data: dict[str, Any]) -> str:
    """The Markdown report of one run (pytest-benchmark JSON with scratchml's extra info)."""
    info = _run_info(data)
    env = _env(data)
    table = rows(data)
    quick = bool(info.get("quick"))
    lines = [f"# scratchml benchmarks: {info.get('name', 'run')}", ""]
    if quick:
        lines += [
            "> **Quick run** (`--quick`): small shapes, 3 rounds per case and one thread per",
            "> library, to check that everything runs. Its figures say little about speed;",
            "> read a full run's report.",
            "",
        ]
    versions = env.get("versions", {})
    lines += [
        f"- **Machine**: {machine_line(data)}; {env.get('os', '?')}.",
        "- **Libraries**: "
        + ", ".join(f"{name} {version}" for name, version in versions.items())
        + ".",
    ]
    if env.get("blas"):
        lines.append("- **BLAS** (NumPy, scikit-learn): " + "; ".join(env["blas"]) + ".")
    lines += [
        f"- **Run**: {data.get('datetime', '?')[:19].replace('T', ' ')} UTC, "
        f"`{info.get('command', 'scratchml bench')}`, {len(table)} timed cases in "
        f"{info.get('seconds', 0):.0f} s"
        + (
            f" (resumed: {info['resumed']} of them timed by the interrupted run before)"
            if info.get("resumed")
            else ""
        )
        + "; scratchml backends: "
        f"{', '.join(info.get('backends', [])) or '?'}; CPU threads per library: "
        f"{info.get('threads') or 'the libraries’ defaults'}.",
    ]
    if info.get("note"):
        lines.append(f"- **Note**: {info['note']}")
    lines += [
        "",
        "How to read it. Every implementation does the same work on the same data, widths and",
        "dtype: full-batch SGD epochs (forward, backward, update; tanh hidden layers, softmax",
        "cross-entropy, no momentum, no L2). Each builds its network and trains one epoch,",
        "untimed; a timed call then trains a fixed number of epochs more (a warm-started `fit`",
        "for scratchml and scikit-learn, input checks included; a loop of steps for PyTorch and",
        "JAX), and the table divides it by its epochs. One untimed warm-up call comes first (it",
        "compiles JAX's step).",
        "*median* and *IQR* are over the timed calls. *÷ PyTorch* is the row's median over",
        "PyTorch eager's (`torch.optim.SGD`) on the same device; *÷ scikit-learn* over",
        '`MLPClassifier(solver="sgd", batch_size=n, momentum=0, shuffle=False)`\'s',
        "warm-started `fit(max_iter=epochs)`; *÷ JAX* over a `jax.jit`-compiled step (value_and_grad and the",
        "SGD update) on the same device. Below 1 the row is faster. *% GEMM ceiling* is the time",
        "of the epoch's matrix products alone (per layer A @ W, Aᵀ @ dZ, dZ @ Wᵀ: 6·n·Σ n_in·n_out",
        "flops), on the row's own library and device, in this run, over the row's time; a",
        "share above 100% can only come from noise between the two measurements.",
        "GPU work is waited for before the clock is read. The machine may be shared with other",
        "work while it runs: the medians and their ratios are what to read.",
        "",
    ]
    if not quick:
        lines += _targets(table)
    known = [row for row in table if row.case is not None]
    for case in _ordered(row.case for row in known):
        case_rows = [row for row in known if row.case == case]
        first = case_rows[0]
        unit = first.unit
        lines += [
            f"## {case}: {first.title}",
            "",
            f"{first.rounds} timed calls, each {first.per_call:g} × {unit}.",
            "",
        ]
        others = _other_impls(case_rows)
        lines += [
            f"| dtype | implementation | ms / {unit} | IQR (ms) | GFLOP/s | ÷ PyTorch "
            "| ÷ scikit-learn | ÷ JAX | "
            + "".join(f"÷ {impl} | " for impl in others)
            + "% GEMM ceiling |",
            "|---|---|" + "---:|" * (7 + len(others)),
        ]
        for dtype in _ordered(row.dtype for row in case_rows):
            for row in sorted((r for r in case_rows if r.dtype == dtype), key=_impl_order):
                ratio = ratios(row, table)
                label = f"**{row.label}**" if row.impl == "scratchml" else row.label
                lines.append(
                    f"| {dtype} | {label} | {_ms(row.median)} | {_ms(row.iqr)} | {_gflops(row)} "
                    f"| {_ratio(ratio.pytorch)} | {_ratio(ratio.sklearn)} | {_ratio(ratio.jax)} | "
                    + "".join(f"{_ratio(ratio.others.get(impl))} | " for impl in others)
                    + f"{_percent(ratio.ceiling_percent)} |"
                )
        lines.append("")
        if case == "normal":
            lines += [
                "The normal-equation fit is one fit per call; its GEMM ceiling is Xᵀ X alone.",
                "",
            ]
    lines += _notes(table)
    lines += _other_groups([row for row in table if row.case is None])
    lines += [
        "## Charts",
        "",
        "![median time per unit of work, by case and implementation](time_by_case.png)",
        "",
        "![speed-up of scratchml against each peer](speedup.png)",
        "",
    ]
    return "\n".join(lines)


def _notes(table: list[Row]) -> list[str]:
    lines = []
    if any(row.backend == "array_api_strict" for row in table):
        lines += [
            "array_api_strict is there to prove portability, not speed: it wraps NumPy and",
            "checks every call, and in a full run it times the small cases only.",
            "",
        ]
    return lines


def _other_groups(table: list[Row]) -> list[str]:
    """Cases that recorded no case name: one plain table per pytest-benchmark group."""
    lines = []
    for group in _ordered(row.group for row in table):
        group_rows = sorted((r for r in table if r.group == group), key=lambda r: r.median)
        fastest = group_rows[0].median
        lines += [
            f"## {group or 'ungrouped'}",
            "",
            "| case | median (ms) | IQR (ms) | rounds | × fastest |",
            "|---|---:|---:|---:|---:|",
        ]
        for row in group_rows:
            lines.append(
                f"| {row.label} | {_ms(row.median)} | {_ms(row.iqr)} | {row.rounds} "
                f"| {row.median / fastest:.2f} |"
            )
        lines.append("")
    return lines


# The speed goals this project tracks, checked against the run (float32, full shapes).
_TARGETS = [
    ("tiny", "cpu", "pytorch", 0.5, "tiny epoch ≤ 0.5 × PyTorch eager's"),
    ("spiral", "cpu", "pytorch", 0.5, "spiral epoch ≤ 0.5 × PyTorch eager's"),
    ("spiral", "cpu", "sklearn", 0.5, "spiral epoch ≥ 2 × faster than scikit-learn"),
    ("wide", "cpu", "ceiling", 90.0, "wide ≥ 90% of the GEMM ceiling"),
    ("spiral", "cuda", "pytorch", 1.0, "spiral at least as fast as PyTorch eager CUDA"),
    ("wide", "cuda", "pytorch", 1.0, "wide at least as fast as PyTorch eager CUDA"),
]


def _targets(table: list[Row]) -> list[str]:
    found = []
    for case, device, peer, goal, text in _TARGETS:
        for row in table:
            if not (row.impl == "scratchml" and row.case == case and row.dtype == "float32"):
                continue
            if row.device != device or row.backend == "array_api_strict":
                continue
            ratio = ratios(row, table)
            if peer == "ceiling":
                value, met = ratio.ceiling_percent, None
                if value is not None:
                    met, shown = value >= goal, f"{value:.0f}%"
            else:
                value = ratio.pytorch if peer == "pytorch" else ratio.sklearn
                if value is not None:
                    met, shown = value <= goal, f"{value:.2f}×"
            if value is None:
                continue
            found.append(f"| {text} | {row.label} | {shown} | {'met' if met else 'not met'} |")
    if not found:
        return []
    return [
        "## Targets (float32)",
        "",
        "| target | backend | measured | |",
        "|---|---|---:|---|",
        *found,
        "",
    ]


# --- charts -------------------------------------------------------------------------------------


def render_charts(data: dict[str, Any], out: Path) -> list[Path]:
    """time_by_case.png (log scale) and speedup.png, drawn headless (Agg)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    table = [row for row in rows(data) if row.case is not None]
    if not table:
        return []
    out.mkdir(parents=True, exist_ok=True)
    quick = " (quick run)" if _run_info(data).get("quick") else ""
    dtypes = _ordered(row.dtype for row in table)
    cases = _ordered(row.case for row in table)
    contenders = sorted((row for row in table if row.impl != "gemm"), key=_impl_order)
    labels = _ordered(row.label for row in contenders)
    colors = {label: plt.get_cmap("tab10")(i % 10) for i, label in enumerate(labels)}
    plain = FuncFormatter(lambda value, _: f"{value:g}")

    # Time by case and implementation; a black tick on a bar marks its library's GEMM ceiling.
    figure_width = max(12.0, 2.0 * len(cases) + 3.0)
    fig, axes = plt.subplots(
        len(dtypes), 1, figsize=(figure_width, 4.4 * len(dtypes)), squeeze=False
    )
    width = 0.8 / max(len(labels), 1)
    for ax, dtype in zip(axes[:, 0], dtypes, strict=True):
        cases = _ordered(row.case for row in table if row.dtype == dtype)
        for j, label in enumerate(labels):
            for i, case in enumerate(cases):
                row = _find(table, case=case, dtype=dtype, label=label)
                if row is None:
                    continue
                x = i - 0.4 + width * (j + 0.5)
                ax.bar(x, row.median * 1e3, width, color=colors[label], label=label)
                ceiling = ratios(row, table).ceiling_percent
                if ceiling is not None:
                    ax.hlines(
                        row.median * 1e3 * ceiling / 100, x - width / 2, x + width / 2,
                        colors="black", linewidth=2, label="GEMM ceiling of the bar's library",
                    )  # fmt: skip
        units = {case: _find(table, case=case).unit for case in cases}
        ax.set_xticks(
            range(len(cases)),
            [f"{case}\n" + textwrap.fill(f"(per {units[case]})", 16) for case in cases],
            fontsize=9,
        )
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(plain)
        ax.set_ylabel("median ms per unit (log scale)")
        ax.set_title(f"{dtype}: time by case and implementation{quick}")
        ax.grid(axis="y", which="both", alpha=0.3)
        handles, names = ax.get_legend_handles_labels()
        unique = dict(zip(names, handles, strict=True))
        ax.legend(unique.values(), unique.keys(), fontsize=8, loc="upper left",
                  bbox_to_anchor=(1.01, 1.0))  # fmt: skip
    fig.tight_layout()
    paths = [out / "time_by_case.png"]
    fig.savefig(paths[0], dpi=110)
    plt.close(fig)

    # Speed-up of each scratchml backend against each peer (peer time ÷ scratchml time).
    peers = [impl for impl in PEERS if any(row.impl == impl for row in table)]
    ours = _ordered(row.label for row in contenders if row.impl == "scratchml")
    fig, axes = plt.subplots(
        max(len(peers), 1), 1, figsize=(12, 3.8 * max(len(peers), 1)), squeeze=False
    )
    width = 0.8 / max(len(ours), 1)
    for ax, peer in zip(axes[:, 0], peers, strict=False):
        speedups = {}
        for case in cases:
            for dtype in dtypes:
                for label in ours:
                    row = _find(table, case=case, dtype=dtype, label=label)
                    value = getattr(ratios(row, table), peer) if row is not None else None
                    if value:
                        speedups[case, dtype, label] = 1 / value
        groups = _ordered((case, dtype) for case, dtype, _ in speedups)
        for j, label in enumerate(ours):
            xs = [i - 0.4 + width * (j + 0.5) for i, group in enumerate(groups)
                  if (*group, label) in speedups]  # fmt: skip
            heights = [speedups[*group, label] for group in groups if (*group, label) in speedups]
            if xs:
                ax.bar(xs, heights, width, label=label, color=colors.get(label))
        ax.axhline(1.0, color="black", linewidth=1)
        ax.set_xticks(range(len(groups)), [f"{case}\n{dtype}" for case, dtype in groups])
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(plain)
        ax.yaxis.set_minor_formatter(plain)
        ax.tick_params(axis="y", which="minor", labelsize=7)
        ax.set_ylabel(f"{PEERS[peer]} time ÷ scratchml's")
        ax.set_title(f"speed-up against {PEERS[peer]} (above 1: scratchml is faster){quick}")
        ax.grid(axis="y", which="both", alpha=0.3)
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    paths.append(out / "speedup.png")
    fig.savefig(paths[1], dpi=110)
    plt.close(fig)
    return paths


# --- the README table -------------------------------------------------------------------------


def committed_results(root: Path = RESULTS_DIR) -> list[Path]:
    """results.json of every full (non-quick) report under ``root``, sorted by folder."""
    found = []
    for path in sorted(root.glob(f"*/{RESULTS_JSON}")):
        data = json.loads(path.read_text())
        if not _run_info(data).get("quick"):
            found.append(path)
    return found


def readme_table(data: dict[str, Any], report_link: str) -> str:
    """A compact float32 table of one run: scratchml's backends against the peers."""
    table = rows(data)
    others = _other_impls(table)
    lines = [
        f"**{_run_info(data).get('name', 'run')}** — {machine_line(data)}; "
        f"{data.get('datetime', '?')[:10]} ([full report]({report_link}))",
        "",
        "| case | scratchml on | ms per unit | ÷ PyTorch eager | ÷ scikit-learn | ÷ JAX | "
        + "".join(f"÷ {impl} | " for impl in others)
        + "% GEMM ceiling |",
        "|---|---|" + "---:|" * (5 + len(others)),
    ]
    for row in table:
        if row.impl != "scratchml" or row.dtype != "float32" or row.backend == "array_api_strict":
            continue
        ratio = ratios(row, table)
        device = " (cuda)" if row.device == "cuda" else ""
        lines.append(
            f"| {row.case} | {row.backend}{device} | {_ms(row.median)} ms / {row.unit} "
            f"| {_ratio(ratio.pytorch)} | {_ratio(ratio.sklearn)} | {_ratio(ratio.jax)} | "
            + "".join(f"{_ratio(ratio.others.get(impl))} | " for impl in others)
            + f"{_percent(ratio.ceiling_percent)} |"
        )
    return "\n".join(lines)


def readme_block(root: Path = RESULTS_DIR, readme_dir: Path = REPO_ROOT) -> str:
    """What goes between the README's bench-table markers: one table per committed report."""
    parts = [
        README_START,
        "<!-- generated by `scratchml bench --readme` from benchmarks/results/*/results.json;"
        " do not edit by hand -->",
        "",
    ]
    for path in committed_results(root):
        data = json.loads(path.read_text())
        link = os.path.relpath(path.parent / "report.md", readme_dir).replace(os.sep, "/")
        parts += [readme_table(data, link), ""]
    parts.append(README_END)
    return "\n".join(parts)


def update_readme(readme: Path = REPO_ROOT / "README.md", root: Path = RESULTS_DIR) -> bool:
    """Replace the README's block between the markers; True if the file changed."""
    text = readme.read_text()
    pattern = re.compile(re.escape(README_START) + ".*?" + re.escape(README_END), re.DOTALL)
    if not pattern.search(text):
        raise ValueError(f"{readme} has no {README_START} … {README_END} block to replace")
    new = pattern.sub(lambda _: readme_block(root, readme.parent), text, count=1)
    if new != text:
        readme.write_text(new)
    return new != text


# --- running the suites ---------------------------------------------------------------------


def progress_line(name: str, info: dict[str, Any], median: float) -> str:
    """What the run prints once a case is timed."""
    per_call = float(info.get("per_call", 1))
    if "case" not in info:
        return f"{name}: {_ms(median)} ms per call"
    label = _label(name, info.get("impl"), info.get("backend"), info.get("device"))
    return (
        f"{info['case']:<8} {info.get('dtype', ''):<8} {label:<32} "
        f"{_ms(median / per_call):>9} ms / {info.get('unit', 'call')}"
    )


def machine_kind() -> str:
    """A folder name for this machine's reports: "cpu", or "gpu-<model>" with a usable GPU."""
    gpus = _gpus() if (cuda_available() or not backends.why_unavailable("cupy")) else []
    if not gpus:
        return "cpu"
    model = gpus[0].split(",")[0].lower().removeprefix("nvidia ")
    return "gpu-" + re.sub(r"[^a-z0-9]+", "-", model).strip("-")


def run(
    backend_names: Sequence[str] | None = None,
    quick: bool = False,
    out: Path | None = None,
    note: str | None = None,
    threads: int | None = None,
    pytest_args: Sequence[str] = (),
    stream: TextIO | None = None,
    resume: bool = False,
) -> int:
    """Run the suites, then write results.json, report.md and the charts into ``out``.

    ``threads`` caps the CPU threads of every library (OpenMP, BLAS, XLA); None leaves
    each library its default (one per core), except in a quick run, which uses one.
    ``resume`` keeps the cases an interrupted run left in ``out/cases.jsonl`` and
    times only the others; without it a run starts over.

    Returns the exit code: 0 when every case ran or skipped, 1 when some failed (the
    report then holds the cases that ran) or the run died (its timed cases are kept
    for ``resume``).
    """
    stream = stream if stream is not None else sys.stdout
    if not BENCHMARKS_DIR.is_dir():
        raise FileNotFoundError(
            f"no benchmark suites at {BENCHMARKS_DIR}: run `scratchml bench` from a source checkout"
        )
    names = list(backend_names) if backend_names else backends.available()
    for name in names:
        reason = backends.why_unavailable(name)
        if reason:
            raise ValueError(f"backend {name!r} is not usable here: {reason}")
    kind = machine_kind()
    if out is None:
        out = (
            Path(tempfile.gettempdir()) / "scratchml-bench-quick" / kind
            if quick
            else RESULTS_DIR / kind
        )
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    json_path = out / RESULTS_JSON
    cases_path = out / CASES_JSONL
    raw_json = out / ".pytest-benchmark.json"  # pytest-benchmark's own file, read once
    raw_json.unlink(missing_ok=True)
    kept = timed_cases(cases_path) if resume else []
    cases_path.unlink(missing_ok=True)
    for case in kept:  # rewritten whole: a line a crash cut short would swallow the next
        record_case(cases_path, case)
    # A run started from inside a pytest-xdist worker must not look like one: pytest-benchmark
    # switches itself off under xdist.
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST_XDIST")}
    env.update({QUICK_ENV: "1" if quick else "", BACKENDS_ENV: ",".join(names)})
    env[CASES_ENV] = str(cases_path.resolve())
    env["MPLBACKEND"] = "Agg"
    # JAX would otherwise take 75% of the GPU's memory at its first use, leaving the cases
    # that run after it (CuPy, PyTorch, the stacked networks) short.
    env.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")
    if quick and threads is None:
        # A quick run checks that everything runs; one thread per library keeps it quick
        # (and sane) on a machine whose cores are busy with other work.
        threads = 1
    if threads is not None:
        env.update({name: str(threads) for name in _THREAD_VARIABLES})
        if threads == 1:
            env["XLA_FLAGS"] = (
                env.get("XLA_FLAGS", "") + " --xla_cpu_multi_thread_eigen=false"
            ).strip()
    command = [
        sys.executable, "-m", "pytest", str(BENCHMARKS_DIR), "-q", "-p", "no:cacheprovider",
        "-o", "addopts=", "--benchmark-quiet", "--benchmark-json", str(raw_json), *pytest_args,
    ]  # fmt: skip
    command += [arg for case in kept for arg in ("--deselect", case["fullname"])]
    print(
        f"scratchml bench: {'quick' if quick else 'full'} run on {', '.join(names)} "
        f"({machine_line({'machine_info': environment_info()})}) -> {out}",
        file=stream,
        flush=True,
    )
    if kept:
        print(f"  resuming: {len(kept)} cases already timed in {cases_path}", file=stream)
    started = time.perf_counter()
    other_output = []
    with subprocess.Popen(
        command, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as process:
        assert process.stdout is not None
        for line in process.stdout:
            if PROGRESS_PREFIX in line:  # pytest may have put its progress dots before it
                shown = line[line.index(PROGRESS_PREFIX) + len(PROGRESS_PREFIX) :]
                print("  " + shown.rstrip(), file=stream, flush=True)
            else:
                other_output.append(line)
    seconds = time.perf_counter() - started
    if process.returncode != 0:
        print("".join(other_output[-80:]), file=stream)
    cases = timed_cases(cases_path)
    finished = raw_json.exists() or (process.returncode == 5 and kept)  # 5: nothing left
    if not cases:
        print(f"pytest timed no case (exit code {process.returncode})", file=stream)
        return 1
    if not finished:
        print(
            f"the run stopped (pytest exit code {process.returncode}) after timing "
            f"{len(cases)} cases; they are kept in {cases_path}: run again with --resume "
            "to time the rest",
            file=stream,
        )
        return 1
    if raw_json.exists():
        data = json.loads(raw_json.read_text())
        raw_json.unlink()
    else:  # every case had been timed before the resumed run
        data = {
            "machine_info": environment_info(),
            "datetime": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()),
        }
    data["benchmarks"] = cases
    shown = ["scratchml bench"]
    shown += [f"--backend {name}" for name in backend_names or []]
    shown += ["--quick"] if quick else []
    shown += [f"--threads {threads}"] if threads is not None and not quick else []
    data["scratchml_bench"] = {
        "name": out.name,
        "quick": quick,
        "backends": names,
        "command": " ".join(shown),
        "seconds": seconds,
        "threads": threads,
        "note": note,
        "resumed": len(kept),
    }
    json_path.write_text(json.dumps(data, indent=1) + "\n")
    cases_path.unlink()
    written = render(out)
    print(f"wrote {', '.join(str(path) for path in written)} in {seconds:.0f} s", file=stream)
    return 0 if process.returncode in (0, 5) else 1


def timed_cases(path: Path) -> list[dict[str, Any]]:
    """The cases a run appended to ``path`` (``cases.jsonl``), in the order they ran.

    A line cut short by a crash is dropped; a case timed twice keeps its last timing.
    """
    if not path.exists():
        return []
    cases: dict[str, dict[str, Any]] = {}
    for line in path.read_text().splitlines():
        try:
            case = json.loads(line)
        except json.JSONDecodeError:
            continue
        cases.pop(case["fullname"], None)
        cases[case["fullname"]] = case
    return list(cases.values())


def record_case(path: Path, case: dict[str, Any]) -> None:
    """Append one timed case (pytest-benchmark's JSON form) to ``path``, flushed to disk."""
    # A parameter JSON cannot hold is written as pytest-benchmark writes it.
    line = json.dumps(case, default=lambda value: f"UNSERIALIZABLE[{value!r}]")
    with open(path, "a") as file:
        file.write(line + "\n")
        file.flush()
        os.fsync(file.fileno())


def render(out: Path) -> list[Path]:
    """(Re)write report.md and the charts of ``out`` from its results.json."""
    out = Path(out)
    data = json.loads((out / RESULTS_JSON).read_text())
    report = out / "report.md"
    report.write_text(render_report(data))
    return [out / RESULTS_JSON, report, *render_charts(data, out)]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``scratchml bench`` flags."""
    parser.add_argument(
        "--backend",
        action="append",
        choices=backends.BACKENDS,
        help="scratchml backend to time (repeat for several; default: every usable one)",
    )
    parser.add_argument(
        "--quick", action="store_true", help="small shapes, 3 rounds: under a minute on a laptop"
    )
    parser.add_argument(
        "--out",
        type=Path,
        help="folder for results.json, report.md and the charts "
        "(default: benchmarks/results/<cpu|gpu-MODEL>; a temporary folder with --quick)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        help="CPU threads per library (default: the libraries' own, one per core; 1 with --quick)",
    )
    parser.add_argument("--note", help="a sentence about the machine or run, for the report")
    parser.add_argument(
        "--readme",
        action="store_true",
        help="then regenerate README.md's benchmark table from benchmarks/results/*/results.json",
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="keep the cases an interrupted run left in OUT/cases.jsonl; time only the others",
    )
    parser.add_argument(
        "--render-only",
        action="store_true",
        help="do not run: re-render report.md and charts from OUT/results.json",
    )


def main(args: argparse.Namespace) -> int:
    """Run ``scratchml bench`` with parsed arguments."""
    code = 0
    try:
        if args.render_only:
            if args.out is None:
                raise ValueError("--render-only needs --out, the folder holding results.json")
            for path in render(args.out):
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
            )
        if args.readme:
            changed = update_readme()
            print(f"README.md benchmark table {'updated' if changed else 'already up to date'}")
    except (ValueError, FileNotFoundError) as exc:
        print(f"scratchml bench: {exc}", file=sys.stderr)
        return 2
    return code
