"""Stopping rules: Algorithm 2 as EarlyStopping makes it, the variants by hand, replay = update, no look-ahead."""
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ganphase.simulate.monitors import EarlyStopping
from ganphase.simulate.stopping import (Algorithm2Rule, DualityGapRule, JacobianConditioningRule, KeepBest,
                                        LossRule, NoStopping)

values = st.one_of(st.floats(0.0, 20.0), st.just(0.0), st.just(math.nan))
traces = st.lists(st.tuples(values, values), min_size=1, max_size=60)


def _decisions(rule, rows):
    return [rule.update(*r) for r in rows]


@given(traces, st.integers(0, 10), st.floats(-0.9, -0.05))
def test_default_rule_makes_the_decisions_of_early_stopping(rows, warmup, k_g):
    es = EarlyStopping(3.0, 0.25, k_g, 1, warmup)
    rule = Algorithm2Rule(3.0, 0.25, k_g, warmup)
    assert _decisions(rule, rows) == _decisions(es, rows)
    assert rule.stop_update == es.stop_iteration


@given(traces, st.integers(0, 30), st.integers(1, 5))
def test_measured_every_k_iterations_the_warm_up_counts_iterations_as_in_early_stopping(rows, warmup, k):
    its = [k * (j + 1) for j in range(len(rows))]
    es = EarlyStopping(3.0, 0.25, -0.3, 1, warmup)
    rule = Algorithm2Rule(3.0, 0.25, -0.3, warmup)
    live = [rule.update(*r, iteration=i) for r, i in zip(rows, its)]
    assert live == [es.update(*r, iteration=i) for r, i in zip(rows, its)]
    assert rule.stop_iteration == es.stop_iteration
    q, s = np.array(rows, np.float64).T
    assert rule.replay(q, s, iterations=its) == next((j for j, d in enumerate(live) if d), None)


@given(traces, st.integers(0, 8), st.sampled_from([("q_d",), ("delta_s",), ("q_d", "delta_s")]),
       st.integers(1, 4), st.integers(1, 4))
def test_vectorised_replay_is_the_first_stop_of_update(rows, warmup, parts, window, patience):
    rule = Algorithm2Rule(3.0, 0.25, -0.3, warmup, parts=parts, window=window, patience=patience)
    q, s = np.array(rows, np.float64).T
    first = next((i for i, d in enumerate(_decisions(rule.fresh(), rows)) if d), None)
    assert rule.replay(q, s) == first
    assert rule.updates == 0                       # replay leaves the object alone


def test_window_and_patience_by_hand():
    s = [1.0, 1.0, 1.0, 0.4, 0.4, 0.4, 0.4]
    # window 2, t = 3..6: means (s2, s3) vs (s0, s1) = 0.7 vs 1 -> -0.3; 0.4 vs 1 -> -0.6; 0.4 vs 0.7 -> -0.43;
    # 0.4 vs 0.4 -> 0; only t = 4 is below -0.5
    q = [0.0] * len(s)
    w2 = Algorithm2Rule(1.0, 1.0, -0.5, 0, parts=("delta_s",), window=2)
    assert _decisions(w2, zip(q, s)) == [False, False, False, False, True, False, False]
    # window 1: delta -0.6 at t = 3 only; with patience 2 it never stops
    assert Algorithm2Rule(1.0, 1.0, -0.5, 0, parts=("delta_s",)).replay(q, s) == 3
    assert Algorithm2Rule(1.0, 1.0, -0.5, 0, parts=("delta_s",), patience=2).replay(q, s) is None
    # q_d alone: threshold k_d/(2 sigma) = 2/(2 * 0.5) = 2; triggers at 2.5, 3, 3; patience 2 -> the 3rd index
    q = [1.0, 2.5, 1.0, 3.0, 3.0]
    rule = Algorithm2Rule(2.0, 0.5, -0.5, 0, parts=("q_d",), patience=2)
    assert rule.replay(q, [1.0] * 5) == 4
    # warm-up 4: the first 4 updates never stop
    assert Algorithm2Rule(2.0, 0.5, -0.5, 4, parts=("q_d",)).replay(q, [1.0] * 5) == 4


def test_paper_threshold_for_gmm3d():
    rule = Algorithm2Rule(2.0, math.sqrt(0.0125), -0.5, 50)         # Appendix F.2: 2/(2 sqrt 0.0125) ~ 8.9
    assert rule.threshold_d == pytest.approx(8.944, abs=1e-3)


RULES = [lambda: Algorithm2Rule(3.0, 0.25, -0.3, 2, window=3, patience=2),
         lambda: Algorithm2Rule(3.0, 0.25, -0.3, 0, parts=("delta_s",)),
         lambda: LossRule(ratio=1.5, window=3), lambda: DualityGapRule(0.5, 1),
         lambda: JacobianConditioningRule(0.5, 1)]


