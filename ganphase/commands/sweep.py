"""``ganphase sweep``: a grid of (setting x seed) NSGAN runs on Dask, resumable, with an index."""
from __future__ import annotations

import json
import shlex

from ganphase.commands._args import positive_int

NAME = "sweep"
HELP = "run named settings over many seeds on Dask (a local cluster or --scheduler ADDRESS); resumable"


def _assignment(text):
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise ValueError(f"--set takes KEY=VALUE (a TrainConfig field), got {text!r}")
    try:
        value = json.loads(value)
    except json.JSONDecodeError:
        pass   # a plain string
    return key.strip().replace("-", "_"), value


def add_arguments(p):
    p.add_argument("settings", nargs="+", metavar="SETTING", help="setting names (ganphase.simulate.settings)")
    p.add_argument("--seeds", type=positive_int, required=True, help="run seeds 0..N-1 of each setting")
    p.add_argument("--out", required=True, help="sweep folder: index.json, sweep.json, SETTING/seed-NNNN/")
    p.add_argument("--workers", type=positive_int, help="local worker processes, one thread each (default: the cores)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="use the Dask cluster of this scheduler, e.g. tcp://host:8786")
    p.add_argument("--connect-timeout", type=float, default=10.0, help="seconds to reach --scheduler (default 10)")
    p.add_argument("--resume", action="store_true",
                   help="continue the sweep in --out (it must exist); a rerun skips finished runs either way")
    p.add_argument("--set", type=_assignment, action="append", default=[], metavar="KEY=VALUE",
                   help="override a setting's value for every run (e.g. --set epochs=20); changes the run hash")
    p.add_argument("--device", default="cpu", help="device of each run: cpu | cuda[:N] | auto (default cpu)")
    p.add_argument("--data-dir", help="folder of the data files (else $GANPHASE_DATA)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def _command(args) -> str:
    """The command line that reproduces this sweep (recorded in sweep.json)."""
    parts = ["ganphase", "sweep", *args.settings, "--seeds", str(args.seeds), "--out", args.out]
    for flag, value in (("--workers", args.workers), ("--scheduler", args.scheduler), ("--device", args.device),
                        ("--data-dir", args.data_dir)):
        if value is not None:
            parts += [flag, str(value)]
    for key, value in args.set:
        parts += ["--set", f"{key}={json.dumps(value) if not isinstance(value, str) else value}"]
    return shlex.join(parts + (["--resume"] if args.resume else []))


def run(args) -> int:
    from ganphase.simulate.sweep import sweep

    if args.workers and args.scheduler:
        raise ValueError("--workers and --scheduler exclude each other (the scheduler's cluster has its own workers)")
    if not args.connect_timeout > 0:
        raise ValueError(f"--connect-timeout must be positive, got {args.connect_timeout}")
    overrides = dict(args.set)
    overrides["device"] = args.device
    if args.data_dir:
        overrides["data_dir"] = args.data_dir
    rows = sweep(args.settings, args.seeds, args.out, workers=args.workers, scheduler=args.scheduler,
                 resume=args.resume, overrides=overrides, progress=not args.no_progress,
                 connect_timeout=args.connect_timeout, command=_command(args))
    counts = {}
    for r in rows:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    print(json.dumps({"out": args.out, "runs": len(rows), **counts}))
    return 1 if counts.get("error") else 0
