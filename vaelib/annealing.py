"""KL annealing schedules: the :class:`Annealer` of the seed repository, made exact and extended.

The weight at an in-cycle step ``s`` is::

    p      = min(1, s / (ratio * total_steps))
    weight = baseline + (1 - baseline) * shape(p)

with ``shape(0) == 0`` and ``shape(1) == 1`` exactly for every shape. ``delay`` steps at the
baseline come first, once (the "klstart" warm-up of seed 002). Non-cyclical schedules stay at 1
after ``total_steps`` in-cycle steps; cyclical ones restart every ``total_steps`` steps
(Fu et al. 2019, "Cyclical Annealing Schedule"), holding at 1 for the last ``1 - ratio`` of
each cycle.
"""
from __future__ import annotations

import copy
import math
from typing import Any, TypeVar

from vaelib.validation import check_bool, check_int, check_real

T = TypeVar("T")

SHAPES = ("linear", "cosine", "logistic")


def linear(p: float) -> float:
    """Linear ramp on ``p`` in [0, 1]."""
    return p


def cosine(p: float) -> float:
    """Half-cosine ramp ``(1 - cos(pi p)) / 2``: slow start, slow finish."""
    return 0.5 - 0.5 * math.cos(math.pi * p)


def logistic(p: float, steepness: float = 12.0) -> float:
    """Sigmoid of ``steepness * (p - 0.5)`` rescaled to pass through (0, 0) and (1, 1).

    Written with ``tanh`` of an argument bounded by ``steepness / 4``, so it never overflows,
    whatever the number of steps (the seed's ``1 / (1 + exp(total_steps/2 - step))`` overflows
    past ~1420 steps and never reaches 0 or 1). ``steepness=12`` is the slope used in
    Fu et al. 2019's sigmoid schedule.
    """
    if p <= 0.0:
        return 0.0
    if p >= 1.0:
        return 1.0
    half = math.tanh(steepness / 4.0)
    return 0.5 + 0.5 * math.tanh(steepness * (p - 0.5) / 2.0) / half


_SHAPE_FUNCTIONS = {"linear": linear, "cosine": cosine}


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
    shape : {"linear", "cosine", "logistic"}
        Shape of the ramp.
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
    """

    def __init__(
        self,
        total_steps: int,
        shape: str = "linear",
        baseline: float = 0.0,
        cyclical: bool = False,
        disable: bool = False,
        *,
        delay: int = 0,
        ratio: float = 1.0,
        steepness: float = 12.0,
    ) -> None:
        self.total_steps = check_int("total_steps", total_steps, 1)
        if not isinstance(shape, str) or shape not in SHAPES:
            raise ValueError(f"shape must be one of {SHAPES}, got {shape!r}")
        self.shape = shape
        self.baseline = check_real("baseline", baseline)
        if not 0.0 <= self.baseline <= 1.0:
            raise ValueError(f"baseline must be in [0, 1], got {baseline!r}")
        self.cyclical = check_bool("cyclical", cyclical)
        self.disable = check_bool("disable", disable)
        self.delay = check_int("delay", delay, 0)
        self.ratio = check_real("ratio", ratio)
        if not 0.0 < self.ratio <= 1.0:
            raise ValueError(f"ratio must be in (0, 1], got {ratio!r}")
        self.steepness = check_real("steepness", steepness)
        if self.steepness <= 0.0:
            raise ValueError(f"steepness must be > 0, got {steepness!r}")
        self.current_step = 0
        self.delay_left = self.delay

    # -- the schedule ------------------------------------------------------------------------
    @property
    def weight(self) -> float:
        """The current factor in ``[baseline, 1]``."""
        p = min(1.0, self.current_step / (self.ratio * self.total_steps))
        if self.shape == "logistic":
            y = logistic(p, self.steepness)
        else:
            y = _SHAPE_FUNCTIONS[self.shape](p)
        return self.baseline + (1.0 - self.baseline) * y

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
        if self.current_step < self.total_steps:
            self.current_step += 1
        if self.cyclical and self.current_step >= self.total_steps:
            self.current_step = 0

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
    _STATE_KEYS = (
        "total_steps", "shape", "baseline", "cyclical", "disable",
        "delay", "ratio", "steepness", "current_step", "delay_left",
    )

    def state_dict(self) -> dict[str, Any]:
        """All settings and counters, as plain Python values (safe for ``weights_only`` loads)."""
        return {key: getattr(self, key) for key in self._STATE_KEYS}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned; settings are re-validated."""
        missing = set(self._STATE_KEYS) - set(state_dict)
        unknown = set(state_dict) - set(self._STATE_KEYS)
        if missing or unknown:
            raise ValueError(
                f"state_dict is not an Annealer state: missing keys {sorted(missing)}, "
                f"unknown keys {sorted(unknown)}"
            )
        settings = {key: state_dict[key] for key in self._STATE_KEYS[:8]}
        fresh = Annealer(
            settings.pop("total_steps"), settings.pop("shape"), settings.pop("baseline"),
            settings.pop("cyclical"), settings.pop("disable"), **settings,
        )
        fresh.current_step = check_int("current_step", state_dict["current_step"], 0)
        fresh.delay_left = check_int("delay_left", state_dict["delay_left"], 0)
        self.__dict__.update(fresh.__dict__)

    def __repr__(self) -> str:
        extras = "".join(
            f", {key}={getattr(self, key)!r}"
            for key, default in (("delay", 0), ("ratio", 1.0), ("steepness", 12.0))
            if getattr(self, key) != default
        )
        return (
            f"Annealer(total_steps={self.total_steps}, shape={self.shape!r}, "
            f"baseline={self.baseline!r}, cyclical={self.cyclical}, disable={self.disable}"
            f"{extras}; current_step={self.current_step}, weight={self.weight:.4g})"
        )
