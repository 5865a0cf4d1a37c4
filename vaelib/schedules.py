"""What a schedule does over a training run: the weights of every step (with cyclical restarts
switched on and off along the way, as the seed's example does) and a one-line description.

Both take an :class:`~vaelib.annealing.Annealer`, from its current state (which they do not change),
or the keyword arguments of a new one; plots (:mod:`vaelib.plotting`) and the
:class:`~vaelib.widgets.ScheduleExplorer` draw what they compute.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from vaelib.annealing import SETTINGS, SHAPES, Annealer
from vaelib.validation import is_integer, positive_int

__all__ = ["Toggle", "as_annealer", "check_toggles", "describe_schedule", "schedule_trace"]

Toggle = tuple[int, bool]
"""A switch of cyclical restarts: ``(step, on)`` sets ``Annealer.set_cyclical(on)`` at the end of ``step``."""


def as_annealer(name: str, annealer: Any) -> Annealer:
    """A fresh :class:`Annealer` equal to ``annealer`` (or built from a mapping of its arguments)."""
    if isinstance(annealer, Annealer):
        probe = Annealer(1)
        probe.load_state_dict(annealer.state_dict())
        return probe
    if isinstance(annealer, Mapping):
        if "total_steps" not in annealer:
            raise ValueError(f"{name} must hold 'total_steps' among its Annealer arguments, got {dict(annealer)!r}")
        return Annealer(**annealer)
    raise TypeError(f"{name} must be an Annealer or a mapping of Annealer arguments, got {type(annealer).__name__}")


def check_toggles(toggles: Any, n: int) -> list[Toggle]:
    """``toggles`` as a list of (step, on) with 0 <= step < n, sorted by step (stable)."""
    if isinstance(toggles, (str, bytes)) or not isinstance(toggles, Sequence):
        raise TypeError(f"toggles must be a sequence of (step, cyclical_on) pairs, got {toggles!r}")
    checked = []
    for toggle in toggles:
        if (not isinstance(toggle, Sequence) or len(toggle) != 2 or not is_integer(toggle[0])
                or not isinstance(toggle[1], bool)):
            raise TypeError(f"toggles must hold (step: int, cyclical_on: bool) pairs, got {toggle!r}")
        if not 0 <= toggle[0] < n:
            raise ValueError(f"toggle steps must lie in [0, n) = [0, {n}), got {toggle!r}")
        checked.append((int(toggle[0]), toggle[1]))
    return sorted(checked, key=lambda toggle: toggle[0])


def schedule_trace(annealer: Annealer | Mapping[str, Any], n: int, toggles: Sequence[Toggle] = ()) -> np.ndarray:
    """The KL weights of steps 0..n-1 of a training loop that switches cyclical restarts on or off.

    The loop of the seed repository: at step ``e`` the weight is read (and used for the loss), then
    ``annealer.step()`` advances the schedule, then every toggle ``(e, on)`` calls
    ``annealer.set_cyclical(on)``. Without toggles this is :meth:`Annealer.schedule`. The seed's
    example, cyclical restarts switched off at epoch 30 and on again at 70::

        schedule_trace(Annealer(10, "cosine", cyclical=True), 100, [(30, False), (70, True)])

    Parameters
    ----------
    annealer : Annealer or mapping
        The schedule, from its current state (it is not changed), or the keyword arguments of a
        new :class:`Annealer`, e.g. ``{"total_steps": 10, "shape": "cosine", "cyclical": True}``.
    n : int
        Number of steps, >= 1.
    toggles : sequence of (int, bool)
        ``(step, cyclical_on)`` events with ``0 <= step < n``, applied in step order (events of
        the same step in the given order).

    Returns
    -------
    numpy.ndarray
        (n,) float64 weights in [baseline, 1] (dimensionless factors of the KL term).
    """
    probe = as_annealer("annealer", annealer)
    n = positive_int("n", n)
    pending = check_toggles(toggles, n)
    weights = np.empty(n)
    for step in range(n):
        weights[step] = probe.weight
        probe.step()
        while pending and pending[0][0] == step:
            probe.set_cyclical(pending.pop(0)[1])
    return weights


def describe_schedule(annealer: Annealer | Mapping[str, Any]) -> str:
    """A short legend label of the settings that differ from their defaults, e.g.
    ``"cosine, T=10, cyclical, R=0.5"`` (shape parameters such as ``steepness 20`` last)."""
    probe = as_annealer("annealer", annealer)
    parts = [probe.shape, f"T={probe.total_steps}"]
    if probe.cyclical:
        parts.append("cyclical")
    for key, text in (("ratio", "R={:g}"), ("baseline", "baseline {:g}"), ("delay", "delay {:d}"), ("period", "period {:g}")):
        if getattr(probe, key) != SETTINGS[key].default:
            parts.append(text.format(getattr(probe, key)))
    for parameter in SHAPES[probe.shape].parameters:
        if getattr(probe, parameter.name) != parameter.default:
            parts.append(f"{parameter.name} {getattr(probe, parameter.name):g}")
    return ", ".join(parts)
