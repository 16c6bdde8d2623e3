"""Precision / recall / density / coverage: hand cases, Naeem et al.'s expectations, the prdc package."""
import numpy as np
import pytest

from ganphase.simulate.metrics.prdc import (expected_coverage_identical, knn_radii, prdc,
                                            support_precision_recall)


def test_knn_radii_on_a_line():
    x = np.array([[0.0], [1.0], [3.0], [7.0]])
    # 1st neighbours: 1, 1, 2, 4; 2nd: 3, 2, 3, 6
    assert knn_radii(x, 1).tolist() == [1.0, 1.0, 2.0, 4.0]
    assert knn_radii(x, 2).tolist() == [3.0, 2.0, 3.0, 6.0]


def test_same_set_gives_precision_recall_coverage_one():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((300, 16))
    out = prdc(x, x, k=5)
    assert out["precision"] == 1.0 and out["recall"] == 1.0 and out["coverage"] == 1.0
    # without ties the open ball of radius r_k(X_i) holds X_i itself and its k - 1 nearer neighbours:
    # N k memberships in all, so density = N k / (k N) = 1
    assert out["density"] == pytest.approx(1.0, abs=1e-12)


def test_identical_distributions_match_naeem_expectations():
    rng = np.random.default_rng(1)
    n, m, k = 400, 400, 5
    runs = [prdc(rng.standard_normal((n, 8)), rng.standard_normal((m, 8)), k=k) for _ in range(12)]
    dens = np.mean([r["density"] for r in runs])
    cov = np.mean([r["coverage"] for r in runs])
    assert dens == pytest.approx(1.0, abs=0.05)                                 # E[density] = 1
    assert cov == pytest.approx(expected_coverage_identical(n, m, k), abs=0.01)  # ~ 1 - 2^-5
    assert np.mean([r["precision"] for r in runs]) > 0.7
    assert np.mean([r["recall"] for r in runs]) > 0.7


def test_collapsed_fake_set_has_no_recall():
    rng = np.random.default_rng(2)
    real = rng.standard_normal((256, 8))
    fake = np.tile(real[:1], (256, 1))            # one real point repeated: a full collapse
    out = prdc(real, fake, k=5)
    assert out["precision"] == 1.0 and out["recall"] == 0.0
    assert out["coverage"] == pytest.approx(1 / 256, abs=6 / 256)   # only the balls around that point


def test_matches_the_prdc_package():
    import prdc as pkg
    rng = np.random.default_rng(3)
    real, fake = rng.standard_normal((500, 20)), rng.standard_normal((300, 20)) + 0.3
    import contextlib
    import io
    with contextlib.redirect_stdout(io.StringIO()):
        theirs = pkg.compute_prdc(real, fake, nearest_k=5)
    ours = prdc(real, fake, k=5)
    for key in ("precision", "recall", "density", "coverage"):
        assert ours[key] == pytest.approx(float(theirs[key]), abs=1e-12)


def test_support_precision_recall_hand_case():
    real = np.array([[0.0, 0.0], [10.0, 0.0]])
    fake = np.array([[0.5, 0.0], [0.0, 1.0], [5.0, 5.0]])
    out = support_precision_recall(real, fake, tau=1.0)
    # fakes 1 and 2 lie within 1 of (0, 0) (closed ball); fake 3 is far; only real (0, 0) is covered
    assert out == {"precision": 2 / 3, "recall": 1 / 2}


def test_support_precision_recall_brute_force():
    rng = np.random.default_rng(4)
    real, fake = rng.standard_normal((60, 3)), rng.standard_normal((40, 3)) * 1.5
    tau = 0.7
    prec = np.mean([any(np.linalg.norm(f - r) <= tau for r in real) for f in fake])
    rec = np.mean([any(np.linalg.norm(f - r) <= tau for f in fake) for r in real])
    assert support_precision_recall(real, fake, tau) == {"precision": prec, "recall": rec}


def test_bad_input_raises():
    with pytest.raises(ValueError):
        prdc(np.zeros((10, 2)), np.zeros((3, 2)), k=5)      # too few fakes for k
    with pytest.raises(ValueError):
        support_precision_recall(np.zeros((3, 2)), np.zeros((3, 2)), tau=0)


def test_matches_the_prdc_package_on_network_features():
    """The same custom feature network for both: precision, recall, density, coverage agree to 1e-6 relative."""
    import contextlib
    import io

    import prdc as pkg
    from feature_net import FeatureNet, digits_features

    _, _, real, fake = digits_features(FeatureNet())
    for k in (3, 5, 10):
        with contextlib.redirect_stdout(io.StringIO()):
            theirs = pkg.compute_prdc(real, fake, nearest_k=k)
        ours = prdc(real, fake, k=k)
        assert 0 < ours["precision"] < 1 and 0 < ours["coverage"] < 1      # a case that separates the metrics
        for key in ("precision", "recall", "density", "coverage"):
            assert ours[key] == pytest.approx(float(theirs[key]), rel=1e-6, abs=0)
