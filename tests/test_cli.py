"""The ``vaelib`` console script: params, sweep (errors, failures, Ctrl-C, resume) and report."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from importlib.metadata import entry_points
from pathlib import Path

import pandas as pd
import pytest

from vaelib.cli import main
from vaelib.sweep import report
from sweep_checks import check_interrupted_sweep, check_rerun

ROOT = Path(__file__).resolve().parents[1]
ADD = Path(__file__).parent / "fixtures" / "notebooks" / "add.ipynb"


def test_console_script_is_declared():
    (script,) = entry_points(group="console_scripts", name="vaelib")
    assert script.value == "vaelib.cli:main"


def test_params_lists_names_types_defaults_and_help(capsys):
    assert main(["params", str(ADD)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["name", "type", "default", "help"]
    rows = {line.split()[0]: line.split(maxsplit=3)[1:] for line in lines[1:]}
    assert list(rows) == ["seed", "device", "results_path", "a", "b", "label", "sleep", "fail"]
    assert rows["a"] == ["int", "1", "first addend"]
    assert rows["b"] == ["float", "2.0", "second addend"]
    assert rows["label"] == ["str", '"x"', "a free-form string"]
    assert rows["fail"] == ["bool", "False", "raise ValueError instead of computing"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-p", "bogus", "1"], "unknown parameter bogus for add.ipynb; its parameters are: seed, "
                               "device, results_path, a, b, label, sleep, fail"),
        (["--grid", "a=1,2", "--grid", "typo=1"], "unknown parameter typo"),
        (["--grid", "a=1,2,1"], "repeats the value 1"),
        (["--grid", "a=1,,2"], "empty value"),
        (["--grid", "a"], "name=v1,v2"),
        (["-p", "a", "1", "--grid", "a=1,2"], "both fixed (-p) and swept (--grid)"),
        (["-p", "a", "1", "-p", "a", "2"], "given twice"),
        (["--grid", "a=1", "--grid", "a=2"], "given twice"),
        (["--seeds", "0,1", "--grid", "seed=2"], "both --seeds and --grid"),
        (["--seeds", "0,x"], "non-negative ints"),
        (["--workers", "0"], "workers must be an int >= 1"),
        (["--timeout", "0"], "timeout must be an int >= 1"),
        (["-p", "results_path", "x.json"], "set by the sweep runner"),
    ],
)
def test_sweep_usage_errors_run_nothing(tmp_path, capsys, args, message):
    out = tmp_path / "out"
    assert main(["sweep", str(ADD), *args, "--out", str(out)]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_missing_notebook_and_missing_sweep_are_usage_errors(tmp_path, capsys):
    assert main(["sweep", str(tmp_path / "nope.ipynb"), "--out", str(tmp_path / "o")]) == 2
    assert "notebook not found" in capsys.readouterr().err
    assert main(["report", str(tmp_path)]) == 2
    assert "no sweep results" in capsys.readouterr().err
    assert main(["frobnicate"]) == 2
    assert main([]) == 2


def test_a_failing_run_is_recorded_and_counted_and_retried(tmp_path, capsys):
    argv = ["sweep", str(ADD), "--grid", "fail=false,true", "-p", "a", "7", "--out",
            str(tmp_path), "--workers", "2", "--no-progress"]
    assert main(argv) == 1
    out = capsys.readouterr().out
    assert out.startswith("2 runs: 1 completed, 0 skipped (cached), 1 failed: fail=True-")
    assert "(ValueError: asked to fail with a=7)" in out
    table = pd.read_csv(tmp_path / "results.csv")
    assert list(table["status"]) == ["completed", "failed"]  # False sorts before True
    assert list(table["fail"]) == [False, True]
    assert table.loc[1, "error"] == "ValueError"
    assert table.loc[1, "error_message"] == "asked to fail with a=7"
    assert table.loc[0, "sum"] == 9.0 and pd.isna(table.loc[1, "sum"])
    failed = tmp_path / "runs" / f"{table.loc[1, 'run_id']}"
    record = json.loads(failed.with_suffix(".json").read_text())
    assert record["status"] == "failed" and record["results"] is None
    assert record["error"] == {"ename": "ValueError", "evalue": "asked to fail with a=7"}
    assert "asked to fail with a=7" in failed.with_suffix(".ipynb").read_text()
    # the failed run is retried, the completed one is not
    assert main(argv) == 1
    assert capsys.readouterr().out.startswith("2 runs: 0 completed, 1 skipped (cached), 1 failed")
    assert json.loads(failed.with_suffix(".json").read_text())["started"] >= record["started"]


def _descendants(pid: int) -> list:
    psutil = pytest.importorskip("psutil")
    return psutil.Process(pid).children(recursive=True)


def _is_kernel(process) -> bool:
    psutil = pytest.importorskip("psutil")
    try:
        return "ipykernel" in " ".join(process.cmdline())
    except psutil.Error:
        return False


@pytest.mark.slow
def test_ctrl_c_stops_cleanly_and_the_same_command_finishes(tmp_path, capsys):
    args = ["sweep", str(ADD), "--grid", "a=1,2,3,4", "-p", "sleep", "2", "--out",
            str(tmp_path), "--workers", "2", "--no-progress"]
    process = subprocess.Popen([sys.executable, "-m", "vaelib.cli", *args], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    runs = tmp_path / "runs"
    deadline = time.monotonic() + 60
    while not list(runs.glob("*.json")):
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()
        time.sleep(0.1)
    while not any(_is_kernel(c) for c in _descendants(process.pid)):  # the next runs started
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()
        time.sleep(0.1)
    children = _descendants(process.pid)
    interrupted = time.monotonic()
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 130, stderr
    assert time.monotonic() - interrupted < 10
    done = sorted(runs.glob("*.json"))
    assert 1 <= len(done) < 4
    assert f"interrupted: {len(done)} of 4 runs completed" in stderr
    assert "Re-run the same command to finish the remaining" in stderr
    mtimes = check_interrupted_sweep(tmp_path, done)
    psutil = pytest.importorskip("psutil")
    gone, alive = psutil.wait_procs(children, timeout=5)  # workers and kernels are gone
    assert not alive, alive

    assert main(args) == 0
    check_rerun(capsys.readouterr().out, mtimes, 4)
    assert len(pd.read_csv(tmp_path / "results.csv")) == 4


def _fake_sweep(out: Path) -> None:
    """Run records of a 3 x 2 grid (beta by seed) without executing anything."""
    (out / "runs").mkdir(parents=True)
    for beta in (1, 2, 4):
        for seed in (0, 1):
            name = f"beta={beta}_seed={seed}-0000000{beta}"
            record = {
                "run_id": name, "status": "completed", "notebook": "/x/demo.ipynb",
                "notebook_sha256": "f" * 64, "parameters": {"beta": beta, "seed": seed},
                "results": {"loss": beta + seed, "metrics": {"mig": beta / 10 + seed}},
                "error": None, "started": "2026-01-01T00:00:00+00:00",
                "finished": "2026-01-01T00:00:01+00:00", "duration_s": 1.0, "timeout_s": None,
                "worker": "host:1",
            }
            (out / "runs" / f"{name}.json").write_text(json.dumps(record))


def test_report_prints_the_table_and_saves_a_labelled_figure(tmp_path, capsys):
    _fake_sweep(tmp_path)
    assert main(["report", str(tmp_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["run_id", "status", "duration_s", "beta", "seed", "loss",
                                "metrics/mig"]
    assert lines[1].split() == ["beta=1_seed=0-00000001", "completed", "1.0", "1", "0", "1",
                                "0.1"]
    assert len(lines) == 1 + 6 + 1 and lines[-1].endswith("summary.png")
    assert (tmp_path / "summary.png").stat().st_size > 10_000
    figure = report(tmp_path, save=False)
    axes = figure.get_axes()
    assert [ax.get_ylabel() for ax in axes] == ["loss", "metrics/mig"]
    assert {ax.get_xlabel() for ax in axes} == {"beta"}
    assert "demo" in figure.get_suptitle() and "2 seeds" in figure.get_suptitle()
    # points are means over seeds, bars one standard deviation
    (means,) = [line.get_ydata() for line in axes[0].lines if len(line.get_ydata()) == 3]
    assert list(means) == [1.5, 2.5, 4.5]
    assert main(["report", str(tmp_path), "--y", "nope"]) == 2
    assert "y='nope' is not a column" in capsys.readouterr().err
    assert main(["report", str(tmp_path), "--columns", "seed", "metrics/mig", "beta"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["seed", "metrics/mig", "beta"] and lines[1].split() == ["0", "0.1", "1"]
    assert main(["report", str(tmp_path), "--columns", "beta", "mig"]) == 2
    assert "--columns mig: not in results.csv; its columns are: run_id, status" in capsys.readouterr().err


def test_a_crash_is_exit_code_3_with_the_traceback_and_a_hint(tmp_path, capsys, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("vaelib.cli.sweep", broken)
    assert main(["sweep", str(ADD), "--out", str(tmp_path / "o"), "--no-progress"]) == 3
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err and "RuntimeError: boom" in err
    assert err.rstrip().splitlines()[-1].startswith("vaelib sweep crashed (exit code 3): the "
                                                    "traceback above is a bug in vaelib")
    _fake_sweep(tmp_path / "r")
    monkeypatch.setattr("vaelib.cli.report", broken)
    assert main(["report", str(tmp_path / "r")]) == 3
    assert "vaelib report crashed (exit code 3)" in capsys.readouterr().err


def test_the_exit_codes_are_documented(capsys):
    import vaelib.cli

    assert main(["sweep", "--help"]) == 0
    epilog = " ".join(capsys.readouterr().out.split())
    assert ("exit codes: 0 every run completed (or was cached); 1 some runs failed; 2 usage error "
            "(nothing ran); 3 the sweep itself crashed (traceback printed); 130 Ctrl-C; 143 "
            "SIGTERM") in epilog
    for code in ("0 ", "1 ", "2 ", "3 ", "130 ", "143 "):
        assert f"\n{code}" in vaelib.cli.__doc__
    readme = " ".join((ROOT / "README.md").read_text().split())
    assert ("The exit code is 0 when every run completed (or was cached), 1 when some runs "
            "failed (the summary line says how many), 2 for a usage error (nothing ran), 3 when "
            "the sweep itself crashed (a traceback and a one-line hint are printed), 130 after "
            "Ctrl-C and 143 after SIGTERM.") in readme
