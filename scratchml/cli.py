"""The ``scratchml`` command (also ``python -m scratchml``)::

    scratchml demo NAME|all [--backend numpy|cupy|torch|array_api_strict] [--out DIR]
                            [--small] [--seed N]
    scratchml backends
    scratchml sweep [--config sweep.toml] [--depth 1 2 3] [--width 2 4 8] ... [--out DIR] [--resume]
                    [--data FILE.csv --target COLUMN] [--folds K] [--min-seeds K]
    scratchml bench [--quick] [--backend NAME] [--out DIR] ...

Every parser refuses abbreviated flags (``--seed`` is not ``--seeds``) and shows its
defaults in ``--help``; ``sweep`` says what is wrong in one line (with the flag it
probably means) and points at ``--help``, the others print their usage. Exit codes: 0 done,
1 a failure of the environment (an unwritable folder, an unreachable scheduler),
2 a usage error, 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import argparse
import difflib
import sys
import time
import types
from collections.abc import Sequence
from typing import Any

from . import backends


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows ``(default: X)`` after each flag's help, except where there is nothing to show."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        help_text = action.help or ""
        if action.default in (None, False, argparse.SUPPRESS) or "default" in help_text:
            return help_text
        return super()._get_help_string(action)


def _subparser(commands: Any, name: str, **kwargs: Any) -> argparse.ArgumentParser:
    return commands.add_parser(name, allow_abbrev=False, formatter_class=_HelpFormatter, **kwargs)


def _parser() -> tuple[argparse.ArgumentParser, dict[str, argparse.ArgumentParser]]:
    """The top-level parser, and each subcommand's parser by name."""
    from . import __version__, bench
    from .demos import DEMOS
    from .demos._common import DEFAULT_OUT

    parser = argparse.ArgumentParser(
        prog="scratchml",
        description="Machine learning from scratch on the Array API standard.",
        allow_abbrev=False,
        formatter_class=_HelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"scratchml {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = _subparser(
        commands, "demo", help="run a demo of the original collection and write its pictures"
    )
    demo.add_argument("name", help=f"one of: {', '.join(DEMOS)}, or 'all'")
    demo.add_argument(
        "--backend", default="numpy", choices=backends.BACKENDS, help="array library to train on"
    )
    demo.add_argument(
        "--out",
        default=DEFAULT_OUT,
        help="folder for the pictures (the committed pictures are remade with --out demos/results)",
    )
    demo.add_argument(
        "--small",
        action="store_true",
        help="a fast version of each demo: fewer points, frames and epochs, smaller but "
        "trained models",
    )
    demo.add_argument("--seed", type=int, default=0, help="random seed for data and initialisation")
    listing = _subparser(
        commands, "backends", help="list the array backends usable here, and where they compute"
    )
    sweep = _subparser(
        commands,
        "sweep",
        help="train a grid of networks (spirals or your data) as stacks; results, "
        "configurations, pictures",
        description="Train every network of a grid on spirals (or on --data), as stacks of "
        "same-shape networks, and report per configuration (every key but the seed) how "
        "reliably it succeeds. List flags take several values; flags override --config; "
        "with --resume or --extend, the grid and settings not given are the stored ones.",
    )
    sweep.error = types.MethodType(_one_line_error, sweep)  # type: ignore[method-assign]
    add_sweep_arguments(sweep)
    bench_parser = _subparser(
        commands, "bench", help="run the benchmarks; write a report and charts"
    )
    bench.add_arguments(bench_parser)
    return parser, {"demo": demo, "backends": listing, "sweep": sweep, "bench": bench_parser}


# --- scratchml sweep ----------------------------------------------------------------------------


def _one_line_error(parser: argparse.ArgumentParser, message: str) -> None:
    """A usage error in one line (with the flag probably meant), and where help is; exit 2."""
    if message.startswith("unrecognized arguments:"):
        flags = [a.split("=")[0] for a in message.split(":", 1)[1].split() if a.startswith("-")]
        known = [o for action in parser._actions for o in action.option_strings]
        close = difflib.get_close_matches(flags[0], known, n=1) if flags else []
        if close:
            message += f" (did you mean {close[0]}?)"
    _usage_error(parser.prog, message)
    sys.exit(2)


