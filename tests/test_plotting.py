"""vaelib.plotting: every figure shows exactly the numbers it was given (or decoded), titled and
labelled; the manifold decodes the standard normal quantile grid (scipy's ppf, Kingma & Welling
2014 Fig. 4); histogram heights match numpy's; bad inputs raise naming the argument."""
from __future__ import annotations

import os

os.environ.setdefault("MPLBACKEND", "Agg")

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.figure import Figure
from scipy import stats
from torch import nn

from vaelib.models.base import VAE
from vaelib.plotting import (
    bound_curves,
    decode_images,
    estimator_histograms,
    image_grid,
    latent_scatter,
    latent_walk,
    manifold_grid,
    prior_grid,
    reconstruction_pairs,
    tile_images,
    training_curves,
)


class SpyDecoderVAE(VAE):
    """2-D latent VAE whose decoder is a fixed sigmoid-linear map to 3x4 images; it records the codes
    it decodes and the train/eval mode it decoded in."""

    def __init__(self, latent_dim: int = 2, channels: int = 1) -> None:
        super().__init__(latent_dim)
        self.channels = channels
        self.linear = nn.Linear(latent_dim, channels * 12)
        with torch.no_grad():
            self.linear.weight.copy_(torch.linspace(-1.0, 1.0, channels * 12 * latent_dim).reshape(channels * 12, latent_dim))
            self.linear.bias.zero_()
        self.calls: list[torch.Tensor] = []
        self.modes: list[bool] = []

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError("the plots only decode")

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        self.calls.append(z.detach().clone())
        self.modes.append(self.training)
        return torch.sigmoid(self.linear(z)).reshape(*z.shape[:-1], self.channels, 3, 4)


def expected_image(model: SpyDecoderVAE, z: np.ndarray) -> np.ndarray:
    """What the spy decoder gives for one code, computed by hand in numpy: (3, 4) (grey)."""
    weight = model.linear.weight.detach().double().numpy()
    return (1.0 / (1.0 + np.exp(-(weight @ z)))).reshape(model.channels, 3, 4)


def images(n: int, channels: int = 1, height: int = 3, width: int = 4, seed: int = 0) -> torch.Tensor:
    return torch.rand(n, channels, height, width, generator=torch.Generator().manual_seed(seed))


def the_image(fig: Figure, axes_index: int = 0) -> np.ndarray:
    ax = fig.axes[axes_index]
    assert len(ax.images) == 1
    return np.asarray(ax.images[0].get_array())


def texts_of(fig: Figure) -> tuple[str, list[str], list[str], list[str]]:
    suptitle = fig._suptitle.get_text() if fig._suptitle is not None else ""
    return (suptitle, [ax.get_title() for ax in fig.axes], [ax.get_xlabel() for ax in fig.axes],
            [ax.get_ylabel() for ax in fig.axes])


# ----------------------------------------------------------------------------- training curves


def history(with_eval: bool = True) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"step": [10, 20, 30, 40], "epoch": [1.0, 2.0, 3.0, 4.0],
                          "recon": rng.uniform(20, 40, 4), "kl": rng.uniform(1, 5, 4)})
    if with_eval:
        frame["eval_recon"] = rng.uniform(20, 40, 4)
        frame["eval_kl"] = rng.uniform(1, 5, 4)
        frame["eval_elbo"] = -(frame["eval_recon"] + frame["eval_kl"])
    return frame


