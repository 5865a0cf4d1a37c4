"""Disentanglement: latent traversals, KL per latent dimension, ground-truth factors, metric scores.

KL values are in nats per sample; scores (MIG, SAP, DCI, ...) are in [0, 1]. Images are
(N, C, H, W) in [0, 1].
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from vaelib.latent import check_kl, check_model, decode_images, traversal_codes
from vaelib.models.base import VAE
from vaelib.plotting.base import GREY, check_images, class_colours, evenly_spaced, new_figure, show_mosaic
from vaelib.plotting.images import tile_centre, tile_images
from vaelib.disentanglement.sampling import factor_sizes
from vaelib.rng import numpy_generator
from vaelib.validation import as_array, check_bool, positive_int

__all__ = ["factor_examples", "kl_bars", "latent_traversals", "metric_bars"]


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
    """Decode :func:`~vaelib.latent.traversal_codes` and show them as one mosaic: a row per latent dimension.

    Row r shows ``model.decode`` of ``codes[r]``: dimension ``order[r]`` swept from −span to
    +span (columns, labelled with the value of z_d), every other dimension at ``base``. Rows are
    labelled with the dimension and its KL in nats, largest KL on top. In a disentangled model each
    informative row changes one ground-truth factor only; rows with KL ≈ 0 do not change at all.

    Parameters
    ----------
    model : VAE
        With images (N, C, H, W) in [0, 1] as decoder output.
    base, kl, span, n_steps
        As in :func:`~vaelib.latent.traversal_codes`; ``base`` and ``kl`` have ``model.latent_dim`` entries.
    n_dims : int, optional
        Show only the ``n_dims`` dimensions with the largest KL (default: all).
    title : str
    """
    model = check_model(model)
    order, values, codes = traversal_codes(base, kl, span=span, n_steps=n_steps)
    if order.size != model.latent_dim:
        raise ValueError(f"kl must have model.latent_dim={model.latent_dim} entries, got {order.size}")
    n_dims = order.size if n_dims is None else positive_int("n_dims", n_dims)
    if n_dims > order.size:
        raise ValueError(f"n_dims must be at most latent_dim={order.size}, got {n_dims}")
    kl_array = check_kl(kl)
    images = decode_images(model, codes[:n_dims].reshape(n_dims * n_steps, -1))
    mosaic = tile_images(images, n_steps, pad=1)
    height, width = images.shape[-2:]
    figure = new_figure(1.6 + 0.75 * n_steps, 1.2 + 0.75 * n_dims)
    ax = figure.add_subplot()
    ax.imshow(mosaic, **GREY)
    ax.set_xticks([tile_centre(c, width) for c in range(n_steps)], [f"{v:+.3g}" for v in values])
    ax.set_yticks(
        [tile_centre(r, height) for r in range(n_dims)],
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
    sort = check_bool("sort", sort)
    arrays = {str(name): check_kl(values, f"kls[{name!r}]") for name, values in kls.items()}
    figure = new_figure(1.0 + 4.2 * len(arrays), 3.6)
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
        Ground-truth data with disentanglement_lib's interface (``factor_sizes`` or
        ``factors_num_values``, ``sample_factors``, ``sample_observations_from_factors`` returning
        images (N, C, H, W) in [0, 1]; a ``render(factors)`` method, as
        :class:`vaelib.data.dsprites.DSprites` has, is used instead when present); ``factor_names``,
        ``factor_values`` and ``shape_names`` label the rows and ticks when present.
    n_values : int >= 2
        Most examples per factor.
    random_state : int, numpy Generator or RandomState
        Draws the base combination.
    title : str
    """
    sizes = factor_sizes(data)
    for attribute in ("sample_factors", "sample_observations_from_factors"):
        if not hasattr(data, attribute):
            raise TypeError(f"data must follow the ground-truth data interface (no attribute {attribute!r}), got {type(data).__name__}")
    n_values = positive_int("n_values", n_values)
    if n_values < 2:
        raise ValueError(f"n_values must be >= 2, got {n_values}")
    rng = numpy_generator(random_state)
    base = np.asarray(data.sample_factors(1, rng))[0]
    draw = data.render if hasattr(data, "render") else lambda rows: data.sample_observations_from_factors(rows, rng)
    varying = [k for k, size in enumerate(sizes) if size >= 2]
    names = getattr(data, "factor_names", [f"factor {k}" for k in range(len(sizes))])
    figure = new_figure(1.8 + 0.75 * n_values, 0.6 + 0.95 * len(varying))
    for ax, k in zip(np.atleast_1d(figure.subplots(len(varying), 1)), varying):
        classes = evenly_spaced(sizes[k], n_values)
        factors = np.tile(base, (classes.size, 1))
        factors[:, k] = classes
        array = check_images("data.sample_observations_from_factors(...)", draw(factors))
        show_mosaic(ax, tile_images(array, classes.size, pad=1))
        width = array.shape[-1]
        ax.set_xticks([tile_centre(c, width) for c in range(classes.size)],
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
        values = as_array(f"results[{name!r}]", [scores[m] for m in metrics])
        if not np.isfinite(values).all():
            raise ValueError(f"results[{name!r}] must hold finite scores, got {dict(scores)!r}")
    figure = new_figure(1.5 + 1.1 * len(metrics) * max(1.0, len(results) / 3), 4.2)
    ax = figure.add_subplot()
    width = 0.8 / len(results)
    colours = class_colours(len(results))
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
