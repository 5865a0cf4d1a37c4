"""Tests of the disentanglement figures in vaelib.plotting: traversals, KL bars, factor grids, scores.

The figures are checked through what they draw: a fake model whose decoded image spells out its
latent code, and fake ground-truth data whose observations spell out their factor classes, let a
test read back from the drawn mosaic exactly which codes and factors are shown.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from vaelib.data.dsprites import DSprites
from vaelib.models.base import VAE
from vaelib.plotting import factor_examples, kl_bars, latent_traversals, metric_bars, traversal_codes

OFFSET, SCALE = 4.0, 8.0  # the fake decoder shows z as pixels (z + 4) / 8, in [0, 1] for |z| <= 4


class CodeImageVAE(VAE):
    """A VAE whose decoder draws its code: image (1, 1, D) with pixel d = (z_d + 4) / 8."""

    def __init__(self, latent_dim: int) -> None:
        super().__init__(latent_dim)
        self.dummy = nn.Parameter(torch.zeros(()))

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return x.flatten(1), torch.zeros_like(x.flatten(1))

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return ((z + OFFSET) / SCALE).reshape(*z.shape[:-1], 1, 1, self.latent_dim)


def drawn_mosaic(figure, index: int = 0) -> np.ndarray:
    return np.asarray(figure.axes[index].images[0].get_array())


def tick_texts(labels) -> list[str]:
    return [label.get_text() for label in labels]


# ----------------------------------------------------------------------------- traversal codes


def test_traversal_codes_by_hand() -> None:
    order, values, codes = traversal_codes([0.5, -1.0, 2.0], [0.1, 3.0, 1.0], span=3.0, n_steps=3)
    np.testing.assert_array_equal(order, [1, 2, 0])
    np.testing.assert_allclose(values, [-3.0, 0.0, 3.0])
    expected = np.array(
        [
            [[0.5, -3.0, 2.0], [0.5, 0.0, 2.0], [0.5, 3.0, 2.0]],  # z_2, KL 3.0
            [[0.5, -1.0, -3.0], [0.5, -1.0, 0.0], [0.5, -1.0, 3.0]],  # z_3, KL 1.0
            [[-3.0, -1.0, 2.0], [0.0, -1.0, 2.0], [3.0, -1.0, 2.0]],  # z_1, KL 0.1
        ]
    )
    np.testing.assert_allclose(codes, expected)


def test_traversal_codes_ties_keep_index_order() -> None:
    order, _, _ = traversal_codes(np.zeros(4), [1.0, 2.0, 1.0, 2.0])
    np.testing.assert_array_equal(order, [1, 3, 0, 2])


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.floats(0.0, 50.0), min_size=1, max_size=8).flatmap(
        lambda kl: st.tuples(st.just(kl), st.lists(st.floats(-3.0, 3.0), min_size=len(kl), max_size=len(kl)))
    ),
    st.floats(0.1, 5.0),
    st.integers(2, 11),
)
def test_traversal_codes_change_one_dimension_per_row(kl_and_base, span, n_steps) -> None:
    kl, base = map(np.array, kl_and_base)
    order, values, codes = traversal_codes(base, kl, span=span, n_steps=n_steps)
    assert sorted(order.tolist()) == list(range(kl.size))
    assert np.all(np.diff(kl[order]) <= 0)
    np.testing.assert_allclose(values, -span + 2 * span * np.arange(n_steps) / (n_steps - 1), atol=1e-12)
    for row, d in enumerate(order):
        np.testing.assert_array_equal(codes[row, :, d], values)
        others = np.arange(kl.size) != d
        np.testing.assert_array_equal(codes[row][:, others], np.broadcast_to(base[others], (n_steps, others.sum())))


# ----------------------------------------------------------------------------- traversal figure


def test_latent_traversals_decode_exactly_the_labelled_codes() -> None:
    latent_dim, n_steps = 4, 5
    base = np.array([0.3, -0.6, 0.9, -0.2])
    kl = np.array([0.2, 2.5, 0.0, 1.1])
    figure = latent_traversals(CodeImageVAE(latent_dim), base, kl, span=2.0, n_steps=n_steps)
    mosaic = drawn_mosaic(figure)
    assert mosaic.shape == (latent_dim * 2 - 1, n_steps * (latent_dim + 1) - 1)  # 1 x D tiles, pad 1
    shown_dims = [1, 3, 0, 2]  # by decreasing KL
    shown_values = [-2.0, -1.0, 0.0, 1.0, 2.0]
    for row, d in enumerate(shown_dims):
        for col, value in enumerate(shown_values):
            tile = mosaic[2 * row, col * (latent_dim + 1) : col * (latent_dim + 1) + latent_dim]
            expected = base.copy()
            expected[d] = value
            np.testing.assert_allclose(tile * SCALE - OFFSET, expected, atol=1e-6)
    ax = figure.axes[0]
    assert tick_texts(ax.get_yticklabels()) == [
        "$z_{2}$  KL 2.50", "$z_{4}$  KL 1.10", "$z_{1}$  KL 0.20", "$z_{3}$  KL 0.00"
    ]
    assert [float(text) for text in tick_texts(ax.get_xticklabels())] == shown_values
    np.testing.assert_allclose(ax.get_xticks(), [c * (latent_dim + 1) + (latent_dim - 1) / 2 for c in range(n_steps)])


def test_latent_traversals_n_dims_keeps_the_top_rows() -> None:
    figure = latent_traversals(CodeImageVAE(3), np.zeros(3), [0.5, 0.1, 0.9], n_dims=2, n_steps=3)
    mosaic = drawn_mosaic(figure)
    assert mosaic.shape[0] == 3  # two rows of height 1, one pad row
    assert tick_texts(figure.axes[0].get_yticklabels()) == ["$z_{3}$  KL 0.90", "$z_{1}$  KL 0.50"]
    np.testing.assert_allclose(mosaic[2, 0:3] * SCALE - OFFSET, [-3.0, 0.0, 0.0], atol=1e-6)


# ----------------------------------------------------------------------------- KL bars


def test_kl_bars_heights_are_the_kl_values() -> None:
    kl_a = np.array([0.5, 3.0, 0.0, 1.5])
    kl_b = torch.tensor([2.0, 0.25, 1.0, 0.0])
    figure = kl_bars({"beta=4": kl_a, "type B": kl_b})
    assert len(figure.axes) == 2
    for ax, kl, order in zip(figure.axes, (kl_a, kl_b.numpy()), ([1, 3, 0, 2], [0, 2, 1, 3])):
        heights = [patch.get_height() for patch in ax.patches]
        np.testing.assert_allclose(heights, kl[order])
        assert tick_texts(ax.get_xticklabels()) == [f"$z_{{{d + 1}}}$" for d in order]
    assert figure.axes[0].get_title() == "beta=4: total 5.00 nats"
    assert figure.axes[1].get_title() == "type B: total 3.25 nats"


def test_kl_bars_unsorted_keeps_dimension_order() -> None:
    kl = [0.5, 3.0, 0.0]
    ax = kl_bars({"m": kl}, sort=False).axes[0]
    np.testing.assert_allclose([patch.get_height() for patch in ax.patches], kl)
    assert tick_texts(ax.get_xticklabels()) == ["$z_{1}$", "$z_{2}$", "$z_{3}$"]


# ----------------------------------------------------------------------------- factor examples


class CodedFactors:
    """Ground-truth data whose observation (1, 1, K) shows factor k's class as k / (size_k - 1)."""

    factor_sizes = (1, 3, 5, 12)
    num_factors = 4
    factor_names = ("color", "shape", "scale", "angle")

    def sample_factors(self, n: int, random_state: np.random.Generator) -> np.ndarray:
        return random_state.integers(0, self.factor_sizes, size=(n, self.num_factors))

    def sample_observations_from_factors(self, factors: np.ndarray, random_state: np.random.Generator) -> np.ndarray:
        denominators = np.maximum(np.array(self.factor_sizes) - 1, 1)
        return (np.asarray(factors) / denominators)[:, None, None, :]


