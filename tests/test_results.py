"""The committed sweep results: provenance, completeness, and a committed run regenerated from its config.

CPU training is deterministic for a fixed seed and thread count, so re-running a committed run's
configuration must give the same numbers; the default test re-runs its first epochs (seconds), the
slow one the whole run.
"""
import json
from pathlib import Path

import numpy as np
import pytest

from ganphase.simulate.run_folder import RunFolder
from ganphase.simulate.sweep import config_hash
from ganphase.simulate.train import TrainConfig, train

RESULTS = Path(__file__).resolve().parents[1] / "results" / "sweeps" / "collapse"
COMMITTED = ("config.json", "summary.json", "traces.npz", "metrics.jsonl")


def _index():
    return json.loads((RESULTS / "index.json").read_text())["runs"]


def _finished():
    return [r for r in _index() if r["status"] == "finished"]


def test_results_carry_their_provenance_and_every_run():
    prov = json.loads((RESULTS / "provenance.json").read_text())
    text = json.dumps(prov)
    for key in ("commit", "torch", "numpy", "python"):
        assert key in text, key
    assert "ganphase sweep" in text
    definition = json.loads((RESULTS / "sweep.json").read_text())
    assert definition["invocations"], "the sweep's commands are recorded"
    rows = _finished()
    assert rows, "no finished run committed"
    for r in rows:
        folder = RESULTS / r["folder"]
        assert all((folder / name).is_file() for name in COMMITTED), folder
        assert config_hash(RunFolder(folder).read_config()["train"]) == r["hash"]
    size = sum(p.stat().st_size for p in RESULTS.rglob("*") if p.is_file())
    assert size < 50 * 2 ** 20


def _strip(rows):
    return [{k: v for k, v in r.items() if k not in ("time_s", "eval")} for r in rows]


def _regenerate(row, tmp_path, epochs=None):
    committed = RunFolder(RESULTS / row["folder"])
    fields = committed.read_config()["train"]
    cfg = TrainConfig(**{**fields, "out": str(tmp_path / "again"), "resume": False, "progress": False,
                         "data_dir": None, **({"epochs": epochs} if epochs else {})})
    summary = train(cfg)
    return committed, RunFolder(cfg.out), summary


def test_the_first_epochs_of_a_committed_run_regenerate_exactly(tmp_path):
    row = _finished()[0]
    committed, again, _ = _regenerate(row, tmp_path, epochs=3)
    assert _strip(again.metrics()) == _strip(committed.metrics()[:3])
    want, got = committed.read_traces(), again.read_traces()
    n = len(got["it_q_d"])
    assert n > 0 and np.array_equal(got["it_q_d"], want["it_q_d"][:n])
    assert np.array_equal(got["it_steepness"], want["it_steepness"][:n])


@pytest.mark.slow
def test_a_whole_committed_run_regenerates_exactly(tmp_path):
    row = _finished()[0]
    committed, again, summary = _regenerate(row, tmp_path)
    assert _strip(again.metrics()) == _strip(committed.metrics())
    assert [r.get("eval") for r in again.metrics()] == [r.get("eval") for r in committed.metrics()]
    for key in ("stop_epoch", "stop_iteration", "collapse_epoch", "returned_epoch"):
        assert summary[key] == committed.read_summary()[key], key


def test_the_committed_score_table_regenerates(tmp_path):
    """results/sweeps/collapse/score/score.md is what `ganphase score` prints for the committed traces."""
    from ganphase.cli import main

    assert main(["score", str(RESULTS), "--out", str(tmp_path / "score"), "--no-figure"]) == 0
    assert (tmp_path / "score" / "score.md").read_text() == (RESULTS / "score" / "score.md").read_text()


# ----------------------------------------------------------------------------- experimental verdicts, recomputed
def _collapse_epoch(traces) -> int | None:
    """The collapse rule of README's "Collapse and early stopping", written again with numpy on the traces:
    evaluation t is collapsed when the running maximum M_t of the modes covered has reached half the modes and
    c_t < M_t / 2, at t and at the next evaluation (or at t when it is the last)."""
    epochs, covered = traces["eval_epoch"], traces["eval_modes_covered"].astype(float)
    running = np.maximum.accumulate(covered)
    flag = (running >= traces["eval_n_modes"][0] / 2) & (covered < running / 2)
    onset = np.flatnonzero(flag & np.append(flag[1:], True))
    return int(epochs[onset[0]]) if onset.size else None


def _share_part(x, bound=0.8, may_differ=True):
    """(share, low, high, verdict): 95 % percentile bootstrap over runs (2000 resamples drawn from seed 0)."""
    x = np.asarray(x, float)
    means = x[np.random.default_rng(0).integers(0, len(x), size=(2000, len(x)))].mean(1)
    low, high = np.percentile(means, [2.5, 97.5])
    verdict = "undecided" if len(x) < 5 else "agrees" if low >= bound else \
        "differs" if high < bound and may_differ else "undecided"
    return x.mean(), low, high, verdict


def test_collapse_and_stopping_verdicts_recomputed_from_the_committed_traces():
    """app-f.2 (runs collapse) and sec-6.2 (Algorithm 2 stops before collapse) on each committed setting: the
    collapse epochs, shares, intervals and part verdicts recomputed here from traces.npz and the runs' own
    recorded stops, against the registry's rows."""
    from ganphase.catalogue.experiments import experimental_rows

    rows = {r["id"]: r for r in experimental_rows([str(RESULTS)], ["app-f.2", "sec-6.2"])}
    by_setting = {}
    for r in _finished():
        run = RunFolder(RESULTS / r["folder"])
        c, stop = _collapse_epoch(run.read_traces()), run.read_summary()["stop_epoch"]
        assert run.read_summary()["collapse_epoch"] == c, r["folder"]
        by_setting.setdefault(r["setting"], []).append((c, stop))
    for setting, runs in by_setting.items():
        effects = {e["part"]: e for e in rows["app-f.2"]["effects"] + rows["sec-6.2"]["effects"]
                   if e["setting"] == setting}
        share, low, high, verdict = _share_part([c is not None for c, _ in runs], may_differ=False)
        e = effects["runs collapse"]
        assert e["value"] == pytest.approx(share) and e["verdict"] == verdict, setting
        assert (e["low"], e["high"]) == pytest.approx((low, high)), setting
        before = [stop is not None and stop < c for c, stop in runs if c is not None]
        e = effects["stops before collapse"]
        if before:
            share, low, high, verdict = _share_part(before)
            assert e["value"] == pytest.approx(share) and e["verdict"] == verdict, setting
            assert (e["low"], e["high"]) == pytest.approx((low, high)), setting
        else:
            assert e["verdict"] == "undecided", setting
