"""Disentanglement scores on representations whose answers are known.

A toy ground-truth grid (factor sizes (3, 5, 8, 4), observations = factor classes as floats)
with three representations: the factors themselves (perfectly disentangled), a random rotation
of them (entangled) and pure noise (uninformative). Exact values come from hand-computed
examples (MIG, SAP, DCI's importance scores); sampling tolerances from binomial / chi-square
standard errors worked out next to each assertion.
"""
from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import stats
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.metrics import mutual_info_score

import vaelib.disentanglement
from vaelib.disentanglement import (
    DEFAULT_SIZES,
    FAST_SIZES,
    IMPORTANCE_ROUNDOFF,
    SCORES,
    EvaluationSizes,
    beta_vae_score,
    dci,
    dci_from_importance,
    evaluate,
    factor_vae_score,
    factor_vae_votes,
    mig,
    registry,
    sap,
)
from vaelib.disentanglement.sampling import check_n_jobs
from vaelib.threads import available_threads, cpu_count

SIZES = (3, 5, 8, 4)
K = len(SIZES)
CHANCE = 1.0 / K


class ToyGrid:
    """Ground-truth data: uniform independent factors; observations are the classes as floats."""

    def __init__(self, factor_sizes: tuple[int, ...] = SIZES, as_tensor: bool = False) -> None:
        self.factor_sizes = factor_sizes
        self.num_factors = len(factor_sizes)
        self.as_tensor = as_tensor

    def sample_factors(self, n: int, random_state: np.random.Generator) -> np.ndarray:
        return random_state.integers(0, self.factor_sizes, size=(n, self.num_factors))

    def sample_observations_from_factors(
        self, factors: np.ndarray, random_state: np.random.Generator
    ) -> np.ndarray | torch.Tensor:
        observations = factors.astype(np.float32)
        return torch.from_numpy(observations) if self.as_tensor else observations


def identity(observations):
    return observations


def rotation(dim: int = K, seed: int = 1):
    q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((dim, dim)))
    return lambda observations: np.asarray(observations) @ q


def noise(dim: int = K, seed: int = 2):
    rng = np.random.default_rng(seed)
    return lambda observations: rng.standard_normal((len(observations), dim))


def binomial_tolerance(p: float, n: int, z: float = 4.0) -> float:
    """z standard errors of an accuracy estimated on n independent trials with success rate p."""
    return z * math.sqrt(p * (1 - p) / n)


def toy_sample(n: int, seed: int, sizes: tuple[int, ...] = SIZES) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, sizes, size=(n, len(sizes)))


# ----------------------------------------------------------------------------- BetaVAE

SMALL_BETA = dict(batch_size=8, num_train=500, num_eval=1000)


def test_beta_vae_factors_as_codes_are_perfect() -> None:
    # The fixed factor's feature is exactly 0; every other feature is a mean of 8 |differences|
    # of independent uniform classes, 0 only with probability <= (1/3)^8: linearly separable.
    scores = beta_vae_score(ToyGrid(), identity, **SMALL_BETA)
    assert scores["train_accuracy"] == 1.0
    assert scores["eval_accuracy"] >= 0.999


def test_beta_vae_noise_is_at_chance() -> None:
    # Features independent of the label: eval accuracy is Binomial(1000, 1/4) / 1000.
    scores = beta_vae_score(ToyGrid(), noise(), **SMALL_BETA)
    assert abs(scores["eval_accuracy"] - CHANCE) <= binomial_tolerance(CHANCE, SMALL_BETA["num_eval"])


def test_beta_vae_ignores_single_class_factors() -> None:
    # Were the 1-class factor ever "fixed", nothing would be fixed and that point misclassified.
    scores = beta_vae_score(ToyGrid((1, 3, 5)), identity, **SMALL_BETA)
    assert scores["eval_accuracy"] >= 0.999


def test_beta_vae_is_seeded_and_independent_of_chunk_size() -> None:
    a = beta_vae_score(ToyGrid(), rotation(), **SMALL_BETA, random_state=3, chunk_size=5)
    generator = np.random.default_rng(3)
    b = beta_vae_score(ToyGrid(), rotation(), **SMALL_BETA, random_state=generator, chunk_size=10_000)
    assert a == b


def test_torch_observations_and_codes_give_the_same_scores() -> None:
    def torch_identity(observations: torch.Tensor) -> torch.Tensor:
        assert isinstance(observations, torch.Tensor)
        return observations * 1.0

    with_torch = beta_vae_score(ToyGrid(as_tensor=True), torch_identity, **SMALL_BETA, random_state=4)
    assert with_torch == beta_vae_score(ToyGrid(), identity, **SMALL_BETA, random_state=4)


# ----------------------------------------------------------------------------- FactorVAE

SMALL_FACTOR = dict(batch_size=8, num_train=300, num_eval=1000, num_variance_estimate=500)


