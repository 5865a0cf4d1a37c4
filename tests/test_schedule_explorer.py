"""ScheduleExplorer driven as a user would: set control values in code, then check that the one
figure was redrawn with the new schedule (hand-computed weights) and the PNG changed."""
from __future__ import annotations

import io
import math
import os

os.environ.setdefault("MPLBACKEND", "Agg")

import ipywidgets as widgets
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from vaelib.widgets import ScheduleExplorer, format_toggles, parse_toggles


def png_shape(value: memoryview | bytes) -> tuple[int, ...]:
    data = bytes(value)
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB")).shape


def event_steps(explorer: ScheduleExplorer, on: bool) -> list[float]:
    return [segment[0, 0] for segment in explorer.toggle_lines[on].get_segments()]


def test_changing_the_controls_redraws_the_same_figure_with_the_new_schedule():
    explorer = ScheduleExplorer(10, "cosine", cyclical=True, n=100, toggles=[(30, False), (70, True)])
    figure, image, line = explorer.figure, explorer.view.image, explorer.line
    first_png = bytes(image.value)
    expected = [0.5 - 0.5 * math.cos(math.pi * (e % 10) / 10) if e < 40 else 1.0 if e < 72
                else 0.5 - 0.5 * math.cos(math.pi * ((e - 72) % 10) / 10) for e in range(100)]
    np.testing.assert_allclose(line.get_ydata(), expected, rtol=0, atol=1e-12)
    assert event_steps(explorer, False) == [30] and event_steps(explorer, True) == [70]

    controls = explorer.controls
    controls["toggles"].value = ""
    controls["shape"].value = "linear"
    controls["cyclical"].value = False
    controls["total_steps"].value = 4
    controls["baseline"].value = 0.2
    controls["delay"].value = 2
    controls["n"].value = 9
    assert explorer.figure is figure and explorer.view.image is image and explorer.line is line
    assert explorer.widget.children[-1] is image
    np.testing.assert_array_equal(line.get_xdata(), np.arange(9))
    np.testing.assert_allclose(line.get_ydata(), [0.2, 0.2, 0.2, 0.4, 0.6, 0.8, 1.0, 1.0, 1.0], rtol=0, atol=1e-12)
    assert event_steps(explorer, False) == [] and event_steps(explorer, True) == []
    assert line.axes.get_xlim() == (-0.5, 8.5)
    assert line.axes.get_title() == "linear, T=4, baseline 0.2, delay 2"
    assert bytes(image.value) != first_png
    width, height = figure.get_size_inches() * figure.dpi
    assert png_shape(image.value) == (round(height), round(width), 3)


def test_ratio_and_toggle_text_reach_the_schedule():
    explorer = ScheduleExplorer(8, "linear", cyclical=True, n=12)
    explorer.controls["ratio"].value = 0.5
    np.testing.assert_allclose(explorer.line.get_ydata(), [0, 0.25, 0.5, 0.75, 1, 1, 1, 1, 0, 0.25, 0.5, 0.75])
    explorer.controls["toggles"].value = "8:off"  # the restart at the end of step 7 happens, then no more
    explorer.controls["n"].value = 20
    np.testing.assert_allclose(explorer.line.get_ydata(), [0, 0.25, 0.5, 0.75] + [1] * 4 + [0, 0.25, 0.5, 0.75] + [1] * 8)
    assert event_steps(explorer, False) == [8] and explorer.status.value == ""
    assert explorer.settings == {"total_steps": 8, "shape": "linear", "baseline": 0.0, "cyclical": True, "steepness": 12.0,
                                 "ratio": 0.5, "delay": 0}


def test_bad_toggle_text_is_reported_and_keeps_the_last_drawing():
    explorer = ScheduleExplorer(10, n=50, toggles=[(20, False)])
    drawn, png = explorer.line.get_ydata().copy(), bytes(explorer.view.image.value)
    explorer.controls["toggles"].value = "20:of"
    assert "not drawn" in explorer.status.value and "20:of" in explorer.status.value
    explorer.controls["toggles"].value = "60:on"
    assert "[0, 50), got (60, True)" in explorer.status.value
    np.testing.assert_array_equal(explorer.line.get_ydata(), drawn)
    assert bytes(explorer.view.image.value) == png
    explorer.controls["n"].value = 61
    assert explorer.status.value == "" and event_steps(explorer, True) == [60]


def test_controls_carry_the_options():
    explorer = ScheduleExplorer(30, "logistic", 0.1, False, ratio=0.4, delay=5, n=200, max_steps=500,
                                continuous_update=False)
    c = explorer.controls
    assert isinstance(c["shape"], widgets.Dropdown) and list(c["shape"].options) == ["linear", "cosine", "logistic"]
    assert (c["total_steps"].value, c["total_steps"].max, c["n"].value, c["n"].max) == (30, 500, 200, 500)
    assert (c["baseline"].value, c["cyclical"].value, c["ratio"].value, c["delay"].value) == (0.1, False, 0.4, 5)
    for key in ("total_steps", "n", "baseline", "ratio", "delay"):
        assert c[key].continuous_update is False
    assert ScheduleExplorer().controls["ratio"].continuous_update is True
    bundle = explorer._repr_mimebundle_()
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == explorer.widget.model_id


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 10_000), st.booleans()), max_size=6))
def test_toggle_text_round_trips(toggles):
    assert parse_toggles(format_toggles(toggles)) == toggles


def test_parse_toggles_reads_commas_spaces_and_case():
    assert parse_toggles(" 30:OFF,70:on  90:off ") == [(30, False), (70, True), (90, False)]
    assert parse_toggles("") == []


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"shape": "cubic"}, ValueError, "shape must be one of"),
        ({"total_steps": 0}, ValueError, "total_steps must be >= 1, got 0"),
        ({"ratio": 0.0}, ValueError, r"ratio must be in \(0, 1\], got 0.0"),
        ({"baseline": 1.5}, ValueError, r"baseline must be in \[0, 1\], got 1.5"),
        ({"n": 0}, ValueError, "n must be"),
        ({"max_steps": 50}, ValueError, "n must be at most max_steps=50, got 100"),
        ({"total_steps": 2000}, ValueError, "total_steps must be at most max_steps=1000, got 2000"),
        ({"toggles": [(100, True)]}, ValueError, r"\[0, 100\), got \(100, True\)"),
        ({"toggles": "30:off"}, TypeError, "toggles must be a sequence"),
        ({"continuous_update": "yes"}, TypeError, "continuous_update must be True or False, got 'yes'"),
    ],
)
def test_bad_arguments_raise_clear_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        ScheduleExplorer(**kwargs)


@pytest.mark.parametrize("text", ["30", "30:maybe", "x:on", "-3:on", "30:on:off"])
def test_parse_toggles_rejects_malformed_text(text):
    with pytest.raises(ValueError, match="toggles must look like '30:off, 70:on'"):
        parse_toggles(text)
    with pytest.raises(TypeError, match="toggles text must be a str, got list"):
        parse_toggles([(30, False)])
