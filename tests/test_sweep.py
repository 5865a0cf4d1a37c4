"""vaelib.sweep: grids, value parsing, run ids, the run cache, results.csv, parallel workers.

The fixture notebook tests/fixtures/notebooks/add.ipynb adds ``a + b`` and can sleep or fail on
request; every executed run costs about a second of kernel start-up.
"""
from __future__ import annotations

import json
import math
import os
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vaelib.sweep import (
    SweepError,
    collect_results,
    execute_run,
    expand_grid,
    notebook_hash,
    parse_grid,
    parse_value,
    plan_runs,
    run_id,
    sweep,
)

ADD = Path(__file__).parent / "fixtures" / "notebooks" / "add.ipynb"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("20000", 20000),
        ("-3", -3),
        ("1e-3", 1e-3),
        ("1E5", 1e5),
        ("2.5", 2.5),
        (".5", 0.5),
        ("fashion-mnist", "fashion-mnist"),
        ("none", None),
        ("null", None),
        ("~", None),
        ("true", True),
        ("False", False),
        ("yes", "yes"),
        ("off", "off"),
        ("'007'", "007"),
        ('"1e-3"', "1e-3"),
        ("2020-01-01", "2020-01-01"),
        ("[1, 2]", [1, 2]),
        ("nan", "nan"),
    ],
)
def test_parse_value(text, expected):
    value = parse_value(text)
    assert value == expected and type(value) is type(expected)


@pytest.mark.parametrize("text", ["", "  "])
def test_parse_value_rejects_empty_text(text):
    with pytest.raises(SweepError, match="empty value"):
        parse_value(text)


def test_parse_grid():
    assert parse_grid("beta=1,4,1e-3,x") == ("beta", [1, 4, 1e-3, "x"])
    for spec, message in [("beta", "name=v1"), ("=1,2", "not a parameter name"),
                          ("beta=1,,2", "empty value"), ("beta=", "empty value")]:
        with pytest.raises(SweepError, match=message):
            parse_grid(spec)


def test_expand_grid_is_the_cartesian_product_last_name_fastest():
    runs = expand_grid({"beta": [1, 4], "seed": [0, 1, 2]}, {"steps": 10})
    assert runs == [
        {"steps": 10, "beta": b, "seed": s} for b in (1, 4) for s in (0, 1, 2)
    ]
    assert list(runs[0]) == ["steps", "beta", "seed"]
    assert expand_grid({}, {"a": 1}) == [{"a": 1}]
    assert expand_grid() == [{}]


@pytest.mark.parametrize(
    ("grid", "fixed", "message"),
    [
        ({"a": [1, 2, 1]}, None, "repeats the value 1"),
        ({"a": [1, 1.0]}, None, "repeats the value 1.0"),
        ({"a": []}, None, "no values"),
        ({"a": "12"}, None, "must be a list"),
        ({"a": [1, 2]}, {"a": 3}, "both fixed"),
        ({"a-b": [1]}, None, "identifier"),
        ({"a": [object()]}, None, "JSON-serialisable"),
    ],
)
def test_expand_grid_rejects_bad_grids(grid, fixed, message):
    with pytest.raises(SweepError, match=message):
        expand_grid(grid, fixed)


def test_expand_grid_keeps_true_and_one_apart():
    assert len(expand_grid({"a": [True, 1]})) == 2


names = st.lists(st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True), min_size=0, max_size=4,
                 unique=True)


@settings(max_examples=60, deadline=None)
@given(names.flatmap(lambda ns: st.tuples(
    st.just(ns),
    st.lists(st.lists(st.integers(-50, 50), min_size=1, max_size=4, unique=True),
             min_size=len(ns), max_size=len(ns)),
)))
def test_expand_grid_property(case):
    keys, value_lists = case
    grid = dict(zip(keys, value_lists))
    runs = expand_grid(grid)
    assert len(runs) == math.prod(len(v) for v in value_lists)
    combos = {tuple(run[k] for k in keys) for run in runs}
    assert len(combos) == len(runs)
    assert all(run[k] in grid[k] for run in runs for k in keys)


def _copy_notebook(tmp_path: Path, edit=None) -> Path:
    nb = nbformat.read(ADD, as_version=4)
    if edit is not None:
        edit(nb)
    path = tmp_path / f"nb{len(list(tmp_path.glob('*.ipynb')))}.ipynb"
    nbformat.write(nb, path)
    return path


