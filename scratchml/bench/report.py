"""report.md: one run in Markdown, every figure a median of that run or a ratio of two."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._files import write_atomically
from .charts import render_charts
from .labels import peer_name
from .results import (
    DIRECTION,
    Row,
    env,
    impl_order,
    machine_line,
    ordered,
    peers,
    ratios,
    rows,
    run_info,
    title,
)

RESULTS_JSON = "results.json"
STALE_FILES = ("speedup.png",)  # charts of earlier versions, replaced by ratios.png


def ms(seconds: float) -> str:
    """``seconds`` as milliseconds, with as many digits as a report needs."""
    value = seconds * 1e3
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    if value >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def gflops(row: Row) -> str:
    """The row's arithmetic rate in GFLOP/s, or "—" without a flop count."""
    if not row.flops or row.median <= 0:
        return "—"
    return f"{row.flops / row.median / 1e9:.1f}"


def operations(data: dict[str, Any]) -> dict[str, dict[str, float]]:
    """Kernel-launching operations per unit: case → who → count."""
    found: dict[str, dict[str, float]] = {}
    for entry in data.get("operations", []):
        found.setdefault(entry["case"], {})[entry["who"]] = entry["per_unit"]
    return found


def row_operations(row: Row, counts: dict[str, float]) -> float | None:
    """The count that applies to ``row``: scratchml on torch (any device) or the PyTorch peer."""
    if row.impl == "scratchml" and row.backend == "torch":
        return counts.get("scratchml · torch")
    if row.impl in ("pytorch", "pytorch-stacked"):
        return counts.get(peer_name(row.impl))
    return None


# --- the targets -------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """One of the project's speed goals, checked against a run (float32)."""

    case: str
    device: str
    backend: str | None  # scratchml's backend it is about (None: any on the device)
    against: str  # a peer's impl, "ceiling" (a share, %) or "operations" (÷ PyTorch's count)
    goal: float
    text: str
    source: str


TARGETS = [
    Target("tiny", "cpu", "numpy", "pytorch", 0.5, "tiny epoch ≤ 0.5 × PyTorch eager's", "NumPy path"),
    Target("spiral", "cpu", "numpy", "pytorch", 0.5, "spiral epoch ≤ 0.5 × PyTorch eager's", "NumPy path"),
    Target("spiral", "cpu", "numpy", "sklearn", 0.5, "spiral epoch ≤ 0.5 × scikit-learn's", "NumPy path"),
    Target("wide", "cpu", "numpy", "ceiling", 90.0, "wide epoch ≥ 90% of the GEMM ceiling", "NumPy path"),
    Target("spiral", "cpu", "torch", "pytorch", 1.0, "spiral epoch ≤ 1.0 × PyTorch eager's", "accelerator path"),
    Target("tiny", "cpu", "torch", "pytorch", 1.0, "tiny epoch ≤ 1.0 × PyTorch eager's", "accelerator path"),
    Target("spiral-256", "cpu", "torch", "pytorch", 1.0, "spiral-256 epoch ≤ 1.0 × PyTorch eager's", "accelerator path"),
    Target("spiral", "cpu", "torch", "operations", 1.5, "spiral: kernel-launching ops per epoch ≤ 1.5 × PyTorch eager's", "accelerator path"),
    Target("stack-8", "cpu", "numpy", "jax-vmap", 2.0, "stack-8 fit ≤ 2 × JAX vmap+jit's", "stacks"),
    Target("spiral", "cpu", "jax", "jax", 1.15, "spiral epoch on JAX ≤ 1.15 × a hand-written jax.jit step's", "JAX"),
    Target("stack-16", "cpu", "jax", "jax-vmap", 1.15, "stack-16 fit on JAX ≤ 1.15 × JAX vmap+jit's", "JAX"),
    Target("sweep-mixed", "cpu", "numpy", "jax-vmap", 1.0, "sweep-mixed ≤ 1.0 × JAX vmap+jit's", "sweeps"),
    Target("sweep-mixed", "cpu", "jax", "jax-vmap", 0.9, "sweep-mixed on JAX ≤ 0.9 × JAX vmap+jit's", "sweeps"),
    Target("sweep-mixed", "cpu", "torch", "jax-vmap", 2.0, "sweep-mixed on torch ≤ 2 × JAX vmap+jit's", "sweeps"),
    Target("sweep-digits", "cpu", None, "sklearn", 0.5, "sweep-digits ≤ 0.5 × GridSearchCV's", "sweeps"),
    Target("sweep-digits", "cpu", "numpy", "jax-vmap", 1.0, "sweep-digits ≤ 1.0 × JAX vmap+jit's", "sweeps"),
    Target("sweep-digits", "cpu", "jax", "jax-vmap", 0.9, "sweep-digits on JAX ≤ 0.9 × JAX vmap+jit's", "sweeps"),
    Target("sweep-digits", "cpu", "torch", "jax-vmap", 2.0, "sweep-digits on torch ≤ 2 × JAX vmap+jit's", "sweeps"),
    Target("spiral", "cuda", None, "pytorch", 1.0, "spiral epoch ≤ 1.0 × PyTorch eager CUDA's", "GPU path"),
    Target("wide", "cuda", None, "pytorch", 1.0, "wide epoch ≤ 1.0 × PyTorch eager CUDA's", "GPU path"),
]  # fmt: skip

