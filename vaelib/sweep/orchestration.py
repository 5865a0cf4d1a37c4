"""The sweep itself: plan the runs, skip the cached ones, execute the rest, write as they finish.

The cache key of a run is the hash that ends its id (every parameter and the notebook's code):
a completed record with that hash, whatever its readable name, is reused if its executed
notebook is still there, and a run that is executed again writes over its earlier record.
A sweep holds ``DIR/sweep.lock`` while it reads the cache and writes records
(:mod:`vaelib.sweep.locking`), and rewrites ``results.csv`` from every record on disk.

Ctrl-C is caught once and SIGTERM too (:func:`_stop_signals`): the executor is terminated, the
completed records and ``results.csv`` stay, and :class:`~vaelib.sweep.SweepInterrupted` says how
far the sweep got; the same call finishes the rest.
"""
from __future__ import annotations

import contextlib
import dataclasses
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
from vaelib.sweep.locking import sweep_lock
from vaelib.sweep.notebooks import read_notebook
from vaelib.sweep.records import (
    load_records,
    run_hash,
    same_run_groups,
    tidy_table,
    write_csv,
    write_run,
)
from vaelib.sweep.runs import COMPLETED, FAILED, Run, make_record, plan_runs, utc_now
from vaelib.validation import is_integer

__all__ = ["sweep"]


def _executor(scheduler: str | None, workers: int) -> RunExecutor:
    """The executor of a sweep: a Dask cluster's client, or local worker processes."""
    if scheduler is None:
        return LocalPool(workers)
    from vaelib.sweep.dask_pool import DaskPool

    return DaskPool(scheduler)


class _Stop(threading.Event):
    """Set by the first Ctrl-C or SIGTERM; ``signum`` says which."""

    signum: int = signal.SIGINT


@contextlib.contextmanager
def _stop_signals() -> Iterator[_Stop]:
    """A :class:`_Stop` set by the first Ctrl-C or SIGTERM (a second Ctrl-C raises
    KeyboardInterrupt as usual; a second SIGTERM changes nothing: the stop is under way).

    Only the main thread can catch signals; elsewhere the event is never set.
    """
    stop = _Stop()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def handler(signum: int, frame: Any) -> None:
        if stop.is_set():
            if signum == signal.SIGINT:
                raise KeyboardInterrupt
            return
        stop.signum = signum
        stop.set()

    previous = {signum: signal.signal(signum, handler) for signum in (signal.SIGINT,
                                                                      signal.SIGTERM)}
    try:
        yield stop
    finally:
        for signum, action in previous.items():
            signal.signal(signum, action)


def _cache(runs: Sequence[Run], records: Mapping[str, Mapping], runs_dir: Path,
           force: bool) -> tuple[list[Run], set[str]]:
    """The runs under the names of their records (same hash), and the names of the cached ones.

    A record is a cache hit when it is completed and its executed notebook exists. A run keeps
    its own name unless a record of the same hash has another: then it takes that record's name
    (a completed one first), so that executing it again replaces that record.
    """
    names: dict[str | None, list[str]] = {}
    for name in records:
        names.setdefault(run_hash(name), []).append(name)
    resolved, cached = [], set()
    for run in runs:
        same = names.get(run_hash(run.run_id), [])  # a planned id always ends with its hash
        done = [n for n in same if records[n].get("status") == COMPLETED
                and (runs_dir / f"{n}.ipynb").is_file()]
        own = [run.run_id] if run.run_id in same else []
        name = next(iter(sorted(done, key=lambda n: n != run.run_id) + own + same), run.run_id)
        resolved.append(dataclasses.replace(run, run_id=name))
        if name in done and not force:
            cached.add(name)
    return resolved, cached


