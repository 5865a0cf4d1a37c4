"""Procedural dSprites: DeepMind's 2-D shapes factor grid, rendered on demand.

dSprites (Matthey, Higgins, Hassabis & Lerchner 2017, "dSprites: Disentanglement testing Sprites
dataset", https://github.com/deepmind/dsprites-dataset; used by Higgins et al. 2017, "beta-VAE",
ICLR) holds one binary 64x64 image for every combination of six ground-truth factors::

    color (1) x shape (3) x scale (6) x orientation (40) x posX (32) x posY (32) = 737,280 images

:class:`DSprites` re-creates that grid procedurally: same factors, sizes, published latent values
and flat index order (``latents_bases``), so indices and factor classes carry over. Images are
rendered from factor indices when asked for; the whole set is never stored. Pixels are not
byte-identical to DeepMind's files, which this module neither needs nor downloads.

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
import torch
from numpy.lib.stride_tricks import as_strided

FACTOR_NAMES: tuple[str, ...] = ("color", "shape", "scale", "orientation", "posX", "posY")
FACTOR_SIZES: tuple[int, ...] = (1, 3, 6, 40, 32, 32)
SHAPE_NAMES: tuple[str, ...] = ("square", "ellipse", "heart")
SUPPORTED_IMAGE_SIZES: tuple[int, ...] = (16, 32, 64)
SPRITE_RADIUS: float = 0.22
"""Circumradius of every shape at scale 1, as a fraction of the image side."""


def _read_only(array: np.ndarray) -> np.ndarray:
    array.setflags(write=False)
    return array


# dSprites' published ``latents_values`` grid, factor by factor.
_FACTOR_VALUES: tuple[np.ndarray, ...] = tuple(
    _read_only(values)
    for values in (
        np.array([1.0]),
        np.array([1.0, 2.0, 3.0]),
        np.linspace(0.5, 1.0, 6),
        np.linspace(0.0, 2.0 * np.pi, 40),
        np.linspace(0.0, 1.0, 32),
        np.linspace(0.0, 1.0, 32),
    )
)
# dSprites' published ``latents_bases``: index = factors @ bases (the last factor varies fastest).
_BASES: np.ndarray = _read_only(
    np.array([math.prod(FACTOR_SIZES[i + 1 :]) for i in range(len(FACTOR_SIZES))], dtype=np.int64)
)
_NUM_IMAGES: int = math.prod(FACTOR_SIZES)
_SHAPE, _SCALE, _ORIENTATION, _POS_X, _POS_Y = 1, 2, 3, 4, 5

# Shapes in units of their circumradius (see the module docstring).
_SQUARE_HALF_SIDE = 1.0 / math.sqrt(2.0)
_ELLIPSE_MINOR = 0.5
_HEART_HALF_DIAGONAL = 1.0 / math.sqrt(2.0)  # unit-side square standing on a corner
_HEART_DISC_CENTRE = 0.5 / math.sqrt(2.0)  # discs at (+-c, c), the midpoints of the upper sides
_HEART_CENTRE_Y = (_HEART_DISC_CENTRE + 0.5 - _HEART_HALF_DIAGONAL) / 2.0  # bounding-box centre
# The far sides of the discs lie farther from the centre than the bottom corner does.
_HEART_CIRCUMRADIUS = 0.5 + math.hypot(_HEART_DISC_CENTRE, _HEART_DISC_CENTRE - _HEART_CENTRE_Y)


def _inside_square(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    return np.maximum(np.abs(u), np.abs(v)) <= _SQUARE_HALF_SIDE


def _inside_ellipse(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    return u**2 + (v / _ELLIPSE_MINOR) ** 2 <= 1.0


def _inside_heart(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    x = np.abs(u) * _HEART_CIRCUMRADIUS  # the heart is mirror-symmetric in x
    y = v * _HEART_CIRCUMRADIUS + _HEART_CENTRE_Y
    in_square = x + np.abs(y) <= _HEART_HALF_DIAGONAL
    in_disc = (x - _HEART_DISC_CENTRE) ** 2 + (y - _HEART_DISC_CENTRE) ** 2 <= 0.25
    return in_square | in_disc


_INSIDE = (_inside_square, _inside_ellipse, _inside_heart)


def _rasterize(
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
    return _INSIDE[shape](cos * x + sin * y, cos * y - sin * x)


def _mask_radius(image_size: int) -> int:
    """Half-width R in pixels of the square window (2R + 1 pixels wide) holding any sprite."""
    return math.floor(SPRITE_RADIUS * image_size)


@functools.lru_cache(maxsize=None)
def _sprite_masks(image_size: int) -> np.ndarray:
    """All 3 * 6 * 40 centred sprites, shape ``(720, 2R + 1, 2R + 1)``, float32 in {0, 1}.

    Row ``(shape * 6 + scale) * 40 + orientation`` (factor class indices) holds that sprite with
    its centre on the middle pixel. Computed once per image size, on first use.
    """
    half = _mask_radius(image_size)
    offsets = np.arange(-half, half + 1, dtype=np.float64)
    scales = _FACTOR_VALUES[_SCALE][:, None, None, None]
    orientations = _FACTOR_VALUES[_ORIENTATION][None, :, None, None]
    masks = np.stack(
        [
            _rasterize(
                shape,
                scales,
                orientations,
                offsets[None, None, None, :],
                offsets[None, None, :, None],
                SPRITE_RADIUS * image_size,
            )
            for shape in range(FACTOR_SIZES[_SHAPE])
        ]
    )
    return _read_only(masks.reshape(-1, 2 * half + 1, 2 * half + 1).astype(np.float32))


def _is_int(value: object) -> bool:
    """Whether ``value`` is a Python or numpy integer (booleans excluded)."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _as_integer_array(values: npt.ArrayLike, name: str) -> np.ndarray:
    """``values`` as an int64 array; TypeError unless it holds integers (not booleans)."""
    array = np.asarray(values)
    if array.size == 0:
        return array.astype(np.int64)
    if array.dtype == np.bool_ or not np.issubdtype(array.dtype, np.integer):
        raise TypeError(f"{name} must hold integers, got dtype {array.dtype}")
    return array.astype(np.int64, copy=False)


