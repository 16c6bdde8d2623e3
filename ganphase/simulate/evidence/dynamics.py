"""Numerical evidence for the evolution of steepness (Theorems 3.3, C.5, C.6, Proposition D.2).

* ``thm-3.3``: the push-forward flow of Algorithm 1 on a latent grid
  (``simulate.pushforward``) measures d/dt g'(0) step by step; it must match the
  derived right-hand side at the simulated g'(0), g'''(0), with an error that
  shrinks when the grid is refined (the per-step identity is exact in time,
  so only the grid's finite differences enter).  The printed right-hand side
  is checked the same way.
* ``thm-c.6``: the same for the last line of the proof, and the proof's
  intermediate values: p_g(0), p_g''(0) of an odd cubic generator against
  root-finding + finite differences and a Monte-Carlo histogram; p_data(0),
  p_data''(0) against scipy.stats.norm and finite differences.
* ``thm-c.5``, ``prop-d.2``: one step of Algorithm 1 on particles x = k x_0
  with the field computed from scipy log densities by finite differences
  (1-D and n-D), against the derived and the printed recurrences; and the
  slope at 0 of the grid flow after one step.

A check of the derivation that fails, or a printed formula that disagrees with
the numerics beyond the numerical error, gives ``failed`` with the input.
"""
from __future__ import annotations

import numpy as np
import sympy as sp
from scipy import optimize, stats

from ganphase.simulate.mixtures import GaussianMixture
from ganphase.simulate import ode
from ganphase.simulate.pushforward import PushforwardFlow, latent_grid, run_flow
from ganphase.theory import dynamics as th
from ganphase.simulate.evidence import Evidence, evidence_of

FLOW_TOL = 2e-3          # relative error of d/dt g'(0) on the finer grid
REFINEMENT_GAIN = 8.0    # halving h must shrink it at least this much (the stencils are 6th-8th order)


# --------------------------------------------------------------------------- the flow vs the ODE

def flow_rate_errors(mu, sigma, slope0, spacing, t_end=None, half_width=7.0):
    """Run the flow from g0 = slope0 z on [-half_width, half_width]; return (compare_with_flow result, record).

    The grid has initial particle spacing h_x = slope0 h_z close to ``spacing``;
    dt = 0.1 h_x^2 keeps the explicit steps stable.
    """
    n = 2 * int(np.ceil(half_width * slope0 / spacing)) + 1
    z = latent_grid(n, half_width)
    h_x = slope0 * (z[1] - z[0])
    dt = 0.1 * min(h_x, sigma) ** 2
    t_end = 0.1 * sigma ** 2 if t_end is None else t_end
    steps = max(int(np.ceil(t_end / dt)), 2)
    flow = PushforwardFlow(ode.symmetric_mixture(mu, sigma), lambda v: slope0 * v, z)
    record = run_flow(flow, t_end / steps, steps)
    return ode.compare_with_flow(record, mu, sigma), record


def _flow_cases(rng, thorough):
    count = 3 if thorough else 1
    ratio = rng.uniform(0.6, 2.5, count)
    sigma = rng.uniform(0.5, 1.5, count)
    slope = rng.uniform(0.6, 1.6, count) * sigma
    return [(float(r * s), float(s), float(a)) for r, s, a in zip(ratio, sigma, slope)]


