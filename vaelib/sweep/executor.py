"""The one interface through which a sweep executes its runs, wherever they run.

An executor takes runs (:meth:`RunExecutor.submit_run`) and gives back one
:class:`concurrent.futures.Future` each, which resolves to what
:func:`~vaelib.sweep.execute_run` returns (the record and the executed notebook) or raises what
ended the run's worker. Used as a context manager, it waits for its runs and lets go of its
workers on a normal exit (:meth:`~RunExecutor.close`) and cancels everything on an exception
(:meth:`~RunExecutor.terminate`). Two implementations: :class:`~vaelib.sweep.local_pool.LocalPool`
(worker processes on this machine) and :class:`~vaelib.sweep.dask_pool.DaskPool` (a Dask cluster).
"""
from __future__ import annotations

import abc
from concurrent.futures import Future
from typing import Any, TypeVar

from vaelib.sweep.runs import Run

__all__ = ["RunExecutor"]

_Executor = TypeVar("_Executor", bound="RunExecutor")


class RunExecutor(abc.ABC):
    """Where the runs of a sweep execute: submit runs, get futures, stop at once if need be."""

    @abc.abstractmethod
    def submit_run(self, run: Run, **options: Any) -> Future:
        """Queue ``execute_run(run, **options)``; the future gives ``(record, notebook bytes)``."""

    @abc.abstractmethod
    def terminate(self) -> None:
        """Cancel the queued runs and stop the running ones as far as the executor can, now."""

    @abc.abstractmethod
    def close(self) -> None:
        """Let go of the workers once the submitted runs have finished."""

    def __enter__(self: _Executor) -> _Executor:
        return self

    def __exit__(self, kind: Any, value: Any, traceback: Any) -> None:
        if kind is None:
            self.close()
        else:
            self.terminate()
