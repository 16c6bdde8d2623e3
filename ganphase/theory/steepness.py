"""Steepness of measure-preserving maps (Section 3.2; Appendices C.4, C.5, C.6).

* ``thm-c.2``: every 1-D map g with g#N(0,1) = p_data is Psi^{-1} o h o Phi with
  h measure-preserving for U(0,1) (Theorem C.2).  Derived here: the
  change-of-variables density of Psi^{-1} o h o Phi for h(u) = u, h(u) = 1 - u
  and the two-branch doubling map h(u) = 2u mod 1, and the steepness of the
  optimal-transport map g' = phi(z) / p_data(g(z)) by implicit differentiation
  of Psi(g(z)) = Phi(z).
* ``thm-3.1``: the 1-D lower bound on the steepness of g = Psi^{-1} o Phi
  (Theorem 3.1, proof in C.5), step by step.
* ``thm-3.2``: the n-D lower bound M for maps pushing the truncated Gaussian
  N_r(0, I_n) on the ball B_r to p_data (Theorem 3.2, proof in C.6), step by
  step, including the proof's claim that g_1 = (Phi_r, ..., Phi_r) pushes
  N_r(0, I_n) to the uniform law on (0,1)^n.

The inequalities themselves get their truth from numerical evidence
(``ganphase.simulate.evidence.steepness``); the closed forms of the bounds are
exported here (``printed_bound_1d``, ``printed_bound_nd``) so numerics never
retype them.
"""
import random

import sympy as sp

from ganphase.theory.claims import REGISTRY, Part
from ganphase.theory.symbols import k, n, sigma, x, y, z

# ----------------------------------------------------------------- symbols of this module
r_ball = sp.Symbol("r", positive=True)           # radius of the truncation ball B_r
q = sp.Symbol("q", nonnegative=True)             # the (1 - 1/N) quantile of N(0, 1)
delta = sp.Symbol("delta", positive=True)        # lower bound of Phi_r' (Theorem 3.2)
D = sp.Symbol("D", nonnegative=True)             # min_i ||lambda xbar - x_i||_2
x_lo, x_hi = sp.symbols("x_i x_ip1", real=True)  # neighbouring mode centres x_i < x_{i+1}
u, v = sp.symbols("u v", positive=True)          # points of (0, 1)
s_r = sp.Symbol("s", positive=True)              # a radius

p_data = sp.Function("p_data", positive=True)    # density of the data
Psi = sp.Function("Psi", positive=True)          # its CDF
g = sp.Function("g", real=True)                  # a generator


# ----------------------------------------------------------------- the standard normal
def Phi(t):
    """CDF of N(0, 1): (1 + erf(t / sqrt 2)) / 2."""
    return (1 + sp.erf(t / sp.sqrt(2))) / 2


def phi(t):
    """Density of N(0, 1): exp(-t^2/2) / sqrt(2 pi)."""
    return sp.exp(-t**2 / 2) / sp.sqrt(2 * sp.pi)


def Phi_inv(p):
    """Quantile of N(0, 1): sqrt(2) erfinv(2p - 1)."""
    return sp.sqrt(2) * sp.erfinv(2 * p - 1)


def mixture_cdf(t, centres, s):
    """Psi(t) = (1/N) sum_i Phi((t - x_i)/sigma): the CDF of Assumption 2.1 in 1-D."""
    return sum(Phi((t - c) / s) for c in centres) / len(centres)


def _push_forward_density(inverse, at):
    """Density of T(Z), Z ~ N(0,1), at ``at`` for T monotone with inverse ``inverse(at)``: phi(T^-1) |(T^-1)'|."""
    w = sp.Dummy("w", real=True)   # erfinv of a point of (-1, 1) is real
    slope = sp.diff(inverse, at).subs(sp.Derivative(Psi(at), at), p_data(at))
    erfinvs = {e: w for e in slope.atoms(sp.erfinv)}
    expr = phi(inverse.subs(erfinvs)) * sp.Abs(slope.subs(erfinvs))
    return sp.simplify(expr).subs({w: e for e in erfinvs})


def _simplify_positive(expr):
    return sp.simplify(sp.powsimp(sp.expand_power_base(expr, force=True), force=True))


