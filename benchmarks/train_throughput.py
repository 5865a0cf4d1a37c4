"""Training throughput of ``fit`` against a bare hand-written loop and a torch DataLoader loop.

All three train the same MLP VAE on scikit-learn's digits (1,437 training images of 8 x 8) with
Adam, batch 128, VAELoss and a cosine Annealer, for two model sizes: seed 003's 3 x 512 (compute
bound: a step costs ~10 ms, so the loop around it hardly matters) and a small 2 x 64 (data
handling is a large share of each step). The variants are run interleaved, several rounds, and
the best round of each is compared, so a noisy machine affects them alike.

Run: .venv/bin/python benchmarks/train_throughput.py [--rounds 5] [--epochs 20]
"""
from __future__ import annotations

import argparse
import time

import torch
from torch.utils.data import DataLoader, TensorDataset

from vaelib import Annealer, MLPVAE, VAELoss, fit, load_images

BATCH = 128


HIDDEN = {"seed 003 (3 x 512)": (512, 512, 512), "small (2 x 64)": (64, 64)}
hidden_sizes = HIDDEN["seed 003 (3 x 512)"]


def make(seed: int = 0):
    torch.manual_seed(seed)
    model = MLPVAE((1, 8, 8), hidden_sizes=hidden_sizes, device="cpu")
    return model, torch.optim.Adam(model.parameters(), lr=1e-3), VAELoss()


def step(model, optimizer, criterion, annealer, x0):
    x, mu, logvar = model(x0)
    recon, kld = criterion(x, x0, mu, logvar)
    loss = recon + annealer(kld)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    annealer.step()


def bare_loop(data: torch.Tensor, epochs: int) -> None:
    model, optimizer, criterion = make()
    annealer = Annealer(epochs * ((len(data) + BATCH - 1) // BATCH), "cosine")
    generator = torch.Generator().manual_seed(0)
    for _ in range(epochs):
        order = torch.randperm(len(data), generator=generator)
        for start in range(0, len(data), BATCH):
            step(model, optimizer, criterion, annealer, data[order[start : start + BATCH]])


def dataloader_loop(data: torch.Tensor, epochs: int) -> None:
    model, optimizer, criterion = make()
    annealer = Annealer(epochs * ((len(data) + BATCH - 1) // BATCH), "cosine")
    loader = DataLoader(TensorDataset(data), batch_size=BATCH, shuffle=True,
                        generator=torch.Generator().manual_seed(0))
    for _ in range(epochs):
        for (x0,) in loader:
            step(model, optimizer, criterion, annealer, x0)


def fit_loop(data: torch.Tensor, epochs: int) -> None:
    model, optimizer, criterion = make()
    annealer = Annealer(epochs * ((len(data) + BATCH - 1) // BATCH), "cosine")
    fit(model, data, criterion, epochs=epochs, batch_size=BATCH, annealer=annealer,
        optimizer=optimizer, progress=False)


def compare(data: torch.Tensor, rounds: int, epochs: int) -> dict[str, float]:
    """Best-of-``rounds`` samples/s of each loop, run interleaved."""
    variants = {"bare tensor-slicing loop (baseline)": bare_loop,
                "DataLoader(TensorDataset, shuffle=True)": dataloader_loop,
                "vaelib.fit": fit_loop}
    fit_loop(data, 1)  # warm-up: first-use imports and allocator
    best = dict.fromkeys(variants, float("inf"))
    for _ in range(rounds):
        for name, run in variants.items():
            start = time.perf_counter()
            run(data, epochs)
            best[name] = min(best[name], time.perf_counter() - start)
    return {name: epochs * len(data) / seconds for name, seconds in best.items()}


def main() -> None:
    global hidden_sizes
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=10)
    args = parser.parse_args()
    data = load_images("digits", split="train").x
    print(f"MLPVAE on digits ({len(data)} images, batch {BATCH}, {args.epochs} epochs, "
          f"best of {args.rounds} interleaved rounds, {torch.get_num_threads()} threads)")
    for label, hidden_sizes in HIDDEN.items():
        rate = compare(data, args.rounds, args.epochs)
        base = rate["bare tensor-slicing loop (baseline)"]
        loader = rate["DataLoader(TensorDataset, shuffle=True)"]
        print(f"\n{label}\n{'loop':<42}{'samples/s':>12}{'× bare':>9}")
        for name, value in rate.items():
            print(f"{name:<42}{value:>12,.0f}{value / base:>9.3f}")
        print(f"fit / bare = {rate['vaelib.fit'] / base:.3f} (target >= 0.97); "
              f"fit / DataLoader = {rate['vaelib.fit'] / loader:.2f} (target >= 1.3)")


if __name__ == "__main__":
    main()
