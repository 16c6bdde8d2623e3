"""Figure 8: Frobenius distances between the class means of MNIST (Appendix E.1).

Appendix E: every image is resized to 64 x 64, scaled to [-1, 1], the images of
one label are averaged into a "mode" m_c, and the heatmap shows
D_ij = ||m_i - m_j||_F.  Bilinear resizing and the affine scaling are linear
maps, so the mean of the resized images equals the resized mean: the means are
taken at the native size (float64) and resized once, which keeps the full
training split cheap.  The nearest pair (smallest off-diagonal D_ij) and the
farthest pair (Appendix F.2's k_d: 33.7 for MNIST, 48.1 for Fashion-MNIST,
38.0 for CIFAR-10) are marked.

This module also holds the machinery of figures 9 and 10.
"""
from __future__ import annotations

import json

import numpy as np
import torch
import torch.nn.functional as F

from ganphase.figures.common import Caption, check_profile, data_path, save, save_arrays, stem
from ganphase.simulate.metrics.classifier import default_data_dir
from ganphase.simulate.monitors import class_mean_distances, k_d_from_distances

TITLE = "Frobenius distances between class means of MNIST (Appendix E.1)"
NUMBER = 8
CLAIMS = ("app-f",)  # the registry claims this figure illustrates
DATASET = "mnist"

# Both profiles use the paper's 64 x 64 side and the whole training split (it costs seconds);
# tests shrink ``subset``.
SETTINGS = {"quick": {"side": 64, "split": "train", "subset": None},
            "paper": {"side": 64, "split": "train", "subset": None}}

PAPER_KD = {"mnist": 33.7, "fashion-mnist": 48.1, "cifar10": 38.0}   # Appendix F.2, printed
CLASS_NAMES = {
    "fashion-mnist": ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
                      "Bag", "Ankle boot"),
    "cifar10": ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"),
}
PRETTY = {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST", "cifar10": "CIFAR-10", "digits": "digits (8x8)"}


# ----------------------------------------------------------------------------- reuse of finished outputs
def outputs(outdir, number: int, with_data: bool = True) -> list:
    base = stem(outdir, number)
    paths = [base.with_suffix(s) for s in (".png", ".pdf", ".json", ".md")]
    return paths + ([data_path(outdir, number)] if with_data else [])


def reusable(outdir, number: int, profile: str, settings: dict, with_data: bool = True):
    """The paths of figure ``number`` when outdir already holds it drawn with this profile and settings."""
    paths = outputs(outdir, number, with_data)
    if not all(p.is_file() for p in paths):
        return None
    try:
        record = json.loads(paths[2].read_text())
    except (OSError, ValueError):
        return None
    same = record.get("profile") == profile and \
        json.dumps(record.get("settings"), sort_keys=True) == json.dumps(_plain(settings), sort_keys=True)
    return paths if same else None


def _plain(obj):
    return json.loads(json.dumps(obj, default=str))


# ----------------------------------------------------------------------------- class means (Appendix E)
def load_images(name: str, split: str = "train", subset=None):
    """(images as stored (N, H, W) or (N, H, W, C), labels, top value, source) or None when absent.

    Image sets are found by the data loader's own search (``$GANPHASE_DATA``, then
    ``../shared/data``) but kept in uint8: the float copy of CIFAR-10 would cost seconds and
    600 MB; ``digits`` is scikit-learn's bundled set (values 0..16).
    """
    if name == "digits":
        from sklearn.datasets import load_digits

        d = load_digits()
        x, y, top, where = d.images, d.target, 16.0, "sklearn.datasets.load_digits"
    else:
        from ganphase.simulate.data import _image_set

        try:
            (x, y), where = _image_set(name, default_data_dir(), split)
        except ValueError:
            return None
        top = 255.0
    if subset is not None:
        x, y = x[:subset], y[:subset]
    return x, np.asarray(y, np.int64), top, str(where)


def class_means(x: np.ndarray, y: np.ndarray, top: float, side: int) -> tuple[np.ndarray, np.ndarray]:
    """(labels, means (K, C, side, side)): per label the float64 mean of the images scaled to [-1, 1]
    by v -> 2 v / top - 1 (``load_dataset``'s scaling), then resized to side x side (bilinear,
    align_corners=False, as ``load_dataset(resize=...)``)."""
    labels = np.unique(y)
    m = np.stack([x[y == c].mean(0, dtype=np.float64) for c in labels]) * (2.0 / top) - 1.0
    t = torch.from_numpy(m)
    t = t.unsqueeze(1) if t.dim() == 3 else t.permute(0, 3, 1, 2)
    if t.shape[-1] != side:
        t = F.interpolate(t, size=(side, side), mode="bilinear", align_corners=False)
    return labels, t.numpy()


def mode_distances(name: str, settings: dict):
    """(distance matrix, labels, info) of data set ``name``, or None when its file is absent."""
    found = load_images(name, settings["split"], settings["subset"])
    if found is None:
        return None
    x, y, top, source = found
    labels, means = class_means(x, y, top, settings["side"])
    dist = class_mean_distances(torch.from_numpy(means), torch.from_numpy(labels))
    info = {"n_images": int(len(y)), "source": source, "dim": int(np.prod(means.shape[1:]))}
    return dist, labels, info


# ----------------------------------------------------------------------------- drawing
def _pair(dist, rule):
    off = np.where(np.eye(len(dist), dtype=bool), np.nan, dist)
    i, j = np.unravel_index(np.nanargmin(off) if rule == "nearest" else np.nanargmax(off), dist.shape)
    return int(i), int(j)


def draw(dist, labels, name, title):
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    fig, ax = plt.subplots(figsize=(6.4, 5.4))
    im = ax.imshow(dist, cmap="viridis")
    fig.colorbar(im, ax=ax, label=r"$\|m_i - m_j\|_F$")
    names = CLASS_NAMES.get(name, tuple(str(int(c)) for c in labels))
    ax.set_xticks(range(len(labels)), [names[int(c)] for c in labels], rotation=45 if name in CLASS_NAMES else 0,
                  ha="right" if name in CLASS_NAMES else "center", fontsize=8)
    ax.set_yticks(range(len(labels)), [names[int(c)] for c in labels], fontsize=8)
    vmax = np.nanmax(dist)
    for i in range(len(dist)):
        for j in range(len(dist)):
            ax.text(j, i, f"{dist[i, j]:.1f}", ha="center", va="center", fontsize=6,
                    color="white" if dist[i, j] < 0.6 * vmax else "black")
    for rule, color in (("nearest", "red"), ("farthest", "orange")):
        i, j = _pair(dist, rule)
        for a, b in ((i, j), (j, i)):
            ax.add_patch(Rectangle((b - 0.5, a - 0.5), 1, 1, fill=False, lw=2, ec=color))
        ax.plot([], [], "s", mfc="none", mec=color, mew=2,
                label=f"{rule} pair ({names[labels[i]]}, {names[labels[j]]}): {dist[i, j]:.2f}")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.08 if name not in CLASS_NAMES else -0.2), fontsize=8,
              ncol=1, frameon=False)
    ax.set_title(title, fontsize=10)
    return fig


