"""Runs in worker processes on this machine: the default executor of a sweep.

Each worker process runs one notebook at a time in its own kernel. The workers share out the
machine's cores: their kernels inherit ``OMP_NUM_THREADS`` = ``MKL_NUM_THREADS`` = the cores
this process may use // the number of workers (:func:`vaelib.threads.share_cores`).

No worker outlives the process that started the pool: :meth:`LocalPool.terminate` ends them
(SIGTERM: each kills its kernel first), and a watchdog thread in each worker ends it and its
kernel once that process is gone without cleaning up (SIGKILL, a crash), after which the
forkserver and the resource tracker exit by themselves (:mod:`vaelib.sweep.processes`).
"""
from __future__ import annotations

import contextlib
import multiprocessing
import os
import shutil
import signal
import time
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

from vaelib.sweep.executor import RunExecutor
from vaelib.sweep.processes import kill_children, start_time, start_watchdog
from vaelib.sweep.runs import RUN_FOLDERS, Run, execute_run
from vaelib.threads import share_cores, thread_environment

__all__ = ["LocalPool"]


def _init_worker(threads: int, main_pid: int, main_started: str | None) -> None:
    """Worker set-up: the parent handles Ctrl-C; SIGTERM kills this worker's kernel too; the
    worker ends (killing its kernel) once the pool's process ``main_pid`` is gone.

    ``OMP_NUM_THREADS``/``MKL_NUM_THREADS`` (inherited by the kernels) share the cores among the
    workers, so that N workers running torch do not fight over the same cores.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _terminate_worker)
    os.environ.update(thread_environment(threads))
    start_watchdog(main_pid, main_started, _end_worker)


def _end_worker(status: int) -> None:
    """Kill the kernel this worker runs (it lives in its own session), remove the temporary
    folder of its run, then exit at once with ``status``."""
    kill_children()
    for folder in list(RUN_FOLDERS):
        shutil.rmtree(folder, ignore_errors=True)
    os._exit(status)


def _terminate_worker(signum: int, frame: Any) -> None:
    """SIGTERM: :func:`_end_worker`."""
    _end_worker(128 + signum)


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
            initargs=(share_cores(workers), os.getpid(), start_time(os.getpid())),
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
