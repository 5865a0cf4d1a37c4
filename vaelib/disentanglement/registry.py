"""The one table of disentanglement metrics: each metric's name, sample sizes, result keys, and how
:func:`~vaelib.disentanglement.evaluate` runs it.

A :class:`Metric` names its :class:`SizeField` s (each with its published default and its
:data:`~vaelib.disentanglement.FAST_SIZES` value), the flat keys of the results it adds, the size
fields that say how many points of the shared training and test samples it takes, whether it
draws random numbers of its own, and ``run``, the function :func:`evaluate` calls with a
:class:`MetricCall`. :data:`SCORES`, the sizes and :func:`evaluate` all read this table.

The built-in metrics are :data:`BUILTIN`; their size fields are the fields of
:class:`~vaelib.disentanglement.EvaluationSizes`. A metric of one's own is one registration::

    import numpy as np
    from vaelib.disentanglement import evaluate, registry

    def mean_abs_code(call: registry.MetricCall) -> dict[str, float]:
        return {"mean_abs_code": float(np.abs(call.train.codes).mean())}

    registry.register(registry.Metric(
        "mean_abs_code", mean_abs_code, keys=("mean_abs_code",),
        sizes=(registry.SizeField("mean_abs_code", 10_000, 1_000, "Points for the mean |code|"),),
        train_size="mean_abs_code",
    ))
    evaluate(data, encode, scores=["mig", "mean_abs_code"], extra_sizes={"mean_abs_code": 5_000})

Its sizes are not fields of :class:`EvaluationSizes`: it takes them from its own size fields
(``fast`` under ``evaluate(fast=True)``, else ``default``), overridden by ``evaluate(extra_sizes=...)``.
:func:`registered` registers a metric for a ``with`` block only. A built-in metric is one more
entry of :data:`BUILTIN`.

Random streams: :func:`evaluate` spawns :func:`stream_count` generators from its ``random_state``;
:data:`TRAIN_STREAM` and :data:`TEST_STREAM` draw the shared samples, and a metric with
``own_stream=True`` gets, when it is registered, the lowest index not taken (BetaVAE 0, FactorVAE
1, DCI 4). Registering more metrics so leaves every other metric's random numbers as they were.
"""
from __future__ import annotations

import contextlib
import dataclasses
import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence

import numpy as np

from vaelib.disentanglement.beta_vae import beta_vae_score
from vaelib.disentanglement.dci import dci
from vaelib.disentanglement.factor_vae import factor_vae_score
from vaelib.disentanglement.mig import mig
from vaelib.disentanglement.sampling import Encoder, GroundTruthData, Sample
from vaelib.disentanglement.sap import sap
from vaelib.validation import check_int

__all__ = [
    "BUILTIN",
    "SCORES",
    "TEST_STREAM",
    "TRAIN_STREAM",
    "Metric",
    "MetricCall",
    "SizeField",
    "builtin",
    "get",
    "metrics",
    "names",
    "register",
    "registered",
    "size_fields",
    "stream_count",
    "stream_index",
    "unregister",
]

TRAIN_STREAM = 2
"""Index of the generator that draws the shared training sample."""

TEST_STREAM = 3
"""Index of the generator that draws the shared test sample."""


def _check_name(kind: str, name: object) -> None:
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"{kind} must be a Python identifier string, got {name!r}")


@dataclasses.dataclass(frozen=True)
class SizeField:
    """One sample size of a metric: a field of :class:`~vaelib.disentanglement.EvaluationSizes`
    for a built-in metric, a key of ``evaluate(extra_sizes=...)`` for another.

    Attributes
    ----------
    name
        Field name, a Python identifier (e.g. ``"dci_train"``).
    default, fast
        The published size and the notebook preset (:data:`~vaelib.disentanglement.FAST_SIZES`).
    doc
        What it counts, one line (the docstring of ``EvaluationSizes`` lists it).
    minimum
        Smallest valid value.
    """

    name: str
    default: int
    fast: int
    doc: str
    minimum: int = 1

    def __post_init__(self) -> None:
        _check_name("a size field's name", self.name)
        check_int(f"{self.name} minimum", self.minimum, 1)
        check_int(f"{self.name} default", self.default, self.minimum)
        check_int(f"{self.name} fast", self.fast, self.minimum)


@dataclasses.dataclass(frozen=True)
class MetricCall:
    """What :func:`~vaelib.disentanglement.evaluate` hands a metric's ``run``.

    Attributes
    ----------
    data, encode, chunk_size
        As given to ``evaluate``.
    sizes
        The metric's sample sizes, by size-field name.
    random_state
        The metric's own generator (``own_stream=True``), else ``None``.
    n_jobs
        Threads the metric may use, >= 1.
    train, test
        The first ``sizes[train_size]`` / ``sizes[test_size]`` points of the shared samples
        (``None`` where the metric has no such size field).
    """

    data: GroundTruthData
    encode: Encoder
    sizes: Mapping[str, int]
    random_state: np.random.Generator | None
    chunk_size: int
    n_jobs: int
    train: Sample | None
    test: Sample | None


