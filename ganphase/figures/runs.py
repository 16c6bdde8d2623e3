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

from ganphase.simulate.run_folder import RunFolder, warn
from ganphase.simulate.settings import get as get_setting
from ganphase.simulate.train import TrainConfig, train

PROFILES = ("quick", "paper", "test")

# Settings that name where and how a run executes, not what it computes.
_NOT_COMPARED = ("out", "resume", "progress", "device", "epochs", "data_dir", "threads")

# quick: the paper's SGD recipe barely leaves the origin in the ~1,600 iterations a quick run affords, so the
# mixtures and the digits use Adam and smaller networks there (the figure captions say so).
_MIXTURE_QUICK = dict(optimizer="adam", lr_g=2e-3, lr_d=2e-3, hidden=(64, 64, 64), batch_size=64,
                      max_iterations_per_epoch=40, eval_every=2, eval_samples=512)
# test runs have fewer iterations per epoch than TrainConfig's monitor_every (8): monitors at every iteration
_MIXTURE_TEST = dict(max_iterations_per_epoch=6, eval_every=1, eval_samples=64, warmup=2, epochs=3, monitor_every=1,
                     monitor_latents="batch")   # a noisy Delta S_g, so that k_g = -0.05 fires in the test runs
_DIGITS_QUICK = dict(data="digits", optimizer="adam", lr_g=1e-3, lr_d=1e-3, epochs=80, eval_every=4,
                     checkpoint_every=4, keep_last=1000, eval_samples=256)
_DIGITS_TEST = dict(data="digits", epochs=3, max_iterations_per_epoch=4, eval_every=1, eval_samples=64, monitor_every=1,
                    keep_last=1000, warmup=2, evaluator=False)
_IMAGE_PAPER = dict(eval_every=1, checkpoint_every=1, keep_last=1000)
# quick images: Adam at step 1e-3 (the paper's 2e-4 leaves noise after 600 iterations); 12 x 50 iterations
_IMAGE_QUICK = dict(subset=2048, epochs=12, resize=None, width=16, max_iterations_per_epoch=50, eval_every=1,
                    optimizer="adam", lr_g=1e-3, lr_d=1e-3,
                    eval_samples=128, eval_steepness_samples=16, evaluator=False, monitor_batch=8, power_iters=1)
_IMAGE_TEST = dict(subset=256, epochs=2, resize=None, width=8, max_iterations_per_epoch=3, eval_every=1, monitor_every=1,
                   eval_samples=32, eval_steepness_samples=4, evaluator=False, monitor_batch=4, power_iters=1)
_EARLY = dict(early_stop=True, continue_after_stop=True)   # Algorithm 2 records its stop, training goes on
_NOISE = dict(noise_std=0.1)                               # Appendix G.7: N(0, 0.1^2) before every D layer

# The runs that reach the collapse phase in the quick profile (figures 5-7, 16-21): the named setting
# ``ring8-collapse`` (the paper's SGD mixture recipe on a ring of 8 Gaussians), cut to RING_QUICK_EPOCHS epochs
# and with the monitors every 8th iteration (TrainConfig's default) instead of every iteration, without the
# duality gaps and Jacobian conditioning at evaluations; every
# checkpoint kept so that figure 18 has the whole run. The paper profile runs the setting as it is.
RING_SETTING = "ring8-collapse"
RING_QUICK_EPOCHS = 70
_RING = {k: v for k, v in get_setting(RING_SETTING).train.items() if k != "progress"}
_NO_GAME = dict(eval_duality_gap=False, eval_jacobian=False)   # figure 18 computes its own duality gaps
_RING_QUICK = dict(_RING, epochs=RING_QUICK_EPOCHS, monitor_every=8, keep_last=1000, **_NO_GAME)
_RING_TEST = dict(_RING, **_MIXTURE_TEST, k_g=-0.05, checkpoint_every=1, keep_last=1000, **_NO_GAME)

