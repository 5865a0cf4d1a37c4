"""vaelib.widgets, driven as a user would: move the sliders in code, then check that the one figure
and the one Image widget were redrawn with the decoder's output for that z (array and PNG pixels)."""
from __future__ import annotations

import io
import os

os.environ.setdefault("MPLBACKEND", "Agg")

import ipywidgets as widgets
import numpy as np
import pytest
import torch
from matplotlib.figure import Figure
from PIL import Image
from torch import nn

from vaelib.models.base import VAE
from vaelib.models.mlp import MLPVAE
from vaelib.widgets import FigureImage, LatentExplorer


@pytest.fixture(scope="module")
def model() -> MLPVAE:
    with torch.random.fork_rng():
        torch.manual_seed(0)
        return MLPVAE((1, 8, 8), hidden_sizes=(16,), latent_dim=2, device="cpu")


class UniformImageVAE(VAE):
    """Decodes z to a 6x6 image of constant grey level sigmoid(z_1 - z_2)."""

    def __init__(self) -> None:
        super().__init__(latent_dim=2)
        self.unused = nn.Parameter(torch.zeros(()))

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError("the explorer only decodes")

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        level = torch.sigmoid(z[..., 0] - z[..., 1])
        return level[..., None, None, None].expand(*z.shape[:-1], 1, 6, 6)


