"""Numerical evidence for NSGAN as a particle model and as an f-divergence, the thresholds of
Appendix F, and the background claims.

* ``cor-c.1``: MLP generator and discriminator in float64: grad_theta of the NSGAN loss
  (autograd through D and G) against -(1/m) sum J_theta^T grad_x log d (field first, one vjp),
  and the particle-loss gradient of Algorithm 1 against the proof's s grad_theta(-mean log d).
* ``app-b``: for random Gaussian pairs, D_f(p||q) = int q f(p/q) (scipy quad) against
  KL(q||p) - 2 JS(p, q), its first variation against -log d*, convexity of f on a grid.
* ``app-f``: k_d, sigma and k_d/(2 sigma) recomputed from the data sets at 64 x 64
  (``ganphase.simulate.monitors.thresholds_for`` on a subsample) against the printed values.
* ``bg-*``: scipy quad on concrete densities, torch autograd for the logit gradients,
  scipy.optimize for the discriminator's maximiser and the Gaussian KL fits.
"""
from __future__ import annotations

import math
import os
from functools import lru_cache
from pathlib import Path

import numpy as np
import sympy as sp
import torch
from scipy import integrate, optimize, stats

from ganphase.simulate.models import ModelConfig, build_models
from ganphase.simulate.particle_gan import chain_rule_gradient, nsgan_gradient, particle_gradient
from ganphase.theory import nsgan as theory
from ganphase.simulate.evidence import Evidence, evidence_of
from ganphase.theory.claims import REGISTRY

QUAD = dict(epsabs=1e-13, epsrel=1e-11, limit=400)


def _quad(fn, lo, hi, points=None) -> float:
    return float(integrate.quad(fn, lo, hi, points=points, **QUAD)[0])


def _rel(a, b) -> float:
    return abs(a - b) / max(1e-300, abs(b))


class Normal:
    """N(m, s^2) with scalar-fast pdf/logpdf (scipy.stats' per-call overhead dominates inside quad)."""

    def __init__(self, m: float, s: float):
        self.m, self.s = float(m), float(s)
        self._c = -math.log(self.s) - 0.5 * math.log(2 * math.pi)

    def logpdf(self, t):
        return self._c - 0.5 * ((t - self.m) / self.s) ** 2

    def pdf(self, t):
        return np.exp(self.logpdf(t))

    def mean(self):
        return self.m

    def std(self):
        return self.s


def _random_gaussians(rng):
    """(p, q, lo, hi): two random 1-D Gaussians and an integration range covering both."""
    p = Normal(rng.uniform(-2, 2), rng.uniform(0.4, 2.0))
    q = Normal(rng.uniform(-2, 2), rng.uniform(0.4, 2.0))
    lo = min(p.mean() - 14 * p.std(), q.mean() - 14 * q.std())
    hi = max(p.mean() + 14 * p.std(), q.mean() + 14 * q.std())
    return p, q, lo, hi


def kl(p, q, lo, hi) -> float:
    """KL(P || Q) = int p log(p/q) by quad (log densities, no underflow)."""
    return _quad(lambda t: p.pdf(t) * (p.logpdf(t) - q.logpdf(t)), lo, hi)


def js(p, q, lo, hi) -> float:
    """JS(P, Q) = KL(P||M)/2 + KL(Q||M)/2, M = (P + Q)/2, by quad."""
    def half(a, b):
        return lambda t: a.pdf(t) * (a.logpdf(t) - np.logaddexp(a.logpdf(t), b.logpdf(t)) + math.log(2))
    return 0.5 * _quad(half(p, q), lo, hi) + 0.5 * _quad(half(q, p), lo, hi)


