"""ganphase.simulate.maps against independent computations: mpmath at 50 digits, scipy.stats,
finite differences, Monte Carlo and the change-of-variables identity."""
import pytest

pytest.importorskip("ganphase.simulate.mixtures")

import mpmath as mp
import numpy as np
from hypothesis import given, strategies as st
from scipy import integrate, special, stats

from ganphase.simulate.maps import (OptimalTransportMap1D, PiecewiseLinearMap, ProductMap, TruncatedGaussianBall,
                                    TruncatedPriorMap, grid_mixture, midpoint_anchors, min_feasible_slope,
                                    slope_profile_map, tight_map)
from ganphase.simulate.mixtures import GaussianMixture

MIX = GaussianMixture(np.array([[-4.0], [0.5], [6.0]]), np.array([0.7, 1.3, 0.5]), np.array([0.2, 0.5, 0.3]))


def mp_quantile_map(z, mix, dps=50):
    """Psi^{-1}(Phi(z)) by bracketed root finding in mpmath (an independent high-precision oracle)."""
    means, sigmas, weights = (np.ravel(a).tolist() for a in (mix.means, mix.sigmas, mix.weights))
    with mp.workdps(dps):
        target = mp.ncdf(mp.mpf(z) if not isinstance(z, mp.mpf) else z)
        f = lambda t: mp.fsum(w * mp.ncdf((t - m) / s) for m, s, w in zip(means, sigmas, weights)) - target
        lo, hi = mp.mpf(min(means) - 12 * max(sigmas)), mp.mpf(max(means) + 12 * max(sigmas))
        for _ in range(4 * dps):   # bisection: f is increasing
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if f(mid) < 0 else (lo, mid)
        return (lo + hi) / 2


mixtures = st.builds(
    lambda k, seed: GaussianMixture(np.random.default_rng(seed).uniform(-6, 6, (k, 1)),
                                    np.random.default_rng(seed + 1).uniform(0.3, 2.0, k),
                                    np.random.default_rng(seed + 2).dirichlet(np.ones(k))),
    st.integers(1, 4), st.integers(0, 10_000))


@pytest.mark.parametrize("z", [-8.0, -6.5, -3.0, -0.4, 0.0, 0.9, 4.0, 7.2, 8.0])
def test_ot_map_matches_mpmath(z):
    assert OptimalTransportMap1D(MIX)(np.array([z]))[0] == pytest.approx(float(mp_quantile_map(z, MIX)), abs=1e-8)


@given(mixtures)
def test_ot_map_inverts_the_cdf(mix):
    """Psi(g(z)) = Phi(z) on the lower half, 1 - Psi(g(z)) = Phi(-z) on the upper half (relative)."""
    ot = OptimalTransportMap1D(mix)
    z = np.linspace(-8, 8, 81)
    x = ot(z)
    low = z <= 0
    np.testing.assert_allclose(np.asarray(mix.cdf(x[low])), special.ndtr(z[low]), rtol=1e-9)
    mirror = GaussianMixture(-np.asarray(mix.means), mix.sigmas, mix.weights)
    np.testing.assert_allclose(np.asarray(mirror.cdf(-x[~low])), special.ndtr(-z[~low]), rtol=1e-9)
    assert np.all(np.diff(x) > 0)
    np.testing.assert_allclose(ot.inverse(x), z, atol=1e-7)


def test_ot_map_pushes_normal_to_mixture_ks():
    rng = np.random.default_rng(3)
    x = OptimalTransportMap1D(MIX)(rng.standard_normal(20_000))
    assert stats.kstest(x, lambda t: np.asarray(MIX.cdf(t))).pvalue > 1e-3
    # the same test rejects a wrong map: the moment-matched affine map
    mean = float(np.sum(np.ravel(MIX.weights) * np.ravel(MIX.means)))
    wrong = mean + 4.0 * rng.standard_normal(20_000)
    assert stats.kstest(wrong, lambda t: np.asarray(MIX.cdf(t))).pvalue < 1e-6


@pytest.mark.parametrize("z", [-2.0, -0.3, 0.0, 0.7, 1.9])
def test_slope_matches_finite_differences(z):
    ot = OptimalTransportMap1D(MIX)
    h = 1e-5
    fd = (ot(np.array([z + h]))[0] - ot(np.array([z - h]))[0]) / (2 * h)
    assert ot.slope(np.array([z]))[0] == pytest.approx(fd, rel=1e-6)


