"""Collapse phase (Section 4, Appendix G.1): derived forms against autograd, the steepness bound's range."""
import math

import numpy as np
import pytest
import sympy as sp
import torch
from hypothesis import given, settings, strategies as st

from ganphase.simulate.evidence import collapse as ev
from ganphase.theory import REGISTRY, Part, compare
from ganphase.theory import collapse as theory
from ganphase.theory.symbols import sigma

IDS = ("sec-4.1", "thm-4.1", "thm-4.2", "app-g.1")


@pytest.mark.parametrize("cid", IDS)
def test_claims_registered_with_printed_parts(cid):
    claim = REGISTRY[cid]
    assert claim.parts() and any(p.printed is not None for p in claim.parts())
    assert claim.source and claim.assumptions


def test_field_norm_agrees_and_altered_norm_differs():
    assert REGISTRY["sec-4.1"].verdict()[0] == "agrees"
    derived = REGISTRY["sec-4.1"].derived("||grad d / d||_2")
    part = REGISTRY["sec-4.1"].part("||grad d / d||_2")
    for wrong in (1 / (4 * sigma + theory.r), 1 / (8 * sigma - theory.r), 2 / (4 * sigma - theory.r)):
        assert compare(Part("norm", derived=derived, printed=wrong, domain=part.domain)).verdict == "differs"


def test_field_norm_by_autograd_at_a_hand_point():
    # sigma = 1, r = 3: d = 1/2 - 3/8 = 1/8, |grad d| = 1/8, so |grad d / d| = 1 = 1/(4 - 3)
    x = torch.tensor([[3.0, 0.0, 0.0]], dtype=torch.float64)
    norm = float(ev.log_field(x, torch.zeros(1, 3, dtype=torch.float64), 1.0).norm())
    assert norm == pytest.approx(1.0, rel=1e-14)
    assert float(REGISTRY["sec-4.1"].derived("||grad d / d||_2").subs({sigma: 1, theory.r: 3})) == 1.0


@settings(max_examples=15)
@given(n=st.integers(2, 6), sg=st.floats(0.05, 5.0), rfrac=st.floats(0.01, 0.99), sfrac=st.floats(0.001, 0.999),
       seed=st.integers(0, 1000))
def test_autograd_H_eigenvalues_and_norm_match_derived(n, sg, rfrac, sfrac, seed):
    r = 2 * sg * rfrac
    step = (4 * sg - r) ** 2 * sfrac
    row = ev.check_point(n, sg, r, step, np.random.default_rng(seed))
    assert row["H_error"] < 1e-9 and row["eig_error"] < 1e-9 and row["norm_error"] < 1e-9


@settings(max_examples=15)
@given(n=st.integers(2, 6), sg=st.floats(0.05, 5.0), rfrac=st.floats(0.01, 0.99), sfrac=st.floats(0.001, 1.0),
       seed=st.integers(0, 1000))
def test_bound_holds_below_the_derived_step_limit(n, sg, rfrac, sfrac, seed):
    r = 2 * sg * rfrac
    step = r * (4 * sg - r) ** 2 / (2 * sg) * sfrac
    row = ev.check_point(n, sg, r, step, np.random.default_rng(seed))
    assert not row["bound_violated"] and not row["steepness_bound_violated"]


def test_bound_fails_inside_the_printed_step_range():
    # sigma = r = 1, s = 8 < (4 - 1)^2 = 9: H has eigenvalues -1/3 (tangential) and -1/9 (radial),
    # so I + 8H has eigenvalues -5/3 and 1/9: ||I + sH|| = 5/3 > printed factor 1 - 8/9 = 1/9
    row = ev.check_point(2, 1.0, 1.0, 8.0, np.random.default_rng(0))
    assert row["norm_I_plus_sH"] == pytest.approx(5 / 3, rel=1e-12)
    assert row["printed_factor"] == pytest.approx(1 / 9, rel=1e-12)
    H = ev.field_jacobian_autograd(torch.tensor([1.0, 0.0], dtype=torch.float64), 1.0)
    assert float(torch.linalg.matrix_norm(torch.eye(2, dtype=torch.float64) + 8 * H, ord=2)) == pytest.approx(5 / 3)
    verdict, cx = REGISTRY["thm-4.2"].verdict()
    assert verdict == "differs" and cx["part"] == "||I + sH||_2"
    limit = REGISTRY["thm-4.2"].derived("largest s with ||I + sH||_2 = 1 - s/(4 sigma - r)^2")
    assert float(limit.subs({sigma: 1, theory.r: 1})) == pytest.approx(4.5)


def test_one_dimension_needs_only_the_printed_condition():
    for r, frac in ((0.1, 0.99), (1.0, 0.5), (1.9, 0.999)):
        row = ev.check_point(1, 1.0, r, (4 - r) ** 2 * frac, np.random.default_rng(1))
        assert not row["bound_violated"]


