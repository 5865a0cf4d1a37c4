"""ScheduleExplorer driven as a user would: set widget values in code, check the same figure redraws."""
from __future__ import annotations

import math

import numpy as np
import pytest

pytest.importorskip("ipywidgets")

from vaelib import Annealer  # noqa: E402
from vaelib.widgets import ScheduleExplorer  # noqa: E402


def cosine_ramp(k: int, total: int = 10) -> float:
    return (1 - math.cos(math.pi * k / total)) / 2


def test_initial_drawing_is_the_seed_30_70_example():
    explorer = ScheduleExplorer(10, "cosine", cyclical=True, n=100, toggles=[(30, False), (70, True)])
    expected = [cosine_ramp(e % 10) for e in range(40)] + [1.0] * 32 + [cosine_ramp((e - 72) % 10) for e in range(72, 100)]
    assert np.allclose(explorer.line.get_ydata(), expected)
    assert explorer.status.value == ""


def test_setting_controls_redraws_the_same_figure_with_the_new_schedule():
    explorer = ScheduleExplorer(20, "linear", cyclical=False, n=60)
    figure, line, image = explorer.figure, explorer.line, explorer.view.image
    png_before = bytes(image.value)
    explorer.controls["shape"].value = "logistic"
    explorer.controls["total_steps"].value = 30
    explorer.controls["baseline"].value = 0.2
    assert explorer.figure is figure and explorer.line is line and explorer.view.image is image
    assert np.allclose(line.get_ydata(), Annealer(30, "logistic", baseline=0.2).schedule(60))
    assert bytes(image.value) != png_before
    explorer.controls["cyclical"].value = True
    explorer.controls["ratio"].value = 0.5
    explorer.controls["delay"].value = 5
    assert np.allclose(line.get_ydata(), Annealer(30, "logistic", 0.2, True, delay=5, ratio=0.5).schedule(60))


def test_changing_the_number_of_steps_and_toggles():
    explorer = ScheduleExplorer(10, "cosine", cyclical=True, n=50)
    explorer.controls["n"].value = 80
    assert len(explorer.line.get_ydata()) == 80 and explorer.line.axes.get_xlim()[1] == pytest.approx(79.5)
    explorer.controls["toggles"].value = "15:off"
    weights = explorer.line.get_ydata()
    assert weights[25] == 1.0 and weights[79] == 1.0  # the cycle in progress at 15 finishes, then holds at 1
    assert len(explorer.toggle_lines[False].get_segments()) == 1


def test_bad_toggle_text_is_reported_and_keeps_the_last_drawing():
    explorer = ScheduleExplorer(10, "linear", cyclical=True, n=40)
    before = np.array(explorer.line.get_ydata())
    explorer.controls["toggles"].value = "banana"
    assert "not drawn" in explorer.status.value
    assert np.array_equal(explorer.line.get_ydata(), before)


@pytest.mark.parametrize(
    "kwargs,error,pattern",
    [
        ({"total_steps": 0}, ValueError, "total_steps must be >= 1, got 0"),
        ({"shape": "square"}, ValueError, "shape must be one of.*'square'"),
        ({"n": 2000, "max_steps": 1000}, ValueError, "n must be at most max_steps=1000, got 2000"),
        ({"continuous_update": "yes"}, TypeError, "continuous_update must be True or False, got 'yes'"),
    ],
)
def test_invalid_arguments(kwargs, error, pattern):
    with pytest.raises(error, match=pattern):
        ScheduleExplorer(**kwargs)
