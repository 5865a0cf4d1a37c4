"""Runs: the id of a run, the runs of a sweep, and the execution of one run with papermill.

:func:`execute_run` is the unit of work: a pure function of a :class:`Run` that returns the
record and the executed notebook instead of writing them, so any executor that can call it (local
worker processes, a Dask cluster) can run sweeps while the client writes the files.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import socket
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vaelib.sweep.errors import SweepError
from vaelib.sweep.grid import expand_grid
from vaelib.sweep.notebooks import notebook_hash, notebook_parameters, read_notebook
from vaelib.sweep.values import check_value, notebook_value

if TYPE_CHECKING:  # nbformat and papermill take seconds to import: only runs need them
    from nbformat import NotebookNode

__all__ = [
    "COMPLETED",
    "FAILED",
    "KERNEL_NAME",
    "RESULTS_PARAMETER",
    "RUN_FOLDERS",
    "Run",
    "execute_run",
    "make_record",
    "plan_runs",
    "run_id",
    "utc_now",
]

KERNEL_NAME = "python3"
"""Jupyter kernel every run executes in."""
RESULTS_PARAMETER = "results_path"
"""The parameter through which the runner asks a notebook to write its results JSON."""
COMPLETED, FAILED = "completed", "failed"
RUN_FOLDERS: set[str] = set()
"""The temporary folders of the runs this process is executing (a worker that is ended removes
them after killing its kernel)."""


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
        :func:`~vaelib.sweep.notebook_hash` of the notebook.
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
        :func:`~vaelib.sweep.notebook_hash` of the notebook when the run was planned.
    parameters : dict
        The parameters passed to the notebook (``results_path`` is added at execution), as
        the notebook gets them (the run id hashes them as given: see :func:`plan_runs`).
    writes_results : bool
        Whether the notebook has a ``results_path`` parameter to write its results JSON to.
    """

    run_id: str
    notebook: str
    notebook_sha256: str
    parameters: dict[str, Any] = field(default_factory=dict)
    writes_results: bool = True


def _checked(
    parameters: Mapping[str, Any] | None,
    grid: Mapping[str, Sequence[Any]] | None,
    types: Mapping[str, str],
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The fixed parameters and the grid with every value checked against its declared type."""
    fixed = {name: check_value(name, value, types.get(name))
             for name, value in dict(parameters or {}).items()}
    swept: dict[str, Any] = {}
    for name, values in dict(grid or {}).items():
        if type(values).__module__ == "numpy" and getattr(values, "ndim", None) == 1:
            values = list(values)  # a numpy array of grid values
        if isinstance(values, (str, bytes, Mapping)) or not isinstance(values, Sequence):
            swept[name] = values  # expand_grid says what is wrong
            continue
        swept[name] = [check_value(name, value, types.get(name)) for value in values]
    return fixed, swept


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
        Swept parameters (see :func:`~vaelib.sweep.expand_grid`).

    Returns
    -------
    list of Run
        In grid order. Each value is held to its parameter's declared type
        (:func:`~vaelib.sweep.values.check_value`; numpy numbers become Python numbers); the
        run id hashes the values as given, the notebook gets them as its types say (an int as
        a float for a float parameter: :func:`~vaelib.sweep.values.notebook_value`).

    Raises
    ------
    FileNotFoundError
        If the notebook does not exist.
    SweepError
        If a parameter is not one of the notebook's (papermill would only warn), is
        ``results_path`` (the runner sets it), a value does not fit its parameter's type or
        the grid is malformed.
    """
    nb = read_notebook(notebook)
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
    types = {name: info["type"] for name, info in known.items()}
    fixed, swept = _checked(parameters, grid, types)
    points = expand_grid(swept, fixed)
    digest = notebook_hash(nb)
    path = str(Path(notebook).resolve())
    return [
        Run(run_id(point, digest, list(swept)), path, digest,
            {name: notebook_value(value, types[name]) for name, value in point.items()},
            RESULTS_PARAMETER in known)
        for point in points
    ]


def utc_now() -> str:
    """The current time in UTC, ISO 8601 to the second (the timestamps of run records)."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def make_record(
    run: Run,
    *,
    error: dict[str, str] | None,
    results: Any = None,
    started: str,
    finished: str,
    duration_s: float | None = None,
    timeout_s: int | None = None,
    worker: str | None = None,
) -> dict[str, Any]:
    """The record of a run, its keys in the order of the files in ``DIR/runs``.

    The status is ``"completed"`` without ``error`` (``{"ename", "evalue"}``), else ``"failed"``;
    see :func:`execute_run` for the keys.
    """
    return {
        "run_id": run.run_id,
        "status": COMPLETED if error is None else FAILED,
        "notebook": run.notebook,
        "notebook_sha256": run.notebook_sha256,
        "parameters": dict(run.parameters),
        "results": results,
        "error": error,
        "started": started,
        "finished": finished,
        "duration_s": duration_s,
        "timeout_s": timeout_s,
        "worker": worker,
    }


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

    started, clock = utc_now(), time.perf_counter()
    error: dict[str, str] | None = None
    results = None
    notebook_bytes = None
    with tempfile.TemporaryDirectory(prefix="vaelib-run-") as tmp:
        RUN_FOLDERS.add(tmp)
        output, results_file = Path(tmp) / "output.ipynb", Path(tmp) / "results.json"
        parameters = dict(run.parameters)
        if run.writes_results:
            parameters[RESULTS_PARAMETER] = str(results_file)
        try:
            nb = source if source is not None else read_notebook(run.notebook)
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
        RUN_FOLDERS.discard(tmp)
    record = make_record(
        run, error=error, results=results, started=started, finished=utc_now(),
        duration_s=round(time.perf_counter() - clock, 3), timeout_s=timeout,
        worker=f"{socket.gethostname()}:{os.getpid()}",
    )
    return record, notebook_bytes
