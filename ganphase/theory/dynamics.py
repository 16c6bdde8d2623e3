"""Evolution of the generator's steepness under the optimal-discriminator flow.

Section 3.2 (Theorem 3.3), Appendix C.7 (Theorems C.5, C.6) and Appendix D.3
(Proposition D.2).  A generator g_t moves every latent point z along the
particle field of Algorithm 1,

    d/dt g_t(z) = (d_t'/d_t)(g_t(z)),    d_t = p_data / (p_data + p_{g_t}),

with p_{g_t} the push-forward of N(0, 1) under g_t: p_g(g(z)) = phi(z) / g'(z).

Everything below is derived from these definitions by sympy:

* ``steepness_rhs()``: for p_data = 0.5 N(-mu, sigma^2) + 0.5 N(mu, sigma^2) and
  an odd generator, d/dt g_t'(0) as a function of g_t'(0) = ``g1`` and
  g_t'''(0) = ``g3``.  The p_g expansion at 0 uses the Taylor series of the
  inverse map z(x) = g^{-1}(x); no mu >> sigma approximation is made: the
  right-hand side is exact.
* ``gaussian_recurrence()``: for p_data = N(0, k_*^2 I_n) and the linear
  generator x = k_t x_0, the position of a particle after one step of size s,
  divided by |x_0| (Theorem C.5), and the same with a suboptimal
  discriminator p_data / (p_data + f(r) p_g) (Proposition D.2).  The update
  multiplies x_t by 1 + s (1/k_t^2 - 1/k_*^2) / (1 + r(x_t)), a factor that
  depends on |x_t|: one step does not keep the generator linear, so the
  recurrence is exact for one step and the linear-generator approximation when
  iterated.
"""
from __future__ import annotations

import functools
import random

import sympy as sp

from ganphase.theory.claims import REGISTRY, Part
from ganphase.theory.symbols import mu, s, sigma, x, z

g1 = sp.Symbol("g1", positive=True)      # g_t'(0), the steepness at z = 0
g3 = sp.Symbol("g3", real=True)          # g_t'''(0)
k = sp.Symbol("k", positive=True)        # k_t, the steepness of the linear generator x = k_t x_0
k_star = sp.Symbol("k_star", positive=True)   # k_*, the standard deviation of p_data = N(0, k_*^2 I_n)
rho0 = sp.Symbol("rho0", positive=True)  # |x_0|, the latent point's norm
rho = sp.Symbol("rho", positive=True)    # |x|, a radius in data space
dim = sp.Symbol("n", positive=True, integer=True)  # the dimension n of Theorem C.5 / Proposition D.2
f = sp.Function("f", positive=True)      # the suboptimality f(r) of Proposition D.2
ratio = sp.Function("r", positive=True)  # a density ratio r(rho) as an arbitrary function

# generic values of two even densities and their second derivatives at 0 (Appendix C.7, step (iv))
pd0, pg0 = sp.symbols("pdata0 pg0", positive=True)
pd2, pg2 = sp.symbols("pdata2 pg2", real=True)


# --------------------------------------------------------------------------- densities

def normal_pdf(v, mean, sd):
    """Density of N(mean, sd^2) at v."""
    return sp.exp(-(v - mean) ** 2 / (2 * sd ** 2)) / (sp.sqrt(2 * sp.pi) * sd)


def symmetric_mixture_pdf(v):
    """p_data(v) = 0.5 N(v; -mu, sigma^2) + 0.5 N(v; mu, sigma^2)  (Theorem 3.3)."""
    half = sp.Rational(1, 2)
    return half * normal_pdf(v, -mu, sigma) + half * normal_pdf(v, mu, sigma)


def odd_generator(v, c1=g1, c3=g3):
    """The odd generator near 0 to third order: g(z) = g'(0) z + g'''(0) z^3 / 6."""
    return c1 * v + c3 * v ** 3 / 6