def test_factor_vae_factors_as_codes_are_perfect() -> None:
    # The fixed factor's code has variance exactly 0 in its batch; the others vary (all 8 draws
    # of a factor agreeing has probability <= (1/3)^7), so every vote is right.
    scores = factor_vae_score(ToyGrid(), identity, **SMALL_FACTOR)
    assert scores == {"train_accuracy": 1.0, "eval_accuracy": 1.0, "num_active_dims": K}


def test_factor_vae_noise_is_at_chance() -> None:
    # Votes independent of the fixed factor: eval accuracy is Binomial(1000, 1/4) / 1000.
    scores = factor_vae_score(ToyGrid(), noise(), **SMALL_FACTOR)
    assert abs(scores["eval_accuracy"] - CHANCE) <= binomial_tolerance(CHANCE, SMALL_FACTOR["num_eval"])


def test_factor_vae_prunes_collapsed_codes() -> None:
    rng = np.random.default_rng(5)

    def with_collapsed(observations: np.ndarray) -> np.ndarray:
        n = len(observations)
        # The threshold is on the standard deviation: sd 0.04 and 0 are pruned, sd 0.1
        # (variance 0.01 < 0.05) is kept, like the factors (sd >= 0.8).
        z = rng.standard_normal((n, 2)) * [0.04, 0.1]
        return np.column_stack([observations, z, np.zeros(n)])

    scores = factor_vae_score(ToyGrid(), with_collapsed, **SMALL_FACTOR)
    assert scores == {"train_accuracy": 1.0, "eval_accuracy": 1.0, "num_active_dims": K + 1}
    all_collapsed = factor_vae_score(ToyGrid(), lambda x: 0.01 * np.asarray(x), **SMALL_FACTOR)
    assert all_collapsed == {"train_accuracy": 0.0, "eval_accuracy": 0.0, "num_active_dims": 0}


def test_factor_vae_is_invariant_to_rescaling_codes() -> None:
    # Variances are divided by the global variances, so rescaling a code changes nothing; with
    # noise added the fixed factor's code is no longer exactly constant, so this bites.
    scale = np.array([1.0, 100.0, 0.1, 7.0])

    def noisy(factor: float | np.ndarray):
        rng = np.random.default_rng(6)
        return lambda x: factor * (np.asarray(x) + 0.8 * rng.standard_normal(np.shape(x)))

    plain = factor_vae_score(ToyGrid(), noisy(1.0), **SMALL_FACTOR)
    scaled = factor_vae_score(ToyGrid(), noisy(scale), **SMALL_FACTOR)
    assert plain == scaled
    assert CHANCE + 0.1 < plain["eval_accuracy"] < 1.0


def test_factor_vae_votes_of_a_factor_no_code_stands_for_are_all_lost() -> None:
    # Codes are factors 0-2 and nothing of factor 3: a batch with factor 0, 1 or 2 fixed votes for
    # its own code (variance exactly 0), one with factor 3 fixed for whichever code varies least,
    # which the classifier gives to another factor. So accuracy is 1 - factor 3's share of votes.
    encode = lambda x: np.asarray(x)[:, :3]
    votes = factor_vae_votes(ToyGrid(), encode, **SMALL_FACTOR)
    train, evaluation = votes["train_votes"], votes["eval_votes"]
    assert train.shape == evaluation.shape == (K, 3)
    assert train.sum() == SMALL_FACTOR["num_train"] and evaluation.sum() == SMALL_FACTOR["num_eval"]
    for counts in (train, evaluation):
        assert (counts[:3] == np.diag(np.diag(counts[:3]))).all()
        assert (counts[3] > 0).all()  # spread over every code
        assert abs(counts[3].sum() / counts.sum() - CHANCE) <= binomial_tolerance(CHANCE, counts.sum())
    assert votes["classifier"].tolist() == [0, 1, 2] and votes["active"].tolist() == [0, 1, 2]
    scores = factor_vae_score(ToyGrid(), encode, **SMALL_FACTOR)
    assert scores["eval_accuracy"] == 1 - evaluation[3].sum() / evaluation.sum()
    assert scores["train_accuracy"] == 1 - train[3].sum() / train.sum()


def test_factor_vae_votes_of_collapsed_codes_are_empty() -> None:
    votes = factor_vae_votes(ToyGrid(), lambda x: 0.01 * np.asarray(x), **SMALL_FACTOR)
    assert votes["active"].size == 0
    assert not votes["train_votes"].any() and not votes["eval_votes"].any()
    assert votes["train_votes"].shape == (K, K)


def test_factor_vae_is_independent_of_chunk_size() -> None:
    a = factor_vae_score(ToyGrid(), rotation(), **SMALL_FACTOR, chunk_size=3)
    b = factor_vae_score(ToyGrid(), rotation(), **SMALL_FACTOR, chunk_size=50_000)
    assert a == b


# ----------------------------------------------------------------------------- MIG


