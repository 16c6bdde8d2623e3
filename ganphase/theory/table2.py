"""The optimal-discriminator field in the four cases of Table 2 (Section 3.1, Appendix C.2-C.3, Appendix D).

Theorem C.1: grad d*/d* = grad r / (r (1 + r)) with r = p_data/p_g behaves like grad log r for r -> 0
and like grad(-1/r) for r -> oo.  Propositions C.1-C.4: closed forms of r(x) and grad r(x) for the
four (p_data, p_g) pairs of Table 2, and the points the terms of grad r point toward.
Proposition D.1: angle between the field of a suboptimal discriminator
d^ = p_data / (p_data + f(r) p_g) and the optimal one.

Everything "derived" here is computed from the densities (covariances printed as variances, e.g.
0.1 I_2 has variance 1/10); the printed formulas are transcribed from the appendix.
"""
import random

import sympy as sp

from ganphase.theory.claims import REGISTRY, Part
from ganphase.theory.fields import optimal_discriminator, particle_field, ratio
from ganphase.theory.symbols import x

x1, x2 = sp.symbols("x1 x2", real=True)
X = (x1, x2)
rr = sp.Symbol("r", positive=True)           # a value of the density ratio


# --------------------------------------------------------------------------- Theorem C.1

def _leading_factor(at):
    """Leading term of 1/(r (1 + r)) as r -> at (0 or oo), from its series."""
    factor = 1 / (rr * (1 + rr))
    if at == 0:
        return sp.series(factor, rr, 0, 1).removeO().as_leading_term(rr)
    return sp.limit(factor * rr**2, rr, sp.oo) / rr**2


@REGISTRY.claim(
    "thm-c.1", source="Theorem C.1, Appendix C.2",
    title="field grad r/(r(1+r)) ~ grad log r for r -> 0 and ~ grad(-1/r) for r >> 1",
    section="C.2 Properties of particle update dynamics",
    assumptions=("optimal discriminator d* = p_data/(p_data + p_g)", "r = p_data/p_g > 0 differentiable"))
def field_limits():
    field = particle_field()[0].derived                      # grad d*/d* rewritten in r (Section 2.2)
    grad_r = sp.diff(ratio(x), x)
    small = grad_r * _leading_factor(0).subs(rr, ratio(x))
    large = grad_r * _leading_factor(sp.oo).subs(rr, ratio(x))
    return [
        Part("field in r", derived=field, printed=grad_r / (ratio(x) * (1 + ratio(x))),
             equation=r"\nabla d/d"),
        Part("leading term r -> 0", derived=small, printed=sp.diff(sp.log(ratio(x)), x),
             equation=r"\nabla d/d \approx"),
        Part("leading term r -> oo", derived=large, printed=sp.diff(-1 / ratio(x), x),
             equation=r"\nabla d/d \approx"),
    ]


# --------------------------------------------------------------------------- Table 2 densities

def log_gaussian(mean, var):
    """log N(x; mean, var I_2) = -log(2 pi var) - |x - mean|^2 / (2 var) for x = (x1, x2)."""
    return -sp.log(2 * sp.pi * var) - sum((xi - mi) ** 2 for xi, mi in zip(X, mean)) / (2 * var)


def mode_offset(case):
    """c such that the modes of p_data sit at (+-c, +-c): 3 in case 4, 1 in cases 1-3 (Table 2)."""
    return 3 if case == 4 else 1


def mode_centres(c):
    """The four centres (+-c, +-c), in the order (c, c), (c, -c), (-c, c), (-c, -c)."""
    return [(a, b) for a in (c, -c) for b in (c, -c)]


DATA_VAR = sp.Rational(1, 10)


def table2_densities(case):
    """(log p_data terms, log p_g, indicator) of Table 2 case 1-4.

    p_data = (1/4) sum_k N(m_k, 0.1 I_2); the log of each weighted component is returned so the
    terms of r can be read off.  p_g: N(0, 0.2 I), U([-2, 2]^2), N([1, 1], I), N([3, 3], 3 I).
    The indicator of the uniform's support is None for the Gaussian cases.
    """
    terms = [sp.log(sp.Rational(1, 4)) + log_gaussian(m, DATA_VAR) for m in mode_centres(mode_offset(case))]
    if case == 1:
        return terms, log_gaussian((0, 0), sp.Rational(1, 5)), None
    if case == 2:
        return terms, -sp.log(16), sp.And(sp.Abs(x1) <= 2, sp.Abs(x2) <= 2)
    if case == 3:
        return terms, log_gaussian((1, 1), 1), None
    if case == 4:
        return terms, log_gaussian((3, 3), 3), None
    raise ValueError(f"Table 2 has cases 1-4, got {case!r}")


def ratio_terms(case):
    """r = sum_k rho_k with rho_k = exp(log(w_k N_k) - log p_g) (inside the uniform's support)."""
    terms, log_pg, _ = table2_densities(case)
    return [sp.exp(sp.expand(t - log_pg)) for t in terms]


