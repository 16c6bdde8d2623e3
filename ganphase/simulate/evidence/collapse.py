"""Numerical evidence for the collapse-phase claims (Section 4.1, Theorems 4.1 and 4.2, Appendix G.1).

The discriminator of Assumption 4.1 is evaluated in torch (:func:`linear_discriminator`, its
1/2 - dist/(8 sigma) lambdified from ``ganphase.theory.collapse``) and the field grad log d, its Jacobian H and the spectral norm of I + s H are computed by
autograd and ``torch.linalg``; the closed forms come from ``ganphase.theory.collapse``
through ``sympy.lambdify``.

* ``sec-4.1``: ||grad d/d|| by autograd against 1/(4 sigma - r), at random points of
  random balls in dimensions 1-8 and on the toy mixture of Figure 13.
* ``thm-4.1``: for an MLP generator g and the field of an MLP discriminator, the Jacobian
  of z -> g(z) + s grad log d(g(z)) (autograd) against J + s H J (H, J by autograd).
* ``thm-4.2``: over random sigma, n in 2..6, r in (0, 2 sigma), s in (0, (4 sigma - r)^2)
  (the theorem's range): H, its eigenvalues and ||I + sH||_2 by autograd/torch.linalg
  against the derived forms, then the printed bound S_g' <= (1 - s/(4 sigma - r)^2) S_g.
* ``app-g.1``: where the toy's discriminator vanishes (bisection along rays) and the
  toy's separation against Delta = 8 sigma.
"""
from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import sympy as sp
import torch

from ganphase.simulate.models import ModelConfig, build_models
from ganphase.simulate.particle_gan import discriminator_field
from ganphase.theory import collapse as theory
from ganphase.simulate.evidence import Evidence, evidence_of
from ganphase.theory.claims import REGISTRY
from ganphase.theory.symbols import s as s_sym, sigma as sigma_sym

TOL = 1e-9
TOY_CENTRES = torch.tensor([[1.0, 1.0], [1.0, -1.0], [-1.0, 1.0], [-1.0, -1.0]], dtype=torch.float64)
TOY_SIGMA = math.sqrt(0.0125)


# ----------------------------------------------------------------------------- Assumption 4.1 in torch
@lru_cache(maxsize=1)
def _d_of_distance():
    """(dist, sigma) -> 1/2 - dist/(8 sigma), lambdified from theory.linear_discriminator (pure arithmetic, so torch-safe)."""
    dist = sp.Symbol("dist", nonnegative=True)
    return sp.lambdify((dist, sigma_sym), theory.linear_discriminator(dist), "math")


def linear_discriminator(x: torch.Tensor, centres: torch.Tensor, sigma: float) -> torch.Tensor:
    """d(x) = 1/2 - ||x - x_i|| / (8 sigma) for the nearest centre x_i when inside B_{4 sigma}(x_i), else 0."""
    if sigma <= 0:
        raise ValueError(f"sigma must be positive, got {sigma}")
    dist = torch.cdist(x, centres.to(x)).min(dim=1).values
    return torch.clamp(_d_of_distance()(dist, sigma), min=0.0)


def log_field(x: torch.Tensor, centres: torch.Tensor, sigma: float) -> torch.Tensor:
    """grad_x log d(x) by autograd, per sample (points must lie strictly inside a ball, off its centre)."""
    with torch.enable_grad():
        xx = x.detach().requires_grad_(True)
        (g,) = torch.autograd.grad(torch.log(linear_discriminator(xx, centres, sigma)).sum(), xx)
    return g


def field_jacobian_autograd(y: torch.Tensor, sigma: float) -> torch.Tensor:
    """H = Jacobian of grad log d at y (one point, centre 0) by autograd of the autograd field."""
    centre = torch.zeros(1, y.numel(), dtype=y.dtype)

    def field(v):
        vv = v.unsqueeze(0)
        d = _d_of_distance()(torch.linalg.vector_norm(vv - centre, dim=1), sigma)
        (g,) = torch.autograd.grad(torch.log(d).sum(), vv, create_graph=True)
        return g[0]

    return torch.autograd.functional.jacobian(field, y.clone().requires_grad_(True))