def test_training_curves_plot_elbo_recon_and_kl_of_training_and_held_out_rows():
    frame = history()
    fig = training_curves(frame, title="my run")
    assert isinstance(fig, Figure) and len(fig.axes) == 3
    suptitle, titles, xlabels, ylabels = texts_of(fig)
    assert suptitle == "my run"
    assert "ELBO" in titles[0] and "Reconstruction" in titles[1] and "KL" in titles[2]
    assert xlabels == ["step"] * 3 and ylabels == ["nats per sample"] * 3
    elbo = -(frame["recon"].to_numpy() + frame["kl"].to_numpy())
    expected = [(elbo, frame["eval_elbo"]), (frame["recon"], frame["eval_recon"]), (frame["kl"], frame["eval_kl"])]
    for ax, (train, held_out) in zip(fig.axes, expected):
        assert len(ax.lines) == 2
        np.testing.assert_array_equal(ax.lines[0].get_xdata(), [10, 20, 30, 40])
        np.testing.assert_allclose(ax.lines[0].get_ydata(), train, rtol=0, atol=1e-12)
        np.testing.assert_allclose(ax.lines[1].get_ydata(), held_out, rtol=0, atol=1e-12)
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["training (minibatch mean)", "held-out"]


def test_training_curves_without_held_out_columns_and_over_epochs():
    fig = training_curves(history(with_eval=False), x="epoch")
    assert [len(ax.lines) for ax in fig.axes] == [1, 1, 1]
    assert [ax.get_xlabel() for ax in fig.axes] == ["epoch"] * 3
    np.testing.assert_array_equal(fig.axes[2].lines[0].get_xdata(), [1.0, 2.0, 3.0, 4.0])


def test_training_curves_reject_bad_histories():
    with pytest.raises(TypeError, match="history must be a pandas DataFrame.*dict"):
        training_curves({"step": [1]})
    with pytest.raises(ValueError, match=r"missing \['kl'\]"):
        training_curves(history().drop(columns="kl"))
    with pytest.raises(ValueError, match=r"missing \['time'\]"):
        training_curves(history(), x="time")
    with pytest.raises(ValueError, match="at least one row"):
        training_curves(history().iloc[:0])


# ----------------------------------------------------------------------------- latent scatter


def test_latent_scatter_draws_one_collection_per_class_with_the_given_codes():
    rng = np.random.default_rng(1)
    codes = torch.tensor(rng.normal(size=(30, 2)))
    labels = torch.tensor(rng.integers(0, 3, 30))
    fig = latent_scatter(codes, labels, class_names=["zero", "one", "two"], title="codes")
    ax = fig.axes[0]
    assert ax.get_title() == "codes" and "z_1" in ax.get_xlabel() and "z_2" in ax.get_ylabel()
    assert len(ax.collections) == 3
    for c, collection in enumerate(ax.collections):
        np.testing.assert_allclose(collection.get_offsets(), codes[labels == c].numpy())
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["zero", "one", "two"]
    assert sorted(t.get_text() for t in ax.texts) == ["one", "two", "zero"]  # annotations at the medians
    zero = next(t for t in ax.texts if t.get_text() == "zero")
    np.testing.assert_allclose(zero.get_position(), np.median(codes[labels == 0].numpy(), axis=0))


def test_latent_scatter_without_labels_and_into_a_given_axes():
    outer = Figure()
    ax = outer.add_subplot()
    codes = np.arange(10.0).reshape(5, 2)
    fig = latent_scatter(codes, ax=ax, annotate=False)
    assert fig is outer and len(ax.collections) == 1 and ax.get_legend() is None
    np.testing.assert_array_equal(ax.collections[0].get_offsets(), codes)


def test_latent_scatter_skips_empty_classes_and_names_them_by_number():
    codes = np.zeros((4, 2))
    fig = latent_scatter(codes, np.array([0, 0, 2, 2]), annotate=False)
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["0", "2"]


