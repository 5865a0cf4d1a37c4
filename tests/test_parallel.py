"""run_parallel: results in order and equal, bit for bit, to a sequential one-thread run."""
from __future__ import annotations

import pytest
import torch

from vaelib.collapse import train_method
from vaelib.data.sequences import make_synthetic_sequences
from vaelib.parallel import run_parallel


def test_parallel_runs_equal_sequential_ones():
    data = make_synthetic_sequences(300, 30, 6, seed=0)
    calls = [dict(method="vae", tokens=data.tokens[:200], held_out=data.tokens[200:], vocab_size=30, steps=12,
                  log_every=6, embed_dim=8, hidden_dim=8, seed=seed) for seed in (0, 1, 2)]
    before = torch.get_num_threads()
    sequential = run_parallel(train_method, calls, workers=1)
    assert torch.get_num_threads() == before
    parallel = run_parallel(train_method, calls, workers=2)
    for a, b in zip(sequential, parallel):
        assert all(torch.equal(x, y) for x, y in zip(a.model.state_dict().values(), b.model.state_dict().values()))
        assert a.summary == b.summary
    assert sequential[0].summary != sequential[1].summary  # the seeds differ


def test_bad_arguments():
    with pytest.raises(TypeError, match="function must be callable, got 3"):
        run_parallel(3, [{}])
    with pytest.raises(ValueError, match="workers must be a positive int, got 0"):
        run_parallel(print, [{}], workers=0)
    assert run_parallel(print, []) == []


def test_fit_models_returns_trained_models_equal_to_sequential_fits():
    from vaelib import MLPVAE, fit

    data = (torch.rand(64, 1, 8, 8, generator=torch.Generator().manual_seed(0)) > 0.5).float()

    def model(seed):
        torch.manual_seed(seed)
        return MLPVAE((1, 8, 8), hidden_sizes=(8,), device="cpu")

    from vaelib.parallel import fit_models

    jobs = [dict(model=model(s), data=data, steps=5, batch_size=16, seed=s) for s in (0, 1)]
    trained = fit_models(jobs, workers=2)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for (trained_model, history), s in zip(trained, (0, 1)):
            reference = model(s)
            fit(reference, data, steps=5, batch_size=16, seed=s, progress=False)
            assert all(torch.equal(a, b) for a, b in zip(trained_model.state_dict().values(),
                                                         reference.state_dict().values()))
            assert history["step"].tolist() == [4, 5]
    finally:
        torch.set_num_threads(threads)
