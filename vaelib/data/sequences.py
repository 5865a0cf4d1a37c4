"""Token-sequence data: synthetic sequences with a known latent, and character-level words.

Synthetic sequences (He et al. 2019, "Lagging Inference Networks and Posterior Collapse in
Variational Autoencoders", ICLR, synthetic experiment): a 2-D latent ``z`` is drawn from a
mixture of four Gaussians centred at (+-2, +-2), and a sequence is drawn from a randomly
initialised LSTM language model that sees ``z`` in its initial state, in every input and in its
output logits. The data therefore depend strongly on ``z``, the true posterior ``p(z | x)`` is
known to be informative, and a VAE whose approximate posterior collapses to the prior is
visibly wrong. The published set has 20,000 sequences of length 10 over 1,000 tokens.

Words: the lines of a word list such as Debian's ``/usr/share/dict/words`` (package
``wamerican``) as padded rows of character ids.

Both return int64 token matrices ``(N, L)`` for :class:`vaelib.models.sequence.LSTMVAE`, which
predicts each token from ``z`` and the tokens before it with its own learned start vector; the
data carry no begin-of-sequence token.
"""
from __future__ import annotations

import functools
import math
import numbers
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import torch
from torch import nn
from torch.nn.utils import skip_init

from vaelib.rng import torch_generator
from vaelib.validation import check_int

LATENT_SIZE: int = 2
MIXTURE_MEANS: tuple[tuple[float, float], ...] = ((2.0, 2.0), (-2.0, 2.0), (-2.0, -2.0), (2.0, -2.0))
"""Centres of the four equally weighted mixture components (He et al. 2019), component k = row k."""
COMPONENT_STD: float = 0.5
"""Standard deviation of every mixture component along each axis (isotropic).

He et al. fix the centres; the spread is ours. At 0.5 the centres are 8 standard deviations
apart along each axis, so the four clusters do not overlap and the component of a latent is
unambiguous, while each cluster still spans enough of the latent space for the sequences to vary
within it.
"""
INIT_GAIN: float = 2.0
"""Weight scale of the random LSTM's state, input and recurrent maps: N(0, gain**2 / fan_in)."""
OUTPUT_GAIN: float = 8.0
"""Weight scale of the hidden-to-logit map: large, so the tokens depend on the tokens before them."""
LATENT_LOGIT_GAIN: float = 1.0
"""Weight scale of the direct z-to-logit map.

With one gain of 2 for every map, the direct z term dominates the logits and, given ``z``, the
tokens are nearly independent of each other (0.07 nats of information between ``x_3`` and
``x_<3``); the gains 8 and 1 keep the strong dependence on ``z`` and give the sequences an
autoregressive structure (numbers in :class:`LatentLSTM`).
"""

SAMPLE_BLOCK_ROWS: int = 2048
"""Sequences generated together by :meth:`LatentLSTM.sample` (a speed setting only)."""

DEFAULT_WORDS_PATH: Path = Path("/usr/share/dict/words")
PAD_SYMBOL: str = "<pad>"
END_SYMBOL: str = "<end>"