def test_factor_examples_sweep_one_factor_per_row() -> None:
    data = CodedFactors()
    figure = factor_examples(data, n_values=4, random_state=3)
    assert len(figure.axes) == 3  # color has one class and is skipped
    expected_classes = {1: [0, 1, 2], 2: [0, 1, 3, 4], 3: [0, 4, 7, 11]}  # round(linspace(0, size-1, 4))
    denominators = np.maximum(np.array(data.factor_sizes) - 1, 1)
    bases = []
    for ax, k in zip(figure.axes, (1, 2, 3)):
        mosaic = drawn_mosaic(figure, figure.axes.index(ax))
        tiles = np.array([mosaic[0, c * 5 : c * 5 + 4] for c in range((mosaic.shape[1] + 1) // 5)])
        classes = np.rint(tiles * denominators).astype(int)
        np.testing.assert_array_equal(classes[:, k], expected_classes[k])
        others = [j for j in range(4) if j != k]
        assert (classes[:, others] == classes[0, others]).all()
        bases.append(classes[0])
        assert tick_texts(ax.get_xticklabels()) == [str(c) for c in expected_classes[k]]
        assert ax.get_ylabel().startswith(data.factor_names[k])
    # every row holds the same base combination outside its own factor
    for (i, a), (j, b) in [((0, bases[0]), (1, bases[1])), ((1, bases[1]), (2, bases[2]))]:
        shared = [f for f in range(4) if f not in (i + 1, j + 1)]
        np.testing.assert_array_equal(a[shared], b[shared])


def test_factor_examples_on_dsprites_labels_values() -> None:
    figure = factor_examples(DSprites(16), n_values=5, random_state=0)
    assert [ax.get_ylabel().split("\n")[0] for ax in figure.axes] == ["shape", "scale", "orientation", "posX", "posY"]
    assert tick_texts(figure.axes[0].get_xticklabels()) == ["square", "ellipse", "heart"]
    assert tick_texts(figure.axes[1].get_xticklabels()) == ["0.5", "0.6", "0.7", "0.9", "1"]
    assert tick_texts(figure.axes[2].get_xticklabels()) == ["0°", "92°", "185°", "268°", "360°"]


# ----------------------------------------------------------------------------- metric bars


def test_metric_bars_heights_are_the_scores() -> None:
    results = {"untrained": {"MIG": 0.02, "SAP": 0.01}, "beta-VAE": {"SAP": 0.2, "MIG": 0.3}}
    ax = metric_bars(results).axes[0]
    heights = [patch.get_height() for patch in ax.patches]
    np.testing.assert_allclose(heights, [0.02, 0.01, 0.3, 0.2])  # model by model, in the first model's metric order
    assert tick_texts(ax.get_xticklabels()) == ["MIG", "SAP"]
    assert [text.get_text() for text in ax.get_legend().get_texts()] == ["untrained", "beta-VAE"]


# ----------------------------------------------------------------------------- invalid arguments


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"base": [0.0, 0.0], "kl": [1.0, 2.0, 3.0]}, ValueError, r"base must be a finite code of shape \(3,\).*\(2,\)"),
        ({"base": [0.0, 0.0], "kl": [1.0, -0.5]}, ValueError, r"kl must hold finite values >= 0.*-0\.5"),
        ({"base": [0.0, 0.0], "kl": [[1.0, 2.0]]}, ValueError, r"kl must be a 1-D array.*\(1, 2\)"),
        ({"base": [0.0, np.nan], "kl": [1.0, 2.0]}, ValueError, r"base must be a finite code"),
        ({"base": [0.0, 0.0], "kl": [1.0, 2.0], "span": 0.0}, ValueError, r"span must be a finite number > 0, got 0\.0"),
        ({"base": [0.0, 0.0], "kl": [1.0, 2.0], "n_steps": 1}, ValueError, r"n_steps must be >= 2, got 1"),
        ({"base": [0.0, 0.0], "kl": [1.0, 2.0], "n_steps": 2.5}, TypeError, r"n_steps must be a positive int, got 2\.5"),
        ({"base": [0.0, 0.0], "kl": "ab"}, TypeError, r"kl must be a torch.Tensor or an array of numbers, got str"),
    ],
)
def test_traversal_codes_rejects_bad_arguments(kwargs, error, match) -> None:
    with pytest.raises(error, match=match):
        traversal_codes(**kwargs)