# ----------------------------------------------------------------------------- Corollary C.1
def gradient_check(n: int, step: float, batch: int, seed: int) -> dict:
    torch.manual_seed(seed)
    G, D = build_models(ModelConfig(kind="mlp", data_shape=(n,), hidden=(32, 32)))
    G, D = G.double(), D.double()
    z = torch.randn(batch, n, dtype=torch.float64)
    ns, chain = nsgan_gradient(G, D, z), chain_rule_gradient(G, D, z)
    part = particle_gradient(G, D, z, step)
    return {"n": n, "s": step, "batch": batch, "seed": seed,
            "nsgan_vs_chain_rule": float((ns - chain).norm() / ns.norm()),
            "particle_over_nsgan": float(part @ ns / (ns @ ns)),
            "cosine": float(part @ ns / (part.norm() * ns.norm())),
            "particle_vs_2s_nsgan": float((part - 2 * step * ns).norm() / part.norm()),
            "particle_vs_printed_s_nsgan": float((part - step * ns).norm() / part.norm())}


@evidence_of("cor-c.1")
def corollary_c_1_evidence(rng: np.random.Generator, thorough: bool) -> Evidence:
    trials = 6 if thorough else 3
    rows = [gradient_check(int(rng.integers(1, 6)), float(rng.uniform(0.01, 1.0)), int(rng.integers(2, 129)),
                           int(rng.integers(1 << 30))) for _ in range(trials)]
    chain = max(r["nsgan_vs_chain_rule"] for r in rows)
    two_s = max(r["particle_vs_2s_nsgan"] for r in rows)
    cos = min(r["cosine"] for r in rows)
    ratios = [r["particle_over_nsgan"] / r["s"] for r in rows]
    detail = (f"{trials} float64 MLP pairs (n = 1..5, batch 2..128): |grad NSGAN - (-(1/m) sum J^T grad log d)| / |grad| "
              f"<= {chain:.1e}; particle-loss gradient = 2 s x NSGAN gradient to {two_s:.1e} (cosine >= {cos:.15f}, "
              f"ratio / s in [{min(ratios):.12g}, {max(ratios):.12g}]); the proof prints the ratio s")
    derived_ok = chain <= 1e-12 and two_s <= 1e-12 and cos >= 1 - 1e-12
    derived = dict(derived_status="passed" if derived_ok else "failed",
                   derived_detail=f"particle-loss gradient = 2 s x NSGAN gradient (derived) to {two_s:.1e}, "
                                  f"NSGAN gradient = chain rule to {chain:.1e}")
    printed_bad = [r for r in rows if r["particle_vs_printed_s_nsgan"] > 1e-6 or r["cosine"] < 1 - 1e-12]
    if printed_bad:
        return Evidence("failed", detail + " (the printed ratio s fails)", counterexample=printed_bad[0], **derived)
    return Evidence("passed", detail, **derived)


# ----------------------------------------------------------------------------- Appendix B
@lru_cache(maxsize=1)
def _f():
    return sp.lambdify(theory.u, REGISTRY["app-b"].derived("f"), "numpy")


def f_divergence(p, q, lo, hi) -> float:
    """D_f(P || Q) = int q f(p/q) with the NSGAN f, written in log densities:
    q f(p/q) = (p + q) log(1 + q/p) + p (1 - 2 log 2) - q."""
    def integrand(t):
        lp, lq = p.logpdf(t), q.logpdf(t)
        return (np.exp(lp) + np.exp(lq)) * np.logaddexp(0, lq - lp) + np.exp(lp) * (1 - 2 * math.log(2)) - np.exp(lq)
    return _quad(integrand, lo, hi)


