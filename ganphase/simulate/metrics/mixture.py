"""Mode coverage, sample quality and mode mixture for Gaussian-mixture data (any dimension).

For the mixture (1/K) sum_k N(mu_k, sigma^2 I) (Assumption 2.1; Appendix F.2's
3-D mixture, G.1's 2-D one) and generated samples x_1..x_M, with radius
r = ``radius`` * sigma (default 3 sigma) and C = conv{mu_1, ..., mu_K}:

* a sample is *high quality* when ``min_k ||x - mu_k|| <= r``; it is assigned to
  its nearest centre;
* mode k is *covered* when it is assigned at least ``min_share`` * M samples
  (default ``min_share = 1 / (4K)``, a quarter of the fair share 1/K; with
  M = 256 and K = 8 that is 8 samples);
* a sample lies in the *mode-mixture region* when it is farther than r from
  every centre but within r of the convex hull C (``dist(x, C) <= r``):
  between the modes, where Theorem 3.4 places mode mixture.  The hull is
  dilated by r so that the region is not empty when the centres do not span the
  space (e.g. modes on a line in 2-D); dist(x, C) is found by non-negative least
  squares (scipy.optimize.nnls) with the sum-to-one constraint as a heavily
  weighted extra row;
* the remaining samples (far from every centre and from C) are *off support*.

``high_quality + mode_mixture + off_support = 1``.  ``mode_tv`` is the total
variation between the assigned samples' histogram over modes (normalised over
the high-quality samples) and the uniform 1/K; with no high-quality sample it
is 1 - 1/K, its largest value.
"""
from __future__ import annotations

import numpy as np
from scipy.optimize import nnls
from scipy.spatial.distance import cdist

HULL_WEIGHT = 1e4   # weight of the sum-to-one row in the NNLS projection onto the hull


def _check(x, means, sigma, radius):
    means = np.asarray(means, np.float64)
    if means.ndim != 2 or len(means) < 1:
        raise ValueError(f"means must be a (K, n) array of mixture centres, got shape {means.shape}")
    x = np.asarray(x, np.float64)
    if x.ndim == 1 and means.shape[1] == 1:
        x = x[:, None]
    if x.ndim != 2 or x.shape[1] != means.shape[1] or len(x) < 1:
        raise ValueError(f"samples must be an (M, {means.shape[1]}) array with M >= 1, got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("samples hold NaN or infinite values")
    if not (np.isfinite(sigma) and sigma > 0):
        raise ValueError(f"sigma must be a positive finite standard deviation, got {sigma!r}")
    if not (np.isfinite(radius) and radius > 0):
        raise ValueError(f"radius must be a positive number of standard deviations, got {radius!r}")
    return x, means


def nearest_mode(x, means) -> tuple[np.ndarray, np.ndarray]:
    """(index of the nearest centre, distance to it) for each sample."""
    d = cdist(np.asarray(x, np.float64), np.asarray(means, np.float64))
    idx = d.argmin(1)
    return idx, d[np.arange(len(d)), idx]


def hull_distance(x, means) -> np.ndarray:
    """Euclidean distance from each sample to the convex hull of the centres.

    min_{lambda >= 0, sum lambda = 1} ||means^T lambda - x||, solved as NNLS with the row
    HULL_WEIGHT * scale * (sum lambda - 1) appended (scale: the centres' spread).
    """
    x, means = np.atleast_2d(np.asarray(x, np.float64)), np.asarray(means, np.float64)
    scale = max(1.0, float(np.abs(means).max()))
    w = HULL_WEIGHT * scale
    a = np.vstack([means.T, w * np.ones((1, len(means)))])
    out = np.empty(len(x))
    for i, xi in enumerate(x):
        lam, _ = nnls(a, np.append(xi, w), maxiter=50 * len(means))
        out[i] = np.linalg.norm(means.T @ (lam / lam.sum()) - xi)
    return out


def mixture_metrics(x, means, sigma: float, radius: float = 3.0, min_share: float | None = None) -> dict:
    """Modes covered, high-quality share, mode-mixture share, off-support share, mode TV (module docstring).

    Returns JSON-able scalars and ``mode_counts`` (a list of K integers).
    """
    x, means = _check(x, means, sigma, radius)
    k = len(means)
    if min_share is None:
        min_share = 1.0 / (4 * k)
    if not (0 < min_share <= 1):
        raise ValueError(f"min_share must be in (0, 1], got {min_share!r}")
    r = radius * sigma
    idx, dist = nearest_mode(x, means)
    good = dist <= r
    counts = np.bincount(idx[good], minlength=k)
    far = ~good
    mixture = np.zeros(len(x), bool)
    if far.any():
        mixture[far] = hull_distance(x[far], means) <= r
    m = len(x)
    hist = counts / counts.sum() if counts.sum() else np.zeros(k)
    return {"n_modes": k,
            "modes_covered": int((counts >= min_share * m).sum()),
            "high_quality": float(good.mean()),
            "mode_mixture": float(mixture.mean()),
            "off_support": float((far & ~mixture).mean()),
            "mode_tv": float(0.5 * np.abs(hist - 1.0 / k).sum()) if counts.sum() else 1.0 - 1.0 / k,
            "mode_counts": counts.astype(int).tolist()}
