"""Copy each notebook's README figure (the PNG output of its cell tagged ``readme-figure``) to docs/figures/.

Run by ``make notebooks`` after the notebooks are executed, so the README's figures are always
the committed notebooks' own outputs (tests/test_readme.py checks that they match).
Usage: ``python tools/readme_figures.py [NOTEBOOK ...]`` (default: notebooks/*.ipynb).
"""
from __future__ import annotations

import base64
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TAG = "readme-figure"


def readme_figure(notebook: Path) -> bytes:
    """The PNG bytes of the first image output of the notebook's cell tagged ``readme-figure``."""
    cells = json.loads(notebook.read_text())["cells"]
    tagged = [cell for cell in cells if TAG in cell.get("metadata", {}).get("tags", [])]
    if len(tagged) != 1:
        raise ValueError(f"{notebook} must have exactly one cell tagged {TAG!r}, found {len(tagged)}")
    for output in tagged[0].get("outputs", []):
        if "image/png" in output.get("data", {}):
            return base64.b64decode(output["data"]["image/png"])
    raise ValueError(f"{notebook}: the cell tagged {TAG!r} has no PNG output; execute the notebook first")


def main(argv: list[str]) -> int:
    notebooks = [Path(arg) for arg in argv] or sorted((ROOT / "notebooks").glob("*.ipynb"))
    target = ROOT / "docs" / "figures"
    target.mkdir(parents=True, exist_ok=True)
    for notebook in notebooks:
        path = target / f"{notebook.stem}.png"
        path.write_bytes(readme_figure(notebook))
        print(f"{notebook} -> {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