def test_latent_traversals_rejects_bad_arguments() -> None:
    with pytest.raises(TypeError, match=r"model must be a vaelib VAE, got Linear"):
        latent_traversals(nn.Linear(2, 2), [0.0, 0.0], [1.0, 1.0])
    with pytest.raises(ValueError, match=r"kl must have model.latent_dim=3 entries, got 2"):
        latent_traversals(CodeImageVAE(3), [0.0, 0.0], [1.0, 1.0])
    with pytest.raises(ValueError, match=r"n_dims must be at most latent_dim=2, got 3"):
        latent_traversals(CodeImageVAE(2), [0.0, 0.0], [1.0, 1.0], n_dims=3)


def test_kl_bars_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match=r"kls must be a non-empty mapping"):
        kl_bars({})
    with pytest.raises(ValueError, match=r"kls must be a non-empty mapping"):
        kl_bars([0.1, 0.2])
    with pytest.raises(TypeError, match=r"sort must be True or False, got 'yes'"):
        kl_bars({"m": [0.1]}, sort="yes")
    with pytest.raises(ValueError, match=r"kls\['m'\] must hold finite values >= 0.*inf"):
        kl_bars({"m": [0.1, np.inf]})


def test_factor_examples_rejects_bad_arguments() -> None:
    with pytest.raises(TypeError, match=r"data must follow the ground-truth data interface \(no attribute 'factor_sizes'\), got list"):
        factor_examples([1, 2])
    with pytest.raises(ValueError, match=r"n_values must be >= 2, got 1"):
        factor_examples(CodedFactors(), n_values=1)
    with pytest.raises(TypeError, match=r"random_state must be an int seed >= 0, a numpy.random.Generator or a numpy.random.RandomState, got 'x'"):
        factor_examples(CodedFactors(), random_state="x")


def test_metric_bars_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match=r"results must be a non-empty mapping"):
        metric_bars({})
    with pytest.raises(ValueError, match=r"results\['b'\] must have the metrics \['MIG'\], got \['SAP'\]"):
        metric_bars({"a": {"MIG": 0.1}, "b": {"SAP": 0.2}})
    with pytest.raises(ValueError, match=r"results\['a'\] must hold finite scores"):
        metric_bars({"a": {"MIG": float("nan")}})
    with pytest.raises(ValueError, match=r"results\['a'\] must be a non-empty mapping of metric name"):
        metric_bars({"a": 0.3})
