"""Figure 4: mode-mixture heatmaps log(count + 1) of classifier pairs over epochs, MNIST (Section 6.1).

Appendix F.1: a classifier q gives each generated image x the probabilities
(p_0, ..., p_9); every pair (i, j) with p_i, p_j > 1e-2 is counted (a single
class above the threshold is paired with itself), over a batch of 256 images.
The heatmap entry (i, j) is log(1 + count_ij).  Counts come from
:func:`ganphase.simulate.metrics.fitting.pair_counts`; q is the toolkit's
classifier (:func:`ganphase.simulate.metrics.classifier.get_classifier`).

For each chosen epoch the run's checkpoint generates 256 images from one fixed
batch of latents (the same latents at every epoch), so the heatmaps follow one
batch of particles through training.  This module also holds the machinery of
figures 14 and 15 (annotated heatmaps) and the helpers the image figures share.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ganphase.figures.common import SEED, Caption, check_profile, save, save_arrays
from ganphase.figures.fig08 import CLASS_NAMES, PRETTY, placeholder, reusable
from ganphase.simulate.metrics.fitting import TAU, pair_counts

TITLE = "Mode-mixture heatmaps of classifier pairs over epochs, MNIST (Section 6.1)"
NUMBER = 4
CLAIMS = ("thm-3.3", "thm-3.4")  # the registry claims this figure illustrates

# quick classifiers: a training subset and 2 epochs instead of the full recipe (MNIST: 7 CPU minutes).  For MNIST
# 20000 images (97.9 % test accuracy); with 6000 (95.5 %) the classifier spreads its probabilities over all ten
# classes on the grey images of an untrained generator.
CLASSIFIER_QUICK = {"train_subset": 20000, "epochs": 2}
# quick runs: a larger Adam step (2e-3 instead of DCGAN's 2e-4) so that a few hundred iterations on two CPU cores
# move the generator from noise to digit-like images.
FAST = {"lr_g": 2e-3, "lr_d": 2e-3}
CLASSIFIER_TEST = {"train_subset": 512, "epochs": 1}
# run: (name in ganphase.figures.runs, its profile, subfolder of outdir holding it or None for the shared
# outdir/runs, TrainConfig overrides).  The quick and test runs keep every checkpoint (keep_last), which the
# shared runs of those profiles prune, so they live in their own folder outdir/fitting/runs/<name>.
RUN_MNIST = {
    "quick": {"run": "mnist", "run_profile": "quick", "folder": "fitting",
              "overrides": {"epochs": 10, "max_iterations_per_epoch": 40, "keep_last": 1000, **FAST}},
    "paper": {"run": "mnist", "run_profile": "paper", "folder": None, "overrides": {}},
    "test": {"run": "mnist", "run_profile": "test", "folder": "fitting", "overrides": {"keep_last": 1000}},
}
SETTINGS = {
    "quick": {**RUN_MNIST["quick"], "epochs": [0, 1, 2, 4, 8], "n_images": 256,
              "classifier": CLASSIFIER_QUICK, "test_subset": 2000},
    "paper": {**RUN_MNIST["paper"], "epochs": [0, 1, 2, 4, 8], "n_images": 256, "classifier": {},
              "test_subset": None},
    "test": {**RUN_MNIST["test"], "epochs": [0, 1, 2], "n_images": 64, "classifier": CLASSIFIER_TEST,
             "test_subset": 500},
}


# ----------------------------------------------------------------------------- shared helpers
def profile_of(profile: str) -> str:
    """'quick' or 'paper' (checked), or the hidden 'test' profile of the test suite."""
    return profile if profile == "test" else check_profile(profile)


def ensure(settings: dict, outdir) -> Path:
    """The finished run folder the settings name (trained only when absent); ValueError when data is absent."""
    from ganphase.figures.runs import ensure_run

    base = Path(outdir) if settings["folder"] is None else Path(outdir) / settings["folder"]
    return ensure_run(settings["run"], settings["run_profile"], base, progress=False, **settings["overrides"])


def classifier(name: str, settings: dict, outdir, device: str = "auto"):
    """(model, info) of the cached classifier of ``name``, trained into outdir/classifiers when absent
    (on the GPU when there is one)."""
    from ganphase.simulate.metrics.classifier import get_classifier

    return get_classifier(name, cache_dir=Path(outdir) / "classifiers", progress=False, device=device,
                          test_subset=settings["test_subset"], **settings["classifier"])


def classifier_text(info: dict) -> str:
    cfg = info["config"]
    return (f"classifier: the toolkit's small CNN ({info['n_train']} training images, {cfg['epochs']} epochs, "
            f"{100 * info['test_accuracy']:.2f} % test accuracy on {info['n_test']} test images)")


def fixed_latents(n: int, latent_dim: int, seed: int = SEED) -> torch.Tensor:
    return torch.randn(n, latent_dim, generator=torch.Generator().manual_seed(seed + 4040))


@torch.no_grad()
def class_probabilities(model, x: torch.Tensor, batch: int = 256) -> np.ndarray:
    """Softmax probabilities (M, C) in float64 of images in [-1, 1], resized to the classifier's side."""
    from ganphase.simulate.metrics.classifier import to_side

    model.eval()
    dev = next(model.parameters()).device
    out = []
    for i in range(0, len(x), batch):
        logits = model(to_side(x[i:i + batch].to(dev, torch.float32), model.side))
        out.append(torch.softmax(logits.double(), 1).cpu())
    return torch.cat(out).numpy()