@pytest.mark.parametrize("make", RULES, ids=["alg2-variant", "delta-s", "loss", "duality-gap", "jacobian"])
@given(data=st.data())
def test_a_decision_does_not_depend_on_the_future(make, data):
    n_sig = len(make().signals)
    rows = data.draw(st.lists(st.tuples(*[st.floats(0.01, 10.0)] * n_sig), min_size=2, max_size=40))
    t = data.draw(st.integers(0, len(rows) - 1))
    future = data.draw(st.lists(st.tuples(*[values] * n_sig), min_size=0, max_size=40))
    a, b = make(), make()
    before = _decisions(a, rows)
    after = _decisions(b, rows[:t + 1] + future)
    assert before[:t + 1] == after[:t + 1]
    cols_a, cols_b = np.array(rows, float).T, np.array(rows[:t + 1] + future, float).reshape(-1, n_sig).T
    ra, rb = make().replay(*cols_a), make().replay(*cols_b)
    if ra is not None and ra <= t:
        assert rb == ra


def test_loss_rule_by_hand():
    rule = LossRule(ratio=2.0, window=3)
    d = [1.0, 1.2, 0.8, 1.1, 2.5, 1.0]   # median of (1.2, 0.8, 1.1) = 1.1: 2.5 > 2.2 fires at index 4
    g = [1.0] * 6
    assert _decisions(rule, zip(d, g)) == [False, False, False, False, True, False]
    assert rule.stop_update == 5 and "loss_d" in rule.stop_reason
    assert LossRule(2.0, 3).replay([1.0] * 5, [1.0, 1.0, 1.0, 1.0, 0.4]) == 4     # loss_g drops below 1/2


def test_duality_gap_and_jacobian_rules_by_hand():
    assert DualityGapRule(drop=0.1, warmup=2).replay([0.5, 2.0, 1.0, 0.3, 0.1]) == 4   # 0.1 < 0.1 x 2.0 fails, so:
    assert DualityGapRule(drop=0.2, warmup=2).replay([0.5, 2.0, 1.0, 0.3, 0.1]) == 3   # 0.3 < 0.4 = 0.2 x 2.0
    assert JacobianConditioningRule(rise=1.0, warmup=1).replay([5.0, 4.0, 4.5, 5.2, 3.0]) == 3   # 5.2 > 4 + 1


def test_keep_best_and_no_stopping_never_stop():
    best = KeepBest("fd", "min")
    assert _decisions(best, [[3.0], [1.0], [math.nan], [1.0], [2.0]]) == [False] * 5
    assert best.best_update == 4 and not best.stopped
    most = KeepBest("modes_covered", "max")
    _decisions(most, [[2.0], [8.0], [7.0]])
    assert most.best_update == 2
    assert NoStopping().update() is False


def test_bad_input_is_a_value_error():
    with pytest.raises(ValueError, match="k_d and sigma"):
        Algorithm2Rule(-1.0, 1.0)
    with pytest.raises(ValueError, match="parts"):
        Algorithm2Rule(1.0, 1.0, parts=("fd",))
    with pytest.raises(ValueError, match="window"):
        Algorithm2Rule(1.0, 1.0, window=0)
    with pytest.raises(ValueError, match="takes 2 value"):
        Algorithm2Rule(1.0, 1.0).update(1.0)
    with pytest.raises(ValueError, match="ratio"):
        LossRule(ratio=0.5)
    with pytest.raises(ValueError, match="thresholds"):
        Algorithm2Rule.from_thresholds({"k_d": 1.0})


@given(traces, st.integers(1, 3), st.integers(1, 2))
def test_reason_at_is_the_reason_update_records(rows, window, patience):
    rule = Algorithm2Rule(3.0, 0.25, -0.3, 0, window=window, patience=patience)
    q, s = np.array(rows, np.float64).T
    i = rule.replay(q, s)
    if i is not None:
        live = rule.fresh()
        _decisions(live, rows[:i + 1])
        assert rule.reason_at(q, s, index=i) == live.stop_reason


def test_the_readme_loop_runs_live_with_batch_monitors():
    import torch

    from ganphase.simulate.monitors import batch_monitors

    torch.manual_seed(0)
    G = torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.Tanh(), torch.nn.Linear(16, 3))
    D = torch.nn.Sequential(torch.nn.Linear(3, 16), torch.nn.Tanh(), torch.nn.Linear(16, 1))
    rule = Algorithm2Rule(k_d=2.0, sigma=0.0125 ** 0.5, k_g=-0.5, warmup=2, patience=1)
    seen = []
    for step in range(4):
        z = torch.randn(32, 2)
        q_d, s_g = batch_monitors(G, D, z, m=8)
        seen.append((q_d, s_g))
        assert rule.update(q_d, s_g) in (True, False)
    assert rule.updates == 4 and all(np.isfinite(seen).ravel())
    assert rule.stopped == (Algorithm2Rule(2.0, 0.0125 ** 0.5, -0.5, 2).replay(*np.array(seen).T) is not None)
