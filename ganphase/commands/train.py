"""``ganphase train``: NSGAN on a mixture or an image set, with the paper's monitors and Algorithm 2."""
from __future__ import annotations

import json

from ganphase.commands._args import positive_int

NAME = "train"
HELP = "train NSGAN with the discriminator-gradient and steepness monitors and Algorithm 2 early stopping"
DATA = ("gmm-3d", "gmm-2d", "digits", "mnist", "fashion-mnist", "cifar10", "stacked-mnist")


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
    p.add_argument("--setting", help="a named setting of ganphase.simulate.settings (docs/settings.md); "
                   "the options given explicitly override its values")
    p.add_argument("--data", type=_data_name, help=f"data set: {', '.join(DATA)}, grid:..., ring:... "
                   "(required without --setting)")
    p.add_argument("--epochs", type=positive_int, help="number of epochs (required without --setting)")
    p.add_argument("--out", required=True, help="run folder (config.json, metrics.jsonl, checkpoints/, ...)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--device", default="auto", help="auto | cpu | cuda[:N] (default auto)")
    p.add_argument("--early-stop", action="store_true", default=None, help="stop by Algorithm 2")
    p.add_argument("--continue-after-stop", action="store_true", default=None,
                   help="record Algorithm 2's stop but train on to --epochs")
    p.add_argument("--subset", type=positive_int, help="use the first N training samples")
    p.add_argument("--eval-every", type=positive_int, help="evaluate every K epochs (default 5)")
    p.add_argument("--checkpoint-every", type=positive_int, help="checkpoint every K epochs (default 1)")
    p.add_argument("--keep-last", type=positive_int, help="keep the last K checkpoints (default 3)")
    p.add_argument("--noise-std", type=_non_negative_float,
                   help="discriminator noise per layer (Appendix G.7 uses 0.1)")
    p.add_argument("--data-dir", help="folder of the data files (else $GANPHASE_DATA)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out from its last checkpoint")
    p.add_argument("--batch-size", type=positive_int, help="batch size (default: 128 mixtures, 64 images)")
    p.add_argument("--resize", type=positive_int, help="image side (default 64 for mnist, fashion-mnist, cifar10)")
    p.add_argument("--native-size", action="store_true", help="do not resize images")
    p.add_argument("--width", type=positive_int, help="DCGAN base channels (default 64)")
    p.add_argument("--max-iterations-per-epoch", type=positive_int, help="cap iterations per epoch (quick runs)")
    p.add_argument("--monitor-unit", choices=("iteration", "epoch"),
                   help="apply Algorithm 2 per iteration (default) or once per epoch")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


# options named like the TrainConfig field they set, which a setting may also fix
_FIELDS = ("data", "epochs", "early_stop", "continue_after_stop", "subset", "eval_every", "checkpoint_every",
           "keep_last", "noise_std", "data_dir", "batch_size", "width", "max_iterations_per_epoch", "monitor_unit")


def config_of(args):
    """The TrainConfig of the command line: the setting's values (if any), overridden by the options given."""
    from ganphase.simulate.settings import get
    from ganphase.simulate.train import TrainConfig

    if args.resize and args.native_size:
        raise ValueError("--resize and --native-size exclude each other")
    if args.setting is None and (args.data is None or args.epochs is None):
        raise ValueError("--data and --epochs are required unless --setting names a setting")
    given = {f: getattr(args, f) for f in _FIELDS if getattr(args, f) is not None}
    if args.native_size or args.resize:
        given["resize"] = None if args.native_size else args.resize
    given.update(device=args.device, resume=args.resume, progress=not args.no_progress)
    if args.setting is not None:
        return get(args.setting).config(args.seed, args.out, **given)
    return TrainConfig(**given, seed=args.seed, out=args.out)


def run(args) -> int:
    from ganphase.simulate.train import train

    summary = train(config_of(args))
    print(json.dumps({k: summary[k] for k in ("data", "epochs_run", "stop_epoch", "stop_reason",
                                              "returned_checkpoint", "collapse_epoch")}, indent=2))
    return 1 if summary["status"] == "failed" else 0
