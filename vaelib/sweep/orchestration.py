"""The sweep itself: plan the runs, skip the cached ones, execute the rest, write as they finish.

Ctrl-C is caught once (:func:`_interrupt_flag`): the executor is terminated, the completed
records and ``results.csv`` stay, and :class:`~vaelib.sweep.SweepInterrupted` says how far the
sweep got; the same call finishes the rest.
"""
from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import warnings
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait
from pathlib import Path
from typing import Any

import pandas as pd

from vaelib.sweep.errors import SweepError, SweepInterrupted
from vaelib.sweep.executor import RunExecutor
from vaelib.sweep.local_pool import LocalPool
from vaelib.sweep.notebooks import read_notebook
from vaelib.sweep.records import load_records, tidy_table, write_csv, write_run
from vaelib.sweep.runs import COMPLETED, FAILED, Run, make_record, plan_runs, utc_now
from vaelib.validation import is_integer

__all__ = ["sweep"]


def _executor(scheduler: str | None, workers: int) -> RunExecutor:
    """The executor of a sweep: a Dask cluster's client, or local worker processes."""
    if scheduler is None:
        return LocalPool(workers)
    from vaelib.sweep.dask_pool import DaskPool

    return DaskPool(scheduler)


@contextlib.contextmanager
def _interrupt_flag() -> Iterator[threading.Event]:
    """An event set by the first Ctrl-C (a second one raises KeyboardInterrupt as usual).

    Only the main thread can catch signals; elsewhere the event is never set.
    """
    flag = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield flag
        return

    def handler(signum: int, frame: Any) -> None:
        if flag.is_set():
            raise KeyboardInterrupt
        flag.set()

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield flag
    finally:
        signal.signal(signal.SIGINT, previous)


def _outcome(future: Future, run: Run) -> tuple[dict[str, Any], bytes | None]:
    try:
        return future.result()
    except Exception as exc:  # the worker died (killed, out of memory): the run failed
        now = utc_now()
        error = {"ename": type(exc).__name__, "evalue": str(exc)}
        return make_record(run, error=error, started=now, finished=now), None


def _first_line(text: str | None) -> str:
    return next((line.strip() for line in str(text or "").splitlines() if line.strip()), "")


def _summary(runs: Sequence[Run], cached: set[str], records: Mapping[str, Mapping]) -> str:
    failed = [r.run_id for r in runs if records[r.run_id]["status"] == FAILED]
    completed = len(runs) - len(cached) - len(failed)
    text = f"{len(runs)} run{'s' if len(runs) != 1 else ''}: {completed} completed, "
    text += f"{len(cached)} skipped (cached), {len(failed)} failed"
    if failed:
        shown = []
        for name in failed[:3]:
            error = records[name].get("error") or {}
            shown.append(f"{name} ({error.get('ename')}: {_first_line(error.get('evalue'))})")
        text += ": " + "; ".join(shown) + ("; ..." if len(failed) > 3 else "")
    return text


def _check_options(workers: Any, timeout: Any, force: Any, scheduler: Any) -> None:
    for name, value, optional in (("workers", workers, False), ("timeout", timeout, True)):
        if value is None and optional:
            continue
        if not is_integer(value) or value < 1:
            raise SweepError(f"{name} must be an int >= 1 (seconds for timeout), got {value!r}")
    if not isinstance(force, bool):
        raise SweepError(f"force must be True or False, got {force!r}")
    if scheduler is not None and (not isinstance(scheduler, str) or not scheduler.strip()):
        raise SweepError(f"scheduler must be the address of a Dask scheduler, got {scheduler!r}")