@torch.no_grad()
def generated(run_folder, epoch: int, z: torch.Tensor) -> torch.Tensor:
    """Images G_epoch(z) of the run's checkpoint (generator in eval mode)."""
    from ganphase.simulate.train import load_generator

    return load_generator(run_folder, epoch)(z)


def available_epochs(run_folder, wanted) -> list[int]:
    from ganphase.simulate.train import checkpoint_epochs

    have = set(checkpoint_epochs(run_folder))
    return [e for e in wanted if e in have]


def fitting_data(settings: dict, outdir, dataset: str):
    """Pair counts over the chosen checkpoints: dict of arrays and the classifier info.

    Arrays: ``epochs`` (E,), ``probs`` (E, M, C) classifier probabilities of the generated batch,
    ``counts`` (E, C, C) = pair_counts(probs[e]), ``log_counts`` = log(1 + counts).
    """
    from ganphase.figures.runs import config

    folder = ensure(settings, outdir)
    model, info = classifier(dataset, settings, outdir)
    epochs = available_epochs(folder, settings["epochs"])
    if not epochs:
        raise ValueError(f"the run {folder} keeps none of the checkpoints {settings['epochs']}")
    z = fixed_latents(settings["n_images"], config(folder)["model"]["latent_dim"])
    probs = np.stack([class_probabilities(model, generated(folder, e, z)) for e in epochs])
    counts = np.stack([pair_counts(p, TAU) for p in probs])
    arrays = {"epochs": np.array(epochs), "probs": probs, "counts": counts, "log_counts": np.log1p(counts),
              "tau": np.array(TAU)}
    return arrays, info, folder


def off_diagonal_share(counts: np.ndarray) -> float:
    """Share of the counted pairs that are off the diagonal (mode mixture), counting each unordered pair once."""
    off = np.triu(counts, 1).sum()
    total = off + np.trace(counts)
    return float(off / total) if total else 0.0


def draw_heatmaps(log_counts, labels, dataset, annotate: bool, ncols: int):
    """One heatmap of log(1 + count) per entry of ``labels``, sharing one colour scale."""
    import matplotlib.pyplot as plt

    n = len(log_counts)
    cell = 3.2 if annotate else 2.4
    ncols = min(ncols, n)
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(cell * ncols + 0.8, cell * nrows + 0.3), squeeze=False)
    vmax = max(float(np.max(log_counts)), 1e-9)
    names = CLASS_NAMES.get(dataset)
    ticks = [str(i) for i in range(log_counts.shape[-1])]
    for k, ax in enumerate(axes.flat):
        if k >= n:
            ax.axis("off")
            continue
        im = ax.imshow(log_counts[k], cmap="Blues", vmin=0, vmax=vmax)
        ax.set_xticks(range(len(ticks)), ticks, fontsize=5)
        ax.set_yticks(range(len(ticks)), ticks, fontsize=5)
        ax.set_xlabel(labels[k], fontsize=7)
        ax.tick_params(length=1, pad=1)
        if annotate:
            for i in range(log_counts.shape[1]):
                for j in range(log_counts.shape[2]):
                    v = log_counts[k, i, j]
                    if v > 0:
                        ax.text(j, i, f"{v:.1f}", ha="center", va="center", fontsize=4.2,
                                color="white" if v > 0.6 * vmax else "black")
    fig.colorbar(im, ax=axes.ravel().tolist(), shrink=0.8, label="log(1 + count)")
    if names:
        fig.text(0.01, 0.0, "classes: " + ", ".join(f"{i} {s}" for i, s in enumerate(names)), fontsize=6)
    return fig