TARGETS_INTRO = [
    "These are **the project's own goals** for its speed work, not outside standards: for the",
    "NumPy path (against PyTorch eager and scikit-learn on a CPU, and the share of the GEMM",
    "ceiling), for the accelerator path (scratchml on torch against PyTorch eager: time, and",
    "kernel-launching operations per epoch, which set the speed on a GPU), for stacks (against",
    "the hand-written JAX `vmap` + `jit` loop a sweep user would otherwise write), for JAX",
    "(scratchml's compiled steps against hand-written `jax.jit` and `vmap` + `jit`), for whole",
    "sweeps (against the same hand-written script and scikit-learn's `GridSearchCV`), and for the",
    "GPU. They are defined in `scratchml/bench/report.py` (`TARGETS`) and checked here against",
    "this run's float32 rows. *met* or *not met* holds in every round; *uncertain*: the range",
    "over rounds straddles the goal.",
]


def _verdict(
    value: float, low: float | None, high: float | None, goal: float, at_most: bool
) -> str:
    low = value if low is None else low
    high = value if high is None else high
    if at_most:
        return "met" if high <= goal else ("not met" if low > goal else "uncertain")
    return "met" if low >= goal else ("not met" if high < goal else "uncertain")


def targets(table: list[Row], counts: dict[str, dict[str, float]]) -> list[str]:
    """The lines of the report's targets table: each speed goal checked against the run."""
    found = []
    for target in TARGETS:
        for row in table:
            if not (row.impl == "scratchml" and row.case == target.case and row.dtype == "float32"):
                continue
            if row.device != target.device or (target.backend and row.backend != target.backend):
                continue
            if target.against == "operations":
                case_counts = counts.get(target.case, {})
                ours, theirs = (
                    case_counts.get("scratchml · torch"),
                    case_counts.get("PyTorch eager"),
                )
                if not ours or not theirs:
                    continue
                value = ours / theirs
                shown, verdict = (
                    f"{value:.2f}× ({ours:.0f} ÷ {theirs:.0f})",
                    _verdict(value, None, None, target.goal, True),
                )
            elif target.against == "ceiling":
                share = ratios(row, table).ceiling
                if share is None:
                    continue
                shown, verdict = (
                    share.text(),
                    _verdict(share.percent, None, None, target.goal, False),
                )
            else:
                found_ratio = ratios(row, table).against.get(target.against)
                if found_ratio is None:
                    continue
                shown = found_ratio.text().removesuffix(" uncertain")
                verdict = _verdict(
                    found_ratio.value, found_ratio.low, found_ratio.high, target.goal, True
                )
            found.append(f"| {target.text} | {target.source} | {row.label} | {shown} | {verdict} |")
    if not found:
        return []
    return [
        "## The project's targets (float32)",
        "",
        *TARGETS_INTRO,
        "",
        "| target | for | row | measured | |",
        "|---|---|---|---:|---|",
        *found,
        "",
    ]


# --- the report --------------------------------------------------------------------------


