"""Figure 20 (Appendix G.7): samples of the noise-free GAN (upper row) and the noised GAN (lower row).

The two runs of ``runs.NOISE_PAIRS`` (same seed and architectures; the noised
discriminator adds N(0, 0.1^2) before every layer while training), their generators
on the same fixed latents at the same evaluation epochs, spread over the run and including
those nearest to the noise-free run's stop and collapse epoch (tagged per run in the titles).
"""
from __future__ import annotations

import numpy as np

from ganphase.figures import runs
from ganphase.figures.common import Caption, data_path, save

TITLE = "Samples of the noise-free and the noised GAN across epochs"
NUMBER = 20
CLAIMS = ("sec-4.1",)  # the registry claims this figure illustrates
PANELS = 6
N_IMAGES = 16


def make(profile: str, outdir) -> list:
    import matplotlib.pyplot as plt

    runs.check_profile(profile)
    if (done := runs.reusable(outdir, NUMBER, profile)) is not None:
        return done
    folders, note = runs.noise_pair(profile, outdir)
    common = sorted(set(runs.eval_epochs(folders["noise-free"])) & set(runs.eval_epochs(folders["noised"])))
    if not common:
        raise ValueError("figure 20: the noise-free and noised runs share no evaluation epoch")
    summ = {k: runs.summary(f) for k, f in folders.items()}
    epochs = runs.panel_epochs(common, PANELS, summ["noise-free"])
    fig, axes = plt.subplots(2, len(epochs), figsize=(1.9 * len(epochs), 4.2), squeeze=False)
    arrays, measured = {"epochs": np.asarray(epochs)}, {}
    for i, (k, f) in enumerate(folders.items()):
        rows = {r["epoch"]: r for r in runs.metrics(f)}
        real = runs.real_points(f)
        n = N_IMAGES if real is None else None     # a mixture panel shows every evaluation sample
        for phase, e in runs.phases(summ[k]).items():
            arrays[f"{k}.{phase}_epoch"] = np.asarray(-1 if e is None else e)
        for j, e in enumerate(epochs):
            x = runs.load_eval(f, e)["samples"][:n]
            arrays[f"{k}.{e}"] = x
            runs.draw_samples(axes[i, j], x, real)
            tag = runs.phase_tag(e, summ[k], common)
            axes[i, j].set_title(f"{k}, epoch {e}" + (f"\n({tag})" if tag else ""), fontsize=7)
            ev = rows.get(e, {}).get("eval") or {}
            if isinstance(ev.get("modes_covered"), int) and ev.get("n_modes"):
                axes[i, j].set_xlabel(f"{ev['modes_covered']} of {ev['n_modes']} modes", fontsize=7)
            for key in ("fd", "classes_covered", "modes_covered", "high_quality"):
                if isinstance(ev.get(key), (int, float)):
                    measured[f"{k} {key} at epoch {e}"] = ev[key]
    fig.tight_layout()
    np.savez_compressed(data_path(outdir, NUMBER), **arrays)
    c = runs.config(folders["noise-free"])["train"]
    text = (f"Samples on fixed latents (images: the first {N_IMAGES}; mixtures: all {c['eval_samples']}, blue, "
            f"over real samples, orange) of the noise-free GAN (upper row) and the noised GAN "
            f"(lower row, N(0, 0.1^2) added before every discriminator layer while training) at epochs "
            f"{', '.join(map(str, epochs))}, which include those nearest to the noise-free run's stop and collapse "
            "epoch; the titles tag each run's own stop and collapse (collapsed: after its collapse epoch). Same "
            "seed and architectures. The evaluator's scores are listed below (images: Frechet distance of the "
            "toolkit's classifier features and classes covered; mixtures: modes covered and the high-quality "
            "share). " + " ".join(runs.phase_text(k, s) + "." for k, s in summ.items()) + (" " + note if note else ""))
    m = runs.config(folders["noise-free"])["model"]
    stand_in = ("" if c["data"] == "fashion-mnist" else
                f"The paper trains this pair on Fashion-MNIST (DCGAN, 64 x 64); here a pair of runs on {c['data']} "
                f"({m['kind'].upper()}, {m['optimizer'].upper()} lr {m['lr_d']:g}, {c['epochs']} epochs) stands in.")
    caption = Caption(NUMBER, text, profile, stand_in=stand_in, claims=CLAIMS,
                      settings={k: runs.describe(f) for k, f in folders.items()},
                      measured=measured, seed=c["seed"])
    return save(fig, outdir, caption)
