"""Background results on GAN objectives, as stated in the background notes of the paper.

Sources (folder ``paper/background``):
  000 = 000_d15a155f05239aa8.txt "Supplementary Questions", Question 1, equations (1)-(5);
  001 = 001_4c8014297a82d3b2.txt "Short Notes on GAN Training Stability", Sections 2-5, 9 and A.1;
  002 = 002_e6e95a4042b30f7d.txt "Understanding Mode Collapse in GANs", Sections 3 and 5, equations (2)-(7).

Densities are handled pointwise (positive symbols p, q for p_data(x), p_g(x)) where a
statement is pointwise, and by exact integration over concrete families (uniform laws,
Gaussians via ``sympy.stats``) where it is about integrals.
"""
from __future__ import annotations

import random

import sympy as sp
from sympy import stats

from ganphase.theory.claims import REGISTRY, Part
from ganphase.theory.fields import optimal_discriminator as d_star_of
from ganphase.theory.symbols import mu, sigma, x

SECTION = "Background"
p, q = sp.symbols("p q", positive=True)              # p_data(x), p_g(x) at one point
D = sp.Symbol("D", positive=True)                    # a discriminator value in (0, 1)
a = sp.Symbol("a", real=True)                        # the discriminator logit, D = sigmoid(a)
c = sp.Symbol("c", positive=True)                    # a width parameter
m_q = sp.Symbol("m", real=True)                      # mean of the Gaussian model q
s_q = sp.Symbol("s_q", positive=True)                # standard deviation of the Gaussian model q

NOTE_000 = "background note 000_d15a155f05239aa8.txt"
NOTE_001 = "background note 001_4c8014297a82d3b2.txt"
NOTE_002 = "background note 002_e6e95a4042b30f7d.txt"


def sigmoid(t):
    return 1 / (1 + sp.exp(-t))


def pointwise_value(pd, pg):
    """pd log D + pg log(1 - D): the GAN value function's integrand at one point, as a function of D = D(x)."""
    return pd * sp.log(D) + pg * sp.log(1 - D)


def optimal_discriminator_value(pd, pg):
    """argmax_D pd log D + pg log(1 - D): the stationary point of ``pointwise_value`` in D."""
    return sp.solve(sp.diff(pointwise_value(pd, pg), D), D)[0]


# ================================================================= optimal discriminator
@REGISTRY.claim(
    "bg-optimal-discriminator", source=f"{NOTE_000}, eq. (2); {NOTE_001}, Section 2",
    title="the optimal discriminator D*(x) = p_data(x)/(p_data(x) + p_g(x))", section=SECTION,
    assumptions=("G fixed", "the value function is maximised pointwise in D(x) in (0, 1)"))
def optimal_discriminator():
    d_star = optimal_discriminator_value(p, q)
    curvature = sp.simplify(sp.diff(pointwise_value(p, q), D, 2).subs(D, d_star))
    return [
        Part("D*", derived=d_star, printed=p / (p + q), equation="D^*(x)"),
        Part("sign of the second derivative at D* (a maximum)", derived=sp.sign(curvature), printed=sp.Integer(-1),
             equation=r"\operatorname{sign}\partial_D^2 V"),
    ]


# ================================================================= V(G, D*) = -log 4 + 2 JS
def _kl_uniform_pieces(pieces_p, pieces_q):
    """int p log(p / q) (KL(P || Q) for densities); p, q piecewise constant on the same intervals [(lo, hi, value)]."""
    total = 0
    for (lo, hi, vp), (lo_q, hi_q, vq) in zip(pieces_p, pieces_q, strict=True):
        if (lo, hi) != (lo_q, hi_q):
            raise ValueError(f"pieces of p and q must share their intervals, got [{lo}, {hi}] and [{lo_q}, {hi_q}]")
        if vp != 0:
            total += sp.integrate(vp * sp.log(vp / vq), (x, lo, hi))
    return total