# ================================================================= Theorem C.2
def chi2_gaussian_fold():
    """h(u) = F_{chi^2_1}(Phi^{-1}(u)^2) for the two-to-one map S(z) = Phi^{-1}(F_{chi^2_1}(z^2)).

    Z^2 ~ chi^2_1 for Z ~ N(0, 1), so S pushes N(0, 1) to itself and g = Psi^{-1} o Phi o S pushes it to
    p_data without being monotone; Theorem C.2 then says h = Psi o g o Phi^{-1} preserves U(0, 1).
    The chi^2_1 CDF comes from sympy.stats.
    """
    from sympy.stats import ChiSquared, cdf

    t, w = sp.Symbol("t", nonnegative=True), sp.Symbol("w", real=True)
    fold = sp.simplify(cdf(ChiSquared("X", 1))(t).subs(t, w**2))
    return fold.subs(w, Phi_inv(u))


def _branch_density(h_expr):
    """Density of h(U), U ~ U(0, 1), at v: sum over the monotone branches of h of |(h^{-1})'(v)|."""
    total = 0
    for sign in (1, -1):   # the two branches of |Phi^{-1}(u)|, u < 1/2 and u > 1/2
        branch = sp.simplify(h_expr.replace(sp.Abs, lambda arg: sign * arg))
        (inverse,) = sp.solve(sp.Eq(branch, v), u)
        total += sp.Abs(sp.diff(inverse, v))
    return sp.simplify(total)


@REGISTRY.claim(
    "thm-c.2", source="Theorem C.2, Appendix C.4 (used in Section 3.2)",
    title="1-D measure-preserving maps are Psi^{-1} o h o Phi with h measure-preserving for U(0,1)",
    section="3.2 Evolution of steepness",
    assumptions=("n = 1", "p_z = N(0, 1)", "p_data has a continuous positive density (its CDF Psi is invertible)",
                 "g # N(0, 1) = p_data"),
    note="Checked in the direction stated (if g pushes N(0,1) to p_data then h = Psi o g o Phi^{-1} preserves U(0,1)). "
         "Monotone g: the change of variables p_data(g(z)) g'(z) = phi(z) integrates to Psi(g(z)) = Phi(z) "
         "(increasing) or 1 - Phi(z) (decreasing), so the monotone solutions are unique: h = id or h(u) = 1 - u. "
         "Non-monotone solutions exist: g = Psi^{-1} o Phi o S with S(z) = Phi^{-1}(F_{chi^2_1}(z^2)) (two-to-one) "
         "gives the tent map h(u) = |2u - 1|, which preserves U(0,1).  The evidence builds g without the "
         "theorem's formula (scipy's chi^2 and a bisected quantile), checks g # N(0,1) = p_data and that "
         "Psi o g o Phi^{-1} preserves U(0,1).  The steepness of g = Psi^{-1} o Phi is g'(z) = phi(z)/p_data(g(z)) "
         "(implicit differentiation; used, not printed, by the paper).")
def measure_preserving_maps():
    t = sp.Symbol("t", real=True)
    # g increasing: d/dz Psi(g(z)) = p_data(g(z)) g'(z) = phi(z), Psi(g(-oo)) = 0
    increasing = sp.integrate(phi(t), (t, -sp.oo, z))
    # g decreasing: d/dz Psi(g(z)) = -phi(z), Psi(g(+oo)) = 0
    decreasing = sp.integrate(phi(t), (t, z, sp.oo))
    fold = chi2_gaussian_fold()
    # h = identity: g^{-1} = Phi^{-1} o Psi (the converse, for reference)
    identity = _push_forward_density(Phi_inv(Psi(x)), x)
    # steepness of the optimal-transport map: differentiate Psi(g(z)) = Phi(z) in z
    gp = sp.Symbol("gp")
    identity_in_z = sp.diff(Psi(g(z)), z).subs(sp.Derivative(g(z), z), gp) - sp.diff(Phi(z), z)
    identity_in_z = identity_in_z.replace(
        lambda e: isinstance(e, sp.Derivative) and e.expr.func == Psi, lambda e: p_data(e.expr.args[0]))
    slope = sp.solve(identity_in_z, gp)[0]
    return [
        Part("increasing g: Psi(g(z)) = h(Phi(z)) with h = id", derived=increasing, printed=Phi(z),
             equation=r"\Psi(g(z)),\ g \uparrow"),
        Part("decreasing g: Psi(g(z)) = h(Phi(z)) with h(u) = 1 - u", derived=decreasing, printed=1 - Phi(z),
             equation=r"\Psi(g(z)),\ g \downarrow"),
        Part("two-to-one g: h = Psi o g o Phi^{-1}", derived=fold, equation=r"h(u)"),
        Part("two-to-one g: h preserves U(0,1)", derived=_branch_density(fold), printed=sp.Integer(1),
             equation=r"p_{h_\# U(0,1)}(v)"),
        Part("push_forward_h_identity", derived=sp.simplify(identity), printed=p_data(x),
             equation=r"p_{(\Psi^{-1}\circ\Phi)_\# N(0,1)}(x)"),
        Part("ot_map_slope", derived=sp.simplify(slope), equation=r"g'(z)"),
    ]


