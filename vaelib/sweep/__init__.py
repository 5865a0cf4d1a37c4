"""Batch runs of a parameterised notebook: a grid of papermill executions, cached and tabulated.

A sweep executes one notebook (whose first code cell is tagged ``parameters``, see the design's
"Notebooks" section) once per point of a parameter grid, each run in its own worker process with
its own kernel. Everything lands in one output directory::

    DIR/runs/<run-id>.ipynb   the executed notebook (kept for failed runs too, to read the error)
    DIR/runs/<run-id>.json    the run record: parameters, status, timings, error, the results
    DIR/results.csv           one tidy row per run record in DIR/runs (rebuilt from them)
    DIR/summary.png           the figure of :func:`report`
    DIR/sweep.lock            held by the sweep writing into DIR (a second one waits)

The records are the source of truth: ``results.csv``, :func:`collect_results` and :func:`report`
are tables of them. A run id reads like ``beta=4_seed=1-1f0c9a2e``: the swept parameters, then 8
hex digits of a hash of all the parameters (as given) and of the notebook's code (its code cells'
source, not their outputs, so re-executing the notebook in place keeps the cache). The hash is
the cache key: a run with a ``"completed"`` record of the same hash (under any readable name)
whose executed notebook exists is skipped by the next sweep (``force=True`` re-runs it); failed
runs are retried. Every file is written atomically (a temporary file in the same folder, then
:func:`os.replace`), so an interrupted sweep leaves complete records and a valid
``results.csv``, never half a file.

The notebook writes its key metrics as JSON to ``results_path`` when that parameter is set; the
runner passes a temporary path and stores what was written under the record's ``"results"`` key.

Durations are in seconds, timestamps are ISO 8601 in UTC. The modules, each importing only those
above it:

``errors``          :class:`SweepError`, :class:`SweepInterrupted`
``values``          :func:`parse_value` (YAML 1.2 core scalars), values held to declared types
``grid``            :func:`parse_grid`, :func:`expand_grid`
``notebooks``       :func:`notebook_hash`, :func:`notebook_parameters`
``runs``            :class:`Run`, :func:`run_id`, :func:`plan_runs`, :func:`execute_run`
``records``         run records on disk, the tidy table, :func:`collect_results`
``locking``         the lock of a sweep directory
``executor``        the interface of the executors (``submit_run`` -> Future, ``terminate``)
``processes``       the watchdog that ties a local sweep's processes to its main process
``local_pool``      worker processes on this machine
``dask_pool``       a Dask cluster (imported only when a sweep is given a scheduler)
``orchestration``   :func:`sweep`
``reporting``       :func:`report`
"""
from vaelib.sweep.errors import SweepError, SweepInterrupted
from vaelib.sweep.grid import expand_grid, parse_grid
from vaelib.sweep.notebooks import notebook_hash, notebook_parameters
from vaelib.sweep.orchestration import sweep
from vaelib.sweep.records import collect_results
from vaelib.sweep.reporting import MAX_PANELS, report
# The constants (statuses, the kernel, the results parameter, the panels of a report) are
# importable from here as before, outside __all__ as before.
from vaelib.sweep.runs import (
    COMPLETED,
    FAILED,
    KERNEL_NAME,
    RESULTS_PARAMETER,
    Run,
    execute_run,
    plan_runs,
    run_id,
)
from vaelib.sweep.values import parse_value

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
