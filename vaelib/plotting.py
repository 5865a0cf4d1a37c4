"""Figures for looking inside a VAE: training curves, the latent space, decoded images, estimators.

Every public plotting function returns a :class:`matplotlib.figure.Figure`. Figures are built
without :mod:`matplotlib.pyplot`, so nothing is shown or kept alive behind the caller's back: in
Jupyter, make the figure the last expression of a cell (with the inline backend,
``%matplotlib inline``) and it is displayed once; in a script, call ``fig.savefig(path)``.
Functions that draw a single panel take ``ax=`` to draw into an existing Axes instead, so panels
compose into bigger figures (and into the explorers of :mod:`vaelib.widgets`).

Conventions. Images are (N, C, H, W) with C = 1 (grey) or 3 (RGB) and values in [0, 1]: the
Bernoulli means ``model.decode(z)`` returns, or data such as ``load_images(...).x``. Latent codes
are (N, 2). Tensors and NumPy arrays are both accepted. Log-likelihood quantities are in nats per
sample (per image), as in :mod:`vaelib.losses` and :mod:`vaelib.training`.
"""
from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch
from matplotlib import patheffects
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from vaelib.annealing import Annealer
from vaelib.models.base import VAE, evaluating, positive_int

__all__ = [
    "bound_curves",
    "collapse_curves",
    "decode_images",
    "describe_schedule",
    "estimator_histograms",
    "factor_examples",
    "image_grid",
    "kl_bars",
    "latent_scatter",
    "latent_traversals",
    "latent_walk",
    "manifold_grid",
    "mean_sd_panel",
    "metric_bars",
    "plot_schedule",
    "plot_schedules",
    "posterior_mean_snapshots",
    "prior_grid",
    "reconstruction_pairs",
    "schedule_trace",
    "seed_summary",
    "tile_images",
    "training_curves",
    "traversal_codes",
]

GREY = {"cmap": "gray", "vmin": 0.0, "vmax": 1.0, "interpolation": "nearest"}
"""``imshow`` settings for images in [0, 1]: black 0, white 1, one screen block per pixel."""
Z_LABELS = ("$z_1$", "$z_2$")


# ----------------------------------------------------------------------------- validation


def _as_array(name: str, value: Any) -> np.ndarray:
    """``value`` (a Tensor or array-like of numbers) as a float64 NumPy array; TypeError otherwise."""
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().double().numpy()
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{name} must be a torch.Tensor or an array of numbers, got {type(value).__name__}") from err
    return array


def _check_images(name: str, images: Any) -> np.ndarray:
    """(N, C, H, W) images in [0, 1] with C in (1, 3), as float64; raise naming ``name`` otherwise."""
    array = _as_array(name, images)
    if array.ndim != 4 or array.shape[0] == 0 or array.shape[1] not in (1, 3):
        raise ValueError(f"{name} must have shape (N, C, H, W) with N >= 1 and C in (1, 3), got {array.shape}")
    if not np.isfinite(array).all() or array.min() < 0.0 or array.max() > 1.0:
        raise ValueError(
            f"{name} must hold values in [0, 1] (probabilities, not logits), got values in "
            f"[{np.nanmin(array):.4g}, {np.nanmax(array):.4g}]"
        )
    return array


def _check_codes(name: str, codes: Any) -> np.ndarray:
    """Finite (N, 2) latent codes as float64; raise naming ``name`` otherwise."""
    array = _as_array(name, codes)
    if array.ndim != 2 or array.shape[1] != 2 or array.shape[0] == 0:
        raise ValueError(f"{name} must have shape (N, 2) with N >= 1, got {array.shape}")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} must be finite, got {int((~np.isfinite(array)).sum())} NaN or infinite entries")
    return array


def _check_labels(labels: Any, n: int) -> np.ndarray:
    """(n,) integer class labels >= 0 as int64."""
    array = labels.detach().cpu().numpy() if isinstance(labels, torch.Tensor) else np.asarray(labels)
    if array.shape != (n,) or not np.issubdtype(array.dtype, np.integer):
        raise ValueError(f"labels must be {n} integer class indices (shape ({n},)), got dtype {array.dtype} and shape {array.shape}")
    if n and array.min() < 0:
        raise ValueError(f"labels must be class indices >= 0, got minimum {array.min()}")
    return array.astype(np.int64)


def _check_class_names(class_names: Sequence[str] | None, labels: np.ndarray) -> list[str]:
    """Names for classes 0..max(labels): ``class_names``, or the label numbers as text."""
    n_classes = int(labels.max()) + 1 if labels.size else 0
    if class_names is None:
        return [str(c) for c in range(n_classes)]
    if isinstance(class_names, str) or not isinstance(class_names, Sequence) or len(class_names) < n_classes:
        raise ValueError(f"class_names must be a sequence of at least {n_classes} names (one per class), got {class_names!r}")
    return [str(name) for name in class_names]


def _check_2d_model(model: Any) -> VAE:
    if not isinstance(model, VAE):
        raise TypeError(f"model must be a vaelib VAE, got {type(model).__name__}")
    if model.latent_dim != 2:
        raise ValueError(f"model must have a 2-D latent space (latent_dim=2), got latent_dim={model.latent_dim}")
    return model


def _check_axes(ax: Any) -> Axes | None:
    if ax is not None and not isinstance(ax, Axes):
        raise TypeError(f"ax must be a matplotlib Axes or None, got {type(ax).__name__}")
    return ax


def _check_quantiles(quantiles: Any) -> tuple[float, float]:
    if (
        not isinstance(quantiles, Sequence)
        or len(quantiles) != 2
        or not all(isinstance(q, numbers.Real) and not isinstance(q, bool) for q in quantiles)
        or not 0.0 < quantiles[0] < quantiles[1] < 1.0
    ):
        raise ValueError(f"quantiles must be two numbers (low, high) with 0 < low < high < 1, got {quantiles!r}")
    return float(quantiles[0]), float(quantiles[1])


# ----------------------------------------------------------------------------- building blocks


def _new_figure(width: float, height: float) -> Figure:
    return Figure(figsize=(width, height), layout="constrained")


def _figure_and_axes(ax: Axes | None, width: float, height: float) -> tuple[Figure, Axes]:
    if _check_axes(ax) is not None:
        return ax.figure, ax
    figure = _new_figure(width, height)
    return figure, figure.add_subplot()


def decode_images(model: VAE, z: Any) -> np.ndarray:
    """Decoder means ``model.decode(z)`` as a NumPy array, computed in eval mode without gradients.

    Parameters
    ----------
    model : VAE
        Its train/eval mode is restored afterwards.
    z : Tensor or array, (N, latent_dim)
        Latent codes; moved to the model's device and dtype.

    Returns
    -------
    numpy.ndarray
        (N, *image_shape), e.g. Bernoulli probabilities (N, C, H, W) in [0, 1].
    """
    if not isinstance(model, VAE):
        raise TypeError(f"model must be a vaelib VAE, got {type(model).__name__}")
    dtype = next(model.parameters()).dtype
    codes = torch.as_tensor(_as_array("z", z), dtype=dtype, device=model.device)
    with evaluating(model):
        return model.decode(codes).cpu().numpy()


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
    array = _check_images("images", images)
    n_cols = positive_int("n_cols", n_cols)
    if isinstance(pad, bool) or not isinstance(pad, numbers.Integral) or pad < 0:
        raise ValueError(f"pad must be an int >= 0, got {pad!r}")
    if isinstance(pad_value, bool) or not isinstance(pad_value, numbers.Real) or not 0.0 <= pad_value <= 1.0:
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


