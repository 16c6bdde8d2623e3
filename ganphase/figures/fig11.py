"""Figure 11 (Appendix G.1): a trained discriminator's values on the 4-mode toy, sigma^2 = 0.0125.

The toy p_data = (1/4) sum N((+-1, +-1), 0.0125 I_2) (run ``gmm-2d``). The discriminator
of the run's last checkpoint, in eval mode, is drawn as d(x) = sigmoid(a(x)) on a grid,
and along rays from every mode centre (``RAYS`` directions, radii 0..``R_MAX``) as
the radial profiles of the mean d and of the mean ||grad_x d||.

Measured radii: r_flat, where d flattens out (the smallest radius past the peak of the
mean ||grad_x d|| profile at which that profile falls below ``FLAT`` times its peak;
for the linear d of Assumption 4.1 this is exactly 4 sigma); r_peak, the radius of the
steepest descent (the peak itself); r_half, where the mean d falls to half its value
at the centre (2 sigma for the linear d). Assumption 4.1 predicts that d = 1/2 - r/(8 sigma) vanishes at
r_0 = 4 sigma (claim ``app-g.1``; the radius comes from ``ganphase.theory.collapse`` by
sympy); the paper reports ~0.4 against 4 sigma ~ 0.45.
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from ganphase.figures import runs
from ganphase.figures.common import Caption, data_path, save
from ganphase.simulate.radial import (FLAT, N_R, R_MAX, RAYS, d_grad_norms, d_values,  # noqa: F401
                                      flat_radius, half_radius, radial_profiles, ray_points)

TITLE = "Trained discriminator on the 4-mode toy and its vanishing radius vs 4 sigma"
NUMBER = 11
CLAIMS = ("app-g.1", "sec-4.1")  # the registry claims this figure illustrates
RUN = "gmm-2d"
GRID = 201


def predicted_radius(sigma: float) -> float:
    """r_0 with d(r_0) = 0 for the linear discriminator of Assumption 4.1 (theory: app-g.1)."""
    from ganphase.theory.collapse import linear_discriminator, r
    from ganphase.theory.symbols import sigma as s_sym

    r0 = sp.solve(sp.Eq(linear_discriminator(r), 0), r)[0]
    return float(sp.lambdify(s_sym, r0)(sigma))


def linear_d(dist: np.ndarray, sigma: float) -> np.ndarray:
    """Assumption 4.1's d(dist) = 1/2 - dist/(8 sigma) inside B_{4 sigma}, 0 outside (from the theory)."""
    from ganphase.theory.collapse import linear_discriminator, r
    from ganphase.theory.symbols import sigma as s_sym

    f = sp.lambdify((r, s_sym), linear_discriminator(r))
    return np.maximum(f(dist, sigma), 0.0)


