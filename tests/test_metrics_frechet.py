"""Frechet distance: closed forms, two independent routes (scipy sqrtm, eigenvalues of S1 S2), collapse."""
import warnings

import numpy as np
import pytest
import scipy.linalg
from hypothesis import given, strategies as st

from ganphase.simulate.metrics.frechet import frechet_distance, frechet_distance_features, gaussian_fit


def _spd(rng, d, rank=None):
    a = rng.standard_normal((d, rank or d))
    return a @ a.T + (1e-3 * np.eye(d) if rank is None else 0.0)


def _fd_sqrtm(mu1, s1, mu2, s2):
    root = scipy.linalg.sqrtm(s1 @ s2)
    return float(np.sum((mu1 - mu2) ** 2) + np.trace(s1) + np.trace(s2) - 2 * np.trace(root).real)


def _fd_eigs(mu1, s1, mu2, s2):
    lam = np.linalg.eigvals(s1 @ s2).real
    return float(np.sum((mu1 - mu2) ** 2) + np.trace(s1) + np.trace(s2) - 2 * np.sqrt(np.clip(lam, 0, None)).sum())


@given(st.integers(0, 2**31), st.integers(1, 12))
def test_matches_sqrtm_and_eigenvalue_routes(seed, d):
    rng = np.random.default_rng(seed)
    mu1, mu2 = rng.standard_normal(d), rng.standard_normal(d)
    s1, s2 = _spd(rng, d), _spd(rng, d)
    fd = frechet_distance(mu1, s1, mu2, s2)
    scale = 1 + np.trace(s1) + np.trace(s2)
    assert fd == pytest.approx(_fd_sqrtm(mu1, s1, mu2, s2), abs=1e-7 * scale)
    assert fd == pytest.approx(_fd_eigs(mu1, s1, mu2, s2), abs=1e-7 * scale)


def test_commuting_covariances_closed_form():
    # diagonal covariances: FD = |dmu|^2 + sum (sqrt a_i - sqrt b_i)^2
    a, b = np.array([1.0, 4.0, 0.25]), np.array([9.0, 1.0, 0.25])
    mu1, mu2 = np.zeros(3), np.array([1.0, -2.0, 0.5])
    expected = 1 + 4 + 0.25 + (1 - 3) ** 2 + (2 - 1) ** 2 + 0
    assert frechet_distance(mu1, np.diag(a), mu2, np.diag(b)) == pytest.approx(expected, rel=1e-12)


def test_identical_gaussians_give_zero():
    rng = np.random.default_rng(0)
    s = _spd(rng, 6)
    assert frechet_distance(np.ones(6), s, np.ones(6), s) == pytest.approx(0.0, abs=1e-9)


def test_real_vs_real_features_near_zero_and_shifted_far():
    rng = np.random.default_rng(1)
    f1, f2 = rng.standard_normal((20000, 4)), rng.standard_normal((20000, 4))
    assert frechet_distance_features(f1, f2) < 0.01
    # shifting every feature by 3: FD -> 4 * 9 = 36
    assert frechet_distance_features(f1, f2 + 3.0) == pytest.approx(36.0, rel=0.01)


def test_collapsed_samples_give_finite_large_distance():
    rng = np.random.default_rng(2)
    real = rng.standard_normal((2000, 32))
    one = np.tile(rng.standard_normal(32), (256, 1))            # every sample identical: covariance 0
    few = one.copy()
    few[128:] += 0.5                                             # two distinct samples: rank-1 covariance
    for fake in (one, few):
        mu, cov = gaussian_fit(fake)
        fd = frechet_distance_features(real, fake)
        assert isinstance(fd, float) and np.isfinite(fd)
        assert fd > 25.0                                         # at least tr(S_real) - (rank-1 part) ~ 32
        # the closed form with a singular covariance, via the eigenvalue route
        assert fd == pytest.approx(_fd_eigs(*gaussian_fit(real), mu, cov), rel=1e-6)
        # scipy's sqrtm struggles on singular products; when it returns, its real part agrees
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            alt = _fd_sqrtm(*gaussian_fit(real), mu, cov)
        if np.isfinite(alt):
            assert fd == pytest.approx(alt, rel=1e-3)


def test_bad_input_raises():
    with pytest.raises(ValueError):
        frechet_distance(np.zeros(2), np.eye(3), np.zeros(2), np.eye(2))
    with pytest.raises(ValueError):
        frechet_distance_features(np.zeros((5, 2)), np.zeros((5, 3)))
    with pytest.raises(ValueError):
        frechet_distance_features(np.full((5, 2), np.nan), np.zeros((5, 2)))


def test_matches_torchmetrics_fid_with_the_same_feature_network():
    """torchmetrics' FrechetInceptionDistance with ``feature=`` our network (no torchvision needed) against
    frechet_distance_features on that network's features: 1e-6 relative (torchmetrics returns its
    metric dtype, float32 by default, hence not tighter)."""
    import torch
    from torchmetrics.image.fid import FrechetInceptionDistance

    from feature_net import FeatureNet, digits_features

    net = FeatureNet()
    real, fake, f_real, f_fake = digits_features(net)
    fid = FrechetInceptionDistance(feature=net, reset_real_features=True)
    fid.update(real, real=True)
    fid.update(fake, real=False)
    theirs = float(fid.compute())
    ours = frechet_distance_features(f_real, f_fake)
    assert ours > 1e-3 * np.trace(np.cov(f_real, rowvar=False))          # a distance well above rounding
    assert ours == pytest.approx(theirs, rel=1e-6)
    fid.reset()
    fid.update(real[:300], real=True)
    fid.update(real[300:], real=False)
    assert frechet_distance_features(f_real[:300], f_real[300:]) == pytest.approx(float(fid.compute()), rel=1e-6)