def ot_slope():
    """g'(z) = phi(z) / p_data(g(z)) for g = Psi^{-1} o Phi (derived in ``thm-c.2``)."""
    return REGISTRY["thm-c.2"].derived("ot_map_slope")


# ================================================================= Theorem 3.1 / C.3
def _inverse_map_slope_printed(psi, t):
    """(g^{-1})'(y) = Psi'(y) / Phi'(Phi^{-1}(Psi(y))), first line of the proof in C.5."""
    return sp.diff(psi, t) / phi(Phi_inv(psi))


def printed_bound_1d():
    """sigma exp((x_{i+1} - x_i)^2 / (8 sigma^2)) exp(-q^2): one term of the min in Theorem 3.1."""
    return sigma * sp.exp((x_hi - x_lo)**2 / (8 * sigma**2)) * sp.exp(-q**2)


def _moderate_point(rnd: random.Random) -> dict:
    """Check point with the CDF away from 0 and 1 (so erfinv is evaluated well inside (-1, 1))."""
    c = [sp.Rational(rnd.randint(-8, 8), 4) for _ in range(3)]
    return {sp.Symbol("x1", real=True): c[0], sp.Symbol("x2", real=True): c[1],
            sp.Symbol("x3", real=True): c[2], y: sp.Rational(rnd.randint(-8, 8), 4),
            sigma: sp.Rational(rnd.randint(4, 12), 4)}


def implied_lower(derived, printed):
    """min(derived, printed): equals ``printed`` exactly when the printed lower bound is implied by the derived one."""
    return sp.Min(derived, printed)


def implied_upper(derived, printed):
    """max(derived, printed): equals ``printed`` exactly when the printed upper bound is implied by the derived one."""
    return sp.Max(derived, printed)


N_modes = sp.Symbol("N", integer=True, positive=True)   # number of modes


@REGISTRY.claim(
    "thm-3.1", source="Theorem 3.1, Section 3.2 (= Theorem C.3, proof in Appendix C.5)",
    title="steepness lower bound of the 1-D optimal-transport map Psi^{-1} o Phi",
    section="3.2 Evolution of steepness",
    assumptions=("n = 1", "p_data = (1/N) sum_i N(x_i, sigma^2) (Assumption 2.1), x_1 < ... < x_N",
                 "separation Delta = 6 sigma (not used by the argument)", "g = Psi^{-1} o Phi",
                 "q = Phi^{-1}(1 - 1/N)"),
    note="Each inequality of the proof is derived at the midpoint y = m_i = (x_i + x_{i+1})/2: the nearest centres "
         "are x_i and x_{i+1}, at distance (x_{i+1} - x_i)/2, so the N kernels sum to at most N exp(-(x_{i+1} - "
         "x_i)^2/(8 sigma^2)); the two neighbouring CDF terms add to exactly 1, so Psi(m_i) lies in [1/N, 1 - 1/N] and "
         "|Phi^{-1}(Psi(m_i))| <= q.  That gives exp(q^2/2) where the proof prints exp(q^2), and S_g >= sigma "
         "exp((x_{i+1} - x_i)^2/(8 sigma^2)) exp(-q^2/2) at g^{-1}(m_i) for every i, hence with max_i; the printed "
         "bound (min_i, exp(-q^2)) is implied (parts compared as 'printed bound implied').  The proof's 'for any y' "
         "holds only at the midpoints (at a mode centre (g^{-1})' is far larger); the separation Delta = 6 sigma is "
         "not needed.")
