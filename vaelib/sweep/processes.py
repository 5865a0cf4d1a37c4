"""The processes a local sweep starts, tied to the life of the sweep's main process.

Process tree of ``vaelib sweep`` with local workers (start method ``forkserver``)::

    vaelib sweep (main)
    ├── resource tracker      exits when no process holds its pipe any more
    └── forkserver            exits when neither the main process nor a worker holds its pipe
        ├── worker 1          a watchdog thread: exits (killing its kernel) once main is gone
        │   └── kernel        its own session; also exits when its parent worker is gone
        └── worker 2 ...

The workers are the key: they hold the forkserver's and the resource tracker's pipes, and they
wait forever for work from a main process that is gone. So each worker runs
:func:`start_watchdog`, a thread that polls the main process; once it is gone (SIGKILL, a crash:
no chance to clean up), the thread kills the worker's kernel (and its children) and ends the
worker, and the forkserver and the resource tracker follow within a second. A watchdog thread,
unlike ``prctl(PR_SET_PDEATHSIG)``, works under the forkserver (whose workers' parent is the
forkserver, not the main process), whatever thread started the pool, and off Linux.
"""
from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable

__all__ = ["WATCH_INTERVAL_S", "kill_children", "process_gone", "start_time", "start_watchdog"]

WATCH_INTERVAL_S = 0.25
"""Seconds between two looks of a worker's watchdog at the main process."""


def start_time(pid: int) -> str | None:
    """An identity of the process ``pid`` beyond its number (its start time in clock ticks since
    boot, from ``/proc``), None where that is unknown (no such process, no ``/proc``)."""
    with contextlib.suppress(OSError, IndexError):
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rpartition(")")[2].split()
        return fields[19]  # field 22 of proc(5); fields[0] is field 3, the state
    return None


def process_gone(pid: int, started: str | None = None) -> bool:
    """Whether the process ``pid`` has ended: it does not exist, is a zombie, or is another
    process that got the same pid (its :func:`start_time` is not ``started``)."""
    with contextlib.suppress(OSError):
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rpartition(")")[2].split()
        return fields[0] in ("Z", "X") or (started is not None and fields[19] != started)
    try:
        os.kill(pid, 0)  # no /proc: the pid exists (or is a zombie, which this cannot tell)
    except ProcessLookupError:
        return True
    except OSError:  # exists, owned by someone else
        return False
    return False


def kill_children() -> None:
    """SIGKILL every descendant of this process (its kernel and what that started), if psutil is
    installed (it comes with ipykernel); without it a kernel exits by itself within about a
    second of its parent's end (ipykernel polls its parent)."""
    with contextlib.suppress(Exception):
        import psutil

        for child in psutil.Process().children(recursive=True):
            with contextlib.suppress(psutil.Error):
                child.kill()


def _end(status: int) -> None:
    kill_children()
    os._exit(status)


def _watch(pid: int, started: str | None, parent: int, end: Callable[[int], None]) -> None:
    while not process_gone(pid, started) and os.getppid() == parent:
        time.sleep(WATCH_INTERVAL_S)
    end(1)


def start_watchdog(pid: int, started: str | None = None,
                   end: Callable[[int], None] | None = None) -> threading.Thread:
    """Start a daemon thread that ends this process (and its children) once ``pid`` is gone.

    The thread also acts when this process's own parent changes (its parent ended: for a
    forkserver worker, the forkserver). It polls every :data:`WATCH_INTERVAL_S` seconds.

    Parameters
    ----------
    pid : int
        The process to outlive by at most a poll: the sweep's main process.
    started : str, optional
        Its :func:`start_time` (guards against the pid's reuse by a new process).
    end : callable, optional
        Called with the exit status 1 to end this process; it must not return. Default:
        :func:`kill_children`, then :func:`os._exit`.
    """
    thread = threading.Thread(target=_watch, args=(pid, started, os.getppid(), end or _end),
                              name="vaelib-sweep-watchdog", daemon=True)
    thread.start()
    return thread
