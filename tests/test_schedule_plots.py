"""Schedule plots: the drawn lines are the KL weights, checked against hand-computed closed forms
(the seed's epoch-30/70 example included) and against Annealer.schedule."""
from __future__ import annotations

import math
import os

os.environ.setdefault("MPLBACKEND", "Agg")

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.figure import Figure

from vaelib.annealing import Annealer
from vaelib.plotting import describe_schedule, plot_schedule, plot_schedules, schedule_trace


def cosine_ramp(s: int, period: int) -> float:
    return 0.5 - 0.5 * math.cos(math.pi * s / period)


def seed_toggle_example() -> list[float]:
    """The seed's figure by hand: cosine, T=10, cyclical off at epoch 30, on again at epoch 70."""
    return [cosine_ramp(e % 10, 10) if e < 40 else 1.0 if e < 72 else cosine_ramp((e - 72) % 10, 10)
            for e in range(100)]


def test_seed_30_70_example_by_hand():
    weights = schedule_trace(Annealer(10, "cosine", cyclical=True), 100, [(30, False), (70, True)])
    np.testing.assert_allclose(weights, seed_toggle_example(), rtol=0, atol=1e-12)
    assert weights[39] < 1.0 and weights[40] == 1.0 and weights[71] == 1.0 and weights[72] == 0.0


