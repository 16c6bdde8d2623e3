"""Figure 1 (Section 1): generated vs real samples across training, 3-D mixture and images embedded in 3-D.

Row 1: NSGAN on the 3-D mixture (run ``gmm-3d``): real samples (orange) and the
generator's samples on fixed latents (blue) at several epochs (epoch 0 is the
initialisation, drawn from its checkpoint). Row 2: real images (coloured by label) and
generated images (black) embedded in 3-D. The embedding is UMAP (``umap-learn``, seeded),
as in the paper, or scikit-learn's PCA (set ``EMBEDDING = "pca"``), fitted on the real
images only and applied to the generated ones (t-SNE has no out-of-sample map, so it is
not used).
"""
from __future__ import annotations

import numpy as np

from ganphase.figures import runs
from ganphase.figures.common import Caption, data_path, save

TITLE = "Real and generated samples across epochs: 3-D mixture and images embedded in 3-D"
NUMBER = 1
CLAIMS = ("thm-3.3", "thm-4.2")  # the registry claims this figure illustrates
PAPER_EPOCHS = (0, 15, 60, 450, 850, 980)          # Figure 1, first row
IMAGE_RUN = {"paper": "mnist", "quick": "digits", "test": "digits"}
N_REAL = 2000
PANELS = 6
EMBEDDINGS = ("umap", "pca")
EMBEDDING = "umap"                                  # the paper's; "pca" is the linear, faster option


def epochs_for(folder, paper_epochs: bool = False) -> list[int]:
    """Epoch 0 and evaluation epochs: the paper's (nearest available) or spread evenly over the run."""
    last = runs.summary(folder)["epochs_run"]
    wanted = list(PAPER_EPOCHS) if paper_epochs else list(np.linspace(0, last, PANELS).round().astype(int))
    avail = sorted({0} | set(runs.eval_epochs(folder)))
    return runs.nearest(avail, wanted)


def embedding(real: np.ndarray, seed: int = 0, method: str | None = None):
    """(name, fitted 3-D map) on flattened real samples: UMAP (umap-learn; a fixed ``random_state``
    makes it deterministic, single-threaded) or PCA; ``method`` defaults to ``EMBEDDING``."""
    method = EMBEDDING if method is None else method
    if method not in EMBEDDINGS:
        raise ValueError(f"embedding must be one of {EMBEDDINGS}, got {method!r}")
    if method == "umap":
        import umap

        model, name = umap.UMAP(n_components=3, random_state=seed), "UMAP"
    else:
        from sklearn.decomposition import PCA

        model, name = PCA(n_components=3, random_state=seed), "PCA"
    model.fit(real.reshape(len(real), -1))
    return name, model


def _scatter3d(ax, real, gen, real_colours, title, gen_colour):
    """Real and generated points; axes fixed to the real points' range (padded) so panels compare."""
    ax.scatter(*real.T, s=4, c=real_colours, alpha=0.6, lw=0, **({} if isinstance(real_colours, str) else
                                                                  {"cmap": "tab10"}))
    ax.scatter(*gen.T, s=3, c=gen_colour, lw=0)
    lo, hi = real.min(0), real.max(0)
    pad = 0.25 * (hi - lo)
    ax.set_xlim(lo[0] - pad[0], hi[0] + pad[0])
    ax.set_ylim(lo[1] - pad[1], hi[1] + pad[1])
    ax.set_zlim(lo[2] - pad[2], hi[2] + pad[2])
    ax.set_title(title, fontsize=8)
    ax.tick_params(labelsize=5)


