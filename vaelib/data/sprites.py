"""The sprites of dSprites: three shapes, drawn at any scale and orientation, rasterised to pixels.

Geometry (in pixels of an ``S x S`` image, rows down, columns right):

* Every shape is scaled so that its circumradius about its rotation centre is
  ``scale * SPRITE_RADIUS * S`` (``SPRITE_RADIUS = 0.22``; 14.1 px at scale 1 and ``S = 64``).
  In units of that radius: the square has half-side ``1/sqrt(2)``; the ellipse has semi-axes
  1 (horizontal at orientation 0) and 1/2; the heart is the classic union of a unit-side square
  standing on a corner and two discs of diameter 1 centred on the midpoints of its two upper
  sides, centred on its bounding box and divided by its circumradius about that centre (area
  ``(1 + pi/4) / 0.9512^2`` in these units).
* A shape rotates counter-clockwise (as seen on screen) by ``orientation`` radians about its
  centre. Orientations 0 and 2*pi are the same rotation, so their images coincide, as in dSprites.
* A pixel is foreground (1.0) when its centre lies inside the shape; images are binary.
* With ``R = floor(SPRITE_RADIUS * S)`` the sprite centre sits at pixel
  ``(row, column) = (R + round(posY * (S - 2R - 1)), R + round(posX * (S - 2R - 1)))``: posX moves
  the sprite right, posY moves it down, every translation is a whole number of pixels and the
  sprite never leaves the frame. At ``S = 64`` the 32 positions are 32 distinct columns (rows);
  at smaller sizes neighbouring positions can share a pixel.

The radius 0.22 makes every change of scale, of shape, of position, and of orientation within a
shape's symmetry period (square: < pi/2, ellipse: < pi, heart: < 2*pi) change the 64x64 image;
at 0.20 two orientations of the smallest square already coincide. Orientations a symmetry period
apart (e.g. a square turned by 2*pi*10/39, about pi/2) can coincide, as in dSprites.
"""
from __future__ import annotations

import functools
import math

import numpy as np
import numpy.typing as npt

__all__ = ["INSIDE", "ORIENTATIONS", "SCALES", "SHAPE_NAMES", "SPRITE_RADIUS", "mask_radius", "rasterize", "sprite_masks"]

SHAPE_NAMES: tuple[str, ...] = ("square", "ellipse", "heart")
SPRITE_RADIUS: float = 0.22
"""Circumradius of every shape at scale 1, as a fraction of the image side."""
SCALES: np.ndarray = np.linspace(0.5, 1.0, 6)
"""dSprites' six scales (its published ``latents_values`` of the scale factor)."""
ORIENTATIONS: np.ndarray = np.linspace(0.0, 2.0 * np.pi, 40)
"""dSprites' 40 orientations in radians (0 and 2*pi coincide)."""
SCALES.setflags(write=False)
ORIENTATIONS.setflags(write=False)

# Shapes in units of their circumradius (see the module docstring).
_SQUARE_HALF_SIDE = 1.0 / math.sqrt(2.0)
_ELLIPSE_MINOR = 0.5
_HEART_HALF_DIAGONAL = 1.0 / math.sqrt(2.0)  # unit-side square standing on a corner
_HEART_DISC_CENTRE = 0.5 / math.sqrt(2.0)  # discs at (+-c, c), the midpoints of the upper sides
_HEART_CENTRE_Y = (_HEART_DISC_CENTRE + 0.5 - _HEART_HALF_DIAGONAL) / 2.0  # bounding-box centre
# The far sides of the discs lie farther from the centre than the bottom corner does.
_HEART_CIRCUMRADIUS = 0.5 + math.hypot(_HEART_DISC_CENTRE, _HEART_DISC_CENTRE - _HEART_CENTRE_Y)


def inside_square(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    return np.maximum(np.abs(u), np.abs(v)) <= _SQUARE_HALF_SIDE


def inside_ellipse(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    return u**2 + (v / _ELLIPSE_MINOR) ** 2 <= 1.0


def inside_heart(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    x = np.abs(u) * _HEART_CIRCUMRADIUS  # the heart is mirror-symmetric in x
    y = v * _HEART_CIRCUMRADIUS + _HEART_CENTRE_Y
    in_square = x + np.abs(y) <= _HEART_HALF_DIAGONAL
    in_disc = (x - _HEART_DISC_CENTRE) ** 2 + (y - _HEART_DISC_CENTRE) ** 2 <= 0.25
    return in_square | in_disc


INSIDE = (inside_square, inside_ellipse, inside_heart)
"""Inside-tests of the shapes of :data:`SHAPE_NAMES`, in that order: ``(u, v) -> bool array``."""


def rasterize(
    shape: int,
    scale: npt.ArrayLike,
    orientation: npt.ArrayLike,
    d_col: npt.ArrayLike,
    d_row: npt.ArrayLike,
    radius_px: float,
) -> np.ndarray:
    """Whether pixel centres lie inside a sprite (the shape of :data:`SHAPE_NAMES` at ``shape``).

    ``scale`` and ``orientation`` (radians) are latent values; ``d_col`` (right) and ``d_row``
    (down) are pixel offsets from the sprite centre; ``radius_px`` is the circumradius at scale 1
    in pixels. All array arguments broadcast together; the result has their broadcast shape.
    """
    angle = np.mod(orientation, 2.0 * np.pi)  # 2*pi is the rotation 0, exactly
    size = np.multiply(scale, radius_px)
    x = np.divide(d_col, size)
    y = -np.divide(d_row, size)  # y up, so positive angles turn counter-clockwise on screen
    cos, sin = np.cos(angle), np.sin(angle)
    return INSIDE[shape](cos * x + sin * y, cos * y - sin * x)


def mask_radius(image_size: int) -> int:
    """Half-width R in pixels of the square window (2R + 1 pixels wide) holding any sprite."""
    return math.floor(SPRITE_RADIUS * image_size)


@functools.lru_cache(maxsize=None)
def sprite_masks(image_size: int) -> np.ndarray:
    """All 3 * 6 * 40 centred sprites, shape ``(720, 2R + 1, 2R + 1)``, float32 in {0, 1}, read-only.

    Row ``(shape * 6 + scale) * 40 + orientation`` (class indices of :data:`SHAPE_NAMES`,
    :data:`SCALES`, :data:`ORIENTATIONS`) holds that sprite with
    its centre on the middle pixel. Computed once per image size, on first use.
    """
    half = mask_radius(image_size)
    offsets = np.arange(-half, half + 1, dtype=np.float64)
    scales = SCALES[:, None, None, None]
    orientations = ORIENTATIONS[None, :, None, None]
    masks = np.stack(
        [
            rasterize(
                shape,
                scales,
                orientations,
                offsets[None, None, None, :],
                offsets[None, None, :, None],
                SPRITE_RADIUS * image_size,
            )
            for shape in range(len(SHAPE_NAMES))
        ]
    )
    masks = masks.reshape(-1, 2 * half + 1, 2 * half + 1).astype(np.float32)
    masks.setflags(write=False)
    return masks