def test_printed_H_and_eigenvalues_agree_and_altered_H_differs():
    claim = REGISTRY["thm-4.2"]
    for name in ("H = grad_x (grad d / d)", "tangential eigenvalue (multiplicity n - 1)", "radial eigenvalue"):
        assert compare(claim.part(name)).verdict == "agrees"
    part = claim.part("H = grad_x (grad d / d)")
    assert compare(Part("H", part.derived, -part.printed, part.domain)).verdict == "differs"


def test_updated_jacobian_chain_rule():
    assert REGISTRY["thm-4.1"].verdict()[0] == "agrees"
    assert ev.updated_jacobian_check(3, 0.5, seed=4, batch=3) < 1e-12


def test_check_points_fill_the_ball_of_radius_4_sigma():
    """The parts of Section 4.1 hold inside B_(4 sigma) only: their check points lie there, off the centre, and
    reach both the centre's neighbourhood and the boundary's (relative radius ||y|| / (4 sigma))."""
    import random

    rel = []
    for seed in range(300):
        point = theory.point_in_ball(random.Random(seed))
        sg = float(point[sigma])
        y = np.array([float(v) for k, v in point.items() if k != sigma])
        assert len(y) == 3 and 0 < np.linalg.norm(y) < 4 * sg
        rel.append(np.linalg.norm(y) / (4 * sg))
    assert min(rel) < 0.1 and max(rel) > 0.9


def test_vanishing_radius():
    radius = ev.vanishing_radius(ev.TOY_CENTRES[:1], torch.tensor([[0.6, -0.8]], dtype=torch.float64),
                                 ev.TOY_SIGMA, ev.TOY_CENTRES)
    assert radius == pytest.approx(4 * math.sqrt(0.0125), abs=1e-12)
    assert REGISTRY["app-g.1"].derived("radius for sigma^2 = 0.0125") == sp.sqrt(5) / 5
    assert REGISTRY["app-g.1"].verdict()[0] == "agrees"


def test_round_to():
    assert theory.round_to(sp.sqrt(5) / 5, 2) == sp.Rational(45, 100)
    assert theory.round_to(sp.Rational(4391665, 1000), 0) == 4392


def test_bad_input():
    with pytest.raises(ValueError, match="sigma"):
        ev.linear_discriminator(torch.zeros(1, 2), ev.TOY_CENTRES, 0.0)
    with pytest.raises(ValueError, match="claim"):
        REGISTRY["thm-4.2"].part("no such part")


# ----------------------------------------------------------------------------- evidence statuses, held independently
# Each test decides with its own computation (numpy central differences, its own torch functions) whether the
# printed statement holds on an input of its own or on the evidence's recorded counterexample, and asserts that the
# evidence's status is that outcome; none of them calls the evidence's helpers.
def _evidence(cid):
    from ganphase.catalogue import CATALOGUE

    return CATALOGUE.run_evidence(cid, seed=1)


def _expected(holds: bool) -> str:
    return "passed" if holds else "failed"


def _log_linear_d(x, sigma):
    """log d for Assumption 4.1's d(x) = 1/2 - ||x|| / (8 sigma) (one ball, centre 0)."""
    return math.log(0.5 - np.linalg.norm(x) / (8 * sigma))


def _central_gradient(fn, x, h=1e-6):
    return np.array([(fn(x + e) - fn(x - e)) / (2 * h) for e in np.eye(len(x)) * h])


def test_sec_4_1_status_held_by_central_differences():
    """Printed ||grad d / d|| = 1/(4 sigma - r), against central differences of log d in 3-D."""
    rng = np.random.default_rng(11)
    holds = True
    for sig, frac in ((0.3, 0.1), (1.0, 0.5), (2.5, 0.9)):
        u = rng.normal(size=3)
        x = 4 * sig * frac * u / np.linalg.norm(u)
        norm = np.linalg.norm(_central_gradient(lambda v: _log_linear_d(v, sig), x))
        holds &= abs(norm - 1 / (4 * sig - np.linalg.norm(x))) <= 1e-6 * norm
    assert _evidence("sec-4.1").status == _expected(bool(holds))


