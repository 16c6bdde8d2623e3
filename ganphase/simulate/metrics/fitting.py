"""The paper's fitting measurements on image data (Section 6.1, Appendix F.1, Figures 4, 14, 15).

Pair counts (Appendix F.1).  A classifier gives each generated image x the
probabilities (p_0, ..., p_{C-1}); let S(x) = {i : p_i > tau} with tau = 1e-2.

* |S(x)| = 1, S = {i}: "i is paired with itself", one count in entry (i, i);
* |S(x)| >= 2: x "potentially resides between modes i and j" for every pair
  i != j in S(x); each unordered pair {i, j} adds one count to entry (i, j)
  and one to entry (j, i), so the matrix is symmetric and its diagonal holds
  only single-class images;
* |S(x)| = 0 (impossible for tau < 1/C) adds nothing.

The paper's heatmaps show log(1 + count) for a batch of 256 images.

Class histogram (background notes 001, Sections 10 and A.9): the share of
generated images whose argmax class is c, compared with the real label
histogram by total variation TV(p, q) = (1/2) sum_c |p_c - q_c|.
"""
from __future__ import annotations

import numpy as np

TAU = 1e-2   # Appendix F.1


def _check_probs(probs):
    p = np.asarray(probs, np.float64)
    if p.ndim != 2 or p.shape[1] < 2 or len(p) < 1:
        raise ValueError(f"probabilities must be an (M, C) array with C >= 2 classes, got shape {p.shape}")
    if not np.all(np.isfinite(p)) or (p < 0).any() or not np.allclose(p.sum(1), 1.0, atol=1e-4):
        raise ValueError("probabilities must be finite, non-negative and sum to 1 in each row (a softmax output)")
    return p


def pair_counts(probs, tau: float = TAU) -> np.ndarray:
    """C x C integer matrix of pair occurrences in a batch (the counting rule of the module docstring)."""
    p = _check_probs(probs)
    if not (0 < tau < 1):
        raise ValueError(f"tau must be in (0, 1), got {tau!r}")
    above = p > tau
    n = above.sum(1)
    c = p.shape[1]
    counts = np.zeros((c, c), dtype=np.int64)
    single = n == 1
    np.add.at(counts, (above[single].argmax(1),) * 2, 1)
    multi = above[n >= 2].astype(np.int64)
    co = multi.T @ multi                     # co[i, j] = images with both i and j above tau
    np.fill_diagonal(co, 0)
    return counts + co


def mixed_share(probs, tau: float = TAU) -> float:
    """Share of images with at least two classes above tau (an off-diagonal contribution)."""
    p = _check_probs(probs)
    return float(((p > tau).sum(1) >= 2).mean())


def class_histogram(labels, n_classes: int) -> np.ndarray:
    """Normalised histogram of integer labels over 0..n_classes-1."""
    y = np.asarray(labels)
    if y.ndim != 1 or len(y) < 1 or not np.issubdtype(y.dtype, np.integer) or y.min() < 0 or y.max() >= n_classes:
        raise ValueError(f"labels must be a non-empty 1-D integer array with values in 0..{n_classes - 1}")
    return np.bincount(y, minlength=n_classes) / len(y)


def total_variation(p, q) -> float:
    """TV(p, q) = (1/2) sum |p - q| of two probability vectors."""
    p, q = np.asarray(p, np.float64), np.asarray(q, np.float64)
    if p.shape != q.shape or p.ndim != 1:
        raise ValueError(f"histograms must be 1-D of one length, got shapes {p.shape} and {q.shape}")
    if (p < 0).any() or (q < 0).any() or not (np.isclose(p.sum(), 1) and np.isclose(q.sum(), 1)):
        raise ValueError("histograms must be non-negative and sum to 1")
    return float(0.5 * np.abs(p - q).sum())


def classes_covered(labels, n_classes: int, min_share: float | None = None) -> int:
    """Classes predicted for at least min_share of the images (default 1/(4 C), as modes covered)."""
    h = class_histogram(labels, n_classes)
    if min_share is None:
        min_share = 1.0 / (4 * n_classes)
    if not (0 < min_share <= 1):
        raise ValueError(f"min_share must be in (0, 1], got {min_share!r}")
    return int((h >= min_share - 1e-12).sum())
