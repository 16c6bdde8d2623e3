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
