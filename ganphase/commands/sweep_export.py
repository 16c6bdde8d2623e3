"""``ganphase sweep-export``: the committable part of a sweep (no checkpoints) with its provenance."""
from __future__ import annotations

import json
import shlex

NAME = "sweep-export"
HELP = ("copy a sweep's index, per-run config.json, summary.json, traces.npz and metrics.jsonl into a results "
        "folder, with provenance.json (commands, git commit, library versions, machine)")


def add_arguments(p):
    p.add_argument("sweep_dir", metavar="SWEEP_DIR", help="folder written by ganphase sweep")
    p.add_argument("results_dir", metavar="RESULTS_DIR", help="folder to write (outside SWEEP_DIR)")


def run(args) -> int:
    from ganphase.simulate.sweep import export

    record = export(args.sweep_dir, args.results_dir,
                    command=shlex.join(["ganphase", "sweep-export", args.sweep_dir, args.results_dir]))
    print(json.dumps({k: record[k] for k in ("runs", "left_out", "bytes")}))
    return 0