@evidence_of("app-b")
def f_divergence_evidence(rng: np.random.Generator, thorough: bool) -> Evidence:
    f = _f()
    grid = np.exp(np.linspace(np.log(1e-3), np.log(1e3), 2001))
    values = f(grid)
    slope_steps = np.diff(np.diff(values) / np.diff(grid))    # increasing chord slopes <=> convex
    convex = bool(np.all(slope_steps > -1e-12))
    # the log form of q f(p/q) used by f_divergence, against f itself
    form_err = float(np.max(np.abs(f(grid) - ((grid + 1) * np.log1p(1 / grid) + grid * (1 - 2 * np.log(2)) - 1))))
    trials = 5 if thorough else 2
    worst_identity, worst_variation, smallest = 0.0, 0.0, np.inf
    for _ in range(trials):
        p, q, lo, hi = _random_gaussians(rng)
        # perturbation direction q2 - q with q2 no wider than q: q2/q stays bounded, D_f(q_eps) smooth at eps = 0
        q2 = Normal(q.mean() + rng.uniform(-1, 1), q.std() * rng.uniform(0.5, 1.0))
        lo, hi = min(lo, q2.mean() - 14 * q2.std()), max(hi, q2.mean() + 14 * q2.std())
        df = f_divergence(p, q, lo, hi)
        smallest = min(smallest, df)
        worst_identity = max(worst_identity, abs(df - (kl(q, p, lo, hi) - 2 * js(p, q, lo, hi))))
        # first variation along q_eps = (1 - eps) q + eps q2 against int (q2 - q)(-log d*), d* = p/(p + q)
        eps = 1e-4   # one-sided second-order difference: q_eps stays a density for eps >= 0
        values = [f_divergence(p, _Mixture(q, q2, k * eps), lo, hi) for k in range(3)]
        numeric = (-3 * values[0] + 4 * values[1] - values[2]) / (2 * eps)
        exact = _quad(lambda t: (q2.pdf(t) - q.pdf(t)) * np.logaddexp(0, q.logpdf(t) - p.logpdf(t)), lo, hi)
        worst_variation = max(worst_variation, abs(numeric - exact) / max(1.0, abs(exact)))
    detail = (f"f(1) = {float(f(1.0)):.1e}; f convex on [1e-3, 1e3] (2001 points): {convex}, smallest change of "
              f"chord slope {slope_steps.min():.3g}; {trials} Gaussian pairs: |D_f(p||q) - (KL(q||p) - 2 JS)| <= "
              f"{worst_identity:.1e}, smallest D_f = {smallest:.4g}; first variation vs int (q2 - q)(-log d*): "
              f"relative error {worst_variation:.1e}")
    if abs(float(f(1.0))) > 1e-12 or not convex or form_err > 1e-9 or worst_identity > 1e-7 \
            or worst_variation > 1e-5 or smallest < -1e-9:
        return Evidence("failed", detail, counterexample={"f(1)": float(f(1.0)), "convex": convex,
                                                          "identity_error": worst_identity,
                                                          "variation_error": worst_variation, "min_D_f": smallest})
    return Evidence("passed", detail)


class _Mixture:
    """(1 - e) A + e B, 0 <= e <= 1, as a density with pdf and logpdf."""

    def __init__(self, a, b, e):
        self.a, self.b, self.e = a, b, e

    def pdf(self, t):
        return np.exp(self.logpdf(t))

    def logpdf(self, t):
        log_b = math.log(self.e) + self.b.logpdf(t) if self.e > 0 else -np.inf
        return np.logaddexp(math.log1p(-self.e) + self.a.logpdf(t), log_b)


# ----------------------------------------------------------------------------- Appendix F
F_SUBSETS = {"mnist": 4000, "fashion-mnist": 4000, "cifar10": 2000}
F_TOLERANCE = 0.10   # relative; the subsample, the resize filter and the paper's rounding are not printed


def data_dir() -> Path | None:
    """$GANPHASE_DATA, else the checkout's sibling shared/data, else None."""
    if os.environ.get("GANPHASE_DATA"):
        return Path(os.environ["GANPHASE_DATA"])
    sibling = Path(__file__).resolve().parents[4] / "shared" / "data"
    return sibling if sibling.is_dir() else None


