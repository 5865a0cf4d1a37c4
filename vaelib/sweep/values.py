"""Parameter values: text as Python values, the values of a grid, and their check against types.

Text is read with the rules of YAML 1.2's core schema, one value at a time (never a YAML
document: ``#`` starts no comment and ``1:20`` is no base-60 number):

============================================  ==========================================
text                                          value
============================================  ==========================================
``null``, ``Null``, ``NULL``, ``~``,          None
``none``, ``None``
``true``, ``false`` (any case)                True, False (``yes``/``no``/``on``/``off``
                                              stay strings)
``[-+]?[0-9]+`` (decimal: ``010`` is 10),     int
``0o17`` (octal), ``0x1F`` (hex)
``1.5``, ``.5``, ``1e-3``, ``-2E+5``,         float
``.inf``, ``-.inf``, ``.nan``
``'it''s'``, ``"a\\tb"``                      str (the quotes removed, escapes read)
``[1, 2]``, ``{a: 1, b: [x, y]}``             list, dict (flow collections, read by the
                                              same rules; keys are strings)
anything else (``#ff0000``, ``1:20``,         str, exactly as typed (surrounding spaces
``2020-01-01``, ``a #b``)                     dropped)
============================================  ==========================================

A notebook parameter declares its type in the parameters cell (an annotation,
``steps: int = 600``, else the type of its default's literal, see
:func:`~vaelib.sweep.notebook_parameters`). :func:`check_value` holds each value to that type
before anything runs; a ``str`` parameter takes the text as typed (:func:`parse_value` with
``kind="str"``: ``032`` stays ``"032"``).
"""
from __future__ import annotations

import json
import numbers
import re
from collections.abc import Mapping
from typing import Any

from vaelib.sweep.errors import SweepError

__all__ = ["check_value", "declared_kind", "notebook_value", "parse_value", "plain_value",
           "split_values"]

_NULL = frozenset({"null", "Null", "NULL", "~", "none", "None"})
_INT = re.compile(r"[-+]?[0-9]+")
_OCTAL = re.compile(r"0o[0-7]+")
_HEX = re.compile(r"0x[0-9a-fA-F]+")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_INF = re.compile(r"[-+]?\.(inf|Inf|INF)")
_NAN = re.compile(r"\.(nan|NaN|NAN)")
_OPENERS = "[{'\""

KINDS = {"int": "int", "float": "float", "bool": "bool", "str": "str", "list": "list",
         "List": "list", "tuple": "list", "Tuple": "list", "dict": "dict", "Dict": "dict"}
"""Declared type (its name, without ``typing.`` and subscripts) -> the values it takes; any
other type (``Optional[...]``, ``None``, an expression) takes any value."""

_HINTS = {
    "int": "write a whole number such as 3 (decimal; 0x1F and 0o17 for hex and octal)",
    "float": "write a number such as 0.5, 2, 1e-3, .inf or .nan",
    "bool": "write true or false (any case)",
    "str": "pass a str (on the command line, a str parameter takes the text as typed)",
    "list": "write a list such as [1, 2]",
    "dict": "write a mapping such as {a: 1}",
}


def _scalar(text: str) -> Any:
    """A plain (unquoted) scalar, already stripped, by the core schema's table."""
    if text in _NULL:
        return None
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    if _INT.fullmatch(text):
        return int(text, 10)
    if _OCTAL.fullmatch(text) or _HEX.fullmatch(text):
        return int(text[2:], 8 if text[1] == "o" else 16)
    if _FLOAT.fullmatch(text):
        return float(text)
    if _INF.fullmatch(text):
        return float("-inf") if text.startswith("-") else float("inf")
    if _NAN.fullmatch(text):
        return float("nan")
    return text


