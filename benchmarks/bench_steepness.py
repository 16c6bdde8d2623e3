"""Time the exact steepness (full Jacobian) against the power-iteration estimator.

Generators: a DCGAN-size one (latent 100, output 3 x 64 x 64) and a small MLP
(latent = output = 64).  Printed: seconds per call, the ratio exact / fast, and
the largest relative difference.  ``fast cold`` runs power iteration to a
relative tolerance from random vectors; ``fast warm`` is what the training
monitor does each iteration (at most 2 steps, warm-started from the previous
call on the same latents).

    .venv/bin/python benchmarks/bench_steepness.py [--repeats 3]
"""
import argparse
import time

import torch
from torch import nn

from ganphase.simulate.device import resolve_device
from ganphase.simulate.models import ModelConfig, build_models
from ganphase.simulate.steepness import PowerSteepness, steepness_exact


def sync():
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def timed(fn, repeats):
    fn()
    best = float("inf")
    for _ in range(repeats):
        sync()
        t = time.perf_counter()
        out = fn()
        sync()
        best = min(best, time.perf_counter() - t)
    return best, out


def case(name, G, k, batch, repeats, device):
    torch.manual_seed(0)
    G = G.to(device)
    z = torch.randn(batch, k, device=device)
    t_exact, exact = timed(lambda: steepness_exact(G, z), repeats)
    cold = PowerSteepness(tol=1e-3, max_iter=500)
    t_cold, fast = timed(lambda: (cold.reset(), cold(G, z))[1], repeats)
    iters = cold.last_iterations
    warm = PowerSteepness(tol=1e-2, max_iter=2)
    for _ in range(30):                       # as in training: many warm-started calls
        warm(G, z)
    t_warm, w = timed(lambda: warm(G, z), repeats)
    err = lambda s: float(((s - exact).abs() / exact).max())  # noqa: E731
    print(f"{name:<28} batch {batch:>3}: exact {t_exact:8.4f} s | fast cold {t_cold:8.4f} s ({iters} it, "
          f"err {err(fast):.1e}) | fast warm {t_warm:8.4f} s (err {err(w):.1e}) | "
          f"exact/cold {t_exact / t_cold:6.2f} x | exact/warm {t_exact / t_warm:7.1f} x")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--device", default="cpu", help="cpu | cuda | auto (default cpu)")
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1: stable timings on a shared CPU)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    G, _ = build_models(ModelConfig(kind="dcgan", data_shape=(3, 64, 64), latent_dim=100))
    device = resolve_device(args.device)
    case("DCGAN 100 -> 3x64x64", G, 100, 4, args.repeats, device)
    mlp = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 128), nn.ReLU(), nn.Linear(128, 64))
    case("MLP 64 -> 64", mlp, 64, 64, args.repeats, device)
    print(f"device {device}, torch {torch.__version__}, {torch.get_num_threads()} CPU threads")


if __name__ == "__main__":
    main()
