"""Run records on disk (``DIR/runs/<run-id>.json`` and ``.ipynb``) and their tidy table.

Every file is written atomically (:func:`vaelib.atomic.atomic_write`), so an interrupted sweep
leaves complete records and a valid ``results.csv``, never half a file.
"""
from __future__ import annotations

import json
import os
import re
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from vaelib.atomic import atomic_write
from vaelib.validation import is_real

__all__ = ["BOOKKEEPING", "collect_results", "load_records", "load_sweep", "run_hash",
           "same_run_groups", "tidy_table", "write_csv", "write_run"]

BOOKKEEPING = ("run_id", "status", "duration_s", "error", "error_message", "worker", "started",
               "finished", "notebook_sha256")
"""The bookkeeping columns of ``results.csv``; a parameter or result of the same name gets the
column ``parameters/<name>`` or ``results/<name>`` instead."""
_TRAILING = BOOKKEEPING[3:]
_HASH = re.compile(r"[0-9a-f]{8}")


def _record_problem(record: Any) -> str | None:
    """What makes ``record`` no run record (None when it is one)."""
    if not isinstance(record, dict) or "status" not in record or "parameters" not in record:
        return "not a vaelib run record"
    for key, kinds, what in (("parameters", dict, "a mapping"), ("status", str, "a string"),
                             ("error", (dict, type(None)), "null or a mapping")):
        if not isinstance(record.get(key), kinds):
            return f"its {key!r} is {record.get(key)!r}, not {what}"
    return None


def load_records(runs_dir: Path, *, warn: bool = True) -> dict[str, dict[str, Any]]:
    """The run records in ``runs_dir``: file stem -> record, sorted by stem.

    Files that are not readable JSON, or not run records (``parameters`` not a mapping,
    ``status`` not a string, ``error`` neither null nor a mapping), are skipped with a warning
    naming the file (``warn=False``: silently).
    """
    records = {}
    for path in sorted(runs_dir.glob("*.json")):
        try:
            record = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            problem: str | None = f"unreadable run record: {exc}"
        else:
            problem = _record_problem(record)
        if problem is not None:
            if warn:
                warnings.warn(f"ignoring {path}: {problem}", stacklevel=2)
            continue
        records[path.stem] = record
    return records


def run_hash(run_id: str) -> str | None:
    """The 8 hex digits that end a run id (the cache key: they cover every parameter and the
    notebook's code), None for a name without them."""
    head, sep, tail = run_id.rpartition("-")
    return tail if sep and head and _HASH.fullmatch(tail) else None


def same_run_groups(records: Mapping[str, Any]) -> list[list[str]]:
    """The groups of two or more record names in ``records`` that share a :func:`run_hash`."""
    groups: dict[str, list[str]] = {}
    for name in records:
        key = run_hash(name)
        if key is not None:
            groups.setdefault(key, []).append(name)
    return [names for names in groups.values() if len(names) > 1]


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
    columns = {name: f"parameters/{name}" if name in BOOKKEEPING else name for name in names}
    reserved = {*BOOKKEEPING, *columns.values()}
    rows, result_columns = [], {}
    for record in records:
        results = {}
        for key, value in _flatten(record.get("results") or {}, "").items():
            key = f"results/{key}" if key in reserved else key
            results[key] = value
            result_columns[key] = None
        error = record.get("error") or {}
        parameters = {columns[name]: value for name, value in record["parameters"].items()}
        rows.append({
            **parameters, **results,
            "run_id": record.get("run_id"), "status": record.get("status"),
            "duration_s": record.get("duration_s"),
            "error": error.get("ename"), "error_message": error.get("evalue"),
            "worker": record.get("worker"), "started": record.get("started"),
            "finished": record.get("finished"), "notebook_sha256": record.get("notebook_sha256"),
        })
    table = pd.DataFrame(rows, columns=[*BOOKKEEPING[:3], *columns.values(), *result_columns,
                                        *_TRAILING])
    table.attrs["parameters"] = list(columns.values())
    table.attrs["results"] = list(result_columns)
    return table


def write_csv(out: Path, records: Mapping[str, Mapping[str, Any]]) -> None:
    """Write ``out/results.csv``: the :func:`tidy_table` of ``records`` (run id -> record)."""
    atomic_write(out / "results.csv", tidy_table(records.values()).to_csv(index=False).encode())


def load_sweep(out: str | os.PathLike) -> dict[str, dict[str, Any]]:
    """The run records of the sweep directory ``out`` (:func:`load_records` of ``out/runs``).

    Raises
    ------
    FileNotFoundError
        If ``out/runs`` does not exist.
    """
    runs_dir = Path(out) / "runs"
    if not runs_dir.is_dir():
        raise FileNotFoundError(f"no sweep results in {str(out)!r} (no runs/ folder)")
    return load_records(runs_dir)


def collect_results(out: str | os.PathLike) -> pd.DataFrame:
    """The run records of a sweep directory as a tidy table: the rows ``results.csv`` holds.

    The records (``DIR/runs/*.json``) are the source of truth: this reads them, not
    ``results.csv`` (which a sweep rewrites from them after every run).

    Returns
    -------
    DataFrame
        One row per readable ``DIR/runs/*.json`` (others are skipped with a warning naming the
        file), sorted by parameters: ``run_id``, ``status``, ``duration_s`` (s), a column per
        parameter (``parameters/<name>`` for a parameter named like a bookkeeping column, e.g.
        ``status``), the results flattened (``metrics/mig`` for ``{"metrics": {"mig": ...}}``;
        lists JSON-encoded; a key that clashes with another column becomes ``results/<key>``),
        then ``error``, ``error_message``, ``worker``, ``started``, ``finished``,
        ``notebook_sha256``. ``attrs["parameters"]`` and ``attrs["results"]`` list the parameter
        and result columns.

    Raises
    ------
    FileNotFoundError
        If ``DIR/runs`` does not exist.
    """
    return tidy_table(load_sweep(out).values())