def test_mig_hand_computed() -> None:
    f0 = np.array([0, 0, 1, 1, 1, 1])
    f1 = np.array([0, 1, 0, 1, 0, 1])
    # Two bins split each code's range [0, 1] at 0.5: z0 bins to f0, z1 to [0, 0, 0, 1, 0, 1].
    z0 = np.array([0.0, 0.1, 0.9, 1.0, 0.8, 0.95])
    z1 = np.array([0.0, 0.2, 0.3, 1.0, 0.1, 0.9])
    h0 = math.log(3) - 2 / 3 * math.log(2)  # H(f0), f0 ~ (1/3, 2/3)
    h1 = math.log(2)  # H(f1)
    i_z0_f0 = h0  # z0 bins are f0
    i_z1_f0 = math.log(27 / 16) / 3  # joint cells (0,0), (0,1), (1,1) each 1/3
    i_z0_f1 = 0.0  # f0 and f1 are independent in this table
    i_z1_f1 = math.log(3 / 2) / 2 + math.log(2) / 6  # cells 1/2, 1/6, 1/3
    expected = ((i_z0_f0 - i_z1_f0) / h0 + (i_z1_f1 - i_z0_f1) / h1) / 2
    codes, factors = np.column_stack([z0, z1]), np.column_stack([f0, f1])
    assert mig(codes, factors, n_bins=2) == pytest.approx(expected, rel=1e-12)


def test_mig_bins_are_closed_on_the_left() -> None:
    # np.histogram edges [0, 0.5, 1]: 0.5 and 1 fall in the upper bin, so z0 bins to f exactly
    # (I = H(f)), while z1 is independent of f (I = 0): MIG = 1. Right-closed bins would give < 1.
    f = np.array([[0], [1], [1], [0], [1], [1]])
    codes = np.array([[0.0, 0], [0.5, 0], [1.0, 0], [0.0, 1], [0.5, 1], [1.0, 1]])
    assert mig(codes, f, n_bins=2) == pytest.approx(1.0, rel=1e-12)


def test_mig_of_factors_noise_and_rotation() -> None:
    n = 2000
    factors = toy_sample(n, seed=7)
    codes = factors.astype(float)
    # Codes = factors: the top MI of factor k is H(f_k); the runner-up is the plug-in MI of two
    # independent factors, biased up by about (s_j - 1)(s_k - 1) / (2N) nats (chi-square).
    loss = max((max(SIZES) - 1) * (s - 1) / (2 * n) / math.log(s) for s in SIZES)
    assert mig(codes, factors) >= 1 - 3 * loss
    # Pure noise: each MI is chi-square(19 (s_k - 1)) / (2N) nats, sd sqrt(2 df) / (2N); the gap
    # between the top two of four such draws stays within 3 sd.
    spread = max(math.sqrt(2 * 19 * (s - 1)) / (2 * n) / math.log(s) for s in SIZES)
    assert 0 <= mig(noise()(codes), factors) <= 3 * spread
    assert mig(rotation()(codes), factors) < mig(codes, factors) - 0.3


def published_mig(codes: np.ndarray, factors: np.ndarray, n_bins: int) -> float:
    """MIG as disentanglement_lib writes it: np.histogram edges and np.digitize per code,
    plug-in MI, factor entropies from class frequencies (scipy), gap of the sorted top two."""
    binned = [np.digitize(c, np.histogram(c, n_bins)[1][:-1]) for c in codes.T]
    gaps = []
    for f in factors.T:
        top, second = sorted(mutual_info_score(f, b) for b in binned)[::-1][:2]
        gaps.append((top - second) / stats.entropy(np.bincount(f)))
    return float(np.mean(gaps))


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(8, 60),
    d=st.integers(2, 5),
    k=st.integers(1, 3),
    n_bins=st.integers(2, 25),
    integer_codes=st.booleans(),
)
def test_mig_matches_the_published_discretiser_and_is_invariant(
    seed, n, d, k, n_bins, integer_codes
) -> None:
    rng = np.random.default_rng(seed)
    # Integer-valued codes put many values exactly on bin edges.
    codes = rng.integers(0, 6, size=(n, d)).astype(float) if integer_codes else rng.normal(size=(n, d))
    factors = rng.integers(0, 3, size=(n, k))
    factors[0], factors[1] = 0, 1  # every factor takes at least 2 values
    score = mig(codes, factors, n_bins)
    assert score == pytest.approx(published_mig(codes, factors, n_bins), abs=1e-12)
    assert 0.0 <= score <= 1.0 + 1e-12
    permuted = codes[:, rng.permutation(d)] * 2.0  # scaling by 2 is exact: same bins
    assert mig(permuted, factors, n_bins) == pytest.approx(score, abs=1e-12)


# ----------------------------------------------------------------------------- SAP


def _binary_grid(repeats: int) -> np.ndarray:
    """Both binary factors in every combination, ``repeats`` times: shape (4 * repeats, 2)."""
    return np.tile(np.array([[0, 0], [0, 1], [1, 0], [1, 1]]), (repeats, 1))


