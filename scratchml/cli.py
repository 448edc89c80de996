"""The ``scratchml`` command (also ``python -m scratchml``).

scratchml demo NAME|all [--backend numpy|cupy|torch|array_api_strict] [--out DIR]
                        [--small] [--seed N]
scratchml backends
scratchml sweep [--config sweep.toml] [--depth 1 2 3] [--width 2 4 8] ... [--out DIR] [--resume]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

from . import backends


def _parser() -> argparse.ArgumentParser:
    from .demos import DEMOS
    from .demos._common import DEFAULT_OUT

    parser = argparse.ArgumentParser(
        prog="scratchml", description="Machine learning from scratch on the Array API standard."
    )
    from . import __version__

    parser.add_argument("--version", action="version", version=f"scratchml {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo", help="run a demo of the original collection and write its pictures"
    )
    demo.add_argument("name", help=f"one of: {', '.join(DEMOS)}, or 'all'")
    demo.add_argument(
        "--backend", default="numpy", choices=backends.BACKENDS, help="array library to train on"
    )
    demo.add_argument(
        "--out",
        default=DEFAULT_OUT,
        help=f"folder for the pictures (default: ./{DEFAULT_OUT}; the committed pictures "
        "are remade with --out demos/results)",
    )
    demo.add_argument(
        "--small",
        action="store_true",
        help="a fast version of each demo: fewer points, frames and epochs, smaller but "
        "trained models",
    )
    demo.add_argument("--seed", type=int, default=0, help="random seed for data and initialisation")
    commands.add_parser("backends", help="list the array backends usable here")
    from .sweep import add_command as add_sweep_command

    add_sweep_command(commands)
    from . import bench

    bench.add_arguments(
        commands.add_parser("bench", help="run the benchmarks; write a report and charts")
    )
    return parser


def _run_demos(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from .demos import DEMOS

    names = list(DEMOS) if args.name == "all" else [args.name]
    if args.name != "all" and args.name not in DEMOS:
        parser.error(f"unknown demo {args.name!r}; choose one of: {', '.join(DEMOS)}, all")
    reason = backends.why_unavailable(args.backend)
    if reason:
        parser.error(f"backend {args.backend!r} is not usable here: {reason}")
    size = "small" if args.small else "default"
    total = time.perf_counter()
    for number, name in enumerate(names, start=1):
        print(f"[{number}/{len(names)}] {name} on {args.backend} ...", flush=True)
        start = time.perf_counter()
        result = DEMOS[name](
            backend=args.backend, out=args.out, size=size, seed=args.seed, progress=True
        )
        for path in result.files:
            print(f"    wrote {path} ({path.stat().st_size / 1024:.0f} KiB)")
        _print_metrics(result.metrics)
        print(f"    done in {time.perf_counter() - start:.1f} s", flush=True)
    if len(names) > 1:
        print(f"all {len(names)} demos done in {time.perf_counter() - total:.1f} s")
    return 0


def _print_metrics(metrics: dict[str, float]) -> None:
    metrics = dict(metrics)
    if "training_accuracy" in metrics:
        line = f"    training accuracy: {metrics.pop('training_accuracy'):.2%}"
        if "candidates" in metrics:
            line += (
                f" (the best of {metrics.pop('candidates'):.0f} networks trained at once; "
                f"{metrics.pop('candidates_separating', float('nan')):.0f} of them separate "
                "the classes)"
            )
        print(line)
    for key, value in metrics.items():
        print(f"    {key.replace('_', ' ')}: {value:.4g}")


def _list_backends() -> int:
    """One line per backend (usable, or why not), then the NVIDIA driver and its CuPy extra."""
    for name in backends.BACKENDS:
        reason = backends.why_unavailable(name)
        print(f"{name:18} {'usable' if not reason else 'not usable: ' + reason}")
    print(f"{'(NVIDIA driver)':18} {backends.driver_summary()}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``scratchml`` console script."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "backends":
        return _list_backends()
    if args.command == "sweep":
        from .sweep import command as sweep_command

        return sweep_command(args)
    if args.command == "bench":
        from . import bench

        return bench.main(args)
    return _run_demos(args, parser)


if __name__ == "__main__":
    sys.exit(main())
