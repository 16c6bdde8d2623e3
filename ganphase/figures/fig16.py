"""Figure 16: particle dynamics on CIFAR-10 (Appendix G.3).

Fixed latent vectors z_1..z_P are followed through training: at each epoch the particle
x_p = G_epoch(z_p), its discriminator field strength ||grad d(x_p) / d(x_p)|| = ||grad log d(x_p)||
(:func:`ganphase.simulate.monitors.log_d_grad_norms`, discriminator in eval mode) and the
steepness ||J_g(z_p)||_2 (:mod:`ganphase.simulate.steepness`).

The training loop already evaluates exactly these at its fixed evaluation latents every
``eval_every`` epochs (``evals/epoch_XXXX.npz``: z, samples, grad_norms, steepness of the
first ``eval_steepness_samples`` latents, by warm-started power iteration); epoch 0 (the
initial networks) is computed here from checkpoint 0 with the same latents and functions.
The paper profile uses the run shared with the other CIFAR-10 figures; the quick profile the
ring run shared with figures 5-7 and 17-21, which reaches the collapse phase: its particles
are points of the plane, drawn as paths over the real samples. The bottom panels mark the
run's stop and collapse epoch (``summary.json``).
"""
from __future__ import annotations

import numpy as np
import torch

from ganphase.figures import runs
from ganphase.figures.common import Caption, save, save_arrays
from ganphase.figures.fig04 import ensure, profile_of
from ganphase.figures.fig08 import placeholder, reusable

TITLE = "Particle dynamics on CIFAR-10 (Appendix G.3)"
NUMBER = 16
CLAIMS = ("thm-3.3", "thm-4.2")  # the registry claims this figure illustrates

RUN = {p: {"run": "cifar10" if p == "paper" else "ring8", "run_profile": p, "folder": None, "overrides": {}}
       for p in ("quick", "paper", "test")}
SETTINGS = {
    "quick": {**RUN["quick"], "particles": 8, "epochs": "all", "image_columns": 7},
    "paper": {**RUN["paper"], "particles": 8, "epochs": [0] + list(range(4, 100, 5)), "image_columns": 11},
    "test": {**RUN["test"], "particles": 4, "epochs": "all", "image_columns": 3},
}


@torch.no_grad()
def _images(G, z):
    return G(z)


def initial_state(folder, z: torch.Tensor, n_steep: int) -> dict:
    """Epoch-0 particles from checkpoint 0: samples, ||grad log d||, steepness (as the training loop's evaluation)."""
    from ganphase.simulate.monitors import log_d_grad_norms
    from ganphase.simulate.steepness import PowerSteepness
    from ganphase.simulate.train import load_discriminator, load_generator

    G, D = load_generator(folder, 0), load_discriminator(folder, 0)
    x = _images(G, z)
    return {"samples": x.numpy(), "grad_norms": log_d_grad_norms(D, x).numpy(),
            "steepness": PowerSteepness(tol=1e-2, max_iter=30)(G, z[:n_steep]).numpy()}


def particle_tracks(folder, settings: dict) -> dict:
    """Arrays over epochs: ``epochs`` (E,), ``samples`` (E, P, C, H, W), ``grad_norms`` (E, P), ``steepness`` (E, P)."""
    from ganphase.figures.runs import eval_epochs, load_eval

    have = eval_epochs(folder)
    if not have:
        raise ValueError(f"the run {folder} saved no evaluations")
    wanted = settings["epochs"]
    epochs = [e for e in have if wanted == "all" or e in wanted]
    first = load_eval(folder, have[0])
    n_steep = len(first["steepness"])
    p = min(settings["particles"], n_steep)
    z = torch.as_tensor(first["z"])
    rows = [initial_state(folder, z[:n_steep], n_steep)] if wanted == "all" or 0 in wanted else []
    rows += [load_eval(folder, e) for e in epochs]
    epochs = ([0] if len(rows) > len(epochs) else []) + epochs
    return {"epochs": np.array(epochs), "z": z[:p].numpy(),
            "samples": np.stack([r["samples"][:p] for r in rows]),
            "grad_norms": np.stack([r["grad_norms"][:p] for r in rows]),
            "steepness": np.stack([r["steepness"][:p] for r in rows])}


def _to_rgb(x: np.ndarray) -> np.ndarray:
    img = (np.clip(x, -1, 1) + 1) / 2
    return img.transpose(1, 2, 0) if img.shape[0] == 3 else img[0]


def _draw_paths(ax, tracks: dict, real, colors, summ: dict | None):
    """Mixture particles: each particle's path over the epochs (start: circle, end: cross) over the real samples;
    a black square marks each particle at the collapse epoch."""
    x, e = tracks["samples"], tracks["epochs"]
    if real is not None:
        ax.scatter(real[:, 0], real[:, 1], s=2, c="tab:orange", alpha=0.3, lw=0)
    for i in range(x.shape[1]):
        ax.plot(x[:, i, 0], x[:, i, 1], "-", lw=0.7, color=colors[i], alpha=0.6)
        ax.plot(x[0, i, 0], x[0, i, 1], "o", mfc="none", color=colors[i], ms=5)
        ax.plot(x[-1, i, 0], x[-1, i, 1], "x", color=colors[i], ms=6)
    collapse = runs.phases(summ)["collapse"] if summ else None
    if collapse is not None and collapse in e:
        at = x[list(e).index(collapse)]
        ax.plot(at[:, 0], at[:, 1], "s", mfc="none", color="k", ms=7, label=f"collapse (epoch {collapse})")
        ax.legend(fontsize=7, loc="upper right")
    ax.set_aspect("equal")
    ax.set_title("particle paths (start o, end x) over real samples", fontsize=8)