def _show_mosaic(ax: Axes, mosaic: np.ndarray) -> None:
    ax.imshow(mosaic, **GREY)
    ax.set_xticks([])
    ax.set_yticks([])


def _draw_scatter(
    ax: Axes, codes: np.ndarray, labels: np.ndarray | None, class_names: Sequence[str] | None,
    point_size: float | None, annotate: bool,
) -> None:
    """Scatter ``codes`` on ``ax``: one collection per class (in class order) and a legend."""
    size = point_size if point_size is not None else (14.0 if len(codes) <= 2000 else 4.0)
    if labels is None:
        ax.scatter(codes[:, 0], codes[:, 1], s=size, color="tab:blue", alpha=0.7, linewidths=0)
    else:
        names = _check_class_names(class_names, labels)
        cmap = _class_colours(len(names))
        for c, name in enumerate(names):
            members = codes[labels == c]
            if len(members) == 0:
                continue
            ax.scatter(members[:, 0], members[:, 1], s=size, color=cmap[c], alpha=0.7, linewidths=0, label=name)
            if annotate:
                centre = np.median(members, axis=0)
                ax.text(
                    centre[0], centre[1], name, ha="center", va="center", fontsize=11, fontweight="bold",
                    color=cmap[c], path_effects=[patheffects.withStroke(linewidth=3, foreground="white")],
                )
        legend = ax.legend(title="class", loc="center left", bbox_to_anchor=(1.0, 0.5), markerscale=2.0, frameon=False)
        for handle in legend.legend_handles:
            handle.set_alpha(1.0)
    ax.set_xlabel(f"{Z_LABELS[0]} (posterior mean)")
    ax.set_ylabel(f"{Z_LABELS[1]} (posterior mean)")
    ax.set_aspect("equal", adjustable="datalim")
    ax.grid(True, alpha=0.3)


def _class_colours(n: int) -> list[tuple[float, ...]]:
    """Distinct colours for n classes: tab10 up to 10 classes, tab20 up to 20, then a hue wheel."""
    from matplotlib import colormaps

    if n <= 10:
        return [colormaps["tab10"](c) for c in range(n)]
    if n <= 20:
        return [colormaps["tab20"](c) for c in range(n)]
    return [colormaps["hsv"](c / n) for c in range(n)]


# ----------------------------------------------------------------------------- training


def training_curves(history: pd.DataFrame, *, x: str = "step", title: str = "Training curves") -> Figure:
    """ELBO, reconstruction term and KL term over training, from :func:`vaelib.fit`'s history.

    Three panels, each in nats per sample: the ELBO ``-(recon + kl)``, the reconstruction term
    ``recon`` (negative log-likelihood) and ``kl`` = KL(q(z|x) || p(z)). Training rows are
    averages over the minibatches of each logging window; the held-out columns ``eval_elbo``,
    ``eval_recon``, ``eval_kl`` are drawn too when the history has them (``fit(eval_data=...)``).
    The ELBO is computed from the true KL, so it is the ELBO even when an annealer down-weights
    the KL in the training loss.

    Parameters
    ----------
    history : pandas.DataFrame
        Columns ``x``, ``recon``, ``kl`` and optionally ``eval_*``.
    x : str
        Column for the horizontal axis, e.g. ``"step"`` or ``"epoch"``.
    title : str
    """
    if not isinstance(history, pd.DataFrame):
        raise TypeError(f"history must be a pandas DataFrame (what fit returns), got {type(history).__name__}")
    missing = [column for column in (x, "recon", "kl") if column not in history.columns]
    if missing:
        raise ValueError(f"history must have the columns {[x, 'recon', 'kl']}, missing {missing}")
    if len(history) == 0:
        raise ValueError("history must have at least one row, got an empty DataFrame")
    steps = history[x].to_numpy()
    train = {"ELBO": -(history["recon"] + history["kl"]), "recon": history["recon"], "kl": history["kl"]}
    held_out = {"ELBO": "eval_elbo", "recon": "eval_recon", "kl": "eval_kl"}
    panel_titles = {
        "ELBO": "ELBO  $\\mathbb{E}_q[\\log p(x|z)] - \\mathrm{KL}$",
        "recon": "Reconstruction  $-\\mathbb{E}_q[\\log p(x|z)]$",
        "kl": "KL$(q(z|x)\\,\\|\\,p(z))$",
    }
    figure = _new_figure(13.0, 3.8)
    axes = figure.subplots(1, 3)
    for ax, key in zip(axes, train):
        ax.plot(steps, train[key].to_numpy(), color="tab:blue", label="training (minibatch mean)")
        if held_out[key] in history.columns:
            ax.plot(steps, history[held_out[key]].to_numpy(), color="tab:orange", label="held-out")
        ax.set_title(panel_titles[key])
        ax.set_xlabel(x)
        ax.set_ylabel("nats per sample")
        ax.grid(True, alpha=0.3)
    axes[0].legend()
    figure.suptitle(title)
    return figure


# ----------------------------------------------------------------------------- latent space


def latent_scatter(
    codes: Any,
    labels: Any = None,
    *,
    class_names: Sequence[str] | None = None,
    title: str = "Posterior means in the latent space",
    point_size: float | None = None,
    annotate: bool = True,
    ax: Axes | None = None,
) -> Figure:
    """Scatter 2-D latent codes (e.g. posterior means E_q[z|x] of a test set), coloured by class.

    Parameters
    ----------
    codes : Tensor or array, (N, 2)
    labels : Tensor or array of int, (N,), optional
        Class index of each code; one colour, legend entry and scatter collection per class
        (collections in class order; classes without points are skipped).
    class_names : sequence of str, optional
        Names of classes 0, 1, ...; default the class numbers.
    title : str
    point_size : float, optional
        Marker area in points^2; default 14 (4 above 2000 points).
    annotate : bool
        Write each class name at the median of its codes.
    ax : matplotlib Axes, optional
        Draw there instead of in a new figure.
    """
    codes = _check_codes("codes", codes)
    labels = None if labels is None else _check_labels(labels, len(codes))
    if not isinstance(annotate, bool):
        raise TypeError(f"annotate must be True or False, got {annotate!r}")
    figure, ax = _figure_and_axes(ax, 7.0, 6.0)
    _draw_scatter(ax, codes, labels, class_names, point_size, annotate)
    ax.set_title(title)
    return figure


def prior_grid(n: int, *, quantiles: tuple[float, float] = (0.05, 0.95)) -> torch.Tensor:
    """An n x n grid of 2-D codes equally spaced in the prior's probability, z = Φ⁻¹(u).

    The construction of Kingma & Welling 2014 (Fig. 4): u runs over ``n`` equally spaced values
    from ``quantiles[0]`` to ``quantiles[1]`` and the standard normal inverse CDF Φ⁻¹ maps them
    to z, so every tile of a decoded grid covers the same prior mass.

    Returns
    -------
    torch.Tensor
        float32, (n, n, 2), laid out like a picture with z_1 growing to the right and z_2 growing
        upwards: ``grid[i, j] = (Φ⁻¹(u_j), Φ⁻¹(u_{n-1-i}))``.
    """
    n = positive_int("n", n)
    low, high = _check_quantiles(quantiles)
    z = torch.special.ndtri(torch.linspace(low, high, n, dtype=torch.float64))
    z1 = z.expand(n, n)
    z2 = z.flip(0)[:, None].expand(n, n)
    return torch.stack([z1, z2], dim=-1).float()