def _warn_about(runs_dir: Path, records: Mapping[str, Mapping], digest: str) -> None:
    """Warn about records of another version of the notebook, and about runs recorded twice."""
    others = {rec.get("notebook_sha256") for rec in records.values()} - {digest}
    if others:
        warnings.warn(f"{runs_dir} also holds runs of another version of the notebook; they are "
                      "rows of results.csv too (see its notebook_sha256 column)", stacklevel=3)
    for group in same_run_groups(records):
        warnings.warn(f"{runs_dir} holds {len(group)} records of one run (same hash): "
                      f"{', '.join(f'{name}.json' for name in group)}; results.csv and report "
                      "count each (delete all but one)", stacklevel=3)


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
        ``results.csv`` (rewritten from every record in ``runs/`` after every run) and
        ``sweep.lock``.
    workers : int
        Runs executed at once, each in its own process and kernel (>= 1). The cores are shared
        out through ``OMP_NUM_THREADS``/``MKL_NUM_THREADS``.
    timeout : int, optional
        Seconds each cell may run; a run that exceeds it fails (no limit by default).
    force : bool
        Re-run runs that already completed (otherwise a completed record of the same hash whose
        executed notebook exists is reused).
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
        account such as ``"6 runs: 4 completed, 1 skipped (cached), 1 failed: ..."``,
        ``attrs["cached"]`` lists the run ids that were skipped and ``attrs["failed"]`` those
        that failed.

    Raises
    ------
    FileNotFoundError, SweepError
        Before anything runs, for a missing notebook, unknown parameters, a value that does not
        fit its parameter's declared type, or bad options.
    SweepInterrupted
        On Ctrl-C or SIGTERM (``signum`` says which): queued runs are cancelled, running
        kernels ended, completed records and ``results.csv`` kept; calling again finishes the
        remaining runs.

    Notes
    -----
    Another sweep into the same ``out`` waits for this one (``out/sweep.lock``), then skips what
    this one completed.
    """
    from tqdm.auto import tqdm

    runs = plan_runs(notebook, parameters, grid)
    _check_options(workers, timeout, force, scheduler)
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise SweepError(f"out {str(out)!r} exists and is not a directory")
    runs_dir = out / "runs"
    runs_dir.mkdir(parents=True, exist_ok=True)
    source = read_notebook(notebook)
    for cell in source.cells:  # papermill clears outputs anyway; don't ship them to workers
        if cell.cell_type == "code":
            cell.outputs = []
    with sweep_lock(out):
        records = load_records(runs_dir)
        _warn_about(runs_dir, records, runs[0].notebook_sha256)
        runs, cached = _cache(runs, records, runs_dir, force)
        todo = [r for r in runs if r.run_id not in cached]
        executed: set[str] = set()
        bar = tqdm(total=len(runs), initial=len(cached), desc=Path(notebook).stem, unit="run",
                   file=sys.stderr, disable=not progress, dynamic_ncols=True)
        with bar, _stop_signals() as stop:
            if todo:
                with _executor(scheduler, min(workers, len(todo))) as pool:
                    futures = {pool.submit_run(run, source=source, timeout=timeout): run
                               for run in todo}
                    pending = set(futures)
                    while pending and not stop.is_set():
                        done, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
                        for future in done:
                            if stop.is_set() and (future.cancelled() or future.exception()):
                                continue  # ended by the stop, not a failure of its notebook
                            record, notebook_bytes = _outcome(future, futures[future])
                            write_run(runs_dir, record, notebook_bytes)
                            records[record["run_id"]] = record
                            executed.add(record["run_id"])
                            write_csv(out, load_records(runs_dir, warn=False))
                            _show(bar, record, sum(records[name]["status"] == FAILED
                                                   for name in executed))
                    if stop.is_set():
                        pool.terminate()
            write_csv(out, load_records(runs_dir, warn=False))
    if stop.is_set():
        raise _stopped(stop.signum, runs, records, cached, executed, out)
    ids = {r.run_id for r in runs}
    table = tidy_table(rec for name, rec in records.items() if name in ids)
    table.attrs["summary"] = _summary(runs, cached, records)
    table.attrs["cached"] = sorted(cached)
    table.attrs["failed"] = sorted(r.run_id for r in runs if records[r.run_id]["status"] == FAILED)
    return table


def _show(bar: Any, record: Mapping[str, Any], failures: int) -> None:
    """Advance the progress bar by a finished run, and print the error of a failed one
    (``failures``: the failed runs so far, this one included)."""
    if record["status"] == FAILED:
        bar.set_postfix(failed=failures)
        error = record["error"]
        bar.write(f"failed: {record['run_id']}: {error['ename']}: "
                  f"{_first_line(error['evalue'])}", file=sys.stderr)
    bar.update(1)


def _stopped(signum: int, runs: Sequence[Run], records: Mapping[str, Mapping], cached: set[str],
             executed: set[str], out: Path) -> SweepInterrupted:
    """The exception that says how far a sweep stopped by ``signum`` got."""
    completed = sum(records.get(r.run_id, {}).get("status") == COMPLETED for r in runs)
    remaining = len(runs) - len(cached) - len(executed)
    runs_word = "run" if remaining == 1 else "runs"
    if signum == signal.SIGTERM:
        message = (f"terminated; re-run the same command to finish the remaining {remaining} "
                   f"{runs_word} ({completed} of {len(runs)} completed; results are in {out})")
    else:
        message = (f"interrupted: {completed} of {len(runs)} runs completed"
                   f"{f' ({len(cached)} cached)' if cached else ''}; results are in {out}. "
                   f"Re-run the same command to finish the remaining {remaining}.")
    return SweepInterrupted(message, completed, remaining, signum)
