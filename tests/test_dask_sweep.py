"""``vaelib sweep --scheduler``: sweeps on a real Dask cluster (two worker processes on 127.0.0.1).

Runs only with the ``dist`` extra. One module-wide ``LocalCluster`` (2 workers x 1 thread, as
``dask worker --nthreads 1`` would give) serves every test; each test starts with both workers
up, warm (vaelib imported: it imports torch, seconds on a busy machine) and idle.
"""
from __future__ import annotations

import concurrent.futures
import importlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

distributed = pytest.importorskip("distributed",
                                  reason="needs the dist extra: pip install 'vaelib[dist]'")

import dask  # noqa: E402  (after the importorskip)

from vaelib.cli import main  # noqa: E402
from vaelib.dask_runner import DaskPool  # noqa: E402
from vaelib.sweep import SweepError, execute_run, plan_runs, sweep  # noqa: E402
from sweep_checks import check_interrupted_sweep, check_rerun  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
ADD = Path(__file__).parent / "fixtures" / "notebooks" / "add.ipynb"
BOOKKEEPING = ["worker", "started", "finished", "duration_s"]


def _warm(client) -> None:
    """Wait for two idle workers with vaelib and papermill imported (first imports are slow)."""
    client.wait_for_workers(2, timeout=120)
    deadline = time.monotonic() + 120
    while any(client.processing().values()):  # e.g. a task left running by an interrupted client
        assert time.monotonic() < deadline, client.processing()
        time.sleep(0.2)
    for module in ("vaelib.sweep", "papermill"):
        client.run(importlib.import_module, module)


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as local, \
            distributed.Client(local, set_as_default=False) as client:
        yield local, client


@pytest.fixture
def dask_cluster(cluster):
    """The module's cluster, its two workers up, warm and idle: ``(address, client)``."""
    local, client = cluster
    _warm(client)
    return local.scheduler_address, client


def _free_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _kernels(pid: int) -> list:
    psutil = pytest.importorskip("psutil")
    found = []
    for child in psutil.Process(pid).children(recursive=True):
        try:
            if "ipykernel" in " ".join(child.cmdline()):
                found.append(child)
        except psutil.Error:
            pass
    return found


@pytest.mark.slow
def test_cli_sweep_on_the_cluster_matches_the_local_sweep(dask_cluster, tmp_path, capsys):
    address, client = dask_cluster
    grid = ["--grid", "a=1,2", "--seeds", "0,1", "-p", "sleep", "1", "-p", "label", "dask"]
    assert main(["sweep", str(ADD), *grid, "--out", str(tmp_path / "dask"), "--no-progress",
                 "--scheduler", address]) == 0
    assert capsys.readouterr().out.startswith("4 runs: 4 completed, 0 skipped (cached), 0 failed")
    assert main(["sweep", str(ADD), *grid, "--out", str(tmp_path / "local"), "--no-progress",
                 "--workers", "2"]) == 0
    on_dask = pd.read_csv(tmp_path / "dask" / "results.csv")
    local = pd.read_csv(tmp_path / "local" / "results.csv")
    assert list(on_dask.columns) == list(local.columns)
    assert len(on_dask) == 4 and set(on_dask["status"]) == {"completed"}
    pd.testing.assert_frame_equal(on_dask.drop(columns=BOOKKEEPING),
                                  local.drop(columns=BOOKKEEPING))
    # the worker column names the Dask worker (name and address) that ran each notebook
    workers = set(client.scheduler_info()["workers"])
    ran_on = {next(a for a in workers if a in label) for label in on_dask["worker"]}
    assert ran_on == workers, (on_dask["worker"].tolist(), workers)  # 4 runs spread over both
    for path in (tmp_path / "dask" / "runs").glob("*.json"):
        record = json.loads(path.read_text())
        assert record["error"] is None and record["results"]["label"] == "dask"
        assert path.with_suffix(".ipynb").stat().st_size > 0