def manifold_grid(
    model: VAE,
    n: int = 15,
    *,
    quantiles: tuple[float, float] = (0.05, 0.95),
    title: str = "Decoded manifold: $\\mathbb{E}[x|z]$ on a $\\Phi^{-1}$ grid of the prior",
) -> Figure:
    """Decode the :func:`prior_grid` and show the images as one mosaic (the "learned manifold").

    Tile (i, j) is ``model.decode(prior_grid(n)[i, j])``, tiles one grey pixel apart (as
    :func:`tile_images` with ``pad=1`` lays them out). Ticks give
    the z value of some tile centres: z_1 grows to the right, z_2 upwards, matching
    :func:`latent_scatter`.

    Parameters
    ----------
    model : VAE
        With ``latent_dim == 2`` and images as decoder output.
    n : int
        Tiles per side.
    quantiles : (float, float)
        Prior probabilities of the first and last grid lines.
    title : str
    """
    model = _check_2d_model(model)
    grid = prior_grid(n, quantiles=quantiles)
    images = decode_images(model, grid.reshape(n * n, 2))
    mosaic = tile_images(images, n, pad=1)
    figure = _new_figure(7.0, 7.0)
    ax = figure.add_subplot()
    ax.imshow(mosaic, **GREY)
    height, width = images.shape[-2:]
    every = max(1, n // 5)
    ticks = list(range(0, n, every))
    ax.set_xticks([j * (width + 1) + (width - 1) / 2 for j in ticks], [f"{grid[0, j, 0]:.2f}" for j in ticks])
    ax.set_yticks([i * (height + 1) + (height - 1) / 2 for i in ticks], [f"{grid[i, 0, 1]:.2f}" for i in ticks])
    ax.set_xlabel(f"{Z_LABELS[0]} = $\\Phi^{{-1}}(u_1)$")
    ax.set_ylabel(f"{Z_LABELS[1]} = $\\Phi^{{-1}}(u_2)$")
    ax.set_title(title)
    return figure


def latent_walk(
    model: VAE,
    z: Any,
    *,
    codes: Any = None,
    labels: Any = None,
    class_names: Sequence[str] | None = None,
    title: str = "Walking through the latent space",
) -> Figure:
    """Decode a sequence of latent points and show where they lie: the static latent explorer.

    Left: the numbered points (on top of a :func:`latent_scatter` of ``codes`` when given),
    joined in order. Right: their decoded images, numbered the same way, in a mosaic at most
    five tiles wide.

    Parameters
    ----------
    model : VAE
        With ``latent_dim == 2``.
    z : Tensor or array, (K, 2)
        The points, in order.
    codes, labels, class_names
        Optional background scatter, as in :func:`latent_scatter`.
    title : str
    """
    model = _check_2d_model(model)
    points = _check_codes("z", z)
    images = decode_images(model, points)
    n_cols = min(5, len(points))
    mosaic = tile_images(images, n_cols, pad=1)
    figure = _new_figure(12.0, 5.0)
    scatter_ax, image_ax = figure.subplots(1, 2, width_ratios=[1.0, 1.25])
    if codes is not None:
        codes = _check_codes("codes", codes)
        labels = None if labels is None else _check_labels(labels, len(codes))
        _draw_scatter(scatter_ax, codes, labels, class_names, None, annotate=False)
    else:
        scatter_ax.set_xlabel(Z_LABELS[0])
        scatter_ax.set_ylabel(Z_LABELS[1])
        scatter_ax.set_aspect("equal", adjustable="datalim")
        scatter_ax.grid(True, alpha=0.3)
    scatter_ax.plot(points[:, 0], points[:, 1], "-o", color="black", markersize=16, markerfacecolor="white", zorder=3)
    for k, (z1, z2) in enumerate(points, start=1):
        scatter_ax.text(z1, z2, str(k), ha="center", va="center", fontsize=9, fontweight="bold", zorder=4)
    scatter_ax.set_title("latent points")
    _show_mosaic(image_ax, mosaic)
    height, width = images.shape[-2:]
    for k in range(len(points)):
        row, col = divmod(k, n_cols)
        image_ax.text(
            col * (width + 1), row * (height + 1), str(k + 1), ha="left", va="top", fontsize=10,
            color="yellow", fontweight="bold", path_effects=[patheffects.withStroke(linewidth=2, foreground="black")],
        )
    image_ax.set_title("decoded $\\mathbb{E}[x|z]$")
    figure.suptitle(title)
    return figure


# ----------------------------------------------------------------------------- images


def image_grid(
    images: Any, *, n_cols: int = 10, title: str = "Images", ax: Axes | None = None
) -> Figure:
    """Show images (N, C, H, W) in [0, 1] as one mosaic (see :func:`tile_images`), ``n_cols`` wide."""
    n_cols = positive_int("n_cols", n_cols)
    mosaic = tile_images(images, n_cols)
    figure, ax = _figure_and_axes(ax, *_mosaic_inches(mosaic, np.shape(images)[-2], panels=1))
    _show_mosaic(ax, mosaic)
    ax.set_title(title)
    return figure


def _mosaic_inches(mosaic: np.ndarray, tile_height: int, *, panels: int) -> tuple[float, float]:
    """Figure size for ``panels`` mosaics stacked vertically: about 0.55 inch a tile, at most 12 wide."""
    per_pixel = 0.55 / tile_height
    width, height = mosaic.shape[1] * per_pixel, mosaic.shape[0] * per_pixel
    shrink = min(1.0, 11.0 / width)
    return 1.0 + width * shrink, 0.3 + panels * (0.45 + height * shrink)


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
    inputs = _check_images("inputs", inputs)
    reconstructions = _check_images("reconstructions", reconstructions)
    if inputs.shape != reconstructions.shape:
        raise ValueError(
            f"inputs and reconstructions must have the same shape, got {inputs.shape} and {reconstructions.shape}"
        )
    n_cols = positive_int("n_cols", n_cols)
    mosaics = [tile_images(inputs, n_cols), tile_images(reconstructions, n_cols)]
    figure = _new_figure(*_mosaic_inches(mosaics[0], inputs.shape[-2], panels=2))
    for ax, mosaic, label in zip(figure.subplots(2, 1), mosaics, ("input $x$", "reconstruction")):
        _show_mosaic(ax, mosaic)
        ax.set_ylabel(label)
    figure.suptitle(title)
    return figure


# ----------------------------------------------------------------------------- estimators and bounds


def estimator_histograms(
    estimates: Mapping[str, Any],
    *,
    true_value: float | None = None,
    bins: int = 60,
    value_range: tuple[float, float] | None = None,
    title: str = "Spread of single-sample gradient estimates",
    xlabel: str = "estimate",
) -> Figure:
    """Overlaid histograms of Monte Carlo estimates of one quantity, one per estimator.

    Each legend entry gives the estimator's sample mean and standard deviation (over all its
    estimates, including those outside the drawn range); a dashed line marks ``true_value``.

    Parameters
    ----------
    estimates : mapping of str to Tensor or array, each (M,)
        Estimator name -> its independent estimates.
    true_value : float, optional
        The exact value of the estimated quantity.
    bins : int
        Number of equal-width bins, shared by all histograms.
    value_range : (float, float), optional
        The binned range; default the 1st to 99th percentile of all estimates pooled (heavy tails
        would otherwise squeeze every histogram into a spike).
    title, xlabel : str
    """
    if not isinstance(estimates, Mapping) or len(estimates) == 0:
        raise ValueError(f"estimates must be a non-empty mapping of name -> array of estimates, got {estimates!r:.80}")
    arrays = {}
    for name, values in estimates.items():
        array = _as_array(f"estimates[{name!r}]", values)
        if array.ndim != 1 or array.size < 2 or not np.isfinite(array).all():
            raise ValueError(f"estimates[{name!r}] must be a 1-D array of at least 2 finite numbers, got shape {array.shape}")
        arrays[str(name)] = array
    bins = positive_int("bins", bins)
    pooled = np.concatenate(list(arrays.values()))
    if value_range is None:
        low, high = np.percentile(pooled, [1.0, 99.0])
        if low == high:  # (almost) all estimates equal: bin a unit interval around them
            low, high = low - 0.5, high + 0.5
    else:
        bounds = _as_array("value_range", value_range)
        if bounds.shape != (2,) or not np.isfinite(bounds).all() or not bounds[0] < bounds[1]:
            raise ValueError(f"value_range must be two finite numbers (low, high) with low < high, got {value_range!r}")
        low, high = bounds
    edges = np.linspace(low, high, bins + 1)
    figure = _new_figure(8.0, 4.5)
    ax = figure.add_subplot()
    for name, array in arrays.items():
        ax.hist(array, bins=edges, density=True, alpha=0.55,
                label=f"{name}: mean {array.mean():.3g}, std {array.std(ddof=1):.3g}")
    if true_value is not None:
        ax.axvline(float(true_value), color="black", linestyle="--", label=f"exact value {float(true_value):.3g}")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("density")
    ax.set_title(title)
    ax.legend()
    ax.grid(True, alpha=0.3)
    return figure


def bound_curves(
    k_values: Sequence[int],
    bounds: Mapping[str, Sequence[float]],
    *,
    title: str = "Importance-weighted bounds on $\\log p(x)$",
    xlabel: str = "importance samples $k$",
    ylabel: str = "bound on $\\log p(x)$ (nats per sample)",
) -> Figure:
    """Lower bounds on log p(x) against the number of importance samples k, one line per model.

    With k = 1 the importance-weighted bound (Burda et al. 2016) is the ELBO; it rises with k
    towards log p(x). The x axis is logarithmic.

    Parameters
    ----------
    k_values : sequence of int
        The k of each point, increasing.
    bounds : mapping of str to sequence of float
        Model name -> its bound at each k (same length as ``k_values``).
    title, xlabel, ylabel : str
    """
    ks = _as_array("k_values", k_values)
    if ks.ndim != 1 or ks.size == 0 or (ks < 1).any() or (np.diff(ks) <= 0).any():
        raise ValueError(f"k_values must be increasing positive integers, got {list(k_values)!r}")
    if not isinstance(bounds, Mapping) or len(bounds) == 0:
        raise ValueError(f"bounds must be a non-empty mapping of name -> values, got {bounds!r:.80}")
    figure = _new_figure(7.0, 4.5)
    ax = figure.add_subplot()
    for name, values in bounds.items():
        array = _as_array(f"bounds[{name!r}]", values)
        if array.shape != ks.shape:
            raise ValueError(f"bounds[{name!r}] must have one value per k ({ks.size}), got shape {array.shape}")
        ax.plot(ks, array, "-o", label=str(name))
    ax.set_xscale("log")
    ax.set_xticks(ks, [str(int(k)) for k in ks])
    ax.minorticks_off()
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend()
    ax.grid(True, alpha=0.3)
    return figure


# ----------------------------------------------------------------------------- disentanglement


def _check_kl(kl: Any, name: str = "kl") -> np.ndarray:
    """Finite, non-negative per-dimension KL values (D,) as float64; raise naming ``name`` otherwise."""
    array = _as_array(name, kl)
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"{name} must be a 1-D array of per-dimension KL values (D,), got shape {array.shape}")
    if not np.isfinite(array).all() or array.min() < 0.0:
        raise ValueError(f"{name} must hold finite values >= 0 (nats), got values in [{np.nanmin(array):.4g}, {np.nanmax(array):.4g}]")
    return array


