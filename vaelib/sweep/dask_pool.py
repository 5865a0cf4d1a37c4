"""Sweeps on a Dask distributed cluster: ``vaelib sweep ... --scheduler ADDRESS``.

Each run of :func:`vaelib.sweep.sweep` becomes one Dask task that calls
:func:`vaelib.sweep.execute_run` on a worker with the notebook's source shipped along; the
executed notebook and the run record come back to the client, which writes them under ``--out``
(and the worker then drops its copy). No shared file system is needed, only ``vaelib`` (with its
notebook extra) and a Jupyter kernel named ``python3`` installed on every worker. This module is
imported only when a scheduler is given (it is also importable as :mod:`vaelib.dask_runner`).

Scheduling. A Dask worker runs at most ``--nthreads`` tasks at once, and each task blocks its
thread while its notebook's kernel (a separate process) runs, so a worker never runs more
notebooks than it has threads. To run N notebooks at once on a machine, start workers there
with N threads in all (``dask worker ADDRESS --nworkers N --nthreads 1``, or one worker with
``--nthreads N``). Each kernel gets ``OMP_NUM_THREADS`` = ``MKL_NUM_THREADS`` = the machine's
cores // the threads of all the workers on that host, as the scheduler knew them when the sweep
started (a worker that joins later divides its cores by its own threads only).

Fault tolerance. A worker that dies mid-run (killed, out of memory, its machine lost) has its
task re-executed on another worker by the scheduler (its kernel exits within about a second:
ipykernel watches its parent process); a run whose task kills workers repeatedly
(``distributed.scheduler.allowed-failures``, 3 by default) is recorded as failed with
``KilledWorker``. The client writes each record once, when its task's result arrives, so every
run appears exactly once in ``results.csv``. Interrupting the client cancels the queued tasks;
completed runs are already on disk, and the next invocation submits only the rest. A task that
was already running when the client was interrupted finishes on its worker (Dask cannot stop a
running task) and its result is dropped, so the next invocation may wait for that worker's
thread first.
"""
from __future__ import annotations

import contextlib
import gc
import os
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from vaelib.sweep.errors import SweepError
from vaelib.sweep.executor import RunExecutor
from vaelib.sweep.runs import Run, execute_run
from vaelib.threads import cpu_count, share_cores, thread_environment

__all__ = ["CONNECT_TIMEOUT_S", "DaskPool", "execute_on_worker", "kernel_threads"]

CONNECT_TIMEOUT_S: float | None = None
"""Seconds the client waits for the scheduler before giving up with a clear error; None: Dask's
``distributed.comm.timeouts.connect`` (30 s unless configured, e.g. with the environment
variable ``DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT=5s``)."""

_environment_lock = threading.Lock()