def make(profile: str, outdir) -> list:
    import matplotlib.pyplot as plt

    from ganphase.simulate.data import load_dataset

    runs.check_profile(profile)
    if (done := runs.reusable(outdir, NUMBER, profile)) is not None:
        return done
    arrays, measured, notes = {}, {}, []
    gmm = runs.ensure_run("gmm-3d", profile, outdir)
    gmm_epochs = epochs_for(gmm, paper_epochs=profile == "paper")
    real3 = load_dataset("gmm-3d", split="test").x[:N_REAL].numpy()
    gmm_summary = {r["epoch"]: r.get("eval") for r in runs.metrics(gmm)}

    image_name = IMAGE_RUN[profile]
    img, why = runs.try_run(image_name, profile, outdir)
    rows = 2 if img is not None else 1
    if img is None:
        notes.append(why)
    fig = plt.figure(figsize=(2.6 * PANELS, 2.7 * rows))
    arrays["gmm.epochs"], arrays["gmm.real"] = np.asarray(gmm_epochs), real3
    for j, e in enumerate(gmm_epochs):
        x = runs.samples_at(gmm, e)
        arrays[f"gmm.{e}"] = x
        ax = fig.add_subplot(rows, PANELS, j + 1, projection="3d")
        _scatter3d(ax, real3, x, "tab:orange", f"3-D mixture, epoch {e}", "tab:blue")
        ev = gmm_summary.get(e)
        if isinstance(ev, dict) and "modes_covered" in ev:
            measured[f"mixture modes covered at epoch {e}"] = ev["modes_covered"]
    method = None
    if img is not None:
        cfg = runs.config(img)
        t = cfg["train"]
        ds = load_dataset(t["data"], data_dir=t["data_dir"], split="train", resize=cfg["resize"], seed=t["seed"])
        real = ds.x[:N_REAL].numpy().reshape(min(N_REAL, len(ds)), -1)
        labels = ds.y[:N_REAL].numpy()
        method, model = embedding(real)
        real_e = model.transform(real)
        img_epochs = epochs_for(img)
        arrays["images.epochs"], arrays["images.real"], arrays["images.labels"] = np.asarray(img_epochs), real_e, labels
        for j, e in enumerate(img_epochs):
            g = runs.samples_at(img, e)
            ge = model.transform(g.reshape(len(g), -1))
            arrays[f"images.{e}"] = ge
            ax = fig.add_subplot(rows, PANELS, PANELS + j + 1, projection="3d")
            _scatter3d(ax, real_e, ge, labels, f"{t['data']} ({method}), epoch {e}", "k")
        if hasattr(model, "explained_variance_ratio_"):
            measured["PCA variance explained by 3 components"] = float(model.explained_variance_ratio_.sum())
    fig.tight_layout()
    np.savez_compressed(data_path(outdir, NUMBER), **arrays)
    text = ("Row 1: NSGAN on the 3-D mixture of 8 modes at (+-1, +-1, +-1), sigma^2 = 0.0125: real samples "
            "(orange) and generated samples on fixed latents (blue) at epochs " + ", ".join(map(str, gmm_epochs)) +
            " (epoch 0: the initialisation).")
    if img is not None:
        text += (f" Row 2: real {t['data']} training images coloured by label and generated images (black) embedded in "
                 f"3-D by {method} fitted on the {len(real)} real images only, at epochs "
                 + ", ".join(map(str, img_epochs)) + ".")
    if notes:
        text += " Not drawn: " + "; ".join(notes) + "."
    gcfg = runs.config(gmm)["train"]
    stand_in = ("" if profile == "paper" else
                f"The paper trains the mixture for about 1000 epochs with SGD and shows MNIST within its first 47 "
                f"epochs; here the mixture runs {gcfg['epochs']} epochs of at most {gcfg['max_iterations_per_epoch']} "
                f"iterations with Adam (lr {gcfg['lr_g']}) and a smaller MLP, and the 8x8 digits (MLP, Adam) stand "
                "in for MNIST; epochs are spread evenly over the run instead of the paper's.")
    if method == "PCA":
        stand_in = (stand_in + " " if stand_in else "") + "The embedding is PCA (EMBEDDING = 'pca'), not the paper's UMAP."
    caption = Caption(NUMBER, text, profile, stand_in=stand_in, claims=CLAIMS,
                      settings={"mixture run epochs": gcfg["epochs"], "embedding": method or "none",
                                "real samples": N_REAL}, measured=measured, seed=gcfg["seed"])
    return save(fig, outdir, caption)