def _js_pieces(pieces_p, pieces_q):
    """JS(P, Q) = KL(P || M)/2 + KL(Q || M)/2, M = (P + Q)/2, from the definition."""
    mid = [(lo, hi, (vp + vq) / 2) for (lo, hi, vp), (_, _, vq) in zip(pieces_p, pieces_q)]
    return (_kl_uniform_pieces(pieces_p, mid) + _kl_uniform_pieces(pieces_q, mid)) / 2


@REGISTRY.claim(
    "bg-value-js", source=f"{NOTE_000}, eq. (3); {NOTE_001}, Section 2",
    title="V(G, D*) = -log 4 + 2 JS(p_data || p_g)", section=SECTION,
    assumptions=("D = D* (bg-optimal-discriminator)", "p_data and p_g are probability densities"),
    note="Checked pointwise (the integrand identity, which integrates to the claim because both densities "
         "integrate to 1) and exactly for p_data = U(0, 1), p_g = U(0, c), c > 1.")
def value_js():
    d_star = d_star_of(p, q)
    mid = (p + q) / 2
    integrand = p * sp.log(d_star) + q * sp.log(1 - d_star)
    printed_integrand = -(p + q) / 2 * sp.log(4) + p * sp.log(p / mid) + q * sp.log(q / mid)
    # U(0, 1) against U(0, c): pieces [0, 1] and [1, c]
    pd = [(0, 1, sp.Integer(1)), (1, c, sp.Integer(0))]
    pg = [(0, 1, 1 / c), (1, c, 1 / c)]
    total = [(lo, hi, vp + vq) for (lo, hi, vp), (_, _, vq) in zip(pd, pg)]
    value = _kl_uniform_pieces(pd, total) + _kl_uniform_pieces(pg, total)  # int p log D* + q log(1 - D*)
    return [
        Part("integrand p log D* + q log(1 - D*)", derived=integrand, printed=printed_integrand,
             equation=r"p\log D^* + q\log(1 - D^*)"),
        Part("V(G, D*) for U(0,1) vs U(0,c)", derived=sp.simplify(value),
             printed=-sp.log(4) + 2 * _js_pieces(pd, pg), equation=r"V(G, D^*)"),
    ]


# ================================================================= JS of disjoint supports
@REGISTRY.claim(
    "bg-js-disjoint", source=f"{NOTE_000}, eq. (4); {NOTE_001}, Section 2 (first property of JS)",
    title="JS(p_data || p_g) = log 2 when the supports are disjoint", section=SECTION,
    assumptions=("supp p_data and supp p_g disjoint",),
    note="Derived pointwise (on supp p, q = 0 and M = p/2) and for p = U(0, c), q = U(c + 1, c + 2).")
def js_disjoint():
    pointwise = sp.simplify(p * sp.log(p / ((p + 0) / 2)) / p)       # KL(P||M) integrand per unit of p mass
    pd = [(0, c, 1 / c), (c, c + 1, sp.Integer(0)), (c + 1, c + 2, sp.Integer(0))]
    pg = [(0, c, sp.Integer(0)), (c, c + 1, sp.Integer(0)), (c + 1, c + 2, sp.Integer(1))]
    return [
        Part("log(p / M) on supp p", derived=pointwise, printed=sp.log(2), equation=r"\log\frac{p}{(p+q)/2}\big|_{q=0}"),
        Part("JS(U(0,c) || U(c+1,c+2))", derived=sp.simplify(_js_pieces(pd, pg)), printed=sp.log(2),
             equation=r"\mathrm{JS}"),
    ]


# ================================================================= non-saturating loss under D*
@REGISTRY.claim(
    "bg-ns-loss", source=f"{NOTE_001}, Sections 2, 5 and 9",
    title="-E_{p_g} log D* = E_{p_g} log(1 + p_g/p_data); an unvisited mode contributes 0", section=SECTION,
    assumptions=("D = D*", "p_data > 0 where p_g > 0"))
