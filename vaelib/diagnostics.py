"""Posterior-collapse diagnostics: KL per dimension, active units, mutual information, IWAE bound.

All quantities are in nats. ``mu`` and ``logvar`` are the parameters of the diagonal-Gaussian
posteriors q(z|x_n) = N(mu_n, diag(exp(logvar_n))) of a data set, each of shape (N, D), as
:func:`posterior_parameters` returns them; the prior is p(z) = N(0, I).

* :func:`kl_per_dimension` -- E_x KL(q(z_d|x) || N(0, 1)) for each latent dimension d.
* :func:`unit_activity`, :func:`active_units` -- Burda et al. 2016, "Importance Weighted
  Autoencoders" (ICLR), Sec. 5.2: the activity A_d = Cov_x(E_q[z_d|x]) and the number of units
  with A_d above a threshold (0.01 in the paper).
* :func:`dead_encoder_units` -- the share of each encoder ReLU layer's units that are zero for
  every input: a layer with none alive cuts the posterior off from x (a collapse mechanism).
* :func:`mutual_information` -- He et al. 2019, "Lagging Inference Networks and Posterior
  Collapse in Variational Autoencoders" (ICLR), Eq. 5: I_q(x; z) under the aggregate posterior.
* :func:`iwae_log_likelihood` -- Burda et al. 2016, Eq. 8: the K-sample importance-weighted
  lower bound on log p(x).
* :class:`CollapseMonitor` -- a :func:`vaelib.fit` callback logging these over training.

Randomness comes from a ``seed`` (an int or a :class:`torch.Generator`); the global RNG is never
used, so diagnostics do not change a training run they observe.
"""
from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import torch
from torch import Tensor, nn

from vaelib.losses import VAELoss, gaussian_kl
from vaelib.models.base import VAE, evaluating, positive_int, standard_normal
from vaelib.rng import check_seed, torch_generator
from vaelib.validation import check_nonnegative

__all__ = [
    "MONITOR_COLUMNS",
    "CollapseMonitor",
    "active_units",
    "dead_encoder_units",
    "iwae_log_likelihood",
    "kl_per_dimension",
    "mutual_information",
    "posterior_parameters",
    "unit_activity",
]

_LOG_2PI = math.log(2.0 * math.pi)
Seed = int | torch.Generator


# ----------------------------------------------------------------------------- validation


def _check_data(data: Any) -> Tensor:
    if not isinstance(data, Tensor):
        raise TypeError(f"data must be a torch.Tensor (N, ...), got {type(data).__name__}")
    if data.dim() == 0 or data.shape[0] == 0:
        raise ValueError(f"data must hold at least one sample, got shape {tuple(data.shape)}")
    return data


def _check_model(model: Any) -> VAE:
    if not isinstance(model, VAE):
        raise TypeError(f"model must be a vaelib VAE (encode, decode), got {type(model).__name__}")
    return model