def _as_generator(random_state: np.random.Generator | int) -> np.random.Generator:
    """A numpy Generator from ``random_state`` (a Generator, returned as is, or an int seed)."""
    if isinstance(random_state, np.random.Generator):
        return random_state
    if not _is_int(random_state):
        raise TypeError(
            f"random_state must be a numpy.random.Generator or an int seed, got {random_state!r}"
        )
    if random_state < 0:
        raise ValueError(f"random_state must be a non-negative seed, got {random_state}")
    return np.random.default_rng(int(random_state))


class DSprites:
    """dSprites' factor grid (Matthey et al. 2017), rendered on demand at ``image_size``.

    Factors, in dSprites' order, with their class counts (:attr:`factor_sizes`) and published
    latent values (:attr:`factor_values`):

    ============  =====  ======================================================
    color         1      1.0
    shape         3      1.0, 2.0, 3.0 (square, ellipse, heart)
    scale         6      linspace(0.5, 1, 6)
    orientation   40     linspace(0, 2*pi, 40) radians (0 and 2*pi coincide)
    posX          32     linspace(0, 1, 32), left to right
    posY          32     linspace(0, 1, 32), top to bottom
    ============  =====  ======================================================

    The flat index of a factor combination is ``factors @ (737280, 245760, 40960, 1024, 32, 1)``
    (dSprites' ``latents_bases``), so index ``i`` names the same factors as row ``i`` of
    dSprites' ``latents_classes``. The rendering geometry is described in the module docstring.

    Besides indexing (``len(data) == 737280``; ``data[i]`` is one image of shape ``(1, S, S)``,
    ``data[indices]`` a batch ``(N, 1, S, S)``) the class offers disentanglement_lib's
    ``GroundTruthData`` interface (Locatello et al. 2019) that disentanglement metrics use:
    :attr:`num_factors`, :attr:`factor_sizes`, :meth:`sample_factors`,
    :meth:`sample_observations_from_factors` and :meth:`sample`. Note that ``color`` is a factor
    with a single class, kept so that indices match dSprites; metrics that normalise by a factor's
    entropy must skip it.

    Images are CPU ``torch.float32`` tensors with values in {0.0, 1.0}. The 720 centred sprites
    of an image size are rasterised once, on first use, and shared by all instances; a batch is
    then placed by whole-pixel translation in one vectorised copy.

    Parameters
    ----------
    image_size
        Side S of the square images in pixels, one of :data:`SUPPORTED_IMAGE_SIZES`
        (16, 32, 64). 64 matches dSprites; all factor changes give distinct images there
        (see the module docstring), whereas smaller sizes merge neighbouring positions.
    """

    factor_names: tuple[str, ...] = FACTOR_NAMES
    factor_sizes: tuple[int, ...] = FACTOR_SIZES
    shape_names: tuple[str, ...] = SHAPE_NAMES

    def __init__(self, image_size: int = 64) -> None:
        if not _is_int(image_size):
            raise TypeError(f"image_size must be an int, got {image_size!r}")
        if image_size not in SUPPORTED_IMAGE_SIZES:
            raise ValueError(f"image_size must be one of {SUPPORTED_IMAGE_SIZES}, got {image_size}")
        self.image_size: int = int(image_size)
        half = _mask_radius(self.image_size)
        travel = self.image_size - 2 * half - 1
        # Top-left corner of the sprite window for each position class (whole pixels).
        self._corner: np.ndarray = _read_only(
            np.floor(_FACTOR_VALUES[_POS_X] * travel + 0.5).astype(np.int64)
        )

    def __repr__(self) -> str:
        return f"DSprites(image_size={self.image_size})"

    @property
    def num_factors(self) -> int:
        """Number of factors, 6 (color included)."""
        return len(self.factor_sizes)

    @property
    def factor_values(self) -> list[np.ndarray]:
        """dSprites' published latent values, one read-only float64 array per factor."""
        return list(_FACTOR_VALUES)

    @property
    def observation_shape(self) -> tuple[int, int, int]:
        """Shape ``(1, S, S)`` of one image."""
        return (1, self.image_size, self.image_size)

    def __len__(self) -> int:
        return _NUM_IMAGES

    def __getitem__(self, key: int | slice | npt.ArrayLike) -> torch.Tensor:
        """Images at flat indices.

        Parameters
        ----------
        key
            An int (returns one image, shape ``(1, S, S)``), a slice, or a 1-D array-like of
            ints (a list, numpy array or tensor; returns shape ``(N, 1, S, S)``).
        """
        if isinstance(key, slice):
            positions = range(_NUM_IMAGES)[key]
            key = np.arange(positions.start, positions.stop, positions.step, dtype=np.int64)
        images = self.render(self.index_to_factors(key))
        return images[0] if np.ndim(key) == 0 else images

    def index_to_factors(self, indices: npt.ArrayLike) -> npt.NDArray[np.int64]:
        """Factor class indices of flat indices (the rows of dSprites' ``latents_classes``).

        Parameters
        ----------
        indices
            Int or 1-D array-like of N ints in ``[0, 737280)``.

        Returns
        -------
        numpy.ndarray
            int64, shape ``(N, 6)`` (``N = 1`` for a scalar).
        """
        array = _as_integer_array(indices, "indices")
        if array.ndim > 1:
            raise ValueError(f"indices must be an int or 1-D, got shape {array.shape}")
        array = array.reshape(-1)
        bad = array[(array < 0) | (array >= _NUM_IMAGES)]
        if bad.size:
            raise ValueError(f"indices must lie in [0, {_NUM_IMAGES}), got {bad[0]}")
        return (array[:, None] // _BASES) % np.asarray(FACTOR_SIZES)

    def factors_to_index(self, factors: npt.ArrayLike) -> npt.NDArray[np.int64]:
        """Flat indices of factor class indices; inverse of :meth:`index_to_factors`.

        Parameters
        ----------
        factors
            Integer array-like, shape ``(N, 6)``, column ``k`` in ``[0, factor_sizes[k])``.

        Returns
        -------
        numpy.ndarray
            int64, shape ``(N,)``.
        """
        return self._check_factors(factors) @ _BASES

    def render(self, factors: npt.ArrayLike) -> torch.Tensor:
        """Images of factor class indices.

        Parameters
        ----------
        factors
            Integer array-like, shape ``(N, 6)``, column ``k`` in ``[0, factor_sizes[k])``.

        Returns
        -------
        torch.Tensor
            float32 on the CPU, shape ``(N, 1, S, S)``, values in {0.0, 1.0}.
        """
        factors = self._check_factors(factors)
        masks = _sprite_masks(self.image_size)
        width = masks.shape[-1]
        size = self.image_size
        sprite = np.ravel_multi_index(
            (factors[:, _SHAPE], factors[:, _SCALE], factors[:, _ORIENTATION]),
            FACTOR_SIZES[_SHAPE : _POS_X],
        )
        images = np.zeros((len(factors), size, size), dtype=np.float32)
        # windows[n, top, left] is the width x width block of image n with corner (top, left).
        image_stride, row_stride, col_stride = images.strides
        windows = as_strided(
            images,
            shape=(len(factors), size - width + 1, size - width + 1, width, width),
            strides=(image_stride, row_stride, col_stride, row_stride, col_stride),
            writeable=True,
        )
        top, left = self._corner[factors[:, _POS_Y]], self._corner[factors[:, _POS_X]]
        windows[np.arange(len(factors)), top, left] = masks[sprite]
        return torch.from_numpy(images).unsqueeze(1)

    def sample_factors(
        self, n: int, random_state: np.random.Generator | int
    ) -> npt.NDArray[np.int64]:
        """Draw factor class indices uniformly and independently (disentanglement_lib interface).

        Parameters
        ----------
        n
            Number of samples, >= 0.
        random_state
            numpy Generator (advanced in place) or int seed.

        Returns
        -------
        numpy.ndarray
            int64, shape ``(n, 6)``.
        """
        if not _is_int(n):
            raise TypeError(f"n must be an int, got {n!r}")
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        rng = _as_generator(random_state)
        return rng.integers(0, FACTOR_SIZES, size=(int(n), self.num_factors), dtype=np.int64)

    def sample_observations_from_factors(
        self, factors: npt.ArrayLike, random_state: np.random.Generator | int
    ) -> torch.Tensor:
        """Images of factor class indices (disentanglement_lib interface).

        Rendering is deterministic, so ``random_state`` (a numpy Generator or int seed) is only
        checked, as for dSprites in disentanglement_lib. Shapes as in :meth:`render`:
        ``(N, 6)`` integers in, ``(N, 1, S, S)`` float32 out.
        """
        _as_generator(random_state)
        return self.render(factors)

    def sample(
        self, n: int, random_state: np.random.Generator | int
    ) -> tuple[npt.NDArray[np.int64], torch.Tensor]:
        """Draw ``n`` factor combinations and their images.

        Returns
        -------
        tuple
            Factor class indices (int64, shape ``(n, 6)``) and images (float32, shape
            ``(n, 1, S, S)``).
        """
        factors = self.sample_factors(n, random_state)
        return factors, self.render(factors)

    def sampler(self, batch_size: int, seed: int = 0) -> DSpritesSampler:
        """An endless stream of freshly drawn minibatches, for training on the whole factor grid.

        ``fit(model, DSprites(64).sampler(64, seed=0), steps=...)`` trains on uniformly drawn
        factor combinations, a new batch at every step, without ever storing the data set
        (737,280 images are 12 GB as float32 at 64 x 64). See :class:`DSpritesSampler`.
        """
        return DSpritesSampler(self, batch_size, seed)

    def _check_factors(self, factors: npt.ArrayLike) -> np.ndarray:
        """``factors`` as int64 ``(N, 6)`` after checking its shape and per-factor ranges."""
        array = _as_integer_array(factors, "factors")
        if array.ndim != 2 or array.shape[1] != self.num_factors:
            raise ValueError(f"factors must have shape (N, {self.num_factors}), got {array.shape}")
        for column, (name, size) in enumerate(zip(self.factor_names, self.factor_sizes)):
            bad = array[(array[:, column] < 0) | (array[:, column] >= size), column]
            if bad.size:
                raise ValueError(
                    f"factors[:, {column}] ({name}) must lie in [0, {size}), got {bad[0]}"
                )
        return array


class DSpritesSampler:
    """Minibatches of dSprites images whose factors are drawn uniformly, one batch per call.

    ``sampler()`` (or ``next(sampler)``) returns a float32 batch ``(batch_size, 1, S, S)`` of
    images of factor combinations drawn independently and uniformly from the grid (with
    replacement), as disentanglement_lib's training input functions do. The stream is endless and
    seeded: two samplers with the same seed give the same batches, and :meth:`state_dict` /
    :meth:`load_state_dict` (the numpy generator's state, plain Python values) let
    :func:`vaelib.fit` resume it exactly.

    Parameters
    ----------
    data
        The :class:`DSprites` to render.
    batch_size
        Images per batch, >= 1.
    seed
        Seed of the factor draws, >= 0.
    """

    def __init__(self, data: DSprites, batch_size: int, seed: int = 0) -> None:
        if not isinstance(data, DSprites):
            raise TypeError(f"data must be a DSprites, got {type(data).__name__}")
        if not _is_int(batch_size):
            raise TypeError(f"batch_size must be an int, got {batch_size!r}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.data = data
        self.batch_size = int(batch_size)
        self.generator = _as_generator(seed)

    def __repr__(self) -> str:
        return f"DSpritesSampler({self.data!r}, batch_size={self.batch_size})"

    def __call__(self) -> torch.Tensor:
        """The next batch: float32 images ``(batch_size, 1, S, S)``."""
        return self.data.render(self.data.sample_factors(self.batch_size, self.generator))

    def __iter__(self) -> DSpritesSampler:
        return self

    def __next__(self) -> torch.Tensor:
        return self()

    def state_dict(self) -> dict:
        """The position in the stream: the generator's state as plain Python values."""
        return {"bit_generator": self.generator.bit_generator.state}

    def load_state_dict(self, state: dict) -> None:
        """Continue the stream from a :meth:`state_dict`."""
        if not isinstance(state, dict) or "bit_generator" not in state:
            raise ValueError(f"state must come from DSpritesSampler.state_dict(), got {state!r:.80}")
        self.generator.bit_generator.state = state["bit_generator"]