def test_sap_hand_computed() -> None:
    train, test = _binary_grid(50), _binary_grid(25)
    # Each code separates its own factor (test accuracy 1); on the balanced grid the other
    # code's value says nothing about the factor, so whatever the SVM predicts from it is right
    # on exactly half the test points. Gap 1 - 1/2 for both factors.
    codes_train, codes_test = 2.0 * train - 1, 2.0 * test - 1
    assert sap(codes_train, train, codes_test, test) == pytest.approx(0.5, abs=1e-12)
    # Two copies of factor 0: both codes score 1 on it and 1/2 on factor 1, so both gaps are 0.
    def copies(f: np.ndarray) -> np.ndarray:
        return np.column_stack([2.0 * f[:, 0] - 1, 2.0 * f[:, 0] - 1])

    assert sap(copies(train), train, copies(test), test) == pytest.approx(0.0, abs=1e-12)


def test_sap_of_factors_noise_and_rotation() -> None:
    factors_train, factors_test = toy_sample(1000, seed=8), toy_sample(2000, seed=9)
    z_train, z_test = factors_train.astype(float), factors_test.astype(float)
    perfect = sap(z_train, factors_train, z_test, factors_test)
    make_noise = noise()
    # Noise codes: every accuracy estimates the same value with sd <= sqrt(0.25 / 2000) = 0.011;
    # the gap between the top two of four stays within 4 sd.
    noisy = sap(make_noise(z_train), factors_train, make_noise(z_test), factors_test)
    assert 0 <= noisy <= binomial_tolerance(0.5, 2000)
    rotate = rotation()
    assert sap(rotate(z_train), factors_train, rotate(z_test), factors_test) < perfect - 0.2


# ----------------------------------------------------------------------------- DCI


def _entropy(p: list[float], base: int) -> float:
    return -sum(x * math.log(x) for x in p if x > 0) / math.log(base)


def test_dci_from_importance_hand_computed() -> None:
    importance = np.array([[0.6, 0.0], [0.2, 0.4], [0.0, 0.8]])  # 3 codes x 2 factors
    # Codes: rows normalise to (1, 0), (1/3, 2/3), (0, 1), weights 0.6, 0.6, 0.8 of total 2.0.
    disentanglement = 0.3 * 1 + 0.3 * (1 - _entropy([1 / 3, 2 / 3], 2)) + 0.4 * 1
    # Factors: columns normalise to (3/4, 1/4, 0), (0, 1/3, 2/3), weights 0.8, 1.2 of 2.0.
    completeness = 0.4 * (1 - _entropy([0.75, 0.25], 3)) + 0.6 * (1 - _entropy([1 / 3, 2 / 3], 3))
    scores = dci_from_importance(importance)
    assert scores["disentanglement"] == pytest.approx(disentanglement, rel=1e-12)
    assert scores["completeness"] == pytest.approx(completeness, rel=1e-12)


@pytest.mark.parametrize(
    ("importance", "expected"),
    [
        (np.eye(3), (1.0, 1.0)),  # one code per factor
        (np.ones((3, 4)), (0.0, 0.0)),  # every code matters equally for every factor
        (np.array([[1.0, 1.0], [0.0, 0.0]]), (0.0, 1.0)),  # one code carries both factors
        # factor 0 split evenly over 2 of 3 codes (H_3 = log 2 / log 3), factor 1 on one code
        (
            np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 2.0]]),
            (1.0, 0.5 * (1 - math.log(2) / math.log(3)) + 0.5),
        ),
        (np.zeros((2, 2)), (0.0, 0.0)),  # nothing is important: uniform
    ],
)
def test_dci_from_importance_limits(importance: np.ndarray, expected: tuple[float, float]) -> None:
    scores = dci_from_importance(importance)
    assert (scores["disentanglement"], scores["completeness"]) == pytest.approx(expected, abs=1e-12)


def test_dci_of_codes_that_carry_nothing_is_exactly_zero() -> None:
    # An encoder whose means are the same for every image (seen: a type-B run stuck at the mean
    # image) gives trees with no split, all-zero importances, and uniform rows whose entropy in
    # units of log K comes out as 1 + 2e-16; the scores must be 0, not -2.2e-16.
    for shape in ((10, 5), (3, 7), (6, 6)):
        scores = dci_from_importance(np.zeros(shape))
        assert scores["disentanglement"] == 0.0 and scores["completeness"] == 0.0
    rng = np.random.default_rng(0)
    factors = np.column_stack([rng.integers(3, size=300), rng.integers(6, size=300)])
    codes = np.zeros((300, 4))
    scores = dci(codes, factors, codes, factors, random_state=0, n_jobs=1)
    assert scores["disentanglement"] == 0.0 and scores["completeness"] == 0.0


