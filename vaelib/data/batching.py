"""Fast in-memory minibatches: a per-epoch permutation and tensor slicing, resumable mid-epoch."""
from __future__ import annotations

import math
from typing import Any, Iterator

import torch
from torch import Tensor

from vaelib.validation import check_int


class InMemoryBatches:
    """Minibatches of a tensor that fits in memory, reshuffled every epoch.

    Much cheaper than a ``DataLoader(TensorDataset(x), shuffle=True)``, which collates one
    sample at a time: here each batch is one ``index_select`` of the permuted indices.

    Parameters
    ----------
    data : Tensor
        (N, ...) samples; batches are (batch_size, ...) slices of it (the last one may be shorter).
    batch_size : int
        Samples per batch, ``>= 1``.
    shuffle : bool
        Draw a new permutation at the start of every epoch (else keep the stored order).
    seed : int
        Seeds the private generator of the permutations (the global RNG is never touched).

    The iterator is resumable: :meth:`state_dict` records the generator state at the start of the
    current epoch and the number of batches already served from it, so a restored object serves
    exactly the batches an uninterrupted one would have.
    """

    def __init__(self, data: Tensor, batch_size: int, *, shuffle: bool = True, seed: int = 0) -> None:
        if not isinstance(data, Tensor):
            raise TypeError(f"data must be a torch.Tensor of samples (N, ...), got {type(data).__name__}")
        if data.dim() == 0 or data.shape[0] == 0:
            raise ValueError(f"data must hold at least one sample along dim 0, got shape {tuple(data.shape)}")
        self.data = data
        self.batch_size = check_int("batch_size", batch_size, 1)
        self.shuffle = shuffle
        self.generator = torch.Generator().manual_seed(seed)
        self._epoch_start_state = self.generator.get_state()
        self._order: Tensor | None = None
        self._position = 0  # batches served from the current epoch's order

    def __len__(self) -> int:
        """Batches per epoch."""
        return math.ceil(self.data.shape[0] / self.batch_size)

    def _new_epoch(self) -> None:
        self._epoch_start_state = self.generator.get_state()
        n = self.data.shape[0]
        self._order = torch.randperm(n, generator=self.generator) if self.shuffle else torch.arange(n)
        self._position = 0

    def next_batch(self) -> tuple[Tensor, bool]:
        """Return ``(batch, last_of_epoch)``, starting a new epoch when the previous one is spent."""
        if self._order is None or self._position == len(self):
            self._new_epoch()
        start = self._position * self.batch_size
        index = self._order[start : start + self.batch_size]
        self._position += 1
        return self.data.index_select(0, index), self._position == len(self)

    def __iter__(self) -> Iterator[Tensor]:
        """One full epoch of batches."""
        self._new_epoch()
        for _ in range(len(self)):
            yield self.next_batch()[0]

    def state_dict(self) -> dict[str, Any]:
        return {"epoch_start_state": self._epoch_start_state, "position": self._position,
                "started": self._order is not None}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.generator.set_state(state["epoch_start_state"])
        if state["started"]:
            self._new_epoch()
            self._position = int(state["position"])
        else:
            self._order = None
            self._position = 0
