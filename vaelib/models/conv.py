"""Convolutional VAE after Burgess et al. 2018 ("Understanding disentangling in beta-VAE")."""
from __future__ import annotations

import math

import torch
from torch import nn

from vaelib.device import resolve_device
from vaelib.models.base import ImageVAE, positive_int

#: Padding of each stride-2 convolution (input side first) per supported image side, chosen so
#: that every size ends at a 4 x 4 feature map and the transposed convolutions with the same
#: paddings in reverse restore the input size exactly (no output_padding needed):
#: 28 -> 16 -> 8 -> 4 (padding 3 first, like zero-padding to 34 px), 32 -> 16 -> 8 -> 4,
#: 64 -> 32 -> 16 -> 8 -> 4 (Burgess et al.'s four layers).
PADDINGS: dict[int, tuple[int, ...]] = {28: (3, 1, 1), 32: (1, 1, 1), 64: (1, 1, 1, 1)}

_CHANNELS = 32  # feature maps per convolution (Burgess et al. 2018)
_KERNEL = 4  # 4 x 4 kernels, stride 2
_FEATURE_SIDE = 4  # side of the last feature map for every supported size
_HIDDEN = 256  # width of the two fully connected layers


def he_initialise(network: nn.Sequential) -> None:
    """He et al. 2015 initialisation of a ReLU network, in place: N(0, gain² / fan_in) weights, zero biases.

    ``fan_in`` is the number of inputs that reach one output unit: ``in_features`` for a
    :class:`~torch.nn.Linear`, ``C_in · k²`` for a :class:`~torch.nn.Conv2d`, and
    ``C_in · (k / stride)²`` for a :class:`~torch.nn.ConvTranspose2d` (each output pixel of a
    stride-2, 4 x 4 transposed convolution sees 2 x 2 input pixels). ``gain`` is √2 for a layer
    followed by a ReLU (which halves the second moment) and 1 for the last layer, so activations
    keep their scale from layer to layer.

    Why not torch's default: its ``kaiming_uniform_(a=√5)`` draws weights of variance
    ``1 / (3 fan_in)``, a sixth of what a ReLU layer needs, so each layer shrinks the signal's
    standard deviation about 2.4-fold. Through the six layers before the posterior mean the
    means of different images then differ by about 0.001 while the posterior noise has standard
    deviation 1: the decoder cannot tell images apart, learns the mean image, and a β-VAE sits
    on that plateau for hundreds of steps (on dSprites at 32 x 32, up to the whole of a
    1,000-step run). With this initialisation the means differ by about 0.2 from the first step.
    """
    layers = [m for m in network if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d))]
    for index, layer in enumerate(layers):
        if isinstance(layer, nn.Linear):
            fan_in = layer.in_features
        elif isinstance(layer, nn.ConvTranspose2d):
            fan_in = layer.in_channels * math.prod(k // s for k, s in zip(layer.kernel_size, layer.stride))
        else:
            fan_in = layer.in_channels * math.prod(layer.kernel_size)
        gain = 1.0 if index == len(layers) - 1 else math.sqrt(2.0)
        with torch.no_grad():
            layer.weight.normal_(0.0, gain / math.sqrt(fan_in))
            layer.bias.zero_()


class ConvVAE(ImageVAE):
    """Convolutional VAE with the architecture of Burgess et al. 2018 (appendix, "Model architecture").

    Encoder: stride-2 4 x 4 convolutions with 32 channels and ReLU (four for 64 x 64 images,
    three for 28 x 28 and 32 x 32; see :data:`PADDINGS`) down to 32 x 4 x 4, then two fully
    connected layers of 256 units and a linear layer to 2 * latent_dim (mu, logvar).
    Decoder: the mirror image, ending in stride-2 4 x 4 transposed convolutions whose last
    layer gives one Bernoulli logit per pixel. Outputs have the input's shape. Weights are
    He-initialised (:func:`he_initialise`) from torch's global RNG, so ``torch.manual_seed``
    before construction fixes them; torch's default initialisation traps β-VAEs on a
    mean-image plateau (see there). Parameters and activations use the channels-last memory
    layout (NHWC), the convolutions' fast path; inputs and outputs are ordinary tensors.

    Parameters
    ----------
    image_size : int
        Side of the square input images: 28, 32 or 64.
    channels : int
        Image channels (1 for MNIST and dSprites).
    latent_dim : int
        Latent dimension D (10 in Burgess et al.).
    n_samples : int
        Latent draws per input in :meth:`forward`.
    device : str or torch.device
        ``"auto"`` (CUDA when available, else CPU), ``"cpu"``, ``"cuda"``, ...
    output_logits : bool
        Whether :meth:`forward` returns Bernoulli logits instead of probabilities.

    Examples
    --------
    >>> model = ConvVAE(64, device="cpu")
    >>> model(torch.rand(8, 1, 64, 64))[0].shape
    torch.Size([8, 1, 64, 64])
    """

    def __init__(
        self,
        image_size: int = 64,
        channels: int = 1,
        latent_dim: int = 10,
        n_samples: int = 1,
        device: str | torch.device = "auto",
        *,
        output_logits: bool = False,
    ) -> None:
        if positive_int("image_size", image_size) not in PADDINGS:
            raise ValueError(f"image_size must be one of {tuple(PADDINGS)}, got {image_size!r}")
        channels = positive_int("channels", channels)
        latent_dim = positive_int("latent_dim", latent_dim)
        paddings = PADDINGS[image_size]
        features = (_CHANNELS, _FEATURE_SIDE, _FEATURE_SIDE)
        n_features = _CHANNELS * _FEATURE_SIDE**2

        encoder: list[nn.Module] = []
        for index, padding in enumerate(paddings):
            n_in = channels if index == 0 else _CHANNELS
            encoder += [nn.Conv2d(n_in, _CHANNELS, _KERNEL, stride=2, padding=padding), nn.ReLU()]
        encoder += [
            nn.Flatten(),
            nn.Linear(n_features, _HIDDEN), nn.ReLU(),
            nn.Linear(_HIDDEN, _HIDDEN), nn.ReLU(),
            nn.Linear(_HIDDEN, 2 * latent_dim),
        ]

        decoder: list[nn.Module] = [
            nn.Linear(latent_dim, _HIDDEN), nn.ReLU(),
            nn.Linear(_HIDDEN, _HIDDEN), nn.ReLU(),
            nn.Linear(_HIDDEN, n_features), nn.ReLU(),
            nn.Unflatten(1, features),
        ]
        for index, padding in enumerate(reversed(paddings)):
            last = index == len(paddings) - 1
            n_out = channels if last else _CHANNELS
            decoder.append(nn.ConvTranspose2d(_CHANNELS, n_out, _KERNEL, stride=2, padding=padding))
            if not last:
                decoder.append(nn.ReLU())

        encoder_network, decoder_network = nn.Sequential(*encoder), nn.Sequential(*decoder)
        he_initialise(encoder_network)
        he_initialise(decoder_network)
        super().__init__(
            (channels, image_size, image_size),
            encoder_network,
            decoder_network,
            latent_dim,
            n_samples,
            output_logits,
        )
        self.image_size = int(image_size)
        self.channels = channels
        self.to(resolve_device(device), memory_format=torch.channels_last)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(mu, logvar)``, each (B, latent_dim), for images (B, C, H, W); computed in channels-last
        memory layout (the convolutions' fast path on CPUs and GPUs), whatever the layout of ``x``."""
        return super().encode(self.check_input(x).contiguous(memory_format=torch.channels_last))
