"""The steepness ODE of Theorem 3.3 and the recurrences of Theorem C.5 / Proposition D.2, numerically.

Right-hand sides come from ``ganphase.theory.dynamics`` by ``sympy.lambdify``:
the derived one, and the printed ones (Section 3.2 / Theorem C.6 statement, and
the last line of the proof of Theorem C.6), so that they can be compared.

The ODE for a = g_t'(0) involves c = g_t'''(0), which it does not determine.
Two closures are offered:

* ``closure="zero"``: c = 0, the reading of the theorem's remark "when
  g_t'''(0) is small compared to g_t'(0)" (a generator linear near 0);
* a callable c(t), e.g. interpolated from the push-forward simulation
  (``ganphase.simulate.pushforward``), which makes the ODE exact along the flow.
"""
from __future__ import annotations

import functools
from typing import Callable

import numpy as np
import sympy as sp
from scipy.integrate import solve_ivp

from ganphase.simulate.mixtures import GaussianMixture
from ganphase.theory import dynamics as th

RHS_FORMS = ("derived", "printed-main", "printed-proof")


def _positive(name, value):
    if not (np.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a positive finite number, got {value}")


@functools.lru_cache(maxsize=None)
def steepness_rhs(form: str = "derived") -> Callable:
    """d/dt g'(0) as a numpy function rhs(mu, sigma, g1, g3) (Theorem 3.3).

    ``form``: "derived" (sympy, from the definitions), "printed-main" (Section
    3.2 and the statement of Theorem C.6), "printed-proof" (last line of the
    proof of Theorem C.6).
    """
    exprs = {"derived": th.steepness_rhs, "printed-main": th.printed_rhs_main,
             "printed-proof": th.printed_rhs_proof}
    if form not in exprs:
        raise ValueError(f"form must be one of {RHS_FORMS}, got {form!r}")
    return sp.lambdify((th.mu, th.sigma, th.g1, th.g3), exprs[form](), "numpy")


def log_growth_rate(mu: float, sigma: float, slope, third=0.0, form: str = "derived"):
    """(d/dt g'(0)) / g'(0): the instantaneous exponential growth rate of the steepness."""
    slope = np.asarray(slope, dtype=np.float64)
    return steepness_rhs(form)(mu, sigma, slope, third) / slope


def paper_growth_rate(mu: float, sigma: float) -> float:
    """The rate (mu^2 - sigma^2) / sigma^4 stated after Theorem 3.3."""
    return float(sp.lambdify((th.mu, th.sigma), th.early_growth_rate_printed())(mu, sigma))


def integrate_steepness(mu: float, sigma: float, slope0: float, t_end: float, *,
                        closure: str | Callable = "zero", form: str = "derived",
                        t_eval: np.ndarray | None = None, rtol: float = 1e-10, atol: float = 1e-12):
    """Solve d/dt a = rhs(mu, sigma, a, c(t)) from a(0) = ``slope0`` with solve_ivp (LSODA).

    ``closure`` is "zero" (c = 0) or a callable c(t) giving g_t'''(0).
    Returns (t, a) at ``t_eval`` (default: 201 points on [0, t_end]).
    """
    _positive("mu", mu), _positive("sigma", sigma), _positive("slope0", slope0), _positive("t_end", t_end)
    if closure == "zero":
        third = lambda t: 0.0  # noqa: E731
    elif callable(closure):
        third = closure
    else:
        raise ValueError(f"closure must be 'zero' or a callable c(t), got {closure!r}")
    rhs = steepness_rhs(form)
    if t_eval is None:
        t_eval = np.linspace(0.0, t_end, 201)
    t_eval = np.asarray(t_eval, dtype=np.float64)
    if t_eval.ndim != 1 or t_eval[0] < 0 or t_eval[-1] > t_end or np.any(np.diff(t_eval) <= 0):
        raise ValueError("t_eval must be increasing times inside [0, t_end]")
    sol = solve_ivp(lambda t, a: [rhs(mu, sigma, a[0], third(t))], (0.0, t_end), [slope0],
                    method="LSODA", t_eval=t_eval, rtol=rtol, atol=atol)
    if not sol.success:
        raise ArithmeticError(f"the steepness ODE could not be integrated: {sol.message}")
    return sol.t, sol.y[0]


# --------------------------------------------------------------------------- recurrences (Thm C.5, Prop D.2)

RECURRENCE_FORMS = ("derived", "printed")


@functools.lru_cache(maxsize=None)
def _recurrence_expr(form: str, at_zero: bool, suboptimal: sp.Lambda | None, n: int):
    if form not in RECURRENCE_FORMS:
        raise ValueError(f"form must be one of {RECURRENCE_FORMS}, got {form!r}")
    dim = sp.Integer(n)
    if suboptimal is None:
        expr = th.gaussian_recurrence(dim) if form == "derived" else th.printed_recurrence_c5(dim)
    else:
        expr = th.gaussian_recurrence(dim, suboptimal=th.f) if form == "derived" else th.printed_recurrence_d2(dim)
        expr = expr.subs(th.f, suboptimal).doit()
    if at_zero:
        expr = sp.limit(expr, th.rho0, 0)
    return sp.lambdify((th.k, th.k_star, th.s, th.rho0), expr, "numpy")


def recurrence_step(k, k_star, step, x0=0.0, *, form="derived", suboptimal: sp.Lambda | None = None, n: int = 1):
    """k_{t+1} from k_t (Theorem C.5; Proposition D.2 with ``suboptimal`` = f as a sympy Lambda).

    ``x0`` is |x_0|: 0 gives the slope of the updated map at 0, x0 != 0 the
    secant |x_{t+1}| / |x_0| of the particle started at x_0, in dimension ``n``.
    """
    if not (isinstance(n, (int, np.integer)) and n >= 1):
        raise ValueError(f"the dimension n must be a positive integer, got {n!r}")
    x0 = np.abs(np.asarray(x0, dtype=np.float64))
    fn = _recurrence_expr(form, bool(np.all(x0 == 0)), suboptimal, int(n))
    return fn(k, k_star, step, x0)


def iterate_recurrence(k0: float, k_star: float, step: float, n_steps: int, x0: float = 0.0, *,
                       form: str = "derived", suboptimal: sp.Lambda | None = None) -> np.ndarray:
    """k_0, ..., k_T from the recurrence (the linear-generator approximation after the first step)."""
    _positive("k0", k0), _positive("k_star", k_star), _positive("step", step)
    if not (isinstance(n_steps, (int, np.integer)) and n_steps >= 1):
        raise ValueError(f"n_steps must be a positive integer, got {n_steps!r}")
    ks = [float(k0)]
    for _ in range(n_steps):
        ks.append(float(recurrence_step(ks[-1], k_star, step, x0, form=form, suboptimal=suboptimal)))
        if not np.isfinite(ks[-1]) or ks[-1] <= 0:
            raise ArithmeticError(f"the {form} recurrence left the positive reals at step {len(ks) - 1}")
    return np.array(ks)


# --------------------------------------------------------------------------- comparison with the flow

def compare_with_flow(record, mu: float, sigma: float) -> dict:
    """Measured d/dt g'(0) of a push-forward run vs the ODE right-hand sides at the same g'(0), g'''(0).

    Returns, for each form, the largest deviation over the run relative to the
    largest measured |d/dt g'(0)| (the rate may cross 0), and where it happens.
    """
    measured = record.measured_rate()
    a, c = record.slope[:-1], record.third[:-1]
    out = {}
    for form in RHS_FORMS:
        predicted = steepness_rhs(form)(mu, sigma, a, c)
        rel = np.abs(measured - predicted) / max(float(np.max(np.abs(measured))), 1e-300)
        i = int(np.argmax(rel))
        out[form] = {"max_rel_error": float(rel[i]), "t": float(record.t[i]), "slope": float(a[i]),
                     "third": float(c[i]), "measured": float(measured[i]), "predicted": float(predicted[i])}
    return out


def third_closure_from(record) -> Callable[[float], float]:
    """c(t) = g_t'''(0) interpolated linearly from a push-forward record."""
    t, c = record.t.copy(), record.third.copy()
    return lambda s: float(np.interp(s, t, c))


def symmetric_mixture(mu: float, sigma: float):
    """p_data = 0.5 N(-mu, sigma^2) + 0.5 N(mu, sigma^2)  (Theorem 3.3)."""
    _positive("mu", mu), _positive("sigma", sigma)
    return GaussianMixture([-mu, mu], [sigma, sigma], [0.5, 0.5])


# --------------------------------------------------------------------------- the early-growth regime

def growth_rates(mu: float, sigma: float, slope0: float, efolds=(0.1, 0.5, 1.0), *,
                 spacing: float | None = None, half_width: float = 7.0, stretch: float = 2.0,
                 progress: bool = False) -> dict:
    """Exponential growth rates of g'(0): simulated flow, ODE with zero closure, and (mu^2 - sigma^2)/sigma^4.

    The windows are [0, e / max(|paper rate|, 2 / sigma^2)] for e in ``efolds``
    (the paper's rate predicts e e-folds of growth there).  For each, the mean
    rate log(g'_w(0) / g'_0(0)) / w is measured on the push-forward flow from
    g_0(z) = slope0 z (sinh grid with ``stretch``, particle spacing at z = 0
    ``spacing``, default sigma / 32; dt = 0.1 spacing^2) and on the ODE with
    the zero closure.  ``grid_error`` is the largest change of the simulated
    rates when the spacing is doubled (an estimate of the discretisation error).
    """
    from ganphase.simulate.pushforward import PushforwardFlow, latent_grid, run_flow

    _positive("mu", mu), _positive("sigma", sigma), _positive("slope0", slope0)
    spacing = sigma / 32 if spacing is None else spacing
    paper = paper_growth_rate(mu, sigma)
    windows = np.asarray(efolds, dtype=np.float64) / max(abs(paper), 2 / sigma ** 2)
    ode_t, ode_a = integrate_steepness(mu, sigma, slope0, float(windows[-1]), t_eval=windows)
    centre_slope = half_width * stretch / np.sinh(stretch) if stretch > 0 else half_width

    def simulate(h):
        n = max(2 * int(np.ceil(slope0 * centre_slope / h)) + 1, 41)
        z = latent_grid(n, half_width, stretch)
        dt = 0.1 * (slope0 * np.min(np.diff(z))) ** 2
        for _ in range(4):   # particles may bunch up in the modes: halve dt until the explicit steps are stable
            steps = int(np.ceil(windows[-1] / dt))
            flow = PushforwardFlow(symmetric_mixture(mu, sigma), lambda v: slope0 * v, z)
            try:
                rec = run_flow(flow, windows[-1] / steps, steps, progress=progress)
                break
            except ValueError:
                dt /= 4
        else:
            raise ArithmeticError(f"the flow stayed unstable for mu={mu}, sigma={sigma}, slope0={slope0}")
        slope_at = np.interp(windows, rec.t, rec.slope)
        return np.log(slope_at / slope0) / windows, rec.measured_rate()[0] / slope0, n

    sim, first, nodes = simulate(spacing)
    sim_coarse, _, _ = simulate(2 * spacing)
    return {"mu": mu, "sigma": sigma, "slope0": slope0, "paper_rate": paper,
            "initial_rate_exact": float(log_growth_rate(mu, sigma, slope0)), "initial_rate_simulated": float(first),
            "windows": windows.tolist(), "simulated_rate": sim.tolist(),
            "ode_zero_closure_rate": (np.log(ode_a / slope0) / ode_t).tolist(),
            "grid_error": float(np.max(np.abs(sim - sim_coarse))), "grid_nodes": nodes}


def growth_table_markdown(rows: list[dict]) -> str:
    """The regime table of docs/dynamics.md from ``growth_rates`` rows."""
    lines = ["| mu/sigma | g0'(0)/sigma | paper rate | exact rate at t=0 | windows | simulated rates | "
             "ODE rates (zero closure) | grid error |", "|---|---|---|---|---|---|---|---|"]
    fmt = lambda vs: ", ".join(f"{v:.3g}" for v in vs)  # noqa: E731
    for r in rows:
        if "unresolved" in r:
            lines.append(f"| {r['mu'] / r['sigma']:g} | {r['slope0'] / r['sigma']:g} | {r['paper_rate']:.3g} | "
                         f"{r['initial_rate_exact']:.3g} | - | not resolved: {r['unresolved']} | - | - |")
            continue
        lines.append(f"| {r['mu'] / r['sigma']:g} | {r['slope0'] / r['sigma']:g} | {r['paper_rate']:.3g} | "
                     f"{r['initial_rate_exact']:.3g} | {fmt(r['windows'])} | {fmt(r['simulated_rate'])} | "
                     f"{fmt(r['ode_zero_closure_rate'])} | {r['grid_error']:.1e} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> None:
    """Print the regime table (sigma = 1): python -m ganphase.simulate.ode [OUT.json]."""
    import sys

    from tqdm import tqdm

    from ganphase.io import write_json

    argv = sys.argv[1:] if argv is None else argv
    cases = [(m, a) for m in (0.5, 1.0, 1.5, 2.0, 3.0, 4.0) for a in (0.5, 1.0, 2.0)]
    rows = []
    for m, a in tqdm(cases, desc="growth regimes"):
        try:
            rows.append(growth_rates(m, 1.0, a))
        except ArithmeticError as exc:   # a compression front in the tail outran dt / 64
            rows.append({"mu": m, "sigma": 1.0, "slope0": a, "paper_rate": paper_growth_rate(m, 1.0),
                         "initial_rate_exact": float(log_growth_rate(m, 1.0, a)), "unresolved": str(exc)})
    if argv:
        write_json(argv[0], rows)
    print(growth_table_markdown(rows))


if __name__ == "__main__":
    main()