@pytest.mark.slow
def test_two_workers_beat_one_on_sleep_bound_runs(dask_cluster, tmp_path):
    # Serial = the same 4 runs pinned to ONE worker of the same (warm) cluster; parallel = both
    # workers. Same worker processes, same imports, same client path: the only difference is
    # the number of workers, which makes this fairer than a local sweep (which would also pay
    # for starting its pool) or a second, differently warmed cluster. Each run sleeps 3 s so the
    # ~1-2 s of kernel start-up does not dominate.
    address, client = dask_cluster
    grid = {"a": [1, 2, 3, 4]}
    one = sorted(client.scheduler_info()["workers"])[0]
    start = time.perf_counter()
    with dask.annotate(workers=[one], allow_other_workers=False):
        serial_table = sweep(ADD, {"sleep": 2.5}, grid, tmp_path / "serial", progress=False,
                             scheduler=address)
    serial = time.perf_counter() - start
    start = time.perf_counter()
    parallel_table = sweep(ADD, {"sleep": 2.5}, grid, tmp_path / "parallel", progress=False,
                           scheduler=address)
    parallel = time.perf_counter() - start
    assert (serial_table["status"] == "completed").all()
    assert (parallel_table["status"] == "completed").all()
    assert all(one in label for label in serial_table["worker"])  # really serial
    assert parallel_table["worker"].nunique() == 2
    ratio = parallel / serial
    print(f"\n4 sleep-bound runs: 1 worker {serial:.1f} s, 2 workers {parallel:.1f} s, "
          f"ratio {ratio:.2f}")
    assert ratio < 0.8, f"2 workers {parallel:.1f} s vs 1 worker {serial:.1f} s: ratio {ratio:.2f}"


