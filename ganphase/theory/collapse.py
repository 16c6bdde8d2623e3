"""The collapse phase: the linear discriminator of Assumption 4.1 and the steepness drop (Section 4).

Assumption 4.1: near a mode x_i, d(x) = 1/2 - ||x - x_i||_2 / (8 sigma) on the ball
B_{4 sigma}(x_i) and 0 outside.  With y = x - x_i and r = ||y||_2:

* ``sec-4.1``: the particle field grad d / d and its norm 1/(4 sigma - r) (Section 4.1,
  used for Figure 13 and for the threshold 1/(2 sigma) of Section 4.3).
* ``thm-4.1``: g' = g + s (grad d/d) o g has Jacobian J + s H(g(z)) J, H the Jacobian
  of grad d / d (Theorem 4.1 = C.8, derived for n = 2 and arbitrary smooth g and field).
* ``thm-4.2``: H, its eigenvalues, the spectral norm of I + s H and the step sizes
  for which ||I + s H||_2 = 1 - s/(4 sigma - r)^2 (Theorem 4.2 = C.9 and its proof).
  The derivation is done in n = 3 so that both eigenvalue families appear; the
  eigenvalues depend on r and sigma only, so they hold in every dimension n >= 2.
* ``app-g.1``: the radius where d vanishes, 4 sigma, and its value 4 sqrt(0.0125)
  for the toy mixture of Appendix G.1.

The numerics (``ganphase.simulate.evidence.collapse``) take the eigenvalues and the
spectral norm from here through ``sympy.lambdify``.
"""
from __future__ import annotations

import random
from functools import lru_cache

import sympy as sp

from ganphase.theory.claims import REGISTRY, Part
from ganphase.theory.symbols import s, sigma

SECTION = "4 The Collapse Phase: Gradient Dynamics and Detection"
ASSUMPTION_4_1 = ("p_data satisfies Assumption 2.1 with separation Delta = 8 sigma",
                  "d(x) = 1/2 - ||x - x_i||_2 / (8 sigma) on B_{4 sigma}(x_i), 0 outside (Assumption 4.1)")

ys = sp.symbols("y1:4", real=True)            # y = x - x_i in R^3
r = sp.Symbol("r", positive=True)             # r = ||y||_2 > 0 (the field is singular at the centre)
rho = sp.sqrt(sum(v ** 2 for v in ys))        # ||y||_2 as an expression of y
SIGMA2_TOY = sp.Rational(125, 10000)          # sigma^2 = 0.0125 of the toy mixture (Appendix G.1, F.2)


# ----------------------------------------------------------------- the discriminator of Assumption 4.1
def linear_discriminator(dist):
    """d = 1/2 - dist / (8 sigma) inside B_{4 sigma}(x_i) (Assumption 4.1)."""
    return sp.Rational(1, 2) - dist / (8 * sigma)


def particle_field():
    """grad d / d in R^3 for the d of Assumption 4.1, as a column vector in y."""
    d = linear_discriminator(rho)
    return sp.Matrix([sp.diff(d, v) for v in ys]) / d


def field_jacobian():
    """H = grad_x (grad d / d): the Jacobian of the particle field, in y (3 x 3)."""
    return particle_field().jacobian(ys)


def in_r(expr):
    """Write an expression of y in terms of r = ||y||_2 (substitute y1 = sqrt(r^2 - y2^2 - y3^2))."""
    expr = sp.sympify(expr).subs(ys[0], sp.sqrt(r ** 2 - ys[1] ** 2 - ys[2] ** 2))
    return sp.factor(sp.simplify(expr))


def printed_H():
    """H as printed in the proof of Theorem C.9: -I/(r(4s-r)) + yy^T/(r^3(4s-r)) - yy^T/(r^2(4s-r)^2)."""
    y = sp.Matrix(ys)
    return (-sp.eye(3) / (rho * (4 * sigma - rho)) + y * y.T / (rho ** 3 * (4 * sigma - rho))
            - y * y.T / (rho ** 2 * (4 * sigma - rho) ** 2))


