"""Precision, recall, density and coverage of generated features against real ones.

k-nearest-neighbour version (Kynkaanniemi et al. 2019; Naeem et al. 2020, the
definitions of the ``prdc`` package).  Real features X_1..X_N, fake Y_1..Y_M,
r_k(X_i) the distance from X_i to its k-th nearest other real point, r_k(Y_j)
likewise among the fakes, B(c, r) the open ball ``||x - c|| < r``:

    precision = (1/M) sum_j 1{ exists i: Y_j in B(X_i, r_k(X_i)) }
    recall    = (1/N) sum_i 1{ exists j: X_i in B(Y_j, r_k(Y_j)) }
    density   = (1/(kM)) sum_j sum_i 1{ Y_j in B(X_i, r_k(X_i)) }
    coverage  = (1/N) sum_i 1{ exists j: Y_j in B(X_i, r_k(X_i)) }

For identical distributions E[density] = 1 and E[coverage] =
1 - prod_{i=1..k} (N - i)/(N + M - i) (Naeem et al. 2020), which the tests check.

Fixed-radius version (background notes 001, Appendix A.4): with the closed balls
``||x - c|| <= tau``, S_R = union of B(X_i, tau), S_G = union of B(Y_j, tau),

    Precision(tau) = (1/M) sum_j 1{Y_j in S_R},   Recall(tau) = (1/N) sum_i 1{X_i in S_G}.
"""
from __future__ import annotations

import numpy as np
from scipy.spatial.distance import cdist


def _check(f, name):
    f = np.asarray(f, dtype=np.float64)
    if f.ndim != 2 or f.shape[0] < 1:
        raise ValueError(f"{name} must be a 2-D array (samples x features) with at least one row, got shape {f.shape}")
    if not np.all(np.isfinite(f)):
        raise ValueError(f"{name} holds NaN or infinite values; features must be finite")
    return f


def _check_k(k, n, name):
    if not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    if n <= k:
        raise ValueError(f"{name} needs more than k = {k} samples for k-nearest-neighbour radii, got {n}")


def knn_radii(features, k: int) -> np.ndarray:
    """Distance from each row to its k-th nearest other row (the row itself excluded)."""
    f = _check(features, "features")
    _check_k(k, len(f), "features")
    d = cdist(f, f)
    return np.partition(d, k, axis=1)[:, k]   # column 0 of the partition is the row's own distance 0


def prdc(real, fake, k: int = 5, real_radii=None) -> dict:
    """Precision, recall, density, coverage (Naeem et al. 2020) of ``fake`` against ``real`` features.

    ``real_radii`` (the k-NN radii of ``real``) may be passed when they are reused across calls.
    """
    real, fake = _check(real, "real features"), _check(fake, "fake features")
    if real.shape[1] != fake.shape[1]:
        raise ValueError(f"real and fake features must have one dimension, got {real.shape[1]} and {fake.shape[1]}")
    _check_k(k, len(fake), "fake features")
    r_real = knn_radii(real, k) if real_radii is None else np.asarray(real_radii, np.float64)
    if r_real.shape != (len(real),):
        raise ValueError(f"real_radii must hold one radius per real sample ({len(real)}), got shape {r_real.shape}")
    r_fake = knn_radii(fake, k)
    d = cdist(real, fake)                       # (N, M)
    inside_real = d < r_real[:, None]           # Y_j in B(X_i, r_k(X_i))
    return {"precision": float(inside_real.any(0).mean()),
            "recall": float((d < r_fake[None, :]).any(1).mean()),
            "density": float(inside_real.sum() / (k * len(fake))),
            "coverage": float(inside_real.any(1).mean())}


def expected_coverage_identical(n_real: int, n_fake: int, k: int) -> float:
    """E[coverage] when real and fake come from one distribution: 1 - prod_{i=1..k} (N-i)/(N+M-i)."""
    i = np.arange(1, k + 1)
    return float(1.0 - np.prod((n_real - i) / (n_real + n_fake - i)))


def support_precision_recall(real, fake, tau: float) -> dict:
    """Fixed-radius support precision and recall of background notes 001, Appendix A.4 (closed balls)."""
    real, fake = _check(real, "real features"), _check(fake, "fake features")
    if real.shape[1] != fake.shape[1]:
        raise ValueError(f"real and fake features must have one dimension, got {real.shape[1]} and {fake.shape[1]}")
    if not (np.isfinite(tau) and tau > 0):
        raise ValueError(f"tau must be a positive finite radius, got {tau!r}")
    near = cdist(real, fake) <= tau
    return {"precision": float(near.any(0).mean()), "recall": float(near.any(1).mean())}
