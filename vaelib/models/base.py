"""The VAE interface, the Gaussian reparameterisation, and the Bernoulli image VAE.

A VAE (Kingma & Welling 2014, "Auto-Encoding Variational Bayes") pairs an encoder
q(z|x) = N(mu(x), diag(exp(logvar(x)))) with a decoder p(x|z) and the prior
p(z) = N(0, I). :class:`VAE` fixes the interface every model in :mod:`vaelib.models`
follows; :class:`ImageVAE` implements it for images of a fixed shape with a factorised
Bernoulli decoder, given an encoder and a decoder network.
"""
from __future__ import annotations

import abc
import contextlib
from collections.abc import Iterator

import torch
from torch import nn

from vaelib.validation import check_generator, positive_int, positive_int_tuple

__all__ = ["ImageVAE", "MeanEncoder", "VAE", "check_generator", "evaluating", "positive_int", "positive_int_tuple", "standard_normal"]


@contextlib.contextmanager
def evaluating(model: nn.Module) -> Iterator[nn.Module]:
    """Evaluation mode without gradients: ``with evaluating(model): ...``.

    Inside the block the model is in ``eval()`` mode (dropout and word dropout off) and
    :func:`torch.no_grad` is active; on exit the model's previous train/eval mode is restored,
    also when the block raises. Every vaelib function that runs a model for measurement uses it.
    """
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            yield model
    finally:
        model.train(was_training)


class MeanEncoder:
    """The encoder mean of ``model`` as a function that worker processes can receive.

    ``MeanEncoder(model)(x)`` is ``model.encode(x)[0]``, shape ``(n, latent_dim)``, with ``x``
    (a tensor or array, first axis ``n``) moved to the model's device and the model in
    :func:`evaluating` mode. It is what the disentanglement scores take as ``encode``; unlike a
    lambda it pickles, so several models can be scored at once with
    :func:`vaelib.parallel.run_parallel` and :func:`vaelib.disentanglement.evaluate`.
    """

    def __init__(self, model: nn.Module) -> None:
        if not isinstance(model, nn.Module) or not callable(getattr(model, "encode", None)):
            raise TypeError(f"model must be a torch module with an encode method returning (mu, logvar), "
                            f"got {type(model).__name__}")
        self.model = model

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        device = next(self.model.parameters()).device
        with evaluating(self.model):
            return self.model.encode(torch.as_tensor(x).to(device))[0]

    def __repr__(self) -> str:
        return f"MeanEncoder({type(self.model).__name__})"