def make(profile: str, outdir) -> list:
    import matplotlib.pyplot as plt

    from ganphase.simulate.data import load_dataset, mixture_spec
    from ganphase.simulate.train import load_discriminator

    runs.check_profile(profile)
    if (done := runs.reusable(outdir, NUMBER, profile)) is not None:
        return done
    folder = runs.ensure_run(RUN, profile, outdir)
    summ = runs.summary(folder)
    epoch = summ["epochs_run"]
    D = load_discriminator(folder, epoch, device="cpu")
    centres, sigma = mixture_spec("gmm-2d")
    radii, d_prof, g_prof = radial_profiles(D, centres)
    r_flat = flat_radius(radii, g_prof)
    r_half = half_radius(radii, d_prof)
    r_peak = float(radii[int(np.argmax(g_prof))])
    r0 = predicted_radius(sigma)

    lin = np.linspace(-2, 2, GRID)
    gx, gy = np.meshgrid(lin, lin)
    dgrid = d_values(D, np.stack([gx.ravel(), gy.ravel()], 1)).reshape(gx.shape)
    real = load_dataset("gmm-2d", split="test").x[:400].numpy()

    fig, (a0, a1) = plt.subplots(1, 2, figsize=(10.5, 4.6))
    im = a0.imshow(dgrid, origin="lower", extent=(-2, 2, -2, 2), cmap="coolwarm", vmin=0, vmax=max(0.5, dgrid.max()))
    a0.contour(gx, gy, dgrid, levels=8, colors="k", linewidths=0.4)
    a0.scatter(real[:, 0], real[:, 1], s=1, c="k", alpha=0.3)
    t = np.linspace(0, 2 * np.pi, 100)
    for c in centres:
        a0.plot(c[0] + r0 * np.cos(t), c[1] + r0 * np.sin(t), "w--", lw=1)
        if r_flat is not None:
            a0.plot(c[0] + r_flat * np.cos(t), c[1] + r_flat * np.sin(t), "y-", lw=1)
    fig.colorbar(im, ax=a0, label="d(x)")
    a0.set_title(f"d(x) at epoch {epoch} (dashed: 4σ; yellow: measured)")
    a1.plot(radii, d_prof, "C3-", label="mean d along rays")
    a1.plot(radii, linear_d(radii, sigma), "C3:", label="Assumption 4.1: 1/2 - r/(8σ)")
    a1.set_xlabel("distance from the mode centre")
    a1.set_ylabel("d")
    a2 = a1.twinx()
    a2.plot(radii, g_prof, "C0-", label="mean ||∇d||")
    a2.set_ylabel("||∇d||", color="C0")
    a1.axvline(r0, color="k", ls="--", lw=1, label=f"4σ = {r0:.3f}")
    if r_flat is not None:
        a1.axvline(r_flat, color="y", lw=1.5, label=f"measured r_flat = {r_flat:.3f}")
    a1.axvline(r_peak, color="C0", ls=":", lw=1, label=f"steepest descent r_peak = {r_peak:.3f}")
    h1, l1 = a1.get_legend_handles_labels()
    h2, l2 = a2.get_legend_handles_labels()
    a1.legend(h1 + h2, l1 + l2, fontsize=7, loc="upper right")
    a1.set_title("radial profiles (4 modes x 64 rays)")
    fig.tight_layout()

    np.savez(data_path(outdir, NUMBER), radii=radii, d_profile=d_prof, grad_profile=g_prof,
             r_flat=np.nan if r_flat is None else r_flat, r_half=np.nan if r_half is None else r_half,
             r_peak=r_peak, r0=r0, grid=dgrid, grid_axis=lin, centres=centres,
             sigma=sigma, epoch=epoch)
    cfg = runs.config(folder)["train"]
    text = (f"Values d(x) = sigmoid(a(x)) of the discriminator of run '{RUN}' (NSGAN on the 4-mode toy "
            f"(1/4) sum N((+-1, +-1), 0.0125 I_2), last checkpoint, epoch {epoch}, eval mode) on a {GRID}x{GRID} "
            f"grid over [-2, 2]^2, and radial profiles along {RAYS} rays from each centre: the mean d and the mean "
            f"||grad_x d|| (autograd). The measured vanishing radius r_flat is the first radius past the peak of the "
            f"gradient profile where it falls below {FLAT:g} of the peak (looked for up to distance {R_MAX:g}, "
            "half way "
            f"to the next mode), r_peak is the peak of that profile and r_half where the mean d halves; "
            f"Assumption 4.1's linear d vanishes at 4 sigma (r_flat = 4 sigma, r_half = 2 sigma for it).")
    measured = {"r_flat": r_flat if r_flat is not None else f"not reached within {R_MAX:g}",
                "r_half": r_half if r_half is not None else f"not reached within {R_MAX:g}",
                "r_peak": r_peak, "four_sigma": r0,
                "d_at_centre": float(d_prof[0]), "d_at_four_sigma": float(np.interp(r0, radii, d_prof)),
                "d_max_on_grid": float(dgrid.max())}
    stand_in = ("" if profile == "paper" else
                f"{cfg['epochs']} epochs of at most {cfg['max_iterations_per_epoch']} iterations, Adam "
                f"lr {cfg['lr_d']}, MLP widths {cfg['hidden']}, batch {cfg['batch_size']} instead of the paper's "
                "discriminator 'trained until optimal'.")
    caption = Caption(NUMBER, text, profile, stand_in=stand_in, claims=CLAIMS,
                      settings={"run": RUN, "epochs": cfg["epochs"], "optimizer": cfg["optimizer"] or "sgd",
                                "rays": RAYS, "flat_fraction": FLAT}, measured=measured, seed=cfg["seed"])
    return save(fig, outdir, caption)
