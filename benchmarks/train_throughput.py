"""Training steps against the machine's limit, and ``fit`` against a pytorch/examples-style loop.

For each model family of the notebooks — seed 003's 3 x 512 MLP on the 8 x 8 digits (batch 128), the
ConvVAE at 32 x 32 and 64 x 64 on dSprites (batch 64), the LSTM VAE of notebooks 02/03 (batch 64)
— it prints, measured in this run:

* the FLOPs of one training step's forward and backward pass, counted by
  ``torch.utils.flop_counter.FlopCounterMode`` (matrix products and convolutions, the LSTM's
  included; Adam's element-wise update is not counted);
* the machine's fp32 peak, a 1024 x 1024 x 1024 matmul, at the same thread count;
* ``fit``'s steps per second and achieved GFLOP/s, as a share of that peak;
* the same training written the way pytorch/examples writes it, with torch's defaults: a
  ``DataLoader(TensorDataset, shuffle=True)``, ``torch.optim.Adam`` without options, the model
  in torch's default memory layout (for the ConvVAE: the same layers as ``vaelib.ConvVAE``, in a
  plain ``nn.Module``, with the same weights), at torch's default thread count; and fit's
  speed-up over it.

Each variant runs ``--steps`` steps after a warm-up, best of ``--rounds`` interleaved rounds. With
``--profile``, it also prints where one thread's ``fit`` step spends its time (``torch.profiler``,
the operators with the most self CPU time, as shares of the step): what bounds each family. Run it
on an idle machine: ``.venv/bin/python benchmarks/train_throughput.py [--rounds 3] [--steps 40] [--profile]``.
"""
from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset
from torch.utils.flop_counter import FlopCounterMode

from vaelib import BetaVAELoss, ConvVAE, DSprites, LSTMVAE, MLPVAE, VAELoss, fit, load_images
from vaelib.data.sequences import make_synthetic_sequences
from vaelib.threads import cpu_count

DEFAULT_THREADS = torch.get_num_threads()


def matmul_peak(threads: int, n: int = 1024, repeats: int = 10) -> float:
    """Best fp32 GFLOP/s of an n x n x n matmul on ``threads`` threads."""
    torch.set_num_threads(threads)
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - start)
    return 2 * n**3 / best / 1e9


class ExamplesConvVAE(nn.Module):
    """``vaelib.ConvVAE``'s layers as a plain module (torch's default layout and initialisation)."""

    def __init__(self, reference: ConvVAE) -> None:
        super().__init__()
        self.encoder = nn.Sequential(*[layer for layer in reference.encoder])
        self.decoder = nn.Sequential(*[layer for layer in reference.decoder])
        self.load_state_dict({k: v.contiguous() for k, v in reference.state_dict().items()})
        self.to(memory_format=torch.contiguous_format)
        self.latent_dim = reference.latent_dim

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        mu, logvar = self.encoder(x).chunk(2, dim=-1)
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
        return self.decoder(z), mu, logvar


def families() -> dict[str, tuple[Callable[[], nn.Module], torch.Tensor, VAELoss, int]]:
    """name -> (model factory, training data, objective, batch size)."""
    digits = load_images("digits", split="train").x
    _, sprites32 = DSprites(32).sample(4096, random_state=0)
    _, sprites64 = DSprites(64).sample(2048, random_state=0)
    tokens = make_synthetic_sequences(4000, 200, 10, seed=0).tokens

    def seeded(make: Callable[[], nn.Module]) -> Callable[[], nn.Module]:
        def factory() -> nn.Module:
            torch.manual_seed(0)
            return make()
        return factory

    return {
        "MLP 3x512, digits 8x8, batch 128": (seeded(lambda: MLPVAE((1, 8, 8), device="cpu")), digits, VAELoss(), 128),
        "ConvVAE 32x32, batch 64": (seeded(lambda: ConvVAE(32, output_logits=True, device="cpu")), sprites32,
                                    BetaVAELoss(4.0, logits=True), 64),
        "ConvVAE 64x64, batch 64": (seeded(lambda: ConvVAE(64, output_logits=True, device="cpu")), sprites64,
                                    BetaVAELoss(4.0, logits=True), 64),
        "LSTMVAE V=200 L=10 (32/64), batch 64": (seeded(lambda: LSTMVAE(200, 32, 64, 2, device="cpu")), tokens,
                                                 VAELoss("categorical"), 64),
    }


def step_flops(model: nn.Module, data: torch.Tensor, objective: VAELoss, batch: int) -> int:
    """Counted with oneDNN off, so that the LSTM runs as matrix products the counter sees (its
    fused oneDNN kernel computes the same products, uncounted)."""
    counter = FlopCounterMode(display=False)
    x0 = data[:batch]
    with counter, torch.backends.mkldnn.flags(enabled=False):
        x, mu, logvar = model(x0)
        recon, kld = objective(x, x0, mu, logvar)
        objective.total(recon, kld).backward()
    model.zero_grad(set_to_none=True)
    return counter.get_total_flops()


