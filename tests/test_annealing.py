"""Annealer: values derived independently of the implementation (closed forms, the published
reference algorithms re-derived here, hand-traced examples from the seeds)."""
from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from vaelib import Annealer


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def rescaled_logistic(p: float, k: float = 12.0) -> float:
    """Sigmoid centred at 0.5 with slope k, mapped affinely so that 0 -> 0 and 1 -> 1."""
    lo, hi = sigmoid(-k / 2), sigmoid(k / 2)
    return (sigmoid(k * (p - 0.5)) - lo) / (hi - lo)


def weights(annealer: Annealer, n: int) -> list[float]:
    out = []
    for _ in range(n):
        out.append(annealer.weight)
        annealer.step()
    return out


@pytest.mark.parametrize("total", [1, 4, 10, 37])
def test_linear_values(total):
    got = weights(Annealer(total, "linear"), total + 5)
    assert got == pytest.approx([min(1.0, k / total) for k in range(total + 5)], abs=1e-15)
    assert got[0] == 0.0 and got[total] == 1.0


def test_cosine_values():
    got = weights(Annealer(8, "cosine"), 12)
    expected = [(1 - math.cos(math.pi * min(k, 8) / 8)) / 2 for k in range(12)]
    assert got == pytest.approx(expected, abs=1e-15)
    assert got[0] == 0.0 and got[4] == pytest.approx(0.5) and got[8] == 1.0


def test_logistic_values_and_exact_endpoints():
    got = weights(Annealer(20, "logistic"), 25)
    expected = [rescaled_logistic(min(k, 20) / 20) for k in range(25)]
    assert got == pytest.approx(expected, abs=1e-12)
    assert got[0] == 0.0 and got[10] == pytest.approx(0.5) and got[20] == 1.0 and got[24] == 1.0
    steeper = Annealer(20, "logistic", steepness=30.0).schedule(21)
    assert steeper[5] < got[5] and steeper[15] > got[15]


def test_logistic_stable_for_huge_total_steps():
    # the seed's exp(total_steps/2 - step) overflows past ~1420 steps
    annealer = Annealer(10_000_000, "logistic")
    assert annealer.weight == 0.0
    annealer.current_step = 5_000_000
    assert annealer.weight == pytest.approx(0.5)
    annealer.current_step = 10_000_000
    assert annealer.weight == 1.0


@pytest.mark.parametrize("shape", ["linear", "cosine", "logistic"])
def test_baseline_shifts_the_ramp(shape):
    plain = Annealer(10, shape).schedule(12)
    based = Annealer(10, shape, baseline=0.25).schedule(12)
    assert based == pytest.approx([0.25 + 0.75 * w for w in plain])
    assert based[0] == 0.25 and based[10] == 1.0


def frange_cycle_linear(n_iter: int, n_cycle: int, ratio: float) -> list[float]:
    """Fu et al. 2019's cyclical linear schedule, from its published description: each of the
    n_cycle periods ramps from 0 in increments of 1 / (period * ratio) while the value stays <= 1,
    and the rest of the period holds at 1."""
    values = [1.0] * n_iter
    period = n_iter / n_cycle
    increment = 1.0 / (period * ratio)
    for c in range(n_cycle):
        v, i = 0.0, 0
        while v <= 1.0 and int(i + c * period) < n_iter:
            values[int(i + c * period)] = v
            v += increment
            i += 1
    return values


@pytest.mark.parametrize("n_cycle,period,ratio", [(4, 100, 0.5), (4, 25, 0.5), (3, 40, 0.25), (5, 10, 1.0)])
def test_cyclical_matches_fu_et_al(n_cycle, period, ratio):
    got = Annealer(period, "linear", cyclical=True, ratio=ratio).schedule(n_cycle * period)
    assert got == pytest.approx(frange_cycle_linear(n_cycle * period, n_cycle, ratio), abs=1e-9)


def test_klstart_warmup_of_seed_002():
    """Seed 002: weight starts at 0; after each epoch > klstart it grows by 1/annealtime, capped at 1."""
    klstart, annealtime, epochs = 40, 20, 100
    keras_weight, expected = 0.0, []
    for epoch in range(epochs):
        expected.append(keras_weight)          # used during this epoch
        if epoch > klstart:                    # the callback at the end of the epoch
            keras_weight = min(keras_weight + 1.0 / annealtime, 1.0)
    got = weights(Annealer(annealtime, "linear", delay=klstart + 1), epochs)
    assert got == pytest.approx(expected, abs=1e-12)
    assert got[klstart + 1] == 0.0 and got[klstart + 2] == pytest.approx(0.05) and got[-1] == 1.0


def test_seed_toggle_example_disable_at_30_enable_at_70():
    """The seed README's loop: cyclical cosine, set_cyclical(False) after epoch 30, True after 70."""
    total = 10
    annealer = Annealer(total, shape="cosine", cyclical=True)
    trace = []
    for epoch in range(100):
        trace.append(annealer(1.0))
        annealer.step()
        if epoch == 30:
            annealer.set_cyclical(False)
        if epoch == 70:
            annealer.cyclical_setter(True)

    def cos_ramp(k: int) -> float:
        return (1 - math.cos(math.pi * k / total)) / 2

    # hand trace: cycles until epoch 39 (the cycle in progress at 30 completes), then the counter
    # saturates at total_steps (weight 1) until re-enabled at 70; the step after epoch 71 restarts.
    expected = [cos_ramp(e % total) for e in range(40)] + [1.0] * 32 + [cos_ramp((e - 72) % total) for e in range(72, 100)]
    assert trace == pytest.approx(expected, abs=1e-12)