@settings(max_examples=40, deadline=None)
@given(
    hnp.arrays(
        np.float64, st.tuples(st.integers(2, 5), st.integers(2, 5)), elements=st.floats(0, 10)
    ),
    st.floats(0.01, 100),
    st.randoms(use_true_random=False),
)
def test_dci_from_importance_is_bounded_and_invariant(importance, scale, random) -> None:
    scores = dci_from_importance(importance)
    assert all(0.0 <= value <= 1.0 for value in scores.values())
    rows = random.sample(range(importance.shape[0]), importance.shape[0])
    columns = random.sample(range(importance.shape[1]), importance.shape[1])
    moved = dci_from_importance(scale * importance[rows][:, columns])
    assert moved == pytest.approx(scores, abs=1e-9)


DCI_SIZES = (2, 3, 4)


def _dci_on(transform, seed: int = 10) -> dict[str, float]:
    factors_train = toy_sample(300, seed, DCI_SIZES)
    factors_test = toy_sample(600, seed + 1, DCI_SIZES)
    return dci(transform(factors_train), factors_train, transform(factors_test), factors_test)


def test_dci_of_factors_with_noise_codes() -> None:
    rng = np.random.default_rng(11)
    scores = _dci_on(lambda f: np.column_stack([f, rng.standard_normal((len(f), 2))]))
    # Each factor is read off its own code exactly; the noise codes only soak up residual splits.
    assert scores["informativeness_train"] == scores["informativeness_test"] == 1.0
    assert scores["disentanglement"] > 0.9 and scores["completeness"] > 0.9


def test_dci_of_noise_and_rotation() -> None:
    scores = _dci_on(noise(3, seed=12))
    # Predictions independent of uniform labels are right with probability 1/s_k; the mean of
    # three accuracies on 600 test points has sd <= sqrt(0.25 / 600) / sqrt(3) = 0.012.
    chance = np.mean([1 / s for s in DCI_SIZES])
    assert abs(scores["informativeness_test"] - chance) <= 4 * math.sqrt(0.25 / 600 / 3)
    assert scores["disentanglement"] < 0.2
    rotated = _dci_on(rotation(3))
    assert rotated["informativeness_test"] > 0.8
    assert rotated["disentanglement"] < 0.7


