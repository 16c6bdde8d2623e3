"""``ganphase evaluate RUN_DIR``: collapse and quality metrics of a run's saved checkpoints, afterwards.

For every checkpoint ``RUN_DIR/checkpoints/epoch_XXXX.pt`` whose epoch is a
multiple of ``--every``, the generator maps a fixed batch of latent vectors
(seeded) to samples that :class:`ganphase.simulate.metrics.Evaluator` scores.
Writes, resumably (epochs already in the file are skipped unless ``--redo``):

* ``RUN_DIR/evaluation.jsonl``: one row ``{"epoch", "eval": {...}}`` per checkpoint;
* ``RUN_DIR/evaluation/epoch_XXXX.npz``: the arrays (pair counts, class or mode histograms);
* ``RUN_DIR/evaluation_summary.json``: the measured collapse epoch
  (:func:`ganphase.simulate.metrics.collapse.collapse_epoch`), the stop epoch of
  ``summary.json``, and the best checkpoint in hindsight by ``checkpoint_score``.
"""
from __future__ import annotations

from pathlib import Path

from ganphase.io import append_jsonl, write_json, write_jsonl
from ganphase.simulate.run_folder import EVALUATION, EVALUATION_SUMMARY, RunFolder, read_jsonl_rows, warn

NAME = "evaluate"
HELP = "compute collapse and quality metrics for a training run's saved checkpoints and its collapse epoch"


def add_arguments(p):
    p.add_argument("run_dir", metavar="RUN_DIR", help="a training run folder (config.json, checkpoints/)")
    p.add_argument("--every", type=int, default=1, metavar="K", help="evaluate epochs that are multiples of K (default 1)")
    p.add_argument("--device", default="auto", help="auto | cpu | cuda[:N] (default auto)")
    p.add_argument("--samples", type=int, default=None,
                   help="generated samples per checkpoint (default: the run's eval_samples, else 256)")
    p.add_argument("--reference", type=int, default=2000, help="real reference samples (default 2000)")
    p.add_argument("--seed", type=int, default=0, help="seed of the latent batch and the reference subset")
    p.add_argument("--data-dir", default=None, help="folder of the real data sets (default: the run's, then shared)")
    p.add_argument("--cache-dir", default=None, help="classifier cache (default RUN_DIR/eval_cache, then the user cache)")
    p.add_argument("--redo", action="store_true", help="recompute epochs already in evaluation.jsonl")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def _positive(name, v):
    if not (isinstance(v, int) and v >= 1):
        raise ValueError(f"--{name} must be a positive integer, got {v!r}")


def _latent_dim(config, G) -> int:
    dim = (config.get("model") or {}).get("latent_dim") or getattr(G, "latent_dim", None)
    if not isinstance(dim, int) or dim < 1:
        raise ValueError("config.json gives no latent dimension (model.latent_dim) and the generator has none")
    return dim


def _real_data(train_cfg, data_dir, n):
    from ganphase.simulate.data import load_dataset
    from ganphase.simulate.metrics.classifier import default_data_dir

    data_dir = data_dir or train_cfg.get("data_dir")
    return load_dataset(train_cfg["data"], data_dir=default_data_dir(data_dir), split="train",
                        subset=n if train_cfg["data"] in ("mnist", "fashion-mnist", "cifar10") else None,
                        seed=int(train_cfg.get("seed") or 0))


