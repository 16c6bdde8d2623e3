import numpy as np
import pytest
import torch
from hypothesis import given, strategies as st
from scipy import stats

from ganphase.simulate.fields import (optimal_discriminator, optimal_field, optimal_log_discriminator,
                                      to_torch_density)
from ganphase.simulate.mixtures import GaussianMixture, UniformBox, table2_case


def fd_field(p_data, p_g, x, h=1e-6):
    return np.stack([(optimal_log_discriminator(p_data, p_g, x + h * e) - optimal_log_discriminator(p_data, p_g, x - h * e))
                     / (2 * h) for e in np.eye(x.shape[1])], axis=1)


def mixture_pdf(mix, x):
    return sum(w * stats.multivariate_normal(m, np.diag(s ** 2)).pdf(x) for w, m, s in zip(mix.weights, mix.means, mix.sigmas))


@pytest.mark.parametrize("case", [1, 2, 3, 4])
def test_discriminator_matches_scipy_densities(case):
    p_data, p_g = table2_case(case)
    x = np.random.default_rng(case).uniform(-1.9, 1.9, size=(50, 2))
    pd = mixture_pdf(p_data, x)
    pg = np.full(len(x), 1 / 16) if case == 2 else mixture_pdf(p_g, x)
    np.testing.assert_allclose(optimal_discriminator(p_data, p_g, x), pd / (pd + pg), rtol=1e-10, atol=1e-300)


