"""Named training settings (ganphase.simulate.settings) and ``ganphase train --setting``."""
import json

import pytest

from ganphase.cli import main
from ganphase.simulate.settings import SETTINGS, Setting, get
from ganphase.simulate.train import TrainConfig


@pytest.mark.parametrize("name", sorted(SETTINGS))
def test_every_setting_is_a_valid_versioned_config(name, tmp_path):
    s = get(name)
    assert isinstance(s, Setting) and s.name == name
    assert isinstance(s.version, int) and s.version >= 1
    assert s.minutes is None or s.minutes > 0
    cfg = s.config(3, tmp_path / "run")
    assert isinstance(cfg, TrainConfig) and cfg.seed == 3 and cfg.out == str(tmp_path / "run")
    assert cfg.early_stop and cfg.continue_after_stop      # the collapse after the stop is observed
    assert json.loads(json.dumps(s.to_dict()))["train"] == s.train


def test_unknown_setting_and_bad_seed_are_value_errors(tmp_path):
    with pytest.raises(ValueError, match="unknown setting 'nope'; known settings: .*gmm3d-collapse"):
        get("nope")
    with pytest.raises(ValueError, match="seed"):
        get("gmm3d-collapse").config(-1, tmp_path)


def test_cli_setting_with_overrides(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--setting", "gmm3d-collapse", "--epochs", "1", "--max-iterations-per-epoch", "2",
                 "--eval-every", "1", "--seed", "4", "--out", str(out), "--device", "cpu", "--no-progress"]) == 0
    assert json.loads(capsys.readouterr().out)["epochs_run"] == 1
    train = json.loads((out / "config.json").read_text())["train"]
    setting = get("gmm3d-collapse").train
    assert setting["epochs"] != 1 and setting["eval_every"] != 1       # so the overrides below are visible
    assert (train["epochs"], train["max_iterations_per_epoch"], train["eval_every"], train["seed"]) == (1, 2, 1, 4)
    untouched = {k: v for k, v in setting.items() if k not in ("epochs", "eval_every", "progress")}
    assert {k: train[k] for k in untouched} == untouched
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["iterations"] for r in rows] == [2] and "modes_covered" in rows[0]["eval"]


@pytest.mark.parametrize("argv", [
    ["train", "--setting", "no-such-setting", "--out", "x"],
    ["train", "--epochs", "1", "--out", "x"],
    ["train", "--data", "gmm-3d", "--out", "x"],
    ["train", "--setting", "gmm3d-collapse", "--epochs", "0", "--out", "x"],
    ["train", "--setting", "gmm3d-collapse", "--seed", "-1", "--out", "x"],
])
def test_cli_setting_errors_exit_2_with_one_line(argv, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(("error:", "ganphase"))
    assert not (tmp_path / "x").exists()
