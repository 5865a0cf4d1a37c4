"""Tests for vaelib.data.dsprites: the factor grid against dSprites' published values (Matthey et
al. 2017), images against closed-form shapes, and argument checking."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from vaelib.data.dsprites import DSprites

# Published in dSprites' README / npz metadata, without the constant color factor (one class),
# which vaelib leaves out as disentanglement_lib's dsprites_full does.
PUBLISHED_SIZES = (3, 6, 40, 32, 32)
PUBLISHED_BASES = (245760, 40960, 1024, 32, 1)
PUBLISHED_COUNT = 737280
SIZES = (16, 32, 64)
RHO = 0.22  # documented circumradius at scale 1, as a fraction of the image side


@pytest.fixture(scope="module", params=SIZES)
def data(request: pytest.FixtureRequest) -> DSprites:
    return DSprites(request.param)


@pytest.fixture(scope="module")
def data64() -> DSprites:
    return DSprites(64)


def grid(**fixed: int | np.ndarray) -> np.ndarray:
    """Factor rows (N, 5): the Cartesian product of the given classes (ints or 1-D arrays)."""
    names = ("shape", "scale", "orientation", "posX", "posY")
    axes = [np.atleast_1d(fixed.get(name, 0)) for name in names]
    return np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, 5)


def all_sprites(pos_x: int | np.ndarray, pos_y: int | np.ndarray) -> np.ndarray:
    """Factor rows of all 3 * 6 * 40 sprites (shape-major) at the given positions."""
    every = {"shape": np.arange(3), "scale": np.arange(6), "orientation": np.arange(40)}
    return grid(**every, posX=pos_x, posY=pos_y)


def foreground(images: torch.Tensor) -> np.ndarray:
    return images.numpy()[:, 0] > 0.5


def heart_constants() -> tuple[float, float]:
    """(bounding-box centre y, circumradius) of the heart built from a unit-side square standing
    on a corner (half-diagonal 1/sqrt2) and discs of radius 1/2 on its upper sides' midpoints."""
    c = 1 / (2 * math.sqrt(2))
    top, bottom = c + 0.5, -1 / math.sqrt(2)
    centre = (top + bottom) / 2
    to_disc = math.sqrt(c**2 + (c - centre) ** 2)
    return centre, max(0.5 + to_disc, centre - bottom)


def expected_image(row: np.ndarray, size: int) -> np.ndarray:
    """Independent rasterisation of one factor row from the documented geometry, (size, size)."""
    shape, scale_i, orient_i, pos_x, pos_y = (int(v) for v in row)
    half = math.floor(RHO * size)
    travel = size - 2 * half - 1
    centre_col = half + math.floor(pos_x / 31 * travel + 0.5)
    centre_row = half + math.floor(pos_y / 31 * travel + 0.5)
    radius = (0.5 + 0.1 * scale_i) * RHO * size
    theta = 2 * math.pi * (orient_i % 39) / 39
    rows, cols = np.mgrid[0:size, 0:size].astype(float)
    x, y = (cols - centre_col) / radius, (centre_row - rows) / radius
    # a point of the rotated shape, rotated back by -theta, lies in the unrotated shape
    u = x * math.cos(theta) + y * math.sin(theta)
    v = -x * math.sin(theta) + y * math.cos(theta)
    if shape == 0:
        return (np.abs(u) <= 1 / math.sqrt(2)) & (np.abs(v) <= 1 / math.sqrt(2))
    if shape == 1:
        return u**2 / 1.0 + v**2 / 0.25 <= 1
    centre, circumradius = heart_constants()
    hx, hy = u * circumradius, v * circumradius + centre
    c = 1 / (2 * math.sqrt(2))
    diamond = np.abs(hx) + np.abs(hy) <= 1 / math.sqrt(2)
    discs = ((hx - c) ** 2 + (hy - c) ** 2 <= 0.25) | ((hx + c) ** 2 + (hy - c) ** 2 <= 0.25)
    return diamond | discs


