"""Separated attribute predictability (Kumar et al. 2018, "Variational Inference of Disentangled
Latent Concepts from Unlabeled Observations", ICLR), discrete factors, as in disentanglement_lib."""
from __future__ import annotations

import numpy as np
import numpy.typing as npt
from sklearn.svm import LinearSVC

from vaelib.disentanglement.arrays import top_two_gap, train_test

__all__ = ["sap"]


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
    z_train, y_train, z_test, y_test = train_test(codes_train, factors_train, codes_test, factors_test)
    scores = np.empty((z_train.shape[1], y_train.shape[1]))
    for d in range(z_train.shape[1]):
        for k in range(y_train.shape[1]):
            model = LinearSVC(C=0.01, class_weight="balanced", dual=False)
            model.fit(z_train[:, d : d + 1], y_train[:, k])
            scores[d, k] = np.mean(model.predict(z_test[:, d : d + 1]) == y_test[:, k])
    return float(np.mean(top_two_gap(scores)))