def test_trace_equals_the_seed_loop_written_out():
    agent = Annealer(10, "cosine", cyclical=True)
    used = []
    for epoch in range(100):
        used.append(agent.weight)
        agent.step()
        if epoch == 30:
            agent.set_cyclical(False)
        if epoch == 70:
            agent.set_cyclical(True)
    np.testing.assert_array_equal(schedule_trace({"total_steps": 10, "shape": "cosine", "cyclical": True}, 100,
                                                 [(70, True), (30, False)]), used)


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"total_steps": 4, "baseline": 0.2}, [0.2, 0.4, 0.6, 0.8, 1.0, 1.0]),
        ({"total_steps": 2, "delay": 3}, [0.0, 0.0, 0.0, 0.0, 0.5, 1.0, 1.0]),
        ({"total_steps": 8, "cyclical": True, "ratio": 0.5}, [0, 0.25, 0.5, 0.75, 1, 1, 1, 1, 0, 0.25]),
        ({"total_steps": 4, "shape": "cosine"}, [0.0, (2 - math.sqrt(2)) / 4, 0.5, (2 + math.sqrt(2)) / 4, 1.0]),
    ],
)
def test_trace_closed_forms(kwargs, expected):
    np.testing.assert_allclose(schedule_trace(kwargs, len(expected)), expected, rtol=0, atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(
    total_steps=st.integers(1, 30), shape=st.sampled_from(["linear", "cosine", "logistic"]),
    baseline=st.floats(0, 1), cyclical=st.booleans(), ratio=st.floats(0.05, 1), delay=st.integers(0, 10),
    advanced=st.integers(0, 40), n=st.integers(1, 80),
)
def test_trace_without_toggles_is_the_schedule_from_the_current_state(total_steps, shape, baseline, cyclical,
                                                                      ratio, delay, advanced, n):
    annealer = Annealer(total_steps, shape, baseline, cyclical, delay=delay, ratio=ratio)
    for _ in range(advanced):
        annealer.step()
    before = annealer.state_dict()
    np.testing.assert_array_equal(schedule_trace(annealer, n), annealer.schedule(n))
    assert annealer.state_dict() == before


def test_plot_schedule_draws_the_30_70_trace_with_its_toggles():
    figure = plot_schedule(Annealer(10, "cosine", cyclical=True), 100, toggles=[(30, False), (70, True)])
    assert isinstance(figure, Figure) and len(figure.axes) == 1
    ax = figure.axes[0]
    (line,) = ax.lines
    np.testing.assert_array_equal(line.get_xdata(), np.arange(100))
    np.testing.assert_allclose(line.get_ydata(), seed_toggle_example(), rtol=0, atol=1e-12)
    assert line.get_label() == "cosine, T=10, cyclical"
    on, off = ax.collections
    assert [segment[0, 0] for segment in on.get_segments()] == [70]
    assert [segment[0, 0] for segment in off.get_segments()] == [30]
    labels = [text.get_text() for text in ax.get_legend().get_texts()]
    assert labels[0] == "cosine, T=10, cyclical" and "switched on" in labels[1] and "switched off" in labels[2]
    assert "step" in ax.get_xlabel() and "weight" in ax.get_ylabel() and ax.get_title()


def test_plot_schedules_puts_the_three_shapes_on_one_axes():
    shapes = {name: {"total_steps": 4, "shape": name} for name in ("linear", "cosine", "logistic")}
    figure = plot_schedules(shapes, 6, title="three shapes")
    ax = figure.axes[0]
    assert [line.get_label() for line in ax.lines] == ["linear", "cosine", "logistic"]
    sigmoid = [1 / (1 + math.exp(-12 * (p - 0.5))) for p in (0, 0.25, 0.5, 0.75, 1)]
    logistic = [(s - sigmoid[0]) / (sigmoid[-1] - sigmoid[0]) for s in sigmoid]
    expected = {
        "linear": [0, 0.25, 0.5, 0.75, 1, 1],
        "cosine": [cosine_ramp(s, 4) for s in range(5)] + [1],
        "logistic": logistic + [1],
    }
    for line in ax.lines:
        np.testing.assert_allclose(line.get_ydata(), expected[line.get_label()], rtol=0, atol=1e-12)
    assert ax.get_title() == "three shapes" and not ax.collections
    assert [text.get_text() for text in ax.get_legend().get_texts()] == ["linear", "cosine", "logistic"]


def test_plot_schedule_draws_into_a_given_axes_with_a_given_label():
    figure = Figure()
    ax = figure.add_subplot()
    assert plot_schedule(Annealer(5), 8, label="mine", ax=ax) is figure
    assert ax.lines[0].get_label() == "mine"


def test_describe_schedule_names_the_non_default_settings():
    assert describe_schedule(Annealer(10)) == "linear, T=10"
    assert (describe_schedule({"total_steps": 20, "shape": "logistic", "cyclical": True, "ratio": 0.5,
                               "baseline": 0.1, "delay": 5})
            == "logistic, T=20, cyclical, R=0.5, baseline 0.1, delay 5")


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: schedule_trace(Annealer(5), 0), ValueError, "n must be"),
        (lambda: schedule_trace(Annealer(5), 2.5), TypeError, "n must be"),
        (lambda: schedule_trace("linear", 5), TypeError, "annealer must be an Annealer or a mapping.*got str"),
        (lambda: schedule_trace({"shape": "cosine"}, 5), ValueError, "annealer must hold 'total_steps'"),
        (lambda: schedule_trace({"total_steps": 5, "shape": "cubic"}, 5), ValueError, "shape must be one of"),
        (lambda: schedule_trace(Annealer(5), 5, "30:off"), TypeError, "toggles must be a sequence.*got '30:off'"),
        (lambda: schedule_trace(Annealer(5), 5, [(1, "off")]), TypeError, r"toggles must hold.*got \(1, 'off'\)"),
        (lambda: schedule_trace(Annealer(5), 5, [(1.0, False)]), TypeError, r"got \(1.0, False\)"),
        (lambda: schedule_trace(Annealer(5), 5, [(5, True)]), ValueError, r"\[0, 5\), got \(5, True\)"),
        (lambda: schedule_trace(Annealer(5), 5, [(-1, True)]), ValueError, r"got \(-1, True\)"),
        (lambda: plot_schedules({}, 5), ValueError, "schedules must be a non-empty mapping"),
        (lambda: plot_schedules([Annealer(5)], 5), ValueError, "schedules must be a non-empty mapping"),
        (lambda: plot_schedule(Annealer(5), 5, label=3), TypeError, "label must be a str or None, got 3"),
        (lambda: plot_schedule(Annealer(5), 5, ax="axes"), TypeError, "ax must be a matplotlib Axes"),
    ],
)
def test_bad_arguments_raise_clear_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()
