"""Procedural dSprites: DeepMind's 2-D shapes factor grid, rendered on demand.

dSprites (Matthey, Higgins, Hassabis & Lerchner 2017, "dSprites: Disentanglement testing Sprites
dataset", https://github.com/deepmind/dsprites-dataset; used by Higgins et al. 2017, "beta-VAE",
ICLR) holds one binary 64x64 image for every combination of its ground-truth factors::

    shape (3) x scale (6) x orientation (40) x posX (32) x posY (32) = 737,280 images

(DeepMind's files also list a constant ``color`` factor with one value; like disentanglement_lib's
``dsprites_full`` the factors here leave it out, so factor rows are ``latents_classes[:, 1:]``.)
:class:`DSprites` re-creates that grid procedurally: same factors, sizes, published latent values
and flat index order (``latents_bases``), so indices and factor classes carry over. Images are
rendered from factor indices when asked for; the whole set is never stored. Pixels are not
byte-identical to DeepMind's files, which this module neither needs nor downloads; users who have
the file can read it with :meth:`DSprites.from_npz` instead.

The sprites' geometry (shapes, sizes, rotation, pixel placement) is described and rasterised in
:mod:`vaelib.data.sprites`.
"""
from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch
from numpy.lib.stride_tricks import as_strided

from vaelib.data.sprites import ORIENTATIONS, SCALES, SHAPE_NAMES, SPRITE_RADIUS, mask_radius, sprite_masks
from vaelib.rng import numpy_generator
from vaelib.validation import is_integer

__all__ = ["FACTOR_NAMES", "FACTOR_SIZES", "NPZ_FILE_NAME", "OBSERVATION_LAYOUTS", "SHAPE_NAMES", "SPRITE_RADIUS",
           "SUPPORTED_IMAGE_SIZES", "DSprites", "DSpritesFile", "DSpritesSampler"]

FACTOR_NAMES: tuple[str, ...] = ("shape", "scale", "orientation", "posX", "posY")
FACTOR_SIZES: tuple[int, ...] = (3, 6, 40, 32, 32)
SUPPORTED_IMAGE_SIZES: tuple[int, ...] = (16, 32, 64)
OBSERVATION_LAYOUTS: tuple[str, ...] = ("torch", "numpy")
"""``DSprites(observations=...)``: ``"torch"`` float32 tensors (N, 1, S, S) for vaelib models, or
``"numpy"`` float32 arrays (N, S, S, 1), the layout of disentanglement_lib's ``dsprites_full``."""
NPZ_FILE_NAME = "dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz"
"""DeepMind's file (https://github.com/deepmind/dsprites-dataset), read by :meth:`DSprites.from_npz`."""


def _read_only(array: np.ndarray) -> np.ndarray:
    array.setflags(write=False)
    return array


# dSprites' published ``latents_values`` grid, factor by factor.
_FACTOR_VALUES: tuple[np.ndarray, ...] = tuple(
    _read_only(values)
    for values in (
        np.array([1.0, 2.0, 3.0]),
        SCALES,
        ORIENTATIONS,
        np.linspace(0.0, 1.0, 32),
        np.linspace(0.0, 1.0, 32),
    )
)
# dSprites' published ``latents_bases``: index = factors @ bases (the last factor varies fastest).
_BASES: np.ndarray = _read_only(
    np.array([math.prod(FACTOR_SIZES[i + 1 :]) for i in range(len(FACTOR_SIZES))], dtype=np.int64)
)
_NUM_IMAGES: int = math.prod(FACTOR_SIZES)
_SHAPE, _SCALE, _ORIENTATION, _POS_X, _POS_Y = 0, 1, 2, 3, 4


def _as_integer_array(values: npt.ArrayLike, name: str) -> np.ndarray:
    """``values`` as an int64 array; TypeError unless it holds integers (not booleans)."""
    array = np.asarray(values)
    if array.size == 0:
        return array.astype(np.int64)
    if array.dtype == np.bool_ or not np.issubdtype(array.dtype, np.integer):
        raise TypeError(f"{name} must hold integers, got dtype {array.dtype}")
    return array.astype(np.int64, copy=False)


