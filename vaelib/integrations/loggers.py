"""``fit`` callbacks that write the training history as it grows: CSV and TensorBoard.

Each history row (one per ``log_every`` steps, see :func:`vaelib.fit`) is written once, at the
step after it was made or at the end of training; a resumed run rewrites (CSV) or purges
(TensorBoard) what the checkpoint does not hold, so the log always matches the history.
"""
from __future__ import annotations

import csv
import io
import math
import numbers
import os
from pathlib import Path
from typing import Any

from vaelib.atomic import atomic_write
from vaelib.callbacks import Callback, TrainState

__all__ = ["CSVLogger", "TensorBoardLogger"]


class _RowLogger(Callback):
    """Hands every new history row to :meth:`write`, once, in order."""

    def __init__(self) -> None:
        self.written = 0

    def on_train_begin(self, state: TrainState) -> None:
        self.written = len(state.rows)
        self.begin(state)

    def on_step_end(self, state: TrainState) -> None:
        self._flush(state)

    def on_train_end(self, state: TrainState) -> None:
        self._flush(state)
        self.end()

    def _flush(self, state: TrainState) -> None:
        while self.written < len(state.rows):
            self.write(state.rows[self.written])
            self.written += 1

    def begin(self, state: TrainState) -> None:
        """Prepare the log for a run whose history so far is ``state.rows``."""

    def write(self, row: dict[str, Any]) -> None:
        raise NotImplementedError

    def end(self) -> None:
        """Close the log."""


class CSVLogger(_RowLogger):
    """Write the history to a CSV file, one line per history row, as training goes.

    The columns are those of the first row (later rows' extra keys are added as columns by
    rewriting the file). Resuming rewrites the file from the checkpoint's history first.

    Parameters
    ----------
    path : path
        The CSV file (its folder is created).
    """

    def __init__(self, path: str | os.PathLike) -> None:
        super().__init__()
        self.path = Path(path)
        if self.path.is_dir():
            raise ValueError(f"path must be a file, got the directory {str(self.path)!r}")
        self.rows: list[dict[str, Any]] = []
        self.header: list[str] | None = None  # the columns of the file on disk

    def begin(self, state: TrainState) -> None:
        self.rows = list(state.rows)
        self.header = None
        if self.rows or self.path.exists():
            self._rewrite()

    def write(self, row: dict[str, Any]) -> None:
        self.rows.append(row)
        if self.header is not None and self.header == self._columns():
            with open(self.path, "a", newline="") as handle:
                csv.DictWriter(handle, fieldnames=self.header).writerow(row)
        else:
            self._rewrite()

    def _columns(self) -> list[str]:
        columns: dict[str, None] = {}
        for row in self.rows:
            columns.update(dict.fromkeys(row))
        return list(columns)

    def _rewrite(self) -> None:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=self._columns())
        writer.writeheader()
        writer.writerows(self.rows)
        atomic_write(self.path, buffer.getvalue().encode())
        self.header = self._columns()


class TensorBoardLogger(_RowLogger):
    """Write every numeric column of the history as a TensorBoard scalar at its step.

    Tags are ``prefix/column`` (e.g. ``train/loss``, ``train/eval_elbo``). Needs the
    ``tensorboard`` package (``torch.utils.tensorboard``); view with ``tensorboard --logdir DIR``.

    Parameters
    ----------
    log_dir : path
        The run's folder of event files.
    prefix : str
        Tag prefix.
    """

    def __init__(self, log_dir: str | os.PathLike, prefix: str = "train") -> None:
        super().__init__()
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError as error:  # tensorboard itself is missing
            raise ImportError(f"TensorBoardLogger needs tensorboard: pip install tensorboard ({error})") from error
        self._writer_class = SummaryWriter
        self.log_dir = Path(log_dir)
        self.prefix = prefix
        self.writer: Any = None

    def begin(self, state: TrainState) -> None:
        # purge events after the resumed step, so a restarted run does not leave two curves
        self.writer = self._writer_class(log_dir=str(self.log_dir), purge_step=state.step + 1 if state.rows else None)

    def write(self, row: dict[str, Any]) -> None:
        step = int(row["step"])
        for key, value in row.items():
            if key != "step" and isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value):
                self.writer.add_scalar(f"{self.prefix}/{key}", float(value), step)
        self.writer.flush()

    def end(self) -> None:
        if self.writer is not None:
            self.writer.close()
