"""``make demo``: train seed 003's MLP VAE on the bundled digits with a cosine-annealed KL.

Prints one row per epoch: training loss and its terms (nats per image), the KL weight, and the
held-out ELBO. Runs offline in well under a minute on a laptop CPU.

Run: python -m vaelib.demo [--epochs 30] [--seed 0]
"""
from __future__ import annotations

import argparse

import pandas as pd
import torch

from vaelib import Annealer, MLPVAE, VAELoss, fit
from vaelib.data.images import load_images


def main(argv: list[str] | None = None) -> pd.DataFrame:
    parser = argparse.ArgumentParser(description="Train a small VAE with an annealed KL on the digits.")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    train = load_images("digits", split="train", seed=args.seed)
    test = load_images("digits", split="test", seed=args.seed)
    torch.manual_seed(args.seed)  # model initialisation; fit seeds the training noise itself
    model = MLPVAE(train.image_shape, hidden_sizes=(512, 512, 512), latent_dim=2, device="cpu")
    steps_per_epoch = -(-len(train) // 128)
    annealer = Annealer(10 * steps_per_epoch, shape="cosine")  # KL weight 0 -> 1 over 10 epochs
    print(f"MLPVAE 3x512, 2-D latent, on digits: {len(train)} train / {len(test)} test images of "
          f"{'x'.join(map(str, train.image_shape))}; cosine KL annealing over 10 epochs")
    history = fit(model, train.x, VAELoss(), epochs=args.epochs, annealer=annealer, eval_data=test.x,
                  progress=False, seed=args.seed)
    table = history[["epoch", "loss", "recon", "kl", "weight", "eval_elbo", "time"]]
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}",
                          formatters={"epoch": "{:.0f}".format, "time": "{:.1f}s".format}))
    return history


if __name__ == "__main__":
    main()
