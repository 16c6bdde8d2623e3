"""Time per NSGAN iteration with and without the monitors, as ratios in one process.

Cases:

* ``digits`` (MLP, SGD, batch 64) and ``mnist`` (DCGAN at 28 x 28, width 64, Adam, batch 64,
  batch norm in D; real MNIST when /work/shared/data/mnist.npz or $GANPHASE_DATA holds it,
  else the digits resized to 28 x 28): our training loop with monitors against the same loop
  without them (``monitor=False``), and a minimal plain-PyTorch NSGAN loop of the same
  architecture for reference.  Each variant runs ``--epochs`` epochs of ``--iters``
  iterations; the per-iteration time is taken from epoch 2 on (epoch 1 warms up, the last
  epoch's evaluation is excluded), best of ``--repeats`` interleaved repeats.  Also printed:
  the steepness estimate's relative standard error over the monitored latents (mean over
  the run's measurements) and, for the final generator, the relative error of the
  warm-started power estimate (``power_iters`` steps, 5 warm calls on fresh latents)
  against the exact Jacobian norm.
* ``ring``: a user's own plain PyTorch NSGAN loop over an 8-Gaussian ring (MLPs 2-128-128,
  Adam, batch 64) calling ``EarlyStopping.observe(G, D, z[:32])`` every iteration: the
  default (warm, cheap) path and the cold path (a new estimator to a relative change of 1e-3,
  every call, all latents: ``observe_every=1, observe_batch=None``), against the loop without it.

    PYTHONPATH=. .venv/bin/python benchmarks/bench_train.py [--iters 40] [--repeats 3]
"""
import argparse
import json
import os
import shutil
import tempfile
import time
import types
from pathlib import Path

import torch
from torch import nn

from ganphase.simulate.data import load_dataset
from ganphase.simulate.device import resolve_device
from ganphase.simulate.models import build_models, build_optimizers
from ganphase.simulate.monitors import EarlyStopping, thresholds_for
from ganphase.simulate.nsgan import discriminator_loss, generator_loss
from ganphase.simulate.steepness import PowerSteepness, steepness_exact
from ganphase.simulate import train as train_module
from ganphase.simulate.train import TrainConfig, _prepare, load_generator, train

CLOCKS = {"cpu": time.thread_time, "wall": time.perf_counter}
clock = time.thread_time


def nsgan_step(G, D, opt_g, opt_d, real, z):
    """The textbook NSGAN iteration: D step on real + fake, non-saturating G step."""
    fake = G(z)
    loss_d = discriminator_loss(D(real), D(fake.detach()))
    opt_d.zero_grad()
    loss_d.backward()
    opt_d.step()
    loss_g = generator_loss(D(fake))
    opt_g.zero_grad()
    loss_g.backward()
    opt_g.step()
    return loss_d.item(), loss_g.item()


def ours(cfg: TrainConfig, monitor: bool, quality: dict | None = None) -> float:
    out = Path(tempfile.mkdtemp(prefix="bench_train_"))
    try:
        c = TrainConfig(**{**cfg.to_dict(), "out": str(out), "monitor": monitor})
        train_module.time = types.SimpleNamespace(perf_counter=clock)    # the loop's per-epoch time_s on our clock
        try:
            train(c)
        finally:
            train_module.time = time
        rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
        timed = rows[1:-1]
        if quality is not None:
            mon = [json.loads(line) for line in (out / "monitor.jsonl").read_text().splitlines()]
            rse = [m["steepness_se"] / m["steepness"] for m in mon]
            quality["rse"] = sum(rse) / len(rse)
            quality["power_error"] = power_error(load_generator(out, device=cfg.device), cfg)
        return sum(r["time_s"] for r in timed) / sum(r["iterations"] for r in timed)
    finally:
        shutil.rmtree(out, ignore_errors=True)


