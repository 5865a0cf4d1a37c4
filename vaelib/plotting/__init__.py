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

One module per topic; every name below is importable from :mod:`vaelib.plotting` itself:

* :mod:`~vaelib.plotting.base` -- shared figure helpers and input checks (``GREY``, ``Z_LABELS``).
* :mod:`~vaelib.plotting.images` -- mosaics, image grids, reconstructions.
* :mod:`~vaelib.plotting.latent` -- latent scatter, decoded manifold, latent walk, posterior-mean snapshots.
* :mod:`~vaelib.plotting.training` -- training curves, estimator histograms, bound curves.
* :mod:`~vaelib.plotting.disentanglement` -- traversals, KL bars, factor examples, metric bars.
* :mod:`~vaelib.plotting.collapse` -- collapse curves and mean ± sd over seeds.
* :mod:`~vaelib.plotting.schedules` -- KL annealing schedules.

The computations behind the pictures (:func:`decode_images`, :func:`prior_grid`,
:func:`traversal_codes`) live in :mod:`vaelib.latent` and are re-exported here.
"""
from __future__ import annotations

from vaelib.latent import decode_images, prior_grid, traversal_codes
from vaelib.plotting.base import GREY, Z_LABELS
from vaelib.plotting.collapse import (
    COLLAPSE_PANELS, SUMMARY_PANELS, collapse_curves, factor_effects, mean_sd_panel, seed_summary,
)
from vaelib.plotting.notebook import compact_png, notebook_figures
from vaelib.plotting.disentanglement import factor_examples, kl_bars, latent_traversals, metric_bars
from vaelib.plotting.images import image_grid, reconstruction_pairs, tile_images
from vaelib.plotting.latent import latent_scatter, latent_walk, manifold_grid, posterior_mean_snapshots
from vaelib.plotting.schedules import Toggle, describe_schedule, plot_schedule, plot_schedules, schedule_trace
from vaelib.plotting.training import bound_curves, estimator_histograms, training_curves

__all__ = [
    "COLLAPSE_PANELS",
    "GREY",
    "SUMMARY_PANELS",
    "Toggle",
    "Z_LABELS",
    "bound_curves",
    "collapse_curves",
    "compact_png",
    "decode_images",
    "describe_schedule",
    "estimator_histograms",
    "factor_effects",
    "factor_examples",
    "image_grid",
    "kl_bars",
    "latent_scatter",
    "latent_traversals",
    "latent_walk",
    "manifold_grid",
    "notebook_figures",
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
