import numpy as np
import pytest
import sympy as sp
from scipy import stats

from ganphase.catalogue import CATALOGUE
from ganphase.simulate.evidence import fields as evidence
from ganphase.simulate.mixtures import table2_case
from ganphase.theory import table2 as theory
from ganphase.theory.claims import REGISTRY

IDS = ["thm-c.1", "prop-c.1", "prop-c.2", "prop-c.3", "prop-c.4", "prop-d.1"]


def verdicts(cid):
    return {v.name: v.verdict for v in REGISTRY[cid].part_verdicts()}


def test_claims_are_registered_with_sources():
    for cid in IDS:
        claim = REGISTRY[cid]
        assert claim.source and claim.parts()


def test_verdicts_of_the_claims():
    assert set(verdicts("thm-c.1").values()) == {"agrees"}
    assert set(verdicts("prop-c.1").values()) == {"agrees"}
    assert set(verdicts("prop-c.3").values()) == {"agrees"}
    c2 = verdicts("prop-c.2")
    assert c2.pop("d* off the box") == "differs" and set(c2.values()) == {"agrees"}
    assert set(verdicts("prop-c.4").values()) == {"differs"}
    assert verdicts("prop-d.1") == {"cos theta": "agrees", "cos theta as r -> 0, f(r) = r^2": "differs"}


@pytest.mark.parametrize("case", [1, 2, 3, 4])
def test_derived_ratio_equals_scipy_density_ratio(case):
    p_data, p_g = table2_case(case)
    x = np.random.default_rng(case).uniform(-1.9, 1.9, size=(30, 2)) * (2 if case == 4 else 1)
    pd = sum(w * stats.multivariate_normal(m, np.diag(s ** 2)).pdf(x) for w, m, s in zip(p_data.weights, p_data.means, p_data.sigmas))
    pg = np.full(len(x), 1 / 16) if case == 2 else stats.multivariate_normal(p_g.means[0], np.diag(p_g.sigmas[0] ** 2)).pdf(x)
    r = sp.lambdify(theory.X, theory.density_ratio(case), "numpy")(x[:, 0], x[:, 1])
    np.testing.assert_allclose(r, pd / pg, rtol=1e-10)


def test_case_4_printed_ratio_is_half_the_derived_one():
    x = np.random.default_rng(0).uniform(-4, 4, size=(20, 2))
    derived = sp.lambdify(theory.X, theory.density_ratio(4), "numpy")(x[:, 0], x[:, 1])
    printed = sp.lambdify(theory.X, theory.printed_forms(4)[0], "numpy")(x[:, 0], x[:, 1])
    np.testing.assert_allclose(printed / derived, 0.5, rtol=1e-12)


@pytest.mark.parametrize("case", [1, 2, 3, 4])
def test_term_targets_are_stationary_points_of_the_log_terms(case):
    h = 1e-6
    for rho, t in zip(theory.ratio_terms(case), theory.term_targets(case)):
        f = sp.lambdify(theory.X, sp.log(rho), "numpy")
        t = np.array([float(v) for v in t])
        grad = [(f(*(t + h * e)) - f(*(t - h * e))) / (2 * h) for e in np.eye(2)]
        np.testing.assert_allclose(grad, 0, atol=1e-6)
    if case == 4:
        assert (3, 3) in theory.term_targets(4)


def test_field_limits_numerically():
    # r = exp(x): field = grad r/(r(1+r)) -> grad log r = 1 as x -> -oo and -> grad(-1/r) = exp(-x) as x -> oo
    expr = theory.field_limits()[0].derived
    r_exp = expr.subs(sp.Function("r", positive=True)(theory.x), sp.exp(theory.x)).doit()
    field = sp.lambdify(theory.x, r_exp, "numpy")
    assert field(-30.0) == pytest.approx(1.0, rel=1e-12)
    assert field(30.0) == pytest.approx(np.exp(-30.0), rel=1e-12)


def test_sign_factor_examples():
    lam = lambda e: sp.Lambda(theory.rr, e)
    r = theory.rr
    assert sp.simplify(theory.sign_factor(lam(1 + r))) == 1 / r
    assert sp.simplify(theory.sign_factor(lam(r ** 2))) == -r
    for f in (lam(1 + r), lam(r ** 2), lam(sp.exp(-r))):
        assert sp.sign(sp.simplify(theory.ratio_coefficients(f)).subs(r, sp.Rational(1, 3))) == \
            sp.sign(theory.sign_factor(f).subs(r, sp.Rational(1, 3)))