def count_distinct(images: np.ndarray) -> int:
    """Number of distinct boolean images in a stack (N, ...)."""
    packed = np.packbits(images.reshape(len(images), -1), axis=1)
    return len({row.tobytes() for row in packed})


# ---------------------------------------------------------------- factor grid and indices


def test_grid_matches_published_dsprites(data64: DSprites) -> None:
    assert data64.factor_names == ("shape", "scale", "orientation", "posX", "posY")
    assert data64.factor_sizes == PUBLISHED_SIZES
    assert data64.num_factors == 5 and data64.factors_num_values == list(PUBLISHED_SIZES)
    assert data64.observation_factor_names == list(data64.factor_names)
    assert len(data64) == PUBLISHED_COUNT == 3 * 6 * 40 * 32 * 32
    values = data64.factor_values
    assert [len(v) for v in values] == list(PUBLISHED_SIZES)
    np.testing.assert_array_equal(values[0], [1.0, 2.0, 3.0])
    np.testing.assert_allclose(values[1], [0.5, 0.6, 0.7, 0.8, 0.9, 1.0], rtol=0, atol=1e-12)
    np.testing.assert_allclose(values[2], [2 * math.pi * k / 39 for k in range(40)], atol=1e-12)
    assert values[2][0] == 0.0 and values[2][-1] == pytest.approx(2 * math.pi, abs=1e-15)
    for axis in (3, 4):
        np.testing.assert_allclose(values[axis], [k / 31 for k in range(32)], atol=1e-12)
    assert data64.shape_names == ("square", "ellipse", "heart")
    assert data64.observation_shape == (1, 64, 64)


def test_factor_values_cannot_be_mutated(data64: DSprites) -> None:
    with pytest.raises(ValueError, match="read-only"):
        data64.factor_values[1][0] = 7.0


def test_index_bases_are_the_published_latents_bases(data64: DSprites) -> None:
    units = np.eye(5, dtype=np.int64)
    np.testing.assert_array_equal(data64.factors_to_index(units), PUBLISHED_BASES)
    np.testing.assert_array_equal(data64.index_to_factors(list(PUBLISHED_BASES)), units)
    last = data64.index_to_factors(PUBLISHED_COUNT - 1)
    np.testing.assert_array_equal(last, [[2, 5, 39, 31, 31]])


def test_all_indices_round_trip_in_latents_classes_order(data64: DSprites) -> None:
    indices = np.arange(PUBLISHED_COUNT)
    factors = data64.index_to_factors(indices)
    assert factors.shape == (PUBLISHED_COUNT, 5) and factors.dtype == np.int64
    # latents_classes enumerates the grid in C order (the last factor fastest).
    np.testing.assert_array_equal(factors, np.indices(PUBLISHED_SIZES).reshape(5, -1).T)
    np.testing.assert_array_equal(data64.factors_to_index(factors), indices)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, PUBLISHED_COUNT - 1), max_size=20))
def test_index_to_factors_property(indices: list[int]) -> None:
    data = DSprites(16)
    factors = data.index_to_factors(indices)
    assert factors.shape == (len(indices), 5)
    for index, row in zip(indices, factors):
        assert list(row) == [(index // b) % s for b, s in zip(PUBLISHED_BASES, PUBLISHED_SIZES)]
    back = data.factors_to_index(factors)
    np.testing.assert_array_equal(back, np.asarray(indices, dtype=np.int64))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(*(st.integers(0, s - 1) for s in PUBLISHED_SIZES)), min_size=1))
def test_factors_to_index_property(rows: list[tuple[int, ...]]) -> None:
    data = DSprites(16)
    index = data.factors_to_index(rows)
    assert list(index) == [sum(f * b for f, b in zip(row, PUBLISHED_BASES)) for row in rows]
    np.testing.assert_array_equal(data.index_to_factors(index), np.asarray(rows))


