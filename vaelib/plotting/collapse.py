"""Posterior collapse and repeated runs: diagnostics over training, and mean ± sd over seeds.

The histories are :func:`vaelib.fit`'s, with the columns of a
:class:`~vaelib.diagnostics.CollapseMonitor` (:data:`vaelib.diagnostics.MONITOR_COLUMNS`); KL and
reconstruction terms are in nats per sample, the mutual information in nats.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from vaelib.diagnostics import MONITOR_COLUMNS
from vaelib.plotting.base import class_colours, new_figure

__all__ = ["COLLAPSE_PANELS", "SUMMARY_PANELS", "collapse_curves", "factor_effects", "mean_sd_panel", "seed_summary"]

_ACTIVE_UNITS, _KL_TOTAL, _MUTUAL_INFORMATION, _IWAE_LOG_LIKELIHOOD = MONITOR_COLUMNS

COLLAPSE_PANELS: dict[str, tuple[str, str]] = {
    "weight": ("KL weight $\\beta_t$", "weight"),
    _KL_TOTAL: ("KL$(q(z|x)\\,\\|\\,p(z))$, held-out", "nats per sample"),
    _ACTIVE_UNITS: ("Active units (Cov$_x\\,\\mathbb{E}_q[z_d] > 0.01$)", "units"),
    _MUTUAL_INFORMATION: ("Mutual information $I_q(x; z)$", "nats"),
    _IWAE_LOG_LIKELIHOOD: ("IWAE bound on $\\log p(x)$, held-out", "nats per sample"),
    "recon": ("Reconstruction $-\\log p(x|z)$, training batches", "nats per sample"),
}
"""Title and y label of each :func:`collapse_curves` panel, by history column."""
SUMMARY_PANELS: dict[str, tuple[str, str]] = {
    "elbo": ("ELBO, held-out", "nats per sample"),
    "recon": ("Reconstruction $-\\log p(x|z)$, held-out", "nats per sample"),
    "kl": COLLAPSE_PANELS[_KL_TOTAL],
    "active_units": COLLAPSE_PANELS[_ACTIVE_UNITS],
    "mutual_information": COLLAPSE_PANELS[_MUTUAL_INFORMATION],
}
"""Title and y label of each :func:`seed_summary` panel, by the keys of
:func:`vaelib.collapse.collapse_summary` (the end-of-training numbers on held-out data)."""


def _check_histories(histories: Any) -> dict[str, pd.DataFrame]:
    if not isinstance(histories, Mapping) or not histories:
        raise ValueError(f"histories must be a non-empty mapping of method name to history DataFrame, got {histories!r:.80}")
    for name, history in histories.items():
        if not isinstance(history, pd.DataFrame):
            raise TypeError(f"histories[{name!r}] must be a pandas DataFrame (what fit returns), got {type(history).__name__}")
        if len(history) == 0:
            raise ValueError(f"histories[{name!r}] must have at least one row, got an empty DataFrame")
    return {str(name): history for name, history in histories.items()}


def collapse_curves(
    histories: Mapping[str, pd.DataFrame],
    *,
    columns: Sequence[str] = ("weight", _KL_TOTAL, _ACTIVE_UNITS, _MUTUAL_INFORMATION),
    x: str = "step",
    title: str = "Posterior collapse over training",
) -> Figure:
    """One panel per diagnostic, one line per training method: how (and when) the code collapses.

    Made for the histories of :func:`vaelib.collapse.train_method` (:func:`vaelib.fit` with a
    :class:`~vaelib.diagnostics.CollapseMonitor`): the KL weight of the objective, the held-out
    KL in nats per sample, the number of active units and the mutual information I_q(x; z)
    (He et al. 2019, Eq. 5). Rows where a column is NaN (monitor rows skipped) are left out.

    Parameters
    ----------
    histories : mapping of str to pandas.DataFrame
        Method name (the legend label) to its history; each must have the column ``x`` and every
        column of ``columns``.
    columns : sequence of str
        History columns, one panel each, in order. Known columns (:data:`COLLAPSE_PANELS`) get
        their title and unit; others are titled by their name.
    x : str
        Column for the horizontal axis.
    title : str
    """
    histories = _check_histories(histories)
    if isinstance(columns, str) or not isinstance(columns, Sequence) or not columns:
        raise ValueError(f"columns must be a non-empty sequence of history column names, got {columns!r}")
    for name, history in histories.items():
        missing = [column for column in (x, *columns) if column not in history.columns]
        if missing:
            raise ValueError(f"histories[{name!r}] lacks the columns {missing}")
    colours = class_colours(len(histories))
    figure = new_figure(3.6 * len(columns), 3.6)
    axes = np.atleast_1d(figure.subplots(1, len(columns)))
    for ax, column in zip(axes, columns):
        for colour, (name, history) in zip(colours, histories.items()):
            rows = history[history[column].notna()]
            ax.plot(rows[x].to_numpy(), rows[column].to_numpy(dtype=np.float64), color=colour, label=name, lw=1.6)
        panel_title, unit = COLLAPSE_PANELS.get(column, (column, column))
        ax.set_title(panel_title, fontsize=10)
        ax.set_xlabel(x)
        ax.set_ylabel(unit)
        ax.grid(True, alpha=0.3)
    handles, names = axes[0].get_legend_handles_labels()
    figure.legend(handles, names, title="method", loc="outside right center", frameon=False)
    figure.suptitle(title)
    return figure


def mean_sd_panel(
    ax: Axes,
    data: pd.DataFrame,
    x: str | None,
    y: str,
    *,
    order: Sequence[Any] | None = None,
    hue: str | None = None,
) -> None:
    """Draw the mean of ``y`` per ``x`` (and ``hue``) with ± one sample standard deviation over the
    rows (seeds), over a strip of the rows themselves, into ``ax``.

    The one picture of "repeated runs" that :func:`seed_summary` and ``vaelib report`` share:
    seaborn's point plot (diamonds, error bars of ± the sample standard deviation, ddof=1, with
    caps) over a strip plot of the individual runs (small grey points), so a reader sees both the
    spread and how few runs it rests on. ``x`` values are drawn as categories in ``order``
    (default: first appearance); ``x=None`` draws all rows as one point. ``hue`` draws one colour
    per value of that column, dodged.

    Parameters
    ----------
    ax : matplotlib Axes
        Drawn into; its labels and title are left to the caller.
    data : pandas.DataFrame
        One row per run, with the columns ``x``, ``y`` and ``hue`` (when given).
    x : str or None
        Categorical column along the horizontal axis, or None for one point of all rows.
    y : str
        Numeric column, in its own unit.
    order : sequence, optional
        The ``x`` values in drawing order.
    hue : str, optional
        Column telling dodged groups apart.
    """
    import seaborn as sns

    if x is None:
        data, x = data.assign(_all="all runs"), "_all"
    order = list(pd.unique(data[x])) if order is None else list(order)
    names = [str(value) for value in order]
    frame = data.assign(**{x: data[x].astype(str)})
    if hue is not None:
        frame = frame.assign(**{hue: frame[hue].astype(str)})
    dodge = 0.3 if hue is not None else False
    sns.stripplot(data=frame, x=x, y=y, order=names, hue=hue, ax=ax, color="0.55" if hue is None else None,
                  palette="muted" if hue is not None else None, size=3.5, jitter=0.12, alpha=0.6, zorder=1,
                  dodge=bool(dodge), legend=False)
    sns.pointplot(data=frame, x=x, y=y, order=names, hue=hue, ax=ax, errorbar="sd", capsize=0.25,
                  color="tab:blue" if hue is None else None, palette="deep" if hue is not None else None,
                  linestyle="none", marker="D", markersize=6, err_kws={"linewidth": 1.6}, dodge=dodge)
    if x == "_all":
        ax.set_xlabel("")


def seed_summary(
    results: pd.DataFrame,
    x: str,
    metrics: Sequence[str],
    *,
    seed: str = "seed",
    order: Sequence[Any] | None = None,
    labels: Mapping[str, str] | None = None,
    title: str = "Mean and spread over seeds",
) -> Figure:
    """One panel per metric: the mean over seeds of each ``x`` value, ± one standard deviation.

    A seaborn point plot (the mean, error bars of ± the sample standard deviation, ddof=1, with
    caps) over a strip of the individual seeds (small grey points), so a reader sees both the
    spread and how few runs it rests on. The panel's title says how many seeds there are (their
    range when the ``x`` values have different numbers).

    Parameters
    ----------
    results : pandas.DataFrame
        Tidy results, one row per run: the columns ``x``, ``seed`` and every metric (numeric).
    x : str
        Categorical column along the horizontal axis (e.g. a schedule name or a swept β).
    metrics : sequence of str
        Numeric columns, one panel each; :data:`SUMMARY_PANELS` titles the known ones (others
        are titled by their name) and ``labels`` overrides the y-axis labels.
    seed : str
        Column telling the repeated runs apart.
    order : sequence, optional
        Order of the ``x`` values (default: first appearance).
    labels : mapping of str to str, optional
        Metric -> y-axis label, e.g. ``{"kl": "KL (nats per sample)"}``.
    title : str

    Returns
    -------
    matplotlib.figure.Figure
        ``figure.axes[i]`` is the panel of ``metrics[i]``.
    """
    if not isinstance(results, pd.DataFrame) or len(results) == 0:
        raise ValueError(f"results must be a non-empty pandas DataFrame, one row per run, got {results!r:.80}")
    if isinstance(metrics, str) or not isinstance(metrics, Sequence) or not metrics:
        raise ValueError(f"metrics must be a non-empty sequence of column names, got {metrics!r}")
    missing = [column for column in (x, seed, *metrics) if column not in results.columns]
    if missing:
        raise ValueError(f"results lacks the columns {missing}; it has {list(results.columns)}")
    for metric in metrics:
        if not pd.api.types.is_numeric_dtype(results[metric]) or pd.api.types.is_bool_dtype(results[metric]):
            raise TypeError(f"metric column {metric!r} must be numeric, got dtype {results[metric].dtype}")
    order = list(pd.unique(results[x])) if order is None else list(order)
    absent = sorted(set(results[x]) - set(order), key=str)
    if absent:
        raise ValueError(f"order must list every value of {x!r}; it lacks {absent}")
    labels = dict(labels or {})
    per_value = results.groupby(x)[seed].nunique()
    low, high = int(per_value.min()), int(per_value.max())
    seeds_text = f"{high} seed{'s' if high != 1 else ''}" if low == high else f"{low} to {high} seeds per {x}"
    figure = new_figure(max(3.2, 0.55 * len(order) + 1.4) * len(metrics), 4.2)
    axes = np.atleast_1d(figure.subplots(1, len(metrics)))
    for ax, metric in zip(axes, metrics):
        mean_sd_panel(ax, results, x, metric, order=order)
        panel_title, unit = SUMMARY_PANELS.get(metric, (metric, metric))
        ax.set_title(f"{panel_title}\nmean ± sd over {seeds_text}", fontsize=10)
        ax.set_ylabel(labels.get(metric, unit))
        ax.set_xlabel(x)
        ax.tick_params(axis="x", labelrotation=30)
        for tick in ax.get_xticklabels():
            tick.set_horizontalalignment("right")
        ax.grid(True, axis="y", alpha=0.3)
    figure.suptitle(title)
    return figure


def factor_effects(
    table: pd.DataFrame,
    factors: Sequence[str],
    metrics: Sequence[str],
    *,
    orders: Mapping[str, Sequence[Any]] | None = None,
    labels: Mapping[str, str] | None = None,
    title: str = "Effect of each factor, mean ± sd over seeds",
) -> Figure:
    """A grid of :func:`mean_sd_panel`: one row per metric, one column per factor of a study.

    Made for differences between two conditions (e.g. cyclical − monotonic annealing), so every
    panel has a dashed line at 0 and the panels of a row share their y axis: the effect of each
    factor reads against "no difference" and against the other factors.

    Parameters
    ----------
    table : pandas.DataFrame
        Tidy, one row per run: columns ``factor`` (the name of the factor that run varied),
        ``level`` (its value there) and every metric (numeric).
    factors : sequence of str
        The values of ``table["factor"]`` to draw, one column each, in this order.
    metrics : sequence of str
        Numeric columns, one row of panels each.
    orders : mapping, optional
        factor -> the order of its levels (default: first appearance).
    labels : mapping, optional
        metric or factor -> axis label.
    title : str

    Returns
    -------
    matplotlib.figure.Figure
        ``figure.axes[r * len(factors) + c]`` is the panel of ``metrics[r]`` against ``factors[c]``.
    """
    if not isinstance(table, pd.DataFrame) or not {"factor", "level"} <= set(table.columns):
        raise ValueError("table must be a pandas DataFrame with 'factor' and 'level' columns, one row per run")
    for names, what in ((factors, "factors"), (metrics, "metrics")):
        if isinstance(names, str) or not isinstance(names, Sequence) or not names:
            raise ValueError(f"{what} must be a non-empty sequence of names, got {names!r}")
    absent = [factor for factor in factors if not (table["factor"] == factor).any()]
    missing = [metric for metric in metrics if metric not in table.columns]
    if absent or missing:
        raise ValueError(f"table lacks the factors {absent} or the metric columns {missing}")
    orders, labels = dict(orders or {}), dict(labels or {})
    figure = new_figure(2.6 * len(factors) + 1.0, 2.5 * len(metrics) + 0.8)
    axes = np.atleast_2d(figure.subplots(len(metrics), len(factors), sharey="row", squeeze=False))
    for row, metric in enumerate(metrics):
        for column, factor in enumerate(factors):
            ax = axes[row, column]
            runs = table[table["factor"] == factor]
            mean_sd_panel(ax, runs, "level", metric, order=orders.get(factor))
            ax.axhline(0.0, color="0.4", lw=0.9, ls="--", zorder=0)
            ax.set_xlabel(labels.get(factor, factor) if row == len(metrics) - 1 else "")
            ax.set_ylabel(labels.get(metric, metric) if column == 0 else "")
            ax.tick_params(axis="x", labelsize=8)
            ticks = [label.get_text() for label in ax.get_xticklabels()]
            ax.set_xticks(ax.get_xticks(), [text.replace(" ", "\n") for text in ticks])  # "words half": 2 lines
            ax.grid(True, axis="y", alpha=0.3)
    figure.suptitle(title)
    return figure
