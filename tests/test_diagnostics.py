"""Collapse diagnostics against closed forms: linear-Gaussian mutual information, exact log p(x)
of a linear-Gaussian VAE (scipy), the analytic ELBO, hand-built activities and torch's Gaussian KL."""
from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from sklearn.datasets import load_digits
from torch import nn
from torch.distributions import Normal, kl_divergence as torch_kl

from vaelib.diagnostics import (
    CollapseMonitor,
    active_units,
    dead_encoder_units,
    iwae_log_likelihood,
    kl_per_dimension,
    mutual_information,
    posterior_parameters,
    unit_activity,
)
from vaelib.losses import VAELoss, kl_divergence
from vaelib.models.base import VAE
from vaelib.models.conv import ConvVAE
from vaelib.models.mlp import MLPVAE
from vaelib.models.sequence import LSTMVAE
from vaelib.training import TrainState, fit

SIGMA = 0.5  # observation noise of the linear-Gaussian model


class LinearGaussianVAE(VAE):
    """p(z) = N(0, I), p(x|z) = N(Wz + b, SIGMA^2 I); q(z|x) = N(Ax + c, diag(exp(logvar)))."""

    def __init__(self, W: np.ndarray, b: np.ndarray, A: np.ndarray, c: np.ndarray, logvar: np.ndarray) -> None:
        super().__init__(latent_dim=W.shape[1])
        tensor = lambda a: nn.Parameter(torch.as_tensor(a, dtype=torch.float64), requires_grad=False)  # noqa: E731
        self.W, self.b, self.A, self.c, self.logvar = map(tensor, (W, b, A, c, logvar))
        self.modes_seen: list[bool] = []

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        self.modes_seen.append(self.training)
        mu = x @ self.A.T + self.c
        return mu, self.logvar.expand_as(mu)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return z @ self.W.T + self.b


@pytest.fixture(scope="module")
def linear_gaussian():
    """W with orthogonal columns, so the exact posterior is diagonal: Var = 1 / (1 + s_d^2 / SIGMA^2)."""
    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(rng.normal(size=(4, 2)))
    scales = np.array([1.5, 0.7])
    W, b = q * scales, rng.normal(size=4)
    post_var = 1.0 / (1.0 + scales**2 / SIGMA**2)
    A = (post_var[:, None] * W.T) / SIGMA**2  # posterior mean A (x - b)
    z = rng.normal(size=(300, 2))
    x = z @ W.T + b + SIGMA * rng.normal(size=(300, 4))
    log_px = stats.multivariate_normal(b, W @ W.T + SIGMA**2 * np.eye(4)).logpdf(x)
    return {"W": W, "b": b, "A": A, "post_var": post_var, "x": x, "log_px": log_px}


def exact_model(lg) -> LinearGaussianVAE:
    return LinearGaussianVAE(lg["W"], lg["b"], lg["A"], -lg["A"] @ lg["b"], np.log(lg["post_var"]))


def suboptimal(lg) -> tuple[LinearGaussianVAE, np.ndarray]:
    """A shrunk, over-dispersed encoder and the analytic ELBO of each input under it."""
    A, c, var = 0.6 * lg["A"], -0.6 * lg["A"] @ lg["b"], 3.0 * lg["post_var"]
    W, b, x = lg["W"], lg["b"], lg["x"]
    m = x @ A.T + c
    expected_ll = stats.norm(m @ W.T + b, SIGMA).logpdf(x).sum(1) - 0.5 * (W**2 @ var).sum() / SIGMA**2
    kl = 0.5 * (m**2 + var - 1.0 - np.log(var)).sum(1)
    return LinearGaussianVAE(W, b, A, c, np.log(var)), expected_ll - kl


def gaussian_objective() -> VAELoss:
    return VAELoss("gaussian", scale=SIGMA)


# ----------------------------------------------------------------------------- posterior_parameters


