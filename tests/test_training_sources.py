"""fit() on other data sources (samplers, DataLoaders, lists, one-shot iterators), exact resume on
each, the on_step_end hook (an LR scheduler stepped per batch) and the Callback base class."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from vaelib import ConvVAE, DSprites, MLPVAE, fit
from vaelib.callbacks import HOOKS, Callback
from vaelib.data.batching import IterableBatches, SamplerBatches, batch_source
from vaelib.losses import BetaVAELoss


@pytest.fixture(scope="module")
def binary() -> torch.Tensor:
    return (torch.rand(300, 1, 8, 8, generator=torch.Generator().manual_seed(0)) > 0.5).float()


def small_model() -> MLPVAE:
    torch.manual_seed(1)
    return MLPVAE((1, 8, 8), hidden_sizes=(16,), device="cpu")


def same_weights(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    return all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))


SOURCES = {
    "dataloader": lambda x: DataLoader(TensorDataset(x), batch_size=32, shuffle=True),
    "dataloader-generator": lambda x: DataLoader(TensorDataset(x), batch_size=32, shuffle=True,
                                                 generator=torch.Generator().manual_seed(5)),
    "dataloader-workers": lambda x: DataLoader(TensorDataset(x, torch.zeros(len(x))), batch_size=40, shuffle=True,
                                               num_workers=2),
    "list": lambda x: [x[i:i + 50] for i in range(0, len(x), 50)],
}


@pytest.mark.parametrize("name", list(SOURCES))
def test_iterable_sources_train_and_resume_exactly(tmp_path, binary, name):
    """2N steps == N steps + checkpoint + resume into fresh objects + N steps, for every source."""
    make = SOURCES[name]
    whole = small_model()
    history = fit(whole, make(binary), steps=22, log_every=4, progress=False)
    assert history["step"].tolist() == [4, 8, 12, 16, 20, 22]
    assert history["recon"].iloc[-1] < history["recon"].iloc[0]
    path = tmp_path / "run.pt"
    fit(small_model(), make(binary), steps=9, log_every=4, checkpoint=path, progress=False)
    resumed = small_model()
    fit(resumed, make(binary), steps=22, log_every=4, checkpoint=path, resume=True, progress=False)
    assert same_weights(whole, resumed)


def test_epochs_of_an_iterable_are_passes(binary):
    loader = DataLoader(TensorDataset(binary), batch_size=100)
    history = fit(small_model(), loader, epochs=2, progress=False)
    assert history["step"].tolist() == [3, 6] and history["epoch"].tolist() == [1.0, 2.0]


def test_dsprites_sampler_trains_and_resumes_exactly(tmp_path):
    def run(steps, **kwargs):
        torch.manual_seed(3)
        model = ConvVAE(32, latent_dim=4, device="cpu", output_logits=True)
        history = fit(model, DSprites(32).sampler(16, seed=2), BetaVAELoss(4.0, logits=True), steps=steps,
                      log_every=3, progress=False, **kwargs)
        return model, history

    whole, history = run(8)
    assert history["step"].tolist() == [3, 6, 8] and np.isnan(history["epoch"]).all()
    path = tmp_path / "sampler.pt"
    run(5, checkpoint=path)
    resumed, _ = run(8, checkpoint=path, resume=True)
    assert same_weights(whole, resumed)


def test_sampler_without_state_trains_but_is_not_resumable(binary):
    calls = []

    def sampler():
        calls.append(1)
        return binary[:16]

    source = batch_source(sampler, None, 0)
    assert isinstance(source, SamplerBatches) and not source.resumable
    fit(small_model(), sampler, steps=4, progress=False)
    assert len(calls) == 4


def test_sources_without_epochs_need_steps(binary):
    with pytest.raises(ValueError, match="have no epochs .*give steps instead of epochs=2"):
        fit(small_model(), DSprites(32).sampler(8), epochs=2, progress=False)
    with pytest.raises(ValueError, match="no len"):
        fit(small_model(), (b for b in [binary[:10]]), epochs=1, progress=False)


def test_one_shot_iterator_runs_out_clearly(binary):
    batches = (binary[i:i + 10] for i in range(0, 30, 10))
    assert isinstance(batch_source(batches, None, 0), IterableBatches)
    with pytest.raises(ValueError, match="the data iterator ran out; pass a re-iterable"):
        fit(small_model(), batches, steps=5, progress=False)


def test_batch_size_with_a_loader_is_an_error(binary):
    with pytest.raises(ValueError, match="batch_size applies to Tensor data; DataLoader makes its own batches, got batch_size=8"):
        fit(small_model(), DataLoader(TensorDataset(binary), batch_size=32), steps=2, batch_size=8, progress=False)


def test_batches_must_hold_tensors():
    with pytest.raises(TypeError, match="each batch must be a torch.Tensor of inputs .*got str"):
        fit(small_model(), [["not", "tensors"]], steps=1, progress=False)


def test_on_step_end_steps_an_lr_scheduler_per_batch(binary):
    model = small_model()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)

    class PerBatch(Callback):
        def on_step_end(self, state):
            scheduler.step()

    history = fit(model, binary, steps=6, batch_size=50, optimizer=optimizer, log_every=2,
                  callbacks=[PerBatch()], progress=False)
    # the row's lr is read after the step's scheduler.step(): 0.1 -> 0.05 after step 2, ...
    assert history["lr"].tolist() == pytest.approx([0.05, 0.025, 0.0125])


def test_callback_base_class_has_every_hook_and_they_run_in_order(binary):
    assert all(callable(getattr(Callback, hook)) for hook in HOOKS)
    seen = []

    class Recorder(Callback):
        def on_train_begin(self, state):
            seen.append("begin")

        def on_step_end(self, state):
            seen.append(f"step{state.step}")

        def on_log(self, state):
            seen.append(f"log{state.step}")
            return {"loss_seen": state.loss}

        def on_epoch_end(self, state):
            seen.append(f"epoch{state.epoch:g}")

        def on_train_end(self, state):
            seen.append("end")

    history = fit(small_model(), binary[:100], epochs=1, batch_size=50, callbacks=[Recorder()], progress=False)
    assert seen == ["begin", "step1", "step2", "epoch1", "log2", "end"]
    assert np.isfinite(history["loss_seen"]).all()