class LatentLSTM(nn.Module):
    """A randomly initialised, latent-conditioned LSTM language model (the true decoder).

    With ``s = z_scale * z`` (``z`` of shape (N, 2)) and a start symbol at step 0:

    * initial state: ``[h_0, c_0] = A s + a``, then ``h_0 <- tanh(h_0)``;
    * step t: ``h_t, c_t = LSTMCell([e(x_{t-1}), s], (h_{t-1}, c_{t-1}))`` with ``e(x_{-1})`` the
      start symbol's embedding (an extra embedding row, index ``vocab_size``, never emitted);
    * ``p(x_t | x_<t, z) = softmax(W h_t + b + B s)``.

    Weights are drawn once from ``seed``: embeddings N(0, 1), each weight matrix
    N(0, gain**2 / fan_in) with gain ``OUTPUT_GAIN`` for ``W``, ``LATENT_LOGIT_GAIN`` for ``B``
    and ``INIT_GAIN`` for the others, biases 0. The module is frozen (no gradients).

    ``z_scale`` sets how strongly the data depend on ``z``: 0 makes the sequences independent of
    ``z`` (a plain random LSTM language model), larger values make ``z`` dominate. Measured for
    seed 0 with the defaults (1,000 tokens, 64 units, ``z_scale=1``) on latents from the
    mixture, in nats (a uniform token has 6.91):

    * the first token carries 1.57 nats of information about ``z``:
      ``H(x_1) - H(x_1 | z) = 3.29 - 1.72``;
    * sequences whose latents are less than 0.25 apart agree at 8 % of positions, sequences
      whose latents are more than 3 apart (other clusters) at 0.13 %, about chance level;
    * given ``z``, the third token still depends on the two before it:
      ``H(x_3 | z) - H(x_3 | z, x_<3)`` is about 4.3 - 3.1 nats;
    * the true ``-log p(x | z)`` averages 2.95 nats per token.

    At ``z_scale=0`` the information about ``z`` is 0 (4.8 nats per token), at 0.5 the first
    token carries 1.41 nats, at 2 it carries 1.66 nats and sequences near in ``z`` agree at
    20 % of positions. tests/test_sequences.py checks these properties.

    Parameters
    ----------
    vocab_size : int
        Number of tokens V; sampled tokens lie in [0, V).
    embedding_size, hidden_size : int
        Token embedding width and LSTM state width.
    z_scale : float
        Non-negative multiplier of ``z`` wherever it enters (state, inputs, logits).
    seed : int or torch.Generator
        Source of the random weights.
    """

    def __init__(
        self,
        vocab_size: int = 1000,
        *,
        embedding_size: int = 64,
        hidden_size: int = 64,
        z_scale: float = 1.0,
        seed: int | torch.Generator = 0,
    ) -> None:
        super().__init__()
        self.vocab_size = check_int("vocab_size", vocab_size, 1)
        embedding_size = check_int("embedding_size", embedding_size, 1)
        self.hidden_size = check_int("hidden_size", hidden_size, 1)
        if isinstance(z_scale, bool) or not isinstance(z_scale, numbers.Real):
            raise TypeError(f"z_scale must be a real number, got {z_scale!r}")
        if not (math.isfinite(z_scale) and z_scale >= 0):
            raise ValueError(f"z_scale must be finite and >= 0, got {z_scale!r}")
        self.z_scale = float(z_scale)
        generator = torch_generator(seed)

        # skip_init: the layers' own initialisation would draw from torch's global RNG.
        self.embedding = skip_init(nn.Embedding, self.vocab_size + 1, embedding_size)
        self.cell = skip_init(nn.LSTMCell, embedding_size + LATENT_SIZE, self.hidden_size)
        self.initial = skip_init(nn.Linear, LATENT_SIZE, 2 * self.hidden_size)
        self.output = skip_init(nn.Linear, self.hidden_size, self.vocab_size)
        self.latent_output = skip_init(nn.Linear, LATENT_SIZE, self.vocab_size, bias=False)
        gains = {"output.weight": OUTPUT_GAIN, "latent_output.weight": LATENT_LOGIT_GAIN}
        with torch.no_grad():
            nn.init.normal_(self.embedding.weight, generator=generator)
            for name, parameter in self.named_parameters():
                if name.startswith("embedding"):
                    continue
                if "bias" in name:
                    parameter.zero_()
                else:
                    std = gains.get(name, INIT_GAIN) / math.sqrt(parameter.shape[1])
                    nn.init.normal_(parameter, std=std, generator=generator)
        self.requires_grad_(False)

    @property
    def start_index(self) -> int:
        """Embedding row of the start symbol (``vocab_size``); it is never sampled."""
        return self.vocab_size

    def _check_latents(self, z: torch.Tensor) -> torch.Tensor:
        if not isinstance(z, torch.Tensor):
            raise TypeError(f"z must be a torch.Tensor, got {type(z).__name__}")
        if z.ndim != 2 or z.shape[1] != LATENT_SIZE:
            raise ValueError(f"z must have shape (N, {LATENT_SIZE}), got {tuple(z.shape)}")
        if not torch.isfinite(z).all():
            raise ValueError(f"z must be finite, got {z[~torch.isfinite(z).all(dim=1)][0].tolist()} in a row")
        return z.to(torch.float32) * self.z_scale

    def _start(self, scaled: torch.Tensor) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor], torch.Tensor]:
        """Start tokens (N,), initial (h, c) each (N, H), and the logit offsets b + B s (N, V)."""
        h, c = self.initial(scaled).split(self.hidden_size, dim=1)
        start = torch.full((scaled.shape[0],), self.start_index, dtype=torch.int64)
        return start, (torch.tanh(h), c), self.latent_output(scaled) + self.output.bias

    def _step(
        self,
        previous: torch.Tensor,
        scaled: torch.Tensor,
        state: tuple[torch.Tensor, torch.Tensor],
        offset: torch.Tensor,
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        """Logits (N, V) of the next token after ``previous`` (N,), and the new state."""
        h, c = self.cell(torch.cat([self.embedding(previous), scaled], dim=1), state)
        return torch.addmm(offset, h, self.output.weight.T), (h, c)

    def log_prob(self, tokens: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """Teacher-forced ``log p(x | z)``: shape (N,), nats, summed over the L positions.

        Parameters
        ----------
        tokens : torch.Tensor
            int64, shape (N, L), values in [0, vocab_size).
        z : torch.Tensor
            Latents, shape (N, 2).
        """
        scaled = self._check_latents(z)
        if not isinstance(tokens, torch.Tensor) or tokens.dtype != torch.int64:
            raise TypeError(f"tokens must be an int64 torch.Tensor, got {tokens!r:.80}")
        if tokens.ndim != 2 or tokens.shape[0] != z.shape[0]:
            raise ValueError(
                f"tokens must have shape (N, L) with N = {z.shape[0]} rows of z, got {tuple(tokens.shape)}"
            )
        if tokens.numel() and (tokens.min() < 0 or tokens.max() >= self.vocab_size):
            raise ValueError(
                f"tokens must lie in [0, {self.vocab_size}), got values in [{int(tokens.min())}, {int(tokens.max())}]"
            )
        previous, state, offset = self._start(scaled)
        total = torch.zeros(tokens.shape[0])
        for t in range(tokens.shape[1]):
            logits, state = self._step(previous, scaled, state, offset)
            previous = tokens[:, t]
            total += torch.log_softmax(logits, dim=1).gather(1, previous[:, None]).squeeze(1)
        return total

    def sample(self, z: torch.Tensor, length: int, *, seed: int | torch.Generator = 0) -> torch.Tensor:
        """Draw one sequence per latent, autoregressively; int64 tensor of shape (N, length).

        Each token is drawn by inverting the cumulative distribution of its softmax at one
        uniform number. All N x L uniforms are drawn first, then the sequences are generated in
        blocks of ``SAMPLE_BLOCK_ROWS`` rows (blocks keep the (rows, V) arrays in cache: two to
        three times faster than one (N, V) pass at N = 20,000); the result does not depend on
        the block size.

        Parameters
        ----------
        z : torch.Tensor
            Latents, shape (N, 2).
        length : int
            Tokens per sequence L >= 1.
        seed : int or torch.Generator
            Source of the uniforms.
        """
        scaled = self._check_latents(z)
        length = check_int("length", length, 1)
        uniforms = torch.rand(scaled.shape[0], length, generator=torch_generator(seed))
        blocks = zip(scaled.split(SAMPLE_BLOCK_ROWS), uniforms.split(SAMPLE_BLOCK_ROWS))
        return torch.cat([self._sample_block(block, block_uniforms) for block, block_uniforms in blocks])

    def _sample_block(self, scaled: torch.Tensor, uniforms: torch.Tensor) -> torch.Tensor:
        """Tokens (n, L) for scaled latents (n, 2), inverting each step's CDF at ``uniforms`` (n, L)."""
        previous, state, offset = self._start(scaled)
        columns = []
        for t in range(uniforms.shape[1]):
            logits, state = self._step(previous, scaled, state, offset)
            cumulative = torch.softmax(logits, dim=1).cumsum_(dim=1)
            target = uniforms[:, t : t + 1] * cumulative[:, -1:]
            # The clamp catches a product rounded up to the total (probability about 2**-24).
            previous = torch.searchsorted(cumulative, target, right=True).squeeze(1).clamp_(max=self.vocab_size - 1)
            columns.append(previous)
        return torch.stack(columns, dim=1)


@dataclass(frozen=True, eq=False)
class SyntheticSequences:
    """Synthetic sequences with their true latents (He et al. 2019).

    Attributes
    ----------
    tokens : torch.Tensor
        int64, shape (N, L), values in [0, vocab_size); every position is a real token.
    z : torch.Tensor
        float32, shape (N, 2): the latent each sequence was drawn from.
    component : torch.Tensor
        int64, shape (N,): the mixture component of ``z`` (index into ``MIXTURE_MEANS``).
    vocab_size, length : int
        V and L.
    model : LatentLSTM
        The generating language model: ``model.log_prob(tokens, z)`` is the true
        ``log p(x | z)`` in nats, and :func:`sample_sequences` draws more data from it.
    """

    tokens: torch.Tensor
    z: torch.Tensor
    component: torch.Tensor
    vocab_size: int
    length: int
    model: LatentLSTM

    def __len__(self) -> int:
        return self.tokens.shape[0]


def sample_latents(n: int, *, seed: int | torch.Generator = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Draw latents from the four-component mixture (equal weights, ``COMPONENT_STD``).

    Returns
    -------
    z : torch.Tensor
        float32, shape (n, 2).
    component : torch.Tensor
        int64, shape (n,), the component of each row (index into ``MIXTURE_MEANS``).
    """
    n = check_int("n", n, 1)
    generator = torch_generator(seed)
    means = torch.tensor(MIXTURE_MEANS)
    component = torch.randint(len(MIXTURE_MEANS), (n,), generator=generator)
    z = means[component] + COMPONENT_STD * torch.randn(n, LATENT_SIZE, generator=generator)
    return z, component


def sample_sequences(
    model: LatentLSTM, n: int, length: int, *, seed: int | torch.Generator = 0
) -> SyntheticSequences:
    """Draw ``n`` latents from the mixture and one sequence of ``length`` tokens for each.

    Use it with ``data.model`` of :func:`make_synthetic_sequences` for held-out data from the
    same distribution (with a different ``seed``).
    """
    if not isinstance(model, LatentLSTM):
        raise TypeError(f"model must be a LatentLSTM, got {type(model).__name__}")
    generator = torch_generator(seed)
    z, component = sample_latents(n, seed=generator)
    tokens = model.sample(z, length, seed=generator)
    return SyntheticSequences(tokens, z, component, model.vocab_size, tokens.shape[1], model)


def make_synthetic_sequences(
    n: int = 20_000,
    vocab_size: int = 1000,
    length: int = 10,
    *,
    z_scale: float = 1.0,
    embedding_size: int = 64,
    hidden_size: int = 64,
    seed: int | torch.Generator = 0,
) -> SyntheticSequences:
    """He et al. (2019)'s synthetic data: a random :class:`LatentLSTM` and ``n`` sequences from it.

    The defaults are the published sizes (20,000 sequences, 1,000 tokens, length 10). One
    generator seeded by ``seed`` draws the model's weights, then the latents, then the tokens.
    Sampling loops over the ``length`` time steps only and is vectorised over the sequences
    (:meth:`LatentLSTM.sample`): the published size takes about a second on two CPU cores.

    Parameters
    ----------
    n, vocab_size, length : int
        Number of sequences N, vocabulary size V and sequence length L.
    z_scale : float
        Strength of the dependence on ``z`` (see :class:`LatentLSTM`); 0 removes it.
    embedding_size, hidden_size : int
        Sizes of the random LSTM.
    seed : int or torch.Generator
        Seed of everything random here.
    """
    generator = torch_generator(seed)
    model = LatentLSTM(
        vocab_size, embedding_size=embedding_size, hidden_size=hidden_size, z_scale=z_scale, seed=generator
    )
    return sample_sequences(model, n, length, seed=generator)


def _encode_row(word: str, index: dict[str, int], width: int) -> list[int]:
    """Character ids of ``word``, the end id, then padding, ``width`` ids in all."""
    if len(word) >= width:
        raise ValueError(f"word must have at most {width - 1} characters, got {word!r} ({len(word)})")
    try:
        ids = [index[character] for character in word]
    except KeyError as error:
        raise ValueError(f"word {word!r} has character {error.args[0]!r} outside the vocabulary") from None
    return ids + [WordList.end_index] + [WordList.pad_index] * (width - len(word) - 1)


@dataclass(frozen=True, eq=False)
class WordList:
    """Words as padded rows of character ids.

    Row i of ``tokens`` holds the characters of ``words[i]``, then ``end_index``, then
    ``pad_index`` up to the width ``max_length + 1``.

    Attributes
    ----------
    tokens : torch.Tensor
        int64, shape (N, max_length + 1), values in [0, len(vocab)).
    lengths : torch.Tensor
        int64, shape (N,): non-pad tokens per row, i.e. characters + 1 for the end token.
    vocab : tuple of str
        Symbol of each id: ``vocab[0]`` is ``PAD_SYMBOL``, ``vocab[1]`` is ``END_SYMBOL``, then
        the characters in code-point order.
    words : tuple of str
        The words in row order.
    """

    pad_index: ClassVar[int] = 0
    end_index: ClassVar[int] = 1

    tokens: torch.Tensor
    lengths: torch.Tensor
    vocab: tuple[str, ...]
    words: tuple[str, ...]

    def __len__(self) -> int:
        return self.tokens.shape[0]

    @property
    def max_length(self) -> int:
        """Longest word that fits (characters); rows are one token wider."""
        return self.tokens.shape[1] - 1

    @functools.cached_property
    def _index(self) -> dict[str, int]:
        return {symbol: i for i, symbol in enumerate(self.vocab)}

    def encode(self, words: str | Sequence[str]) -> torch.Tensor:
        """Token rows of words: shape (max_length + 1,) for a str, (n, max_length + 1) for n words.

        Raises ``ValueError`` for a word longer than ``max_length`` or with a character outside
        the vocabulary.
        """
        width = self.tokens.shape[1]
        if isinstance(words, str):
            return torch.tensor(_encode_row(words, self._index, width), dtype=torch.int64)
        if not isinstance(words, Sequence) or not all(isinstance(word, str) for word in words):
            raise TypeError(f"words must be a str or a sequence of str, got {words!r:.80}")
        rows = [_encode_row(word, self._index, width) for word in words]
        return torch.tensor(rows, dtype=torch.int64).reshape(len(rows), width)

    def decode(self, tokens: torch.Tensor) -> str | list[str]:
        """Words of token rows: a str for shape (L,), a list of str for shape (n, L).

        Reading stops at the first end or pad token.
        """
        if not isinstance(tokens, torch.Tensor) or tokens.dtype != torch.int64 or tokens.ndim not in (1, 2):
            raise TypeError(f"tokens must be a 1-D or 2-D int64 torch.Tensor, got {tokens!r:.80}")
        if tokens.numel() and (tokens.min() < 0 or tokens.max() >= len(self.vocab)):
            raise ValueError(
                f"tokens must lie in [0, {len(self.vocab)}), got values in [{int(tokens.min())}, {int(tokens.max())}]"
            )
        if tokens.ndim == 2:
            return [self._decode_row(row) for row in tokens.tolist()]
        return self._decode_row(tokens.tolist())

    def _decode_row(self, row: list[int]) -> str:
        characters = []
        for token in row:
            if token in (self.pad_index, self.end_index):
                break
            characters.append(self.vocab[token])
        return "".join(characters)


def load_words(
    path: str | Path = DEFAULT_WORDS_PATH,
    *,
    max_length: int = 12,
    lowercase_ascii_only: bool = True,
    seed: int | torch.Generator = 0,
) -> WordList:
    """Read a word list (one word a line) into character-level token rows.

    Parameters
    ----------
    path : str or Path
        The word list; Debian's ``wamerican`` package installs ``/usr/share/dict/words``
        (version 2020.12.07: 104,334 lines, of which 60,678 are lowercase ASCII words of at most
        12 letters).
    max_length : int
        Longest word kept, in characters; longer words are dropped.
    lowercase_ascii_only : bool
        Keep only words made of the letters a-z (drops proper nouns, possessives, accents);
        when False every non-empty line is kept as it is.
    seed : int or torch.Generator
        Seed of the row order: the words are shuffled (the file is alphabetical).

    Raises
    ------
    FileNotFoundError
        When ``path`` does not exist.
    ValueError
        When no word passes the filters.
    """
    if not isinstance(path, (str, Path)):
        raise TypeError(f"path must be a str or pathlib.Path, got {path!r}")
    max_length = check_int("max_length", max_length, 1)
    if not isinstance(lowercase_ascii_only, bool):
        raise TypeError(f"lowercase_ascii_only must be a bool, got {lowercase_ascii_only!r}")
    generator = torch_generator(seed)
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"no word list at {str(path)!r}; on Debian or Ubuntu install it with "
            "'apt-get install wamerican', or pass path= to another file with one word a line"
        )
    lines = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    pattern = re.compile(r"[a-z]+" if lowercase_ascii_only else r".+")
    kept = [word for word in lines if len(word) <= max_length and pattern.fullmatch(word)]
    if not kept:
        raise ValueError(
            f"no word in {str(path)!r} has at most max_length={max_length} characters"
            + (" and only the letters a-z" if lowercase_ascii_only else "")
        )
    words = tuple(kept[i] for i in torch.randperm(len(kept), generator=generator).tolist())
    vocab = (PAD_SYMBOL, END_SYMBOL, *sorted(set("".join(words))))
    index = {symbol: i for i, symbol in enumerate(vocab)}
    tokens = torch.tensor([_encode_row(word, index, max_length + 1) for word in words], dtype=torch.int64)
    lengths = torch.tensor([len(word) + 1 for word in words], dtype=torch.int64)
    return WordList(tokens, lengths, vocab, words)