def steepness_1d():
    centres = sp.symbols("x1:4", real=True)
    psi = mixture_cdf(y, centres, sigma)
    inverse = Phi_inv(Psi(y))
    # step 1: derivative of g^{-1} = Phi^{-1} o Psi, by the chain rule
    step1 = sp.diff(inverse, y)
    # step 2: with the mixture CDF of Assumption 2.1 (N = 3)
    step2 = sp.diff(Phi_inv(psi), y)
    step2_printed = (sum(sp.exp(-(y - c)**2 / (2 * sigma**2)) for c in centres) / (3 * sigma)
                     * sp.exp(Phi_inv(psi)**2 / 2))
    # step 3 at the midpoint m_i: centres are sorted, so x_i and x_{i+1} are the nearest, the others farther
    m = (x_lo + x_hi) / 2
    nearest = sp.simplify(sp.Min(m - x_lo, x_hi - m))
    largest_kernel = sp.simplify(phi(nearest / sigma) * sp.sqrt(2 * sp.pi))   # K(m_i, x_i) sqrt(2 pi) sigma
    kernel_factor = N_modes * largest_kernel / (N_modes * sigma)      # (1/(N sigma)) sum_j K_j(m_i) <= this
    # both neighbours contribute Phi(+h) + Phi(-h) = 1 to N Psi(m_i); the other N - 2 terms lie in (0, 1)
    pair = sp.simplify(Phi((m - x_lo) / sigma) + Phi((m - x_hi) / sigma))
    psi_low, psi_high = pair / N_modes, (N_modes - 2 + pair) / N_modes
    # |Phi^{-1}(Psi(m_i))| <= Phi^{-1}(1 - 1/N) = q (Phi^{-1} is increasing and odd about 1/2)
    quantile_low, quantile_high = Phi_inv(psi_low), Phi_inv(psi_high)
    exp_factor = sp.simplify(1 / (sp.sqrt(2 * sp.pi) * phi(q)))   # exp(Phi^{-1}(Psi)^2 / 2) at |Phi^{-1}(Psi)| = q
    inv_slope_bound = kernel_factor * exp_factor
    # S_g(g^{-1}(m_i)) = 1 / (g^{-1})'(m_i)
    sharp = sp.simplify(1 / inv_slope_bound)
    printed_step4 = sp.exp(-(x_hi - x_lo)**2 / (8 * sigma**2)) * sp.exp(q**2) / sigma
    return [
        Part("inverse_map_slope", derived=step1, printed=_inverse_map_slope_printed(Psi(y), y),
             equation=r"(g^{-1})'(y)"),
        Part("inverse_map_slope_mixture", derived=step2, printed=step2_printed, domain=_moderate_point,
             equation=r"(g^{-1})'(y),\ N=3"),
        Part("midpoint_kernel", derived=largest_kernel,
             printed=sp.exp(-(x_hi - x_lo)**2 / (8 * sigma**2)), equation=r"K_\sigma(m_i, x_i)\sqrt{2\pi}\sigma"),
        Part("kernel_sum_bound", derived=kernel_factor,
             printed=N_modes * sp.exp(-(x_hi - x_lo)**2 / (8 * sigma**2)) / (N_modes * sigma),
             equation=r"\frac{1}{N\sigma}\sum_j K_j(m_i) \le"),
        Part("neighbour_cdf_pair", derived=pair, equation=r"\Phi(h)+\Phi(-h)"),
        Part("quantile_at_midpoint_symmetric", derived=sp.simplify(quantile_low + quantile_high),
             printed=sp.Integer(0), domain=_quantile_point, equation=r"\Phi^{-1}(1/N) + \Phi^{-1}(1 - 1/N)"),
        Part("quantile_at_midpoint_bound", derived=quantile_high, equation=r"|\Phi^{-1}(\Psi(m_i))| \le q"),
        Part("exp_factor (printed bound implied)", derived=implied_upper(exp_factor, sp.exp(q**2)),
             printed=sp.exp(q**2), equation=r"\exp(\Phi^{-1}(\Psi(m_i))^2/2) \le"),
        Part("inverse_slope_bound (printed bound implied)", derived=implied_upper(inv_slope_bound, printed_step4),
             printed=printed_step4, equation=r"(g^{-1})'(m_i) \le"),
        Part("bound (printed bound implied)", derived=implied_lower(sharp, printed_bound_1d()),
             printed=printed_bound_1d(), equation=r"\mathcal{S}_g(x_*) \ge"),
        Part("sharp_bound", derived=sharp, equation=r"\mathcal{S}_g(x_*)"),
    ]


