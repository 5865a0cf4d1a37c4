"""VAE models: the base contract and MLP, convolutional and LSTM variants."""
from vaelib.models.base import VAE, ImageVAE, MeanEncoder, evaluating
from vaelib.models.conv import ConvVAE
from vaelib.models.mlp import MLPVAE
from vaelib.models.sequence import LSTMVAE

__all__ = ["VAE", "ImageVAE", "MLPVAE", "ConvVAE", "LSTMVAE", "MeanEncoder", "evaluating"]
