"""Summarise a GPU run (.ci/gpu) as Markdown: the machine, the versions, the counts."""

from __future__ import annotations

import platform
import subprocess
import sys
import xml.etree.ElementTree as ET


def _versions() -> list[str]:
    import cupy
    import numpy

    runtime = cupy.cuda.runtime
    props = runtime.getDeviceProperties(0)
    name = props["name"].decode() if isinstance(props["name"], bytes) else props["name"]
    driver = subprocess.run(
        ["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    cuda = runtime.runtimeGetVersion()
    return [
        f"- GPU: {name}, {props['totalGlobalMem'] / 2**30:.0f} GiB",
        f"- driver: {driver or 'unknown'}; CUDA runtime {cuda // 1000}.{cuda % 1000 // 10}",
        f"- CuPy {cupy.__version__}, NumPy {numpy.__version__}, Python {platform.python_version()}",
    ]


def _counts(junit: str) -> dict[str, int]:
    suite = ET.parse(junit).getroot()
    suite = suite if suite.tag == "testsuite" else suite.find("testsuite")
    total = int(suite.get("tests", 0))
    failed = int(suite.get("failures", 0)) + int(suite.get("errors", 0))
    skipped = int(suite.get("skipped", 0))
    cupy_cases = sum(1 for case in suite.iter("testcase") if "cupy" in case.get("name", ""))
    return {
        "passed": total - failed - skipped,
        "failed": failed,
        "skipped": skipped,
        "cupy": cupy_cases,
    }


def main(junit: str, tests_s: str, demos_log: str, demos_s: str, *statuses: str) -> None:
    counts = _counts(junit)
    with open(demos_log, encoding="utf-8") as log:
        demo_lines = [line.strip() for line in log if "accuracy" in line or line.startswith("[")]
    tests_rc, demos_rc, bench_rc = statuses
    print("# GPU run: tests, demos and benchmarks on CuPy\n")
    print(*_versions(), sep="\n")
    print(
        f"\n**Tests** (`SCRATCHML_REQUIRE_BACKENDS=cupy python -m pytest`): "
        f"{counts['passed']} passed, {counts['skipped']} skipped, {counts['failed']} failed "
        f"({counts['cupy']} CuPy cases) in {tests_s} s; exit status {tests_rc}.\n"
    )
    print(
        f"**Demos** (`scratchml demo all --backend cupy`): {demos_s} s; exit status {demos_rc}.\n"
    )
    print("```text", *demo_lines, "```", sep="\n")
    print(f"\n**Benchmarks**: `report.md` beside this file; exit status {bench_rc}.")


if __name__ == "__main__":
    main(*sys.argv[1:])