def time_fit(model: nn.Module, data: torch.Tensor, objective: VAELoss, batch: int, steps: int) -> float:
    fit(model, data, objective, steps=5, batch_size=batch, progress=False, log_every=10**9)  # warm-up
    start = time.perf_counter()
    fit(model, data, objective, steps=steps, batch_size=batch, progress=False, log_every=10**9)
    return (time.perf_counter() - start) / steps


def time_examples(model: nn.Module, data: torch.Tensor, objective: VAELoss, batch: int, steps: int) -> float:
    """The pytorch/examples loop: DataLoader, default Adam, model(x), loss, backward, step."""
    if isinstance(model, ConvVAE):
        model = ExamplesConvVAE(model)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loader = DataLoader(TensorDataset(data), batch_size=batch, shuffle=True)
    model.train()

    def run(n: int) -> None:
        done = 0
        while done < n:
            for (x0,) in loader:
                optimizer.zero_grad()
                x, mu, logvar = model(x0)
                recon, kld = objective(x, x0, mu, logvar)
                objective.total(recon, kld).backward()
                optimizer.step()
                done += 1
                if done == n:
                    return

    run(5)
    start = time.perf_counter()
    run(steps)
    return (time.perf_counter() - start) / steps


def profile_fit(model: nn.Module, data: torch.Tensor, objective: VAELoss, batch: int, steps: int, top: int = 8) -> None:
    """Print the operators with the most self CPU time over ``steps`` steps of ``fit`` on one thread."""
    from torch.profiler import ProfilerActivity, profile

    torch.set_num_threads(1)
    fit(model, data, objective, steps=5, batch_size=batch, progress=False, log_every=10**9)  # warm-up
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        fit(model, data, objective, steps=steps, batch_size=batch, progress=False, log_every=10**9)
    events = sorted(prof.key_averages(), key=lambda event: event.self_cpu_time_total, reverse=True)
    total = sum(event.self_cpu_time_total for event in events)
    print(f"  profile, 1 thread, {steps} steps of fit ({total / 1e3 / steps:.1f} ms per step under the profiler):")
    for event in events[:top]:
        print(f"    {event.key:<44}{100 * event.self_cpu_time_total / total:>6.1f}%  "
              f"{event.self_cpu_time_total / 1e3 / steps:>7.2f} ms/step  {event.count // steps:>4} calls/step")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--profile", action="store_true", help="also print each family's top operators")
    args = parser.parse_args()
    thread_counts = sorted({1, DEFAULT_THREADS})
    peaks = {t: matmul_peak(t) for t in thread_counts}
    print(f"{cpu_count()} cores; torch's default threads: {DEFAULT_THREADS}; best of {args.rounds} rounds of "
          f"{args.steps} steps; matmul 1024^3 peak: " + ", ".join(f"{peaks[t]:.1f} GFLOP/s on {t}" for t in thread_counts))
    for name, (factory, data, objective, batch) in families().items():
        flops = step_flops(factory(), data, objective, batch)
        best: dict[tuple[str, int], float] = {}
        for _ in range(args.rounds):
            for threads in thread_counts:
                torch.set_num_threads(threads)
                for label, timer in (("fit", time_fit), ("examples", time_examples)):
                    seconds = timer(factory(), data, objective, batch, args.steps)
                    best[label, threads] = min(best.get((label, threads), float("inf")), seconds)
        print(f"\n{name}: {flops / 1e9:.3f} GFLOP per step (forward + backward, counted)")
        print(f"  {'loop':<34}{'threads':>8}{'ms/step':>10}{'GFLOP/s':>10}{'% of peak':>11}")
        for (label, threads), seconds in sorted(best.items(), key=lambda item: (item[0][1], item[0][0])):
            rate = flops / seconds / 1e9
            title = "vaelib.fit" if label == "fit" else "pytorch/examples loop"
            print(f"  {title:<34}{threads:>8}{seconds * 1e3:>10.2f}{rate:>10.1f}{100 * rate / peaks[threads]:>10.0f}%")
        for threads in thread_counts:
            print(f"  fit / examples at {threads} thread(s): {best['examples', threads] / best['fit', threads]:.2f}x")
        print(f"  fit at 1 thread / examples at torch's default {DEFAULT_THREADS}: "
              f"{best['examples', DEFAULT_THREADS] / best['fit', 1]:.2f}x")
        if args.profile:
            profile_fit(factory(), data, objective, batch, args.steps)
    torch.set_num_threads(DEFAULT_THREADS)


if __name__ == "__main__":
    main()