def measured_thresholds(name: str, subset: int, folder: Path | None) -> dict:
    """k_d, sigma^2 dim and k_d/(2 sigma) of a data set at 64 x 64 (Appendix F.2), from a subsample."""
    from ganphase.simulate.data import NPZ_NAMES, load_dataset
    from ganphase.simulate.monitors import thresholds_for

    if name != "gmm-3d" and (folder is None or not (folder / NPZ_NAMES[name]).is_file()):
        raise FileNotFoundError(f"{NPZ_NAMES[name]} not found in {folder}")
    ds = load_dataset(name) if name == "gmm-3d" else load_dataset(name, data_dir=folder, subset=subset, resize=64)
    thr = thresholds_for(ds)
    dim = 1 if name == "gmm-3d" else ds.x[0].numel()
    return {"k_d": thr["k_d"], "sigma2_dim": thr["sigma"] ** 2 * dim, "threshold": thr["threshold_d"], "dim": dim,
            "samples": len(ds.x)}


@evidence_of("app-f")
def thresholds_evidence(rng: np.random.Generator, thorough: bool) -> Evidence:
    printed = theory.printed_threshold_inputs()
    folder = data_dir()
    rows, missing = {}, []
    for name, (kd, sg, thr) in printed.items():
        try:
            got = measured_thresholds(name, F_SUBSETS.get(name, 0), folder)
        except (FileNotFoundError, ValueError) as exc:
            missing.append(f"{name}: {exc}")
            continue
        dim = got["dim"]
        got.update(printed_k_d=kd, printed_sigma2_dim=sg ** 2 * dim, printed_threshold=thr)
        got["rel_diff"] = {k: (got[k] - got[f"printed_{k}"]) / got[f"printed_{k}"]
                           for k in ("k_d", "sigma2_dim", "threshold")}
        rows[name] = got
    if set(rows) <= {"gmm-3d"}:   # the mixture's k_d and sigma are its definition: nothing measured
        return Evidence("none", "no image data set file found: " + "; ".join(missing))
    detail = "; ".join(f"{n}: k_d {r['k_d']:.4g} (printed {r['printed_k_d']:.4g}), sigma^2 dim {r['sigma2_dim']:.4g} "
                       f"(printed {r['printed_sigma2_dim']:.4g}), k_d/(2 sigma) {r['threshold']:.5g} "
                       f"(printed {r['printed_threshold']:.5g}, {r['rel_diff']['threshold']:+.1%})"
                       for n, r in rows.items())
    detail += f" [subsamples {F_SUBSETS}, 64 x 64; tolerance {F_TOLERANCE:.0%}]"
    if missing:
        detail += " [missing: " + "; ".join(missing) + "]"
    bad = {n: r for n, r in rows.items() if max(abs(v) for v in r["rel_diff"].values()) > F_TOLERANCE}
    # the derived statement: the measured threshold is k_d/(2 sigma) of the printed k_d, sigma, unrounded
    exact = sp.lambdify((theory.k_d_sym, theory.sigma), theory.threshold_formula)
    derived_rel = {n: (r["threshold"] - exact(*printed[n][:2])) / exact(*printed[n][:2]) for n, r in rows.items()}
    derived = dict(derived_status="failed" if any(abs(v) > F_TOLERANCE for v in derived_rel.values()) else "passed",
                   derived_detail="measured k_d/(2 sigma) vs the unrounded k_d/(2 sigma) of the printed inputs: "
                                  + ", ".join(f"{n} {v:+.1%}" for n, v in derived_rel.items()))
    if bad:
        name, row = next(iter(bad.items()))
        return Evidence("failed", detail, counterexample={"data_set": name, **{k: v for k, v in row.items()}}, **derived)
    return Evidence("passed", detail, **derived)


