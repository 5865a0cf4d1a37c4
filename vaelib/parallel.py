"""Independent training runs side by side: one process per run, one CPU thread each.

Small models (the LSTM VAEs of notebooks 02 and 03) gain almost nothing from a second thread, but
two of them train in the time of one when each has its own core. :func:`run_parallel` calls a
function once per set of keyword arguments in worker processes and returns the results in order.
Each worker uses one torch thread, so the results are those of a sequential run with
``torch.set_num_threads(1)``, bit for bit, whatever the number of workers.
"""
from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any, TypeVar

import torch

from vaelib.threads import available_threads, thread_environment
from vaelib.validation import positive_int

__all__ = ["fit_models", "run_parallel"]

R = TypeVar("R")


def _one_thread() -> None:
    """Worker set-up: one torch thread (OMP and MKL too, for libraries loaded later)."""
    import os

    os.environ.update(thread_environment(1))
    torch.set_num_threads(1)


def _call(function: Callable[..., R], kwargs: Mapping[str, Any]) -> R:
    return function(**kwargs)


def _fit_and_return(**job: Any) -> tuple[Any, Any]:
    from vaelib.training import fit

    return job["model"], fit(**job)


def fit_models(jobs: Sequence[Mapping[str, Any]], *, workers: int | None = None) -> list[tuple[Any, Any]]:
    """Train several models at once: ``(model, fit(**job))`` for every job, in worker processes.

    Each job holds :func:`vaelib.fit`'s arguments (``model``, ``data``, ``objective``, ``steps``,
    ...; ``progress`` defaults to False here). The models come back trained: the returned ``model``
    is the worker's copy, so use it instead of the one in the job (which is unchanged when
    ``workers > 1``). Results equal those of ``fit`` with ``torch.set_num_threads(1)``.
    """
    jobs = [{"progress": False, **job} for job in jobs]
    return run_parallel(_fit_and_return, jobs, workers=workers)


def run_parallel(function: Callable[..., R], calls: Sequence[Mapping[str, Any]], *,
                 workers: int | None = None) -> list[R]:
    """``[function(**call) for call in calls]``, computed in up to ``workers`` processes.

    Parameters
    ----------
    function : callable
        A module-level function (it is sent to the workers by reference), e.g.
        :func:`vaelib.collapse.train_method`. Its results must be picklable (models, tensors and
        DataFrames are).
    calls : sequence of mappings
        The keyword arguments of each call.
    workers : int, optional
        Processes to use (default: the threads this process was given,
        :func:`vaelib.threads.available_threads`, at most one per call). With 1 the calls run here,
        one after another, with one torch thread (the caller's thread count is restored).

    Returns
    -------
    list
        The results, in the order of ``calls``.
    """
    if not callable(function):
        raise TypeError(f"function must be callable, got {function!r}")
    calls = [dict(call) for call in calls]
    workers = min(positive_int("workers", workers if workers is not None else available_threads()), max(1, len(calls)))
    if workers == 1:
        previous = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            return [function(**call) for call in calls]
        finally:
            torch.set_num_threads(previous)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_one_thread) as pool:
        futures = [pool.submit(_call, function, call) for call in calls]
        return [future.result() for future in futures]
