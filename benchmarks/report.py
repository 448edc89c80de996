"""Turn a pytest-benchmark JSON file into a Markdown table: medians and ratios per group.

python benchmarks/report.py benchmarks/results/cpu.json > benchmarks/results/cpu.md
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict


def _label(bench: dict) -> str:
    return bench["name"].removeprefix("test_")


def report(path: str) -> str:
    with open(path) as handle:
        data = json.load(handle)
    groups: dict[str, list[dict]] = defaultdict(list)
    for bench in data["benchmarks"]:
        groups[bench["group"]].append(bench)
    machine = data.get("machine_info", {})
    lines = [
        f"Machine: {machine.get('cpu', {}).get('brand_raw', '?')}, "
        f"{machine.get('cpu', {}).get('count', '?')} logical CPUs, "
        f"Python {machine.get('python_version', '?')}; run {data.get('datetime', '?')[:19]}.",
        "",
    ]
    for group in sorted(groups):
        benches = sorted(groups[group], key=lambda b: b["stats"]["median"])
        fastest = benches[0]["stats"]["median"]
        lines += [f"**{group}**", "", "| case | median (ms) | IQR (ms) | rounds | × fastest |"]
        lines += ["|---|---:|---:|---:|---:|"]
        for bench in benches:
            stats = bench["stats"]
            lines.append(
                f"| {_label(bench)} | {stats['median'] * 1e3:.3f} | {stats['iqr'] * 1e3:.3f} "
                f"| {stats['rounds']} | {stats['median'] / fastest:.2f} |"
            )
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    print(report(sys.argv[1]))
