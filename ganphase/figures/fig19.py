"""Figure 19 (Appendix G.6): discriminator and generator losses with the stopping epoch.

L_d = -E log d(x) - E log(1 - d(g(z))) and L_g = -E log d(g(z)) (non-saturating), the
epoch means of the training steps' own losses (``metrics.jsonl: loss_d, loss_g``).
"""
from __future__ import annotations

from ganphase.figures.fig06 import render

TITLE = "Discriminator and generator losses with the stopping epoch"
NUMBER = 19
CLAIMS = ("thm-4.2",)  # the registry claims this figure illustrates
RUNS = {"paper": ("mnist", "fashion-mnist", "cifar10"),
        "quick": ("gmm-3d", "digits", "mnist", "fashion-mnist", "cifar10"),
        "test": ("digits",)}


def make(profile: str, outdir) -> list:
    text = ("Epoch means of the discriminator loss L_d = -E log d(x) - E log(1 - d(g(z))) (circles) and the "
            "non-saturating generator loss L_g = -E log d(g(z)) (squares), from the training steps themselves "
            "(binary cross-entropy on logits); black line: the epoch where Algorithm 2 fired (training went on "
            "past it), if it did.")
    stand_in = ("The paper's runs are 64 x 64 DCGANs on the full MNIST, Fashion-MNIST and CIFAR-10 (Appendix F.2); "
                "here the 3-D mixture (Adam, 40 epochs of 40 iterations), the 8x8 digits (MLP, Adam, 80 epochs) "
                "and 2048-image subsets at native size with 16-channel "
                "DCGANs (Adam, step 1e-3) for 12 epochs of 50 iterations stand in.")
    return render(NUMBER, profile, outdir, RUNS[profile], "loss_d", "loss_g", text, CLAIMS,
                  stand_in, same_axis=True)
