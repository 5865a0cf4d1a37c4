"""Where readers open the notebooks: Colab (an "Open in Colab" link in the README and in each
notebook's first cell, and a guarded install cell), GitHub (nbconvert's HTML of every notebook has no
empty output, and each file stays small), papermill (typed parameters) and the results contract
(a ``summary`` in every notebook's results JSON)."""
from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from unittest import mock

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
IDS = [path.stem for path in NOTEBOOKS]
MAX_BYTES = 600 * 1024
REPOSITORY = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["urls"]["Repository"]
OWNER_NAME = REPOSITORY.removeprefix("https://github.com/")


def cells(notebook: Path) -> list[dict]:
    return json.loads(notebook.read_text())["cells"]


def source(cell: dict) -> str:
    return "".join(cell["source"])


def colab_link(notebook: Path) -> str:
    return f"https://colab.research.google.com/github/{OWNER_NAME}/blob/main/notebooks/{notebook.name}"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=IDS)
def test_colab_links_in_the_readme_and_the_first_cell(notebook):
    assert colab_link(notebook) in source(cells(notebook)[0])
    assert colab_link(notebook) in (ROOT / "README.md").read_text()


def install_cell(notebook: Path) -> str:
    code = [cell for cell in cells(notebook) if cell["cell_type"] == "code"]
    assert "find_spec(\"vaelib\")" in source(code[0]), "the first code cell must be the guarded install cell"
    return source(code[0])


def test_every_notebook_has_the_same_install_cell_pointing_at_the_repository():
    texts = {install_cell(notebook) for notebook in NOTEBOOKS}
    assert len(texts) == 1
    assert f'"{REPOSITORY}"' in texts.pop()


def run_install_cell(text: str, *, installed: bool, tmp_path: Path) -> list[list[str]]:
    """Execute the cell with vaelib present or absent; return the commands it would have run."""
    commands: list[list[str]] = []
    spec = object() if installed else None
    with mock.patch("importlib.util.find_spec", lambda name: spec if name == "vaelib" else None), \
         mock.patch("subprocess.run", lambda command, check: commands.append(command)), \
         mock.patch("os.chdir") as chdir, mock.patch.object(sys, "path", list(sys.path)):
        exec(compile(text, "install cell", "exec"), {"__name__": "notebook"})
        if not installed:
            chdir.assert_called_once()
            assert chdir.call_args.args[0].endswith("notebooks")
    return commands


def test_the_install_cell_does_nothing_where_vaelib_is_installed(tmp_path):
    assert run_install_cell(install_cell(NOTEBOOKS[0]), installed=True, tmp_path=tmp_path) == []


def test_the_install_cell_clones_and_installs_where_vaelib_is_missing(tmp_path):
    commands = run_install_cell(install_cell(NOTEBOOKS[0]), installed=False, tmp_path=tmp_path)
    assert commands[0][:2] == ["git", "clone"] and REPOSITORY in commands[0]
    assert commands[1][:4] == [sys.executable, "-m", "pip", "install"] and commands[1][-1].endswith("[notebooks]")


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=IDS)
def test_notebooks_stay_small(notebook):
    assert notebook.stat().st_size <= MAX_BYTES, f"{notebook.name}: {notebook.stat().st_size // 1024} KB"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=IDS)
def test_nbconvert_html_has_no_empty_output(notebook):
    """What GitHub shows: every code cell with outputs renders visible content (a widget's view,
    which nbconvert writes as an empty script tag, must be followed by a static figure)."""
    nbconvert = pytest.importorskip("nbconvert")
    from bs4 import BeautifulSoup

    html, _ = nbconvert.HTMLExporter().from_filename(str(notebook))
    soup = BeautifulSoup(html, "html.parser")
    empty = []
    for area in soup.select(".jp-OutputArea-output, .output_area .output_subarea"):
        visible = area.get_text(strip=True) or area.find(["img", "svg", "table", "pre"])
        if not visible:
            empty.append(str(area)[:160])
    assert empty == [], f"{notebook.name}: {len(empty)} empty outputs, e.g. {empty[0]}"
    widgets = [cell for cell in cells(notebook) if any("application/vnd.jupyter.widget-view+json" in output.get("data", {})
                                                      for output in cell.get("outputs", []))]
    for cell in widgets:
        index = cells(notebook).index(cell)
        following = [c for c in cells(notebook)[index + 1:] if c["cell_type"] == "code"][0]
        assert any("image/png" in output.get("data", {}) for output in following.get("outputs", [])), (
            f"{notebook.name}: the cell after an explorer must show its figure as a PNG")


PARAMETER = re.compile(r'^(?P<name>\w+): (?P<type>"?[\w\[\], ]+"?) = .+  # .+$')


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=IDS)
def test_parameters_are_typed_and_papermill_sees_the_types(notebook):
    papermill = pytest.importorskip("papermill")
    tagged = [cell for cell in cells(notebook) if "parameters" in cell.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1
    lines = [line for line in source(tagged[0]).splitlines() if line.strip()]
    assert all(PARAMETER.match(line) for line in lines), [line for line in lines if not PARAMETER.match(line)]
    inferred = papermill.inspect_notebook(str(notebook))
    assert len(inferred) == len(lines) and all(info["inferred_type_name"] != "None" for info in inferred.values())
    for name in ("seed", "device", "threads", "workers", "results_path"):
        assert name in inferred, f"{notebook.name} lacks the parameter {name}"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=IDS)
def test_results_json_carries_its_own_summary(notebook):
    text = "".join(source(cell) for cell in cells(notebook) if cell["cell_type"] == "code")
    assert re.search(r'results = \{\s*"summary":', text) or '{"summary":' in text


def test_vaelib_params_shows_the_annotated_types():
    out = subprocess.run([sys.executable, "-m", "vaelib.cli", "params", str(NOTEBOOKS[0])], capture_output=True,
                         text=True, check=True).stdout
    assert re.search(r"^results_path\s+Optional\[str\]\s+None", out, re.M)
    assert re.search(r"^max_iterations\s+int\s+1000", out, re.M)