def draw(tracks: dict, columns: int, real=None, summ: dict | None = None):
    import matplotlib.pyplot as plt

    e = tracks["epochs"]
    cols = np.unique(np.linspace(0, len(e) - 1, min(columns, len(e))).round().astype(int))
    P = tracks["samples"].shape[1]
    colors = plt.cm.tab10(np.arange(P) % 10)
    if tracks["samples"].ndim == 3:     # mixture particles: points of the plane
        fig = plt.figure(figsize=(8.0, 8.5))
        gs = fig.add_gridspec(2, 1, height_ratios=[5.0, 3.0], hspace=0.25)
        _draw_paths(fig.add_subplot(gs[0]), tracks, real, colors, summ)
        _draw_norms(fig, gs[1], tracks, colors, summ)
        return fig
    fig = plt.figure(figsize=(max(7.0, 0.9 * len(cols) + 1), 0.9 * P + 3.0))
    gs = fig.add_gridspec(2, 1, height_ratios=[0.9 * P, 3.0], hspace=0.12)
    top = gs[0].subgridspec(P, len(cols), wspace=0.05, hspace=0.05)
    for j, c in enumerate(cols):
        for i in range(P):
            ax = fig.add_subplot(top[i, j])
            ax.imshow(_to_rgb(tracks["samples"][c, i]), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
            ax.set_xticks([]), ax.set_yticks([])
            if i == P - 1:
                ax.set_xlabel(f"{e[c]}", fontsize=7)
    _draw_norms(fig, gs[1], tracks, colors, summ)
    return fig


def _draw_norms(fig, spec, tracks: dict, colors, summ: dict | None):
    """||grad d/d|| and ||J_g|| of every particle over the epochs, with the run's stop and collapse marked."""
    e = tracks["epochs"]
    bottom = spec.subgridspec(1, 2, wspace=0.3)
    for k, (key, label) in enumerate((("grad_norms", r"$\|\nabla d(x)/d(x)\|_2$"), ("steepness", r"$\|J_g(z)\|_2$"))):
        ax = fig.add_subplot(bottom[k])
        for i in range(tracks[key].shape[1]):
            ax.plot(e, tracks[key][:, i], "o-", ms=2.5, lw=1, color=colors[i])
        if summ:
            runs.mark_phases(ax, summ, labels=k == 0)
            if k == 0 and ax.get_legend_handles_labels()[0]:
                ax.legend(fontsize=6)
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.set_yscale("log")


def make(profile: str, outdir) -> list:
    profile = profile_of(profile)
    settings = SETTINGS[profile]
    paths = reusable(outdir, NUMBER, profile, settings)
    if paths:
        return paths
    try:
        folder = ensure(settings, outdir)
        tracks = particle_tracks(folder, settings)
    except ValueError as exc:
        msg = f"The particle dynamics of run {settings['run']!r} could not be computed: {exc}"
        return save(placeholder(NUMBER, msg), outdir, Caption(NUMBER, msg, profile, settings, claims=CLAIMS,
                                                              stand_in="data or run unavailable"))
    summ = runs.summary(folder)
    ph = runs.phases(summ)
    fig = draw(tracks, settings["image_columns"], runs.real_points(folder), summ)
    data = save_arrays(outdir, NUMBER, {**tracks, **{f"{k}_epoch": np.asarray(-1 if ph[k] is None else ph[k])
                                                     for k in ("stop", "collapse")}})
    g, s, e = tracks["grad_norms"], tracks["steepness"], tracks["epochs"]
    med_s = np.median(s, 1)
    measured = {"epochs": f"{int(e[0])}..{int(e[-1])} ({len(e)} evaluations)",
                "median steepness first / max / last": f"{med_s[0]:.3g} / {med_s.max():.3g} (epoch "
                                                      f"{int(e[np.argmax(med_s)])}) / {med_s[-1]:.3g}",
                "median grad log d first / max / last": f"{np.median(g[0]):.3g} / {np.median(g, 1).max():.3g} / "
                                                        f"{np.median(g[-1]):.3g}",
                "stop epoch": "none" if ph["stop"] is None else ph["stop"],
                "collapse epoch": "none" if ph["collapse"] is None else ph["collapse"]}
    data_name = runs.config(folder)["train"]["data"]
    top = ("Top: the particles (rows) at a selection of epochs (columns, epoch below)." if tracks["samples"].ndim > 3
           else "Top: each particle's path in the plane over the evaluation epochs (start: circle, end: cross; black "
                "squares: the particles at the collapse epoch) over real samples (orange).")
    text = (f"{g.shape[1]} particles x_p = G(z_p) of fixed latents z_p followed over the epochs of NSGAN training "
            f"on {data_name}. {top} Bottom left: "
            "||grad d(x_p)/d(x_p)||_2 of each particle (discriminator in eval mode); bottom right: the generator's "
            "steepness ||J_g(z_p)||_2 (power iteration, relative tolerance 1e-2), one colour per particle. The "
            "paper reports steepness rising early, then stable, then dropping to near zero at collapse, and the "
            "field strength oscillating with a spike at collapse. Black line: the epoch where Algorithm 2 fired; "
            f"red dashed line: the run's collapse epoch. {runs.phase_text(settings['run'], summ)}.")
    stand_in = ""
    if profile != "paper":
        stand_in = ("The paper follows CIFAR-10 particles of a 64 x 64 DCGAN for 100 epochs; here a run that reaches "
                    "the collapse phase within the quick budget stands in (NSGAN with the paper's SGD mixture recipe "
                    f"on a 2-D ring of 8 Gaussians, shared with figures 5-7 and 17-21): {runs.describe(folder)}.")
    cap = Caption(NUMBER, text, profile, settings, claims=CLAIMS, measured=measured, stand_in=stand_in)
    return save(fig, outdir, cap) + [data]
