"""The errors of a sweep, importable by every module of :mod:`vaelib.sweep` (they import nothing)."""
from __future__ import annotations

__all__ = ["SweepError", "SweepInterrupted"]


class SweepError(ValueError):
    """A sweep that cannot start as asked: unknown parameter, bad grid, bad option value."""


class SweepInterrupted(KeyboardInterrupt):
    """Ctrl-C (or SIGTERM) stopped a sweep; completed runs are saved and the same call finishes
    the rest.

    Attributes
    ----------
    completed : int
        Runs of the sweep with a completed record (cached ones included).
    remaining : int
        Runs of the sweep that were not finished (re-running the sweep executes them).
    signum : int
        The signal that stopped it: 2 (SIGINT, Ctrl-C) or 15 (SIGTERM).
    """

    def __init__(self, message: str, completed: int, remaining: int, signum: int = 2) -> None:
        super().__init__(message)
        self.completed = completed
        self.remaining = remaining
        self.signum = signum