def _check_count(name: str, n: Any) -> int:
    if not is_integer(n):
        raise TypeError(f"{name} must be an int, got {n!r}")
    if n < 0:
        raise ValueError(f"{name} must be >= 0, got {n}")
    return int(n)


class DSprites:
    """dSprites' factor grid (Matthey et al. 2017), rendered on demand at ``image_size``.

    Factors, in dSprites' order, with their class counts (:attr:`factor_sizes`) and published
    latent values (:attr:`factor_values`):

    ============  =====  ======================================================
    shape         3      1.0, 2.0, 3.0 (square, ellipse, heart)
    scale         6      linspace(0.5, 1, 6)
    orientation   40     linspace(0, 2*pi, 40) radians (0 and 2*pi coincide)
    posX          32     linspace(0, 1, 32), left to right
    posY          32     linspace(0, 1, 32), top to bottom
    ============  =====  ======================================================

    dSprites' files also list a constant ``color`` factor (one class, white); it is left out here,
    as in disentanglement_lib's ``dsprites_full``. The flat index of a factor combination is
    ``factors @ (245760, 40960, 1024, 32, 1)`` (dSprites' ``latents_bases`` without color's), so
    index ``i`` names the factors of row ``i`` of dSprites' ``latents_classes[:, 1:]``. The
    rendering geometry is described in :mod:`vaelib.data.sprites`.

    Besides indexing (``len(data) == 737280``; ``data[i]`` is one image of shape ``(1, S, S)``,
    ``data[indices]`` a batch ``(N, 1, S, S)``) and training batches (:meth:`sampler`), the class
    is a drop-in for disentanglement_lib's ``GroundTruthData`` (Locatello et al. 2019):
    :attr:`num_factors`, :attr:`factors_num_values`, :attr:`observation_shape`,
    :attr:`observation_factor_names`, :meth:`sample_factors`,
    :meth:`sample_observations_from_factors`, :meth:`sample` and :meth:`sample_observations`,
    each ``random_state`` an int seed, a :class:`numpy.random.Generator` or a legacy
    :class:`numpy.random.RandomState` (advanced in place). With ``observations="numpy"`` the
    observations are float32 arrays ``(N, S, S, 1)``, as disentanglement_lib's own ``DSprites``
    gives them, so metric code written against that interface runs unchanged.

    Images are binary (values in {0.0, 1.0}). The 720 centred sprites of an image size are
    rasterised once, on first use, and shared by all instances; a batch is then placed by
    whole-pixel translation in one vectorised copy.

    Parameters
    ----------
    image_size
        Side S of the square images in pixels, one of :data:`SUPPORTED_IMAGE_SIZES`
        (16, 32, 64). 64 matches dSprites; all factor changes give distinct images there
        (see :mod:`vaelib.data.sprites`), whereas smaller sizes merge neighbouring positions.
    observations
        Layout of what the ground-truth-data methods return (:data:`OBSERVATION_LAYOUTS`):
        ``"torch"`` (default) CPU float32 tensors ``(N, 1, S, S)``, what vaelib's models take;
        ``"numpy"`` float32 arrays ``(N, S, S, 1)``. :meth:`render`, indexing and
        :meth:`sampler` always give tensors.
    """

    factor_names: tuple[str, ...] = FACTOR_NAMES
    factor_sizes: tuple[int, ...] = FACTOR_SIZES
    shape_names: tuple[str, ...] = SHAPE_NAMES

    def __init__(self, image_size: int = 64, observations: str = "torch") -> None:
        if not is_integer(image_size):
            raise TypeError(f"image_size must be an int, got {image_size!r}")
        if image_size not in SUPPORTED_IMAGE_SIZES:
            raise ValueError(f"image_size must be one of {SUPPORTED_IMAGE_SIZES}, got {image_size}")
        if observations not in OBSERVATION_LAYOUTS:
            raise ValueError(f"observations must be one of {OBSERVATION_LAYOUTS}, got {observations!r}")
        self.image_size: int = int(image_size)
        self.observations = observations
        half = mask_radius(self.image_size)
        travel = self.image_size - 2 * half - 1
        # Top-left corner of the sprite window for each position class (whole pixels).
        self._corner: np.ndarray = _read_only(
            np.floor(_FACTOR_VALUES[_POS_X] * travel + 0.5).astype(np.int64)
        )

    def __repr__(self) -> str:
        layout = "" if self.observations == "torch" else f", observations={self.observations!r}"
        return f"{type(self).__name__}(image_size={self.image_size}{layout})"

    # -- disentanglement_lib's ground-truth data ---------------------------------------------
    @property
    def num_factors(self) -> int:
        """Number of factors, 5."""
        return len(self.factor_sizes)

    @property
    def factors_num_values(self) -> list[int]:
        """Classes per factor, ``[3, 6, 40, 32, 32]`` (disentanglement_lib's name for :attr:`factor_sizes`)."""
        return list(self.factor_sizes)

    @property
    def observation_factor_names(self) -> list[str]:
        """The names of the factors, in column order."""
        return list(self.factor_names)

    @property
    def factor_values(self) -> list[np.ndarray]:
        """dSprites' published latent values, one read-only float64 array per factor."""
        return list(_FACTOR_VALUES)

    @property
    def observation_shape(self) -> tuple[int, int, int]:
        """Shape of one observation: ``(1, S, S)``, or ``(S, S, 1)`` with ``observations="numpy"``."""
        side = self.image_size
        return (1, side, side) if self.observations == "torch" else (side, side, 1)

    def sample_factors(self, num: int, random_state: Any) -> npt.NDArray[np.int64]:
        """Draw factor class indices uniformly and independently.

        Parameters
        ----------
        num
            Number of samples, >= 0.
        random_state
            int seed, :class:`numpy.random.Generator` or :class:`numpy.random.RandomState`.

        Returns
        -------
        numpy.ndarray
            int64, shape ``(num, 5)``.
        """
        num = _check_count("n", num)
        rng = numpy_generator(random_state)
        return rng.integers(0, FACTOR_SIZES, size=(num, self.num_factors), dtype=np.int64)

    def sample_observations_from_factors(self, factors: npt.ArrayLike, random_state: Any) -> Any:
        """Images of factor class indices ``(N, 5)``, in the layout of ``observations``.

        Rendering is deterministic, so ``random_state`` is only checked, as for dSprites in
        disentanglement_lib.
        """
        numpy_generator(random_state)
        images = self.render(factors)
        return images if self.observations == "torch" else images.numpy().transpose(0, 2, 3, 1).copy()

    def sample(self, num: int, random_state: Any) -> tuple[npt.NDArray[np.int64], Any]:
        """Draw ``num`` factor combinations and their images: ``(factors (num, 5), observations)``."""
        factors = self.sample_factors(num, random_state)
        return factors, self.sample_observations_from_factors(factors, random_state)

    def sample_observations(self, num: int, random_state: Any) -> Any:
        """``num`` images of uniformly drawn factors (the second item of :meth:`sample`)."""
        return self.sample(num, random_state)[1]

    # -- indices and images -----------------------------------------------------------------
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
        """Factor class indices of flat indices (the rows of dSprites' ``latents_classes[:, 1:]``).

        Parameters
        ----------
        indices
            Int or 1-D array-like of N ints in ``[0, 737280)``.

        Returns
        -------
        numpy.ndarray
            int64, shape ``(N, 5)`` (``N = 1`` for a scalar).
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
        """Flat indices of factor class indices ``(N, 5)``; inverse of :meth:`index_to_factors`."""
        return self._check_factors(factors) @ _BASES

    def render(self, factors: npt.ArrayLike) -> torch.Tensor:
        """Images of factor class indices.

        Parameters
        ----------
        factors
            Integer array-like, shape ``(N, 5)``, column ``k`` in ``[0, factor_sizes[k])``.

        Returns
        -------
        torch.Tensor
            float32 on the CPU, shape ``(N, 1, S, S)``, values in {0.0, 1.0}.
        """
        factors = self._check_factors(factors)
        masks = sprite_masks(self.image_size)
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

    def sampler(self, batch_size: int, seed: int = 0) -> DSpritesSampler:
        """An endless stream of freshly drawn minibatches, for training on the whole factor grid.

        ``fit(model, DSprites(64).sampler(64, seed=0), steps=...)`` trains on uniformly drawn
        factor combinations, a new batch at every step, without ever storing the data set
        (737,280 images are 12 GB as float32 at 64 x 64). See :class:`DSpritesSampler`.
        """
        return DSpritesSampler(self, batch_size, seed)

    def _check_factors(self, factors: npt.ArrayLike) -> np.ndarray:
        """``factors`` as int64 ``(N, 5)`` after checking its shape and per-factor ranges."""
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

    # -- DeepMind's file ----------------------------------------------------------------------
    @classmethod
    def from_npz(cls, path: str | os.PathLike, observations: str = "torch") -> DSpritesFile:
        """DeepMind's own images, read from their ``dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz``.

        The file holds ``imgs`` (N, 64, 64) uint8 and ``latents_classes`` (N, 6) (color first);
        its pickled ``metadata`` is never loaded. The result behaves like ``DSprites(64)``, with
        the file's pixels in place of the procedural ones; a file holding only some of the
        combinations can be read too (factors are then sampled among its rows, and rendering a
        combination it lacks is an error). The full file is 3 GB in memory (uint8).
        """
        return DSpritesFile(path, observations)


class DSpritesFile(DSprites):
    """:class:`DSprites` whose images are the rows of DeepMind's npz file (see :meth:`DSprites.from_npz`)."""

    def __init__(self, path: str | os.PathLike, observations: str = "torch") -> None:
        super().__init__(64, observations)
        self.path = Path(path)
        with np.load(self.path, allow_pickle=False) as archive:
            missing = {"imgs", "latents_classes"} - set(archive.files)
            if missing:
                raise ValueError(f"{str(self.path)!r} is not a dSprites npz: it lacks {sorted(missing)}")
            images, classes = archive["imgs"], archive["latents_classes"]
        if images.ndim != 3 or images.shape[1:] != (64, 64) or classes.shape != (len(images), 6):
            raise ValueError(
                f"{str(self.path)!r} must hold imgs (N, 64, 64) and latents_classes (N, 6), got "
                f"{images.shape} and {classes.shape}"
            )
        self.images = images
        self.rows_factors = self._check_factors(classes[:, 1:])
        self._row = np.full(_NUM_IMAGES, -1, dtype=np.int64)
        self._row[self.rows_factors @ _BASES] = np.arange(len(images))

    def __repr__(self) -> str:
        return f"DSprites.from_npz({str(self.path)!r}, {len(self.images)} images)"

    def render(self, factors: npt.ArrayLike) -> torch.Tensor:
        """The file's images of factor class indices ``(N, 5)``: float32 ``(N, 1, 64, 64)``."""
        rows = self._row[self._check_factors(factors) @ _BASES]
        if (rows < 0).any():
            raise ValueError(f"{str(self.path)!r} has no image of the factors {np.asarray(factors)[rows < 0][0].tolist()}")
        return torch.from_numpy(self.images[rows].astype(np.float32)).unsqueeze(1)

    def sample_factors(self, num: int, random_state: Any) -> npt.NDArray[np.int64]:
        """Factors of ``num`` rows of the file drawn uniformly (for the full file: uniform factors)."""
        num = _check_count("n", num)
        rows = numpy_generator(random_state).integers(0, len(self.rows_factors), size=num)
        return self.rows_factors[rows]


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
        if not is_integer(batch_size):
            raise TypeError(f"batch_size must be an int, got {batch_size!r}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.data = data
        self.batch_size = int(batch_size)
        self.generator = numpy_generator(seed)

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
