"""Checks of the code and factor arrays the scores take, and the gap statistic MIG and SAP share."""
from __future__ import annotations

from typing import Any

import numpy as np
import torch

from vaelib.validation import check_matrix

__all__ = ["as_codes", "as_factors", "codes_and_factors", "top_two_gap", "train_test"]


def as_codes(codes: Any, name: str) -> np.ndarray:
    """``codes`` (numpy array or tensor) as a finite float64 array of shape ``(N, D)``, ``D >= 2``."""
    if isinstance(codes, torch.Tensor):
        codes = codes.detach().cpu().numpy()
    array = np.asarray(codes)
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_):
        raise TypeError(f"{name} must be a numeric (N, D) array, got dtype {array.dtype}")
    return check_matrix(
        name,
        array.astype(np.float64),
        requirement="be a 2-D (N, D) array",
        column_requirement="have at least 2 code dimensions (columns)",
        min_columns=2,
    )


def as_factors(factors: Any, name: str) -> np.ndarray:
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


def codes_and_factors(
    codes: Any, factors: Any, codes_name: str, factors_name: str
) -> tuple[np.ndarray, np.ndarray]:
    """Checked codes ``(N, D)`` and factors ``(N, K)`` with the same number of rows ``N``."""
    codes_array = as_codes(codes, codes_name)
    factors_array = as_factors(factors, factors_name)
    if codes_array.shape[0] != factors_array.shape[0]:
        raise ValueError(
            f"{codes_name} and {factors_name} must have the same number of rows, got "
            f"{codes_array.shape[0]} and {factors_array.shape[0]}"
        )
    return codes_array, factors_array


def train_test(
    codes_train: Any, factors_train: Any, codes_test: Any, factors_test: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Checked train and test splits with matching code and factor dimensions: codes ``(N, D)``
    float64, factors ``(N, K)`` int64 (only the training factors need 2 classes a column)."""
    z_train, y_train = codes_and_factors(codes_train, factors_train, "codes_train", "factors_train")
    z_test = as_codes(codes_test, "codes_test")
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


def top_two_gap(scores: np.ndarray) -> np.ndarray:
    """Per column of ``scores`` (shape ``(D, K)``), largest minus second-largest entry, ``(K,)``."""
    top_two = np.sort(scores, axis=0)[-2:]
    return top_two[1] - top_two[0]