@dataclasses.dataclass(frozen=True)
class Metric:
    """A registered metric.

    Attributes
    ----------
    name
        Its name in :data:`SCORES` and ``evaluate(scores=...)``.
    run
        ``MetricCall -> {key: value}``, with exactly the keys ``keys``.
    keys
        The flat result keys it adds to ``evaluate``'s dict, in order.
    sizes
        Its sample sizes (a field two metrics share, like ``batch_size``, is one equal
        :class:`SizeField` in both).
    train_size, test_size
        Names of the fields in ``sizes`` that count the shared training / test points it uses.
    own_stream
        Whether it gets a generator of its own (``MetricCall.random_state``).
    """

    name: str
    run: Callable[[MetricCall], Mapping[str, float]]
    keys: tuple[str, ...]
    sizes: tuple[SizeField, ...] = ()
    train_size: str | None = None
    test_size: str | None = None
    own_stream: bool = False

    def __post_init__(self) -> None:
        _check_name("a metric's name", self.name)
        if not callable(self.run):
            raise TypeError(f"run of metric {self.name!r} must be callable, got {self.run!r}")
        object.__setattr__(self, "keys", tuple(self.keys))
        object.__setattr__(self, "sizes", tuple(self.sizes))
        if not self.keys or len(set(self.keys)) < len(self.keys) or not all(isinstance(k, str) for k in self.keys):
            raise ValueError(f"keys of metric {self.name!r} must be distinct strings, got {self.keys!r}")
        if not all(isinstance(field, SizeField) for field in self.sizes):
            raise TypeError(f"sizes of metric {self.name!r} must be SizeFields, got {self.sizes!r}")
        fields = [field.name for field in self.sizes]
        if len(set(fields)) < len(fields):
            raise ValueError(f"size fields of metric {self.name!r} must be distinct, got {fields}")
        for role in ("train_size", "test_size"):
            if getattr(self, role) not in (None, *fields):
                raise ValueError(
                    f"{role} of metric {self.name!r} must be one of its size fields {fields} or None, "
                    f"got {getattr(self, role)!r}"
                )


_metrics: dict[str, Metric] = {}
_streams: dict[str, int] = {}
_builtin: set[str] = set()


def register(metric: Metric) -> Metric:
    """Add ``metric`` to the table (it then runs after those registered before it); returns it.

    ``ValueError`` if its name or one of its result keys is taken, or if it declares a size
    field of another metric differently.
    """
    if not isinstance(metric, Metric):
        raise TypeError(f"metric must be a Metric, got {metric!r}")
    if metric.name in _metrics:
        raise ValueError(f"a metric named {metric.name!r} is already registered")
    fields = {field.name: field for field in size_fields(_metrics.values())}
    for field in metric.sizes:
        if fields.get(field.name, field) != field:
            raise ValueError(
                f"size field {field.name!r} of metric {metric.name!r} differs from the registered "
                f"{fields[field.name]!r}"
            )
    taken = [key for key in metric.keys if any(key in other.keys for other in _metrics.values())]
    if taken:
        raise ValueError(f"result keys {taken} of metric {metric.name!r} are already registered")
    if metric.own_stream:
        used = {TRAIN_STREAM, TEST_STREAM, *_streams.values()}
        _streams[metric.name] = next(index for index in itertools.count() if index not in used)
    _metrics[metric.name] = metric
    return metric


def unregister(name: str) -> Metric:
    """Remove the metric registered as ``name`` (not a built-in one) and return it."""
    if name in _builtin:
        raise ValueError(f"the built-in metric {name!r} cannot be unregistered")
    get(name)
    _streams.pop(name, None)
    return _metrics.pop(name)


@contextlib.contextmanager
def registered(metric: Metric) -> Iterator[Metric]:
    """Register ``metric`` for the ``with`` block, unregister it after."""
    register(metric)
    try:
        yield metric
    finally:
        unregister(metric.name)


def get(name: str) -> Metric:
    """The metric registered as ``name``; ``ValueError`` naming the registered ones otherwise."""
    if name not in _metrics:
        raise ValueError(f"no metric named {name!r} is registered; registered: {names()}")
    return _metrics[name]


def metrics() -> tuple[Metric, ...]:
    """The registered metrics, in registration order (the order ``evaluate`` runs them in)."""
    return tuple(_metrics.values())


def names() -> tuple[str, ...]:
    """Names of the registered metrics, in registration order."""
    return tuple(_metrics)


def builtin() -> tuple[Metric, ...]:
    """The built-in metrics (those of :data:`BUILTIN`), in order."""
    return tuple(metric for metric in _metrics.values() if metric.name in _builtin)


def stream_index(name: str) -> int | None:
    """Index of the generator of metric ``name`` among ``evaluate``'s streams (``None``: none)."""
    get(name)
    return _streams.get(name)


