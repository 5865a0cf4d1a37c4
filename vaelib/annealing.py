"""KL annealing schedules: the :class:`Annealer` of the seed repository, made exact and extended.

The weight at an in-cycle step ``s`` is::

    p      = min(1, s / (ratio * total_steps))
    weight = baseline + (1 - baseline) * shape(p)

with ``shape(0) == 0`` and ``shape(1) == 1`` exactly for every shape. ``delay`` steps at the
baseline come first, once (the "klstart" warm-up of seed 002). Non-cyclical schedules stay at 1
after ``total_steps`` in-cycle steps; cyclical ones restart every ``total_steps`` steps
(Fu et al. 2019, "Cyclical Annealing Schedule"), holding at 1 for the last ``1 - ratio`` of
each cycle.

Two tables hold every setting, and everything else reads them: :data:`SETTINGS` (the Annealer's
own arguments: their defaults, checks and ranges) and :data:`SHAPES` (each ramp shape, its
formula and its own parameters, such as the logistic's ``steepness``). The constructor, the state
dict, the repr, :func:`vaelib.schedules.describe_schedule`, the plots and the ``ScheduleExplorer``
of :mod:`vaelib.widgets` are all driven by them, so a shape added with :func:`register_shape`
appears everywhere at once.
"""
from __future__ import annotations

import contextlib
import copy
import functools
import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from vaelib.validation import check_bool, check_int, check_real

T = TypeVar("T")

__all__ = [
    "SETTINGS",
    "SHAPES",
    "Annealer",
    "Setting",
    "Shape",
    "ShapeParameter",
    "cosine",
    "linear",
    "logistic",
    "register_shape",
    "registered_shape",
    "shape_parameters",
]


# ----------------------------------------------------------------------------- the shapes


def linear(p: float) -> float:
    """Linear ramp on ``p`` in [0, 1]."""
    return p


def cosine(p: float) -> float:
    """Half-cosine ramp ``(1 - cos(pi p)) / 2``: slow start, slow finish."""
    return 0.5 - 0.5 * math.cos(math.pi * p)


LOGISTIC_STEEPNESS = 12.0
"""Default slope of the logistic shape in normalised steps: Fu et al. 2019's sigmoid schedule."""


def logistic(p: float, steepness: float = LOGISTIC_STEEPNESS) -> float:
    """Sigmoid of ``steepness * (p - 0.5)`` rescaled to pass through (0, 0) and (1, 1).

    Written with ``tanh`` of an argument bounded by ``steepness / 4``, so it never overflows,
    whatever the number of steps. The seed's ``1 / (1 + exp(total_steps/2 - step))`` is a sigmoid
    of slope 1 per *step*: in normalised steps ``p = step / total_steps`` its slope is
    ``total_steps`` (not 12), it overflows past ~1420 steps and it never reaches 0 or 1;
    ``Annealer(T, "logistic", steepness=T)`` follows its curve, rescaled to hit 0 and 1.
    ``steepness=12`` is the slope of Fu et al. 2019's sigmoid schedule.
    """
    if p <= 0.0:
        return 0.0
    if p >= 1.0:
        return 1.0
    half = math.tanh(steepness / 4.0)
    return 0.5 + 0.5 * math.tanh(steepness * (p - 0.5) / 2.0) / half


@dataclass(frozen=True)
class ShapeParameter:
    """A real setting of a shape: a value ``> 0``, drawn by the explorer on a slider up to ``high``."""

    name: str
    default: float
    high: float
    description: str

    def check(self, value: Any) -> float:
        checked = check_real(self.name, value)
        if checked <= 0.0:
            raise ValueError(f"{self.name} must be > 0, got {value!r}")
        return checked


