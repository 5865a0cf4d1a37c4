"""BetaVAE disentanglement score (Higgins et al. 2017, "beta-VAE: Learning Basic Visual Concepts
with a Constrained Variational Framework", ICLR), as in disentanglement_lib."""
from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression

from vaelib.disentanglement.sampling import (
    Encoder,
    GroundTruthData,
    check_sampling_inputs,
    fixed_factor_statistics,
)
from vaelib.rng import RandomState, numpy_generator
from vaelib.validation import check_int

__all__ = ["beta_vae_score"]


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
        Ground-truth data (see :mod:`vaelib.disentanglement`).
    encode
        Representation function: observations -> encoder means, shape ``(n, D)``.
    batch_size
        Pairs per point (disentanglement_lib: 64).
    num_train, num_eval
        Training and evaluation points (disentanglement_lib: 10,000 and 5,000); each costs
        ``2 * batch_size`` encoded observations.
    random_state
        int seed, :class:`numpy.random.Generator` (advanced in place) or legacy
        :class:`numpy.random.RandomState` (see :func:`vaelib.rng.numpy_generator`).
    chunk_size
        Most observations per ``encode`` call (bounds memory).

    Returns
    -------
    dict
        ``train_accuracy`` and ``eval_accuracy``, fractions in [0, 1].
    """
    varying, chunk_size = check_sampling_inputs(data, encode, chunk_size)
    batch_size = check_int("batch_size", batch_size, 1)
    num_train = check_int("num_train", num_train, 2)
    num_eval = check_int("num_eval", num_eval, 1)
    rng = numpy_generator(random_state)

    def features(num_points: int) -> tuple[np.ndarray, np.ndarray]:
        return fixed_factor_statistics(
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
