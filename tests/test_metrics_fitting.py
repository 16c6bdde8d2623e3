"""Pair counts of Appendix F.1 on hand-made probability rows; class histograms and total variation."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

from ganphase.simulate.metrics.fitting import (class_histogram, classes_covered, mixed_share, pair_counts,
                                               total_variation)


def _row(**p):
    r = np.zeros(10)
    for k, v in p.items():
        r[int(k[1:])] = v
    r[9] += 1 - r.sum()
    return r


def test_hand_counted_batch():
    probs = np.stack([
        _row(c3=0.995),                      # lone 3 (p_9 = 0.005 <= tau): (3, 3)
        _row(c3=0.995),                      # (3, 3) again
        _row(c1=0.6, c7=0.395),              # 1 and 7 above tau (p_9 = 0.005): pair (1, 7)
        _row(c0=0.5, c2=0.3, c5=0.195),      # three classes: pairs (0, 2), (0, 5), (2, 5)
        _row(c4=0.5),                        # 4 and 9 (p_9 = 0.5): pair (4, 9)
    ])
    c = pair_counts(probs)
    expected = np.zeros((10, 10), int)
    expected[3, 3] = 2
    for i, j in [(1, 7), (0, 2), (0, 5), (2, 5), (4, 9)]:
        expected[i, j] = expected[j, i] = 1
    assert np.array_equal(c, expected)
    assert mixed_share(probs) == pytest.approx(3 / 5)


def test_threshold_is_strict():
    probs = np.zeros((1, 10))
    probs[0, 2], probs[0, 9] = 0.99, 0.01    # p_9 = 0.01 exactly: not above tau = 1e-2
    assert pair_counts(probs)[2, 2] == 1 and pair_counts(probs).sum() == 1


@given(st.integers(0, 2**31))
def test_count_identities(seed):
    rng = np.random.default_rng(seed)
    logits = rng.standard_normal((64, 10)) * rng.uniform(1, 8)
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    c = pair_counts(p)
    n = (p > 1e-2).sum(1)
    assert np.array_equal(c, c.T)
    assert np.trace(c) == (n == 1).sum()
    assert (c.sum() - np.trace(c)) == (n * (n - 1))[n >= 2].sum()   # ordered pairs i != j


def test_histograms_and_tv():
    h = class_histogram(np.array([0, 0, 1, 3]), 4)
    assert h.tolist() == [0.5, 0.25, 0.0, 0.25]
    assert total_variation(h, np.full(4, 0.25)) == pytest.approx(0.25)
    assert total_variation(np.array([1.0, 0, 0]), np.array([0, 0, 1.0])) == 1.0
    y = np.array([0] * 90 + [1] * 6 + [2] * 4)
    assert classes_covered(y, 10) == 3                       # shares 0.9, 0.06, 0.04 >= 1/40
    assert classes_covered(y, 10, min_share=0.05) == 2

def test_bad_input_raises():
    with pytest.raises(ValueError):
        pair_counts(np.full((3, 10), 0.2))
    with pytest.raises(ValueError):
        class_histogram(np.array([0, 11]), 10)
