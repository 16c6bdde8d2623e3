"""The collapse-epoch rule on synthetic metric traces, and the checkpoint score."""
import pytest

from ganphase.simulate.metrics.collapse import checkpoint_score, collapse_epoch, criterion_onsets


def rows(key, values, start=0, step=1, **extra):
    return [{"epoch": start + i * step, "eval": {key: v, **extra}} for i, v in enumerate(values)]


def test_mixture_trace_collapses_when_coverage_halves_for_good():
    trace = rows("modes_covered", [1, 4, 8, 8, 7, 8, 3, 2, 1, 1], n_modes=8, high_quality=0.9)
    assert collapse_epoch(trace) == 6            # 3 < 8 / 2 from epoch 6 on


def test_wandering_before_the_fitting_is_not_collapse():
    """The first evaluations of a ring run: 2 modes, then 0, before 8 are reached; then a real collapse."""
    trace = rows("modes_covered", [2, 1, 0, 0, 1, 7, 8, 6, 6, 8, 3, 3, 3], step=5, start=5, n_modes=8)
    assert collapse_epoch(trace) == 55           # not 15: the fitting had not reached 4 of 8 modes there
    assert collapse_epoch([{k: v for k, v in r.items()} | {"eval": {"modes_covered": r["eval"]["modes_covered"]}}
                           for r in trace]) == 15   # without n_modes the gate cannot apply


def test_a_single_dip_is_not_collapse():
    trace = rows("modes_covered", [2, 8, 8, 3, 8, 8, 8])
    assert collapse_epoch(trace) is None
    assert collapse_epoch(trace, patience=1) == 3


def test_a_dip_at_the_last_evaluation_counts():
    assert collapse_epoch(rows("modes_covered", [8, 8, 8, 2])) == 3


def test_no_collapse_in_a_healthy_run():
    assert collapse_epoch(rows("modes_covered", [1, 3, 6, 8, 8, 7, 8])) is None


def test_fd_criterion_and_earliest_onset():
    fd = [300, 120, 40, 35, 30, 45, 80, 150, 200]        # running min 30; > 60 from epoch 6
    cls = [1, 5, 10, 10, 10, 10, 9, 4, 2]                 # < 5 from epoch 7
    trace = [{"epoch": 5 * i, "eval": {"fd": f, "classes_covered": c, "n_classes": 10}}
             for i, (f, c) in enumerate(zip(fd, cls))]
    assert criterion_onsets(trace) == {"coverage": 35, "fd": 30}
    assert collapse_epoch(trace) == 30
    assert collapse_epoch(trace, fd_ratio=None) == 35


def test_error_rows_and_unsorted_rows():
    trace = rows("modes_covered", [8, 8, 2, 2])
    trace.insert(1, {"epoch": 10, "eval": {"error": "RuntimeError: boom"}})
    trace.append({"epoch": 11})                           # a row without an evaluation
    assert collapse_epoch(list(reversed(trace))) == 2


def test_checkpoint_score():
    assert checkpoint_score({"modes_covered": 8, "n_modes": 8, "high_quality": 0.9}) == pytest.approx(0.9)
    assert checkpoint_score({"modes_covered": 4, "n_modes": 8, "high_quality": 0.9}) == pytest.approx(0.45)
    assert checkpoint_score({"fd": 12.5, "classes_covered": 10, "n_classes": 10}) == -12.5
    assert checkpoint_score({"classes_covered": 5, "n_classes": 10}) == 0.5
    with pytest.raises(ValueError):
        checkpoint_score({"error": "x"})
    with pytest.raises(ValueError):
        checkpoint_score({"eval_seconds": 1.0})


def test_bad_input_raises():
    with pytest.raises(ValueError):
        collapse_epoch("not rows")
    with pytest.raises(ValueError):
        collapse_epoch([{"eval": {}}])
    with pytest.raises(ValueError):
        collapse_epoch([], coverage_fraction=0)