def stream_count() -> int:
    """Generators ``evaluate`` spawns: one past the largest index in use."""
    return 1 + max(TRAIN_STREAM, TEST_STREAM, *_streams.values())


def size_fields(entries: Iterable[Metric]) -> tuple[SizeField, ...]:
    """The size fields of ``entries``, in order, each shared field once."""
    return tuple({field.name: field for metric in entries for field in metric.sizes}.values())


class MetricNames(Sequence[str]):
    """Live read-only view of the registered metric names, in registration order; compares
    equal to the tuple of them."""

    def __getitem__(self, index):  # type: ignore[override]
        return names()[index]

    def __len__(self) -> int:
        return len(_metrics)

    def __eq__(self, other: object) -> bool:
        return tuple(self) == tuple(other) if isinstance(other, (tuple, MetricNames)) else NotImplemented

    __hash__ = None  # type: ignore[assignment]  # the view changes with the registry

    def __repr__(self) -> str:
        return repr(names())


SCORES: Sequence[str] = MetricNames()
"""Names of the scores :func:`~vaelib.disentanglement.evaluate` can run: the registered metrics,
built-in ones first (``"beta_vae", "factor_vae", "mig", "sap", "dci"``)."""


# ----------------------------------------------------------------------------- built-in metrics


def _prefixed(prefix: str, scores: Mapping[str, float]) -> dict[str, float]:
    return {f"{prefix}_{key}": value for key, value in scores.items()}


def _keys(prefix: str, *keys: str) -> tuple[str, ...]:
    return tuple(f"{prefix}_{key}" for key in keys)


def _run_beta_vae(call: MetricCall) -> dict[str, float]:
    size = call.sizes
    return _prefixed("beta_vae", beta_vae_score(
        call.data, call.encode, batch_size=size["batch_size"], num_train=size["beta_vae_train"],
        num_eval=size["beta_vae_eval"], random_state=call.random_state, chunk_size=call.chunk_size,
    ))


def _run_factor_vae(call: MetricCall) -> dict[str, float]:
    size = call.sizes
    return _prefixed("factor_vae", factor_vae_score(
        call.data, call.encode, batch_size=size["batch_size"], num_train=size["factor_vae_train"],
        num_eval=size["factor_vae_eval"], num_variance_estimate=size["variance_estimate"],
        random_state=call.random_state, chunk_size=call.chunk_size,
    ))


def _run_mig(call: MetricCall) -> dict[str, float]:
    return {"mig": mig(*call.train)}


def _run_sap(call: MetricCall) -> dict[str, float]:
    return {"sap": sap(*call.train, *call.test)}


def _run_dci(call: MetricCall) -> dict[str, float]:
    return _prefixed("dci", dci(*call.train, *call.test, random_state=call.random_state, n_jobs=call.n_jobs))


_BATCH_SIZE = SizeField("batch_size", 64, 64, "Observations per BetaVAE pair set / FactorVAE vote", minimum=2)

BUILTIN: tuple[Metric, ...] = (
    Metric(
        "beta_vae", _run_beta_vae, _keys("beta_vae", "train_accuracy", "eval_accuracy"),
        sizes=(
            _BATCH_SIZE,
            SizeField("beta_vae_train", 10_000, 500, "BetaVAE training points", minimum=2),
            SizeField("beta_vae_eval", 5_000, 250, "BetaVAE evaluation points"),
        ),
        own_stream=True,
    ),
    Metric(
        "factor_vae", _run_factor_vae,
        _keys("factor_vae", "train_accuracy", "eval_accuracy", "num_active_dims"),
        sizes=(
            _BATCH_SIZE,
            SizeField("factor_vae_train", 10_000, 500, "FactorVAE training votes"),
            SizeField("factor_vae_eval", 5_000, 250, "FactorVAE evaluation votes"),
            SizeField("variance_estimate", 10_000, 1_000, "Points for FactorVAE's global variances", minimum=2),
        ),
        own_stream=True,
    ),
    Metric(
        "mig", _run_mig, ("mig",),
        sizes=(SizeField("mig", 10_000, 1_000, "Points for MIG"),),
        train_size="mig",
    ),
    Metric(
        "sap", _run_sap, ("sap",),
        sizes=(
            SizeField("sap_train", 10_000, 1_000, "SAP training points"),
            SizeField("sap_test", 5_000, 500, "SAP test points"),
        ),
        train_size="sap_train", test_size="sap_test",
    ),
    Metric(
        "dci", _run_dci,
        _keys("dci", "disentanglement", "completeness", "informativeness_train", "informativeness_test"),
        sizes=(
            SizeField("dci_train", 10_000, 500, "DCI training points"),
            SizeField("dci_test", 5_000, 250, "DCI test points"),
        ),
        train_size="dci_train", test_size="dci_test", own_stream=True,
    ),
)
"""The built-in metrics, in the order ``evaluate`` runs them."""

_builtin.update(register(metric).name for metric in BUILTIN)
