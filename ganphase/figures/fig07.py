"""Figure 7 (Section 6.3, Appendix G.7): ||grad d(x)/d(x)|| with and without discriminator noise.

Two runs with the same seed and generator architecture (``runs.NOISE_PAIRS``): the
noise-free NSGAN and the "noised" one whose discriminator adds N(0, 0.1^2) before every
layer while training. At evaluation epochs the training code stores, for the run's
fixed latents, ||grad_x log d(x)|| = ||grad d(x)/d(x)|| of every generated sample x, the
discriminator in eval mode (so the noised discriminator is evaluated without its noise:
the field it has learned, not one random draw of it). Each panel is the histogram of
those norms on a logarithmic x-axis (red: noised, blue: noise-free) with their 90th
percentiles (``numpy.percentile``) as vertical lines. The epochs drawn are spread over the
run and include those nearest to the noise-free run's stop and collapse epoch
(``summary.json``), tagged in the panel titles. Figure 21 draws more epochs.
"""
from __future__ import annotations

import numpy as np

from ganphase.figures import runs
from ganphase.figures.common import Caption, data_path, save

TITLE = "Histograms of ||grad d/d|| and their 90th percentile, noised vs noise-free discriminator"
NUMBER = 7
CLAIMS = ("sec-4.1",)  # the registry claims this figure illustrates
PANELS = 4
COLOURS = {"noised": "tab:red", "noise-free": "tab:blue"}


def pair_norms(profile: str, outdir) -> tuple[dict, dict, dict, str]:
    """({'noise-free': {epoch: norms}, 'noised': {...}}, folders, configs, note) on the epochs both runs evaluated."""
    folders, note = runs.noise_pair(profile, outdir)
    common = sorted(set(runs.eval_epochs(folders["noise-free"])) & set(runs.eval_epochs(folders["noised"])))
    norms = {k: {e: runs.load_eval(f, e)["grad_norms"].astype(float) for e in common} for k, f in folders.items()}
    return norms, folders, {k: runs.config(f) for k, f in folders.items()}, note


def percentile90(norms: np.ndarray) -> float:
    return float(np.percentile(norms, 90))


def draw(norms: dict, epochs: list[int], ncols: int, summ: dict | None = None):
    """Histograms per epoch; ``summ`` (the noise-free run's summary) tags the stop and collapse panels."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullFormatter

    nrows = -(-len(epochs) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(2.6 * ncols, 2.1 * nrows), squeeze=False)
    allv = np.concatenate([v[e] for v in norms.values() for e in epochs])
    pos = allv[allv > 0]
    bins = np.logspace(np.log10(pos.min()), np.log10(pos.max()), 40) if pos.size else 40
    for ax, e in zip(axes.flat, epochs):
        for k in ("noise-free", "noised"):
            v = norms[k][e]
            ax.hist(v[v > 0], bins=bins, density=True, color=COLOURS[k], alpha=0.45, label=k)
            ax.axvline(percentile90(v), color=COLOURS[k], lw=1.5, ls="--")
        ax.set_xscale("log")
        ax.xaxis.set_minor_formatter(NullFormatter())
        tag = runs.phase_tag(e, summ, sorted(norms["noise-free"])) if summ else ""
        ax.set_xlabel(f"epoch {e}" + (f" ({tag})" if tag else ""), fontsize=8)
        ax.tick_params(which="both", labelsize=6)
    for ax in list(axes.flat)[len(epochs):]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=6)
    fig.tight_layout()
    return fig


def render(number: int, profile: str, outdir, n_panels: int, ncols: int, claims=CLAIMS) -> list:
    runs.check_profile(profile)
    if (done := runs.reusable(outdir, number, profile)) is not None:
        return done
    norms, folders, cfgs, note = pair_norms(profile, outdir)
    common = sorted(norms["noise-free"])
    if not common:
        raise ValueError(f"figure {number}: the noise-free and noised runs share no evaluation epoch")
    summ = {k: runs.summary(f) for k, f in folders.items()}
    epochs = runs.panel_epochs(common, n_panels, summ["noise-free"])
    fig = draw(norms, epochs, ncols, summ["noise-free"])
    arrays = {"epochs": np.asarray(epochs)}
    for k, s in summ.items():
        for phase, e in runs.phases(s).items():
            arrays[f"{k}.{phase}_epoch"] = np.asarray(-1 if e is None else e)
    for k in norms:
        for e in epochs:
            arrays[f"{k}.{e}"] = norms[k][e]
        arrays[f"{k}.p90"] = np.asarray([percentile90(norms[k][e]) for e in epochs])
    np.savez_compressed(data_path(outdir, number), **arrays)
    lower = arrays["noised.p90"] < arrays["noise-free.p90"]
    collapse = runs.phases(summ["noise-free"])["collapse"]
    before = np.asarray(epochs) < (np.inf if collapse is None else collapse)
    c = cfgs["noise-free"]["train"]
    text = (f"Histograms (density, log x-axis) of ||grad d(x)/d(x)|| over {c['eval_samples']} generated samples "
            f"(fixed latents) at epochs {', '.join(map(str, epochs))}, red: the noised discriminator (N(0, 0.1^2) "
            "added before every layer in training), blue: the noise-free one; both discriminators evaluated in "
            "eval mode (no noise) on their own generator's samples; dashed lines: the 90th percentiles. Both runs "
            "share the seed, the architectures and every other setting. The panels include the epochs nearest to "
            "the noise-free run's stop and collapse epoch, tagged (stop, collapse; collapsed after it). "
            + " ".join(runs.phase_text(k, s) + "." for k, s in summ.items()) + (" " + note if note else ""))
    measured = {"epochs where noised p90 < noise-free p90": f"{int(lower.sum())} of {len(epochs)}",
                "of them before the noise-free collapse": f"{int((lower & before).sum())} of {int(before.sum())}",
                **{f"{k} p90 at epoch {e}": float(p) for k in norms for e, p in zip(epochs, arrays[f'{k}.p90'])},
                **{f"{k} stop epoch (Algorithm 2)": s["stop_epoch"] for k, s in summ.items()},
                **{f"{k} collapse epoch": ("none" if (e := runs.phases(s)["collapse"]) is None else e)
                   for k, s in summ.items()}}
    m = cfgs["noise-free"]["model"]
    stand_in = ("" if c["data"] == "fashion-mnist" else
                f"The paper trains this pair on Fashion-MNIST (DCGAN, 64 x 64); here a pair of runs on {c['data']} "
                f"({m['kind'].upper()}, {m['optimizer'].upper()} lr {m['lr_d']:g}, {c['epochs']} epochs) stands in.")
    caption = Caption(number, text, profile, stand_in=stand_in, claims=claims,
                      settings={"noise-free": runs.describe(folders["noise-free"]),
                                "noised": runs.describe(folders["noised"])},
                      measured=measured, seed=c["seed"])
    return save(fig, outdir, caption)


def make(profile: str, outdir) -> list:
    return render(NUMBER, profile, outdir, PANELS, PANELS)