RUNS: dict[str, dict[str, dict]] = {
    # Figures 1 and 5 (3-D mixture, Appendix F.2: k_d = 2, sigma^2 = 0.0125, k_g = -0.5, N_w = 50).
    "gmm-3d": {
        "paper": dict(data="gmm-3d", epochs=1000, eval_every=10, eval_samples=1024, **_EARLY),
        "quick": dict(data="gmm-3d", epochs=40, **_MIXTURE_QUICK, **_EARLY),
        "test": dict(data="gmm-3d", **_MIXTURE_TEST, **_EARLY, k_g=-0.05),   # a stop within a few steps
    },
    # Figures 5-7 and 16-21 in the quick profile, and its noised twin (figures 5, 7, 19-21).
    "ring8": {"paper": dict(_RING), "quick": dict(_RING_QUICK), "test": dict(_RING_TEST)},
    "ring8-noised": {"paper": dict(_RING, **_NOISE), "quick": dict(_RING_QUICK, **_NOISE),
                     "test": dict(_RING_TEST, **_NOISE)},
    # Figure 11 (Appendix G.1): the 4-mode toy with sigma^2 = 0.0125.
    "gmm-2d": {
        "paper": dict(data="gmm-2d", epochs=200, eval_every=10, eval_samples=1024),
        "quick": dict(data="gmm-2d", epochs=20, **_MIXTURE_QUICK),
        "test": dict(data="gmm-2d", **_MIXTURE_TEST),
    },
    "gmm-2d-noised": {
        "paper": dict(data="gmm-2d", epochs=200, eval_every=10, eval_samples=1024, **_NOISE),
        "quick": dict(data="gmm-2d", epochs=20, **_MIXTURE_QUICK, **_NOISE),
        "test": dict(data="gmm-2d", **_MIXTURE_TEST, **_NOISE),
    },
    # scikit-learn's 8x8 digits: the quick stand-in for MNIST (figures 1, 5, 6, 17-19) and, with its
    # noised twin, for Fashion-MNIST in figures 7, 20, 21.
    "digits": {
        "paper": dict(data="digits", epochs=150, eval_every=2, **_EARLY),
        "quick": dict(**_DIGITS_QUICK, **_EARLY),
        "test": dict(**_DIGITS_TEST, **_EARLY),
    },
    "digits-noised": {
        "paper": dict(data="digits", epochs=150, eval_every=2, **_EARLY, **_NOISE),
        "quick": dict(**_DIGITS_QUICK, **_EARLY, **_NOISE),
        "test": dict(**_DIGITS_TEST, **_EARLY, **_NOISE),
    },
    # Appendix F.2 (figures 5, 6, 17-19): DCGAN at 64 x 64, Algorithm 2 with F.2's thresholds.
    "mnist": {
        "paper": dict(data="mnist", epochs=60, **_IMAGE_PAPER, **_EARLY),
        "quick": dict(data="mnist", **_IMAGE_QUICK, **_EARLY),
        "test": dict(data="mnist", **_IMAGE_TEST, **_EARLY),
    },
    "fashion-mnist": {
        "paper": dict(data="fashion-mnist", epochs=150, **_IMAGE_PAPER, **_EARLY),
        "quick": dict(data="fashion-mnist", **_IMAGE_QUICK, **_EARLY),
        "test": dict(data="fashion-mnist", **_IMAGE_TEST, **_EARLY),
    },
    "fashion-mnist-noised": {
        "paper": dict(data="fashion-mnist", epochs=150, **_IMAGE_PAPER, **_EARLY, **_NOISE),
        "quick": dict(data="fashion-mnist", **_IMAGE_QUICK, **_EARLY, **_NOISE),
        "test": dict(data="fashion-mnist", **_IMAGE_TEST, **_EARLY, **_NOISE),
    },
    "cifar10": {
        "paper": dict(data="cifar10", epochs=150, **_IMAGE_PAPER, **_EARLY),
        "quick": dict(data="cifar10", **_IMAGE_QUICK, **_EARLY),
        "test": dict(data="cifar10", **_IMAGE_TEST, **_EARLY),
    },
}