def _summary(run_dir: Path, rows: list[dict]) -> dict:
    from ganphase.simulate.metrics.collapse import (COVERAGE_FRACTION, FD_RATIO, PATIENCE, checkpoint_score,
                                                    collapse_epoch, criterion_onsets)

    try:
        stop = (RunFolder(run_dir).read_summary() or {}).get("stop_epoch")
    except ValueError as exc:   # a damaged summary.json: the collapse epoch is still measured
        warn(f"{exc}; stop epoch unknown")
        stop = None
    collapse = collapse_epoch(rows)
    scores = {}
    for r in rows:
        try:
            scores[r["epoch"]] = checkpoint_score(r["eval"])
        except (ValueError, TypeError):
            continue
    best = max(scores, key=lambda e: (scores[e], e)) if scores else None
    by_epoch = {r["epoch"]: r["eval"] for r in rows}
    return {"collapse_epoch": collapse,
            "criterion_onsets": criterion_onsets(rows),
            "rule": {"coverage_fraction": COVERAGE_FRACTION, "fd_ratio": FD_RATIO, "patience": PATIENCE},
            "stop_epoch": stop,
            "stopped_before_collapse": None if stop is None or collapse is None else stop < collapse,
            "stop_minus_collapse": None if stop is None or collapse is None else stop - collapse,
            "best_epoch": best, "best_score": scores.get(best),
            "best_metrics": by_epoch.get(best),
            "evaluated_epochs": [r["epoch"] for r in rows]}


def run(args) -> int:
    import torch

    from ganphase.simulate.device import resolve_device
    from ganphase.simulate.metrics import Evaluator

    _positive("every", args.every)
    _positive("reference", args.reference)
    if args.samples is not None:
        _positive("samples", args.samples)
    run_dir = Path(args.run_dir)
    folder = RunFolder(run_dir)
    config = folder.read_config()
    train_cfg = config["train"]
    device = resolve_device(args.device)
    epochs = [e for e in folder.checkpoint_epochs() if e % args.every == 0]
    if not epochs:
        raise ValueError(f"{run_dir} holds no checkpoints (checkpoints/epoch_XXXX.pt) at multiples of {args.every}")
    n = args.samples or int(train_cfg.get("eval_samples") or 256)
    if n < 2:
        raise ValueError(f"--samples must be at least 2, got {n}")

    out_path = run_dir / EVALUATION
    rows = [] if args.redo else [r for r in read_jsonl_rows(out_path) if isinstance(r.get("eval"), dict)
                                 and isinstance(r.get("epoch"), int)]
    if args.redo:
        write_jsonl(out_path, [])
    done = {r["epoch"] for r in rows}
    todo = [e for e in epochs if e not in done]
    n_before = len(rows)

    evaluator = None
    if todo:
        real = _real_data(train_cfg, args.data_dir, max(args.reference, 10000))
        evaluator = Evaluator(train_cfg["data"], real.x, real.y, device=device,
                              cache_dir=args.cache_dir or run_dir / "eval_cache", seed=args.seed,
                              n_samples=min(args.reference, len(real.x)), data_dir=args.data_dir,
                              progress=not args.no_progress)
    bar = None
    if not args.no_progress and todo:
        from tqdm.auto import tqdm
        bar = tqdm(todo, desc=f"evaluate {run_dir.name}", unit="ckpt")
    z = None
    for epoch in (bar if bar is not None else todo):
        try:
            G = folder.load_generator(epoch, device=str(device))
        except ValueError as exc:
            warn(f"skipped {exc}")
            continue
        if z is None:
            z = torch.randn(n, _latent_dim(config, G), generator=torch.Generator().manual_seed(args.seed))
        with torch.no_grad():
            samples = G.eval()(z.to(device)).float().cpu()
        result = dict(evaluator(samples))
        arrays = result.pop("arrays", None) or {}
        if arrays:
            folder.write_evaluation(epoch, arrays)
        row = {"epoch": epoch, "eval": result}
        append_jsonl(out_path, row)
        rows.append(row)
    rows = sorted(rows, key=lambda r: r["epoch"])
    summary = _summary(run_dir, rows)
    write_json(run_dir / EVALUATION_SUMMARY, summary)
    print(f"{len(rows) - n_before} checkpoint(s) evaluated, {len(rows)} in {out_path}; collapse epoch "
          f"{summary['collapse_epoch']}, stop epoch {summary['stop_epoch']}, best checkpoint {summary['best_epoch']}")
    return 0