def png_pixels(value: memoryview | bytes) -> np.ndarray:
    data = bytes(value)
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def centre_pixel(explorer: LatentExplorer) -> np.ndarray:
    """The PNG pixel at the centre of the decoded-image panel."""
    pixels = png_pixels(explorer.view.image.value)
    box = explorer.image_artist.axes.get_window_extent()
    x, y = (box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2
    return pixels[pixels.shape[0] - 1 - int(y), int(x)]


def test_moving_the_sliders_redraws_the_same_figure_with_the_decoded_image(model):
    codes = torch.randn(50, 2, generator=torch.Generator().manual_seed(1))
    explorer = LatentExplorer(model, codes=codes, labels=torch.arange(50) % 10, class_names=list("0123456789"))
    figure, image_widget, artist = explorer.figure, explorer.view.image, explorer.image_artist
    first_png = bytes(image_widget.value)
    assert explorer.z == (0.0, 0.0)
    explorer.sliders[0].value = 1.25
    explorer.sliders[1].value = -0.5
    assert explorer.z == (1.25, -0.5)
    assert explorer.figure is figure and explorer.view.image is image_widget and explorer.image_artist is artist
    assert explorer.widget.children[1] is image_widget
    with torch.no_grad():
        expected = model.decode(torch.tensor([[1.25, -0.5]]))[0, 0].numpy()
    np.testing.assert_allclose(artist.get_array(), expected, rtol=0, atol=1e-6)
    assert list(explorer.marker.get_xdata()) == [1.25] and list(explorer.marker.get_ydata()) == [-0.5]
    assert bytes(image_widget.value) != first_png
    width, height = figure.get_size_inches() * figure.dpi
    assert png_pixels(image_widget.value).shape == (round(height), round(width), 3)
    assert len(figure.axes[0].collections) == 10  # the background scatter, one collection per class


def test_the_png_shows_the_decoder_output_for_the_sliders_z():
    explorer = LatentExplorer(UniformImageVAE(), start=(2.0, 0.0))
    for z1, z2 in [(2.0, 0.0), (-2.0, 0.0), (0.5, 1.5), (1.0, -2.0)]:
        explorer.sliders[0].value = z1
        explorer.sliders[1].value = z2
        grey = 255 * torch.sigmoid(torch.tensor(z1 - z2)).item()
        np.testing.assert_allclose(centre_pixel(explorer), [grey] * 3, atol=2)


def test_options_reach_the_sliders_and_the_latent_panel(model):
    explorer = LatentExplorer(model, z_range=(-2.0, 4.0), step=0.25, start=(1.0, -1.5), continuous_update=False)
    for slider, value, label in zip(explorer.sliders, (1.0, -1.5), ("z\u2081", "z\u2082")):
        assert isinstance(slider, widgets.FloatSlider)
        assert (slider.min, slider.max, slider.step, slider.value) == (-2.0, 4.0, 0.25, value)
        assert slider.continuous_update is False and slider.description == label
    latent_ax = explorer.figure.axes[0]
    assert latent_ax.get_xlim() == (-2.0, 4.0) and latent_ax.get_ylim() == (-2.0, 4.0)
    assert len(latent_ax.collections) == 0 and latent_ax.get_xlabel() and latent_ax.get_title()
    assert explorer.image_artist.axes.get_title()
    assert LatentExplorer(model).sliders[0].continuous_update is True


def test_displaying_the_explorer_displays_its_widget(model):
    explorer = LatentExplorer(model)
    bundle = explorer._repr_mimebundle_()
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == explorer.widget.model_id
    assert "vaelib-latent-explorer" in explorer.widget._dom_classes


def test_figure_image_draws_the_background_once_and_then_only_the_animated_artists():
    figure = Figure(figsize=(2, 2), dpi=50)
    ax = figure.add_subplot()
    ax.plot([0, 1], [0, 1])
    (point,) = ax.plot([0.5], [0.5], "o")
    view = FigureImage(figure, [point])
    draws = []
    original_draw = figure.canvas.draw
    figure.canvas.draw = lambda: draws.append(1) or original_draw()
    view.render()
    first = bytes(view.image.value)
    point.set_data([0.1], [0.9])
    view.render()
    assert len(draws) == 1 and point.get_animated() and bytes(view.image.value) != first
    assert png_pixels(view.image.value).shape == (100, 100, 3)


def test_figure_image_rejects_bad_arguments():
    with pytest.raises(TypeError, match="figure must be a matplotlib Figure, got str"):
        FigureImage("figure", [])
    figure = Figure()
    (line,) = figure.add_subplot().plot([0, 1])
    with pytest.raises(TypeError, match="animated must be a sequence of matplotlib Artists"):
        FigureImage(figure, line)
    with pytest.raises(TypeError, match="animated must be a sequence of matplotlib Artists"):
        FigureImage(figure, [line, "title"])


def test_latent_explorer_rejects_bad_arguments(model):
    with pytest.raises(TypeError, match="model must be a vaelib VAE, got Linear"):
        LatentExplorer(nn.Linear(2, 64))
    with pytest.raises(ValueError, match="latent_dim=2.*got latent_dim=3"):
        LatentExplorer(MLPVAE((1, 8, 8), hidden_sizes=(4,), latent_dim=3, device="cpu"))
    for bad in [(3.0, -3.0), (0.0,), (-np.inf, 1.0), "ab"]:
        with pytest.raises(ValueError, match="z_range must be two finite numbers"):
            LatentExplorer(model, z_range=bad)
    for bad in [0.0, -0.1, 6.0, True]:
        with pytest.raises(ValueError, match=r"step must be a number in \(0, 6\)"):
            LatentExplorer(model, step=bad)
    for bad in [(0.0, 3.5), (0.0,), "00"]:
        with pytest.raises(ValueError, match="start must be two numbers inside z_range"):
            LatentExplorer(model, start=bad)
    with pytest.raises(TypeError, match="continuous_update must be True or False, got 'yes'"):
        LatentExplorer(model, continuous_update="yes")
    with pytest.raises(ValueError, match=r"codes must have shape \(N, 2\)"):
        LatentExplorer(model, codes=torch.zeros(4, 3))


def test_the_display_bundle_carries_the_current_figure_for_static_renderers():
    import base64

    from vaelib.widgets import ScheduleExplorer

    explorer = ScheduleExplorer(10, "linear", n=30)
    bundle = explorer._repr_mimebundle_()
    data = bundle[0] if isinstance(bundle, tuple) else bundle
    assert "application/vnd.jupyter.widget-view+json" in data
    assert base64.b64decode(data["image/png"]) == bytes(explorer.view.image.value)
