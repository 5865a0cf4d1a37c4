"""Figures in notebooks: a resolution and a compact PNG encoding, so executed notebooks stay small.

A notebook that draws twenty figures at matplotlib's defaults weighs close to a megabyte, almost all
of it base64 PNGs, which GitHub renders slowly or not at all. :func:`notebook_figures` sets the
resolution of new figures and has IPython show every :class:`~matplotlib.figure.Figure` as a
palette PNG (at most 256 colours: line plots, text and grey images look the same, at about 40 % of
the bytes).
"""
from __future__ import annotations

import io

import matplotlib
from matplotlib.figure import Figure

from vaelib.validation import positive_int

__all__ = ["compact_png", "notebook_figures"]


def compact_png(figure: Figure, colors: int = 256) -> bytes:
    """``figure`` as a palette PNG of at most ``colors`` colours, cropped like the inline backend's."""
    from PIL import Image

    colors = positive_int("colors", colors)
    if colors > 256:
        raise ValueError(f"colors must be at most 256 (a PNG palette), got {colors}")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", bbox_inches="tight", facecolor=figure.get_facecolor())
    image = Image.open(buffer).convert("RGB").quantize(colors=colors, method=Image.Quantize.MEDIANCUT)
    out = io.BytesIO()
    image.save(out, format="png", optimize=True)
    return out.getvalue()


def notebook_figures(dpi: int = 80) -> None:
    """Draw new figures at ``dpi`` and show figures in this IPython kernel as :func:`compact_png`.

    Call it after ``%matplotlib inline``; outside IPython only the resolution is set.
    """
    matplotlib.rcParams["figure.dpi"] = positive_int("dpi", dpi)
    try:
        from IPython import get_ipython
    except ImportError:  # not in IPython
        return
    shell = get_ipython()
    if shell is not None:
        shell.display_formatter.formatters["image/png"].for_type(Figure, compact_png)