def traversal_codes(base: Any, kl: Any, *, span: float = 3.0, n_steps: int = 9) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Latent codes of a traversal: one latent dimension at a time swept from −span to +span.

    The latent traversals of Higgins et al. 2017 (Fig. 7): starting from a base code, dimension d
    takes ``n_steps`` equally spaced values from ``-span`` to ``+span`` (in prior standard
    deviations σ = 1, around the prior mean 0) while every other dimension keeps its base value.
    Dimensions are ordered by decreasing KL (ties keep index order), so the informative ones
    come first and collapsed ones (KL ≈ 0, which the decoder ignores) last.

    Parameters
    ----------
    base : Tensor or array, (D,)
        The base code, e.g. the posterior mean of one image.
    kl : Tensor or array, (D,)
        KL(q(z_d|x) || p(z_d)) per dimension in nats, e.g. from
        :func:`vaelib.diagnostics.kl_per_dimension`.
    span : float > 0
        Half-width of the sweep in prior standard deviations (3 gives −3σ to +3σ).
    n_steps : int >= 2
        Values per dimension.

    Returns
    -------
    order : numpy.ndarray of int, (D,)
        Dimension traversed in each row, by decreasing KL.
    values : numpy.ndarray, (n_steps,)
        ``linspace(-span, span, n_steps)``.
    codes : numpy.ndarray, (D, n_steps, D)
        ``codes[r, c]`` is ``base`` with dimension ``order[r]`` set to ``values[c]``.
    """
    base_array = _as_array("base", base)
    kl_array = _check_kl(kl)
    if base_array.ndim != 1 or base_array.shape != kl_array.shape or not np.isfinite(base_array).all():
        raise ValueError(f"base must be a finite code of shape {kl_array.shape} (one value per KL entry), got shape {base_array.shape}")
    if isinstance(span, bool) or not isinstance(span, numbers.Real) or not (math.isfinite(span) and span > 0):
        raise ValueError(f"span must be a finite number > 0, got {span!r}")
    n_steps = positive_int("n_steps", n_steps)
    if n_steps < 2:
        raise ValueError(f"n_steps must be >= 2, got {n_steps}")
    order = np.argsort(-kl_array, kind="stable")
    values = np.linspace(-float(span), float(span), n_steps)
    codes = np.tile(base_array, (order.size, n_steps, 1))
    codes[np.arange(order.size), :, order] = values
    return order, values, codes


def latent_traversals(
    model: VAE,
    base: Any,
    kl: Any,
    *,
    span: float = 3.0,
    n_steps: int = 9,
    n_dims: int | None = None,
    title: str = "Latent traversals, dimensions sorted by KL",
) -> Figure:
    """Decode :func:`traversal_codes` and show them as one mosaic: a row per latent dimension.

    Row r shows ``model.decode`` of ``codes[r]``: dimension ``order[r]`` swept from −span to
    +span (columns, labelled with the value of z_d), every other dimension at ``base``. Rows are
    labelled with the dimension and its KL in nats, largest KL on top. In a disentangled model each
    informative row changes one ground-truth factor only; rows with KL ≈ 0 do not change at all.

    Parameters
    ----------
    model : VAE
        With images (N, C, H, W) in [0, 1] as decoder output.
    base, kl, span, n_steps
        As in :func:`traversal_codes`; ``base`` and ``kl`` have ``model.latent_dim`` entries.
    n_dims : int, optional
        Show only the ``n_dims`` dimensions with the largest KL (default: all).
    title : str
    """
    if not isinstance(model, VAE):
        raise TypeError(f"model must be a vaelib VAE, got {type(model).__name__}")
    order, values, codes = traversal_codes(base, kl, span=span, n_steps=n_steps)
    if order.size != model.latent_dim:
        raise ValueError(f"kl must have model.latent_dim={model.latent_dim} entries, got {order.size}")
    n_dims = order.size if n_dims is None else positive_int("n_dims", n_dims)
    if n_dims > order.size:
        raise ValueError(f"n_dims must be at most latent_dim={order.size}, got {n_dims}")
    kl_array = _check_kl(kl)
    images = decode_images(model, codes[:n_dims].reshape(n_dims * n_steps, -1))
    mosaic = tile_images(images, n_steps, pad=1)
    height, width = images.shape[-2:]
    figure = _new_figure(1.6 + 0.75 * n_steps, 1.2 + 0.75 * n_dims)
    ax = figure.add_subplot()
    ax.imshow(mosaic, **GREY)
    ax.set_xticks([c * (width + 1) + (width - 1) / 2 for c in range(n_steps)], [f"{v:+.3g}" for v in values])
    ax.set_yticks(
        [r * (height + 1) + (height - 1) / 2 for r in range(n_dims)],
        [f"$z_{{{d + 1}}}$  KL {kl_array[d]:.2f}" for d in order[:n_dims]],
    )
    ax.tick_params(length=0)
    ax.set_xlabel("value of the traversed $z_d$ (prior σ = 1); other dimensions at the base code")
    ax.set_title(title)
    return figure


def kl_bars(kls: Mapping[str, Any], *, sort: bool = True, title: str = "KL per latent dimension") -> Figure:
    """Bar charts of the KL of each latent dimension, one panel per model, on a shared y axis.

    The bar of dimension d has height KL(q(z_d|x) || p(z_d)) averaged over the data (nats per
    sample, :func:`vaelib.diagnostics.kl_per_dimension`); the heights sum to the model's KL term.
    A β-VAE concentrates its KL in a few dimensions and switches the others off (KL ≈ 0).

    Parameters
    ----------
    kls : mapping of str to Tensor or array, each (D,)
        Model name -> its per-dimension KL.
    sort : bool
        Order each panel's bars by decreasing KL (ties keep index order), as in
        :func:`latent_traversals`; the tick labels name the dimensions ($z_1$ is dimension 0).
    title : str
    """
    if not isinstance(kls, Mapping) or len(kls) == 0:
        raise ValueError(f"kls must be a non-empty mapping of model name -> per-dimension KL, got {kls!r:.80}")
    if not isinstance(sort, bool):
        raise TypeError(f"sort must be True or False, got {sort!r}")
    arrays = {str(name): _check_kl(values, f"kls[{name!r}]") for name, values in kls.items()}
    figure = _new_figure(1.0 + 4.2 * len(arrays), 3.6)
    axes = np.atleast_1d(figure.subplots(1, len(arrays), sharey=True))
    for ax, (name, kl) in zip(axes, arrays.items()):
        order = np.argsort(-kl, kind="stable") if sort else np.arange(kl.size)
        ax.bar(np.arange(kl.size), kl[order], color="tab:blue")
        ax.set_xticks(np.arange(kl.size), [f"$z_{{{d + 1}}}$" for d in order])
        ax.set_title(f"{name}: total {kl.sum():.2f} nats")
        ax.set_xlabel("latent dimension" + (" (sorted by KL)" if sort else ""))
        ax.grid(True, axis="y", alpha=0.3)
    axes[0].set_ylabel("KL (nats per sample)")
    figure.suptitle(title)
    return figure


def _factor_tick(data: Any, factor: int, value_class: int) -> str:
    """Tick label of class ``value_class`` of ``factor``: a shape name, degrees, or the value."""
    names = getattr(data, "factor_names", None)
    name = names[factor] if names is not None else ""
    if name == "shape" and hasattr(data, "shape_names"):
        return str(data.shape_names[value_class])
    values = getattr(data, "factor_values", None)
    if values is None:
        return str(value_class)
    value = float(values[factor][value_class])
    return f"{math.degrees(value):.0f}°" if name == "orientation" else f"{value:.2g}"


def factor_examples(
    data: Any,
    *,
    n_values: int = 8,
    random_state: np.random.Generator | int = 0,
    title: str = "One factor at a time",
) -> Figure:
    """Ground-truth data, one row per factor: that factor swept over its classes, the others fixed.

    A base factor combination is drawn with ``data.sample_factors(1, random_state)``; row k shows
    observations of the base with factor k set to ``n_values`` equally spaced classes from its
    first to its last (all classes when it has fewer), ticks giving the factor value (shape names,
    orientations in degrees). Factors with a single class (dSprites' ``color``) are skipped.

    Parameters
    ----------
    data
        Ground-truth data with disentanglement_lib's interface (``factor_sizes``,
        ``sample_factors``, ``sample_observations_from_factors`` returning images
        (N, C, H, W) in [0, 1]), e.g. :class:`vaelib.data.dsprites.DSprites`; ``factor_names``,
        ``factor_values`` and ``shape_names`` label the rows and ticks when present.
    n_values : int >= 2
        Most examples per factor.
    random_state : numpy Generator or int
        Draws the base combination.
    title : str
    """
    for attribute in ("factor_sizes", "sample_factors", "sample_observations_from_factors"):
        if not hasattr(data, attribute):
            raise TypeError(f"data must follow the ground-truth data interface (no attribute {attribute!r}), got {type(data).__name__}")
    n_values = positive_int("n_values", n_values)
    if n_values < 2:
        raise ValueError(f"n_values must be >= 2, got {n_values}")
    if isinstance(random_state, np.random.Generator):
        rng = random_state
    elif isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool) and random_state >= 0:
        rng = np.random.default_rng(int(random_state))
    else:
        raise TypeError(f"random_state must be a numpy.random.Generator or an int seed >= 0, got {random_state!r}")
    base = np.asarray(data.sample_factors(1, rng))[0]
    sizes = tuple(data.factor_sizes)
    varying = [k for k, size in enumerate(sizes) if size >= 2]
    names = getattr(data, "factor_names", [f"factor {k}" for k in range(len(sizes))])
    figure = _new_figure(1.8 + 0.75 * n_values, 0.6 + 0.95 * len(varying))
    for ax, k in zip(np.atleast_1d(figure.subplots(len(varying), 1)), varying):
        classes = np.unique(np.linspace(0, sizes[k] - 1, min(n_values, sizes[k])).round().astype(np.int64))
        factors = np.tile(base, (classes.size, 1))
        factors[:, k] = classes
        images = data.sample_observations_from_factors(factors, rng)
        array = _check_images("data.sample_observations_from_factors(...)", images)
        _show_mosaic(ax, tile_images(array, classes.size, pad=1))
        width = array.shape[-1]
        ax.set_xticks([c * (width + 1) + (width - 1) / 2 for c in range(classes.size)],
                      [_factor_tick(data, k, int(c)) for c in classes], fontsize=8)
        ax.set_ylabel(f"{names[k]}\n({sizes[k]} classes)", rotation=0, ha="right", va="center")
    figure.suptitle(title)
    return figure


def metric_bars(results: Mapping[str, Mapping[str, float]], *, title: str = "Disentanglement scores") -> Figure:
    """Grouped bar chart of scores in [0, 1]: one group per metric, one bar colour per model.

    Parameters
    ----------
    results : mapping of str to mapping of str to float
        Model name -> {metric name -> score}; every model must have the same metric names.
        Each bar is labelled with its value.
    title : str
    """
    if not isinstance(results, Mapping) or len(results) == 0:
        raise ValueError(f"results must be a non-empty mapping of model name -> {{metric: score}}, got {results!r:.80}")
    metrics: list[str] | None = None
    for name, scores in results.items():
        if not isinstance(scores, Mapping) or len(scores) == 0:
            raise ValueError(f"results[{name!r}] must be a non-empty mapping of metric name -> score, got {scores!r:.80}")
        if metrics is None:
            metrics = list(scores)
        elif set(scores) != set(metrics):
            raise ValueError(f"results[{name!r}] must have the metrics {metrics}, got {list(scores)}")
        values = _as_array(f"results[{name!r}]", [scores[m] for m in metrics])
        if not np.isfinite(values).all():
            raise ValueError(f"results[{name!r}] must hold finite scores, got {dict(scores)!r}")
    figure = _new_figure(1.5 + 1.1 * len(metrics) * max(1.0, len(results) / 3), 4.2)
    ax = figure.add_subplot()
    width = 0.8 / len(results)
    colours = _class_colours(len(results))
    for i, (name, scores) in enumerate(results.items()):
        heights = [float(scores[m]) for m in metrics]
        bars = ax.bar(np.arange(len(metrics)) + (i - (len(results) - 1) / 2) * width, heights, width,
                      label=str(name), color=colours[i])
        ax.bar_label(bars, fmt="%.2f", fontsize=7, padding=1)
    ax.set_xticks(np.arange(len(metrics)), metrics)
    ax.set_ylabel("score")
    ax.set_ylim(0.0, 1.08)
    ax.set_title(title)
    ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
    ax.grid(True, axis="y", alpha=0.3)
    return figure


# ----------------------------------------------------------------------------- posterior collapse

COLLAPSE_PANELS: dict[str, tuple[str, str]] = {
    "weight": ("KL weight $\\beta_t$", "weight"),
    "kl_total": ("KL$(q(z|x)\\,\\|\\,p(z))$, held-out", "nats per sample"),
    "active_units": ("Active units (Cov$_x\\,\\mathbb{E}_q[z_d] > 0.01$)", "units"),
    "mutual_information": ("Mutual information $I_q(x; z)$", "nats"),
    "recon": ("Reconstruction $-\\log p(x|z)$, training batches", "nats per sample"),
}
"""Title and y label of each :func:`collapse_curves` panel, by history column."""
SUMMARY_PANELS: dict[str, tuple[str, str]] = {
    "elbo": ("ELBO, held-out", "nats per sample"),
    "recon": ("Reconstruction $-\\log p(x|z)$, held-out", "nats per sample"),
    "kl": ("KL$(q(z|x)\\,\\|\\,p(z))$, held-out", "nats per sample"),
    "active_units": COLLAPSE_PANELS["active_units"],
    "mutual_information": COLLAPSE_PANELS["mutual_information"],
}
"""Title and y label of each :func:`seed_summary` panel, by the keys of
:func:`vaelib.collapse.collapse_summary` (the end-of-training numbers on held-out data)."""


def _check_histories(histories: Any) -> dict[str, pd.DataFrame]:
    if not isinstance(histories, Mapping) or not histories:
        raise ValueError(f"histories must be a non-empty mapping of method name to history DataFrame, got {histories!r:.80}")
    for name, history in histories.items():
        if not isinstance(history, pd.DataFrame):
            raise TypeError(f"histories[{name!r}] must be a pandas DataFrame (what fit returns), got {type(history).__name__}")
        if len(history) == 0:
            raise ValueError(f"histories[{name!r}] must have at least one row, got an empty DataFrame")
    return {str(name): history for name, history in histories.items()}


def collapse_curves(
    histories: Mapping[str, pd.DataFrame],
    *,
    columns: Sequence[str] = ("weight", "kl_total", "active_units", "mutual_information"),
    x: str = "step",
    title: str = "Posterior collapse over training",
) -> Figure:
    """One panel per diagnostic, one line per training method: how (and when) the code collapses.

    Made for the histories of :func:`vaelib.collapse.train_method` (:func:`vaelib.fit` with a
    :class:`~vaelib.diagnostics.CollapseMonitor`): the KL weight of the objective, the held-out
    KL in nats per sample, the number of active units and the mutual information I_q(x; z)
    (He et al. 2019, Eq. 5). Rows where a column is NaN (monitor rows skipped) are left out.

    Parameters
    ----------
    histories : mapping of str to pandas.DataFrame
        Method name (the legend label) to its history; each must have the column ``x`` and every
        column of ``columns``.
    columns : sequence of str
        History columns, one panel each, in order. Known columns (:data:`COLLAPSE_PANELS`) get
        their title and unit; others are titled by their name.
    x : str
        Column for the horizontal axis.
    title : str
    """
    histories = _check_histories(histories)
    if isinstance(columns, str) or not isinstance(columns, Sequence) or not columns:
        raise ValueError(f"columns must be a non-empty sequence of history column names, got {columns!r}")
    for name, history in histories.items():
        missing = [column for column in (x, *columns) if column not in history.columns]
        if missing:
            raise ValueError(f"histories[{name!r}] lacks the columns {missing}")
    colours = _class_colours(len(histories))
    figure = _new_figure(3.6 * len(columns), 3.6)
    axes = np.atleast_1d(figure.subplots(1, len(columns)))
    for ax, column in zip(axes, columns):
        for colour, (name, history) in zip(colours, histories.items()):
            rows = history[history[column].notna()]
            ax.plot(rows[x].to_numpy(), rows[column].to_numpy(dtype=np.float64), color=colour, label=name, lw=1.6)
        panel_title, unit = COLLAPSE_PANELS.get(column, (column, column))
        ax.set_title(panel_title, fontsize=10)
        ax.set_xlabel(x)
        ax.set_ylabel(unit)
        ax.grid(True, alpha=0.3)
    handles, names = axes[0].get_legend_handles_labels()
    figure.legend(handles, names, title="method", loc="outside right center", frameon=False)
    figure.suptitle(title)
    return figure


def mean_sd_panel(
    ax: Axes,
    data: pd.DataFrame,
    x: str | None,
    y: str,
    *,
    order: Sequence[Any] | None = None,
    hue: str | None = None,
) -> None:
    """Draw the mean of ``y`` per ``x`` (and ``hue``) with ± one sample standard deviation over the
    rows (seeds), over a strip of the rows themselves, into ``ax``.

    The one picture of "repeated runs" that :func:`seed_summary` and ``vaelib report`` share:
    seaborn's point plot (diamonds, error bars of ± the sample standard deviation, ddof=1, with
    caps) over a strip plot of the individual runs (small grey points), so a reader sees both the
    spread and how few runs it rests on. ``x`` values are drawn as categories in ``order``
    (default: first appearance); ``x=None`` draws all rows as one point. ``hue`` draws one colour
    per value of that column, dodged.
    """
    import seaborn as sns

    if x is None:
        data, x = data.assign(_all="all runs"), "_all"
    order = list(pd.unique(data[x])) if order is None else list(order)
    names = [str(value) for value in order]
    frame = data.assign(**{x: data[x].astype(str)})
    if hue is not None:
        frame = frame.assign(**{hue: frame[hue].astype(str)})
    dodge = 0.3 if hue is not None else False
    sns.stripplot(data=frame, x=x, y=y, order=names, hue=hue, ax=ax, color="0.55" if hue is None else None,
                  palette="muted" if hue is not None else None, size=3.5, jitter=0.12, alpha=0.6, zorder=1,
                  dodge=bool(dodge), legend=False)
    sns.pointplot(data=frame, x=x, y=y, order=names, hue=hue, ax=ax, errorbar="sd", capsize=0.25,
                  color="tab:blue" if hue is None else None, palette="deep" if hue is not None else None,
                  linestyle="none", marker="D", markersize=6, err_kws={"linewidth": 1.6}, dodge=dodge)
    if x == "_all":
        ax.set_xlabel("")


def seed_summary(
    results: pd.DataFrame,
    x: str,
    metrics: Sequence[str],
    *,
    seed: str = "seed",
    order: Sequence[Any] | None = None,
    labels: Mapping[str, str] | None = None,
    title: str = "Mean and spread over seeds",
) -> Figure:
    """One panel per metric: the mean over seeds of each ``x`` value, ± one standard deviation.

    A seaborn point plot (the mean, error bars of ± the sample standard deviation, ddof=1, with
    caps) over a strip of the individual seeds (small grey points), so a reader sees both the
    spread and how few runs it rests on. The panel's title says how many seeds there are.

    Parameters
    ----------
    results : pandas.DataFrame
        Tidy results, one row per run: the columns ``x``, ``seed`` and every metric (numeric).
    x : str
        Categorical column along the horizontal axis (e.g. a schedule name or a swept β).
    metrics : sequence of str
        Numeric columns, one panel each; :data:`SUMMARY_PANELS` titles the known ones (others
        are titled by their name) and ``labels`` overrides the y-axis labels.
    seed : str
        Column telling the repeated runs apart.
    order : sequence, optional
        Order of the ``x`` values (default: first appearance).
    labels : mapping of str to str, optional
        Metric -> y-axis label, e.g. ``{"kl": "KL (nats per sample)"}``.
    title : str

    Returns
    -------
    matplotlib.figure.Figure
        ``figure.axes[i]`` is the panel of ``metrics[i]``.
    """
    import seaborn as sns

    if not isinstance(results, pd.DataFrame) or len(results) == 0:
        raise ValueError(f"results must be a non-empty pandas DataFrame, one row per run, got {results!r:.80}")
    if isinstance(metrics, str) or not isinstance(metrics, Sequence) or not metrics:
        raise ValueError(f"metrics must be a non-empty sequence of column names, got {metrics!r}")
    missing = [column for column in (x, seed, *metrics) if column not in results.columns]
    if missing:
        raise ValueError(f"results lacks the columns {missing}; it has {list(results.columns)}")
    for metric in metrics:
        if not pd.api.types.is_numeric_dtype(results[metric]) or pd.api.types.is_bool_dtype(results[metric]):
            raise TypeError(f"metric column {metric!r} must be numeric, got dtype {results[metric].dtype}")
    order = list(pd.unique(results[x])) if order is None else list(order)
    absent = sorted(set(results[x]) - set(order), key=str)
    if absent:
        raise ValueError(f"order must list every value of {x!r}; it lacks {absent}")
    labels = dict(labels or {})
    n_seeds = results[seed].nunique()
    figure = _new_figure(max(3.2, 0.55 * len(order) + 1.4) * len(metrics), 4.2)
    axes = np.atleast_1d(figure.subplots(1, len(metrics)))
    for ax, metric in zip(axes, metrics):
        mean_sd_panel(ax, results, x, metric, order=order)
        panel_title, unit = SUMMARY_PANELS.get(metric, (metric, metric))
        ax.set_title(f"{panel_title}\nmean ± sd over {n_seeds} seed{'s' if n_seeds != 1 else ''}", fontsize=10)
        ax.set_ylabel(labels.get(metric, unit))
        ax.set_xlabel(x)
        ax.tick_params(axis="x", labelrotation=30)
        for tick in ax.get_xticklabels():
            tick.set_horizontalalignment("right")
        ax.grid(True, axis="y", alpha=0.3)
    figure.suptitle(title)
    return figure


def posterior_mean_snapshots(
    snapshots: Mapping[str, Sequence[tuple[int, Any]]],
    true_z: Any,
    labels: Any = None,
    *,
    n_columns: int = 4,
    limit: float | None = None,
    title: str = "Posterior means $\\mathbb{E}_q[z|x]$ over training",
) -> Figure:
    """Posterior means at several moments of training, next to the true latents of the same inputs.

    One row per method: the first panel scatters the true z (N, 2) of the held-out inputs, the
    others their posterior means E_q[z|x] at ``n_columns`` training steps spread evenly over the
    snapshots (first and last included), coloured by ``labels`` (e.g. the mixture component of the
    true z). A collapsed encoder maps every input to the prior's mean, 0: the scatter shrinks to a
    dot. All panels share the axis limits, so shrinking is visible.

    Parameters
    ----------
    snapshots : mapping of str to sequence of (int, array (N, 2))
        Method name to its (step, posterior means) pairs in training order, e.g.
        :attr:`vaelib.collapse.MethodRun.means` or ``CollapseMonitor(keep_means=True).means``.
    true_z : Tensor or array, (N, 2)
        The true latents of the same N inputs, in the same order.
    labels : Tensor or array of int, (N,), optional
        Colour classes; default one colour.
    n_columns : int
        Snapshots shown per method (fewer when a method has fewer).
    limit : float, optional
        Half-width of the square axes; default the largest absolute coordinate of ``true_z``
        (times 1.1).
    title : str
    """
    true_z = _check_codes("true_z", true_z)
    n = len(true_z)
    colours = None
    if labels is not None:
        palette = _class_colours(int(_check_labels(labels, n).max()) + 1)
        colours = [palette[c] for c in _check_labels(labels, n)]
    n_columns = positive_int("n_columns", n_columns)
    if not isinstance(snapshots, Mapping) or not snapshots:
        raise ValueError(f"snapshots must be a non-empty mapping of method name to (step, means) pairs, got {snapshots!r:.80}")
    rows: dict[str, list[tuple[int, np.ndarray]]] = {}
    for name, pairs in snapshots.items():
        if isinstance(pairs, (str, bytes)) or not isinstance(pairs, Sequence) or not pairs:
            raise ValueError(f"snapshots[{name!r}] must be a non-empty sequence of (step, means) pairs, got {pairs!r:.80}")
        checked = []
        for pair in pairs:
            if not isinstance(pair, Sequence) or len(pair) != 2:
                raise ValueError(f"snapshots[{name!r}] must hold (step, means) pairs, got {pair!r:.80}")
            means = _check_codes(f"snapshots[{name!r}] means", pair[1])
            if len(means) != n:
                raise ValueError(f"snapshots[{name!r}] means must have {n} rows like true_z, got {len(means)}")
            checked.append((int(pair[0]), means))
        picks = np.unique(np.linspace(0, len(checked) - 1, min(n_columns, len(checked))).round().astype(int))
        rows[str(name)] = [checked[i] for i in picks]
    if limit is None:
        limit = 1.1 * float(np.abs(true_z).max())
    elif isinstance(limit, bool) or not isinstance(limit, numbers.Real) or not 0 < limit < math.inf:
        raise ValueError(f"limit must be a positive finite number or None, got {limit!r}")
    width = 1 + max(len(pairs) for pairs in rows.values())
    figure = _new_figure(2.4 * width, 2.5 * len(rows))
    axes = np.atleast_2d(figure.subplots(len(rows), width, squeeze=False))
    for axes_row, (name, pairs) in zip(axes, rows.items()):
        panels = [("true $z$", true_z), *[(f"step {step}", means) for step, means in pairs]]
        for ax in axes_row[len(panels):]:
            ax.set_visible(False)
        for column, (ax, (panel_title, points)) in enumerate(zip(axes_row, panels)):
            ax.scatter(points[:, 0], points[:, 1], s=5, c=colours if colours is not None else "tab:blue", linewidths=0)
            ax.set_xlim(-limit, limit)
            ax.set_ylim(-limit, limit)
            ax.set_aspect("equal")
            ax.axhline(0.0, color="0.6", lw=0.6)
            ax.axvline(0.0, color="0.6", lw=0.6)
            ax.set_title(panel_title, fontsize=9)
            ax.tick_params(labelsize=7)
            if column == 0:
                ax.set_ylabel(f"{name}\n{Z_LABELS[1]}")
            if column == 1:
                ax.set_ylabel(f"{Z_LABELS[1]} (posterior mean)", fontsize=8)
            ax.set_xlabel(Z_LABELS[0] if column == 0 else f"{Z_LABELS[0]} (posterior mean)", fontsize=8)
    figure.suptitle(title)
    return figure


# ----------------------------------------------------------------------------- KL annealing schedules

Toggle = tuple[int, bool]
"""A switch of cyclical restarts: ``(step, on)`` sets ``Annealer.set_cyclical(on)`` at the end of ``step``."""


def _check_annealer(name: str, annealer: Any) -> Annealer:
    """A fresh :class:`Annealer` equal to ``annealer`` (or built from a mapping of its arguments)."""
    if isinstance(annealer, Annealer):
        probe = Annealer(1)
        probe.load_state_dict(annealer.state_dict())
        return probe
    if isinstance(annealer, Mapping):
        if "total_steps" not in annealer:
            raise ValueError(f"{name} must hold 'total_steps' among its Annealer arguments, got {dict(annealer)!r}")
        return Annealer(**annealer)
    raise TypeError(f"{name} must be an Annealer or a mapping of Annealer arguments, got {type(annealer).__name__}")


def _check_toggles(toggles: Any, n: int) -> list[Toggle]:
    """``toggles`` as a list of (step, on) with 0 <= step < n, sorted by step (stable)."""
    if isinstance(toggles, (str, bytes)) or not isinstance(toggles, Sequence):
        raise TypeError(f"toggles must be a sequence of (step, cyclical_on) pairs, got {toggles!r}")
    checked = []
    for toggle in toggles:
        if (
            not isinstance(toggle, Sequence) or len(toggle) != 2
            or isinstance(toggle[0], bool) or not isinstance(toggle[0], numbers.Integral)
            or not isinstance(toggle[1], bool)
        ):
            raise TypeError(f"toggles must hold (step: int, cyclical_on: bool) pairs, got {toggle!r}")
        if not 0 <= toggle[0] < n:
            raise ValueError(f"toggle steps must lie in [0, n) = [0, {n}), got {toggle!r}")
        checked.append((int(toggle[0]), toggle[1]))
    return sorted(checked, key=lambda toggle: toggle[0])


def schedule_trace(annealer: Annealer | Mapping[str, Any], n: int, toggles: Sequence[Toggle] = ()) -> np.ndarray:
    """The KL weights of steps 0..n-1 of a training loop that switches cyclical restarts on or off.

    The loop of the seed repository: at step ``e`` the weight is read (and used for the loss), then
    ``annealer.step()`` advances the schedule, then every toggle ``(e, on)`` calls
    ``annealer.set_cyclical(on)``. Without toggles this is :meth:`Annealer.schedule`. The seed's
    example, cyclical restarts switched off at epoch 30 and on again at 70::

        schedule_trace(Annealer(10, "cosine", cyclical=True), 100, [(30, False), (70, True)])

    Parameters
    ----------
    annealer : Annealer or mapping
        The schedule, from its current state (it is not changed), or the keyword arguments of a
        new :class:`Annealer`, e.g. ``{"total_steps": 10, "shape": "cosine", "cyclical": True}``.
    n : int
        Number of steps, >= 1.
    toggles : sequence of (int, bool)
        ``(step, cyclical_on)`` events with ``0 <= step < n``, applied in step order (events of
        the same step in the given order).

    Returns
    -------
    numpy.ndarray
        (n,) float64 weights in [baseline, 1] (dimensionless factors of the KL term).
    """
    probe = _check_annealer("annealer", annealer)
    n = positive_int("n", n)
    pending = _check_toggles(toggles, n)
    weights = np.empty(n)
    for step in range(n):
        weights[step] = probe.weight
        probe.step()
        while pending and pending[0][0] == step:
            probe.set_cyclical(pending.pop(0)[1])
    return weights


def describe_schedule(annealer: Annealer | Mapping[str, Any]) -> str:
    """A short legend label, e.g. ``"cosine, T=10, cyclical, R=0.5"``."""
    probe = _check_annealer("annealer", annealer)
    parts = [probe.shape, f"T={probe.total_steps}"]
    if probe.cyclical:
        parts.append("cyclical")
    for key, default, text in (("ratio", 1.0, "R={:g}"), ("baseline", 0.0, "baseline {:g}"), ("delay", 0, "delay {:d}")):
        if getattr(probe, key) != default:
            parts.append(text.format(getattr(probe, key)))
    return ", ".join(parts)


def _draw_toggles(ax: Axes, toggles: Sequence[Toggle]) -> None:
    """Dashed vertical lines at the toggle steps: green where restarts switch on, red where off."""
    for on in (True, False):
        steps = [step for step, value in toggles if value is on]
        if steps:
            ax.vlines(steps, 0.0, 1.0, colors="tab:green" if on else "tab:red", linestyles="--", lw=1.2,
                      label=f"cyclical switched {'on' if on else 'off'} (end of step)")


def _style_schedule_axes(ax: Axes, n: int, title: str) -> None:
    ax.set_xlim(-0.5, n - 0.5)
    ax.set_ylim(-0.05, 1.08)
    ax.set_xlabel("step $t$ (one Annealer.step() each: an epoch or a minibatch)")
    ax.set_ylabel("KL weight $\\beta_t$")
    ax.set_title(title)
    ax.grid(True, alpha=0.3)


def plot_schedules(
    schedules: Mapping[str, Annealer | Mapping[str, Any]],
    n: int,
    *,
    toggles: Sequence[Toggle] = (),
    title: str = "KL annealing schedules",
    ax: Axes | None = None,
) -> Figure:
    """Several KL-weight schedules on one axes: one line per schedule, steps 0..n-1.

    Line ``i`` (``ax.lines[i]``, in the mapping's order) holds ``x = 0..n-1`` and
    ``y = schedule_trace(schedules[name], n, toggles)``.

    Parameters
    ----------
    schedules : mapping of str to Annealer or mapping
        Legend label -> schedule (see :func:`schedule_trace`).
    n : int
        Number of steps drawn.
    toggles : sequence of (int, bool)
        Cyclical on/off events applied to every schedule, drawn as vertical lines.
    title : str
    ax : matplotlib Axes, optional
        Draw there instead of in a new figure.
    """
    if not isinstance(schedules, Mapping) or not schedules:
        raise ValueError(f"schedules must be a non-empty mapping of label -> Annealer, got {schedules!r:.80}")
    n = positive_int("n", n)
    traces = {str(name): schedule_trace(annealer, n, toggles) for name, annealer in schedules.items()}
    figure, ax = _figure_and_axes(ax, 10.0, 3.8)
    steps = np.arange(n)
    marker = "o" if n <= 120 else None
    for colour, (name, weights) in zip(_class_colours(len(traces)), traces.items()):
        ax.plot(steps, weights, color=colour, marker=marker, markersize=2.5, lw=1.6, label=name)
    _draw_toggles(ax, _check_toggles(toggles, n))
    _style_schedule_axes(ax, n, title)
    ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=9, frameon=False)
    return figure


def plot_schedule(
    annealer: Annealer | Mapping[str, Any],
    n: int,
    *,
    toggles: Sequence[Toggle] = (),
    label: str | None = None,
    title: str = "KL annealing schedule",
    ax: Axes | None = None,
) -> Figure:
    """One KL-weight schedule over steps 0..n-1, with its cyclical on/off ``toggles`` marked.

    :func:`plot_schedules` with one line (``ax.lines[0]``), labelled ``label`` (default
    :func:`describe_schedule`). See :func:`schedule_trace` for the arguments.
    """
    if label is None:
        label = describe_schedule(annealer)
    elif not isinstance(label, str):
        raise TypeError(f"label must be a str or None, got {label!r}")
    return plot_schedules({label: annealer}, n, toggles=toggles, title=title, ax=ax)
