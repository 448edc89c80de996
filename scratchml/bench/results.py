"""A run's results: its rows (one per implementation of a case), their order and ratios,
and what results.json records of the run itself (settings, machine, title).

One convention everywhere: a ratio is **scratchml's time ÷ the other's time**, so below 1
scratchml is faster. A run repeats every case in ``rounds`` separate rounds; each ratio is
also computed per round, and its range over the rounds (min–max) shows how far it moved:
a range that straddles 1 means the run cannot say which is faster.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .. import backends
from . import environment
from .labels import PEER_NAMES, label

DIRECTION = (
    "Every ratio is scratchml's time ÷ the other implementation's time: below 1, scratchml is "
    "faster; above 1, slower."
)


@dataclass(frozen=True)
class Row:
    """One implementation of one case in a run; times in seconds per unit of work."""

    name: str
    group: str | None
    case: str | None
    title: str
    impl: str | None
    backend: str | None
    device: str | None
    dtype: str | None
    unit: str
    per_call: float
    flops: float | None
    median: float
    iqr: float
    best: float
    calls: int
    round_medians: tuple[float, ...] = ()
    precision: str | None = None  # what its float32 products ran in: FP32, TF32 (FP64)

    @property
    def label(self) -> str:
        """Who ran it, in words: "scratchml · numpy", "PyTorch eager", "GEMM ceiling · torch"."""
        if self.impl is None:
            return self.name.removeprefix("test_")
        return label(self.impl, self.backend, self.device)

    @property
    def library(self) -> str | None:
        """The library whose matmuls this row runs on (its GEMM ceiling's library)."""
        if self.impl in ("scratchml", "one-by-one"):
            return "numpy" if self.backend == "array_api_strict" else self.backend
        if self.impl in ("gemm", "sklearn"):
            return self.backend
        return {"pytorch": "torch", "pytorch-stacked": "torch"}.get(self.impl or "")


def rows(data: dict[str, Any]) -> list[Row]:
    """The run's rows in run order, times per unit (from results.json)."""
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
                best=stats.get("min", stats["median"]) / per_call,
                calls=int(stats["rounds"]),
                round_medians=tuple(m / per_call for m in bench.get("round_medians", [])),
                precision=info.get("precision"),
            )
        )
    return found


def find(table: Iterable[Row], **match: Any) -> Row | None:
    """The first row whose attributes equal ``match``."""
    for row in table:
        if all(getattr(row, key) == value for key, value in match.items()):
            return row
    return None


# --- the run ------------------------------------------------------------------------------


def run_info(data: dict[str, Any]) -> dict[str, Any]:
    """The run's own settings (rounds, threads, note) from a results.json ``data``."""
    return data.get("scratchml_bench", {})


def env(data: dict[str, Any]) -> dict[str, Any]:
    """The environment (devices, library versions) recorded in a results.json ``data``."""
    return data.get("machine_info", {}).get("scratchml_env", {})


def machine_line(data: dict[str, Any]) -> str:
    """The machine in one line: CPU model and cores, GPUs."""
    return environment.machine_line(env(data))


def title(data: dict[str, Any]) -> str:
    """The report's title: the machine, and "quick run" when it was one."""
    quick = " (quick run)" if run_info(data).get("quick") else ""
    return f"scratchml benchmarks on {environment.machine_title(env(data))}{quick}"


def impl_order(row: Row) -> tuple[int, int, str]:
    """scratchml's rows first (by backend), then the peers, then the ceilings."""
    known = list(PEER_NAMES)
    if row.impl == "scratchml":
        rank = 0
    elif row.impl == "gemm":
        rank = len(known) + 2
    else:
        rank = 1 + (known.index(row.impl) if row.impl in known else len(known))
    backend_rank = {name: i for i, name in enumerate(backends.BACKENDS)}
    return rank, backend_rank.get(row.backend or "", 9), row.device or ""