# Appendix G.7 trains the noise-free and the noised GAN on Fashion-MNIST; quick and test use the ring, which
# reaches the collapse phase within the quick budget.
NOISE_PAIRS = {"paper": ("fashion-mnist", "fashion-mnist-noised"), "quick": ("ring8", "ring8-noised"),
               "test": ("ring8", "ring8-noised")}
# The named setting (ganphase.simulate.settings) each run is cut from, for the captions.
FROM_SETTING = {"ring8": RING_SETTING, "ring8-noised": RING_SETTING}


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
    run = RunFolder(folder)
    if not run.exists():
        return "absent"
    try:
        old = run.read_config()["train"]
    except ValueError as exc:   # damaged or foreign: trained afresh
        warn(f"{exc}; the run is trained afresh")
        return "different"
    if _comparable(old) != _comparable(cfg.to_dict()):
        return "different"
    if not run.finished():
        return "incomplete"
    return "shorter" if old["epochs"] < cfg.epochs else "complete"


def _share_classifiers(folder: Path) -> None:
    """Copy the evaluator classifiers other runs in this outdir already trained into this run's cache.

    The evaluator looks in ``<run>/eval_cache`` first and loads a classifier only when its recipe key
    matches (``ganphase.simulate.metrics.classifier``), so sharing saves retraining and changes nothing.
    """
    target = folder / "eval_cache"
    for src in folder.parent.glob("*/eval_cache/*"):
        if src.parent != target and src.suffix in (".pt", ".json") and not (target / src.name).exists():
            target.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, target / src.name)


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
    _share_classifiers(folder)
    if cfg.resume:  # where the data was read from is not part of the result; keep the recorded folder
        cfg.data_dir = config(folder)["train"]["data_dir"]
    train(cfg)
    return folder


def summary(folder) -> dict:
    return RunFolder(folder).read_summary() or {}


def config(folder) -> dict:
    return RunFolder(folder).read_config()


def metrics(folder) -> list[dict]:
    return RunFolder(folder).metrics()


def monitor(folder) -> list[dict]:
    return RunFolder(folder).monitor()


def eval_epochs(folder) -> list[int]:
    return RunFolder(folder).eval_epochs()


def load_eval(folder, epoch: int) -> dict:
    """The arrays saved at evaluation epoch ``epoch`` (samples, z, grad_norms, steepness, ...)."""
    return RunFolder(folder).read_eval(epoch)


# ----------------------------------------------------------------------------- reading runs for figures
def try_run(name: str, profile: str, outdir, **overrides):
    """(folder, None) for a finished run, or (None, reason) when its data set is absent or training fails."""
    try:
        return ensure_run(name, profile, outdir, **overrides), None
    except (ValueError, OSError) as exc:
        return None, f"run {name!r} unavailable: {exc}"


def series(rows: list[dict], key: str) -> tuple:
    """(epochs, values) of per-epoch field ``key`` of metrics.jsonl rows (``eval.<k>`` for evaluation scalars)."""
    import numpy as np

    ep, val = [], []
    for r in rows:
        v = r
        for part in key.split("."):
            v = v.get(part) if isinstance(v, dict) else None
        if isinstance(v, (int, float)) and v == v:
            ep.append(r["epoch"])
            val.append(float(v))
    return np.asarray(ep, int), np.asarray(val, float)


def samples_at(folder, epoch: int, n: int | None = None):
    """Generated samples of ``epoch`` on the run's fixed evaluation latents (numpy).

    Evaluation epochs read ``evals/epoch_XXXX.npz``; other epochs with a checkpoint (epoch 0 always has
    one) run that checkpoint's generator on the same latents.
    """
    import numpy as np
    import torch

    from ganphase.simulate.train import load_generator

    folder = Path(folder)
    if RunFolder(folder).eval_path(epoch).exists():
        x = load_eval(folder, epoch)["samples"]
    else:
        first = eval_epochs(folder)
        if not first:
            raise ValueError(f"{folder} has no evaluation latents (evals/epoch_XXXX.npz)")
        z = torch.as_tensor(load_eval(folder, first[0])["z"])
        with torch.no_grad():
            x = load_generator(folder, epoch, device="cpu")(z).numpy()
    return np.asarray(x if n is None else x[:n])


