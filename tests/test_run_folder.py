"""The run folder: damaged checkpoints, configs and traces get one line each, never a traceback.

The resumed runs are compared with an uninterrupted run of the same seed (CPU training is
deterministic for a fixed seed and thread count), so a fallback that resumed from the wrong state,
or left a duplicated metrics row behind, fails.
"""
import json
import shutil
import warnings

import pytest
import torch

from ganphase.cli import main
from ganphase.simulate.run_folder import FORMAT, RunFolder, RunFolderWarning
from ganphase.simulate.train import TrainConfig, train


def quick(out, **kw):
    base = dict(data="gmm-2d", epochs=5, out=str(out), device="cpu", progress=False, eval_every=2,
                max_iterations_per_epoch=6, eval_samples=32, eval_steepness_samples=4, seed=3,
                keep_last=3, evaluator=False)
    return TrainConfig(**{**base, **kw})


def _strip(rows):
    return [{k: v for k, v in r.items() if k != "time_s"} for r in rows]


@pytest.fixture(scope="module")
def full(tmp_path_factory):
    """An uninterrupted 5-epoch run, and a copy stopped after epoch 4 (checkpoints 0, 2, 3, 4 kept)."""
    root = tmp_path_factory.mktemp("runs")
    train(quick(root / "full"))
    train(quick(root / "part", epochs=4))
    return root


def _damaged_copy(full, tmp_path, how):
    run = tmp_path / "run"
    shutil.copytree(full / "part", run)
    newest = RunFolder(run).checkpoint_path(4)
    data = newest.read_bytes()
    newest.write_bytes(data[: len(data) // 2] if how == "truncated" else b"\x00garbage" * 100)
    return run


@pytest.mark.parametrize("how", ["truncated", "overwritten"])
def test_resume_falls_back_to_the_newest_checkpoint_that_loads(full, tmp_path, how, capsys):
    run = _damaged_copy(full, tmp_path, how)
    with pytest.warns(RunFolderWarning, match=r"epoch_0004\.pt is damaged"):
        train(quick(run, resume=True))
    got, want = RunFolder(run), RunFolder(full / "full")
    assert [r["epoch"] for r in got.metrics()] == [1, 2, 3, 4, 5]
    assert _strip(got.metrics()) == _strip(want.metrics())
    assert got.monitor() == want.monitor()
    assert (run / "checkpoints" / "epoch_0004.pt.damaged").exists()


def test_cli_resume_warns_in_one_line(tmp_path, capsys):
    run = tmp_path / "run"
    argv = ["train", "--data", "gmm-2d", "--out", str(run), "--seed", "1", "--eval-every", "2",
            "--max-iterations-per-epoch", "4", "--no-progress"]
    assert main(argv + ["--epochs", "3"]) == 0
    RunFolder(run).checkpoint_path(3).write_bytes(b"PK\x03\x04 torn")
    capsys.readouterr()
    assert main(argv + ["--epochs", "4", "--resume"]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("warning: skipped") and "epoch_0003.pt is damaged" in err[0]
    assert [r["epoch"] for r in RunFolder(run).metrics()] == [1, 2, 3, 4]


def test_no_loadable_checkpoint_is_one_line(full, tmp_path):
    run = _damaged_copy(full, tmp_path, "truncated")
    for e in RunFolder(run).checkpoint_epochs():
        RunFolder(run).checkpoint_path(e).write_bytes(b"not a checkpoint")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RunFolderWarning)
        with pytest.raises(ValueError, match="holds no loadable checkpoint"):
            train(quick(run, resume=True))


@pytest.mark.parametrize("config_text, message", [
    (json.dumps({"model": {}}), "lacks the 'train' entry"),
    ("{\"train\": ", "is not valid JSON"),
    ("[1, 2]", "is not a run configuration"),
    (json.dumps({"format": FORMAT + 1, "train": {"data": "gmm-2d"}, "model": {}}), "a newer ganphase"),
])
def test_bad_config_is_one_line_for_train_and_evaluate(full, tmp_path, capsys, config_text, message):
    run = tmp_path / "run"
    shutil.copytree(full / "part", run)
    (run / "config.json").write_text(config_text)
    with pytest.raises(ValueError, match=message):
        train(quick(run, resume=True))
    assert main(["evaluate", str(run), "--no-progress"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message.split("'")[0] in err[0] and "Traceback" not in err[0]
    assert "weights_only" not in err[0]


def test_torn_metrics_line_is_rolled_back_on_resume(full, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(full / "part", run)
    with open(run / "metrics.jsonl", "a") as f:
        f.write('{"epoch": 5, "loss_d": 1.3')
    train(quick(run, resume=True))
    assert _strip(RunFolder(run).metrics()) == _strip(RunFolder(full / "full").metrics())


def test_torn_last_line_is_one_warning_when_read(full, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(full / "full", run)
    with open(run / "metrics.jsonl", "a") as f:
        f.write('{"epoch": 6, "lo')
    with pytest.warns(RunFolderWarning, match="torn last line 6 ignored"):
        rows = RunFolder(run).metrics()
    assert [r["epoch"] for r in rows] == [1, 2, 3, 4, 5]


def test_evaluate_skips_a_damaged_checkpoint(full, tmp_path, capsys):
    run = _damaged_copy(full, tmp_path, "overwritten")
    assert main(["evaluate", str(run), "--device", "cpu", "--no-progress", "--samples", "32",
                 "--reference", "256"]) == 0
    captured = capsys.readouterr()
    lines = [line for line in captured.err.splitlines() if line.startswith("warning:")]
    assert len(lines) == 1 and "epoch_0004.pt is damaged" in lines[0]
    rows = RunFolder(run).read_config() and [json.loads(line) for line in (run / "evaluation.jsonl").open()]
    assert [r["epoch"] for r in rows] == [0, 2, 3]


def test_readable_listing_skips_damaged_archives(full, tmp_path):
    run = _damaged_copy(full, tmp_path, "truncated")
    with pytest.warns(RunFolderWarning, match="epoch_0004.pt: damaged"):
        assert RunFolder(run).checkpoint_epochs(readable=True) == [0, 2, 3]
    assert RunFolder(run).checkpoint_epochs() == [0, 2, 3, 4]


def test_checkpoint_loading_never_unpickles_objects(tmp_path):
    """A checkpoint holding an arbitrary Python object is refused (weights_only), in one line."""
    run = RunFolder(tmp_path)
    run.checkpoint_path(1).parent.mkdir(parents=True)
    torch.save({"epoch": 1, "G": {}, "D": {}, "payload": RunFolder}, run.checkpoint_path(1))
    with pytest.raises(ValueError, match=r"epoch_0001\.pt is damaged or not a ganphase checkpoint"):
        run.load_checkpoint(1)
