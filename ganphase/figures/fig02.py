"""Figure 2: the optimal-discriminator field grad d*/d* for the four cases of Table 2 (Section 3.1).

For each case (p_data, p_g) = ``table2_case(k)`` the colour is d*(x) = p_data/(p_data + p_g) and the
arrows are the normalised directions of grad d*/d* = (1 - d*)(score_data - score_g)
(``ganphase.simulate.fields``), on the whole square and zoomed around the bottom-left mode.
Appendix C.3 (Propositions C.1-C.4) describes the four fields; Proposition C.1 (case 1) says that
in each quadrant the field points approximately along [2 sign(x_1) - x_1, 2 sign(x_2) - x_2], i.e.
toward the nearest mode from inside the square of the modes.
"""
from __future__ import annotations

import numpy as np

from ganphase.figures.common import Caption, check_profile, save, save_arrays
from ganphase.simulate.fields import optimal_discriminator, optimal_field
from ganphase.simulate.mixtures import table2_case

TITLE = "The field grad d*/d* for the four cases of Table 2"
NUMBER = 2
CLAIMS = ("sec-2.2", "prop-c.1", "prop-c.2", "prop-c.3", "prop-c.4")  # the registry claims this figure illustrates
DESCRIPTIONS = {1: "initialisation with concentrated particles", 2: "particles covering all modes",
                3: "particles concentrated near a single mode", 4: "globally separated modes"}
SETTINGS = {"quick": {"colour_grid": 120, "arrow_grid": 15, "zoom_arrow_grid": 11},
            "paper": {"colour_grid": 400, "arrow_grid": 25, "zoom_arrow_grid": 17}}


def extent(case: int) -> float:
    """Half-width of the square drawn: the modes sit at +-1 (cases 1-3) or +-3 (case 4)."""
    return 5.0 if case == 4 else 2.0


def zoom_window(case: int) -> tuple[np.ndarray, float]:
    """(centre, half-width) of the zoom around the bottom-left mode."""
    mode = -3.0 if case == 4 else -1.0
    return np.array([mode, mode]), (1.0 if case == 4 else 0.5)


def square_grid(centre, half: float, m: int) -> np.ndarray:
    """The m x m points of the square centre +- half, shape (m*m, 2), x_1 varying fastest."""
    ticks = np.linspace(-half, half, m)
    xx, yy = np.meshgrid(centre[0] + ticks, centre[1] + ticks)
    return np.column_stack([xx.ravel(), yy.ravel()])


def unit(vectors: np.ndarray, rel_tol: float = 1e-9) -> np.ndarray:
    """Rows divided by their norm; rows below rel_tol times the largest norm (rounding noise at a
    stationary point such as a mode centre) have no direction and stay zero."""
    norm = np.linalg.norm(vectors, axis=1, keepdims=True)
    keep = norm > rel_tol * norm.max() if norm.size else norm > 0
    return np.divide(vectors, norm, out=np.zeros_like(vectors), where=keep)


def case_arrays(case: int, settings: dict) -> dict:
    """Colour grid (d*), arrow grid, field and directions for one case, whole square and zoom."""
    p_data, p_g = table2_case(case)
    half = extent(case)
    colour = square_grid(np.zeros(2), half, settings["colour_grid"])
    arrows = square_grid(np.zeros(2), half * 0.95, settings["arrow_grid"])
    centre, zhalf = zoom_window(case)
    zoom = square_grid(centre, zhalf * 0.9, settings["zoom_arrow_grid"])
    zoom_colour = square_grid(centre, zhalf, settings["colour_grid"] // 2)
    field, zfield = optimal_field(p_data, p_g, arrows), optimal_field(p_data, p_g, zoom)
    return {"colour_points": colour, "dstar": optimal_discriminator(p_data, p_g, colour),
            "zoom_colour_points": zoom_colour, "zoom_dstar": optimal_discriminator(p_data, p_g, zoom_colour),
            "points": arrows, "field": field, "direction": unit(field),
            "zoom_points": zoom, "zoom_field": zfield, "zoom_direction": unit(zfield),
            "modes": p_data.means, "dstar_at_modes": optimal_discriminator(p_data, p_g, p_data.means)}


def _panel(ax, points, dstar_points, dstar, direction, magnitude, m_colour, title, fig, colourbar):
    xs = dstar_points[:, 0].reshape(m_colour, m_colour)
    ys = dstar_points[:, 1].reshape(m_colour, m_colour)
    mesh = ax.pcolormesh(xs, ys, dstar.reshape(m_colour, m_colour), cmap="coolwarm", vmin=0, vmax=1,
                         shading="auto", rasterized=True)
    ax.quiver(points[:, 0], points[:, 1], direction[:, 0], direction[:, 1], np.log10(magnitude + 1e-12),
              cmap="viridis", angles="xy", pivot="mid", width=0.006)
    ax.set_aspect("equal")
    ax.set_title(title, fontsize=9)
    ax.tick_params(labelsize=7)
    if colourbar:
        fig.colorbar(mesh, ax=ax, fraction=0.046, pad=0.03).ax.tick_params(labelsize=7)


def make(profile: str, outdir) -> list:
    import matplotlib.pyplot as plt

    settings = SETTINGS[check_profile(profile)]
    fig, axes = plt.subplots(2, 4, figsize=(17, 8.2))
    arrays, measured = {}, {}
    for case in (1, 2, 3, 4):
        a = case_arrays(case, settings)
        row, col = divmod(case - 1, 2)
        mag, zmag = np.linalg.norm(a["field"], axis=1), np.linalg.norm(a["zoom_field"], axis=1)
        _panel(axes[row, 2 * col], a["points"], a["colour_points"], a["dstar"], a["direction"], mag,
               settings["colour_grid"], f"Case {case}: {DESCRIPTIONS[case]}", fig, True)
        _panel(axes[row, 2 * col + 1], a["zoom_points"], a["zoom_colour_points"], a["zoom_dstar"],
               a["zoom_direction"], zmag, settings["colour_grid"] // 2, f"Case {case}: zoom, bottom-left mode",
               fig, False)
        arrays.update({f"case{case}_{k}": v for k, v in a.items()})
        measured[f"case{case}_max_field_norm"] = float(mag.max())
        measured[f"case{case}_dstar_at_modes"] = [round(float(v), 4) for v in a["dstar_at_modes"]]
    fig.suptitle(r"$\nabla d_*/d_*$ (arrows: direction, colour $\log_{10}$ magnitude); "
                 r"background: $d_*$", fontsize=11)
    fig.tight_layout()
    data = save_arrays(outdir, NUMBER, arrays)
    caption = Caption(
        NUMBER, "The vector field grad d*/d* of the optimal discriminator d* = p_data/(p_data + p_g) for the "
                "four cases of Table 2, with zoomed views around the bottom-left mode. Colour: d*; arrows: "
                "normalised field directions, coloured by log10 of the field's norm. Computed in log space "
                "from the exact densities (grad d*/d* = (1 - d*)(score_data - score_g)).",
        profile, settings=dict(settings), claims=CLAIMS,
        measured=measured,
        stand_in="" if profile == "paper" else "coarser colour and arrow grids than the paper profile.")
    return save(fig, outdir, caption) + [data]

