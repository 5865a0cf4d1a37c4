"""Mutual information gap (Chen et al. 2018, "Isolating Sources of Disentanglement in VAEs",
NeurIPS), on 20-bin histograms of the codes, as in disentanglement_lib."""
from __future__ import annotations

import numpy as np
import numpy.typing as npt
from sklearn.metrics import mutual_info_score

from vaelib.disentanglement.arrays import codes_and_factors, top_two_gap
from vaelib.validation import check_int

__all__ = ["mig"]


def _histogram_bins(codes: np.ndarray, n_bins: int) -> np.ndarray:
    """Bin index (0 .. n_bins - 1) of every code in ``n_bins`` equal-width bins spanning the
    code's observed range, per dimension; ``codes`` shape ``(N, D)``, result ``(N, D)``.

    Matches ``np.digitize(z, np.histogram(z, n_bins)[1][:-1]) - 1`` (disentanglement_lib's
    discretiser): bins are closed on the left, the maximum falls in the last bin.
    """
    bins = np.zeros(codes.shape, dtype=np.int64)
    for d, column in enumerate(codes.T):
        low, high = column.min(), column.max()
        if high > low:
            inner_edges = np.linspace(low, high, n_bins + 1)[1:-1]
            bins[:, d] = np.searchsorted(inner_edges, column, side="right")
    return bins


def mig(codes: npt.ArrayLike, factors: npt.ArrayLike, n_bins: int = 20) -> float:
    """Mutual information gap (Chen et al. 2018), as in disentanglement_lib.

    Each code dimension is discretised into ``n_bins`` equal-width bins over its observed range;
    ``I[d, k]`` is the plug-in mutual information (nats) between binned code ``d`` and factor
    ``k`` (:func:`sklearn.metrics.mutual_info_score`) and ``H[k]`` the plug-in entropy of factor
    ``k`` (nats). MIG is the mean over factors of
    ``(largest I[:, k] - second-largest I[:, k]) / H[k]``.

    Parameters
    ----------
    codes
        Codes (encoder means), shape ``(N, D)``, ``D >= 2``.
    factors
        Integer factor classes, shape ``(N, K)``; each column must take at least 2 values.
    n_bins
        Histogram bins per code dimension, >= 2 (disentanglement_lib: 20).

    Returns
    -------
    float
        MIG in [0, 1] (dimensionless: a ratio of nats).
    """
    z, y = codes_and_factors(codes, factors, "codes", "factors")
    n_bins = check_int("n_bins", n_bins, 2)
    bins = _histogram_bins(z, n_bins)
    info = np.array([[mutual_info_score(f, b) for f in y.T] for b in bins.T])  # (D, K), nats
    entropy = np.array([mutual_info_score(f, f) for f in y.T])  # (K,), nats
    return float(np.mean(top_two_gap(info) / entropy))
