"""Frechet distance between Gaussian fits of two feature sets (the FID of Heusel et al. 2017).

    FD = ||mu_1 - mu_2||^2 + tr(S_1) + tr(S_2) - 2 tr((S_1^{1/2} S_2 S_1^{1/2})^{1/2})

(background notes 001, Appendix A.4; the paper compares its monitors with it in
Section 6.2 and Appendix G.4).  With Inception features it is the FID; the
toolkit uses the penultimate layer of its own classifier (:mod:`.classifier`),
so its values are on another scale than published FIDs.

The trace term is computed from the symmetric positive semi-definite matrix
S_1^{1/2} S_2 S_1^{1/2} (eigh, eigenvalues clipped at 0), whose eigenvalues equal
those of S_1 S_2.  No complex numbers arise, and a singular covariance (a
collapsed generator: few distinct samples, or one) gives a finite distance.
"""
from __future__ import annotations

import numpy as np


def _check_features(f, name):
    f = np.asarray(f, dtype=np.float64)
    if f.ndim != 2 or f.shape[0] < 2 or f.shape[1] < 1:
        raise ValueError(f"{name} must be a 2-D array of at least 2 samples (rows) and 1 feature, got shape {f.shape}")
    if not np.all(np.isfinite(f)):
        raise ValueError(f"{name} holds NaN or infinite values; features must be finite")
    return f


def gaussian_fit(features) -> tuple[np.ndarray, np.ndarray]:
    """(mean, covariance) of features (n, d), covariance with the unbiased 1/(n-1) normalisation."""
    f = _check_features(features, "features")
    return f.mean(0), np.atleast_2d(np.cov(f, rowvar=False))


def _psd_sqrt(s: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eigh((s + s.T) / 2)
    return (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T


def trace_sqrt_product(s1: np.ndarray, s2: np.ndarray) -> float:
    """tr((S_1 S_2)^{1/2}) = sum of square roots of the eigenvalues of S_1^{1/2} S_2 S_1^{1/2} (>= 0)."""
    r = _psd_sqrt(s1)
    m = r @ s2 @ r
    w = np.linalg.eigvalsh((m + m.T) / 2)
    return float(np.sqrt(np.clip(w, 0.0, None)).sum())


def frechet_distance(mu1, sigma1, mu2, sigma2) -> float:
    """Frechet distance between N(mu1, sigma1) and N(mu2, sigma2); always a finite float >= 0."""
    mu1, mu2 = np.atleast_1d(np.asarray(mu1, np.float64)), np.atleast_1d(np.asarray(mu2, np.float64))
    s1, s2 = np.atleast_2d(np.asarray(sigma1, np.float64)), np.atleast_2d(np.asarray(sigma2, np.float64))
    d = mu1.shape[0]
    if mu1.shape != (d,) or mu2.shape != (d,) or s1.shape != (d, d) or s2.shape != (d, d):
        raise ValueError(f"means must be vectors of one length d and covariances d x d, got {mu1.shape}, "
                         f"{s1.shape}, {mu2.shape}, {s2.shape}")
    for a, name in ((mu1, "mu1"), (mu2, "mu2"), (s1, "sigma1"), (s2, "sigma2")):
        if not np.all(np.isfinite(a)):
            raise ValueError(f"{name} holds NaN or infinite values")
    diff = mu1 - mu2
    value = diff @ diff + np.trace(s1) + np.trace(s2) - 2.0 * trace_sqrt_product(s1, s2)
    return float(max(value, 0.0))


def frechet_distance_features(f1, f2) -> float:
    """Frechet distance between the Gaussian fits of two feature sets (n1, d) and (n2, d)."""
    f1, f2 = _check_features(f1, "first feature set"), _check_features(f2, "second feature set")
    if f1.shape[1] != f2.shape[1]:
        raise ValueError(f"feature sets must have the same dimension, got {f1.shape[1]} and {f2.shape[1]}")
    return frechet_distance(*gaussian_fit(f1), *gaussian_fit(f2))
