"""Time per NSGAN iteration: our training step with and without the monitors, against a
minimal plain-PyTorch NSGAN loop of the same architecture, optimiser and batch, in one process.

Cases: ``digits`` (MLP, SGD, batch 64) and MNIST-size images (DCGAN at 28 x 28, Adam,
batch 64; real MNIST when /work/shared/data/mnist.npz or $GANPHASE_DATA holds it, else the
digits resized to 28 x 28).  Each variant runs ``--epochs`` epochs of ``--iters`` iterations;
the per-iteration time is taken from epoch 2 on (epoch 1 warms up, the last epoch's
evaluation is excluded), best of ``--repeats`` interleaved repeats.

    .venv/bin/python benchmarks/bench_train.py [--iters 40] [--repeats 3]
"""
import argparse
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from ganphase.simulate.data import load_dataset
from ganphase.simulate.device import resolve_device
from ganphase.simulate.models import build_models, build_optimizers
from ganphase.simulate.train import TrainConfig, _prepare, train


def ours(cfg: TrainConfig, monitor: bool) -> float:
    out = Path(tempfile.mkdtemp(prefix="bench_train_"))
    try:
        c = TrainConfig(**{**cfg.to_dict(), "out": str(out), "monitor": monitor})
        train(c)
        rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
        timed = rows[1:-1]
        return sum(r["time_s"] for r in timed) / sum(r["iterations"] for r in timed)
    finally:
        shutil.rmtree(out, ignore_errors=True)


def plain(cfg: TrainConfig) -> float:
    """The textbook NSGAN loop: D step on real + fake, non-saturating G step, nothing else."""
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
        t = time.perf_counter()
        for b in range(cfg.max_iterations_per_epoch):
            real = x[perm[b * batch:(b + 1) * batch]]
            fake = G(torch.randn(batch, mc.latent_dim, device=dev))
            a_r, a_f = D(real), D(fake.detach())
            loss_d = F.binary_cross_entropy_with_logits(a_r, torch.ones_like(a_r)) + \
                F.binary_cross_entropy_with_logits(a_f, torch.zeros_like(a_f))
            opt_d.zero_grad()
            loss_d.backward()
            opt_d.step()
            a_g = D(fake)
            loss_g = F.binary_cross_entropy_with_logits(a_g, torch.ones_like(a_g))
            opt_g.zero_grad()
            loss_g.backward()
            opt_g.step()
            loss_d.item(), loss_g.item()
        times.append((time.perf_counter() - t) / cfg.max_iterations_per_epoch)
    return sum(times[1:]) / len(times[1:])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--iters", type=int, default=40, help="iterations per epoch")
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    ap.add_argument("--cases", default="digits,mnist")
    ap.add_argument("--device", default="cpu", help="cpu | cuda | auto (default cpu)")
    ap.add_argument("--power-iters", type=int, default=TrainConfig.power_iters,
                    help="power steps per iteration in the monitor (TrainConfig.power_iters)")
    ap.add_argument("--monitor-batch", type=int, default=None, help="TrainConfig.monitor_batch")
    args = ap.parse_args()
    data_dir = os.environ.get("GANPHASE_DATA", str(Path(__file__).resolve().parents[2] / "shared" / "data"))
    try:
        load_dataset("mnist", data_dir=data_dir, subset=10)
        image = dict(data="mnist", data_dir=data_dir, subset=5000, resize=None)
    except ValueError:
        image = dict(data="digits", resize=28, model="dcgan")
    cases = {"digits": dict(data="digits"),
             "mnist": dict(**image, model="dcgan", width=64)}
    for name in args.cases.split(","):
        cfg = TrainConfig(**cases[name], epochs=args.epochs, max_iterations_per_epoch=args.iters, device=args.device,
                          eval_every=10 ** 6, evaluator=False, progress=False, threads=args.threads,
                          eval_samples=16, eval_steepness_samples=2, checkpoint_every=10 ** 6,
                          power_iters=args.power_iters, monitor_batch=args.monitor_batch)
        best = {"plain": [], "ours, no monitors": [], "ours, monitors": []}
        for _ in range(args.repeats):
            torch.set_num_threads(args.threads)
            best["plain"].append(plain(cfg))
            best["ours, no monitors"].append(ours(cfg, False))
            best["ours, monitors"].append(ours(cfg, True))
        t = {k: min(v) for k, v in best.items()}
        print(f"{name}: " + " | ".join(f"{k} {v * 1e3:.2f} ms/it" for k, v in t.items()))
        print(f"{name}: monitors add {100 * (t['ours, monitors'] / t['ours, no monitors'] - 1):+.1f} % ; "
              f"ours without monitors / plain loop = {t['ours, no monitors'] / t['plain']:.3f} ; "
              f"with monitors / plain = {t['ours, monitors'] / t['plain']:.3f}")
    print(f"device {args.device}, torch {torch.__version__}, {args.threads} CPU thread(s), power_iters {args.power_iters}, "
          f"monitor_batch {args.monitor_batch or 'default'}")


if __name__ == "__main__":
    main()
