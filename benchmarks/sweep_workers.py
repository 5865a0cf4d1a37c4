"""Sweep wall time with two workers against one: does ``vaelib sweep --workers 2`` use both cores?

For each of two workloads, this script runs ``vaelib.sweep`` over ``--runs`` seeds (default 4)
twice in this run, into temporary folders: with ``workers=1`` (the baseline: one kernel at a
time) and with ``workers=2`` (two kernels at once), and prints both wall times and their ratio
(serial / parallel: 2.0 is a perfect split over two cores, 1.0 no gain, below 1 a loss), with the
mean duration of one run in each. Every kernel trains with one torch thread (the notebooks'
``threads = 1``), so the baseline leaves one core idle and the ratio measures what the second
worker adds. One untimed run of each workload comes first, so that first-run costs (imports from a
cold disk cache) fall on neither sweep:

* ``lstm``: the cyclical study's notebook (``reference/cyclical/run.ipynb``: two LSTM VAEs,
  ``--lstm-steps`` steps each, default 300);
* ``conv``: the β-VAE reference notebook (``reference/beta_vae/run.ipynb``: one ConvVAE at 32×32,
  ``--conv-steps`` steps, default 1,000, scored with the fast metric sizes; its checkpoints go to
  the temporary folder).

Run it on an otherwise idle machine: ``.venv/bin/python benchmarks/sweep_workers.py``.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from vaelib.sweep import sweep
from vaelib.threads import cpu_count

ROOT = Path(__file__).resolve().parents[1]


def workloads(args: argparse.Namespace, folder: Path) -> dict[str, tuple[Path, dict]]:
    """Name -> (notebook, fixed parameters) of each workload."""
    return {
        "lstm": (ROOT / "reference" / "cyclical" / "run.ipynb", {"steps": args.lstm_steps}),
        "conv": (ROOT / "reference" / "beta_vae" / "run.ipynb",
                 {"steps": args.conv_steps, "metric_sizes": "fast", "work_dir": str(folder / "work"),
                  "model_dir": str(folder / "models")}),
    }


def wall_time(notebook: Path, parameters: dict, seeds: list[int], out: Path, workers: int) -> tuple[float, float]:
    """(Seconds one sweep over ``seeds`` takes with ``workers`` workers, mean seconds per run); every
    run must complete."""
    tic = time.perf_counter()
    table = sweep(notebook, parameters, {"seed": seeds}, out, workers=workers, force=True, progress=False)
    seconds = time.perf_counter() - tic
    if set(table["status"]) != {"completed"}:
        raise RuntimeError(f"{notebook.name}: not every run completed: {table.attrs.get('summary')}")
    return seconds, float(table["duration_s"].mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=4, help="runs per sweep (seeds 0 .. runs-1)")
    parser.add_argument("--lstm-steps", type=int, default=300)
    parser.add_argument("--conv-steps", type=int, default=1_000)
    parser.add_argument("--only", choices=["lstm", "conv"], help="one workload only")
    args = parser.parse_args()
    seeds = list(range(args.runs))
    print(f"{cpu_count()} cores; {args.runs} runs per sweep, one torch thread per kernel")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for name, (notebook, parameters) in workloads(args, folder).items():
            if args.only not in (None, name):
                continue
            wall_time(notebook, parameters, seeds[:1], folder / f"{name}-warm-up", workers=1)
            (serial, alone), (parallel, beside) = (
                wall_time(notebook, parameters, seeds, folder / f"{name}-{workers}", workers=workers)
                for workers in (1, 2))
            rows.append((name, serial, parallel, alone, beside))
            print(f"{name}: workers=1 {serial:.1f} s, workers=2 {parallel:.1f} s", flush=True)
    print(f"\n{'workload':<10}{'workers=1':>11}{'workers=2':>11}{'speed-up':>10}{'one run alone':>15}{'side by side':>14}")
    for name, serial, parallel, alone, beside in rows:
        print(f"{name:<10}{serial:>10.1f}s{parallel:>10.1f}s{serial / parallel:>9.2f}x{alone:>14.1f}s{beside:>13.1f}s")


if __name__ == "__main__":
    main()