# ---------------------------------------------------------------- images


def test_images_are_binary_float32_batches(data: DSprites) -> None:
    size = data.image_size
    factors, images = data.sample(500, 3)
    assert images.shape == (500, 1, size, size) and images.dtype == torch.float32
    assert set(torch.unique(images).tolist()) <= {0.0, 1.0}
    assert data[7].shape == (1, size, size)
    assert data[[]].shape == (0, 1, size, size)


def test_images_match_the_documented_geometry(data: DSprites) -> None:
    factors = data.sample_factors(60, 11)
    factors[:3, 0:3] = [[0, 5, 39], [1, 0, 39], [2, 3, 0]]  # include both ends of the grids
    images = foreground(data.render(factors))
    for row, image in zip(factors, images):
        np.testing.assert_array_equal(image, expected_image(row, data.image_size), err_msg=str(row))


def test_indexing_forms_agree(data: DSprites) -> None:
    indices = np.array([0, 1023, 1024, 400_000, PUBLISHED_COUNT - 1])
    batch = data[indices]
    assert torch.equal(batch, data.render(data.index_to_factors(indices)))
    assert torch.equal(data[list(indices)], batch)
    assert torch.equal(data[torch.from_numpy(indices)], batch)
    assert torch.equal(data[int(indices[3])], batch[3])
    assert torch.equal(data[np.int64(indices[3])], batch[3])
    assert torch.equal(data[-5:], data[np.arange(PUBLISHED_COUNT - 5, PUBLISHED_COUNT)])
    assert torch.equal(data[10:40:7], data[[10, 17, 24, 31, 38]])


def test_foreground_area_matches_closed_form_areas(data64: DSprites) -> None:
    """Mean pixel count over all orientations against the exact area (pixels^2)."""
    _, heart_r = heart_constants()
    unit_area = (2.0, math.pi / 2, (1 + math.pi / 4) / heart_r**2)  # at circumradius 1
    counts = foreground(data64.render(all_sprites(16, 16))).sum(axis=(1, 2)).reshape(3, 6, 40)
    for shape in range(3):
        for scale_i in range(6):
            radius = (0.5 + 0.1 * scale_i) * RHO * 64
            area = unit_area[shape] * radius**2
            assert counts[shape, scale_i].mean() == pytest.approx(area, rel=0.03), (shape, scale_i)


def test_foreground_grows_strictly_with_scale(data64: DSprites) -> None:
    counts = foreground(data64.render(all_sprites(5, 20))).sum(axis=(1, 2)).reshape(3, 6, 40)
    assert (np.diff(counts, axis=1) > 0).all()


def test_every_sprite_is_visible_and_never_clipped(data: DSprites) -> None:
    size = data.image_size
    counts = []
    for pos_x, pos_y in ((0, 0), (31, 31), (0, 31), (31, 0), (15, 16)):
        counts.append(foreground(data.render(all_sprites(pos_x, pos_y))).sum(axis=(1, 2)))
    assert (counts[0] >= 1).all()
    for other in counts[1:]:
        np.testing.assert_array_equal(other, counts[0])  # same pixels wherever it is placed
    # ... and the largest sprites reach the frame's edges, as in dSprites
    big = grid(shape=np.arange(3), scale=5, orientation=np.arange(40), posX=np.array([0, 31]))
    columns = np.nonzero(foreground(data.render(big)).any(axis=1))[1]
    assert columns.min() <= 1 and columns.max() >= size - 2


