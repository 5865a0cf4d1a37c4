"""The vaelib explorers in a real JupyterLab, driven by headless Chromium as a user would.

Each test opens a notebook in JupyterLab, runs it with Run > Run All Cells, finds the explorer by
its CSS class, screenshots its figure, moves its controls with the mouse (a dropdown choice, a
slider-handle drag), waits for the kernel to send a new PNG, screenshots again and checks that
the figure changed, that no cell shows an error and that the page logged no widget errors.

Notebooks are served from a temp copy without stored outputs or widget state (so the widget can
only come from the live kernel), with short-run parameters injected after the ``parameters`` cell
(see ``*_OVERRIDES``): the browser still runs every cell. Screenshots land in the test's tmp dir;
a failure lists them under "browser artifacts".

Needs /usr/bin/chromium (apt-get install chromium) and playwright (``pip install -e '.[browser]'``;
never ``playwright install``: the system Chromium is used); skips without them.
Run: ``make test-browser`` or ``.venv/bin/python -m pytest tests/browser -m browser``.
"""
from __future__ import annotations

import importlib.util
import json
import os
import re
import time
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("VAELIB_CHROMIUM", "/usr/bin/chromium"))  # Debian's; never `playwright install`
# skip markers rather than a module-level importorskip: the tests are still collected, so a run
# without Chromium or playwright reports them skipped and exits 0 (pytest exits 5 on "no tests")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} not found (apt-get install chromium)"),
    pytest.mark.skipif(importlib.util.find_spec("playwright") is None,
                       reason="playwright not installed (pip install -e '.[browser]')"),
]

# Notebook 03 shows the ScheduleExplorer. Until it exists the test runs a generated stand-in
# notebook (FALLBACK_SCHEDULE_CODE); when it does, it is used automatically. To pin the test to
# one of them, change this line (e.g. to None to always use the stand-in).
SCHEDULE_NOTEBOOK: Path | None = REPO / "notebooks" / "03_annealing_schedules.ipynb"
# Parameters injected after notebook 03's `parameters` cell for a short run: one seed, 40 steps
# and a small data set take Run All from minutes to ~15 s (the explorer does not depend on them).
SCHEDULE_OVERRIDES: dict[str, Any] = {"seeds": [0], "steps": 40, "n_train": 200, "n_held_out": 50, "log_every": 20}
FALLBACK_SCHEDULE_CODE = "from vaelib.widgets import ScheduleExplorer\n\nScheduleExplorer()"

LATENT_NOTEBOOK = REPO / "notebooks" / "01_vae_basics.ipynb"
# Notebook 01 at its defaults runs ~80 s here; these make it ~15 s. 200 steps still spread the
# test codes over the latent plane (at 60 they all sit at 0), so the decoded image visibly changes.
LATENT_OVERRIDES: dict[str, Any] = {
    "max_iterations": 200, "loop_iterations": 20, "compare_sample_size": 2, "iwae_k": 10, "eval_points": 100,
    "manifold_n": 5,
}
# Console messages that fail a test: anything from vaelib or the widgets machinery.
FATAL_CONSOLE = ("vaelib", "widget", "comm", "uncaught", "pageerror")


def schedule_notebook(lab_root: Path, lab: Any) -> tuple[str, str]:
    """(path under the served root, description) of the notebook showing the ScheduleExplorer."""
    if SCHEDULE_NOTEBOOK is not None and SCHEDULE_NOTEBOOK.exists():
        lab.prepare_notebook(SCHEDULE_NOTEBOOK, lab_root / "notebooks" / SCHEDULE_NOTEBOOK.name, SCHEDULE_OVERRIDES)
        return f"notebooks/{SCHEDULE_NOTEBOOK.name}", f"{SCHEDULE_NOTEBOOK} (overrides {SCHEDULE_OVERRIDES})"
    name = "schedule_explorer_standin.ipynb"
    notebook = {
        "nbformat": 4, "nbformat_minor": 5,
        "metadata": {"kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
                     "language_info": {"name": "python"}},
        "cells": [{"cell_type": "code", "execution_count": None, "id": "explorer", "metadata": {}, "outputs": [],
                   "source": FALLBACK_SCHEDULE_CODE.splitlines(keepends=True)}],
    }
    (lab_root / "notebooks" / name).write_text(json.dumps(notebook, indent=1))
    why = "SCHEDULE_NOTEBOOK is None" if SCHEDULE_NOTEBOOK is None else f"{SCHEDULE_NOTEBOOK} does not exist"
    return f"notebooks/{name}", f"generated stand-in ({why})"


