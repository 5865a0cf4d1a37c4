"""The README's Python code blocks run as written (each in a fresh namespace, in a temp folder),
and where the README quotes what a block prints, it prints exactly that."""
from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
# a python block, optionally followed by "prints" and a plain block with its expected output
BLOCK = re.compile(r"```python\n(?P<code>.*?)```\n(?:\nprints\n\n```\n(?P<output>.*?)```)?", re.S)
BLOCKS = [(m["code"], m["output"]) for m in BLOCK.finditer(README.read_text())]


def test_readme_has_python_blocks():
    assert len(BLOCKS) >= 3
    assert any(output is not None for _, output in BLOCKS)


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_block_runs(index, tmp_path, monkeypatch):
    code, expected = BLOCKS[index]
    monkeypatch.chdir(tmp_path)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, f"README.md block {index}", "exec"), {"__name__": "readme"})
    if expected is not None:
        assert out.getvalue() == expected