def _usage_error(prog: str, message: str) -> int:
    print(f"{prog}: error: {message}\nsee '{prog} --help'", file=sys.stderr)
    return 2


def add_sweep_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``scratchml sweep`` flags (grid flags show the grid's defaults).

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The sweep subcommand's parser, to add the flags to.
    """
    parser.add_argument("--config", metavar="FILE", help="a TOML file of grid keys and settings")
    _add_grid_arguments(parser.add_argument_group("the grid (each flag takes one or more values)"))
    _add_setting_arguments(parser.add_argument_group("settings shared by every network"))
    _add_data_arguments(parser.add_argument_group("your own data instead of spirals"))
    _add_run_arguments(parser.add_argument_group("running and reporting"))


def _grid_default(key: str) -> str:
    """`` (default: …)``: a grid key's default values, as its help shows them."""
    from .sweep import DEFAULT_GRID

    value = DEFAULT_GRID[key]
    shown = " ".join(map(str, value)) if isinstance(value, list) else str(value)
    return f" (default: {shown})"


def _add_list_flag(group: Any, key: str, kind: Any, metavar: str, help_text: str) -> None:
    """``--KEY V [V ...]``: a grid key's values (underscores become hyphens in the flag)."""
    group.add_argument(
        f"--{key.replace('_', '-')}",
        type=kind,
        nargs="+",
        dest=key,
        metavar=metavar,
        help=help_text,
    )


def _add_grid_arguments(grid: Any) -> None:
    """The grid's keys: the spirals', the networks', the optimizers' settings, the seeds."""
    from .nn.activations import ACTIVATIONS
    from .nn.optimizers import OPTIMIZERS
    from .sweep import OPTIMIZER_KEYS

    for key, kind, metavar, what in (
        ("arms", int, "N", "spiral arms (classes)"),
        ("turns", float, "T", "turns of each arm"),
        ("noise", float, "SD", "point noise"),
        ("n_samples", int, "N", "training points"),
        ("depth", int, "N", "hidden layers"),
        ("width", int, "N", "units per layer"),
        ("activation", None, "NAME", ", ".join(sorted(ACTIVATIONS))),
        ("optimizer", None, "NAME", ", ".join(OPTIMIZERS)),
    ):
        _add_list_flag(grid, key, kind, metavar, what + _grid_default(key))
    for key in OPTIMIZER_KEYS:
        grid.add_argument(
            f"--{key.replace('_', '-')}",
            type=float,
            nargs="+",
            dest=key,
            metavar="X",
            help=f"the optimizer's {key} (default: the estimator's own)",
        )
    _add_list_flag(
        grid, "learning_rate", float, "RATE", "learning rates" + _grid_default("learning_rate")
    )
    _add_list_flag(grid, "l2", float, "PENALTY", "L2 penalties" + _grid_default("l2"))
    grid.add_argument(
        "--seeds", type=int, metavar="N", help="network seeds 0 … N−1" + _grid_default("seeds")
    )


def _add_setting_arguments(settings: Any) -> None:
    """What every network of the sweep shares: epochs, batches, library, dtype, curves."""
    from .sweep import DEFAULT_EPOCHS

    settings.add_argument(
        "--epochs", type=int, metavar="N", help=f"epochs per network (default: {DEFAULT_EPOCHS})"
    )
    settings.add_argument(
        "--batch-size",
        type=int,
        dest="batch_size",
        metavar="N",
        help="mini-batch size (default: full batch)",
    )
    settings.add_argument(
        "--backend", choices=backends.BACKENDS, help="array library (default: numpy)"
    )
    settings.add_argument(
        "--dtype", choices=("float32", "float64"), help="floating dtype (default: float32)"
    )
    settings.add_argument(
        "--curve-every",
        type=int,
        dest="curve_every",
        metavar="K",
        help="keep each network's loss every K epochs (default: about 100 points per curve)",
    )


def _add_data_arguments(data: Any) -> None:
    """The user's data file, its target, task, folds and scaling."""
    data.add_argument(
        "--data",
        metavar="FILE",
        help="a .npz file (arrays X and y) or a .csv file (with --target) to sweep",
    )
    data.add_argument("--target", metavar="COLUMN", help="the CSV column (or .npz array) of y")
    data.add_argument(
        "--task",
        choices=("classifier", "regressor"),
        help="default: a classifier unless y holds non-integer reals",
    )
    data.add_argument(
        "--folds",
        type=int,
        metavar="K",
        help="K-fold (K ≥ 3: each fold tests on one part, validates on the next; a "
        "configuration pools its K × seeds networks) instead of one held-out split "
        "(20%% test, 20%% validation)",
    )
    data.add_argument(
        "--standardize",
        action="store_const",
        const=True,
        help="scale each feature by the mean and sd of each split's training rows "
        "(default: the features as given)",
    )


def _add_run_arguments(run: Any) -> None:
    """Where the sweep goes and how it runs, and how its report judges and draws."""
    run.add_argument("--out", metavar="DIR", help="the sweep's folder (default: sweeps/latest)")
    run.add_argument("--resume", action="store_true", help="continue the sweep in --out")
    run.add_argument(
        "--extend",
        action="store_true",
        help="resume with a bigger grid: per key, the stored values plus the new ones",
    )
    run.add_argument(
        "--chunk-size",
        type=int,
        dest="chunk_size",
        metavar="N",
        help="most networks per stack (default: fits half the free memory, a few seconds)",
    )
    run.add_argument(
        "--dask",
        metavar="ADDRESS|local:N",
        help="a dask.distributed scheduler's ADDRESS, or local:N worker processes",
    )
    _add_report_arguments(run)


def _add_report_arguments(run: Any) -> None:
    """How the report judges success (stored with the sweep) and splits its pictures."""
    from .sweep import DEFAULT_THRESHOLD

    run.add_argument(
        "--threshold",
        type=float,
        metavar="SCORE",
        help="score (accuracy, or R² for a regressor) a network must reach on the judged "
        f"split to succeed (default: {DEFAULT_THRESHOLD}; stored with the sweep)",
    )
    run.add_argument(
        "--min-seeds",
        type=int,
        dest="min_seeds",
        metavar="K",
        help="a configuration is reliable when K of its networks (seeds, × folds) succeed "
        "(default: all; stored with the sweep)",
    )
    run.add_argument(
        "--judge-on",
        dest="judge_on",
        choices=("validation", "test"),
        help="the split success is judged on; the other's score is shown beside "
        "(default: validation; stored with the sweep)",
    )
    run.add_argument(
        "--axes",
        nargs=2,
        metavar="KEY",
        help="two keys (e.g. learning_rate l2) that get a table in summary.md and "
        "heatmaps, besides depth × width (stored with the sweep)",
    )
    run.add_argument(
        "--by",
        nargs="+",
        metavar="KEY",
        help="keys that make panels in the pictures; the other varying keys make one "
        "picture each (default: the network's keys as panels, the data's as pictures)",
    )


def _sweep(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """Run ``scratchml sweep``: 0 done, 1 environment failure, 2 usage error, 130 interrupted."""
    from .sweep import ReportInterrupted, SweepInterrupted

    try:
        config = _sweep_config(args)
    except ValueError as exc:
        return _sweep_failure(parser, 2, str(exc))
    out = config.get("out", "sweeps/latest")
    try:
        result = _run_sweep(args, config)
    except SweepInterrupted as stop:
        return _stopped(stop)
    except ReportInterrupted:  # after training, while the report was being drawn
        print(
            f"\ninterrupted while writing the report; every network is saved in {out}; "
            f"draw it again with:\n    scratchml sweep --resume --out {out}",
            file=sys.stderr,
        )
        return 130
    except KeyboardInterrupt:  # before the sweep began: reading the data, checking
        print("\ninterrupted before the sweep began; nothing written", file=sys.stderr)
        return 130
    except (ValueError, TypeError, FileExistsError, FileNotFoundError, ImportError) as exc:
        return _sweep_failure(parser, 2, str(exc))
    except OSError as exc:  # an unwritable folder, an unreachable scheduler
        return _sweep_failure(parser, 1, str(exc))
    print(
        f"{result.n_networks} networks ({result.n_trained} trained now, "
        f"{result.network_epochs_per_second:,.0f} network-epochs/s)"
    )
    for path in (result.results, result.configs, *result.pictures, result.summary):
        print(f"    wrote {path}")
    return 0


def _sweep_failure(parser: argparse.ArgumentParser, code: int, message: str) -> int:
    """Say what went wrong; a usage error (code 2) also points at ``--help``."""
    if code == 2:
        return _usage_error(parser.prog, message)
    print(f"{parser.prog}: error: {message}", file=sys.stderr)
    return code


def _sweep_config(args: argparse.Namespace) -> dict[str, Any]:
    """The --config file's keys, with the flags given on the command line over them."""
    from .sweep import GRID_KEYS, REPORT_KEYS, SETTING_KEYS, load_config

    config = load_config(args.config) if args.config else {}
    keys = (*GRID_KEYS, *SETTING_KEYS, *REPORT_KEYS, "out", "dask", "chunk_size")
    for key in (*keys, "data", "target"):
        value = getattr(args, key, None)
        if value is not None:
            config[key] = value
    return config


def _run_sweep(args: argparse.Namespace, config: dict[str, Any]) -> Any:
    """Read the data file (if any) and run the sweep the configuration describes."""
    from pathlib import Path

    from .sweep import GRID_KEYS, read_file, run

    grid = {key: config.pop(key) for key in GRID_KEYS if key in config}
    out = config.pop("out", "sweeps/latest")
    data_file, target = config.pop("data", None), config.pop("target", None)
    if data_file is None:
        if target is not None:
            raise ValueError("--target names a column of --data FILE; give --data too")
        return run(grid or None, out, resume=args.resume, extend=args.extend, **config)
    X, y = read_file(data_file, target)
    config["name"] = Path(data_file).name
    return run(X, y, grid or None, out, resume=args.resume, extend=args.extend, **config)


def _stopped(stop: Any) -> int:
    """Say how much of an interrupted sweep is saved and how to continue it; 130."""
    if stop.nothing_written:
        print(
            f"\ninterrupted before any network was saved; nothing written in {stop.out}",
            file=sys.stderr,
        )
        return 130
    print(
        f"\ninterrupted: {stop.rows_saved} of {stop.n_networks} networks saved in "
        f"{stop.out / 'results.csv'}; continue with:\n    {stop.resume_command}",
        file=sys.stderr,
    )
    return 130


# --- scratchml demo, backends -------------------------------------------------------------------


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
    """One line per backend (usable and where it computes, or why not), then the NVIDIA
    driver and its CuPy extra.

    A usable torch is not a GPU torch: each usable line says whether torch sees CUDA
    (and JAX a GPU), and where new arrays land.
    """
    for name in backends.BACKENDS:
        reason = backends.why_unavailable(name)
        status = f"usable; {backends.describe(name)}" if not reason else f"not usable: {reason}"
        print(f"{name:18} {status}")
    print(f"{'(NVIDIA driver)':18} {backends.driver_summary()}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``scratchml`` console script.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments after ``scratchml``; None reads ``sys.argv``.

    Returns
    -------
    int
        The exit code: 0 on success, 1 for a failed run, 2 for a usage error, 130 for a
        sweep stopped by Ctrl-C.
    """
    try:
        return _main(argv)
    except KeyboardInterrupt:  # Ctrl-C while the command starts (its imports): no traceback
        print("\nscratchml: interrupted", file=sys.stderr)
        return 130


def _main(argv: Sequence[str] | None) -> int:
    parser, subparsers = _parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:  # a misspelt flag: the subcommand's own usage, not the top-level one
        subparsers[args.command].error(f"unrecognized arguments: {' '.join(unknown)}")
    if args.command == "backends":
        return _list_backends()
    if args.command == "sweep":
        return _sweep(args, subparsers["sweep"])
    if args.command == "bench":
        from . import bench

        return bench.main(args)
    return _run_demos(args, subparsers["demo"])


if __name__ == "__main__":
    sys.exit(main())
