"""Keep the small checkpoints that the reference folder commits, and delete the others.

Every run's record is committed, but a checkpoint (about 2 MB) only for the seeds that a reader
compares: in each setting (objective, beta, gamma, capacity, steps, image size), the seed with the highest MIG,
the one with the lowest MIG and the one with the highest FactorVAE score. That keeps ``models/``
under 30 MB as seeds are added; ``make reference`` runs this after its sweeps, and
``tests/test_reference.py`` checks the committed folder against :func:`kept_models`.

Usage::

    python reference/beta_vae/prune_models.py            # delete the checkpoints not kept
    python reference/beta_vae/prune_models.py --dry-run  # only list them
"""
from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

FOLDER = Path(__file__).resolve().parent

# The columns of results.csv that make one setting, whose seeds are compared.
SETTING = ["objective", "beta", "gamma", "capacity_max", "capacity_steps", "steps", "image_size"]


def read_results(folder: Path = FOLDER) -> pd.DataFrame:
    """``results.csv``, one row per run, with each run's own values (``steps``, ``image_size``, ...).

    A parameter passed to some runs only (``-p steps 60000``) is a column of its own, NaN for the
    other runs, and the results' own value then sits in ``results/steps`` (``vaelib.sweep``'s rule);
    every ``results/<name>`` column replaces the ``<name>`` column.
    """
    table = pd.read_csv(folder / "results.csv")
    for column in [name for name in table if name.startswith("results/")]:
        table[column.removeprefix("results/")] = table[column]
    return table


def kept_models(table: pd.DataFrame) -> set[str]:
    """``model_file`` paths (relative to the folder) of the best and the worst seed by MIG and the
    best seed by FactorVAE of every setting, over the completed runs."""
    completed = table[table["status"] == "completed"]
    kept: set[str] = set()
    for _, runs in completed.groupby(SETTING, dropna=False):
        for row in (runs["mig"].idxmax(), runs["mig"].idxmin(), runs["factor_vae_score"].idxmax()):
            kept.add(runs.loc[row, "model_file"])
    return kept


def prune(folder: Path = FOLDER, dry_run: bool = False) -> list[Path]:
    """Delete (or with ``dry_run`` only list) the checkpoints under ``folder/models`` not kept.

    Returns the paths deleted (or that would be). A kept checkpoint that is missing is an error:
    pruning never leaves a kept seed without its model.
    """
    kept = kept_models(read_results(folder))
    missing = sorted(name for name in kept if not (folder / name).is_file())
    if missing:
        raise FileNotFoundError(f"kept checkpoints are missing (re-run make reference): {missing}")
    dropped = [path for path in sorted((folder / "models").rglob("*.pt"))
               if path.relative_to(folder).as_posix() not in kept]
    if not dry_run:
        for path in dropped:
            path.unlink()
    return dropped


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", type=Path, default=FOLDER, help="the reference folder (default: this one)")
    parser.add_argument("--dry-run", action="store_true", help="list the checkpoints to delete, delete nothing")
    args = parser.parse_args(argv)
    dropped = prune(args.folder, args.dry_run)
    for path in dropped:
        print(("would delete " if args.dry_run else "deleted ") + path.relative_to(args.folder).as_posix())
    kept = [path for path in sorted((args.folder / "models").rglob("*.pt")) if path not in dropped]
    print(f"{len(kept)} checkpoints kept, {sum(path.stat().st_size for path in kept) / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
