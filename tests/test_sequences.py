"""Tests of vaelib.data.sequences: He et al. (2019) synthetic sequences and character-level words."""
from __future__ import annotations

import itertools
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

import vaelib.data.sequences as sequences
from vaelib.data.sequences import (
    COMPONENT_STD,
    MIXTURE_MEANS,
    LatentLSTM,
    SyntheticSequences,
    WordList,
    load_words,
    make_synthetic_sequences,
    sample_latents,
    sample_sequences,
)

REAL_WORDS = Path("/usr/share/dict/words")


def manual_log_probs(model: LatentLSTM, tokens: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """``log p(x_t = v | x_<t, z)`` for every position and token, shape (N, L, V), in float64.

    Written from the equations of LatentLSTM's docstring and PyTorch's LSTMCell definition
    (gates i, f, g, o: c' = f c + i g, h' = o tanh(c')), using only the module's weights.
    """
    w = {name: value.double() for name, value in model.state_dict().items()}
    s = model.z_scale * z.double()
    hidden = model.hidden_size
    h0c0 = s @ w["initial.weight"].T + w["initial.bias"]
    h, c = torch.tanh(h0c0[:, :hidden]), h0c0[:, hidden:]
    previous = torch.full((z.shape[0],), model.vocab_size)
    tables = []
    for t in range(tokens.shape[1]):
        x = torch.cat([w["embedding.weight"][previous], s], dim=1)
        gates = x @ w["cell.weight_ih"].T + w["cell.bias_ih"] + h @ w["cell.weight_hh"].T + w["cell.bias_hh"]
        i, f, g, o = gates.chunk(4, dim=1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        logits = h @ w["output.weight"].T + w["output.bias"] + s @ w["latent_output.weight"].T
        tables.append(torch.log_softmax(logits, dim=1))
        previous = tokens[:, t]
    return torch.stack(tables, dim=1)


def first_token_information(model: LatentLSTM, z: torch.Tensor) -> float:
    """I(x_1; z) = H(E_z p(x_1 | z)) - E_z H(p(x_1 | z)) in nats, over the latents ``z``."""
    log_p = manual_log_probs(model, torch.zeros(len(z), 1, dtype=torch.int64), z)[:, 0]
    p = log_p.exp()
    conditional = -(p * log_p).sum(dim=1).mean()
    marginal = p.mean(dim=0)
    return float(-(marginal * marginal.clamp_min(1e-300).log()).sum() - conditional)


def chi_square_pvalue(observed: np.ndarray, expected: np.ndarray) -> float:
    """Pearson's chi-square test of counts against expected counts, pooling cells expected < 5."""
    big = expected >= 5
    cells_observed = np.append(observed[big], observed[~big].sum())
    cells_expected = np.append(expected[big], expected[~big].sum())
    return float(stats.chisquare(cells_observed, cells_expected * cells_observed.sum() / cells_expected.sum()).pvalue)


def agreement_by_distance(data: SyntheticSequences, pairs: int = 200_000) -> tuple[float, float]:
    """Share of equal positions for pairs of sequences with latents < 0.25 apart and > 3 apart."""
    generator = torch.Generator().manual_seed(0)
    i = torch.randint(len(data), (pairs,), generator=generator)
    j = torch.randint(len(data), (pairs,), generator=generator)
    distance = (data.z[i] - data.z[j]).norm(dim=1)
    agree = (data.tokens[i] == data.tokens[j]).double().mean(dim=1)
    near = (distance < 0.25) & (i != j)
    assert near.sum() > 1000
    return float(agree[near].mean()), float(agree[distance > 3].mean())


@pytest.fixture(scope="module")
def published() -> SyntheticSequences:
    """The published vocabulary (1,000) and length (10), with 5,000 of the 20,000 sequences."""
    return make_synthetic_sequences(5000, seed=0)


# --- synthetic sequences ---------------------------------------------------------------------

def test_published_shapes_dtypes_and_ranges(published: SyntheticSequences) -> None:
    assert published.tokens.shape == (5000, 10) and published.tokens.dtype == torch.int64
    assert published.z.shape == (5000, 2) and published.z.dtype == torch.float32
    assert published.component.shape == (5000,) and published.component.dtype == torch.int64
    assert (published.vocab_size, published.length, len(published)) == (1000, 10, 5000)
    assert int(published.tokens.min()) >= 0 and int(published.tokens.max()) < 1000
    assert set(published.component.tolist()) == {0, 1, 2, 3}
    assert published.tokens.unique().numel() > 500  # a large share of the vocabulary is used


def test_mixture_means_spread_and_weights(published: SyntheticSequences) -> None:
    n = len(published)
    counts = torch.bincount(published.component, minlength=4).double()
    assert torch.all((counts - n / 4).abs() < 5 * (n * 0.25 * 0.75) ** 0.5)  # equal weights, 5 sigma
    for k, mean in enumerate(MIXTURE_MEANS):
        z = published.z[published.component == k].double()
        expected_mean, expected_std = torch.tensor(mean, dtype=torch.float64), torch.full((2,), COMPONENT_STD).double()
        torch.testing.assert_close(z.mean(dim=0), expected_mean, rtol=0, atol=5 * COMPONENT_STD / len(z) ** 0.5)
        torch.testing.assert_close(z.std(dim=0), expected_std, rtol=0, atol=0.04)
    assert MIXTURE_MEANS == ((2.0, 2.0), (-2.0, 2.0), (-2.0, -2.0), (2.0, -2.0))


def test_sequences_depend_strongly_on_z(published: SyntheticSequences) -> None:
    # Token agreement: sequences whose latents are close share far more positions than sequences
    # whose latents are far apart (documented: 8 % against 0.13 %).
    near, far = agreement_by_distance(published)
    assert near > 0.04 and near > 10 * far
    # The first token alone carries over 1 nat about z (documented: 1.57 nats).
    assert first_token_information(published.model, published.z[:3000]) > 1.0


def test_tokens_depend_on_earlier_tokens_given_z(published: SyntheticSequences) -> None:
    # I(x_3; x_<3 | z) = H(x_3 | z) - H(x_3 | z, x_<3) for a few latents (documented: about 1.2 nats).
    information = []
    for z in published.z[:3]:
        z = z.expand(2000, 2)
        log_p = manual_log_probs(published.model, published.model.sample(z, 3, seed=9), z)[:, 2]
        p = log_p.exp()
        marginal = p.mean(dim=0)
        entropy = -(marginal * marginal.clamp_min(1e-300).log()).sum()
        information.append(float(entropy + (p * log_p).sum(dim=1).mean()))
    assert min(information) > 0.5


def test_z_scale_controls_the_dependence() -> None:
    z, _ = sample_latents(2000, seed=1)
    information = [first_token_information(LatentLSTM(z_scale=scale, seed=0), z) for scale in (0.0, 0.5, 1.0)]
    assert abs(information[0]) < 1e-9  # z_scale = 0: sequences independent of z
    assert 0.5 < information[1] < information[2]
    independent = make_synthetic_sequences(20_000, 50, 4, z_scale=0.0, seed=2)
    near, far = agreement_by_distance(independent)
    assert abs(near - far) < 0.02


def test_log_prob_matches_the_model_equations(published: SyntheticSequences) -> None:
    tokens, z = published.tokens[:300], published.z[:300]
    expected = manual_log_probs(published.model, tokens, z).gather(2, tokens[..., None]).squeeze(2).sum(dim=1)
    log_p = published.model.log_prob(tokens, z)
    assert log_p.shape == (300,) and torch.isfinite(log_p).all() and (log_p < 0).all()
    torch.testing.assert_close(log_p.double(), expected, rtol=0, atol=1e-3)


def test_first_token_frequencies_match_the_softmax(published: SyntheticSequences) -> None:
    z = torch.tensor([[1.7, -2.3]]).expand(20_000, 2)
    first = published.model.sample(z, 1, seed=3)[:, 0]
    p = manual_log_probs(published.model, first[:1, None], z[:1])[0, 0].exp().numpy()
    observed = np.bincount(first.numpy(), minlength=1000)
    assert chi_square_pvalue(observed, 20_000 * p) > 1e-4
    assert 0.5 * np.abs(observed / 20_000 - p).sum() < 0.05  # total variation


def test_joint_sequence_frequencies_match_log_prob() -> None:
    # Three tokens, length 3: all 27 sequences can be enumerated.
    model = LatentLSTM(3, embedding_size=4, hidden_size=5, seed=4)
    z = torch.tensor([[-1.5, 2.5]])
    every = torch.tensor(list(itertools.product(range(3), repeat=3)))
    p = model.log_prob(every, z.expand(27, 2)).double().exp()
    assert abs(float(p.sum()) - 1.0) < 1e-5
    draws = model.sample(z.expand(30_000, 2), 3, seed=5)
    observed = np.bincount((draws @ torch.tensor([9, 3, 1])).numpy(), minlength=27)
    assert chi_square_pvalue(observed, 30_000 * p.numpy()) > 1e-4


def test_reproducible_by_seed_and_different_across_seeds() -> None:
    first, again = make_synthetic_sequences(500, 40, 5, seed=11), make_synthetic_sequences(500, 40, 5, seed=11)
    other = make_synthetic_sequences(500, 40, 5, seed=12)
    assert torch.equal(first.tokens, again.tokens) and torch.equal(first.z, again.z)
    assert torch.equal(first.component, again.component)
    assert not torch.equal(first.tokens, other.tokens) and not torch.equal(first.z, other.z)
    from_generator = make_synthetic_sequences(500, 40, 5, seed=torch.Generator().manual_seed(11))
    assert torch.equal(first.tokens, from_generator.tokens)


def test_held_out_data_come_from_the_same_model() -> None:
    train = make_synthetic_sequences(300, 30, 4, seed=0)
    test = sample_sequences(train.model, 200, 6, seed=1)
    assert test.model is train.model and test.tokens.shape == (200, 6) and test.length == 6
    assert not torch.equal(test.z[:5], train.z[:5])


def test_sampling_does_not_depend_on_the_block_size(monkeypatch: pytest.MonkeyPatch) -> None:
    model = LatentLSTM(25, seed=6)
    z, _ = sample_latents(100, seed=7)
    whole = model.sample(z, 5, seed=8)
    monkeypatch.setattr(sequences, "SAMPLE_BLOCK_ROWS", 7)
    assert torch.equal(model.sample(z, 5, seed=8), whole)


def test_global_rng_untouched() -> None:
    state = torch.get_rng_state()
    make_synthetic_sequences(100, 20, 3, seed=0)
    assert torch.equal(torch.get_rng_state(), state)


def test_model_is_frozen() -> None:
    assert not any(parameter.requires_grad for parameter in LatentLSTM(10).parameters())


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"n": 0}, ValueError, "n must be >= 1, got 0"),
        ({"n": 2.5}, TypeError, "n must be an int, got 2.5"),
        ({"vocab_size": 0}, ValueError, "vocab_size must be >= 1, got 0"),
        ({"length": -1}, ValueError, "length must be >= 1, got -1"),
        ({"length": True}, TypeError, "length must be an int, got True"),
        ({"embedding_size": 0}, ValueError, "embedding_size must be >= 1, got 0"),
        ({"hidden_size": "8"}, TypeError, "hidden_size must be an int, got '8'"),
        ({"z_scale": -0.5}, ValueError, r"z_scale must be finite and >= 0, got -0.5"),
        ({"z_scale": float("inf")}, ValueError, "z_scale must be finite and >= 0, got inf"),
        ({"z_scale": "big"}, TypeError, "z_scale must be a real number, got 'big'"),
        ({"seed": 1.5}, TypeError, "seed must be an int or a torch.Generator, got 1.5"),
    ],
)
def test_make_synthetic_sequences_rejects_bad_arguments(kwargs: dict, error: type, message: str) -> None:
    arguments = {"n": 10, "vocab_size": 5, "length": 3} | kwargs
    with pytest.raises(error, match=message):
        make_synthetic_sequences(**arguments)