# ----------------------------------------------------------------------------- background
@evidence_of("bg-optimal-discriminator")
def optimal_discriminator_evidence(rng: np.random.Generator, thorough: bool) -> Evidence:
    p, q, lo, hi = _random_gaussians(rng)
    xs = np.linspace(p.mean() - 3, p.mean() + 3, 25 if thorough else 9)
    worst = 0.0
    for t in xs:
        a, b = p.pdf(t), q.pdf(t)
        res = optimize.minimize_scalar(lambda d: -(a * np.log(d) + b * np.log1p(-d)), bounds=(1e-12, 1 - 1e-12),
                                       method="bounded", options={"xatol": 1e-12})
        worst = max(worst, abs(res.x - a / (a + b)))
    def value(shift):   # V(G, D) with logit(D) = logit(D*) + shift
        def integrand(t):
            logit = p.logpdf(t) - q.logpdf(t) + shift
            return -p.pdf(t) * np.logaddexp(0, -logit) - q.pdf(t) * np.logaddexp(0, logit)
        return _quad(integrand, lo, hi)
    best = value(0.0)
    others = [value(h) for h in (-0.5, -0.05, 0.05, 0.5)]
    detail = (f"pointwise maximiser (scipy bounded) vs p/(p+q) at {len(xs)} points: max error {worst:.1e}; "
              f"V(D*) = {best:.6f} > V(D) for logit shifts +-0.05, +-0.5: {all(o < best for o in others)}")
    if worst > 1e-6 or not all(o < best for o in others):
        return Evidence("failed", detail, counterexample={"max_error": worst, "V_star": best, "V_shifted": others})
    return Evidence("passed", detail)


@evidence_of("bg-value-js")
def value_js_evidence(rng: np.random.Generator, thorough: bool) -> Evidence:
    worst = 0.0
    for _ in range(4 if thorough else 2):
        p, q, lo, hi = _random_gaussians(rng)
        v = _quad(lambda t: -p.pdf(t) * np.logaddexp(0, q.logpdf(t) - p.logpdf(t))
                  - q.pdf(t) * np.logaddexp(0, p.logpdf(t) - q.logpdf(t)), lo, hi)
        worst = max(worst, abs(v - (-math.log(4) + 2 * js(p, q, lo, hi))))
    # JS against scipy's discrete Jensen-Shannon distance on a fine grid, as an independent JS
    p, q, lo, hi = _random_gaussians(rng)
    grid = np.linspace(lo, hi, 200001)
    from scipy.spatial.distance import jensenshannon
    js_grid = float(jensenshannon(p.pdf(grid), q.pdf(grid)) ** 2)
    js_err = abs(js_grid - js(p, q, lo, hi))
    detail = f"Gaussian pairs: |V(G, D*) - (-log 4 + 2 JS)| <= {worst:.1e} (quad); JS quad vs scipy jensenshannon: {js_err:.1e}"
    if worst > 1e-8 or js_err > 1e-6:
        return Evidence("failed", detail, counterexample={"value_error": worst, "js_error": js_err})
    return Evidence("passed", detail)


@evidence_of("bg-js-disjoint")
def js_disjoint_evidence(rng: np.random.Generator, thorough: bool) -> Evidence:
    a, b = rng.uniform(1.5, 4, size=2)
    p = stats.beta(a, b)                        # supported on [0, 1]
    q = stats.beta(b, a, loc=1.5 + rng.uniform(0, 1))
    def half(x, y):
        return lambda t: x.pdf(t) * math.log(2) if y.pdf(t) == 0 else \
            x.pdf(t) * math.log(2 * x.pdf(t) / (x.pdf(t) + y.pdf(t)))
    value = 0.5 * _quad(half(p, q), 0, 1) + 0.5 * _quad(half(q, p), q.support()[0], q.support()[1])
    p2, q2, lo, hi = _random_gaussians(rng)
    overlap = js(p2, q2, lo, hi)
    detail = f"Beta laws on disjoint intervals: JS = {value:.12f}, log 2 = {math.log(2):.12f}; overlapping Gaussians: JS = {overlap:.4f} < log 2"
    if abs(value - math.log(2)) > 1e-9 or not overlap < math.log(2):
        return Evidence("failed", detail, counterexample={"js": value, "js_overlap": overlap})
    return Evidence("passed", detail)