def _dci_problem(seed: int = 14) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Noisy factor codes plus two noise codes: train (300 points) and test (200) splits."""
    rng = np.random.default_rng(seed)
    factors_train, factors_test = toy_sample(300, seed, DCI_SIZES), toy_sample(200, seed + 1, DCI_SIZES)

    def codes(f: np.ndarray) -> np.ndarray:
        return np.column_stack([f + 0.5 * rng.standard_normal(f.shape), rng.standard_normal((len(f), 2))])

    return codes(factors_train), factors_train, codes(factors_test), factors_test


def test_dci_in_parallel_equals_serial() -> None:
    # Two threads fit the factors largest-first (4, 3, 2 classes: the reverse of the
    # factor order); the scores are the serial ones to the last bit.
    problem = _dci_problem()
    serial = dci(*problem, random_state=3, n_jobs=1)
    assert dci(*problem, random_state=3, n_jobs=2) == serial
    assert 0.0 < serial["disentanglement"] < 1.0


@pytest.mark.parametrize(
    ("n_jobs", "error", "match"),
    [
        (0, ValueError, "n_jobs must be a positive int or None .*got 0"),
        (-1, ValueError, "n_jobs must be a positive int or None .*got -1"),
        (2.5, TypeError, "n_jobs must be a positive int or None, got 2.5"),
        (True, TypeError, "n_jobs must be a positive int or None, got True"),
        ("2", TypeError, "n_jobs must be a positive int or None, got '2'"),
    ],
)
def test_bad_n_jobs_raises(n_jobs, error, match) -> None:
    with pytest.raises(error, match=match):
        dci(CODES, FACTORS, CODES, FACTORS, n_jobs=n_jobs)
    with pytest.raises(error, match=match):
        evaluate(ToyGrid(), identity, scores="mig", n_jobs=n_jobs)


@pytest.mark.parametrize(("variable", "expected"), [("3", 3), ("4,2", 4), ("0", None), ("many", None), (None, None)])
def test_n_jobs_none_means_the_threads_given(monkeypatch, variable, expected) -> None:
    if variable is None:
        monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    else:
        monkeypatch.setenv("OMP_NUM_THREADS", variable)
    assert available_threads() == (expected or cpu_count())
    assert check_n_jobs(None) == available_threads()


def test_dci_treats_round_off_negative_importances_as_zero() -> None:
    rng = np.random.default_rng(0)
    factors = rng.integers(0, DCI_SIZES, size=(200, len(DCI_SIZES)))
    codes = np.column_stack([3.0 * factors, rng.standard_normal((200, 2))])  # well separated
    # dci seeds every factor's classifier with one integer drawn from random_state.
    seed = int(np.random.default_rng(0).integers(2**31))
    importance = np.column_stack(
        [GradientBoostingClassifier(random_state=seed).fit(codes, f).feature_importances_ for f in factors.T]
    )
    assert -IMPORTANCE_ROUNDOFF < importance.min() < 0  # round-off of the trees, about -2e-17
    scores = dci(codes, factors, codes, factors, random_state=0, n_jobs=1)
    clipped = dci_from_importance(np.clip(importance, 0.0, None))
    assert {name: scores[name] for name in clipped} == clipped
    with pytest.raises(ValueError, match=r"finite and non-negative, got minimum -0\.1"):
        dci_from_importance(np.where(importance == importance.min(), -0.1, importance))


# ----------------------------------------------------------------------------- evaluate

TINY = EvaluationSizes(
    batch_size=8, beta_vae_train=100, beta_vae_eval=50, factor_vae_train=100, factor_vae_eval=50,
    variance_estimate=200, mig=300, sap_train=300, sap_test=150, dci_train=150, dci_test=100,
)


@pytest.fixture(scope="module")
def evaluated() -> dict[str, float]:
    return evaluate(ToyGrid((1, 2, 3, 4)), identity, sizes=TINY, random_state=13)


def test_evaluate_runs_every_score_and_drops_single_class_factors(evaluated) -> None:
    # The 1-class factor becomes a constant code: FactorVAE prunes it, the other scores skip it.
    assert set(evaluated) == {
        "beta_vae_train_accuracy", "beta_vae_eval_accuracy", "factor_vae_train_accuracy",
        "factor_vae_eval_accuracy", "factor_vae_num_active_dims", "mig", "sap",
        "dci_disentanglement", "dci_completeness", "dci_informativeness_train",
        "dci_informativeness_test",
    }
    assert evaluated["beta_vae_eval_accuracy"] == evaluated["factor_vae_eval_accuracy"] == 1.0
    assert evaluated["factor_vae_num_active_dims"] == 3
    assert evaluated["mig"] > 0.9 and evaluated["dci_disentanglement"] > 0.9
    assert evaluated["dci_informativeness_test"] == 1.0


def test_evaluate_selected_scores_match_the_full_run(evaluated) -> None:
    # Each score draws from its own stream, so leaving others out changes nothing.
    data = ToyGrid((1, 2, 3, 4))
    some = evaluate(data, identity, sizes=TINY, scores=("factor_vae", "mig"), random_state=13)
    assert some == {name: evaluated[name] for name in some}
    assert set(some) == {
        "factor_vae_train_accuracy", "factor_vae_eval_accuracy", "factor_vae_num_active_dims", "mig"
    }
    only = evaluate(data, identity, sizes=TINY, scores="sap", random_state=13)
    assert only == {"sap": evaluated["sap"]}


def test_presets_follow_disentanglement_lib() -> None:
    published = dict(
        batch_size=64, beta_vae_train=10_000, beta_vae_eval=5_000, factor_vae_train=10_000,
        factor_vae_eval=5_000, variance_estimate=10_000, mig=10_000, sap_train=10_000, sap_test=5_000,
    )
    assert {name: getattr(DEFAULT_SIZES, name) for name in published} == published
    assert (DEFAULT_SIZES.dci_train, DEFAULT_SIZES.dci_test) == (10_000, 5_000)
    for field in dataclasses.fields(EvaluationSizes):
        assert getattr(FAST_SIZES, field.name) <= getattr(DEFAULT_SIZES, field.name)


def test_evaluation_sizes_are_the_size_fields_of_the_builtin_metrics() -> None:
    fields = registry.size_fields(registry.BUILTIN)
    assert [field.name for field in dataclasses.fields(EvaluationSizes)] == [field.name for field in fields] == [
        "batch_size", "beta_vae_train", "beta_vae_eval", "factor_vae_train", "factor_vae_eval",
        "variance_estimate", "mig", "sap_train", "sap_test", "dci_train", "dci_test",
    ]
    assert dataclasses.asdict(FAST_SIZES) == {field.name: field.fast for field in fields}
    assert registry.names() == tuple(SCORES) == ("beta_vae", "factor_vae", "mig", "sap", "dci")


def test_evaluate_passes_n_jobs_to_dci(evaluated) -> None:
    parallel = evaluate(ToyGrid((1, 2, 3, 4)), identity, sizes=TINY, scores="dci", random_state=13, n_jobs=2)
    assert parallel == {name: value for name, value in evaluated.items() if name.startswith("dci_")}


def _mean_abs_code(call: registry.MetricCall) -> dict[str, float]:
    return {"mean_abs_code": float(np.abs(call.train.codes).mean())}


MEAN_ABS_CODE = registry.Metric(
    "mean_abs_code", _mean_abs_code, keys=("mean_abs_code",),
    sizes=(registry.SizeField("mean_abs_code", 10_000, 40, "Points for the mean |code|"),),
    train_size="mean_abs_code",
)


def test_a_registered_metric_is_listed_and_evaluated(evaluated) -> None:
    data = ToyGrid((1, 2, 3, 4))

    def train_codes(n: int) -> np.ndarray:
        """The shared training sample of n points: stream TRAIN_STREAM; identity codes are the factors."""
        stream = np.random.default_rng(13).spawn(registry.stream_count())[registry.TRAIN_STREAM]
        return data.sample_factors(n, stream).astype(float)

    with registry.registered(MEAN_ABS_CODE):
        assert SCORES[-1] == "mean_abs_code" and "mean_abs_code" in registry.names()
        full = vaelib.disentanglement.evaluate(
            data, identity, sizes=TINY, random_state=13, extra_sizes={"mean_abs_code": 200}
        )
        fast = vaelib.disentanglement.evaluate(data, identity, fast=True, scores=["mean_abs_code"], random_state=13)
        with pytest.raises(ValueError, match=r"extra_sizes keys must be .*\['mean_abs_code'\].*got \['mig'\]"):
            evaluate(data, identity, scores=["mig"], extra_sizes={"mig": 10})
    # The metric runs last on the first 200 shared points; the built-in scores do not move.
    assert list(full) == [*evaluated, "mean_abs_code"]
    assert {name: full[name] for name in evaluated} == evaluated
    assert full["mean_abs_code"] == pytest.approx(np.abs(train_codes(300)[:200]).mean(), rel=1e-12)  # TINY: 300
    assert fast == {"mean_abs_code": pytest.approx(np.abs(train_codes(40)).mean(), rel=1e-12)}  # its fast size
    assert "mean_abs_code" not in SCORES
    with pytest.raises(ValueError, match="scores must be a non-empty selection"):
        evaluate(data, identity, scores=["mean_abs_code"])


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: registry.register(dataclasses.replace(MEAN_ABS_CODE, name="mig")),
         "a metric named 'mig' is already registered"),
        (lambda: registry.register(dataclasses.replace(MEAN_ABS_CODE, keys=("sap",))),
         r"result keys \['sap'\] of metric 'mean_abs_code' are already registered"),
        (lambda: registry.register(dataclasses.replace(
            MEAN_ABS_CODE, sizes=(registry.SizeField("batch_size", 32, 32, "Batch"),), train_size="batch_size")),
         "size field 'batch_size' of metric 'mean_abs_code' differs from the registered"),
        (lambda: dataclasses.replace(MEAN_ABS_CODE, train_size="points"),
         r"train_size of metric 'mean_abs_code' must be one of its size fields \['mean_abs_code'\]"),
        (lambda: registry.unregister("dci"), "the built-in metric 'dci' cannot be unregistered"),
        (lambda: registry.unregister("irs"), r"no metric named 'irs' is registered; registered: \('beta_vae'"),
    ],
)
def test_registry_rejects_clashes(call, match) -> None:
    with pytest.raises(ValueError, match=match):
        call()
    assert registry.names() == ("beta_vae", "factor_vae", "mig", "sap", "dci")


# ----------------------------------------------------------------------------- bad input


class MissingSampler:
    num_factors = 2
    factor_sizes = (2, 2)


class FloatFactors(ToyGrid):
    def sample_factors(self, n, random_state):
        return super().sample_factors(n, random_state).astype(float)


class WrongSizes(ToyGrid):
    def __init__(self) -> None:
        super().__init__()
        self.factor_sizes = (2, 2)


CODES = np.random.default_rng(0).standard_normal((6, 2))
FACTORS = np.array([[0, 1], [1, 0], [0, 1], [1, 0], [1, 1], [0, 0]])
ONE_CONSTANT = np.column_stack([FACTORS[:, 0], np.zeros(6, int)])


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: mig(CODES[:5], FACTORS), ValueError, "same number of rows, got 5 and 6"),
        (lambda: mig(CODES, FACTORS.astype(float)), TypeError,
         "factors must hold integer class labels, got dtype float64"),
        (lambda: mig(CODES, FACTORS[:, 0]), ValueError,
         r"factors must be a 2-D \(N, K\) array, got shape \(6,\)"),
        (lambda: mig(CODES, ONE_CONSTANT), ValueError, r"constant columns \[1\]"),
        (lambda: mig(CODES, FACTORS, n_bins=1), ValueError, "n_bins must be >= 2, got 1"),
        (lambda: mig(CODES, FACTORS, n_bins=2.5), TypeError, "n_bins must be an int, got 2.5"),
        (lambda: mig(CODES[:, 0], FACTORS), ValueError,
         r"codes must be a 2-D \(N, D\) array, got shape \(6,\)"),
        (lambda: mig(CODES[:, :1], FACTORS), ValueError,
         r"at least 2 code dimensions \(columns\), got shape \(6, 1\)"),
        (lambda: mig(np.where(CODES > 0, np.nan, CODES), FACTORS), ValueError, "codes must be finite, got"),
        (lambda: mig(CODES.astype(str), FACTORS), TypeError, "codes must be a numeric"),
        (lambda: sap(CODES, FACTORS, CODES[:, :1].repeat(3, 1), FACTORS), ValueError,
         r"codes_test must have as many columns as codes_train \(2\), got shape \(6, 3\)"),
        (lambda: sap(CODES, FACTORS, CODES, FACTORS[:, :1]), ValueError,
         r"factors_test must have shape \(N, 2\) like factors_train, got shape \(6, 1\)"),
        (lambda: sap(CODES, FACTORS, CODES[:4], FACTORS), ValueError,
         "codes_test and factors_test must have the same number of rows, got 4 and 6"),
        (lambda: sap(CODES, FACTORS, CODES, FACTORS * 0.5), TypeError,
         "factors_test must hold integer class labels"),
        (lambda: dci(CODES, FACTORS[:, :1], CODES, FACTORS[:, :1]), ValueError,
         r"at least 2 factors \(columns\) for DCI, got shape \(6, 1\)"),
        (lambda: dci(CODES, FACTORS, CODES, FACTORS, random_state=1.5), TypeError,
         "random_state must be an int seed >= 0, a numpy.random.Generator or a numpy.random.RandomState, got 1.5"),
        (lambda: dci_from_importance(np.ones((1, 3))), ValueError,
         r"D >= 2 codes and K >= 2 factors, got shape \(1, 3\)"),
        (lambda: dci_from_importance(-np.eye(2)), ValueError, "finite and non-negative, got minimum -1.0"),
        (lambda: beta_vae_score(ToyGrid(), identity, random_state=-1), ValueError, "non-negative seed, got -1"),
        (lambda: beta_vae_score(ToyGrid(), identity, batch_size="64"), TypeError,
         "batch_size must be an int, got '64'"),
        (lambda: beta_vae_score(ToyGrid(), identity, num_eval=0), ValueError, "num_eval must be >= 1, got 0"),
        (lambda: beta_vae_score(ToyGrid(), identity, chunk_size=0), ValueError, "chunk_size must be >= 1, got 0"),
        (lambda: beta_vae_score(ToyGrid(), "encoder"), TypeError, "encode must be callable"),
        (lambda: beta_vae_score(MissingSampler(), identity), TypeError, "no attribute 'sample_factors'"),
        (lambda: beta_vae_score(WrongSizes(), identity), ValueError,
         r"data.factor_sizes must have data.num_factors=4 entries, got \(2, 2\)"),
        (lambda: beta_vae_score(ToyGrid((1, 1, 3)), identity), ValueError,
         r"at least 2 factors with >= 2 classes, got factor_sizes \(1, 1, 3\)"),
        (lambda: beta_vae_score(FloatFactors(), identity), ValueError, r"data.sample_factors\(.*got float64"),
        (lambda: beta_vae_score(ToyGrid(), lambda x: (x, x)), TypeError,
         "encode must return one .* got a tuple of length 2"),
        (lambda: beta_vae_score(ToyGrid(), lambda x: x[:-1]), ValueError, "one row per observation"),
        (lambda: factor_vae_score(ToyGrid(), identity, batch_size=1), ValueError,
         "batch_size must be >= 2, got 1"),
        (lambda: factor_vae_score(ToyGrid(), identity, prune_threshold=-0.1), ValueError,
         "prune_threshold must be >= 0, got -0.1"),
        (lambda: factor_vae_score(ToyGrid(), identity, prune_threshold="0.05"), TypeError,
         "prune_threshold must be a real number, got '0.05'"),
        (lambda: factor_vae_votes(ToyGrid(), identity, num_eval=0), ValueError, "num_eval must be >= 1, got 0"),
        (lambda: factor_vae_votes(ToyGrid(), "identity"), TypeError, "encode must be callable"),
        (lambda: EvaluationSizes(mig=0), ValueError, "mig must be >= 1, got 0"),
        (lambda: EvaluationSizes(batch_size=True), TypeError, "batch_size must be an int, got True"),
        (lambda: evaluate(ToyGrid(), identity, fast="yes"), TypeError, "fast must be a bool, got 'yes'"),
        (lambda: evaluate(ToyGrid(), identity, sizes={"mig": 10}), TypeError,
         "sizes must be an EvaluationSizes"),
        (lambda: evaluate(ToyGrid(), identity, fast=True, sizes=TINY), ValueError,
         "either fast=True or sizes"),
        (lambda: evaluate(ToyGrid(), identity, scores=("mig", "irs")), ValueError,
         r"scores must be a non-empty selection from \('beta_vae', .*got \('mig', 'irs'\)"),
        (lambda: evaluate(ToyGrid(), identity, scores=()), ValueError, r"non-empty selection .* got \(\)"),
    ],
)
def test_bad_input_raises(call, error, match) -> None:
    with pytest.raises(error, match=match):
        call()


def test_beta_vae_needs_two_fixed_factors_in_training() -> None:
    # With 2 training points over 2 varying factors, some seed draws the same factor twice.
    data = ToyGrid((2, 3))
    raising = []
    for seed in range(20):
        try:
            beta_vae_score(data, identity, batch_size=2, num_train=2, num_eval=1, random_state=seed)
        except ValueError:
            raising.append(seed)
    assert raising
    with pytest.raises(ValueError, match="num_train=2 drew a single fixed factor"):
        beta_vae_score(data, identity, batch_size=2, num_train=2, num_eval=1, random_state=raising[0])