def test_latent_scatter_rejects_bad_arguments():
    with pytest.raises(ValueError, match=r"codes must have shape \(N, 2\).*\(5, 3\)"):
        latent_scatter(np.zeros((5, 3)))
    with pytest.raises(ValueError, match="codes must be finite"):
        latent_scatter(np.array([[0.0, np.nan]]))
    with pytest.raises(TypeError, match="codes must be a torch.Tensor or an array of numbers"):
        latent_scatter([["a", "b"]])
    with pytest.raises(ValueError, match=r"labels must be 3 integer class indices.*shape \(2,\)"):
        latent_scatter(np.zeros((3, 2)), np.array([0, 1]))
    with pytest.raises(ValueError, match="labels must be 2 integer class indices.*float"):
        latent_scatter(np.zeros((2, 2)), np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="labels must be class indices >= 0"):
        latent_scatter(np.zeros((2, 2)), np.array([0, -1]))
    with pytest.raises(ValueError, match="class_names must be a sequence of at least 3 names"):
        latent_scatter(np.zeros((2, 2)), np.array([0, 2]), class_names=["a", "b"])
    with pytest.raises(TypeError, match="ax must be a matplotlib Axes or None, got str"):
        latent_scatter(np.zeros((2, 2)), ax="left")
    with pytest.raises(TypeError, match="annotate must be True or False, got 1"):
        latent_scatter(np.zeros((2, 2)), annotate=1)


# ----------------------------------------------------------------------------- prior grid and manifold


def test_prior_grid_is_the_standard_normal_quantile_grid_laid_out_like_a_picture():
    grid = prior_grid(5, quantiles=(0.1, 0.9))
    assert grid.shape == (5, 5, 2) and grid.dtype == torch.float32
    z = stats.norm.ppf([0.1, 0.3, 0.5, 0.7, 0.9])
    for i in range(5):
        for j in range(5):
            np.testing.assert_allclose(grid[i, j].numpy(), [z[j], z[4 - i]], atol=1e-6)


@settings(max_examples=30, deadline=None)
@given(n=st.integers(2, 12), low=st.floats(0.001, 0.45), high=st.floats(0.55, 0.999))
def test_prior_grid_covers_equal_prior_mass_per_step(n, low, high):
    grid = prior_grid(n, quantiles=(low, high)).double()
    u1, u2 = stats.norm.cdf(grid[0, :, 0].numpy()), stats.norm.cdf(grid.numpy()[::-1, 0, 1])
    for u in (u1, u2):
        np.testing.assert_allclose(u, np.linspace(low, high, n), atol=1e-6)
    assert (grid[:, :, 0] == grid[0, :, 0]).all() and (grid[:, :, 1] == grid[:, :1, 1]).all()


def test_prior_grid_rejects_bad_arguments():
    with pytest.raises(ValueError, match="n must be a positive int, got 0"):
        prior_grid(0)
    with pytest.raises(TypeError, match="n must be a positive int, got 2.5"):
        prior_grid(2.5)
    for bad in [(0.0, 0.5), (0.5, 0.5), (0.9, 0.1), (0.1,), "ab", (0.1, 1.0)]:
        with pytest.raises(ValueError, match="quantiles must be two numbers"):
            prior_grid(3, quantiles=bad)


def test_manifold_grid_decodes_exactly_the_quantile_grid_once_in_eval_mode():
    model = SpyDecoderVAE()
    model.train()
    fig = manifold_grid(model, n=4, quantiles=(0.2, 0.8))
    assert model.training and model.modes == [False] and len(model.calls) == 1
    z = stats.norm.ppf(np.linspace(0.2, 0.8, 4))
    expected_codes = np.array([[z[j], z[3 - i]] for i in range(4) for j in range(4)])
    np.testing.assert_allclose(model.calls[0].numpy(), expected_codes, atol=1e-6)
    mosaic = the_image(fig)
    assert mosaic.shape == (4 * 4 - 1, 4 * 5 - 1)  # 4 tiles of 3x4 with one grey pixel between
    for i in range(4):
        for j in range(4):
            tile = mosaic[i * 4 : i * 4 + 3, j * 5 : j * 5 + 4]
            np.testing.assert_allclose(tile, expected_image(model, np.array([z[j], z[3 - i]]))[0], atol=1e-6)
    ax = fig.axes[0]
    assert "manifold" in ax.get_title() and "z_1" in ax.get_xlabel() and "z_2" in ax.get_ylabel()
    assert [t.get_text() for t in ax.get_xticklabels()] == [f"{v:.2f}" for v in z]
    assert [t.get_text() for t in ax.get_yticklabels()] == [f"{v:.2f}" for v in z[::-1]]


