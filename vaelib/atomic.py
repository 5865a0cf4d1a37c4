"""Atomic file writes: readers see the old file or the new one, never half of either.

Every file vaelib writes that someone else may read while it is being written (checkpoints, run
records, ``results.csv``, figures) goes through :func:`atomic_write`: the bytes go to a temporary
file in the same folder, are flushed to disk (``fsync``), and the temporary file is renamed over
the target (:func:`os.replace`, atomic on POSIX and Windows). On any error, Ctrl-C included, the
temporary file is removed and the old file is left as it was.
"""
from __future__ import annotations

import contextlib
import io
import os
import secrets
from pathlib import Path
from typing import Any

__all__ = ["atomic_save", "atomic_write"]


def atomic_write(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (its folder is created if needed)."""
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"cannot write {str(path)!r}: it is a directory")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        with open(tmp, "xb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def atomic_save(obj: Any, path: str | os.PathLike) -> None:
    """:func:`torch.save` ``obj`` to ``path`` atomically."""
    import torch

    buffer = io.BytesIO()
    torch.save(obj, buffer)
    atomic_write(path, buffer.getvalue())
