"""Optional integrations on a tiny model: the CSV and TensorBoard loggers as fit callbacks (also
across a resume), and the Lightning KL-annealing callback (weights per step, state in checkpoints)."""
from __future__ import annotations

import pandas as pd
import pytest
import torch

from vaelib import Annealer, MLPVAE, VAELoss, fit
from vaelib.integrations.loggers import CSVLogger, TensorBoardLogger


@pytest.fixture(scope="module")
def binary() -> torch.Tensor:
    return (torch.rand(192, 1, 8, 8, generator=torch.Generator().manual_seed(0)) > 0.5).float()


def small_model() -> MLPVAE:
    torch.manual_seed(1)
    return MLPVAE((1, 8, 8), hidden_sizes=(16,), device="cpu")


def test_csv_logger_writes_the_history_as_it_grows_and_after_a_resume(tmp_path, binary):
    path, checkpoint = tmp_path / "log.csv", tmp_path / "run.pt"
    history = fit(small_model(), binary, steps=7, batch_size=32, log_every=2, eval_data=binary[:32],
                  callbacks=[CSVLogger(path)], progress=False)
    logged = pd.read_csv(path)
    pd.testing.assert_frame_equal(logged, history, check_dtype=False)

    fit(small_model(), binary, steps=4, batch_size=32, log_every=2, checkpoint=checkpoint,
        callbacks=[CSVLogger(path)], progress=False)
    resumed = fit(small_model(), binary, steps=7, batch_size=32, log_every=2, checkpoint=checkpoint, resume=True,
                  callbacks=[CSVLogger(path)], progress=False)
    assert pd.read_csv(path)["step"].tolist() == resumed["step"].tolist() == [2, 4, 6, 7]


def test_csv_logger_adds_columns_that_appear_later(tmp_path, binary):
    class LateMetric:
        def on_log(self, state):
            return {"late": 1.0} if state.step > 2 else {}

    path = tmp_path / "log.csv"
    fit(small_model(), binary, steps=6, batch_size=32, log_every=2, callbacks=[LateMetric(), CSVLogger(path)],
        progress=False)
    logged = pd.read_csv(path)
    assert logged["late"].isna().tolist() == [True, False, False]


def test_csv_logger_refuses_a_directory(tmp_path):
    with pytest.raises(ValueError, match="path must be a file, got the directory"):
        CSVLogger(tmp_path)


def test_tensorboard_logger_scalars_match_the_history(tmp_path, binary):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    history = fit(small_model(), binary, steps=6, batch_size=32, log_every=2,
                  callbacks=[TensorBoardLogger(tmp_path / "tb")], progress=False)
    events = EventAccumulator(str(tmp_path / "tb"))
    events.Reload()
    for column in ("loss", "recon", "kl", "weight"):
        scalars = events.Scalars(f"train/{column}")
        assert [s.step for s in scalars] == history["step"].tolist()
        assert [s.value for s in scalars] == pytest.approx(history[column].tolist(), rel=1e-6)


# -- Lightning -----------------------------------------------------------------------------------
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