def _quantile_point(rnd: random.Random) -> dict:
    return {N_modes: sp.Integer(rnd.randint(2, 12))}


# ================================================================= Theorem 3.2 / C.4
def ball_mass(dim: int, radius=r_ball):
    """P(||Z|| < r) for Z ~ N(0, I_dim): the normaliser of N_r(0, I_n), integrated in polar coordinates."""
    area = 2 * sp.pi**sp.Rational(dim, 2) / sp.gamma(sp.Rational(dim, 2))
    radial = sp.integrate(s_r**(dim - 1) * sp.exp(-s_r**2 / 2), (s_r, 0, radius))
    return sp.simplify(area * radial / (2 * sp.pi)**sp.Rational(dim, 2))


def _g1_push_forward_density(dim: int):
    """Density of g_1(Z) = (Phi_r(Z_1), ..., Phi_r(Z_n)), Z ~ N_r(0, I_n), on the image of the ball.

    p_z(z) / |det J_{g_1}(z)| with p_z = phi_n / P(B_r) and Phi_r' = phi / (2 Phi(r) - 1).
    """
    zs = sp.symbols(f"z1:{dim + 1}", real=True)
    p_z = sp.Mul(*[phi(t) for t in zs]) / ball_mass(dim)
    trunc_cdf = [(Phi(t) - Phi(-r_ball)) / (Phi(r_ball) - Phi(-r_ball)) for t in zs]
    det = sp.Mul(*[sp.diff(c, t) for c, t in zip(trunc_cdf, zs)])
    return sp.simplify(p_z / det)


def printed_bound_nd():
    """M = delta sigma sqrt(2 pi) exp(D^2 / (2 n sigma^2)), delta = exp(-r^2/2)/sqrt(2 pi) (Theorem 3.2).

    D = min_i ||lambda xbar - x_i||_2 at the maximising lambda in [0, 2]
    (min_i exp(d_i^2/(2 n sigma^2)) = exp(min_i d_i^2/(2 n sigma^2))).
    """
    d = sp.exp(-r_ball**2 / 2) / sp.sqrt(2 * sp.pi)
    return d * sigma * sp.sqrt(2 * sp.pi) * sp.exp(D**2 / (2 * n * sigma**2))


def _nd_point(rnd: random.Random) -> dict:
    return {r_ball: sp.Rational(rnd.randint(1, 16), 4), sigma: sp.Rational(rnd.randint(1, 16), 4),
            D: sp.Rational(rnd.randint(0, 16), 4), n: sp.Integer(rnd.randint(1, 6)),
            delta: sp.Rational(rnd.randint(1, 8), 8)}


def isotropic_kernel_at_distance(dim=n, dist=D):
    """(2 pi sigma^2)^{-n/2} exp(-dist^2/(2 sigma^2)): one component of Assumption 2.1 at distance ``dist``.

    Derived as the product of the n one-dimensional densities phi(t_j/sigma)/sigma, summed in log space
    over j = 1..n with sum_j t_j^2 = dist^2.
    """
    t, j = sp.IndexedBase("t"), sp.Symbol("j", integer=True, positive=True)
    log_terms = sp.Add.make_args(sp.expand(sp.expand_log(sp.log(phi(t[j] / sigma) / sigma), force=True)))
    total = 0
    for term in log_terms:
        if term.has(t):
            total += sp.simplify(term / t[j]**2) * dist**2   # sum_j c t_j^2 = c dist^2
        else:
            total += sp.Sum(term, (j, 1, dim)).doit()
    return sp.exp(total)


