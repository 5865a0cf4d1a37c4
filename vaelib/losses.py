"""VAE objectives: reconstruction likelihoods, the Gaussian KL term, free bits and beta-VAE.

Units. By default every term is a *per-sample* quantity in nats: the negative log-likelihood is
summed over the data dimensions of one input and the KL over its latent dimensions, and both are
then averaged over the batch. ``recon + kld`` is then the negative ELBO per sample, and the two
terms are on the same scale whatever the image size or latent size.

``reduction="mean"`` instead averages the reconstruction term over every element (pixel) while
the KL stays a per-sample sum — the per-element-mean pitfall of seed 002 and of many β-VAE code
bases: it divides the likelihood by the number of data dimensions N, which is the same as
multiplying the KL weight by N, and it usually collapses the code.

The Bernoulli term is ``binary_cross_entropy(x, x0)``: the reconstruction ``x`` as probabilities,
the data ``x0`` as targets. The seed repository's ``VAELoss`` passes them the other way round,
``binary_cross_entropy(x0, x)``, which treats the data as the model's probabilities: with binary
data (exact 0s and 1s) its log terms are log 0, the loss is torch's clamp of them (100 nats per
element) and its gradients are infinite, so the first optimiser step makes the weights NaN.
"""
from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from vaelib.annealing import Annealer
from vaelib.validation import check_int, check_nonnegative, check_positive, is_integer

LIKELIHOODS = ("bernoulli", "gaussian", "categorical")
REDUCTIONS = ("sum", "mean")
_LOG_2PI = math.log(2.0 * math.pi)


def gaussian_kl(mu: Tensor, logvar: Tensor) -> Tensor:
    """KL(N(mu, exp(logvar)) || N(0, 1)) for every sample and latent dimension.

    ``0.5 * (mu**2 + exp(logvar) - 1 - logvar)`` in nats; ``mu``, ``logvar``: (B, D) -> (B, D).
    """
    return 0.5 * (mu.square() + logvar.exp() - 1.0 - logvar)


def kl_divergence(mu: Tensor, logvar: Tensor) -> Tensor:
    """Per-sample KL to the standard normal prior, summed over latents, averaged over the batch.

    ``mu``, ``logvar``: (B, D). Returns a 0-dim tensor in nats per sample.
    """
    return gaussian_kl(mu, logvar).sum(dim=-1).mean()


