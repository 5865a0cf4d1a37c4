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

__all__ = ["factor_vae_score", "factor_vae_votes"]


def factor_vae_votes(
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
) -> dict[str, np.ndarray]:
    """The votes behind :func:`factor_vae_score`: where each fixed factor sends its votes.

    Same parameters and the same random draws as :func:`factor_vae_score` (which is computed
    from these votes), so the two agree for one ``random_state``. Read a row to see which codes a
    factor's votes go to: a factor that no code stands for spreads its votes over the codes
    that other factors win, and they count as errors.

    Returns
    -------
    dict of numpy arrays
        ``train_votes`` and ``eval_votes``, integers of shape ``(K, D)`` (``K = data.num_factors``,
        ``D`` codes): the batches with factor ``k`` fixed whose least-varying code is ``d``
        (rows of single-class factors are zero); ``classifier``, shape ``(D,)``, the factor
        each code stands for (its majority training vote; 0 for a code without votes, as in
        disentanglement_lib); ``active``, the indices of the codes kept (global standard
        deviation >= ``prune_threshold``; no votes are taken when it is empty).
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
    d = variances.shape[0]

    def least_varying(codes: np.ndarray) -> np.ndarray:
        local = codes[0][..., active].var(axis=1, ddof=1) / variances[active]  # (M, active)
        return active[np.argmin(local, axis=1)]

    def votes(num_votes: int) -> np.ndarray:
        """Counts ``(K, D)``: batches with factor ``k`` fixed whose least-varying code is ``d``."""
        if active.size == 0:
            return np.zeros((data.num_factors, d), dtype=np.int64)
        dims, labels = fixed_factor_statistics(
            data, encode, varying, num_votes, (1, batch_size), 2, least_varying, rng, chunk_size
        )
        return np.bincount(labels * d + dims, minlength=data.num_factors * d).reshape(-1, d)

    train = votes(num_train)
    return {"train_votes": train, "eval_votes": votes(num_eval), "classifier": train.argmax(axis=0),
            "active": active}


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
    :func:`factor_vae_votes` returns the votes themselves.

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
    votes = factor_vae_votes(
        data, encode, batch_size=batch_size, num_train=num_train, num_eval=num_eval,
        num_variance_estimate=num_variance_estimate, prune_threshold=prune_threshold,
        random_state=random_state, chunk_size=chunk_size,
    )
    if votes["active"].size == 0:
        return {"train_accuracy": 0.0, "eval_accuracy": 0.0, "num_active_dims": 0}
    columns = np.arange(votes["classifier"].shape[0])

    def accuracy(counts: np.ndarray) -> float:
        return float(counts[votes["classifier"], columns].sum() / counts.sum())

    return {
        "train_accuracy": accuracy(votes["train_votes"]),
        "eval_accuracy": accuracy(votes["eval_votes"]),
        "num_active_dims": int(votes["active"].size),
    }
