"""Interactive explorers for notebooks: ipywidgets controls redrawing one matplotlib figure.

No ipympl or other front-end extension is needed. An explorer keeps ONE
:class:`matplotlib.figure.Figure`, changes its artists in place when a control moves
(``AxesImage.set_data``, ``Line2D.set_data``, ``Text.set_text``), renders it with Agg and puts
the PNG bytes into an :class:`ipywidgets.Image`. Only the changing artists are redrawn, over a
cached background (blitting), so a redraw costs a few milliseconds and the controls can update
continuously while being dragged. The same code works in JupyterLab, Jupyter Notebook and VS Code,
and a browser test can watch the ``<img>`` of the widget change.

:class:`FigureImage` is that reusable piece; :class:`LatentExplorer` and :class:`ScheduleExplorer`
build on it.
"""
from __future__ import annotations

import base64
import html
import io
import math
from collections.abc import Sequence
from typing import Any

import ipywidgets as widgets
import numpy as np
from matplotlib.artist import Artist
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

from vaelib.annealing import SETTINGS, SHAPES, Annealer
from vaelib.annealing import shape_parameters as annealing_parameters
from vaelib.latent import check_model, decode_images
from vaelib.schedules import describe_schedule, schedule_trace
from vaelib.plotting import GREY, Z_LABELS, latent_scatter, plot_schedules, tile_images
from vaelib.validation import is_real, positive_int

__all__ = ["Explorer", "FigureImage", "LatentExplorer", "ScheduleExplorer", "format_toggles", "parse_toggles"]


class FigureImage:
    """A matplotlib figure shown as an :class:`ipywidgets.Image`, re-rendered by blitting.

    The ``animated`` artists are left out of the cached background and drawn over it by
    :meth:`render`; change them (``set_data``, ``set_text``, ...) and call :meth:`render`.
    Everything else in the figure is drawn once, by the first :meth:`render`.

    Parameters
    ----------
    figure : matplotlib.figure.Figure
        Gets an Agg canvas. Its size must not change afterwards.
    animated : sequence of matplotlib Artist
        The artists that change between renders; they are marked ``animated`` (so a plain
        ``figure.savefig`` leaves them out: the PNG in :attr:`image` is the rendering).

    Attributes
    ----------
    figure : matplotlib.figure.Figure
    image : ipywidgets.Image
        PNG of the figure at its ``dpi``, updated by every :meth:`render`.
    """

    def __init__(self, figure: Figure, animated: Sequence[Artist]) -> None:
        if not isinstance(figure, Figure):
            raise TypeError(f"figure must be a matplotlib Figure, got {type(figure).__name__}")
        if isinstance(animated, Artist) or not all(isinstance(artist, Artist) for artist in animated):
            raise TypeError(f"animated must be a sequence of matplotlib Artists, got {animated!r}")
        FigureCanvasAgg(figure)
        self.figure = figure
        self.animated = list(animated)
        for artist in self.animated:
            artist.set_animated(True)
        self.image = widgets.Image(format="png")
        self._background: Any = None

    def render(self) -> None:
        """Draw the animated artists over the cached background and publish the PNG."""
        canvas = self.figure.canvas
        if self._background is None:
            canvas.draw()
            self._background = canvas.copy_from_bbox(self.figure.bbox)
        else:
            canvas.restore_region(self._background)
        for artist in self.animated:
            self.figure.draw_artist(artist)
        pixels = np.asarray(canvas.buffer_rgba())[..., :3]
        buffer = io.BytesIO()
        Image.fromarray(pixels).save(buffer, format="png", compress_level=1)
        self.image.value = buffer.getvalue()

    def invalidate(self) -> None:
        """Drop the cached background, so the next :meth:`render` draws the whole figure again.

        Call it after changing something that is not animated, e.g. an axis range.
        """
        self._background = None


