"""traces.npz: the compact record of a run agrees with its JSON-lines files, and Algorithm 2 replayed on it
makes the run's own decisions."""
import json
from pathlib import Path

import numpy as np
import pytest

from ganphase.simulate.monitors import EarlyStopping
from ganphase.simulate.run_folder import RunFolder
from ganphase.simulate.train import TrainConfig, train


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("traces") / "run"
    summary = train(TrainConfig(data="gmm-2d", epochs=6, out=str(out), device="cpu", progress=False, eval_every=2,
                                max_iterations_per_epoch=15, eval_samples=64, eval_steepness_samples=8, seed=3,
                                warmup=5, k_g=-0.02, early_stop=True, continue_after_stop=True, monitor_every=1,
                                monitor_latents="batch"))
    return out, summary


def _jsonl(path):
    return [json.loads(line) for line in Path(path).read_text().splitlines()]


def test_traces_agree_with_the_jsonl_files(run):
    out, _ = run
    t = RunFolder(out).read_traces()
    mon, met = _jsonl(out / "monitor.jsonl"), _jsonl(out / "metrics.jsonl")
    assert int(t["format"]) == 1 and str(t["monitor_unit"]) == "iteration"
    assert len(mon) == 90 and t["it_q_d"].dtype == np.float32 and t["it_q_d"].shape == (90,)
    np.testing.assert_array_equal(t["it_epoch"], [r["epoch"] for r in mon])
    np.testing.assert_allclose(t["it_q_d"], [r["q_d"] for r in mon], rtol=1e-6)
    np.testing.assert_allclose(t["it_steepness"], [r["steepness"] for r in mon], rtol=1e-6)
    np.testing.assert_array_equal(t["it_stop"], [r["stop"] for r in mon])
    np.testing.assert_array_equal(t["epoch"], [1, 2, 3, 4, 5, 6])
    np.testing.assert_allclose(t["loss_d"], [r["loss_d"] for r in met], rtol=1e-6)
    np.testing.assert_allclose(t["d_fake"], [r["d_fake"] for r in met], rtol=1e-6)
    evals = [r for r in met if "eval" in r]
    np.testing.assert_array_equal(t["eval_epoch"], [r["epoch"] for r in evals])
    np.testing.assert_array_equal(t["eval_modes_covered"], [r["eval"]["modes_covered"] for r in evals])
    np.testing.assert_allclose(t["eval_high_quality"], [r["eval"]["high_quality"] for r in evals], rtol=1e-6)
    thr = json.loads((out / "config.json").read_text())["thresholds"]
    assert float(t["threshold_threshold_d"]) == thr["threshold_d"] and float(t["threshold_k_g"]) == -0.02


def test_delta_steepness_from_float32_is_the_runs_own(run):
    out, _ = run
    t = RunFolder(out).read_traces()
    runs_own = np.array([np.nan if r["delta_steepness"] is None else r["delta_steepness"]
                         for r in _jsonl(out / "monitor.jsonl")])
    es = EarlyStopping(1.0, 1.0, -0.5, 1, 0)
    replayed = []
    for q, s in zip(t["it_q_d"], t["it_steepness"]):
        es.update(q, s)
        replayed.append(es.last["delta_steepness"])
    assert np.isnan(replayed[0]) and np.isnan(runs_own[0])
    np.testing.assert_allclose(replayed[1:], runs_own[1:], atol=1e-6)


def test_algorithm2_replayed_on_the_traces_makes_the_same_decisions(run):
    out, summary = run
    t = RunFolder(out).read_traces()
    th = {k: float(t[f"threshold_{k}"]) for k in ("k_d", "sigma", "k_g", "m", "warmup")}
    es = EarlyStopping(th["k_d"], th["sigma"], th["k_g"], int(th["m"]), int(th["warmup"]))
    decisions = [es.update(q, s) for q, s in zip(t["it_q_d"], t["it_steepness"])]
    assert summary["stop_iteration"] is not None          # the run stopped (k_g = -0.02 makes sure)
    assert es.stop_iteration == summary["stop_iteration"]
    np.testing.assert_array_equal(decisions, t["it_stop"])


def test_missing_traces_is_a_one_line_error(tmp_path):
    with pytest.raises(ValueError, match="has no traces.npz"):
        RunFolder(tmp_path).read_traces()