def how_to_read(rounds: int) -> list[str]:
    """The report's "how to read" paragraphs, for a run of ``rounds`` rounds."""
    spread = (
        f"The run timed every case in {rounds} separate rounds, one after the other; a ratio "
        "shows the run's value (medians over all rounds) and, in brackets, its range over the "
        "rounds (min–max). A range that straddles 1 is marked *uncertain*: the rounds disagree "
        "on which is faster, so the run cannot say."
        if rounds > 1
        else "The run timed every case in one round: its ratios have no range over rounds, so "
        "a ratio near 1 may flip in another run (`--rounds 3` shows how far they move)."
    )
    return [
        f"**How to read it.** {DIRECTION}",
        "",
        "Every implementation of a case does the same work on the same data, widths and dtype,",
        "and a case's implementations run one after another, seconds apart. Training cases are",
        "full-batch SGD epochs (forward, backward, update; tanh hidden layers, softmax",
        "cross-entropy, no momentum, no L2): each implementation builds its network and trains",
        "one epoch, untimed; a timed call then trains a fixed number of epochs more (a",
        "warm-started `fit` for scratchml and scikit-learn, input checks included; a loop of",
        "steps for PyTorch and JAX). Stack cases time whole fits of M networks from host",
        "initialisation, the same way for every implementation. One untimed warm-up call comes",
        "first (it compiles JAX's steps). GPU work is waited for before the clock is read.",
        "",
        f"*ms* is the median time per unit of work over all timed calls; *IQR* their spread. {spread}",
        "",
        "*÷ X* columns: the row's time ÷ X's (PyTorch and JAX on the row's device).",
        "*% GEMM ceiling*: the best call of the products alone (per layer A @ W, Aᵀ @ dZ,",
        "dZ @ Wᵀ: 6·n·Σ n_in·n_out flops; for *normal*, Xᵀ X), on the row's library and device,",
        "taken between the same case's other calls, ÷ the row's median time. Using the ceiling's",
        "best call means noise can only lower a share; a share that still comes out above 100%",
        "is shown as *100%†*: at the ceiling, within noise. *ops / unit*: kernel-launching",
        "operations per unit of work (one epoch), counted on torch CPU tensors for scratchml on",
        "torch and for the PyTorch peer, on a small copy of the case (the count depends on the",
        "shapes only through the code path they select), averaged over ten epochs, a call's",
        "one-off setup left out. On a GPU each of them is a kernel launch.",
        "",
    ]


QUICK_NOTICE = [
    "> **Quick run** (`--quick`): small shapes, few calls and one thread per library,",
    "> to check that everything runs. Its figures say little about speed; read a full",
    "> run's report.",
    "",
]
CHARTS = [
    "## Charts",
    "",
    "![median time per unit of work, by case and implementation](time_by_case.png)",
    "",
    "![scratchml's time ÷ each peer's, with the range over rounds](ratios.png)",
    "",
]


def render_report(data: dict[str, Any]) -> str:
    """The Markdown report of one run (results.json's content)."""
    info = run_info(data)
    table = rows(data)
    counts = operations(data)
    quick = bool(info.get("quick"))
    lines = [f"# {title(data)}", "", *(QUICK_NOTICE if quick else [])]
    lines += about_the_run(data, len(table))
    lines += ["", *how_to_read(int(info.get("rounds", 1)))]
    if not quick:
        lines += targets(table, counts)
    known = [row for row in table if row.case is not None]
    for case in ordered(row.case for row in known):
        lines += _case_table(
            case, [row for row in known if row.case == case], table, counts.get(case, {})
        )
        lines += _compile_line(data, case)
    lines += _notes(table)
    lines += _other_groups([row for row in table if row.case is None])
    lines += CHARTS
    return "\n".join(lines)


def about_the_run(data: dict[str, Any], n_rows: int) -> list[str]:
    """The report's opening list: machine, libraries, BLAS, the run's command and settings,
    its precision and note, and whether it stopped early."""
    info = run_info(data)
    environment = env(data)
    versions = environment.get("versions", {})
    lines = [
        f"- **Machine**: {machine_line(data)}; {environment.get('os', '?')}.",
        "- **Libraries**: "
        + ", ".join(f"{name} {version}" for name, version in versions.items())
        + ".",
    ]
    if environment.get("blas"):
        lines.append("- **BLAS** (NumPy, scikit-learn): " + "; ".join(environment["blas"]) + ".")
    resumed = (
        f" (resumed: {info['resumed']} measurements taken by the interrupted run before)"
        if info.get("resumed")
        else ""
    )
    lines += [
        f"- **Run**: {data.get('datetime', '?')[:19].replace('T', ' ')} UTC, "
        f"`{info.get('command', 'scratchml bench')}`, {n_rows} rows in "
        f"{info.get('seconds', 0):.0f} s{resumed}; {int(info.get('rounds', 1))} round(s); "
        f"scratchml backends: {', '.join(info.get('backends', [])) or '?'}; CPU threads per "
        f"library: {info.get('threads') or 'the libraries’ defaults'}.",
    ]
    if info.get("precision"):  # (runs from before precisions were set have none)
        lines.append(f"- **Matrix products**: {products_line(info['precision'])}")
    if info.get("note"):
        lines.append(f"- **Note**: {info['note']}")
    if info.get("complete") is False:
        lines += [
            "",
            f"> **Incomplete run**: {info.get('stopped') or 'it stopped early'}. The tables "
            "hold the measurements taken before; `scratchml bench --resume` with the same "
            "arguments and `--out` takes the rest.",
        ]
    return lines


