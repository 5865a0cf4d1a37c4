"""fit(): exact resume, history contents, callbacks, NaN guard, clear errors; InMemoryBatches."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits

from vaelib import Annealer, CapacityVAELoss, VAELoss, kl_divergence
from vaelib.data.batching import InMemoryBatches
from vaelib.models.mlp import MLPVAE
from vaelib.training import NonFiniteLossError, evaluate, fit, load_checkpoint


@pytest.fixture(scope="module")
def digits() -> torch.Tensor:
    return torch.tensor(load_digits().images / 16.0, dtype=torch.float32).unsqueeze(1)  # (1797, 1, 8, 8)


def small_model(latent_dim: int = 2) -> MLPVAE:
    torch.manual_seed(123)
    return MLPVAE((1, 8, 8), hidden_sizes=(32, 32), latent_dim=latent_dim, device="cpu")


# -- batching -------------------------------------------------------------------------------
def test_each_epoch_is_a_fresh_permutation_and_reproducible():
    data = torch.arange(10).unsqueeze(1)
    first = [torch.cat(list(InMemoryBatches(data, 3, seed=5))).flatten().tolist() for _ in range(2)]
    assert first[0] == first[1] and sorted(first[0]) == list(range(10))
    batches = InMemoryBatches(data, 3, seed=5)
    epochs = [torch.cat(list(batches)).flatten().tolist() for _ in range(3)]
    assert all(sorted(e) == list(range(10)) for e in epochs) and epochs[0] != epochs[1]
    assert [len(b) for b in InMemoryBatches(data, 4)] == [4, 4, 2] and len(InMemoryBatches(data, 4)) == 3
    assert torch.cat(list(InMemoryBatches(data, 4, shuffle=False))).flatten().tolist() == list(range(10))


def test_batches_resume_mid_epoch():
    data = torch.arange(50).unsqueeze(1)
    ref = InMemoryBatches(data, 7, seed=1)
    served = [ref.next_batch()[0] for _ in range(10)]
    part = InMemoryBatches(data, 7, seed=1)
    for _ in range(4):
        part.next_batch()
    restored = InMemoryBatches(data, 7, seed=99)
    restored.load_state_dict(part.state_dict())
    assert all(torch.equal(a, restored.next_batch()[0]) for a in served[4:])


@pytest.mark.parametrize(
    "args,error,pattern",
    [
        ((torch.zeros(0, 3), 4), ValueError, r"at least one sample.*\(0, 3\)"),
        ((np.zeros((5, 3)), 4), TypeError, "torch.Tensor.*ndarray"),
        ((torch.zeros(5, 3), 0), ValueError, "batch_size must be >= 1, got 0"),
    ],
)
def test_batches_invalid(args, error, pattern):
    with pytest.raises(error, match=pattern):
        InMemoryBatches(*args)


# -- fit ------------------------------------------------------------------------------------
def params_of(model):
    return {k: v.clone() for k, v in model.state_dict().items()}


@pytest.mark.parametrize("kind", ["annealed", "capacity"])
def test_resume_is_bit_exact(tmp_path, digits, kind):
    def run(steps, checkpoint=None, resume=False):
        model = small_model()
        if kind == "annealed":
            objective, annealer = VAELoss(), Annealer(25, "cosine", cyclical=True, ratio=0.5)
        else:
            objective, annealer = CapacityVAELoss(gamma=5.0, capacity_max=3.0, capacity_steps=30), None
        fit(model, digits, objective, steps=steps, annealer=annealer, checkpoint=checkpoint,
            resume=resume, progress=False, seed=7)
        return model, objective, annealer

    whole, whole_objective, whole_annealer = run(40)
    path = tmp_path / "run.pt"
    run(23, checkpoint=path)                      # 23 steps: stops in the middle of epoch 2
    assert load_checkpoint(path)["step"] == 23
    resumed, resumed_objective, resumed_annealer = run(40, checkpoint=path, resume=True)
    a, b = params_of(whole), params_of(resumed)
    assert all(torch.equal(a[k], b[k]) for k in a), "parameters differ after resume"
    assert resumed_objective.state_dict().keys() == whole_objective.state_dict().keys()
    if kind == "annealed":
        assert resumed_annealer.state_dict() == whole_annealer.state_dict()
    else:
        assert resumed_objective.capacity == whole_objective.capacity == pytest.approx(3.0)


def test_history_rows_weights_and_eval_columns(digits):
    annealer = Annealer(20, "linear")
    expected_weights = annealer.schedule(45)
    history = fit(small_model(), digits[:1500], steps=45, batch_size=100, annealer=annealer,
                  eval_data=digits[1500:], progress=False)
    assert history["step"].tolist() == [15, 30, 45]          # one row per epoch of 15 batches
    assert history["epoch"].tolist() == [1.0, 2.0, 3.0]
    windows = [expected_weights[0:15], expected_weights[15:30], expected_weights[30:45]]
    assert history["weight"].tolist() == pytest.approx([np.mean(w) for w in windows])
    assert annealer.current_step == 20
    assert {"loss", "recon", "kl", "lr", "time", "eval_loss", "eval_recon", "eval_kl", "eval_elbo"} <= set(history)
    assert history["eval_elbo"].tolist() == pytest.approx((-(history.eval_recon + history.eval_kl)).tolist())
    assert (history["kl"] > 0).all() and history["time"].is_monotonic_increasing
    assert history["recon"].iloc[-1] < history["recon"].iloc[0]


def test_log_every_and_learning():
    torch.manual_seed(0)
    data = (torch.rand(256, 1, 8, 8) > 0.5).float()
    history = fit(small_model(), data, epochs=2, batch_size=64, log_every=3, progress=False)
    assert history["step"].tolist() == [3, 6, 8]


def test_free_bits_history_reports_the_true_kl(digits):
    model = small_model()
    history = fit(model, digits, VAELoss(free_bits=2.0), steps=3, progress=False)
    objective_kl = VAELoss(free_bits=2.0).kl(*model.encode(digits))
    assert objective_kl.item() >= 4.0            # 2 latents x 2 free nats
    assert history["kl"].iloc[-1] < 4.0          # reported KL is the real one


def test_evaluate_kl_is_the_encoder_kl(digits):
    model = small_model()
    out = evaluate(model, VAELoss(), digits, batch_size=100)
    with torch.no_grad():
        expected = kl_divergence(*model.encode(digits)).item()
    assert out["kl"] == pytest.approx(expected, rel=1e-5)
    assert out["elbo"] == pytest.approx(-(out["recon"] + out["kl"]))
    assert model.training


class Recorder:
    def __init__(self, stop_at=None):
        self.calls, self.stop_at = [], stop_at

    def on_train_begin(self, state):
        self.calls.append("begin")

    def on_epoch_end(self, state):
        self.calls.append(f"epoch{state.epoch:g}")

    def on_log(self, state):
        if self.stop_at is not None and state.step >= self.stop_at:
            state.stop = True
        return {"probe": float(state.step) * 2}

    def on_train_end(self, state):
        self.calls.append("end")


def test_callbacks_protocol_and_early_stop(digits):
    recorder = Recorder()
    history = fit(small_model(), digits[:256], epochs=3, batch_size=128, callbacks=[recorder], progress=False)
    assert recorder.calls == ["begin", "epoch1", "epoch2", "epoch3", "end"]
    assert history["probe"].tolist() == [4.0, 8.0, 12.0]
    stopper = Recorder(stop_at=4)
    history = fit(small_model(), digits[:256], epochs=10, batch_size=128, callbacks=[stopper], progress=False)
    assert history["step"].tolist() == [2, 4]


def test_fit_restores_the_callers_rng(digits):
    model = small_model()
    torch.manual_seed(42)
    before = torch.get_rng_state()
    fit(model, digits[:128], steps=2, progress=False)
    assert torch.equal(before, torch.get_rng_state())


def test_nan_loss_stops_with_clear_error_and_keeps_last_checkpoint(tmp_path, digits):
    path = tmp_path / "run.pt"
    data = digits.clone()

    class PoisonData:  # after the checkpoint of step 5 is written, every later batch holds NaN
        def on_log(self, state):
            if state.step == 5:
                data.fill_(float("nan"))

    with pytest.raises(NonFiniteLossError, match=r"non-finite loss nan at step 6 .*last good checkpoint is kept at .*run.pt"):
        fit(small_model(), data, steps=10, log_every=5, checkpoint=path, callbacks=[PoisonData()], progress=False)
    kept = load_checkpoint(path)
    assert kept["step"] == 5
    assert all(torch.isfinite(t).all() for t in kept["model"].values())


def test_nan_in_data_is_caught(digits):
    data = digits[:64].clone()
    data[3, 0, 2, 2] = float("nan")
    with pytest.raises(NonFiniteLossError, match="step 1"):
        fit(small_model(), data, steps=3, progress=False)


def test_bad_checkpoints(tmp_path, digits):
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"this is not a checkpoint")
    with pytest.raises(ValueError, match="cannot read checkpoint.*garbage.pt"):
        fit(small_model(), digits, steps=2, checkpoint=garbage, resume=True, progress=False)
    foreign = tmp_path / "foreign.pt"
    torch.save({"weights": torch.zeros(3)}, foreign)
    with pytest.raises(ValueError, match="not a vaelib training checkpoint"):
        load_checkpoint(foreign)
    other = tmp_path / "other.pt"
    fit(small_model(latent_dim=2), digits, steps=2, checkpoint=other, progress=False)
    with pytest.raises(ValueError, match="holds a MLPVAE with parameters .* does not match this MLPVAE"):
        fit(small_model(latent_dim=3), digits, steps=4, checkpoint=other, resume=True, progress=False)
    with pytest.raises(ValueError, match="trained without an annealer"):
        fit(small_model(), digits, steps=4, checkpoint=other, resume=True, annealer=Annealer(3), progress=False)


class DatasetLike:
    x = torch.zeros(3, 1, 8, 8)


@pytest.mark.parametrize(
    "kwargs,error,pattern",
    [
        ({}, ValueError, "exactly one of epochs or steps, got epochs=None, steps=None"),
        ({"epochs": 1, "steps": 3}, ValueError, "exactly one of epochs or steps"),
        ({"steps": 0}, ValueError, "steps must be >= 1, got 0"),
        ({"epochs": 1.5}, TypeError, "epochs must be an int, got 1.5"),
        ({"steps": 2, "batch_size": -4}, ValueError, "batch_size must be >= 1, got -4"),
        ({"steps": 2, "log_every": 0}, ValueError, "log_every must be >= 1, got 0"),
        ({"steps": 2, "clip_grad_norm": -1.0}, ValueError, "clip_grad_norm must be > 0 or None, got -1.0"),
        ({"steps": 2, "resume": True}, ValueError, "resume=True needs a checkpoint path"),
    ],
)
def test_invalid_fit_arguments(digits, kwargs, error, pattern):
    with pytest.raises(error, match=pattern):
        fit(small_model(), digits, progress=False, **kwargs)


def test_data_model_mismatch_and_wrong_data_type(digits):
    model = MLPVAE((1, 28, 28), hidden_sizes=(16,), device="cpu")
    with pytest.raises(ValueError, match=r"data samples of shape \(1, 8, 8\) do not fit MLPVAE"):
        fit(model, digits, steps=1, progress=False)
    with pytest.raises(TypeError, match=r"torch.Tensor .*got DatasetLike \(pass e.g. dataset.x"):
        fit(small_model(), DatasetLike(), steps=1, progress=False)