# ----------------------------------------------------------------------------- closed forms from the theory
@lru_cache(maxsize=1)
def _formulas():
    claim = REGISTRY["thm-4.2"]   # the registry's parts are cached on disk; the derivation takes a while
    radial, tangential = claim.derived("radial eigenvalue"), claim.derived("tangential eigenvalue (multiplicity n - 1)")
    args = (theory.r, sigma_sym)
    return {
        "norm": sp.lambdify(args, REGISTRY["sec-4.1"].derived("||grad d / d||_2"), "math"),
        "radial": sp.lambdify(args, radial, "math"),
        "tangential": sp.lambdify(args, tangential, "math"),
        "spectral": sp.lambdify((theory.r, sigma_sym, s_sym), claim.derived("||I + sH||_2"), "math"),
        "printed": sp.lambdify((theory.r, sigma_sym, s_sym), theory.printed_contraction(), "math"),
        "s_bound": sp.lambdify(args, claim.derived("largest s with ||I + sH||_2 = 1 - s/(4 sigma - r)^2"), "math"),
    }


def derived_H(y: np.ndarray, sigma: float) -> np.ndarray:
    """H = l_tan I + (l_rad - l_tan) u u^T with the derived eigenvalues, u = y/||y|| (n >= 1)."""
    f = _formulas()
    r = float(np.linalg.norm(y))
    u = y / r
    lt, lr = f["tangential"](r, sigma), f["radial"](r, sigma)
    return lt * np.eye(len(y)) + (lr - lt) * np.outer(u, u)


def _rel(a, b) -> float:
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.max(np.abs(a - b)) / max(1.0, float(np.max(np.abs(b)))))


# ----------------------------------------------------------------------------- Section 4.1
@evidence_of("sec-4.1")
def field_norm_evidence(rng: np.random.Generator, thorough: bool) -> Evidence:
    f = _formulas()
    trials = 400 if thorough else 100
    worst = 0.0
    for _ in range(trials):
        n, sigma = int(rng.integers(1, 9)), float(np.exp(rng.uniform(np.log(0.05), np.log(5))))
        centre = torch.as_tensor(rng.normal(size=(1, n)))
        u = rng.normal(size=n)
        r = 4 * sigma * float(rng.uniform(0.01, 0.99))
        x = centre + torch.as_tensor(r * u / np.linalg.norm(u))[None]
        norm = float(log_field(x, centre, sigma).norm())
        worst = max(worst, abs(norm - f["norm"](r, sigma)) / f["norm"](r, sigma))
    # Figure 13: the toy mixture, a polar grid in every ball
    radii = torch.linspace(0.02, 0.98, 25, dtype=torch.float64) * 4 * TOY_SIGMA
    angles = torch.linspace(0, 2 * math.pi, 13, dtype=torch.float64)[:-1]
    offsets = (radii[:, None, None] * torch.stack([angles.cos(), angles.sin()], -1)[None]).reshape(-1, 2)
    pts = (TOY_CENTRES[:, None] + offsets[None]).reshape(-1, 2)
    norms = log_field(pts, TOY_CENTRES, TOY_SIGMA).norm(dim=1)
    expected = torch.tensor([f["norm"](float(r), TOY_SIGMA) for r in radii.repeat_interleave(12)] * 4,
                            dtype=torch.float64)
    toy_err = float(((norms - expected).abs() / expected).max())
    detail = (f"{trials} random points (n = 1..8, sigma in [0.05, 5], r in (0.04, 3.96) sigma): max relative error of "
              f"autograd ||grad log d|| vs 1/(4 sigma - r) = {worst:.2e}; Figure 13 toy ({len(pts)} grid points "
              f"in the 4 balls, field from 1/(4 sigma - r) = {expected.min():.3g}..{expected.max():.3g}): {toy_err:.2e}")
    if max(worst, toy_err) > TOL:
        return Evidence("failed", detail, counterexample={"max_relative_error": max(worst, toy_err)})
    return Evidence("passed", detail)