def describe(folder) -> str:
    """The run's setting in words, read from its ``config.json`` (and the named setting it is cut from)."""
    folder = Path(folder)
    cfg = config(folder)
    t, m = cfg["train"], cfg["model"]
    net = (f"MLP {len(m['hidden'])} x {m['hidden'][0]}" if m["kind"] == "mlp" else f"DCGAN width {m['ngf']}")
    iters = cfg["n_train"] // cfg["batch_size"]
    if t["max_iterations_per_epoch"]:
        iters = min(iters, t["max_iterations_per_epoch"])
    text = (f"{t['data']}, {net}, {m['optimizer'].upper()} lr {m['lr_g']:g}, batch {cfg['batch_size']}, "
            f"{t['epochs']} epochs of {iters} iterations, monitors every {t['monitor_every']} iteration(s), "
            f"evaluations of {t['eval_samples']} samples every {t['eval_every']} epochs, seed {t['seed']}")
    if t["noise_std"]:
        text += f", N(0, {t['noise_std']:g}^2) before every discriminator layer"
    if folder.name in FROM_SETTING:
        s = get_setting(FROM_SETTING[folder.name])
        text = f"setting {s.name} (v{s.version}) as run here: " + text
    return text


def phases(summ: dict) -> dict:
    """{'stop': epoch | None, 'returned': epoch | None, 'collapse': epoch | None} from a run's summary.json.

    ``collapse`` is the toolkit's collapse epoch (:mod:`ganphase.simulate.metrics.collapse`) that training
    recorded; a recorded error counts as None.
    """
    c = summ.get("collapse_epoch")
    return {"stop": summ.get("stop_epoch"), "returned": summ.get("returned_epoch"),
            "collapse": c if isinstance(c, int) and not isinstance(c, bool) else None}


def phase_text(name: str, summ: dict) -> str:
    """One sentence: where Algorithm 2 stopped run ``name`` and where it collapsed, from its summary."""
    p = phases(summ)
    stop = ("Algorithm 2 did not fire" if p["stop"] is None else
            f"Algorithm 2 fired in epoch {p['stop']} (returned checkpoint: epoch {p['returned']})")
    col = ("it did not collapse within its epochs" if p["collapse"] is None else
           f"its collapse epoch is {p['collapse']}")
    return f"{name}: {stop}; {col}"


def mark_phases(ax, summ: dict, labels: bool = True) -> None:
    """The stop (black line) and the collapse epoch (red dashed line) of a run, where it has them."""
    p = phases(summ)
    if p["stop"] is not None:
        ax.axvline(p["stop"], color="k", lw=1.5, label=f"stop (epoch {p['stop']})" if labels else None)
    if p["collapse"] is not None:
        ax.axvline(p["collapse"], color="tab:red", lw=1.5, ls="--",
                   label=f"collapse (epoch {p['collapse']})" if labels else None)


def real_points(folder, n: int = 500):
    """The first ``n`` test samples of a mixture run's data set (numpy), None for image runs."""
    from ganphase.simulate.data import is_mixture, load_dataset

    data = config(folder)["train"]["data"]
    return load_dataset(data, split="test").x[:n].numpy() if is_mixture(data) else None


def panel_epochs(available: list[int], n: int, summ: dict) -> list[int]:
    """``n`` of the ``available`` epochs spread over the run, always including those nearest to the run's stop
    and collapse epoch (``summ``: its summary.json); the spread epochs nearest to those two make room."""
    import numpy as np

    ph = phases(summ)
    marks = nearest(available, [e for e in (ph["stop"], ph["collapse"]) if e is not None])
    rest = [e for e in nearest(available, list(np.linspace(available[0], available[-1], n))) if e not in marks]
    while marks and rest and len(marks) + len(rest) > n:
        rest.remove(min(rest[::-1], key=lambda e: min(abs(e - m) for m in marks)))
    return sorted(marks + rest)


