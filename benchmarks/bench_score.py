"""Time ``ganphase score`` on a synthetic sweep of the size the issue names: 100 runs of a 1000-epoch gmm-3d
schedule (156 iterations per epoch: 156,000 monitored iterations per run, 200 evaluations).

One run is written through RunFolder (random q_d and S_g with a few spikes, coverage that collapses late)
and copied to 100 run folders.  Printed: seconds to read every run's traces (the baseline: what any
scoring must do), seconds of the whole score (replay of every rule, 2000 bootstrap resamples, tables;
no figure), and their ratio.

    python benchmarks/bench_score.py [--runs 100] [--epochs 1000] [--json out.json]
"""
from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from ganphase.io import write_json
from ganphase.simulate import scoring
from ganphase.simulate.run_folder import RunFolder

IT_PER_EPOCH, EVAL_EVERY = 156, 5


def write_run(path: Path, epochs: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    run = RunFolder(path)
    path.mkdir(parents=True)
    run.write_config({"train": {"data": "gmm-3d", "monitor_unit": "iteration"}, "model": {},
                      "thresholds": {"k_d": 2.0, "sigma": 0.0125 ** 0.5, "k_g": -0.5, "m": 8, "warmup": 50,
                                     "threshold_d": 2 / (2 * 0.0125 ** 0.5)}})
    n = epochs * IT_PER_EPOCH
    q = rng.gamma(2.0, 1.0, n)
    s = 5 + rng.normal(0, 0.2, n)
    s[rng.choice(n, 20, replace=False)] *= 0.3          # occasional steepness drops
    for e in range(1, epochs + 1):
        lo, hi = (e - 1) * IT_PER_EPOCH, e * IT_PER_EPOCH
        run.append_monitor([{"epoch": e, "iteration": i + 1, "q_d": float(q[i]), "steepness": float(s[i]),
                             "stop": False} for i in range(lo, hi)])
        row = {"epoch": e, "iterations": IT_PER_EPOCH, "loss_d": 1.2, "loss_g": 0.9, "q_d": float(q[lo:hi].mean()),
               "steepness": float(s[lo:hi].mean()), "time_s": 0.7}
        if e % EVAL_EVERY == 0:
            row["eval"] = {"modes_covered": 8 if e < 0.7 * epochs else 3, "n_modes": 8, "high_quality": 0.9}
        run.append_metrics(row)
    run.write_traces()
    run.write_summary({"status": "finished"})


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=100)
    p.add_argument("--epochs", type=int, default=1000)
    p.add_argument("--json")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "sweep"
        write_run(root / "synthetic/seed-0000", args.epochs)
        rows = [{"setting": "synthetic", "seed": 0, "folder": "synthetic/seed-0000", "status": "finished"}]
        for k in range(1, args.runs):
            shutil.copytree(root / "synthetic/seed-0000", root / f"synthetic/seed-{k:04d}")
            rows.append({"setting": "synthetic", "seed": k, "folder": f"synthetic/seed-{k:04d}", "status": "finished"})
        write_json(root / "index.json", {"format": 1, "runs": rows})
        t = time.perf_counter()
        scoring.load_sweep(root)
        t_read = time.perf_counter() - t
        t = time.perf_counter()
        result = scoring.score(root)
        scoring.markdown(result)
        t_score = time.perf_counter() - t
    out = {"runs": args.runs, "iterations_per_run": args.epochs * IT_PER_EPOCH, "read_s": t_read,
           "score_s": t_score, "score_over_read": t_score / t_read}
    print(f"{args.runs} runs x {args.epochs * IT_PER_EPOCH} iterations: read traces {t_read:.2f} s, "
          f"score {t_score:.2f} s ({t_score / t_read:.1f} x the read)")
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
