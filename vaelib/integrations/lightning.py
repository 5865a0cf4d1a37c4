"""KL annealing inside PyTorch Lightning: a callback that drives the KL weight from an Annealer.

``pip install 'vaelib[lightning]'``. The LightningModule keeps an attribute (``kl_weight`` by
default) and uses it in its ``training_step``; :class:`KLAnnealing` sets it from the annealer
before every training batch, steps the annealer after every optimiser step (so ``total_steps``
counts optimiser steps, as in :func:`vaelib.fit`, also with gradient accumulation), logs it as
``kl_weight``, and stores the annealer's state in Lightning checkpoints, so
``trainer.fit(..., ckpt_path=...)`` resumes the schedule where it stopped::

    from vaelib import Annealer
    from vaelib.integrations.lightning import KLAnnealing

    class LitVAE(lightning.LightningModule):
        def __init__(self):
            super().__init__()
            self.vae, self.loss, self.kl_weight = MLPVAE((1, 8, 8)), VAELoss(), 1.0

        def training_step(self, batch, batch_idx):
            x, mu, logvar = self.vae(batch[0])
            recon, kl = self.loss(x, batch[0], mu, logvar)   # the README has the full, runnable example
            return recon + self.kl_weight * kl

    trainer = lightning.Trainer(max_steps=100, callbacks=[KLAnnealing(Annealer(50, "cosine"))])
"""
from __future__ import annotations

from typing import Any

from vaelib.annealing import Annealer

try:
    import lightning.pytorch as pl
except ImportError:  # the standalone package name of older releases
    try:
        import pytorch_lightning as pl
    except ImportError as error:
        raise ImportError(
            f"vaelib.integrations.lightning needs PyTorch Lightning: pip install 'vaelib[lightning]' ({error})"
        ) from error

__all__ = ["KLAnnealing"]


class KLAnnealing(pl.Callback):
    """Set ``pl_module.<attribute>`` to the annealer's weight before each training batch.

    Parameters
    ----------
    annealer : Annealer
        The schedule; stepped once per optimiser step.
    attribute : str
        Name of the LightningModule's KL-weight attribute.
    log : bool
        Log the weight as ``kl_weight`` with ``pl_module.log`` at every step.
    """

    def __init__(self, annealer: Annealer, attribute: str = "kl_weight", *, log: bool = True) -> None:
        if not isinstance(annealer, Annealer):
            raise TypeError(f"annealer must be a vaelib Annealer, got {type(annealer).__name__}")
        if not isinstance(attribute, str) or not attribute.isidentifier():
            raise ValueError(f"attribute must be an attribute name, got {attribute!r}")
        self.annealer = annealer
        self.attribute = attribute
        self.log = bool(log)

    def on_train_batch_start(self, trainer: Any, pl_module: Any, batch: Any, batch_idx: int) -> None:
        if not hasattr(pl_module, self.attribute):
            raise AttributeError(
                f"{type(pl_module).__name__} has no attribute {self.attribute!r} for KLAnnealing to set; "
                f"define self.{self.attribute} in its __init__ and multiply the KL term by it"
            )
        weight = 1.0 if self.annealer.disable else self.annealer.weight
        setattr(pl_module, self.attribute, weight)
        if self.log:
            pl_module.log("kl_weight", weight, on_step=True, on_epoch=False, prog_bar=False)

    def on_train_batch_end(self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int) -> None:
        if (batch_idx + 1) % max(1, int(trainer.accumulate_grad_batches)) == 0:
            self.annealer.step()

    def state_dict(self) -> dict[str, Any]:
        """The annealer's state (saved in Lightning checkpoints)."""
        return {"annealer": self.annealer.state_dict(), "attribute": self.attribute}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore the annealer from a Lightning checkpoint."""
        self.annealer.load_state_dict(state_dict["annealer"])