class Explorer:
    """What the explorers share: one :class:`FigureImage`, the widget a notebook displays, and a
    display bundle that also carries the current figure as a PNG.

    Jupyter front-ends with a live kernel show the widget; renderers of a saved notebook without
    widget state (GitHub, ``jupyter nbconvert``) fall back to the PNG, so the explorer's cell shows
    its figure there instead of an empty output. Subclasses set :attr:`view` and :attr:`widget` and
    implement :meth:`update`.
    """

    view: FigureImage
    widget: widgets.Widget

    @property
    def figure(self) -> Figure:
        """The one figure every update redraws."""
        return self.view.figure

    def update(self) -> None:
        """Redraw the figure from the controls."""
        raise NotImplementedError

    def _on_change(self, change: dict[str, Any]) -> None:
        self.update()

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        bundle = self.widget._repr_mimebundle_(**kwargs)
        data, metadata = bundle if isinstance(bundle, tuple) else (bundle, {})
        data = {**data, "image/png": base64.b64encode(bytes(self.view.image.value)).decode("ascii")}
        return (data, metadata) if isinstance(bundle, tuple) else data


def _check_range(z_range: Any) -> tuple[float, float]:
    if (
        not isinstance(z_range, Sequence)
        or len(z_range) != 2
        or not all(is_real(v) and math.isfinite(v) for v in z_range)
        or not z_range[0] < z_range[1]
    ):
        raise ValueError(f"z_range must be two finite numbers (low, high) with low < high, got {z_range!r}")
    return float(z_range[0]), float(z_range[1])


class LatentExplorer(Explorer):
    """Two sliders choose a latent code z = (z_1, z_2); the decoded image E[x|z] follows them.

    The figure has two panels: the latent plane (with a scatter of ``codes`` when given, e.g. the
    test set's posterior means) with a cross at z, and the decoder's mean image for z. Moving a
    slider redraws the cross and the image in place (see :class:`FigureImage`); the sliders'
    read-outs give the values of z.
    Display the explorer by making it the last expression of a notebook cell.

    Parameters
    ----------
    model : VAE
        With ``latent_dim == 2``; decoded in eval mode without gradients.
    codes, labels, class_names
        Optional background scatter of the latent plane, as in :func:`vaelib.plotting.latent_scatter`.
    z_range : (float, float)
        Range of both sliders (prior standard deviations; N(0, 1) puts 99.7 % of its mass in ±3).
    step : float
        Slider resolution, > 0 and smaller than the range.
    start : (float, float)
        Initial z, inside ``z_range``.
    continuous_update : bool
        Redraw while a slider is being dragged (True, smooth because a redraw only blits two
        artists) or only when it is released (False, for slow decoders or remote kernels).

    Attributes
    ----------
    sliders : tuple of ipywidgets.FloatSlider
        The z_1 and z_2 sliders.
    view : FigureImage
        The figure and the ``ipywidgets.Image`` showing it (``view.image``).
    image_artist : matplotlib.image.AxesImage
        The decoded image; ``get_array()`` holds the current decoder output.
    marker : matplotlib.lines.Line2D
        The cross at z in the latent plane.
    widget : ipywidgets.VBox
        Sliders above the image; what the notebook displays.

    Examples
    --------
    >>> explorer = LatentExplorer(model, codes=mu, labels=test.y)   # doctest: +SKIP
    >>> explorer.sliders[0].value = 1.5     # as if the user dragged z_1   # doctest: +SKIP
    """

    def __init__(
        self,
        model: Any,
        *,
        codes: Any = None,
        labels: Any = None,
        class_names: Sequence[str] | None = None,
        z_range: tuple[float, float] = (-3.0, 3.0),
        step: float = 0.05,
        start: tuple[float, float] = (0.0, 0.0),
        continuous_update: bool = True,
    ) -> None:
        check_model(model, latent_dim=2)
        low, high = _check_range(z_range)
        if not is_real(step) or not 0.0 < step < high - low:
            raise ValueError(f"step must be a number in (0, {high - low:g}) for z_range {z_range!r}, got {step!r}")
        if (
            not isinstance(start, Sequence)
            or len(start) != 2
            or not all(is_real(v) and low <= v <= high for v in start)
        ):
            raise ValueError(f"start must be two numbers inside z_range {z_range!r}, got {start!r}")
        if not isinstance(continuous_update, bool):
            raise TypeError(f"continuous_update must be True or False, got {continuous_update!r}")
        self.model = model

        figure = Figure(figsize=(10.0, 4.6), dpi=80, layout="constrained")
        latent_ax, image_ax = figure.subplots(1, 2, width_ratios=[1.25, 1.0])
        if codes is not None:
            latent_scatter(codes, labels, class_names=class_names, annotate=False, ax=latent_ax,
                           title="latent plane (test-set posterior means)")
        else:
            latent_ax.set_xlabel(Z_LABELS[0])
            latent_ax.set_ylabel(Z_LABELS[1])
            latent_ax.grid(True, alpha=0.3)
            latent_ax.set_title("latent plane")
        latent_ax.set_aspect("equal", adjustable="box")
        latent_ax.set_xlim(low, high)
        latent_ax.set_ylim(low, high)
        (self.marker,) = latent_ax.plot([start[0]], [start[1]], marker="X", markersize=15, color="black",
                                        markeredgecolor="white", markeredgewidth=1.5, linestyle="none")
        self.image_artist = image_ax.imshow(self._decoded(tuple(start)), **GREY)
        image_ax.set_xticks([])
        image_ax.set_yticks([])
        image_ax.set_title("decoded image $\\mathbb{E}[x\\,|\\,z]$")
        self.view = FigureImage(figure, [self.marker, self.image_artist])

        self.sliders = tuple(
            widgets.FloatSlider(value=float(value), min=low, max=high, step=float(step), description=label,
                                continuous_update=continuous_update, readout_format=".2f")
            for value, label in zip(start, ("z\u2081", "z\u2082"))
        )
        for slider in self.sliders:
            slider.observe(self._on_change, names="value")
        self.view.image.add_class("vaelib-latent-explorer-image")
        self.widget = widgets.VBox([widgets.HBox(list(self.sliders)), self.view.image])
        self.widget.add_class("vaelib-latent-explorer")
        self.update()

    @property
    def z(self) -> tuple[float, float]:
        """The code the sliders select, (z_1, z_2)."""
        return self.sliders[0].value, self.sliders[1].value

    def _decoded(self, z: tuple[float, float]) -> np.ndarray:
        """Decoder mean for ``z`` as an imshow array: (H, W) grey or (H, W, 3) RGB."""
        return tile_images(decode_images(self.model, [z]), 1, pad=0)

    def update(self) -> None:
        """Decode the sliders' z and redraw the cross and the image in place."""
        z = self.z
        self.marker.set_data([z[0]], [z[1]])
        self.image_artist.set_data(self._decoded(z))
        self.view.render()