def products_line(chosen: str) -> str:
    """What the run set for float32 matrix products, in words (``chosen``: its precision)."""
    if chosen == "tf32":
        return (
            "TF32 for float32 on a GPU, alike on every library (JAX tensorfloat32, torch "
            "`high`, `CUPY_TF32=1`); each row's *precision* says what it ran in."
        )
    if chosen == "float32":
        return (
            "full FP32 for float32, alike on every library (JAX `highest`, torch `highest`, "
            "CuPy without TF32, `NVIDIA_TF32_OVERRIDE=0`); each row's *precision* says what "
            "it ran in."
        )
    return f"{chosen}."


def _compile_line(data: dict[str, Any], case: str) -> list[str]:
    """The case's first-call compile times (scratchml on JAX), if the run took them."""
    quick = bool(run_info(data).get("quick"))
    compiled = [e for e in data.get("compile_times", []) if e["case"] == case]
    if not compiled:
        return []
    return [
        "First call's compile time (a cold two-epoch fit less a warm one, median of "
        f"{'1 (a quick run)' if quick else '3'}): "
        + "; ".join(f"{e['who']} {e['seconds']:.2f} s" for e in compiled)
        + ".",
        "",
    ]


def _case_table(
    case: str, case_rows: list[Row], table: list[Row], counts: dict[str, float]
) -> list[str]:
    first = case_rows[0]
    unit = first.unit
    against = peers(case_rows)
    with_ops = bool(counts)
    # Every row of a run records its precision; a run from before that records none.
    with_precision = any(row.precision for row in case_rows)
    lines = [
        f"## {case}: {first.title}",
        "",
        f"{first.calls} timed calls per implementation, each {first.per_call:g} × {unit}.",
        "",
        "| dtype | implementation | "
        + ("precision | " if with_precision else "")
        + f"ms / {unit} | IQR (ms) | GFLOP/s | "
        + "".join(f"÷ {peer_name(impl)} | " for impl in against)
        + "% GEMM ceiling |"
        + (" ops / unit |" if with_ops else ""),
        "|---|---|" + "---|" * with_precision + "---:|" * (4 + len(against) + with_ops),
    ]
    for dtype in ordered(row.dtype for row in case_rows):
        for row in sorted((r for r in case_rows if r.dtype == dtype), key=impl_order):
            found = ratios(row, table)
            label = f"**{row.label}**" if row.impl == "scratchml" else row.label
            cells = [
                found.against[impl].text() if impl in found.against else "—" for impl in against
            ]
            count = row_operations(row, counts)
            lines.append(
                f"| {dtype} | {label} | "
                + (f"{row.precision or '—'} | " if with_precision else "")
                + f"{ms(row.median)} | {ms(row.iqr)} | {gflops(row)} | "
                + "".join(f"{cell} | " for cell in cells)
                + (found.ceiling.text() if found.ceiling else "—")
                + " |"
                + ((f" {count:.0f} |" if count is not None else " — |") if with_ops else "")
            )
    lines.append("")
    if counts:
        lines += [
            "Kernel-launching operations per "
            + unit
            + " (torch CPU tensors, a small copy of the case): "
            + "; ".join(f"{who} {value:.0f}" for who, value in counts.items())
            + ".",
            "",
        ]
    if case == "normal":
        lines += [
            "The normal-equation fit is one fit per call; its GEMM ceiling is Xᵀ X alone.",
            "",
        ]
    return lines


def _notes(table: list[Row]) -> list[str]:
    if any(row.backend == "array_api_strict" for row in table):
        return [
            "array_api_strict is there to prove portability, not speed: it wraps NumPy and",
            "checks every call.",
            "",
        ]
    return []


def _other_groups(table: list[Row]) -> list[str]:
    """Rows that recorded no case name (older results): one plain table per group."""
    lines = []
    for group in ordered(row.group for row in table):
        group_rows = sorted((r for r in table if r.group == group), key=lambda r: r.median)
        fastest = group_rows[0].median
        lines += [
            f"## {group or 'ungrouped'}",
            "",
            "| case | median (ms) | IQR (ms) | calls | × fastest |",
            "|---|---:|---:|---:|---:|",
        ]
        for row in group_rows:
            lines.append(
                f"| {row.label} | {ms(row.median)} | {ms(row.iqr)} | {row.calls} "
                f"| {row.median / fastest:.2f} |"
            )
        lines.append("")
    return lines


def render(out: Path) -> list[Path]:
    """(Re)write report.md and the charts of ``out`` from its results.json."""
    out = Path(out)
    data = json.loads((out / RESULTS_JSON).read_text())
    report = out / "report.md"
    write_atomically(report, render_report(data))
    for name in STALE_FILES:
        (out / name).unlink(missing_ok=True)
    return [out / RESULTS_JSON, report, *render_charts(data, out)]
