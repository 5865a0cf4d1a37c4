"""Parameter values and grids: command-line values as Python values, and the runs of a grid."""
from __future__ import annotations

import itertools
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from vaelib.sweep.errors import SweepError
from vaelib.validation import is_real

__all__ = ["expand_grid", "parse_grid", "parse_value"]

_FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")
_YAML_TRUE_FALSE = re.compile(r"^(true|false)$", re.IGNORECASE)


def parse_value(text: str) -> Any:
    """A command-line value as the Python value a notebook parameter should get.

    Values are YAML scalars read with :func:`yaml.safe_load`, with the surprises of YAML 1.1
    removed and Python's spelling of None added: ``1e-3`` is a float (not the string ``"1e-3"``),
    ``none``/``None`` as well as ``null``/``~`` are None, only ``true``/``false`` are booleans
    (``yes``, ``no``, ``on``, ``off`` stay strings) and dates stay strings.

    Parameters
    ----------
    text : str
        The value as typed, e.g. ``"20000"``, ``"1e-3"``, ``"fashion-mnist"``, ``"null"``,
        ``"true"``, ``"'007'"`` (quotes keep a string), ``"[1, 2]"``.

    Returns
    -------
    None, bool, int, float, str, list or dict

    Raises
    ------
    TypeError
        If ``text`` is not a string.
    SweepError
        If ``text`` is empty (write ``null`` for None, ``''`` for the empty string).
    """
    import yaml

    if not isinstance(text, str):
        raise TypeError(f"value must be a str, got {text!r}")
    if not text.strip():
        raise SweepError(f"empty value {text!r}: write null for None or '' for an empty string")
    if text.strip() in ("none", "None"):
        return None
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    if isinstance(value, str) and _FLOAT.match(text.strip()):
        return float(value)
    if isinstance(value, bool) and not _YAML_TRUE_FALSE.match(text.strip()):
        return text
    if value is not None and not isinstance(value, (bool, int, float, str, list, dict)):
        return text  # dates, timestamps, sets: keep what was typed
    return value


def parse_grid(spec: str) -> tuple[str, list[Any]]:
    """``"name=v1,v2,..."`` as ``(name, [v1, v2, ...])``, each value read by :func:`parse_value`.

    Raises
    ------
    SweepError
        If ``spec`` has no ``=``, no name, an empty value or a repeated value.
    """
    if not isinstance(spec, str) or "=" not in spec:
        raise SweepError(f"grid must look like name=v1,v2,..., got {spec!r}")
    name, _, values = spec.partition("=")
    name = name.strip()
    if not name.isidentifier():
        raise SweepError(f"grid {spec!r}: {name!r} is not a parameter name")
    texts = values.split(",")
    if any(not t.strip() for t in texts):
        raise SweepError(f"grid {spec!r} has an empty value (values are separated by commas)")
    return name, [parse_value(t.strip()) for t in texts]


def _identity(value: Any) -> tuple:
    """A key under which equal parameter values (``1`` and ``1.0``, not ``True`` and ``1``) meet."""
    if isinstance(value, bool) or value is None:
        return ("const", value)
    if is_real(value):
        return ("number", float(value))
    return ("json", json.dumps(value, sort_keys=True, default=repr))


def _check_name(name: Any, what: str) -> str:
    if not isinstance(name, str) or not name.isidentifier():
        raise SweepError(f"{what} name must be a Python identifier, got {name!r}")
    return name


def _check_value(name: str, value: Any) -> Any:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        raise SweepError(f"parameter {name} must be JSON-serialisable, got {value!r}") from None
    return value


def expand_grid(
    grid: Mapping[str, Sequence[Any]] | None = None, fixed: Mapping[str, Any] | None = None
) -> list[dict[str, Any]]:
    """The cartesian product of a grid, each point merged with the fixed parameters.

    Parameters
    ----------
    grid : mapping of str to sequence, optional
        Swept parameter -> its values, e.g. ``{"beta": [1, 4], "seed": [0, 1, 2]}``. The last
        parameter varies fastest (so runs differing only by seed are adjacent).
    fixed : mapping of str to value, optional
        Parameters shared by every run.

    Returns
    -------
    list of dict
        One dict per run, fixed parameters first then the swept ones in grid order. An empty grid
        gives one run with the fixed parameters.

    Raises
    ------
    SweepError
        If a name is not an identifier, a parameter is both fixed and swept, a grid entry has no
        values or repeats a value, or a value is not JSON-serialisable.
    """
    grid = dict(grid or {})
    fixed = dict(fixed or {})
    for name, value in fixed.items():
        _check_value(_check_name(name, "parameter"), value)
    for name, values in grid.items():
        _check_name(name, "grid parameter")
        if name in fixed:
            raise SweepError(f"parameter {name} is both fixed (-p) and swept (--grid); pick one")
        if isinstance(values, (str, bytes, Mapping)) or not isinstance(values, Sequence):
            raise SweepError(f"grid values of {name} must be a list, got {values!r}")
        if not values:
            raise SweepError(f"grid parameter {name} has no values")
        seen: dict[tuple, Any] = {}
        for value in values:
            _check_value(name, value)
            key = _identity(value)
            if key in seen:
                raise SweepError(f"grid parameter {name} repeats the value {value!r}")
            seen[key] = value
    names = list(grid)
    return [{**fixed, **dict(zip(names, point))} for point in itertools.product(*grid.values())]
