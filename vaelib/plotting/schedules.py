"""KL annealing schedules drawn: the weight beta_t of the KL term over training steps, with cyclical toggles.

The traces and labels drawn are computed by :mod:`vaelib.annealing` (``schedule_trace``,
``describe_schedule``), re-exported here for compatibility.

Weights are dimensionless factors in [baseline, 1]; one step is one ``Annealer.step()`` call (an
epoch or a minibatch, as the training loop has it).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from vaelib.annealing import Annealer
from vaelib.schedules import Toggle, check_toggles, describe_schedule, schedule_trace
from vaelib.plotting.base import class_colours, figure_and_axes
from vaelib.validation import positive_int

__all__ = ["Toggle", "describe_schedule", "plot_schedule", "plot_schedules", "schedule_trace"]

def _draw_toggles(ax: Axes, toggles: Sequence[Toggle]) -> None:
    """Dashed vertical lines at the toggle steps: green where restarts switch on, red where off."""
    for on in (True, False):
        steps = [step for step, value in toggles if value is on]
        if steps:
            ax.vlines(steps, 0.0, 1.0, colors="tab:green" if on else "tab:red", linestyles="--", lw=1.2,
                      label=f"cyclical switched {'on' if on else 'off'} (end of step)")


def _style_schedule_axes(ax: Axes, n: int, title: str) -> None:
    ax.set_xlim(-0.5, n - 0.5)
    ax.set_ylim(-0.05, 1.08)
    ax.set_xlabel("step $t$ (one Annealer.step() each: an epoch or a minibatch)")
    ax.set_ylabel("KL weight $\\beta_t$")
    ax.set_title(title)
    ax.grid(True, alpha=0.3)


def plot_schedules(
    schedules: Mapping[str, Annealer | Mapping[str, Any]],
    n: int,
    *,
    toggles: Sequence[Toggle] = (),
    title: str = "KL annealing schedules",
    ax: Axes | None = None,
) -> Figure:
    """Several KL-weight schedules on one axes: one line per schedule, steps 0..n-1.

    Line ``i`` (``ax.lines[i]``, in the mapping's order) holds ``x = 0..n-1`` and
    ``y = schedule_trace(schedules[name], n, toggles)``.

    Parameters
    ----------
    schedules : mapping of str to Annealer or mapping
        Legend label -> schedule (see :func:`schedule_trace`).
    n : int
        Number of steps drawn.
    toggles : sequence of (int, bool)
        Cyclical on/off events applied to every schedule, drawn as vertical lines.
    title : str
    ax : matplotlib Axes, optional
        Draw there instead of in a new figure.
    """
    if not isinstance(schedules, Mapping) or not schedules:
        raise ValueError(f"schedules must be a non-empty mapping of label -> Annealer, got {schedules!r:.80}")
    n = positive_int("n", n)
    traces = {str(name): schedule_trace(annealer, n, toggles) for name, annealer in schedules.items()}
    figure, ax = figure_and_axes(ax, 10.0, 3.8)
    steps = np.arange(n)
    marker = "o" if n <= 120 else None
    for colour, (name, weights) in zip(class_colours(len(traces)), traces.items()):
        ax.plot(steps, weights, color=colour, marker=marker, markersize=2.5, lw=1.6, label=name)
    _draw_toggles(ax, check_toggles(toggles, n))
    _style_schedule_axes(ax, n, title)
    ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=9, frameon=False)
    return figure


def plot_schedule(
    annealer: Annealer | Mapping[str, Any],
    n: int,
    *,
    toggles: Sequence[Toggle] = (),
    label: str | None = None,
    title: str = "KL annealing schedule",
    ax: Axes | None = None,
) -> Figure:
    """One KL-weight schedule over steps 0..n-1, with its cyclical on/off ``toggles`` marked.

    :func:`plot_schedules` with one line (``ax.lines[0]``), labelled ``label`` (default
    :func:`describe_schedule`). See :func:`schedule_trace` for the arguments.
    """
    if label is None:
        label = describe_schedule(annealer)
    elif not isinstance(label, str):
        raise TypeError(f"label must be a str or None, got {label!r}")
    return plot_schedules({label: annealer}, n, toggles=toggles, title=title, ax=ax)