def ns_loss():
    neg_log_d = sp.expand_log(-sp.log(d_star_of(p, q)), force=True)
    # the unvisited mode: the limit p_g -> 0 of the derived integrand p_g (-log D*), not of the printed one
    return [
        Part("-log D*", derived=neg_log_d, printed=sp.log(1 + q / p), equation=r"-\log D^*(x)"),
        Part("p_g log(1 + p_g/p_data) as p_g -> 0", derived=sp.limit(q * neg_log_d, q, 0, "+"),
             printed=sp.Integer(0), equation=r"\lim_{p_g \to 0} p_g\log(1 + p_g/p_{data})"),
    ]


# ================================================================= logit gradients
@REGISTRY.claim(
    "bg-logit-gradients", source=f"{NOTE_001}, Appendix A.1",
    title="d/da log(1 - sigmoid(a)) = -sigmoid(a) and d/da(-log sigmoid(a)) = sigmoid(a) - 1", section=SECTION,
    assumptions=("D(x) = sigmoid(a(x)), a the discriminator logit",),
    note="Limits a -> -oo: the minimax gradient vanishes (0), the non-saturating one tends to -1.")
def logit_gradients():
    minimax = sp.diff(sp.log(1 - sigmoid(a)), a)
    ns = sp.diff(-sp.log(sigmoid(a)), a)
    return [
        Part("d l_min / da", derived=sp.simplify(minimax), printed=-sigmoid(a), equation=r"\partial_a \ell_{\min}"),
        Part("d l_ns / da", derived=sp.simplify(ns), printed=sigmoid(a) - 1, equation=r"\partial_a \ell_{ns}"),
        Part("d l_min / da as a -> -oo", derived=sp.limit(minimax, a, -sp.oo), printed=sp.Integer(0),
             equation=r"\lim_{a\to-\infty}\partial_a \ell_{\min}"),
        Part("d l_ns / da as a -> -oo", derived=sp.limit(ns, a, -sp.oo), printed=sp.Integer(-1),
             equation=r"\lim_{a\to-\infty}\partial_a \ell_{ns}"),
    ]


# ================================================================= forward / reverse KL on two Gaussians
def two_gaussian_expectation(expr):
    """E_p[expr(x)] for p = N(-mu, sigma^2)/2 + N(mu, sigma^2)/2 (sympy.stats, exact)."""
    left, right = stats.Normal("L", -mu, sigma), stats.Normal("R", mu, sigma)
    expectation = lambda e: sp.simplify((stats.E(e.subs(x, left)) + stats.E(e.subs(x, right))) / 2)   # noqa: E731
    if expectation(sp.Integer(1)) != 1:
        raise ValueError("the two-Gaussian mixture must be a probability law (E_p[1] = 1)")
    return expectation(expr)


def gaussian_log_density(t, mean, sd):
    return -sp.log(2 * sp.pi * sd ** 2) / 2 - (t - mean) ** 2 / (2 * sd ** 2)


def forward_kl_optimum():
    """(m, s_q^2) minimising KL(p || N(m, s_q^2)) = const - E_p log q: the stationary point of E_p log q."""
    cross = two_gaussian_expectation(sp.expand(gaussian_log_density(x, m_q, s_q)))
    var = sp.Symbol("v", positive=True)
    cross_v = cross.subs(s_q, sp.sqrt(var))
    m_opt = sp.solve(sp.diff(cross_v, m_q), m_q)[0]
    v_opt = sp.solve(sp.diff(cross_v.subs(m_q, m_opt), var), var)[0]
    return sp.simplify(m_opt), sp.simplify(v_opt)


@REGISTRY.claim(
    "bg-forward-kl-two-gaussian", source=f"{NOTE_001}, Section 3.3 (first bullet)",
    title="forward KL(p || N(m, s^2)) to p = N(-mu, sigma^2)/2 + N(mu, sigma^2)/2: m = 0, s inflated", section=SECTION,
    assumptions=("mu > 0", "model class: one Gaussian N(m, s^2)"),
    note="The optimum is moment matching: m = 0 and s^2 = mu^2 + sigma^2 > sigma^2 (derived; the note prints "
         "'m ~ 0' and 's inflated').")
