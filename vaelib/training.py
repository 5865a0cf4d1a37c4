"""``fit``: the training loop — annealed objective, tidy history, callbacks, exact checkpoint/resume.

Every quantity in the history is in nats per sample (the objective's units, see
:mod:`vaelib.losses`): ``recon`` the negative log-likelihood, ``kl`` the true KL(q(z|x) || p(z))
(also under free bits), ``loss`` the minimised objective with the annealing weight applied, and
``elbo = -(recon + kl)`` for held-out data.
"""
from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import pandas as pd
import torch
from torch import Tensor, nn

from vaelib.annealing import Annealer
from vaelib.data.batching import InMemoryBatches, IterableBatches, SamplerBatches, batch_source
from vaelib.losses import VAELoss, kl_divergence
from vaelib.models.base import evaluating
from vaelib.validation import check_int

CHECKPOINT_FORMAT = "vaelib-checkpoint-1"


class NonFiniteLossError(FloatingPointError):
    """Training produced a NaN or infinite loss; the message says where and which checkpoint is kept."""


@dataclass
class TrainState:
    """What callbacks see. ``rows`` is the history so far (list of dicts); set ``stop = True`` to end
    training after the current step."""

    model: nn.Module
    objective: VAELoss
    optimizer: torch.optim.Optimizer
    annealer: Annealer | None
    step: int = 0
    epoch: float = 0.0
    rows: list[dict[str, float]] = field(default_factory=list)
    eval_data: Tensor | None = None
    stop: bool = False


def _call(callbacks: Sequence[Any], hook: str, state: TrainState) -> dict[str, float]:
    """Call ``hook(state)`` on every callback that defines it; merge the metric dicts they return."""
    metrics: dict[str, float] = {}
    for callback in callbacks:
        method = getattr(callback, hook, None)
        if method is not None:
            out = method(state)
            if out:
                metrics.update(out)
    return metrics


def default_optimizer(parameters: list[nn.Parameter], lr: float) -> torch.optim.Adam:
    """``fit``'s optimiser: Adam with torch's defaults, as one fused kernel per step where torch has it.

    The fused implementation computes the same update as the per-parameter loop (to float
    round-off) in one pass over all parameters, which saves most of the optimiser's time for small
    models on a CPU; torch builds without it get the plain loop.
    """
    try:
        return torch.optim.Adam(parameters, lr=lr, fused=True)
    except (RuntimeError, TypeError, ValueError):  # torch < 2.4 on a CPU, or parameters fused Adam cannot take
        return torch.optim.Adam(parameters, lr=lr)


def _model_device(model: nn.Module) -> torch.device:
    for tensor in model.parameters():
        return tensor.device
    return torch.device("cpu")


def evaluate(model: nn.Module, objective: VAELoss | None, data: Tensor, *, batch_size: int = 512) -> dict[str, float]:
    """Average objective terms over ``data`` (N, ...) in eval mode, without gradients.

    Returns ``{"loss", "recon", "kl", "elbo"}`` in nats per sample, where ``loss`` is the objective
    at weight 1 and ``elbo = -(recon + kl)`` uses the true KL.
    """
    objective = objective if objective is not None else VAELoss()
    device = _model_device(model)
    totals = {"loss": 0.0, "recon": 0.0, "kl": 0.0}
    with evaluating(model):
        for start in range(0, data.shape[0], batch_size):
            x0 = data[start : start + batch_size].to(device)
            x, mu, logvar = model(x0)
            recon, kld = objective(x, x0, mu, logvar)
            n = x0.shape[0]
            totals["loss"] += objective.total(recon, kld).item() * n
            totals["recon"] += recon.item() * n
            totals["kl"] += kl_divergence(mu, logvar).item() * n
    out = {key: value / data.shape[0] for key, value in totals.items()}
    out["elbo"] = -(out["recon"] + out["kl"])
    return out


def _fingerprint(model: nn.Module) -> dict[str, list[int]]:
    return {name: list(t.shape) for name, t in model.state_dict().items()}


