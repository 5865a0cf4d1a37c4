"""All the scores together: :func:`evaluate`, and the sample sizes it runs them at
(:class:`EvaluationSizes`, :data:`DEFAULT_SIZES`, :data:`FAST_SIZES`), built from the registry."""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from vaelib.disentanglement.registry import (
    SCORES,
    TEST_STREAM,
    TRAIN_STREAM,
    Metric,
    MetricCall,
    SizeField,
    builtin,
    metrics,
    names,
    size_fields,
    stream_count,
    stream_index,
)
from vaelib.disentanglement.sampling import (
    Encoder,
    GroundTruthData,
    Sample,
    check_callable,
    check_n_jobs,
    encoded_sample,
    varying_factors,
)
from vaelib.rng import RandomState, numpy_generator
from vaelib.validation import check_int

__all__ = ["DEFAULT_SIZES", "FAST_SIZES", "EvaluationSizes", "evaluate"]

_FIELDS: tuple[SizeField, ...] = size_fields(builtin())
_FIELD_NAMES = frozenset(field.name for field in _FIELDS)


def _check_sizes(self: Any) -> None:
    for field in _FIELDS:
        check_int(field.name, getattr(self, field.name), field.minimum)


EvaluationSizes = dataclasses.make_dataclass(
    "EvaluationSizes",
    [(field.name, int, dataclasses.field(default=field.default)) for field in _FIELDS],
    frozen=True,
    namespace={"__post_init__": _check_sizes, "__module__": __name__},
)
EvaluationSizes.__doc__ = (
    """Sample sizes of the built-in scores, used by :func:`evaluate`: one field per size field
    of :data:`vaelib.disentanglement.registry.BUILTIN` (a frozen dataclass; change one with
    :func:`dataclasses.replace`).

    The defaults (:data:`DEFAULT_SIZES`) are disentanglement_lib's published configs, DCI
    included (10,000 / 5,000 points; its classifiers run in parallel, see
    :func:`~vaelib.disentanglement.dci`). They encode about 2.9 million observations (BetaVAE
    1.92 M, FactorVAE 0.97 M). :data:`FAST_SIZES`, the preset for notebooks, encodes about
    147,000.

    Attributes
    ----------
"""
    + "".join(
        f"    {field.name}\n        {field.doc} (default {field.default:,}; FAST_SIZES {field.fast:,}).\n"
        for field in _FIELDS
    )
)

DEFAULT_SIZES = EvaluationSizes()
"""disentanglement_lib's published sample sizes (DCI 10,000 / 5,000; see :class:`EvaluationSizes`)."""

FAST_SIZES = EvaluationSizes(**{field.name: field.fast for field in _FIELDS})
"""Notebook preset: BetaVAE and FactorVAE 500 / 250 points (batch size 64), FactorVAE variances,
MIG and SAP 1,000 (SAP test 500), DCI 500 / 250: about 147,000 encoded observations. DCI stays
well below the published 10,000 / 5,000 of :data:`DEFAULT_SIZES` here: its boosted trees cost in
proportion to the training points times the factor classes (minutes for dSprites at 10,000)."""


def _metric_sizes(
    metric: Metric, sizes: Any, fast: bool, extra_sizes: Mapping[str, int]
) -> dict[str, int]:
    """The sizes of ``metric``: fields of ``sizes`` (an :class:`EvaluationSizes`), else
    ``extra_sizes``, else the field's own fast or default value; checked."""
    values = {}
    for field in metric.sizes:
        if field.name in _FIELD_NAMES:
            value = getattr(sizes, field.name)
        else:
            value = extra_sizes.get(field.name, field.fast if fast else field.default)
        values[field.name] = check_int(field.name, value, field.minimum)
    return values


def _check_extra_sizes(extra_sizes: Any) -> dict[str, int]:
    if extra_sizes is None:
        return {}
    if not isinstance(extra_sizes, Mapping):
        raise TypeError(f"extra_sizes must be a mapping of size-field names to ints, got {extra_sizes!r}")
    fields = size_fields(metrics())
    known = [field.name for field in fields if field.name not in _FIELD_NAMES]
    unknown = [name for name in extra_sizes if name not in known]
    if unknown:
        raise ValueError(
            f"extra_sizes keys must be size fields of registered metrics outside EvaluationSizes "
            f"{known} (give the others in sizes), got {unknown}"
        )
    return dict(extra_sizes)