def test_manifold_grid_needs_a_2d_vae():
    with pytest.raises(TypeError, match="model must be a vaelib VAE, got Linear"):
        manifold_grid(nn.Linear(2, 2))
    with pytest.raises(ValueError, match="latent_dim=2.*got latent_dim=3"):
        manifold_grid(SpyDecoderVAE(latent_dim=3))


def test_decode_images_restores_the_mode_and_tracks_no_gradient():
    model = SpyDecoderVAE()
    model.eval()
    out = decode_images(model, [[0.5, -1.0]])
    assert isinstance(out, np.ndarray) and out.shape == (1, 1, 3, 4) and not model.training
    np.testing.assert_allclose(out[0], expected_image(model, np.array([0.5, -1.0])), atol=1e-6)
    with pytest.raises(TypeError, match="model must be a vaelib VAE, got str"):
        decode_images("model", [[0.0, 0.0]])


# ----------------------------------------------------------------------------- images


def test_tile_images_places_image_k_at_row_k_div_cols_and_pads_the_rest():
    batch = images(7)
    mosaic = tile_images(batch, 3, pad=2, pad_value=0.25)
    assert mosaic.shape == (3 * 5 - 2, 3 * 6 - 2)
    covered = np.zeros(mosaic.shape, dtype=bool)
    for k in range(7):
        row, col = divmod(k, 3)
        np.testing.assert_allclose(mosaic[row * 5 : row * 5 + 3, col * 6 : col * 6 + 4], batch[k, 0].numpy())
        covered[row * 5 : row * 5 + 3, col * 6 : col * 6 + 4] = True
    assert (mosaic[~covered] == 0.25).all()


def test_tile_images_without_padding_is_a_block_matrix_and_keeps_rgb():
    batch = images(4, channels=3)
    mosaic = tile_images(batch, 2, pad=0)
    rgb = batch.permute(0, 2, 3, 1).numpy()
    top, bottom = np.concatenate(rgb[:2], axis=1), np.concatenate(rgb[2:], axis=1)
    np.testing.assert_allclose(mosaic, np.concatenate([top, bottom], axis=0))
    assert tile_images(images(2), 5).shape == (3, 9)  # fewer images than columns: one short row


def test_image_grid_shows_the_mosaic_with_a_title():
    batch = images(23)
    fig = image_grid(batch, n_cols=10, title="samples")
    assert len(fig.axes) == 1 and fig.axes[0].get_title() == "samples"
    np.testing.assert_allclose(the_image(fig), tile_images(batch, 10))
    outer = Figure()
    ax = outer.add_subplot()
    assert image_grid(batch, ax=ax) is outer and len(ax.images) == 1


def test_reconstruction_pairs_align_inputs_over_reconstructions():
    inputs, recons = images(12, seed=1), images(12, seed=2)
    fig = reconstruction_pairs(inputs, recons, n_cols=6, title="pairs")
    suptitle, _, _, ylabels = texts_of(fig)
    assert suptitle == "pairs" and len(fig.axes) == 2 and "input" in ylabels[0] and "reconstruction" in ylabels[1]
    np.testing.assert_allclose(the_image(fig, 0), tile_images(inputs, 6))
    np.testing.assert_allclose(the_image(fig, 1), tile_images(recons, 6))