class _Reader:
    """A cursor over one value's text: quoted scalars and flow collections."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def fail(self, message: str) -> SweepError:
        return SweepError(f"cannot read the value {self.text!r}: {message} (at character "
                          f"{self.pos + 1}); quote text that should stay a string")

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def skip_spaces(self) -> None:
        while self.peek() in (" ", "\t"):
            self.pos += 1

    def node(self, stops: str) -> Any:
        """The value at the cursor, in a flow collection (a plain scalar ends at ``stops``)."""
        self.skip_spaces()
        char = self.peek()
        if char == "[":
            return self.sequence()
        if char == "{":
            return self.mapping()
        if char in ("'", '"'):
            return self.quoted()
        start = self.pos
        while self.peek() and self.peek() not in stops:
            self.pos += 1
        text = self.text[start:self.pos].strip()
        if not text:
            raise self.fail("empty entry")
        return _scalar(text)

    def sequence(self) -> list[Any]:
        self.pos += 1
        items: list[Any] = []
        self.skip_spaces()
        if self.peek() == "]":
            self.pos += 1
            return items
        while True:
            items.append(self.node(",]"))
            if self.separator("]"):
                return items

    def mapping(self) -> dict[str, Any]:
        self.pos += 1
        items: dict[str, Any] = {}
        self.skip_spaces()
        if self.peek() == "}":
            self.pos += 1
            return items
        while True:
            key = self.key()
            if key in items:
                raise self.fail(f"repeated key {key!r}")
            items[key] = self.node(",}")
            if self.separator("}"):
                return items

    def separator(self, closer: str) -> bool:
        """Past a ``,`` (False) or the collection's ``closer`` (True); anything else is an error."""
        self.skip_spaces()
        char = self.peek()
        self.pos += 1
        if char == closer:
            return True
        if char != ",":
            self.pos -= 1
            raise self.fail(f"expected ',' or {closer!r}" if char else f"missing {closer!r}")
        return False

    def key(self) -> str:
        """A mapping key and its ``:`` (``{a: 1}``, ``{"a b": 1}``); keys stay strings."""
        self.skip_spaces()
        if self.peek() in ("'", '"'):
            key = self.quoted()
            self.skip_spaces()
            if self.peek() != ":":
                raise self.fail("expected ':' after the key")
        else:
            if self.peek() in ("[", "{"):
                raise self.fail("a mapping key must be a string")
            start = self.pos
            while self.peek() and self.peek() not in ",}" and not (
                    self.peek() == ":" and self.text[self.pos + 1:self.pos + 2] in ("", " ", "\t",
                                                                                   ",", "}")):
                self.pos += 1
            key = self.text[start:self.pos].strip()
            if self.peek() != ":":
                raise self.fail(f"mapping entry {key!r} has no ': ' (a space follows the "
                                "colon: {a: 1})")
            if not key:
                raise self.fail("empty key")
        self.pos += 1
        return key

    def quoted(self) -> str:
        """A single-quoted (``''`` is a quote) or double-quoted (backslash escapes) scalar."""
        quote, start = self.peek(), self.pos
        self.pos += 1
        while True:
            char = self.peek()
            if not char:
                self.pos = start
                raise self.fail(f"unterminated {quote} quote")
            self.pos += 1
            if quote == '"' and char == "\\":
                self.pos += 1
            elif char == quote and quote == "'" and self.peek() == "'":
                self.pos += 1
            elif char == quote:
                break
        body = self.text[start + 1:self.pos - 1]
        if quote == "'":
            return body.replace("''", "'")
        try:
            return json.loads(f'"{body}"', strict=False)
        except ValueError:
            self.pos = start
            raise self.fail("unsupported escape in the double-quoted string (JSON's escapes "
                            "work: \\\\ \\\" \\n \\t \\uXXXX)") from None


def parse_value(text: str, kind: str | None = None) -> Any:
    """A command-line value as the Python value a notebook parameter should get.

    Parameters
    ----------
    text : str
        The value as typed, e.g. ``"20000"``, ``"1e-3"``, ``"fashion-mnist"``, ``"null"``,
        ``"true"``, ``"'007'"`` (quotes keep a string), ``"[1, 2]"``; read by the rules of
        this module's table (YAML 1.2's core schema, one value).
    kind : str, optional
        The declared type of the parameter (:func:`declared_kind` of it). ``"str"``: the
        text as typed (``"032"`` stays ``"032"``), without its quotes when it is one quoted
        string. Otherwise the text is read by the table, whatever the type.

    Returns
    -------
    None, bool, int, float, str, list or dict

    Raises
    ------
    TypeError
        If ``text`` is not a string.
    SweepError
        If ``text`` is empty (write ``null`` for None, ``''`` for the empty string), or a quoted
        string or flow collection in it is malformed (unbalanced, text after it).
    """
    if not isinstance(text, str):
        raise TypeError(f"value must be a str, got {text!r}")
    stripped = text.strip()
    if not stripped:
        raise SweepError(f"empty value {text!r}: write null for None or '' for an empty string")
    as_text = declared_kind(kind) == "str"
    if stripped[0] not in _OPENERS or (as_text and stripped[0] in "[{"):
        return stripped if as_text else _scalar(stripped)
    reader = _Reader(stripped)
    try:
        value = reader.node("")
        reader.skip_spaces()
        if reader.peek():
            raise reader.fail("unexpected text after the value")
    except SweepError:
        if as_text:  # not one quoted string: the text as typed
            return stripped
        raise
    return value


