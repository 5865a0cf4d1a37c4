"""The ``vaelib`` console script: a thin argparse layer over :mod:`vaelib.sweep`.

``vaelib params NOTEBOOK``      the notebook's parameters, defaults, types and help
``vaelib sweep NOTEBOOK ...``   execute it over a parameter grid (see ``vaelib sweep --help``)
``vaelib report DIR ...``       the table of the sweep's run records and its summary figure

Exit codes (as pytest's):

===  ======================================================================================
0    success: for ``sweep``, every run completed (or was cached)
1    ``sweep``: some runs failed (the summary line says how many; their records say why)
2    usage error: nothing ran (unknown parameter, a value that does not fit its type, ...)
3    the command itself crashed (an unexpected exception: a traceback and a hint are printed)
130  Ctrl-C (re-run the same command to finish)
143  SIGTERM (re-run the same command to finish)
===  ======================================================================================
"""
from __future__ import annotations

import argparse
import signal
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path

from vaelib.sweep import (
    FAILED,
    SweepError,
    SweepInterrupted,
    collect_results,
    notebook_parameters,
    parse_grid,
    parse_value,
    report,
    sweep,
)

SUCCESS = 0
RUNS_FAILED = 1
USAGE_ERROR = 2
CRASHED = 3
INTERRUPTED = 130
TERMINATED = 143
_HIDDEN = ("worker", "started", "finished", "notebook_sha256")

_SWEEP_EPILOG = """\
values (YAML 1.2 core schema, one value each): 20000 and 010 (ints, decimal), 0x1F 0o17 (hex,
octal), 1e-3 .inf .nan (floats), true/false in any case (bools), null ~ none (None), [1, 2] and
{a: 1} (list, dict), '007' (a quoted str); anything else is the text as typed (1:20, #ff0000).
A str parameter takes the text as typed (032 stays "032"). Grid values are separated by the
commas outside brackets, braces and quotes: --grid 'x=[1,2],[3,4]'. Each value is checked
against its parameter's declared type (vaelib params NOTEBOOK) before anything runs: an int
fits a float parameter, not the other way round; only true/false fit a bool.
Example:
  vaelib sweep notebooks/04_beta_vae_disentanglement.ipynb -p steps 2000 \\
      --grid beta=1,4,8 --seeds 0,1,2 --out runs/beta --workers 2
Completed runs are cached in DIR/runs and skipped next time (--force re-runs them); failed runs
are retried. A second sweep into the same DIR waits for the first (DIR/sweep.lock).
exit codes: 0 every run completed (or was cached); 1 some runs failed; 2 usage error (nothing
ran); 3 the sweep itself crashed (traceback printed); 130 Ctrl-C; 143 SIGTERM (after 130 or
143, re-run the same command to finish).
"""


def _format_table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip()
             for row in [header, *rows]]
    return "\n".join(lines)


def _params(args: argparse.Namespace) -> int:
    table = notebook_parameters(args.notebook)
    if not table:
        print(f"{args.notebook} has no cell tagged 'parameters'")
        return 0
    rows = [[p["name"], p["type"], p["default"], p["help"]] for p in table.values()]
    print(_format_table(rows, ["name", "type", "default", "help"]))
    return 0


def _sweep(args: argparse.Namespace) -> int:
    types = {name: info["type"] for name, info in notebook_parameters(args.notebook).items()}
    parameters = {}
    for name, text in args.parameter or []:
        if name in parameters:
            raise SweepError(f"parameter {name} is given twice with -p")
        parameters[name] = parse_value(text, types.get(name))
    grid = {}
    for spec in args.grid or []:
        name, values = parse_grid(spec, types)
        if name in grid:
            raise SweepError(f"--grid {name}=... is given twice; list all its values in one")
        grid[name] = values
    if args.seeds is not None:
        if "seed" in grid:
            raise SweepError("seed is swept by both --seeds and --grid seed=...; pick one")
        _, seeds = parse_grid(f"seed={args.seeds}")
        bad = [s for s in seeds if isinstance(s, bool) or not isinstance(s, int) or s < 0]
        if bad:
            raise SweepError(f"--seeds must be non-negative ints separated by commas, got {bad}")
        grid["seed"] = seeds
    try:
        table = sweep(args.notebook, parameters, grid, args.out, workers=args.workers,
                      timeout=args.timeout, force=args.force, progress=not args.no_progress,
                      scheduler=args.scheduler)
    except SweepInterrupted as stop:
        print(stop, file=sys.stderr)
        return TERMINATED if stop.signum == signal.SIGTERM else INTERRUPTED
    print(table.attrs["summary"])
    print(f"results: {Path(args.out) / 'results.csv'}")
    return RUNS_FAILED if (table["status"] == FAILED).any() else SUCCESS


