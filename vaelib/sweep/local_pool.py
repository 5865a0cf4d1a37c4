"""Runs in worker processes on this machine: the default executor of a sweep.

Each worker process runs one notebook at a time in its own kernel. The workers share out the
machine's cores: their kernels inherit ``OMP_NUM_THREADS`` = ``MKL_NUM_THREADS`` = the cores
this process may use // the number of workers (:func:`vaelib.threads.share_cores`).
"""
from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import time
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

from vaelib.sweep.executor import RunExecutor
from vaelib.sweep.runs import Run, execute_run
from vaelib.threads import share_cores, thread_environment

__all__ = ["LocalPool"]


def _init_worker(threads: int) -> None:
    """Worker set-up: the parent handles Ctrl-C; SIGTERM kills this worker's kernel too.

    ``OMP_NUM_THREADS``/``MKL_NUM_THREADS`` (inherited by the kernels) share the cores among the
    workers, so that N workers running torch do not fight over the same cores.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _terminate_worker)
    os.environ.update(thread_environment(threads))


def _terminate_worker(signum: int, frame: Any) -> None:
    """Kill the kernel this worker runs (it lives in its own session), then exit at once.

    Without psutil the kernel still exits within about a second: ipykernel polls its parent.
    """
    with contextlib.suppress(Exception):
        import psutil

        for child in psutil.Process().children(recursive=True):
            with contextlib.suppress(psutil.Error):
                child.kill()
    os._exit(128 + signum)


class LocalPool(RunExecutor):
    """Worker processes (forkserver, else spawn; never fork) that can be terminated at once.

    Parameters
    ----------
    workers : int
        Worker processes, each running one notebook at a time (>= 1).
    """

    def __init__(self, workers: int) -> None:
        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
        if context.get_start_method() == "forkserver":
            context.set_forkserver_preload([__name__, "papermill"])
        self.terminated = False
        self.executor = ProcessPoolExecutor(
            max_workers=workers, mp_context=context, initializer=_init_worker,
            initargs=(share_cores(workers),),
        )

    def submit_run(self, run: Run, **options: Any) -> Future:
        """Queue ``execute_run(run, **options)`` on the next free worker process."""
        return self.executor.submit(execute_run, run, **options)

    def terminate(self) -> None:
        """Cancel queued runs and end the workers (and so their kernels) now."""
        self.terminated = True
        processes = list((getattr(self.executor, "_processes", None) or {}).values())
        self.executor.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            with contextlib.suppress(Exception):
                process.terminate()
        deadline = time.monotonic() + 5.0
        for process in processes:
            process.join(timeout=max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()

    def close(self) -> None:
        """Wait for the submitted runs, then end the workers (nothing to do after terminate)."""
        if not self.terminated:
            self.executor.shutdown(wait=True)