def test_model_methods_reject_bad_inputs() -> None:
    model = LatentLSTM(5, seed=0)
    z = torch.zeros(4, 2)
    with pytest.raises(TypeError, match="z must be a torch.Tensor, got list"):
        model.sample([[0.0, 0.0]], 3)
    with pytest.raises(ValueError, match=r"z must have shape \(N, 2\), got \(4, 3\)"):
        model.sample(torch.zeros(4, 3), 3)
    with pytest.raises(ValueError, match=r"z must be finite, got \[0.0, nan\] in a row"):
        model.sample(torch.tensor([[0.0, 1.0], [0.0, float("nan")]]), 3)
    with pytest.raises(ValueError, match="length must be >= 1, got 0"):
        model.sample(z, 0)
    with pytest.raises(TypeError, match="tokens must be an int64 torch.Tensor"):
        model.log_prob(torch.zeros(4, 3), z)
    with pytest.raises(ValueError, match=r"tokens must have shape \(N, L\) with N = 4 rows of z, got \(3, 3\)"):
        model.log_prob(torch.zeros(3, 3, dtype=torch.int64), z)
    with pytest.raises(ValueError, match=r"tokens must lie in \[0, 5\), got values in \[0, 5\]"):
        model.log_prob(torch.tensor([[0, 5]] * 4), z)
    with pytest.raises(TypeError, match="model must be a LatentLSTM, got str"):
        sample_sequences("model", 3, 3)