def inverse_series(c1=g1, c3=g3):
    """z(x) = g^{-1}(x) = b1 x + b3 x^3 + O(x^5), with b1, b3 solved from g(z(x)) = x."""
    b1, b3 = sp.symbols("b1 b3")
    composed = sp.expand(odd_generator(b1 * x + b3 * x ** 3, c1, c3))
    poly = sp.Poly(sp.series(composed, x, 0, 4).removeO(), x)
    sol = sp.solve([poly.coeff_monomial(x) - 1, poly.coeff_monomial(x ** 3)], [b1, b3], dict=True)[0]
    return sol[b1] * x + sol[b3] * x ** 3


def pushforward_density_series():
    """p_g(x) = phi(z(x)) z'(x) to O(x^3): the change-of-variables formula for p_g = g_# N(0, 1)."""
    zx = inverse_series()
    density = normal_pdf(zx, 0, 1) * sp.diff(zx, x)
    return sp.series(density, x, 0, 3).removeO()


# --------------------------------------------------------------------------- Theorem 3.3 / C.6

def particle_field(pdata, pg):
    """d'/d = d/dx log(p_data / (p_data + p_g)), the field of Algorithm 1."""
    return sp.diff(sp.log(pdata) - sp.log(pdata + pg), x)


@functools.lru_cache(maxsize=None)
def steepness_rhs() -> sp.Expr:
    """d/dt g_t'(0) = d/dz [(d'/d)(g_t(z))] at z = 0, for the symmetric two-Gaussian p_data.

    Exact (no mu >> sigma approximation); in terms of ``g1`` = g_t'(0) and
    ``g3`` = g_t'''(0).  Section 3.2, Theorem 3.3.
    """
    field = particle_field(symmetric_mixture_pdf(x), pushforward_density_series())
    moved = field.subs(x, odd_generator(z))
    rate = sp.diff(moved, z).subs(z, 0)
    return sp.simplify(sp.factor(sp.simplify(rate)))


def printed_rhs_main() -> sp.Expr:
    """Theorem 3.3 (Section 3.2) and the statement of Theorem C.6, as printed."""
    return ((mu ** 2 - sigma ** 2) / sigma ** 4 * g1 ** 3 + g1 + g3) \
        / (sp.exp(-mu ** 2 / (2 * sigma ** 2)) / sigma * g1 ** 3 + g1 ** 2)


def printed_rhs_proof() -> sp.Expr:
    """The last display of the proof of Theorem C.6 (Appendix C.7, step (v)), as printed."""
    return ((mu ** 2 - sigma ** 2) / sigma ** 4 * g1 ** 3 + g1 + g3) \
        / (sp.exp(-mu ** 2 / sigma ** 2) / sigma * g1 ** 3 + g1 ** 2)


def optimal_steepness() -> sp.Expr:
    """g'(0) of the map with p_g(0) = p_data(0): phi(0) / p_data(0) = sigma exp(mu^2 / (2 sigma^2))."""
    return sp.simplify(normal_pdf(0, 0, 1) / symmetric_mixture_pdf(0))


def early_growth_rate_printed() -> sp.Expr:
    """The rate of the 'initial exponential growth' stated after Theorem 3.3: (mu^2 - sigma^2)/sigma^4."""
    return (mu ** 2 - sigma ** 2) / sigma ** 4


def early_growth_rate(rhs: sp.Expr) -> sp.Expr:
    """Implication (ii) after Theorem 3.3: at an early stage (g3 = 0) the dominant terms of ``rhs`` are the highest
    power of g1 in its numerator and the lowest in its denominator; their ratio divided by g1 is the rate of
    d/dt g1 ~ rate g1 (a power of g1 is left over if the degrees do not differ by one)."""
    num, den = sp.fraction(sp.together(rhs.subs(g3, 0)))
    num, den = sp.Poly(sp.expand(num), g1), sp.Poly(sp.expand(den), g1)
    (top, lead), (low, trail) = max(num.terms()), min(den.terms())
    return sp.simplify(lead / trail * g1 ** (top[0] - low[0] - 1))


def _even_density_pair():
    """Two even densities to second order, from the generic values at 0."""
    return pd0 + pd2 * x ** 2 / 2, pg0 + pg2 * x ** 2 / 2