# ----------------------------------------------------------------------------- Theorem 4.1
def updated_jacobian_check(n: int, step: float, seed: int, batch: int = 8) -> float:
    """max relative error between jac(z -> g(z) + s F(g(z))) and J + s H J for MLP g and F = grad log d of an MLP d."""
    torch.manual_seed(seed)
    G, D = build_models(ModelConfig(kind="mlp", data_shape=(n,), hidden=(16, 16)))
    G, D = G.double(), D.double()
    # smooth activations, so that the field has a non-trivial Jacobian H
    D.net = torch.nn.Sequential(*[torch.nn.Tanh() if isinstance(m, torch.nn.LeakyReLU) else m for m in D.net])
    G.net = torch.nn.Sequential(*[torch.nn.Tanh() if isinstance(m, torch.nn.ReLU) else m for m in G.net])
    field = lambda x: discriminator_field(D, x, create_graph=True)   # noqa: E731
    worst = 0.0
    for z in torch.randn(batch, n, dtype=torch.float64):
        updated = lambda zz: (G(zz[None]) + step * field(G(zz[None])))[0]   # noqa: E731
        J_new = torch.autograd.functional.jacobian(updated, z)
        J = torch.autograd.functional.jacobian(lambda zz: G(zz[None])[0], z)
        H = torch.autograd.functional.jacobian(lambda xx: field(xx[None])[0], G(z[None])[0].detach())
        worst = max(worst, _rel(J_new.numpy(), (J + step * H @ J).numpy()))
    return worst


@evidence_of("thm-4.1")
def updated_jacobian_evidence(rng: np.random.Generator, thorough: bool) -> Evidence:
    trials = 6 if thorough else 3
    worst = 0.0
    for t in range(trials):
        n, step = int(rng.integers(1, 5)), float(rng.uniform(0.01, 2.0))
        worst = max(worst, updated_jacobian_check(n, step, seed=int(rng.integers(1 << 30))))
    detail = (f"{trials} tanh MLP generators and discriminators (n = 1..4, s in [0.01, 2], 8 latents each): "
              f"max relative error of autograd J_(g + s F o g) vs J + s H J = {worst:.2e}")
    if worst > TOL:
        return Evidence("failed", detail, counterexample={"max_relative_error": worst})
    return Evidence("passed", detail)


# ----------------------------------------------------------------------------- Theorem 4.2
def check_point(n: int, sigma: float, r: float, step: float, rng: np.random.Generator) -> dict:
    """Autograd H, eigenvalues, ||I + sH||_2 and the steepness bound at one (n, sigma, r, s)."""
    f = _formulas()
    u = rng.normal(size=n)
    y = r * u / np.linalg.norm(u)
    H = field_jacobian_autograd(torch.as_tensor(y), sigma)
    eig = torch.linalg.eigvalsh(0.5 * (H + H.T)).numpy()
    expected_eig = np.sort([f["radial"](r, sigma)] + [f["tangential"](r, sigma)] * (n - 1))
    A = torch.eye(n, dtype=torch.float64) + step * H
    norm = float(torch.linalg.matrix_norm(A, ord=2))
    J = torch.as_tensor(rng.normal(size=(n, n)))
    steep, steep_new = float(torch.linalg.matrix_norm(J, ord=2)), float(torch.linalg.matrix_norm(A @ J, ord=2))
    factor = f["printed"](r, sigma, step)
    return {"n": n, "sigma": sigma, "r": r, "s": step, "s_limit_printed": (4 * sigma - r) ** 2,
            "s_limit_derived": f["s_bound"](r, sigma) if n > 1 else (4 * sigma - r) ** 2,
            "H_error": _rel(H.numpy(), derived_H(y, sigma)), "eig_error": _rel(eig, expected_eig),
            "norm_I_plus_sH": norm, "norm_error": abs(norm - (f["spectral"](r, sigma, step) if n > 1
                                                                else abs(1 + step * f["radial"](r, sigma)))),
            "printed_factor": factor, "S_g": steep, "S_g_updated": steep_new,
            "bound_violated": norm > factor * (1 + 1e-12), "steepness_bound_violated": steep_new > factor * steep * (1 + 1e-12)}


