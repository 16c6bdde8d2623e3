"""``ganphase train``: NSGAN on a mixture or an image set, with the paper's monitors and Algorithm 2."""
from __future__ import annotations

import json

NAME = "train"
HELP = "train NSGAN with the discriminator-gradient and steepness monitors and Algorithm 2 early stopping"
DATA = ("gmm-3d", "gmm-2d", "digits", "mnist", "fashion-mnist", "cifar10", "stacked-mnist")


def _positive(text):
    try:
        v = int(text)
    except ValueError:
        raise ValueError(f"expected a positive integer, got {text!r}") from None
    if v < 1:
        raise ValueError(f"expected a positive integer, got {text!r}")
    return v


def _non_negative_float(text):
    try:
        v = float(text)
    except ValueError:
        raise ValueError(f"expected a number, got {text!r}") from None
    if not v >= 0:
        raise ValueError(f"expected a number >= 0, got {text!r}")
    return v


def _data_name(text):
    if text in DATA or text.startswith(("grid:", "ring:")):
        return text
    raise ValueError(f"--data must be one of {', '.join(DATA)} or grid:RxC:SIGMA / ring:K:RADIUS:SIGMA, got {text!r}")


def add_arguments(p):
    p.add_argument("--data", type=_data_name, required=True, help=f"data set: {', '.join(DATA)}, grid:..., ring:...")
    p.add_argument("--epochs", type=_positive, required=True, help="number of epochs")
    p.add_argument("--out", required=True, help="run folder (config.json, metrics.jsonl, checkpoints/, ...)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--device", default="auto", help="auto | cpu | cuda[:N] (default auto)")
    p.add_argument("--early-stop", action="store_true", help="stop by Algorithm 2")
    p.add_argument("--continue-after-stop", action="store_true",
                   help="record Algorithm 2's stop but train on to --epochs")
    p.add_argument("--subset", type=_positive, help="use the first N training samples")
    p.add_argument("--eval-every", type=_positive, default=5, help="evaluate every K epochs (default 5)")
    p.add_argument("--checkpoint-every", type=_positive, default=1, help="checkpoint every K epochs (default 1)")
    p.add_argument("--keep-last", type=_positive, default=3, help="keep the last K checkpoints (default 3)")
    p.add_argument("--noise-std", type=_non_negative_float, default=0.0,
                   help="discriminator noise per layer (Appendix G.7 uses 0.1)")
    p.add_argument("--data-dir", help="folder of the data files (else $GANPHASE_DATA)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out from its last checkpoint")
    p.add_argument("--batch-size", type=_positive, help="batch size (default: 128 mixtures, 64 images)")
    p.add_argument("--resize", type=_positive, help="image side (default 64 for mnist, fashion-mnist, cifar10)")
    p.add_argument("--native-size", action="store_true", help="do not resize images")
    p.add_argument("--width", type=_positive, default=64, help="DCGAN base channels (default 64)")
    p.add_argument("--max-iterations-per-epoch", type=_positive, help="cap iterations per epoch (quick runs)")
    p.add_argument("--monitor-unit", choices=("iteration", "epoch"), default="iteration",
                   help="apply Algorithm 2 per iteration (default) or once per epoch")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args) -> int:
    from ganphase.simulate.train import TrainConfig, train

    if args.resize and args.native_size:
        raise ValueError("--resize and --native-size exclude each other")
    cfg = TrainConfig(data=args.data, epochs=args.epochs, out=args.out, seed=args.seed, device=args.device,
                      data_dir=args.data_dir, subset=args.subset,
                      resize=None if args.native_size else (args.resize or -1), batch_size=args.batch_size,
                      width=args.width, noise_std=args.noise_std, early_stop=args.early_stop,
                      continue_after_stop=args.continue_after_stop, eval_every=args.eval_every,
                      checkpoint_every=args.checkpoint_every, keep_last=args.keep_last,
                      max_iterations_per_epoch=args.max_iterations_per_epoch, monitor_unit=args.monitor_unit,
                      resume=args.resume, progress=not args.no_progress)
    summary = train(cfg)
    print(json.dumps({k: summary[k] for k in ("data", "epochs_run", "stop_epoch", "stop_reason",
                                              "returned_checkpoint", "collapse_epoch")}, indent=2))
    return 1 if summary["status"] == "failed" else 0
