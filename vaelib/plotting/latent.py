"""The latent space: scatter of codes, the decoded manifold, latent walks, posterior means over training.

For models with a 2-D latent space: codes are (N, 2) (e.g. posterior means E_q[z|x]), z_1 along
the horizontal axis and z_2 along the vertical one, in prior standard deviations.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib import patheffects
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from vaelib.latent import check_model, decode_images, prior_grid
from vaelib.models.base import VAE
from vaelib.plotting.base import (
    GREY, Z_LABELS, check_class_names, check_codes, check_labels, class_colours, evenly_spaced, figure_and_axes,
    new_figure, show_mosaic,
)
from vaelib.plotting.images import tile_centre, tile_images
from vaelib.validation import check_bool, is_real, positive_int

__all__ = ["latent_scatter", "latent_walk", "manifold_grid", "posterior_mean_snapshots"]


def _draw_scatter(
    ax: Axes, codes: np.ndarray, labels: np.ndarray | None, class_names: Sequence[str] | None,
    point_size: float | None, annotate: bool,
) -> None:
    """Scatter ``codes`` on ``ax``: one collection per class (in class order) and a legend."""
    size = point_size if point_size is not None else (14.0 if len(codes) <= 2000 else 4.0)
    if labels is None:
        ax.scatter(codes[:, 0], codes[:, 1], s=size, color="tab:blue", alpha=0.7, linewidths=0)
    else:
        names = check_class_names(class_names, labels)
        cmap = class_colours(len(names))
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
    codes = check_codes("codes", codes)
    labels = None if labels is None else check_labels(labels, len(codes))
    annotate = check_bool("annotate", annotate)
    figure, ax = figure_and_axes(ax, 7.0, 6.0)
    _draw_scatter(ax, codes, labels, class_names, point_size, annotate)
    ax.set_title(title)
    return figure


def manifold_grid(
    model: VAE,
    n: int = 15,
    *,
    quantiles: tuple[float, float] = (0.05, 0.95),
    title: str = "Decoded manifold: $\\mathbb{E}[x|z]$ on a $\\Phi^{-1}$ grid of the prior",
) -> Figure:
    """Decode :func:`~vaelib.latent.prior_grid` and show the images as one mosaic (the "learned manifold").

    Tile (i, j) is ``model.decode(prior_grid(n)[i, j])``, tiles one grey pixel apart (as
    :func:`~vaelib.plotting.images.tile_images` with ``pad=1`` lays them out). Ticks give
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
    model = check_model(model, latent_dim=2)
    grid = prior_grid(n, quantiles=quantiles)
    images = decode_images(model, grid.reshape(n * n, 2))
    mosaic = tile_images(images, n, pad=1)
    figure = new_figure(7.0, 7.0)
    ax = figure.add_subplot()
    ax.imshow(mosaic, **GREY)
    height, width = images.shape[-2:]
    every = max(1, n // 5)
    ticks = list(range(0, n, every))
    ax.set_xticks([tile_centre(j, width) for j in ticks], [f"{grid[0, j, 0]:.2f}" for j in ticks])
    ax.set_yticks([tile_centre(i, height) for i in ticks], [f"{grid[i, 0, 1]:.2f}" for i in ticks])
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
    model = check_model(model, latent_dim=2)
    points = check_codes("z", z)
    images = decode_images(model, points)
    n_cols = min(5, len(points))
    mosaic = tile_images(images, n_cols, pad=1)
    figure = new_figure(12.0, 5.0)
    scatter_ax, image_ax = figure.subplots(1, 2, width_ratios=[1.0, 1.25])
    if codes is not None:
        codes = check_codes("codes", codes)
        labels = None if labels is None else check_labels(labels, len(codes))
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
    show_mosaic(image_ax, mosaic)
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
    true_z = check_codes("true_z", true_z)
    n = len(true_z)
    colours = None
    if labels is not None:
        classes = check_labels(labels, n)
        palette = class_colours(int(classes.max()) + 1)
        colours = [palette[c] for c in classes]
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
            means = check_codes(f"snapshots[{name!r}] means", pair[1])
            if len(means) != n:
                raise ValueError(f"snapshots[{name!r}] means must have {n} rows like true_z, got {len(means)}")
            checked.append((int(pair[0]), means))
        picks = evenly_spaced(len(checked), n_columns)
        rows[str(name)] = [checked[i] for i in picks]
    if limit is None:
        limit = 1.1 * float(np.abs(true_z).max())
    elif not (is_real(limit) and 0 < limit < math.inf):
        raise ValueError(f"limit must be a positive finite number or None, got {limit!r}")
    width = 1 + max(len(pairs) for pairs in rows.values())
    figure = new_figure(2.4 * width, 2.5 * len(rows))
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
