"""Figure 9: Frobenius distances between the class means of Fashion-MNIST (Appendix E.2).

Computed as figure 8 (:func:`ganphase.figures.fig08.make_distance_figure`): images resized to
64 x 64, scaled to [-1, 1], averaged per label; the nearest and the farthest pair of modes marked.
Without the data file the figure says so instead of drawing.
"""
from __future__ import annotations

from ganphase.figures.fig08 import make_distance_figure

TITLE = "Frobenius distances between class means of Fashion-MNIST (Appendix E.2)"
NUMBER = 9
CLAIMS = ("app-f",)  # the registry claims this figure illustrates
DATASET = "fashion-mnist"


def make(profile: str, outdir) -> list:
    return make_distance_figure(NUMBER, DATASET, profile, outdir, claims=CLAIMS)
