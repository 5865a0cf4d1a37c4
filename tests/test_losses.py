"""VAELoss and the beta-VAE objectives against independent log-densities (scipy, torch.distributions),
Monte Carlo estimates and hand-computed values."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import stats
from torch.distributions import Normal, kl_divergence as torch_kl

from vaelib import BetaVAELoss, CapacityVAELoss, VAELoss, kl_divergence, gaussian_kl


@pytest.fixture
def gen():
    return torch.Generator().manual_seed(0)


def test_kl_closed_form_matches_monte_carlo_and_torch(gen):
    mu = torch.tensor([[0.5, -1.0, 2.0], [0.0, 0.3, -0.7]], dtype=torch.float64)
    logvar = torch.tensor([[0.2, -1.5, 0.8], [0.0, 1.0, -0.3]], dtype=torch.float64)
    q = Normal(mu, (0.5 * logvar).exp())
    p = Normal(torch.zeros_like(mu), torch.ones_like(mu))
    z = q.sample((400_000,))
    mc = (q.log_prob(z) - p.log_prob(z)).mean(0)  # (B, D)
    closed = gaussian_kl(mu, logvar)
    assert torch.allclose(closed, torch_kl(q, p))
    assert torch.allclose(closed, mc, atol=0.02)
    assert kl_divergence(mu, logvar).item() == pytest.approx(closed.sum(1).mean().item())
    assert kl_divergence(torch.zeros(4, 3), torch.zeros(4, 3)).item() == 0.0


def test_bernoulli_matches_scipy_for_binary_targets(gen):
    probs = torch.rand(5, 1, 4, 4, generator=gen, dtype=torch.float64) * 0.98 + 0.01
    x0 = (torch.rand(5, 1, 4, 4, generator=gen, dtype=torch.float64) > 0.5).double()
    recon, _ = VAELoss()(probs, x0, torch.zeros(5, 2), torch.zeros(5, 2))
    logpmf = stats.bernoulli.logpmf(x0.numpy(), probs.numpy()).reshape(5, -1).sum(1)
    assert recon.item() == pytest.approx(-logpmf.mean(), rel=1e-10)


def test_bernoulli_continuous_targets_and_logits_agree(gen):
    logits = torch.randn(6, 10, generator=gen, dtype=torch.float64) * 3
    x0 = torch.rand(6, 10, generator=gen, dtype=torch.float64)
    p = torch.sigmoid(logits).numpy()
    by_hand = -(x0.numpy() * np.log(p) + (1 - x0.numpy()) * np.log1p(-p)).sum(1).mean()
    mu = torch.zeros(6, 2)
    assert VAELoss()(torch.sigmoid(logits), x0, mu, mu)[0].item() == pytest.approx(by_hand, rel=1e-9)
    assert VAELoss(logits=True)(logits, x0, mu, mu)[0].item() == pytest.approx(by_hand, rel=1e-9)


@pytest.mark.parametrize("logits", [False, True])
def test_saturated_reconstructions_give_finite_values_and_gradients(logits):
    x0 = torch.tensor([[0.0, 1.0, 0.0, 1.0]])
    if logits:
        x = torch.tensor([[1e4, -1e4, -1e4, 1e4]], requires_grad=True)
    else:
        x = torch.tensor([[1.0, 0.0, 0.0, 1.0]], requires_grad=True)  # two confidently wrong pixels
    mu = torch.zeros(1, 2, requires_grad=True)
    logvar = torch.zeros(1, 2, requires_grad=True)
    recon, kld = VAELoss(logits=logits)(x, x0, mu, logvar)
    (recon + kld).backward()
    assert torch.isfinite(recon) and recon.item() > 100
    assert torch.isfinite(x.grad).all() and torch.isfinite(mu.grad).all()


def test_gaussian_fixed_scale_matches_scipy(gen):
    x = torch.randn(4, 3, 5, generator=gen, dtype=torch.float64)
    x0 = torch.randn(4, 3, 5, generator=gen, dtype=torch.float64)
    recon, _ = VAELoss("gaussian", scale=0.3)(x, x0, torch.zeros(4, 2), torch.zeros(4, 2))
    logpdf = stats.norm.logpdf(x0.numpy(), loc=x.numpy(), scale=0.3).reshape(4, -1).sum(1)
    assert recon.item() == pytest.approx(-logpdf.mean(), rel=1e-10)


def test_gaussian_learned_scale_is_optimal_at_rms_error(gen):
    x = torch.randn(32, 20, generator=gen)
    x0 = x + 0.4 * torch.randn(32, 20, generator=gen)
    loss = VAELoss("gaussian", scale="learned")
    assert [name for name, _ in loss.named_parameters()] == ["log_scale"]
    with torch.no_grad():  # stationary point of the Gaussian NLL in sigma: sigma^2 = mean squared error
        loss.log_scale.fill_(0.5 * math.log((x - x0).square().mean().item()))
    recon, _ = loss(x, x0, torch.zeros(32, 2), torch.zeros(32, 2))
    recon.backward()
    assert abs(loss.log_scale.grad.item()) < 1e-3


def test_categorical_matches_hand_log_softmax_and_ignores_padding(gen):
    logits = torch.randn(3, 4, 6, generator=gen, dtype=torch.float64)
    tokens = torch.randint(1, 6, (3, 4), generator=gen)
    tokens[0, 3] = 0
    tokens[2, 2:] = 0
    logp = logits.numpy() - np.log(np.exp(logits.numpy()).sum(-1, keepdims=True))
    picked = np.take_along_axis(logp, tokens.numpy()[..., None], -1)[..., 0]
    mask = tokens.numpy() != 0
    mu = torch.zeros(3, 2)
    loss = VAELoss("categorical", ignore_index=0)
    assert loss(logits, tokens, mu, mu)[0].item() == pytest.approx(-(picked * mask).sum(1).mean(), rel=1e-10)
    assert VAELoss("categorical")(logits, tokens, mu, mu)[0].item() == pytest.approx(-picked.sum(1).mean(), rel=1e-10)
    mean = VAELoss("categorical", reduction="mean", ignore_index=0)(logits, tokens, mu, mu)[0]
    assert mean.item() == pytest.approx(-(picked * mask).sum() / mask.sum(), rel=1e-10)


def test_mean_reduction_is_the_sum_divided_by_the_data_dimension(gen):
    x = torch.rand(8, 1, 8, 8, generator=gen)
    x0 = torch.rand(8, 1, 8, 8, generator=gen)
    mu, logvar = torch.randn(8, 3, generator=gen), torch.randn(8, 3, generator=gen)
    r_sum, k_sum = VAELoss()(x, x0, mu, logvar)
    r_mean, k_mean = VAELoss(reduction="mean")(x, x0, mu, logvar)
    assert r_mean.item() == pytest.approx(r_sum.item() / 64, rel=1e-6)
    assert k_mean.item() == k_sum.item()  # the KL stays a per-sample sum: relatively 64x heavier


def test_multiple_latent_samples_average_the_reconstruction(gen):
    x0 = torch.rand(4, 10, generator=gen)
    x = torch.rand(3, 4, 10, generator=gen)
    mu = torch.zeros(4, 2)
    loss = VAELoss()
    per_sample = [loss(x[s], x0, mu, mu)[0].item() for s in range(3)]
    assert loss(x, x0, mu, mu)[0].item() == pytest.approx(np.mean(per_sample), rel=1e-6)


def test_free_bits_floor_per_dimension():
    # dimension 0: KL 0.125 nats (mu=0.5), dimension 1: KL 2 nats (mu=2) for both samples
    mu = torch.tensor([[0.5, 2.0], [0.5, 2.0]], requires_grad=True)
    logvar = torch.zeros(2, 2)
    kld = VAELoss(free_bits=0.5).kl(mu, logvar)
    assert kld.item() == pytest.approx(0.5 + 2.0)
    kld.backward()
    assert mu.grad[:, 0].abs().sum() == 0 and mu.grad[:, 1].abs().sum() > 0
    assert VAELoss(free_bits=0.1).kl(mu, logvar).item() == pytest.approx(0.125 + 2.0)


def test_beta_vae_h_total():
    recon, kld = torch.tensor(100.0), torch.tensor(7.0)
    assert BetaVAELoss(beta=4.0).total(recon, kld).item() == 128.0
    assert BetaVAELoss(beta=4.0).total(recon, kld, weight=0.5).item() == 114.0
    assert VAELoss().total(recon, kld, 0.25).item() == 101.75


def test_capacity_schedule_values_and_evaluation_does_not_advance():
    loss = CapacityVAELoss(gamma=10.0, capacity_max=25.0, capacity_steps=100)
    x0, x = torch.rand(2, 5), torch.rand(2, 5)
    mu, logvar = torch.zeros(2, 3), torch.zeros(2, 3)
    seen = []
    for step in range(130):
        with torch.no_grad():
            loss(x, x0, mu, logvar)  # evaluation: never advances C
            loss(x, x0, mu, logvar)
        seen.append(loss.capacity)
        loss.step()
    assert seen[0] == 0.0 and seen[40] == pytest.approx(10.0) and seen[100] == 25.0 and seen[129] == 25.0
    assert loss.total(torch.tensor(1.0), torch.tensor(30.0)).item() == pytest.approx(1.0 + 10.0 * 5.0)
    assert loss.total(torch.tensor(1.0), torch.tensor(20.0)).item() == pytest.approx(1.0 + 10.0 * 5.0)


def test_capacity_state_round_trips_through_module_state_dict(tmp_path):
    loss = CapacityVAELoss(capacity_steps=50)
    for _ in range(20):
        loss.step()
    torch.save(loss.state_dict(), tmp_path / "loss.pt")
    fresh = CapacityVAELoss(capacity_steps=50)
    fresh.load_state_dict(torch.load(tmp_path / "loss.pt", weights_only=True))
    assert fresh.capacity == loss.capacity == pytest.approx(25.0 * 20 / 50)


@pytest.mark.parametrize(
    "make,error,pattern",
    [
        (lambda: VAELoss("poisson"), ValueError, "likelihood must be one of.*'poisson'"),
        (lambda: VAELoss(reduction="none"), ValueError, "reduction must be one of.*'none'"),
        (lambda: VAELoss(free_bits=-1.0), ValueError, "free_bits must be >= 0, got -1.0"),
        (lambda: VAELoss(free_bits="1"), TypeError, "free_bits.*'1'"),
        (lambda: VAELoss(logits=1), TypeError, "logits must be True or False, got 1"),
        (lambda: VAELoss("gaussian", logits=True), ValueError, "logits=True.*'gaussian'"),
        (lambda: VAELoss("gaussian", scale=0.0), ValueError, "scale must be > 0, got 0.0"),
        (lambda: VAELoss("gaussian", scale="auto"), ValueError, "scale.*'auto'"),
        (lambda: VAELoss("categorical", ignore_index=1.5), TypeError, "ignore_index.*1.5"),
        (lambda: BetaVAELoss(beta=-2), ValueError, "beta.*-2"),
        (lambda: CapacityVAELoss(gamma=float("inf")), ValueError, "gamma.*inf"),
        (lambda: CapacityVAELoss(capacity_max=-1), ValueError, "capacity_max.*-1"),
        (lambda: CapacityVAELoss(capacity_steps=0), ValueError, "capacity_steps must be >= 1, got 0"),
    ],
)
def test_invalid_constructor_arguments(make, error, pattern):
    with pytest.raises(error, match=pattern):
        make()


def test_invalid_call_inputs():
    mu = torch.zeros(4, 2)
    loss = VAELoss()
    with pytest.raises(ValueError, match=r"shape \(4, 10\).*x0's shape \(4, 12\)"):
        loss(torch.rand(4, 10), torch.rand(4, 12), mu, mu)
    with pytest.raises(ValueError, match=r"targets x0 must lie in \[0, 1\], got values in \[0, 2"):
        loss(torch.rand(4, 3), torch.tensor([[0.0, 1.0, 2.0]] * 4), mu, mu)
    with pytest.raises(ValueError, match=r"reconstructions x must be probabilities.*\[-1, .*logits=True"):
        loss(torch.tensor([[-1.0, 0.5, 0.5]] * 4), torch.rand(4, 3), mu, mu)
    with pytest.raises(ValueError, match=r"mu and logvar.*\(4, 2\) and \(4, 3\)"):
        loss(torch.rand(4, 3), torch.rand(4, 3), mu, torch.zeros(4, 3))
    with pytest.raises(ValueError, match="mu has batch size 4 but x0 has batch size 5"):
        loss(torch.rand(5, 3), torch.rand(5, 3), mu, mu)
    with pytest.raises(TypeError, match="integer tokens, got dtype torch.float32"):
        VAELoss("categorical")(torch.randn(4, 3, 7), torch.rand(4, 3), mu, mu)


def test_log_likelihood_per_sample_and_per_latent_draw(gen):
    x0 = (torch.rand(4, 6, generator=gen, dtype=torch.float64) > 0.5).double()
    probs = torch.rand(3, 4, 6, generator=gen, dtype=torch.float64) * 0.9 + 0.05
    ll = VAELoss().log_likelihood(probs, x0)
    assert ll.shape == (3, 4)
    expected = stats.bernoulli.logpmf(x0.numpy()[None], probs.numpy()).sum(-1)
    assert np.allclose(ll.numpy(), expected)
    assert VAELoss().log_likelihood(probs[0], x0).shape == (4,)
    logits = torch.randn(2, 5, 7, generator=gen, dtype=torch.float64)
    tokens = torch.randint(0, 7, (2, 5), generator=gen)
    per_seq = VAELoss("categorical").log_likelihood(logits, tokens)
    assert per_seq.shape == (2,)
    assert torch.allclose(per_seq, torch.distributions.Categorical(logits=logits).log_prob(tokens).sum(-1))


def test_gaussian_beta_rule_against_a_per_pixel_mse():
    """beta = N * w / (2 sigma^2): multiplying PyTorch-VAE's MSE + w * KL by N / (2 sigma^2) gives
    vaelib's per-image Gaussian objective, up to the constant of the log-likelihood."""
    torch.manual_seed(0)
    x, x0 = torch.rand(3, 1, 8, 8), torch.rand(3, 1, 8, 8)
    mu, logvar = torch.randn(3, 4), torch.randn(3, 4)
    n, w = 64, 0.01
    for sigma in (1.0, 0.5**0.5, 0.3):
        recon, kld = BetaVAELoss(n * w / (2 * sigma**2), "gaussian", scale=sigma)(x, x0, mu, logvar)
        ours = recon + n * w / (2 * sigma**2) * kld
        theirs = torch.nn.functional.mse_loss(x, x0) + w * kld
        constant = n * (math.log(sigma) + 0.5 * math.log(2 * math.pi))
        assert (ours - constant).item() == pytest.approx(n / (2 * sigma**2) * theirs.item(), rel=1e-5)


