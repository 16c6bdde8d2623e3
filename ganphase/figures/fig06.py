"""Figure 6 (Section 6.2): the steepness and the Frechet distance over epochs.

Per run: the epoch mean of the steepness S_g = mean ||J_g(z)||_2 recorded by the
training monitor (light-blue diamonds, left axis) and the Frechet distance of the
toolkit's classifier features between 256 generated samples and the real reference,
computed by ``ganphase.simulate.metrics.Evaluator`` at evaluation epochs (red squares,
right axis; ``metrics.jsonl: eval.fd``); for a mixture run, which has no classifier, the
modes covered (``eval.modes_covered``) take the Frechet distance's place. The black line is
the epoch where Algorithm 2 fired and the red dashed line the run's collapse epoch
(``summary.json``), when it has them. The module's :func:`render` also draws Figures 17 and 19.
"""
from __future__ import annotations

import numpy as np

from ganphase.figures import runs
from ganphase.figures.common import Caption, data_path, save

TITLE = "Steepness and Frechet distance over epochs"
NUMBER = 6
CLAIMS = ("thm-4.2", "thm-3.3")  # the registry claims this figure illustrates
RUNS = {"paper": ("mnist", "fashion-mnist", "cifar10"), "quick": ("ring8",), "test": ("ring8",)}
STYLE = {"steepness": dict(marker="D", color="lightskyblue", label="steepness S_g"),
         "q_d": dict(marker="o", color="C0", label="q_d = ||∇d/d|| quantile"),
         "eval.fd": dict(marker="s", color="C3", label="Frechet distance"),
         "eval.modes_covered": dict(marker="s", color="C3", label="modes covered"),
         "loss_d": dict(marker="o", color="C0", label="discriminator loss L_d"),
         "loss_g": dict(marker="s", color="C3", label="generator loss L_g")}
QUICK_NOTE = ("The paper's runs are 64 x 64 DCGANs on MNIST, Fashion-MNIST and CIFAR-10 (Appendix F.2) with an "
              "Inception-free FID; here a run that reaches the collapse phase within the quick budget stands in: "
              "NSGAN with the paper's SGD mixture recipe on a 2-D ring of 8 Gaussians, whose modes covered (of 8, "
              "within 3 sigma; the toolkit's collapse measure for mixtures) take the Frechet distance's place. "
              "The quick image runs end long before collapse and training their classifiers would take minutes.")
MIXTURE_RIGHT = "eval.modes_covered"   # what a mixture run draws instead of the Frechet distance


def render(number: int, profile: str, outdir, names, left: str, right: str, text: str, claims, stand_in: str,
           log_left: bool = False, same_axis: bool = False, mixture_right: str | None = None) -> list:
    """One panel per run: per-epoch series ``left`` and ``right`` (on a second y-axis unless ``same_axis``).

    A key is a metrics.jsonl field, ``eval.<k>`` for the evaluator's scalars; a mixture run draws
    ``mixture_right`` instead of ``right`` when it is given. Each panel marks the stop and the collapse
    epoch of its run (``runs.mark_phases``). Runs whose data set is absent, or which lack the right-hand
    series, are listed in the caption.
    """
    import matplotlib.pyplot as plt

    from ganphase.simulate.data import is_mixture

    runs.check_profile(profile)
    if (done := runs.reusable(outdir, number, profile)) is not None:
        return done
    panels, notes = {}, []
    for name in names:
        folder, why = runs.try_run(name, profile, outdir)
        if folder is None:
            notes.append(why)
            continue
        rows, summ, cfg = runs.metrics(folder), runs.summary(folder), runs.config(folder)
        rights = (mixture_right if mixture_right and is_mixture(cfg["train"]["data"]) else right,)
        panels[name] = {"left": runs.series(rows, left), "right": {k: runs.series(rows, k) for k in rights},
                        "summary": summ, "config": cfg, "setting": runs.describe(folder)}
        absent = [k for k in rights if len(panels[name]["right"][k][0]) == 0]
        if absent:
            notes.append(f"run {name!r} has no {', '.join(absent)} (its evaluator: {summ['evaluator']})")
    if not panels:
        raise ValueError(f"figure {number} has no run to draw: " + "; ".join(notes))
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.2), squeeze=False)
    arrays, measured = {}, {}
    for ax, (name, p) in zip(axes[0], panels.items()):
        ep, v = p["left"]
        ax.plot(ep, v, ms=3, lw=1, **STYLE[left])
        if log_left:
            ax.set_yscale("log")
        ax.set_xlabel("epoch")
        ax.set_title(name, fontsize=9)
        ax2 = ax if same_axis else ax.twinx()
        for k, (e2, v2) in p["right"].items():
            if len(e2):
                ax2.plot(e2, v2, ms=3, lw=1, **STYLE[k])
            arrays[f"{name}.{k}.epochs"], arrays[f"{name}.{k}"] = e2, v2
        runs.mark_phases(ax, p["summary"])
        h1, l1 = ax.get_legend_handles_labels()
        h2, l2 = (ax2.get_legend_handles_labels() if ax2 is not ax else ([], []))
        ax.legend(h1 + h2, l1 + l2, fontsize=6)
        arrays[f"{name}.{left}.epochs"], arrays[f"{name}.{left}"] = ep, v
        ph = runs.phases(p["summary"])
        rights = tuple(p["right"])
        for k in ("stop", "collapse"):
            arrays[f"{name}.{k}_epoch"] = np.asarray(-1 if ph[k] is None else ph[k])
            measured[f"{name} {k} epoch"] = "none" if ph[k] is None else ph[k]
        for k in (left,) + rights:
            v_k = arrays[f"{name}.{k}"]
            if len(v_k):
                measured[f"{name} {k}: first / min / last"] = f"{v_k[0]:.4g} / {v_k.min():.4g} / {v_k[-1]:.4g}"
        if len(arrays[f"{name}.{rights[0]}"]) > 2:
            e_r, v_r = arrays[f"{name}.{rights[0]}.epochs"], arrays[f"{name}.{rights[0]}"]
            v_l = np.interp(e_r, ep, v)
            measured[f"{name} Pearson r({left}, {rights[0]})"] = (
                float(np.corrcoef(v_l, v_r)[0, 1]) if v_l.std() > 0 and v_r.std() > 0 else "undefined (a constant series)")
    fig.tight_layout()
    np.savez(data_path(outdir, number), **arrays)
    text += " " + " ".join(runs.phase_text(n, p["summary"]) + "." for n, p in panels.items())
    if notes:
        text += " Not drawn: " + "; ".join(notes) + "."
    settings = {n: f"{p['setting']}, n_train {p['config']['n_train']}" for n, p in panels.items()}
    caption = Caption(number, text, profile, stand_in="" if profile == "paper" else stand_in, claims=claims,
                      settings=settings, measured=measured)
    return save(fig, outdir, caption)


def make(profile: str, outdir) -> list:
    text = ("Epoch means of the generator's steepness S_g (mean ||J_g(z)||_2 over each batch, power iteration, "
            "left axis) and the Frechet distance between 256 generated samples on fixed latents and the real "
            "reference, in the feature space of the toolkit's classifier (right axis; FID-style, not Inception "
            "features; for a mixture run the modes covered instead), at evaluation epochs; black line: the epoch "
            "where Algorithm 2 fired, red dashed line: the run's collapse epoch, where it has them. The Pearson "
            "correlation of the two series at evaluation epochs is listed.")
    return render(NUMBER, profile, outdir, RUNS[profile], "steepness", "eval.fd", text, CLAIMS,
                  QUICK_NOTE, mixture_right=MIXTURE_RIGHT)