@pytest.mark.parametrize("z", [-7.5, 6.0, 8.0])
def test_slope_matches_mpmath_derivative_in_the_tails(z):
    """Central difference at 60 digits with h = 1e-20 (truncation error ~1e-40)."""
    with mp.workdps(60):
        h = mp.mpf(10)**-20
        d = (mp_quantile_map(mp.mpf(z) + h, MIX, 60) - mp_quantile_map(mp.mpf(z) - h, MIX, 60)) / (2 * h)
    assert OptimalTransportMap1D(MIX).slope(np.array([z]))[0] == pytest.approx(float(d), rel=1e-8)


def test_max_steepness_beats_a_dense_grid():
    ot = OptimalTransportMap1D(MIX)
    z_star, best = ot.max_steepness()
    coarse = ot.slope(np.linspace(-8, 8, 20_001))
    assert best >= coarse.max() * (1 - 1e-12)
    local = ot.slope(np.linspace(z_star - 1e-3, z_star + 1e-3, 20_001))   # spacing 1e-7 around the peak
    assert local.max() <= best * (1 + 1e-10)
    assert best <= local.max() * (1 + 1e-8)


def test_product_map_change_of_variables_and_marginals():
    factors, centres = grid_mixture([[-3.0, 3.0], [-5.0, 0.5, 6.0]], 0.8)
    T = ProductMap(factors)
    rng = np.random.default_rng(0)
    z = rng.standard_normal((4000, 2))
    x = T(z)
    # log p_data(T(z)) + log det J_T(z) = log phi_2(z), with p_data the n-D mixture of Assumption 2.1
    p = GaussianMixture.assumption_2_1(centres, 0.8)
    lhs = np.asarray(p.log_prob(x)) + np.log(T.jacobian_diagonal(z)).sum(axis=1)
    np.testing.assert_allclose(lhs, stats.multivariate_normal(np.zeros(2)).logpdf(z), atol=1e-8)
    for j, f in enumerate(factors):
        assert stats.kstest(x[:, j], lambda t: np.asarray(f.cdf(t))).pvalue > 1e-3
    assert T.steepness(z).max() <= T.max_steepness() * (1 + 1e-9)


@pytest.mark.parametrize("dim,radius", [(1, 1.5), (2, 1.0), (3, 2.5)])
def test_truncated_ball_normaliser_density_and_samples(dim, radius):
    ball = TruncatedGaussianBall(dim, radius)
    rng = np.random.default_rng(dim)
    inside = np.mean(np.linalg.norm(rng.standard_normal((400_000, dim)), axis=1) < radius)
    assert ball.normaliser == pytest.approx(inside, abs=4e-3)
    if dim == 1:
        assert integrate.quad(lambda t: np.exp(ball.log_prob(np.array([[t]]))[0]), -radius, radius)[0] \
            == pytest.approx(1, abs=1e-10)
    if dim == 2:
        total = integrate.dblquad(lambda b, a: np.exp(ball.log_prob(np.array([[a, b]]))[0]), -radius, radius,
                                  lambda a: -np.sqrt(radius**2 - a**2), lambda a: np.sqrt(radius**2 - a**2))[0]
        assert total == pytest.approx(1, abs=1e-7)
    z = ball.sample(5000, rng)
    assert np.all(np.linalg.norm(z, axis=1) < radius)
    trunc_cdf = lambda s: stats.chi.cdf(s, dim) / ball.normaliser
    assert stats.kstest(np.linalg.norm(z, axis=1), trunc_cdf).pvalue > 1e-3
    w = ball.to_gaussian(z)   # the radial map pushes N_r(0, I) onto N(0, I)
    assert stats.kstest(np.sum(w**2, axis=1), stats.chi2(dim).cdf).pvalue > 1e-3
    np.testing.assert_allclose(ball.from_gaussian(w), z, atol=1e-9)
    assert np.all(np.isneginf(ball.log_prob(np.full((1, dim), radius))))


def test_truncated_prior_map_jacobian_matches_finite_differences():
    factors, centres = grid_mixture([[-2.0, 4.0], [-3.0, 1.0, 5.0]], 0.6)
    g = TruncatedPriorMap(factors, 1.7)
    z = np.array([[0.3, -0.9], [-1.1, 0.4], [0.05, 1.5]])
    h = 1e-6
    fd = np.stack([(g(z + h * e) - g(z - h * e)) / (2 * h) for e in np.eye(2)], axis=2)
    np.testing.assert_allclose(g.jacobian(z), fd, rtol=1e-5, atol=1e-7)
    # change of variables: |det J_g(z)| = p_z(z) / p_data(g(z))
    p = GaussianMixture.assumption_2_1(centres, 0.6)
    np.testing.assert_allclose(np.linalg.slogdet(g.jacobian(z))[1],
                               g.ball.log_prob(z) - np.asarray(p.log_prob(g(z))), atol=1e-8)
    np.testing.assert_allclose(g.steepness(z), np.linalg.svd(g.jacobian(z), compute_uv=False)[:, 0])


