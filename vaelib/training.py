"""``fit``: the training loop — annealed objective, tidy history, callbacks, exact checkpoint/resume.

Every quantity in the history is in nats per sample (the objective's units, see
:mod:`vaelib.losses`): ``recon`` the negative log-likelihood, ``kl`` the true KL(q(z|x) || p(z))
(also under free bits), ``loss`` the minimised objective with the annealing weight applied, and
``elbo = -(recon + kl)`` for held-out data. Callbacks follow the protocol of
:mod:`vaelib.callbacks`.
"""
from __future__ import annotations

import math
import os
import time
from pathlib import Path
from typing import Any, Iterable, Mapping

import pandas as pd
import torch
from torch import Tensor, nn

from vaelib.annealing import Annealer
from vaelib.atomic import atomic_save
from vaelib.callbacks import Callback, TrainState, call_hook
from vaelib.data.batching import InMemoryBatches, IterableBatches, SamplerBatches, batch_source
from vaelib.losses import VAELoss, kl_divergence
from vaelib.models.base import evaluating
from vaelib.validation import check_int, check_seed

__all__ = ["Callback", "NonFiniteLossError", "TrainState", "default_optimizer", "evaluate", "fit", "load_checkpoint"]

CHECKPOINT_FORMAT = "vaelib-checkpoint-1"
ENDLESS_LOG_EVERY = 100
"""Steps per history row when the data have no epochs (a sampler) and ``log_every`` is not given."""

Batches = InMemoryBatches | SamplerBatches | IterableBatches


class NonFiniteLossError(FloatingPointError):
    """Training produced a NaN or infinite loss or parameters; the message says where, and which
    checkpoint (if any) is kept."""


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


