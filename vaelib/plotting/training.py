"""Training: loss curves over training, spreads of Monte Carlo estimators, importance-weighted bounds.

Log-likelihood quantities are in nats per sample (per image), as in :mod:`vaelib.losses` and
:mod:`vaelib.training`.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from vaelib.latent import as_array
from vaelib.plotting.base import new_figure
from vaelib.validation import positive_int

__all__ = ["bound_curves", "estimator_histograms", "training_curves"]


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
    figure = new_figure(13.0, 3.8)
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
        array = as_array(f"estimates[{name!r}]", values)
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
        bounds = as_array("value_range", value_range)
        if bounds.shape != (2,) or not np.isfinite(bounds).all() or not bounds[0] < bounds[1]:
            raise ValueError(f"value_range must be two finite numbers (low, high) with low < high, got {value_range!r}")
        low, high = bounds
    edges = np.linspace(low, high, bins + 1)
    figure = new_figure(8.0, 4.5)
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
    ks = as_array("k_values", k_values)
    if ks.ndim != 1 or ks.size == 0 or (ks < 1).any() or (np.diff(ks) <= 0).any():
        raise ValueError(f"k_values must be increasing positive integers, got {list(k_values)!r}")
    if not isinstance(bounds, Mapping) or len(bounds) == 0:
        raise ValueError(f"bounds must be a non-empty mapping of name -> values, got {bounds!r:.80}")
    figure = new_figure(7.0, 4.5)
    ax = figure.add_subplot()
    for name, values in bounds.items():
        array = as_array(f"bounds[{name!r}]", values)
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
