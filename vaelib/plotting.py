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

from vaelib.diagnostics import _evaluating
from vaelib.models.base import VAE, positive_int

__all__ = [
    "bound_curves",
    "decode_images",
    "estimator_histograms",
    "image_grid",
    "latent_scatter",
    "latent_walk",
    "manifold_grid",
    "prior_grid",
    "reconstruction_pairs",
    "tile_images",
    "training_curves",
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
    with _evaluating(model):
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
