"""``make demo``: execute every notebook at its defaults with papermill and print one line each.

Each notebook runs as a one-run :func:`vaelib.sweep.sweep` into ``runs/demo/<notebook>/`` (the
executed notebook under ``runs/``, its results JSON, ``results.csv``), so a second ``make demo``
skips notebooks whose code has not changed (``--force`` re-runs them) and a failing notebook
does not stop the others. The line per notebook gives its status, wall time and the ``summary``
the notebook put in its own results JSON (nats per sample for likelihood terms), e.g.::

    01_vae_basics                completed   84 s  test ELBO -24.56, IWAE k=100 -24.05, KL 2.73

so adding a notebook changes nothing here.

Run: python -m vaelib.demo [--notebooks notebooks] [--out runs/demo] [--force] [--timeout S]
(exit code 0 when every notebook completed or was cached, 1 when any failed).
"""
from __future__ import annotations

import argparse
import math
import numbers
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from vaelib.sweep import sweep

SUMMARY_PREFIX = "summary/"
"""Results columns shown on a notebook's line: the entries of the ``summary`` dict of its results
JSON (flattened by the sweep into ``summary/<label>`` columns), in the notebook's order."""


def _number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


def _shown(label: str, value: Any) -> str | None:
    if isinstance(value, bool):
        return f"{label} {value}"
    if not _number(value):
        return None
    return f"{label} {value:.4g}" if abs(value) < 1e4 else f"{label} {value:.0f}"


def summary_line(name: str, row: Mapping[str, Any], results: Sequence[str]) -> str:
    """One line for an executed notebook: name, status, wall time and its summary (or the error).

    Parameters
    ----------
    name : str
        Notebook file stem.
    row : mapping
        Its row of the sweep table (``status``, ``duration_s``, ``error``, ``error_message`` and
        the flattened results).
    results : sequence of str
        The result columns of the row, in order. The notebook's own ``summary/<label>`` columns
        are shown, in order; a notebook without a summary shows its first four numeric results.
    """
    duration = row.get("duration_s")
    head = f"{name:<28} {row['status']:<9} {f'{duration:4.0f} s' if _number(duration) else '   - s'}"
    if row["status"] == "failed":
        message = str(row.get("error_message") or "").strip().splitlines()
        return f"{head}  {row.get('error')}: {message[0] if message else ''}"
    summary = [(column.removeprefix(SUMMARY_PREFIX), column) for column in results if column.startswith(SUMMARY_PREFIX)]
    pairs = summary or [(column, column) for column in results if _number(row.get(column))][:4]
    shown = [text for label, column in pairs if (text := _shown(label, row.get(column))) is not None]
    return f"{head}  {', '.join(shown)}"


def main(argv: list[str] | None = None) -> int:
    """Execute the notebooks; the exit code is 0 when every notebook completed (or was cached),
    1 when any failed."""
    parser = argparse.ArgumentParser(prog="python -m vaelib.demo", description=__doc__.split("\n\n")[0])
    parser.add_argument("--notebooks", default="notebooks", help="folder of the notebooks (default: notebooks)")
    parser.add_argument("--out", default="runs/demo", help="output folder (default: runs/demo)")
    parser.add_argument("--force", action="store_true", help="re-run notebooks that already completed")
    parser.add_argument("--timeout", type=int, default=None, help="seconds each cell may run (default: no limit)")
    args = parser.parse_args(argv)
    notebooks = sorted(Path(args.notebooks).glob("*.ipynb"))
    if not notebooks:
        parser.error(f"no notebooks in {args.notebooks!r}")
    print(f"executing {len(notebooks)} notebooks at their defaults into {args.out}/ (one at a time)", flush=True)
    failed = 0
    for notebook in notebooks:
        table = sweep(notebook, out=Path(args.out) / notebook.stem, timeout=args.timeout, force=args.force,
                      progress=False)
        row = table.iloc[0].to_dict()
        if table.attrs["cached"]:
            row["status"] = "cached"
        failed += row["status"] == "failed"
        print(summary_line(notebook.stem, row, table.attrs["results"]), flush=True)
    print(f"executed notebooks and results: {args.out}/<notebook>/runs/; tables: {args.out}/<notebook>/results.csv")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
