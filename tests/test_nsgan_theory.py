"""NSGAN claims (Corollary C.1, Appendices B and F) and the background claims, against independent numerics."""
import math

import numpy as np
import pytest
import sympy as sp
from scipy import integrate, stats
from scipy.spatial.distance import jensenshannon

from ganphase.simulate.evidence import nsgan as ev
from ganphase.theory import REGISTRY, Part, compare
from ganphase.theory import nsgan as theory
from ganphase.theory.symbols import s

NSGAN_IDS = ("cor-c.1", "app-b", "app-f")
BG_IDS = ("bg-optimal-discriminator", "bg-value-js", "bg-js-disjoint", "bg-ns-loss", "bg-logit-gradients",
          "bg-forward-kl-two-gaussian", "bg-reverse-kl-two-gaussian", "bg-kl-decomposition")


@pytest.mark.parametrize("cid", NSGAN_IDS + BG_IDS)
def test_claims_registered_with_printed_parts(cid):
    claim = REGISTRY[cid]
    assert claim.parts() and any(p.printed is not None for p in claim.parts())
    assert claim.source


def test_corollary_factor_two():
    claim = REGISTRY["cor-c.1"]
    assert claim.derived("grad_theta ||g - Z^||^2 / grad_theta(-log d(g))") == 2 * s
    verdict, cx = claim.verdict()
    assert verdict == "differs"
    assert compare(claim.part("line 2 = line 3: -s grad_theta log d(g)")).verdict == "agrees"


def test_f_second_derivative_against_finite_differences():
    u = theory.u
    f = sp.lambdify(u, theory.printed_f(), "math")
    f2 = sp.lambdify(u, REGISTRY["app-b"].derived("f''"), "math")
    for t in (0.01, 0.5, 1.0, 3.0, 10.0):
        h = 1e-3 * t
        fd = (f(t + h) - 2 * f(t) + f(t - h)) / h ** 2
        assert fd == pytest.approx(f2(t), rel=1e-4) and f2(t) > 0
    assert abs(f(1.0)) < 1e-15
    assert REGISTRY["app-b"].verdict()[0] == "agrees"


def test_f_divergence_is_kl_minus_two_js_by_scipy():
    p, q = stats.norm(0.3, 0.8), stats.norm(-0.5, 1.3)
    lo, hi = -15, 15
    f = sp.lambdify(theory.u, theory.printed_f(), "math")
    d_f = integrate.quad(lambda t: q.pdf(t) * f(p.pdf(t) / q.pdf(t)), -12, 12, limit=200)[0]
    kl_qp = integrate.quad(lambda t: q.pdf(t) * (q.logpdf(t) - p.logpdf(t)), lo, hi, limit=200)[0]
    grid = np.linspace(lo, hi, 300001)
    js = jensenshannon(p.pdf(grid), q.pdf(grid)) ** 2
    assert d_f == pytest.approx(kl_qp - 2 * js, abs=1e-7)


def test_altered_f_differs():
    u = theory.u
    part = REGISTRY["app-b"].part("f")
    wrong = -(u + 1) * sp.log(u / (u + 1)) + u * (1 - sp.log(2)) - 1
    assert compare(Part("f", part.derived, wrong)).verdict == "differs"


def test_thresholds_from_the_printed_inputs():
    values = {p.name: p.derived for p in REGISTRY["app-f"].parts()}
    assert float(values["gmm-3d: k_d/(2 sigma)"]) == pytest.approx(2 / (2 * math.sqrt(0.0125)))
    assert float(values["mnist: k_d/(2 sigma)"]) == pytest.approx(33.7 / (2 * math.sqrt(0.33 / 64 ** 2)))
    cifar = 38.0 / (2 * math.sqrt(0.23 / (64 ** 2 * 3)))
    assert float(values["cifar10: k_d/(2 sigma)"]) == pytest.approx(cifar) and round(cifar) == 4392
    verdict, cx = REGISTRY["app-f"].verdict()
    assert verdict == "differs" and cx["part"].startswith("cifar10")


