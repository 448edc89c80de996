"""The report's charts: time_by_case.png and ratios.png, drawn headless (Agg)."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

from .labels import peer_name
from .results import (
    DIRECTION,
    Row,
    find,
    impl_order,
    ordered,
    peers,
    ratios,
    rows,
    run_info,
    title,
)


def render_charts(data: dict[str, Any], out: Path) -> list[Path]:
    """time_by_case.png (log scale) and ratios.png (scratchml ÷ each peer, range over rounds)."""
    import matplotlib

    matplotlib.use("Agg")
    table = [row for row in rows(data) if row.case is not None]
    if not table:
        return []
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    heading = title(data)
    contenders = sorted((row for row in table if row.impl != "gemm"), key=impl_order)
    labels = ordered(row.label for row in contenders)
    colors = _colors(labels)
    quick = bool(run_info(data).get("quick"))
    return [
        _time_by_case(table, labels, colors, heading, out / "time_by_case.png"),
        _ratios_chart(table, contenders, colors, heading, quick, out / "ratios.png"),
    ]


def _colors(labels: list[str]) -> dict[str, Any]:
    """One color per implementation, the same in both charts."""
    import matplotlib.pyplot as plt

    return {label: plt.get_cmap("tab10")(i % 10) for i, label in enumerate(labels)}


def _plain_numbers():
    """A tick formatter writing 0.5, 2, 100 rather than a log axis's powers of ten."""
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda value, _: f"{value:g}")


def _save(fig, path: Path) -> Path:
    """Write ``fig`` to ``path`` and close it."""
    import matplotlib.pyplot as plt

    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _time_by_case(
    table: list[Row], labels: list[str], colors: dict, heading: str, path: Path
) -> Path:
    """Time by case and implementation, a panel per dtype; a black tick on a bar marks its
    library's GEMM ceiling."""
    import matplotlib.pyplot as plt

    dtypes = ordered(row.dtype for row in table)
    n_cases = len(ordered(row.case for row in table))
    fig, axes = plt.subplots(
        len(dtypes), 1, figsize=(max(12.0, 2.0 * n_cases + 3.0), 4.4 * len(dtypes)), squeeze=False
    )
    for ax, dtype in zip(axes[:, 0], dtypes, strict=True):
        cases = ordered(row.case for row in table if row.dtype == dtype)
        _time_bars(ax, table, dtype, cases, labels, colors)
        units = {case: next(row.unit for row in table if row.case == case) for case in cases}
        ax.set_xticks(
            range(len(cases)),
            [f"{case}\n" + textwrap.fill(f"(per {units[case]})", 16) for case in cases],
            fontsize=9,
        )
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(_plain_numbers())
        ax.set_ylabel("median ms per unit (log scale)")
        ax.set_title(f"{dtype}: time by case and implementation (lower is faster)")
        ax.grid(axis="y", which="both", alpha=0.3)
        handles, names = ax.get_legend_handles_labels()
        unique = dict(zip(names, handles, strict=True))
        ax.legend(unique.values(), unique.keys(), fontsize=8, loc="upper left",
                  bbox_to_anchor=(1.01, 1.0))  # fmt: skip
    fig.suptitle(heading, fontsize=11)
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.4 / fig.get_figheight()))
    return _save(fig, path)


def _time_bars(
    ax, table: list[Row], dtype: str, cases: list[str], labels: list[str], colors: dict
) -> None:
    """A bar per case and implementation (its median ms per unit), ceiling ticks on them."""
    width = 0.8 / max(len(labels), 1)
    for j, label in enumerate(labels):
        for i, case in enumerate(cases):
            row = find(table, case=case, dtype=dtype, label=label)
            if row is None:
                continue
            x = i - 0.4 + width * (j + 0.5)
            ax.bar(x, row.median * 1e3, width, color=colors[label], label=label)
            share = ratios(row, table).ceiling
            if share is not None:
                ax.hlines(
                    row.median * 1e3 * min(share.percent, 100) / 100, x - width / 2, x + width / 2,
                    colors="black", linewidth=2, label="GEMM ceiling of the bar's library",
                )  # fmt: skip


def _ratios_chart(
    table: list[Row], contenders: list[Row], colors: dict, heading: str, quick: bool, path: Path
) -> Path:
    """scratchml's time ÷ each peer's, a panel per peer; a whisker spans the ratio's range
    over the rounds."""
    import matplotlib.pyplot as plt

    against = peers(table)
    ours = ordered(row.label for row in contenders if row.impl == "scratchml")
    fig, axes = plt.subplots(
        max(len(against), 1), 1, figsize=(12, 3.8 * max(len(against), 1) + 0.6), squeeze=False
    )
    for ax, impl in zip(axes[:, 0], against, strict=False):
        groups = _ratio_bars(ax, table, impl, ours, colors)
        ax.axhline(1.0, color="black", linewidth=1)
        ax.set_xticks(range(len(groups)), [f"{case}\n{dtype}" for case, dtype in groups])
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(_plain_numbers())
        ax.yaxis.set_minor_formatter(_plain_numbers())
        ax.tick_params(axis="y", which="minor", labelsize=7)
        ax.set_ylabel(f"scratchml's time ÷ {peer_name(impl)}'s")
        ax.set_title(f"against {peer_name(impl)}")
        ax.grid(axis="y", which="both", alpha=0.3)
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    said = " Quick run: figures say little about speed." if quick else ""
    text = textwrap.fill(f"{DIRECTION} Whiskers: the range over rounds.{said}", 120)
    fig.suptitle(f"{heading}\n{text}", fontsize=10)
    fig.tight_layout(
        rect=(0, 0, 1, 1 - (0.25 + 0.2 * text.count("\n") + 0.4) / fig.get_figheight())
    )
    return _save(fig, path)


def _ratio_bars(ax, table: list[Row], impl: str, ours: list[str], colors: dict) -> list[tuple]:
    """A bar per (case, dtype) and scratchml backend: its time ÷ ``impl``'s, whiskers over
    the rounds. Returns the (case, dtype) groups, in the order of the x axis."""
    found = {}
    for row in table:
        if row.impl == "scratchml" and impl in (r := ratios(row, table)).against:
            found[row.case, row.dtype, row.label] = r.against[impl]
    groups = ordered((case, dtype) for case, dtype, _ in found)
    width = 0.8 / max(len(ours), 1)
    for j, label in enumerate(ours):
        bars = [
            (i, found[*group, label]) for i, group in enumerate(groups) if (*group, label) in found
        ]
        if not bars:
            continue
        xs = [i - 0.4 + width * (j + 0.5) for i, _ in bars]
        values = [r.value for _, r in bars]
        low = [r.value - (r.low if r.low is not None else r.value) for _, r in bars]
        high = [(r.high if r.high is not None else r.value) - r.value for _, r in bars]
        ax.bar(xs, values, width, label=label, color=colors.get(label))
        if any(low) or any(high):
            ax.errorbar(xs, values, yerr=[low, high], fmt="none", ecolor="black", capsize=2)
    return groups