def phase_tag(epoch: int, summ: dict, available: list[int] | None = None) -> str:
    """'collapse', 'stop', 'collapsed' or '' for a panel at ``epoch`` of a run with summary ``summ``
    (``stop``: the epoch of ``available`` nearest to the stop, when given, else the stop epoch itself)."""
    ph = phases(summ)
    if epoch == ph["collapse"]:
        return "collapse"
    if ph["stop"] is not None and epoch == (nearest(available, [ph["stop"]])[0] if available else ph["stop"]):
        return "stop"
    return "collapsed" if ph["collapse"] is not None and epoch > ph["collapse"] else ""


def nearest(available: list[int], wanted: list[int]) -> list[int]:
    """For each wanted epoch the closest available one, duplicates dropped, order kept."""
    out = []
    for w in wanted:
        e = min(available, key=lambda a: (abs(a - w), a))
        if e not in out:
            out.append(e)
    return out


def image_grid(samples, ncols: int = 8):
    """(N, C, H, W) images in [-1, 1] tiled into one (rows*H, ncols*W[, 3]) array in [0, 1] for imshow."""
    import numpy as np

    x = (np.clip(np.asarray(samples, float), -1, 1) + 1) / 2
    n, c, h, w = x.shape
    rows = -(-n // ncols)
    grid = np.ones((c, rows * (h + 1) - 1, ncols * (w + 1) - 1))
    for i in range(n):
        r, q = divmod(i, ncols)
        grid[:, r * (h + 1):r * (h + 1) + h, q * (w + 1):q * (w + 1) + w] = x[i]
    return grid[0] if c == 1 else grid.transpose(1, 2, 0)


def draw_samples(ax, samples, real=None, ncols: int = 4):
    """Images as a grid; mixture samples as a scatter of their first two coordinates over the real ones."""
    import numpy as np

    samples = np.asarray(samples)
    if samples.ndim == 4:
        ax.imshow(image_grid(samples, ncols), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    else:
        if real is not None:
            ax.scatter(real[:, 0], real[:, 1], s=2, c="tab:orange", alpha=0.4, lw=0)
        ax.scatter(samples[:, 0], samples[:, 1], s=2, c="tab:blue", lw=0)
        lim = 2.0 if real is None else max(2.0, 1.15 * float(abs(real[:, :2]).max()))
        ax.set_xlim(-lim, lim)
        ax.set_ylim(-lim, lim)
        ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])


def reusable(outdir, number: int, profile: str):
    """The paths of figure ``number`` already drawn in ``outdir`` for ``profile`` (with its data), else None."""
    from ganphase.figures.common import data_path, stem

    base = stem(outdir, number)
    paths = [base.with_suffix(e) for e in (".png", ".pdf", ".json", ".md")]
    if not all(p.exists() for p in paths) or not data_path(outdir, number).exists():
        return None
    try:
        if json.loads(paths[2].read_text()).get("profile") != profile:
            return None
    except (OSError, json.JSONDecodeError):
        return None
    return paths


def noise_pair(profile: str, outdir) -> tuple[dict, str]:
    """({'noise-free': folder, 'noised': folder}, note) for Appendix G.7.

    The digits pair of the same profile stands in when the profile's data set is absent (said in ``note``).
    """
    free, noised = NOISE_PAIRS[profile]
    try:
        return {"noise-free": ensure_run(free, profile, outdir), "noised": ensure_run(noised, profile, outdir)}, ""
    except ValueError as exc:
        if free == "digits":
            raise
        note = f"The {free} pair is unavailable ({exc}); the digits pair of the same profile stands in."
        return {"noise-free": ensure_run("digits", profile, outdir),
                "noised": ensure_run("digits-noised", profile, outdir)}, note