def _flow_check(rng, thorough, printed_form):
    """Check derived and printed right-hand sides against the flow.

    Returns (derived failure or None, printed failure or None, detail); a failure is (sentence, input).
    """
    lines, failure, printed_failure = [], None, None
    for mu, sigma, a0 in _flow_cases(rng, thorough):
        coarse, fine = sigma / 16, sigma / 32
        err_c, _ = flow_rate_errors(mu, sigma, a0, coarse)
        err_f, record = flow_rate_errors(mu, sigma, a0, fine)
        d_c, d_f = err_c["derived"]["max_rel_error"], err_f["derived"]["max_rel_error"]
        p_f = err_f[printed_form]
        case = {"mu": mu, "sigma": sigma, "g0_slope": a0}
        lines.append(f"mu={mu:.3g} sigma={sigma:.3g} g'(0)={a0:.3g}: derived rel. error {d_c:.1e} (h_x={coarse:.3g}) "
                     f"-> {d_f:.1e} (h_x={fine:.3g}); {printed_form} {p_f['max_rel_error']:.1e}")
        if failure is None and (d_f > FLOW_TOL or d_f * REFINEMENT_GAIN > max(d_c, 1e-12)):
            failure = ("the derived right-hand side does not match the simulated flow to the grid's accuracy",
                       {**case, **err_f["derived"], "spacing": fine, "coarse_error": d_c})
        if printed_failure is None and p_f["max_rel_error"] > 10 * d_f + FLOW_TOL:
            printed_failure = (f"the {printed_form} right-hand side disagrees with the simulated flow",
                       {**case, "spacing": fine, "slope": p_f["slope"], "third": p_f["third"], "t": p_f["t"],
                        "measured": p_f["measured"], "printed": p_f["predicted"],
                        "derived": ode.steepness_rhs("derived")(mu, sigma, p_f["slope"], p_f["third"])})
    return failure, printed_failure, "; ".join(lines)


def _split(printed_failure, derived_failure, detail, derived_detail) -> Evidence:
    """Evidence with status from the printed check and derived_status from the derived one."""
    derived = dict(derived_status="failed" if derived_failure else "passed",
                   derived_detail=(derived_failure[0] + "; " if derived_failure else "") + derived_detail)
    if printed_failure:
        return Evidence("failed", f"{printed_failure[0]}: {detail}", counterexample=printed_failure[1], **derived)
    return Evidence("passed", detail, **derived)


@evidence_of("thm-3.3")
def steepness_ode_evidence(rng: np.random.Generator, thorough: bool) -> Evidence:
    failure, printed_failure, detail = _flow_check(rng, thorough, "printed-main")
    return _split(printed_failure, failure, "push-forward flow vs d/dt g'(0): " + detail, "the derived right-hand side vs the flow")


# --------------------------------------------------------------------------- Theorem C.6's intermediate values

def cubic_density(x, slope, third):
    """p_g(x) for g(z) = slope z + third z^3 / 6 (third >= 0), by root-finding and change of variables."""
    g = lambda v: slope * v + third * v ** 3 / 6  # noqa: E731
    zx = optimize.brentq(lambda v: g(v) - x, -50.0, 50.0, xtol=1e-15, rtol=1e-15)
    return stats.norm.pdf(zx) / (slope + third * zx ** 2 / 2)


def _numeric_second_derivative(fn, h):
    return (fn(h) - 2 * fn(0.0) + fn(-h)) / h ** 2


def _density_checks(rng, thorough):
    """[(name, inputs, numeric, derived, printed, tolerance)] for the proof's intermediate values."""
    part = lambda name: th.REGISTRY["thm-c.6"].part(name)  # noqa: E731
    checks = []
    for _ in range(3 if thorough else 1):
        a, c = float(rng.uniform(0.5, 2.0)), float(rng.uniform(0.0, 3.0))
        point = {th.g1: sp.Float(a, 30), th.g3: sp.Float(c, 30)}
        for name, numeric, h in (("(iv) p_g(0)", cubic_density(0.0, a, c), None),
                                 ("(iv) p_g''(0)", _numeric_second_derivative(lambda v: cubic_density(v, a, c), 1e-3),
                                  1e-3)):
            p = part(name)
            tol = 1e-9 if h is None else 1e-4 * (1 + abs(numeric))
            checks.append((name, {"g1": a, "g3": c}, numeric, float(p.derived.subs(point)),
                           float(p.printed.subs(point)), tol))
        # Monte-Carlo: the fraction of g(Z) in [-w, w] is 2 w p_g(0) + w^3 p_g''(0) / 3 + O(w^5)
        m, w = (400_000 if thorough else 100_000), 0.05 * a
        zs = rng.standard_normal(m)
        frac = np.mean(np.abs(a * zs + c * zs ** 3 / 6) <= w)
        p0, p2 = float(part("(iv) p_g(0)").derived.subs(point)), float(part("(iv) p_g''(0)").derived.subs(point))
        expected = 2 * w * p0 + w ** 3 * p2 / 3
        edge = optimize.brentq(lambda v: a * v + c * v ** 3 / 6 - w, 0.0, 50.0, xtol=1e-15)
        truncation = abs(stats.norm.cdf(edge) - stats.norm.cdf(-edge) - expected)
        se = np.sqrt(expected * (1 - expected) / m)
        checks.append(("Monte-Carlo mass of [-w, w]", {"g1": a, "g3": c, "w": w, "samples": m},
                       float(frac), expected, None, 5 * se + truncation))
        # the grid representation of simulate.pushforward: p_g(0) at the node z = 0
        flow = PushforwardFlow(ode.symmetric_mixture(1.0, 1.0), lambda v: a * v + c * v ** 3 / 6,
                               latent_grid(801, 6.0))
        checks.append(("p_g(0) of the grid generator", {"g1": a, "g3": c, "grid": 801},
                       float(np.exp(flow.log_density(np.array([0.0]))[0])), p0, None, 1e-8))
    for _ in range(3 if thorough else 1):
        mu, sigma = float(rng.uniform(0.3, 4.0)), float(rng.uniform(0.5, 3.0))
        pdf = lambda v: 0.5 * stats.norm.pdf(v, -mu, sigma) + 0.5 * stats.norm.pdf(v, mu, sigma)  # noqa: E731
        point = {th.mu: sp.Float(mu, 30), th.sigma: sp.Float(sigma, 30)}
        h = 1e-3 * sigma
        for name, numeric, tol in (("(iv) p_data(0)", pdf(0.0), 1e-12),
                                   ("(iv) p_data''(0)", _numeric_second_derivative(pdf, h), 1e-5 / sigma ** 3)):
            p = part(name)
            checks.append((name, {"mu": mu, "sigma": sigma}, float(numeric), float(p.derived.subs(point)),
                           float(p.printed.subs(point)), tol))
    return checks


