"""LSTM VAE for token sequences with an autoregressive decoder (Bowman et al. 2016).

The encoder reads the tokens with an LSTM and maps its final hidden state to (mu, logvar).
The decoder is an LSTM language model conditioned on z in two ways: z sets its initial state
(through a linear map to h0 and c0) and is concatenated to the input of every step, as in the
text VAEs of Bowman et al. 2016 ("Generating Sentences from a Continuous Space") and
He et al. 2019 ("Lagging Inference Networks and Posterior Collapse in VAEs"). Word dropout
(Bowman et al. 2016, Sec. 3.2) weakens the decoder during training so that it relies on z.
"""
from __future__ import annotations

import numbers

import torch
from torch import nn

from vaelib.device import resolve_device
from vaelib.models.base import VAE, check_generator, positive_int


class LSTMVAE(VAE):
    """VAE over integer token sequences with an LSTM encoder and an autoregressive LSTM decoder.

    The decoder's input at step 0 is a learned start vector (the data carry no BOS token);
    at step t >= 1 it is the embedding of token t - 1 (teacher forcing), so the logits at
    position t predict token t from tokens < t and z. Every step's input is concatenated with z.

    Parameters
    ----------
    vocab_size : int
        Number of token ids V; tokens lie in [0, V).
    embed_dim : int
        Token embedding width (encoder and decoder have their own embeddings).
    hidden_dim : int
        LSTM hidden and cell state width (single-layer LSTMs).
    latent_dim : int
        Latent dimension D (2 for the synthetic data of He et al. 2019, 32 for their text).
    word_dropout : float
        Probability in [0, 1] that a previous-token input is replaced by a zero embedding
        (Bowman et al. 2016's UNK replacement), independently per position; training mode only.
    pad_index : int, optional
        Padding token id. When set, the encoder summarises each sequence by its hidden state at
        its last non-pad position; a loss can ignore the padded targets with this id.
    device : str or torch.device
        ``"auto"`` (CUDA when available, else CPU), ``"cpu"``, ``"cuda"``, ...
    n_samples : int
        Latent draws per input in :meth:`forward`.

    Notes
    -----
    :meth:`forward` returns logits of shape (B, L, V) (or (S, B, L, V) for ``n_samples`` S > 1)
    for a categorical likelihood with the input tokens (B, L) as targets. Word dropout draws
    from torch's global RNG, like :class:`torch.nn.Dropout`.
    """

    def __init__(
        self,
        vocab_size: int,
        embed_dim: int = 64,
        hidden_dim: int = 128,
        latent_dim: int = 2,
        word_dropout: float = 0.0,
        pad_index: int | None = None,
        device: str | torch.device = "auto",
        *,
        n_samples: int = 1,
    ) -> None:
        super().__init__(latent_dim, n_samples)
        self.vocab_size = positive_int("vocab_size", vocab_size)
        self.embed_dim = positive_int("embed_dim", embed_dim)
        self.hidden_dim = positive_int("hidden_dim", hidden_dim)
        if isinstance(word_dropout, bool) or not isinstance(word_dropout, numbers.Real) or not 0 <= word_dropout <= 1:
            raise ValueError(f"word_dropout must be a probability in [0, 1], got {word_dropout!r}")
        self.word_dropout = float(word_dropout)
        if pad_index is not None:
            if isinstance(pad_index, bool) or not isinstance(pad_index, numbers.Integral):
                raise TypeError(f"pad_index must be an int or None, got {pad_index!r}")
            if not 0 <= pad_index < self.vocab_size:
                raise ValueError(f"pad_index must lie in [0, {self.vocab_size}), got {pad_index!r}")
            pad_index = int(pad_index)
        self.pad_index = pad_index

        self.encoder_embedding = nn.Embedding(self.vocab_size, self.embed_dim)
        self.encoder_lstm = nn.LSTM(self.embed_dim, self.hidden_dim, batch_first=True)
        self.encoder_head = nn.Linear(self.hidden_dim, 2 * self.latent_dim)
        self.decoder_embedding = nn.Embedding(self.vocab_size, self.embed_dim)
        self.start = nn.Parameter(torch.randn(self.embed_dim))
        self.decoder_init = nn.Linear(self.latent_dim, 2 * self.hidden_dim)
        self.decoder_lstm = nn.LSTM(self.embed_dim + self.latent_dim, self.hidden_dim, batch_first=True)
        self.decoder_head = nn.Linear(self.hidden_dim, self.vocab_size)
        self.to(resolve_device(device))

    def check_tokens(self, tokens: object) -> torch.Tensor:
        """Return ``tokens`` as int64 if it is a (B, L) integer tensor with ids in [0, vocab_size)."""
        if not isinstance(tokens, torch.Tensor):
            raise TypeError(f"tokens must be a torch.Tensor, got {type(tokens).__name__}")
        if tokens.is_floating_point() or tokens.is_complex() or tokens.dtype == torch.bool:
            raise TypeError(f"tokens must be an integer tensor, got dtype {tokens.dtype}")
        if tokens.dim() != 2 or tokens.numel() == 0:
            raise ValueError(f"tokens must have shape (B, L) with B, L >= 1, got {tuple(tokens.shape)}")
        low, high = int(tokens.min()), int(tokens.max())
        if low < 0 or high >= self.vocab_size:
            raise ValueError(f"tokens must lie in [0, {self.vocab_size}), got values in [{low}, {high}]")
        return tokens.long()

    def _last_positions(self, tokens: torch.Tensor) -> torch.Tensor:
        """Index of each row's last non-pad token (the last position without ``pad_index``), shape (B,)."""
        batch, length = tokens.shape
        if self.pad_index is None:
            return torch.full((batch,), length - 1, device=tokens.device)
        positions = torch.arange(length, device=tokens.device).expand(batch, length)
        last = torch.where(tokens != self.pad_index, positions, -1).amax(dim=1)
        empty = torch.nonzero(last < 0).flatten()
        if len(empty):
            raise ValueError(f"tokens rows {empty.tolist()} are all padding (pad_index={self.pad_index})")
        return last

    def encode(self, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return ``(mu, logvar)``, each (B, latent_dim), for token ids of shape (B, L)."""
        tokens = self.check_tokens(tokens)
        states, _ = self.encoder_lstm(self.encoder_embedding(tokens))  # (B, L, hidden_dim)
        final = states[torch.arange(len(tokens), device=tokens.device), self._last_positions(tokens)]
        mu, logvar = self.encoder_head(final).chunk(2, dim=-1)
        return mu, logvar

    def _initial_state(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Decoder LSTM state (h0, c0), each (1, N, hidden_dim), from codes z of shape (N, latent_dim)."""
        h0, c0 = self.decoder_init(z).chunk(2, dim=-1)
        return h0.unsqueeze(0).contiguous(), c0.unsqueeze(0).contiguous()

    def _with_latent(self, inputs: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """Concatenate codes z (N, latent_dim) to each step of inputs (N, L, embed_dim)."""
        return torch.cat([inputs, z.unsqueeze(1).expand(-1, inputs.shape[1], -1)], dim=-1)

    def decode(self, z: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        """Teacher-forced next-token logits.

        Parameters
        ----------
        z : torch.Tensor
            Codes of shape (..., B, latent_dim), e.g. (B, D) or (S, B, D).
        tokens : torch.Tensor
            Token ids (B, L); position t's logits condition on tokens < t (and on z).

        Returns
        -------
        torch.Tensor
            Logits (unnormalised log-probabilities, nats) of shape (..., B, L, vocab_size).
        """
        tokens = self.check_tokens(tokens)
        z = self.check_latent(z)
        batch, length = tokens.shape
        if z.dim() < 2 or z.shape[-2] != batch:
            raise ValueError(
                f"z must have shape (..., {batch}, {self.latent_dim}) to match tokens of shape "
                f"{tuple(tokens.shape)}, got {tuple(z.shape)}"
            )
        flat_z = z.reshape(-1, self.latent_dim)  # row s * B + b holds z[s, b]
        flat_tokens = tokens.repeat(len(flat_z) // batch, 1)
        previous = self.decoder_embedding(flat_tokens[:, :-1])  # (N, L - 1, embed_dim)
        if self.training and self.word_dropout > 0:
            keep = torch.rand(previous.shape[:-1], device=previous.device) >= self.word_dropout
            previous = previous * keep.unsqueeze(-1).to(previous.dtype)
        start = self.start.expand(len(flat_z), 1, self.embed_dim)
        inputs = self._with_latent(torch.cat([start, previous], dim=1), flat_z)
        states, _ = self.decoder_lstm(inputs, self._initial_state(flat_z))
        return self.decoder_head(states).reshape(*z.shape[:-1], length, self.vocab_size)

    def _reconstruct(self, z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return self.decode(z, x)

    @torch.no_grad()
    def generate(
        self,
        z: torch.Tensor,
        length: int,
        greedy: bool = True,
        generator: torch.Generator | None = None,
        temperature: float = 1.0,
    ) -> torch.Tensor:
        """Decode token sequences from codes, feeding each chosen token back in (no gradient).

        Parameters
        ----------
        z : torch.Tensor
            Codes of shape (..., latent_dim).
        length : int
            Number of tokens L to emit.
        greedy : bool
            Take the most probable token at each step; otherwise sample from
            softmax(logits / temperature).
        generator : torch.Generator, optional
            Source of randomness for sampled decoding (torch's global RNG when ``None``).
        temperature : float
            Positive softmax temperature for sampled decoding.

        Returns
        -------
        torch.Tensor
            int64 token ids of shape (..., length).
        """
        z = self.check_latent(z)
        length = positive_int("length", length)
        if not isinstance(greedy, bool):
            raise TypeError(f"greedy must be a bool, got {greedy!r}")
        check_generator(generator)
        if isinstance(temperature, bool) or not isinstance(temperature, numbers.Real) or not 0 < temperature < float("inf"):
            raise ValueError(f"temperature must be a positive finite number, got {temperature!r}")
        flat_z = z.reshape(-1, self.latent_dim)
        state = self._initial_state(flat_z)
        step_input = self.start.expand(len(flat_z), 1, self.embed_dim)
        tokens = torch.empty(len(flat_z), length, dtype=torch.long, device=z.device)
        for t in range(length):
            output, state = self.decoder_lstm(self._with_latent(step_input, flat_z), state)
            logits = self.decoder_head(output[:, 0])  # (N, vocab_size)
            tokens[:, t] = logits.argmax(dim=-1) if greedy else self._draw(logits / temperature, generator)
            step_input = self.decoder_embedding(tokens[:, t : t + 1])
        return tokens.reshape(*z.shape[:-1], length)

    @staticmethod
    def _draw(logits: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        """One categorical draw per row of logits (N, V), on the generator's device when given; shape (N,)."""
        probs = torch.softmax(logits.float(), dim=-1)
        if generator is not None:
            probs = probs.to(generator.device)
        return torch.multinomial(probs, 1, generator=generator).squeeze(1).to(logits.device)

    @torch.no_grad()
    def sample(
        self,
        n: int,
        generator: torch.Generator | None = None,
        *,
        length: int,
        greedy: bool = False,
        temperature: float = 1.0,
    ) -> torch.Tensor:
        """Generate ``n`` sequences of ``length`` tokens from codes drawn from the prior N(0, I).

        Decoding samples each token (ancestral sampling from p(x) = E_p(z) p(x|z)) unless
        ``greedy``. Returns int64 ids of shape (n, length) on :attr:`device`.
        """
        z = self.sample_prior(n, generator)
        return self.generate(z, length, greedy=greedy, generator=generator, temperature=temperature)