@evidence_of("bg-ns-loss")
def ns_loss_evidence(rng: np.random.Generator, thorough: bool) -> Evidence:
    p, q, lo, hi = _random_gaussians(rng)
    lhs = _quad(lambda t: -q.pdf(t) * (p.logpdf(t) - np.logaddexp(p.logpdf(t), q.logpdf(t))), lo, hi)
    rhs = _quad(lambda t: q.pdf(t) * np.log1p(q.pdf(t) / p.pdf(t)), lo, hi)
    # a missing mode: p_g = U(2, 4) never visits the data mode at -3; moving that mode leaves the loss unchanged
    g = stats.uniform(2, 2)
    def loss(left):
        data = lambda t: 0.5 * stats.norm.pdf(t, left, 0.5) + 0.5 * stats.norm.pdf(t, 3, 0.5)   # noqa: E731
        return _quad(lambda t: g.pdf(t) * np.log1p(g.pdf(t) / data(t)), 2, 4)
    slope = (loss(-3 + 1e-3) - loss(-3 - 1e-3)) / 2e-3
    detail = f"-E_q log D* = {lhs:.10f}, E_q log(1 + q/p) = {rhs:.10f}; d(loss)/d(missing mode location) = {slope:.1e}"
    if abs(lhs - rhs) > 1e-8 or abs(slope) > 1e-8:
        return Evidence("failed", detail, counterexample={"lhs": lhs, "rhs": rhs, "slope": slope})
    return Evidence("passed", detail)


@evidence_of("bg-logit-gradients")
def logit_gradient_evidence(rng: np.random.Generator, thorough: bool) -> Evidence:
    claim = REGISTRY["bg-logit-gradients"]
    a_sym = sp.Symbol("a", real=True)
    minimax = sp.lambdify(a_sym, claim.derived("d l_min / da"), "numpy")
    ns = sp.lambdify(a_sym, claim.derived("d l_ns / da"), "numpy")
    a = torch.linspace(-30, 30, 601, dtype=torch.float64, requires_grad=True)
    (g_min,) = torch.autograd.grad(torch.log(1 - torch.sigmoid(a)).sum(), a)
    (g_ns,) = torch.autograd.grad((-torch.log(torch.sigmoid(a))).sum(), a)
    av = a.detach().numpy()
    err = max(float(np.max(np.abs(g_min.numpy() - minimax(av)))), float(np.max(np.abs(g_ns.numpy() - ns(av)))))
    detail = (f"autograd on a in [-30, 30] (601 points, float64) vs derived: max error {err:.1e}; at a = -30: "
              f"minimax {float(g_min[0]):.2e}, non-saturating {float(g_ns[0]):.12f}")
    if err > 1e-12 or abs(float(g_min[0])) > 1e-12 or abs(float(g_ns[0]) + 1) > 1e-12:
        return Evidence("failed", detail, counterexample={"max_error": err})
    return Evidence("passed", detail)


def _two_gaussians(mu: float, sigma: float):
    """log density of N(-mu, sigma^2)/2 + N(mu, sigma^2)/2 (vectorised)."""
    left, right = Normal(-mu, sigma), Normal(mu, sigma)
    return lambda t: np.logaddexp(left.logpdf(t), right.logpdf(t)) - math.log(2)


def _grid_integral(values: np.ndarray, grid: np.ndarray) -> float:
    """Trapezoid rule on a fine uniform grid (spectrally accurate for smooth, fast-decaying integrands)."""
    return float(np.trapezoid(values, grid)) if hasattr(np, "trapezoid") else float(np.trapz(values, grid))