def power_error(G, cfg: TrainConfig, calls: int = 5) -> float:
    """Relative error of the mean warm-started power estimate against the exact norm (final G)."""
    _, _, mc, batch = _prepare(cfg)
    n = min(cfg.monitor_batch or (batch if mc.kind == "mlp" else 16), batch)
    est = PowerSteepness(tol=cfg.power_tol, max_iter=cfg.power_iters, seed=cfg.seed)
    gen = torch.Generator().manual_seed(99)
    z = torch.randn(n, mc.latent_dim, generator=gen).to(G.last.weight.device)
    for _ in range(calls):
        if cfg.monitor_latents == "batch":
            z = torch.randn(n, mc.latent_dim, generator=gen).to(G.last.weight.device)
        s = est(G, z).mean()
    return float(s / steepness_exact(G, z).mean() - 1)


def plain(cfg: TrainConfig) -> float:
    torch.manual_seed(cfg.seed)
    dev = resolve_device(cfg.device)
    ds, resize, mc, batch = _prepare(cfg)
    G, D = build_models(mc)
    G, D = G.to(dev), D.to(dev)
    opt_g, opt_d = build_optimizers(mc, G, D)
    x = ds.x.to(dev)
    times = []
    for epoch in range(cfg.epochs - 1):
        perm = torch.randperm(len(x)).to(dev)
        t = clock()
        for b in range(cfg.max_iterations_per_epoch):
            nsgan_step(G, D, opt_g, opt_d, x[perm[b * batch:(b + 1) * batch]],
                       torch.randn(batch, mc.latent_dim, device=dev))
        times.append((clock() - t) / cfg.max_iterations_per_epoch)
    return sum(times[1:]) / len(times[1:])


def _mlp(sizes):
    layers = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(a, b), nn.ReLU()]
    return nn.Sequential(*layers[:-1])


