"""`make demo` (vaelib.demo): every notebook executed once, one summary line each, failures counted."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from vaelib.demo import main, summary_line

FIXTURE = Path(__file__).parent / "fixtures" / "notebooks" / "add.ipynb"
NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def test_every_notebook_writes_its_own_summary() -> None:
    """demo.py knows no notebook: each one puts a ``summary`` dict in its results JSON."""
    for path in NOTEBOOKS.glob("*.ipynb"):
        source = "".join("".join(cell["source"]) for cell in json.loads(path.read_text())["cells"])
        assert '"summary": {' in source, path.name


def test_summary_line_shows_the_notebooks_summary_in_order_or_the_error() -> None:
    row = {"status": "completed", "duration_s": 83.6, "summary/test ELBO": -24.5612, "summary/IWAE k=100": -24.049,
           "summary/KL": 2.7301, "summary/holds": True, "summary/note": "text", "test_kl": 2.7301}
    assert summary_line("01_vae_basics", row, list(row)[2:]) == (
        "01_vae_basics                completed   84 s  test ELBO -24.56, IWAE k=100 -24.05, KL 2.73, holds True")
    big = {"status": "cached", "duration_s": 1.0, "summary/steps": 123456.0}
    assert summary_line("x", big, ["summary/steps"]).endswith("steps 123456")
    other = {"status": "completed", "duration_s": 2.0, "label": "x", "a": 1, "flag": True, "b": 2.5, "c": 3, "d": 4, "e": 5}
    results = ["label", "a", "flag", "b", "c", "d", "e"]
    assert summary_line("mine", other, results).endswith("2 s  a 1, b 2.5, c 3, d 4")  # no summary: the first four numbers
    failed = {"status": "failed", "duration_s": None, "error": "ValueError", "error_message": "asked to fail\nmore"}
    assert summary_line("mine", failed, []) == f"{'mine':<28} failed       - s  ValueError: asked to fail"


def test_demo_runs_every_notebook_caches_and_exits_1_on_failures(tmp_path, capsys) -> None:
    folder = tmp_path / "notebooks"
    folder.mkdir()
    shutil.copy(FIXTURE, folder / "a_add.ipynb")
    failing = json.loads(FIXTURE.read_text())
    for cell in failing["cells"]:
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            cell["source"] = "".join(cell["source"]).replace("fail = False", "fail = True")
    (folder / "b_fails.ipynb").write_text(json.dumps(failing))
    (folder / "c_fails.ipynb").write_text(json.dumps(failing))
    out = tmp_path / "demo"
    assert main(["--notebooks", str(folder), "--out", str(out)]) == 1  # 1 when any failed, not 2
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].startswith("a_add") and "completed" in lines[1] and "sum 3" in lines[1]
    assert lines[2].startswith("b_fails") and "failed" in lines[2] and "ValueError: asked to fail with a=1" in lines[2]
    assert lines[3].startswith("c_fails") and "failed" in lines[3]
    assert len(list((out / "a_add" / "runs").glob("*.ipynb"))) == 1 and (out / "b_fails" / "results.csv").exists()
    # the second demo reuses the completed notebook and retries the failed one
    assert main(["--notebooks", str(folder), "--out", str(out)]) == 1
    assert "cached" in capsys.readouterr().out.splitlines()[1]


def test_demo_without_notebooks_is_a_usage_error(tmp_path, capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--notebooks", str(tmp_path)])
    assert exit_info.value.code == 2
    assert f"no notebooks in {str(tmp_path)!r}" in capsys.readouterr().err