@dataclass(frozen=True)
class Shape:
    """A ramp shape ``f`` on ``p`` in [0, 1] with ``f(0) = 0`` and ``f(1) = 1``.

    Attributes
    ----------
    name : str
        What ``Annealer(..., shape=name)`` takes.
    function : callable
        ``function(p, **parameters) -> float``.
    formula : str
        ``f(p)`` in words and symbols, for tables and titles.
    parameters : tuple of ShapeParameter
        The shape's own settings, keyword arguments of :class:`Annealer`.
    """

    name: str
    function: Callable[..., float]
    formula: str
    parameters: tuple[ShapeParameter, ...] = ()

    def __call__(self, p: float, settings: Mapping[str, float]) -> float:
        """``f(p)`` with the shape's parameters taken from ``settings`` (e.g. an Annealer's ``__dict__``)."""
        if not self.parameters:
            return self.function(p)
        return self.function(p, **{parameter.name: settings[parameter.name] for parameter in self.parameters})


SHAPES: dict[str, Shape] = {}
"""Every ramp shape by name, in the order they were registered (``"linear"``, ``"cosine"``, ``"logistic"``)."""


def register_shape(shape: Shape) -> Shape:
    """Add a ramp shape to :data:`SHAPES`; :class:`Annealer`, its state dict, the plots and the
    ``ScheduleExplorer`` then know it (and its parameters) by name. Returns ``shape``.

    Raises
    ------
    ValueError
        If the name is taken, or a parameter name clashes with an Annealer setting or another
        shape's parameter with a different default.
    """
    if not isinstance(shape, Shape):
        raise TypeError(f"shape must be a vaelib.annealing.Shape, got {type(shape).__name__}")
    if shape.name in SHAPES:
        raise ValueError(f"a shape named {shape.name!r} is already registered")
    for parameter in shape.parameters:
        if parameter.name in SETTINGS:
            raise ValueError(f"shape parameter {parameter.name!r} clashes with the Annealer setting of that name")
        known = shape_parameters().get(parameter.name)
        if known is not None and known != parameter:
            raise ValueError(f"shape parameter {parameter.name!r} is already defined differently: {known!r}")
        parameter.check(parameter.default)
    if shape(0.0, _defaults(shape)) != 0.0 or shape(1.0, _defaults(shape)) != 1.0:
        raise ValueError(f"shape {shape.name!r} must map 0 to 0 and 1 to 1 exactly")
    SHAPES[shape.name] = shape
    return shape


@contextlib.contextmanager
def registered_shape(shape: Shape) -> Iterator[Shape]:
    """Register ``shape`` for the duration of a ``with`` block (for experiments and tests)."""
    register_shape(shape)
    try:
        yield shape
    finally:
        del SHAPES[shape.name]


def shape_parameters() -> dict[str, ShapeParameter]:
    """Every registered shape's parameters by name (each Annealer carries all of them)."""
    return {parameter.name: parameter for shape in SHAPES.values() for parameter in shape.parameters}


def _defaults(shape: Shape) -> dict[str, float]:
    return {parameter.name: parameter.default for parameter in shape.parameters}


# ----------------------------------------------------------------------------- the settings


def _check_baseline(name: str, value: Any) -> float:
    checked = check_real(name, value)
    if not 0.0 <= checked <= 1.0:
        raise ValueError(f"{name} must be in [0, 1], got {value!r}")
    return checked


def _check_ratio(name: str, value: Any) -> float:
    checked = check_real(name, value)
    if not 0.0 < checked <= 1.0:
        raise ValueError(f"{name} must be in (0, 1], got {value!r}")
    return checked


def _check_period(name: str, value: Any) -> float | None:
    if value is None:
        return None
    checked = check_real(name, value)
    if checked < 1.0:
        raise ValueError(f"{name} must be None or a number of steps >= 1, got {value!r}")
    return checked


def _check_shape(name: str, value: Any) -> str:
    if not isinstance(value, str) or value not in SHAPES:
        raise ValueError(f"{name} must be one of {tuple(SHAPES)}, got {value!r}")
    return value