def test_translation_moves_centre_of_mass(data: DSprites) -> None:
    size = data.image_size
    travel = (1 - 2 * RHO) * size  # centre range documented as the frame minus one radius per side
    for shape in range(3):
        sprite = {"shape": shape, "scale": 3, "orientation": 7}
        along_x = foreground(data.render(grid(**sprite, posX=np.arange(32), posY=9)))
        along_y = foreground(data.render(grid(**sprite, posX=9, posY=np.arange(32))))
        rows, cols = np.mgrid[0:size, 0:size]
        for images, moving, still in ((along_x, cols, rows), (along_y, rows, cols)):
            mass = images.sum(axis=(1, 2))
            centre = (images * moving).sum(axis=(1, 2)) / mass
            other = (images * still).sum(axis=(1, 2)) / mass
            steps = np.diff(centre)
            assert (steps >= 0).all() and abs(centre[-1] - centre[0] - travel) <= 1.0
            np.testing.assert_allclose(steps, np.round(steps), atol=1e-9)  # whole pixels
            np.testing.assert_allclose(other, other[0], atol=1e-9)
            if size == 64:
                assert set(np.round(steps)) <= {1.0, 2.0}  # strictly monotone at full size


# ---------------------------------------------------------------- distinctness at 64x64


def test_different_shapes_at_the_same_factors_differ(data64: DSprites) -> None:
    images = foreground(data64.render(all_sprites(12, 3))).reshape(3, 240, -1)
    for a, b in ((0, 1), (1, 2), (0, 2)):
        assert (images[a] != images[b]).any(axis=1).all(), (a, b)


def test_different_positions_differ(data64: DSprites) -> None:
    for shape in range(3):
        factors = grid(shape=shape, orientation=13, posX=np.arange(32), posY=np.arange(32))
        assert count_distinct(foreground(data64.render(factors))) == 32 * 32


def test_orientations_differ_within_each_symmetry_period(data64: DSprites) -> None:
    """Heart: all 39 distinct rotations; square: angles in [0, pi/2); ellipse: [0, pi)."""
    images = foreground(data64.render(all_sprites(20, 20))).reshape(3, 6, 40, -1)
    # orientations k < period have angles 2*pi*k/39 below the shape's symmetry angle 2*pi/fold
    for shape, fold, period in ((0, 4, 10), (1, 2, 20), (2, 1, 39)):
        assert (period - 1) / 39 < 1 / fold <= period / 39
        for scale_i in range(6):
            assert count_distinct(images[shape, scale_i, :period]) == period, (shape, scale_i)
    np.testing.assert_array_equal(images[:, :, 0], images[:, :, 39])  # 0 and 2*pi coincide


# ---------------------------------------------------------------- sampling


def test_sample_factors_uniform_and_reproducible(data64: DSprites) -> None:
    factors = data64.sample_factors(60_000, 5)
    assert factors.shape == (60_000, 5) and factors.dtype == np.int64
    same = data64.sample_factors(60_000, np.random.default_rng(5))
    np.testing.assert_array_equal(factors, same)
    assert not np.array_equal(factors, data64.sample_factors(60_000, 6))
    for column, size in enumerate(PUBLISHED_SIZES):
        counts = np.bincount(factors[:, column], minlength=size)
        assert len(counts) == size
        assert stats.chisquare(counts).pvalue > 1e-4


def test_generator_is_advanced_in_place(data64: DSprites) -> None:
    rng = np.random.default_rng(0)
    first, second = data64.sample_factors(10, rng), data64.sample_factors(10, rng)
    both = data64.sample_factors(20, 0)
    np.testing.assert_array_equal(np.concatenate([first, second]), both)


def test_sample_observations_from_factors_reproducible(data: DSprites) -> None:
    factors = data.sample_factors(64, 1)
    first = data.sample_observations_from_factors(factors, 0)
    again = data.sample_observations_from_factors(factors, np.random.default_rng(0))
    assert torch.equal(first, again)
    assert torch.equal(first, data.render(factors))
    factors_a, images_a = data.sample(32, 9)
    factors_b, images_b = data.sample(32, np.random.default_rng(9))
    np.testing.assert_array_equal(factors_a, factors_b)
    assert torch.equal(images_a, images_b) and torch.equal(images_a, data.render(factors_a))


# ---------------------------------------------------------------- argument checking

