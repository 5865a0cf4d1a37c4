"""Argument checks shared across vaelib: each error names the argument and the value given."""
from __future__ import annotations

import math
import numbers
from typing import Any


def check_int(name: str, value: Any, minimum: int) -> int:
    """``value`` as an ``int >= minimum`` (``bool`` rejected); ``TypeError``/``ValueError`` otherwise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    return int(value)


def check_real(name: str, value: Any) -> float:
    """``value`` as a finite ``float`` (``bool`` rejected)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
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


def check_bool(name: str, value: Any) -> bool:
    """``value`` if it is ``True`` or ``False`` (not merely truthy)."""
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return value
