"""Figure 14: annotated mode-mixture heatmaps across epochs, MNIST (Appendix G.2).

The heatmaps of figure 4 (log(1 + count) of classifier pairs with p_i, p_j > 1e-2 in a fixed
batch of 256 generated images, Appendix F.1) for every kept checkpoint of the same run, each
nonzero entry annotated with its value.  The paper shows epochs 0 to 38, collapse by epoch 36.
"""
from __future__ import annotations

from ganphase.figures.fig04 import CLASSIFIER_QUICK, CLASSIFIER_TEST, RUN_MNIST, make_fitting_figure, profile_of, \
    run_stand_in

TITLE = "Annotated mode-mixture heatmaps across epochs, MNIST (Appendix G.2)"
NUMBER = 14
CLAIMS = ("thm-3.3", "thm-3.4")  # the registry claims this figure illustrates

SETTINGS = {
    "quick": {**RUN_MNIST["quick"], "epochs": list(range(0, 11)), "n_images": 256,
              "classifier": CLASSIFIER_QUICK, "test_subset": 2000},
    "paper": {**RUN_MNIST["paper"], "epochs": list(range(0, 39, 2)), "n_images": 256, "classifier": {},
              "test_subset": None},
    "test": {**RUN_MNIST["test"], "epochs": [0, 1, 2], "n_images": 64, "classifier": CLASSIFIER_TEST,
             "test_subset": 500},
}


def make(profile: str, outdir) -> list:
    profile = profile_of(profile)
    settings = SETTINGS[profile]
    text = ("Annotated heatmaps of log(1 + count) of classifier pairs (i, j) among generated MNIST images, one per "
            "kept checkpoint (epoch below each heatmap; one colour scale, darker = larger). Nonzero off-diagonal "
            "entries are mode mixture; the paper reports more nonzero entries as fitting spreads the samples, "
            "shrinking off-diagonal values, mode mixture that persists at the end of fitting, and only two "
            "nonzero entries at epoch 36 (collapse).")
    return make_fitting_figure(NUMBER, "mnist", settings, profile, outdir, text, CLAIMS,
                               run_stand_in(settings, "mnist"), lambda e: f"epoch {e}", annotate=True,
                               ncols=6 if profile != "paper" else 5)