@evidence_of("thm-c.6")
def theorem_c6_evidence(rng: np.random.Generator, thorough: bool) -> Evidence:
    lines, derived_fail, printed_fail = [], None, None
    for name, inputs, numeric, derived, printed, tol in _density_checks(rng, thorough):
        lines.append(f"{name} at {inputs}: numeric {numeric:.6g}, derived {derived:.6g}"
                     + (f", printed {printed:.6g}" if printed is not None else ""))
        if derived_fail is None and abs(numeric - derived) > tol:
            derived_fail = {"check": name, **inputs, "numeric": numeric, "derived": derived, "tolerance": tol}
        if printed_fail is None and printed is not None and abs(numeric - printed) > 10 * tol:
            printed_fail = {"check": name, **inputs, "numeric": numeric, "printed": printed, "derived": derived}
    flow_failure, flow_printed_failure, flow_detail = _flow_check(rng, thorough, "printed-proof")
    detail = "; ".join(lines) + "; flow: " + flow_detail
    derived_failure = (("a derived intermediate value disagrees with the numerics", derived_fail) if derived_fail
                       else flow_failure)
    printed_failure = ((f"printed {printed_fail['check']} disagrees with the numerics", printed_fail) if printed_fail
                       else flow_printed_failure)
    return _split(printed_failure, derived_failure, detail, "derived intermediate values and right-hand side vs numerics")


# --------------------------------------------------------------------------- Theorem C.5 and Proposition D.2

def _log_gauss(x, scale):
    """log density of N(0, scale^2 I_n) at the rows of x (scipy)."""
    x = np.atleast_2d(x)
    return stats.multivariate_normal(mean=np.zeros(x.shape[1]), cov=scale ** 2).logpdf(x)


def numeric_particle_step(x, k, k_star, step, f=None, h=1e-5):
    """x + step * grad log d(x), d = p_data / (p_data + f(r) p_g), gradient by central differences.

    p_data = N(0, k_*^2 I_n), p_g = N(0, k^2 I_n); log d in log space; f is a numpy callable of r (None: f = 1).
    """
    x = np.asarray(x, dtype=np.float64)

    def log_d(v):
        lpd, lpg = _log_gauss(v, k_star), _log_gauss(v, k)
        lf = 0.0 if f is None else np.log(f(np.exp(lpd - lpg)))
        return lpd - np.logaddexp(lpd, lf + lpg)

    eye = np.eye(x.size) * h
    grad = np.array([(log_d(x + e) - log_d(x - e)).item() / (2 * h) for e in eye])
    return x + step * grad


