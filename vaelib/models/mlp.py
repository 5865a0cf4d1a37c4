"""Fully connected VAE for small images (seed 003: 3 x 512 hidden units, 2-D latent)."""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
from torch import nn

from vaelib.device import resolve_device
from vaelib.models.base import ImageVAE, positive_int, positive_int_tuple


def _mlp(sizes: Sequence[int], activation: Callable[[], nn.Module]) -> list[nn.Module]:
    """Linear layers between consecutive ``sizes`` with ``activation`` between them (not after the last)."""
    layers: list[nn.Module] = []
    for index, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        if index > 0:
            layers.append(activation())
        layers.append(nn.Linear(n_in, n_out))
    return layers


class MLPVAE(ImageVAE):
    """VAE whose encoder and decoder are multilayer perceptrons on flattened images.

    The set-up of seed 003 (DIANNE's MNIST VAE after Kingma & Welling 2014): an encoder
    with three hidden layers of 512 units ending in 2 * latent_dim outputs (mu, logvar) for a
    2-D latent, and a mirrored decoder ending in one Bernoulli probability per pixel.

    Parameters
    ----------
    input_shape : sequence of int
        Shape of one input, e.g. (1, 28, 28) for MNIST or (1, 8, 8) for scikit-learn digits.
        Inputs are (B, *input_shape) and are flattened internally.
    hidden_sizes : sequence of int
        Encoder hidden widths, input side first; the decoder uses them in reverse. Empty gives
        a linear encoder and decoder.
    latent_dim : int
        Latent dimension D.
    n_samples : int
        Latent draws per input in :meth:`forward` (seed 003's ``sampleSize``).
    device : str or torch.device
        ``"auto"`` (CUDA when available, else CPU), ``"cpu"``, ``"cuda"``, ...
    activation : callable returning an nn.Module
        Hidden-layer non-linearity factory, e.g. ``nn.ReLU`` (default) or ``nn.ELU``.
    output_logits : bool
        Whether :meth:`forward` returns Bernoulli logits instead of probabilities.

    Examples
    --------
    >>> model = MLPVAE((1, 28, 28), device="cpu")
    >>> x_hat, mu, logvar = model(torch.rand(16, 1, 28, 28))
    >>> x_hat.shape, mu.shape
    (torch.Size([16, 1, 28, 28]), torch.Size([16, 2]))
    """

    def __init__(
        self,
        input_shape: Sequence[int],
        hidden_sizes: Sequence[int] = (512, 512, 512),
        latent_dim: int = 2,
        n_samples: int = 1,
        device: str | torch.device = "auto",
        *,
        activation: Callable[[], nn.Module] = nn.ReLU,
        output_logits: bool = False,
    ) -> None:
        shape = positive_int_tuple("input_shape", input_shape)
        hidden = positive_int_tuple("hidden_sizes", hidden_sizes, allow_empty=True)
        latent_dim = positive_int("latent_dim", latent_dim)
        if not callable(activation) or not isinstance(activation(), nn.Module):
            raise TypeError(f"activation must be a callable returning an nn.Module, got {activation!r}")
        n_pixels = math.prod(shape)
        encoder = nn.Sequential(nn.Flatten(), *_mlp([n_pixels, *hidden, 2 * latent_dim], activation))
        decoder = nn.Sequential(*_mlp([latent_dim, *reversed(hidden), n_pixels], activation), nn.Unflatten(1, shape))
        super().__init__(shape, encoder, decoder, latent_dim, n_samples, output_logits)
        self.hidden_sizes = hidden
        self.to(resolve_device(device))