def _theorem_range(rng: np.random.Generator, n: int) -> tuple[float, float, float]:
    sigma = float(np.exp(rng.uniform(np.log(0.05), np.log(5))))
    r = 2 * sigma * float(rng.uniform(0.005, 0.995))
    return sigma, r, (4 * sigma - r) ** 2 * float(rng.uniform(0.001, 0.999))


@evidence_of("thm-4.2")
def steepness_drop_evidence(rng: np.random.Generator, thorough: bool) -> Evidence:
    trials = 300 if thorough else 80
    rows = []
    for t in range(trials):
        n = 1 if t % 10 == 0 else int(rng.integers(2, 7))
        rows.append(check_point(n, *_theorem_range(rng, n), rng))
    errors = max(max(c["H_error"], c["eig_error"], c["norm_error"]) for c in rows)
    if errors > TOL:
        bad = max(rows, key=lambda c: max(c["H_error"], c["eig_error"], c["norm_error"]))
        return Evidence("failed", f"autograd disagrees with the derived H / eigenvalues / norm: {errors:.2e}",
                        counterexample=bad, derived_status="failed", derived_detail="the derived H / eigenvalues / norm")
    multi = [c for c in rows if c["n"] > 1]
    violated = [c for c in multi if c["bound_violated"]]
    inside = [c for c in multi if c["s"] <= c["s_limit_derived"]]
    inside_bad = [c for c in inside if c["bound_violated"] or c["steepness_bound_violated"]]
    one_d_bad = [c for c in rows if c["n"] == 1 and (c["bound_violated"] or c["steepness_bound_violated"])]
    steep_bad = [c for c in multi if c["steepness_bound_violated"]]
    # the simplest point of the printed range where the bound fails: sigma = r = 1, s = 8 < (4 - 1)^2 = 9
    simple = check_point(2, 1.0, 1.0, 8.0, rng)
    simple["J"] = "identity (S_g = 1)"
    simple["S_g"], simple["S_g_updated"] = 1.0, simple["norm_I_plus_sH"]
    detail = (f"{trials} points of the theorem's range (sigma in [0.05, 5], r in (0, 2 sigma), s in (0, (4 sigma - r)^2), "
              f"n = 1..6): autograd H, eigenvalues and torch.linalg ||I + sH||_2 match the derived forms "
              f"(max error {errors:.1e}).  Printed factor 1 - s/(4 sigma - r)^2 < ||I + sH||_2 at {len(violated)}/{len(multi)} "
              f"points with n >= 2, and S_g' > factor S_g for a random J at {len(steep_bad)}/{len(multi)}; "
              f"with s <= r(4 sigma - r)^2/(2 sigma) (derived) the bound held at all {len(inside)} such points "
              f"({len(inside_bad)} failures); n = 1: {len(one_d_bad)} failures.  Simplest failure: sigma = r = 1, s = 8: "
              f"||I + sH||_2 = {simple['norm_I_plus_sH']:.6g} vs printed factor {simple['printed_factor']:.6g}")
    derived = dict(derived_status="failed" if inside_bad or one_d_bad else "passed",
                   derived_detail=f"with s <= r(4 sigma - r)^2/(2 sigma) (derived; n = 1: s < (4 sigma - r)^2) the "
                                  f"bound failed at {len(inside_bad) + len(one_d_bad)} of {len(inside) + len(rows) - len(multi)} points")
    if violated or simple["bound_violated"]:
        return Evidence("failed", detail, counterexample=simple, **derived)
    return Evidence("passed", detail, **derived)


# ----------------------------------------------------------------------------- Appendix G.1
def vanishing_radius(centre: torch.Tensor, direction: torch.Tensor, sigma: float, centres: torch.Tensor) -> float:
    """Bisection for the distance along ``direction`` from ``centre`` where the linear discriminator reaches 0."""
    lo, hi = 0.0, 1.0
    while float(linear_discriminator(centre + hi * direction, centres, sigma)) > 0:
        hi *= 2
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if float(linear_discriminator(centre + mid * direction, centres, sigma)) > 0 else (lo, mid)
    return (lo + hi) / 2


