"""Disentanglement, completeness and informativeness (Eastwood & Williams 2018, "A Framework for the
Quantitative Evaluation of Disentangled Representations", ICLR), as in disentanglement_lib."""
from __future__ import annotations

import numpy as np
import numpy.typing as npt
from joblib import Parallel, delayed
from sklearn.ensemble import GradientBoostingClassifier

from vaelib.disentanglement.arrays import train_test
from vaelib.disentanglement.sampling import check_n_jobs
from vaelib.rng import RandomState, numpy_generator

__all__ = ["IMPORTANCE_ROUNDOFF", "PARALLEL_MIN_WORK", "dci", "dci_from_importance"]


def _normalised_entropy(weights: np.ndarray) -> np.ndarray:
    """Entropy, in units of ``log n``, of each row of ``weights`` (shape ``(m, n)``) normalised
    to sum to 1; an all-zero row counts as uniform (entropy 1). Returns shape ``(m,)``."""
    totals = weights.sum(axis=1, keepdims=True)
    p = np.where(totals > 0, weights / np.where(totals > 0, totals, 1.0), 1.0 / weights.shape[1])
    plogp = np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0)
    entropy = np.clip(-plogp.sum(axis=1) / np.log(weights.shape[1]), 0.0, 1.0)
    return np.where(totals[:, 0] > 0, entropy, 1.0)  # exactly 1, not 1 - 1e-16, for an all-zero row


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
        Non-negative, shape ``(D, K)``, ``D >= 2`` codes and ``K >= 2`` factors; entries down to
        ``-IMPORTANCE_ROUNDOFF`` are round-off and count as 0.

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
    scores = {
        "disentanglement": np.sum(code_weight * (1.0 - _normalised_entropy(r))),
        "completeness": np.sum(factor_weight * (1.0 - _normalised_entropy(r.T))),
    }
    # weights summing to 1 + 2e-16: clip the round-off, never report -2e-16 or 1 + 2e-16
    return {name: float(np.clip(value, 0.0, 1.0)) for name, value in scores.items()}


PARALLEL_MIN_WORK = 100_000
"""With ``n_jobs=None``, :func:`dci` fits in parallel only when training points x classes (summed over
factors) reach this; below it each stage's Python part, which holds the GIL, dominates and the threads
slow each other (dSprites' 113 classes, measured: 200 points 10.2 s serial, 11.2 s on 2 threads; 1,000
points 35.7 s and 19.8 s)."""


def _fit_per_factor(
    codes: np.ndarray, factors: np.ndarray, seed: int, n_jobs: int
) -> list[GradientBoostingClassifier]:
    """One classifier per factor (column of ``factors``, shape ``(N, K)``) fitted on ``codes``
    ``(N, D)``, all seeded with ``seed``; in factor order.

    With ``n_jobs > 1`` the fits run in up to ``n_jobs`` threads of this process: scikit-learn
    grows each tree without the GIL, so two fits on two cores take the time of one (measured:
    a 6-class fit at 10,000 points, 16.3 s alone, 16.4 and 16.6 s as a pair of threads, against
    17.2 s each in two worker processes plus their start-up). The factors with most classes go
    first so that the threads finish close together (a fit grows one tree per class and stage).
    Each thread fits its own classifier and nothing else is shared, so the classifiers are the
    ones a serial fit gives, bit for bit.
    """
    models = [GradientBoostingClassifier(random_state=seed) for _ in range(factors.shape[1])]
    workers = min(n_jobs, len(models))
    if workers == 1:
        return [model.fit(codes, factors[:, k]) for k, model in enumerate(models)]
    classes = [np.unique(column).size for column in factors.T]
    order = sorted(range(len(models)), key=lambda k: -classes[k])
    Parallel(n_jobs=workers, backend="threading", batch_size=1)(
        delayed(models[k].fit)(codes, factors[:, k]) for k in order
    )
    return models


def dci(
    codes_train: npt.ArrayLike,
    factors_train: npt.ArrayLike,
    codes_test: npt.ArrayLike,
    factors_test: npt.ArrayLike,
    *,
    random_state: RandomState = 0,
    n_jobs: int | None = None,
) -> dict[str, float]:
    """Disentanglement, completeness and informativeness (Eastwood & Williams 2018), as in
    disentanglement_lib.

    One :class:`~sklearn.ensemble.GradientBoostingClassifier` (scikit-learn defaults: 100
    stages of depth-3 trees, learning rate 0.1) per factor predicts it from all codes; its
    ``feature_importances_`` form column ``k`` of the importance matrix ``(D, K)``, scored by
    :func:`dci_from_importance`. Informativeness is the accuracy averaged over factors. Every
    factor's classifier gets the same integer seed, drawn once from ``random_state``.

    Cost: 100 trees per class of every factor (one per stage for a binary factor), each over
    all training points; measured on a shared 2-core machine, 5 to 10 ms per tree at 2,000
    points and about 50 ms at disentanglement_lib's 10,000, so about 5 minutes serially for
    dSprites' 113 classes (11,300 trees). The classifiers are independent and fitted in
    parallel threads: with two, dSprites' factors split 40 + 6 + 3 and 32 + 32 classes, about
    57% of the serial time when both cores are free (``benchmarks/metrics.py`` measures it).

    Parameters
    ----------
    codes_train, factors_train, codes_test, factors_test
        As in :func:`~vaelib.disentanglement.sap` (``K >= 2`` factors).
    random_state
        int seed, :class:`numpy.random.Generator` or :class:`numpy.random.RandomState`; seeds
        the trees' feature permutations.
    n_jobs
        Threads for the per-factor classifiers (at most one per factor): a positive
        int, or ``None`` for the threads this process was given (``OMP_NUM_THREADS`` when set,
        else its cores: :func:`vaelib.threads.available_threads`) when the work is large enough
        (:data:`PARALLEL_MIN_WORK`), else 1. 1 fits them one after another. The scores do not
        depend on it.

    Returns
    -------
    dict
        ``disentanglement``, ``completeness`` (in [0, 1]), ``informativeness_train`` and
        ``informativeness_test`` (mean accuracies in [0, 1]).
    """
    z_train, y_train, z_test, y_test = train_test(codes_train, factors_train, codes_test, factors_test)
    if y_train.shape[1] < 2:
        raise ValueError(
            f"factors_train must have at least 2 factors (columns) for DCI, got shape {y_train.shape}"
        )
    automatic = n_jobs is None
    n_jobs = check_n_jobs(n_jobs)
    if automatic and len(z_train) * sum(np.unique(column).size for column in y_train.T) < PARALLEL_MIN_WORK:
        n_jobs = 1  # threads would slow each other more than they share
    seed = int(numpy_generator(random_state).integers(2**31))
    models = _fit_per_factor(z_train, y_train, seed, n_jobs)
    importance = np.column_stack([model.feature_importances_ for model in models])  # (D, K)
    return {
        **dci_from_importance(importance),
        "informativeness_train": float(np.mean([m.score(z_train, y) for m, y in zip(models, y_train.T)])),
        "informativeness_test": float(np.mean([m.score(z_test, y) for m, y in zip(models, y_test.T)])),
    }
