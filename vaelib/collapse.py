"""Posterior collapse, measured and cured: one training run per method, one summary per model.

The methods compared in notebook 02 (after He et al. 2019, "Lagging Inference Networks and
Posterior Collapse in Variational Autoencoders", Table 1) all train the same
:class:`~vaelib.models.sequence.LSTMVAE` with the same data, budget and seed, and differ in one
thing only:

``"vae"``
    The plain negative ELBO, KL weight 1 from the first step.
``"monotonic"``
    KL annealing (Bowman et al. 2016; the seed :class:`~vaelib.annealing.Annealer`): the weight
    rises linearly from 0 to 1 over the first ``anneal_fraction`` of the steps, then stays at 1.
``"cyclical"``
    Cyclical annealing (Fu et al. 2019, "Cyclical Annealing Schedule"): ``cycles`` linear ramps
    of ``ratio`` of a cycle each, the weight held at 1 for the rest of every cycle.
``"free_bits"``
    Free bits (Kingma et al. 2016): the KL of each latent dimension only counts above
    ``free_bits`` nats (batch average), so the optimiser gains nothing from pushing it lower.
``"word_dropout"``
    Word dropout (Bowman et al. 2016, Sec. 3.2): each previous-token input of the decoder is
    zeroed with probability ``word_dropout``, which weakens the autoregressive path and makes the
    decoder rely on z.

Every number is in nats per sample (a whole sequence or image), as in :mod:`vaelib.losses`.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
import torch
from torch import Tensor

from vaelib.annealing import Annealer
from vaelib.diagnostics import CollapseMonitor, active_units, mutual_information, posterior_parameters
from vaelib.losses import VAELoss
from vaelib.models.base import VAE, positive_int
from vaelib.models.sequence import LSTMVAE
from vaelib.validation import check_probability, check_seed, is_real
from vaelib.training import evaluate, fit

METHODS: tuple[str, ...] = ("vae", "monotonic", "cyclical", "free_bits", "word_dropout")
"""The training methods :func:`train_method` knows, in the order of He et al.'s table."""
SCHEDULES: tuple[str, ...] = ("constant", "linear", "cosine", "logistic", "cyclical-linear", "cyclical-cosine")
"""The KL-weight schedules :func:`schedule_annealer` knows (notebook 03 trains one model under each)."""
SUMMARY_KEYS: tuple[str, ...] = ("elbo", "recon", "kl", "active_units", "mutual_information")
"""The keys of :func:`collapse_summary` (and of notebook 02's results JSON per method)."""
MONOTONIC_RAMPS: dict[str, str] = {
    "ramp": "as long as one cyclical ramp, ratio * steps / cycles (the cyclical schedule without its restarts)",
    "cycle": "as long as one cycle, steps / cycles (Fu et al. 2019's baseline at equal total steps)",
    "half": "over the first half of training",
    "whole": "over the whole run",
}
"""The ramp lengths a monotonic baseline of a cyclical schedule can have (:func:`monotonic_fraction`)."""


@dataclass(frozen=True, eq=False)
class MethodRun:
    """One trained method.

    Attributes
    ----------
    method : str
        One of :data:`METHODS`.
    model : LSTMVAE
        The trained model (in training mode, on its device).
    history : pandas.DataFrame
        :func:`vaelib.fit`'s history, one row per ``log_every`` steps, with the
        :class:`~vaelib.diagnostics.CollapseMonitor` columns ``active_units``, ``kl_total``,
        ``kl_dim_<d>`` and ``mutual_information`` and fit's ``eval_recon``, ``eval_kl``,
        ``eval_elbo`` measured on the held-out data, and ``weight`` (the KL weight of the objective).
    means : list of (int, Tensor)
        Posterior means E_q[z|x] (n, D) of the held-out inputs at each history row, with the step.
    summary : dict
        :func:`collapse_summary` of the final model on the held-out data.
    """

    method: str
    model: LSTMVAE
    history: pd.DataFrame
    means: list[tuple[int, Tensor]]
    summary: dict[str, float]


def _check_tokens(name: str, value: Any) -> Tensor:
    if not isinstance(value, Tensor) or value.dtype != torch.int64 or value.dim() != 2:
        raise TypeError(f"{name} must be an int64 torch.Tensor of token ids (N, L), got {value!r:.80}")
    return value