class VAELoss(nn.Module):
    """``recon, kld = VAELoss()(x, x0, mu, logvar)``: the two terms of the negative ELBO.

    Parameters
    ----------
    likelihood : {"bernoulli", "gaussian", "categorical"}
        ``"bernoulli"``: ``x`` holds probabilities in [0, 1] (or logits with ``logits=True``) and
        ``x0`` targets in [0, 1]. ``"gaussian"``: ``x`` is the mean, with standard deviation
        ``scale`` (a fixed number, or ``"learned"`` for one learned scalar ``log_scale`` parameter:
        give ``VAELoss.parameters()`` to the optimiser too). ``"categorical"``: ``x`` holds logits
        (B, L, V) over a vocabulary and ``x0`` integer tokens (B, L); tokens equal to
        ``ignore_index`` do not count.
    reduction : {"sum", "mean"}
        ``"sum"`` (default): per-sample sums in nats, batch-averaged. ``"mean"``: reconstruction
        averaged over every element too (see the module docstring: a pitfall kept for teaching).
    free_bits : float >= 0
        Free bits λ (Kingma et al. 2016, "Improved variational inference with inverse
        autoregressive flow", §C.8): the KL term becomes ``sum_d max(λ, mean_batch KL_d)``, so no
        latent dimension is pushed below λ nats. The returned ``kld`` is then that objective
        term; use :func:`kl_divergence` for the true KL.
    logits : bool
        Bernoulli only: ``x`` holds logits (numerically exact for saturated outputs).
    scale : float or "learned"
        Gaussian only (an error with other likelihoods): observation standard deviation σ,
        default 1.
    ignore_index : int or None
        Categorical only (an error with other likelihoods): target value that is padding.

    Shapes
    ------
    ``x0``: (B, ...). ``x``: (B, ...) like ``x0``, or (S, B, ...) for S latent samples per input
    (the reconstruction term is then averaged over the S samples). ``mu``, ``logvar``: (B, D).
    Categorical: ``x0`` (B, L) int64, ``x`` (B, L, V) or (S, B, L, V).
    Returns ``(recon, kld)``, two 0-dim tensors.
    """

    def __init__(
        self,
        likelihood: str = "bernoulli",
        reduction: str = "sum",
        free_bits: float = 0.0,
        *,
        logits: bool = False,
        scale: float | str | None = None,
        ignore_index: int | None = None,
    ) -> None:
        super().__init__()
        if likelihood not in LIKELIHOODS:
            raise ValueError(f"likelihood must be one of {LIKELIHOODS}, got {likelihood!r}")
        if reduction not in REDUCTIONS:
            raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}")
        if not isinstance(logits, bool):
            raise TypeError(f"logits must be True or False, got {logits!r}")
        if logits and likelihood != "bernoulli":
            raise ValueError(f"logits=True applies to the bernoulli likelihood, got likelihood={likelihood!r}")
        if ignore_index is not None and not is_integer(ignore_index):
            raise TypeError(f"ignore_index must be an int or None, got {ignore_index!r}")
        if ignore_index is not None and likelihood != "categorical":
            raise ValueError(f"ignore_index applies to the categorical likelihood, got likelihood={likelihood!r}")
        if scale is not None and likelihood != "gaussian":
            raise ValueError(f"scale applies to the gaussian likelihood, got likelihood={likelihood!r} and scale={scale!r}")
        self.likelihood = likelihood
        self.reduction = reduction
        self.free_bits = check_nonnegative("free_bits", free_bits)
        self.logits = logits
        self.ignore_index = None if ignore_index is None else int(ignore_index)
        self.log_scale: nn.Parameter | None = None
        self.scale: float | None = None
        if scale == "learned":
            self.log_scale = nn.Parameter(torch.zeros(()))
        elif isinstance(scale, str):
            raise ValueError(f"scale must be a positive number or 'learned', got {scale!r}")
        elif likelihood == "gaussian":
            self.scale = check_positive("scale", 1.0 if scale is None else scale)

    # -- terms -------------------------------------------------------------------------------
    def log_likelihood(self, x: Tensor, x0: Tensor) -> Tensor:
        """log p(x0 | z) in nats per sample, summed over data dimensions: (B,) or (S, B).

        The building block of importance-weighted bounds (see :mod:`vaelib.diagnostics`).
        """
        x = self._check_pair(x, x0)
        nll = self._elementwise_nll(x, x0)
        return -nll.flatten(start_dim=nll.dim() - (x0.dim() - 1)).sum(-1)

    def reconstruction(self, x: Tensor, x0: Tensor) -> Tensor:
        """Negative log-likelihood of ``x0`` under the decoder output ``x`` (0-dim, nats).

        ``reduction="sum"``: per-sample sum, averaged over the batch (and latent samples);
        ``reduction="mean"``: averaged over every element (non-padding token) instead.
        """
        if self.reduction == "sum":
            return -self.log_likelihood(x, x0).mean()
        x = self._check_pair(x, x0)
        nll = self._elementwise_nll(x, x0)
        if self.likelihood == "categorical" and self.ignore_index is not None:
            counted = (x0 != self.ignore_index).sum().clamp(min=1) * (nll.numel() // x0.numel())
            return nll.sum() / counted
        return nll.mean()

    def kl(self, mu: Tensor, logvar: Tensor) -> Tensor:
        """The KL term of the objective (0-dim, nats per sample), with the free-bits floor."""
        if mu.shape != logvar.shape or mu.dim() != 2:
            raise ValueError(
                f"mu and logvar must both be (batch, latent_dim), got {tuple(mu.shape)} and {tuple(logvar.shape)}"
            )
        per_dim = gaussian_kl(mu, logvar)
        if self.free_bits > 0:
            return per_dim.mean(dim=0).clamp(min=self.free_bits).sum()
        return per_dim.sum(dim=-1).mean()

    def forward(self, x: Tensor, x0: Tensor, mu: Tensor, logvar: Tensor) -> tuple[Tensor, Tensor]:
        if mu.shape[0] != x0.shape[0]:
            raise ValueError(
                f"mu has batch size {mu.shape[0]} but x0 has batch size {x0.shape[0]}"
            )
        return self.reconstruction(x, x0), self.kl(mu, logvar)

    def total(self, recon: Tensor, kld: Tensor, weight: float = 1.0) -> Tensor:
        """The scalar to minimise: ``recon + weight * kld`` (``weight`` from an :class:`Annealer`)."""
        return recon + weight * kld

    def step(self) -> None:
        """Advance internal schedules by one optimisation step (none for the plain loss)."""

    def per_sample(self) -> VAELoss:
        """The plain negative ELBO with this loss's likelihood: per-sample sums, no free bits.

        What a model trained with any variant of this loss (``reduction="mean"``, free bits, a β
        or a capacity) is measured with, so that the numbers of differently trained models compare.
        A learned Gaussian scale is shared, not copied.
        """
        plain = VAELoss(self.likelihood, logits=self.logits, ignore_index=self.ignore_index,
                        scale=self.scale if self.likelihood == "gaussian" and self.log_scale is None else None)
        plain.log_scale = self.log_scale
        return plain

    # -- helpers -----------------------------------------------------------------------------
    def _check_pair(self, x: Tensor, x0: Tensor) -> Tensor:
        data_shape = tuple(x0.shape)
        if self.likelihood == "categorical":
            if x0.dtype not in (torch.int64, torch.int32):
                raise TypeError(f"categorical targets x0 must be integer tokens, got dtype {x0.dtype}")
            data_shape = data_shape + (x.shape[-1],)
        if tuple(x.shape) != data_shape and tuple(x.shape[1:]) != data_shape:
            raise ValueError(
                f"reconstruction x has shape {tuple(x.shape)}, which matches neither x0's shape "
                f"{tuple(x0.shape)} nor (n_samples, *{tuple(x0.shape)})"
                + (" with a trailing vocabulary axis" if self.likelihood == "categorical" else "")
            )
        if self.likelihood == "bernoulli":
            lo, hi = torch.aminmax(x0.detach())
            if lo < 0 or hi > 1:
                raise ValueError(
                    f"bernoulli targets x0 must lie in [0, 1], got values in [{lo.item():.4g}, {hi.item():.4g}]"
                )
            if not self.logits:
                lo, hi = torch.aminmax(x.detach())
                if lo < 0 or hi > 1:
                    raise ValueError(
                        f"bernoulli reconstructions x must be probabilities in [0, 1], got values in "
                        f"[{lo.item():.4g}, {hi.item():.4g}]; pass logits=True if x holds logits"
                    )
        return x

    def _elementwise_nll(self, x: Tensor, x0: Tensor) -> Tensor:
        """Negative log-likelihood per data element, shaped like ``x`` (categorical: like the
        targets broadcast to ``x.shape[:-1]``, zero at ignored tokens)."""
        if self.likelihood == "categorical":
            targets = x0.expand(x.shape[:-1])
            ignore = -100 if self.ignore_index is None else self.ignore_index
            return F.cross_entropy(
                x.reshape(-1, x.shape[-1]), targets.reshape(-1), ignore_index=ignore, reduction="none"
            ).reshape(targets.shape)
        if self.likelihood == "gaussian":
            if self.log_scale is not None:
                log_sigma = self.log_scale
            else:
                log_sigma = torch.tensor(math.log(self.scale), dtype=x.dtype, device=x.device)
            return 0.5 * ((x - x0) * torch.exp(-log_sigma)).square() + log_sigma + 0.5 * _LOG_2PI
        if self.logits:
            return F.binary_cross_entropy_with_logits(x, x0.expand_as(x), reduction="none")
        if torch.isnan(x).any():
            # torch's BCE raises on NaN probabilities; a NaN loss lets callers (fit's guard) report it
            return x + float("nan")
        return F.binary_cross_entropy(x, x0.expand_as(x), reduction="none")


class BetaVAELoss(VAELoss):
    """β-VAE of Higgins et al. 2017 (loss type "H"): ``recon + β · KL``.

    β multiplies a *per-sample* KL against a *per-sample summed* reconstruction, as in the paper's
    objective. Libraries that average the reconstruction over the N data dimensions use a weight
    ``w`` on that mean; the same objective here has

    * ``β = N · w`` for a Bernoulli decoder (per-pixel BCE, no scale), and
    * ``β = N · w / (2σ²)`` for a Gaussian decoder of standard deviation σ against a per-pixel
      *mean squared error* (seed 004's ``F.mse_loss`` + ``w · KL``): ``N · w`` only for
      σ² = 1/2, and ``N · w / 2`` for this class's default ``scale=1``,

    since ``-log p(x|z) = N · MSE / (2σ²) + const``. (N = 4096 for a 64×64 single-channel image;
    seed 004's ``w`` also carries a ``kld_weight`` factor, see notebook 04.) Higgins et al. also
    report a normalised ``β_norm = β · M / N`` for an M-dimensional latent. ``β = 1`` is the
    plain VAE.
    """

    def __init__(self, beta: float = 4.0, likelihood: str = "bernoulli", **kwargs: Any) -> None:
        super().__init__(likelihood, **kwargs)
        self.beta = check_nonnegative("beta", beta)

    def total(self, recon: Tensor, kld: Tensor, weight: float = 1.0) -> Tensor:
        return recon + weight * self.beta * kld


class CapacityVAELoss(VAELoss):
    """Capacity-controlled β-VAE of Burgess et al. 2018 (loss type "B"): ``recon + γ · |KL − C|``.

    The target capacity C (nats per sample) rises linearly from 0 to ``capacity_max`` over
    ``capacity_steps`` optimisation steps, driven by an :class:`Annealer`. Only :meth:`step`
    advances it — call it once per optimisation step (``vaelib.fit`` does); evaluating the loss
    never does, unlike implementations that count calls. Burgess et al. used γ = 1000 and
    C_max = 25 nats with per-image summed likelihoods, the convention used here.
    """

    def __init__(
        self,
        gamma: float = 1000.0,
        capacity_max: float = 25.0,
        capacity_steps: int = 100_000,
        likelihood: str = "bernoulli",
        **kwargs: Any,
    ) -> None:
        super().__init__(likelihood, **kwargs)
        self.gamma = check_nonnegative("gamma", gamma)
        self.capacity_max = check_nonnegative("capacity_max", capacity_max)
        self.capacity_annealer = Annealer(check_int("capacity_steps", capacity_steps, 1), "linear")

    @property
    def capacity(self) -> float:
        """Current target capacity C in nats per sample."""
        return self.capacity_max * self.capacity_annealer.weight

    def total(self, recon: Tensor, kld: Tensor, weight: float = 1.0) -> Tensor:
        return recon + weight * self.gamma * (kld - self.capacity).abs()

    def step(self) -> None:
        self.capacity_annealer.step()

    def get_extra_state(self) -> dict[str, Any]:
        return self.capacity_annealer.state_dict()

    def set_extra_state(self, state: dict[str, Any]) -> None:
        self.capacity_annealer.load_state_dict(state)
