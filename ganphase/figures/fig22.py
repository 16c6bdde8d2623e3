"""Figure 22: measure-preserving generators g = Psi^{-1} o Phi for Gaussian mixtures (Appendix I, Table 3).

Each curve is ``ganphase.simulate.maps.OptimalTransportMap1D`` for p_data = sum_i alpha_i N(mu_i, sigma^2),
the increasing map with g#N(0, 1) = p_data.  Four panels vary one parameter of Table 3 at a time:
the means, the variance, the mixing coefficients and the number of modes.  The measured numbers
are the ones Table 3 speaks about: the largest slope on the drawn grid (between modes) and the slope at z = 4.
"""
from __future__ import annotations

import numpy as np

from ganphase.figures.common import Caption, check_profile, save, save_arrays
from ganphase.simulate.maps import OptimalTransportMap1D
from ganphase.simulate.mixtures import GaussianMixture

TITLE = "Measure-preserving generators g = Psi^{-1} o Phi for Gaussian mixtures (Table 3)"
NUMBER = 22
CLAIMS = ("thm-c.2", "thm-3.1")  # the registry claims this figure illustrates
Z_MAX = 4.0
SETTINGS = {"quick": {"z_points": 1601}, "paper": {"z_points": 8001}}


def panels() -> dict[str, list[tuple[str, GaussianMixture]]]:
    """Table 3, one parameter varied per panel: (legend label, mixture)."""
    two = lambda mu, var, w: GaussianMixture(np.array([[-mu], [mu]]), np.sqrt(var), np.array(w))
    return {
        "means": [(f"mu = +-{mu:g}", two(mu, 0.25, [0.5, 0.5])) for mu in (1.0, 2.0, 3.0)],
        "variance": [(f"sigma^2 = {v:g}", two(2.0, v, [0.5, 0.5])) for v in (0.1, 0.5, 1.0, 2.0)],
        "weights": [(f"alpha = ({a:g}, {1 - a:g})", two(2.0, 0.25, [a, 1 - a])) for a in (0.2, 0.5, 0.8)],
        "modes": [(f"n = {n}", GaussianMixture.assumption_2_1(3.0 * (np.arange(n) - (n - 1) / 2).reshape(-1, 1),
                                                                0.5)) for n in (1, 2, 3, 4)],
    }


TITLES = {"means": "varying the means", "variance": "varying the variance sigma^2",
          "weights": "varying the mixing coefficients", "modes": "varying the number of Gaussians n"}


def make(profile: str, outdir) -> list:
    import matplotlib.pyplot as plt

    settings = SETTINGS[check_profile(profile)]
    z = np.linspace(-Z_MAX, Z_MAX, settings["z_points"])
    fig, axes = plt.subplots(1, 4, figsize=(18, 4.4))
    arrays, measured = {"z": z}, {}
    for ax, (name, curves) in zip(axes, panels().items()):
        for i, (label, mixture) in enumerate(curves):
            ot = OptimalTransportMap1D(mixture)
            g = ot(z)
            ax.plot(z, g, label=label)
            key = f"{name}_{i}"
            arrays.update({f"{key}_g": g, f"{key}_means": mixture.means[:, 0], f"{key}_sigmas": mixture.sigmas[:, 0],
                           f"{key}_weights": mixture.weights})
            measured[f"{name}: {label}"] = {"max_slope_on_grid": _sig(np.max(ot.slope(z))),
                                            "slope_at_z=4": _sig(ot.slope(np.array([Z_MAX]))[0])}
        ax.set(xlabel="z", ylabel="g(z)", title=TITLES[name])
        ax.legend(fontsize=8)
    fig.tight_layout()
    data = save_arrays(outdir, NUMBER, arrays)
    caption = Caption(
        NUMBER, "The increasing maps g = Psi^{-1} o Phi with g#N(0, 1) = p_data for Gaussian mixtures "
                "p_data = sum_i alpha_i N(mu_i, sigma^2) (Appendix I, Table 3). First: modes at +-mu (sigma^2 = "
                "0.25); second: modes at +-2 with variance sigma^2; third: modes at +-2, sigma^2 = 0.25, weights "
                "(alpha, 1 - alpha); fourth: n modes 3 apart, sigma = 0.5. Measured: the largest slope of g on "
                "the drawn grid of [-4, 4] and the slope at z = 4 for every curve.",
        profile, settings={**settings, "z_max": Z_MAX}, claims=CLAIMS, measured=measured,
        stand_in="" if profile == "paper" else "a coarser z grid than the paper profile.")
    return save(fig, outdir, caption) + [data]


def _sig(v: float) -> float:
    return float(f"{float(v):.4g}")