def sweep(
    notebook: str | os.PathLike,
    parameters: Mapping[str, Any] | None = None,
    grid: Mapping[str, Sequence[Any]] | None = None,
    out: str | os.PathLike = "sweep",
    *,
    workers: int = 1,
    timeout: int | None = None,
    force: bool = False,
    progress: bool = True,
    scheduler: str | None = None,
) -> pd.DataFrame:
    """Execute a notebook over a parameter grid in parallel worker processes, with a cache.

    Parameters
    ----------
    notebook : path
        Notebook with a cell tagged ``parameters``.
    parameters : mapping, optional
        Fixed parameters of every run.
    grid : mapping of str to sequence, optional
        Swept parameters; the runs are their cartesian product (see
        :func:`~vaelib.sweep.expand_grid`).
    out : path
        Output directory (created): ``runs/<run-id>.ipynb``, ``runs/<run-id>.json``,
        ``results.csv`` (rewritten after every run; it covers every record in ``runs/``).
    workers : int
        Runs executed at once, each in its own process and kernel (>= 1). The cores are shared
        out through ``OMP_NUM_THREADS``/``MKL_NUM_THREADS``.
    timeout : int, optional
        Seconds each cell may run; a run that exceeds it fails (no limit by default).
    force : bool
        Re-run runs that already completed (otherwise their records are reused).
    progress : bool
        Show a progress bar over runs on stderr.
    scheduler : str, optional
        Address of a Dask distributed scheduler (e.g. ``"tcp://10.0.0.5:8786"``): each run is
        one Dask task on the cluster's workers (:mod:`vaelib.sweep.dask_pool`; ``workers`` is
        then ignored, the cluster's worker threads decide). Default: local worker processes.

    Returns
    -------
    DataFrame
        The rows of ``results.csv`` for this sweep's runs. ``attrs["summary"]`` is a one-line
        account such as ``"6 runs: 4 completed, 1 skipped (cached), 1 failed: ..."`` and
        ``attrs["cached"]`` lists the run ids that were skipped.

    Raises
    ------
    FileNotFoundError, SweepError
        Before anything runs, for a missing notebook, unknown parameters or bad options.
    SweepInterrupted
        On Ctrl-C: queued runs are cancelled, running kernels ended, completed records and
        ``results.csv`` kept; calling again finishes the remaining runs.
    """
    from tqdm.auto import tqdm

    runs = plan_runs(notebook, parameters, grid)
    _check_options(workers, timeout, force, scheduler)
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise SweepError(f"out {str(out)!r} exists and is not a directory")
    runs_dir = out / "runs"
    runs_dir.mkdir(parents=True, exist_ok=True)
    records = load_records(runs_dir)
    cached = set() if force else {
        r.run_id for r in runs if records.get(r.run_id, {}).get("status") == COMPLETED
    }
    todo = [r for r in runs if r.run_id not in cached]
    others = {rec.get("notebook_sha256") for rec in records.values()} - {runs[0].notebook_sha256}
    if others:
        warnings.warn(f"{runs_dir} also holds runs of another version of the notebook; they are "
                      "rows of results.csv too (see its notebook_sha256 column)", stacklevel=2)
    source = read_notebook(notebook)
    for cell in source.cells:  # papermill clears outputs anyway; don't ship them to workers
        if cell.cell_type == "code":
            cell.outputs = []
    bar = tqdm(total=len(runs), initial=len(cached), desc=Path(notebook).stem, unit="run",
               file=sys.stderr, disable=not progress, dynamic_ncols=True)
    failures = 0
    with bar, _interrupt_flag() as interrupted:
        if todo:
            with _executor(scheduler, min(workers, len(todo))) as pool:
                futures = {pool.submit_run(run, source=source, timeout=timeout): run
                           for run in todo}
                pending = set(futures)
                while pending and not interrupted.is_set():
                    done, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
                    for future in done:
                        record, notebook_bytes = _outcome(future, futures[future])
                        write_run(runs_dir, record, notebook_bytes)
                        records[record["run_id"]] = record
                        write_csv(out, records)
                        if record["status"] == FAILED:
                            failures += 1
                            bar.set_postfix(failed=failures)
                            error = record["error"]
                            bar.write(f"failed: {record['run_id']}: {error['ename']}: "
                                      f"{_first_line(error['evalue'])}", file=sys.stderr)
                        bar.update(1)
                if interrupted.is_set():
                    pool.terminate()
        write_csv(out, records)
    if interrupted.is_set():
        completed = sum(records.get(r.run_id, {}).get("status") == COMPLETED for r in runs)
        finished = {r.run_id for r in todo if r.run_id in records} | cached
        remaining = len(runs) - len(finished)
        raise SweepInterrupted(
            f"interrupted: {completed} of {len(runs)} runs completed"
            f"{f' ({len(cached)} cached)' if cached else ''}; results are in {out}. "
            f"Re-run the same command to finish the remaining {remaining}.",
            completed, remaining,
        )
    ids = {r.run_id for r in runs}
    table = tidy_table(rec for name, rec in records.items() if name in ids)
    table.attrs["summary"] = _summary(runs, cached, records)
    table.attrs["cached"] = sorted(cached)
    return table
