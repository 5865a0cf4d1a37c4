"""The annealing tables are the one place a schedule setting lives: a shape added to SHAPES (with a
parameter of its own) is known at once by Annealer, its state dict and repr, describe_schedule, the
plots and the ScheduleExplorer's controls."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from vaelib import Annealer
from vaelib.annealing import SETTINGS, SHAPES, Shape, ShapeParameter, registered_shape, register_shape
from vaelib.schedules import describe_schedule
from vaelib.plotting import plot_schedules
from vaelib.widgets import ScheduleExplorer

POWER = Shape("power", lambda p, exponent: p**exponent, "p^k",
              (ShapeParameter("exponent", 2.0, 8.0, "exponent k of the power shape"),))


def test_a_registered_shape_reaches_every_consumer(tmp_path):
    with registered_shape(POWER):
        annealer = Annealer(4, "power", exponent=3.0)
        assert annealer.schedule(6) == pytest.approx([0.0, 1 / 64, 8 / 64, 27 / 64, 1.0, 1.0])
        assert Annealer(4, "power").schedule(3) == pytest.approx([0.0, 1 / 16, 4 / 16])  # the default exponent
        state = annealer.state_dict()
        assert state["exponent"] == 3.0 and state["steepness"] == 12.0
        torch.save(state, tmp_path / "state.pt")
        restored = Annealer(1)
        restored.load_state_dict(torch.load(tmp_path / "state.pt", weights_only=True))
        assert restored.schedule(6) == annealer.schedule(6)
        assert "exponent=3.0" in repr(annealer) and "steepness" not in repr(annealer)
        assert describe_schedule(annealer) == "power, T=4, exponent 3"
        figure = plot_schedules({"power": annealer}, 6)
        np.testing.assert_allclose(figure.axes[0].lines[0].get_ydata(), annealer.schedule(6))

        explorer = ScheduleExplorer(4, "power", cyclical=False, n=6, exponent=3.0)
        assert "power" in explorer.controls["shape"].options
        assert explorer.controls["exponent"].value == 3.0 and not explorer.controls["exponent"].disabled
        assert explorer.controls["steepness"].disabled  # the power shape does not use it
        np.testing.assert_allclose(explorer.line.get_ydata(), annealer.schedule(6))
        explorer.controls["exponent"].value = 1.0
        np.testing.assert_allclose(explorer.line.get_ydata(), [0, 0.25, 0.5, 0.75, 1, 1])
        explorer.controls["shape"].value = "logistic"
        assert explorer.controls["exponent"].disabled and not explorer.controls["steepness"].disabled
    assert "power" not in SHAPES
    with pytest.raises(ValueError, match="shape must be one of"):
        Annealer(4, "power")


def test_the_explorer_has_a_control_for_every_setting_it_can_show():
    explorer = ScheduleExplorer(20, "logistic", steepness=30.0)
    shown = {name for name, setting in SETTINGS.items() if setting.explore}
    assert shown | {"steepness", "n", "toggles"} == set(explorer.controls)
    assert explorer.settings["steepness"] == 30.0
    np.testing.assert_allclose(explorer.line.get_ydata(), Annealer(20, "logistic", cyclical=True,
                                                                   steepness=30.0).schedule(100))


def test_a_state_saved_before_a_shape_was_registered_still_loads():
    saved = Annealer(5, "cosine").state_dict()
    with registered_shape(POWER):
        restored = Annealer(1)
        restored.load_state_dict(saved)
        assert restored.exponent == 2.0 and restored.schedule(6) == Annealer(5, "cosine").schedule(6)


@pytest.mark.parametrize(
    "shape,error,pattern",
    [
        (Shape("linear", lambda p: p, "p"), ValueError, "a shape named 'linear' is already registered"),
        (Shape("bent", lambda p: 0.5 * p, "p/2"), ValueError, "must map 0 to 0 and 1 to 1 exactly"),
        (Shape("clash", lambda p, ratio: p, "p", (ShapeParameter("ratio", 1.0, 2.0, "x"),)), ValueError,
         "shape parameter 'ratio' clashes with the Annealer setting"),
        (Shape("steep", lambda p, steepness: p, "p", (ShapeParameter("steepness", 3.0, 9.0, "x"),)), ValueError,
         "shape parameter 'steepness' is already defined differently"),
    ],
)
def test_bad_shapes_are_refused(shape, error, pattern):
    with pytest.raises(error, match=pattern):
        register_shape(shape)
    assert SHAPES["linear"].formula == "p"


def test_unknown_settings_name_the_known_shape_parameters():
    with pytest.raises(TypeError, match=r"unknown settings \['exponent'\]; shape parameters are \['steepness'\]"):
        Annealer(4, exponent=2.0)
