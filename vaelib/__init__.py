"""vaelib: variational autoencoders for research and teaching."""
from vaelib.annealing import Annealer
from vaelib.device import resolve_device
from vaelib.losses import BetaVAELoss, CapacityVAELoss, VAELoss, kl_divergence, kl_per_dimension

__all__ = [
    "Annealer",
    "BetaVAELoss",
    "CapacityVAELoss",
    "VAELoss",
    "kl_divergence",
    "kl_per_dimension",
    "resolve_device",
]
__version__ = "0.1.0"