class Figure:
    """The explorer's ``<img>``: screenshots and the PNG bytes behind it, one snapshot per step."""

    def __init__(self, bp: Any, lab: Any, image: Any, out: Path) -> None:
        self.bp, self.lab, self.image, self.out = bp, lab, image, out
        lab.wait_for_image_loaded(bp.page, image)
        self.src = image.get_attribute("src")
        self.png = lab.image_bytes(bp.page, image)
        self.shots: dict[str, Path] = {}

    def screenshot(self, label: str) -> Path:
        path = self.out / f"{len(self.shots):02d}-{re.sub(r'[^A-Za-z0-9.]+', '_', label).strip('_')}.png"
        self.image.scroll_into_view_if_needed()
        self.image.screenshot(path=str(path))
        self.shots[label] = path
        self.bp.artifacts.append(path)
        return path

    def wait_redraw(self, action: str) -> bytes:
        """Wait for the kernel's new PNG after ``action``; returns the previous PNG bytes."""
        try:
            self.src = self.lab.wait_for_new_image(self.bp.page, self.image, self.src)
        except Exception as err:  # noqa: BLE001 - report as a test failure with the evidence
            self.screenshot(f"no-redraw-after-{action}")
            raise AssertionError(f"the figure was not redrawn within 30 s after {action} "
                                 f"(img src stayed {self.src!r}); screenshots: {self.paths()}") from err
        previous, self.png = self.png, self.lab.image_bytes(self.bp.page, self.image)
        return previous

    def paths(self) -> str:
        return ", ".join(str(p) for p in self.shots.values())


def find_explorer(bp: Any, lab: Any, panel: Any, css_class: str, out: Path) -> tuple[Any, Figure]:
    """The first explorer with ``css_class`` in ``panel`` and its figure (``<css_class>-image``),
    both visible, with the "before" screenshot taken."""
    explorer = panel.locator(f".{css_class}").first
    explorer.wait_for(state="visible")
    image = explorer.locator(f"img.{css_class}-image")
    image.wait_for(state="visible")
    figure = Figure(bp, lab, image, out)
    figure.screenshot("before")
    return explorer, figure


def drag_slider(bp: Any, lab: Any, figure: Figure, slider: Any, name: str) -> tuple[str, str, bytes]:
    """Drag ``slider`` with the mouse and wait for the redraw; (old readout, new readout, PNG before).

    Fails when the slider's readout did not change.
    """
    readout = slider.locator(".widget-readout")
    old_value = readout.inner_text()
    lab.drag_slider(bp.page, slider)
    previous = figure.wait_redraw(f"dragging the {name} slider")
    new_value = readout.inner_text()
    assert new_value != old_value, f"the {name} slider did not move ({old_value}); screenshots: {figure.paths()}"
    return old_value, new_value, previous


def check_clean(bp: Any, lab: Any, panel: Any, figure: Figure) -> None:
    errors = lab.error_outputs(panel)
    assert not errors, f"error output in the notebook: {errors}; screenshots: {figure.paths()}"
    fatal = [e for e in bp.console_errors if any(word in e.lower() for word in FATAL_CONSOLE)]
    assert not fatal, f"browser console errors: {fatal}; screenshots: {figure.paths()}"
    if bp.console_errors:
        print("other console errors (not failing):", *bp.console_errors, sep="\n  ")