def density_ratio(case):
    """r(x) = p_data(x) / p_g(x), derived from the densities."""
    return sp.Add(*ratio_terms(case))


def ratio_gradient(case):
    """grad r(x), a 2x1 matrix."""
    r = density_ratio(case)
    return sp.Matrix([sp.diff(r, xi) for xi in X])


def field_closed_form(case):
    """grad d*/d* = grad r / (r (1 + r)) with the derived r (inside the support for case 2)."""
    r = density_ratio(case)
    return ratio_gradient(case) / (r * (1 + r))


def term_targets(case):
    """The point t_k that the k-th term of grad r points toward: grad rho_k = -c_k rho_k (x - t_k).

    log rho_k is a quadratic with equal curvature in x1 and x2, so t_k is its stationary point.
    """
    targets = []
    for rho in ratio_terms(case):
        log_rho = sp.expand(sp.log(rho), force=True)
        sol = sp.solve([sp.diff(log_rho, xi) for xi in X], X, dict=True)[0]
        targets.append((sol[x1], sol[x2]))
    return targets


def first_quadrant_target(case):
    """The target of the term of the mode in the first quadrant, which dominates grad r there."""
    c = mode_offset(case)
    return term_targets(case)[mode_centres(c).index((c, c))]


def _points_matrix(points):
    """A set of 2-D points as a matrix with rows sorted, so that two sets compare entrywise."""
    return sp.Matrix(sorted([list(p) for p in points], key=lambda p: (float(p[0]), float(p[1]))))


def _sum_ab(values, body):
    """sum over (a, b) in {(+-v, +-v)} of body(a, b), the paper's notation."""
    return sp.Add(*[body(a, b) for a in (values, -values) for b in (values, -values)])


def _printed_c1():
    e = lambda a, b: sp.exp(-sp.Rational(5, 2) * ((x1 - 2 * a) ** 2 + (x2 - 2 * b) ** 2) + 5 * a**2 + 5 * b**2)
    r = sp.Rational(1, 2) * _sum_ab(1, e)
    grad = -sp.Rational(5, 2) * _sum_ab(1, lambda a, b: e(a, b) * sp.Matrix([x1 - 2 * a, x2 - 2 * b]))
    return r, grad, [(2, 2), (2, -2), (-2, 2), (-2, -2)], (2, 2)


def _printed_c2(ind=sp.Piecewise((1, sp.And(sp.Abs(x1) <= 2, sp.Abs(x2) <= 2)), (0, True))):
    """Proposition C.2; ``ind`` is the printed indicator of [-2, 2]^2 (1 on the box, 0 off it)."""
    e = lambda a, b: sp.exp(-5 * ((x1 - a) ** 2 + (x2 - b) ** 2))
    r = 20 / sp.pi * _sum_ab(1, e) * ind
    grad = -200 / sp.pi * _sum_ab(1, lambda a, b: e(a, b) * sp.Matrix([x1 - a, x2 - b])) * ind
    return r, grad, [(1, 1), (1, -1), (-1, 1), (-1, -1)], (1, 1)


def _printed_c3():
    t = lambda a: (10 * a - 1) / sp.Integer(9)
    e = lambda a, b: sp.exp(-sp.Rational(9, 2) * ((x1 - t(a)) ** 2 + (x2 - t(b)) ** 2)
                            + sp.Rational(5, 9) * (a - 1) ** 2 + sp.Rational(5, 9) * (b - 1) ** 2)
    r = sp.Rational(5, 2) * _sum_ab(1, e)
    grad = -sp.Rational(45, 2) * _sum_ab(1, lambda a, b: e(a, b) * sp.Matrix([x1 - t(a), x2 - t(b)]))
    q = sp.Rational(-11, 9)
    return r, grad, [(1, 1), (q, 1), (1, q), (q, q)], (1, 1)


def _printed_c4():
    t = lambda a: (30 * a - 3) / sp.Integer(29)
    e = lambda a, b: sp.exp(-sp.Rational(29, 6) * ((x1 - t(a)) ** 2 + (x2 - t(b)) ** 2)
                            + sp.Rational(5, 29) * (a - 3) ** 2 + sp.Rational(5, 29) * (b - 3) ** 2)
    r = sp.Rational(15, 4) * _sum_ab(3, e)
    grad = -sp.Rational(145, 4) * _sum_ab(3, lambda a, b: e(a, b) * sp.Matrix([x1 - t(a), x2 - t(b)]))
    p, m = sp.Rational(27, 29), sp.Rational(-33, 29)
    return r, grad, [(p, p), (m, p), (p, m), (m, m)], (p, p)


PRINTED = {1: _printed_c1, 2: _printed_c2, 3: _printed_c3, 4: _printed_c4}


def printed_forms(case, on_box=False):
    """(r, grad r, term targets, first-quadrant target) as printed in Proposition C.<case>.

    ``on_box``: case 2 with its indicator 1_{x in [-2, 2]^2} set to 1, i.e. the formulas on the box.
    """
    return _printed_c2(1) if case == 2 and on_box else PRINTED[case]()


