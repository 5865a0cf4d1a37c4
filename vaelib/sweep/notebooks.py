"""Notebook inspection: reading a notebook, the hash of its code, the parameters it declares."""
from __future__ import annotations

import ast
import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from vaelib.sweep.errors import SweepError

if TYPE_CHECKING:  # nbformat and papermill take seconds to import: only runs need them
    from nbformat import NotebookNode

__all__ = ["notebook_hash", "notebook_parameters", "read_notebook"]


def read_notebook(notebook: str | os.PathLike) -> NotebookNode:
    """The notebook at ``notebook`` (nbformat 4).

    Raises
    ------
    FileNotFoundError
        If there is no file at ``notebook``.
    SweepError
        If the file is not a notebook nbformat can read.
    """
    import nbformat

    path = Path(notebook)
    if not path.is_file():
        raise FileNotFoundError(f"notebook not found: {str(notebook)!r}")
    try:
        return nbformat.read(path, as_version=4)
    except Exception as exc:  # nbformat raises several types for a file that is no notebook
        raise SweepError(f"{str(notebook)!r} is not a readable notebook: {exc}") from None


def notebook_hash(notebook: str | os.PathLike | NotebookNode) -> str:
    """SHA-256 (hex) of a notebook's code: the source of its code cells, in order.

    Outputs, execution counts, metadata and markdown are left out, so executing a notebook in
    place (or editing its prose) keeps the hash, and with it the run ids and the sweep cache.
    """
    nb = notebook if isinstance(notebook, Mapping) else read_notebook(notebook)
    sources = [cell.source for cell in nb.cells if cell.cell_type == "code"]
    return hashlib.sha256(json.dumps(sources).encode()).hexdigest()


def _literal_type(default: str) -> str:
    try:
        return type(ast.literal_eval(default)).__name__.replace("NoneType", "None")
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return "expression"


def notebook_parameters(notebook: str | os.PathLike) -> dict[str, dict[str, str]]:
    """The parameters of a notebook's cell tagged ``parameters``, in order.

    Returns
    -------
    dict
        name -> ``{"name", "type", "default", "help"}`` (all strings): the type is the annotation
        when there is one, else the type of the default's literal value; the default is the source
        text; the help is the line's comment.

    Raises
    ------
    FileNotFoundError
        If the notebook does not exist.
    """
    import papermill

    read_notebook(notebook)
    found = papermill.inspect_notebook(str(notebook))
    table = {}
    for name, info in found.items():
        inferred = info.get("inferred_type_name") or "None"
        default = str(info.get("default"))
        kind = inferred if inferred != "None" else _literal_type(default)
        table[name] = {"name": name, "type": kind, "default": default, "help": info.get("help", "")}
    return table