@dataclass(frozen=True)
class Setting:
    """One argument of :class:`Annealer`: its default, its check, and how the explorer shows it.

    ``kind`` is ``"int"`` (a slider from ``low`` to the explorer's ``max_steps``), ``"real"`` (a
    slider from ``low`` to ``high``), ``"bool"`` (a checkbox) or ``"choice"`` (a menu of
    :data:`SHAPES`); ``label`` is the control's caption; ``explore`` is False for settings the
    explorer leaves out; ``optional`` settings may be missing from a saved state dict (one saved
    before they existed) and then take their default.
    """

    name: str
    default: Any
    check: Callable[[str, Any], Any]
    kind: str
    label: str
    description: str
    low: float = 0.0
    high: float = 1.0
    explore: bool = True
    optional: bool = False


SETTINGS: dict[str, Setting] = {
    setting.name: setting
    for setting in (
        Setting("total_steps", None, lambda n, v: check_int(n, v, 1), "int", "total_steps T",
                "steps of one ramp (the period of a cycle)", low=1),
        Setting("shape", "linear", _check_shape, "choice", "shape", "the ramp's shape"),
        Setting("baseline", 0.0, _check_baseline, "real", "baseline", "weight at the start of each ramp"),
        Setting("cyclical", False, check_bool, "bool", "cyclical", "restart the ramp every total_steps steps"),
        Setting("disable", False, check_bool, "bool", "disable", "annealer(x) returns x unchanged", explore=False),
        Setting("delay", 0, lambda n, v: check_int(n, v, 0), "int", "delay (klstart)",
                "steps at the baseline before the first ramp"),
        Setting("ratio", 1.0, _check_ratio, "real", "ratio R", "share of each cycle spent ramping (Fu et al.'s R)",
                low=0.01),
        Setting("period", None, _check_period, "real", "period", "the length of a cycle when it is not a whole "
                "number of steps (Fu et al.'s n_iter / n_cycle; see Annealer.from_cycles)", explore=False, optional=True),
    )
}
"""The Annealer's own settings in signature order (the shapes' parameters are in :data:`SHAPES`)."""

_COUNTERS = ("current_step", "delay_left", "cycle")
_OPTIONAL_COUNTERS = {"cycle": 0}  # counters a state saved by an older vaelib may lack

register_shape(Shape("linear", linear, "p"))
register_shape(Shape("cosine", cosine, "(1 - cos πp) / 2"))
register_shape(Shape(
    "logistic", logistic, "σ(k (p - ½)), rescaled through (0, 0) and (1, 1)",
    (ShapeParameter("steepness", LOGISTIC_STEEPNESS, 40.0, "slope k of the logistic shape"),),
))


# ----------------------------------------------------------------------------- the annealer


def _cycle_start(cycle: int, period: float) -> int:
    """First step of ``cycle`` for a fractional ``period``: ``floor(cycle * period)``, with the
    round-off of the product (e.g. 7 * (997 / 7) = 996.9999...) taken out."""
    return math.floor(cycle * period + 1e-9)


