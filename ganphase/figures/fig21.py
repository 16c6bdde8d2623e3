"""Figure 21 (Appendix G.7): the histograms of Figure 7 (||grad d/d||, noised vs noise-free) at more epochs."""
from __future__ import annotations

from ganphase.figures.fig07 import render

TITLE = "Histograms of ||grad d/d|| and their 90th percentile across epochs, noised vs noise-free"
NUMBER = 21
CLAIMS = ("sec-4.1",)  # the registry claims this figure illustrates
PANELS = 15


def make(profile: str, outdir) -> list:
    return render(NUMBER, profile, outdir, PANELS, 5, CLAIMS)