def _outside_box(rnd: random.Random) -> dict:
    """A rational point of [-4, 4]^2 outside [-2, 2]^2."""
    while True:
        p = {xi: sp.Rational(rnd.randint(-32, 32), 8) for xi in X}
        if max(abs(v) for v in p.values()) > 2:
            return p


def _table2_parts(case):
    r_p, grad_p, targets_p, quadrant_p = printed_forms(case, on_box=True)
    on = " on the box" if case == 2 else ""
    parts = [
        Part("r" + on, derived=density_ratio(case), printed=r_p, equation="r(x)"),
        Part("grad r" + on, derived=ratio_gradient(case), printed=grad_p, equation=r"\nabla r(x)"),
        Part("term targets", derived=_points_matrix(term_targets(case)), printed=_points_matrix(targets_p),
             equation=r"\text{grad } r \text{ points toward}"),
        Part("first-quadrant target", derived=sp.Matrix([first_quadrant_target(case)]),
             printed=sp.Matrix([quadrant_p]), equation=r"\nabla d_*/d_* \propto t - x"),
    ]
    if case == 2:  # off [-2, 2]^2: p_g = 0 and the printed indicator is 0
        p_d = sp.Add(*map(sp.exp, table2_densities(2)[0]))
        r_off = _printed_c2(0)[0]
        parts.append(Part("d* off the box", derived=optimal_discriminator(p_d, 0),
                          printed=r_off / (1 + r_off), domain=_outside_box, equation="d_*(x)"))
    return parts


def _table2_claim(case, p_g_text) -> dict:
    """The registry entry of Proposition C.<case> (all but the id, which each decorator writes literally)."""
    return dict(source=f"Proposition C.{case}, Appendix C.3",
                title=f"Table 2 case {case}: closed forms of r and grad r, and where the field points",
                section="C.3 Properties of particle update dynamics (data-dependent)",
                assumptions=(f"p_data = (1/4) sum N([+-{mode_offset(case)}, +-{mode_offset(case)}], 0.1 I_2)",
                             f"p_g = {p_g_text}", "covariances printed as variances"))


@REGISTRY.claim("prop-c.1", **_table2_claim(1, "N([0, 0], 0.2 I_2)"))
def table2_case_1():
    return _table2_parts(1)


@REGISTRY.claim("prop-c.2", **_table2_claim(2, "U([-2, 2] x [-2, 2])"))
def table2_case_2():
    return _table2_parts(2)


@REGISTRY.claim("prop-c.3", **_table2_claim(3, "N([1, 1], I_2)"))
def table2_case_3():
    return _table2_parts(3)


@REGISTRY.claim("prop-c.4", **_table2_claim(4, "N([3, 3], 3 I_2)"))
def table2_case_4():
    return _table2_parts(4)


# --------------------------------------------------------------------------- Proposition D.1

f = sp.Function("f", positive=True)


def sign_factor(f_):
    """f(r)/r - f'(r), whose sign the paper prints as cos(theta)."""
    return f_(rr) / rr - sp.diff(f_(rr), rr)


def ratio_coefficients(f_):
    """alpha beta, where grad d^/(2 d^) = alpha grad r and grad d*/(2 d*) = beta grad r.

    Both discriminators are functions of r alone: d^ = q/(1 + q) with q = r/f(r), d* = r/(1 + r);
    the cosine of the angle between the fields is sign(alpha beta) wherever grad r != 0.
    """
    q = rr / f_(rr)
    d_hat, d_star = q / (1 + q), rr / (1 + rr)
    return (sp.diff(d_hat, rr) / (2 * d_hat)) * (sp.diff(d_star, rr) / (2 * d_star))


@REGISTRY.claim(
    "prop-d.1", source="Proposition D.1, Appendix D.2",
    title="angle between suboptimal and optimal fields: cos(theta) = sign(f(r)/r - f'(r))",
    section="D Suboptimal discriminators",
    assumptions=("d^ = p_data/(p_data + f(r) p_g), f in C^2(0, oo)", "p_data p_g > 0 at x",
                 "f > 0 (so that d^ is in (0, 1))"),
    note="the consequence 'cos(theta) = 1 for r < delta' is tested with f(r) = r^2, which is in C^2(0, oo)")
def suboptimal_angle():
    # grad h(r(x)) = h'(r) grad r: both fields are multiples of grad r, so cos(theta) = sign(alpha beta)
    derived = sp.sign(sp.factor(ratio_coefficients(f)))
    small_r = sp.limit(sp.sign(sp.simplify(ratio_coefficients(sp.Lambda(rr, rr**2)))), rr, 0, "+")
    return [
        Part("cos theta", derived=derived, printed=sp.sign(sign_factor(f)), equation=r"\cos\theta"),
        Part("cos theta as r -> 0, f(r) = r^2", derived=small_r, printed=sp.Integer(1),
             equation=r"\cos\theta\ (r < \delta)"),
    ]