@REGISTRY.claim(
    "thm-3.2", source="Theorem 3.2, Section 3.2 (= Theorem C.4, proof in Appendix C.6)",
    title="steepness lower bound M for maps pushing the truncated Gaussian N_r(0, I_n) to p_data",
    section="3.2 Evolution of steepness",
    assumptions=("p_data = (1/N) sum_i N(x_i, sigma^2 I_n) (Assumption 2.1), x_i != 0",
                 "p_z = N_r(0, I_n), the standard Gaussian restricted to the ball B_r and renormalised",
                 "g: B_r -> R^n continuously differentiable, piecewise injective, g#p_z = p_data",
                 "delta = exp(-r^2/2)/sqrt(2 pi); D = min_i ||lambda xbar - x_i|| at the best lambda in [0, 2]"),
    note="The printed M follows from the proof's own printed steps (the 1/n power of the determinant bound "
         "gives the 2 n sigma^2 in the exponent and one factor sigma sqrt(2 pi) delta).  But one printed step "
         "is false: g_1 = (Phi_r, ..., Phi_r) does not push N_r(0, I_n) (truncated to the ball) to the uniform "
         "law on (0,1)^n for n >= 2; its density on the image is (2 Phi(r) - 1)^n / P(||Z|| < r) "
         "(parts g1_push_forward_uniform (n = 2) and (n = 3) differ).  The conclusion survives by a direct "
         "argument: |det J_g(z)| >= p_z(z) / p_data(g(z)) (Lemma C.2), p_z >= delta^n / P(||Z|| < r) >= delta^n "
         "(part det_bound_direct), so M holds at the preimage of any point at distance >= D from every mode.  "
         "Also note sup_z S_g(z) is infinite for every such g (a continuous map of the bounded ball onto a "
         "full-support law cannot be Lipschitz), so the existence statement is only informative at the "
         "proof's point g^{-1}(x_*), which the numerical evidence checks.")
def steepness_nd():
    # Phi_r' on (-r, r) is smallest at |t| = r: phi(r) / (2 Phi(r) - 1)
    t = sp.Symbol("t", real=True)
    trunc_slope = sp.diff((Phi(t) - Phi(-r_ball)) / (Phi(r_ball) - Phi(-r_ball)), t)
    g1_slope_min = sp.simplify(trunc_slope.subs(t, r_ball))
    delta_printed = sp.exp(-r_ball**2 / 2) / sp.sqrt(2 * sp.pi)
    # p_data at a point at distance >= D from every mode: the mean of N kernels, each at most the kernel at D
    kernel_max = sp.powsimp(isotropic_kernel_at_distance(), force=True)
    # |det J_g| = |det J_g2| |det J_g1| >= (1 / p_data(g_2(y_0))) delta^n   (Lemma C.2 and Phi_r' >= delta)
    det_bound = delta**n / kernel_max
    det_printed = (sp.sqrt(2 * sp.pi) * sigma * delta)**n * sp.exp(D**2 / (2 * sigma**2))
    # S_g = ||J_g||_2 >= |det J_g|^{1/n}  (|det A| is the product of n singular values, each <= ||A||_2)
    m_from_det = _simplify_positive((det_bound**(1 / n)).subs(delta, delta_printed))
    # the direct route: |det J_g(z)| = p_z(z)/p_data(g(z)) >= [phi_n(r e_1)/P(B_r)] / kernel_max
    normaliser = sp.Function("P_r", positive=True)(n, r_ball)
    direct = (isotropic_kernel_at_distance(n, r_ball).subs(sigma, 1) / normaliser) / kernel_max
    return [
        Part("g1_slope_min", derived=g1_slope_min, equation=r"\min_{|t|<r}\Phi_r'(t)"),
        Part("delta <= min Phi_r' (printed bound implied)", derived=sp.Min(g1_slope_min, delta_printed),
             printed=delta_printed, equation=r"\delta \le \min\Phi_r'"),
        *[Part(f"g1_push_forward_uniform (n = {d})", derived=_g1_push_forward_density(d), printed=sp.Integer(1),
               equation=r"p_{g_{1\#}p_z}\ (n = %d)" % d) for d in (1, 2, 3)],
        Part("kernel at distance D", derived=kernel_max,
             printed=sp.exp(-D**2 / (2 * sigma**2)) / (2 * sp.pi * sigma**2)**(n / 2), domain=_nd_point,
             equation=r"\hat f(\lambda\bar{\mathbf{x}}) \le"),
        Part("det_bound", derived=det_bound, printed=det_printed, domain=_nd_point,
             equation=r"|\det J_g(\mathbf{y}_0)|"),
        Part("M", derived=m_from_det, printed=printed_bound_nd(), domain=_nd_point, equation="M"),
        Part("det_bound_direct", derived=direct, equation=r"|\det J_g(\mathbf{z}_0)|"),
    ]
