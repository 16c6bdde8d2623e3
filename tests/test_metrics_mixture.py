"""Mixture metrics: one-mode generators, real samples (chi-square shares), hull distance vs Delaunay."""
import numpy as np
import pytest
from scipy.spatial import Delaunay
from scipy.stats import chi2

from ganphase.simulate.data import mixture_spec, sample_mixture
from ganphase.simulate.metrics.mixture import hull_distance, mixture_metrics

MEANS, SIGMA = mixture_spec("gmm-3d")


def test_one_mode_generator_covers_one_of_eight():
    rng = np.random.default_rng(0)
    x = MEANS[3] + SIGMA * rng.standard_normal((256, 3))
    out = mixture_metrics(x, MEANS, SIGMA)
    assert out["n_modes"] == 8 and out["modes_covered"] == 1
    assert out["mode_counts"][3] == sum(out["mode_counts"])
    assert out["mode_tv"] == pytest.approx(1 - 1 / 8)


def test_real_samples_cover_all_modes_with_chi_square_quality():
    rng = np.random.default_rng(1)
    x, _ = sample_mixture(MEANS, SIGMA, 20000, rng)
    out = mixture_metrics(x, MEANS, SIGMA)
    assert out["modes_covered"] == 8
    # modes are 2 / sigma ~ 17.9 sigma apart: P(within 3 sigma) = P(chi2_3 <= 9)
    assert out["high_quality"] == pytest.approx(chi2.cdf(9, df=3), abs=0.005)
    assert out["high_quality"] + out["mode_mixture"] + out["off_support"] == pytest.approx(1.0)


def test_min_share_decides_coverage():
    rng = np.random.default_rng(2)
    x = np.concatenate([MEANS[0] + SIGMA * 0.1 * rng.standard_normal((250, 3)),
                        MEANS[1] + SIGMA * 0.1 * rng.standard_normal((6, 3))])
    # 6 of 256 samples: below the default 256 / 32 = 8, above 256 * 0.02 = 5.12
    assert mixture_metrics(x, MEANS, SIGMA)["modes_covered"] == 1
    assert mixture_metrics(x, MEANS, SIGMA, min_share=0.02)["modes_covered"] == 2


def test_midpoints_are_mode_mixture_and_far_points_off_support():
    mid = (MEANS[0] + MEANS[1]) / 2                 # edge midpoint of the cube, 1 from both centres
    centre = np.zeros(3)                            # the cube's centre, sqrt(3) from every mode
    far = np.array([5.0, 5.0, 5.0])
    out = mixture_metrics(np.stack([mid, centre, far, MEANS[2]]), MEANS, SIGMA)
    assert out["mode_mixture"] == 0.5 and out["off_support"] == 0.25 and out["high_quality"] == 0.25


def test_hull_distance_of_the_cube():
    rng = np.random.default_rng(3)
    x = rng.uniform(-2, 2, (300, 3))
    # the hull of the 8 centres is the cube [-1, 1]^3: distance = norm of the excess over the box
    expected = np.linalg.norm(np.clip(np.abs(x) - 1.0, 0, None), axis=1)
    assert hull_distance(x, MEANS) == pytest.approx(expected, abs=1e-6)


def test_hull_distance_zero_exactly_inside_delaunay():
    means, _ = mixture_spec("ring:7:2.0:0.05")
    rng = np.random.default_rng(4)
    x = rng.uniform(-2.5, 2.5, (400, 2))
    inside = Delaunay(means).find_simplex(x) >= 0
    d = hull_distance(x, means)
    assert np.all(d[inside] < 1e-6)
    assert np.all(d[~inside] > 0)


def test_colinear_modes_have_a_mixture_region():
    means, sigma = mixture_spec("grid:1x3:0.05")         # three modes on a line in 2-D
    assert means.tolist() == [[0, -2], [0, 0], [0, 2]]
    x = np.array([[1.0, 1.0], [0.1, 0.5], [0.0, 3.1]])
    d = hull_distance(x, means)
    assert d == pytest.approx([1.0, 0.1, 1.1], abs=1e-6)  # the hull is the segment from (0, -2) to (0, 2)
    out = mixture_metrics(np.array([[0.0, 1.0], [0.1, 1.0]]), means, sigma)
    assert out["mode_mixture"] == 1.0


def test_bad_input_raises():
    with pytest.raises(ValueError):
        mixture_metrics(np.zeros((4, 2)), MEANS, SIGMA)
    with pytest.raises(ValueError):
        mixture_metrics(np.zeros((4, 3)), MEANS, -1.0)
    with pytest.raises(ValueError):
        mixture_metrics(np.zeros((4, 3)), MEANS, SIGMA, min_share=0)
