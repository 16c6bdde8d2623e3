"""``ganphase simulate``: particle flows of Algorithm 1 in the Table 2 cases (Section 3.1).

Particles start as draws from the case's p_g and move by x <- x + s grad d*/d*(x).  ``--pg fixed``
keeps p_g the analytic density of Table 2 (the field of Figure 2); ``--pg kde`` makes p_g the Gaussian
kernel density estimate of the current particles (interacting particles).  For ``--dim`` > 2 the modes
sit on the first two coordinates and every Gaussian has mean 0 and its printed standard deviation on
the others; the uniform of case 2 becomes [-2, 2]^dim.

Writes DIR/trajectories.npz (steps, positions (T, m, n), mean_log_p_data) and DIR/summary.json;
DIR/checkpoint.npz lets ``--resume`` continue a killed run.
"""
from __future__ import annotations

import math
from pathlib import Path

NAME = "simulate"
HELP = "move particles along the optimal-discriminator field (Algorithm 1) in a Table 2 case"


def add_arguments(p):
    p.add_argument("--case", type=int, required=True, choices=(1, 2, 3, 4), help="Table 2 case")
    p.add_argument("--particles", type=int, default=2000, help="number of particles (default 2000)")
    p.add_argument("--dim", type=int, default=2, help="dimension >= 2 (default 2)")
    p.add_argument("--steps", type=int, default=200, help="number of steps (default 200)")
    p.add_argument("--step-size", type=float, default=0.01, help="step size s > 0 (default 0.01)")
    p.add_argument("--pg", choices=("fixed", "kde"), default="fixed",
                   help="p_g: the fixed Table 2 density, or the KDE of the current particles (default fixed)")
    p.add_argument("--kde-bandwidth", default=None,
                   help="KDE bandwidth: a number > 0, 'scott' (default) or 'silverman'; only with --pg kde")
    p.add_argument("--device", default="auto", help="cpu, cuda[:N] or auto (default)")
    p.add_argument("--dtype", default="float64", help="float32 or float64 (default)")
    p.add_argument("--seed", type=int, default=0, help="seed of the initial particles (default 0)")
    p.add_argument("--record-every", type=int, default=10, help="record positions every k steps (default 10)")
    p.add_argument("--checkpoint-every", type=int, default=50, help="checkpoint every k steps (default 50)")
    p.add_argument("--resume", action="store_true", help="continue from DIR/checkpoint.npz")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def _bandwidth(args):
    if args.kde_bandwidth is None:
        return "scott"
    if args.pg != "kde":
        raise ValueError("--kde-bandwidth applies only with --pg kde")
    if args.kde_bandwidth in ("scott", "silverman"):
        return args.kde_bandwidth
    try:
        h = float(args.kde_bandwidth)
    except ValueError:
        raise ValueError(f"--kde-bandwidth must be a number > 0, 'scott' or 'silverman', got {args.kde_bandwidth!r}") from None
    if not (math.isfinite(h) and h > 0):
        raise ValueError(f"--kde-bandwidth must be a number > 0, got {args.kde_bandwidth!r}")
    return h


def _validate(args):
    if args.particles < 1:
        raise ValueError(f"--particles must be a positive integer, got {args.particles}")
    if args.dim < 2:
        raise ValueError(f"--dim must be >= 2 (the Table 2 modes live on the first two coordinates), got {args.dim}")
    if args.steps < 0:
        raise ValueError(f"--steps must be >= 0, got {args.steps}")
    if not (math.isfinite(args.step_size) and args.step_size > 0):
        raise ValueError(f"--step-size must be a positive number, got {args.step_size}")
    if args.record_every < 1 or args.checkpoint_every < 1:
        raise ValueError("--record-every and --checkpoint-every must be positive integers")
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out must be a folder, {args.out!r} is a file")


def run(args) -> int:
    import numpy as np

    from ganphase.simulate.flows import run_flow, table2_pair

    _validate(args)
    bandwidth = _bandwidth(args)
    p_data, p_g = table2_pair(args.case, args.dim)
    x0 = p_g.sample(args.particles, np.random.default_rng(args.seed))
    run_ = run_flow(x0, p_data, "kde" if args.pg == "kde" else p_g, args.steps, args.step_size,
                    record_every=args.record_every, bandwidth=bandwidth, device=args.device, dtype=args.dtype,
                    out=args.out, resume=args.resume, checkpoint_every=args.checkpoint_every,
                    progress=not args.quiet, meta={"case": args.case, "seed": args.seed, "pg": args.pg})
    s = run_.summary
    print(f"case {args.case}, {s['particles']} particles in dimension {s['dim']}, {s['steps']} steps: "
          f"mean log p_data {s['mean_log_p_data'][0]:.3f} -> {s['mean_log_p_data'][-1]:.3f}; "
          f"final share per mode {[round(v, 3) for v in s['final_mode_fractions']]}; wrote {args.out}")
    return 0
