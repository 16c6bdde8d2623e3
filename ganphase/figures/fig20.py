"""Figure 20 (Appendix G.7): samples of the noise-free GAN (upper row) and the noised GAN (lower row).

The two runs of ``runs.NOISE_PAIRS`` (same seed and architectures; the noised
discriminator adds N(0, 0.1^2) before every layer while training), their generators
on the same fixed latents at the same evaluation epochs.
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
    epochs = runs.nearest(common, list(np.linspace(common[0], common[-1], PANELS)))
    fig, axes = plt.subplots(2, len(epochs), figsize=(1.9 * len(epochs), 4.2), squeeze=False)
    arrays, measured = {"epochs": np.asarray(epochs)}, {}
    for i, (k, f) in enumerate(folders.items()):
        rows = {r["epoch"]: r for r in runs.metrics(f)}
        for j, e in enumerate(epochs):
            x = runs.load_eval(f, e)["samples"][:N_IMAGES]
            arrays[f"{k}.{e}"] = x
            runs.draw_samples(axes[i, j], x)
            axes[i, j].set_title(f"{k}, epoch {e}", fontsize=7)
            ev = rows.get(e, {}).get("eval") or {}
            for key in ("fd", "classes_covered", "modes_covered"):
                if isinstance(ev.get(key), (int, float)):
                    measured[f"{k} {key} at epoch {e}"] = ev[key]
    fig.tight_layout()
    np.savez_compressed(data_path(outdir, NUMBER), **arrays)
    c = runs.config(folders["noise-free"])["train"]
    text = (f"The first {N_IMAGES} samples on fixed latents of the noise-free GAN (upper row) and the noised GAN "
            f"(lower row, N(0, 0.1^2) added before every discriminator layer while training) at epochs "
            f"{', '.join(map(str, epochs))}; same seed and architectures. Where the run's evaluator was on, the "
            "Frechet distance of the toolkit's classifier features (fd, 256 samples) and the classes covered are "
            "listed below." + (" " + note if note else ""))
    m = runs.config(folders["noise-free"])["model"]
    stand_in = ("" if c["data"] == "fashion-mnist" else
                "The paper trains this pair on Fashion-MNIST (DCGAN, 64 x 64); here the 8x8 digits with an MLP "
                f"({m['optimizer']} lr {m['lr_d']:g}, {c['epochs']} epochs) stand in.")
    caption = Caption(NUMBER, text, profile, stand_in=stand_in, claims=CLAIMS,
                      settings={"data": c["data"], "noise_std": 0.1, "epochs": c["epochs"]},
                      measured=measured, seed=c["seed"])
    return save(fig, outdir, caption)
