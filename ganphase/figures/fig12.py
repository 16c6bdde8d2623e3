"""Figure 12: mean discriminator value against the perturbation scale around k-means centres (Appendix G.1).

Appendix G.1's check of Assumption 4.1 (d(x) = 1/2 - ||x - x_i|| / (8 sigma) near a mode):
sample real images, cluster them with k-means (the centres c_k stand for the modes), and
average the trained discriminator's value d = sigmoid(D) over perturbed centres
c_k + s xi, xi ~ N(0, I_dim), for scales s from 0 upwards; s = 0 gives the mean of d at the
centres, the paper's baseline.  The same xi is used at every scale (a smooth curve).

The paper sets the largest scale to "4 sigma / dim, where sigma is the average population
variance across dataset labels, and dim = 64 x 64"; read literally that is
s_p = 4 vbar / dim with vbar the mean over labels of the pooled pixel variance (0.33 for MNIST
in Appendix F.2).  The curve is drawn on a wider range, up to s = 4 sqrt(vbar) (noise four
times the data's pixel spread), with s_p marked, so the figure shows where d falls whichever
reading is meant.
"""
from __future__ import annotations

import numpy as np
import torch

from ganphase.figures.common import SEED, Caption, save, save_arrays
from ganphase.figures.fig04 import RUN_MNIST, ensure, profile_of
from ganphase.figures.fig08 import PRETTY, reusable
from ganphase.figures.fig15 import RUN_FASHION

TITLE = "Mean discriminator value against the perturbation scale around k-means centres (Appendix G.1)"
NUMBER = 12
CLAIMS = ("sec-4.1", "thm-4.1", "app-g.1")  # the registry claims this figure illustrates
DATASETS = ("mnist", "fashion-mnist")

# checkpoint: "last" (quick and test runs are short) or "returned" (Algorithm 2's checkpoint before the
# stop, the paper's "saved checkpoints prior to mode collapse").
SETTINGS = {
    "quick": {"runs": {"mnist": RUN_MNIST["quick"], "fashion-mnist": RUN_FASHION["quick"]}, "checkpoint": "last",
              "n_points": 2000, "n_clusters": 20, "draws": 4, "n_scales": 17},
    "paper": {"runs": {"mnist": RUN_MNIST["paper"], "fashion-mnist": {**RUN_FASHION["paper"], "folder": None,
                                                                     "overrides": {}}},
              "checkpoint": "returned", "n_points": 10000, "n_clusters": 100, "draws": 10, "n_scales": 25},
    "test": {"runs": {"mnist": RUN_MNIST["test"], "fashion-mnist": RUN_FASHION["test"]}, "checkpoint": "last",
             "n_points": 200, "n_clusters": 5, "draws": 2, "n_scales": 6},
}


def checkpoint_epoch(folder, rule: str) -> int:
    from ganphase.figures.runs import summary
    from ganphase.simulate.train import checkpoint_epochs

    if rule == "returned" and summary(folder).get("returned_epoch") is not None:
        return int(summary(folder)["returned_epoch"])
    return checkpoint_epochs(folder)[-1]


def real_sample(name: str, n: int, side, seed: int = SEED):
    """(x (n, C, side, side) in [-1, 1], y) drawn at random from the training split."""
    from ganphase.simulate.data import load_dataset
    from ganphase.simulate.metrics.classifier import default_data_dir

    ds = load_dataset(name, data_dir=default_data_dir(), split="train")
    idx = torch.randperm(len(ds), generator=torch.Generator().manual_seed(seed))[:n]
    x = ds.x[idx]
    if side is not None and x.shape[-1] != side:
        x = torch.nn.functional.interpolate(x, size=(side, side), mode="bilinear", align_corners=False).clamp_(-1, 1)
    return x, ds.y[idx]


def kmeans_centres(x: torch.Tensor, k: int, seed: int = SEED) -> torch.Tensor:
    from sklearn.cluster import KMeans

    km = KMeans(n_clusters=k, n_init=3, random_state=seed).fit(x.flatten(1).double().numpy())
    return torch.as_tensor(km.cluster_centers_, dtype=torch.float32).view(k, *x.shape[1:])


def scale_grid(vbar: float, dim: int, n: int) -> tuple[np.ndarray, float]:
    """(0 followed by n - 1 geometric scales from s_p / 8 to 4 sqrt(vbar), s_p = 4 vbar / dim)."""
    s_p = 4.0 * vbar / dim
    return np.concatenate([[0.0], np.geomspace(s_p / 8, 4.0 * np.sqrt(vbar), n - 1)]), s_p


@torch.no_grad()
def mean_d_curve(D, centres: torch.Tensor, scales, draws: int, seed: int = SEED) -> np.ndarray:
    """d = sigmoid(D(c_k + s xi_kr)) for every scale s, centre k and draw r: array (scales, K * draws)."""
    gen = torch.Generator().manual_seed(seed + 1212)
    c = centres.repeat_interleave(draws, 0)
    xi = torch.randn(c.shape, generator=gen)
    return np.stack([torch.sigmoid(D(c + float(s) * xi)).double().numpy() for s in scales])