def schedule_annealer(name: str, steps: int, *, anneal_fraction: float = 0.5, cycles: int = 4,
                      ratio: float = 0.5) -> Annealer | None:
    """The KL-weight schedule ``name`` of :data:`SCHEDULES` for a run of ``steps`` optimisation steps.

    ``"constant"``: weight 1 throughout (``None``: no annealer). ``"linear"``, ``"cosine"``,
    ``"logistic"``: a monotonic ramp of that shape from 0 to 1 over the first
    ``round(anneal_fraction * steps)`` steps, then 1. ``"cyclical-linear"``,
    ``"cyclical-cosine"``: ``cycles`` cycles of ``steps // cycles`` steps, each a ramp of that
    shape over the first ``ratio`` of the cycle and 1 for the rest. Fu et al. 2019 compare
    M = 4 cycles with R = 0.5 against the monotonic ramp over the first half of training, which
    is the same ramp with one cycle (the defaults here).

    Raises
    ------
    ValueError
        For an unknown name, or a schedule that does not fit into ``steps``.
    """
    if name not in SCHEDULES:
        raise ValueError(f"schedule must be one of {SCHEDULES}, got {name!r}")
    steps = positive_int("steps", steps)
    anneal_fraction = check_probability("anneal_fraction", anneal_fraction, open_low=True)
    cycles = positive_int("cycles", cycles)
    ratio = check_probability("ratio", ratio, open_low=True)
    if name == "constant":
        return None
    if name.startswith("cyclical-"):
        if cycles > steps:
            raise ValueError(f"cycles must be at most steps={steps}, got {cycles!r}")
        return Annealer(steps // cycles, name.removeprefix("cyclical-"), cyclical=True, ratio=ratio)
    return Annealer(max(1, round(anneal_fraction * steps)), name)


def monotonic_fraction(definition: str, cycles: int = 4, ratio: float = 0.5) -> float:
    """The share of the steps a monotonic ramp spans under a definition of :data:`MONOTONIC_RAMPS`,
    relative to a cyclical schedule of ``cycles`` cycles with ramps of ``ratio`` of a cycle:
    ``"ramp"`` ratio / cycles, ``"cycle"`` 1 / cycles, ``"half"`` 1/2, ``"whole"`` 1. Pass it as
    ``anneal_fraction`` to :func:`schedule_annealer`."""
    if definition not in MONOTONIC_RAMPS:
        raise ValueError(f"monotonic must be one of {tuple(MONOTONIC_RAMPS)}, got {definition!r}")
    cycles = positive_int("cycles", cycles)
    ratio = check_probability("ratio", ratio, open_low=True)
    return {"ramp": ratio / cycles, "cycle": 1.0 / cycles, "half": 0.5, "whole": 1.0}[definition]


def method_annealer(method: str, steps: int, *, anneal_fraction: float = 0.7, cycles: int = 4,
                    ratio: float = 0.5) -> Annealer | None:
    """The KL-weight schedule of ``method`` for a run of ``steps`` optimisation steps.

    ``"monotonic"``: linear from 0 to 1 over ``round(anneal_fraction * steps)`` steps, then 1.
    ``"cyclical"``: ``cycles`` cycles of ``steps // cycles`` steps, each a linear ramp over the
    first ``ratio`` of the cycle and 1 for the rest (Fu et al. 2019 use 4 cycles and ratio 0.5).
    The other methods keep the weight at 1: ``None``. (:func:`schedule_annealer` with the
    ``"linear"``, ``"cyclical-linear"`` and ``"constant"`` schedules.)

    Raises
    ------
    ValueError
        For an unknown method, or a schedule that does not fit into ``steps``.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    name = {"monotonic": "linear", "cyclical": "cyclical-linear"}.get(method, "constant")
    return schedule_annealer(name, steps, anneal_fraction=anneal_fraction, cycles=cycles, ratio=ratio)


def collapse_summary(model: VAE, data: Tensor, objective: VAELoss, *, seed: int = 0) -> dict[str, float]:
    """The columns of He et al. 2019's Table 1 for ``model`` on ``data``.

    Parameters
    ----------
    model : VAE
        Evaluated in eval mode (its mode is restored).
    data : Tensor
        (N, ...) held-out inputs, N >= 2.
    objective : VAELoss
        Supplies the reconstruction likelihood; the summary uses its per-sample sums whatever its
        ``reduction`` and free bits, so the numbers of differently trained models compare.
    seed : int
        Seeds the single-sample ELBO estimate and the mutual-information draws.

    Returns
    -------
    dict
        ``elbo`` (single-sample estimate of E_x ELBO), ``recon`` (-E_q log p(x|z)) and ``kl``
        (E_x KL(q(z|x) || p(z))), in nats per sample; ``active_units`` (Burda et al. 2016,
        threshold 0.01) and ``mutual_information`` I_q(x; z) (He et al. 2019, Eq. 5, nats).
    """
    if not isinstance(model, VAE):
        raise TypeError(f"model must be a vaelib VAE, got {type(model).__name__}")
    if not isinstance(objective, VAELoss):
        raise TypeError(f"objective must be a VAELoss, got {type(objective).__name__}")
    seed = check_seed(seed)
    per_sample = objective.per_sample()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        terms = evaluate(model, per_sample, data)
    mu, logvar = posterior_parameters(model, data)
    return {
        "elbo": terms["elbo"],
        "recon": terms["recon"],
        "kl": terms["kl"],
        "active_units": active_units(mu),
        "mutual_information": mutual_information(mu, logvar, seed=seed),
    }


def train_method(
    method: str,
    tokens: Tensor,
    held_out: Tensor,
    vocab_size: int,
    *,
    steps: int = 1200,
    batch_size: int = 64,
    embed_dim: int = 32,
    hidden_dim: int = 64,
    latent_dim: int = 2,
    lr: float = 1e-3,
    clip_grad_norm: float = 5.0,
    anneal_fraction: float = 0.7,
    cycles: int = 4,
    ratio: float = 0.5,
    free_bits: float = 1.0,
    word_dropout: float = 0.5,
    log_every: int = 50,
    seed: int = 0,
    device: str | torch.device = "cpu",
    annealer: Annealer | None = None,
    callbacks: Sequence[Any] = (),
    pad_index: int | None = None,
) -> MethodRun:
    """Train an :class:`LSTMVAE` on ``tokens`` with one of :data:`METHODS` and watch it collapse (or not).

    The model is initialised from ``seed`` (torch's global RNG is restored afterwards), so every
    method starts from the same weights and sees the same minibatches. Adam with learning rate
    ``lr`` and gradient-norm clipping, as in He et al. 2019.

    Parameters
    ----------
    method : str
        One of :data:`METHODS` (see the module docstring).
    tokens, held_out : Tensor
        int64 (N, L) training and (n, L) held-out token ids; the diagnostics are measured on all
        ``held_out`` rows at every history row (keep n to a few hundred: mutual information is an
        n x n computation).
    vocab_size : int
        Number of token ids V (tokens lie in [0, V)).
    steps, batch_size, log_every : int
        Optimisation steps, sequences per step, steps per history row.
    embed_dim, hidden_dim, latent_dim : int
        :class:`LSTMVAE` sizes.
    lr, clip_grad_norm : float
        Adam's learning rate and the gradient-norm bound.
    anneal_fraction, cycles, ratio : float, int, float
        Schedules of ``"monotonic"`` and ``"cyclical"`` (see :func:`method_annealer`).
    free_bits : float
        λ in nats per latent dimension for ``"free_bits"``.
    word_dropout : float
        Dropout probability of the previous-token inputs for ``"word_dropout"``.
    seed : int
        Seeds the initial weights, the data order and the training noise.
    device : str or torch.device
    annealer : Annealer, optional
        A KL-weight schedule of your own, used instead of the plain weight 1 of ``"vae"``,
        ``"free_bits"`` and ``"word_dropout"`` (notebook 03 compares schedule shapes this way).
        It is stepped once per optimisation step, from its current state (pass a fresh one);
        ``"monotonic"`` and ``"cyclical"`` are schedules themselves and refuse it.
    callbacks : sequence
        More :func:`vaelib.fit` callbacks (e.g. a
        :class:`~vaelib.callbacks.LearningRateSchedule`), run after the collapse monitor.
    pad_index : int, optional
        Padding token id of variable-length data (e.g. :func:`vaelib.load_words`' ``pad_index``):
        the encoder reads up to each row's last real token and the loss ignores padded targets.

    Returns
    -------
    MethodRun
    """
    default_annealer = method_annealer(method, steps, anneal_fraction=anneal_fraction, cycles=cycles, ratio=ratio)
    if annealer is None:
        annealer = default_annealer
    elif not isinstance(annealer, Annealer):
        raise TypeError(f"annealer must be a vaelib Annealer or None, got {type(annealer).__name__}")
    elif default_annealer is not None:
        raise ValueError(f"method {method!r} has its own schedule; pass annealer only with 'vae', "
                         f"'free_bits' or 'word_dropout', got method={method!r} and annealer={annealer!r}")
    tokens, held_out = _check_tokens("tokens", tokens), _check_tokens("held_out", held_out)
    if not is_real(free_bits) or not free_bits > 0:
        raise ValueError(f"free_bits must be a number > 0, got {free_bits!r}")
    word_dropout = check_probability("word_dropout", word_dropout, open_low=False)
    seed = check_seed(seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = LSTMVAE(
            vocab_size, embed_dim, hidden_dim, latent_dim,
            word_dropout=word_dropout if method == "word_dropout" else 0.0, pad_index=pad_index, device=device,
        )
    objective = VAELoss("categorical", free_bits=free_bits if method == "free_bits" else 0.0, ignore_index=pad_index)
    monitor = CollapseMonitor(held_out, every=1, keep_means=True, max_points=None, seed=seed)
    history = fit(
        model, tokens, objective, steps=steps, batch_size=batch_size, annealer=annealer, lr=lr, eval_data=held_out,
        log_every=log_every, callbacks=[monitor, *callbacks], progress=False, clip_grad_norm=clip_grad_norm, seed=seed,
    )
    return MethodRun(method, model, history, monitor.means, collapse_summary(model, held_out, objective, seed=seed))