@REGISTRY.claim(
    "thm-3.3", source="Theorem 3.3, Section 3.2",
    title="steepness ODE d/dt g_t'(0) under the symmetric two-Gaussian mixture",
    section="3 The Fitting Phase: Gradient Dynamics",
    assumptions=("p_data = 0.5 N(-mu, sigma^2) + 0.5 N(mu, sigma^2)", "optimal discriminator",
                 "g_t odd (so g_t(0) = 0, g_t''(0) = 0) and C^3 near 0, g_t'(0) > 0",
                 "gradient-flow limit of g <- g + dt d'/d(g)"),
    note="The derived right-hand side is exact; the theorem's 'mu >> sigma' is not needed.")
def theorem_3_3():
    rhs = steepness_rhs()
    return [Part("ODE right-hand side", derived=rhs, printed=printed_rhs_main(), equation=r"\frac{d}{dt} g_t'(0)"),
            Part("early exponential growth rate (implication ii)", derived=early_growth_rate(rhs),
                 printed=early_growth_rate_printed(), equation=r"\text{rate of } g_t'(0)")]


@REGISTRY.claim(
    "thm-c.6", source="Theorem C.6 and its proof, Appendix C.7",
    title="steepness ODE under the symmetric two-Gaussian mixture: statement and proof steps",
    section="C Proofs to Theorems",
    assumptions=("p_data = 0.5 N(-mu, sigma^2) + 0.5 N(mu, sigma^2)", "optimal discriminator",
                 "g_t odd and C^3 near 0, g_t'(0) > 0"))
def theorem_c_6():
    pg_series = pushforward_density_series()
    pdata = symmetric_mixture_pdf(x)
    at0 = lambda e, order: sp.simplify(sp.diff(e, x, order).subs(x, 0))  # noqa: E731
    exp_half = sp.exp(-mu ** 2 / (2 * sigma ** 2))
    d_exact = pdata / (pdata + pg_series)

    # step (iii): d/dz of (d'/d)(g(z)) for arbitrary d and g
    dd, gg = sp.Function("d", positive=True), sp.Function("g")
    chain = sp.diff((sp.diff(dd(x), x) / dd(x)).subs(x, gg(z)), z)
    chain_printed = (sp.Subs(sp.diff(dd(x), x, 2), x, gg(z)) / dd(gg(z))
                     - sp.Subs(sp.diff(dd(x), x), x, gg(z)) ** 2 / dd(gg(z)) ** 2) * sp.diff(gg(z), z)

    # steps (iv)-(v) for two generic even densities
    pd_even, pg_even = _even_density_pair()
    d_even = pd_even / (pd_even + pg_even)
    ode_even = sp.simplify((at0(d_even, 2) / d_even.subs(x, 0) - (at0(d_even, 1) / d_even.subs(x, 0)) ** 2) * g1)

    return [
        Part("statement: ODE right-hand side", derived=steepness_rhs(), printed=printed_rhs_main(),
             equation=r"\frac{d}{dt} g_t'(0)"),
        Part("(iii) d/dz of the particle field", derived=chain, printed=chain_printed,
             equation=r"\partial_z \frac{d'(g(z))}{d(g(z))}"),
        Part("(iv) p_g(0)", derived=at0(pg_series, 0), printed=1 / (sp.sqrt(2 * sp.pi) * g1), equation="p_g(0)"),
        Part("(iv) p_g'(0)", derived=at0(pg_series, 1), printed=sp.Integer(0), equation="p_g'(0)"),
        Part("(iv) p_g''(0)", derived=at0(pg_series, 2),
             printed=-1 / sp.sqrt(2 * sp.pi) * (g1 + g3) / g1 ** 4, equation="p_g''(0)"),
        Part("(iv) p_data(0)", derived=at0(pdata, 0),
             printed=1 / (sp.sqrt(2 * sp.pi) * sigma ** 2) * exp_half, equation=r"p_{data}(0)"),
        Part("(iv) p_data'(0)", derived=at0(pdata, 1), printed=sp.Integer(0), equation=r"p_{data}'(0)"),
        Part("(iv) p_data''(0)", derived=at0(pdata, 2),
             printed=(mu ** 2 - sigma ** 2) / (sigma ** 4 * sp.sqrt(2 * sp.pi) * sigma ** 2) * exp_half,
             equation=r"p_{data}''(0)"),
        Part("(iv) d'(0)", derived=at0(d_exact, 1), printed=sp.Integer(0), equation="d'(0)"),
        Part("(iv) d''(0) for even densities", derived=at0(d_even, 2),
             printed=(pd2 * pg0 - pd0 * pg2) / (pd0 + pg0) ** 2, equation="d''(0)"),
        Part("(v) ODE in terms of the densities", derived=ode_even,
             printed=(pd2 * pg0 - pd0 * pg2) / ((pd0 + pg0) * pd0) * g1, equation=r"\frac{d}{dt} g_t'(0)"),
        Part("(v) last line of the proof", derived=steepness_rhs(), printed=printed_rhs_proof(),
             equation=r"\frac{d}{dt} g_t'(0)"),
    ]


