"""Notebook wall times alone and next to a second notebook: the thread policy under contention.

Every notebook sets ``threads = 1`` (one torch thread per process) and trains independent models
side by side in ``workers`` processes. For each notebook this script measures, with papermill,
in this run:

* **before**: the notebook alone under the old policy, torch's default threads (one per core) and
  one model at a time (``-p threads <cores> -p workers 1``) — what the notebooks did before;
* **alone**: the notebook alone at its defaults;
* **contended**: the notebook at its defaults while a second copy of it runs at the same time
  (both started together; the slower of the two wall times);
* with ``--old-contended``, also the old policy next to a second old-policy copy — the collapse the
  policy removes (slow: a ConvVAE step goes from 29 ms to over a second).

It prints the wall times and the ratios the thread policy is held to: alone / before <= 1.1 (no
slower alone) and contended / alone <= 2.3 (fair share of two cores is 2). Run it on an otherwise
idle machine: ``.venv/bin/python benchmarks/contention.py [NOTEBOOK ...] [--old-contended]``.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from vaelib.threads import cpu_count

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
OLD_POLICY = ["-p", "threads", str(cpu_count()), "-p", "workers", "1"]


def start(notebook: Path, folder: Path, tag: str, parameters: list[str]) -> tuple[subprocess.Popen, float]:
    """Start one papermill execution of ``notebook`` in the background; (process, start time)."""
    command = [sys.executable, "-m", "papermill", str(notebook), str(folder / f"{notebook.stem}-{tag}.ipynb"),
               "--cwd", str(notebook.parent), "--no-progress-bar", *parameters]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True), time.perf_counter()


def wait(process: subprocess.Popen, began: float) -> float:
    _, error = process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"papermill failed ({process.returncode}): {error[-2000:]}")
    return time.perf_counter() - began


def together(notebook: Path, folder: Path, tag: str, parameters: list[str]) -> float:
    """Two copies started at once; the slower wall time."""
    runs = [start(notebook, folder, f"{tag}-{copy}", parameters) for copy in (1, 2)]
    return max(wait(*run) for run in runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, default=NOTEBOOKS)
    parser.add_argument("--old-contended", action="store_true", help="also time two old-policy copies together")
    args = parser.parse_args()
    print(f"{cpu_count()} cores; old policy: {' '.join(OLD_POLICY)}; new policy: the notebooks' defaults")
    header = f"{'notebook':<30}{'before':>9}{'alone':>9}{'contended':>11}{'alone/before':>14}{'contended/alone':>17}"
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for notebook in args.notebooks:
            before = wait(*start(notebook, folder, "before", OLD_POLICY))
            alone = wait(*start(notebook, folder, "alone", []))
            contended = together(notebook, folder, "contended", [])
            old = together(notebook, folder, "old-contended", OLD_POLICY) if args.old_contended else None
            rows.append((notebook.stem, before, alone, contended, old))
            print(f"{notebook.stem}: before {before:.0f} s, alone {alone:.0f} s, contended {contended:.0f} s"
                  + (f", old policy contended {old:.0f} s" if old is not None else ""), flush=True)
    print("\n" + header + ("  old contended/before" if args.old_contended else ""))
    for name, before, alone, contended, old in rows:
        line = f"{name:<30}{before:>8.0f}s{alone:>8.0f}s{contended:>10.0f}s{alone / before:>14.2f}{contended / alone:>17.2f}"
        print(line + (f"{old / before:>22.2f}" if old is not None else ""))
    worst_alone = max(alone / before for _, before, alone, _, _ in rows)
    worst_contended = max(contended / alone for _, _, alone, contended, _ in rows)
    print(f"\nworst alone/before {worst_alone:.2f} (target <= 1.1); worst contended/alone {worst_contended:.2f} "
          f"(target <= 2.3): {'OK' if worst_alone <= 1.1 and worst_contended <= 2.3 else 'NOT MET'}")


if __name__ == "__main__":
    main()
