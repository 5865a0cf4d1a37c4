"""Run records on disk (``DIR/runs/<run-id>.json`` and ``.ipynb``) and their tidy table.

Every file is written atomically (:func:`vaelib.atomic.atomic_write`), so an interrupted sweep
leaves complete records and a valid ``results.csv``, never half a file.
"""
from __future__ import annotations

import json
import os
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from vaelib.atomic import atomic_write
from vaelib.validation import is_real

__all__ = ["collect_results", "load_records", "tidy_table", "write_csv", "write_run"]

_BOOKKEEPING = ("error", "error_message", "worker", "started", "finished", "notebook_sha256")


def load_records(runs_dir: Path) -> dict[str, dict[str, Any]]:
    """The run records in ``runs_dir``: file stem -> record; unreadable files are warned about."""
    records = {}
    for path in sorted(runs_dir.glob("*.json")):
        try:
            record = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            warnings.warn(f"ignoring unreadable run record {path}: {exc}", stacklevel=3)
            continue
        if not isinstance(record, dict) or "status" not in record or "parameters" not in record:
            warnings.warn(f"ignoring {path}: not a vaelib run record", stacklevel=3)
            continue
        records[path.stem] = record
    return records


def write_run(runs_dir: Path, record: Mapping[str, Any], notebook: bytes | None) -> None:
    """Write a run's executed notebook (when there is one), then its record, into ``runs_dir``."""
    if notebook is not None:
        atomic_write(runs_dir / f"{record['run_id']}.ipynb", notebook)
    atomic_write(runs_dir / f"{record['run_id']}.json", json.dumps(record, indent=2).encode())


def _flatten(value: Any, prefix: str) -> dict[str, Any]:
    """Nested dicts as ``/``-joined columns; lists (and other non-scalars) JSON-encoded."""
    if isinstance(value, Mapping):
        flat: dict[str, Any] = {}
        for key, item in value.items():
            flat.update(_flatten(item, f"{prefix}/{key}" if prefix else str(key)))
        return flat
    if value is None or isinstance(value, (bool, int, float, str)):
        return {prefix or "results": value}
    return {prefix or "results": json.dumps(value)}


def _sort_key(value: Any) -> tuple:
    if value is None:
        return (2, "")
    if is_real(value):
        return (0, float(value), "")
    return (1, 0.0, json.dumps(value, sort_keys=True, default=str))


def tidy_table(records: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """One tidy row per record: run_id, status, duration_s, parameters, results, bookkeeping.

    See :func:`collect_results` for the columns.
    """
    records = list(records)
    names: dict[str, None] = {}
    for record in records:
        names.update(dict.fromkeys(record["parameters"]))
    records.sort(key=lambda r: tuple(_sort_key(r["parameters"].get(n)) for n in names))
    reserved = {"run_id", "status", "duration_s", *names, *_BOOKKEEPING}
    rows, result_columns = [], {}
    for record in records:
        results = {}
        for key, value in _flatten(record.get("results") or {}, "").items():
            key = f"results/{key}" if key in reserved else key
            results[key] = value
            result_columns[key] = None
        error = record.get("error") or {}
        rows.append({
            "run_id": record.get("run_id"), "status": record.get("status"),
            "duration_s": record.get("duration_s"), **record["parameters"], **results,
            "error": error.get("ename"), "error_message": error.get("evalue"),
            "worker": record.get("worker"), "started": record.get("started"),
            "finished": record.get("finished"), "notebook_sha256": record.get("notebook_sha256"),
        })
    columns = ["run_id", "status", "duration_s", *names, *result_columns, *_BOOKKEEPING]
    table = pd.DataFrame(rows, columns=columns)
    table.attrs["parameters"] = list(names)
    table.attrs["results"] = list(result_columns)
    return table


def write_csv(out: Path, records: Mapping[str, Mapping[str, Any]]) -> None:
    """Write ``out/results.csv``: the :func:`tidy_table` of ``records`` (run id -> record)."""
    atomic_write(out / "results.csv", tidy_table(records.values()).to_csv(index=False).encode())


def collect_results(out: str | os.PathLike) -> pd.DataFrame:
    """The run records of a sweep directory as a tidy table (what ``results.csv`` holds).

    Returns
    -------
    DataFrame
        One row per ``DIR/runs/*.json``, sorted by parameters: ``run_id``, ``status``,
        ``duration_s`` (s), a column per parameter, the results flattened (``metrics/mig`` for
        ``{"metrics": {"mig": ...}}``; lists JSON-encoded; a key that clashes with another column
        becomes ``results/<key>``), then ``error``, ``error_message``, ``worker``, ``started``,
        ``finished``, ``notebook_sha256``. ``attrs["parameters"]`` and ``attrs["results"]`` list
        the parameter and result columns.

    Raises
    ------
    FileNotFoundError
        If ``DIR/runs`` does not exist.
    """
    runs_dir = Path(out) / "runs"
    if not runs_dir.is_dir():
        raise FileNotFoundError(f"no sweep results in {str(out)!r} (no runs/ folder)")
    return tidy_table(load_records(runs_dir).values())