@dataclass(frozen=True)
class Ratio:
    """A time ratio over the whole run, and its range over the rounds (when there are several)."""

    value: float
    low: float | None = None
    high: float | None = None

    @property
    def uncertain(self) -> bool:
        """True when the rounds disagree on which is faster (the range straddles 1)."""
        return self.low is not None and self.high is not None and self.low < 1 < self.high

    def text(self) -> str:
        """'0.42×', '0.42× (0.40–0.45)', or '0.98× (0.90–1.05) uncertain'."""
        shown = f"{self.value:.2f}×"
        if self.low is not None and self.high is not None:
            shown += f" ({self.low:.2f}–{self.high:.2f})"
        return shown + (" uncertain" if self.uncertain else "")


def ratio(row: Row, other: Row) -> Ratio | None:
    """``row``'s time ÷ ``other``'s: medians of the run, and per round when both have rounds."""
    if other.median <= 0:
        return None
    rounds = [
        mine / theirs
        for mine, theirs in zip(row.round_medians, other.round_medians, strict=False)
        if theirs > 0
    ]
    if len(rounds) >= 2 and len(row.round_medians) == len(other.round_medians):
        value = row.median / other.median
        # The run's value is a ratio of medians over every call, which can fall just outside
        # the rounds' own ratios: the range shown holds it too.
        return Ratio(value, min(*rounds, value), max(*rounds, value))
    return Ratio(row.median / other.median)


@dataclass(frozen=True)
class Share:
    """How close a row comes to its GEMM ceiling: the ceiling's best call ÷ the row's median."""

    percent: float

    @property
    def above_ceiling(self) -> bool:
        """A share above 100% is noise: nothing does the products faster than the products."""
        return self.percent > 100

    def text(self) -> str:
        """'76%', or '100%†' for a share measured above the ceiling (noise)."""
        return "100%†" if self.above_ceiling else f"{self.percent:.0f}%"


@dataclass(frozen=True)
class Ratios:
    """A row against each other implementation of its case (by ``impl``) and its ceiling."""

    against: dict[str, Ratio] = field(default_factory=dict)
    ceiling: Share | None = None


def ratios(row: Row, table: list[Row]) -> Ratios:
    """A scratchml row's time ÷ each peer's of its case and dtype (the peer on the same
    device where it runs there), and any row's share of its library's GEMM ceiling."""
    if row.impl in (None, "gemm"):  # a ceiling is a yardstick, not a contender
        return Ratios()
    same = [r for r in table if r.case == row.case and r.dtype == row.dtype and r is not row]
    against = {}
    # One direction everywhere: scratchml's time over another's. A peer's row carries
    # only its ceiling share, never a peer-over-peer ratio.
    for impl in peers(same) if row.impl == "scratchml" else []:
        other = find(same, impl=impl, device=row.device) or find(same, impl=impl)
        found = ratio(row, other) if other is not None else None
        if found is not None:
            against[impl] = found
    ceiling = find(same, impl="gemm", backend=row.library, device=row.device)
    share = Share(100 * ceiling.best / row.median) if ceiling and row.median > 0 else None
    return Ratios(against, share)


def peers(table: Iterable[Row]) -> list[str]:
    """The implementations rows are compared with, in a fixed order: every one but
    scratchml and the ceilings."""
    order = list(PEER_NAMES)
    found = {row.impl for row in table if row.impl not in (None, "scratchml", "gemm")}
    return sorted(
        found, key=lambda impl: (order.index(impl) if impl in order else len(order), impl)
    )


def ordered(values: Iterable[Any]) -> list[Any]:
    """Distinct values in first-seen order."""
    return list(dict.fromkeys(values))


def median_of(values: list[float]) -> float:
    """The median of ``values``."""
    return statistics.median(values)


def summary(times: list[float]) -> dict[str, float]:
    """Median, IQR, best and count of a list of call times (seconds)."""
    if len(times) >= 2:
        q1, _, q3 = statistics.quantiles(times, n=4, method="inclusive")
    else:
        q1 = q3 = times[0]
    return {
        "median": statistics.median(times),
        "iqr": q3 - q1,
        "min": min(times),
        "max": max(times),
        "rounds": len(times),
    }