@pytest.mark.parametrize("training", [True, False])
def test_posterior_parameters_batches_in_eval_mode_and_restores_mode(linear_gaussian, training):
    model = exact_model(linear_gaussian).train(training)
    x = torch.as_tensor(linear_gaussian["x"])
    mu, logvar = posterior_parameters(model, x, batch_size=7)
    assert model.training is training
    assert model.modes_seen and not any(model.modes_seen)  # every encoder call in eval mode
    assert len(model.modes_seen) == math.ceil(300 / 7)
    expected = (linear_gaussian["x"] - linear_gaussian["b"]) @ linear_gaussian["A"].T
    np.testing.assert_allclose(mu.numpy(), expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(logvar.exp().numpy(), np.tile(linear_gaussian["post_var"], (300, 1)), rtol=1e-12)
    assert mu.device.type == "cpu" and not mu.requires_grad


# ----------------------------------------------------------------------------- KL per dimension


def test_kl_per_dimension_matches_torch_distributions_and_hand_values():
    mu = torch.tensor([[1.0, 0.0, 2.0], [-1.0, 0.0, 0.0]], dtype=torch.float64)
    logvar = torch.tensor([[0.0, math.log(2.0), 0.0], [0.0, math.log(2.0), -1.0]], dtype=torch.float64)
    by_hand = [0.5, 0.5 * (2.0 - 1.0 - math.log(2.0)), (2.0 + 0.5 * math.exp(-1.0)) / 2]
    torch_value = torch_kl(Normal(mu, (0.5 * logvar).exp()), Normal(0.0, 1.0)).mean(0)
    np.testing.assert_allclose(kl_per_dimension(mu, logvar).numpy(), torch_value.numpy(), rtol=1e-12)
    np.testing.assert_allclose(kl_per_dimension(mu, logvar).numpy(), by_hand, rtol=1e-12)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 6), st.integers(1, 5), st.integers(0, 2**31))
def test_kl_per_dimension_is_nonnegative_and_sums_to_the_kl_term(n, d, seed):
    gen = torch.Generator().manual_seed(seed)
    mu, logvar = torch.randn(n, d, generator=gen) * 2, torch.randn(n, d, generator=gen)
    per_dim = kl_per_dimension(mu, logvar)
    assert per_dim.shape == (d,) and (per_dim >= 0).all()
    assert per_dim.sum().item() == pytest.approx(kl_divergence(mu, logvar).item(), rel=1e-5)
    assert kl_per_dimension(torch.zeros(n, d), torch.zeros(n, d)).abs().max() == 0


# ----------------------------------------------------------------------------- active units


def with_activities(variances: list[float], n: int = 50, seed: int = 0) -> torch.Tensor:
    """(n, D) posterior means whose per-column unbiased variances are exactly ``variances``, plus offsets."""
    raw = np.random.default_rng(seed).normal(size=(n, len(variances)))
    standard = (raw - raw.mean(0)) / raw.std(0, ddof=1)
    return torch.as_tensor(standard * np.sqrt(variances) + np.arange(len(variances)) * 10.0)


def test_active_units_counts_units_above_the_threshold():
    mu = with_activities([1.0, 0.5, 0.02, 0.005, 1e-6, 0.0])
    np.testing.assert_allclose(unit_activity(mu).numpy(), np.var(mu.numpy(), axis=0, ddof=1), rtol=1e-12)
    np.testing.assert_allclose(unit_activity(mu).numpy(), [1.0, 0.5, 0.02, 0.005, 1e-6, 0.0], atol=1e-12)
    assert active_units(mu) == 3  # Burda et al.'s 0.01
    assert active_units(mu, threshold=0.1) == 2
    assert active_units(mu, threshold=0.0) == 5
    assert active_units(torch.ones(10, 4)) == 0


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.one_of(st.floats(0.0, 0.006), st.floats(0.02, 10.0)), min_size=1, max_size=8),
    st.integers(0, 1000),
)
def test_active_units_property(variances, seed):
    mu = with_activities(variances, seed=seed)
    assert active_units(mu) == sum(v > 0.01 for v in variances)
    assert active_units(mu + 123.0) == active_units(mu)  # a shift of the codes changes nothing


