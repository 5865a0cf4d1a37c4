"""Device selection shared by models, training and diagnostics."""
from __future__ import annotations

import torch


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """Return a :class:`torch.device` for ``device``.

    ``"auto"`` picks CUDA when available, else CPU. Anything else is passed to
    :class:`torch.device`; an unknown name raises ``ValueError`` naming it.
    """
    if isinstance(device, torch.device):
        return device
    if not isinstance(device, str):
        raise TypeError(f"device must be a str or torch.device, got {device!r}")
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        return torch.device(device)
    except RuntimeError as err:
        raise ValueError(f"device must be 'auto', 'cpu', 'cuda' or 'cuda:N', got {device!r}") from err