def measured_of(arrays, labels) -> dict:
    """Per heatmap: nonzero entries of the upper triangle, off-diagonal share of the pairs, and the mean
    number of classes above tau per image (1 = no mode mixture)."""
    out = {}
    for lab, c, p in zip(labels, arrays["counts"], arrays["probs"]):
        above = (p > float(arrays["tau"])).sum(1).mean()
        out[lab] = (f"{int((np.triu(c) > 0).sum())} nonzero entries, off-diagonal share "
                    f"{off_diagonal_share(c):.3f}, {above:.2f} classes above tau per image")
    return out


def make_fitting_figure(number: int, dataset: str, settings: dict, profile: str, outdir, text: str,
                        claims, stand_in: str, labels_of, annotate: bool, ncols: int) -> list:
    """Figures 4, 14, 15: heatmaps of log(1 + pair counts) over checkpoints of a run on ``dataset``."""
    paths = reusable(outdir, number, profile, settings)
    if paths:
        return paths
    try:
        arrays, info, folder = fitting_data(settings, outdir, dataset)
    except ValueError as exc:
        msg = (f"The {PRETTY[dataset]} heatmaps could not be computed: {exc}")
        cap = Caption(number, msg, profile, settings, claims=tuple(claims), stand_in="data or run unavailable")
        return save(placeholder(number, msg), outdir, cap)
    labels = [labels_of(int(e)) for e in arrays["epochs"]]
    fig = draw_heatmaps(arrays["log_counts"], labels, dataset, annotate, ncols)
    data = save_arrays(outdir, number, arrays)
    cap = Caption(number, text + f" Pairs with p_i, p_j > {TAU:g} over a fixed batch of {settings['n_images']} "
                  f"generated images per checkpoint ({classifier_text(info)}). Run folder: {folder.name}.",
                  profile, settings, claims=tuple(claims), measured=measured_of(arrays, labels),
                  stand_in=stand_in)
    return save(fig, outdir, cap) + [data]


def run_stand_in(settings: dict, dataset: str) -> str:
    """What replaces the paper's run in the quick profile, read from the run's recorded settings."""
    if settings["run_profile"] == "paper":
        return ""
    from ganphase.figures.runs import spec

    s = spec(settings["run"], settings["run_profile"], **settings["overrides"])
    return (f"NSGAN trained on the first {s.get('subset')} {PRETTY[dataset]} training images at native size "
            f"(DCGAN width {s.get('width')}, Adam step {s.get('lr_g', 2e-4):g}), {s.get('max_iterations_per_epoch')} "
            f"iterations of batch 64 per epoch instead of the full data at 64 x 64 (937 iterations per epoch); "
            f"the classifier is trained on a subset for fewer epochs.")


def make(profile: str, outdir) -> list:
    profile = profile_of(profile)
    settings = SETTINGS[profile]
    text = ("log(1 + count) of classifier pairs (i, j) among generated MNIST images at epochs "
            f"{', '.join(map(str, settings['epochs']))} (Appendix F.1's counting; one colour scale). "
            "Off-diagonal entries are images the classifier places between two modes (mode mixture); the paper "
            "reports few entries at initialisation, more as the generator spreads over the modes, and fewer "
            "off-diagonal counts as fitting proceeds (Section 6.1).")
    return make_fitting_figure(NUMBER, "mnist", settings, profile, outdir, text, CLAIMS,
                               run_stand_in(settings, "mnist"), lambda e: f"epoch {e}", annotate=False,
                               ncols=5)