def placeholder(number: int, text: str):
    """A figure that says in words why it holds no data."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 2))
    ax.axis("off")
    ax.text(0.5, 0.5, text, ha="center", va="center", wrap=True, fontsize=10)
    ax.set_title(f"Figure {number}: not drawn", fontsize=10)
    return fig


def make_distance_figure(number: int, name: str, profile: str, outdir, fallback: str | None = None,
                         claims=CLAIMS) -> list:
    """Figures 8-10: class-mean distance heatmap of ``name`` (``fallback`` when its file is absent)."""
    profile = check_profile(profile)
    settings = {**SETTINGS[profile], "dataset": name}
    paths = reusable(outdir, number, profile, settings)
    if paths:
        return paths
    found, stand_in = mode_distances(name, settings), ""
    if found is None and fallback is not None:
        settings = {**settings, "split": "train", "subset": None, "dataset": fallback}
        found = mode_distances(fallback, settings)
        stand_in = (f"The {PRETTY[name]} file was not found (set GANPHASE_DATA); scikit-learn's 8x8 digits "
                    f"(all 1797 images, resized to {settings['side']} x {settings['side']}) stand in.")
    if found is None:
        text = (f"The {PRETTY[name]} data file was not found (looked in $GANPHASE_DATA and ../shared/data), "
                "so the class-mean distances of Appendix E could not be computed; nothing is downloaded.")
        cap = Caption(number, text, profile, settings, claims=claims, stand_in="data file absent")
        return save(placeholder(number, text), outdir, cap)
    used = settings["dataset"]
    dist, labels, info = found
    kd_near, kd_far = k_d_from_distances(dist, "nearest"), k_d_from_distances(dist, "farthest")
    (ni, nj), (fi, fj) = _pair(dist, "nearest"), _pair(dist, "farthest")
    title = f"{PRETTY[used]}: distances between class means ({settings['side']}x{settings['side']}, [-1, 1])"
    fig = draw(dist, labels, used, title)
    dpath = save_arrays(outdir, number, {"distances": dist, "labels": labels, "side": settings["side"],
                                         "n_images": info["n_images"]})
    measured = {"k_d_nearest": kd_near, "nearest_pair": f"({labels[ni]}, {labels[nj]})",
                "k_d_farthest": kd_far, "farthest_pair": f"({labels[fi]}, {labels[fj]})",
                "n_images": info["n_images"]}
    if used in PAPER_KD:
        measured["paper_k_d_farthest_printed"] = PAPER_KD[used]
    text = (f"Frobenius distances ||m_i - m_j||_F between the class means m_c of {PRETTY[used]} "
            f"({info['n_images']} {settings['split']} images, resized to {settings['side']} x {settings['side']} "
            "bilinearly and scaled to [-1, 1], as Appendix E prescribes). Red frame: the nearest pair of modes "
            f"(k_d = {kd_near:.2f}); orange frame: the farthest pair (k_d = {kd_far:.2f}), the distance "
            "Appendix F.2 uses as k_d in the threshold k_d/(2 sigma) of Algorithm 2"
            + (f" (printed there: {PAPER_KD[used]})." if used in PAPER_KD else ".")
            + " Appendix E says each mean is taken over 'a set of 10 image tensors sharing the same label'; "
            "here every training image of the label is averaged.")
    cap = Caption(number, text, profile, settings, claims=claims, measured=measured,
                  stand_in=stand_in)
    return save(fig, outdir, cap) + [dpath]


def make(profile: str, outdir) -> list:
    return make_distance_figure(NUMBER, DATASET, profile, outdir, fallback="digits")