@lru_cache(maxsize=None)
def eigenvalues():
    """(radial, tangential) eigenvalues of H, derived from H y = l y and H w = l w for w = (y2, -y1, 0) _|_ y.

    Returns the expressions in (r, sigma) and the residuals H y - l y, H w - l w written in r
    (zero vectors: y and w are eigenvectors)."""
    H, y = field_jacobian(), sp.Matrix(ys)
    w = sp.Matrix([ys[1], -ys[0], 0])
    radial = in_r((y.T * H * y)[0] / (y.T * y)[0])
    tangential = in_r((H * w)[0] / w[0])
    on_sphere = {ys[0]: sp.sqrt(r ** 2 - ys[1] ** 2 - ys[2] ** 2)}
    residuals = tuple((H * v - lam * v).subs(on_sphere).applyfunc(sp.factor)
                      for v, lam in ((y, radial), (w, tangential)))
    return radial, tangential, residuals


def spectral_norm_I_plus_sH():
    """||I + s H||_2 = max |1 + s l| over the eigenvalues l of the symmetric H (n >= 2)."""
    radial, tangential, _ = eigenvalues()
    return sp.Max(sp.Abs(1 + s * radial), sp.Abs(1 + s * tangential))


def printed_contraction():
    """1 - s/(4 sigma - r)^2: the factor of Theorem 4.2."""
    return 1 - s / (4 * sigma - r) ** 2


def printed_step_limit():
    """(4 sigma - r)^2: the step-size condition s < (4 sigma - r)^2 of Theorem 4.2."""
    return (4 * sigma - r) ** 2


def largest_step_for_bound():
    """sup { s : ||I + s H||_2 <= 1 - s/(4 sigma - r)^2 } for r < 2 sigma and n >= 2.

    For r < 2 sigma the tangential eigenvalue a_t of H is the most negative one, so the
    condition is |1 + s a_t| <= 1 + s a_r, i.e. -(1 + s a_t) <= 1 + s a_r."""
    radial, tangential, _ = eigenvalues()
    return sp.factor(sp.solve(sp.Eq(-(1 + s * tangential), 1 + s * radial), s)[0])


def largest_step_positive_definite():
    """sup { s : I + s H positive definite } = 1 / max(-a_t, -a_r) = 1/(-a_t) for r < 2 sigma."""
    _, tangential, _ = eigenvalues()
    return sp.factor(-1 / tangential)


# ----------------------------------------------------------------- check points
def _rational(rnd: random.Random, lo, hi, den: int = 97):
    """A rational strictly inside (lo, hi)."""
    return lo + (hi - lo) * sp.Rational(rnd.randint(1, den - 1), den)


def _sigma(rnd: random.Random):
    return sp.Rational(rnd.randint(1, 40), 10)


def point_in_ball(rnd: random.Random) -> dict:
    """sigma, and y with 0 < ||y|| < 4 sigma (inside B_{4 sigma}, off the centre)."""
    sg = _sigma(rnd)
    y = [sp.Rational(rnd.randint(-20, 20), 10) for _ in ys]
    if all(v == 0 for v in y):
        y[0] = sp.Rational(1, 10)
    norm = sp.sqrt(sum(v ** 2 for v in y))
    scale = _rational(rnd, 0, 4 * sg) / norm
    # a rational multiple keeping ||y|| < 4 sigma
    scale = sp.Rational(sp.floor(scale * 1000), 1000) or sp.Rational(1, 1000)
    point = {sigma: sg, **{v: c * scale for v, c in zip(ys, y)}}
    if not 0 < norm * scale < 4 * sg:   # the parts hold inside B_{4 sigma} only, where d > 0 is linear in ||y||
        raise ValueError(f"check point outside B_(4 sigma): ||y|| = {float(norm * scale)}, sigma = {sg}")
    return point


def point_radius_in_ball(rnd: random.Random) -> dict:
    """sigma and 0 < r < 4 sigma (Section 4.1)."""
    sg = _sigma(rnd)
    return {sigma: sg, r: _rational(rnd, 0, 4 * sg)}


def point_theorem_4_2(rnd: random.Random) -> dict:
    """sigma, 0 < r < 2 sigma (g(z) in B_{2 sigma}) and 0 < s < (4 sigma - r)^2: the theorem's range."""
    sg = _sigma(rnd)
    rr = _rational(rnd, 0, 2 * sg)
    return {sigma: sg, r: rr, s: _rational(rnd, 0, (4 * sg - rr) ** 2)}


def point_radius_theorem_4_2(rnd: random.Random) -> dict:
    sg = _sigma(rnd)
    return {sigma: sg, r: _rational(rnd, 0, 2 * sg)}


