"""CPU threads: how many cores this process may use, and the environment that shares them out.

Torch's CPU kernels run on an OpenMP thread pool whose size is read from ``OMP_NUM_THREADS``
(MKL's from ``MKL_NUM_THREADS``) when the library loads. A process that starts other processes
(a sweep's workers, their Jupyter kernels) shares its cores among them by setting these variables
in the children's environment: :func:`thread_environment`.
"""
from __future__ import annotations

import contextlib
import os

from vaelib.validation import positive_int

__all__ = ["THREAD_VARIABLES", "available_threads", "cpu_count", "share_cores", "thread_environment"]

THREAD_VARIABLES: tuple[str, ...] = ("OMP_NUM_THREADS", "MKL_NUM_THREADS")
"""The environment variables that size the thread pools of torch (OpenMP) and MKL."""


def cpu_count() -> int:
    """Cores this process may run on (its CPU affinity where the OS reports it), at least 1."""
    with contextlib.suppress(AttributeError):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def available_threads() -> int:
    """Threads this process was given: ``OMP_NUM_THREADS`` when it is set to a positive int (its
    first entry, for a nested list such as ``"4,2"``), else :func:`cpu_count`."""
    first = os.environ.get("OMP_NUM_THREADS", "").split(",")[0].strip()
    return int(first) if first.isdigit() and int(first) > 0 else cpu_count()


def share_cores(parts: int) -> int:
    """Threads for each of ``parts`` processes sharing this machine's cores: ``cpu_count() // parts``, >= 1."""
    return max(1, cpu_count() // positive_int("parts", parts))


def thread_environment(threads: int) -> dict[str, str]:
    """The variables that give a child process ``threads`` threads, e.g. ``{"OMP_NUM_THREADS": "1", ...}``."""
    threads = positive_int("threads", threads)
    return {variable: str(threads) for variable in THREAD_VARIABLES}
