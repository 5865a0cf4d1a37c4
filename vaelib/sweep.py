"""Batch runs of a parameterised notebook: a grid of papermill executions, cached and tabulated.

A sweep executes one notebook (whose first code cell is tagged ``parameters``, see the design's
"Notebooks" section) once per point of a parameter grid, each run in its own worker process with
its own kernel. Everything lands in one output directory::

    DIR/runs/<run-id>.ipynb   the executed notebook (kept for failed runs too, to read the error)
    DIR/runs/<run-id>.json    the run record: parameters, status, timings, error, the results
    DIR/results.csv           one tidy row per run record in DIR/runs
    DIR/summary.png           the figure of :func:`report`

A run id reads like ``beta=4_seed=1-1f0c9a2e``: the swept parameters, then 8 hex digits of a hash
of all the parameters and of the notebook's code (its code cells' source, not their outputs, so
re-executing the notebook in place keeps the cache). A run whose record says ``"completed"`` is
skipped by the next sweep (``force=True`` re-runs it); failed runs are retried. Every file is
written atomically (a temporary file in the same folder, then :func:`os.replace`), so an
interrupted sweep leaves complete records and a valid ``results.csv``, never half a file.

The notebook writes its key metrics as JSON to ``results_path`` when that parameter is set; the
runner passes a temporary path and stores what was written under the record's ``"results"`` key.
:func:`execute_run` is the unit of work: a pure function of a :class:`Run` that returns the
record and the executed notebook instead of writing them, so any executor that can call it (the
local process pool here; a Dask cluster later) can run sweeps while the client writes the files.

Durations are in seconds, timestamps are ISO 8601 in UTC.
"""
from __future__ import annotations

import ast
import contextlib
import hashlib
import itertools
import json
import math
import multiprocessing
import numbers
import os
import re
import secrets
import signal
import socket
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:  # nbformat and papermill take seconds to import: only runs need them
    from nbformat import NotebookNode


__all__ = [
    "Run",
    "SweepError",
    "SweepInterrupted",
    "collect_results",
    "execute_run",
    "expand_grid",
    "notebook_hash",
    "notebook_parameters",
    "parse_grid",
    "parse_value",
    "plan_runs",
    "report",
    "run_id",
    "sweep",
]

KERNEL_NAME = "python3"
"""Jupyter kernel every run executes in."""
RESULTS_PARAMETER = "results_path"
"""The parameter through which the runner asks a notebook to write its results JSON."""
MAX_PANELS = 6
"""Most metrics :func:`report` plots by default."""
COMPLETED, FAILED = "completed", "failed"
_BOOKKEEPING = ("error", "error_message", "worker", "started", "finished", "notebook_sha256")
_FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")
_YAML_TRUE_FALSE = re.compile(r"^(true|false)$", re.IGNORECASE)


class SweepError(ValueError):
    """A sweep that cannot start as asked: unknown parameter, bad grid, bad option value."""


class SweepInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped a sweep; completed runs are saved and the same call finishes the rest.

    Attributes
    ----------
    completed : int
        Runs of the sweep with a completed record (cached ones included).
    remaining : int
        Runs of the sweep that were not finished (re-running the sweep executes them).
    """

    def __init__(self, message: str, completed: int, remaining: int) -> None:
        super().__init__(message)
        self.completed = completed
        self.remaining = remaining


# --------------------------------------------------------------------------------------------
# Parameters and grids
# --------------------------------------------------------------------------------------------
def parse_value(text: str) -> Any:
    """A command-line value as the Python value a notebook parameter should get.

    Values are YAML scalars read with :func:`yaml.safe_load`, with the surprises of YAML 1.1
    removed and Python's spelling of None added: ``1e-3`` is a float (not the string ``"1e-3"``),
    ``none``/``None`` as well as ``null``/``~`` are None, only ``true``/``false`` are booleans
    (``yes``, ``no``, ``on``, ``off`` stay strings) and dates stay strings.

    Parameters
    ----------
    text : str
        The value as typed, e.g. ``"20000"``, ``"1e-3"``, ``"fashion-mnist"``, ``"null"``,
        ``"true"``, ``"'007'"`` (quotes keep a string), ``"[1, 2]"``.

    Returns
    -------
    None, bool, int, float, str, list or dict

    Raises
    ------
    TypeError
        If ``text`` is not a string.
    SweepError
        If ``text`` is empty (write ``null`` for None, ``''`` for the empty string).
    """
    import yaml

    if not isinstance(text, str):
        raise TypeError(f"value must be a str, got {text!r}")
    if not text.strip():
        raise SweepError(f"empty value {text!r}: write null for None or '' for an empty string")
    if text.strip() in ("none", "None"):
        return None
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    if isinstance(value, str) and _FLOAT.match(text.strip()):
        return float(value)
    if isinstance(value, bool) and not _YAML_TRUE_FALSE.match(text.strip()):
        return text
    if value is not None and not isinstance(value, (bool, int, float, str, list, dict)):
        return text  # dates, timestamps, sets: keep what was typed
    return value


def parse_grid(spec: str) -> tuple[str, list[Any]]:
    """``"name=v1,v2,..."`` as ``(name, [v1, v2, ...])``, each value read by :func:`parse_value`.

    Raises
    ------
    SweepError
        If ``spec`` has no ``=``, no name, an empty value or a repeated value.
    """
    if not isinstance(spec, str) or "=" not in spec:
        raise SweepError(f"grid must look like name=v1,v2,..., got {spec!r}")
    name, _, values = spec.partition("=")
    name = name.strip()
    if not name.isidentifier():
        raise SweepError(f"grid {spec!r}: {name!r} is not a parameter name")
    texts = values.split(",")
    if any(not t.strip() for t in texts):
        raise SweepError(f"grid {spec!r} has an empty value (values are separated by commas)")
    return name, [parse_value(t.strip()) for t in texts]


def _identity(value: Any) -> tuple:
    """A key under which equal parameter values (``1`` and ``1.0``, not ``True`` and ``1``) meet."""
    if isinstance(value, bool) or value is None:
        return ("const", value)
    if isinstance(value, numbers.Real):
        return ("number", float(value))
    return ("json", json.dumps(value, sort_keys=True, default=repr))


def _check_name(name: Any, what: str) -> str:
    if not isinstance(name, str) or not name.isidentifier():
        raise SweepError(f"{what} name must be a Python identifier, got {name!r}")
    return name


def _check_value(name: str, value: Any) -> Any:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        raise SweepError(f"parameter {name} must be JSON-serialisable, got {value!r}") from None
    return value


def expand_grid(
    grid: Mapping[str, Sequence[Any]] | None = None, fixed: Mapping[str, Any] | None = None
) -> list[dict[str, Any]]:
    """The cartesian product of a grid, each point merged with the fixed parameters.

    Parameters
    ----------
    grid : mapping of str to sequence, optional
        Swept parameter -> its values, e.g. ``{"beta": [1, 4], "seed": [0, 1, 2]}``. The last
        parameter varies fastest (so runs differing only by seed are adjacent).
    fixed : mapping of str to value, optional
        Parameters shared by every run.

    Returns
    -------
    list of dict
        One dict per run, fixed parameters first then the swept ones in grid order. An empty grid
        gives one run with the fixed parameters.

    Raises
    ------
    SweepError
        If a name is not an identifier, a parameter is both fixed and swept, a grid entry has no
        values or repeats a value, or a value is not JSON-serialisable.
    """
    grid = dict(grid or {})
    fixed = dict(fixed or {})
    for name, value in fixed.items():
        _check_value(_check_name(name, "parameter"), value)
    for name, values in grid.items():
        _check_name(name, "grid parameter")
        if name in fixed:
            raise SweepError(f"parameter {name} is both fixed (-p) and swept (--grid); pick one")
        if isinstance(values, (str, bytes, Mapping)) or not isinstance(values, Sequence):
            raise SweepError(f"grid values of {name} must be a list, got {values!r}")
        if not values:
            raise SweepError(f"grid parameter {name} has no values")
        seen: dict[tuple, Any] = {}
        for value in values:
            _check_value(name, value)
            key = _identity(value)
            if key in seen:
                raise SweepError(f"grid parameter {name} repeats the value {value!r}")
            seen[key] = value
    names = list(grid)
    return [{**fixed, **dict(zip(names, point))} for point in itertools.product(*grid.values())]


# --------------------------------------------------------------------------------------------
# Notebooks and runs
# --------------------------------------------------------------------------------------------
def _read_notebook(notebook: str | os.PathLike) -> NotebookNode:
    import nbformat

    path = Path(notebook)
    if not path.is_file():
        raise FileNotFoundError(f"notebook not found: {str(notebook)!r}")
    try:
        return nbformat.read(path, as_version=4)
    except Exception as exc:  # nbformat raises several types for a file that is no notebook
        raise SweepError(f"{str(notebook)!r} is not a readable notebook: {exc}") from None


def notebook_hash(notebook: str | os.PathLike | NotebookNode) -> str:
    """SHA-256 (hex) of a notebook's code: the source of its code cells, in order.

    Outputs, execution counts, metadata and markdown are left out, so executing a notebook in
    place (or editing its prose) keeps the hash, and with it the run ids and the sweep cache.
    """
    nb = notebook if isinstance(notebook, Mapping) else _read_notebook(notebook)
    sources = [cell.source for cell in nb.cells if cell.cell_type == "code"]
    return hashlib.sha256(json.dumps(sources).encode()).hexdigest()


def _literal_type(default: str) -> str:
    try:
        return type(ast.literal_eval(default)).__name__.replace("NoneType", "None")
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return "expression"


def notebook_parameters(notebook: str | os.PathLike) -> dict[str, dict[str, str]]:
    """The parameters of a notebook's cell tagged ``parameters``, in order.

    Returns
    -------
    dict
        name -> ``{"name", "type", "default", "help"}`` (all strings): the type is the annotation
        when there is one, else the type of the default's literal value; the default is the source
        text; the help is the line's comment.

    Raises
    ------
    FileNotFoundError
        If the notebook does not exist.
    """
    import papermill

    _read_notebook(notebook)
    found = papermill.inspect_notebook(str(notebook))
    table = {}
    for name, info in found.items():
        inferred = info.get("inferred_type_name") or "None"
        default = str(info.get("default"))
        kind = inferred if inferred != "None" else _literal_type(default)
        table[name] = {"name": name, "type": kind, "default": default, "help": info.get("help", "")}
    return table


def _slug(value: Any) -> str:
    text = repr(value) if isinstance(value, float) else str(value)
    return re.sub(r"[^A-Za-z0-9.+-]+", "-", text)[:40]


def run_id(
    parameters: Mapping[str, Any], notebook_sha256: str, swept: Iterable[str] | None = None
) -> str:
    """The id (and file stem) of a run: readable swept values, then 8 hex digits of a hash.

    Parameters
    ----------
    parameters : mapping
        Every parameter the run passes to the notebook.
    notebook_sha256 : str
        :func:`notebook_hash` of the notebook.
    swept : iterable of str, optional
        Names shown in the readable part (sorted, ``seed`` last), e.g. ``beta=4_seed=1``;
        ``run`` when empty. The hash covers all parameters whatever this is.

    Returns
    -------
    str
        E.g. ``"beta=4_seed=1-1f0c9a2e"``, the same for the same parameters (in any order) and
        notebook code, different when either changes.
    """
    names = sorted(swept or (), key=lambda n: (n == "seed", n))
    readable = "_".join(f"{n}={_slug(parameters[n])}" for n in names)[:120] or "run"
    payload = json.dumps({"notebook": notebook_sha256, "parameters": dict(parameters)},
                         sort_keys=True)
    return f"{readable}-{hashlib.sha256(payload.encode()).hexdigest()[:8]}"


@dataclass
class Run:
    """One planned execution of a notebook.

    Attributes
    ----------
    run_id : str
        Stem of the run's files in ``DIR/runs`` (see :func:`run_id`).
    notebook : str
        Absolute path of the notebook.
    notebook_sha256 : str
        :func:`notebook_hash` of the notebook when the run was planned.
    parameters : dict
        The parameters passed to the notebook (``results_path`` is added at execution).
    writes_results : bool
        Whether the notebook has a ``results_path`` parameter to write its results JSON to.
    """

    run_id: str
    notebook: str
    notebook_sha256: str
    parameters: dict[str, Any] = field(default_factory=dict)
    writes_results: bool = True


def plan_runs(
    notebook: str | os.PathLike,
    parameters: Mapping[str, Any] | None = None,
    grid: Mapping[str, Sequence[Any]] | None = None,
) -> list[Run]:
    """The runs of a sweep, checked against the notebook's parameters before anything runs.

    Parameters
    ----------
    notebook : path
        The notebook to execute.
    parameters : mapping, optional
        Fixed parameters of every run.
    grid : mapping of str to sequence, optional
        Swept parameters (see :func:`expand_grid`).

    Returns
    -------
    list of Run
        In grid order.

    Raises
    ------
    FileNotFoundError
        If the notebook does not exist.
    SweepError
        If a parameter is not one of the notebook's (papermill would only warn), is
        ``results_path`` (the runner sets it) or the grid is malformed.
    """
    nb = _read_notebook(notebook)
    points = expand_grid(grid, parameters)
    known = notebook_parameters(notebook)
    given = list(dict(parameters or {})) + list(dict(grid or {}))
    if RESULTS_PARAMETER in given:
        raise SweepError(f"{RESULTS_PARAMETER} is set by the sweep runner; do not pass it")
    unknown = [name for name in given if name not in known]
    if unknown:
        listing = ", ".join(known) if known else "none: it has no cell tagged 'parameters'"
        raise SweepError(
            f"unknown parameter{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} for "
            f"{Path(notebook).name}; its parameters are: {listing}"
        )
    digest = notebook_hash(nb)
    path = str(Path(notebook).resolve())
    swept = list(dict(grid or {}))
    return [
        Run(run_id(point, digest, swept), path, digest, point, RESULTS_PARAMETER in known)
        for point in points
    ]


# --------------------------------------------------------------------------------------------
# Executing one run (pure: returns data, writes nothing outside a temporary folder)
# --------------------------------------------------------------------------------------------
def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _kernel_config(folder: Path) -> Any:
    """Kernel settings: on POSIX, Unix sockets in the run's own ``folder``.

    Concurrent kernels then have no TCP ports to race for and no socket files to share.
    """
    from traitlets.config import Config

    if os.name != "posix":
        return Config()
    return Config({"KernelManager": {"transport": "ipc", "ip": str(folder / "kernel")}})


def _working_directory(cwd: str | os.PathLike | None, notebook: str, fallback: str) -> Path:
    if cwd is not None:
        return Path(cwd)
    folder = Path(notebook).parent
    return folder if folder.is_dir() else Path(fallback)


def execute_run(
    run: Run,
    *,
    source: NotebookNode | None = None,
    timeout: int | None = None,
    cwd: str | os.PathLike | None = None,
    kernel_name: str = KERNEL_NAME,
) -> tuple[dict[str, Any], bytes | None]:
    """Execute one run with papermill and return its record and executed notebook.

    Nothing is written outside a temporary folder, so the caller (a local process pool or a
    remote cluster's client) decides where the files go. Failures are returned, not raised.

    Parameters
    ----------
    run : Run
        What to execute.
    source : NotebookNode, optional
        The notebook itself (default: read ``run.notebook``); lets remote workers run without it.
    timeout : int, optional
        Seconds each cell may run before the run fails with ``CellTimeoutError`` (no limit).
    cwd : path, optional
        Working directory of the kernel (default: the notebook's folder, so relative paths work;
        the run's temporary folder where that folder does not exist, e.g. on a remote worker).
    kernel_name : str
        Jupyter kernel to execute in.

    Returns
    -------
    record : dict
        ``run_id``, ``status`` (``"completed"`` or ``"failed"``), ``notebook``,
        ``notebook_sha256``, ``parameters``, ``results`` (what the notebook wrote to
        ``results_path``, None if nothing), ``error`` (None, or ``{"ename", "evalue"}``: the
        exception's type name and message), ``started``, ``finished``, ``duration_s``,
        ``timeout_s`` and ``worker`` (``"hostname:pid"``).
    notebook : bytes or None
        The executed notebook (as far as it ran), None if execution never started.
    """
    import papermill

    started, clock = _now(), time.perf_counter()
    error: dict[str, str] | None = None
    results = None
    notebook_bytes = None
    with tempfile.TemporaryDirectory(prefix="vaelib-run-") as tmp:
        output, results_file = Path(tmp) / "output.ipynb", Path(tmp) / "results.json"
        parameters = dict(run.parameters)
        if run.writes_results:
            parameters[RESULTS_PARAMETER] = str(results_file)
        try:
            nb = source if source is not None else _read_notebook(run.notebook)
            papermill.execute_notebook(
                nb, str(output), parameters=parameters, kernel_name=kernel_name,
                progress_bar=False, cwd=str(_working_directory(cwd, run.notebook, tmp)),
                execution_timeout=timeout, config=_kernel_config(Path(tmp)),
            )
        except papermill.PapermillExecutionError as exc:
            error = {"ename": exc.ename, "evalue": exc.evalue}
        except Exception as exc:  # a timeout, a dead kernel, a kernel that never started
            error = {"ename": type(exc).__name__, "evalue": str(exc)}
        if error is None and results_file.exists():
            try:
                results = json.loads(results_file.read_text())
            except ValueError as exc:
                error = {"ename": type(exc).__name__, "evalue": f"results JSON: {exc}"}
        if output.exists():
            notebook_bytes = output.read_bytes()
    record = {
        "run_id": run.run_id,
        "status": COMPLETED if error is None else FAILED,
        "notebook": run.notebook,
        "notebook_sha256": run.notebook_sha256,
        "parameters": dict(run.parameters),
        "results": results,
        "error": error,
        "started": started,
        "finished": _now(),
        "duration_s": round(time.perf_counter() - clock, 3),
        "timeout_s": timeout,
        "worker": f"{socket.gethostname()}:{os.getpid()}",
    }
    return record, notebook_bytes


# --------------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------------
def _atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never half."""
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


def _load_records(runs_dir: Path) -> dict[str, dict[str, Any]]:
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
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return (0, float(value), "")
    return (1, 0.0, json.dumps(value, sort_keys=True, default=str))


def _table(records: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """One tidy row per record: run_id, status, duration_s, parameters, results, bookkeeping."""
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


def _write_csv(out: Path, records: Mapping[str, Mapping[str, Any]]) -> None:
    _atomic_write(out / "results.csv", _table(records.values()).to_csv(index=False).encode())


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
    return _table(_load_records(runs_dir).values())


# --------------------------------------------------------------------------------------------
# Executing many runs
# --------------------------------------------------------------------------------------------
def _cpu_count() -> int:
    with contextlib.suppress(AttributeError):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _init_worker(threads: int) -> None:
    """Worker set-up: the parent handles Ctrl-C; SIGTERM kills this worker's kernel too.

    ``OMP_NUM_THREADS``/``MKL_NUM_THREADS`` (inherited by the kernels) share the cores among the
    workers, so that N workers running torch do not fight over the same cores.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _terminate_worker)
    for variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[variable] = str(threads)


def _terminate_worker(signum: int, frame: Any) -> None:
    """Kill the kernel this worker runs (it lives in its own session), then exit at once.

    Without psutil the kernel still exits within about a second: ipykernel polls its parent.
    """
    with contextlib.suppress(Exception):
        import psutil

        for child in psutil.Process().children(recursive=True):
            with contextlib.suppress(psutil.Error):
                child.kill()
    os._exit(128 + signum)


class _LocalPool:
    """Worker processes (forkserver, else spawn; never fork) that can be terminated at once."""

    def __init__(self, workers: int) -> None:
        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
        if context.get_start_method() == "forkserver":
            context.set_forkserver_preload([__name__, "papermill"])
        self.terminated = False
        self.executor = ProcessPoolExecutor(
            max_workers=workers, mp_context=context, initializer=_init_worker,
            initargs=(max(1, _cpu_count() // workers),),
        )

    def submit(self, *args: Any, **kwargs: Any) -> Future:
        return self.executor.submit(*args, **kwargs)

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

    def __enter__(self) -> _LocalPool:
        return self

    def __exit__(self, kind: Any, value: Any, traceback: Any) -> None:
        if kind is not None:
            self.terminate()
        elif not self.terminated:
            self.executor.shutdown(wait=True)


def _pool(scheduler: str | None, workers: int) -> Any:
    """The executor of a sweep: a Dask cluster's client, or local worker processes."""
    if scheduler is None:
        return _LocalPool(workers)
    from vaelib.dask_runner import DaskPool

    return DaskPool(scheduler)


@contextlib.contextmanager
def _interrupt_flag() -> Iterator[threading.Event]:
    """An event set by the first Ctrl-C (a second one raises KeyboardInterrupt as usual).

    Only the main thread can catch signals; elsewhere the event is never set.
    """
    flag = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield flag
        return

    def handler(signum: int, frame: Any) -> None:
        if flag.is_set():
            raise KeyboardInterrupt
        flag.set()

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield flag
    finally:
        signal.signal(signal.SIGINT, previous)


def _outcome(future: Future, run: Run) -> tuple[dict[str, Any], bytes | None]:
    try:
        return future.result()
    except Exception as exc:  # the worker died (killed, out of memory): the run failed
        now = _now()
        return {
            "run_id": run.run_id, "status": FAILED, "notebook": run.notebook,
            "notebook_sha256": run.notebook_sha256, "parameters": dict(run.parameters),
            "results": None, "error": {"ename": type(exc).__name__, "evalue": str(exc)},
            "started": now, "finished": now, "duration_s": None, "timeout_s": None,
            "worker": None,
        }, None


def _first_line(text: str | None) -> str:
    return next((line.strip() for line in str(text or "").splitlines() if line.strip()), "")


def _summary(runs: Sequence[Run], cached: set[str], records: Mapping[str, Mapping]) -> str:
    failed = [r.run_id for r in runs if records[r.run_id]["status"] == FAILED]
    completed = len(runs) - len(cached) - len(failed)
    text = f"{len(runs)} run{'s' if len(runs) != 1 else ''}: {completed} completed, "
    text += f"{len(cached)} skipped (cached), {len(failed)} failed"
    if failed:
        shown = []
        for name in failed[:3]:
            error = records[name].get("error") or {}
            shown.append(f"{name} ({error.get('ename')}: {_first_line(error.get('evalue'))})")
        text += ": " + "; ".join(shown) + ("; ..." if len(failed) > 3 else "")
    return text


def sweep(
    notebook: str | os.PathLike,
    parameters: Mapping[str, Any] | None = None,
    grid: Mapping[str, Sequence[Any]] | None = None,
    out: str | os.PathLike = "sweep",
    *,
    workers: int = 1,
    timeout: int | None = None,
    force: bool = False,
    progress: bool = True,
    scheduler: str | None = None,
) -> pd.DataFrame:
    """Execute a notebook over a parameter grid in parallel worker processes, with a cache.

    Parameters
    ----------
    notebook : path
        Notebook with a cell tagged ``parameters``.
    parameters : mapping, optional
        Fixed parameters of every run.
    grid : mapping of str to sequence, optional
        Swept parameters; the runs are their cartesian product (see :func:`expand_grid`).
    out : path
        Output directory (created): ``runs/<run-id>.ipynb``, ``runs/<run-id>.json``,
        ``results.csv`` (rewritten after every run; it covers every record in ``runs/``).
    workers : int
        Runs executed at once, each in its own process and kernel (>= 1). The cores are shared
        out through ``OMP_NUM_THREADS``/``MKL_NUM_THREADS``.
    timeout : int, optional
        Seconds each cell may run; a run that exceeds it fails (no limit by default).
    force : bool
        Re-run runs that already completed (otherwise their records are reused).
    progress : bool
        Show a progress bar over runs on stderr.
    scheduler : str, optional
        Address of a Dask distributed scheduler (e.g. ``"tcp://10.0.0.5:8786"``): each run is
        one Dask task on the cluster's workers (:mod:`vaelib.dask_runner`; ``workers`` is then
        ignored, the cluster's worker threads decide). Default: local worker processes.

    Returns
    -------
    DataFrame
        The rows of ``results.csv`` for this sweep's runs. ``attrs["summary"]`` is a one-line
        account such as ``"6 runs: 4 completed, 1 skipped (cached), 1 failed: ..."`` and
        ``attrs["cached"]`` lists the run ids that were skipped.

    Raises
    ------
    FileNotFoundError, SweepError
        Before anything runs, for a missing notebook, unknown parameters or bad options.
    SweepInterrupted
        On Ctrl-C: queued runs are cancelled, running kernels ended, completed records and
        ``results.csv`` kept; calling again finishes the remaining runs.
    """
    from tqdm.auto import tqdm

    runs = plan_runs(notebook, parameters, grid)
    for name, value, optional in (("workers", workers, False), ("timeout", timeout, True)):
        if value is None and optional:
            continue
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
            raise SweepError(f"{name} must be an int >= 1 (seconds for timeout), got {value!r}")
    if not isinstance(force, bool):
        raise SweepError(f"force must be True or False, got {force!r}")
    if scheduler is not None and (not isinstance(scheduler, str) or not scheduler.strip()):
        raise SweepError(f"scheduler must be the address of a Dask scheduler, got {scheduler!r}")
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise SweepError(f"out {str(out)!r} exists and is not a directory")
    runs_dir = out / "runs"
    runs_dir.mkdir(parents=True, exist_ok=True)
    records = _load_records(runs_dir)
    cached = set() if force else {
        r.run_id for r in runs if records.get(r.run_id, {}).get("status") == COMPLETED
    }
    todo = [r for r in runs if r.run_id not in cached]
    others = {rec.get("notebook_sha256") for rec in records.values()} - {runs[0].notebook_sha256}
    if others:
        warnings.warn(f"{runs_dir} also holds runs of another version of the notebook; they are "
                      "rows of results.csv too (see its notebook_sha256 column)", stacklevel=2)
    source = _read_notebook(notebook)
    for cell in source.cells:  # papermill clears outputs anyway; don't ship them to workers
        if cell.cell_type == "code":
            cell.outputs = []
    bar = tqdm(total=len(runs), initial=len(cached), desc=Path(notebook).stem, unit="run",
               file=sys.stderr, disable=not progress, dynamic_ncols=True)
    failures = 0
    with bar, _interrupt_flag() as interrupted:
        if todo:
            with _pool(scheduler, min(workers, len(todo))) as pool:
                futures = {pool.submit(execute_run, run, source=source, timeout=timeout): run
                           for run in todo}
                pending = set(futures)
                while pending and not interrupted.is_set():
                    done, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
                    for future in done:
                        record, notebook_bytes = _outcome(future, futures[future])
                        if notebook_bytes is not None:
                            _atomic_write(runs_dir / f"{record['run_id']}.ipynb", notebook_bytes)
                        _atomic_write(runs_dir / f"{record['run_id']}.json",
                                      json.dumps(record, indent=2).encode())
                        records[record["run_id"]] = record
                        _write_csv(out, records)
                        if record["status"] == FAILED:
                            failures += 1
                            bar.set_postfix(failed=failures)
                            error = record["error"]
                            bar.write(f"failed: {record['run_id']}: {error['ename']}: "
                                      f"{_first_line(error['evalue'])}", file=sys.stderr)
                        bar.update(1)
                if interrupted.is_set():
                    pool.terminate()
        _write_csv(out, records)
    if interrupted.is_set():
        completed = sum(records.get(r.run_id, {}).get("status") == COMPLETED for r in runs)
        finished = {r.run_id for r in todo if r.run_id in records} | cached
        remaining = len(runs) - len(finished)
        raise SweepInterrupted(
            f"interrupted: {completed} of {len(runs)} runs completed"
            f"{f' ({len(cached)} cached)' if cached else ''}; results are in {out}. "
            f"Re-run the same command to finish the remaining {remaining}.",
            completed, remaining,
        )
    ids = {r.run_id for r in runs}
    table = _table(rec for name, rec in records.items() if name in ids)
    table.attrs["summary"] = _summary(runs, cached, records)
    table.attrs["cached"] = sorted(cached)
    return table


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------
def _numeric(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


def report(
    out: str | os.PathLike,
    x: str | None = None,
    y: Sequence[str] | str | None = None,
    hue: str | None = None,
    *,
    save: bool = True,
) -> Any:
    """A summary figure of a sweep: each metric against a swept parameter, seeds as error bars.

    Parameters
    ----------
    out : path
        The sweep directory.
    x : str, optional
        Column on the horizontal axis. Default: the swept parameter (other than ``seed``) with
        the most distinct values; none when only seeds vary.
    y : str or sequence of str, optional
        Metrics, one panel each. Default: the numeric result columns (at most
        :data:`MAX_PANELS`).
    hue : str, optional
        Column drawn as separate lines. Default: another swept parameter (not ``seed``), if any.
    save : bool
        Also write the figure to ``DIR/summary.png`` (atomically).

    Returns
    -------
    matplotlib.figure.Figure
        Points are means over the completed runs sharing ``x`` (and ``hue``): over seeds when
        those are the other swept parameters; bars are one standard deviation.

    Raises
    ------
    FileNotFoundError
        If ``out`` holds no sweep.
    SweepError
        If no run completed, or a named column does not exist or is not numeric.
    """
    import seaborn as sns
    from matplotlib.figure import Figure

    table = collect_results(out)
    data = table[table["status"] == COMPLETED]
    if data.empty:
        raise SweepError(f"no completed runs in {str(out)!r} to plot")
    data = data.infer_objects()
    columns = list(table.columns)
    swept = [p for p in table.attrs["parameters"] if p != "seed"
             and data[p].astype(str).nunique() > 1]
    for name, value in (("x", x), ("hue", hue)):
        if value is not None and value not in columns:
            raise SweepError(f"{name}={value!r} is not a column of results.csv: {columns}")
    if x is None and swept:
        x = max(swept, key=lambda p: data[p].astype(str).nunique())
    if hue is None:
        hue = next((p for p in swept if p != x), None)
    if y is None:
        metrics = [c for c in table.attrs["results"] if _numeric(data[c])][:MAX_PANELS]
        if not metrics:
            raise SweepError(f"no numeric results to plot in {str(out)!r}")
    else:
        metrics = [y] if isinstance(y, str) else list(y)
        for metric in metrics:
            if metric not in columns:
                raise SweepError(f"y={metric!r} is not a column of results.csv: {columns}")
            if not _numeric(data[metric]):
                raise SweepError(f"y={metric!r} is not numeric")
    ncols = min(3, len(metrics))
    nrows = math.ceil(len(metrics) / ncols)
    figure = Figure(figsize=(4.2 * ncols, 3.4 * nrows + 0.6), layout="constrained")
    axes = figure.subplots(nrows, ncols, squeeze=False).ravel()
    for ax, metric in zip(axes, metrics):
        sns.pointplot(data=data, x=x, y=metric, hue=hue, errorbar="sd", capsize=0.15, ax=ax)
        ax.set_xlabel(x if x is not None else "all completed runs")
        ax.set_ylabel(metric)
        ax.set_title(metric)
        if ax.get_legend() is not None and ax is not axes[0]:
            ax.get_legend().remove()
    for ax in axes[len(metrics):]:
        figure.delaxes(ax)
    name = _notebook_name(out)
    seeds = data["seed"].nunique() if "seed" in data else 1
    figure.suptitle(f"{name}: {len(data)} completed runs, mean ± sd over {seeds} "
                    f"seed{'s' if seeds != 1 else ''}")
    if save:
        with tempfile.TemporaryDirectory(dir=out) as tmp:
            path = Path(tmp) / "summary.png"
            figure.savefig(path, dpi=100)
            os.replace(path, Path(out) / "summary.png")
    return figure


def _notebook_name(out: str | os.PathLike) -> str:
    records = _load_records(Path(out) / "runs")
    names = sorted({Path(str(r.get("notebook", "sweep"))).stem for r in records.values()})
    return ", ".join(names) or "sweep"