@evidence_of("bg-forward-kl-two-gaussian")
def forward_kl_evidence(rng: np.random.Generator, thorough: bool) -> Evidence:
    claim = REGISTRY["bg-forward-kl-two-gaussian"]
    from ganphase.theory.symbols import mu as mu_s, sigma as sigma_s
    var = sp.lambdify((mu_s, sigma_s), claim.derived("s*^2"), "math")
    worst, rows = 0.0, []
    for _ in range(3 if thorough else 1):
        mu, sigma = float(rng.uniform(0.5, 4)), float(rng.uniform(0.3, 1.5))
        grid = np.linspace(-mu - 14 * sigma, mu + 14 * sigma, 20001)
        logp = _two_gaussians(mu, sigma)(grid)
        p = np.exp(logp)
        check = abs(_grid_integral(p, grid) - 1)

        def kl_fwd(theta):
            return _grid_integral(p * (logp - Normal(theta[0], math.exp(theta[1])).logpdf(grid)), grid)
        res = optimize.minimize(kl_fwd, x0=[0.3 * mu, math.log(sigma)], method="Nelder-Mead",
                                options={"xatol": 1e-10, "fatol": 1e-14, "maxiter": 4000})
        m, s2 = res.x[0], math.exp(2 * res.x[1])
        rows.append({"mu": mu, "sigma": sigma, "m": m, "s2": s2, "mu2+sigma2": var(mu, sigma), "mass_error": check})
        worst = max(worst, abs(m), abs(s2 - var(mu, sigma)) / var(mu, sigma), check)
    detail = (f"scipy Nelder-Mead on KL(p || N(m, s^2)) (trapezoid, 20001 points): |m*|, relative error of s*^2 vs "
              f"mu^2 + sigma^2 <= {worst:.1e} over {len(rows)} random (mu, sigma)")
    if worst > 1e-6:
        return Evidence("failed", detail, counterexample=max(rows, key=lambda r: abs(r["s2"] - r["mu2+sigma2"])))
    return Evidence("passed", detail)


def _reverse_kl(logp, m: float, s: float) -> float:
    """KL(N(m, s^2) || p) by the trapezoid rule on m +- 14 s (8001 points)."""
    q = Normal(m, s)
    grid = np.linspace(m - 14 * s, m + 14 * s, 8001)
    return _grid_integral(q.pdf(grid) * (q.logpdf(grid) - logp(grid)), grid)


@evidence_of("bg-reverse-kl-two-gaussian")
def reverse_kl_evidence(rng: np.random.Generator, thorough: bool) -> Evidence:
    """Minimise the exact KL(N(m, s^2) || p) from both derived regimes: next to a mode and from the broad fit."""
    from ganphase.theory.symbols import mu as mu_s, sigma as sigma_s
    claim = REGISTRY["bg-reverse-kl-two-gaussian"]
    s_broad = sp.lambdify((mu_s, sigma_s), claim.derived("s_b (broad stationary point, m = 0)"), "math")
    opts = {"xatol": 1e-10, "fatol": 1e-14, "maxiter": 4000}
    rows = []
    for ratio in ((4.0, 6.0, 8.0) if thorough else (6.0,)):
        sigma = float(rng.uniform(0.3, 1.5))
        mu = ratio * sigma
        logp = _two_gaussians(mu, sigma)
        kl = lambda th: _reverse_kl(logp, th[0], math.exp(th[1]))   # noqa: E731
        s_b = s_broad(mu, sigma)
        starts = {"mode": [0.8 * mu, math.log(1.3 * sigma)], "broad": [0.02 * mu, math.log(s_b)]}
        fits = {k: optimize.minimize(kl, x0=x0, method="Nelder-Mead", options=opts) for k, x0 in starts.items()}
        # the broad regime itself: m = 0 is stationary by symmetry; the best width there, against the derived s_b
        width = optimize.minimize_scalar(lambda ls: _reverse_kl(logp, 0.0, math.exp(ls)),
                                         bracket=(math.log(0.8 * s_b), math.log(1.2 * s_b)), tol=1e-12)
        best = min(fits.values(), key=lambda r: r.fun)
        rows.append({"mu/sigma": ratio, "sigma": sigma, "m/mu": best.x[0] / mu, "s/sigma": math.exp(best.x[1]) / sigma,
                     "KL - log 2": best.fun - math.log(2),
                     **{f"{k} start -> (m/mu, s/sigma, KL)": (r.x[0] / mu, math.exp(r.x[1]) / sigma, r.fun)
                        for k, r in fits.items()},
                     "broad width (m = 0) / derived s_b": math.exp(width.x) / s_b, "KL at m = 0": width.fun})
    worst = max(abs(abs(r["m/mu"]) - 1) for r in rows)
    detail = "; ".join(
        f"mu/sigma = {r['mu/sigma']:g}: from the mode, m/mu = {r['mode start -> (m/mu, s/sigma, KL)'][0]:.5f}, "
        f"s/sigma = {r['mode start -> (m/mu, s/sigma, KL)'][1]:.5f}, KL {r['mode start -> (m/mu, s/sigma, KL)'][2]:.5f}; "
        f"from the broad fit, m/mu = {r['broad start -> (m/mu, s/sigma, KL)'][0]:.5f}, "
        f"s/sigma = {r['broad start -> (m/mu, s/sigma, KL)'][1]:.5f}, KL {r['broad start -> (m/mu, s/sigma, KL)'][2]:.5f}; "
        f"at m = 0 the best KL is {r['KL at m = 0']:.4f} (log 2 = {math.log(2):.4f})" for r in rows)
    broad_err = max(abs(r["broad width (m = 0) / derived s_b"] - 1) for r in rows)
    derived = dict(derived_status="passed" if broad_err < 2e-2 and worst < 1e-2 else "failed",
                   derived_detail=f"derived broad width s_b vs the best width at m = 0 (exact KL): max relative error "
                                  f"{broad_err:.1e}; derived mode-seeking m = mu: |m/mu - 1| <= {worst:.1e}")
    if worst > 1e-2:   # the lowest KL found is not next to a mode: the fit does not lock onto one mode
        return Evidence("failed", detail, counterexample=max(rows, key=lambda r: abs(abs(r["m/mu"]) - 1)), **derived)
    return Evidence("passed", detail, **derived)