# ================================================================= Section 4.1
@REGISTRY.claim(
    "sec-4.1", source="Section 4.1, 'Discriminator gradients near mode boundaries' (and the proof of Theorem C.9)",
    title="norm of the particle field grad d/d under the linear discriminator: 1/(4 sigma - r)",
    section=SECTION, assumptions=ASSUMPTION_4_1 + ("0 < r = ||x - x_i||_2 < 4 sigma",),
    note="Used by Figure 13 (field on the toy mixture) and by the threshold k_d/(2 sigma) of Section 4.3 "
         "(the norm at r = 2 sigma is 1/(2 sigma)).  The field points to the mode centre: grad d/d = -(y/r)/(4 sigma - r).")
def section_4_1():
    d = linear_discriminator(rho)
    grad = sp.Matrix([sp.diff(d, v) for v in ys])
    field = particle_field()
    norm = in_r(sp.sqrt(sum(f ** 2 for f in field)))
    return [
        Part("grad d", derived=grad, printed=-sp.Matrix(ys) / (8 * sigma * rho), domain=point_in_ball,
             equation=r"\nabla d(\mathbf{x})"),
        Part("||grad d / d||_2", derived=norm, printed=1 / (4 * sigma - r), domain=point_radius_in_ball,
             equation=r"\|\nabla d(\tilde{\mathbf{x}})/d(\tilde{\mathbf{x}})\|_2"),
        Part("||grad d / d||_2 at r = 2 sigma", derived=norm.subs(r, 2 * sigma), printed=1 / (2 * sigma),
             equation=r"\|\nabla d/d\|_2\big|_{r = 2\sigma}"),
    ]


# ================================================================= Theorem 4.1 / C.8
@REGISTRY.claim(
    "thm-4.1", source="Theorem 4.1, Section 4.2 (= Theorem C.8, proof in Appendix C.9)",
    title="Jacobian of the updated generator: J' = J + s H(g(z)) J, H the Jacobian of grad d/d",
    section=SECTION,
    assumptions=("g_theta'(z) = g_theta(z) + s (grad d/d)(g_theta(z)) (optimal generator after the update, "
                 "infinitely many particles)", "g_theta and the field continuously differentiable"),
    note="Derived for n = 2 with arbitrary smooth g and field v = grad d/d (undefined functions): the chain rule.")
def theorem_4_1():
    z1, z2, x1, x2 = sp.symbols("z1 z2 x1 x2", real=True)
    g = [sp.Function("g1")(z1, z2), sp.Function("g2")(z1, z2)]
    v = [sp.Function("v1"), sp.Function("v2")]
    updated = sp.Matrix([g[i] + s * v[i](*g) for i in range(2)])
    J = sp.Matrix(g).jacobian((z1, z2))
    H = sp.Matrix([[sp.diff(v[i](x1, x2), xx) for xx in (x1, x2)] for i in range(2)]).subs({x1: g[0], x2: g[1]})
    return [Part("J_{g_theta'}(z)", derived=updated.jacobian((z1, z2)), printed=J + s * H * J,
                 equation=r"J_{g_{\theta'}}(\mathbf{z})")]


# ================================================================= Theorem 4.2 / C.9
@REGISTRY.claim(
    "thm-4.2", source="Theorem 4.2, Section 4.2 (= Theorem C.9 and its proof, Appendix C.9)",
    title="steepness drop in the collapse phase: S_g' <= (1 - s/(4 sigma - r)^2) S_g",
    section=SECTION,
    assumptions=ASSUMPTION_4_1 + ("the conditions of Theorem 4.1", "0 < r = ||g(z) - x_i||_2 < 2 sigma",
                                  "0 < s < (4 sigma - r)^2 (the printed step condition)",
                                  "dimension n; the norm and step parts are for n >= 2 (n = 1 has only the radial eigenvalue)"),
    note="H, its eigenvalues and the symmetry of H agree with the proof.  The spectral norm of I + sH is "
         "max(|1 - s/(r(4 sigma - r))|, |1 - s/(4 sigma - r)^2|): the tangential eigenvalue 1 - s/(r(4 sigma - r)) "
         "is the smaller one for r < 2 sigma and becomes negative for s > r(4 sigma - r), which the printed "
         "condition s < (4 sigma - r)^2 allows.  The bound needs s <= r(4 sigma - r)^2/(2 sigma) (derived); "
         "in n = 1 only the radial eigenvalue exists and s < (4 sigma - r)^2 suffices.")
