"""The summary figure of a sweep (``DIR/summary.png``): each metric against a swept parameter."""
from __future__ import annotations

import io
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from vaelib.atomic import atomic_write
from vaelib.sweep.errors import SweepError
from vaelib.sweep.records import load_sweep, tidy_table
from vaelib.sweep.runs import COMPLETED

__all__ = ["MAX_PANELS", "report"]

MAX_PANELS = 6
"""Most metrics :func:`report` plots by default."""


def _numeric(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


def _categories(column: pd.Series) -> list[Any]:
    """The values of ``column`` in the order of the horizontal axis: sorted when numeric, else
    in order of appearance (seaborn's order for categorical axes)."""
    values = list(pd.unique(column.dropna()))
    return sorted(values) if pd.api.types.is_numeric_dtype(column) else values


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
        The sweep directory: its run records ``DIR/runs/*.json`` are read (the source of truth;
        ``results.csv`` holds the same rows).
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
        those are the other swept parameters; bars are one standard deviation
        (:func:`vaelib.plotting.mean_sd_panel`).

    Raises
    ------
    FileNotFoundError
        If ``out`` holds no sweep.
    SweepError
        If no run completed, or a named column does not exist or is not numeric.
    """
    from matplotlib.figure import Figure

    from vaelib.plotting import mean_sd_panel

    records = load_sweep(out)
    table = tidy_table(records.values())
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
    order = _categories(data[x]) if x is not None else None
    for ax, metric in zip(axes, metrics):
        mean_sd_panel(ax, data, x, metric, order=order, hue=hue)
        ax.set_xlabel(x if x is not None else "all completed runs")
        ax.set_ylabel(metric)
        ax.set_title(metric)
        if ax.get_legend() is not None and ax is not axes[0]:
            ax.get_legend().remove()
    for ax in axes[len(metrics):]:
        figure.delaxes(ax)
    seeds = data["seed"].nunique() if "seed" in data else 1
    names = ", ".join(sorted({Path(str(r.get("notebook", "sweep"))).stem
                              for r in records.values()}))
    figure.suptitle(f"{names or 'sweep'}: {len(data)} completed runs, mean ± sd over {seeds} "
                    f"seed{'s' if seeds != 1 else ''}")
    if save:
        png = io.BytesIO()
        figure.savefig(png, dpi=100, format="png")
        atomic_write(Path(out) / "summary.png", png.getvalue())
    return figure