def test_run_ids_are_stable_and_follow_code_not_outputs(tmp_path):
    digest = notebook_hash(ADD)
    first = run_id({"a": 1, "seed": 2, "label": "x y"}, digest, ["seed", "a"])
    assert first == run_id({"label": "x y", "seed": 2, "a": 1}, digest, ["a", "seed"])
    assert first.startswith("a=1_seed=2-") and len(first.rsplit("-", 1)[1]) == 8
    assert first != run_id({"a": 1, "seed": 3, "label": "x y"}, digest, ["seed", "a"])
    assert first != run_id({"a": 1, "seed": 2, "label": "x z"}, digest, ["seed", "a"])
    assert run_id({"a": 1}, digest).startswith("run-")
    assert run_id({"a": -1}, digest, ["a"]).startswith("a=-1-")
    assert run_id({"lr": 1e-3, "data": "fashion mnist/x"}, digest, ["lr", "data"]).startswith(
        "data=fashion-mnist-x_lr=0.001-")

    def with_outputs(nb):
        for cell in nb.cells:
            if cell.cell_type == "code":
                cell.execution_count = 7
                cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="hi\n")]
        nb.cells[0].source += "\nMore prose."

    def with_new_code(nb):
        nb.cells[2].source += "\nresults['extra'] = 1"

    executed, edited = _copy_notebook(tmp_path, with_outputs), _copy_notebook(tmp_path,
                                                                              with_new_code)
    assert notebook_hash(executed) == digest != notebook_hash(edited)
    grid = {"a": [1, 2]}
    ids = [r.run_id for r in plan_runs(ADD, {"b": 0.5}, grid)]
    assert [r.run_id for r in plan_runs(executed, {"b": 0.5}, grid)] == ids
    assert not set(r.run_id for r in plan_runs(edited, {"b": 0.5}, grid)) & set(ids)


def test_plan_rejects_unknown_parameters_before_running(tmp_path):
    with pytest.raises(SweepError) as error:
        plan_runs(ADD, {"bogus": 1}, {"a": [1, 2]})
    assert "bogus" in str(error.value) and "seed, device, results_path, a, b" in str(error.value)
    with pytest.raises(SweepError, match="results_path is set by the sweep runner"):
        plan_runs(ADD, {"results_path": "x.json"})
    with pytest.raises(FileNotFoundError, match="missing.ipynb"):
        plan_runs(tmp_path / "missing.ipynb")
    with pytest.raises(SweepError, match="workers must be an int >= 1"):
        sweep(ADD, out=tmp_path / "out", workers=0)
    assert not (tmp_path / "out").exists()


def test_execute_run_is_pure_and_reports_failures():
    run = plan_runs(ADD, {"fail": True, "a": 5})[0]
    fixtures = sorted(p.name for p in ADD.parent.iterdir())
    record, notebook = execute_run(run)
    assert record["status"] == "failed" and record["results"] is None
    assert record["error"] == {"ename": "ValueError", "evalue": "asked to fail with a=5"}
    assert b"asked to fail with a=5" in notebook
    assert record["worker"].endswith(f":{os.getpid()}")
    assert sorted(p.name for p in ADD.parent.iterdir()) == fixtures  # nothing written there


@pytest.fixture(scope="module")
def completed(tmp_path_factory):
    """A finished 4-run sweep (a = 1, 2 by seed = 0, 1) on two workers."""
    out = tmp_path_factory.mktemp("sweep")
    table = sweep(ADD, {"label": "run"}, {"a": [1, 2], "seed": [0, 1]}, out, workers=2,
                  progress=False)
    return out, table