# --- words ------------------------------------------------------------------------------------

SMALL_LIST = ["apple", "Bob", "zoo", "can't", "naïve", "", "cab", "abcdefghijklmn", "  pal  "]


@pytest.fixture()
def words_file(tmp_path: Path) -> Path:
    path = tmp_path / "words"
    path.write_text("\n".join(SMALL_LIST) + "\n", encoding="utf-8")
    return path


def test_words_rows_by_hand(words_file: Path) -> None:
    words = load_words(words_file, max_length=6, seed=0)
    assert sorted(words.words) == ["apple", "cab", "pal", "zoo"]
    # Letters in code-point order after <pad>=0 and <end>=1: a2 b3 c4 e5 l6 o7 p8 z9.
    assert words.vocab == ("<pad>", "<end>", "a", "b", "c", "e", "l", "o", "p", "z")
    assert words.tokens.shape == (4, 7) and words.tokens.dtype == torch.int64 and words.max_length == 6
    rows = dict(zip(words.words, words.tokens.tolist()))
    assert rows["zoo"] == [9, 7, 7, 1, 0, 0, 0]
    assert rows["apple"] == [2, 8, 8, 6, 5, 1, 0]
    assert dict(zip(words.words, words.lengths.tolist())) == {"apple": 6, "cab": 4, "pal": 4, "zoo": 4}
    assert (WordList.pad_index, WordList.end_index) == (0, 1)


