"""Steepness and mode mixture (Theorem 3.4, Section 3.2; Theorem C.7, Appendix C.8).

Setting: p_data = (1/N) sum_i N(x_i, sigma^2) in 1-D with gaps >= Delta = 6 sigma,
g increasing with sup g' <= k, and the midpoint condition
g^{-1}(m_i) = c_i := Phi^{-1}(Psi(m_i)), m_i = (x_i + x_{i+1}) / 2.  The
mode-mixture intervals are [x_i + 3 sigma, x_{i+1} - 3 sigma].

The proof bounds how far the preimages of the interval ends can be from c_i:
for g increasing with g' <= k, g^{-1}(b) - g^{-1}(a) >= (b - a) / k.  The
distance from m_i to either end of the interval is (x_{i+1} - x_i - 6 sigma)/2,
so the preimage interval contains c_i +- (x_{i+1} - x_i - 6 sigma)/(2k); the
paper prints (x_{i+1} - x_i - 3 sigma)/(2k).
"""
import random

import sympy as sp

from ganphase.theory.claims import REGISTRY, Part
from ganphase.theory.steepness import Phi, Phi_inv, mixture_cdf
from ganphase.theory.symbols import k, sigma

x_lo, x_hi = sp.symbols("x_i x_ip1", real=True)   # neighbouring mode centres x_i < x_{i+1}
c = sp.Symbol("c", real=True)                      # c_i = g^{-1}(m_i) = Phi^{-1}(Psi(m_i))
xm = sp.Symbol("x", positive=True)                 # N = 2: -x_1 = x_2 = x


def preimage_half_width():
    """Least distance from c_i to g^{-1} of either interval end, for g increasing with g' <= k.

    g^{-1}(m_i) - g^{-1}(x_i + 3 sigma) >= (m_i - x_i - 3 sigma) / k and
    g^{-1}(x_{i+1} - 3 sigma) - g^{-1}(m_i) >= (x_{i+1} - 3 sigma - m_i) / k.
    """
    m = (x_lo + x_hi) / 2
    left, right = (m - (x_lo + 3 * sigma)) / k, ((x_hi - 3 * sigma) - m) / k
    assert sp.simplify(left - right) == 0   # the interval is symmetric about the midpoint
    return sp.factor(left)


def printed_half_width():
    """(x_{i+1} - x_i - 3 sigma) / (2k), as printed in Theorem 3.4 / C.7."""
    return (x_hi - x_lo - 3 * sigma) / (2 * k)


def interval_probability(centre, half_width):
    """P(Z in [centre - a, centre + a]) = Phi(centre + a) - Phi(centre - a), Z ~ N(0, 1)."""
    return Phi(centre + half_width) - Phi(centre - half_width)


def derived_bound_term():
    """One term of the mode-mixture lower bound as the proof's argument gives it."""
    return interval_probability(c, preimage_half_width())


def printed_bound_term():
    """One term of the printed lower bound of Theorem 3.4 (c stands for Phi^{-1}(Psi(m_i)))."""
    return Phi(c + printed_half_width()) - Phi(c - printed_half_width())


def _separated_point(rnd: random.Random) -> dict:
    """x_{i+1} - x_i >= 6 sigma, as Theorem 3.4 assumes."""
    s = sp.Rational(rnd.randint(2, 12), 4)
    lo = sp.Rational(rnd.randint(-16, 16), 4)
    return {sigma: s, x_lo: lo, x_hi: lo + 6 * s + sp.Rational(rnd.randint(0, 24), 4),
            k: sp.Rational(rnd.randint(2, 40), 4), c: sp.Rational(rnd.randint(-8, 8), 4)}


@REGISTRY.claim(
    "thm-3.4", source="Theorem 3.4, Section 3.2 (= Theorem C.7, proof in Appendix C.8)",
    title="mode-mixture probability lower bound for increasing generators with sup g' <= k",
    section="3.2 Evolution of steepness",
    assumptions=("n = 1", "p_data = (1/N) sum_i N(x_i, sigma^2), x_1 < ... < x_N, gaps >= Delta = 6 sigma",
                 "g increasing, sup g' <= k",
                 "midpoint condition g^{-1}(m_i) = Phi^{-1}(Psi(m_i)), m_i = (x_i + x_{i+1})/2",
                 "c stands for Phi^{-1}(Psi(m_i))"),
    note="Differs.  From g increasing with g' <= k, g^{-1}(b) - g^{-1}(a) >= (b - a)/k; the interval "
         "[x_i + 3 sigma, x_{i+1} - 3 sigma] reaches (x_{i+1} - x_i - 6 sigma)/2 on each side of m_i, so the "
         "preimage contains c_i +- (x_{i+1} - x_i - 6 sigma)/(2k), not c_i +- (x_{i+1} - x_i - 3 sigma)/(2k) "
         "as printed.  The printed bound is larger than what the argument gives, and it is false: the "
         "piecewise-linear map with slope exactly k through the midpoints attains the derived bound, which is "
         "strictly below the printed one (numerical evidence, with the counterexample).  The qualitative "
         "conclusion (mode mixture is at least a positive amount that grows as k decreases) survives with "
         "the corrected width (x_{i+1} - x_i - 6 sigma)/(2k).")