def kernel_threads(client: Any) -> dict[str, int]:
    """Torch threads per kernel on each host of the cluster: its cores // its workers' threads.

    Parameters
    ----------
    client : distributed.Client

    Returns
    -------
    dict of str to int
        Host (as in the workers' addresses) -> threads, at least 1.
    """
    from distributed.comm import get_address_host

    cores = client.run(cpu_count)  # worker address -> cores it may use
    workers = client.scheduler_info(n_workers=-1)["workers"]
    threads_on: dict[str, int] = {}
    for address, info in workers.items():
        host = get_address_host(address)
        threads_on[host] = threads_on.get(host, 0) + int(info["nthreads"])
    return {get_address_host(address): max(1, cores[address] // threads_on[get_address_host(address)])
            for address in workers if address in cores}


def _share_cores(threads: int) -> None:
    """Set the kernels' thread counts (OMP_NUM_THREADS, MKL_NUM_THREADS) to ``threads``.

    ``os.environ`` is process-wide and worker threads launch kernels (reading it) concurrently,
    so it is written under a lock and only when the value changes: in practice once per worker
    process, before its first kernel starts (every task passes this lock before launching one).
    """
    with _environment_lock:
        for variable, value in thread_environment(threads).items():
            if os.environ.get(variable) != value:
                os.environ[variable] = value


def _worker_label(name: Any, address: str) -> str:
    """``"NAME (ADDRESS)"``, or just the address when the name is the address (``dask worker``)."""
    if name is None or str(name) == address:
        return address
    return f"{name} ({address})"


def execute_on_worker(run: Run, options: dict[str, Any],
                      threads_by_host: dict[str, int] | None = None) -> tuple[dict[str, Any], bytes | None]:
    """The Dask task of one run: :func:`~vaelib.sweep.execute_run` on the worker running it.

    The kernel runs in the notebook's folder when it exists on the worker, else in a temporary
    folder; it gets ``OMP_NUM_THREADS``/``MKL_NUM_THREADS`` = ``threads_by_host`` of the
    worker's host (:func:`kernel_threads`), else the machine's cores divided by the worker's
    threads, so the notebooks running side by side on one machine share its cores. The
    record's ``worker`` is the Dask worker, ``"NAME (ADDRESS)"`` (or its address when that is
    its name) instead of ``"hostname:pid"``.
    """
    from distributed import get_worker
    from distributed.comm import get_address_host

    worker = get_worker()
    threads = (threads_by_host or {}).get(get_address_host(worker.address))
    _share_cores(threads or share_cores(max(1, worker.state.nthreads)))
    record, notebook = execute_run(run, **options)
    record["worker"] = _worker_label(worker.name, worker.address)
    return record, notebook


class DaskPool(RunExecutor):
    """The executor of a sweep on a Dask cluster: each run is one task, each gives a Future.

    Each future of :meth:`submit_run` resolves to what :func:`~vaelib.sweep.execute_run`
    returns, or raises what ended its task (e.g. ``KilledWorker``); the task's result is released
    on the cluster as soon as it has reached the client.

    Parameters
    ----------
    address : str
        The scheduler's address, e.g. ``"tcp://10.0.0.5:8786"`` or a ``LocalCluster``'s
        ``scheduler_address``.
    timeout : float, optional
        Seconds to wait for the scheduler to answer (default :data:`CONNECT_TIMEOUT_S`).

    Raises
    ------
    SweepError
        Without ``dask.distributed`` (``pip install 'vaelib[dist]'``), for an address Dask cannot
        parse, or if no scheduler answers at ``address`` within ``timeout`` seconds.
    """

    def __init__(self, address: str, *, timeout: float | None = CONNECT_TIMEOUT_S) -> None:
        try:
            import dask.config
            from dask.utils import parse_timedelta
            from distributed import Client
        except ImportError as exc:
            raise SweepError(
                f"--scheduler needs dask.distributed: pip install 'vaelib[dist]' ({exc})"
            ) from exc
        if timeout is None:
            timeout = parse_timedelta(dask.config.get("distributed.comm.timeouts.connect"), "s")
        self.address = address
        self._tasks: set[Any] = set()  # submitted and not yet forwarded (holding their results)
        self._lock = threading.Lock()
        self._closed = False
        error = None
        try:
            self.client = Client(address, timeout=timeout, set_as_default=False)
        except ValueError as exc:  # unparseable: no scheme, port or host
            error = SweepError(f"{address!r} is not a Dask scheduler address: {exc}")
        except (OSError, TypeError) as exc:  # a timeout is an OSError
            error = SweepError(
                f"no Dask scheduler answered at {address!r} within {timeout:g} s: {exc}")
        if error is not None:
            # The half-built Client is cyclic garbage whose __del__ stops its IO loop under
            # distributed's global LoopRunner lock. Collected later, in the IO-loop thread of a
            # new Client that is starting (which holds that lock), it deadlocks that start: so
            # collect it now, here.
            gc.collect()
            raise error
        self.threads_by_host = kernel_threads(self.client)

    def submit_run(self, run: Run, **options: Any) -> Future:
        """Queue ``execute_run(run, **options)`` as one Dask task (:func:`execute_on_worker`)."""
        self._check_open()
        task = self.client.submit(execute_on_worker, run, options, self.threads_by_host, pure=False,
                                  key=f"vaelib-run-{run.run_id}-{uuid.uuid4().hex[:8]}")
        return self._track(task)

    def submit(self, function: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        """Queue ``function(*args, **kwargs)`` as one Dask task, like
        :meth:`concurrent.futures.Executor.submit`; ``submit(execute_run, run, **options)`` is
        :meth:`submit_run`."""
        if function is execute_run:
            return self.submit_run(*args, **kwargs)
        self._check_open()
        return self._track(self.client.submit(function, *args, pure=False, **kwargs))

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("cannot submit to a DaskPool that was terminated or closed")

    def _track(self, task: Any) -> Future:
        """A future that gets the Dask task's outcome once it reaches the client."""
        future: Future = Future()
        with self._lock:
            self._tasks.add(task)
        task.add_done_callback(lambda done: self._forward(done, future))
        return future

    def _forward(self, task: Any, future: Future) -> None:
        """Give the task's outcome to ``future`` (on Dask's callback thread), then release it."""
        try:
            if task.status == "cancelled":
                if future.cancel():
                    future.set_running_or_notify_cancel()  # wakes up wait() and as_completed()
                return
            if not future.set_running_or_notify_cancel():
                return
            try:
                future.set_result(task.result())
            except BaseException as exc:  # the task's error, KilledWorker, a lost scheduler
                future.set_exception(exc)
        finally:
            with self._lock:
                self._tasks.discard(task)
            with contextlib.suppress(Exception):  # the client may be closed by now
                task.release()

    def terminate(self) -> None:
        """Cancel the queued tasks and disconnect; the cluster keeps running.

        A task that already runs finishes on its worker (Dask cannot stop a running task) and
        its result is dropped; the next sweep runs it again.
        """
        if self._closed:
            return
        self._closed = True
        with self._lock:
            tasks = list(self._tasks)
        try:
            with contextlib.suppress(Exception):  # a lost scheduler: nothing left to cancel
                if tasks:
                    self.client.cancel(tasks)
        finally:
            self.client.close()

    def close(self) -> None:
        """Disconnect (after the sweep has its results); the cluster keeps running."""
        if not self._closed:
            self._closed = True
            self.client.close()