def _save_atomic(obj: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def load_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """Read a checkpoint written by :func:`fit` (``weights_only=True``: no code is unpickled)."""
    path = Path(path)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise
    except Exception as err:  # torch raises several types for corrupt or foreign files
        raise ValueError(f"cannot read checkpoint {str(path)!r}: {type(err).__name__}: {err}") from err
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{str(path)!r} is not a vaelib training checkpoint (format {CHECKPOINT_FORMAT!r})")
    return state


Batches = InMemoryBatches | SamplerBatches | IterableBatches
ENDLESS_LOG_EVERY = 100
"""Steps per history row when the data have no epochs (a sampler) and ``log_every`` is not given."""


def fit(
    model: nn.Module,
    data: Any,
    objective: VAELoss | None = None,
    *,
    epochs: int | None = None,
    steps: int | None = None,
    batch_size: int | None = None,
    annealer: Annealer | None = None,
    optimizer: torch.optim.Optimizer | None = None,
    lr: float = 1e-3,
    eval_data: Tensor | None = None,
    log_every: int | None = None,
    callbacks: Iterable[Any] = (),
    progress: bool = True,
    checkpoint: str | os.PathLike | None = None,
    resume: bool | str = False,
    clip_grad_norm: float | None = None,
    seed: int | None = 0,
) -> pd.DataFrame:
    """Train ``model`` on ``data`` and return the history, one row per ``log_every`` steps.

    Parameters
    ----------
    model : VAE
        ``model(x) -> (x_hat, mu, logvar)``; trained on its own device (batches are moved there).
    data : Tensor, sampler or iterable of batches
        (N, ...) training inputs held in memory, e.g. ``load_images("digits").x`` or
        ``SyntheticSequences.tokens``, batched by ``batch_size`` with a new permutation every
        epoch; or a callable returning one batch per call, e.g. ``DSprites(64).sampler(64)``
        (endless: give ``steps``); or an iterable of batches such as a
        :class:`torch.utils.data.DataLoader` (one epoch is one pass). A batch is a Tensor or a
        tuple/list whose first element is the inputs. Resuming is exact for tensors, samplers
        with ``state_dict``/``load_state_dict`` and DataLoaders (see
        :class:`~vaelib.data.batching.IterableBatches`).
    batch_size : int
        Samples per step for Tensor data (default 128); other sources make their own batches.
    objective : VAELoss, BetaVAELoss or CapacityVAELoss
        Default ``VAELoss()``. Each step minimises ``objective.total(recon, kld, weight)`` and then
        calls ``objective.step()`` (which advances a capacity schedule).
    epochs, steps : int
        Length of training; give exactly one. Totals, so a resumed run trains the remainder.
    annealer : Annealer
        KL weight schedule, read before and stepped after **every optimisation step** (so its
        ``total_steps`` counts minibatches; multiply epochs by ``len(data) / batch_size``).
    optimizer : torch.optim.Optimizer
        Default ``Adam(lr=lr)`` over the model's and the objective's parameters
        (:func:`default_optimizer`: fused where available).
    eval_data : Tensor
        Held-out inputs evaluated (see :func:`evaluate`) at every history row: columns
        ``eval_loss``, ``eval_recon``, ``eval_kl``, ``eval_elbo``.
    log_every : int
        Steps per history row (default: one epoch; :data:`ENDLESS_LOG_EVERY` for a sampler). Rows average the training metrics over their
        steps; a last row is written at the final step.
    callbacks : iterable
        Objects with any of ``on_train_begin(state)``, ``on_log(state) -> dict | None`` (metrics
        merged into the row being written), ``on_epoch_end(state)``, ``on_train_end(state)``;
        ``state`` is a :class:`TrainState`.
    progress : bool
        A tqdm progress bar over steps.
    checkpoint : path
        Written atomically at every history row (model, optimiser, objective, annealer, RNG and
        data-order state, history). With ``resume=True`` the checkpoint is loaded first (it must
        exist) and training continues exactly as if never interrupted; ``resume="auto"`` does the
        same when the file exists and starts afresh when it does not (for jobs that may be killed
        and restarted, such as sweeps).
    clip_grad_norm : float
        Clip the gradient norm (useful for LSTMs).
    seed : int or None
        Seeds torch's RNG for this run (reparameterisation noise, dropout) and the data order. The
        caller's global RNG state is restored when ``fit`` returns. ``None``: use the current state.

    Raises
    ------
    NonFiniteLossError
        On a NaN/inf loss: names the step and the terms; the last good checkpoint stays on disk.
    """
    objective = objective if objective is not None else VAELoss()
    if (epochs is None) == (steps is None):
        raise ValueError(f"give exactly one of epochs or steps, got epochs={epochs!r}, steps={steps!r}")
    if batch_size is not None:
        batch_size = check_int("batch_size", batch_size, 1)
    batches = batch_source(data, batch_size, 0 if seed is None else seed)
    per_epoch = _batches_per_epoch(batches)
    if steps is not None:
        total_steps = check_int("steps", steps, 1)
    elif per_epoch is None:
        raise ValueError(f"{type(data).__name__} data have no epochs (no len()); give steps instead of epochs={epochs!r}")
    else:
        total_steps = check_int("epochs", epochs, 1) * per_epoch
    if log_every is None:
        log_every = per_epoch or ENDLESS_LOG_EVERY
    log_every = check_int("log_every", log_every, 1)
    if clip_grad_norm is not None and not clip_grad_norm > 0:
        raise ValueError(f"clip_grad_norm must be > 0 or None, got {clip_grad_norm!r}")
    checkpoint = Path(checkpoint) if checkpoint is not None else None
    if resume not in (False, True, "auto"):
        raise ValueError(f"resume must be True, False or 'auto', got {resume!r}")
    if resume and checkpoint is None:
        raise ValueError(f"resume={resume!r} needs a checkpoint path")
    if resume is True and not checkpoint.exists():
        raise FileNotFoundError(
            f"resume=True but there is no checkpoint at {str(checkpoint)!r}; pass resume='auto' to start "
            "afresh when it is missing"
        )
    callbacks = list(callbacks)
    device = _model_device(model)
    objective.to(device)
    if optimizer is None:
        optimizer = default_optimizer(list(model.parameters()) + list(objective.parameters()), lr)

    cuda_devices = [device.index or 0] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=cuda_devices):
        if isinstance(data, Tensor):
            _check_fits(model, data, device)
        state = TrainState(model, objective, optimizer, annealer, eval_data=eval_data)
        elapsed = 0.0
        if resume and checkpoint.exists():  # True (checked above) or 'auto'
            elapsed = _restore(load_checkpoint(checkpoint), checkpoint, state, batches, device)
        elif seed is not None:
            torch.manual_seed(seed)
        return _run(state, batches, total_steps, log_every, callbacks, progress, checkpoint,
                    clip_grad_norm, device, elapsed)