@evidence_of("bg-kl-decomposition")
def kl_decomposition_evidence(rng: np.random.Generator, thorough: bool) -> Evidence:
    mu, sigma = float(rng.uniform(0.5, 3)), float(rng.uniform(0.3, 1.5))
    logp = _two_gaussians(mu, sigma)
    q = Normal(rng.uniform(-1, 1), rng.uniform(1, 3))
    lo, hi = -mu - 20 * sigma, mu + 20 * sigma
    pdf = lambda t: np.exp(logp(t))   # noqa: E731
    kl_pq = _quad(lambda t: pdf(t) * (logp(t) - q.logpdf(t)), lo, hi)
    entropy = _quad(lambda t: -pdf(t) * logp(t), lo, hi)
    cross = _quad(lambda t: -pdf(t) * q.logpdf(t), lo, hi)
    note_001 = -entropy + cross          # int p log p - E_p log q
    note_002 = entropy + cross           # H(p) + E_p[-log q], note 002 eq. (6)
    detail = (f"p = two Gaussians (mu = {mu:.3g}, sigma = {sigma:.3g}), q = N({q.mean():.3g}, {q.std():.3g}^2): "
              f"KL(p||q) = {kl_pq:.8f}; -H(p) + E_p[-log q] = {note_001:.8f}; note 002 eq. (6) H(p) + E_p[-log q] "
              f"= {note_002:.8f}")
    inputs = {"mu": mu, "sigma": sigma, "q_mean": float(q.mean()), "q_std": float(q.std()), "KL": kl_pq, "H_p": entropy}
    derived = dict(derived_status="failed" if abs(note_001 - kl_pq) > 1e-8 else "passed",
                   derived_detail=f"KL(p||q) = -H(p) + E_p[-log q] (derived, = note 001): {kl_pq:.8f} vs {note_001:.8f}")
    if abs(note_001 - kl_pq) > 1e-8:   # note 001 and eq. (5) are printed too: they fail with the derivation
        return Evidence("failed", detail, counterexample={**inputs, "note_001": note_001}, **derived)
    if abs(note_002 - kl_pq) > 1e-8:
        return Evidence("failed", detail + " (note 002's entropy sign)", counterexample={**inputs, "note_002_eq6": note_002},
                        **derived)
    return Evidence("passed", detail, **derived)