def test_the_seeds_swapped_binary_cross_entropy_fails_on_binary_data_and_ours_does_not():
    """The seed's VAELoss calls binary_cross_entropy(x0, x): data as probabilities, reconstruction as
    targets. With binary data its log terms hit log(0): the loss is torch's clamp (100 nats per
    element), not the likelihood, and its gradients are infinite, so the first optimiser step turns
    the weights into NaN. vaelib's binary_cross_entropy(x, x0) is the likelihood, with finite gradients."""
    x0 = torch.tensor([[0.0, 1.0, 1.0, 0.0]])
    x = torch.tensor([[0.2, 0.7, 0.9, 0.4]], requires_grad=True)
    swapped = torch.nn.functional.binary_cross_entropy(x0, x, reduction="sum")
    assert swapped.item() == pytest.approx(100.0 * (0.2 + 0.3 + 0.1 + 0.4))
    swapped.backward()
    assert torch.isinf(x.grad).all()
    x.grad = None
    recon, _ = VAELoss()(x, x0, torch.zeros(1, 2), torch.zeros(1, 2))
    assert recon.item() == pytest.approx(-(math.log(0.8) + math.log(0.7) + math.log(0.9) + math.log(0.6)))
    recon.backward()
    assert torch.isfinite(x.grad).all()
