"""ganphase score on small synthetic sweeps written through RunFolder: shares, leads, false stops, quality,
compute saved and bootstrap intervals against values worked out by hand and by a numpy loop here."""
import json

import numpy as np
import pytest

from ganphase.cli import main
from ganphase.io import write_json
from ganphase.simulate.run_folder import RunFolder
from ganphase.simulate import scoring

IT, EPOCHS = 4, 10                     # 4 iterations per epoch: iteration index i is in epoch i // 4 + 1
THRESHOLDS = {"k_d": 2.0, "sigma": 0.5, "k_g": -0.5, "m": 8, "warmup": 0, "threshold_d": 2.0}
COLLAPSING = {2: 6, 4: 8, 6: 8, 8: 3, 10: 2}   # coverage 3 < 8/2 at epochs 8 and 10: collapse epoch 8; fitting ends 4
STEADY = {2: 6, 4: 8, 6: 8, 8: 8, 10: 8}


def write_run(path, spikes, coverage, quality=None, loss=1.0, every=1, warmup=0):
    """A run folder with q_d = 5 (> k_d/(2 sigma) = 2) at the iteration indices ``spikes``, 0.1 elsewhere;
    the monitors measure every ``every`` iterations (iteration numbers i + 1 divisible by it)."""
    run = RunFolder(path)
    run.path.mkdir(parents=True)
    run.write_config({"train": {"data": "gmm-3d", "monitor_unit": "iteration", "monitor_every": every}, "model": {},
                      "thresholds": {**THRESHOLDS, "warmup": warmup}})
    quality = quality or {}
    for e in range(1, EPOCHS + 1):
        rows = [{"epoch": e, "iteration": i + 1, "q_d": 5.0 if i in spikes else 0.1, "steepness": 1.0,
                 "delta_steepness": 0.0, "stop": i in spikes and i + 1 > warmup}
                for i in range((e - 1) * IT, e * IT) if (i + 1) % every == 0]
        run.append_monitor(rows)
        row = {"epoch": e, "iterations": IT, "loss_d": loss, "loss_g": loss, "d_real": 0.5, "d_fake": 0.5,
               "q_d": float(np.mean([r["q_d"] for r in rows])), "steepness": 1.0, "delta_steepness": 0.0,
               "time_s": 0.1}
        if e in coverage:
            row["eval"] = {"modes_covered": coverage[e], "n_modes": 8, "high_quality": quality.get(e, 0.9)}
        run.append_metrics(row)
    run.write_traces()
    run.write_summary({"status": "finished"})


def write_sweep(root, runs):
    rows = []
    for setting, seed, args in runs:
        folder = f"{setting}/seed-{seed:04d}"
        write_run(root / folder, *args)
        rows.append({"setting": setting, "seed": seed, "folder": folder, "status": "finished"})
    write_json(root / "index.json", {"format": 1, "runs": rows})
    return root


# seed 0: stops in epoch 4 (iteration index 12): s = 3 < fitting end 4 (premature), lead 8 - 3 = 5
# seed 1: stops in epoch 7 (index 26): s = 6, lead 2, returns epoch 6 (best score 8/8 x 0.95)
# seed 2: stops in epoch 10 (index 36): s = 9, never collapses: a false stop
# seed 3: collapses, never stops
FOUR = [("A", 0, ([12], COLLAPSING)), ("A", 1, ([26], COLLAPSING, {6: 0.95})), ("A", 2, ([36], STEADY)),
        ("A", 3, ([], COLLAPSING))]


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    return write_sweep(tmp_path_factory.mktemp("sweep"), FOUR)


def _rows(result, rule, setting="A"):
    return {r["seed"]: r for r in result.rows if r["rule"] == rule and r["setting"] == setting}


def _summary(result, rule, setting="A"):
    return next(s for s in result.summary if s["rule"] == rule and s["setting"] == setting)


def test_per_run_outcomes_by_hand(small):
    result = scoring.score(small, resamples=200)
    r = _rows(result, "alg2")
    assert [r[s]["stop_epoch"] for s in range(4)] == [3, 6, 9, None]
    assert [r[s]["collapse_epoch"] for s in range(4)] == [8, 8, None, 8]
    assert [r[s]["fit_end"] for s in range(4)] == [4, 4, 4, 4]
    assert [r[s]["before_collapse"] for s in range(4)] == [True, True, None, False]
    assert [r[s]["lead"] for s in range(4)] == [5, 2, None, None]
    assert [r[s]["premature"] for s in range(4)] == [True, False, False, False]
    assert [r[s]["false_stop"] for s in range(4)] == [True, False, True, False]
    assert [r[s]["returned_epoch"] for s in range(4)] == [2, 6, 8, 6]   # best score <= s; seed 3: 6 (0.9 ties, later)
    assert [r[s]["modes_rel"] for s in range(4)] == [6 / 8, 1.0, 1.0, 1.0]
    assert [r[s]["saved"] for s in range(4)] == pytest.approx([1 - 13 / 40, 1 - 27 / 40, 1 - 37 / 40, 0.0])
    last = _rows(result, "last")
    assert [last[s]["modes_rel"] for s in range(4)] == [2 / 8, 2 / 8, 1.0, 2 / 8]
    assert result.agreement == {"A": [4, 4]}                    # the replay stops where it_stop says