def theorem_4_2():
    H = field_jacobian()
    radial, tangential, (res_radial, res_tangential) = eigenvalues()
    return [
        Part("H = grad_x (grad d / d)", derived=H, printed=printed_H(), domain=point_in_ball,
             equation=r"\mathbf{H}"),
        Part("H - H^T", derived=sp.simplify(H - H.T), printed=sp.zeros(3, 3), domain=point_in_ball,
             equation=r"\mathbf{H} - \mathbf{H}^\top"),
        Part("H y - l_radial y", derived=res_radial, printed=sp.zeros(3, 1), domain=point_in_ball,
             equation=r"\mathbf{H}\mathbf{y} - \lambda_{\mathrm{rad}}\mathbf{y}"),
        Part("H w - l_tangential w, w _|_ y", derived=res_tangential, printed=sp.zeros(3, 1), domain=point_in_ball,
             equation=r"\mathbf{H}\mathbf{w} - \lambda_{\mathrm{tan}}\mathbf{w}"),
        Part("tangential eigenvalue (multiplicity n - 1)", derived=tangential,
             printed=-1 / (r * (4 * sigma - r)), domain=point_radius_theorem_4_2, equation=r"\lambda_{\mathrm{tan}}"),
        Part("radial eigenvalue", derived=radial,
             printed=-1 / (r * (4 * sigma - r)) + (4 * sigma - 2 * r) / (r * (4 * sigma - r) ** 2),
             domain=point_radius_theorem_4_2, equation=r"\lambda_{\mathrm{rad}}"),
        Part("||I + sH||_2", derived=spectral_norm_I_plus_sH(), printed=printed_contraction(),
             domain=point_theorem_4_2, equation=r"\|\mathbf{I} + s\mathbf{H}\|_2"),
        Part("largest s with ||I + sH||_2 = 1 - s/(4 sigma - r)^2", derived=largest_step_for_bound(),
             printed=printed_step_limit(), domain=point_radius_theorem_4_2, equation=r"s_{\max}"),
        Part("largest s with I + sH positive definite", derived=largest_step_positive_definite(),
             printed=printed_step_limit(), domain=point_radius_theorem_4_2, equation=r"s_{\mathrm{pd}}"),
    ]


# ================================================================= Appendix G.1
def round_to(expr, decimals: int):
    """The exact value of ``expr`` rounded half-up to ``decimals`` decimals, as a sympy Rational."""
    scale = sp.Integer(10) ** decimals
    return sp.floor(sp.nsimplify(expr) * scale + sp.Rational(1, 2)) / scale


@REGISTRY.claim(
    "app-g.1", source="Appendix G.1, 'Verification on a toy example' (prediction from Assumption 4.1)",
    title="the linear discriminator vanishes at radius 4 sigma = 4 sqrt(0.0125) ~ 0.45 on the toy mixture",
    section="G Additional Experimental Results",
    assumptions=ASSUMPTION_4_1 + ("toy p_data: four modes (+-1, +-1) with covariance 0.0125 I_2",),
    note="The observed vanishing distance (~0.4, from the paper's trained discriminator) is an experiment, "
         "not a formula: the numerical evidence trains a short NSGAN run on the toy and measures where its "
         "discriminator flattens out (status), beside the derived 4 sigma of the linear d (derived status).  The "
         "toy's nearest modes are 2 apart, more than Delta = 8 sigma = 0.894, so the balls B_{4 sigma} do not overlap.")
def appendix_g_1():
    radius = sp.solve(sp.Eq(linear_discriminator(r), 0), r)[0]
    toy = radius.subs(sigma, sp.sqrt(SIGMA2_TOY))
    return [
        Part("radius where d vanishes", derived=radius, printed=4 * sigma, equation=r"r_0"),
        Part("radius for sigma^2 = 0.0125", derived=toy, printed=4 * sp.sqrt(sp.Rational(125, 10000)),
             equation=r"4\sqrt{0.0125}"),
        Part("radius for sigma^2 = 0.0125, two decimals", derived=round_to(toy, 2), printed=sp.Rational(45, 100),
             equation=r"4\sqrt{0.0125} \approx"),
        Part("toy nearest-mode distance / sigma (Assumption 4.1 needs >= 8)",
             derived=sp.Integer(2) / sp.sqrt(SIGMA2_TOY), equation=r"\Delta/\sigma"),
    ]