def _batches_per_epoch(batches: Batches) -> int | None:
    """Batches in one epoch, or None for a source without epochs (a sampler, an unsized iterable)."""
    try:
        return len(batches)
    except TypeError:
        return None


def _epoch(step: int, batches: Batches) -> float:
    per_epoch = _batches_per_epoch(batches)
    return step / per_epoch if per_epoch else float("nan")


def _check_fits(model: nn.Module, data: Tensor, device: torch.device) -> None:
    """One forward pass on two samples, so a data/model mismatch fails before training, clearly."""
    try:
        with torch.no_grad():
            model(data[:2].to(device))
    except (ValueError, RuntimeError, TypeError, IndexError) as err:
        raise ValueError(
            f"data samples of shape {tuple(data.shape[1:])} do not fit {type(model).__name__}: {err}"
        ) from err


def _run(state: TrainState, batches: Batches, total_steps: int, log_every: int,
         callbacks: list[Any], progress: bool, checkpoint: Path | None,
         clip_grad_norm: float | None, device: torch.device, elapsed: float) -> pd.DataFrame:
    model, objective, optimizer, annealer = state.model, state.objective, state.optimizer, state.annealer
    params = [p for group in optimizer.param_groups for p in group["params"]]
    true_kl_needed = objective.free_bits > 0
    sums = {"loss": 0.0, "recon": 0.0, "kl": 0.0, "weight": 0.0}
    in_window = 0
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=total_steps, initial=state.step, unit="step", desc="fit", leave=False)
    model.train()
    _call(callbacks, "on_train_begin", state)
    started = time.perf_counter() - elapsed
    try:
        while state.step < total_steps and not state.stop:
            x0, last_of_epoch = batches.next_batch()
            x0 = x0.to(device, non_blocking=True)
            weight = 1.0 if annealer is None or annealer.disable else annealer.weight
            x, mu, logvar = model(x0)
            recon, kld = objective(x, x0, mu, logvar)
            loss = objective.total(recon, kld, weight)
            loss_value = loss.item()
            if not math.isfinite(loss_value):
                kept = f"; the last good checkpoint is kept at {str(checkpoint)!r}" if checkpoint and checkpoint.exists() else ""
                raise NonFiniteLossError(
                    f"non-finite loss {loss_value} at step {state.step + 1} (recon={recon.item()}, "
                    f"kl={kld.item()}, weight={weight}){kept}"
                )
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if clip_grad_norm is not None:
                nn.utils.clip_grad_norm_(params, clip_grad_norm)
            optimizer.step()
            if annealer is not None:
                annealer.step()
            objective.step()
            state.step += 1
            state.epoch = _epoch(state.step, batches)
            sums["loss"] += loss_value
            sums["recon"] += recon.item()
            sums["kl"] += (kl_divergence(mu.detach(), logvar.detach()) if true_kl_needed else kld).item()
            sums["weight"] += weight
            in_window += 1
            if bar is not None:
                bar.update(1)
            if last_of_epoch:
                _call(callbacks, "on_epoch_end", state)
            if state.step % log_every == 0 or state.step == total_steps or state.stop:
                row = {"step": state.step, "epoch": state.epoch}
                row.update({key: value / in_window for key, value in sums.items()})
                row["lr"] = optimizer.param_groups[0]["lr"]
                row["time"] = time.perf_counter() - started
                if state.eval_data is not None:
                    evaluated = evaluate(model, objective, state.eval_data)
                    row.update({f"eval_{key}": value for key, value in evaluated.items()})
                row.update(_call(callbacks, "on_log", state))
                model.train()
                state.rows.append(row)
                sums = dict.fromkeys(sums, 0.0)
                in_window = 0
                if bar is not None:
                    bar.set_postfix(loss=f"{row['loss']:.3g}", kl=f"{row['kl']:.3g}")
                if checkpoint is not None:
                    _save_atomic(_snapshot(state, batches, row["time"]), checkpoint)
    finally:
        if bar is not None:
            bar.close()
    _call(callbacks, "on_train_end", state)
    return pd.DataFrame(state.rows)


