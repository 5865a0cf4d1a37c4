"""Seeds and random generators shared by data, diagnostics, metrics and models (never the global RNG)."""
from __future__ import annotations

from typing import Any

import numpy as np
import torch

from vaelib.validation import check_seed, is_integer

__all__ = ["check_seed", "numpy_generator", "torch_generator"]

RandomState = int | np.random.Generator | np.random.RandomState
"""What a ``random_state`` argument accepts (see :func:`numpy_generator`)."""


def torch_generator(seed: int | torch.Generator) -> torch.Generator:
    """``seed`` itself when it is a :class:`torch.Generator`, else a new CPU generator seeded with it."""
    if isinstance(seed, torch.Generator):
        return seed
    if not is_integer(seed):
        raise TypeError(f"seed must be an int or a torch.Generator, got {seed!r}")
    return torch.Generator().manual_seed(check_seed(seed))


def numpy_generator(random_state: Any) -> np.random.Generator:
    """A :class:`numpy.random.Generator` for a ``random_state`` argument.

    A Generator is returned as it is (and so advanced in place by the caller); an int seed
    ``>= 0`` gives a new one; a legacy :class:`numpy.random.RandomState` (what disentanglement_lib
    passes) is advanced by one draw that seeds a new Generator, so repeated calls with the same
    RandomState give different, reproducible draws.
    """
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(int(random_state.randint(2**31 - 1)))
    if not is_integer(random_state):
        raise TypeError(
            "random_state must be an int seed >= 0, a numpy.random.Generator or a numpy.random.RandomState, "
            f"got {random_state!r}"
        )
    if random_state < 0:
        raise ValueError(f"random_state must be a non-negative seed, got {random_state!r}")
    return np.random.default_rng(int(random_state))
