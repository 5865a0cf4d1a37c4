"""Optional integrations on a tiny model: the CSV and TensorBoard loggers as fit callbacks (also
across a resume). The Lightning callback is tested in test_integrations_lightning.py."""
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