def test_disable_returns_argument_unchanged():
    annealer = Annealer(10, disable=True)
    t = torch.tensor(3.0, requires_grad=True)
    assert annealer(t) is t
    assert annealer.weight == 0.0  # the schedule itself is still reported


def test_call_multiplies_tensors_and_keeps_grad():
    annealer = Annealer(4, "linear")
    annealer.step()
    kld = torch.tensor(2.0, requires_grad=True)
    out = annealer(kld)
    out.backward()
    assert out.item() == pytest.approx(0.5) and kld.grad.item() == pytest.approx(0.25)


def test_schedule_does_not_mutate():
    annealer = Annealer(5, "cosine", cyclical=True, delay=2)
    for _ in range(3):
        annealer.step()
    before = annealer.state_dict()
    upcoming = annealer.schedule(12)
    assert annealer.state_dict() == before
    assert upcoming == weights(annealer, 12)


def test_state_dict_round_trip_through_torch_save(tmp_path):
    annealer = Annealer(7, "logistic", baseline=0.1, cyclical=True, delay=3, ratio=0.5, steepness=8.0)
    for _ in range(11):
        annealer.step()
    torch.save(annealer.state_dict(), tmp_path / "annealer.pt")
    restored = Annealer(1)
    restored.load_state_dict(torch.load(tmp_path / "annealer.pt", weights_only=True))
    assert restored.state_dict() == annealer.state_dict()
    assert weights(restored, 30) == weights(annealer, 30)


def test_load_state_dict_rejects_foreign_state():
    with pytest.raises(ValueError, match="missing keys.*current_step"):
        Annealer(3).load_state_dict({"total_steps": 3})
    state = Annealer(3).state_dict() | {"shape": "square"}
    with pytest.raises(ValueError, match="shape.*'square'"):
        Annealer(3).load_state_dict(state)


@pytest.mark.parametrize(
    "kwargs,error,pattern",
    [
        ({"total_steps": 0}, ValueError, "total_steps must be >= 1, got 0"),
        ({"total_steps": -5}, ValueError, "total_steps.*-5"),
        ({"total_steps": 10.0}, TypeError, "total_steps must be an int, got 10.0"),
        ({"total_steps": True}, TypeError, "total_steps.*True"),
        ({"total_steps": "10"}, TypeError, "total_steps.*'10'"),
        ({"shape": "sigmoid"}, ValueError, "shape must be one of.*'sigmoid'"),
        ({"baseline": 1.5}, ValueError, r"baseline must be in \[0, 1\], got 1.5"),
        ({"baseline": -0.1}, ValueError, "baseline.*-0.1"),
        ({"baseline": float("nan")}, ValueError, "baseline must be finite"),
        ({"cyclical": 1}, TypeError, "cyclical must be True or False, got 1"),
        ({"disable": "yes"}, TypeError, "disable.*'yes'"),
        ({"delay": -1}, ValueError, "delay must be >= 0, got -1"),
        ({"delay": 2.5}, TypeError, "delay.*2.5"),
        ({"ratio": 0}, ValueError, r"ratio must be in \(0, 1\], got 0"),
        ({"ratio": 1.2}, ValueError, "ratio.*1.2"),
        ({"steepness": 0.0}, ValueError, "steepness must be > 0, got 0.0"),
    ],
)
def test_invalid_arguments(kwargs, error, pattern):
    args = {"total_steps": 10} | kwargs
    with pytest.raises(error, match=pattern):
        Annealer(**args)


def test_invalid_set_cyclical_and_schedule():
    annealer = Annealer(10)
    with pytest.raises(TypeError, match="value must be True or False, got 'no'"):
        annealer.set_cyclical("no")
    with pytest.raises(ValueError, match="n must be >= 0, got -3"):
        annealer.schedule(-3)


configs = st.fixed_dictionaries(
    {
        "total_steps": st.integers(1, 60),
        "shape": st.sampled_from(["linear", "cosine", "logistic"]),
        "baseline": st.floats(0.0, 1.0),
        "delay": st.integers(0, 20),
        "ratio": st.floats(0.05, 1.0),
        "steepness": st.floats(0.5, 40.0),
    }
)


@settings(max_examples=60, deadline=None)
@given(configs)
def test_weight_within_baseline_and_one_and_monotone(cfg):
    trace = Annealer(**cfg).schedule(cfg["delay"] + 3 * cfg["total_steps"])
    assert all(cfg["baseline"] - 1e-12 <= w <= 1.0 + 1e-12 for w in trace)
    assert all(b >= a - 1e-12 for a, b in zip(trace, trace[1:]))
    assert trace[-1] == pytest.approx(1.0)


@settings(max_examples=60, deadline=None)
@given(configs)
def test_cyclical_is_periodic_after_the_delay(cfg):
    total, delay = cfg["total_steps"], cfg["delay"]
    trace = Annealer(**cfg, cyclical=True).schedule(delay + 4 * total)
    assert trace[: delay + 1] == [cfg["baseline"]] * (delay + 1)
    cycles = trace[delay:]
    assert cycles[:total] == cycles[total : 2 * total] == cycles[3 * total :]