@given(seed=st.integers(0, 10**6), dim=st.integers(1, 4))
def test_field_matches_finite_differences_of_log_d(seed, dim):
    rng = np.random.default_rng(seed)
    p_data = GaussianMixture(rng.normal(0, 2, (3, dim)), rng.uniform(0.5, 1.5, (3, dim)), rng.dirichlet(np.ones(3)))
    p_g = GaussianMixture(rng.normal(0, 2, (2, dim)), rng.uniform(0.5, 1.5, (2, dim)), rng.dirichlet(np.ones(2)))
    x = rng.normal(0, 2, (20, dim))
    field = optimal_field(p_data, p_g, x)
    np.testing.assert_allclose(field, fd_field(p_data, p_g, x), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_torch_field_matches_autograd_and_numpy(dtype):
    rng = np.random.default_rng(3)
    p_data = GaussianMixture(rng.normal(0, 2, (4, 3)), rng.uniform(0.5, 1.5, (4, 3)))
    p_g = GaussianMixture(rng.normal(0, 2, (2, 3)), 1.0)
    x = rng.normal(0, 2, (30, 3))
    td, tg = to_torch_density(p_data, "cpu", dtype), to_torch_density(p_g, "cpu", dtype)
    xt = torch.tensor(x, dtype=td.dtype, requires_grad=True)
    lp_d, lp_g = td.log_prob(xt), tg.log_prob(xt)
    log_d = lp_d - torch.logaddexp(lp_d, lp_g)       # autograd through the log-density of d*, not the field formula
    (grad,) = torch.autograd.grad(log_d.sum(), xt)
    field = optimal_field(td, tg, xt.detach())
    tol = 1e-10 if dtype == "float64" else 1e-3
    np.testing.assert_allclose(field.numpy(), grad.numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(field.double().numpy(), optimal_field(p_data, p_g, x), rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_finite_at_1000_sigma_separation_in_dimension_512(dtype):
    n, sep = 512, 1000.0
    means = np.zeros((2, n))
    means[1, 0] = sep
    p_data = GaussianMixture(means, 1.0)
    p_g = GaussianMixture(np.full((1, n), 0.5), 1.0)
    rng = np.random.default_rng(0)
    x = np.concatenate([means[[0, 1, 1]] + rng.normal(size=(3, n)), rng.normal(0, 300, (3, n)), [means.mean(axis=0)]])
    for p_d, p_gg, pts in [(p_data, p_g, x), (to_torch_density(p_data, "cpu", dtype), to_torch_density(p_g, "cpu", dtype),
                                               torch.tensor(x, dtype=getattr(torch, dtype)))]:
        field, d = optimal_field(p_d, p_gg, pts), optimal_discriminator(p_d, p_gg, pts)
        field, d = np.asarray(field, dtype=float), np.asarray(d, dtype=float)
        assert np.all(np.isfinite(field)) and np.all((d >= 0) & (d <= 1))
    # near the far mode p_g is negligible (r -> oo): d* = 1 and the field vanishes;
    # where p_g dominates (r -> 0) the field is grad log r = score_data - score_g (Theorem C.1)
    f64 = optimal_field(p_data, p_g, x)
    assert np.all(f64[1:3] == 0)
    r0 = rng.normal(size=(1, n)) * 0.1 + 0.5
    r0[0, 0] = -40.0     # far from both modes of p_data, closer to p_g
    lr = p_data.log_prob(r0) - p_g.log_prob(r0)
    assert lr[0] < -30
    np.testing.assert_allclose(optimal_field(p_data, p_g, r0), p_data.score(r0) - p_g.score(r0), rtol=1e-12)


def test_uniform_support_gives_no_nan():
    p_data, p_g = table2_case(2)
    x = np.array([[3.0, 0.0], [0.5, -2.5], [1.0, 1.0], [-10.0, 10.0]])
    d, field = optimal_discriminator(p_data, p_g, x), optimal_field(p_data, p_g, x)
    assert np.all(np.isfinite(field)) and np.all(np.isfinite(d))
    np.testing.assert_array_equal(d[[0, 1, 3]], 1.0)
    np.testing.assert_array_equal(field[[0, 1, 3]], 0.0)
    # two disjoint uniforms: both densities vanish off their boxes
    a, b = UniformBox([0, 0], [1, 1]), UniformBox([2, 2], [3, 3])
    y = np.array([[0.5, 0.5], [2.5, 2.5], [5.0, 5.0]])
    np.testing.assert_array_equal(optimal_discriminator(a, b, y), [1.0, 0.0, 0.5])
    assert np.all(np.isfinite(optimal_field(a, b, y)))
    tb = to_torch_density(p_g, "cpu")
    td = to_torch_density(p_data, "cpu")
    np.testing.assert_allclose(optimal_field(td, tb, torch.tensor(x)).numpy(), field, rtol=1e-12, atol=0)


def test_points_must_be_two_dimensional():
    p_data, p_g = table2_case(1)
    with pytest.raises(ValueError, match="shape"):
        optimal_field(p_data, p_g, np.zeros(2))
    with pytest.raises(ValueError, match="shape"):
        optimal_discriminator(to_torch_density(p_data, "cpu"), to_torch_density(p_g, "cpu"), torch.zeros(2))


def test_sec22_evidence_passes_and_catches_a_wrong_field(monkeypatch):
    """The sec-2.2 evidence passes for the derivation and fails for grad r / (r (2 + r))."""
    from ganphase.simulate.evidence import fields as ev
    from ganphase.catalogue import CATALOGUE

    assert CATALOGUE.run_evidence("sec-2.2", seed=3).status == "passed"
    monkeypatch.setattr(ev, "_sec22_formula", lambda which: (lambda r, dr: dr / (r * (2 + r))))
    assert CATALOGUE.run_evidence("sec-2.2", seed=3).status == "failed"


def test_sec22_status_held_by_central_differences():
    """Printed: grad log d* = grad r / (r (1 + r)), r = p_data/p_g.  scipy densities (a two-mode p_data, a Gaussian
    p_g) and central differences of log d* and of r, at points of the test's own; the evidence's status must be the
    outcome."""
    from ganphase.catalogue import CATALOGUE

    p_data = lambda t: 0.3 * stats.norm.pdf(t, -1.5, 0.6) + 0.7 * stats.norm.pdf(t, 1.0, 0.9)   # noqa: E731
    p_g = lambda t: stats.norm.pdf(t, 0.2, 1.4)                                                 # noqa: E731
    r = lambda t: p_data(t) / p_g(t)                                                            # noqa: E731
    log_d = lambda t: np.log(p_data(t)) - np.log(p_data(t) + p_g(t))                            # noqa: E731
    t, h = np.linspace(-3, 3, 13), 1e-5
    lhs = (log_d(t + h) - log_d(t - h)) / (2 * h)
    rhs = (r(t + h) - r(t - h)) / (2 * h) / (r(t) * (1 + r(t)))
    holds = bool(np.all(np.abs(lhs - rhs) <= 1e-6 * (1 + np.abs(lhs))))
    assert CATALOGUE.run_evidence("sec-2.2", seed=1).status == ("passed" if holds else "failed")
