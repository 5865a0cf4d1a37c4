"""Latent-space computations behind the figures: decoding codes, prior grids, traversal codes.

Nothing here draws; :mod:`vaelib.plotting` and :mod:`vaelib.widgets` build their pictures on these
functions, and they serve as well for anything else that walks the latent space. Codes are
(N, latent_dim) arrays or tensors; the prior is p(z) = N(0, I), so one unit of z is one prior
standard deviation. KL values are in nats.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from vaelib.models.base import VAE, evaluating
from vaelib.validation import as_array, is_real, positive_int

__all__ = ["check_kl", "check_model", "decode_images", "prior_grid", "traversal_codes"]


def check_model(model: Any, latent_dim: int | None = None) -> VAE:
    """``model`` if it is a vaelib :class:`~vaelib.models.base.VAE` (with ``latent_dim`` latent
    dimensions, when given); ``TypeError`` / ``ValueError`` otherwise."""
    if not isinstance(model, VAE):
        raise TypeError(f"model must be a vaelib VAE, got {type(model).__name__}")
    if latent_dim is not None and model.latent_dim != latent_dim:
        raise ValueError(
            f"model must have a {latent_dim}-D latent space (latent_dim={latent_dim}), got latent_dim={model.latent_dim}"
        )
    return model


def check_kl(kl: Any, name: str = "kl") -> np.ndarray:
    """Per-dimension KL values: finite, >= 0, shape (D,) with D >= 1, in nats; as float64.

    Raises
    ------
    TypeError, ValueError
        Naming ``name``.
    """
    array = as_array(name, kl)
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"{name} must be a 1-D array of per-dimension KL values (D,), got shape {array.shape}")
    if not np.isfinite(array).all() or array.min() < 0.0:
        raise ValueError(f"{name} must hold finite values >= 0 (nats), got values in [{np.nanmin(array):.4g}, {np.nanmax(array):.4g}]")
    return array


def decode_images(model: VAE, z: Any) -> np.ndarray:
    """Decoder means ``model.decode(z)`` as a NumPy array, computed in eval mode without gradients.

    Parameters
    ----------
    model : VAE
        Its train/eval mode is restored afterwards.
    z : Tensor or array, (N, latent_dim)
        Latent codes; moved to the model's device and dtype.

    Returns
    -------
    numpy.ndarray
        (N, *image_shape), e.g. Bernoulli probabilities (N, C, H, W) in [0, 1].
    """
    model = check_model(model)
    dtype = next(model.parameters()).dtype
    codes = torch.as_tensor(as_array("z", z), dtype=dtype, device=model.device)
    with evaluating(model):
        return model.decode(codes).cpu().numpy()


def _check_quantiles(quantiles: Any) -> tuple[float, float]:
    if (
        not isinstance(quantiles, Sequence)
        or len(quantiles) != 2
        or not all(is_real(q) for q in quantiles)
        or not 0.0 < quantiles[0] < quantiles[1] < 1.0
    ):
        raise ValueError(f"quantiles must be two numbers (low, high) with 0 < low < high < 1, got {quantiles!r}")
    return float(quantiles[0]), float(quantiles[1])


def prior_grid(n: int, *, quantiles: tuple[float, float] = (0.05, 0.95)) -> torch.Tensor:
    """An n x n grid of 2-D codes equally spaced in the prior's probability, z = Φ⁻¹(u).

    The construction of Kingma & Welling 2014 (Fig. 4): u runs over ``n`` equally spaced values
    from ``quantiles[0]`` to ``quantiles[1]`` and the standard normal inverse CDF Φ⁻¹ maps them
    to z, so every tile of a decoded grid covers the same prior mass.

    Parameters
    ----------
    n : int >= 1
        Grid points per side.
    quantiles : (float, float)
        Prior probabilities (low, high) of the first and last grid lines, 0 < low < high < 1.

    Returns
    -------
    torch.Tensor
        float32, (n, n, 2), laid out like a picture with z_1 growing to the right and z_2 growing
        upwards: ``grid[i, j] = (Φ⁻¹(u_j), Φ⁻¹(u_{n-1-i}))``.
    """
    n = positive_int("n", n)
    low, high = _check_quantiles(quantiles)
    z = torch.special.ndtri(torch.linspace(low, high, n, dtype=torch.float64))
    z1 = z.expand(n, n)
    z2 = z.flip(0)[:, None].expand(n, n)
    return torch.stack([z1, z2], dim=-1).float()


def traversal_codes(base: Any, kl: Any, *, span: float = 3.0, n_steps: int = 9) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Latent codes of a traversal: one latent dimension at a time swept from −span to +span.

    The latent traversals of Higgins et al. 2017 (Fig. 7): starting from a base code, dimension d
    takes ``n_steps`` equally spaced values from ``-span`` to ``+span`` (in prior standard
    deviations σ = 1, around the prior mean 0) while every other dimension keeps its base value.
    Dimensions are ordered by decreasing KL (ties keep index order), so the informative ones
    come first and collapsed ones (KL ≈ 0, which the decoder ignores) last.

    Parameters
    ----------
    base : Tensor or array, (D,)
        The base code, e.g. the posterior mean of one image.
    kl : Tensor or array, (D,)
        KL(q(z_d|x) || p(z_d)) per dimension in nats, e.g. from
        :func:`vaelib.diagnostics.kl_per_dimension`.
    span : float > 0
        Half-width of the sweep in prior standard deviations (3 gives −3σ to +3σ).
    n_steps : int >= 2
        Values per dimension.

    Returns
    -------
    order : numpy.ndarray of int, (D,)
        Dimension traversed in each row, by decreasing KL.
    values : numpy.ndarray, (n_steps,)
        ``linspace(-span, span, n_steps)``.
    codes : numpy.ndarray, (D, n_steps, D)
        ``codes[r, c]`` is ``base`` with dimension ``order[r]`` set to ``values[c]``.
    """
    base_array = as_array("base", base)
    kl_array = check_kl(kl)
    if base_array.ndim != 1 or base_array.shape != kl_array.shape or not np.isfinite(base_array).all():
        raise ValueError(f"base must be a finite code of shape {kl_array.shape} (one value per KL entry), got shape {base_array.shape}")
    if not (is_real(span) and math.isfinite(span) and span > 0):
        raise ValueError(f"span must be a finite number > 0, got {span!r}")
    n_steps = positive_int("n_steps", n_steps)
    if n_steps < 2:
        raise ValueError(f"n_steps must be >= 2, got {n_steps}")
    order = np.argsort(-kl_array, kind="stable")
    values = np.linspace(-float(span), float(span), n_steps)
    codes = np.tile(base_array, (order.size, n_steps, 1))
    codes[np.arange(order.size), :, order] = values
    return order, values, codes