def standard_normal(
    shape: tuple[int, ...],
    *,
    device: torch.device,
    dtype: torch.dtype,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Draw N(0, 1) noise of ``shape`` onto ``device``.

    With a ``generator`` the draw happens on the generator's own device and is then moved,
    so a CPU generator gives the same numbers for a CPU and a CUDA model. Without one,
    torch's global RNG on ``device`` is used (as in ordinary seeded training).
    """
    if check_generator(generator) is None:
        return torch.randn(shape, device=device, dtype=dtype)
    return torch.randn(shape, generator=generator, device=generator.device, dtype=dtype).to(device)


class VAE(nn.Module, abc.ABC):
    """Variational autoencoder with a diagonal-Gaussian posterior and a N(0, I) prior.

    Subclasses implement :meth:`encode` and :meth:`decode`; this class supplies the
    reparameterisation (Kingma & Welling 2014, Sec. 2.4), :meth:`forward` with
    ``n_samples`` latent draws per input (seed 003's ``sampleSize``), and prior sampling.

    Parameters
    ----------
    latent_dim : int
        Dimension D of the latent code z.
    n_samples : int
        Latent draws S per input in :meth:`forward`. With S > 1 reconstructions get a
        leading sample axis; the loss averages its reconstruction term over that axis.

    Attributes
    ----------
    latent_dim : int
    n_samples : int
    """

    def __init__(self, latent_dim: int, n_samples: int = 1) -> None:
        super().__init__()
        self.latent_dim = positive_int("latent_dim", latent_dim)
        self.n_samples = positive_int("n_samples", n_samples)

    @abc.abstractmethod
    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return the posterior parameters ``(mu, logvar)`` for inputs ``x`` (batch size B).

        ``mu`` (the posterior mean) and ``logvar`` (the natural log of the posterior
        variance) each have shape (B, latent_dim).
        """

    @abc.abstractmethod
    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Map latent codes ``z`` of shape (..., latent_dim) to the likelihood's parameters
        with the same leading dimensions, e.g. (S, B, latent_dim) -> (S, B, ...)."""

    @property
    def device(self) -> torch.device:
        """The device the model's parameters live on."""
        return next(self.parameters()).device

    def check_latent(self, z: object) -> torch.Tensor:
        """Return ``z`` if it is a floating-point tensor of shape (..., latent_dim), else raise."""
        if not isinstance(z, torch.Tensor):
            raise TypeError(f"z must be a torch.Tensor, got {type(z).__name__}")
        if not z.is_floating_point():
            raise TypeError(f"z must be a floating-point tensor, got dtype {z.dtype}")
        if z.dim() < 1 or z.shape[-1] != self.latent_dim:
            raise ValueError(f"z must have shape (..., {self.latent_dim}), got {tuple(z.shape)}")
        return z

    def reparameterize(
        self,
        mu: torch.Tensor,
        logvar: torch.Tensor,
        n_samples: int = 1,
        *,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """Draw z = mu + exp(logvar / 2) * eps with eps ~ N(0, I) (Kingma & Welling 2014, Eq. 10).

        Differentiable in ``mu`` and ``logvar``. Samples in training and evaluation mode alike.

        Parameters
        ----------
        mu, logvar : torch.Tensor
            Posterior mean and log-variance, both of shape (B, latent_dim).
        n_samples : int
            Number of draws S per row.
        generator : torch.Generator, optional
            Source of eps; torch's global RNG when ``None``.

        Returns
        -------
        torch.Tensor
            (B, latent_dim) when ``n_samples == 1``, else (n_samples, B, latent_dim).
        """
        if mu.shape != logvar.shape:
            raise ValueError(
                f"mu and logvar must have the same shape, got {tuple(mu.shape)} and {tuple(logvar.shape)}"
            )
        n_samples = positive_int("n_samples", n_samples)
        shape = tuple(mu.shape) if n_samples == 1 else (n_samples, *mu.shape)
        eps = standard_normal(shape, device=mu.device, dtype=mu.dtype, generator=generator)
        return mu + torch.exp(0.5 * logvar) * eps

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Encode, draw ``n_samples`` codes per input, and decode.

        Returns
        -------
        x_hat : torch.Tensor
            Decoder output for the drawn codes: (B, ...) when ``n_samples == 1``,
            else (n_samples, B, ...).
        mu, logvar : torch.Tensor
            Posterior parameters, each (B, latent_dim).
        """
        mu, logvar = self.encode(x)
        z = self.reparameterize(mu, logvar, self.n_samples)
        return self._reconstruct(z, x), mu, logvar

    def _reconstruct(self, z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Decoder output that :meth:`forward` returns for codes ``z`` drawn from q(z|x)."""
        return self.decode(z)

    def sample_prior(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Draw ``n`` codes from the prior N(0, I): a (n, latent_dim) tensor on :attr:`device`."""
        n = positive_int("n", n)
        dtype = next(self.parameters()).dtype
        return standard_normal((n, self.latent_dim), device=self.device, dtype=dtype, generator=generator)

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Decode ``n`` codes drawn from the prior (no gradient is tracked).

        Returns
        -------
        torch.Tensor
            ``decode(z)`` for z of shape (n, latent_dim), on :attr:`device`.
        """
        return self.decode(self.sample_prior(n, generator))


class ImageVAE(VAE):
    """VAE for images of a fixed shape with a factorised Bernoulli decoder.

    The decoder network outputs logits; :meth:`decode` turns them into per-pixel Bernoulli
    probabilities in (0, 1), which :meth:`forward` returns (shaped like the input) unless
    ``output_logits`` is set, in which case it returns the logits for a numerically stable
    BCE-with-logits loss.

    Parameters
    ----------
    input_shape : tuple of int
        Shape of one image, e.g. (1, 28, 28); inputs are (B, *input_shape).
    encoder : nn.Module
        Maps (B, *input_shape) to (B, 2 * latent_dim): the concatenation [mu, logvar].
    decoder : nn.Module
        Maps (N, latent_dim) to logits of shape (N, *input_shape).
    latent_dim, n_samples : int
        See :class:`VAE`.
    output_logits : bool
        Whether :meth:`forward` returns logits instead of probabilities.
    """

    def __init__(
        self,
        input_shape: tuple[int, ...],
        encoder: nn.Module,
        decoder: nn.Module,
        latent_dim: int,
        n_samples: int,
        output_logits: bool,
    ) -> None:
        super().__init__(latent_dim, n_samples)
        if not isinstance(output_logits, bool):
            raise TypeError(f"output_logits must be a bool, got {output_logits!r}")
        self.input_shape = positive_int_tuple("input_shape", input_shape)
        self.output_logits = output_logits
        self.encoder = encoder
        self.decoder = decoder

    def check_input(self, x: object) -> torch.Tensor:
        """Return ``x`` if it is a (B, *input_shape) tensor of the model's dtype, else raise."""
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"x must be a torch.Tensor, got {type(x).__name__}")
        dtype = next(self.parameters()).dtype
        if x.dtype != dtype:
            raise TypeError(f"x must have the model's dtype {dtype}, got {x.dtype}")
        if tuple(x.shape[1:]) != self.input_shape:
            expected = ", ".join(str(size) for size in self.input_shape)
            raise ValueError(f"x must have shape (B, {expected}), got {tuple(x.shape)}")
        return x

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return ``(mu, logvar)``, each (B, latent_dim), for images ``x`` of shape (B, *input_shape)."""
        mu, logvar = self.encoder(self.check_input(x)).chunk(2, dim=-1)
        return mu, logvar

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        """Bernoulli logits (..., *input_shape) for codes ``z`` of shape (..., latent_dim)."""
        z = self.check_latent(z)
        logits = self.decoder(z.reshape(-1, self.latent_dim))
        return logits.reshape(*z.shape[:-1], *self.input_shape)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Bernoulli probabilities sigmoid(decode_logits(z)), shape (..., *input_shape)."""
        return torch.sigmoid(self.decode_logits(z))

    def _reconstruct(self, z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return self.decode_logits(z) if self.output_logits else self.decode(z)