class TwoLayerEncoderVAE(VAE):
    """Encoder Linear(2, 4) -> ReLU -> Linear(4, 3) -> ReLU -> heads; decoder Linear -> ReLU (never run by encode)."""

    def __init__(self) -> None:
        super().__init__(latent_dim=1)
        self.first, self.act1 = nn.Linear(2, 4), nn.ReLU()
        self.second, self.act2 = nn.Linear(4, 3), nn.ReLU()
        self.mu, self.logvar = nn.Linear(3, 1), nn.Linear(3, 1)
        self.decoder = nn.Sequential(nn.Linear(1, 2), nn.ReLU())
        with torch.no_grad():
            # unit k of the first layer is x_0 + bias_k: with x_0 in [0, 1), biases -5 and -1 never fire
            self.first.weight.copy_(torch.tensor([[1.0, 0.0]] * 4))
            self.first.bias.copy_(torch.tensor([0.0, -5.0, 0.5, -1.0]))
            self.second.weight.zero_()
            self.second.bias.copy_(torch.tensor([-1.0, -1.0, -1.0]))  # every unit dead: the posterior ignores x

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.act2(self.second(self.act1(self.first(x))))
        return self.mu(h), self.logvar(h)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z)


def test_dead_encoder_units_counts_units_no_input_activates():
    model = TwoLayerEncoderVAE().train()
    x = torch.rand(50, 2, generator=torch.Generator().manual_seed(0))
    shares = dead_encoder_units(model, x, batch_size=7)  # batches of 7: a unit alive in any batch is alive
    assert shares == {"act1": 0.5, "act2": 1.0}  # the decoder's ReLU is not run by encode
    assert model.training  # mode restored
    assert not any(m._forward_hooks for m in model.modules())  # hooks removed
    mu, _ = posterior_parameters(model, x)
    assert float(unit_activity(mu)[0]) == 0.0  # a dead layer: the same posterior for every x


def test_dead_encoder_units_of_an_untrained_conv_vae_are_partial():
    model = ConvVAE(image_size=32, latent_dim=4)
    x = torch.rand(16, 1, 32, 32, generator=torch.Generator().manual_seed(1))
    shares = dead_encoder_units(model, x)
    assert list(shares) == [name for name, m in model.named_modules() if isinstance(m, nn.ReLU)
                            and name.startswith("encoder")]
    assert all(0.0 <= share < 1.0 for share in shares.values())


def test_dead_encoder_units_refuses_bad_input():
    with pytest.raises(TypeError, match="model must be a vaelib VAE .*got Linear"):
        dead_encoder_units(nn.Linear(2, 2), torch.zeros(3, 2))
    with pytest.raises(ValueError, match=r"data must hold at least one sample, got shape \(0, 2\)"):
        dead_encoder_units(TwoLayerEncoderVAE(), torch.zeros(0, 2))
    with pytest.raises(ValueError, match="batch_size must be a positive int.*0"):
        dead_encoder_units(TwoLayerEncoderVAE(), torch.zeros(3, 2), batch_size=0)
    with pytest.raises(ValueError, match="model.encode of LinearGaussianVAE runs no torch.nn.ReLU module"):
        eye = np.eye(2)
        dead_encoder_units(LinearGaussianVAE(eye, np.zeros(2), eye, np.zeros(2), np.zeros(2)),
                           torch.zeros(3, 2, dtype=torch.float64))


# ----------------------------------------------------------------------------- mutual information


