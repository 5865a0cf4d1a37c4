"""Every argument check of vaelib: each error names the argument and the value given.

Predicates (:func:`is_integer`, :func:`is_real`) reject ``bool`` (a subclass of ``int``) and accept
numpy scalars; the ``check_*`` functions return the value converted to a plain Python type or raise
``TypeError`` (wrong kind of value) or ``ValueError`` (right kind, out of range).
"""
from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch


def is_integer(value: Any) -> bool:
    """Whether ``value`` is an integer (Python or numpy), ``bool`` excluded."""
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def is_real(value: Any) -> bool:
    """Whether ``value`` is a real number (Python or numpy int or float), ``bool`` excluded."""
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def check_int(name: str, value: Any, minimum: int) -> int:
    """``value`` as an ``int >= minimum``; ``TypeError``/``ValueError`` otherwise."""
    if not is_integer(value):
        raise TypeError(f"{name} must be an int, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    return int(value)


def positive_int(name: str, value: Any) -> int:
    """``value`` as an ``int >= 1`` (sizes and counts); the error says "a positive int"."""
    if not is_integer(value):
        raise TypeError(f"{name} must be a positive int, got {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return int(value)


def positive_int_tuple(name: str, value: Any, *, allow_empty: bool = False) -> tuple[int, ...]:
    """``value`` as a tuple of positive ints (a shape, layer widths); empty only if ``allow_empty``."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise TypeError(f"{name} must be a sequence of positive ints, got {value!r}")
    if not value and not allow_empty:
        raise ValueError(f"{name} must not be empty, got {value!r}")
    for item in value:
        if not is_integer(item):
            raise TypeError(f"{name} must be a sequence of positive ints, got {value!r}")
        if item < 1:
            raise ValueError(f"{name} must hold positive ints only, got {value!r}")
    return tuple(int(item) for item in value)


def check_real(name: str, value: Any) -> float:
    """``value`` as a finite ``float``."""
    if not is_real(value):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return value


def check_nonnegative(name: str, value: Any) -> float:
    """``value`` as a finite ``float >= 0``."""
    checked = check_real(name, value)
    if checked < 0:
        raise ValueError(f"{name} must be >= 0, got {value!r}")
    return checked


def check_positive(name: str, value: Any) -> float:
    """``value`` as a finite ``float > 0``."""
    checked = check_real(name, value)
    if checked <= 0:
        raise ValueError(f"{name} must be > 0, got {value!r}")
    return checked


def check_probability(name: str, value: Any, *, open_low: bool) -> float:
    """``value`` as a ``float`` in ``(0, 1]`` (``open_low``) or ``[0, 1]``."""
    if not is_real(value):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    low_ok = value > 0 if open_low else value >= 0
    if not (math.isfinite(value) and low_ok and value <= 1):
        raise ValueError(f"{name} must lie in {'(0, 1]' if open_low else '[0, 1]'}, got {value!r}")
    return float(value)


def check_bool(name: str, value: Any) -> bool:
    """``value`` if it is ``True`` or ``False`` (not merely truthy; numpy booleans become ``bool``)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def check_seed(seed: Any) -> int:
    """``seed`` as a non-negative ``int``."""
    if not is_integer(seed):
        raise TypeError(f"seed must be an int, got {seed!r}")
    if seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    return int(seed)


def check_generator(generator: Any) -> torch.Generator | None:
    """``generator`` if it is ``None`` or a :class:`torch.Generator`."""
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator or None, got {generator!r}")
    return generator


def as_array(name: str, value: Any) -> np.ndarray:
    """``value`` (a Tensor or an array-like of numbers) as a float64 NumPy array, any shape.

    Raises
    ------
    TypeError
        Naming ``name``, when ``value`` does not convert to numbers.
    """
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().double().numpy()
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{name} must be a torch.Tensor or an array of numbers, got {type(value).__name__}") from err


def check_matrix(
    name: str,
    value: np.ndarray | torch.Tensor,
    *,
    requirement: str,
    column_requirement: str | None = None,
    columns: int | None = None,
    min_columns: int = 1,
    min_rows: int = 1,
) -> np.ndarray | torch.Tensor:
    """``value`` (a numpy array or a tensor) if it is a finite 2-D ``(N, D)`` matrix, else ``ValueError``.

    ``D`` must equal ``columns`` when given, else be at least ``min_columns``; ``N`` at least
    ``min_rows``. A wrong shape is reported as ``"{name} must {requirement}, got shape ..."``
    (``column_requirement`` instead, when given, for a wrong number of columns), so each caller
    states its own contract (e.g. ``"have shape (N, 2)"``).
    """
    shape = tuple(value.shape)
    if len(shape) != 2:
        raise ValueError(f"{name} must {requirement}, got shape {shape}")
    if (columns is not None and shape[1] != columns) or shape[1] < min_columns:
        raise ValueError(f"{name} must {column_requirement or requirement}, got shape {shape}")
    if shape[0] < min_rows:
        raise ValueError(f"{name} must hold at least {min_rows} rows, got shape {shape}")
    finite = torch.isfinite(value) if isinstance(value, torch.Tensor) else np.isfinite(value)
    bad = int(finite.numel() - finite.sum()) if isinstance(finite, torch.Tensor) else int(finite.size - finite.sum())
    if bad:
        raise ValueError(f"{name} must be finite, got {bad} NaN or infinite entries")
    return value