def test_thm_4_1_status_held_by_autograd_of_own_maps():
    """Printed J' = J + s H J for z -> g(z) + s F(g(z)), F = grad log d: a generator and a discriminator of the test's
    own (smooth closed forms, not the toolkit's models), Jacobians by torch.autograd.functional.jacobian."""
    torch.manual_seed(3)
    A, B, w = (torch.randn(3, 3, dtype=torch.float64) for _ in range(3))
    g = lambda z: torch.tanh(A @ z) + 0.3 * (B @ z) ** 2                                  # noqa: E731
    log_d = lambda x: torch.nn.functional.logsigmoid((w @ torch.sin(x)).sum() + x @ x / 5)   # noqa: E731
    F = lambda x: torch.autograd.grad(log_d(x), x, create_graph=True)[0]                  # noqa: E731
    holds = True
    for step in (0.05, 0.7):
        for z in torch.randn(4, 3, dtype=torch.float64):
            updated = torch.autograd.functional.jacobian(lambda v: g(v) + step * F(g(v)), z)
            J = torch.autograd.functional.jacobian(g, z)
            H = torch.autograd.functional.jacobian(F, g(z).detach())
            holds &= bool(torch.allclose(updated, J + step * H @ J, rtol=1e-12, atol=1e-12))
    assert _evidence("thm-4.1").status == _expected(holds)


def test_thm_4_2_status_held_by_central_differences_at_the_recorded_input():
    """Printed ||I + sH||_2 <= 1 - s/(4 sigma - r)^2 (for s < (4 sigma - r)^2): H by central differences of the
    field grad log d at the recorded (n, sigma, r, s), the spectral norm by numpy."""
    ev = _evidence("thm-4.2")
    cx = ev.counterexample or {"n": 2, "sigma": 1.0, "r": 0.5, "s": 1.0}
    n, sig, r, step = int(cx["n"]), float(cx["sigma"]), float(cx["r"]), float(cx["s"])
    y = np.full(n, r / math.sqrt(n))
    field = lambda v: _central_gradient(lambda t: _log_linear_d(t, sig), v, 1e-5)   # noqa: E731
    H = np.array([(field(y + e) - field(y - e)) / 2e-4 for e in np.eye(n) * 1e-4]).T
    norm = np.linalg.norm(np.eye(n) + step * H, 2)
    factor = float(REGISTRY["thm-4.2"].part("||I + sH||_2").printed.subs({theory.r: r, sigma: sig, theory.s: step}))
    assert step < (4 * sig - r) ** 2                      # inside the theorem's range
    assert ev.status == _expected(norm <= factor + 1e-6), ev.detail


def _flat_radius_by_differences(D, centres, rays=48, step=0.0025, r_max=1.0, h=1e-3, frac=0.05):
    """Where a trained d flattens out, from central differences of d = sigmoid(D) (float64 copy of D) on rays:
    the first radius past the peak of the mean ||grad d|| profile where it falls to ``frac`` of the peak."""
    import copy

    Dd = copy.deepcopy(D).double().eval()
    t = 2 * np.pi * (np.arange(rays) + 0.5) / rays
    u = np.stack([np.cos(t), np.sin(t)], 1)
    radii = np.arange(0.0, r_max + step / 2, step)
    pts = (centres[:, None, None, :] + radii[None, None, :, None] * u[None, :, None, :]).reshape(-1, 2)

    def d(x):
        with torch.no_grad():
            return torch.sigmoid(Dd(torch.as_tensor(x))).flatten().numpy()

    grads = np.stack([(d(pts + h * e) - d(pts - h * e)) / (2 * h) for e in np.eye(2)], 1)
    prof = np.linalg.norm(grads, axis=1).reshape(len(centres), rays, len(radii)).mean(axis=(0, 1))
    k = int(np.argmax(prof))
    below = np.nonzero(prof[k:] <= frac * prof[k])[0]
    return None if below.size == 0 else float(radii[k + below[0]])


@pytest.mark.parametrize("rng_seed", [5])
def test_app_g1_status_held_by_an_independent_radius(tmp_path, rng_seed):
    """app-g.1's evidence trains the toy with the first draw of its rng as seed; the same training here gives
    the discriminator whose flat radius the test finds by central differences on rays of its own, and the
    printed 'approximately 0.4' (accepted within 0.1) decides the status the evidence must report."""
    from ganphase.simulate.data import mixture_spec
    from ganphase.simulate.train import TrainConfig, load_discriminator, train

    seed = int(np.random.default_rng(rng_seed).integers(1 << 20))
    summary = train(TrainConfig(out=str(tmp_path / "toy"), seed=seed, **ev.TOY_RUN))
    D = load_discriminator(tmp_path / "toy", summary["epochs_run"], device="cpu")
    r = _flat_radius_by_differences(D, np.asarray(mixture_spec("gmm-2d")[0], np.float64))
    if r is not None and abs(abs(r - 0.4) - 0.1) < 0.01:
        pytest.skip(f"flat radius {r:.4f} within 0.01 of the acceptance bound: the two discretisations may differ")
    expected = "passed" if r is not None and abs(r - 0.4) <= 0.1 else "failed"
    evidence = ev.vanishing_radius_evidence(np.random.default_rng(rng_seed), False)
    assert evidence.status == expected, (r, evidence.detail)
