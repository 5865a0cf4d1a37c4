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
OPTIONAL = ("lightning", "tensorboard")  # extras a block may need (vaelib[lightning], vaelib[tensorboard])
IMPORT = re.compile(r"^(?:import|from) (\w+)", re.M)


def test_readme_has_python_blocks():
    assert len(BLOCKS) >= 3
    assert any(output is not None for _, output in BLOCKS)


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_block_runs(index, tmp_path, monkeypatch):
    code, expected = BLOCKS[index]
    for module in set(IMPORT.findall(code)) & set(OPTIONAL):
        pytest.importorskip(module, reason=f"README block {index} needs the {module} extra")
    monkeypatch.chdir(tmp_path)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, f"README.md block {index}", "exec"), {"__name__": "readme"})
    if expected is not None:
        assert out.getvalue() == expected


ROOT = README.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def _load_figure_tool():
    import importlib.util

    spec = importlib.util.spec_from_file_location("readme_figures", ROOT / "tools" / "readme_figures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[path.stem for path in NOTEBOOKS])
def test_readme_shows_each_notebooks_own_figure(notebook):
    """docs/figures/<notebook>.png is the committed output of the notebook's cell tagged readme-figure,
    and the README's notebook tour embeds it (so the tour cannot drift from the notebooks)."""
    figure = ROOT / "docs" / "figures" / f"{notebook.stem}.png"
    assert figure.read_bytes() == _load_figure_tool().readme_figure(notebook), (
        f"{figure} is stale: run `make notebooks` (or `python tools/readme_figures.py`)")
    assert f"](docs/figures/{notebook.stem}.png)" in README.read_text()
    assert f"`notebooks/{notebook.name}`" in README.read_text()