@pytest.mark.slow
def test_interrupted_client_keeps_completed_runs_and_the_rerun_submits_only_the_rest(
        dask_cluster, tmp_path, capsys):
    address, client = dask_cluster
    args = ["sweep", str(ADD), "--grid", "a=1,2,3,4", "-p", "sleep", "2", "--out",
            str(tmp_path), "--no-progress", "--scheduler", address]
    process = subprocess.Popen([sys.executable, "-m", "vaelib.cli", *args], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    runs = tmp_path / "runs"
    deadline = time.monotonic() + 120  # the client imports vaelib (torch) first
    while not list(runs.glob("*.json")):
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()
        time.sleep(0.1)
    interrupted = time.monotonic()
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert time.monotonic() - interrupted < 15, stderr
    done = sorted(runs.glob("*.json"))
    assert 1 <= len(done) < 4, stderr
    assert f"interrupted: {len(done)} of 4 runs completed" in stderr
    mtimes = check_interrupted_sweep(tmp_path, done)
    # the tasks that were running go on on their workers (Dask cannot stop them) and their
    # results are dropped; the rerun's tasks queue behind them instead of deadlocking
    assert main(args) == 0
    check_rerun(capsys.readouterr().out, mtimes, 4)
    table = pd.read_csv(tmp_path / "results.csv")
    assert len(table) == 4 and table["run_id"].is_unique and (table["status"] == "completed").all()


def _vaelib_tasks(dask_scheduler) -> list[str]:
    return [str(key) for key in dask_scheduler.tasks if str(key).startswith("vaelib-run-")]


@pytest.mark.slow
def test_dask_pool_futures_resolve_and_release_their_results_on_the_cluster(dask_cluster):
    address, client = dask_cluster
    (run,) = plan_runs(ADD, {"a": 5})
    with DaskPool(address, timeout=10) as pool:
        future = pool.submit(execute_run, run, timeout=60)
        record, notebook = future.result(timeout=120)
        assert record["status"] == "completed" and record["results"]["sum"] == 7.0
        assert record["worker"] in {f"{info['name']} ({worker})"
                                    for worker, info in client.scheduler_info()["workers"].items()}
        assert json.loads(notebook)["metadata"]["papermill"]["parameters"]["a"] == 5
        # the result reached the client, so the cluster no longer holds it
        deadline = time.monotonic() + 10
        while client.run_on_scheduler(_vaelib_tasks):
            assert time.monotonic() < deadline, client.run_on_scheduler(_vaelib_tasks)
            time.sleep(0.1)
        assert pool.submit(sum, [1, 2, 3]).result(timeout=30) == 6  # any function runs too
    with pytest.raises(RuntimeError, match="terminated or closed"):
        pool.submit(sum, [1])


def test_an_unreachable_scheduler_is_a_sweep_error_naming_it(tmp_path):
    address = f"tcp://127.0.0.1:{_free_port()}"
    start = time.monotonic()
    with pytest.raises(SweepError, match=f"no Dask scheduler answered at '{address}' within 2 s"):
        DaskPool(address, timeout=2)
    assert time.monotonic() - start < 15
    # sweep() takes Dask's connect timeout (DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT)
    with dask.config.set({"distributed.comm.timeouts.connect": "2s"}), \
            pytest.raises(SweepError, match=address):
        sweep(ADD, grid={"a": [1]}, out=tmp_path, progress=False, scheduler=address)
    assert not list((tmp_path / "runs").iterdir())


def test_a_failed_connection_leaves_no_half_built_client_to_collect_later():
    # collected later (in another Client's starting IO-loop thread) its __del__ deadlocks
    import gc

    def clients() -> int:
        return sum(isinstance(o, distributed.Client) for o in gc.get_objects())

    before = clients()
    for address in ("not-an-address", f"tcp://127.0.0.1:{_free_port()}"):
        with pytest.raises(SweepError):
            DaskPool(address, timeout=1)
    assert clients() == before


@pytest.mark.parametrize("address", ["", "  "])
def test_an_empty_scheduler_address_is_a_sweep_error(tmp_path, address):
    with pytest.raises(SweepError, match="scheduler must be the address of a Dask scheduler"):
        sweep(ADD, grid={"a": [1]}, out=tmp_path, progress=False, scheduler=address)


def test_cli_with_a_malformed_scheduler_address_fails_fast(tmp_path, capsys):
    start = time.monotonic()
    assert main(["sweep", str(ADD), "--grid", "a=1,2", "--out", str(tmp_path), "--no-progress",
                 "--scheduler", "not-an-address"]) == 2
    assert time.monotonic() - start < 10
    err = capsys.readouterr().err
    assert "vaelib sweep: error: 'not-an-address' is not a Dask scheduler address" in err
    assert not list((tmp_path / "runs").iterdir())


def test_without_the_dist_extra_the_error_says_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    with pytest.raises(SweepError, match=r"pip install 'vaelib\[dist\]'"):
        DaskPool("tcp://127.0.0.1:8786")
    with pytest.raises(SweepError, match=r"pip install 'vaelib\[dist\]'"):
        sweep(ADD, grid={"a": [1]}, out=tmp_path, progress=False, scheduler="tcp://127.0.0.1:8786")


@pytest.mark.slow
def test_a_worker_killed_mid_run_has_its_run_rescheduled_and_recorded_once(dask_cluster,
                                                                         tmp_path):
    psutil = pytest.importorskip("psutil")
    address, client = dask_cluster
    pids = client.run(os.getpid)  # {worker address: pid}
    with concurrent.futures.ThreadPoolExecutor(1) as background:
        # sweep() outside the main thread: its Ctrl-C handler is for the main thread only
        running = background.submit(sweep, ADD, {"sleep": 5.0}, {"a": [1, 2]}, tmp_path,
                                    progress=False, scheduler=address)
        deadline = time.monotonic() + 60
        victim = kernels = None
        while victim is None:  # a worker whose notebook's kernel is up
            assert not running.done() and time.monotonic() < deadline, running
            for worker, pid in pids.items():
                if _kernels(pid):
                    victim, kernels = worker, _kernels(pid)
                    break
            time.sleep(0.2)
        time.sleep(1.0)  # into the notebook's sleep
        os.kill(pids[victim], signal.SIGKILL)
        table = running.result(timeout=120)
    # the orphaned kernel notices its parent is gone (ipykernel polls it every second)
    gone, alive = psutil.wait_procs(kernels, timeout=10)
    assert not alive, alive
    assert len(table) == 2 and table["run_id"].is_unique
    assert (table["status"] == "completed").all(), table[["run_id", "status", "error"]]
    assert table["error"].isna().all()
    assert not table["worker"].str.contains(victim, regex=False).any()  # rerun elsewhere
    assert len(list((tmp_path / "runs").glob("*.json"))) == 2
    csv = pd.read_csv(tmp_path / "results.csv")
    assert len(csv) == 2 and csv["run_id"].is_unique and (csv["status"] == "completed").all()
    for path in (tmp_path / "runs").glob("*.json"):
        record = json.loads(path.read_text())
        assert record["error"] is None and record["results"]["sum"] == record["parameters"]["a"] + 2
    client.wait_for_workers(2, timeout=120)  # the nanny restarted the killed worker


def test_kernels_share_each_hosts_cores_among_all_its_worker_threads(dask_cluster, tmp_path):
    """2 workers x 1 thread on one host: each kernel gets cores // 2 torch threads, not all the cores."""
    import nbformat

    address, client = dask_cluster
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    parameters = nbformat.v4.new_code_cell("results_path = None  # where to write the results")
    parameters.metadata["tags"] = ["parameters"]
    nb.cells = [parameters, nbformat.v4.new_code_cell(
        "import json, os\n"
        "json.dump({'omp': int(os.environ['OMP_NUM_THREADS']), 'mkl': int(os.environ['MKL_NUM_THREADS'])},"
        " open(results_path, 'w'))")]
    notebook = tmp_path / "threads.ipynb"
    nbformat.write(nb, notebook)
    from vaelib.dask_runner import kernel_threads
    from vaelib.threads import cpu_count as _cpu_count

    expected = max(1, _cpu_count() // 2)
    assert kernel_threads(client) == {"127.0.0.1": expected}
    (run,) = plan_runs(notebook)
    with DaskPool(address, timeout=10) as pool:
        record, _ = pool.submit(execute_run, run, timeout=60).result(timeout=120)
    assert record["status"] == "completed", record["error"]
    assert record["results"] == {"omp": expected, "mkl": expected}
