"""Figure 17 (Appendix G.4): q_d = the quantile of ||grad d/d|| and the Frechet distance over epochs."""
from __future__ import annotations

from ganphase.figures.fig06 import MIXTURE_RIGHT, QUICK_NOTE, RUNS, render

TITLE = "||grad d/d|| and Frechet distance over epochs"
NUMBER = 17
CLAIMS = ("sec-4.1",)  # the registry claims this figure illustrates


def make(profile: str, outdir) -> list:
    text = ("Epoch means of q_d, the (1 - 1/m) quantile over each generated batch of ||grad d(x)/d(x)|| read off "
            "the generator step (left axis, log scale), and the Frechet distance between 256 generated samples "
            "on fixed latents and the real reference in the toolkit's classifier features (right axis) at "
            "evaluation epochs (for a mixture run the modes covered instead); black line: the epoch where Algorithm 2 "
            "fired, red dashed line: the run's collapse epoch, where it has them. The Pearson correlation of the "
            "two series at evaluation epochs is listed.")
    return render(NUMBER, profile, outdir, RUNS[profile], "q_d", "eval.fd", text, CLAIMS, QUICK_NOTE,
                  log_left=True, mixture_right=MIXTURE_RIGHT)
