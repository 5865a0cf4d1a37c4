"""Ground-truth data, sampling and encoding shared by the scores.

:class:`GroundTruthData` is disentanglement_lib's data interface as the scores use it;
:func:`encode_factors` encodes observations of given factors in chunks; :func:`encoded_sample`
draws the training and test samples that :func:`~vaelib.disentanglement.evaluate` shares among
MIG, SAP and DCI; :func:`fixed_factor_statistics` draws the batches with one factor fixed that
BetaVAE and FactorVAE score.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple, Protocol

import numpy as np
import numpy.typing as npt
import torch

from vaelib.disentanglement.arrays import as_codes
from vaelib.threads import available_threads
from vaelib.validation import check_int, is_integer

__all__ = [
    "DRAW_BLOCK",
    "Encoder",
    "GroundTruthData",
    "Sample",
    "check_callable",
    "check_n_jobs",
    "check_sampling_inputs",
    "encode_factors",
    "encoded_sample",
    "fixed_factor_statistics",
    "sample_factors",
    "varying_factors",
]

Encoder = Callable[[Any], Any]
"""Representation function: observations -> encoder means, shape ``(n, D)`` (array or tensor)."""


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


class Sample(NamedTuple):
    """Encoded points: ``codes`` float64 ``(N, D)`` and their factor classes, int64 ``(N, K)``."""

    codes: np.ndarray
    factors: np.ndarray

    def head(self, n: int) -> Sample:
        """The first ``n`` points."""
        return Sample(self.codes[:n], self.factors[:n])


def check_callable(encode: Any) -> None:
    """``TypeError`` unless ``encode`` is callable."""
    if not callable(encode):
        raise TypeError(f"encode must be callable (observations -> codes), got {encode!r}")


def check_n_jobs(n_jobs: Any) -> int:
    """Worker processes for ``n_jobs``: a positive int as it is; ``None``, the threads this process
    was given (:func:`vaelib.threads.available_threads`)."""
    if n_jobs is None:
        return available_threads()
    if not is_integer(n_jobs):
        raise TypeError(f"n_jobs must be a positive int or None, got {n_jobs!r}")
    if n_jobs < 1:
        raise ValueError(f"n_jobs must be a positive int or None (the threads available), got {n_jobs!r}")
    return int(n_jobs)


def factor_sizes(data: Any) -> tuple[int, ...]:
    """Classes per factor of ground-truth data: ``data.factor_sizes`` (vaelib), or
    ``data.factors_num_values`` (disentanglement_lib's own data objects)."""
    for attribute in ("factor_sizes", "factors_num_values"):
        if hasattr(data, attribute):
            return tuple(int(size) for size in getattr(data, attribute))
    raise TypeError(
        f"data must follow the ground-truth data interface (no attribute 'factor_sizes'), got "
        f"{type(data).__name__} (disentanglement_lib's 'factors_num_values' works too)"
    )


def varying_factors(data: GroundTruthData) -> np.ndarray:
    """Indices of the factors of ``data`` with at least 2 classes (there must be two or more)."""
    for attribute in ("num_factors", "sample_factors", "sample_observations_from_factors"):
        if not hasattr(data, attribute):
            raise TypeError(
                f"data must follow the ground-truth data interface (no attribute {attribute!r}), "
                f"got {type(data).__name__}"
            )
    sizes = factor_sizes(data)
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


def check_sampling_inputs(data: GroundTruthData, encode: Any, chunk_size: Any) -> tuple[np.ndarray, int]:
    """The checks of a score that samples ``data``: the indices of its varying factors
    (:func:`varying_factors`) and ``chunk_size`` as an int >= 1; ``encode`` must be callable."""
    varying = varying_factors(data)
    check_callable(encode)
    return varying, check_int("chunk_size", chunk_size, 1)


def sample_factors(data: GroundTruthData, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` factor draws of ``data``, checked: int64, shape ``(n, num_factors)``."""
    factors = np.asarray(data.sample_factors(n, rng))
    if factors.shape != (n, data.num_factors) or not np.issubdtype(factors.dtype, np.integer):
        raise ValueError(
            f"data.sample_factors({n}, ...) must return integers of shape ({n}, {data.num_factors}), "
            f"got {factors.dtype} of shape {factors.shape}"
        )
    return factors.astype(np.int64)


def encode_factors(
    data: GroundTruthData,
    encode: Encoder,
    factors: np.ndarray,
    rng: np.random.Generator,
    chunk_size: int,
) -> np.ndarray:
    """Codes of observations of ``factors`` (shape ``(N, K)``): float64, shape ``(N, D)``.

    Observations are drawn (with ``rng``) and encoded (under :func:`torch.no_grad`) at most
    ``chunk_size`` at a time, which bounds memory.
    """
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
        codes = as_codes(codes, "encode(observations)")
        if codes.shape[0] != len(block):
            raise ValueError(
                f"encode(observations) must return one row per observation ({len(block)}), "
                f"got shape {codes.shape}"
            )
        chunks.append(codes)
    return np.concatenate(chunks)


def encoded_sample(
    data: GroundTruthData,
    encode: Encoder,
    n: int,
    varying: np.ndarray,
    rng: np.random.Generator,
    chunk_size: int,
) -> Sample:
    """``n`` sampled points: their codes ``(n, D)`` and their classes of the ``varying`` factors."""
    factors = sample_factors(data, n, rng)
    return Sample(encode_factors(data, encode, factors, rng, chunk_size), factors[:, varying])


DRAW_BLOCK = 64
"""Points whose factors one ``data.sample_factors`` call draws in :func:`fixed_factor_statistics`;
fixed, so that the draws do not depend on ``chunk_size``."""


def fixed_factor_statistics(
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
    step = DRAW_BLOCK * max(1, chunk_size // (copies * batch_size * DRAW_BLOCK))
    results = []
    for start in range(0, num_points, step):
        points = labels[start : start + step]
        factors = np.concatenate(
            [
                sample_factors(data, copies * len(block) * batch_size, factor_rng).reshape(
                    copies, len(block), batch_size, k
                )
                for block in np.split(points, range(DRAW_BLOCK, len(points), DRAW_BLOCK))
            ],
            axis=1,
        )
        fixed = np.arange(k) == points[:, None, None]  # (M, 1, K), broadcast over copies and batch
        factors = np.where(fixed, np.take(factors, [0], axis=shared_axis), factors)
        codes = encode_factors(data, encode, factors.reshape(-1, k), observation_rng, chunk_size)
        results.append(statistic(codes.reshape(copies, len(points), batch_size, -1)))
    return np.concatenate(results), labels