# --------------------------------------------------------------------------- Theorem C.5 / Proposition D.2

def log_normal_nd(radius, scale, n=dim):
    """log density of N(0, scale^2 I_n) at a point of norm ``radius``."""
    return -n / 2 * sp.log(2 * sp.pi * scale ** 2) - radius ** 2 / (2 * scale ** 2)


def phi_nd(radius, n=dim):
    """phi, the density of N(0, I_n), at a point of norm ``radius`` (as in Theorem C.5)."""
    return (2 * sp.pi) ** (-n / 2) * sp.exp(-radius ** 2 / 2)


def density_ratio_nd(radius, n=dim):
    """r = p_data / p_g for p_data = N(0, k_*^2 I_n), p_g = N(0, k_t^2 I_n)."""
    return sp.exp(log_normal_nd(radius, k_star, n) - log_normal_nd(radius, k, n))


def gaussian_recurrence(n=dim, suboptimal=None) -> sp.Expr:
    """k_{t+1} = |x_{t+1}| / |x_0| after one step of Algorithm 1 from x_t = k_t x_0.

    p_data = N(0, k_*^2 I_n), p_g = N(0, k_t^2 I_n).  The discriminator is
    p_data / (p_data + F(r) p_g) with F = ``suboptimal`` (a callable on sympy
    expressions; None for the optimal F = 1).  Fields are radial, so
    x_{t+1} = x_t + s (d/d rho log d)(|x_t|) x_t / |x_t|.
    """
    log_pd, log_pg = log_normal_nd(rho, k_star, n), log_normal_nd(rho, k, n)
    weight = suboptimal(sp.exp(log_pd - log_pg)) if suboptimal else 1
    log_d = log_pd - sp.log(sp.exp(log_pd) + weight * sp.exp(log_pg))
    radial = sp.diff(log_d, rho).subs(rho, k * rho0)
    return sp.simplify(k + s * radial / rho0)


def steepness_at_zero(recurrence: sp.Expr) -> sp.Expr:
    """The slope of the updated map at x_0 = 0: the limit of |x_{t+1}| / |x_0| as |x_0| -> 0."""
    return sp.simplify(sp.limit(recurrence, rho0, 0))


def printed_ratio_c5(n=dim):
    """r(k_t x_0) = k_t phi(k_t x_0 / k_*) / (k_* phi(x_0)), as printed in Theorem C.5 / Proposition D.2."""
    return k * phi_nd(k * rho0 / k_star, n) / (k_star * phi_nd(rho0, n))


def printed_recurrence_c5(n=dim):
    """Theorem C.5's recurrence, as printed."""
    return k + s * (1 / k ** 2 - 1 / k_star ** 2) / (1 + printed_ratio_c5(n))


def printed_recurrence_d2(n=dim):
    """Proposition D.2's recurrence, as printed (f' is the derivative of f at r)."""
    rr = printed_ratio_c5(n)
    u = sp.Dummy("u")
    f_prime = sp.Subs(sp.diff(f(u), u), u, rr)
    return k + s * (1 / k ** 2 - 1 / k_star ** 2) * (f(rr) - rr * f_prime) / (rr + f(rr))


def _with_dimension(rng: random.Random) -> dict:
    """Random point for parts with a dimension: n in {1, ..., 4}, positives in (1/10, 4]."""
    from ganphase.theory.claims import default_point
    point = default_point([k, k_star, rho0, s, rho], rng)
    point[dim] = sp.Integer(rng.randint(1, 4))
    return point


