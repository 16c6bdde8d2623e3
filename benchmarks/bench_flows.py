"""Particle-steps per second of Algorithm 1's field: the toolkit's torch flows against plain NumPy.

Exact field: p_data an 8-mode Gaussian mixture, p_g one Gaussian (fixed), 10^6 particles in n = 2 and
n = 64.  KDE field: p_g the Gaussian KDE of 10^4 and 10^5 particles (interacting), n = 2.  Each
reference is a straightforward NumPy implementation of the same step (scipy logsumexp over
components / kernel centres, blocks of rows so that it fits in memory), run in the same process on
the same particles; the largest difference between the two steps is printed.  At full size the NumPy
step is timed on the first --numpy-rows particles only (each still against all 8 modes / all kernel
centres), and its rate is rows per second: a particle's update costs the same whichever rows are timed.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_flows.py [--quick] [--device cpu|cuda|auto] [--dtype float64]
"""
import argparse
import time

import numpy as np
import torch
from scipy import special

from ganphase.simulate.device import resolve_device, resolve_dtype
from ganphase.simulate.fields import to_torch_density
from ganphase.simulate.flows import BLOCK, GPU_BLOCK, _field_at, bandwidth_rule
from ganphase.simulate.mixtures import GaussianMixture

STEP = 0.01


def numpy_mixture_stats(mix, x):
    """log p and score of a Gaussian mixture, straight from the definition."""
    z = (x[:, None, :] - mix.means[None]) / mix.sigmas[None]
    lp = np.log(mix.weights) - 0.5 * mix.dim * np.log(2 * np.pi) - np.log(mix.sigmas).sum(1) - 0.5 * (z ** 2).sum(2)
    log_p = special.logsumexp(lp, axis=1)
    resp = np.exp(lp - log_p[:, None])
    return log_p, np.einsum("mk,mkn->mn", resp, (mix.means[None] - x[:, None, :]) / mix.sigmas[None] ** 2)


def numpy_kde_stats(centres, h, x):
    d2 = ((x[:, None, :] - centres[None]) ** 2).sum(2)
    logits = -d2 / (2 * h * h)
    log_p = special.logsumexp(logits, axis=1) - np.log(len(centres)) - 0.5 * x.shape[1] * np.log(2 * np.pi * h * h)
    w = special.softmax(logits, axis=1)
    return log_p, (w @ centres - x) / h ** 2


def numpy_step(x, p_data, p_g, rows, first):
    """One step x + s (1 - d*)(score_data - score_g), d* = sigmoid(log p_data - log p_g), in row blocks.

    Only the first ``first`` particles are moved (the KDE still uses all particles as centres).
    """
    out = np.empty_like(x[:first])
    h = None if p_g != "kde" else bandwidth_rule(torch.as_tensor(x), "scott")
    for i in range(0, first, rows):
        xi = x[i:min(i + rows, first)]
        lp_d, s_d = numpy_mixture_stats(p_data, xi)
        lp_g, s_g = numpy_kde_stats(x, h, xi) if h is not None else numpy_mixture_stats(p_g, xi)
        out[i:i + len(xi)] = xi + STEP * special.expit(lp_g - lp_d)[:, None] * (s_d - s_g)
    return out


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def best_time(fn, repeats, device):
    fn()
    best = float("inf")
    for _ in range(repeats):
        sync(device)
        t = time.perf_counter()
        out = fn()
        sync(device)
        best = min(best, time.perf_counter() - t)
    return best, out


def mixtures(n, rng):
    p_data = GaussianMixture(rng.normal(0, 3, (8, n)), 0.5)
    p_g = GaussianMixture(np.zeros((1, n)), 2.0)
    return p_data, p_g


def bench(label, m, n, kde, device, dtype, repeats, rng, numpy_rows):
    p_data, p_g = mixtures(n, rng)
    x = p_g.sample(m, rng)
    td = to_torch_density(p_data, device, dtype)
    tg = "kde" if kde else to_torch_density(p_g, device, dtype)
    xt = torch.as_tensor(x, device=device, dtype=resolve_dtype(dtype))
    block = GPU_BLOCK if device.type == "cuda" else BLOCK
    t_torch, new = best_time(lambda: xt + STEP * _field_at(xt, td, tg, "scott", block), repeats, device)
    rows = max(1, 2**22 // (m if kde else 9 * n))
    first = min(m, numpy_rows or m)
    t_np, ref = best_time(lambda: numpy_step(x, p_data, "kde" if kde else p_g, rows, first), max(1, repeats // 2),
                          torch.device("cpu"))
    err = float(np.max(np.abs(new[:first].cpu().double().numpy() - ref)))
    print(f"| {label:<22} | {m:>9,} | {n:>3} | {m / t_torch:22,.0f} | {first / t_np:22,.0f} | "
          f"{(m / t_torch) / (first / t_np):7.2f} | {err:.1e} |",
          flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes that run in a minute or two on 2 cores")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--dtype", default="float64")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--numpy-rows", type=int, default=None,
                    help="time the NumPy step on this many particles (default: all with --quick, else 10^5 / 2000)")
    ap.add_argument("--exact-particles", type=int, nargs=2, default=None, help="override the two exact-field sizes")
    ap.add_argument("--kde-particles", type=int, nargs=2, default=None, help="override the two KDE sizes")
    args = ap.parse_args()
    device = resolve_device(args.device)
    rng = np.random.default_rng(0)
    exact = [10**4, 10**4] if args.quick else [10**6, 10**6]
    kde = [2 * 10**3, 5 * 10**3] if args.quick else [10**4, 10**5]
    exact, kde = args.exact_particles or exact, args.kde_particles or kde
    print(f"device {device}, dtype {args.dtype}, torch threads {torch.get_num_threads()}")
    print("| field                  | particles |   n | torch particle-steps/s | NumPy particle-steps/s | ratio   | max diff |")
    print("|------------------------|-----------|-----|------------------------|------------------------|---------|----------|")
    rows_exact = args.numpy_rows or (None if args.quick else 10**5)
    rows_kde = args.numpy_rows or (None if args.quick else 2000)
    bench("exact, 8 modes", exact[0], 2, False, device, args.dtype, args.repeats, rng, rows_exact)
    bench("exact, 8 modes", exact[1], 64, False, device, args.dtype, args.repeats, rng, rows_exact)
    bench("KDE of the particles", kde[0], 2, True, device, args.dtype, args.repeats, rng, rows_kde)
    bench("KDE of the particles", kde[1], 2, True, device, args.dtype, args.repeats, rng, rows_kde)


if __name__ == "__main__":
    main()