def _report(args: argparse.Namespace) -> int:
    import pandas as pd

    table = collect_results(args.dir)
    hidden = [*_HIDDEN, *(c for c in ("error", "error_message") if table[c].isna().all())]
    shown = table.drop(columns=hidden)
    if args.columns:
        missing = [column for column in args.columns if column not in table.columns]
        if missing:
            raise SweepError(f"--columns {' '.join(missing)}: not in results.csv; its columns are: "
                             f"{', '.join(table.columns)}")
        shown = table[args.columns]
    with pd.option_context("display.max_columns", None, "display.width", None,
                           "display.max_colwidth", 60):
        print(shown.to_string(index=False))
    report(args.dir, x=args.x, y=args.y, hue=args.hue)
    print(f"summary figure: {Path(args.dir) / 'summary.png'}")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vaelib", description="Batch runs of vaelib notebooks (papermill).")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    params = commands.add_parser("params", help="list a notebook's parameters",
                                 description="List the parameters of a notebook's cell tagged "
                                             "'parameters': name, type, default and help.")
    params.add_argument("notebook", metavar="NOTEBOOK")
    params.set_defaults(func=_params)

    run = commands.add_parser(
        "sweep", help="execute a notebook over a parameter grid",
        description="Execute NOTEBOOK once per point of a parameter grid, in parallel worker "
                    "processes, into DIR/runs/<run-id>.ipynb and .json, plus DIR/results.csv.",
        epilog=_SWEEP_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    run.add_argument("notebook", metavar="NOTEBOOK")
    run.add_argument("-p", "--parameter", nargs=2, action="append", metavar=("NAME", "VALUE"),
                     help="a parameter fixed for every run (repeatable)")
    run.add_argument("--grid", action="append", metavar="NAME=V1,V2,...",
                     help="a swept parameter; the runs are the product of all grids (repeatable)")
    run.add_argument("--seeds", metavar="S1,S2,...", help="shorthand for --grid seed=S1,S2,...")
    run.add_argument("--out", required=True, metavar="DIR", help="output directory")
    run.add_argument("--workers", type=int, default=1, metavar="N",
                     help="runs executed at once, one process and kernel each (default: 1)")
    run.add_argument("--scheduler", metavar="ADDRESS",
                     help="run on a Dask cluster, e.g. tcp://10.0.0.5:8786 (needs vaelib[dist]; "
                          "start workers with --nthreads 1); --workers is then ignored")
    run.add_argument("--timeout", type=int, metavar="S",
                     help="seconds each cell may run before its run fails (default: no limit)")
    run.add_argument("--force", action="store_true", help="re-run completed (cached) runs")
    run.add_argument("--no-progress", action="store_true", help="no progress bar")
    run.set_defaults(func=_sweep)

    summary = commands.add_parser(
        "report", help="print a sweep's results and plot them",
        description="Print the table of the sweep's run records, DIR/runs/*.json (the source "
                    "of truth; the rows of DIR/results.csv, which a sweep rewrites from them "
                    "after every run), and save DIR/summary.png: each metric against a swept "
                    "parameter, mean and standard deviation over seeds.")
    summary.add_argument("dir", metavar="DIR")
    summary.add_argument("--columns", nargs="+", metavar="COLUMN",
                         help="columns of the printed table, in order (default: all but bookkeeping)")
    summary.add_argument("--x", metavar="PARAM",
                         help="horizontal axis (default: the most varied swept parameter)")
    summary.add_argument("--y", nargs="+", metavar="METRIC",
                         help="metrics to plot (default: the numeric results, at most 6)")
    summary.add_argument("--hue", metavar="PARAM",
                         help="one line per value of PARAM (default: another swept parameter)")
    summary.set_defaults(func=_report)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``vaelib`` command line with ``argv`` (default: ``sys.argv[1:]``); the exit code
    (see the module's table)."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # --help, or argparse's own usage errors
        return exit_.code if isinstance(exit_.code, int) else 0
    if args.command is None:
        parser.print_help(sys.stderr)
        return USAGE_ERROR
    try:
        return args.func(args)
    except (SweepError, FileNotFoundError) as error:
        print(f"vaelib {args.command}: error: {error}", file=sys.stderr)
        return USAGE_ERROR
    except KeyboardInterrupt:  # a second Ctrl-C, or one before the runs started
        where = f" in {args.out}" if args.command == "sweep" else ""
        print(f"interrupted; re-run the same command to finish{where}", file=sys.stderr)
        return INTERRUPTED
    except Exception:  # a bug, or a broken environment: not a failed run, not a usage error
        traceback.print_exc()
        kept = (f"; the records already written in {args.out}/runs are kept and the same command "
                "resumes" if args.command == "sweep" else "")
        print(f"vaelib {args.command} crashed (exit code {CRASHED}): the traceback above is a "
              f"bug in vaelib or its environment, not a failed run{kept}", file=sys.stderr)
        return CRASHED


if __name__ == "__main__":
    sys.exit(main())