# a short NSGAN run on the toy (the quick profile of Figure 11): Adam, MLP 64 x 3, 20 epochs of 40 iterations
TOY_RUN = dict(data="gmm-2d", epochs=20, optimizer="adam", lr_g=2e-3, lr_d=2e-3, hidden=(64, 64, 64),
               batch_size=64, max_iterations_per_epoch=40, monitor=False, evaluator=False, eval_every=1000,
               keep_last=1, progress=False, device="cpu")
OBSERVED_RADIUS, OBSERVED_TOLERANCE = 0.4, 0.1   # the paper: "approximately 0.4"
from ganphase.simulate.radial import R_MAX as R_MAX_TOY  # noqa: E402


def trained_toy_radii(seed: int) -> dict:
    """Train the short toy run in a temporary folder; the radial profile radii of its last discriminator."""
    import tempfile

    from ganphase.simulate.data import mixture_spec
    from ganphase.simulate.radial import flat_radius, half_radius, radial_profiles
    from ganphase.simulate.train import TrainConfig, load_discriminator, train

    with tempfile.TemporaryDirectory() as folder:
        summary = train(TrainConfig(out=folder, seed=seed, **TOY_RUN))
        D = load_discriminator(folder, summary["epochs_run"], device="cpu")
        centres, _ = mixture_spec("gmm-2d")
        radii, d_prof, g_prof = radial_profiles(D, centres)
    return {"seed": seed, "epochs": summary["epochs_run"], "r_flat": flat_radius(radii, g_prof),
            "r_half": half_radius(radii, d_prof), "r_peak": float(radii[int(np.argmax(g_prof))]),
            "d_at_centre": float(d_prof[0]), "d_at_r_max": float(d_prof[-1])}


@evidence_of("app-g.1")
def vanishing_radius_evidence(rng: np.random.Generator, thorough: bool) -> Evidence:
    """Printed: a trained discriminator vanishes ~0.4 from the mode centres.  Derived: the linear d of Assumption
    4.1 vanishes at 4 sigma (bisection along random rays)."""
    run = trained_toy_radii(int(rng.integers(1 << 20)))   # the run's seed is the first draw
    predicted = float(REGISTRY["app-g.1"].derived("radius for sigma^2 = 0.0125"))
    rays = 32 if thorough else 8
    radii = []
    for i in range(len(TOY_CENTRES)):
        for _ in range(rays):
            v = torch.as_tensor(rng.normal(size=2))
            radii.append(vanishing_radius(TOY_CENTRES[i:i + 1], (v / v.norm())[None], TOY_SIGMA, TOY_CENTRES))
    err = max(abs(r - predicted) for r in radii)
    gap = float(torch.pdist(TOY_CENTRES).min())
    derived_ok = err <= 1e-12 and gap >= 8 * TOY_SIGMA
    derived = dict(derived_status="passed" if derived_ok else "failed",
                   derived_detail=f"linear d of Assumption 4.1, {len(radii)} rays: bisection radius {min(radii):.12f}.."
                                  f"{max(radii):.12f} vs derived 4 sigma = {predicted:.12f}; nearest modes {gap:.3g} apart "
                                  f">= 8 sigma = {8 * TOY_SIGMA:.4g}")
    r_flat = run["r_flat"]
    ok = r_flat is not None and abs(r_flat - OBSERVED_RADIUS) <= OBSERVED_TOLERANCE
    detail = (f"short NSGAN run on the toy ({run['epochs']} epochs x {TOY_RUN['max_iterations_per_epoch']} iterations, "
              f"Adam, not 'trained until optimal'): d flattens out at r_flat = "
              f"{'not within ' + str(R_MAX_TOY) if r_flat is None else format(r_flat, '.3f')} (printed ~{OBSERVED_RADIUS}, "
              f"accepted +-{OBSERVED_TOLERANCE}; 4 sigma = {predicted:.3f}), steepest descent at {run['r_peak']:.3f}, "
              f"d = {run['d_at_centre']:.3f} at the centres and {run['d_at_r_max']:.3f} at distance {R_MAX_TOY}")
    if not ok:
        return Evidence("failed", detail, counterexample=run, **derived)
    return Evidence("passed", detail, **derived)