def forward_kl_two_gaussian():
    m_opt, v_opt = forward_kl_optimum()
    return [
        Part("m*", derived=m_opt, printed=sp.Integer(0), equation="m^*"),
        Part("s*^2", derived=v_opt, equation="{s^*}^2"),
        Part("sign(s* - sigma) (inflated)", derived=sp.sign(sp.simplify(sp.sqrt(v_opt) - sigma)),
             printed=sp.Integer(1), equation=r"\operatorname{sign}(s^* - \sigma)"),
    ]


def _separated_point(rnd: random.Random) -> dict:
    """mu = k sigma with k in [3, 10]: the separated regime the note speaks of."""
    sd = sp.Rational(rnd.randint(1, 12), 4)
    point = {sigma: sd, mu: sd * sp.Rational(rnd.randint(12, 40), 4)}
    if not 3 <= point[mu] / sd <= 10:   # the part's sign is derived for mu >= 3 sigma (see the claim's note)
        raise ValueError(f"mu / sigma = {point[mu] / sd} is outside the separated regime [3, 10]")
    return point


def reverse_kl_broad_fit():
    """The symmetric stationary point of KL(N(m, s^2) || p): m = 0 (p is even, so KL is even in m) and s_b.

    In the separated limit log p(x) ~ log N(|x|; mu, sigma^2) - log 2 (the dropped term
    log(1 + exp(-2 mu |x| / sigma^2)) is positive and small away from 0); E_q is taken by sympy.stats.
    Returns (KL(N(0, s^2) || p) in that limit, s_b > 0).
    """
    q0 = stats.Normal("Q0", 0, s_q)
    log_p_separated = gaussian_log_density(sp.Abs(q0), mu, sigma) - sp.log(2)
    kl = sp.simplify(stats.E(sp.expand(gaussian_log_density(q0, 0, s_q) - log_p_separated)))
    s_b = [v for v in sp.solve(sp.diff(kl, s_q), s_q) if v.subs({mu: 3, sigma: 1}).is_positive][0]
    return kl, s_b


@REGISTRY.claim(
    "bg-reverse-kl-two-gaussian", source=f"{NOTE_001}, Section 3.3 (second bullet)",
    title="reverse KL(N(m, s^2) || p) locks onto one mode: m ~ +-mu, small s", section=SECTION,
    assumptions=("mu >> sigma (separated modes)", "model class: one Gaussian N(m, s^2)"),
    note="Two stationary regimes are derived in the separated limit.  Mode-seeking: near +mu, p ~ N(mu, sigma^2)/2, "
         "so KL(q||p) ~ KL(q||N(mu, sigma^2)) + log 2, stationary at m = mu, s = sigma with value log 2.  Broad: p is "
         "even, so m = 0 is stationary for every s, and with log p ~ log N(|x|; mu, sigma^2) - log 2 the width is "
         "s_b = (mu + sqrt(mu^2 + 2 pi sigma^2))/sqrt(2 pi) > mu sqrt(2/pi), covering both modes.  Its KL exceeds log 2 "
         "for mu >= 3 sigma (part sign(KL_broad - KL_mode)), so the mode-seeking fit is the global one, as the "
         "note says.  The numerical evidence minimises the exact KL from both starting points.")