def _snapshot(state: TrainState, batches: Batches, elapsed: float) -> dict[str, Any]:
    device = _model_device(state.model)
    return {
        "format": CHECKPOINT_FORMAT,
        "model_class": type(state.model).__name__,
        "model_fingerprint": _fingerprint(state.model),
        "model": state.model.state_dict(),
        "optimizer": state.optimizer.state_dict(),
        "objective": state.objective.state_dict(),
        "annealer": state.annealer.state_dict() if state.annealer is not None else None,
        "batches": batches.state_dict(),
        "torch_rng": torch.get_rng_state(),
        "cuda_rng": torch.cuda.get_rng_state(device) if device.type == "cuda" else None,
        "step": state.step,
        "rows": state.rows,
        "elapsed": elapsed,
    }


def _restore(saved: Mapping[str, Any], path: Path, state: TrainState, batches: Batches,
             device: torch.device) -> float:
    model_class = type(state.model).__name__
    if saved["model_class"] != model_class or saved["model_fingerprint"] != _fingerprint(state.model):
        raise ValueError(
            f"checkpoint {str(path)!r} holds a {saved['model_class']} with parameters "
            f"{saved['model_fingerprint']}, which does not match this {model_class} ({_fingerprint(state.model)})"
        )
    if (saved["annealer"] is None) != (state.annealer is None):
        raise ValueError(
            f"checkpoint {str(path)!r} was trained {'without' if saved['annealer'] is None else 'with'} an "
            f"annealer; pass the same kind of run to resume it"
        )
    state.model.load_state_dict(saved["model"])
    state.optimizer.load_state_dict(saved["optimizer"])
    state.objective.load_state_dict(saved["objective"])
    if state.annealer is not None:
        state.annealer.load_state_dict(saved["annealer"])
    batches.load_state_dict(saved["batches"])
    torch.set_rng_state(saved["torch_rng"])
    if saved["cuda_rng"] is not None and device.type == "cuda":
        torch.cuda.set_rng_state(saved["cuda_rng"], device)
    state.step = int(saved["step"])
    state.epoch = _epoch(state.step, batches)
    state.rows = list(saved["rows"])
    return float(saved["elapsed"])
