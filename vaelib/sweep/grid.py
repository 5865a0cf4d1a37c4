"""Grids: ``name=v1,v2,...`` as a list of values, and the runs of a grid (its cartesian product).

The values themselves are read by :mod:`vaelib.sweep.values` (:func:`parse_value` is importable
from here as before).
"""
from __future__ import annotations

import itertools
import json
from collections.abc import Mapping, Sequence
from typing import Any

from vaelib.sweep.errors import SweepError
from vaelib.sweep.values import parse_value, plain_value, split_values
from vaelib.validation import is_real

__all__ = ["expand_grid", "parse_grid", "parse_value"]  # parse_value: from vaelib.sweep.values


def parse_grid(spec: str, types: Mapping[str, str] | None = None) -> tuple[str, list[Any]]:
    """``"name=v1,v2,..."`` as ``(name, [v1, v2, ...])``, each value read by :func:`parse_value`.

    The values are separated by the commas outside brackets, braces and quotes, so
    ``"x=[1,2],[3,4]"`` gives ``("x", [[1, 2], [3, 4]])``.

    Parameters
    ----------
    spec : str
        The grid as typed after ``--grid``.
    types : mapping of str to str, optional
        Parameter name -> its declared type (the ``type`` of
        :func:`~vaelib.sweep.notebook_parameters`): the values of a ``str`` parameter are its
        texts as typed (``"v=032"`` gives ``["032"]``).

    Raises
    ------
    SweepError
        If ``spec`` has no ``=``, no name, an empty value, or a malformed quoted string or
        collection.
    """
    if not isinstance(spec, str) or "=" not in spec:
        raise SweepError(f"grid must look like name=v1,v2,..., got {spec!r}")
    name, _, values = spec.partition("=")
    name = name.strip()
    if not name.isidentifier():
        raise SweepError(f"grid {spec!r}: {name!r} is not a parameter name")
    texts = split_values(values)
    if any(not t for t in texts):
        raise SweepError(f"grid {spec!r} has an empty value (values are separated by commas)")
    kind = dict(types or {}).get(name)
    return name, [parse_value(t, kind) for t in texts]


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
        One dict per run, fixed parameters first then the swept ones in grid order, the values
        as plain Python (:func:`~vaelib.sweep.values.plain_value`: numpy numbers as Python
        numbers, tuples as lists). An empty grid gives one run with the fixed parameters.

    Raises
    ------
    SweepError
        If a name is not an identifier, a parameter is both fixed and swept, a grid entry has no
        values or repeats a value, or a value is not JSON-serialisable.
    """
    grid = dict(grid or {})
    fixed = {name: plain_value(_check_name(name, "parameter"), value)
             for name, value in dict(fixed or {}).items()}
    for name, values in grid.items():
        _check_name(name, "grid parameter")
        if name in fixed:
            raise SweepError(f"parameter {name} is both fixed (-p) and swept (--grid); pick one")
        if isinstance(values, (str, bytes, Mapping)) or not isinstance(values, Sequence):
            raise SweepError(f"grid values of {name} must be a list, got {values!r}")
        if not values:
            raise SweepError(f"grid parameter {name} has no values")
        grid[name] = values = [plain_value(name, value) for value in values]
        seen: dict[tuple, Any] = {}
        for value in values:
            key = _identity(value)
            if key in seen:
                raise SweepError(f"grid parameter {name} repeats the value {value!r}")
            seen[key] = value
    names = list(grid)
    return [{**fixed, **dict(zip(names, point))} for point in itertools.product(*grid.values())]