def test_image_functions_reject_bad_images():
    with pytest.raises(ValueError, match=r"images must hold values in \[0, 1\] \(probabilities, not logits\)"):
        image_grid(images(2) * 3)
    with pytest.raises(ValueError, match=r"images must have shape \(N, C, H, W\).*\(2, 3, 4\)"):
        image_grid(torch.rand(2, 3, 4))
    with pytest.raises(ValueError, match=r"C in \(1, 3\), got \(2, 2, 3, 4\)"):
        image_grid(torch.rand(2, 2, 3, 4))
    with pytest.raises(ValueError, match="n_cols must be a positive int, got 0"):
        image_grid(images(2), n_cols=0)
    with pytest.raises(ValueError, match="pad must be an int >= 0, got -1"):
        tile_images(images(2), 2, pad=-1)
    with pytest.raises(ValueError, match=r"pad_value must be a number in \[0, 1\], got 2"):
        tile_images(images(2), 2, pad_value=2)
    with pytest.raises(ValueError, match="inputs and reconstructions must have the same shape"):
        reconstruction_pairs(images(3), images(4))
    with pytest.raises(ValueError, match="reconstructions must hold values in"):
        reconstruction_pairs(images(3), images(3) - 1)


# ----------------------------------------------------------------------------- latent walk


def test_latent_walk_numbers_the_points_and_decodes_them():
    model = SpyDecoderVAE()
    points = np.array([[-1.0, 0.0], [0.0, 0.5], [1.0, 1.0], [2.0, -1.0], [0.0, 0.0], [1.5, 1.5], [-2.0, 2.0]])
    codes, labels = np.random.default_rng(0).normal(size=(20, 2)), np.arange(20) % 4
    fig = latent_walk(model, points, codes=codes, labels=labels, title="walk")
    scatter_ax, image_ax = fig.axes
    assert texts_of(fig)[0] == "walk"
    np.testing.assert_allclose(model.calls[0].numpy(), points, atol=1e-6)
    path = scatter_ax.lines[0]
    np.testing.assert_array_equal(path.get_xdata(), points[:, 0])
    np.testing.assert_array_equal(path.get_ydata(), points[:, 1])
    assert len(scatter_ax.collections) == 4
    assert [t.get_text() for t in scatter_ax.texts] == [str(k) for k in range(1, 8)]
    assert [t.get_text() for t in image_ax.texts] == [str(k) for k in range(1, 8)]
    mosaic = the_image(fig, 1)
    for k, point in enumerate(points):
        row, col = divmod(k, 5)
        np.testing.assert_allclose(mosaic[row * 4 : row * 4 + 3, col * 5 : col * 5 + 4], expected_image(model, point)[0], atol=1e-6)
    bare = latent_walk(SpyDecoderVAE(), points[:2])
    assert len(bare.axes[0].collections) == 0 and "z_1" in bare.axes[0].get_xlabel()


def test_latent_walk_rejects_bad_points():
    with pytest.raises(ValueError, match=r"z must have shape \(N, 2\)"):
        latent_walk(SpyDecoderVAE(), np.zeros(2))
    with pytest.raises(ValueError, match="latent_dim=2"):
        latent_walk(SpyDecoderVAE(latent_dim=1), np.zeros((1, 1)))


# ----------------------------------------------------------------------------- estimators and bounds


def test_estimator_histograms_match_numpy_and_report_mean_and_std():
    rng = np.random.default_rng(3)
    wide, narrow = rng.normal(2.0, 5.0, 4000), rng.normal(2.0, 1.0, 4000)
    fig = estimator_histograms({"score function": wide, "reparameterised": torch.tensor(narrow)},
                               true_value=2.0, bins=30, title="spread", xlabel="d/dmu")
    ax = fig.axes[0]
    assert ax.get_title() == "spread" and ax.get_xlabel() == "d/dmu" and ax.get_ylabel() == "density"
    edges = np.linspace(*np.percentile(np.concatenate([wide, narrow]), [1.0, 99.0]), 31)
    heights = [patch.get_height() for patch in ax.patches]
    np.testing.assert_allclose(heights[:30], np.histogram(wide, bins=edges, density=True)[0])
    np.testing.assert_allclose(heights[30:], np.histogram(narrow, bins=edges, density=True)[0])
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[0] == f"score function: mean {wide.mean():.3g}, std {wide.std(ddof=1):.3g}"
    assert legend[1] == f"reparameterised: mean {narrow.mean():.3g}, std {narrow.std(ddof=1):.3g}"
    assert legend[2] == "exact value 2"
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), [2.0, 2.0])
    fixed = estimator_histograms({"a": [0.0, 1.0, 2.0]}, bins=2, value_range=(0.0, 2.0))
    np.testing.assert_allclose([p.get_height() for p in fixed.axes[0].patches], [1 / 3, 2 / 3])