RANDOM_STATE_TYPE = r"random_state must be an int seed >= 0, a numpy.random.Generator or a numpy.random.RandomState, got "


@pytest.mark.parametrize(
    ("image_size", "error", "message"),
    [
        (48, ValueError, r"image_size must be one of \(16, 32, 64\), got 48"),
        (0, ValueError, r"image_size must be one of \(16, 32, 64\), got 0"),
        (64.0, TypeError, r"image_size must be an int, got 64\.0"),
        ("64", TypeError, r"image_size must be an int, got '64'"),
        (True, TypeError, r"image_size must be an int, got True"),
    ],
)
def test_image_size_checked(image_size: object, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        DSprites(image_size)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("indices", "error", "message"),
    [
        ([0, PUBLISHED_COUNT], ValueError, r"indices must lie in \[0, 737280\), got 737280"),
        (-1, ValueError, r"indices must lie in \[0, 737280\), got -1"),
        ([1.5], TypeError, r"indices must hold integers, got dtype float64"),
        ([True], TypeError, r"indices must hold integers, got dtype bool"),
        ([[1, 2]], ValueError, r"indices must be an int or 1-D, got shape \(1, 2\)"),
    ],
)
def test_indices_checked(
    data64: DSprites, indices: object, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        data64.index_to_factors(indices)  # type: ignore[arg-type]
    with pytest.raises(error, match=message):
        data64[indices]  # type: ignore[index]


@pytest.mark.parametrize(
    ("factors", "error", "message"),
    [
        ([[0, 0, 0, 0, 0, 0]], ValueError, r"factors must have shape \(N, 5\), got \(1, 6\)"),
        ([0, 0, 0, 0, 0], ValueError, r"factors must have shape \(N, 5\), got \(5,\)"),
        ([[3, 0, 0, 0, 0]], ValueError, r"factors\[:, 0\] \(shape\) .*\[0, 3\), got 3"),
        ([[0, 0, 40, 0, 0]], ValueError, r"factors\[:, 2\] \(orientation\) .* got 40"),
        ([[0, 0, 0, 0, -1]], ValueError, r"factors\[:, 4\] \(posY\) .*\[0, 32\), got -1"),
        ([[0.0, 0, 0, 0, 0]], TypeError, r"factors must hold integers, got dtype float64"),
    ],
)
def test_factors_checked(
    data64: DSprites, factors: object, error: type[Exception], message: str
) -> None:
    for method in (data64.factors_to_index, data64.render):
        with pytest.raises(error, match=message):
            method(factors)  # type: ignore[arg-type]
    with pytest.raises(error, match=message):
        data64.sample_observations_from_factors(factors, 0)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("random_state", "error", "message"),
    [
        (-3, ValueError, r"random_state must be a non-negative seed, got -3"),
        (1.5, TypeError, RANDOM_STATE_TYPE + r"1\.5"),
        (None, TypeError, RANDOM_STATE_TYPE + "None"),
        (True, TypeError, RANDOM_STATE_TYPE + "True"),
    ],
)
def test_random_state_checked(
    data64: DSprites, random_state: object, error: type[Exception], message: str
) -> None:
    one_row = np.zeros((1, 5), dtype=np.int64)
    with pytest.raises(error, match=message):
        data64.sample_factors(3, random_state)  # type: ignore[arg-type]
    with pytest.raises(error, match=message):
        data64.sample(3, random_state)  # type: ignore[arg-type]
    with pytest.raises(error, match=message):
        data64.sample_observations_from_factors(one_row, random_state)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("n", "error", "message"),
    [
        (-1, ValueError, r"n must be >= 0, got -1"),
        (2.0, TypeError, r"n must be an int, got 2\.0"),
        (True, TypeError, r"n must be an int, got True"),
    ],
)
def test_sample_size_checked(
    data64: DSprites, n: object, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        data64.sample_factors(n, 0)  # type: ignore[arg-type]