def ring(iters: int, mode: str, device) -> float:
    """Seconds per iteration of a user's plain NSGAN loop on ring:8:2.0:0.02 with observe (mode) or without."""
    torch.manual_seed(0)
    ds = load_dataset("ring:8:2.0:0.02")
    thr = thresholds_for(ds)
    x = ds.x.to(device)
    G, D = _mlp((2, 128, 128, 2)).to(device), nn.Sequential(_mlp((2, 128, 128, 1)), nn.Flatten(0)).to(device)
    opt_g, opt_d = torch.optim.Adam(G.parameters(), 1e-3), torch.optim.Adam(D.parameters(), 1e-3)
    es = None
    if mode != "none":
        kw = dict(observe_every=1, observe_batch=None) if mode == "cold" else {}
        es = EarlyStopping(thr["k_d"], thr["sigma"], thr["k_g"], thr["m"], thr["warmup"], **kw)
    t0 = None
    for it in range(iters + 20):
        if it == 20:
            t0 = clock()
        real = x[torch.randint(len(x), (64,))]
        z = torch.randn(64, 2, device=device)
        nsgan_step(G, D, opt_g, opt_d, real, z)
        if es is not None:
            es.observe(G, D, z[:32], PowerSteepness(tol=1e-3, max_iter=100) if mode == "cold" else None)
    return (clock() - t0) / iters


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--iters", type=int, default=40, help="iterations per epoch")
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    ap.add_argument("--clock", choices=tuple(CLOCKS), default="cpu",
                    help="cpu: the thread's CPU time (steady on a shared machine, 1 thread); wall: elapsed time")
    ap.add_argument("--cases", default="digits,mnist,ring")
    ap.add_argument("--device", default="cpu", help="cpu | cuda | auto (default cpu)")
    ap.add_argument("--power-iters", type=int, default=TrainConfig.power_iters, help="TrainConfig.power_iters")
    ap.add_argument("--monitor-batch", type=int, default=None, help="TrainConfig.monitor_batch")
    ap.add_argument("--monitor-latents", default=TrainConfig.monitor_latents, help="TrainConfig.monitor_latents")
    ap.add_argument("--monitor-every", type=int, default=TrainConfig.monitor_every, help="TrainConfig.monitor_every")
    args = ap.parse_args()
    global clock
    clock = CLOCKS[args.clock] if args.device == "cpu" else time.perf_counter   # GPU work is asynchronous
    data_dir = os.environ.get("GANPHASE_DATA", str(Path(__file__).resolve().parents[2] / "shared" / "data"))
    try:
        load_dataset("mnist", data_dir=data_dir, subset=10)
        image = dict(data="mnist", data_dir=data_dir, subset=5000, resize=None)
    except ValueError:
        image = dict(data="digits", resize=28, model="dcgan")
    cases = {"digits": dict(data="digits"),
             "mnist": dict(**image, model="dcgan", width=64)}
    torch.set_num_threads(args.threads)
    for name in args.cases.split(","):
        if name == "ring":
            dev = resolve_device(args.device)
            t = {m: [] for m in ("none", "default", "cold")}
            for _ in range(args.repeats):
                for m in t:
                    t[m].append(ring(args.iters * args.epochs, m, dev))
            paired = sorted(a / b - 1 for a, b in zip(t["default"], t["none"]))
            print(f"ring: observe default, paired per repeat: median {100 * paired[len(paired) // 2]:+.1f} %, "
                  f"range {100 * paired[0]:+.1f} .. {100 * paired[-1]:+.1f} %")
            t = {k: min(v) for k, v in t.items()}
            print(f"ring: plain loop {t['none'] * 1e3:.2f} ms/it | observe default {t['default'] * 1e3:.2f} ms/it "
                  f"({100 * (t['default'] / t['none'] - 1):+.1f} %) | observe cold, every call "
                  f"{t['cold'] * 1e3:.2f} ms/it ({100 * (t['cold'] / t['none'] - 1):+.1f} %)")
            continue
        cfg = TrainConfig(**cases[name], epochs=args.epochs, max_iterations_per_epoch=args.iters, device=args.device,
                          eval_every=10 ** 6, evaluator=False, progress=False, threads=args.threads,
                          eval_samples=16, eval_steepness_samples=2, checkpoint_every=10 ** 6,
                          power_iters=args.power_iters, monitor_batch=args.monitor_batch,
                          monitor_every=args.monitor_every, monitor_latents=args.monitor_latents)
        best = {"plain": [], "ours, no monitors": [], "ours, monitors": []}
        quality = {}
        for r in range(args.repeats):
            torch.set_num_threads(args.threads)
            best["plain"].append(plain(cfg))
            best["ours, no monitors"].append(ours(cfg, False))
            best["ours, monitors"].append(ours(cfg, True, quality if r == 0 else None))
        paired = sorted(a / b - 1 for a, b in zip(best["ours, monitors"], best["ours, no monitors"]))
        t = {k: min(v) for k, v in best.items()}
        print(f"{name}: " + " | ".join(f"{k} {v * 1e3:.2f} ms/it" for k, v in t.items()))
        print(f"{name}: monitors add {100 * (t['ours, monitors'] / t['ours, no monitors'] - 1):+.1f} % (best of each); "
              f"paired per repeat: median {100 * paired[len(paired) // 2]:+.1f} %, "
              f"range {100 * paired[0]:+.1f} .. {100 * paired[-1]:+.1f} % ; "
              f"ours without monitors / plain loop = {t['ours, no monitors'] / t['plain']:.3f} ; "
              f"steepness standard error {100 * quality['rse']:.1f} % of the estimate ; "
              f"power estimate vs exact (final G) {100 * quality['power_error']:+.2f} %")
    print(f"clock {args.clock}, device {args.device}, torch {torch.__version__}, {args.threads} CPU thread(s), power_iters {args.power_iters}, "
          f"monitor_batch {args.monitor_batch or 'default'}, monitor_every {args.monitor_every}, "
          f"monitor_latents {args.monitor_latents}")


if __name__ == "__main__":
    main()