def reverse_kl_two_gaussian():
    model = stats.Normal("Q", m_q, s_q)
    kl = sp.simplify(stats.E(gaussian_log_density(model, m_q, s_q) - gaussian_log_density(model, mu, sigma)
                             + sp.log(2)))
    m_opt = sp.solve(sp.diff(kl, m_q), m_q)[0]
    s_opt = [v for v in sp.solve(sp.diff(kl.subs(m_q, m_opt), s_q), s_q) if v.is_positive][0]
    kl_mode = sp.simplify(kl.subs({m_q: m_opt, s_q: s_opt}))
    kl_broad, s_b = reverse_kl_broad_fit()
    return [
        Part("m* (separated limit)", derived=m_opt, printed=mu, equation="m^*"),
        Part("s* (separated limit)", derived=s_opt, equation="s^*"),
        Part("KL at the optimum (separated limit)", derived=kl_mode, equation=r"\mathrm{KL}(q^*\|p)"),
        Part("s_b (broad stationary point, m = 0)", derived=s_b, equation="s_b"),
        Part("KL at the broad stationary point", derived=sp.simplify(kl_broad.subs(s_q, s_b)),
             equation=r"\mathrm{KL}(q_b\|p)"),
        Part("sign(KL_broad - KL_mode) (the mode-seeking fit is the global one)",
             derived=sp.sign(sp.simplify(kl_broad.subs(s_q, s_b) - kl_mode)), printed=sp.Integer(1),
             domain=_separated_point, equation=r"\operatorname{sign}(\mathrm{KL}_b - \mathrm{KL}^*)"),
        Part("sign(s*^2 - forward s*^2) (smaller than the forward fit)",
             derived=sp.sign(sp.simplify(s_opt ** 2 - forward_kl_optimum()[1])), printed=sp.Integer(-1),
             equation=r"\operatorname{sign}(s^{*2}_{rev} - s^{*2}_{fwd})"),
    ]


# ================================================================= KL decompositions
def _gaussian_kl_terms():
    """For p = N(mu, sigma^2) and q = N(m, s_q^2): KL(p||q), H(p), E_p[-log q], KL(q||p), H(q), E_q[-log p]."""
    P, Q = stats.Normal("P", mu, sigma), stats.Normal("Q", m_q, s_q)
    log_p = lambda t: gaussian_log_density(t, mu, sigma)   # noqa: E731
    log_q = lambda t: gaussian_log_density(t, m_q, s_q)    # noqa: E731
    E = lambda e: sp.simplify(stats.E(sp.expand(e)))       # noqa: E731
    return dict(kl_pq=E(log_p(P) - log_q(P)), h_p=E(-log_p(P)), ce_pq=E(-log_q(P)),
                kl_qp=E(log_q(Q) - log_p(Q)), h_q=E(-log_q(Q)), ce_qp=E(-log_p(Q)))


@REGISTRY.claim(
    "bg-kl-decomposition", source=f"{NOTE_001}, Sections 3.1, 3.2 and 4; {NOTE_002}, Section 5, eqs. (5)-(7)",
    title="KL(p||q) = -H(p) + E_p[-log q] (forward) and KL(q||p) = -H(q) - E_q[log p] (reverse)", section=SECTION,
    assumptions=("H(p) = -int p log p, the differential entropy",),
    note="Checked exactly on Gaussians p = N(mu, sigma^2), q = N(m, s_q^2).  Note 002, eq. (6), prints "
         "H(p_data) + E[-log p_g]: the entropy with the wrong sign (its eq. (5), int p log p - int p log q, "
         "is right, and int p log p = -H(p)).")
def kl_decomposition():
    t = _gaussian_kl_terms()
    return [
        Part("forward: int p log p - E_p log q (note 001, 3.1 and 4; note 002, eq. 5)", derived=t["kl_pq"],
             printed=-t["h_p"] + t["ce_pq"], equation=r"\mathrm{KL}(p\|q)"),
        Part("forward: H(p) + E_p[-log q] (note 002, eq. 6)", derived=t["kl_pq"], printed=t["h_p"] + t["ce_pq"],
             equation=r"\mathrm{KL}(p\|q)"),
        Part("reverse: -H(q) - E_q log p (note 001, 3.2; note 002, eq. 7)", derived=t["kl_qp"],
             printed=-t["h_q"] + t["ce_qp"], equation=r"\mathrm{KL}(q\|p)"),
    ]
