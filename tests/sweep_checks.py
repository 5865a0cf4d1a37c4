"""Checks shared by the local and the Dask sweep tests: what Ctrl-C leaves behind, and the re-run."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd


def check_interrupted_sweep(out: Path, done: list[Path]) -> dict[Path, int]:
    """After Ctrl-C: no temporary files in ``out/runs``, every record in ``done`` completed and one
    results.csv row each. Returns the records' modification times (ns), for :func:`check_rerun`."""
    runs = out / "runs"
    assert not [p for p in runs.iterdir() if p.name.startswith(".")]  # no temporary files
    for path in done:
        assert json.loads(path.read_text())["status"] == "completed"
    assert len(pd.read_csv(out / "results.csv")) == len(done)
    return {p: p.stat().st_mtime_ns for p in done}


def check_rerun(summary: str, mtimes: dict[Path, int], total: int) -> None:
    """The same sweep run again executed only the rest: the completed records were skipped untouched."""
    assert summary.startswith(f"{total} runs: {total - len(mtimes)} completed, {len(mtimes)} skipped (cached), "
                              "0 failed")
    assert {p: p.stat().st_mtime_ns for p in mtimes} == mtimes
