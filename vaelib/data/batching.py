"""Where fit's batches come from: a tensor in memory, a sampler callable or an iterable such as a
DataLoader, each resumable where its source allows."""
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


def first_tensor(batch: Any) -> Tensor:
    """The inputs of a batch: the batch itself, or the first element of a tuple or list
    (``DataLoader(TensorDataset(x, y))`` yields ``[x, y]``)."""
    if isinstance(batch, (tuple, list)) and batch:
        batch = batch[0]
    if not isinstance(batch, Tensor):
        raise TypeError(
            f"each batch must be a torch.Tensor of inputs (or a tuple/list starting with one), "
            f"got {type(batch).__name__}"
        )
    return batch


class SamplerBatches:
    """An endless stream of batches from a callable: each ``sampler()`` call is one batch.

    Resumable exactly when the sampler has ``state_dict()`` and ``load_state_dict()`` (as
    :class:`vaelib.data.dsprites.DSpritesSampler` does); otherwise a resumed run continues with
    whatever the sampler returns next. There are no epochs: train for a number of steps.
    """

    def __init__(self, sampler: Any) -> None:
        if not callable(sampler):
            raise TypeError(f"sampler must be callable (sampler() -> batch), got {type(sampler).__name__}")
        self.sampler = sampler

    @property
    def resumable(self) -> bool:
        return callable(getattr(self.sampler, "state_dict", None)) and callable(
            getattr(self.sampler, "load_state_dict", None))

    def __len__(self) -> int:
        raise TypeError("a sampler is endless: it has no epochs (train for a number of steps)")

    def next_batch(self) -> tuple[Tensor, bool]:
        return first_tensor(self.sampler()), False

    def state_dict(self) -> dict[str, Any]:
        return {"sampler": self.sampler.state_dict() if self.resumable else None}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if state.get("sampler") is not None and self.resumable:
            self.sampler.load_state_dict(state["sampler"])


def _generator_states(loader: Any) -> dict[str, Tensor]:
    """States of the generators a DataLoader shuffles and seeds its workers with (if any)."""
    states = {}
    for name, owner in (("loader", loader), ("sampler", getattr(loader, "sampler", None))):
        generator = getattr(owner, "generator", None)
        if isinstance(generator, torch.Generator):
            states[name] = generator.get_state()
    return states


def _set_generator_states(loader: Any, states: dict[str, Tensor]) -> None:
    for name, owner in (("loader", loader), ("sampler", getattr(loader, "sampler", None))):
        generator = getattr(owner, "generator", None)
        if name in states and isinstance(generator, torch.Generator):
            generator.set_state(states[name])


class IterableBatches:
    """Batches of a re-iterable source (a :class:`torch.utils.data.DataLoader`, a list of
    tensors, ...): one epoch is one pass.

    Resuming is exact for a DataLoader (any ``num_workers``) whose shuffling and worker seeds
    draw from torch's global RNG (the default) or from its ``generator``, and for any iterable
    that yields the same batches every time it is iterated: the state records the RNG states at
    the start of the current epoch and the batches already served, and :meth:`load_state_dict`
    replays the epoch's start and skips those batches. A one-shot iterator (a generator
    expression) can be trained on once, and not resumed.
    """

    def __init__(self, iterable: Any) -> None:
        if isinstance(iterable, (str, bytes)) or not hasattr(iterable, "__iter__"):
            raise TypeError(f"data must be iterable, got {type(iterable).__name__}")
        self.iterable = iterable
        self.one_shot = iter(iterable) is iterable
        self._iterator: Any = None
        self._position = 0
        self._epoch_start: dict[str, Any] | None = None

    def __len__(self) -> int:
        try:
            return len(self.iterable)
        except TypeError:
            raise TypeError(
                f"data of type {type(self.iterable).__name__} has no len(): train for a number of steps"
            ) from None

    def _new_epoch(self) -> None:
        if self.one_shot and self._iterator is not None:
            raise ValueError("the data iterator ran out; pass a re-iterable (a list or a DataLoader) "
                             "or train for fewer steps")
        self._epoch_start = {"torch_rng": torch.get_rng_state(), "generators": _generator_states(self.iterable)}
        self._iterator = iter(self.iterable)
        self._position = 0

    def next_batch(self) -> tuple[Tensor, bool]:
        if self._iterator is None:
            self._new_epoch()
        try:
            batch = next(self._iterator)
        except StopIteration:
            if self._position == 0:
                raise ValueError("data yielded no batches") from None
            self._new_epoch()
            batch = next(self._iterator)
        self._position += 1
        last = False
        if hasattr(self.iterable, "__len__") and not self.one_shot:
            last = self._position == len(self.iterable)
        return first_tensor(batch), last

    def state_dict(self) -> dict[str, Any]:
        return {"epoch_start": self._epoch_start, "position": self._position}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if self.one_shot:
            raise ValueError("a one-shot iterator cannot be resumed; pass a re-iterable (a list or a DataLoader)")
        start = state["epoch_start"]
        if start is None:
            self._iterator, self._position = None, 0
            return
        rng = torch.get_rng_state()
        torch.set_rng_state(start["torch_rng"])
        _set_generator_states(self.iterable, start["generators"])
        self._new_epoch()
        for _ in range(int(state["position"])):
            try:
                next(self._iterator)
            except StopIteration:
                raise ValueError(
                    f"cannot resume: the data now has fewer than the {state['position']} batches per "
                    "epoch the checkpoint was trained on"
                ) from None
            self._position += 1
        torch.set_rng_state(rng)


def batch_source(data: Any, batch_size: int | None, seed: int) -> InMemoryBatches | SamplerBatches | IterableBatches:
    """What :func:`vaelib.fit` draws its batches from.

    * a Tensor ``(N, ...)``: :class:`InMemoryBatches` of ``batch_size`` (default 128), a new
      permutation every epoch, seeded by ``seed``;
    * a callable (``sampler() -> batch``, e.g. ``DSprites(64).sampler(64)``): :class:`SamplerBatches`;
    * any other iterable of batches (a ``DataLoader``, a list): :class:`IterableBatches`.

    A batch is a Tensor of inputs or a tuple/list whose first element is one (labels are ignored).
    """
    if isinstance(data, Tensor):
        return InMemoryBatches(data, 128 if batch_size is None else batch_size, seed=seed)
    if batch_size is not None:
        raise ValueError(
            f"batch_size applies to Tensor data; {type(data).__name__} makes its own batches, got batch_size={batch_size!r}"
        )
    if callable(data):
        return SamplerBatches(data)
    if isinstance(data, (str, bytes)) or not hasattr(data, "__iter__"):
        hint = " (pass e.g. dataset.x or dataset.tokens)" if hasattr(data, "x") or hasattr(data, "tokens") else ""
        raise TypeError(
            "data must be a torch.Tensor (N, ...), a sampler callable (sampler() -> batch) or an "
            f"iterable of batches such as a DataLoader, got {type(data).__name__}{hint}"
        )
    return IterableBatches(data)
