"""FactorVAE disentanglement score (Kim & Mnih 2018, "Disentangling by Factorising", ICML), as in
disentanglement_lib."""
from __future__ import annotations

import numpy as np

from vaelib.disentanglement.sampling import (
    Encoder,
    GroundTruthData,
    check_sampling_inputs,
    encode_factors,
    fixed_factor_statistics,
    sample_factors,
)
from vaelib.rng import RandomState, numpy_generator
from vaelib.validation import check_int, check_nonnegative

__all__ = ["factor_vae_score"]


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
        As in :func:`~vaelib.disentanglement.beta_vae_score`.
    batch_size
        Observations per vote, >= 2 (disentanglement_lib: 64).
    num_train, num_eval
        Training and evaluation votes (disentanglement_lib: 10,000 and 5,000), each costing
        ``batch_size`` encoded observations.
    num_variance_estimate
        Observations for the global variances (disentanglement_lib: 10,000).
    prune_threshold
        Smallest global standard deviation of an active code, in code units, finite and >= 0
        (disentanglement_lib's ``prune_dims.threshold = 0.05``).

    Returns
    -------
    dict
        ``train_accuracy`` and ``eval_accuracy`` (fractions in [0, 1]; both 0 when every code is
        pruned) and ``num_active_dims``, the number of codes kept (where disentanglement_lib
        reports the total number of codes).
    """
    varying, chunk_size = check_sampling_inputs(data, encode, chunk_size)
    batch_size = check_int("batch_size", batch_size, 2)
    num_train = check_int("num_train", num_train, 1)
    num_eval = check_int("num_eval", num_eval, 1)
    num_variance_estimate = check_int("num_variance_estimate", num_variance_estimate, 2)
    prune_threshold = check_nonnegative("prune_threshold", prune_threshold)
    rng = numpy_generator(random_state)
    factors = sample_factors(data, num_variance_estimate, rng)
    variances = encode_factors(data, encode, factors, rng, chunk_size).var(axis=0, ddof=1)  # (D,)
    active = np.flatnonzero(np.sqrt(variances) >= prune_threshold)
    if active.size == 0:
        return {"train_accuracy": 0.0, "eval_accuracy": 0.0, "num_active_dims": 0}

    def least_varying(codes: np.ndarray) -> np.ndarray:
        local = codes[0][..., active].var(axis=1, ddof=1) / variances[active]  # (M, active)
        return active[np.argmin(local, axis=1)]

    def votes(num_votes: int) -> np.ndarray:
        """Counts ``(K, D)``: batches with factor ``k`` fixed whose least-varying code is ``d``."""
        dims, labels = fixed_factor_statistics(
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
