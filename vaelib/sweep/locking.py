"""One sweep at a time per output directory: an exclusive lock on ``DIR/sweep.lock``.

A sweep holds the lock (:func:`fcntl.flock`) from before it reads the cache until it has
written its last record, so two sweeps into one ``--out`` never execute the same run twice and
never lose each other's rows: the second one waits (saying which process holds the lock), then
skips what the first completed. The operating system releases the lock when its process ends,
however it ends (SIGKILL included), so a stale lock file never blocks anything; the file itself
stays (it holds the holder's pid, for the message). Without :mod:`fcntl` (Windows) sweeps are not
serialised.
"""
from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

__all__ = ["LOCK_NAME", "lock_holder", "sweep_lock"]

LOCK_NAME = "sweep.lock"
"""The lock file's name in the sweep directory."""
POLL_S = 0.2
"""Seconds between two attempts to take a held lock."""


def lock_holder(out: str | os.PathLike) -> int | None:
    """The pid written in ``out/sweep.lock`` by the last sweep that took it, None if none."""
    with contextlib.suppress(OSError, ValueError):
        return int((Path(out) / LOCK_NAME).read_text().split()[0])
    return None


@contextlib.contextmanager
def sweep_lock(out: str | os.PathLike, *, quiet: bool = False) -> Iterator[Path]:
    """Hold the lock of the sweep directory ``out`` (created) for the ``with`` block.

    Parameters
    ----------
    out : path
        The sweep directory.
    quiet : bool
        Do not print the line (on stderr) that says this sweep waits for another one.

    Yields
    ------
    Path
        The lock file.

    Notes
    -----
    Waiting polls every :data:`POLL_S` seconds, so Ctrl-C stops a waiting sweep at once
    (``KeyboardInterrupt``; nothing has run).
    """
    path = Path(out) / LOCK_NAME
    try:
        import fcntl
    except ImportError:  # no flock (Windows): sweeps into one directory are not serialised
        yield path
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        waiting = False
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not waiting and not quiet:
                    holder = lock_holder(out)
                    print(f"waiting for the sweep into {str(out)!r} of process "
                          f"{holder if holder is not None else '(unknown pid)'} to finish "
                          f"(it holds {path}); this sweep then runs what is left", file=sys.stderr,
                          flush=True)
                waiting = True
                time.sleep(POLL_S)
        try:
            handle.seek(0)
            handle.truncate()
            handle.write(f"{os.getpid()}\n")
            handle.flush()
            yield path
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