class Annealer:
    """Weight for the KL term that rises from ``baseline`` to 1 over ``total_steps`` steps.

    Seed usage (per epoch or per optimisation step, as you choose)::

        annealing_agent = Annealer(total_steps, shape="cosine")
        kld = annealing_agent(kld)          # kld * weight
        ...
        annealing_agent.step()

    Parameters
    ----------
    total_steps : int
        Steps of one ramp (and the period of a cyclical schedule). ``> 0``.
    shape : str
        Shape of the ramp, a name in :data:`SHAPES` (``"linear"``, ``"cosine"``, ``"logistic"``).
    baseline : float in [0, 1]
        Weight at the start of each ramp.
    cyclical : bool
        Restart the ramp every ``total_steps`` steps (Fu et al. 2019).
    disable : bool
        ``__call__`` returns its argument unchanged (``weight`` still reports the schedule).
    delay : int, keyword-only
        Steps held at ``baseline`` before the first ramp starts (seed 002's ``klstart``).
    ratio : float in (0, 1], keyword-only
        Fraction of each ``total_steps`` spent ramping; the rest holds at 1 (Fu et al.'s R).
    steepness : float > 0, keyword-only
        Slope of the logistic shape (ignored by the others).
    period : float, optional, keyword-only
        Length of one cycle in steps when it is not a whole number: cycle ``c`` then starts at step
        ``floor(c * period)`` (after the delay) and ramps over ``ratio * period`` steps, exactly as
        Fu et al. 2019's ``frange_cycle_*`` functions do for ``n_iter`` not divisible by
        ``n_cycle``. Default: ``total_steps``. Build it with :meth:`from_cycles`.
    **shape_parameters
        The parameters of shapes added with :func:`register_shape`.
    """

    def __init__(
        self,
        total_steps: int,
        shape: str = SETTINGS["shape"].default,
        baseline: float = SETTINGS["baseline"].default,
        cyclical: bool = SETTINGS["cyclical"].default,
        disable: bool = SETTINGS["disable"].default,
        *,
        delay: int = SETTINGS["delay"].default,
        ratio: float = SETTINGS["ratio"].default,
        steepness: float = LOGISTIC_STEEPNESS,
        period: float | None = SETTINGS["period"].default,
        **shape_parameters: float,
    ) -> None:
        given = {"total_steps": total_steps, "shape": shape, "baseline": baseline, "cyclical": cyclical,
                 "disable": disable, "delay": delay, "ratio": ratio, "period": period, "steepness": steepness,
                 **shape_parameters}
        self._configure(given)
        self.current_step = 0
        self.delay_left = self.delay
        self.cycle = 0

    @classmethod
    def from_cycles(cls, n_iter: int, n_cycle: int = 4, ratio: float = 0.5, shape: str = "linear", *,
                    baseline: float = 0.0, **shape_parameters: float) -> Annealer:
        """Fu et al. 2019's cyclical schedule over ``n_iter`` steps, ``frange_cycle_<shape>(n_iter,
        n_cycle=n_cycle, ratio=ratio)`` with ``start=baseline``, ``stop=1``, step for step.

        Cycles are ``n_iter / n_cycle`` steps long, a fraction when ``n_iter`` is not divisible by
        ``n_cycle`` (cycle ``c`` starts at step ``floor(c * n_iter / n_cycle)``, so the cycles have
        whole lengths that differ by one). For the linear and cosine shapes the weights are Fu et
        al.'s (``tests/test_annealing_cycles.py`` compares them with their formula); their sigmoid
        is not rescaled to reach 0 and 1, vaelib's logistic shape is.
        """
        n_iter = check_int("n_iter", n_iter, 1)
        n_cycle = check_int("n_cycle", n_cycle, 1)
        if n_cycle > n_iter:
            raise ValueError(f"n_cycle must be at most n_iter={n_iter}, got {n_cycle}")
        period = None if n_iter % n_cycle == 0 else n_iter / n_cycle
        return cls(math.ceil(n_iter / n_cycle), shape, baseline, cyclical=True, ratio=ratio, period=period,
                   **shape_parameters)

    def _configure(self, given: Mapping[str, Any]) -> None:
        """Check and set every setting of ``given`` (the shapes' parameters default when absent)."""
        parameters = shape_parameters()
        unknown = sorted(set(given) - set(SETTINGS) - set(parameters))
        if unknown:
            raise TypeError(f"Annealer got unknown settings {unknown}; shape parameters are {sorted(parameters)}")
        for name, setting in SETTINGS.items():
            setattr(self, name, setting.check(name, given[name]))
        for name, parameter in parameters.items():
            setattr(self, name, parameter.check(given.get(name, parameter.default)))
        shape = SHAPES[self.shape]
        self._ramp = functools.partial(shape.function, **{p.name: getattr(self, p.name) for p in shape.parameters})

    # -- the schedule ------------------------------------------------------------------------
    @property
    def settings(self) -> dict[str, Any]:
        """Every setting (the Annealer's and every shape parameter), as keyword arguments."""
        return {name: getattr(self, name) for name in (*SETTINGS, *shape_parameters())}

    @property
    def weight(self) -> float:
        """The current factor in ``[baseline, 1]``."""
        length = self.total_steps if self.period is None else self.period
        p = min(1.0, self.current_step / (self.ratio * length))
        return self.baseline + (1.0 - self.baseline) * self._ramp(p)

    def _cycle_length(self) -> int:
        """Steps of the current cycle: ``total_steps``, or the whole steps of a fractional period."""
        if self.period is None:
            return self.total_steps
        return _cycle_start(self.cycle + 1, self.period) - _cycle_start(self.cycle, self.period)

    def __call__(self, kld: T) -> T:
        """Return ``kld * weight`` (or ``kld`` itself when disabled). Works on any multipliable."""
        if self.disable:
            return kld
        return kld * self.weight

    def step(self) -> None:
        """Advance one step: the delay first, then the in-cycle step (restarting when cyclical)."""
        if self.delay_left > 0:
            self.delay_left -= 1
            return
        length = self._cycle_length()
        if self.current_step < length:
            self.current_step += 1
        if self.cyclical and self.current_step >= length:
            self.current_step = 0
            self.cycle += 1

    def set_cyclical(self, value: bool) -> None:
        """Switch cyclical restarts on or off mid-training (the seed's epoch-30/70 example)."""
        self.cyclical = check_bool("value", value)

    cyclical_setter = set_cyclical

    def schedule(self, n: int) -> list[float]:
        """The next ``n`` weights (the current one first), without changing this annealer."""
        n = check_int("n", n, 0)
        probe = copy.copy(self)
        out = []
        for _ in range(n):
            out.append(probe.weight)
            probe.step()
        return out

    # -- torch-scheduler-style state -----------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """All settings and counters, as plain Python values (safe for ``weights_only`` loads)."""
        return {**self.settings, **{name: getattr(self, name) for name in _COUNTERS}}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned; settings are re-validated.

        Shape parameters missing from ``state_dict`` (a shape registered after it was saved)
        take their defaults.
        """
        optional = {name for name, setting in SETTINGS.items() if setting.optional} | set(_OPTIONAL_COUNTERS)
        required = (set(SETTINGS) | set(_COUNTERS)) - optional
        missing = required - set(state_dict)
        unknown = set(state_dict) - required - optional - set(shape_parameters())
        if missing or unknown:
            raise ValueError(
                f"state_dict is not an Annealer state: missing keys {sorted(missing)}, "
                f"unknown keys {sorted(unknown)}"
            )
        fresh = copy.copy(self)
        settings = {name: setting.default for name, setting in SETTINGS.items() if setting.optional}
        settings.update({key: value for key, value in state_dict.items() if key not in _COUNTERS})
        fresh._configure(settings)
        fresh.current_step = check_int("current_step", state_dict["current_step"], 0)
        fresh.delay_left = check_int("delay_left", state_dict["delay_left"], 0)
        fresh.cycle = check_int("cycle", state_dict.get("cycle", _OPTIONAL_COUNTERS["cycle"]), 0)
        self.__dict__.update(fresh.__dict__)

    def __repr__(self) -> str:
        used = {parameter.name for parameter in SHAPES[self.shape].parameters}
        extras = "".join(
            f", {name}={getattr(self, name)!r}"
            for name, default in (("delay", SETTINGS["delay"].default), ("ratio", SETTINGS["ratio"].default),
                                  ("period", SETTINGS["period"].default),
                                  *((p.name, p.default) for p in shape_parameters().values()))
            if getattr(self, name) != default and (name in SETTINGS or name in used)
        )
        return (
            f"Annealer(total_steps={self.total_steps}, shape={self.shape!r}, "
            f"baseline={self.baseline!r}, cyclical={self.cyclical}, disable={self.disable}"
            f"{extras}; current_step={self.current_step}, weight={self.weight:.4g})"
        )