def test_threshold_evidence_none_without_image_files(monkeypatch, tmp_path):
    monkeypatch.setenv("GANPHASE_DATA", str(tmp_path))
    evidence = ev.thresholds_evidence(np.random.default_rng(0), False)
    assert evidence.status == "none" and "not found" in evidence.detail


def test_js_identities_by_scipy_quad():
    p, q = stats.norm(-1, 0.7), stats.norm(0.8, 1.1)
    lo, hi = -12, 12
    d_star = lambda t: p.pdf(t) / (p.pdf(t) + q.pdf(t))   # noqa: E731
    value = integrate.quad(lambda t: p.pdf(t) * np.log(d_star(t)) + q.pdf(t) * np.log(1 - d_star(t)), lo, hi,
                           limit=200)[0]
    grid = np.linspace(lo, hi, 300001)
    js = jensenshannon(p.pdf(grid), q.pdf(grid)) ** 2
    assert value == pytest.approx(-math.log(4) + 2 * js, abs=1e-8)
    # disjoint supports: U(0, 1) and U(2, 3)
    u1, u2 = stats.uniform(0, 1), stats.uniform(2, 1)
    grid = np.linspace(0, 3, 30001)
    assert jensenshannon(u1.pdf(grid), u2.pdf(grid)) ** 2 == pytest.approx(math.log(2), rel=1e-12)
    assert float(REGISTRY["bg-js-disjoint"].derived("JS(U(0,c) || U(c+1,c+2))")) == pytest.approx(math.log(2))


def test_background_verdicts_and_the_entropy_sign():
    for cid in BG_IDS[:-1]:
        assert REGISTRY[cid].verdict()[0] == "agrees", cid
    verdict, cx = REGISTRY["bg-kl-decomposition"].verdict()
    assert verdict == "differs" and "eq. 6" in cx["part"]
    # at the counterexample, printed - derived = 2 H(p) for p = N(mu, sigma^2)
    sg = float(sp.Rational(cx["point"]["sigma"]))
    assert cx["printed_value"] - cx["derived_value"] == pytest.approx(2 * stats.norm(0, sg).entropy())


def test_logit_gradients_by_finite_differences():
    """The registry's derived d l / da (not a formula typed here) against central differences of the losses."""
    claim = REGISTRY["bg-logit-gradients"]
    a_sym = sp.Symbol("a", real=True)
    a = np.linspace(-20, 20, 41)
    h = 1e-6
    losses = {"d l_min / da": lambda t: -np.logaddexp(0, t),   # log(1 - sigmoid(t)), without cancellation
              "d l_ns / da": lambda t: np.logaddexp(0, -t)}    # -log sigmoid(t)
    for name, loss in losses.items():
        derived = sp.lambdify(a_sym, claim.derived(name), "numpy")(a)
        fd = (loss(a + h) - loss(a - h)) / (2 * h)
        np.testing.assert_allclose(derived, fd, rtol=0, atol=1e-7, err_msg=name)
    # the saturation the claim is about: the minimax gradient vanishes for a -> -oo, the non-saturating one does not
    derived_min = sp.lambdify(a_sym, claim.derived("d l_min / da"), "numpy")
    derived_ns = sp.lambdify(a_sym, claim.derived("d l_ns / da"), "numpy")
    assert abs(derived_min(-20.0)) < 1e-8 and derived_ns(-20.0) == pytest.approx(-1.0, abs=1e-8)


def test_evidence_background_passes():
    rng = np.random.default_rng(3)
    for fn in (ev.optimal_discriminator_evidence, ev.value_js_evidence, ev.ns_loss_evidence,
               ev.logit_gradient_evidence, ev.forward_kl_evidence):
        assert fn(rng, False).status == "passed", fn.__name__
    failed = ev.kl_decomposition_evidence(rng, False)
    assert failed.status == "failed" and failed.counterexample["note_002_eq6"] > failed.counterexample["KL"]


def test_bad_input():
    with pytest.raises(ValueError, match="no part"):
        REGISTRY["app-b"].part("g")
    with pytest.raises(FileNotFoundError):
        ev.measured_thresholds("mnist", 10, None)