def mode_mixture_bound():
    m = (x_lo + x_hi) / 2
    return [
        Part("lower_end_preimage", derived=c - preimage_half_width(), printed=c - printed_half_width(),
             domain=_separated_point, equation=r"\max g^{-1}(x_i + 3\sigma)"),
        Part("upper_end_preimage", derived=c + preimage_half_width(), printed=c + printed_half_width(),
             domain=_separated_point, equation=r"\min g^{-1}(x_{i+1} - 3\sigma)"),
        Part("bound_term", derived=derived_bound_term(), printed=printed_bound_term(),
             domain=_separated_point, equation=r"P(g(Z) \in [x_i+3\sigma, x_{i+1}-3\sigma])"),
        Part("interval_length", derived=sp.expand((x_hi - 3 * sigma) - (x_lo + 3 * sigma)),
             equation=r"|[x_i+3\sigma, x_{i+1}-3\sigma]|"),
        Part("midpoint_offset", derived=sp.simplify(m - (x_lo + 3 * sigma)), equation=r"m_i - (x_i + 3\sigma)"),
    ]


def _two_mode_point(rnd):
    """Random rational (sigma, x >= 3 sigma, k) for the N = 2 comparison."""
    s = sp.Rational(rnd.randint(2, 12), 4)
    return {sigma: s, xm: 3 * s + sp.Rational(rnd.randint(0, 24), 4), k: sp.Rational(rnd.randint(2, 40), 4)}


@REGISTRY.claim(
    "thm-c.7", source="Theorem C.7, Appendix C.8 (closing remark: N = 2, -x_1 = x_2 = x)",
    title="two symmetric modes: the mode-mixture bound Phi((2x - 3 sigma)/(2k)) - Phi(-(2x - 3 sigma)/(2k))",
    section="3.2 Evolution of steepness",
    assumptions=("N = 2, x_1 = -x, x_2 = x, x >= 3 sigma (Delta = 6 sigma)", "g increasing, sup g' <= k",
                 "midpoint condition g^{-1}(0) = Phi^{-1}(Psi(0)) = 0"),
    note="The simplification of the general printed formula is right (Psi(0) = 1/2, so Phi^{-1}(Psi(0)) = 0 and "
         "the term is 2 Phi(a) - 1).  The bound inherits the error of Theorem 3.4: the argument gives "
         "a = (x - 3 sigma)/k = (2x - 6 sigma)/(2k), not (2x - 3 sigma)/(2k).  The linear map g(z) = k z "
         "satisfies every assumption and has mode-mixture probability exactly 2 Phi((x - 3 sigma)/k) - 1, "
         "below the printed bound; the conclusion survives with the corrected width.")
def mode_mixture_two_modes():
    subs = {x_lo: -xm, x_hi: xm}
    centre = sp.simplify(Phi_inv(mixture_cdf(sp.Integer(0), (-xm, xm), sigma)))
    from_printed = printed_bound_term().subs(subs).subs(c, centre)
    from_argument = derived_bound_term().subs(subs).subs(c, centre)
    printed = Phi((2 * xm - 3 * sigma) / (2 * k)) - Phi(-(2 * xm - 3 * sigma) / (2 * k))

    return [
        Part("midpoint_preimage", derived=centre, printed=sp.Integer(0), equation=r"\Phi^{-1}(\Psi(0))"),
        Part("simplification_of_printed", derived=from_printed, printed=printed, domain=_two_mode_point,
             equation=r"\text{Theorem C.7 at } N=2"),
        Part("bound", derived=from_argument, printed=printed, domain=_two_mode_point,
             equation=r"P(g(Z) \in [-x+3\sigma, x-3\sigma])"),
        Part("two_phi_minus_one", derived=sp.simplify(from_argument - (2 * Phi((xm - 3 * sigma) / k) - 1)),
             equation=r"\text{bound} - (2\Phi(a) - 1)"),
    ]
