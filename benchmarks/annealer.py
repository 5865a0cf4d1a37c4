"""Cost of one annealing step (``annealer(kld)`` + ``annealer.step()``) against a bare float multiply.

Run: .venv/bin/python benchmarks/annealer.py
"""
from __future__ import annotations

import timeit

from vaelib import Annealer

N = 200_000
REPEATS = 7


def per_step_us(stmt: str, setup: str) -> float:
    """Best-of-REPEATS microseconds per loop iteration."""
    times = timeit.repeat(stmt, setup=setup, number=N, repeat=REPEATS, globals=globals())
    return min(times) / N * 1e6


def main() -> None:
    bare = per_step_us("y = kld * w", "kld = 3.0; w = 0.5")
    rows = [("bare float multiply (baseline)", bare)]
    for shape in ("linear", "cosine", "logistic"):
        setup = f"a = Annealer(10**9, {shape!r}); kld = 3.0"
        rows.append((f"Annealer({shape!r}): call + step", per_step_us("y = a(kld); a.step()", setup)))
    setup = "a = Annealer(1000, 'cosine', cyclical=True, ratio=0.5, delay=10); kld = 3.0"
    rows.append(("Annealer('cosine', cyclical, ratio=0.5): call + step", per_step_us("y = a(kld); a.step()", setup)))
    print(f"{'what':<55}{'µs/step':>10}{'× baseline':>12}")
    for name, us in rows:
        print(f"{name:<55}{us:>10.3f}{us / bare:>12.1f}")
    worst = max(us for _, us in rows[1:])
    print(f"\nslowest annealer step: {worst:.3f} µs (target < 5 µs): {'OK' if worst < 5 else 'TOO SLOW'}")


if __name__ == "__main__":
    main()
