"""Faults and bad inputs that used to give wrong results from fit, evaluate and the losses: each
now fails early with an error naming the value, or does the right thing (issue "nothing silently
wrong", items 1, 6 and 7)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from vaelib import CapacityVAELoss, MLPVAE, NonFiniteLossError, VAELoss, evaluate, fit, load_checkpoint


@pytest.fixture(scope="module")
def binary() -> torch.Tensor:
    return (torch.rand(256, 1, 8, 8, generator=torch.Generator().manual_seed(0)) > 0.5).float()


def small_model(seed: int = 1) -> MLPVAE:
    torch.manual_seed(seed)
    return MLPVAE((1, 8, 8), hidden_sizes=(16,), device="cpu")


# -- item 1: a checkpoint is never written with non-finite state -------------------------------
def test_nan_gradients_with_a_finite_loss_never_reach_a_checkpoint(tmp_path, binary):
    model = small_model()
    path = tmp_path / "run.pt"
    poisoned = {"on": False}
    model.decoder[-2].weight.register_hook(lambda grad: grad * float("nan") if poisoned["on"] else grad)

    class PoisonAfterStep3:
        def on_step_end(self, state):
            poisoned["on"] = state.step >= 3  # the backward pass of step 4 yields NaN gradients

    with pytest.raises(NonFiniteLossError,
                       match=r"non-finite parameters after step 4 .*loss .* was\).*kept at .*run.pt' \(step 3\)"):
        fit(model, binary, steps=10, batch_size=32, log_every=1, checkpoint=path,
            callbacks=[PoisonAfterStep3()], progress=False)
    kept = load_checkpoint(path)
    assert kept["step"] == 3
    assert all(torch.isfinite(t).all() for t in kept["model"].values())


def test_nan_loss_message_without_a_checkpoint_promises_nothing(binary):
    data = binary[:64].clone()
    data[0, 0, 0, 0] = float("nan")
    with pytest.raises(NonFiniteLossError) as caught:
        fit(small_model(), data, steps=2, progress=False)
    assert "checkpoint" not in str(caught.value)


# -- item 6: fit fails before training, not after an epoch -------------------------------------
@pytest.mark.parametrize(
    "eval_data,error,pattern",
    [
        (np.zeros((4, 1, 8, 8)), TypeError, "eval_data must be a torch.Tensor of samples .*ndarray"),
        (torch.zeros(0, 1, 8, 8), ValueError, r"eval_data must hold at least one sample .*\(0, 1, 8, 8\)"),
        (torch.zeros(4, 1, 6, 6), ValueError, r"eval_data samples of shape \(1, 6, 6\) do not fit MLPVAE"),
    ],
)
def test_bad_eval_data_fails_before_any_step(tmp_path, binary, eval_data, error, pattern):
    path = tmp_path / "run.pt"
    with pytest.raises(error, match=pattern):
        fit(small_model(), binary, steps=3, eval_data=eval_data, checkpoint=path, progress=False)
    assert not path.exists()


def test_checkpoint_naming_a_directory_fails_before_training_and_leaves_nothing(tmp_path, binary):
    with pytest.raises(ValueError, match=f"checkpoint must be a file path, got the directory '{tmp_path}'"):
        fit(small_model(), binary, steps=3, checkpoint=tmp_path, progress=False)
    assert list(tmp_path.iterdir()) == []


def test_an_optimizer_of_another_model_is_refused(binary):
    other = small_model(seed=2)
    with pytest.raises(ValueError, match="optimizer holds none of the MLPVAE's parameters"):
        fit(small_model(), binary, steps=2, optimizer=torch.optim.Adam(other.parameters()), progress=False)
    with pytest.raises(TypeError, match="optimizer must be a torch.optim.Optimizer, got list"):
        fit(small_model(), binary, steps=2, optimizer=[1, 2], progress=False)


@pytest.mark.parametrize("change", [{"data": slice(0, 200)}, {"batch_size": 16}])
def test_resuming_with_other_data_or_batch_size_names_both(tmp_path, binary, change):
    path = tmp_path / "run.pt"
    fit(small_model(), binary, steps=4, batch_size=32, checkpoint=path, progress=False)
    data = binary[change["data"]] if "data" in change else binary
    with pytest.raises(ValueError, match=r"was trained on data \{'kind': 'tensor', 'samples': 256, 'batch_size': 32\}, "
                                          r"but this run has .*same data and batch size"):
        fit(small_model(), data, steps=8, batch_size=change.get("batch_size", 32), checkpoint=path, resume=True,
            progress=False)


def test_resume_true_needs_the_file_and_auto_starts_afresh(tmp_path, binary):
    path = tmp_path / "missing.pt"
    with pytest.raises(FileNotFoundError, match="resume=True but there is no checkpoint at .*missing.pt.*resume='auto'"):
        fit(small_model(), binary, steps=2, checkpoint=path, resume=True, progress=False)
    fresh = fit(small_model(), binary, steps=2, checkpoint=path, resume="auto", progress=False)
    assert path.exists() and fresh["step"].tolist() == [2]
    again = fit(small_model(), binary, steps=4, checkpoint=path, resume="auto", progress=False)
    assert again["step"].tolist() == [2, 4]  # continued from the file
    with pytest.raises(ValueError, match="resume must be True, False or 'auto', got 'yes'"):
        fit(small_model(), binary, steps=2, checkpoint=path, resume="yes", progress=False)


@pytest.mark.parametrize(
    "kwargs,error,pattern",
    [
        ({"batch_size": -5}, ValueError, "batch_size must be >= 1, got -5"),
        ({"batch_size": 2.5}, TypeError, "batch_size must be an int, got 2.5"),
    ],
)
def test_evaluate_refuses_bad_batch_sizes(binary, kwargs, error, pattern):
    with pytest.raises(error, match=pattern):
        evaluate(small_model(), VAELoss(), binary, **kwargs)


def test_evaluate_refuses_empty_data():
    with pytest.raises(ValueError, match=r"data must hold at least one sample along dim 0, got shape \(0, 1, 8, 8\)"):
        evaluate(small_model(), VAELoss(), torch.zeros(0, 1, 8, 8))


# -- item 7: numpy integers work where Python ints do; options that do not apply are errors ---------
def test_numpy_integers_are_accepted(binary):
    a, b = small_model(), small_model()
    fit(a, binary, steps=3, batch_size=np.int64(32), seed=np.int64(3), log_every=np.int32(3), progress=False)
    fit(b, binary, steps=3, batch_size=32, seed=3, log_every=3, progress=False)
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))
    loss = VAELoss("categorical", ignore_index=np.int64(0))
    assert loss.ignore_index == 0 and type(loss.ignore_index) is int


@pytest.mark.parametrize(
    "make,error,pattern",
    [
        (lambda: CapacityVAELoss(capacity_steps=1e5), TypeError, r"capacity_steps must be an int, got 100000.0"),
        (lambda: VAELoss(scale=0.5), ValueError, "scale applies to the gaussian likelihood, got likelihood='bernoulli'"),
        (lambda: VAELoss("categorical", scale="learned"), ValueError, "scale applies to the gaussian likelihood"),
        (lambda: VAELoss(ignore_index=0), ValueError, "ignore_index applies to the categorical likelihood"),
        (lambda: VAELoss("gaussian", ignore_index=3), ValueError, "ignore_index applies to the categorical"),
    ],
)
def test_options_that_would_be_ignored_are_errors(make, error, pattern):
    with pytest.raises(error, match=pattern):
        make()


def test_per_sample_loss_shares_a_learned_scale_and_drops_free_bits():
    trained = VAELoss("gaussian", reduction="mean", free_bits=1.0, scale="learned")
    plain = trained.per_sample()
    assert plain.reduction == "sum" and plain.free_bits == 0.0 and plain.log_scale is trained.log_scale
    assert VAELoss("gaussian", scale=0.3).per_sample().scale == 0.3
    assert VAELoss("categorical", ignore_index=0).per_sample().ignore_index == 0


def test_held_out_evaluation_does_not_change_the_training_run(binary):
    plain, evaluated = small_model(), small_model()
    fit(plain, binary, steps=6, batch_size=32, log_every=2, progress=False)
    history = fit(evaluated, binary, steps=6, batch_size=32, log_every=2, eval_data=binary[:40], progress=False)
    assert "eval_elbo" in history
    assert all(torch.equal(a, b) for a, b in zip(plain.state_dict().values(), evaluated.state_dict().values()))
