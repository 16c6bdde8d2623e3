import numpy as np
import pytest
import torch
from hypothesis import given, strategies as st
from scipy import stats

from ganphase.simulate.mixtures import GaussianMixture, UniformBox, table2_case


def test_log_prob_matches_scipy_multivariate_normal():
    rng = np.random.default_rng(0)
    mix = GaussianMixture(rng.normal(size=(3, 4)), rng.uniform(0.3, 2, size=(3, 4)), [0.2, 0.3, 0.5])
    x = rng.normal(size=(20, 4))
    ref = np.log(sum(w * stats.multivariate_normal(m, np.diag(s ** 2)).pdf(x)
                     for w, m, s in zip(mix.weights, mix.means, mix.sigmas)))
    np.testing.assert_allclose(mix.log_prob(x), ref, rtol=1e-12, atol=1e-12)


def test_score_vs_finite_differences_and_autograd():
    rng = np.random.default_rng(1)
    mix = GaussianMixture(rng.normal(size=(4, 3)), rng.uniform(0.5, 1.5, size=4))
    x = rng.normal(size=(10, 3))
    h = 1e-6
    fd = np.stack([(mix.log_prob(x + h * e) - mix.log_prob(x - h * e)) / (2 * h) for e in np.eye(3)], axis=1)
    np.testing.assert_allclose(mix.score(x), fd, rtol=1e-6, atol=1e-7)
    tm = mix.to_torch(device="cpu")
    xt = torch.tensor(x, requires_grad=True)
    (g,) = torch.autograd.grad(tm.log_prob(xt).sum(), xt)
    np.testing.assert_allclose(g.numpy(), mix.score(x), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(tm.score(xt.detach()).numpy(), mix.score(x), rtol=1e-10, atol=1e-12)


@given(sep=st.floats(0.01, 50.0), s=st.floats(0.1, 3.0), u=st.floats(1e-6, 1 - 1e-6))
def test_1d_cdf_ppf_vs_scipy(sep, s, u):
    mix = GaussianMixture([-sep, sep], [s, 2 * s], [0.3, 0.7])
    x = np.linspace(-sep - 3, sep + 3, 7)
    ref = 0.3 * stats.norm(-sep, s).cdf(x) + 0.7 * stats.norm(sep, 2 * s).cdf(x)
    np.testing.assert_allclose(mix.cdf(x), ref, rtol=1e-12, atol=1e-15)
    q = mix.ppf(np.array([u]))
    assert abs(mix.cdf(q)[0] - u) < 1e-12


def test_far_separation_stays_finite():
    mix = GaussianMixture([[0.0], [1000.0]], 1.0)
    x = np.array([[500.0], [-3000.0]])
    assert np.all(np.isfinite(mix.log_prob(x))) and np.all(np.isfinite(mix.score(x)))


def test_uniform_box_and_table2():
    box = UniformBox([-2, -2], [2, 2])
    np.testing.assert_allclose(box.log_prob([[0, 0], [3, 0]]), [-np.log(16), -np.inf])
    for k in (1, 2, 3, 4):
        p_data, p_g = table2_case(k)
        assert p_data.n_components == 4 and p_g.dim == 2
    np.testing.assert_allclose(table2_case(1)[0].sigmas ** 2, 0.1)


@pytest.mark.parametrize("kw", [dict(means=[[0.0]], sigmas=0.0), dict(means=[[0.0]], sigmas=1.0, weights=[0.5]),
                                dict(means=[[np.nan]], sigmas=1.0), dict(means=[[0.0, 0.0]], sigmas=[[1.0]])])
def test_bad_inputs(kw):
    with pytest.raises(ValueError):
        GaussianMixture(**kw)
    with pytest.raises(ValueError):
        table2_case(5)


def test_ppf_deep_tails_and_single_gaussian_vs_scipy():
    """The vectorised inverse reaches u = 1e-300 (log-space bisection) and equals scipy's norm.ppf for one component."""
    mix = GaussianMixture([-8.0, 0.5, 8.0], [1.0, 0.3, 2.0], [0.3, 0.2, 0.5])
    u = np.logspace(-300, -2, 50)
    np.testing.assert_allclose(mix.log_cdf(mix.ppf(u)), np.log(u), rtol=0, atol=1e-10)
    v = np.logspace(-15, -2, 30)
    np.testing.assert_allclose(mix.log_sf(mix.ppf(1 - v)), np.log1p(-(1 - v)), rtol=0, atol=1e-10)
    one = GaussianMixture([1.5], [0.7])
    w = np.linspace(1e-8, 1 - 1e-8, 401)
    np.testing.assert_allclose(one.ppf(w), stats.norm(1.5, 0.7).ppf(w), rtol=0, atol=1e-12)


def test_1d_score_keeps_a_flat_input_flat():
    mix = GaussianMixture([-1.0, 2.0], 0.5)
    x = np.linspace(-3, 3, 11)
    assert mix.score(x).shape == (11,)
    np.testing.assert_allclose(mix.score(x), mix.score(x[:, None])[:, 0])
    # and the values are d/dx log p, by central differences of scipy's densities
    h = 1e-6
    log_p = lambda t: np.log(0.5 * stats.norm(-1.0, 0.5).pdf(t) + 0.5 * stats.norm(2.0, 0.5).pdf(t))  # noqa: E731
    np.testing.assert_allclose(mix.score(x), (log_p(x + h) - log_p(x - h)) / (2 * h), rtol=1e-6, atol=1e-6)
