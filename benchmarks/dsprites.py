"""Rendering speed of procedural dSprites against baselines measured in the same run.

Renders batches of 10,000 random indices (``DSprites.__getitem__``: index checks, factor
conversion, placement of the cached sprites) and compares with

* memory copy: copying a float32 array of the same number of bytes into fresh memory, the floor
  for producing the batch at all;
* torch.zeros: allocating a zero-filled float32 tensor of the same size;
* naive: rasterising each image separately on its full frame (the same shapes and positions,
  one image at a time), checked to give identical images.

It also times the training stream ``DSprites(size).sampler(64)`` (64 freshly drawn factor
combinations per call, what ``fit`` trains on) against the same memory copy, per image.

Run: ``.venv/bin/python benchmarks/dsprites.py``. Prints images/s (best of several repeats) and
ratios against the baselines.
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable

import numpy as np
import torch

from vaelib.data.dsprites import DSprites
from vaelib.data.sprites import SPRITE_RADIUS, mask_radius, rasterize, sprite_masks

BATCH = 10_000
NAIVE_BATCH = 300
REPEATS = 5


def best_rate(work: Callable[[], object], n_images: int, repeats: int = REPEATS) -> float:
    """Images per second of ``work`` (which produces ``n_images``), best of ``repeats`` runs."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return n_images / min(times)


def naive_render(data: DSprites, factors: np.ndarray) -> torch.Tensor:
    """One image at a time: evaluate the sprite at every pixel of the frame, shape (N, 1, S, S)."""
    size = data.image_size
    half = mask_radius(size)
    travel = size - 2 * half - 1
    values = data.factor_values
    pixels = np.arange(size, dtype=np.float64)
    images = np.empty((len(factors), size, size), dtype=np.float32)
    for n, (shape, scale, orientation, pos_x, pos_y) in enumerate(factors):
        centre_col = half + math.floor(values[3][pos_x] * travel + 0.5)
        centre_row = half + math.floor(values[4][pos_y] * travel + 0.5)
        images[n] = rasterize(
            int(shape),
            values[1][scale],
            values[2][orientation],
            pixels[None, :] - centre_col,
            pixels[:, None] - centre_row,
            SPRITE_RADIUS * size,
        )
    return torch.from_numpy(images).unsqueeze(1)


def main() -> None:
    torch.set_num_threads(1)  # numpy rendering is single-threaded; compare like with like
    rng = np.random.default_rng(0)
    print(f"batch {BATCH} random indices, best of {REPEATS}; images/s and ratio render/baseline")
    for size in (64, 32, 16):
        start = time.perf_counter()
        sprite_masks(size)
        setup = time.perf_counter() - start
        data = DSprites(size)
        indices = rng.integers(0, len(data), BATCH)
        source = np.ones((BATCH, size, size), dtype=np.float32)

        render = best_rate(lambda: data[indices], BATCH)
        sampler = data.sampler(64, seed=0)
        stream = best_rate(lambda: [sampler() for _ in range(BATCH // 64)], BATCH // 64 * 64)
        copy = best_rate(lambda: torch.from_numpy(source.copy()), BATCH)
        zeros = best_rate(lambda: torch.zeros(BATCH, 1, size, size), BATCH)
        factors = data.index_to_factors(indices[:NAIVE_BATCH])
        naive = best_rate(lambda: naive_render(data, factors), NAIVE_BATCH, repeats=2)
        assert torch.equal(naive_render(data, factors), data[indices[:NAIVE_BATCH]])

        print(f"\n{size}x{size}  (720 sprites rasterised once in {setup * 1e3:.1f} ms)")
        print(f"  render (DSprites[indices]) {render:>12,.0f} images/s")
        print(f"  stream (sampler(64) calls) {stream:>12,.0f} images/s   stream / memory copy = {stream / copy:6.2f}x")
        baselines = {"memory copy": copy, "torch.zeros": zeros, "naive per-image": naive}
        for name, rate in baselines.items():
            print(f"  {name:<26} {rate:>12,.0f} images/s   render / {name} = {render / rate:6.2f}x")


if __name__ == "__main__":
    main()
