"""Figure 15: annotated mode-mixture heatmaps in the first epochs, Fashion-MNIST (Appendix G.2).

As figure 14, for Fashion-MNIST, with each epoch split into 5 collections of batches: the heatmap
labelled "e, b" is drawn after the b-th collection of epoch e.  A training "epoch" of the run
here is one collection (``max_iterations_per_epoch`` = a fifth of an epoch's iterations), so run
epoch k is collection (k // 5, k % 5); checkpoints are kept for every collection.
"""
from __future__ import annotations

from ganphase.figures.fig04 import CLASSIFIER_TEST, FAST, make_fitting_figure, profile_of
from ganphase.figures.fig08 import PRETTY

TITLE = "Annotated mode-mixture heatmaps in the first epochs, Fashion-MNIST (Appendix G.2)"
NUMBER = 15
CLAIMS = ("thm-3.3", "thm-3.4")  # the registry claims this figure illustrates
COLLECTIONS = 5          # Appendix G.2: "each epoch is equally divided into 5 collection of batches"
CLASSIFIER_QUICK = {"train_subset": 6000, "epochs": 2}

# paper: 60000 / 64 = 937 iterations per epoch, so one collection is 187 iterations; quick: collections of
# 16 iterations on the 2048-image subset.
RUN_FASHION = {
    "quick": {"run": "fashion-mnist", "run_profile": "quick", "folder": "fitting",
              "overrides": {"epochs": 20, "max_iterations_per_epoch": 16, "keep_last": 1000, "eval_every": 5,
                            **FAST}},
    "paper": {"run": "fashion-mnist", "run_profile": "paper", "folder": "fitting",
              "overrides": {"epochs": 20, "max_iterations_per_epoch": 187, "keep_last": 1000, "eval_every": 5}},
    "test": {"run": "fashion-mnist", "run_profile": "test", "folder": "fitting",
             "overrides": {"epochs": 3, "max_iterations_per_epoch": 2, "keep_last": 1000}},
}
SETTINGS = {
    "quick": {**RUN_FASHION["quick"], "epochs": list(range(0, 21)), "n_images": 256,
              "classifier": CLASSIFIER_QUICK, "test_subset": 2000},
    "paper": {**RUN_FASHION["paper"], "epochs": list(range(0, 21)), "n_images": 256, "classifier": {},
              "test_subset": None},
    "test": {**RUN_FASHION["test"], "epochs": [0, 1, 2, 3], "n_images": 64, "classifier": CLASSIFIER_TEST,
             "test_subset": 500},
}


def collection_label(k: int) -> str:
    return f"{k // COLLECTIONS}, {k % COLLECTIONS}"


def make(profile: str, outdir) -> list:
    profile = profile_of(profile)
    settings = SETTINGS[profile]
    it = settings["overrides"]["max_iterations_per_epoch"]
    text = ("Annotated heatmaps of log(1 + count) of classifier pairs (i, j) among generated Fashion-MNIST images "
            f"after each collection of {it} training iterations (label 'e, b': collection b of epoch e, 5 "
            "collections per epoch; one colour scale). Classes: 0 T-shirt/top, 1 Trouser, 2 Pullover, 3 Dress, "
            "4 Coat, 5 Sandal, 6 Shirt, 7 Sneaker, 8 Bag, 9 Ankle boot. The paper reports a fast fitting phase "
            "(off-diagonal values stabilise within the first epochs) and notes that large T-shirt / Pullover / "
            "Shirt entries reflect classes a classifier confuses, not necessarily mode mixture.")
    stand_in = ""
    if profile != "paper":
        from ganphase.figures.runs import spec

        s = spec(settings["run"], settings["run_profile"], **settings["overrides"])
        stand_in = (f"NSGAN on the first {s.get('subset')} {PRETTY['fashion-mnist']} training images at native size "
                    f"(DCGAN width {s.get('width')}, Adam step {s.get('lr_g', 2e-4):g}); a collection is {it} "
                    "iterations of batch 64 instead of 187 (a fifth of a full 64 x 64 epoch); the classifier is "
                    "trained on a subset for fewer epochs.")
    return make_fitting_figure(NUMBER, "fashion-mnist", settings, profile, outdir, text,
                               CLAIMS, stand_in, collection_label, annotate=True,
                               ncols=5)
