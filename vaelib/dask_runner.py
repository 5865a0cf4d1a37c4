"""Sweeps on a Dask distributed cluster: ``vaelib sweep ... --scheduler ADDRESS``.

The runner lives in :mod:`vaelib.sweep.dask_pool` (its docstring tells how runs are scheduled on
the workers, how their cores are shared and what happens when a worker dies); this module keeps
the import path ``from vaelib.dask_runner import DaskPool`` working.
"""
from vaelib.sweep.dask_pool import CONNECT_TIMEOUT_S, DaskPool, execute_on_worker, kernel_threads

__all__ = ["DaskPool", "execute_on_worker", "kernel_threads"]
