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
        "quick": ("ring8", "ring8-noised"),
        "test": ("ring8",)}


def make(profile: str, outdir) -> list:
    text = ("Epoch means of the discriminator loss L_d = -E log d(x) - E log(1 - d(g(z))) (circles) and the "
            "non-saturating generator loss L_g = -E log d(g(z)) (squares), from the training steps themselves "
            "(binary cross-entropy on logits); black line: the epoch where Algorithm 2 fired (training went on "
            "past it), red dashed line: the run's collapse epoch (the paper marks its exact collapse epochs "
            "46, 128 and 122 by eye), where they exist.")
    stand_in = ("The paper's runs are 64 x 64 DCGANs on the full MNIST, Fashion-MNIST and CIFAR-10 (Appendix F.2); "
                "here runs that reach the collapse phase within the quick budget stand in: NSGAN with the paper's "
                "SGD mixture recipe on a 2-D ring of 8 Gaussians, and its twin with a noised discriminator "
                "(Appendix G.7), same seed.")
    return render(NUMBER, profile, outdir, RUNS[profile], "loss_d", "loss_g", text, CLAIMS,
                  stand_in, same_axis=True)