def test_monitors_every_k_iterations_place_the_stop_and_the_warm_up_by_iteration(tmp_path):
    # measured at iterations 2, 4, ...; spikes at iterations 14 (epoch 4) and 30 (epoch 8)
    root = write_sweep(tmp_path / "sw", [("A", 0, ([13, 29], COLLAPSING, None, 1.0, 2, 0)),
                                         ("A", 1, ([13, 29], COLLAPSING, None, 1.0, 2, 20))])
    result = scoring.score(root, resamples=10)
    r = _rows(result, "alg2")
    assert (r[0]["stop_epoch"], r[0]["saved"]) == (3, pytest.approx(1 - 14 / 40))
    assert (r[1]["stop_epoch"], r[1]["saved"]) == (7, pytest.approx(1 - 30 / 40))    # warm-up 20 iterations
    assert result.agreement == {"A": [2, 2]}


def test_last_selection_returns_the_last_evaluation_before_the_stop(small):
    r = _rows(scoring.score(small, selection="last", resamples=10), "alg2")
    assert [r[s]["returned_epoch"] for s in range(4)] == [2, 6, 8, 10]


def test_shares_and_leads_by_hand_and_intervals_undecided_with_four_runs(small):
    result = scoring.score(small, resamples=500, seed=3)
    s = _summary(result, "alg2")
    assert (s["runs"], s["collapsed"], s["stopped"]) == (4, 3, 3)
    assert s["before_collapse"]["value"] == pytest.approx(2 / 3)
    assert s["lead"]["value"] == 3.5 and s["lead_iqr"] == [2.75, 4.25]
    assert s["false_stop"]["value"] == 0.5
    assert s["saved"]["value"] == pytest.approx((27 + 13 + 3) / 40 / 4)
    assert all(not s[k]["decided"] for k in ("before_collapse", "lead", "false_stop", "saved"))   # 4 < 5 runs
    assert not _summary(result, "duality-gap")["available"] and "duality_gap" in _summary(result, "duality-gap")["reason"]
    assert _summary(result, "loss")["stopped"] == 0                         # constant losses


def _bootstrap_by_loop(values, collapsed, n_res, seed, stat):
    """Percentile interval by an explicit loop over resamples (the reference for scoring.estimate)."""
    rng = np.random.default_rng(seed)
    n = len(values)
    out = []
    for idx in rng.integers(0, n, size=(n_res, n)):
        picked = [values[i] for i in idx if collapsed[i]]
        if picked:
            out.append(stat(picked))
    return np.percentile(out, [2.5, 97.5])


def test_interval_equals_an_independent_bootstrap_and_decides_with_many_runs(tmp_path):
    # 7 runs like seed 1 (stop before collapse, lead 2), 5 like seed 3 (collapse, no stop), 3 like seed 0 (lead 5)
    runs = [("B", i, ([26], COLLAPSING, {6: 0.95})) for i in range(7)] + \
        [("B", 7 + i, ([], COLLAPSING)) for i in range(5)] + [("B", 12 + i, ([12], COLLAPSING)) for i in range(3)]
    root = write_sweep(tmp_path / "sw", runs)
    result = scoring.score(root, resamples=1000, seed=11)
    s = _summary(result, "alg2", "B")
    before = [1.0] * 7 + [0.0] * 5 + [1.0] * 3
    assert s["before_collapse"]["value"] == pytest.approx(10 / 15)
    lo, hi = _bootstrap_by_loop(before, [True] * 15, 1000, 11, np.mean)
    assert (s["before_collapse"]["low"], s["before_collapse"]["high"]) == pytest.approx((lo, hi))
    assert s["before_collapse"]["decided"] and lo < 10 / 15 < hi
    leads = [2.0] * 7 + [0.0] * 5 + [5.0] * 3
    lo, hi = _bootstrap_by_loop(leads, [True] * 7 + [False] * 5 + [True] * 3, 1000, 11, np.median)
    assert s["lead"]["value"] == 2.0
    assert (s["lead"]["low"], s["lead"]["high"]) == pytest.approx((lo, hi))


def test_a_stop_does_not_move_when_the_trace_after_it_changes(tmp_path):
    a = write_sweep(tmp_path / "a", [("A", 0, ([26], COLLAPSING))])
    b = write_sweep(tmp_path / "b", [("A", 0, ([26, 30, 33, 38], COLLAPSING))])
    for rule in ("alg2", "alg2-q_d", "alg2-patience3", "alg2-epoch"):
        assert _rows(scoring.score(a, resamples=10), rule)[0]["stop_epoch"] == \
            _rows(scoring.score(b, resamples=10), rule)[0]["stop_epoch"]


def test_cli_writes_tables_figure_and_json(small, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["score", str(small), "--out", str(out), "--resamples", "100", "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert {s["rule"] for s in record["summary"]} == set(scoring.RULE_NAMES)
    for name in ("score.md", "score.csv", "runs.csv", "score.json", "score.png"):
        assert (out / name).stat().st_size > 0
    assert "| `alg2` | 3/4 |" in (out / "score.md").read_text()
    header = (out / "score.csv").read_text().splitlines()[0].split(",")
    assert "before_collapse_low" in header and "lead_q25" in header


@pytest.mark.parametrize("setup, message", [
    (lambda p: p, "not a folder"),
    (lambda p: (p.mkdir(), p)[1], "no index.json"),
    (lambda p: (p.mkdir(), write_json(p / "index.json", {"format": 1, "runs": []}), p)[2], "holds no run"),
    (lambda p: (p.mkdir(), write_json(p / "index.json", {"format": 1, "runs": [{"folder": "x/seed-0000"}]}), p)[2],
     "holds no run"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys, setup, message):
    path = setup(tmp_path / "sweep")
    assert main(["score", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and message in err and "\n" not in err
