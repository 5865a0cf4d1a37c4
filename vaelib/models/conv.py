"""Convolutional VAE after Burgess et al. 2018 ("Understanding disentangling in beta-VAE")."""
from __future__ import annotations

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


class ConvVAE(ImageVAE):
    """Convolutional VAE with the architecture of Burgess et al. 2018 (appendix, "Model architecture").

    Encoder: stride-2 4 x 4 convolutions with 32 channels and ReLU (four for 64 x 64 images,
    three for 28 x 28 and 32 x 32; see :data:`PADDINGS`) down to 32 x 4 x 4, then two fully
    connected layers of 256 units and a linear layer to 2 * latent_dim (mu, logvar).
    Decoder: the mirror image, ending in stride-2 4 x 4 transposed convolutions whose last
    layer gives one Bernoulli logit per pixel. Outputs have the input's shape.

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

        super().__init__(
            (channels, image_size, image_size),
            nn.Sequential(*encoder),
            nn.Sequential(*decoder),
            latent_dim,
            n_samples,
            output_logits,
        )
        self.image_size = int(image_size)
        self.channels = channels
        self.to(resolve_device(device))
