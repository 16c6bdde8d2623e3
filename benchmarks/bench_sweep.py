"""Throughput of ``ganphase sweep``: runs per hour with 2 workers against 1, and Dask's cost per run
against calling ``train`` directly, on short runs of the 3-D mixture, all in one process.

Three passes over the same R runs (seeds 0..R-1 of one short configuration), each into a fresh folder:

* ``direct``:   ``train(config)`` called R times in this process, one torch thread;
* ``sweep 1``:  ``sweep(...)`` on a LocalCluster of 1 single-threaded worker (cluster start included);
* ``sweep 2``:  the same on 2 workers.

Columns: wall seconds of the pass, runs per hour, mean seconds per run as the worker measured it
(``wall_s`` of the index), mean CPU seconds per run (``cpu_s``: process time, blind to other processes
on the machine), the CPU share the pass obtained (sum of CPU s / wall s: 1 and 2 on an idle machine), and
the ratio to the baseline of its row.  Dask's overhead per run is
(sweep 1 wall - direct wall) / R; the scaling is runs/hour of sweep 2 over sweep 1 (ideal: the
number of free cores).  Other processes on the machine lower both; the load average is printed.

    .venv/bin/python benchmarks/bench_sweep.py [--runs 4] [--epochs 30]
"""
import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

from ganphase.simulate.settings import Setting
from ganphase.simulate.sweep import read_index, sweep
from ganphase.simulate.train import train


def setting(epochs: int, iters: int | None) -> Setting:
    values = dict(data="gmm-3d", epochs=epochs, eval_every=5, eval_samples=256, early_stop=True,
                  continue_after_stop=True, device="cpu", max_iterations_per_epoch=iters)
    return Setting("bench", 1, "short 3-D mixture runs for the throughput benchmark", values)


def direct(s: Setting, runs: int, root: Path) -> tuple[float, float, float]:
    """(wall s of the pass, mean wall s per run, mean CPU s per run)."""
    t0 = time.perf_counter()
    walls, cpus = [], []
    for seed in range(runs):
        t, c = time.perf_counter(), time.process_time()
        train(s.config(seed, root / f"seed-{seed:04d}", threads=1, progress=False))
        walls.append(time.perf_counter() - t)
        cpus.append(time.process_time() - c)
    return time.perf_counter() - t0, sum(walls) / runs, sum(cpus) / runs


def swept(s: Setting, runs: int, root: Path, workers: int) -> tuple[float, float, float]:
    t0 = time.perf_counter()
    sweep([s], runs, root, workers=workers, progress=False)
    wall = time.perf_counter() - t0
    rows = read_index(root)
    assert all(r["status"] == "finished" for r in rows), rows
    return wall, sum(r["wall_s"] for r in rows) / runs, sum(r["cpu_s"] for r in rows) / runs


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=4, help="runs per pass (even, so 2 workers share them)")
    ap.add_argument("--epochs", type=int, default=30, help="epochs per run (about 0.7 s each on a free core)")
    ap.add_argument("--iters", type=int, default=None, help="cap on iterations per epoch (default: all 156)")
    args = ap.parse_args()
    s = setting(args.epochs, args.iters)
    root = Path(tempfile.mkdtemp(prefix="bench_sweep_"))
    load0 = os.getloadavg()
    try:
        results = {"direct": direct(s, args.runs, root / "direct"),
                   "sweep 1": swept(s, args.runs, root / "sweep1", 1),
                   "sweep 2": swept(s, args.runs, root / "sweep2", 2)}
    finally:
        shutil.rmtree(root, ignore_errors=True)
    load1 = os.getloadavg()
    print(f"{args.runs} runs of gmm-3d, {args.epochs} epochs each; cores {os.cpu_count()}; load average "
          f"(1 min) before {load0[0]:.2f}, after {load1[0]:.2f}")
    print("| pass | wall s | runs / hour | wall s per run | CPU s per run | CPU share of the pass | ratio |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    base = {"direct": "direct", "sweep 1": "direct", "sweep 2": "sweep 1"}
    for name, (wall, per, cpu) in results.items():
        rate = 3600 * args.runs / wall
        ref = 3600 * args.runs / results[base[name]][0]
        print(f"| {name} | {wall:.1f} | {rate:.1f} | {per:.1f} | {cpu:.1f} | {cpu * args.runs / wall:.2f} cores "
              f"| {rate / ref:.2f} x {base[name]} |")
    (wd, _, cd), (w1, _, c1), (w2, _, _) = results["direct"], results["sweep 1"], results["sweep 2"]
    print(f"CPU s per run in a worker over direct: {c1 / cd:.3f}")
    print(f"Dask overhead per run (sweep 1 - direct) / runs: {(w1 - wd) / args.runs:.2f} s "
          f"({(w1 - wd) / wd:+.1%} of the direct wall time)")
    print(f"scaling, runs/hour of 2 workers over 1: {w1 / w2:.2f} x")


if __name__ == "__main__":
    main()