def test_piecewise_linear_map_and_its_inverse():
    g = PiecewiseLinearMap(np.array([-1.0, 0.0, 2.0]), np.array([-3.0, 0.0, 1.0]))
    z = np.linspace(-5, 5, 101)
    np.testing.assert_allclose(g.inverse(g(z)), z, atol=1e-12)
    assert g.max_slope == 3.0
    assert g(np.array([3.0]))[0] == pytest.approx(1.5)


def test_tight_and_profile_maps_meet_the_midpoint_conditions_with_slope_at_most_k():
    sigma = 0.5
    mix = GaussianMixture.assumption_2_1(np.array([[-5.0], [0.0], [4.0], [9.0]]), sigma)
    c, m = midpoint_anchors(mix)
    # c_i = Phi^{-1}(Psi(m_i)), independently from scipy's norm and a per-component sum
    psi = np.mean([stats.norm(mu, sigma).cdf(m) for mu in (-5.0, 0.0, 4.0, 9.0)], axis=0)
    np.testing.assert_allclose(c, stats.norm.ppf(psi), atol=1e-10)
    k = 1.3 * min_feasible_slope(mix)
    ot = OptimalTransportMap1D(mix)
    for g in (tight_map(mix, sigma, k), slope_profile_map(mix, k, antiderivative=ot),
              slope_profile_map(mix, k, base=lambda t: np.ones_like(t))):
        np.testing.assert_allclose(g(c), m, atol=1e-9)
        assert g.max_slope <= k * (1 + 1e-9)
    g = tight_map(mix, sigma, k)
    centres = np.array([-5.0, 0.0, 4.0, 9.0])
    half = (np.diff(centres) - 6 * sigma) / (2 * k)
    np.testing.assert_allclose(g(c - half), centres[:-1] + 3 * sigma, atol=1e-12)
    np.testing.assert_allclose(g(c + half), centres[1:] - 3 * sigma, atol=1e-12)


def test_bad_input_raises_value_error():
    two_d = GaussianMixture.assumption_2_1(np.zeros((1, 2)), 1.0)
    with pytest.raises(ValueError, match="1-D"):
        OptimalTransportMap1D(two_d)
    with pytest.raises(ValueError, match="GaussianMixture"):
        OptimalTransportMap1D("not a mixture")
    with pytest.raises(ValueError, match="finite"):
        OptimalTransportMap1D(MIX)(np.array([0.0, np.nan]))
    with pytest.raises(ValueError, match="sigma"):
        grid_mixture([[0.0, 1.0]], 0.0)
    with pytest.raises(ValueError, match="sigma"):
        grid_mixture([[0.0, 1.0]], -1.0)
    with pytest.raises(ValueError, match="finite"):
        grid_mixture([[0.0, np.nan]], 1.0)
    with pytest.raises(ValueError, match="radius"):
        TruncatedGaussianBall(2, 0.0)
    with pytest.raises(ValueError, match="dim"):
        TruncatedGaussianBall(0, 1.0)
    with pytest.raises(ValueError, match="inside the ball"):
        TruncatedGaussianBall(2, 1.0).to_gaussian(np.array([[1.0, 0.0]]))
    with pytest.raises(ValueError, match="increasing"):
        PiecewiseLinearMap(np.array([0.0, 1.0]), np.array([1.0, 0.0]))
    mix = GaussianMixture.assumption_2_1(np.array([[-4.0], [4.0]]), 1.0)
    with pytest.raises(ValueError, match="k"):
        tight_map(mix, 1.0, -1.0)
    three = GaussianMixture.assumption_2_1(np.array([[-4.0], [4.0], [12.0]]), 1.0)
    with pytest.raises(ValueError, match="midpoint"):
        tight_map(three, 1.0, 0.5 * min_feasible_slope(three))
    with pytest.raises(ValueError, match="z_max"):
        OptimalTransportMap1D(mix).max_steepness(z_max=-1)
    with pytest.raises(ValueError):
        GaussianMixture(np.array([[0.0], [1.0]]), np.array([1.0, 1.0]), np.array([0.3, 0.3]))
    with pytest.raises(ValueError):
        GaussianMixture(np.array([[0.0]]), np.array([0.0]), np.array([1.0]))
