"""vaelib: variational autoencoders for research and teaching."""
from vaelib.annealing import Annealer
from vaelib.device import resolve_device
from vaelib.disentanglement import beta_vae_score, dci, factor_vae_score, mig, sap
from vaelib.disentanglement import evaluate as evaluate_disentanglement
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
from vaelib.data.batching import InMemoryBatches
from vaelib.data.dsprites import DSprites
from vaelib.data.images import ImageDataset, load_images
from vaelib.data.sequences import (
    LatentLSTM,
    SyntheticSequences,
    WordList,
    load_words,
    make_synthetic_sequences,
    sample_sequences,
)
from vaelib.losses import BetaVAELoss, CapacityVAELoss, VAELoss, kl_divergence, gaussian_kl
from vaelib.models import LSTMVAE, VAE, ConvVAE, ImageVAE, MLPVAE
from vaelib.training import NonFiniteLossError, TrainState, evaluate, fit, load_checkpoint

__all__ = [
    "Annealer",
    "BetaVAELoss",
    "CapacityVAELoss",
    "ConvVAE",
    "DSprites",
    "ImageVAE",
    "InMemoryBatches",
    "LSTMVAE",
    "MLPVAE",
    "NonFiniteLossError",
    "TrainState",
    "VAE",
    "VAELoss",
    "evaluate",
    "fit",
    "kl_divergence",
    "gaussian_kl",
    "load_checkpoint",
    "CollapseMonitor",
    "active_units",
    "dead_encoder_units",
    "iwae_log_likelihood",
    "kl_per_dimension",
    "mutual_information",
    "posterior_parameters",
    "unit_activity",
    "beta_vae_score",
    "dci",
    "evaluate_disentanglement",
    "factor_vae_score",
    "mig",
    "sap",
    "ImageDataset",
    "LatentLSTM",
    "SyntheticSequences",
    "WordList",
    "load_images",
    "load_words",
    "make_synthetic_sequences",
    "sample_sequences",
    "resolve_device",
    "collect_results",
    "execute_run",
    "plan_runs",
    "sweep_report",
    "SweepError",
    "SweepInterrupted",
]
__version__ = "0.2.0"

# Batch runs need the notebooks extra (papermill, nbformat): imported on first use. The runner
# itself is `from vaelib.sweep import sweep` (`vaelib.sweep` is its module).
_LAZY = {
    "collect_results": ("vaelib.sweep", "collect_results"),
    "execute_run": ("vaelib.sweep", "execute_run"),
    "plan_runs": ("vaelib.sweep", "plan_runs"),
    "sweep_report": ("vaelib.sweep", "report"),
    "SweepError": ("vaelib.sweep", "SweepError"),
    "SweepInterrupted": ("vaelib.sweep", "SweepInterrupted"),
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        module, attribute = _LAZY[name]
        return getattr(importlib.import_module(module), attribute)
    raise AttributeError(f"module 'vaelib' has no attribute {name!r}")
