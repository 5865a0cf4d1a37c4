"""Disentanglement scores of a representation on ground-truth data.

Five supervised scores, defined as in disentanglement_lib (Locatello et al. 2019, "Challenging
Common Assumptions in the Unsupervised Learning of Disentangled Representations", ICML), with
its published sample sizes as defaults:

* :func:`beta_vae_score` -- Higgins et al. 2017, "beta-VAE: Learning Basic Visual Concepts with
  a Constrained Variational Framework", ICLR.
* :func:`factor_vae_score` -- Kim & Mnih 2018, "Disentangling by Factorising", ICML.
* :func:`mig` -- Chen et al. 2018, "Isolating Sources of Disentanglement in VAEs", NeurIPS
  (mutual information gap, on 20-bin histograms of the codes).
* :func:`sap` -- Kumar et al. 2018, "Variational Inference of Disentangled Latent Concepts from
  Unlabeled Observations", ICLR (separated attribute predictability, discrete factors).
* :func:`dci` -- Eastwood & Williams 2018, "A Framework for the Quantitative Evaluation of
  Disentangled Representations", ICLR (disentanglement, completeness, informativeness).

:func:`evaluate` runs them together. The representation is the encoder *mean*: pass
``encode = lambda x: model.encode(x)[0]``.

``data`` follows disentanglement_lib's ``GroundTruthData`` interface (:class:`GroundTruthData`):
``num_factors``, ``factor_sizes`` (tuple of class counts), ``sample_factors(n, random_state)``
(integers, shape ``(n, num_factors)``) and ``sample_observations_from_factors(factors,
random_state)`` (a batch of observations, torch tensor or numpy array, first axis ``n``);
``random_state`` is handed a :class:`numpy.random.Generator`. Factors with a single class
(dSprites' ``color``) carry no information: the scores that sample ``data`` ignore them, and the
scores of arrays reject them. ``encode(observations)`` returns codes of shape ``(n, D)`` (numpy
array or torch tensor); it is called under :func:`torch.no_grad` on at most ``chunk_size``
observations at a time, which bounds memory. When observations are a deterministic function of
the factors (as for dSprites), the scores do not depend on ``chunk_size``.
"""
from __future__ import annotations

import dataclasses
import numbers
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
import torch
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import mutual_info_score
from sklearn.svm import LinearSVC

from vaelib.validation import check_int

__all__ = [
    "DEFAULT_SIZES",
    "FAST_SIZES",
    "SCORES",
    "EvaluationSizes",
    "GroundTruthData",
    "beta_vae_score",
    "dci",
    "dci_from_importance",
    "evaluate",
    "factor_vae_score",
    "mig",
    "sap",
]

RandomState = int | np.random.Generator
Encoder = Callable[[Any], Any]


class GroundTruthData(Protocol):
    """disentanglement_lib's ground-truth data interface, as the scores use it."""

    num_factors: int
    factor_sizes: tuple[int, ...]

    def sample_factors(self, n: int, random_state: np.random.Generator) -> npt.ArrayLike:
        """Integer factor classes, shape ``(n, num_factors)``."""

    def sample_observations_from_factors(
        self, factors: np.ndarray, random_state: np.random.Generator
    ) -> Any:
        """Observations of ``factors`` (shape ``(n, num_factors)``), first axis ``n``."""


# ----------------------------------------------------------------------------- validation


def _check_callable(encode: Any) -> None:
    if not callable(encode):
        raise TypeError(f"encode must be callable (observations -> codes), got {encode!r}")


def _as_generator(random_state: RandomState) -> np.random.Generator:
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, bool) or not isinstance(random_state, numbers.Integral):
        raise TypeError(
            f"random_state must be an int seed or a numpy.random.Generator, got {random_state!r}"
        )
    if random_state < 0:
        raise ValueError(f"random_state must be a non-negative seed, got {random_state!r}")
    return np.random.default_rng(int(random_state))


def _as_codes(codes: Any, name: str) -> np.ndarray:
    """``codes`` as a finite float64 array of shape ``(N, D)`` with ``D >= 2``."""
    if isinstance(codes, torch.Tensor):
        codes = codes.detach().cpu().numpy()
    array = np.asarray(codes)
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_):
        raise TypeError(f"{name} must be a numeric (N, D) array, got dtype {array.dtype}")
    if array.ndim != 2:
        raise ValueError(f"{name} must be a 2-D (N, D) array, got shape {array.shape}")
    if array.shape[1] < 2:
        raise ValueError(
            f"{name} must have at least 2 code dimensions (columns), got shape {array.shape}"
        )
    array = array.astype(np.float64)
    bad = array.size - np.count_nonzero(np.isfinite(array))
    if bad:
        raise ValueError(f"{name} must be finite, got {bad} NaN/inf entries")
    return array