# ----------------------------------------------------------------------------- annealing schedules

_TOGGLE_STATES = {"on": True, "off": False}


def parse_toggles(text: str) -> list[tuple[int, bool]]:
    """Cyclical on/off events from text: ``"30:off, 70:on"`` -> ``[(30, False), (70, True)]``.

    Events are ``step:on`` or ``step:off`` separated by commas or spaces; an empty text gives no
    events. They mean what :func:`vaelib.schedules.schedule_trace` says (at the end of ``step``).
    """
    if not isinstance(text, str):
        raise TypeError(f"toggles text must be a str, got {type(text).__name__}")
    toggles = []
    for token in text.replace(",", " ").split():
        step, _, state = token.partition(":")
        if not step.isdigit() or state.lower() not in _TOGGLE_STATES:
            raise ValueError(f"toggles must look like '30:off, 70:on' (step:on or step:off), got {token!r}")
        toggles.append((int(step), _TOGGLE_STATES[state.lower()]))
    return toggles


def format_toggles(toggles: Sequence[tuple[int, bool]]) -> str:
    """The text :func:`parse_toggles` reads back: ``[(30, False), (70, True)]`` -> ``"30:off, 70:on"``."""
    return ", ".join(f"{step}:{'on' if on else 'off'}" for step, on in toggles)