def one_dataset(name: str, settings: dict, outdir) -> dict:
    from ganphase.figures.runs import config
    from ganphase.simulate.monitors import sigma_from_data
    from ganphase.simulate.train import load_discriminator

    folder = ensure(settings["runs"][name], outdir)
    epoch = checkpoint_epoch(folder, settings["checkpoint"])
    x, y = real_sample(name, settings["n_points"], config(folder)["resize"])
    dim = int(np.prod(x.shape[1:]))
    vbar = sigma_from_data(x, y, "pooled-over-dim") ** 2 * dim      # mean over labels of the pooled variance
    centres = kmeans_centres(x, settings["n_clusters"])
    scales, s_p = scale_grid(vbar, dim, settings["n_scales"])
    D = load_discriminator(folder, epoch)
    d = mean_d_curve(D, centres, scales, settings["draws"])
    return {"scales": scales, "mean_d": d.mean(1), "d": d, "centres": centres.numpy(), "s_p": s_p, "vbar": vbar,
            "dim": dim, "epoch": epoch, "folder": folder.relative_to(outdir).as_posix()}


def half_scale(scales, mean_d) -> float | None:
    """The first scale where the mean value falls to half of its value at s = 0 (log-linear interpolation)."""
    target = mean_d[0] / 2
    for i in range(1, len(scales)):
        if mean_d[i] <= target:
            a, b = max(scales[i - 1], scales[1] / 2), scales[i]
            t = (mean_d[i - 1] - target) / max(mean_d[i - 1] - mean_d[i], 1e-300)
            return float(np.exp(np.log(a) + t * (np.log(b) - np.log(a))))
    return None


def draw(results: dict):
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(DATASETS), figsize=(10, 3.8))
    for ax, name in zip(axes, DATASETS):
        r = results.get(name)
        if isinstance(r, str):
            ax.axis("off")
            ax.text(0.5, 0.5, r, ha="center", va="center", wrap=True, fontsize=8)
            continue
        s, m = r["scales"], r["mean_d"]
        ax.plot(s, m, "o-", color="tab:blue", ms=3, label="mean d(c + s xi)")
        ax.axhline(m[0], color="gray", ls=":", lw=1, label=f"at the centres: {m[0]:.3f}")
        ax.axvline(r["s_p"], color="red", ls="--", lw=1, label=f"4 vbar / dim = {r['s_p']:.2g}")
        ax.set_xscale("symlog", linthresh=s[1])
        ax.set_xlim(0, s[-1] * 1.1)
        ax.set_ylim(-0.02, max(1.0, float(m.max()) + 0.02))
        ax.set_xlabel("perturbation scale s (noise std per pixel)")
        ax.set_ylabel("mean discriminator value")
        ax.set_title(f"{PRETTY[name]} (checkpoint of epoch {r['epoch']})", fontsize=10)
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def make(profile: str, outdir) -> list:
    profile = profile_of(profile)
    settings = SETTINGS[profile]
    paths = reusable(outdir, NUMBER, profile, settings)
    if paths:
        return paths
    results, measured, arrays = {}, {}, {}
    for name in DATASETS:
        try:
            r = one_dataset(name, settings, outdir)
        except ValueError as exc:
            results[name] = f"{PRETTY[name]}: not drawn ({exc})"
            measured[name] = "not drawn: data or run unavailable"
            continue
        results[name] = r
        key = name.replace("-", "_")
        arrays.update({f"{key}_{k}": np.asarray(r[k]) for k in ("scales", "mean_d", "d", "centres", "s_p", "epoch")})
        h = half_scale(r["scales"], r["mean_d"])
        i_p = int(np.argmin(np.abs(r["scales"] - r["s_p"])))
        measured[name] = {"run (in outdir)": r["folder"], "checkpoint_epoch": r["epoch"], "mean_d_at_centres": float(r["mean_d"][0]),
                          "mean_d_near_s_p": float(r["mean_d"][i_p]), "s_p": r["s_p"], "vbar": r["vbar"],
                          "scale_of_half_value": h, "mean_d_at_largest_scale": float(r["mean_d"][-1])}
    fig = draw(results)
    data = save_arrays(outdir, NUMBER, arrays) if arrays else None
    text = (f"Mean discriminator value d = sigmoid(D) over {settings['n_clusters']} k-means centres of "
            f"{settings['n_points']} random training images, perturbed as c + s xi with xi ~ N(0, I) "
            f"({settings['draws']} fixed draws per centre, the same at every scale), against the scale s; "
            "left MNIST, right Fashion-MNIST. Red dashed line: the paper's largest scale '4 sigma / dim' read as "
            "4 vbar / dim (vbar: mean over labels of the pooled pixel variance). The paper reports d near 0.5 at "
            "the centres, falling roughly linearly to 0 as the scale grows (Assumption 4.1).")
    stand_in = ""
    if profile != "paper":
        stand_in = (f"discriminators of the short quick runs of figures 4 and 15 (last checkpoint) instead of the "
                    f"paper's pre-collapse checkpoints (epochs 43 and 124); {settings['n_clusters']} clusters of "
                    f"{settings['n_points']} images instead of 100 of 10k; native 28 x 28 images.")
    cap = Caption(NUMBER, text, profile, settings, claims=CLAIMS, measured=measured,
                  stand_in=stand_in)
    return save(fig, outdir, cap) + ([data] if data else [])
