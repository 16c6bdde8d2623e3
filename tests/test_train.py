"""NSGAN training runs: files written, reproducibility, resume after SIGKILL, NaN handling, CLI errors."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from ganphase.cli import main
from ganphase.simulate.train import TrainConfig, checkpoint_epochs, load_discriminator, load_generator, train

METRIC_KEYS = {"epoch", "iterations", "loss_d", "loss_g", "d_real", "d_fake", "q_d", "steepness",
               "steepness_se", "delta_steepness", "monitored_iterations", "time_s"}
SUMMARY_KEYS = {"data", "epochs_run", "stop_epoch", "stop_iteration", "stop_reason", "thresholds",
                "collapse_epoch", "returned_checkpoint", "returned_metrics", "best_checkpoint", "best_metrics"}


def quick(out, **kw):
    base = dict(data="gmm-2d", epochs=4, out=str(out), device="cpu", progress=False, eval_every=2,
                max_iterations_per_epoch=12, eval_samples=64, eval_steepness_samples=8, seed=0)
    return TrainConfig(**{**base, **kw})


def _rows(path):
    return [json.loads(line) for line in Path(path).read_text().splitlines()]


def _strip(rows):
    return [{k: v for k, v in r.items() if k not in ("time_s", "eval")} for r in rows]


def test_gmm_run_writes_every_file(tmp_path):
    s = train(quick(tmp_path / "r"))
    run = tmp_path / "r"
    rows = _rows(run / "metrics.jsonl")
    assert [r["epoch"] for r in rows] == [1, 2, 3, 4]
    assert all(METRIC_KEYS <= set(r) for r in rows)
    assert all(np.isfinite([r[k] for k in METRIC_KEYS - {"delta_steepness"}]).all() for r in rows)
    mon = _rows(run / "monitor.jsonl")
    k = TrainConfig.monitor_every               # measured every k-th of the 4 x 12 iterations
    assert [m["iteration"] for m in mon] == list(range(k, 49, k))
    assert sum(r["monitored_iterations"] for r in rows) == len(mon)
    assert set(mon[0]) == {"epoch", "iteration", "q_d", "steepness", "steepness_se", "power_change",
                           "delta_steepness", "stop"}
    assert all(0 < m["steepness_se"] < m["steepness"] for m in mon)
    with np.load(run / "evals" / "epoch_0002.npz", allow_pickle=False) as f:
        assert f["samples"].shape == (64, 2) and f["grad_norms"].shape == (64,) and f["steepness"].shape == (8,)
    assert SUMMARY_KEYS <= set(s) and s == json.loads((run / "summary.json").read_text())
    assert s["thresholds"]["m"] == 4 and s["epochs_run"] == 4
    assert json.loads((run / "config.json").read_text())["model"]["latent_dim"] == 2
    ckpt = run / "checkpoints" / "epoch_0004.pt"
    state = torch.load(ckpt, weights_only=True)
    assert state["epoch"] == 4 and "G" in state and "rng_cpu" in state
    G, D = load_generator(run), load_discriminator(run, epoch=4)
    assert G(torch.zeros(3, 2)).shape == (3, 2) and D(torch.zeros(3, 2)).shape == (3,)


def test_digits_run(tmp_path):
    s = train(quick(tmp_path / "d", data="digits", epochs=2, eval_every=1, max_iterations_per_epoch=6, monitor_every=2,
                    evaluator=False))
    rows = _rows(tmp_path / "d" / "metrics.jsonl")
    assert len(rows) == 2 and all(METRIC_KEYS <= set(r) for r in rows)
    assert s["thresholds"]["m"] == 10
    with np.load(tmp_path / "d" / "evals" / "epoch_0001.npz", allow_pickle=False) as f:
        assert f["samples"].shape == (64, 1, 8, 8)


def test_same_seed_same_metrics(tmp_path):
    train(quick(tmp_path / "a"))
    train(quick(tmp_path / "b"))
    train(quick(tmp_path / "c", seed=1))
    a, b, c = (_strip(_rows(tmp_path / n / "metrics.jsonl")) for n in "abc")
    assert a == b and a != c
    assert _rows(tmp_path / "a" / "monitor.jsonl") == _rows(tmp_path / "b" / "monitor.jsonl")


def test_resume_after_sigkill_matches_uninterrupted(tmp_path):
    kw = dict(epochs=14, max_iterations_per_epoch=10, eval_every=3)
    train(quick(tmp_path / "full", **kw))
    run = tmp_path / "killed"
    code = (f"from ganphase.simulate.train import TrainConfig, train; "
            f"train(TrainConfig(**{json.dumps({**quick(run, **kw).to_dict()})}))")
    code = code.replace("null", "None").replace("true", "True").replace("false", "False")
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=Path(__file__).parents[1])
    deadline = time.time() + 120
    while not (run / "checkpoints" / "epoch_0004.pt").exists():
        assert proc.poll() is None and time.time() < deadline, "the training subprocess ended early"
        time.sleep(0.005)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (run / "summary.json").exists(), "the run finished before it could be killed"
    train(quick(run, resume=True, **kw))
    full, resumed = _rows(tmp_path / "full" / "metrics.jsonl"), _rows(run / "metrics.jsonl")
    assert [r["epoch"] for r in resumed] == list(range(1, 15))
    assert _strip(full) == _strip(resumed)
    assert _rows(tmp_path / "full" / "monitor.jsonl") == _rows(run / "monitor.jsonl")


def test_existing_run_needs_resume(tmp_path):
    train(quick(tmp_path / "r", epochs=1))
    with pytest.raises(ValueError, match="--resume"):
        train(quick(tmp_path / "r", epochs=1))


def test_nan_loss_stops_and_keeps_last_good_checkpoint(tmp_path, capsys):
    s = train(quick(tmp_path / "n", epochs=50, lr_g=1e30, lr_d=1e30, max_iterations_per_epoch=5))
    assert s["status"] == "failed" and "non-finite loss" in s["stop_reason"]
    assert "non-finite loss" in capsys.readouterr().err
    epochs = checkpoint_epochs(tmp_path / "n")
    rows = _rows(tmp_path / "n" / "metrics.jsonl")
    assert epochs and epochs[-1] == (rows[-1]["epoch"] if rows else 0)
    state = torch.load(tmp_path / "n" / "checkpoints" / f"epoch_{epochs[-1]:04d}.pt", weights_only=True)
    assert all(torch.isfinite(v).all() for v in state["G"].values())


def test_early_stop_returns_a_checkpoint_before_the_stop(tmp_path):
    # a tiny k_d makes q_d exceed k_d / (2 sigma) right after the warm-up of 15 iterations
    s = train(quick(tmp_path / "e", epochs=6, early_stop=True, k_d=1e-6, warmup=15, monitor_every=1))
    assert s["stop_iteration"] == 16 and s["stop_epoch"] == 2 and s["epochs_run"] == 2
    assert s["returned_checkpoint"] == "checkpoints/epoch_0001.pt"
    assert (tmp_path / "e" / s["returned_checkpoint"]).exists()
    mon = _rows(tmp_path / "e" / "monitor.jsonl")
    assert len(mon) == 16 and mon[-1]["stop"] and not any(m["stop"] for m in mon[:-1])
    s2 = train(quick(tmp_path / "c", epochs=3, early_stop=True, continue_after_stop=True, k_d=1e-6, warmup=15))
    assert s2["stop_epoch"] == 2 and s2["epochs_run"] == 3
    # measured every 5th iteration: the warm-up counts training iterations, the stop is the first measured one past it
    s3 = train(quick(tmp_path / "k", epochs=6, early_stop=True, k_d=1e-6, warmup=15, monitor_every=5))
    assert s3["stop_iteration"] == 20 and s3["stop_epoch"] == 2
    assert [m["iteration"] for m in _rows(tmp_path / "k" / "monitor.jsonl")] == [5, 10, 15, 20]


@pytest.mark.parametrize("argv", [
    ["train", "--data", "gmm-3d", "--epochs", "0", "--out", "x"],
    ["train", "--data", "imagenet", "--epochs", "1", "--out", "x"],
    ["train", "--data", "gmm-3d", "--epochs", "1"],
    ["train", "--data", "gmm-3d", "--epochs", "1", "--out", "x", "--noise-std", "-1"],
    ["train", "--data", "gmm-3d", "--epochs", "1", "--out", "x", "--device", "tpu"],
])
def test_bad_cli_options_exit_2_with_one_line(argv, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(("error:", "ganphase"))


def test_cli_runs(tmp_path, capsys):
    out = tmp_path / "cli"
    assert main(["train", "--data", "gmm-2d", "--epochs", "1", "--out", str(out), "--seed", "0", "--device", "cpu",
                 "--max-iterations-per-epoch", "5", "--no-progress"]) == 0
    assert json.loads(capsys.readouterr().out)["epochs_run"] == 1
