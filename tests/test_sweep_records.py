"""Run records and the cache: bookkeeping columns that parameters cannot clobber, records that
cannot crash the reader, the hash as the cache key, and one sweep at a time per directory."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from vaelib.cli import main
from vaelib.sweep import collect_results, notebook_hash, plan_runs, report, run_id, sweep
from vaelib.sweep.locking import lock_holder
from vaelib.sweep.records import BOOKKEEPING, run_hash

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures" / "notebooks"
ADD = FIXTURES / "add.ipynb"
TYPED = FIXTURES / "typed.ipynb"


def test_run_ids_are_byte_identical_to_those_of_existing_sweeps():
    # computed by the run_id of the sweeps already on disk: caches must keep matching
    assert run_id({"a": 1, "b": 0.5, "label": "x y"}, "0" * 64, ["a", "label"]) == \
        "a=1_label=x-y-b4c51775"
    assert run_id({"beta": 4, "seed": 0}, "f" * 64, ["seed", "beta"]) == "beta=4_seed=0-f859cfa5"
    assert run_hash("beta=4_seed=0-f859cfa5") == "f859cfa5"
    assert run_hash("run") is None and run_hash("x-1234567") is None


def test_a_parameter_named_like_a_bookkeeping_column_keeps_its_own_column(tmp_path, capsys):
    argv = ["sweep", str(TYPED), "-p", "status", "final", "--grid", "fail=false,true", "--grid",
            "steps=1,2", "--out", str(tmp_path), "--workers", "2", "--no-progress"]
    assert main(argv) == 1  # 2 of 4 runs failed: exit code 1, not 2
    out = capsys.readouterr().out
    assert out.startswith("4 runs: 2 completed, 0 skipped (cached), 2 failed: ")
    csv = pd.read_csv(tmp_path / "results.csv")
    assert csv.columns.is_unique
    assert list(csv.columns[:3]) == ["run_id", "status", "duration_s"]
    assert list(csv.columns[-6:]) == list(BOOKKEEPING[3:])
    assert sorted(csv["status"]) == ["completed", "completed", "failed", "failed"]
    assert (csv["parameters/status"] == "final").all()
    assert list(csv.loc[csv["status"] == "failed", "error"]) == ["ValueError", "ValueError"]
    assert (csv.loc[csv["status"] == "completed", "echo/status"] == "final").all()
    table = collect_results(tmp_path)
    assert table.attrs["parameters"] == ["parameters/status", "fail", "steps"]
    pd.testing.assert_frame_equal(table[["status", "parameters/status"]],
                                  csv[["status", "parameters/status"]])
    assert main(["report", str(tmp_path), "--y", "echo/steps"]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].split()[:5] == ["run_id", "status", "duration_s", "parameters/status", "fail"]
    assert report(tmp_path, save=False).get_axes()[0].get_xlabel() == "steps"
    # the failed runs are retried: still exit code 1 and one row per run
    assert main(argv) == 1
    assert capsys.readouterr().out.startswith("4 runs: 0 completed, 2 skipped (cached), 2 failed")
    assert len(pd.read_csv(tmp_path / "results.csv")) == 4


def _record(name: str, **fields) -> dict:
    record = {"run_id": name, "status": "completed", "notebook": "/x/demo.ipynb",
              "notebook_sha256": "f" * 64, "parameters": {"beta": 1, "seed": 0},
              "results": {"loss": 1.0}, "error": None, "started": "2026-01-01T00:00:00+00:00",
              "finished": "2026-01-01T00:00:01+00:00", "duration_s": 1.0, "timeout_s": None,
              "worker": "host:1"}
    return {**record, **fields}


@pytest.mark.parametrize(
    ("fields", "problem"),
    [({"parameters": None}, "its 'parameters' is None, not a mapping"),
     ({"parameters": [1]}, "its 'parameters' is [1], not a mapping"),
     ({"status": None}, "its 'status' is None, not a string"),
     ({"error": "boom"}, "its 'error' is 'boom', not null or a mapping")],
)
def test_records_that_would_crash_the_reader_are_skipped_naming_the_file(tmp_path, capsys, fields,
                                                                         problem):
    runs = tmp_path / "runs"
    runs.mkdir()
    for seed in (0, 1):
        name = f"beta=1_seed={seed}-0000000{seed}"
        (runs / f"{name}.json").write_text(json.dumps(_record(name, parameters={"beta": 1,
                                                                                 "seed": seed})))
    bad = runs / "beta=2_seed=0-0000000f.json"
    bad.write_text(json.dumps(_record(bad.stem, **fields)))
    with pytest.warns(UserWarning, match=re.escape(f"ignoring {bad}: {problem}")):
        table = collect_results(tmp_path)
    assert len(table) == 2
    with pytest.warns(UserWarning, match=re.escape(str(bad))):
        assert main(["report", str(tmp_path)]) == 0
    assert "beta=1_seed=1-00000001" in capsys.readouterr().out


def test_the_hash_is_the_cache_key_and_a_missing_notebook_is_no_cache_hit(tmp_path, capsys):
    first = sweep(ADD, {"a": 3}, None, tmp_path, progress=False)  # run id "run-<hash>"
    (name,) = first["run_id"]
    assert name.startswith("run-")
    stranger = tmp_path / "runs" / "other-0000abcd.json"  # a record put there by hand
    stranger.write_text(json.dumps(_record(stranger.stem, parameters={"a": 9},
                                           notebook_sha256=notebook_hash(ADD))))
    # --grid a=3 has the same hash under another readable name: cached, not duplicated
    assert main(["sweep", str(ADD), "--grid", "a=3,4", "--out", str(tmp_path),
                 "--no-progress"]) == 0
    assert capsys.readouterr().out.startswith("2 runs: 1 completed, 1 skipped (cached), 0 failed")
    csv = pd.read_csv(tmp_path / "results.csv")
    assert sorted(csv["run_id"]) == sorted([name, "other-0000abcd",
                                            plan_runs(ADD, grid={"a": [4]})[0].run_id])
    assert not list((tmp_path / "runs").glob("a=3-*"))
    # its executed notebook deleted, the run is executed again (under its existing name)
    notebook = tmp_path / "runs" / f"{name}.ipynb"
    started = json.loads(notebook.with_suffix(".json").read_text())["started"]
    notebook.unlink()
    again = sweep(ADD, None, {"a": [3]}, tmp_path, progress=False)
    assert again.attrs["summary"] == "1 run: 1 completed, 0 skipped (cached), 0 failed"
    assert list(again["run_id"]) == [name] and notebook.exists()
    assert json.loads(notebook.with_suffix(".json").read_text())["started"] >= started
    assert len(pd.read_csv(tmp_path / "results.csv")) == 3
    # a failed run retried under another readable name replaces its record
    failed = sweep(ADD, {"fail": True}, None, tmp_path, progress=False)
    retried = sweep(ADD, None, {"fail": [True]}, tmp_path, progress=False)
    assert list(retried["run_id"]) == list(failed["run_id"])
    assert len(pd.read_csv(tmp_path / "results.csv")) == 4


def test_two_records_of_one_run_are_warned_about(tmp_path):
    runs = tmp_path / "runs"
    runs.mkdir()
    (run,) = plan_runs(ADD, {"a": 3})
    for name in (run.run_id, f"a=3-{run_hash(run.run_id)}"):
        (runs / f"{name}.json").write_text(json.dumps(_record(
            name, parameters={"a": 3}, status="failed", notebook_sha256=run.notebook_sha256)))
    with pytest.warns(UserWarning, match="holds 2 records of one run"):
        table = sweep(ADD, {"a": 3}, None, tmp_path, progress=False)
    assert list(table["run_id"]) == [run.run_id] and table.loc[0, "status"] == "completed"
    assert not (runs / f"a=3-{run_hash(run.run_id)}.ipynb").exists()  # ran under its own name


@pytest.mark.slow
def test_a_second_sweep_into_the_same_directory_waits_and_runs_only_the_rest(tmp_path, capsys):
    first = subprocess.Popen(
        [sys.executable, "-m", "vaelib.cli", "sweep", str(ADD), "--grid", "a=1,2", "-p", "sleep",
         "3", "--out", str(tmp_path), "--no-progress"], cwd=ROOT, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while lock_holder(tmp_path) != first.pid:
            assert first.poll() is None and time.monotonic() < deadline, first.communicate()
            time.sleep(0.1)
        second = sweep(ADD, {"sleep": 3}, {"a": [1, 2, 3]}, tmp_path, progress=False)
        assert first.wait(timeout=120) == 0, first.communicate()
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    err = capsys.readouterr().err
    assert f"waiting for the sweep into {str(tmp_path)!r} of process {first.pid}" in err
    assert second.attrs["summary"] == "3 runs: 1 completed, 2 skipped (cached), 0 failed"
    csv = pd.read_csv(tmp_path / "results.csv")
    assert sorted(csv["a"]) == [1, 2, 3] and (csv["status"] == "completed").all()
    assert lock_holder(tmp_path) == os.getpid()