def test_results_csv_contents(completed):
    out, table = completed
    csv = pd.read_csv(out / "results.csv")
    assert list(csv.columns) == [
        "run_id", "status", "duration_s", "label", "a", "seed", "sum", "results/seed",
        "results/label", "metrics/product", "history", "error", "error_message", "worker",
        "started", "finished", "notebook_sha256",
    ]
    expected = pd.DataFrame({
        "status": ["completed"] * 4,
        "label": ["run"] * 4,
        "a": [1, 1, 2, 2],
        "seed": [0, 1, 0, 1],
        "sum": [3.0, 3.0, 4.0, 4.0],
        "results/seed": [0, 1, 0, 1],
        "results/label": ["run"] * 4,
        "metrics/product": [2.0, 2.0, 4.0, 4.0],
        "history": ["[1, 2.0]", "[1, 2.0]", "[2, 2.0]", "[2, 2.0]"],
    })
    pd.testing.assert_frame_equal(csv[expected.columns], expected)
    assert csv["error"].isna().all() and csv["error_message"].isna().all()
    assert (csv["duration_s"] > 0).all()
    assert csv["worker"].str.fullmatch(r".+:\d+").all()
    assert (csv["notebook_sha256"] == notebook_hash(ADD)).all()
    assert list(csv["run_id"]) == [
        f"a={a}_seed={s}-{r.run_id.rsplit('-', 1)[1]}"
        for (a, s), r in zip([(1, 0), (1, 1), (2, 0), (2, 1)],
                             plan_runs(ADD, {"label": "run"}, {"a": [1, 2], "seed": [0, 1]}))
    ]
    pd.testing.assert_frame_equal(collect_results(out)[expected.columns], expected)
    assert list(table["run_id"]) == list(csv["run_id"])
    assert table.attrs["summary"] == "4 runs: 4 completed, 0 skipped (cached), 0 failed"
    for run in csv["run_id"]:
        record = json.loads((out / "runs" / f"{run}.json").read_text())
        assert record["status"] == "completed" and record["error"] is None
        assert set(record) >= {"parameters", "notebook_sha256", "duration_s", "started",
                               "finished", "results", "worker"}
        assert nbformat.read(out / "runs" / f"{run}.ipynb", as_version=4).cells


def test_resume_skips_completed_runs_and_force_reruns(completed):
    out, _ = completed
    files = sorted((out / "runs").iterdir())
    mtimes = [f.stat().st_mtime_ns for f in files]
    again = sweep(ADD, {"label": "run"}, {"a": [1, 2], "seed": [0, 1]}, out, progress=False)
    assert again.attrs["summary"] == "4 runs: 0 completed, 4 skipped (cached), 0 failed"
    assert len(again.attrs["cached"]) == 4
    assert [f.stat().st_mtime_ns for f in files] == mtimes
    # a superset of the grid only runs what is new
    more = sweep(ADD, {"label": "run"}, {"a": [1, 2], "seed": [0, 1, 2]}, out, workers=2,
                 progress=False)
    assert more.attrs["summary"] == "6 runs: 2 completed, 4 skipped (cached), 0 failed"
    assert [f.stat().st_mtime_ns for f in files] == mtimes
    assert len(pd.read_csv(out / "results.csv")) == 6
    forced = sweep(ADD, {"label": "run"}, {"a": [1], "seed": [0]}, out, force=True,
                   progress=False)
    assert forced.attrs["summary"] == "1 run: 1 completed, 0 skipped (cached), 0 failed"
    changed = [f.name for f, m in zip(files, mtimes) if f.stat().st_mtime_ns != m]
    assert len(changed) == 2 and all(name.startswith("a=1_seed=0-") for name in changed)


def test_timeout_is_a_recorded_failure(tmp_path):
    table = sweep(ADD, {"sleep": 30.0}, None, tmp_path, timeout=1, progress=False)
    assert table.loc[0, "status"] == "failed"
    assert table.loc[0, "error"] == "CellTimeoutError"
    assert "timed out" in table.loc[0, "error_message"]
    assert table.loc[0, "duration_s"] < 20
    assert (tmp_path / "runs" / f"{table.loc[0, 'run_id']}.ipynb").exists()


@pytest.mark.slow
def test_two_workers_run_two_kernels_at_once(tmp_path):
    # Two kernels at once, shown by the records' clocks rather than by a speed-up (which a loaded
    # machine can hide): runs of the two workers are under way at the same time, that is, one
    # starts before the other finishes, with whole-second timestamps and 2 s runs. Twice, to show
    # that concurrent kernels don't clash.
    for _ in range(2):
        table = sweep(ADD, {"sleep": 2.0}, {"a": [1, 2, 3, 4]}, tmp_path / "parallel", workers=2, force=True,
                      progress=False)
        assert table.attrs["summary"] == "4 runs: 4 completed, 0 skipped (cached), 0 failed"
        assert table["worker"].nunique() == 2
        runs = [(pd.Timestamp(row["started"]), pd.Timestamp(row["finished"]), row["worker"])
                for _, row in table.iterrows()]
        assert all(finished - started >= pd.Timedelta(seconds=1) for started, finished, _ in runs)
        concurrent = [(a, b) for a in runs for b in runs
                      if a[2] != b[2] and max(a[0], b[0]) < min(a[1], b[1])]
        assert concurrent, f"no two runs of different workers overlap: {runs}"
