"""Images: mosaics of tiles, image grids, and inputs above their reconstructions.

Images are (N, C, H, W) with C = 1 (grey) or 3 (RGB) and values in [0, 1], Tensors or arrays.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from vaelib.plotting.base import check_images, figure_and_axes, new_figure, show_mosaic
from vaelib.validation import is_integer, is_real, positive_int

__all__ = ["image_grid", "reconstruction_pairs", "tile_centre", "tile_images"]


def tile_images(images: Any, n_cols: int, *, pad: int = 1, pad_value: float = 0.5) -> np.ndarray:
    """Arrange images in a mosaic, row by row, ``cols = min(n_cols, N)`` tiles wide.

    Parameters
    ----------
    images : Tensor or array, (N, C, H, W) in [0, 1]
    n_cols : int
        Tiles per row (at most); the mosaic has rows = ceil(N / cols) rows, and the unused tiles
        of the last row are ``pad_value``.
    pad : int
        Pixels of ``pad_value`` between tiles (none around the border).
    pad_value : float in [0, 1]

    Returns
    -------
    numpy.ndarray
        (rows * (H + pad) - pad, cols * (W + pad) - pad) for grey images, with a trailing
        axis of 3 for RGB ones. Tile k occupies rows ``r * (H + pad)`` to ``r * (H + pad) + H``
        and columns ``c * (W + pad)`` onwards, where ``r, c = divmod(k, cols)``.
    """
    array = check_images("images", images)
    n_cols = positive_int("n_cols", n_cols)
    if not is_integer(pad) or pad < 0:
        raise ValueError(f"pad must be an int >= 0, got {pad!r}")
    if not is_real(pad_value) or not 0.0 <= pad_value <= 1.0:
        raise ValueError(f"pad_value must be a number in [0, 1], got {pad_value!r}")
    n, channels, height, width = array.shape
    n_cols = min(n_cols, n)
    n_rows = math.ceil(n / n_cols)
    mosaic = np.full((n_rows * (height + pad) - pad, n_cols * (width + pad) - pad, channels), float(pad_value))
    for k, image in enumerate(array):
        row, col = divmod(k, n_cols)
        top, left = row * (height + pad), col * (width + pad)
        mosaic[top : top + height, left : left + width] = image.transpose(1, 2, 0)
    return mosaic[..., 0] if channels == 1 else mosaic


def tile_centre(k: int, size: int, *, pad: int = 1) -> float:
    """Pixel coordinate of the centre of the k-th tile along one axis of a :func:`tile_images`
    mosaic whose tiles are ``size`` pixels long and ``pad`` pixels apart (for tick positions)."""
    return k * (size + pad) + (size - 1) / 2


def _mosaic_inches(mosaic: np.ndarray, tile_height: int, *, panels: int) -> tuple[float, float]:
    """Figure size for ``panels`` mosaics stacked vertically: about 0.55 inch a tile, at most 12 wide."""
    per_pixel = 0.55 / tile_height
    width, height = mosaic.shape[1] * per_pixel, mosaic.shape[0] * per_pixel
    shrink = min(1.0, 11.0 / width)
    return 1.0 + width * shrink, 0.3 + panels * (0.45 + height * shrink)


def image_grid(
    images: Any, *, n_cols: int = 10, title: str = "Images", ax: Axes | None = None
) -> Figure:
    """Show images (N, C, H, W) in [0, 1] as one mosaic (see :func:`tile_images`), ``n_cols`` wide."""
    n_cols = positive_int("n_cols", n_cols)
    mosaic = tile_images(images, n_cols)
    figure, ax = figure_and_axes(ax, *_mosaic_inches(mosaic, np.shape(images)[-2], panels=1))
    show_mosaic(ax, mosaic)
    ax.set_title(title)
    return figure


def reconstruction_pairs(
    inputs: Any, reconstructions: Any, *, n_cols: int = 10, title: str = "Inputs and their reconstructions"
) -> Figure:
    """Inputs above their reconstructions: two panels with the same mosaic layout, tile for tile.

    Parameters
    ----------
    inputs, reconstructions : Tensor or array, (N, C, H, W) in [0, 1]
        ``reconstructions[k]`` is drawn in the same place of the lower panel as ``inputs[k]`` in
        the upper one (e.g. the decoder mean at the posterior mean of ``inputs[k]``).
    n_cols : int
        Tiles per row in each panel.
    title : str
    """
    inputs = check_images("inputs", inputs)
    reconstructions = check_images("reconstructions", reconstructions)
    if inputs.shape != reconstructions.shape:
        raise ValueError(
            f"inputs and reconstructions must have the same shape, got {inputs.shape} and {reconstructions.shape}"
        )
    n_cols = positive_int("n_cols", n_cols)
    mosaics = [tile_images(inputs, n_cols), tile_images(reconstructions, n_cols)]
    figure = new_figure(*_mosaic_inches(mosaics[0], inputs.shape[-2], panels=2))
    for ax, mosaic, label in zip(figure.subplots(2, 1), mosaics, ("input $x$", "reconstruction")):
        show_mosaic(ax, mosaic)
        ax.set_ylabel(label)
    figure.suptitle(title)
    return figure
