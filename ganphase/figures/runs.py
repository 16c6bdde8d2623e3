"""The training runs the figures draw from, trained once and cached under ``outdir/runs/<name>``.

``ensure_run(name, profile, outdir, **overrides)`` returns the folder of a finished
run of :mod:`ganphase.simulate.train` (``summary.json`` written, ``config.json``
holding the requested settings). It trains only when needed:

* a folder whose ``summary.json`` is present and whose settings match is reused as is;
* a folder without ``summary.json`` (an interrupted run) is resumed from its last
  checkpoint (``TrainConfig.resume``), so a killed figure job loses at most one epoch;
* a finished run asked for more epochs is resumed to the new length;
* a folder holding different settings is removed and trained afresh.

``RUNS`` names the runs per profile. ``paper`` follows Appendix F.2 (images at
64 x 64, the thresholds of Algorithm 2 computed as F.2 says, the paper's epoch
counts); ``quick`` keeps every figure of the set within minutes on two CPU cores by
training on subsets, fewer iterations per epoch, smaller networks and native image
sizes; ``test`` is a few iterations, for the test suite only. Every run is seeded,
so the same profile gives the same run on the same device.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from ganphase.simulate.train import TrainConfig, train

PROFILES = ("quick", "paper", "test")

# Settings that name where and how a run executes, not what it computes.
_NOT_COMPARED = ("out", "resume", "progress", "device", "epochs", "data_dir", "threads")

_MIXTURE_QUICK = dict(max_iterations_per_epoch=40, eval_every=2, eval_samples=512)
_IMAGE_QUICK = dict(resize=None, width=16, max_iterations_per_epoch=24, eval_every=1, eval_samples=128,
                    eval_steepness_samples=16, evaluator=False, monitor_batch=8, power_iters=1)
_IMAGE_TEST = dict(resize=None, width=8, subset=256, max_iterations_per_epoch=3, eval_every=1, eval_samples=32,
                   eval_steepness_samples=4, evaluator=False, monitor_batch=4, power_iters=1, epochs=2)
_EARLY = dict(early_stop=True, continue_after_stop=True)

RUNS: dict[str, dict[str, dict]] = {
    # Figures 1 and 5 (3-D mixture): Algorithm 2 records its stop and training goes on past it.
    "gmm-3d": {
        "paper": dict(data="gmm-3d", epochs=1000, eval_every=10, eval_samples=1024, **_EARLY),
        "quick": dict(data="gmm-3d", epochs=40, **_MIXTURE_QUICK, **_EARLY),
        "test": dict(data="gmm-3d", epochs=3, max_iterations_per_epoch=6, eval_every=1, eval_samples=64,
                     warmup=2, **_EARLY),
    },
    # Figure 11 (Appendix G.1): the 4-mode toy with sigma^2 = 0.0125.
    "gmm-2d": {
        "paper": dict(data="gmm-2d", epochs=200, eval_every=10, eval_samples=1024),
        "quick": dict(data="gmm-2d", epochs=20, **_MIXTURE_QUICK),
        "test": dict(data="gmm-2d", epochs=2, max_iterations_per_epoch=5, eval_every=1, eval_samples=64),
    },
    "gmm-2d-noised": {
        "paper": dict(data="gmm-2d", epochs=200, eval_every=10, eval_samples=1024, noise_std=0.1),
        "quick": dict(data="gmm-2d", epochs=20, noise_std=0.1, **_MIXTURE_QUICK),
        "test": dict(data="gmm-2d", epochs=2, max_iterations_per_epoch=5, eval_every=1, eval_samples=64,
                     noise_std=0.1),
    },
    # scikit-learn's 8x8 digits: the quick stand-in for MNIST (figures 1, 5, 6, 17-19).
    "digits": {
        "paper": dict(data="digits", epochs=150, eval_every=2, **_EARLY),
        "quick": dict(data="digits", epochs=60, eval_every=3, eval_samples=256, checkpoint_every=3,
                      keep_last=1000, warmup=50, **_EARLY),
        "test": dict(data="digits", epochs=3, max_iterations_per_epoch=4, eval_every=1, eval_samples=64,
                     keep_last=1000, warmup=2, evaluator=False, **_EARLY),
    },
    # Appendix F.2 (figures 5, 6, 17-19): DCGAN at 64 x 64, Algorithm 2 with F.2's thresholds.
    "mnist": {
        "paper": dict(data="mnist", epochs=60, eval_every=1, checkpoint_every=1, keep_last=1000, **_EARLY),
        "quick": dict(data="mnist", subset=2048, epochs=6, **_IMAGE_QUICK, **_EARLY),
        "test": dict(data="mnist", **_IMAGE_TEST, **_EARLY),
    },
    "fashion-mnist": {
        "paper": dict(data="fashion-mnist", epochs=150, eval_every=1, checkpoint_every=1, keep_last=1000,
                      **_EARLY),
        "quick": dict(data="fashion-mnist", subset=2048, epochs=6, **_IMAGE_QUICK, **_EARLY),
        "test": dict(data="fashion-mnist", **_IMAGE_TEST, **_EARLY),
    },
    "cifar10": {
        "paper": dict(data="cifar10", epochs=150, eval_every=1, checkpoint_every=1, keep_last=1000, **_EARLY),
        "quick": dict(data="cifar10", subset=2048, epochs=6, **_IMAGE_QUICK, **_EARLY),
        "test": dict(data="cifar10", **_IMAGE_TEST, **_EARLY),
    },
    # Appendix G.7 (figures 7, 20, 21): the same generator and seed, the discriminator with and without
    # N(0, 0.1^2) noise before every layer. The paper trains on Fashion-MNIST; quick uses the 8x8 digits.
    "noise-free": {
        "paper": dict(data="fashion-mnist", epochs=100, eval_every=2, eval_samples=1024, evaluator=False),
        "quick": dict(data="digits", epochs=40, eval_every=4, eval_samples=512, evaluator=False),
        "test": dict(data="digits", epochs=2, max_iterations_per_epoch=4, eval_every=1, eval_samples=64,
                     evaluator=False),
    },
    "noised": {
        "paper": dict(data="fashion-mnist", epochs=100, eval_every=2, eval_samples=1024, evaluator=False,
                      noise_std=0.1),
        "quick": dict(data="digits", epochs=40, eval_every=4, eval_samples=512, evaluator=False, noise_std=0.1),
        "test": dict(data="digits", epochs=2, max_iterations_per_epoch=4, eval_every=1, eval_samples=64,
                     evaluator=False, noise_std=0.1),
    },
}


def check_profile(profile: str) -> str:
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {', '.join(PROFILES)}, got {profile!r}")
    return profile


def spec(name: str, profile: str, **overrides) -> dict:
    """The TrainConfig fields of run ``name`` in ``profile`` (seed 0 unless overridden)."""
    check_profile(profile)
    if name not in RUNS:
        raise ValueError(f"unknown run {name!r}; the runs are {', '.join(RUNS)}")
    fields = {"seed": 0, **RUNS[name][profile], **overrides}
    unknown = set(fields) - set(TrainConfig.__dataclass_fields__)
    if unknown:
        raise ValueError(f"unknown TrainConfig field(s) {', '.join(sorted(unknown))} for run {name!r}")
    return fields


def run_dir(name: str, outdir) -> Path:
    return Path(outdir) / "runs" / name


def _data_dir():
    from ganphase.simulate.metrics.classifier import default_data_dir

    d = default_data_dir()
    return None if d is None else str(d)


def _comparable(train_fields: dict) -> dict:
    return {k: json.dumps(v) for k, v in train_fields.items() if k not in _NOT_COMPARED}


def status(folder: Path, cfg: TrainConfig) -> str:
    """'absent', 'complete', 'incomplete', 'shorter' (finished, fewer epochs asked before) or 'different'."""
    config = folder / "config.json"
    if not config.exists():
        return "absent"
    old = json.loads(config.read_text())["train"]
    if _comparable(old) != _comparable(cfg.to_dict()):
        return "different"
    if not (folder / "summary.json").exists():
        return "incomplete"
    return "shorter" if old["epochs"] < cfg.epochs else "complete"


def ensure_run(name: str, profile: str, outdir, device: str = "auto", progress: bool = True,
               **overrides) -> Path:
    """The folder of finished run ``name`` (``outdir/runs/<name>``), trained or resumed only if needed.

    Raises ValueError (from the data loader) when the run's data set is absent; figures catch it
    and say so in their caption.
    """
    folder = run_dir(name, outdir)
    fields = spec(name, profile, **overrides)
    fields.setdefault("data_dir", _data_dir())
    cfg = TrainConfig(**fields, out=str(folder), device=device, progress=progress)
    state = status(folder, cfg)
    if state == "complete":
        return folder
    if state == "different":
        shutil.rmtree(folder)
    cfg.resume = state in ("incomplete", "shorter")
    if cfg.resume:  # where the data was read from is not part of the result; keep the recorded folder
        cfg.data_dir = config(folder)["train"]["data_dir"]
    train(cfg)
    return folder


def summary(folder) -> dict:
    return json.loads((Path(folder) / "summary.json").read_text())


def config(folder) -> dict:
    return json.loads((Path(folder) / "config.json").read_text())


def metrics(folder) -> list[dict]:
    from ganphase.io import read_jsonl

    return read_jsonl(Path(folder) / "metrics.jsonl")


def monitor(folder) -> list[dict]:
    from ganphase.io import read_jsonl

    return read_jsonl(Path(folder) / "monitor.jsonl")


def eval_epochs(folder) -> list[int]:
    d = Path(folder) / "evals"
    return sorted(int(p.stem.split("_")[1]) for p in d.glob("epoch_*.npz")) if d.exists() else []


def load_eval(folder, epoch: int) -> dict:
    """The arrays saved at evaluation epoch ``epoch`` (samples, z, grad_norms, steepness, ...)."""
    import numpy as np

    path = Path(folder) / "evals" / f"epoch_{epoch:04d}.npz"
    if not path.exists():
        raise ValueError(f"{folder} has no evaluation at epoch {epoch}; it has {eval_epochs(folder)}")
    with np.load(path, allow_pickle=False) as f:
        return {k: f[k] for k in f.files}