def test_words_without_the_ascii_filter(words_file: Path) -> None:
    words = load_words(words_file, max_length=20, lowercase_ascii_only=False)
    assert sorted(words.words) == sorted(["apple", "Bob", "zoo", "can't", "naïve", "cab", "abcdefghijklmn", "pal"])
    assert {"B", "'", "ï"} <= set(words.vocab)
    assert words.decode(words.tokens) == list(words.words)


def test_words_order_reproducible_by_seed(tmp_path: Path) -> None:
    path = tmp_path / "words"
    path.write_text("\n".join("".join(letters) for letters in itertools.product("abc", repeat=3)), encoding="utf-8")
    first, again, other = load_words(path, seed=1), load_words(path, seed=1), load_words(path, seed=2)
    assert first.words == again.words and torch.equal(first.tokens, again.tokens)
    assert first.words != other.words and sorted(first.words) == sorted(other.words)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.text(alphabet="abcelopz", min_size=0, max_size=6), min_size=1, max_size=5))
def test_encode_decode_round_trip(tmp_path_factory: pytest.TempPathFactory, batch: list[str]) -> None:
    path = tmp_path_factory.getbasetemp() / "round_trip_words"
    path.write_text("apple\nzoo\ncab\npal\n", encoding="utf-8")
    words = load_words(path, max_length=6)
    encoded = words.encode(batch)
    assert encoded.shape == (len(batch), 7)
    assert words.decode(encoded) == batch
    assert words.decode(words.encode(batch[0])) == batch[0]
    assert (encoded != 0).sum(dim=1).tolist() == [len(word) + 1 for word in batch]


def test_encode_and_decode_reject_bad_input(words_file: Path) -> None:
    words = load_words(words_file, max_length=6)
    with pytest.raises(ValueError, match=r"word must have at most 6 characters, got 'applepie' \(8\)"):
        words.encode("applepie")
    with pytest.raises(ValueError, match="word 'cat' has character 't' outside the vocabulary"):
        words.encode(["cab", "cat"])
    with pytest.raises(TypeError, match="words must be a str or a sequence of str, got 3"):
        words.encode(3)
    with pytest.raises(TypeError, match="tokens must be a 1-D or 2-D int64 torch.Tensor"):
        words.decode(torch.zeros(7))
    with pytest.raises(ValueError, match=r"tokens must lie in \[0, 10\), got values in \[0, 10\]"):
        words.decode(torch.tensor([10, 0]))


def test_missing_word_list_names_path_and_package(tmp_path: Path) -> None:
    missing = tmp_path / "no" / "words"
    with pytest.raises(FileNotFoundError, match=re.escape(str(missing)) + ".*apt-get install wamerican"):
        load_words(missing)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"max_length": 0}, ValueError, "max_length must be >= 1, got 0"),
        ({"max_length": 2.0}, TypeError, "max_length must be an int, got 2.0"),
        ({"lowercase_ascii_only": "yes"}, TypeError, "lowercase_ascii_only must be a bool, got 'yes'"),
        ({"seed": "0"}, TypeError, "seed must be an int or a torch.Generator, got '0'"),
        ({"max_length": 2}, ValueError, "no word in .* has at most max_length=2 characters and only the letters a-z"),
    ],
)
def test_load_words_rejects_bad_arguments(words_file: Path, kwargs: dict, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        load_words(words_file, **kwargs)
    with pytest.raises(TypeError, match="path must be a str or pathlib.Path, got 3"):
        load_words(3)


@pytest.mark.skipif(not REAL_WORDS.is_file(), reason=f"{REAL_WORDS} absent (apt-get install wamerican)")
def test_real_word_list() -> None:
    words = load_words(max_length=12)
    lines = REAL_WORDS.read_text(encoding="utf-8").split("\n")
    kept = [line for line in lines if 1 <= len(line) <= 12 and line.isascii() and line.isalpha() and line.islower()]
    assert len(words) == len(kept)
    assert words.vocab[2:] == tuple("abcdefghijklmnopqrstuvwxyz")
    assert {"apple", "zebra"} <= set(words.words)
    assert words.decode(words.tokens[:100]) == list(words.words[:100])
    assert int(words.lengths.max()) <= 13 and words.tokens.shape[1] == 13
