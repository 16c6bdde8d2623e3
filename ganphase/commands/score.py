"""``ganphase score``: replay stopping rules on the recorded traces of a sweep and compare them."""
from __future__ import annotations

import json
from pathlib import Path

from ganphase.commands._args import positive_int

NAME = "score"
HELP = ("replay Algorithm 2, its variants and the baselines on a sweep's traces (no retraining): stops before "
        "collapse, lead, false stops, returned-checkpoint quality, compute saved, bootstrap intervals over seeds")


def add_arguments(p):
    p.add_argument("sweep_dir", metavar="SWEEP_DIR", help="a sweep folder (ganphase sweep) or its exported results")
    p.add_argument("--out", help="folder for score.md, score.csv, runs.csv, score.json, score.png "
                                 "(default SWEEP_DIR/score)")
    p.add_argument("--selection", choices=("best", "last"), default="best",
                   help="checkpoint a rule returns: the best-scoring evaluation before the stop (Algorithm 2, "
                        "line 10; default) or the last one")
    p.add_argument("--resamples", type=positive_int, default=2000, help="bootstrap resamples (default 2000)")
    p.add_argument("--seed", type=int, default=0, help="seed of the bootstrap (default 0)")
    p.add_argument("--min-runs", type=positive_int, default=5,
                   help="fewer contributing runs than this: the interval is undecided (default 5)")
    p.add_argument("--json", action="store_true", help="print the result as JSON instead of the Markdown table")
    p.add_argument("--no-figure", action="store_true", help="skip score.png")


def run(args) -> int:
    from ganphase.io import _finite, atomic_write_bytes, write_json
    from ganphase.simulate import scoring

    if args.seed < 0:
        raise ValueError(f"--seed must be non-negative, got {args.seed}")
    result = scoring.score(args.sweep_dir, args.selection, args.resamples, args.seed, args.min_runs)
    out = Path(args.out) if args.out else Path(args.sweep_dir) / "score"
    out.mkdir(parents=True, exist_ok=True)
    text = scoring.markdown(result)
    atomic_write_bytes(out / "score.md", text.encode())
    scoring.write_csv(out / "score.csv", scoring.summary_table(result))
    scoring.write_csv(out / "runs.csv", result.rows)
    record = _finite(scoring.to_json(result))
    write_json(out / "score.json", record)
    if not args.no_figure:
        from ganphase.figures.score import plot_score
        plot_score(result.summary, out / "score.png")
    print(json.dumps(record) if args.json else text, end="" if not args.json else "\n")
    return 0
