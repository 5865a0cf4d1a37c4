"""The callback protocol of :func:`vaelib.fit`: five hooks, documented here once.

A callback is any object with some of these methods; each receives the :class:`TrainState`:

==================  ======================================  ===========================================
hook                when                                    use
==================  ======================================  ===========================================
``on_train_begin``  once, before the first step              set up (open a log file, read the model)
``on_step_end``     after every optimisation step            per-step work: step an LR scheduler, count
``on_log``          at every history row (``log_every``)     return a dict of metrics: they join the row
``on_epoch_end``    after the last batch of every epoch      per-epoch work (data with epochs only)
``on_train_end``    once, after the last step                close files, final measurements
==================  ======================================  ===========================================

Set ``state.stop = True`` in any hook to end training after the current step (a last history row
is written). :class:`Callback` is a base class with every hook doing nothing, for users who like
to subclass; duck-typed objects work the same. Hooks run in the order the callbacks were given.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from torch import Tensor, nn

if TYPE_CHECKING:  # only for annotations: no import cycle with training and losses
    import torch

    from vaelib.annealing import Annealer
    from vaelib.losses import VAELoss

__all__ = ["HOOKS", "Callback", "LearningRateSchedule", "TrainState", "call_hook"]

HOOKS: tuple[str, ...] = ("on_train_begin", "on_step_end", "on_log", "on_epoch_end", "on_train_end")
"""The hooks :func:`vaelib.fit` calls, in the order of the table above."""


@dataclass
class TrainState:
    """What callbacks see.

    Attributes
    ----------
    model, objective, optimizer, annealer
        The objects being trained (``annealer`` may be None).
    step : int
        Optimisation steps taken so far (in all, a resumed run included).
    epoch : float
        ``step`` / batches per epoch (NaN for data without epochs, such as a sampler).
    rows : list of dict
        The history so far, one dict per row.
    eval_data : Tensor or None
        The held-out inputs of ``fit``.
    loss : float
        The objective's value at the last step (the minimised, weighted loss).
    stop : bool
        Set to True to end training after the current step.
    """

    model: nn.Module
    objective: VAELoss
    optimizer: torch.optim.Optimizer
    annealer: Annealer | None
    step: int = 0
    epoch: float = 0.0
    rows: list[dict[str, float]] = field(default_factory=list)
    eval_data: Tensor | None = None
    loss: float = float("nan")
    stop: bool = False


class Callback:
    """Base class of :func:`vaelib.fit` callbacks: every hook of :data:`HOOKS`, doing nothing."""

    def on_train_begin(self, state: TrainState) -> None:
        """Called once before the first step."""

    def on_step_end(self, state: TrainState) -> None:
        """Called after every optimisation step (``state.step`` already counts it)."""

    def on_log(self, state: TrainState) -> dict[str, float] | None:
        """Called at every history row; the returned metrics are added to the row."""
        return None

    def on_epoch_end(self, state: TrainState) -> None:
        """Called after the last batch of every epoch."""

    def on_train_end(self, state: TrainState) -> None:
        """Called once after the last step."""


class LearningRateSchedule(Callback):
    """Set the learning rate of every parameter group to ``function(step)`` before each step.

    ``function`` maps the number of optimisation steps taken so far (0 before the first) to a
    learning rate. The schedule is a pure function of the step, so a run resumed from a
    :func:`vaelib.fit` checkpoint follows it exactly (nothing else needs saving). For torch's
    stateful schedulers, step them yourself in ``on_step_end``.

    Examples
    --------
    >>> restarts = LearningRateSchedule.cosine_restarts(1e-3, period=600)   # Fu et al.'s cyclical runs
    >>> restarts.function(0), restarts.function(300), restarts.function(600)
    (0.001, 0.0005, 0.001)
    """

    def __init__(self, function: Callable[[int], float]) -> None:
        if not callable(function):
            raise TypeError(f"function must be callable (step -> learning rate), got {function!r}")
        self.function = function

    @classmethod
    def cosine_restarts(cls, lr: float, period: int) -> LearningRateSchedule:
        """``lr * (1 + cos(pi * (step mod period) / period)) / 2``: a cosine from ``lr`` towards 0,
        restarted every ``period`` steps (SGDR, Loshchilov & Hutter 2017; what Fu et al. 2019's
        cyclical-annealing scripts do once per KL cycle)."""
        if not isinstance(period, int) or isinstance(period, bool) or period < 1:
            raise ValueError(f"period must be a positive int, got {period!r}")
        return cls(lambda step: lr * 0.5 * (1.0 + math.cos(math.pi * (step % period) / period)))

    def _apply(self, state: TrainState) -> None:
        lr = float(self.function(state.step))
        for group in state.optimizer.param_groups:
            group["lr"] = lr

    def on_train_begin(self, state: TrainState) -> None:
        self._apply(state)

    def on_step_end(self, state: TrainState) -> None:
        self._apply(state)


def call_hook(callbacks: Sequence[Any], hook: str, state: TrainState) -> dict[str, float]:
    """Call ``hook(state)`` on every callback that defines it; merge the metric dicts they return."""
    metrics: dict[str, float] = {}
    for callback in callbacks:
        method = getattr(callback, hook, None)
        if method is not None:
            out = method(state)
            if out:
                metrics.update(out)
    return metrics
