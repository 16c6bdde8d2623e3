"""Figure 13: the field grad d/d of the linear discriminator of Assumption 4.1 on the toy mixture (Appendix G.1).

p_data = (1/4) sum N([+-1, +-1], 0.0125 I_2); near each mode x_i the discriminator is
d(x) = 1/2 - ||x - x_i||_2/(8 sigma) on B_{4 sigma}(x_i) and 0 outside (Assumption 4.1, Section 4.1).
The field grad d/d is lambdified from ``ganphase.theory.collapse.particle_field`` (claim sec-4.1, whose
derived norm is 1/(4 sigma - r)); it is drawn where d > 0, unscaled (left) and, around the bottom-left
mode, at one tenth of its length (right), as in the paper.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import sympy as sp

from ganphase.figures.common import Caption, check_profile, save, save_arrays
from ganphase.theory import collapse
from ganphase.theory.symbols import sigma as sigma_sym

TITLE = "The field grad d/d of the linear discriminator of Assumption 4.1"
NUMBER = 13
CLAIMS = ("sec-4.1", "app-g.1")  # the registry claims this figure illustrates
MODES = np.array([[1.0, 1.0], [1.0, -1.0], [-1.0, 1.0], [-1.0, -1.0]])
SIGMA = float(sp.sqrt(collapse.SIGMA2_TOY))
ZOOM_CENTRE, ZOOM_HALF, ZOOM_SCALE = np.array([-1.0, -1.0]), 0.55, 0.1
SETTINGS = {"quick": {"spacing": 0.1, "zoom_spacing": 0.04, "colour_grid": 300},
            "paper": {"spacing": 0.05, "zoom_spacing": 0.02, "colour_grid": 800}}


@lru_cache(maxsize=1)
def _field_function():
    """(y1, y2, sigma) -> grad d/d in the plane y3 = 0, from the sympy derivation of claim sec-4.1."""
    y1, y2, y3 = collapse.ys
    field = collapse.particle_field().subs(y3, 0)
    return sp.lambdify((y1, y2, sigma_sym), [field[0], field[1]], modules="numpy")


def nearest_mode(x: np.ndarray) -> np.ndarray:
    """The mode centre closest to each point, shape (m, 2)."""
    return MODES[np.argmin(((x[:, None, :] - MODES[None]) ** 2).sum(axis=2), axis=1)]


def discriminator(x: np.ndarray, sigma: float = SIGMA) -> np.ndarray:
    """d(x) of Assumption 4.1 (lambdified from ``collapse.linear_discriminator``), 0 outside every ball."""
    dist = np.linalg.norm(x - nearest_mode(x), axis=1)
    d = sp.lambdify((collapse.r, sigma_sym), collapse.linear_discriminator(collapse.r))(dist, sigma)
    return np.where(dist < 4 * sigma, d, 0.0)


def field(x: np.ndarray, sigma: float = SIGMA) -> tuple[np.ndarray, np.ndarray]:
    """(grad d/d at the points inside some B_{4 sigma}(x_i), mask of those points); r = 0 is excluded."""
    y = x - nearest_mode(x)
    dist = np.linalg.norm(y, axis=1)
    inside = (dist > 0) & (dist < 4 * sigma)
    f1, f2 = _field_function()(y[inside, 0], y[inside, 1], sigma)
    return np.column_stack([np.broadcast_to(f1, dist[inside].shape), np.broadcast_to(f2, dist[inside].shape)]), inside


def offset_grid(centre, half: float, spacing: float) -> np.ndarray:
    """Grid of spacing h shifted by h/2, so that no point falls on a mode centre."""
    ticks = np.arange(-half + spacing / 2, half, spacing)
    xx, yy = np.meshgrid(centre[0] + ticks, centre[1] + ticks)
    return np.column_stack([xx.ravel(), yy.ravel()])


def panel_arrays(centre, half, spacing) -> dict:
    pts = offset_grid(np.asarray(centre, float), half, spacing)
    f, inside = field(pts)
    p = pts[inside]
    return {"points": p, "field": f, "magnitude": np.linalg.norm(f, axis=1),
            "r": np.linalg.norm(p - nearest_mode(p), axis=1)}


def _draw(left_arrays, zoom_arrays, colour_grid):
    import matplotlib.pyplot as plt
    from matplotlib.colors import LogNorm

    fig, axes = plt.subplots(1, 2, figsize=(13, 6))
    norm = LogNorm(vmin=1 / (4 * SIGMA), vmax=max(left_arrays["magnitude"].max(), zoom_arrays["magnitude"].max()))
    for ax, a, scale, (c, h) in ((axes[0], left_arrays, 1.0, (np.zeros(2), 2.0)),
                                 (axes[1], zoom_arrays, ZOOM_SCALE, (ZOOM_CENTRE, ZOOM_HALF))):
        ticks = np.linspace(-h, h, colour_grid)
        xx, yy = np.meshgrid(c[0] + ticks, c[1] + ticks)
        d = discriminator(np.column_stack([xx.ravel(), yy.ravel()])).reshape(xx.shape)
        mesh = ax.pcolormesh(xx, yy, d, cmap="coolwarm", vmin=0, vmax=0.5, shading="auto", rasterized=True)
        q = ax.quiver(a["points"][:, 0], a["points"][:, 1], scale * a["field"][:, 0], scale * a["field"][:, 1],
                      a["magnitude"], cmap="viridis", norm=norm, angles="xy", scale_units="xy", scale=1,
                      width=0.003)
        ax.plot(MODES[:, 0], MODES[:, 1], "k+", ms=8)
        ax.set(xlim=(c[0] - h, c[0] + h), ylim=(c[1] - h, c[1] + h), aspect="equal")
    fig.colorbar(mesh, ax=axes[0], fraction=0.046, pad=0.03, label="d(x)")
    fig.colorbar(q, ax=axes[1], fraction=0.046, pad=0.03, label=r"$\|\nabla d/d\|_2$")
    axes[0].set_title(r"$\nabla d/d$ under Assumption 4.1, unscaled", fontsize=10)
    axes[1].set_title(r"zoom around $[-1, -1]$, vectors at 1/10 of their length", fontsize=10)
    fig.tight_layout()
    return fig


def make(profile: str, outdir) -> list:
    settings = SETTINGS[check_profile(profile)]
    left = panel_arrays((0.0, 0.0), 2.0, settings["spacing"])
    zoom = panel_arrays(ZOOM_CENTRE, ZOOM_HALF, settings["zoom_spacing"])
    fig = _draw(left, zoom, settings["colour_grid"])
    arrays = {**{f"left_{k}": v for k, v in left.items()}, **{f"zoom_{k}": v for k, v in zoom.items()},
              "sigma": np.array(SIGMA), "modes": MODES, "zoom_scale": np.array(ZOOM_SCALE)}
    data = save_arrays(outdir, NUMBER, arrays)
    # an arrow passes through its mode centre when it points at the centre and is longer than r
    through = lambda a, scale: int(np.sum(scale * a["magnitude"] > a["r"]))
    measured = {"sigma": SIGMA, "radius_4sigma": 4 * SIGMA, "arrows_left": len(left["r"]),
                "arrows_zoom": len(zoom["r"]), "min_norm": float(left["magnitude"].min()),
                "max_norm_left": float(left["magnitude"].max()),
                "arrows_through_centre_left": through(left, 1.0),
                "arrows_through_centre_zoom": through(zoom, ZOOM_SCALE)}
    caption = Caption(
        NUMBER, "The field grad d/d of the locally linear discriminator of Assumption 4.1, "
                "d(x) = 1/2 - ||x - x_i||/(8 sigma) on B_{4 sigma}(x_i), for the toy mixture of Appendix G.1 "
                f"(modes [+-1, +-1], sigma^2 = 0.0125, 4 sigma = {4 * SIGMA:.3f}). Left: unscaled vectors; right: "
                "zoom around the bottom-left mode with vectors at one tenth of their length. Colour of the "
                "background: d; of the arrows: the norm 1/(4 sigma - r), which grows without bound at the "
                f"ball's edge. Arrows longer than their distance to the centre pass through it: "
                f"{measured['arrows_through_centre_left']} of {measured['arrows_left']} unscaled, "
                f"{measured['arrows_through_centre_zoom']} of {measured['arrows_zoom']} at one tenth.",
        profile, settings={**settings, "zoom_scale": ZOOM_SCALE, "zoom_half_width": ZOOM_HALF},
        claims=CLAIMS, measured=measured,
        stand_in="" if profile == "paper" else "coarser arrow grids than the paper profile.")
    return save(fig, outdir, caption) + [data]