def test_schedule_explorer_follows_dropdown_and_slider(lab_server, browser_page, lab, lab_root, tmp_path):
    start = time.perf_counter()
    relpath, used = schedule_notebook(lab_root, lab)
    lab.note(f"schedule explorer notebook: {used}")
    panel = lab.open_and_run_all(browser_page, lab_server, relpath)
    explorer, figure = find_explorer(browser_page, lab, panel, "vaelib-schedule-explorer", tmp_path)
    before_png = figure.png

    shape = explorer.locator(".widget-dropdown select").first
    current = shape.input_value()
    options = [o.strip() for o in shape.locator("option").all_inner_texts()]
    other = next(o for o in options if o != current)
    shape.select_option(label=other)
    previous = figure.wait_redraw(f"choosing shape {other!r} (was {current!r})")
    assert figure.png != previous, f"shape {other!r}: same PNG as before; screenshots: {figure.paths()}"
    figure.screenshot(f"shape-{other}")

    slider = explorer.locator(".widget-slider", has_text="baseline").first
    old_value, new_value, previous = drag_slider(browser_page, lab, figure, slider, "baseline")
    assert figure.png != previous, f"baseline {new_value}: same PNG as before; screenshots: {figure.paths()}"
    after = figure.screenshot(f"baseline-{new_value}")

    changed = lab.pixels_differ(before_png, figure.png)
    assert changed > 0.001, f"the figure barely changed ({changed:.4%} of pixels); screenshots: {figure.paths()}"
    shot_changed = lab.pixels_differ(figure.shots["before"].read_bytes(), after.read_bytes())
    assert shot_changed > 0.001, f"the screenshots barely differ ({shot_changed:.4%}); screenshots: {figure.paths()}"
    check_clean(browser_page, lab, panel, figure)
    lab.note(f"ScheduleExplorer: shape {current} -> {other}, baseline {old_value} -> {new_value}: {changed:.1%} of "
             f"the figure's pixels changed; {time.perf_counter() - start:.1f} s; screenshots: {figure.paths()}")


def test_latent_explorer_slider_changes_decoded_image(lab_server, browser_page, lab, lab_root, tmp_path):
    start = time.perf_counter()
    lab.prepare_notebook(LATENT_NOTEBOOK, lab_root / "notebooks" / LATENT_NOTEBOOK.name, LATENT_OVERRIDES)
    panel = lab.open_and_run_all(browser_page, lab_server, f"notebooks/{LATENT_NOTEBOOK.name}")
    explorer, figure = find_explorer(browser_page, lab, panel, "vaelib-latent-explorer", tmp_path)
    before_png = figure.png

    values = []
    for index, name in enumerate(("z1", "z2")):
        slider = explorer.locator(".widget-slider").nth(index)
        old_value, new_value, previous = drag_slider(browser_page, lab, figure, slider, name)
        values.append(f"{name} {old_value} -> {new_value}")
        # the decoded image is the right-hand panel: its part of the PNG must change, not just the cross
        decoded_changed = lab.pixels_differ(previous, figure.png, columns=(0.6, 1.0))
        figure.screenshot(f"{name}-{new_value}")
        assert decoded_changed > 0.001, (f"{name} {new_value}: the decoded image did not change "
                                         f"({decoded_changed:.4%} of its pixels); screenshots: {figure.paths()}")

    changed = lab.pixels_differ(before_png, figure.png)
    assert changed > 0.001, f"the figure barely changed ({changed:.4%} of pixels); screenshots: {figure.paths()}"
    check_clean(browser_page, lab, panel, figure)
    lab.note(f"LatentExplorer ({LATENT_NOTEBOOK.name}, overrides {LATENT_OVERRIDES}): {', '.join(values)}: "
             f"{changed:.1%} of the figure's pixels changed; {time.perf_counter() - start:.1f} s; "
             f"screenshots: {figure.paths()}")