def _check_samples(name: str, data: Any) -> Tensor:
    if not isinstance(data, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor of samples (N, ...), got {type(data).__name__}")
    if data.dim() == 0 or data.shape[0] == 0:
        raise ValueError(f"{name} must hold at least one sample along dim 0, got shape {tuple(data.shape)}")
    return data


def evaluate(model: nn.Module, objective: VAELoss | None, data: Tensor, *, batch_size: int = 512) -> dict[str, float]:
    """Average objective terms over ``data`` (N, ...) in eval mode, without gradients.

    Returns ``{"loss", "recon", "kl", "elbo"}`` in nats per sample, where ``loss`` is the objective
    at weight 1 and ``elbo = -(recon + kl)`` uses the true KL.
    """
    objective = objective if objective is not None else VAELoss()
    data = _check_samples("data", data)
    batch_size = check_int("batch_size", batch_size, 1)
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
    objective : VAELoss, BetaVAELoss or CapacityVAELoss
        Default ``VAELoss()``. Each step minimises ``objective.total(recon, kld, weight)`` and then
        calls ``objective.step()`` (which advances a capacity schedule).
    epochs, steps : int
        Length of training; give exactly one. Totals, so a resumed run trains the remainder.
    batch_size : int
        Samples per step for Tensor data (default 128); other sources make their own batches.
    annealer : Annealer
        KL weight schedule, read before and stepped after **every optimisation step** (so its
        ``total_steps`` counts minibatches; multiply epochs by ``len(data) / batch_size``).
    optimizer : torch.optim.Optimizer
        Default ``Adam(lr=lr)`` over the model's and the objective's parameters
        (:func:`default_optimizer`: fused where available). Your own must hold the model's
        parameters.
    eval_data : Tensor
        Held-out inputs evaluated (see :func:`evaluate`) at every history row: columns
        ``eval_loss``, ``eval_recon``, ``eval_kl``, ``eval_elbo``. The evaluation draws its
        reparameterisation noise from its own seed (:data:`EVAL_SEED`), so it does not change the
        training run.
    log_every : int
        Steps per history row (default: one epoch; :data:`ENDLESS_LOG_EVERY` for a sampler).
        Rows average the training metrics over their steps; a last row is written at the final step.
    callbacks : iterable
        Objects with any of the hooks of :mod:`vaelib.callbacks` (``on_train_begin``,
        ``on_step_end``, ``on_log`` (its dict of metrics joins the row), ``on_epoch_end``,
        ``on_train_end``), each called with the :class:`TrainState`.
    progress : bool
        A tqdm progress bar over steps.
    checkpoint : path
        Written atomically at every history row (model, optimiser, objective, annealer, RNG and
        data-order state, history), never with non-finite parameters. With ``resume=True`` the
        checkpoint is loaded first (it must exist) and training continues exactly as if never
        interrupted; ``resume="auto"`` does the same when the file exists and starts afresh
        when it does not (for jobs that may be killed and restarted, such as sweeps).
    clip_grad_norm : float
        Clip the gradient norm (useful for LSTMs).
    seed : int or None
        Seeds torch's RNG for this run (reparameterisation noise, dropout) and the data order. The
        caller's global RNG state is restored when ``fit`` returns. ``None``: use the current state.

    Raises
    ------
    NonFiniteLossError
        On a NaN/inf loss, or parameters that became non-finite (non-finite gradients): names the
        step and the terms, and the step of the checkpoint kept on disk, which is never overwritten
        by a non-finite state.
    """
    objective = objective if objective is not None else VAELoss()
    if (epochs is None) == (steps is None):
        raise ValueError(f"give exactly one of epochs or steps, got epochs={epochs!r}, steps={steps!r}")
    if batch_size is not None:
        batch_size = check_int("batch_size", batch_size, 1)
    seed = None if seed is None else check_seed(seed)
    batches = batch_source(data, batch_size, 0 if seed is None else seed)
    per_epoch = _batches_per_epoch(batches)
    if steps is not None:
        total_steps = check_int("steps", steps, 1)
    elif per_epoch is None:
        raise ValueError(f"{type(data).__name__} data have no epochs (no len()); give steps instead of epochs={epochs!r}")
    else:
        total_steps = check_int("epochs", epochs, 1) * per_epoch
    log_every = check_int("log_every", log_every if log_every is not None else per_epoch or ENDLESS_LOG_EVERY, 1)
    if clip_grad_norm is not None and not clip_grad_norm > 0:
        raise ValueError(f"clip_grad_norm must be > 0 or None, got {clip_grad_norm!r}")
    checkpoint = _check_checkpoint(checkpoint, resume)
    callbacks = list(callbacks)
    device = _model_device(model)
    objective.to(device)
    if optimizer is None:
        optimizer = default_optimizer(list(model.parameters()) + list(objective.parameters()), lr)
    _check_optimizer(optimizer, model)

    cuda_devices = [device.index or 0] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=cuda_devices):
        if isinstance(data, Tensor):
            _check_fits(model, data, device, "data")
        if eval_data is not None:
            _check_fits(model, _check_samples("eval_data", eval_data), device, "eval_data")
        state = TrainState(model, objective, optimizer, annealer, eval_data=eval_data)
        elapsed = 0.0
        if resume and checkpoint.exists():  # True (checked to exist) or "auto"
            elapsed = _restore(load_checkpoint(checkpoint), checkpoint, state, batches, device)
        elif seed is not None:
            torch.manual_seed(seed)
        return _run(state, batches, total_steps, log_every, callbacks, progress, checkpoint,
                    clip_grad_norm, device, elapsed)


def _check_checkpoint(checkpoint: str | os.PathLike | None, resume: Any) -> Path | None:
    if resume not in (False, True, "auto"):
        raise ValueError(f"resume must be True, False or 'auto', got {resume!r}")
    if checkpoint is None:
        if resume:
            raise ValueError(f"resume={resume!r} needs a checkpoint path")
        return None
    path = Path(checkpoint)
    if path.is_dir():
        raise ValueError(f"checkpoint must be a file path, got the directory {str(path)!r}")
    if resume is True and not path.exists():
        raise FileNotFoundError(
            f"resume=True but there is no checkpoint at {str(path)!r}; pass resume='auto' to start "
            "afresh when it is missing"
        )
    return path


def _check_optimizer(optimizer: Any, model: nn.Module) -> None:
    """The optimiser must hold the model's trainable parameters (else training changes nothing)."""
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(f"optimizer must be a torch.optim.Optimizer, got {type(optimizer).__name__}")
    held = {id(p) for group in optimizer.param_groups for p in group["params"]}
    trainable = [p for p in model.parameters() if p.requires_grad]
    if trainable and not any(id(p) in held for p in trainable):
        raise ValueError(
            f"optimizer holds none of the {type(model).__name__}'s parameters (was it built for another "
            "model?); pass e.g. torch.optim.Adam(model.parameters())"
        )


def _batches_per_epoch(batches: Batches) -> int | None:
    """Batches in one epoch, or None for a source without epochs (a sampler, an unsized iterable)."""
    try:
        return len(batches)
    except TypeError:
        return None


def _epoch(step: int, batches: Batches) -> float:
    per_epoch = _batches_per_epoch(batches)
    return step / per_epoch if per_epoch else float("nan")


def _check_fits(model: nn.Module, data: Tensor, device: torch.device, name: str) -> None:
    """One forward pass on two samples, so a data/model mismatch fails before training, clearly."""
    try:
        with evaluating(model):
            model(data[:2].to(device))
    except (ValueError, RuntimeError, TypeError, IndexError) as err:
        what = "data samples" if name == "data" else f"{name} samples"
        raise ValueError(f"{what} of shape {tuple(data.shape[1:])} do not fit {type(model).__name__}: {err}") from err


def _data_fingerprint(batches: Batches) -> dict[str, Any]:
    """What resuming needs to be the same: the kind of source, its size and batch size."""
    if isinstance(batches, InMemoryBatches):
        return {"kind": "tensor", "samples": int(batches.data.shape[0]), "batch_size": batches.batch_size}
    return {"kind": type(batches).__name__, "batches_per_epoch": _batches_per_epoch(batches)}


def _all_finite(state: TrainState) -> bool:
    tensors = [*state.model.parameters(), *state.objective.parameters()]
    return all(bool(torch.isfinite(t).all()) for t in tensors)


def _run(state: TrainState, batches: Batches, total_steps: int, log_every: int,
         callbacks: list[Any], progress: bool, checkpoint: Path | None,
         clip_grad_norm: float | None, device: torch.device, elapsed: float) -> pd.DataFrame:
    model, objective, optimizer, annealer = state.model, state.objective, state.optimizer, state.annealer
    params = [p for group in optimizer.param_groups for p in group["params"]]
    true_kl_needed = objective.free_bits > 0
    sums = {"loss": 0.0, "recon": 0.0, "kl": 0.0, "weight": 0.0}
    in_window = 0
    saved_step = state.step if checkpoint is not None and checkpoint.exists() else None
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=total_steps, initial=state.step, unit="step", desc="fit", leave=False)

    def kept() -> str:
        return f"; the last good checkpoint is kept at {str(checkpoint)!r} (step {saved_step})" if saved_step is not None else ""

    model.train()
    call_hook(callbacks, "on_train_begin", state)
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
                raise NonFiniteLossError(
                    f"non-finite loss {loss_value} at step {state.step + 1} (recon={recon.item()}, "
                    f"kl={kld.item()}, weight={weight}){kept()}"
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
            state.loss = loss_value
            sums["loss"] += loss_value
            sums["recon"] += recon.item()
            sums["kl"] += (kl_divergence(mu.detach(), logvar.detach()) if true_kl_needed else kld).item()
            sums["weight"] += weight
            in_window += 1
            if bar is not None:
                bar.update(1)
            call_hook(callbacks, "on_step_end", state)
            if last_of_epoch:
                call_hook(callbacks, "on_epoch_end", state)
            if state.step % log_every == 0 or state.step == total_steps or state.stop:
                if not _all_finite(state):
                    raise NonFiniteLossError(
                        f"non-finite parameters after step {state.step} (the gradients were not finite, "
                        f"although the loss {loss_value} was){kept()}"
                    )
                row = {"step": state.step, "epoch": state.epoch}
                row.update({key: value / in_window for key, value in sums.items()})
                row["lr"] = optimizer.param_groups[0]["lr"]
                row["time"] = time.perf_counter() - started
                if state.eval_data is not None:
                    row.update({f"eval_{key}": value for key, value in _held_out(state, device).items()})
                row.update(call_hook(callbacks, "on_log", state))
                model.train()
                state.rows.append(row)
                sums = dict.fromkeys(sums, 0.0)
                in_window = 0
                if bar is not None:
                    bar.set_postfix(loss=f"{row['loss']:.3g}", kl=f"{row['kl']:.3g}")
                if checkpoint is not None:
                    atomic_save(_snapshot(state, batches, row["time"]), checkpoint)
                    saved_step = state.step
    finally:
        if bar is not None:
            bar.close()
    call_hook(callbacks, "on_train_end", state)
    return pd.DataFrame(state.rows)


EVAL_SEED = 0
"""Seed of the reparameterisation noise of the held-out evaluations during ``fit``."""


def _held_out(state: TrainState, device: torch.device) -> dict[str, float]:
    """:func:`evaluate` on ``state.eval_data`` with its own seeded noise: the training run's random
    stream is left as it was, so training with and without ``eval_data`` gives the same model."""
    with torch.random.fork_rng(devices=[device.index or 0] if device.type == "cuda" else []):
        torch.manual_seed(EVAL_SEED)
        return evaluate(state.model, state.objective, state.eval_data)


def _snapshot(state: TrainState, batches: Batches, elapsed: float) -> dict[str, Any]:
    device = _model_device(state.model)
    return {
        "format": CHECKPOINT_FORMAT,
        "model_class": type(state.model).__name__,
        "model_fingerprint": _fingerprint(state.model),
        "data": _data_fingerprint(batches),
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
    now = _data_fingerprint(batches)
    if saved.get("data", now) != now:
        raise ValueError(
            f"checkpoint {str(path)!r} was trained on data {saved['data']}, but this run has {now}; resume "
            "with the same data and batch size (or start a new checkpoint)"
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
