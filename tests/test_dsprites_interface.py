"""DSprites as a drop-in for disentanglement_lib's ground-truth data: a metric written against that
interface (RandomState, factors_num_values, sample, NHWC numpy observations) runs unchanged; and
DSprites.from_npz reads DeepMind's file layout (a small file written here)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from vaelib import DSprites
from vaelib.data.dsprites import DSpritesFile


def dl_style_mig(ground_truth_data, representation_function, random_state, num_train=2000, batch_size=100):
    """MIG the way disentanglement_lib's code computes it (Chen et al. 2018), written only against
    its GroundTruthData interface: sample(num, random_state) -> (factors, observations),
    num_factors, factors_num_values, and a representation function of a batch of observations."""
    codes, factors = [], []
    for start in range(0, num_train, batch_size):
        current_factors, current_observations = ground_truth_data.sample(min(batch_size, num_train - start), random_state)
        codes.append(np.asarray(representation_function(current_observations)))
        factors.append(current_factors)
    codes, factors = np.concatenate(codes).T, np.concatenate(factors).T          # (D, N), (K, N)
    assert factors.shape[0] == ground_truth_data.num_factors
    binned = np.stack([np.digitize(c, np.histogram(c, 20)[1][:-1]) for c in codes])

    def discrete_mi(a, b):
        joint = np.zeros((a.max() + 1, b.max() + 1))
        np.add.at(joint, (a, b), 1.0)
        joint /= joint.sum()
        outer = joint.sum(1, keepdims=True) @ joint.sum(0, keepdims=True)
        nonzero = joint > 0
        return float((joint[nonzero] * np.log(joint[nonzero] / outer[nonzero])).sum())

    mi = np.array([[discrete_mi(code, factor) for factor in factors] for code in binned])
    entropy = np.array([discrete_mi(factor, factor) for factor in factors])
    top = np.sort(mi, axis=0)[::-1]
    return float(np.mean((top[0] - top[1]) / entropy)), [int(v) for v in ground_truth_data.factors_num_values]


def position_and_area(observations):
    """A hand-made representation of NHWC images: centre of mass (x, y) and foreground area."""
    images = observations[..., 0]
    rows, cols = np.mgrid[0 : images.shape[1], 0 : images.shape[2]]
    mass = images.sum(axis=(1, 2))
    return np.stack([(images * cols).sum((1, 2)) / mass, (images * rows).sum((1, 2)) / mass, mass], axis=1)


def test_a_metric_written_for_disentanglement_lib_runs_unchanged():
    data = DSprites(32, observations="numpy")
    score, sizes = dl_style_mig(data, position_and_area, np.random.RandomState(0))
    assert sizes == [3, 6, 40, 32, 32]
    # x, y and scale each have their own code: MIG well above 0 (shape and orientation score 0)
    assert 0.3 < score < 0.6
    observations = data.sample_observations(4, np.random.RandomState(1))
    assert observations.shape == (4, 32, 32, 1) and observations.dtype == np.float32
    assert data.observation_shape == (32, 32, 1) and DSprites(32).observation_shape == (1, 32, 32)


def test_random_state_is_advanced_in_place_and_layouts_agree():
    torch_data, numpy_data = DSprites(16), DSprites(16, observations="numpy")
    first, second = np.random.RandomState(7), np.random.RandomState(7)
    a = torch_data.sample_factors(5, first)
    assert not np.array_equal(a, torch_data.sample_factors(5, first))  # advanced
    factors, observations = numpy_data.sample(5, second)
    np.testing.assert_array_equal(factors, a)
    np.testing.assert_array_equal(observations, torch_data.render(factors).numpy().transpose(0, 2, 3, 1))


def test_vaelib_metrics_read_factors_num_values_of_foreign_data():
    from vaelib.disentanglement import mig  # noqa: F401  (the package)
    from vaelib.disentanglement.sampling import factor_sizes

    class Foreign:  # disentanglement_lib's names only
        factors_num_values = [3, 4]
    assert factor_sizes(Foreign()) == (3, 4)
    with pytest.raises(TypeError, match="no attribute 'factor_sizes'.*factors_num_values"):
        factor_sizes(object())


def test_bad_observation_layout():
    with pytest.raises(ValueError, match=r"observations must be one of \('torch', 'numpy'\), got 'nhwc'"):
        DSprites(64, observations="nhwc")


def write_npz(path, data: DSprites, factors: np.ndarray) -> np.ndarray:
    """A small file in DeepMind's layout: imgs (N, 64, 64) uint8, latents_classes (N, 6) with the
    constant color first, latents_values, and a pickled metadata dict (which must not be loaded)."""
    images = data.render(factors).numpy()[:, 0].astype(np.uint8)
    images[:, 0, 0] = 1  # a mark the procedural renderer does not make: proves the file's pixels are used
    classes = np.concatenate([np.zeros((len(factors), 1), np.int64), factors], axis=1)
    np.savez(path, imgs=images, latents_classes=classes, latents_values=classes.astype(float),
             metadata=np.array({"description": "test"}, dtype=object))
    return images


def test_from_npz_reads_deepminds_layout(tmp_path):
    procedural = DSprites(64)
    factors = procedural.index_to_factors([0, 5, 70_000, 737_279])
    path = tmp_path / "dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz"
    images = write_npz(path, procedural, factors)
    data = DSprites.from_npz(path, observations="numpy")
    assert isinstance(data, DSpritesFile) and data.num_factors == 5
    np.testing.assert_array_equal(data.render(factors[::-1]).numpy()[:, 0], images[::-1])
    drawn = data.sample_factors(50, 3)
    assert {tuple(row) for row in drawn} <= {tuple(row) for row in factors}
    assert data.sample_observations(2, 0).shape == (2, 64, 64, 1)
    with pytest.raises(ValueError, match=r"has no image of the factors \[0, 0, 0, 0, 2\]"):
        data.render([[0, 0, 0, 0, 2]])


def test_from_npz_refuses_other_files(tmp_path):
    path = tmp_path / "other.npz"
    np.savez(path, images=np.zeros((2, 64, 64), np.uint8))
    with pytest.raises(ValueError, match=r"is not a dSprites npz: it lacks \['imgs', 'latents_classes'\]"):
        DSprites.from_npz(path)
    np.savez(path, imgs=np.zeros((2, 32, 32), np.uint8), latents_classes=np.zeros((2, 6), np.int64))
    with pytest.raises(ValueError, match=r"must hold imgs \(N, 64, 64\) and latents_classes \(N, 6\)"):
        DSprites.from_npz(path)