def _check_codes(name: str, value: Any, min_rows: int = 1) -> Tensor:
    """``value`` if it is a finite floating-point (N, D) tensor with N >= ``min_rows``, else raise."""
    if not isinstance(value, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor (N, D), got {type(value).__name__}")
    if not value.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {value.dtype}")
    if value.dim() != 2 or value.shape[1] == 0:
        raise ValueError(f"{name} must have shape (N, D) with D >= 1, got {tuple(value.shape)}")
    if value.shape[0] < min_rows:
        raise ValueError(f"{name} must hold at least {min_rows} rows, got shape {tuple(value.shape)}")
    n_bad = int((~torch.isfinite(value)).sum())
    if n_bad:
        raise ValueError(f"{name} must be finite, got {n_bad} NaN or infinite entries")
    return value


def _check_posterior(mu: Any, logvar: Any) -> tuple[Tensor, Tensor]:
    mu, logvar = _check_codes("mu", mu), _check_codes("logvar", logvar)
    if mu.shape != logvar.shape:
        raise ValueError(
            f"mu and logvar must have the same shape, got {tuple(mu.shape)} and {tuple(logvar.shape)}"
        )
    return mu, logvar


# ----------------------------------------------------------------------------- posteriors


def posterior_parameters(model: VAE, data: Tensor, *, batch_size: int = 512) -> tuple[Tensor, Tensor]:
    """Encoder outputs ``(mu, logvar)`` for a whole data set.

    Runs ``model.encode`` in evaluation mode without gradients, ``batch_size`` inputs at a time on
    the model's device; the model's train/eval mode is restored afterwards.

    Parameters
    ----------
    model : VAE
    data : Tensor
        (N, ...) inputs the model's encoder accepts (images, or (N, L) tokens for LSTMVAE).
    batch_size : int
        Inputs per encoder call.

    Returns
    -------
    mu, logvar : Tensor
        Each (N, D), on the CPU.
    """
    model, data = _check_model(model), _check_data(data)
    batch_size = positive_int("batch_size", batch_size)
    mus, logvars = [], []
    with evaluating(model):
        for start in range(0, data.shape[0], batch_size):
            mu, logvar = model.encode(data[start : start + batch_size].to(model.device))
            mus.append(mu.cpu())
            logvars.append(logvar.cpu())
    return torch.cat(mus), torch.cat(logvars)


def kl_per_dimension(mu: Tensor, logvar: Tensor) -> Tensor:
    """E_x KL(q(z_d|x) || N(0, 1)) for each latent dimension d, in nats.

    The data average of :func:`vaelib.losses.gaussian_kl`; its sum over d is the model's KL term
    per sample. Dimensions with (near) zero KL carry no information about x (collapsed units).

    Parameters
    ----------
    mu, logvar : Tensor
        Posterior parameters, each (N, D).

    Returns
    -------
    Tensor
        (D,), nats per sample.
    """
    mu, logvar = _check_posterior(mu, logvar)
    return gaussian_kl(mu, logvar).mean(dim=0)


def unit_activity(mu: Tensor) -> Tensor:
    """Activity A_d = Cov_x(E_q[z_d|x]) of each latent unit (Burda et al. 2016, Sec. 5.2).

    The variance over the data set (unbiased, N - 1 in the denominator) of the posterior means.

    Parameters
    ----------
    mu : Tensor
        Posterior means E_q[z|x_n], (N, D) with N >= 2.

    Returns
    -------
    Tensor
        (D,), in squared latent units.
    """
    mu = _check_codes("mu", mu, min_rows=2)
    return mu.double().var(dim=0, correction=1).to(mu.dtype)


def active_units(mu: Tensor, threshold: float = 0.01) -> int:
    """Number of active latent units: those with :func:`unit_activity` A_d > ``threshold``.

    Burda et al. 2016 (Sec. 5.2) call a unit active when A_d exceeds 10^-2, which separates the
    units the decoder uses from collapsed ones whose posterior mean barely moves with x.

    Parameters
    ----------
    mu : Tensor
        Posterior means, (N, D) with N >= 2.
    threshold : float
        Activity threshold, >= 0.
    """
    threshold = check_nonnegative("threshold", threshold)
    return int((unit_activity(mu) > threshold).sum())


def dead_encoder_units(model: VAE, data: Tensor, *, batch_size: int = 512) -> dict[str, float]:
    """For each :class:`torch.nn.ReLU` that ``model.encode`` runs, the share of its units that
    are 0 for every input in ``data``.

    A unit is one element of the layer's output for one input (a channel at one position of a
    convolution's map). When every unit of some layer is dead the posterior is the same for
    every x: no gradient reaches the layers below it and the KL, whatever it is, carries no
    information (:func:`unit_activity` is 0 in every dimension). The encoder runs through
    :func:`posterior_parameters` (evaluation mode, no gradients, ``batch_size`` inputs at a time).

    Returns
    -------
    dict
        Module name (as in ``model.named_modules()``) -> share in [0, 1], in the order the layers run.
    """
    model = _check_model(model)
    alive: dict[str, Tensor] = {}

    def record(name: str):
        def hook(module: nn.Module, inputs: Any, output: Tensor) -> None:
            seen = (output.flatten(1) > 0).any(dim=0).cpu()
            alive[name] = alive[name] | seen if name in alive else seen
        return hook

    handles = [module.register_forward_hook(record(name))
               for name, module in model.named_modules() if isinstance(module, nn.ReLU)]
    try:
        posterior_parameters(model, data, batch_size=batch_size)  # the hooks see every batch
    finally:
        for handle in handles:
            handle.remove()
    if not alive:
        raise ValueError(f"model.encode of {type(model).__name__} runs no torch.nn.ReLU module")
    return {name: 1.0 - float(seen.float().mean()) for name, seen in alive.items()}


# ----------------------------------------------------------------------------- mutual information


def mutual_information(mu: Tensor, logvar: Tensor, *, seed: Seed = 0, batch_size: int = 256) -> float:
    """Mutual information I_q(x; z) between data and code (He et al. 2019, Eq. 5), in nats.

    With the data distribution the empirical one over the N inputs, q(x, z) = q(z|x) p_d(x) and
    the aggregate posterior q(z) = (1/N) sum_n q(z|x_n)::

        I_q = E_x[KL(q(z|x) || p(z))] - KL(q(z) || p(z)) = E_x E_q(z|x)[log q(z|x) - log q(z)].

    Estimated as He et al. do: the negative entropy E_q[log q(z|x)] in closed form, and for one
    draw z_n ~ q(z|x_n) per input, log q(z_n) = logsumexp_m log q(z_n|x_m) - log N over all N
    posteriors of the set. The N x N log-densities are computed in float64, ``batch_size`` draws
    at a time (memory ~ batch_size * N), so N = 20000 is fine. The estimate cannot exceed about
    log N and is near 0 (within Monte Carlo error) for a collapsed encoder.

    Parameters
    ----------
    mu, logvar : Tensor
        Posterior parameters, each (N, D).
    seed : int or torch.Generator
        Source of the draws z_n (a CPU generator; an int seeds a new one).
    batch_size : int
        Draws per chunk of the N x N computation.

    Returns
    -------
    float
        nats.
    """
    mu, logvar = _check_posterior(mu, logvar)
    batch_size = positive_int("batch_size", batch_size)
    generator = torch_generator(seed)
    mu, logvar = mu.double(), logvar.double()
    n, dim = mu.shape
    eps = standard_normal(tuple(mu.shape), device=mu.device, dtype=mu.dtype, generator=generator)
    z = mu + (0.5 * logvar).exp() * eps
    neg_entropy = (-0.5 * (1.0 + _LOG_2PI + logvar).sum(dim=1)).mean()
    # log q(z_i | x_j) = -0.5 sum_d (z_id - mu_jd)^2 / var_jd + const_j
    #                  = [z_i^2, z_i] . [-0.5 / var_j, mu_j / var_j] + const_j: one matrix product per chunk
    precision = (-logvar).exp()  # (N, D)
    const = -0.5 * ((mu.square() * precision).sum(dim=1) + logvar.sum(dim=1) + dim * _LOG_2PI)  # (N,)
    coefficients = torch.cat([-0.5 * precision, mu * precision], dim=1).T  # (2D, N)
    features = torch.cat([z.square(), z], dim=1)  # (N, 2D)
    log_qz = torch.empty(n, dtype=mu.dtype, device=mu.device)
    for start in range(0, n, batch_size):
        log_density = torch.addmm(const, features[start : start + batch_size], coefficients)  # (c, N)
        log_qz[start : start + batch_size] = torch.logsumexp(log_density, dim=1) - math.log(n)
    return float(neg_entropy - log_qz.mean())


# ----------------------------------------------------------------------------- IWAE


def _check_objective(model: VAE, objective: Any) -> VAELoss:
    objective = objective if objective is not None else VAELoss()
    if not isinstance(objective, VAELoss):
        raise TypeError(f"objective must be a VAELoss (or subclass), got {type(objective).__name__}")
    if objective.logits and not callable(getattr(model, "decode_logits", None)):
        raise TypeError(
            f"objective has logits=True but {type(model).__name__} has no decode_logits(z); "
            f"pass an objective with logits=False"
        )
    return objective


def _decoder_output(model: VAE, objective: VAELoss, z: Tensor, x: Tensor) -> Tensor:
    """What ``objective.log_likelihood`` expects for codes z (S, B, D) of inputs x (B, ...).

    Categorical (sequence) objectives get teacher-forced logits ``model.decode(z, x)``; Bernoulli
    objectives with ``logits=True`` get ``model.decode_logits(z)``; all others ``model.decode(z)``.
    """
    if objective.likelihood == "categorical":
        return model.decode(z, x)
    if objective.logits:
        return model.decode_logits(z)
    return model.decode(z)


def iwae_log_likelihood(
    model: VAE,
    data: Tensor,
    *,
    k: int = 100,
    objective: VAELoss | None = None,
    batch_size: int = 512,
    seed: Seed = 0,
) -> Tensor:
    """Importance-weighted lower bound on log p(x) per input (Burda et al. 2016, Eq. 8), in nats.

    For each input x, with z_1..z_K ~ q(z|x)::

        L_K(x) = log (1/K) sum_k p(x|z_k) p(z_k) / q(z_k|x)  <=  log p(x).

    E[L_1] is the ELBO, E[L_K] rises with K and tends to log p(x); it equals log p(x) for every
    draw when q(z|x) is the exact posterior. ``data.mean()`` of the result is the data-set bound.

    Parameters
    ----------
    model : VAE
        Evaluated in eval mode without gradients (its mode is restored). ``decode(z)`` must accept
        codes (S, B, D) -- all vaelib models do; sequence models decode teacher-forced,
        ``decode(z, tokens)``.
    data : Tensor
        (N, ...) inputs, e.g. images or (N, L) tokens.
    k : int
        Importance samples K per input.
    objective : VAELoss
        Supplies log p(x|z) through :meth:`VAELoss.log_likelihood` (default ``VAELoss()``,
        Bernoulli on probabilities). Use the training objective: ``VAELoss(logits=True)`` decodes
        with ``model.decode_logits`` (numerically exact), ``VAELoss("categorical", ...)`` for
        :class:`~vaelib.models.sequence.LSTMVAE`, ``VAELoss("gaussian", scale=...)``.
    batch_size : int
        Bound on the codes decoded per decoder call: inputs are taken ``batch_size`` at a time and
        their K samples in chunks of ``max(1, batch_size // inputs)``.
    seed : int or torch.Generator
        Source of the importance samples (a CPU generator; an int seeds a new one). The draws
        depend on ``batch_size`` too.

    Returns
    -------
    Tensor
        (N,) bounds, nats per input, on the CPU.
    """
    model, data = _check_model(model), _check_data(data)
    k = positive_int("k", k)
    objective = _check_objective(model, objective)
    batch_size = positive_int("batch_size", batch_size)
    generator = torch_generator(seed)
    bounds = []
    with evaluating(model):
        for start in range(0, data.shape[0], batch_size):
            x = data[start : start + batch_size].to(model.device)
            mu, logvar = model.encode(x)
            std = (0.5 * logvar).exp()
            samples_per_call = max(1, batch_size // x.shape[0])
            log_weights = []
            for done in range(0, k, samples_per_call):
                shape = (min(samples_per_call, k - done), *mu.shape)
                eps = standard_normal(shape, device=mu.device, dtype=mu.dtype, generator=generator)
                z = mu + std * eps  # (S, B, D)
                # log p(z) - log q(z|x); the normalising constants cancel
                log_prior_ratio = -0.5 * (z.square() - eps.square()).sum(dim=-1) + 0.5 * logvar.sum(dim=-1)
                log_likelihood = objective.log_likelihood(_decoder_output(model, objective, z, x), x)
                log_weights.append(log_likelihood + log_prior_ratio)  # (S, B)
            bounds.append((torch.logsumexp(torch.cat(log_weights), dim=0) - math.log(k)).cpu())
    return torch.cat(bounds)


# ----------------------------------------------------------------------------- fit callback

MONITOR_COLUMNS: tuple[str, ...] = ("active_units", "kl_total", "mutual_information", "iwae_log_likelihood")
"""The history columns :class:`CollapseMonitor` writes besides ``kl_dim_<d>``, in this order
(the ones of switched-off options are absent); figures and reports read the names from here."""


class CollapseMonitor:
    """:func:`vaelib.fit` callback that logs posterior-collapse diagnostics on held-out data.

    At every ``every``-th history row (rows 0, every, 2 * every, ... of the run) it encodes
    ``data`` with the current model and adds these columns to the row (other rows get NaN):

    ``active_units``
        :func:`active_units` at ``threshold``.
    ``kl_total``
        E_x KL(q(z|x) || p(z)), nats per sample (the sum of the per-dimension KLs).
    ``kl_dim_<d>``
        :func:`kl_per_dimension`, one column per latent dimension d = 0..D-1
        (with ``per_dimension=True``).
    ``mutual_information``
        :func:`mutual_information`, nats (with ``mi=True``).
    ``iwae_log_likelihood``
        Mean :func:`iwae_log_likelihood` with ``iwae_k`` samples, nats per sample (when
        ``iwae_k`` is set; costly, K decoder passes per input).

    Every row's estimates use the same random draws (a fresh generator from ``seed``), so the
    curves show changes of the model rather than Monte Carlo noise, and a resumed run logs the
    same numbers as an uninterrupted one. The global RNG is not touched, so the monitor does not
    change training. The model's train/eval mode is restored.

    Parameters
    ----------
    data : Tensor
        (N, ...) held-out inputs.
    every : int
        Compute at every ``every``-th history row.
    mi : bool
        Log the mutual information (an N x N computation on the monitored points).
    iwae_k : int, optional
        Importance samples for an IWAE column; ``None`` leaves it out.
    objective : VAELoss, optional
        Likelihood for the IWAE column; default the training objective (``state.objective``).
    threshold : float
        Activity threshold for ``active_units`` (Burda et al.'s 0.01).
    per_dimension : bool
        Log the ``kl_dim_<d>`` columns.
    keep_means : bool
        Append ``(step, mu)`` -- mu the (n, D) CPU posterior means of the monitored points -- to
        :attr:`means` at each computed row, e.g. to plot E_q[z|x] over training. Not saved in
        checkpoints.
    max_points : int, optional
        Monitor a fixed random subset (drawn once from ``seed``) of at most this many inputs;
        ``None`` uses them all.
    seed : int
        Seeds the subset and, at every row, the Monte Carlo draws.
    batch_size : int
        Inputs per encoder or decoder call.

    Attributes
    ----------
    data : Tensor
        The monitored inputs, (n, ...) with n = min(N, max_points).
    means : list of (int, Tensor)
        Posterior-mean snapshots (with ``keep_means=True``).
    """

    def __init__(
        self,
        data: Tensor,
        *,
        every: int = 1,
        mi: bool = True,
        iwae_k: int | None = None,
        objective: VAELoss | None = None,
        threshold: float = 0.01,
        per_dimension: bool = True,
        keep_means: bool = False,
        max_points: int | None = 2000,
        seed: int = 0,
        batch_size: int = 512,
    ) -> None:
        data = _check_data(data)
        self.every = positive_int("every", every)
        for name, flag in (("mi", mi), ("per_dimension", per_dimension), ("keep_means", keep_means)):
            if not isinstance(flag, bool):
                raise TypeError(f"{name} must be True or False, got {flag!r}")
        self.mi, self.per_dimension, self.keep_means = mi, per_dimension, keep_means
        self.iwae_k = None if iwae_k is None else positive_int("iwae_k", iwae_k)
        if objective is not None and not isinstance(objective, VAELoss):
            raise TypeError(f"objective must be a VAELoss (or subclass) or None, got {type(objective).__name__}")
        self.objective = objective
        self.threshold = check_nonnegative("threshold", threshold)
        self.seed = check_seed(seed)
        self.batch_size = positive_int("batch_size", batch_size)
        if max_points is not None and data.shape[0] > positive_int("max_points", max_points):
            subset = torch.randperm(data.shape[0], generator=torch_generator(self.seed))[:max_points].sort().values
            data = data[subset.to(data.device)]
        if data.shape[0] < 2:
            raise ValueError(
                f"data must hold at least 2 samples to measure unit activity, got shape {tuple(data.shape)}"
            )
        self.data = data
        self.means: list[tuple[int, Tensor]] = []

    def on_log(self, state: Any) -> dict[str, float]:
        """Diagnostics for the history row being written (``{}`` between every-th rows)."""
        if len(state.rows) % self.every:
            return {}
        mu, logvar = posterior_parameters(state.model, self.data, batch_size=self.batch_size)
        if self.keep_means:
            self.means.append((int(state.step), mu))
        per_dim = kl_per_dimension(mu, logvar)
        metrics: dict[str, float] = {
            "active_units": active_units(mu, self.threshold),
            "kl_total": float(per_dim.sum()),
        }
        if self.per_dimension:
            metrics.update({f"kl_dim_{d}": float(value) for d, value in enumerate(per_dim)})
        if self.mi:
            metrics["mutual_information"] = mutual_information(mu, logvar, seed=self.seed)
        if self.iwae_k is not None:
            objective = self.objective if self.objective is not None else state.objective
            bounds = iwae_log_likelihood(
                state.model, self.data, k=self.iwae_k, objective=objective, batch_size=self.batch_size, seed=self.seed
            )
            metrics["iwae_log_likelihood"] = float(bounds.mean())
        return metrics