def evaluate(
    data: GroundTruthData,
    encode: Encoder,
    *,
    fast: bool = False,
    sizes: EvaluationSizes | None = None,
    scores: Sequence[str] | str = SCORES,
    random_state: RandomState = 0,
    chunk_size: int = 1024,
    n_jobs: int | None = None,
    extra_sizes: Mapping[str, int] | None = None,
) -> dict[str, float]:
    """Disentanglement scores of a representation on ground-truth data, every registered metric
    by default (the five built-in ones: BetaVAE, FactorVAE, MIG, SAP, DCI).

    The metrics run in registration order. MIG, SAP and DCI (and any metric with a
    ``train_size`` / ``test_size``) share one training sample and one test sample of points,
    sized for the largest of those selected and encoded just before the first metric that
    uses them; each takes prefixes of them, so the encoder runs once per point. Factors with a
    single class are dropped. BetaVAE, FactorVAE, the shared samples and DCI's trees draw from
    independent streams spawned from ``random_state`` (see
    :mod:`vaelib.disentanglement.registry`), the same whichever scores are selected.

    Parameters
    ----------
    data, encode, chunk_size
        As in :func:`~vaelib.disentanglement.beta_vae_score`.
    fast
        Use :data:`FAST_SIZES` (about 20 times fewer encoded observations; for notebooks)
        instead of :data:`DEFAULT_SIZES` (disentanglement_lib's).
    sizes
        Explicit sample sizes, overriding both presets (then ``fast`` must be False).
    scores
        Which scores to run, names from :data:`SCORES`. DCI dominates the time for factors
        with many classes (dSprites: about 30 s even at :data:`FAST_SIZES`, minutes at the
        published sizes); leave it out when that matters.
    random_state
        int seed, :class:`numpy.random.Generator` or :class:`numpy.random.RandomState`.
    n_jobs
        Threads a metric may use (DCI's classifiers): a positive int, or ``None`` for
        the threads this process was given (:func:`vaelib.threads.available_threads`). The
        scores do not depend on it.
    extra_sizes
        Sample sizes of metrics registered outside the package, by size-field name; a field
        not given takes the field's own ``fast`` (under ``fast=True``) or ``default`` value.

    Returns
    -------
    dict
        Flat, JSON-ready, for the selected scores, each metric's keys in order:
        ``beta_vae_train_accuracy``, ``beta_vae_eval_accuracy``, ``factor_vae_train_accuracy``,
        ``factor_vae_eval_accuracy``, ``factor_vae_num_active_dims``, ``mig``, ``sap``,
        ``dci_disentanglement``, ``dci_completeness``, ``dci_informativeness_train``,
        ``dci_informativeness_test``, then those of registered metrics.
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
        raise ValueError(f"scores must be a non-empty selection from {names()}, got {scores!r}")
    varying = varying_factors(data)
    check_callable(encode)
    chunk_size = check_int("chunk_size", chunk_size, 1)
    n_jobs = check_n_jobs(n_jobs)
    extra = _check_extra_sizes(extra_sizes)
    chosen = [metric for metric in metrics() if metric.name in selected]
    metric_sizes = {metric.name: _metric_sizes(metric, sizes, fast, extra) for metric in chosen}
    streams = numpy_generator(random_state).spawn(stream_count())

    def shared(role: str, stream: int) -> Sample | None:
        """The shared sample of ``role`` (train or test size field), as large as any chosen metric needs."""
        needs = [metric_sizes[m.name][getattr(m, role)] for m in chosen if getattr(m, role)]
        return encoded_sample(data, encode, max(needs), varying, streams[stream], chunk_size) if needs else None

    samples: tuple[Sample | None, Sample | None] | None = None
    results: dict[str, float] = {}
    for metric in chosen:
        own = metric_sizes[metric.name]
        if samples is None and (metric.train_size or metric.test_size):
            samples = (shared("train_size", TRAIN_STREAM), shared("test_size", TEST_STREAM))
        index = stream_index(metric.name)
        call = MetricCall(
            data=data,
            encode=encode,
            sizes=own,
            random_state=None if index is None else streams[index],
            chunk_size=chunk_size,
            n_jobs=n_jobs,
            train=samples[0].head(own[metric.train_size]) if metric.train_size else None,
            test=samples[1].head(own[metric.test_size]) if metric.test_size else None,
        )
        values = metric.run(call)
        if set(values) != set(metric.keys):
            raise RuntimeError(
                f"metric {metric.name!r} returned keys {sorted(values)}, registered {list(metric.keys)}"
            )
        results.update((key, values[key]) for key in metric.keys)
    return results
