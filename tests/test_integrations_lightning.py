"""The Lightning KL-annealing callback on a tiny model: the weight of every step, optimiser steps
under gradient accumulation, its state in Lightning checkpoints (skipped without the extra)."""
from __future__ import annotations

import pytest
import torch

from test_integrations import binary, small_model  # noqa: F401 (binary is a fixture)
from vaelib import Annealer, VAELoss

lightning = pytest.importorskip("lightning")
from vaelib.integrations.lightning import KLAnnealing  # noqa: E402


class LitVAE(lightning.LightningModule):
    """The smallest LightningModule that multiplies its KL term by ``self.kl_weight``."""

    def __init__(self) -> None:
        super().__init__()
        self.vae, self.loss, self.kl_weight, self.seen = small_model(), VAELoss(), 1.0, []

    def training_step(self, batch, batch_idx):
        x0 = batch[0]
        x, mu, logvar = self.vae(x0)
        recon, kl = self.loss(x, x0, mu, logvar)
        self.seen.append(self.kl_weight)
        return recon + self.kl_weight * kl

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=1e-3)


def trainer(tmp_path, max_steps, callbacks, accumulate=1):
    return lightning.Trainer(max_steps=max_steps, callbacks=callbacks, accelerator="cpu", devices=1,
                             logger=False, enable_progress_bar=False, enable_model_summary=False,
                             default_root_dir=tmp_path, accumulate_grad_batches=accumulate,
                             enable_checkpointing=False)


def loader(binary):
    return torch.utils.data.DataLoader(torch.utils.data.TensorDataset(binary), batch_size=32)


def test_lightning_callback_sets_the_weight_of_every_step(tmp_path, binary):
    module, schedule = LitVAE(), Annealer(4, "linear").schedule(6)
    trainer(tmp_path, 6, [KLAnnealing(Annealer(4, "linear"))]).fit(module, loader(binary))
    assert module.seen == pytest.approx(schedule)


def test_lightning_callback_counts_optimiser_steps_under_accumulation(tmp_path, binary):
    module = LitVAE()
    trainer(tmp_path, 3, [KLAnnealing(Annealer(2, "linear"))], accumulate=2).fit(module, loader(binary))
    assert module.seen == pytest.approx([0.0, 0.0, 0.5, 0.5, 1.0, 1.0])


def test_lightning_checkpoint_holds_the_annealer_and_resumes_it(tmp_path, binary):
    callback = KLAnnealing(Annealer(5, "cosine"))
    first = trainer(tmp_path, 3, [callback])
    first.fit(LitVAE(), loader(binary))
    path = tmp_path / "three.ckpt"
    first.save_checkpoint(path)
    assert torch.load(path, weights_only=False)["callbacks"]["KLAnnealing"]["annealer"]["current_step"] == 3
    resumed, module = KLAnnealing(Annealer(5, "cosine")), LitVAE()
    trainer(tmp_path, 5, [resumed]).fit(module, loader(binary), ckpt_path=path)
    assert module.seen == pytest.approx(Annealer(5, "cosine").schedule(5)[3:])


def test_lightning_callback_names_a_missing_attribute(tmp_path, binary):
    class NoWeight(LitVAE):
        def __init__(self):
            super().__init__()
            del self.kl_weight

    with pytest.raises(AttributeError, match="NoWeight has no attribute 'kl_weight' for KLAnnealing to set"):
        trainer(tmp_path, 1, [KLAnnealing(Annealer(3))]).fit(NoWeight(), loader(binary))
    with pytest.raises(TypeError, match="annealer must be a vaelib Annealer, got float"):
        KLAnnealing(0.5)
