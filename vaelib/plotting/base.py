"""What every figure module shares: figure and axes creation, colours, and the input checks.

Figures are built without :mod:`matplotlib.pyplot` (see :mod:`vaelib.plotting`). Images are
(N, C, H, W) with C = 1 (grey) or 3 (RGB) and values in [0, 1]; latent codes for the 2-D plots
are (N, 2); class labels are (N,) integers >= 0.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from vaelib.validation import as_array, check_matrix

__all__ = [
    "GREY",
    "Z_LABELS",
    "check_axes",
    "check_class_names",
    "check_codes",
    "check_images",
    "check_labels",
    "class_colours",
    "evenly_spaced",
    "figure_and_axes",
    "new_figure",
    "show_mosaic",
]

GREY = {"cmap": "gray", "vmin": 0.0, "vmax": 1.0, "interpolation": "nearest"}
"""``imshow`` settings for images in [0, 1]: black 0, white 1, one screen block per pixel."""
Z_LABELS = ("$z_1$", "$z_2$")
"""Axis labels of the two latent dimensions of the 2-D plots."""


# ----------------------------------------------------------------------------- input checks


def check_images(name: str, images: Any) -> np.ndarray:
    """(N, C, H, W) images in [0, 1] with N >= 1 and C in (1, 3), as float64; raise naming ``name`` otherwise."""
    array = as_array(name, images)
    if array.ndim != 4 or array.shape[0] == 0 or array.shape[1] not in (1, 3):
        raise ValueError(f"{name} must have shape (N, C, H, W) with N >= 1 and C in (1, 3), got {array.shape}")
    if not np.isfinite(array).all() or array.min() < 0.0 or array.max() > 1.0:
        raise ValueError(
            f"{name} must hold values in [0, 1] (probabilities, not logits), got values in "
            f"[{np.nanmin(array):.4g}, {np.nanmax(array):.4g}]"
        )
    return array


def check_codes(name: str, codes: Any) -> np.ndarray:
    """Finite 2-D latent codes, (N, 2) with N >= 1, as float64; raise naming ``name`` otherwise."""
    return check_matrix(name, as_array(name, codes), requirement="have shape (N, 2) with N >= 1", columns=2)


def check_labels(labels: Any, n: int) -> np.ndarray:
    """(n,) integer class labels >= 0 as int64."""
    array = labels.detach().cpu().numpy() if isinstance(labels, torch.Tensor) else np.asarray(labels)
    if array.shape != (n,) or not np.issubdtype(array.dtype, np.integer):
        raise ValueError(f"labels must be {n} integer class indices (shape ({n},)), got dtype {array.dtype} and shape {array.shape}")
    if n and array.min() < 0:
        raise ValueError(f"labels must be class indices >= 0, got minimum {array.min()}")
    return array.astype(np.int64)


def check_class_names(class_names: Sequence[str] | None, labels: np.ndarray) -> list[str]:
    """Names for classes 0..max(labels): ``class_names``, or the label numbers as text."""
    n_classes = int(labels.max()) + 1 if labels.size else 0
    if class_names is None:
        return [str(c) for c in range(n_classes)]
    if isinstance(class_names, str) or not isinstance(class_names, Sequence) or len(class_names) < n_classes:
        raise ValueError(f"class_names must be a sequence of at least {n_classes} names (one per class), got {class_names!r}")
    return [str(name) for name in class_names]


def check_axes(ax: Any) -> Axes | None:
    """``ax`` if it is a matplotlib Axes or None; TypeError otherwise."""
    if ax is not None and not isinstance(ax, Axes):
        raise TypeError(f"ax must be a matplotlib Axes or None, got {type(ax).__name__}")
    return ax


# ----------------------------------------------------------------------------- building blocks


def new_figure(width: float, height: float) -> Figure:
    """A pyplot-free figure of ``width`` x ``height`` inches with the constrained layout."""
    return Figure(figsize=(width, height), layout="constrained")


def figure_and_axes(ax: Axes | None, width: float, height: float) -> tuple[Figure, Axes]:
    """``ax`` and its figure, or a new ``width`` x ``height`` inch figure with one Axes."""
    if check_axes(ax) is not None:
        return ax.figure, ax
    figure = new_figure(width, height)
    return figure, figure.add_subplot()


def show_mosaic(ax: Axes, mosaic: np.ndarray) -> None:
    """Show a mosaic (H, W) or (H, W, 3) in [0, 1] (see :func:`~vaelib.plotting.tile_images`) without ticks."""
    ax.imshow(mosaic, **GREY)
    ax.set_xticks([])
    ax.set_yticks([])


def class_colours(n: int) -> list[tuple[float, ...]]:
    """Distinct RGBA colours for n classes: tab10 up to 10 classes, tab20 up to 20, then a hue wheel."""
    from matplotlib import colormaps

    if n <= 10:
        return [colormaps["tab10"](c) for c in range(n)]
    if n <= 20:
        return [colormaps["tab20"](c) for c in range(n)]
    return [colormaps["hsv"](c / n) for c in range(n)]


def evenly_spaced(n: int, k: int) -> np.ndarray:
    """Up to ``k`` distinct indices of ``range(n)`` spread evenly, first and last included (n, k >= 1).

    Returns
    -------
    numpy.ndarray of int64, (min(n, k),)
        Increasing: ``round(linspace(0, n - 1, min(n, k)))``.
    """
    return np.unique(np.linspace(0, n - 1, min(n, k)).round().astype(np.int64))
