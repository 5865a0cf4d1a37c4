"""Seeds and random generators shared by data, diagnostics and models (never the global RNG)."""
from __future__ import annotations

import numbers
from typing import Any

import torch


def check_seed(seed: Any) -> int:
    """Return ``seed`` as a non-negative ``int``; ``TypeError``/``ValueError`` naming it otherwise."""
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"seed must be an int, got {seed!r}")
    if seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    return int(seed)


def torch_generator(seed: int | torch.Generator) -> torch.Generator:
    """``seed`` itself when it is a :class:`torch.Generator`, else a new CPU generator seeded with it."""
    if isinstance(seed, torch.Generator):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"seed must be an int or a torch.Generator, got {seed!r}")
    return torch.Generator().manual_seed(check_seed(seed))