def test_estimator_histograms_reject_bad_estimates():
    with pytest.raises(ValueError, match="estimates must be a non-empty mapping"):
        estimator_histograms({})
    with pytest.raises(ValueError, match=r"estimates\['a'\] must be a 1-D array of at least 2 finite numbers"):
        estimator_histograms({"a": [1.0, np.inf]})
    with pytest.raises(ValueError, match="value_range must be two finite numbers.*\\(1.0, 0.0\\)"):
        estimator_histograms({"a": [0.0, 1.0]}, value_range=(1.0, 0.0))
    with pytest.raises(ValueError, match=r"value_range must be two finite numbers.*\(0.0, 1.0, 2.0\)"):
        estimator_histograms({"a": [0.0, 1.0]}, value_range=(0.0, 1.0, 2.0))
    with pytest.raises(ValueError, match="bins must be a positive int, got 0"):
        estimator_histograms({"a": [0.0, 1.0]}, bins=0)


def test_estimator_histograms_of_constant_estimates_bin_a_unit_interval():
    fig = estimator_histograms({"exact": [3.0] * 5}, bins=4)
    patches = fig.axes[0].patches
    assert patches[0].get_x() == 2.5 and sum(p.get_height() * p.get_width() for p in patches) == pytest.approx(1.0)


def test_bound_curves_plot_each_models_bounds_against_k_on_a_log_axis():
    fig = bound_curves([1, 10, 100], {"S = 1": [-25.0, -23.0, -22.5], "S = 5": np.array([-24.0, -22.8, -22.4])})
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and "k" in ax.get_xlabel() and "nats" in ax.get_ylabel() and ax.get_title()
    assert [line.get_label() for line in ax.lines] == ["S = 1", "S = 5"]
    for line, values in zip(ax.lines, ([-25.0, -23.0, -22.5], [-24.0, -22.8, -22.4])):
        np.testing.assert_array_equal(line.get_xdata(), [1, 10, 100])
        np.testing.assert_array_equal(line.get_ydata(), values)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1", "10", "100"]


def test_bound_curves_reject_bad_arguments():
    with pytest.raises(ValueError, match=r"k_values must be increasing positive integers, got \[10, 1\]"):
        bound_curves([10, 1], {"a": [0.0, 1.0]})
    with pytest.raises(ValueError, match="bounds must be a non-empty mapping"):
        bound_curves([1], {})
    with pytest.raises(ValueError, match=r"bounds\['a'\] must have one value per k \(2\), got shape \(3,\)"):
        bound_curves([1, 2], {"a": [0.0, 1.0, 2.0]})


def test_compact_png_is_a_smaller_palette_png_of_the_same_picture():
    import io

    from PIL import Image

    from vaelib.plotting import compact_png

    figure = Figure(figsize=(4, 3), dpi=80)
    ax = figure.add_subplot()
    for k in range(5):
        ax.plot(np.sin(np.linspace(0, 6, 200) + k), label=str(k))
    ax.legend()
    plain = io.BytesIO()
    figure.savefig(plain, format="png", bbox_inches="tight")
    small = compact_png(figure)
    assert len(small) < 0.7 * len(plain.getvalue())
    image = Image.open(io.BytesIO(small))
    reference = Image.open(io.BytesIO(plain.getvalue())).convert("RGB")
    assert image.mode == "P" and image.size == reference.size
    difference = np.abs(np.asarray(image.convert("RGB"), dtype=float) - np.asarray(reference, dtype=float))
    assert difference.mean() < 2.0  # out of 255: the same picture
    with pytest.raises(ValueError, match="colors must be at most 256"):
        compact_png(figure, colors=1000)
