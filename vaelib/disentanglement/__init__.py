"""Disentanglement scores of a representation on ground-truth data.

Five supervised scores, defined as in disentanglement_lib (Locatello et al. 2019, "Challenging
Common Assumptions in the Unsupervised Learning of Disentangled Representations", ICML), with
its published sample sizes as defaults, one module each:

* :func:`beta_vae_score` -- Higgins et al. 2017, "beta-VAE: Learning Basic Visual Concepts with
  a Constrained Variational Framework", ICLR.
* :func:`factor_vae_score` -- Kim & Mnih 2018, "Disentangling by Factorising", ICML
  (:func:`factor_vae_votes`: the votes it counts).
* :func:`mig` -- Chen et al. 2018, "Isolating Sources of Disentanglement in VAEs", NeurIPS
  (mutual information gap, on 20-bin histograms of the codes).
* :func:`sap` -- Kumar et al. 2018, "Variational Inference of Disentangled Latent Concepts from
  Unlabeled Observations", ICLR (separated attribute predictability, discrete factors).
* :func:`dci` -- Eastwood & Williams 2018, "A Framework for the Quantitative Evaluation of
  Disentangled Representations", ICLR (disentanglement, completeness, informativeness).

:func:`evaluate` runs them together, at :class:`EvaluationSizes`; :mod:`.registry` is the table
of metrics it reads (names, sample sizes, result keys), where a new metric is registered.
:mod:`.sampling` holds what the scores share: the data interface, sampling and encoding. The
representation is the encoder *mean*: pass ``encode = lambda x: model.encode(x)[0]``, or
:class:`vaelib.models.MeanEncoder` ``(model)``, the same as an object that worker processes can receive.

``data`` follows disentanglement_lib's ``GroundTruthData`` interface (:class:`GroundTruthData`):
``num_factors``, ``factor_sizes`` (tuple of class counts), ``sample_factors(n, random_state)``
(integers, shape ``(n, num_factors)``) and ``sample_observations_from_factors(factors,
random_state)`` (a batch of observations, torch tensor or numpy array, first axis ``n``);
``random_state`` is handed a :class:`numpy.random.Generator`. Factors with a single class
(dSprites' ``color``) carry no information: the scores that sample ``data`` ignore them, and the
scores of arrays reject them. ``encode(observations)`` returns codes of shape ``(n, D)`` (numpy
array or torch tensor); it is called under :func:`torch.no_grad` on at most ``chunk_size``
observations at a time, which bounds memory. When observations are a deterministic function of
the factors (as for dSprites), the scores do not depend on ``chunk_size``.

The names ``mig``, ``sap`` and ``dci`` of this package are the functions, which hide their
modules: import from a module with ``from vaelib.disentanglement.dci import ...``.
"""
from __future__ import annotations

from vaelib.disentanglement.beta_vae import beta_vae_score
from vaelib.disentanglement.dci import IMPORTANCE_ROUNDOFF, dci, dci_from_importance
from vaelib.disentanglement.evaluation import DEFAULT_SIZES, FAST_SIZES, EvaluationSizes, evaluate
from vaelib.disentanglement.factor_vae import factor_vae_score, factor_vae_votes
from vaelib.disentanglement.mig import mig
from vaelib.disentanglement.registry import SCORES
from vaelib.disentanglement.sampling import GroundTruthData
from vaelib.disentanglement.sap import sap

__all__ = [
    "DEFAULT_SIZES",
    "FAST_SIZES",
    "IMPORTANCE_ROUNDOFF",
    "SCORES",
    "EvaluationSizes",
    "GroundTruthData",
    "beta_vae_score",
    "dci",
    "dci_from_importance",
    "evaluate",
    "factor_vae_score",
    "factor_vae_votes",
    "mig",
    "sap",
]
