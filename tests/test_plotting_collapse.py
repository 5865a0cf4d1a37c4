"""Tests of the posterior-collapse figures (vaelib.plotting) and runs (vaelib.collapse)."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch

from vaelib.annealing import Annealer
from vaelib.collapse import (
    METHODS,
    SCHEDULES,
    SUMMARY_KEYS,
    collapse_summary,
    method_annealer,
    schedule_annealer,
    train_method,
)
from vaelib.losses import VAELoss
from vaelib.models.mlp import MLPVAE
from vaelib.plotting import collapse_curves, posterior_mean_snapshots, seed_summary


def _history(steps: list[int], **columns: list[float]) -> pd.DataFrame:
    return pd.DataFrame({"step": steps, **columns})


HISTORIES = {
    "vae": _history([10, 20, 30], weight=[1.0, 1.0, 1.0], kl_total=[0.5, math.nan, 0.01],
                    active_units=[2, math.nan, 0], mutual_information=[0.4, math.nan, 0.0]),
    "monotonic": _history([10, 20, 30], weight=[0.0, 0.5, 1.0], kl_total=[2.0, 3.0, 1.5],
                          active_units=[2, 2, 2], mutual_information=[1.5, 2.5, 1.2]),
}


# ----------------------------------------------------------------------------- collapse_curves


def test_collapse_curves_draws_each_history_column_skipping_nan_rows() -> None:
    figure = collapse_curves(HISTORIES)
    axes = figure.axes
    assert [ax.get_title() for ax in axes] == [
        "KL weight $\\beta_t$", "KL$(q(z|x)\\,\\|\\,p(z))$, held-out",
        "Active units (Cov$_x\\,\\mathbb{E}_q[z_d] > 0.01$)", "Mutual information $I_q(x; z)$",
    ]
    for ax, column in zip(axes, ("weight", "kl_total", "active_units", "mutual_information")):
        assert ax.get_xlabel() == "step" and ax.get_ylabel()
        vae, monotonic = ax.get_lines()
        assert vae.get_label() == "vae" and monotonic.get_label() == "monotonic"
        np.testing.assert_array_equal(monotonic.get_xdata(), [10, 20, 30])
        np.testing.assert_array_equal(monotonic.get_ydata(), HISTORIES["monotonic"][column])
    # the vae's monitor row at step 20 is NaN: left out, not drawn as a gap
    np.testing.assert_array_equal(axes[1].get_lines()[0].get_xdata(), [10, 30])
    np.testing.assert_array_equal(axes[1].get_lines()[0].get_ydata(), [0.5, 0.01])
    assert [text.get_text() for text in figure.legends[0].get_texts()] == ["vae", "monotonic"]
    assert figure.get_suptitle() == "Posterior collapse over training"


def test_collapse_curves_chosen_columns_and_unknown_column_titled_by_name() -> None:
    histories = {"a": _history([1, 2], kl_total=[1.0, 2.0], recon=[30.0, 29.0], loss=[31.0, 30.5])}
    figure = collapse_curves(histories, columns=["recon", "loss"], title="custom")
    recon, loss = figure.axes
    assert recon.get_title().startswith("Reconstruction") and recon.get_ylabel() == "nats per sample"
    np.testing.assert_array_equal(recon.get_lines()[0].get_ydata(), [30.0, 29.0])
    assert loss.get_title() == "loss" and loss.get_ylabel() == "loss"
    assert figure.get_suptitle() == "custom"


@pytest.mark.parametrize(
    ("histories", "kwargs", "error", "match"),
    [
        ({}, {}, ValueError, "histories must be a non-empty mapping"),
        ([HISTORIES["vae"]], {}, ValueError, "histories must be a non-empty mapping"),
        ({"vae": {"step": [1]}}, {}, TypeError, r"histories\['vae'\] must be a pandas DataFrame"),
        ({"vae": pd.DataFrame()}, {}, ValueError, r"histories\['vae'\] must have at least one row"),
        ({"vae": _history([1], kl=[0.0])}, {}, ValueError, r"histories\['vae'\] lacks the columns \['weight'"),
        (HISTORIES, {"columns": "kl_total"}, ValueError, "columns must be a non-empty sequence"),
        (HISTORIES, {"columns": []}, ValueError, "columns must be a non-empty sequence"),
        (HISTORIES, {"x": "epoch"}, ValueError, r"lacks the columns \['epoch'\]"),
    ],
)
def test_collapse_curves_rejects_bad_arguments(histories, kwargs, error, match) -> None:
    with pytest.raises(error, match=match):
        collapse_curves(histories, **kwargs)


# ----------------------------------------------------------------------------- posterior_mean_snapshots


TRUE_Z = np.array([[2.0, 2.0], [-2.0, 2.0], [-2.0, -2.0], [2.0, -2.0]])
SNAPSHOTS = [(step, TRUE_Z * scale) for step, scale in ((0, 0.1), (100, 0.5), (200, 0.3), (300, 0.0))]


def test_posterior_mean_snapshots_plots_true_z_then_evenly_spread_snapshots() -> None:
    figure = posterior_mean_snapshots({"vae": SNAPSHOTS}, TRUE_Z, [0, 1, 2, 3], n_columns=3)
    axes = figure.axes
    assert len(axes) == 4
    assert [ax.get_title() for ax in axes] == ["true $z$", "step 0", "step 200", "step 300"]
    np.testing.assert_array_equal(axes[0].collections[0].get_offsets(), TRUE_Z)
    for ax, (_, means) in zip(axes[1:], [SNAPSHOTS[0], SNAPSHOTS[2], SNAPSHOTS[3]]):
        np.testing.assert_allclose(ax.collections[0].get_offsets(), means)
    # shared square limits: 1.1 times the largest true coordinate
    for ax in axes:
        assert ax.get_xlim() == pytest.approx((-2.2, 2.2)) and ax.get_ylim() == pytest.approx((-2.2, 2.2))
    assert "vae" in axes[0].get_ylabel() and axes[1].get_xlabel().startswith("$z_1$")
    # one colour per class
    colours = axes[0].collections[0].get_facecolors()
    assert len({tuple(c) for c in colours}) == 4


def test_posterior_mean_snapshots_one_row_per_method_and_hides_unused_panels() -> None:
    figure = posterior_mean_snapshots(
        {"vae": SNAPSHOTS, "free_bits": SNAPSHOTS[:1]}, torch.tensor(TRUE_Z), limit=5.0, title="t"
    )
    visible = [ax for ax in figure.axes if ax.get_visible()]
    assert len(figure.axes) == 10 and len(visible) == 5 + 2
    assert figure.get_suptitle() == "t" and visible[0].get_xlim() == (-5.0, 5.0)


@pytest.mark.parametrize(
    ("snapshots", "true_z", "kwargs", "error", "match"),
    [
        ({}, TRUE_Z, {}, ValueError, "snapshots must be a non-empty mapping"),
        ({"vae": []}, TRUE_Z, {}, ValueError, r"snapshots\['vae'\] must be a non-empty sequence"),
        ({"vae": [TRUE_Z]}, TRUE_Z, {}, ValueError, r"snapshots\['vae'\] must hold \(step, means\) pairs"),
        ({"vae": [(0, TRUE_Z[:3])]}, TRUE_Z, {}, ValueError, r"must have 4 rows like true_z, got 3"),
        ({"vae": [(0, TRUE_Z[:, :1])]}, TRUE_Z, {}, ValueError, r"means must have shape \(N, 2\)"),
        ({"vae": SNAPSHOTS}, TRUE_Z[:, :1], {}, ValueError, r"true_z must have shape \(N, 2\)"),
        ({"vae": SNAPSHOTS}, TRUE_Z, {"limit": -1.0}, ValueError, "limit must be a positive finite number"),
        ({"vae": SNAPSHOTS}, TRUE_Z, {"n_columns": 0}, ValueError, "n_columns must be a positive int"),
        ({"vae": SNAPSHOTS}, TRUE_Z, {"labels": [0, 1]}, ValueError, "labels must be 4 integer class indices"),
    ],
)
def test_posterior_mean_snapshots_rejects_bad_arguments(snapshots, true_z, kwargs, error, match) -> None:
    with pytest.raises(error, match=match):
        posterior_mean_snapshots(snapshots, true_z, **kwargs)


# ----------------------------------------------------------------------------- method_annealer


def test_method_annealer_monotonic_is_a_linear_ramp_over_the_fraction() -> None:
    annealer = method_annealer("monotonic", 100, anneal_fraction=0.2)
    expected = [min(1.0, s / 20) for s in range(30)]  # 20 = 0.2 * 100 steps
    assert annealer.schedule(30) == pytest.approx(expected)


def test_method_annealer_cyclical_follows_fu_et_al() -> None:
    annealer = method_annealer("cyclical", 40, cycles=4, ratio=0.5)
    # cycles of 10 steps: ramp 0, 0.2, ..., 0.8 over 5 steps, then 1 for 5 steps
    one_cycle = [0.0, 0.2, 0.4, 0.6, 0.8, 1.0, 1.0, 1.0, 1.0, 1.0]
    assert annealer.schedule(40) == pytest.approx(one_cycle * 4)


@pytest.mark.parametrize("method", ["vae", "free_bits", "word_dropout"])
def test_method_annealer_is_none_for_weight_one_methods(method: str) -> None:
    assert method_annealer(method, 10) is None


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "match"),
    [
        (("aggressive", 10), {}, ValueError, r"method must be one of .*'aggressive'"),
        (("vae", 0), {}, ValueError, "steps must be a positive int, got 0"),
        (("monotonic", 10), {"anneal_fraction": 0.0}, ValueError, r"anneal_fraction must lie in \(0, 1\], got 0.0"),
        (("monotonic", 10), {"anneal_fraction": "all"}, TypeError, "anneal_fraction must be a real number"),
        (("cyclical", 10), {"ratio": 1.5}, ValueError, r"ratio must lie in \(0, 1\], got 1.5"),
        (("cyclical", 3), {"cycles": 4}, ValueError, "cycles must be at most steps=3, got 4"),
    ],
)
def test_method_annealer_rejects_bad_arguments(args, kwargs, error, match) -> None:
    with pytest.raises(error, match=match):
        method_annealer(*args, **kwargs)


# ----------------------------------------------------------------------------- schedule_annealer


def _cosine_ramp(p: float) -> float:
    return (1 - math.cos(math.pi * min(p, 1.0))) / 2


def test_schedule_annealer_monotonic_shapes_ramp_over_the_fraction() -> None:
    assert schedule_annealer("constant", 100) is None
    assert schedule_annealer("linear", 100).schedule(60) == pytest.approx([min(1.0, s / 50) for s in range(60)])
    assert schedule_annealer("cosine", 100, anneal_fraction=0.2).schedule(30) == pytest.approx(
        [_cosine_ramp(s / 20) for s in range(30)])
    logistic = schedule_annealer("logistic", 100).schedule(60)
    # Fu et al.'s sigmoid with slope 12, rescaled through (0, 0) and (1, 1): symmetric about the middle
    assert logistic[0] == 0.0 and logistic[25] == pytest.approx(0.5) and logistic[50:] == [1.0] * 10
    assert logistic[10] == pytest.approx(1 - logistic[40])


def test_schedule_annealer_cyclical_shapes_restart_every_cycle() -> None:
    # 40 steps, M = 4 cycles of 10, R = 0.5: a ramp over 5 steps, then 1 for 5 steps
    cosine_cycle = [_cosine_ramp(s / 5) for s in range(10)]
    assert schedule_annealer("cyclical-cosine", 40).schedule(40) == pytest.approx(cosine_cycle * 4)
    assert schedule_annealer("cyclical-linear", 40).schedule(40) == method_annealer("cyclical", 40).schedule(40)
    # one cycle of the cyclical schedule is the monotonic ramp over the first half (Fu et al.'s baseline)
    assert schedule_annealer("cyclical-linear", 40, cycles=1).schedule(40) == pytest.approx(
        schedule_annealer("linear", 40).schedule(40))


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "match"),
    [
        (("sigmoid", 10), {}, ValueError, "schedule must be one of"),
        (("linear", 0), {}, ValueError, "steps must be a positive int, got 0"),
        (("linear", 10), {"anneal_fraction": 0.0}, ValueError, r"anneal_fraction must lie in \(0, 1\], got 0.0"),
        (("cyclical-cosine", 3), {"cycles": 4}, ValueError, "cycles must be at most steps=3, got 4"),
        (("cyclical-cosine", 10), {"ratio": 1.5}, ValueError, r"ratio must lie in \(0, 1\], got 1.5"),
    ],
)
def test_schedule_annealer_rejects_bad_arguments(args, kwargs, error, match) -> None:
    with pytest.raises(error, match=match):
        schedule_annealer(*args, **kwargs)


def test_schedules_are_the_notebook_contract() -> None:
    assert SCHEDULES == ("constant", "linear", "cosine", "logistic", "cyclical-linear", "cyclical-cosine")


# ----------------------------------------------------------------------------- collapse_summary


@pytest.fixture(scope="module")
def image_model() -> tuple[MLPVAE, torch.Tensor]:
    torch.manual_seed(0)
    model = MLPVAE((1, 3, 3), hidden_sizes=(8,), device="cpu")
    return model, torch.rand(64, 1, 3, 3)


def test_collapse_summary_matches_closed_forms(image_model) -> None:
    model, x = image_model
    summary = collapse_summary(model, x, VAELoss(), seed=3)
    assert set(summary) == set(SUMMARY_KEYS)
    with torch.no_grad():
        mu, logvar = model.encode(x)
    mu64, logvar64 = mu.double().numpy(), logvar.double().numpy()
    kl = 0.5 * (mu64**2 + np.exp(logvar64) - 1 - logvar64).sum(axis=1).mean()
    assert summary["kl"] == pytest.approx(kl, rel=1e-5)
    assert summary["elbo"] == pytest.approx(-(summary["recon"] + summary["kl"]))
    assert summary["active_units"] == int((mu64.var(axis=0, ddof=1) > 0.01).sum())
    # I_q <= E_x KL (He et al. 2019, Eq. 5), up to Monte Carlo error
    assert summary["mutual_information"] <= summary["kl"] + 0.1


def test_collapse_summary_uses_per_sample_sums_whatever_the_training_objective(image_model) -> None:
    model, x = image_model
    plain = collapse_summary(model, x, VAELoss(), seed=1)
    assert collapse_summary(model, x, VAELoss(reduction="mean"), seed=1) == pytest.approx(plain)
    assert collapse_summary(model, x, VAELoss(free_bits=5.0), seed=1) == pytest.approx(plain)


@pytest.mark.parametrize(
    ("model", "objective", "seed", "error", "match"),
    [
        ("model", VAELoss(), 0, TypeError, "model must be a vaelib VAE, got str"),
        (None, "bce", 0, TypeError, "objective must be a VAELoss, got str"),
        (None, VAELoss(), -1, ValueError, "seed must be a non-negative int, got -1"),
    ],
)
def test_collapse_summary_rejects_bad_arguments(image_model, model, objective, seed, error, match) -> None:
    with pytest.raises(error, match=match):
        collapse_summary(image_model[0] if model is None else model, image_model[1], objective, seed=seed)


# ----------------------------------------------------------------------------- train_method

TOKENS = torch.randint(0, 7, (40, 5), generator=torch.Generator().manual_seed(0))
TINY = dict(steps=6, batch_size=8, embed_dim=4, hidden_dim=6, log_every=2)


def test_train_method_logs_diagnostics_and_means_and_is_reproducible() -> None:
    run = train_method("monotonic", TOKENS, TOKENS[:12], 7, anneal_fraction=0.5, seed=1, **TINY)
    assert run.method == "monotonic"
    assert list(run.history["step"]) == [2, 4, 6]
    # rows average the weights of their steps: ramp of 3 steps 0, 1/3, 2/3, then 1
    assert list(run.history["weight"]) == pytest.approx([(0 + 1 / 3) / 2, (2 / 3 + 1) / 2, 1.0])
    for column in ("kl_total", "active_units", "mutual_information"):
        assert run.history[column].notna().all()
    assert [step for step, _ in run.means] == [2, 4, 6] and run.means[0][1].shape == (12, 2)
    assert set(run.summary) == set(SUMMARY_KEYS)
    again = train_method("monotonic", TOKENS, TOKENS[:12], 7, anneal_fraction=0.5, seed=1, **TINY)
    assert again.summary == run.summary


def test_train_method_configures_word_dropout_and_free_bits() -> None:
    assert train_method("word_dropout", TOKENS, TOKENS[:12], 7, word_dropout=0.3, **TINY).model.word_dropout == 0.3
    assert train_method("vae", TOKENS, TOKENS[:12], 7, **TINY).model.word_dropout == 0.0
    assert list(train_method("free_bits", TOKENS, TOKENS[:12], 7, **TINY).history["weight"]) == [1.0, 1.0, 1.0]


def test_train_method_follows_a_custom_annealer() -> None:
    # cosine over 4 steps: weights 0, (1 - cos(pi/4))/2, 1/2, (1 - cos(3pi/4))/2, then 1; rows average pairs
    run = train_method("vae", TOKENS, TOKENS[:12], 7, annealer=Annealer(4, "cosine"), **TINY)
    cosine = [(1 - math.cos(math.pi * t / 4)) / 2 for t in range(4)]
    assert list(run.history["weight"]) == pytest.approx([sum(cosine[:2]) / 2, sum(cosine[2:]) / 2, 1.0])
    same_start = train_method("vae", TOKENS, TOKENS[:12], 7, annealer=Annealer(1, "linear", baseline=1.0), **TINY)
    assert same_start.summary == train_method("vae", TOKENS, TOKENS[:12], 7, **TINY).summary  # weight 1 == no annealer


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "match"),
    [
        (("vae", TOKENS, TOKENS, 7), {"annealer": "cosine"}, TypeError, "annealer must be a vaelib Annealer or None, got str"),
        (("cyclical", TOKENS, TOKENS, 7), {"annealer": Annealer(3)}, ValueError,
         "method 'cyclical' has its own schedule; pass annealer only with"),
        (("beta", TOKENS, TOKENS, 7), {}, ValueError, "method must be one of"),
        (("vae", TOKENS.float(), TOKENS, 7), {}, TypeError, "tokens must be an int64 torch.Tensor"),
        (("vae", TOKENS, TOKENS[0], 7), {}, TypeError, "held_out must be an int64 torch.Tensor"),
        (("free_bits", TOKENS, TOKENS, 7), {"free_bits": 0.0}, ValueError, "free_bits must be a number > 0, got 0.0"),
        (("vae", TOKENS, TOKENS, 7), {"word_dropout": 2.0}, ValueError, r"word_dropout must lie in \[0, 1\], got 2.0"),
    ],
)
def test_train_method_rejects_bad_arguments(args, kwargs, error, match) -> None:
    with pytest.raises(error, match=match):
        train_method(*args, **kwargs)


def test_methods_and_keys_are_the_notebook_contract() -> None:
    assert METHODS == ("vae", "monotonic", "cyclical", "free_bits", "word_dropout")
    assert SUMMARY_KEYS == ("elbo", "recon", "kl", "active_units", "mutual_information")


# ----------------------------------------------------------------------------- seed_summary

SEEDS = pd.DataFrame({
    "schedule": ["linear"] * 3 + ["cyclical"] * 3,
    "seed": [0, 1, 2] * 2,
    "kl": [1.0, 2.0, 4.0, 0.5, 0.5, 0.8],
    "mutual_information": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6],
    "label": list("abcdef"),
})


def test_seed_summary_draws_mean_and_one_sd_over_the_seeds() -> None:
    figure = seed_summary(SEEDS, "schedule", ["kl", "mutual_information"], labels={"kl": "KL (nats per sample)"})
    assert len(figure.axes) == 2
    ax = figure.axes[0]
    # the points: the mean of each schedule, in first-appearance order
    assert list(ax.lines[0].get_ydata()) == pytest.approx([7 / 3, 0.6])
    # the error bars: mean -/+ the sample standard deviation (ddof=1), computed here by hand
    sd_linear = math.sqrt(((1 - 7 / 3) ** 2 + (2 - 7 / 3) ** 2 + (4 - 7 / 3) ** 2) / 2)
    bar = ax.lines[1].get_ydata()
    assert np.nanmin(bar) == pytest.approx(7 / 3 - sd_linear) and np.nanmax(bar) == pytest.approx(7 / 3 + sd_linear)
    # every seed is drawn as its own point
    assert sorted(np.concatenate([c.get_offsets()[:, 1] for c in ax.collections])) == sorted(SEEDS["kl"])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["linear", "cyclical"]
    assert ax.get_ylabel() == "KL (nats per sample)" and ax.get_xlabel() == "schedule"
    assert ax.get_title().startswith("KL") and "3 seeds" in ax.get_title()
    assert figure.axes[1].get_ylabel() == "nats"  # the unit SUMMARY_PANELS knows


def test_seed_summary_title_counts_the_seeds_of_each_value() -> None:
    # 3 seeds of "linear" but 2 of "cyclical": the title must not claim 3 for both
    uneven = SEEDS[~((SEEDS["schedule"] == "cyclical") & (SEEDS["seed"] == 2))]
    assert "over 2 to 3 seeds per schedule" in seed_summary(uneven, "schedule", ["kl"]).axes[0].get_title()
    assert "over 3 seeds" in seed_summary(SEEDS, "schedule", ["kl"]).axes[0].get_title()


def test_seed_summary_follows_the_given_order() -> None:
    ax = seed_summary(SEEDS, "schedule", ["kl"], order=["cyclical", "linear"]).axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["cyclical", "linear"]
    assert list(ax.lines[0].get_ydata()) == pytest.approx([0.6, 7 / 3])


@pytest.mark.parametrize(
    ("results", "x", "metrics", "kwargs", "error", "match"),
    [
        (SEEDS.iloc[:0], "schedule", ["kl"], {}, ValueError, "results must be a non-empty pandas DataFrame"),
        ({"kl": [1.0]}, "schedule", ["kl"], {}, ValueError, "results must be a non-empty pandas DataFrame"),
        (SEEDS, "schedule", "kl", {}, ValueError, "metrics must be a non-empty sequence of column names, got 'kl'"),
        (SEEDS, "beta", ["kl", "elbo"], {}, ValueError, r"results lacks the columns \['beta', 'elbo'\]"),
        (SEEDS, "schedule", ["kl"], {"seed": "run"}, ValueError, r"results lacks the columns \['run'\]"),
        (SEEDS, "schedule", ["label"], {}, TypeError, "metric column 'label' must be numeric, got dtype "),
        (SEEDS, "schedule", ["kl"], {"order": ["linear"]}, ValueError, r"order must list every value of 'schedule'; it lacks \['cyclical'\]"),
    ],
)
def test_seed_summary_rejects_bad_arguments(results, x, metrics, kwargs, error, match) -> None:
    with pytest.raises(error, match=match):
        seed_summary(results, x, metrics, **kwargs)


def test_factor_effects_draws_mean_and_sd_per_level_with_a_zero_line():
    from vaelib.plotting import factor_effects

    table = pd.DataFrame({
        "factor": ["steps"] * 6 + ["cycles"] * 4,
        "level": [600, 600, 600, 2400, 2400, 2400, 2, 2, 8, 8],
        "seed": [0, 1, 2, 0, 1, 2, 0, 1, 0, 1],
        "kl": [0.1, 0.3, 0.2, 1.0, 1.2, 1.1, -0.5, -0.3, 0.4, 0.6],
        "elbo": [0.0] * 10,
    })
    figure = factor_effects(table, ["steps", "cycles"], ["kl", "elbo"], labels={"kl": "ΔKL (nats)"})
    assert len(figure.axes) == 4
    kl_steps = figure.axes[0]
    means = [line.get_ydata() for line in kl_steps.lines if len(line.get_ydata()) == 2 and line.get_linestyle() == "None"]
    assert any(np.allclose(m, [0.2, 1.1]) for m in means)
    assert any(line.get_linestyle() == "--" and set(line.get_ydata()) == {0.0} for line in kl_steps.lines)
    assert kl_steps.get_ylabel() == "ΔKL (nats)" and figure.axes[1].get_ylabel() == ""
    assert [t.get_text() for t in figure.axes[1].get_xticklabels()] == ["2", "8"]


def test_factor_effects_puts_each_word_of_a_level_on_its_own_line():
    # "words cycle" next to "words half" in a narrow panel: one word per line, so they cannot touch
    from vaelib.plotting import factor_effects

    table = pd.DataFrame({"factor": ["data"] * 4, "level": ["He cycle", "He cycle", "words half", "words half"],
                          "kl": [0.1, 0.2, 0.3, 0.4]})
    figure = factor_effects(table, ["data"], ["kl"])
    assert [t.get_text() for t in figure.axes[0].get_xticklabels()] == ["He\ncycle", "words\nhalf"]


@pytest.mark.parametrize(
    "kwargs,pattern",
    [
        ({"table": pd.DataFrame({"x": [1]})}, "'factor' and 'level' columns"),
        ({"factors": "steps"}, "factors must be a non-empty sequence"),
        ({"factors": ["nope"]}, r"lacks the factors \['nope'\]"),
        ({"metrics": ["mi"]}, r"metric columns \['mi'\]"),
    ],
)
def test_factor_effects_refuses_bad_tables(kwargs, pattern):
    from vaelib.plotting import factor_effects

    table = pd.DataFrame({"factor": ["steps"], "level": [600], "seed": [0], "kl": [0.1]})
    arguments = {"table": table, "factors": ["steps"], "metrics": ["kl"], **kwargs}
    with pytest.raises(ValueError, match=pattern):
        factor_effects(arguments.pop("table"), arguments.pop("factors"), arguments.pop("metrics"))