def linear_gaussian_posteriors(a: list[float], v: list[float], n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """x ~ N(0, 1) per dimension and q(z_d|x) = N(a_d x_d, v_d)."""
    x = torch.randn(n, len(a), generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    return torch.tensor(a) * x, torch.log(torch.tensor(v, dtype=torch.float64)).expand(n, len(a))


@pytest.mark.parametrize("a,v", [(1.0, 1.0), (2.0, 0.25), (0.5, 1.0), (3.0, 0.01)])
def test_mutual_information_of_a_linear_gaussian_encoder(a, v):
    # q(z) = N(0, a^2 + v), so I(x; z) = h(z) - h(z|x) = 0.5 log((a^2 + v) / v)
    mu, logvar = linear_gaussian_posteriors([a], [v], 4000, seed=1)
    # Monte Carlo s.d. of the estimate at N = 4000 is about 0.01 nats (measured over 20 seeds)
    assert mutual_information(mu, logvar, seed=2) == pytest.approx(0.5 * math.log((a * a + v) / v), abs=0.05)


def test_mutual_information_adds_over_independent_dimensions_and_is_float32_safe():
    a, v = [1.0, 2.0, 0.0], [1.0, 0.25, 1.0]
    mu, logvar = linear_gaussian_posteriors(a, v, 4000, seed=3)
    closed = sum(0.5 * math.log((ad * ad + vd) / vd) for ad, vd in zip(a, v))
    assert mutual_information(mu.float(), logvar.float(), seed=4) == pytest.approx(closed, abs=0.06)


@pytest.mark.parametrize("mean,logvar_value", [(0.0, 0.0), (1.5, -2.0)])
def test_mutual_information_vanishes_for_a_collapsed_encoder(mean, logvar_value):
    mu, logvar = torch.full((2000, 4), mean), torch.full((2000, 4), logvar_value)
    assert abs(mutual_information(mu, logvar, seed=5)) < 0.1  # s.d. sqrt(D / 2 / N) = 0.03


def test_mutual_information_saturates_at_log_n_for_separated_posteriors():
    # each draw lies in its own posterior only: log q(z_n) = log q(z_n|x_n) - log N, so I = log N
    mu, logvar = torch.arange(100.0).unsqueeze(1), torch.full((100, 1), -10.0)
    assert mutual_information(mu, logvar, seed=6) == pytest.approx(math.log(100), abs=0.3)


def test_mutual_information_is_seeded_and_chunking_invariant():
    mu, logvar = linear_gaussian_posteriors([1.0, 0.5], [0.5, 1.0], 500, seed=7)
    reference = mutual_information(mu, logvar, seed=8)
    assert mutual_information(mu, logvar, seed=8, batch_size=7) == pytest.approx(reference, rel=1e-12)
    assert mutual_information(mu, logvar, seed=torch.Generator().manual_seed(8)) == pytest.approx(reference, rel=1e-12)
    assert mutual_information(mu, logvar, seed=9) != reference


# ----------------------------------------------------------------------------- IWAE


@pytest.mark.parametrize("k,batch_size", [(1, 512), (5, 512), (7, 16)])
def test_iwae_with_the_exact_posterior_is_log_p_x_for_every_draw(linear_gaussian, k, batch_size):
    # with q = p(z|x) every importance weight equals p(x); batch_size 16 splits K into chunks of 1
    model = exact_model(linear_gaussian)
    bound = iwae_log_likelihood(model, torch.as_tensor(linear_gaussian["x"]), k=k,
                                objective=gaussian_objective(), batch_size=batch_size)
    assert bound.shape == (300,) and bound.dtype == torch.float64
    np.testing.assert_allclose(bound.numpy(), linear_gaussian["log_px"], rtol=1e-10, atol=1e-10)


def test_iwae_bound_is_the_elbo_at_k1_and_rises_towards_log_p_x(linear_gaussian):
    model, elbo = suboptimal(linear_gaussian)
    x, log_px = torch.as_tensor(linear_gaussian["x"]), linear_gaussian["log_px"]
    bounds = {k: iwae_log_likelihood(model, x, k=k, objective=gaussian_objective(), seed=k).numpy()
              for k in (1, 10, 200)}
    # E[L_1(x)] = ELBO(x): 20 independent draws per input bring the standard error to ~0.04 nats
    diff = iwae_log_likelihood(model, x.repeat(20, 1), k=1, objective=gaussian_objective()).numpy() - np.tile(elbo, 20)
    assert abs(diff.mean()) < min(0.2, 5 * diff.std() / math.sqrt(len(diff)))
    gaps = [(log_px - bounds[k]).mean() for k in (1, 10, 200)]  # ELBO gap 1.8 nats
    assert gaps[0] > gaps[1] > gaps[2] > 0
    assert gaps[1] < 0.2 * gaps[0] and gaps[2] < 0.02 * gaps[0]


def test_iwae_is_seeded_and_restores_the_training_mode(linear_gaussian):
    model, _ = suboptimal(linear_gaussian)
    x = torch.as_tensor(linear_gaussian["x"][:20])
    first = iwae_log_likelihood(model.train(), x, k=4, objective=gaussian_objective(), seed=3)
    assert model.training and not any(model.modes_seen)
    assert torch.equal(first, iwae_log_likelihood(model, x, k=4, objective=gaussian_objective(), seed=3))
    assert not torch.equal(first, iwae_log_likelihood(model, x, k=4, objective=gaussian_objective(), seed=4))


def test_iwae_on_image_models_with_probabilities_or_logits():
    gen = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    mlp = MLPVAE((1, 8, 8), hidden_sizes=(16,), latent_dim=3, device="cpu")
    x = (torch.rand(6, 1, 8, 8, generator=gen) > 0.5).float()
    from_probs = iwae_log_likelihood(mlp, x, k=5, seed=1)
    from_logits = iwae_log_likelihood(mlp, x, k=5, objective=VAELoss(logits=True), seed=1)
    torch.testing.assert_close(from_probs, from_logits, rtol=1e-5, atol=1e-4)
    assert from_probs.shape == (6,) and (from_probs < 0).all()
    conv = ConvVAE(28, latent_dim=2, device="cpu")
    bound = iwae_log_likelihood(conv, torch.rand(3, 1, 28, 28, generator=gen), k=4, batch_size=5)
    assert bound.shape == (3,) and torch.isfinite(bound).all()


def test_iwae_on_lstm_k1_averages_to_the_elbo_per_sequence():
    torch.manual_seed(0)
    model = LSTMVAE(vocab_size=5, embed_dim=4, hidden_dim=8, latent_dim=2, word_dropout=0.5, device="cpu")
    gen = torch.Generator().manual_seed(1)
    tokens = torch.randint(0, 5, (4, 3), generator=gen)
    repeats = 400
    objective = VAELoss("categorical")
    l1 = iwae_log_likelihood(model, tokens.repeat(repeats, 1), k=1, objective=objective, seed=2).reshape(repeats, 4)
    # ELBO by hand: draws from torch.distributions, log-softmax of the teacher-forced logits, closed-form KL
    model.eval()
    with torch.no_grad():
        mu, logvar = model.encode(tokens)
        q = Normal(mu, (0.5 * logvar).exp())
        z = mu + q.stddev * torch.randn(repeats, 4, 2, generator=gen)
        log_probs = torch.log_softmax(model.decode(z, tokens), dim=-1)  # (R, 4, 3, 5)
        expected_ll = log_probs.gather(-1, tokens.expand(repeats, 4, 3).unsqueeze(-1)).squeeze(-1).sum(-1)
        elbo = expected_ll.mean(0) - torch_kl(q, Normal(0.0, 1.0)).sum(-1)
        se = torch.sqrt(l1.var(0) / repeats + expected_ll.var(0) / repeats)
    assert ((l1.mean(0) - elbo).abs() < 5 * se + 1e-6).all()
    assert (iwae_log_likelihood(model, tokens, k=50, objective=objective).mean() > l1.mean()).item()


# ----------------------------------------------------------------------------- CollapseMonitor


@pytest.fixture(scope="module")
def digits() -> torch.Tensor:
    return torch.tensor(load_digits().images / 16.0, dtype=torch.float32).unsqueeze(1)


def small_model() -> MLPVAE:
    torch.manual_seed(123)
    return MLPVAE((1, 8, 8), hidden_sizes=(32,), latent_dim=3, device="cpu")


def test_collapse_monitor_columns_in_fit_history_without_changing_training(digits):
    train, held_out = digits[:1500], digits[1500:]
    monitor = CollapseMonitor(held_out, every=2, iwae_k=3, keep_means=True, max_points=None)
    kwargs = dict(steps=24, batch_size=100, log_every=6, eval_data=held_out, progress=False, seed=3)
    history = fit(small_model(), train, callbacks=[monitor], **kwargs)
    plain = fit(small_model(), train, **kwargs)
    assert history["loss"].tolist() == plain["loss"].tolist()  # the monitor uses no global RNG
    per_dim = [f"kl_dim_{d}" for d in range(3)]
    columns = ["active_units", "kl_total", "mutual_information", "iwae_log_likelihood", *per_dim]
    assert set(columns) <= set(history.columns) and len(history) == 4
    computed = history.iloc[[0, 2]]
    assert history.iloc[[1, 3]][columns].isna().all().all()
    assert computed[columns].notna().all().all()
    # the same held-out KL as fit's own evaluation, and the per-dimension columns add up to it
    np.testing.assert_allclose(computed["kl_total"], computed["eval_kl"], rtol=1e-5)
    np.testing.assert_allclose(computed[per_dim].sum(axis=1), computed["kl_total"], rtol=1e-5)
    assert computed["active_units"].between(0, 3).all()
    assert (computed["iwae_log_likelihood"] >= computed["eval_elbo"] - 1.0).all()
    assert [step for step, _ in monitor.means] == [6, 18]
    assert all(mu.shape == (297, 3) for _, mu in monitor.means)


def test_collapse_monitor_subsample_and_mode(digits):
    monitor = CollapseMonitor(digits, max_points=100, mi=False, per_dimension=False, seed=1)
    again = CollapseMonitor(digits, max_points=100, seed=1)
    assert monitor.data.shape == (100, 1, 8, 8) and torch.equal(monitor.data, again.data)
    assert (monitor.data.unsqueeze(1) == digits.unsqueeze(0)).flatten(2).all(2).any(1).all()  # rows of digits
    model = small_model().eval()
    state = TrainState(model, VAELoss(), torch.optim.Adam(model.parameters()), None, step=5)
    metrics = monitor.on_log(state)
    assert set(metrics) == {"active_units", "kl_total"} and not model.training


# ----------------------------------------------------------------------------- invalid inputs


@pytest.fixture
def inputs(linear_gaussian, digits):
    return SimpleNamespace(model=exact_model(linear_gaussian), x=torch.as_tensor(linear_gaussian["x"][:4]),
                           mu=torch.zeros(5, 2), logvar=torch.zeros(5, 2), digits=digits)


def case(call, error, pattern, name):
    return pytest.param(call, error, pattern, id=name)


INVALID = [
    case(lambda c: iwae_log_likelihood(c.model, c.x, k=0), ValueError, "k must be a positive int, got 0", "k=0"),
    case(lambda c: iwae_log_likelihood(c.model, c.x, k=2.5), TypeError, "k must be a positive int, got 2.5", "k=2.5"),
    case(lambda c: iwae_log_likelihood(c.model, c.x, batch_size=0), ValueError,
         "batch_size must be a positive int, got 0", "iwae-batch_size"),
    case(lambda c: iwae_log_likelihood(c.model, c.x[:0]), ValueError,
         r"data must hold at least one sample, got shape \(0, 4\)", "iwae-empty-data"),
    case(lambda c: iwae_log_likelihood(c.model, c.x.numpy()), TypeError,
         "data must be a torch.Tensor.*ndarray", "iwae-numpy-data"),
    case(lambda c: iwae_log_likelihood(nn.Linear(2, 2), c.x), TypeError,
         "model must be a vaelib VAE.*Linear", "iwae-not-a-vae"),
    case(lambda c: iwae_log_likelihood(c.model, c.x, objective=nn.MSELoss()), TypeError,
         "objective must be a VAELoss.*MSELoss", "iwae-objective-type"),
    case(lambda c: iwae_log_likelihood(c.model, c.x, objective=VAELoss(logits=True)), TypeError,
         "logits=True but LinearGaussianVAE has no decode_logits", "iwae-logits-without-decode_logits"),
    case(lambda c: iwae_log_likelihood(c.model, c.x, seed="a"), TypeError,
         "seed must be an int or a torch.Generator, got 'a'", "iwae-seed-type"),
    case(lambda c: mutual_information(c.mu, c.logvar, seed=-1), ValueError,
         "seed must be a non-negative int, got -1", "mi-negative-seed"),
    case(lambda c: mutual_information(c.mu, torch.zeros(5, 3)), ValueError,
         r"same shape, got \(5, 2\) and \(5, 3\)", "mi-shape-mismatch"),
    case(lambda c: mutual_information(c.mu[:0], c.logvar[:0]), ValueError,
         r"mu must hold at least 1 rows, got shape \(0, 2\)", "mi-empty"),
    case(lambda c: mutual_information(c.mu, c.logvar, batch_size=-3), ValueError,
         "batch_size must be a positive int, got -3", "mi-batch_size"),
    case(lambda c: kl_per_dimension(torch.zeros(5), torch.zeros(5)), ValueError,
         r"mu must have shape \(N, D\).*\(5,\)", "kl-1d"),
    case(lambda c: kl_per_dimension(c.mu, torch.full((5, 2), float("nan"))), ValueError,
         "logvar must be finite, got 10 NaN", "kl-nan"),
    case(lambda c: kl_per_dimension(c.mu.long(), c.logvar), TypeError,
         "mu must be a floating-point tensor, got dtype torch.int64", "kl-integer"),
    case(lambda c: kl_per_dimension([[0.0]], c.logvar), TypeError, "mu must be a torch.Tensor.*list", "kl-list"),
    case(lambda c: active_units(c.mu, threshold=-0.01), ValueError,
         "threshold must be >= 0, got -0.01", "au-negative-threshold"),
    case(lambda c: active_units(c.mu, threshold="x"), TypeError,
         "threshold must be a real number, got 'x'", "au-threshold-type"),
    case(lambda c: unit_activity(c.mu[:1]), ValueError,
         r"mu must hold at least 2 rows, got shape \(1, 2\)", "activity-one-row"),
    case(lambda c: posterior_parameters(c.model, c.x, batch_size=0), ValueError,
         "batch_size must be a positive int, got 0", "posterior-batch_size"),
    case(lambda c: CollapseMonitor(c.digits, every=0), ValueError, "every must be a positive int, got 0", "every=0"),
    case(lambda c: CollapseMonitor(c.digits, iwae_k=0), ValueError, "iwae_k must be a positive int, got 0", "iwae_k=0"),
    case(lambda c: CollapseMonitor(c.digits, max_points=0), ValueError,
         "max_points must be a positive int, got 0", "max_points=0"),
    case(lambda c: CollapseMonitor(c.digits, mi=1), TypeError, "mi must be True or False, got 1", "mi=1"),
    case(lambda c: CollapseMonitor(c.digits, seed=1.5), TypeError, "seed must be an int, got 1.5", "monitor-seed"),
    case(lambda c: CollapseMonitor(c.digits, objective="gaussian"), TypeError,
         "objective must be a VAELoss.*str", "monitor-objective"),
    case(lambda c: CollapseMonitor(c.digits, threshold=-1), ValueError,
         "threshold must be >= 0, got -1", "monitor-threshold"),
    case(lambda c: CollapseMonitor(c.digits[:1]), ValueError,
         r"at least 2 samples.*\(1, 1, 8, 8\)", "monitor-one-sample"),
    case(lambda c: CollapseMonitor(c.digits[:0]), ValueError,
         r"at least one sample, got shape \(0, 1, 8, 8\)", "monitor-empty"),
]


@pytest.mark.parametrize("call,error,pattern", INVALID)
def test_invalid_inputs_raise_clear_errors(inputs, call, error, pattern):
    with pytest.raises(error, match=pattern):
        call(inputs)


def test_logits_objective_needs_decode_logits_on_sequence_models():
    model = LSTMVAE(vocab_size=5, embed_dim=4, hidden_dim=4, latent_dim=2, device="cpu")
    with pytest.raises(TypeError, match="logits=True but LSTMVAE has no decode_logits"):
        iwae_log_likelihood(model, torch.zeros(2, 3, dtype=torch.long), objective=VAELoss(logits=True))