def _scipy_table2(case):
    """(p_data, p_g) pdfs of Table 2 case ``case`` from scipy.stats (covariances as printed variances)."""
    c = 3 if case == 4 else 1
    comps = [stats.multivariate_normal([a, b], 0.1) for a in (c, -c) for b in (c, -c)]
    p_data = lambda x: sum(comp.pdf(x) for comp in comps) / 4   # noqa: E731
    p_g = {1: lambda x: stats.multivariate_normal([0, 0], 0.2).pdf(x),
           2: lambda x: np.where(np.all(np.abs(x) <= 2, axis=-1), 1 / 16, 0.0),
           3: lambda x: stats.multivariate_normal([1, 1], 1.0).pdf(x),
           4: lambda x: stats.multivariate_normal([3, 3], 3.0).pdf(x)}[case]
    return p_data, p_g


def printed_statement_fails(cid) -> bool:
    """Does the printed statement fail at some point?  Decided from scipy densities and one-sided arithmetic,
    not from the evidence code: Propositions C.1-C.4 by the printed d* = r/(1 + r) against p_data/(p_data + p_g)
    at points inside and outside the box; Proposition D.1 by cos(theta) for f(r) = r^2, where
    d^ = r/(r + r^2) = 1/(1 + r) so grad log d^ = -grad r/(1 + r), opposite to grad log d* = grad r/(r(1 + r))."""
    if cid == "thm-c.1":
        return False   # its evidence checks limits, not a printed closed form (held by test_claims_independent)
    if cid == "prop-d.1":
        r, grad_r = 1e-3, np.array([0.3, -1.2])
        u, v = -grad_r / (1 + r), grad_r / (r * (1 + r))
        return float(u @ v / (np.linalg.norm(u) * np.linalg.norm(v))) < 1 - 1e-6
    case = int(cid[-1])
    p_data, p_g = _scipy_table2(case)
    r_printed = sp.lambdify(theory.X, theory.printed_forms(case)[0], modules="numpy")
    pts = np.array([[0.3, 0.7], [1.1, -0.4], [-1.5, 1.9], [3.0, 0.5], [-3.5, -2.5]])
    exact = p_data(pts) / (p_data(pts) + p_g(pts))
    rp = np.array([float(r_printed(*x)) for x in pts])
    return bool(np.max(np.abs(rp / (1 + rp) - exact)) > 1e-8)


@pytest.mark.parametrize("cid", IDS)
def test_evidence_checks_the_printed_statement(cid):
    result = CATALOGUE.run_evidence(cid, seed=1)
    assert result.status == ("failed" if printed_statement_fails(cid) else "passed"), result.detail
    assert result.derived_status in ("passed", "none"), result.derived_detail
    if result.status == "failed":
        assert result.counterexample


def test_printed_statement_fails_exactly_where_the_paper_is_wrong():
    assert [cid for cid in IDS if printed_statement_fails(cid)] == ["prop-c.2", "prop-c.4", "prop-d.1"]


def test_printed_case_4_field_differs_from_the_numeric_one():
    x = np.array([[3.2, 2.9], [-2.5, 3.1]])
    p_data, p_g = table2_case(4)
    from ganphase.simulate.fields import optimal_field
    numeric = optimal_field(p_data, p_g, x)
    assert evidence.relative_error(evidence.closed_form_field(4)(x), numeric) < 1e-10
    assert evidence.relative_error(evidence.closed_form_field(4, printed=True)(x), numeric) > 1e-3


def test_case_3_discriminator_and_field_strength_at_the_modes():
    """Section 3.1, case 3: d* is lowest at the covered mode (1, 1) and highest at the farthest (-1, -1);
    the field near the modes is strongest at the covered mode, weakest at the farthest one."""
    d, size = evidence.near_mode_profile(*table2_case(3))
    assert d[1] == pytest.approx(d[2]) and size[1] == pytest.approx(size[2])
    assert d[0] < d[1] < d[3] and size[0] > size[1] > size[3]
