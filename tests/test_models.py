"""Tests for vaelib.models: shapes, gradients, reparameterisation, sampling, the LSTM decoder, errors."""
from __future__ import annotations

import copy

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from vaelib.models.base import VAE
from vaelib.models.conv import ConvVAE
from vaelib.models.mlp import MLPVAE
from vaelib.models.sequence import LSTMVAE

CPU = torch.device("cpu")


@pytest.fixture(autouse=True)
def seeded_global_rng():
    """Seed parameter initialisation (torch's global RNG) per test without leaking the state."""
    with torch.random.fork_rng():
        torch.manual_seed(0)
        yield


def seeded(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, exp(logvar)) || N(0, I)) summed over everything (Kingma & Welling 2014, App. B)."""
    return -0.5 * (1 + logvar - mu**2 - logvar.exp()).sum()


def assert_every_parameter_learns(model: torch.nn.Module, loss: torch.Tensor) -> None:
    model.zero_grad()
    loss.backward()
    for name, parameter in model.named_parameters():
        assert parameter.grad is not None, f"{name} got no gradient"
        assert torch.isfinite(parameter.grad).all(), f"{name} has a non-finite gradient"
        assert parameter.grad.abs().sum() > 0, f"{name} has an all-zero gradient"


def tokens_for(vocab: int, batch: int, length: int, seed: int) -> torch.Tensor:
    return torch.randint(0, vocab, (batch, length), generator=seeded(seed))


# ----------------------------------------------------------------------------- image models

IMAGE_MODELS = [
    pytest.param(lambda: MLPVAE((1, 28, 28), device="cpu"), (1, 28, 28), id="mlp-28"),
    pytest.param(lambda: MLPVAE((1, 8, 8), hidden_sizes=(32, 16), device="cpu"), (1, 8, 8), id="mlp-8"),
    pytest.param(lambda: ConvVAE(28, device="cpu"), (1, 28, 28), id="conv-28"),
    pytest.param(lambda: ConvVAE(32, channels=3, device="cpu"), (3, 32, 32), id="conv-32x3"),
    pytest.param(lambda: ConvVAE(64, device="cpu"), (1, 64, 64), id="conv-64"),
]


@pytest.mark.parametrize(("make", "shape"), IMAGE_MODELS)
def test_image_model_shapes_dtypes_and_gradients(make, shape):
    model = make()
    x = torch.rand(4, *shape, generator=seeded(1)).round()
    x_hat, mu, logvar = model(x)
    assert x_hat.shape == x.shape and x_hat.dtype == torch.float32
    assert mu.shape == logvar.shape == (4, model.latent_dim)
    assert ((x_hat > 0) & (x_hat < 1)).all(), "x_hat must hold Bernoulli probabilities"
    loss = F.binary_cross_entropy(x_hat, x, reduction="sum") + gaussian_kl(mu, logvar)
    assert_every_parameter_learns(model, loss)


@pytest.mark.parametrize(("make", "shape"), IMAGE_MODELS)
def test_image_model_multiple_samples_and_prior_sampling(make, shape):
    model = make()
    model.n_samples = 3
    x_hat, mu, _ = model(torch.rand(2, *shape, generator=seeded(1)))
    assert x_hat.shape == (3, 2, *shape) and mu.shape == (2, model.latent_dim)
    assert not torch.allclose(x_hat[0], x_hat[1]), "the draws per input must differ"
    samples = model.sample(5, generator=seeded(7))
    assert samples.shape == (5, *shape) and samples.device == model.device
    assert not samples.requires_grad


def test_seed_003_architecture_has_three_512_layers_and_2d_latent():
    model = MLPVAE((1, 28, 28), device="cpu")
    pixels, hidden, latent = 784, 512, 2
    # encoder 784-512-512-512-(2 means + 2 log-variances); decoder 2-512-512-512-784 (seed 003)
    encoder = pixels * hidden + hidden + 2 * (hidden * hidden + hidden) + hidden * 2 * latent + 2 * latent
    decoder = latent * hidden + hidden + 2 * (hidden * hidden + hidden) + hidden * pixels + pixels
    assert sum(p.numel() for p in model.parameters()) == encoder + decoder
    assert model.latent_dim == 2 and model.n_samples == 1


def test_conv_vae_64_matches_burgess_2018_parameter_count():
    model = ConvVAE(64, channels=1, latent_dim=10, device="cpu")
    conv = 16 * 32 * 32 + 32  # 4x4 kernel, 32 -> 32 channels
    encoder = (16 * 1 * 32 + 32) + 3 * conv + (512 * 256 + 256) + (256 * 256 + 256) + (256 * 20 + 20)
    decoder = (10 * 256 + 256) + (256 * 256 + 256) + (256 * 512 + 512) + 3 * conv + (16 * 32 * 1 + 1)
    assert sum(p.numel() for p in model.parameters()) == encoder + decoder


@settings(max_examples=25, deadline=None)
@given(
    input_shape=st.lists(st.integers(1, 5), min_size=1, max_size=3),
    hidden=st.lists(st.integers(1, 8), max_size=3),
    latent_dim=st.integers(1, 4),
    batch=st.integers(1, 4),
    n_samples=st.integers(1, 3),
)
def test_mlp_vae_shapes_for_any_configuration(input_shape, hidden, latent_dim, batch, n_samples):
    model = MLPVAE(tuple(input_shape), hidden, latent_dim, n_samples, device="cpu")
    x_hat, mu, logvar = model(torch.rand(batch, *input_shape))
    leading = (batch,) if n_samples == 1 else (n_samples, batch)
    assert x_hat.shape == (*leading, *input_shape)
    assert mu.shape == logvar.shape == (batch, latent_dim)


def test_decode_accepts_leading_sample_dimensions():
    model = ConvVAE(28, latent_dim=3, device="cpu")
    z = torch.randn(2, 4, 3, generator=seeded(0))
    stacked = torch.stack([model.decode(z[0]), model.decode(z[1])])
    torch.testing.assert_close(model.decode(z), stacked)
    assert model.decode_logits(z).shape == (2, 4, 1, 28, 28)


def test_output_logits_returns_the_logits_of_the_default_probabilities():
    model = MLPVAE((1, 8, 8), hidden_sizes=(16,), device="cpu")
    logit_model = copy.deepcopy(model)
    logit_model.output_logits = True
    x = torch.rand(3, 1, 8, 8, generator=seeded(1))
    with torch.random.fork_rng():
        torch.manual_seed(5)
        probs = model(x)[0]
        torch.manual_seed(5)
        logits = logit_model(x)[0]
    assert ((logits < 0) | (logits > 1)).any(), "forward must return logits, not probabilities"
    torch.testing.assert_close(torch.sigmoid(logits), probs)
    assert MLPVAE((1, 8, 8), device="cpu", output_logits=True).output_logits


def test_sample_decodes_prior_draws_and_is_reproducible_without_global_rng():
    model = MLPVAE((1, 8, 8), hidden_sizes=(16,), latent_dim=3, device="cpu")
    state = torch.get_rng_state()
    first = model.sample(6, generator=seeded(11))
    assert torch.equal(torch.get_rng_state(), state), "sample with a generator must not touch the global RNG"
    torch.testing.assert_close(model.sample(6, generator=seeded(11)), first)
    assert not torch.allclose(model.sample(6, generator=seeded(12)), first)
    z = torch.randn(6, 3, generator=seeded(11))  # the prior N(0, I), drawn independently
    torch.testing.assert_close(first, model.decode(z))


def test_device_property_and_placement():
    model = ConvVAE(32, device="cpu")
    assert model.device == CPU
    assert MLPVAE((1, 8, 8), hidden_sizes=(4,), device="auto").device.type == (
        "cuda" if torch.cuda.is_available() else "cpu"
    )


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_models_match_cpu_models_given_a_cpu_generator():
    image = MLPVAE((1, 8, 8), hidden_sizes=(16,), device="cpu")
    image_cuda = copy.deepcopy(image).to("cuda")
    assert image_cuda.device.type == "cuda"
    torch.testing.assert_close(
        image_cuda.sample(5, generator=seeded(1)).cpu(), image.sample(5, generator=seeded(1)), rtol=1e-4, atol=1e-4
    )
    x = torch.rand(3, 1, 8, 8, device="cuda")
    assert image_cuda(x)[0].device == x.device
    text = small_lstm().eval()
    text_cuda = copy.deepcopy(text).to("cuda")
    greedy = text_cuda.sample(4, generator=seeded(2), length=5, greedy=True)
    assert greedy.device.type == "cuda"
    assert torch.equal(greedy.cpu(), text.sample(4, generator=seeded(2), length=5, greedy=True))
    sampled = text_cuda.sample(4, generator=seeded(2), length=5)
    assert sampled.device.type == "cuda" and sampled.shape == (4, 5)
    assert text_cuda(sampled)[0].shape == (4, 5, 12)


# ------------------------------------------------------------------------ reparameterisation


def test_reparameterize_matches_the_target_gaussian():
    model = MLPVAE((1, 2, 2), hidden_sizes=(), latent_dim=3, device="cpu")
    mu = torch.tensor([[-1.0, 0.5, 3.0], [0.0, 2.0, -4.0]])
    logvar = torch.tensor([[0.0, -2.0, 1.5], [1.0, 0.3, -0.7]])
    n = 40_000
    z = model.reparameterize(mu, logvar, n, generator=seeded(0))
    assert z.shape == (n, 2, 3)
    std = torch.exp(0.5 * logvar)
    assert ((z.mean(0) - mu).abs() < 5 * std / n**0.5).all()
    # the sample standard deviation has standard error ~ std / sqrt(2 n)
    assert ((z.std(0) - std).abs() < 5 * std / (2 * n) ** 0.5).all()
    assert model.reparameterize(mu, logvar).shape == (2, 3)


def test_reparameterize_gradients_follow_the_closed_form():
    model = MLPVAE((1, 2, 2), hidden_sizes=(), latent_dim=2, device="cpu")
    mu = torch.tensor([[0.3, -1.2]], requires_grad=True)
    logvar = torch.tensor([[0.4, -0.8]], requires_grad=True)
    z = model.reparameterize(mu, logvar, generator=seeded(3))
    z.sum().backward()
    # dz/dmu = 1, dz/dlogvar = exp(logvar / 2) * eps / 2 = (z - mu) / 2
    torch.testing.assert_close(mu.grad, torch.ones_like(mu))
    torch.testing.assert_close(logvar.grad, (z - mu).detach() / 2)


# ------------------------------------------------------------------------------- LSTM VAE


def small_lstm(**kwargs) -> LSTMVAE:
    torch.manual_seed(0)
    options = dict(vocab_size=12, embed_dim=8, hidden_dim=16, latent_dim=3, device="cpu")
    options.update(kwargs)
    return LSTMVAE(**options)


def test_lstm_vae_shapes_dtypes_and_gradients():
    model = small_lstm(pad_index=0)
    x = tokens_for(12, 5, 7, seed=1).clamp(min=1)
    x[0, 4:] = 0
    logits, mu, logvar = model(x)
    assert logits.shape == (5, 7, 12) and logits.dtype == torch.float32
    assert mu.shape == logvar.shape == (5, 3)
    loss = F.cross_entropy(logits.reshape(-1, 12), x.reshape(-1), ignore_index=0, reduction="sum")
    assert_every_parameter_learns(model, loss + gaussian_kl(mu, logvar))


def test_lstm_vae_multiple_samples_and_prior_sampling():
    model = small_lstm(n_samples=3)
    logits, mu, _ = model(tokens_for(12, 2, 5, seed=1))
    assert logits.shape == (3, 2, 5, 12) and mu.shape == (2, 3)
    state = torch.get_rng_state()
    samples = model.sample(4, generator=seeded(9), length=6)
    assert torch.equal(torch.get_rng_state(), state), "sample with a generator must not touch the global RNG"
    assert samples.shape == (4, 6) and samples.dtype == torch.int64
    assert ((samples >= 0) & (samples < 12)).all()
    assert torch.equal(model.sample(4, generator=seeded(9), length=6), samples)
    assert model.generate(torch.zeros(2, 5, 3), 4).shape == (2, 5, 4)


def test_decode_with_sample_axis_matches_per_sample_decoding():
    model = small_lstm().eval()
    x = tokens_for(12, 4, 6, seed=2)
    z = torch.randn(2, 4, 3, generator=seeded(3))
    torch.testing.assert_close(model.decode(z, x), torch.stack([model.decode(z[0], x), model.decode(z[1], x)]))


@settings(max_examples=25, deadline=None)
@given(position=st.integers(0, 7), seed=st.integers(0, 10_000))
def test_teacher_forcing_is_causal(position, seed):
    model = small_lstm().eval()
    x = tokens_for(12, 2, 8, seed=seed)
    changed = x.clone()
    changed[:, position] = (x[:, position] + 1) % 12
    z = torch.randn(2, 3, generator=seeded(seed))
    before, after = model.decode(z, x), model.decode(z, changed)
    torch.testing.assert_close(before[:, : position + 1], after[:, : position + 1], rtol=0, atol=1e-6)
    if position + 1 < 8:
        assert not torch.allclose(before[:, position + 1], after[:, position + 1])


def test_greedy_generation_equals_argmax_of_teacher_forced_logits_on_its_output():
    model = small_lstm(word_dropout=0.5).eval()
    z = torch.randn(6, 3, generator=seeded(4)) * 2
    generated = model.generate(z, 9, greedy=True)
    assert generated.shape == (6, 9) and generated.dtype == torch.int64
    assert torch.equal(model.decode(z, generated).argmax(-1), generated)


@pytest.mark.parametrize("temperature", [1.0, 0.5])
def test_sampled_generation_follows_the_tempered_softmax(temperature):
    model = small_lstm(vocab_size=4).eval()
    z = torch.randn(1, 3, generator=seeded(5))
    # the first token's distribution is softmax(logits at position 0 / T), whatever the tokens
    probs = torch.softmax(model.decode(z, torch.zeros(1, 1, dtype=torch.long))[0, 0] / temperature, -1)
    n = 20_000
    draws = model.generate(z.expand(n, 3), 1, greedy=False, generator=seeded(6), temperature=temperature)[:, 0]
    freq = torch.bincount(draws, minlength=4).float() / n
    tolerance = 5 * (probs * (1 - probs) / n).sqrt() + 1e-4
    assert ((freq - probs).abs() < tolerance).all(), (freq, probs)
    again = model.generate(z.expand(50, 3), 3, greedy=False, generator=seeded(6), temperature=temperature)
    assert torch.equal(again, model.generate(z.expand(50, 3), 3, greedy=False, generator=seeded(6), temperature=temperature))


def test_word_dropout_replaces_previous_tokens_with_zero_embeddings_in_training_only():
    model = small_lstm(word_dropout=1.0)
    x, other = tokens_for(12, 3, 6, seed=1), tokens_for(12, 3, 6, seed=2)
    z = torch.randn(3, 3, generator=seeded(3))
    model.train()
    dropped = model.decode(z, x)
    torch.testing.assert_close(dropped, model.decode(z, other))
    blind = copy.deepcopy(model).eval()
    with torch.no_grad():
        blind.decoder_embedding.weight.zero_()  # every previous token seen as a zero vector
    torch.testing.assert_close(dropped, blind.decode(z, x))
    model.eval()
    assert not torch.allclose(model.decode(z, x), model.decode(z, other))
    no_dropout = small_lstm(word_dropout=0.0).train()
    torch.testing.assert_close(no_dropout.decode(z, x), no_dropout.eval().decode(z, x))


def test_word_dropout_rate_matches_its_probability():
    model = small_lstm(word_dropout=0.3).train()
    seen = []
    handle = model.decoder_lstm.register_forward_hook(lambda module, args, out: seen.append(args[0]))
    x = tokens_for(12, 200, 11, seed=1)
    with torch.random.fork_rng():
        torch.manual_seed(0)
        model.decode(torch.zeros(200, 3), x)
    handle.remove()
    previous = seen[0][:, 1:, :8]  # embedding part of the inputs at steps t >= 1
    dropped = (previous == 0).all(-1).float().mean().item()
    assert abs(dropped - 0.3) < 5 * (0.3 * 0.7 / previous[..., 0].numel()) ** 0.5
    assert not (seen[0][:, 0, :8] == 0).all(-1).any(), "the start vector is never dropped"


def test_z_influences_every_position_through_both_conditioning_routes():
    model = small_lstm().eval()
    x = tokens_for(12, 2, 6, seed=1)
    z1, z2 = torch.randn(2, 3, generator=seeded(1)), torch.randn(2, 3, generator=seeded(2))
    only_input, only_state = copy.deepcopy(model), copy.deepcopy(model)
    with torch.no_grad():
        only_input.decoder_init.weight.zero_()  # z no longer sets (h0, c0)
        only_state.decoder_lstm.weight_ih_l0[:, 8:].zero_()  # z no longer enters the step inputs
    for variant in (model, only_input, only_state):
        differs = (variant.decode(z1, x) - variant.decode(z2, x)).abs().amax(-1) > 1e-6
        assert differs.all()


def test_encoder_reads_the_last_non_pad_position():
    model = small_lstm(pad_index=0).eval()
    x = tokens_for(12, 3, 7, seed=4).clamp(min=1)
    lengths = [7, 3, 5]
    for row, length in enumerate(lengths):
        x[row, length:] = 0
    mu, logvar = model.encode(x)
    for row, length in enumerate(lengths):
        mu_row, logvar_row = model.encode(x[row : row + 1, :length])
        torch.testing.assert_close(mu[row], mu_row[0])
        torch.testing.assert_close(logvar[row], logvar_row[0])
    unpadded = small_lstm().eval()
    changed = x.clone()
    changed[:, -1] = (x[:, -1] + 1) % 12
    assert not torch.allclose(unpadded.encode(x)[0], unpadded.encode(changed)[0])


# ---------------------------------------------------------------------------------- errors


def test_vae_base_is_abstract():
    with pytest.raises(TypeError, match="abstract"):
        VAE(2)


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda: ConvVAE(48), ValueError, r"image_size must be one of \(28, 32, 64\), got 48"),
        (lambda: ConvVAE(0), ValueError, "image_size must be a positive int, got 0"),
        (lambda: ConvVAE(64.0), TypeError, r"image_size must be a positive int, got 64\.0"),
        (lambda: ConvVAE(64, channels=0), ValueError, "channels must be a positive int, got 0"),
        (lambda: ConvVAE(64, latent_dim=-3), ValueError, "latent_dim must be a positive int, got -3"),
        (lambda: ConvVAE(64, n_samples=0), ValueError, "n_samples must be a positive int, got 0"),
        (lambda: ConvVAE(64, output_logits="yes"), TypeError, "output_logits must be a bool, got 'yes'"),
        (lambda: MLPVAE((1, 0, 28)), ValueError, r"input_shape must hold positive ints only, got \(1, 0, 28\)"),
        (lambda: MLPVAE(()), ValueError, r"input_shape must not be empty, got \(\)"),
        (lambda: MLPVAE(784), TypeError, "input_shape must be a sequence of positive ints, got 784"),
        (lambda: MLPVAE((784,), hidden_sizes=(512, -1)), ValueError, r"hidden_sizes must hold positive ints only, got \(512, -1\)"),
        (lambda: MLPVAE((784,), latent_dim=2.5), TypeError, r"latent_dim must be a positive int, got 2\.5"),
        (lambda: MLPVAE((784,), latent_dim=True), TypeError, "latent_dim must be a positive int, got True"),
        (lambda: MLPVAE((784,), activation="relu"), TypeError, "activation must be a callable returning an nn.Module, got 'relu'"),
        (lambda: MLPVAE((784,), device="tpu"), ValueError, "device must be .*got 'tpu'"),
        (lambda: LSTMVAE(0), ValueError, "vocab_size must be a positive int, got 0"),
        (lambda: LSTMVAE(10, embed_dim=0), ValueError, "embed_dim must be a positive int, got 0"),
        (lambda: LSTMVAE(10, hidden_dim=-1), ValueError, "hidden_dim must be a positive int, got -1"),
        (lambda: LSTMVAE(10, word_dropout=1.5), ValueError, r"word_dropout must be a probability in \[0, 1\], got 1\.5"),
        (lambda: LSTMVAE(10, pad_index=10), ValueError, r"pad_index must lie in \[0, 10\), got 10"),
        (lambda: LSTMVAE(10, pad_index=1.0), TypeError, r"pad_index must be an int or None, got 1\.0"),
    ],
)
def test_bad_constructor_arguments_raise_clear_errors(make, error, match):
    with pytest.raises(error, match=match):
        make()


@pytest.mark.parametrize(
    ("x", "error", "match"),
    [
        (torch.rand(2, 1, 32, 32), ValueError, r"x must have shape \(B, 1, 64, 64\), got \(2, 1, 32, 32\)"),
        (torch.rand(2, 3, 64, 64), ValueError, r"x must have shape \(B, 1, 64, 64\), got \(2, 3, 64, 64\)"),
        (torch.rand(1, 64, 64), ValueError, r"x must have shape \(B, 1, 64, 64\), got \(1, 64, 64\)"),
        (torch.rand(2, 1, 64, 64, dtype=torch.float64), TypeError, "x must have the model's dtype torch.float32, got torch.float64"),
        ([[0.0]], TypeError, "x must be a torch.Tensor, got list"),
    ],
)
def test_conv_vae_rejects_wrong_inputs(x, error, match):
    model = ConvVAE(64, device="cpu")
    with pytest.raises(error, match=match):
        model(x)


def test_mlp_vae_rejects_wrong_input_shape():
    model = MLPVAE((1, 28, 28), hidden_sizes=(8,), device="cpu")
    with pytest.raises(ValueError, match=r"x must have shape \(B, 1, 28, 28\), got \(5, 784\)"):
        model(torch.rand(5, 784))


def test_latent_sampling_and_reparameterisation_errors():
    model = MLPVAE((1, 8, 8), hidden_sizes=(8,), latent_dim=2, device="cpu")
    with pytest.raises(ValueError, match=r"z must have shape \(\.\.\., 2\), got \(4, 3\)"):
        model.decode(torch.zeros(4, 3))
    with pytest.raises(TypeError, match="z must be a floating-point tensor, got dtype torch.int64"):
        model.decode(torch.zeros(4, 2, dtype=torch.long))
    with pytest.raises(ValueError, match=r"mu and logvar must have the same shape, got \(4, 2\) and \(4, 3\)"):
        model.reparameterize(torch.zeros(4, 2), torch.zeros(4, 3))
    with pytest.raises(ValueError, match="n_samples must be a positive int, got 0"):
        model.reparameterize(torch.zeros(4, 2), torch.zeros(4, 2), 0)
    with pytest.raises(ValueError, match="n must be a positive int, got 0"):
        model.sample(0)
    with pytest.raises(TypeError, match="generator must be a torch.Generator or None, got 42"):
        model.sample(3, 42)


def test_lstm_vae_rejects_bad_tokens_and_decoding_arguments():
    model = small_lstm(pad_index=0)
    with pytest.raises(ValueError, match=r"tokens must lie in \[0, 12\), got values in \[0, 12\]"):
        model(torch.tensor([[0, 5, 12]]))
    with pytest.raises(ValueError, match=r"tokens must lie in \[0, 12\), got values in \[-1, 3\]"):
        model.encode(torch.tensor([[-1, 3]]))
    with pytest.raises(TypeError, match="tokens must be an integer tensor, got dtype torch.float32"):
        model(torch.zeros(2, 3))
    with pytest.raises(ValueError, match=r"tokens must have shape \(B, L\) with B, L >= 1, got \(5,\)"):
        model(torch.ones(5, dtype=torch.long))
    with pytest.raises(ValueError, match=r"tokens rows \[1\] are all padding \(pad_index=0\)"):
        model.encode(torch.tensor([[3, 0], [0, 0]]))
    with pytest.raises(ValueError, match=r"z must have shape \(\.\.\., 2, 3\) to match tokens of shape \(2, 4\), got \(3, 3\)"):
        model.decode(torch.zeros(3, 3), torch.ones(2, 4, dtype=torch.long))
    with pytest.raises(ValueError, match="length must be a positive int, got 0"):
        model.generate(torch.zeros(2, 3), 0)
    with pytest.raises(ValueError, match="temperature must be a positive finite number, got 0"):
        model.generate(torch.zeros(2, 3), 4, greedy=False, temperature=0)
    with pytest.raises(TypeError, match="greedy must be a bool, got 'yes'"):
        model.generate(torch.zeros(2, 3), 4, greedy="yes")
    with pytest.raises(TypeError, match="generator must be a torch.Generator or None, got 3"):
        model.generate(torch.zeros(2, 3), 4, greedy=False, generator=3)


def test_mean_encoder_is_the_encoder_mean_in_eval_mode_and_pickles():
    import pickle

    from vaelib.models import MeanEncoder

    torch.manual_seed(0)
    model = ConvVAE(32, latent_dim=3)
    x = torch.rand(5, 1, 32, 32)
    with torch.no_grad():
        expected = model.eval().encode(x)[0]
    model.train()
    encoder = MeanEncoder(model)
    assert torch.equal(encoder(x), expected)
    assert torch.equal(encoder(x.numpy()), expected)  # arrays are taken too
    assert model.training  # the caller's mode is restored
    assert torch.equal(pickle.loads(pickle.dumps(encoder))(x), expected)


def test_mean_encoder_refuses_a_module_without_encode():
    from vaelib.models import MeanEncoder

    with pytest.raises(TypeError, match="encode method.*got Linear"):
        MeanEncoder(torch.nn.Linear(2, 2))


def test_models_scored_in_worker_processes_score_as_here():
    import dataclasses

    from vaelib import DSprites
    from vaelib.disentanglement import FAST_SIZES, evaluate
    from vaelib.models import MeanEncoder
    from vaelib.parallel import run_parallel

    sizes = dataclasses.replace(FAST_SIZES, factor_vae_train=300, factor_vae_eval=150, variance_estimate=600, mig=600)
    models = []
    for seed in (0, 1):
        torch.manual_seed(seed)
        models.append(ConvVAE(32, latent_dim=4))
    calls = [dict(data=DSprites(32), encode=MeanEncoder(model), sizes=sizes, scores=("factor_vae", "mig"), random_state=3)
             for model in models]
    here = [evaluate(**call) for call in calls]
    assert run_parallel(evaluate, calls, workers=2) == here
    assert here[0] != here[1]