def _setting_control(kind: str, value: Any, low: float, high: float, label: str,
                     continuous_update: bool) -> widgets.Widget:
    """The ipywidgets control of one schedule setting (see :class:`vaelib.annealing.Setting`)."""
    if kind == "choice":
        return widgets.Dropdown(options=list(SHAPES), value=value, description=label)
    if kind == "bool":
        return widgets.Checkbox(value=value, description=label)
    slider, step = (widgets.IntSlider, 1) if kind == "int" else (widgets.FloatSlider, 0.01 if high <= 1 else 0.1)
    return slider(value=value, min=low, max=high, step=step, description=label, continuous_update=continuous_update,
                  style={"description_width": "initial"})


class ScheduleExplorer(Explorer):
    """Controls for every :class:`~vaelib.annealing.Annealer` setting; one schedule plot follows them.

    The controls are made from the annealing tables (:data:`vaelib.annealing.SETTINGS` and the
    parameters of every shape in :data:`vaelib.annealing.SHAPES`), so a shape or a shape parameter
    added there appears here too; a shape parameter's slider is greyed out while the chosen shape
    does not use it. The figure is :func:`vaelib.plotting.plot_schedules` of one schedule over
    ``n`` steps, with the cyclical on/off events (the ``toggles`` text, e.g. ``"30:off, 70:on"``
    for the seed's example) as dashed vertical lines: green where restarts switch on, red where
    off. Moving a control recomputes :func:`~vaelib.schedules.schedule_trace` and redraws the
    curve, the event lines and the title in place (see :class:`FigureImage`); only a change of
    ``n`` redraws the whole figure (the step axis changes). Text that does not parse, or an event
    outside the drawn steps, is reported under the controls and leaves the last valid drawing in
    place. Display the explorer by making it the last expression of a notebook cell; for readers
    of a static copy (GitHub, nbconvert), show ``explorer.figure`` in the next cell.

    Parameters
    ----------
    total_steps, shape, baseline, cyclical, ratio, delay, **shape_parameters
        The initial :class:`~vaelib.annealing.Annealer` settings (validated by it), e.g.
        ``steepness=20`` for the logistic shape.
    n : int
        Initial number of steps drawn.
    toggles : sequence of (int, bool)
        Initial ``(step, cyclical_on)`` events, each step in [0, n).
    max_steps : int
        Upper end of the ``total_steps``, ``delay`` and ``n`` sliders; at least each of them.
    continuous_update : bool
        Redraw while a slider is being dragged (True: a redraw recomputes at most ``max_steps``
        weights and blits three artists, a few milliseconds) or only on release (False).

    Attributes
    ----------
    controls : dict of str to ipywidgets widget
        One per Annealer setting the explorer shows (``"shape"``, ``"total_steps"``,
        ``"baseline"``, ``"cyclical"``, ``"ratio"``, ``"delay"``, ``"steepness"``, ...), plus
        ``"n"`` and ``"toggles"`` (text). Setting a ``value`` in code acts as a user would.
    view : FigureImage
        The figure and the ``ipywidgets.Image`` showing it (``view.image``).
    line : matplotlib.lines.Line2D
        The schedule: x = 0..n-1, y = the weights (``get_ydata()``).
    toggle_lines : dict of bool to matplotlib.collections.LineCollection
        The event lines where restarts switch on (``True``) and off (``False``).
    status : ipywidgets.HTML
        Empty, or the reason the last change was not drawn.
    widget : ipywidgets.VBox
        Controls, status and image; what the notebook displays.

    Examples
    --------
    >>> explorer = ScheduleExplorer(10, "cosine", cyclical=True, toggles=[(30, False), (70, True)])
    >>> explorer.controls["shape"].value = "logistic"     # as if the user picked it
    >>> explorer.controls["toggles"].value = "50:off"
    """

    def __init__(
        self,
        total_steps: int = 10,
        shape: str = "cosine",
        baseline: float = 0.0,
        cyclical: bool = True,
        *,
        ratio: float = 1.0,
        delay: int = 0,
        n: int = 100,
        toggles: Sequence[tuple[int, bool]] = (),
        max_steps: int = 1000,
        continuous_update: bool = True,
        **shape_parameters: float,
    ) -> None:
        annealer = Annealer(total_steps, shape, baseline, cyclical, ratio=ratio, delay=delay, **shape_parameters)
        self.names = [name for name, setting in SETTINGS.items() if setting.explore] + list(annealing_parameters())
        settings = {name: getattr(annealer, name) for name in self.names}
        n = positive_int("n", n)
        max_steps = positive_int("max_steps", max_steps)
        for name, value in (("total_steps", total_steps), ("delay", delay), ("n", n)):
            if value > max_steps:
                raise ValueError(f"{name} must be at most max_steps={max_steps}, got {value!r}")
        if not isinstance(continuous_update, bool):
            raise TypeError(f"continuous_update must be True or False, got {continuous_update!r}")
        schedule_trace(settings, n, toggles)  # validates the toggles against n

        figure = Figure(figsize=(10.0, 3.8), dpi=80, layout="constrained")
        ax = figure.add_subplot()
        plot_schedules({"KL weight $\\beta_t$": settings}, n, ax=ax)
        self.line = ax.lines[0]
        self.toggle_lines = {
            on: ax.vlines([], 0.0, 1.0, colors=colour, linestyles="--", lw=1.2, label=f"cyclical switched {word}")
            for on, colour, word in ((True, "tab:green", "on"), (False, "tab:red", "off"))
        }
        ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=9, frameon=False)
        self.view = FigureImage(figure, [self.line, *self.toggle_lines.values(), ax.title])
        self._n = n

        self.controls: dict[str, widgets.Widget] = {}
        for name, setting in SETTINGS.items():
            if setting.explore:
                high = max_steps if setting.kind == "int" else setting.high
                self.controls[name] = _setting_control(setting.kind, settings[name], setting.low, high, setting.label,
                                                       continuous_update)
        for name, parameter in annealing_parameters().items():
            self.controls[name] = _setting_control("real", float(settings[name]), parameter.high / 100, parameter.high,
                                                   name, continuous_update)
        self.controls["n"] = _setting_control("int", n, 1, max_steps, "steps drawn n", continuous_update)
        self.controls["toggles"] = widgets.Text(value=format_toggles(toggles), description="toggles",
                                                placeholder="30:off, 70:on", continuous_update=False)
        for control in self.controls.values():
            control.observe(self._on_change, names="value")
        self.status = widgets.HTML()
        c = self.controls
        parameters = [c[name] for name in annealing_parameters()]
        self.view.image.add_class("vaelib-schedule-explorer-image")
        self.widget = widgets.VBox([
            widgets.HBox([c["shape"], c["cyclical"], c["toggles"]]),
            widgets.HBox([c["total_steps"], c["n"]]),
            widgets.HBox([c["baseline"], c["ratio"], c["delay"]]),
            *([widgets.HBox(parameters)] if parameters else []),
            self.status,
            self.view.image,
        ])
        self.widget.add_class("vaelib-schedule-explorer")
        self.update()

    @property
    def settings(self) -> dict[str, Any]:
        """The controls' Annealer arguments, e.g. ``Annealer(**explorer.settings)``."""
        return {name: self.controls[name].value for name in self.names}

    def update(self) -> None:
        """Recompute the schedule from the controls and redraw it in place (or report why not)."""
        settings, n = self.settings, self.controls["n"].value
        used = {parameter.name for parameter in SHAPES[settings["shape"]].parameters}
        for name in annealing_parameters():
            self.controls[name].disabled = name not in used
        try:
            toggles = parse_toggles(self.controls["toggles"].value)
            weights = schedule_trace(settings, n, toggles)
        except ValueError as err:
            self.status.value = f'<span style="color:#b00020">not drawn: {html.escape(str(err))}</span>'
            return
        self.status.value = ""
        self.line.set_data(np.arange(n), weights)
        for on, lines in self.toggle_lines.items():
            lines.set_segments([[(step, 0.0), (step, 1.0)] for step, value in toggles if value is on])
        self.line.axes.set_title(describe_schedule(settings) + (f"; toggles {format_toggles(toggles)}" if toggles else ""))
        if n != self._n:
            self.line.axes.set_xlim(-0.5, n - 0.5)
            self._n = n
            self.view.invalidate()
        self.view.render()

