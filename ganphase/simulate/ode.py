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


def gaussian_target(means, sigmas, weights):
    """A 1-D Gaussian mixture p_data (``ganphase.simulate.mixtures.GaussianMixture``)."""
    from ganphase.simulate.mixtures import GaussianMixture
    return GaussianMixture(means, sigmas, weights)


def symmetric_mixture(mu: float, sigma: float):
    """p_data = 0.5 N(-mu, sigma^2) + 0.5 N(mu, sigma^2)  (Theorem 3.3)."""
    _positive("mu", mu), _positive("sigma", sigma)
    return gaussian_target([-mu, mu], [sigma, sigma], [0.5, 0.5])