def _suboptimal_choices():
    u = sp.Symbol("u", positive=True)
    return [sp.Lambda(u, 1 + u / 2), sp.Lambda(u, 2 - sp.exp(-u)), sp.Lambda(u, sp.exp(-u / 3) * (1 + u ** 2))]


def _recurrence_evidence(rng, thorough, suboptimal_list):
    lines, derived_fail, printed_fail = [], None, None
    trials = 6 if thorough else 2
    for trial in range(trials):
        lam = suboptimal_list[trial % len(suboptimal_list)]
        f_np = None if lam is None else sp.lambdify(lam.variables, lam.expr, "numpy")
        k, k_star = float(rng.uniform(0.3, 3.0)), float(rng.uniform(0.3, 3.0))
        step, n = float(rng.uniform(0.01, 0.5)), int(rng.integers(1, 4))
        x0 = rng.normal(size=n) * rng.uniform(0.2, 2.0)
        rho0 = float(np.linalg.norm(x0))
        x1 = numeric_particle_step(k * x0, k, k_star, step, f_np)
        numeric = float(x1 @ x0 / rho0 ** 2)   # the field is radial: x_{t+1} = k_{t+1} x_0, k_{t+1} may be < 0
        derived = float(ode.recurrence_step(k, k_star, step, rho0, suboptimal=lam, n=n))
        printed = float(ode.recurrence_step(k, k_star, step, rho0, form="printed", suboptimal=lam, n=n))
        inputs = {"k_t": k, "k_star": k_star, "s": step, "n": n, "x0": x0.tolist(),
                  "f": "1" if lam is None else str(lam.expr)}
        tol = 1e-6 * (1 + abs(numeric))
        lines.append(f"n={n} k={k:.3g} k*={k_star:.3g} s={step:.3g} |x0|={rho0:.3g}: numeric {numeric:.8g}, "
                     f"derived {derived:.8g}, printed {printed:.8g}")
        if derived_fail is None and abs(numeric - derived) > tol:
            derived_fail = {**inputs, "numeric": numeric, "derived": derived}
        if printed_fail is None and abs(numeric - printed) > 100 * tol:
            printed_fail = {**inputs, "numeric": numeric, "printed": printed, "derived": derived}
    # the grid flow's slope at 0 after one step of Algorithm 1 (1-D)
    k, k_star = float(rng.uniform(0.5, 2.0)), float(rng.uniform(0.5, 2.0))
    lam = suboptimal_list[0]
    if lam is None:
        flow = PushforwardFlow(GaussianMixture([0.0], [k_star], [1.0]), lambda v: k * v, latent_grid(401, 8.0))
        dt = 0.05
        a0, _ = flow.slope_and_third()
        flow.step(dt)
        a1, _ = flow.slope_and_third()
        derived = float(ode.recurrence_step(a0, k_star, dt, 0.0))
        printed = float(ode.recurrence_step(a0, k_star, dt, 0.0, form="printed"))
        lines.append(f"grid flow, one step dt={dt}: slope at 0 {a1:.10g}, derived {derived:.10g}, printed {printed:.10g}")
        inputs = {"k_t": k, "k_star": k_star, "s": dt, "n": 1, "x0": 0.0, "f": "1"}
        if derived_fail is None and abs(a1 - derived) > 1e-7 * (1 + a1):
            derived_fail = {**inputs, "numeric": a1, "derived": derived}
        if printed_fail is None and abs(a1 - printed) > 1e-4 * (1 + a1):
            printed_fail = {**inputs, "numeric": a1, "printed": printed, "derived": derived}
    return _split(printed_fail and ("the printed recurrence disagrees with one numerical step of Algorithm 1",
                                    printed_fail),
                  derived_fail and ("the derived recurrence disagrees with one numerical step", derived_fail),
                  "; ".join(lines), "the derived recurrence vs one numerical step of Algorithm 1")


@evidence_of("thm-c.5")
def theorem_c5_evidence(rng: np.random.Generator, thorough: bool) -> Evidence:
    return _recurrence_evidence(rng, thorough, [None])


@evidence_of("prop-d.2")
def proposition_d2_evidence(rng: np.random.Generator, thorough: bool) -> Evidence:
    return _recurrence_evidence(rng, thorough, _suboptimal_choices())