def split_values(text: str) -> list[str]:
    """The values of ``name=v1,v2,...``: ``text`` split on the commas outside brackets, braces
    and quotes (``[1,2],[3,4]`` -> ``["[1,2]", "[3,4]"]``), each stripped.

    Raises
    ------
    SweepError
        If a quoted string or collection in ``text`` is malformed.
    """
    reader = _Reader(text)
    items = []
    while True:
        start = reader.pos
        reader.skip_spaces()
        if reader.peek() and reader.peek() in _OPENERS:
            reader.node("")
            reader.skip_spaces()
            if reader.peek() not in ("", ","):
                raise reader.fail("expected ',' between values")
        while reader.peek() not in ("", ","):
            reader.pos += 1
        items.append(text[start:reader.pos].strip())
        if not reader.peek():
            return items
        reader.pos += 1


def declared_kind(type_name: str | None) -> str | None:
    """The values a declared type takes (a value of :data:`KINDS`), None for any value.

    ``"int"`` -> ``"int"``, ``"list[int]"``/``"List[int]"``/``"tuple"`` -> ``"list"``,
    ``"Optional[str]"``, ``"None"``, ``"expression"`` -> None.
    """
    match = re.fullmatch(r"\s*['\"]?(?:typing\.)?(\w+)(\[.*\])?['\"]?\s*", str(type_name or ""))
    if match is None:
        return None
    kind = KINDS.get(match.group(1))
    if match.group(2) and kind not in ("list", "dict"):
        return None
    return kind


def plain_value(name: str, value: Any) -> Any:
    """``value`` as plain JSON-able Python: numpy scalars and arrays as Python numbers and lists,
    tuples as lists (papermill would pass a tuple as its text).

    Raises
    ------
    SweepError
        If ``value`` (or an item of it) is none of None, bool, int, float, str, list, tuple,
        dict with str keys (or numpy equivalents).
    """
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return str(value)
    if type(value).__module__ == "numpy" and hasattr(value, "tolist"):
        return plain_value(name, value.tolist())  # numpy scalars (bool_ too) and arrays
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, (list, tuple)):
        return [plain_value(name, item) for item in value]
    if isinstance(value, Mapping):
        bad = [key for key in value if not isinstance(key, str)]
        if bad:
            raise SweepError(f"parameter {name}: mapping keys must be strings, got {bad[0]!r}")
        return {key: plain_value(name, item) for key, item in value.items()}
    raise SweepError(f"parameter {name} must be JSON-serialisable (None, bool, int, float, str, "
                     f"list, dict), got {value!r}")


def _fits(value: Any, kind: str | None) -> bool:
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    return {
        None: True,
        "int": number and isinstance(value, int),
        "float": number,
        "bool": isinstance(value, bool),
        "str": isinstance(value, str),
        "list": isinstance(value, list),
        "dict": isinstance(value, dict),
    }[kind]


def check_value(name: str, value: Any, type_name: str | None) -> Any:
    """``value`` (:func:`plain_value` of it) if it is a value of the declared ``type_name``.

    An int is a float parameter's value too (:func:`notebook_value` converts it); a float is
    never an int parameter's value (``3.0`` included), nor a string a bool's (``"no"``).

    Raises
    ------
    SweepError
        Naming the parameter, its declared type, the value and how to write one that fits.
    """
    value = plain_value(name, value)
    kind = declared_kind(type_name)
    if not _fits(value, kind):
        raise SweepError(f"parameter {name} is declared {type_name} in the notebook's parameters "
                         f"cell, got {value!r} ({type(value).__name__}): {_HINTS[kind]}")
    return value


def notebook_value(value: Any, type_name: str | None) -> Any:
    """The value the notebook gets for a checked ``value``: an int as a float for a float
    parameter (``2`` -> ``2.0``), anything else unchanged."""
    if declared_kind(type_name) == "float" and isinstance(value, int) and not isinstance(value,
                                                                                       bool):
        return float(value)
    return value
