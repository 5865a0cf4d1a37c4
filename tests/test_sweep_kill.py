"""SIGTERM and SIGKILL of a running ``vaelib sweep``: no process of the sweep is left behind
(forkserver, resource tracker, workers, Jupyter kernels), and the same command finishes the rest.

Each test starts a real sweep of tests/fixtures/notebooks/add.ipynb (runs that sleep) in a
subprocess, records the PIDs of all its descendants, kills the main process and waits for every
one of them to be gone. Whatever happens, the test kills what is left of what it started.
"""
from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from vaelib.cli import main
from sweep_checks import check_interrupted_sweep, check_rerun

psutil = pytest.importorskip("psutil")

ROOT = Path(__file__).resolve().parents[1]
ADD = Path(__file__).parent / "fixtures" / "notebooks" / "add.ipynb"
GONE_WITHIN_S = 10.0


def _args(out: Path) -> list[str]:
    # runs: (a=1, sleep 0), (a=1, sleep 6), (a=2, sleep 0), (a=2, sleep 6) on two workers
    return ["sweep", str(ADD), "--grid", "a=1,2", "--grid", "sleep=0,6", "--out", str(out),
            "--workers", "2", "--no-progress"]


def _cmdline(process) -> str:
    try:
        return " ".join(process.cmdline())
    except psutil.Error:
        return ""


def _alive(processes: list) -> list:
    """The processes still running (a zombie, dead but not yet reaped, counts as gone)."""
    alive = []
    for process in processes:
        try:
            if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                alive.append(process)
        except psutil.NoSuchProcess:
            pass
    return alive


def _kill(processes: list) -> None:
    for process in _alive(processes):
        try:
            process.kill()
        except psutil.Error:
            pass


def _start_and_wait_for_running_kernels(out: Path) -> tuple[subprocess.Popen, list]:
    """A sweep with at least one completed run and two kernels running: (its process, all its
    descendants: resource tracker, forkserver, workers, kernels)."""
    process = subprocess.Popen([sys.executable, "-m", "vaelib.cli", *_args(out)], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 180
    main_process = psutil.Process(process.pid)
    while True:
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()
        family = main_process.children(recursive=True)
        kernels = [p for p in family if "ipykernel" in _cmdline(p)]
        if list((out / "runs").glob("*.json")) and len(kernels) == 2:
            return process, family
        time.sleep(0.1)


def _check_family(family: list) -> None:
    """The descendants include each kind of process a local sweep starts."""
    lines = {p.pid: _cmdline(p) for p in family}
    servers = [pid for pid, line in lines.items() if "multiprocessing.forkserver" in line]
    workers = [p for p in family if p.pid not in servers and p.ppid() in servers]
    assert any("resource_tracker" in line for line in lines.values()), lines
    assert len(servers) - len(workers) == 1 and len(workers) == 2, lines  # workers share its line
    assert sum("ipykernel" in line for line in lines.values()) == 2, lines


def _wait_until_gone(family: list) -> list:
    deadline = time.monotonic() + GONE_WITHIN_S
    while _alive(family) and time.monotonic() < deadline:
        time.sleep(0.1)
    return _alive(family)


def _signal_and_watch(out: Path, signum: int) -> tuple[int, str]:
    """Start a sweep into ``out``, send ``signum`` to its main process once its kernels run, and
    check that all its descendants are gone within :data:`GONE_WITHIN_S` s. Returns the main
    process's exit status and stderr; whatever happens, what is left of the sweep is killed."""
    process, family = _start_and_wait_for_running_kernels(out)
    try:
        _check_family(family)
        process.send_signal(signum)
        _, stderr = process.communicate(timeout=30)
        left = _wait_until_gone(family)
        assert not left, [(p.pid, _cmdline(p)) for p in left]
        return process.returncode, stderr
    finally:
        process.kill()
        process.wait()
        _kill(family)


@pytest.mark.slow
def test_sigterm_leaves_no_process_behind_says_what_is_left_and_exits_143(tmp_path, capsys):
    returncode, stderr = _signal_and_watch(tmp_path, signal.SIGTERM)
    assert returncode == 143, stderr
    done = sorted((tmp_path / "runs").glob("*.json"))
    assert 1 <= len(done) < 4
    remaining = 4 - len(done)
    assert re.search(f"terminated; re-run the same command to finish the remaining {remaining} "
                     f"runs?", stderr), stderr
    mtimes = check_interrupted_sweep(tmp_path, done)
    assert main(_args(tmp_path)) == 0
    check_rerun(capsys.readouterr().out, mtimes, 4)


@pytest.mark.slow
def test_sigkill_leaves_no_process_behind_and_the_same_command_finishes(tmp_path, capsys):
    returncode, _ = _signal_and_watch(tmp_path, signal.SIGKILL)
    assert returncode == -signal.SIGKILL
    done = sorted((tmp_path / "runs").glob("*.json"))
    assert all(json.loads(p.read_text())["status"] == "completed" for p in done)
    mtimes = {p: p.stat().st_mtime_ns for p in done}
    assert main(_args(tmp_path)) == 0  # the lock died with its process
    check_rerun(capsys.readouterr().out, mtimes, 4)
    table = pd.read_csv(tmp_path / "results.csv")
    assert len(table) == 4 and (table["status"] == "completed").all()