_GAUSS_ASSUMPTIONS = ("p_data = N(0, k_*^2 I_n)", "the generator is linear, x_t = k_t x_0 (p_g = N(0, k_t^2 I_n))",
                      "one step of Algorithm 1 with step size s")


@REGISTRY.claim(
    "thm-c.5", source="Theorem C.5 and its proof, Appendix C.7",
    title="steepness recurrence k_{t+1}(k_t) for a single Gaussian target",
    section="C Proofs to Theorems",
    assumptions=_GAUSS_ASSUMPTIONS + ("optimal discriminator",),
    note="One step does not keep the generator linear; the recurrence is exact for one step.")
def theorem_c_5():
    one = sp.Integer(1)
    derived_1d = gaussian_recurrence(one)
    true_density = sp.exp(log_normal_nd(rho, k))
    printed_density = phi_nd(rho / k) / k
    grad_r = sp.diff(density_ratio_nd(rho), rho)
    printed_grad_r = k / k_star * (1 / k ** 2 - 1 / k_star ** 2) * phi_nd(rho / k_star) / phi_nd(rho / k) * rho
    increment = derived_1d - k
    fixed = [sol for sol in sp.solve(sp.numer(sp.together(increment)), k) if sol.is_positive]
    if len(fixed) != 1:
        raise ArithmeticError(f"expected one positive fixed point of the recurrence, sympy found {fixed}")
    return [
        Part("recurrence (n = 1)", derived=derived_1d, printed=printed_recurrence_c5(one), equation="k_{t+1}"),
        Part("steepness at x = 0 (n = 1)", derived=steepness_at_zero(derived_1d),
             printed=sp.limit(printed_recurrence_c5(one), rho0, 0), equation=r"k_{t+1}\big|_{x_0 \to 0}"),
        Part("recurrence (n dimensions)", derived=gaussian_recurrence(), printed=printed_recurrence_c5(),
             domain=_with_dimension, equation="k_{t+1}"),
        Part("density of N(0, k^2 I_n) as phi(x/k)/k", derived=true_density, printed=printed_density,
             domain=_with_dimension, equation=r"p_{\mathcal{N}(0, k^2 I_n)}"),
        Part("radial component of grad r", derived=grad_r, printed=printed_grad_r,
             domain=_with_dimension, equation=r"\nabla r \cdot \hat{x}"),
        Part("fixed point (footnote 5: k_t -> k_*)", derived=fixed[0], printed=k_star,
             equation=r"k_\infty"),
    ]


@REGISTRY.claim(
    "prop-d.2", source="Proposition D.2 and its proof, Appendix D.3",
    title="steepness recurrence with a suboptimal discriminator p_data / (p_data + f(r) p_g)",
    section="D Analysis of a Class of Suboptimal Discriminators",
    assumptions=_GAUSS_ASSUMPTIONS + ("discriminator p_data / (p_data + f(r) p_g), f > 0 differentiable",),
    note="One step does not keep the generator linear; the recurrence is exact for one step.")
def proposition_d_2():
    one = sp.Integer(1)
    r_rho = ratio(rho)
    d_hat = r_rho / (r_rho + f(r_rho))
    u = sp.Dummy("u")
    printed_field = (f(r_rho) - r_rho * sp.Subs(sp.diff(f(u), u), u, r_rho)) * sp.diff(r_rho, rho) \
        / (r_rho * (r_rho + f(r_rho)))
    return [
        Part("particle field in terms of r", derived=sp.diff(sp.log(d_hat), rho), printed=printed_field,
             equation=r"\nabla \hat d_\omega / \hat d_\omega"),
        Part("recurrence (n = 1)", derived=gaussian_recurrence(one, suboptimal=f),
             printed=printed_recurrence_d2(one), equation="k_{t+1}"),
        Part("recurrence (n dimensions)", derived=gaussian_recurrence(suboptimal=f),
             printed=printed_recurrence_d2(), domain=_with_dimension, equation="k_{t+1}"),
    ]