def _as_factors(factors: Any, name: str) -> np.ndarray:
    """``factors`` as an int64 array of shape ``(N, K)``, every column with >= 2 classes."""
    array = np.asarray(factors)
    if not np.issubdtype(array.dtype, np.integer):
        raise TypeError(f"{name} must hold integer class labels, got dtype {array.dtype}")
    if array.ndim != 2 or array.shape[1] < 1:
        raise ValueError(f"{name} must be a 2-D (N, K) array, got shape {array.shape}")
    constant = [k for k in range(array.shape[1]) if np.unique(array[:, k]).size < 2]
    if constant:
        raise ValueError(
            f"{name} columns must each hold at least 2 classes, got constant columns {constant}"
        )
    return array.astype(np.int64)


def _codes_and_factors(
    codes: Any, factors: Any, codes_name: str, factors_name: str
) -> tuple[np.ndarray, np.ndarray]:
    codes_array = _as_codes(codes, codes_name)
    factors_array = _as_factors(factors, factors_name)
    if codes_array.shape[0] != factors_array.shape[0]:
        raise ValueError(
            f"{codes_name} and {factors_name} must have the same number of rows, got "
            f"{codes_array.shape[0]} and {factors_array.shape[0]}"
        )
    return codes_array, factors_array


def _train_test(
    codes_train: Any, factors_train: Any, codes_test: Any, factors_test: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Validated train and test splits with matching code and factor dimensions."""
    z_train, y_train = _codes_and_factors(codes_train, factors_train, "codes_train", "factors_train")
    z_test = _as_codes(codes_test, "codes_test")
    y_test = np.asarray(factors_test)
    if not np.issubdtype(y_test.dtype, np.integer):
        raise TypeError(f"factors_test must hold integer class labels, got dtype {y_test.dtype}")
    if z_test.shape[1] != z_train.shape[1]:
        raise ValueError(
            f"codes_test must have as many columns as codes_train ({z_train.shape[1]}), "
            f"got shape {z_test.shape}"
        )
    if y_test.ndim != 2 or y_test.shape[1] != y_train.shape[1]:
        raise ValueError(
            f"factors_test must have shape (N, {y_train.shape[1]}) like factors_train, "
            f"got shape {y_test.shape}"
        )
    if y_test.shape[0] != z_test.shape[0]:
        raise ValueError(
            f"codes_test and factors_test must have the same number of rows, got "
            f"{z_test.shape[0]} and {y_test.shape[0]}"
        )
    return z_train, y_train, z_test, y_test.astype(np.int64)


def _varying_factors(data: GroundTruthData) -> np.ndarray:
    """Indices of the factors of ``data`` with at least 2 classes (there must be two or more)."""
    for attribute in ("num_factors", "factor_sizes", "sample_factors", "sample_observations_from_factors"):
        if not hasattr(data, attribute):
            raise TypeError(
                f"data must follow the ground-truth data interface (no attribute {attribute!r}), "
                f"got {type(data).__name__}"
            )
    sizes = tuple(data.factor_sizes)
    if len(sizes) != data.num_factors:
        raise ValueError(
            f"data.factor_sizes must have data.num_factors={data.num_factors} entries, got {sizes}"
        )
    varying = np.flatnonzero(np.asarray(sizes) >= 2)
    if varying.size < 2:
        raise ValueError(
            f"data must have at least 2 factors with >= 2 classes, got factor_sizes {sizes}"
        )
    return varying


# ----------------------------------------------------------------------------- sample sizes


@dataclasses.dataclass(frozen=True)
class EvaluationSizes:
    """Sample sizes used by :func:`evaluate`.

    The defaults (:data:`DEFAULT_SIZES`) are disentanglement_lib's published configs, except DCI:
    its gradient boosting grows 100 trees per class of every factor (dSprites: 113 classes,
    11,300 trees), about 10 minutes at disentanglement_lib's 10,000 training points on a
    2-core machine, so DCI defaults to 2,000 / 1,000 points, 1 to 2 minutes for dSprites (pass
    ``dataclasses.replace(DEFAULT_SIZES, dci_train=10_000, dci_test=5_000)`` for the
    published sizes). The defaults encode about 2.9 million observations (BetaVAE 1.92 M,
    FactorVAE 0.97 M). :data:`FAST_SIZES`, the preset for notebooks, encodes about 147,000.

    Attributes
    ----------
    batch_size
        Observations per BetaVAE pair set / FactorVAE vote (disentanglement_lib: 64).
    beta_vae_train, beta_vae_eval
        BetaVAE training and evaluation points (10,000 / 5,000).
    factor_vae_train, factor_vae_eval
        FactorVAE training and evaluation votes (10,000 / 5,000).
    variance_estimate
        Points for FactorVAE's global variances (10,000).
    mig
        Points for MIG (10,000).
    sap_train, sap_test
        Points for SAP (10,000 / 5,000).
    dci_train, dci_test
        Points for DCI (disentanglement_lib: 10,000 / 5,000; default here 2,000 / 1,000).
    """

    batch_size: int = 64
    beta_vae_train: int = 10_000
    beta_vae_eval: int = 5_000
    factor_vae_train: int = 10_000
    factor_vae_eval: int = 5_000
    variance_estimate: int = 10_000
    mig: int = 10_000
    sap_train: int = 10_000
    sap_test: int = 5_000
    dci_train: int = 2_000
    dci_test: int = 1_000

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            minimum = 2 if field.name in ("batch_size", "beta_vae_train", "variance_estimate") else 1
            check_int(field.name, getattr(self, field.name), minimum)


DEFAULT_SIZES = EvaluationSizes()
"""disentanglement_lib's sample sizes, DCI reduced to 2,000 / 1,000 (see :class:`EvaluationSizes`)."""

FAST_SIZES = EvaluationSizes(
    beta_vae_train=500,
    beta_vae_eval=250,
    factor_vae_train=500,
    factor_vae_eval=250,
    variance_estimate=1_000,
    mig=1_000,
    sap_train=1_000,
    sap_test=500,
    dci_train=500,
    dci_test=250,
)
"""Notebook preset: BetaVAE and FactorVAE 500 / 250 points (batch size 64), FactorVAE variances,
MIG and SAP 1,000 (SAP test 500), DCI 500 / 250: about 147,000 encoded observations."""


# ----------------------------------------------------------------------------- sampling


def _sample_factors(data: GroundTruthData, n: int, rng: np.random.Generator) -> np.ndarray:
    factors = np.asarray(data.sample_factors(n, rng))
    if factors.shape != (n, data.num_factors) or not np.issubdtype(factors.dtype, np.integer):
        raise ValueError(
            f"data.sample_factors({n}, ...) must return integers of shape ({n}, {data.num_factors}), "
            f"got {factors.dtype} of shape {factors.shape}"
        )
    return factors.astype(np.int64)


def _encode(
    data: GroundTruthData,
    encode: Encoder,
    factors: np.ndarray,
    rng: np.random.Generator,
    chunk_size: int,
) -> np.ndarray:
    """Codes of observations of ``factors`` (shape ``(N, K)``): float64, shape ``(N, D)``."""
    chunks = []
    for start in range(0, len(factors), chunk_size):
        block = factors[start : start + chunk_size]
        observations = data.sample_observations_from_factors(block, rng)
        with torch.no_grad():
            codes = encode(observations)
        if isinstance(codes, (tuple, list)):
            raise TypeError(
                "encode must return one (n, D) array of codes (the encoder mean, e.g. "
                f"lambda x: model.encode(x)[0]), got a {type(codes).__name__} of length {len(codes)}"
            )
        codes = _as_codes(codes, "encode(observations)")
        if codes.shape[0] != len(block):
            raise ValueError(
                f"encode(observations) must return one row per observation ({len(block)}), "
                f"got shape {codes.shape}"
            )
        chunks.append(codes)
    return np.concatenate(chunks)


def _encoded_sample(
    data: GroundTruthData,
    encode: Encoder,
    n: int,
    varying: np.ndarray,
    rng: np.random.Generator,
    chunk_size: int,
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` sampled points: codes ``(n, D)`` and their classes of the ``varying`` factors."""
    factors = _sample_factors(data, n, rng)
    return _encode(data, encode, factors, rng, chunk_size), factors[:, varying]


_DRAW_BLOCK = 64
"""Points whose factors one ``data.sample_factors`` call draws; fixed, so that the draws do not
depend on ``chunk_size``."""


def _fixed_factor_statistics(
    data: GroundTruthData,
    encode: Encoder,
    varying: np.ndarray,
    num_points: int,
    shape: tuple[int, int],
    shared_axis: int,
    statistic: Callable[[np.ndarray], np.ndarray],
    rng: np.random.Generator,
    chunk_size: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Statistics of the codes of factor draws that share one factor, and that factor.

    Point ``i`` fixes factor ``labels[i]``, drawn uniformly from ``varying``, and draws
    ``copies x batch_size`` factor vectors (``shape = (copies, batch_size)``). Arranged as
    ``(copies, M, batch_size, K)`` for ``M`` points, factor ``labels[i]`` of point ``i`` is set
    to its value at index 0 of ``shared_axis``: 0 makes each pair of copies agree on it
    (BetaVAE), 2 the whole batch (FactorVAE). Points go in groups of whole draw blocks (as many
    as fit ``chunk_size`` observations, at least one), encoded ``chunk_size`` observations at a
    time; ``statistic`` maps a group's codes ``(copies, M, batch_size, D)`` to rows ``(M, ...)``.

    Returns the statistics, concatenated over points, and ``labels``, shape ``(num_points,)``.
    Factors and observations draw from separate generators spawned from ``rng``.
    """
    factor_rng, observation_rng = rng.spawn(2)
    labels = factor_rng.choice(varying, size=num_points)
    copies, batch_size = shape
    k = data.num_factors
    step = _DRAW_BLOCK * max(1, chunk_size // (copies * batch_size * _DRAW_BLOCK))
    results = []
    for start in range(0, num_points, step):
        points = labels[start : start + step]
        factors = np.concatenate(
            [
                _sample_factors(data, copies * len(block) * batch_size, factor_rng).reshape(
                    copies, len(block), batch_size, k
                )
                for block in np.split(points, range(_DRAW_BLOCK, len(points), _DRAW_BLOCK))
            ],
            axis=1,
        )
        fixed = np.arange(k) == points[:, None, None]  # (M, 1, K), broadcast over copies and batch
        factors = np.where(fixed, np.take(factors, [0], axis=shared_axis), factors)
        codes = _encode(data, encode, factors.reshape(-1, k), observation_rng, chunk_size)
        results.append(statistic(codes.reshape(copies, len(points), batch_size, -1)))
    return np.concatenate(results), labels


# ----------------------------------------------------------------------------- BetaVAE


def _mean_abs_difference(codes: np.ndarray) -> np.ndarray:
    """BetaVAE features: mean over the batch of ``|z1 - z2|``, codes ``(2, M, B, D)`` -> ``(M, D)``."""
    return np.abs(codes[0] - codes[1]).mean(axis=1)


def beta_vae_score(
    data: GroundTruthData,
    encode: Encoder,
    *,
    batch_size: int = 64,
    num_train: int = 10_000,
    num_eval: int = 5_000,
    random_state: RandomState = 0,
    chunk_size: int = 1024,
) -> dict[str, float]:
    """BetaVAE disentanglement score (Higgins et al. 2017), as in disentanglement_lib.

    Each point fixes one factor ``k`` drawn uniformly from the factors with at least 2 classes,
    draws ``batch_size`` pairs of factor vectors, each pair agreeing on factor ``k`` (and
    independent otherwise), and takes as features the mean over the pairs of the absolute
    difference of their codes, shape ``(D,)``. A multinomial logistic regression
    (scikit-learn, ``C=1``, lbfgs) predicts ``k`` from the features. Chance level is
    ``1 / number of varying factors``.

    Parameters
    ----------
    data
        Ground-truth data (see the module docstring).
    encode
        Representation function: observations -> encoder means, shape ``(n, D)``.
    batch_size
        Pairs per point (disentanglement_lib: 64).
    num_train, num_eval
        Training and evaluation points (disentanglement_lib: 10,000 and 5,000); each costs
        ``2 * batch_size`` encoded observations.
    random_state
        int seed or :class:`numpy.random.Generator` (advanced in place).
    chunk_size
        Most observations per ``encode`` call (bounds memory).

    Returns
    -------
    dict
        ``train_accuracy`` and ``eval_accuracy``, fractions in [0, 1].
    """
    varying = _varying_factors(data)
    _check_callable(encode)
    batch_size = check_int("batch_size", batch_size, 1)
    num_train = check_int("num_train", num_train, 2)
    num_eval = check_int("num_eval", num_eval, 1)
    chunk_size = check_int("chunk_size", chunk_size, 1)
    rng = _as_generator(random_state)

    def features(num_points: int) -> tuple[np.ndarray, np.ndarray]:
        return _fixed_factor_statistics(
            data, encode, varying, num_points, (2, batch_size), 0, _mean_abs_difference, rng, chunk_size
        )

    x_train, y_train = features(num_train)
    if np.unique(y_train).size < 2:
        raise ValueError(f"num_train={num_train} drew a single fixed factor; increase num_train")
    model = LogisticRegression(max_iter=1000).fit(x_train, y_train)
    x_eval, y_eval = features(num_eval)
    return {
        "train_accuracy": float(model.score(x_train, y_train)),
        "eval_accuracy": float(model.score(x_eval, y_eval)),
    }


# ----------------------------------------------------------------------------- FactorVAE


def factor_vae_score(
    data: GroundTruthData,
    encode: Encoder,
    *,
    batch_size: int = 64,
    num_train: int = 10_000,
    num_eval: int = 5_000,
    num_variance_estimate: int = 10_000,
    prune_threshold: float = 0.05,
    random_state: RandomState = 0,
    chunk_size: int = 1024,
) -> dict[str, float | int]:
    """FactorVAE disentanglement score (Kim & Mnih 2018), as in disentanglement_lib.

    Global variances of the codes come from ``num_variance_estimate`` observations; codes whose
    global standard deviation is below ``prune_threshold`` (collapsed to the prior) are pruned.
    Each vote fixes a factor ``k`` (uniform over the factors with at least 2 classes) to one
    value across a batch of ``batch_size`` observations and votes for the active code ``d``
    with the smallest variance over the batch divided by its global variance. The classifier
    maps each code to the factor with most training votes (majority vote); accuracy is the
    fraction of votes it gets right. Chance level is ``1 / number of varying factors``.

    Parameters
    ----------
    data, encode, random_state, chunk_size
        As in :func:`beta_vae_score`.
    batch_size
        Observations per vote, >= 2 (disentanglement_lib: 64).
    num_train, num_eval
        Training and evaluation votes (disentanglement_lib: 10,000 and 5,000), each costing
        ``batch_size`` encoded observations.
    num_variance_estimate
        Observations for the global variances (disentanglement_lib: 10,000).
    prune_threshold
        Smallest global standard deviation of an active code, in code units
        (disentanglement_lib's ``prune_dims.threshold = 0.05``).

    Returns
    -------
    dict
        ``train_accuracy`` and ``eval_accuracy`` (fractions in [0, 1]; both 0 when every code is
        pruned) and ``num_active_dims``, the number of codes kept (where disentanglement_lib
        reports the total number of codes).
    """
    varying = _varying_factors(data)
    _check_callable(encode)
    batch_size = check_int("batch_size", batch_size, 2)
    num_train = check_int("num_train", num_train, 1)
    num_eval = check_int("num_eval", num_eval, 1)
    num_variance_estimate = check_int("num_variance_estimate", num_variance_estimate, 2)
    chunk_size = check_int("chunk_size", chunk_size, 1)
    if isinstance(prune_threshold, bool) or not isinstance(prune_threshold, numbers.Real):
        raise TypeError(f"prune_threshold must be a real number, got {prune_threshold!r}")
    if not prune_threshold >= 0:
        raise ValueError(f"prune_threshold must be >= 0, got {prune_threshold!r}")
    rng = _as_generator(random_state)
    factors = _sample_factors(data, num_variance_estimate, rng)
    variances = _encode(data, encode, factors, rng, chunk_size).var(axis=0, ddof=1)  # (D,)
    active = np.flatnonzero(np.sqrt(variances) >= prune_threshold)
    if active.size == 0:
        return {"train_accuracy": 0.0, "eval_accuracy": 0.0, "num_active_dims": 0}

    def least_varying(codes: np.ndarray) -> np.ndarray:
        local = codes[0][..., active].var(axis=1, ddof=1) / variances[active]  # (M, active)
        return active[np.argmin(local, axis=1)]

    def votes(num_votes: int) -> np.ndarray:
        """Counts ``(K, D)``: batches with factor ``k`` fixed whose least-varying code is ``d``."""
        dims, labels = _fixed_factor_statistics(
            data, encode, varying, num_votes, (1, batch_size), 2, least_varying, rng, chunk_size
        )
        d = variances.shape[0]
        return np.bincount(labels * d + dims, minlength=data.num_factors * d).reshape(-1, d)

    train = votes(num_train)
    classifier = train.argmax(axis=0)  # (D,): the factor each code stands for
    evaluation = votes(num_eval)
    columns = np.arange(train.shape[1])
    return {
        "train_accuracy": float(train[classifier, columns].sum() / train.sum()),
        "eval_accuracy": float(evaluation[classifier, columns].sum() / evaluation.sum()),
        "num_active_dims": int(active.size),
    }


# ----------------------------------------------------------------------------- MIG


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


def _top_two_gap(scores: np.ndarray) -> np.ndarray:
    """Per column of ``scores`` (shape ``(D, K)``), largest minus second-largest entry, ``(K,)``."""
    top_two = np.sort(scores, axis=0)[-2:]
    return top_two[1] - top_two[0]


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
    z, y = _codes_and_factors(codes, factors, "codes", "factors")
    n_bins = check_int("n_bins", n_bins, 2)
    bins = _histogram_bins(z, n_bins)
    info = np.array([[mutual_info_score(f, b) for f in y.T] for b in bins.T])  # (D, K), nats
    entropy = np.array([mutual_info_score(f, f) for f in y.T])  # (K,), nats
    return float(np.mean(_top_two_gap(info) / entropy))


# ----------------------------------------------------------------------------- SAP


def sap(
    codes_train: npt.ArrayLike,
    factors_train: npt.ArrayLike,
    codes_test: npt.ArrayLike,
    factors_test: npt.ArrayLike,
) -> float:
    """Separated attribute predictability (Kumar et al. 2018), discrete factors, as in
    disentanglement_lib.

    For every code ``d`` and factor ``k`` a linear SVM (``LinearSVC(C=0.01,
    class_weight="balanced")``, one-vs-rest) is trained on code ``d`` alone to predict factor
    ``k``; ``S[d, k]`` is its test accuracy. SAP is the mean over factors of the gap between the
    largest and second-largest ``S[:, k]``. The SVM is solved in the primal, the fast solver
    for one feature and many samples; its optimum is the one disentanglement_lib's dual solver
    approximates.

    Parameters
    ----------
    codes_train, codes_test
        Codes, shapes ``(N_train, D)`` and ``(N_test, D)``, ``D >= 2``.
    factors_train, factors_test
        Integer factor classes, shapes ``(N_train, K)`` and ``(N_test, K)``; every training
        column must take at least 2 values.

    Returns
    -------
    float
        SAP in [0, 1] (a difference of accuracies).
    """
    z_train, y_train, z_test, y_test = _train_test(codes_train, factors_train, codes_test, factors_test)
    scores = np.empty((z_train.shape[1], y_train.shape[1]))
    for d in range(z_train.shape[1]):
        for k in range(y_train.shape[1]):
            model = LinearSVC(C=0.01, class_weight="balanced", dual=False)
            model.fit(z_train[:, d : d + 1], y_train[:, k])
            scores[d, k] = np.mean(model.predict(z_test[:, d : d + 1]) == y_test[:, k])
    return float(np.mean(_top_two_gap(scores)))


# ----------------------------------------------------------------------------- DCI


def _normalised_entropy(weights: np.ndarray) -> np.ndarray:
    """Entropy, in units of ``log n``, of each row of ``weights`` (shape ``(m, n)``) normalised
    to sum to 1; an all-zero row counts as uniform (entropy 1). Returns shape ``(m,)``."""
    totals = weights.sum(axis=1, keepdims=True)
    p = np.where(totals > 0, weights / np.where(totals > 0, totals, 1.0), 1.0 / weights.shape[1])
    plogp = np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0)
    return -plogp.sum(axis=1) / np.log(weights.shape[1])


IMPORTANCE_ROUNDOFF = 1e-12
"""Negative importances down to ``-IMPORTANCE_ROUNDOFF`` are round-off and count as 0 (scikit-learn's
``feature_importances_`` can hold values like -5e-18 for well-separated codes); below it they are an error."""


def dci_from_importance(importance_matrix: npt.ArrayLike) -> dict[str, float]:
    """Disentanglement and completeness of an importance matrix (Eastwood & Williams 2018).

    With ``R[d, k] >= 0`` the importance of code ``d`` for predicting factor ``k``:

    * disentanglement = ``sum_d rho_d (1 - H_K(R[d, :] / sum_k R[d, k]))``, with code weights
      ``rho_d = sum_k R[d, k] / sum R``;
    * completeness = ``sum_k w_k (1 - H_D(R[:, k] / sum_d R[d, k]))``, with factor weights
      ``w_k = sum_d R[d, k] / sum R`` (disentanglement_lib's weighting; the plain mean over
      factors when every column sums to the same total, as gradient-boosting importances do),

    where ``H_n`` is the entropy in units of ``log n``. An all-zero row or column counts as
    uniform (score 0); an all-zero matrix weighs codes and factors equally.

    Parameters
    ----------
    importance_matrix
        Non-negative, shape ``(D, K)``, ``D >= 2`` codes and ``K >= 2`` factors.

    Returns
    -------
    dict
        ``disentanglement`` and ``completeness``, in [0, 1].
    """
    r = np.asarray(importance_matrix, dtype=np.float64)
    if r.ndim != 2 or r.shape[0] < 2 or r.shape[1] < 2:
        raise ValueError(
            "importance_matrix must have shape (D, K) with D >= 2 codes and K >= 2 factors, "
            f"got shape {r.shape}"
        )
    if not np.all(np.isfinite(r)) or np.any(r < -IMPORTANCE_ROUNDOFF):
        raise ValueError(
            f"importance_matrix must be finite and non-negative, got minimum {float(r.min())!r}"
        )
    r = np.clip(r, 0.0, None)  # round-off of boosted trees' importances, e.g. -5e-18
    total = r.sum()
    code_weight = r.sum(axis=1) / total if total > 0 else np.full(r.shape[0], 1.0 / r.shape[0])
    factor_weight = r.sum(axis=0) / total if total > 0 else np.full(r.shape[1], 1.0 / r.shape[1])
    return {
        "disentanglement": float(np.sum(code_weight * (1.0 - _normalised_entropy(r)))),
        "completeness": float(np.sum(factor_weight * (1.0 - _normalised_entropy(r.T)))),
    }


def dci(
    codes_train: npt.ArrayLike,
    factors_train: npt.ArrayLike,
    codes_test: npt.ArrayLike,
    factors_test: npt.ArrayLike,
    *,
    random_state: RandomState = 0,
) -> dict[str, float]:
    """Disentanglement, completeness and informativeness (Eastwood & Williams 2018), as in
    disentanglement_lib.

    One :class:`~sklearn.ensemble.GradientBoostingClassifier` (scikit-learn defaults: 100
    stages of depth-3 trees, learning rate 0.1) per factor predicts it from all codes; its
    ``feature_importances_`` form column ``k`` of the importance matrix ``(D, K)``, scored by
    :func:`dci_from_importance`. Informativeness is the accuracy averaged over factors.

    Cost: 100 trees per class of every factor, each over all training points; measured on a
    shared 2-core machine, 5 to 10 ms per tree at 2,000 points and about 50 ms at 10,000, so
    1 to 2 minutes and about 10 minutes for dSprites' 113 classes.

    Parameters
    ----------
    codes_train, factors_train, codes_test, factors_test
        As in :func:`sap` (``K >= 2`` factors).
    random_state
        int seed or :class:`numpy.random.Generator`; seeds the trees' feature permutations.

    Returns
    -------
    dict
        ``disentanglement``, ``completeness`` (in [0, 1]), ``informativeness_train`` and
        ``informativeness_test`` (mean accuracies in [0, 1]).
    """
    z_train, y_train, z_test, y_test = _train_test(codes_train, factors_train, codes_test, factors_test)
    if y_train.shape[1] < 2:
        raise ValueError(
            f"factors_train must have at least 2 factors (columns) for DCI, got shape {y_train.shape}"
        )
    seed = int(_as_generator(random_state).integers(2**31))
    importance = np.empty((z_train.shape[1], y_train.shape[1]))
    accuracy_train, accuracy_test = [], []
    for k in range(y_train.shape[1]):
        model = GradientBoostingClassifier(random_state=seed).fit(z_train, y_train[:, k])
        importance[:, k] = model.feature_importances_
        accuracy_train.append(model.score(z_train, y_train[:, k]))
        accuracy_test.append(model.score(z_test, y_test[:, k]))
    return {
        **dci_from_importance(importance),
        "informativeness_train": float(np.mean(accuracy_train)),
        "informativeness_test": float(np.mean(accuracy_test)),
    }


# ----------------------------------------------------------------------------- all together

SCORES: tuple[str, ...] = ("beta_vae", "factor_vae", "mig", "sap", "dci")
"""Names of the scores :func:`evaluate` can run."""


def evaluate(
    data: GroundTruthData,
    encode: Encoder,
    *,
    fast: bool = False,
    sizes: EvaluationSizes | None = None,
    scores: Sequence[str] | str = SCORES,
    random_state: RandomState = 0,
    chunk_size: int = 1024,
) -> dict[str, float]:
    """Disentanglement scores of a representation on ground-truth data, all five by default.

    MIG, SAP and DCI share one training sample and one test sample of points (sized for the
    largest of those selected) and use prefixes of them, so the encoder runs once per point;
    factors with a single class are dropped. BetaVAE, FactorVAE, the shared samples and DCI's
    trees draw from independent streams spawned from ``random_state``, the same whichever
    scores are selected.

    Parameters
    ----------
    data, encode, chunk_size
        As in :func:`beta_vae_score`.
    fast
        Use :data:`FAST_SIZES` (about 20 times fewer encoded observations; for notebooks)
        instead of :data:`DEFAULT_SIZES` (disentanglement_lib's, DCI reduced).
    sizes
        Explicit sample sizes, overriding both presets (then ``fast`` must be False).
    scores
        Which scores to run, names from :data:`SCORES`. DCI dominates the time for factors
        with many classes (dSprites: about 30 s even at :data:`FAST_SIZES`); leave it out
        when that matters.
    random_state
        int seed or :class:`numpy.random.Generator`.

    Returns
    -------
    dict
        Flat, JSON-ready, for the selected scores: ``beta_vae_train_accuracy``,
        ``beta_vae_eval_accuracy``, ``factor_vae_train_accuracy``,
        ``factor_vae_eval_accuracy``, ``factor_vae_num_active_dims``, ``mig``, ``sap``,
        ``dci_disentanglement``, ``dci_completeness``, ``dci_informativeness_train``,
        ``dci_informativeness_test``.
    """
    if not isinstance(fast, bool):
        raise TypeError(f"fast must be a bool, got {fast!r}")
    if sizes is not None and not isinstance(sizes, EvaluationSizes):
        raise TypeError(f"sizes must be an EvaluationSizes or None, got {sizes!r}")
    if sizes is not None and fast:
        raise ValueError(f"give either fast=True or sizes, not both; got sizes={sizes!r}")
    sizes = sizes or (FAST_SIZES if fast else DEFAULT_SIZES)
    selected = (scores,) if isinstance(scores, str) else tuple(scores)
    if not selected or any(name not in SCORES for name in selected):
        raise ValueError(f"scores must be a non-empty selection from {SCORES}, got {scores!r}")
    varying = _varying_factors(data)
    _check_callable(encode)
    chunk_size = check_int("chunk_size", chunk_size, 1)
    beta_rng, factor_rng, train_rng, test_rng, dci_rng = _as_generator(random_state).spawn(5)
    results: dict[str, float] = {}
    if "beta_vae" in selected:
        beta = beta_vae_score(
            data, encode, batch_size=sizes.batch_size, num_train=sizes.beta_vae_train,
            num_eval=sizes.beta_vae_eval, random_state=beta_rng, chunk_size=chunk_size,
        )
        results.update({f"beta_vae_{name}": value for name, value in beta.items()})
    if "factor_vae" in selected:
        factor = factor_vae_score(
            data, encode, batch_size=sizes.batch_size, num_train=sizes.factor_vae_train,
            num_eval=sizes.factor_vae_eval, num_variance_estimate=sizes.variance_estimate,
            random_state=factor_rng, chunk_size=chunk_size,
        )
        results.update({f"factor_vae_{name}": value for name, value in factor.items()})
    train_sizes = {"mig": sizes.mig, "sap": sizes.sap_train, "dci": sizes.dci_train}
    test_sizes = {"sap": sizes.sap_test, "dci": sizes.dci_test}
    needs_train = [size for name, size in train_sizes.items() if name in selected]
    needs_test = [size for name, size in test_sizes.items() if name in selected]
    if needs_train:
        z_train, y_train = _encoded_sample(data, encode, max(needs_train), varying, train_rng, chunk_size)
    if needs_test:
        z_test, y_test = _encoded_sample(data, encode, max(needs_test), varying, test_rng, chunk_size)
    if "mig" in selected:
        results["mig"] = mig(z_train[: sizes.mig], y_train[: sizes.mig])
    if "sap" in selected:
        n, m = sizes.sap_train, sizes.sap_test
        results["sap"] = sap(z_train[:n], y_train[:n], z_test[:m], y_test[:m])
    if "dci" in selected:
        n, m = sizes.dci_train, sizes.dci_test
        dci_scores = dci(z_train[:n], y_train[:n], z_test[:m], y_test[:m], random_state=dci_rng)
        results.update({f"dci_{name}": value for name, value in dci_scores.items()})
    return results
