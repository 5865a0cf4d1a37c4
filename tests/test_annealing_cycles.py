"""Annealer.from_cycles against Fu et al. 2019's frange_cycle_* formula, re-derived here from its
published definition: n_iter steps in n_cycle cycles of n_iter / n_cycle steps (a fraction when the
division is not exact; cycle c starts at int(c * period)), each a ramp from `start` in increments of
(stop - start) / (period * ratio) while the value stays <= stop, the rest of the cycle at stop."""
from __future__ import annotations

import math

import pytest
import torch

from vaelib import Annealer


def frange_cycle(n_iter: int, n_cycle: int, ratio: float, shape: str, start: float = 0.0, stop: float = 1.0) -> list[float]:
    weights = [stop] * n_iter
    period = n_iter / n_cycle
    increment = (stop - start) / (period * ratio)
    for c in range(n_cycle):
        v, i = start, 0
        while v <= stop and int(i + c * period) < n_iter:
            weights[int(i + c * period)] = v if shape == "linear" else 0.5 - 0.5 * math.cos(v * math.pi)
            v += increment
            i += 1
    return weights


CASES = [(10, 4, 0.5), (10, 3, 0.5), (40, 4, 0.25), (1000, 3, 0.5), (997, 7, 0.7), (12, 4, 1.0), (30, 4, 0.5)]


@pytest.mark.parametrize("shape", ["linear", "cosine"])
@pytest.mark.parametrize("n_iter,n_cycle,ratio", CASES)
def test_from_cycles_is_fu_et_al_step_for_step(n_iter, n_cycle, ratio, shape):
    expected = frange_cycle(n_iter, n_cycle, ratio, shape)
    got = Annealer.from_cycles(n_iter, n_cycle, ratio, shape).schedule(n_iter)
    # Fu et al. accumulate the increments (v += step), vaelib multiplies: equal to round-off
    assert got == pytest.approx(expected, abs=1e-9)


def test_fractional_cycles_have_whole_lengths_that_differ_by_one():
    annealer = Annealer.from_cycles(10, 4, 0.5)
    assert annealer.period == 2.5
    trace = annealer.schedule(10)
    starts = [t for t, w in enumerate(trace) if w == 0.0]
    assert starts == [0, 2, 5, 7]  # int(c * 2.5)
    assert Annealer.from_cycles(12, 4, 0.5).period is None  # divisible: an ordinary cyclical Annealer
    assert Annealer.from_cycles(12, 4, 0.5).schedule(12) == Annealer(3, cyclical=True, ratio=0.5).schedule(12)


def test_a_fractional_schedule_round_trips_its_state(tmp_path):
    annealer = Annealer.from_cycles(997, 7, 0.6, "cosine")
    for _ in range(300):
        annealer.step()
    torch.save(annealer.state_dict(), tmp_path / "state.pt")
    restored = Annealer(1)
    restored.load_state_dict(torch.load(tmp_path / "state.pt", weights_only=True))
    assert restored.schedule(400) == annealer.schedule(400) and restored.cycle == annealer.cycle == 2


def test_a_state_saved_before_periods_existed_still_loads():
    old = {"total_steps": 5, "shape": "linear", "baseline": 0.0, "cyclical": True, "disable": False, "delay": 0,
           "ratio": 1.0, "steepness": 12.0, "current_step": 2, "delay_left": 0}
    annealer = Annealer(1)
    annealer.load_state_dict(old)
    assert annealer.period is None and annealer.cycle == 0 and annealer.schedule(4) == [0.4, 0.6, 0.8, 0.0]


@pytest.mark.parametrize(
    "kwargs,error,pattern",
    [
        ({"n_iter": 3, "n_cycle": 4}, ValueError, "n_cycle must be at most n_iter=3, got 4"),
        ({"n_iter": 10.5, "n_cycle": 4}, TypeError, "n_iter must be an int, got 10.5"),
        ({"n_iter": 10, "n_cycle": 0}, ValueError, "n_cycle must be >= 1, got 0"),
    ],
)
def test_bad_cycles(kwargs, error, pattern):
    with pytest.raises(error, match=pattern):
        Annealer.from_cycles(**kwargs)
    with pytest.raises(ValueError, match="period must be None or a number of steps >= 1, got 0.5"):
        Annealer(3, period=0.5)


def test_the_seeds_logistic_is_steepness_total_steps():
    """The seed's logistic weight 1 / (1 + exp(T/2 - s)) has slope T in normalised steps p = s/T;
    vaelib's default slope is Fu et al.'s 12, and steepness=T follows the seed's curve."""
    total = 100
    seed = [1 / (1 + math.exp(total / 2 - s)) for s in range(total + 1)]
    assert seed[46] == pytest.approx(0.018, abs=5e-4)
    assert Annealer(total, "logistic").schedule(47)[46] == pytest.approx(0.382, abs=5e-4)
    ours = Annealer(total, "logistic", steepness=float(total)).schedule(total + 1)
    assert ours == pytest.approx(seed, abs=1e-10)  # rescaling to reach 0 and 1 moves it by < 1e-21
