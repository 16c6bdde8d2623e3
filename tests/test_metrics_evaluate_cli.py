"""``ganphase evaluate`` on a run folder whose generators are known: full coverage, then one mode."""
import json

import numpy as np
import pytest
import torch
from torch import nn

from ganphase.cli import main
from ganphase.io import read_jsonl
from ganphase.simulate.data import mixture_spec
from ganphase.simulate.run_folder import RunFolder

MEANS, SIGMA = mixture_spec("gmm-3d")


class ModeGenerator(nn.Module):
    """Sends z to the mode given by the signs of z (all 8), or always to mode ``only``."""

    def __init__(self, only=None):
        super().__init__()
        self.only = only
        self.means = torch.as_tensor(MEANS, dtype=torch.float32)

    def forward(self, z):
        idx = ((z > 0).long() * torch.tensor([4, 2, 1])).sum(1) if self.only is None else \
            torch.full((len(z),), self.only)
        return self.means[idx] + 0.5 * SIGMA * z


@pytest.fixture
def run_dir(tmp_path, monkeypatch):
    (tmp_path / "checkpoints").mkdir()
    for e in range(8):
        (tmp_path / "checkpoints" / f"epoch_{e:04d}.pt").write_bytes(b"")
    (tmp_path / "config.json").write_text(json.dumps({"train": {"data": "gmm-3d", "eval_samples": 256},
                                                      "model": {"latent_dim": 3}}))
    (tmp_path / "summary.json").write_text(json.dumps({"stop_epoch": 3}))
    monkeypatch.setattr(RunFolder, "load_generator",
                        lambda self, epoch, device="cpu": ModeGenerator(None if epoch < 5 else 2))
    return tmp_path


def test_collapse_epoch_and_best_checkpoint(run_dir):
    assert main(["evaluate", str(run_dir), "--device", "cpu", "--no-progress"]) == 0
    rows = read_jsonl(run_dir / "evaluation.jsonl")
    assert [r["epoch"] for r in rows] == list(range(8))
    assert [r["eval"]["modes_covered"] for r in rows] == [8] * 5 + [1] * 3
    summary = json.loads((run_dir / "evaluation_summary.json").read_text())
    assert summary["collapse_epoch"] == 5 and summary["stop_epoch"] == 3
    assert summary["stopped_before_collapse"] is True and summary["stop_minus_collapse"] == -2
    assert summary["best_epoch"] == 4 and summary["best_metrics"]["modes_covered"] == 8
    with np.load(run_dir / "evaluation" / "epoch_0006.npz", allow_pickle=False) as f:
        assert f["mode_counts"].tolist() == [0, 0, 256, 0, 0, 0, 0, 0]


def test_resume_skips_done_epochs_and_every(run_dir, capsys):
    assert main(["evaluate", str(run_dir), "--every", "2", "--device", "cpu", "--no-progress"]) == 0
    assert [r["epoch"] for r in read_jsonl(run_dir / "evaluation.jsonl")] == [0, 2, 4, 6]
    assert main(["evaluate", str(run_dir), "--device", "cpu", "--no-progress"]) == 0
    assert "4 checkpoint(s) evaluated" in capsys.readouterr().out
    assert sorted(r["epoch"] for r in read_jsonl(run_dir / "evaluation.jsonl")) == list(range(8))


def test_bad_input_is_one_line_and_exit_2(tmp_path, run_dir, capsys):
    assert main(["evaluate", str(tmp_path / "nowhere")]) == 2
    assert main(["evaluate", str(run_dir), "--every", "0"]) == 2
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "config.json").write_text("{}")
    assert main(["evaluate", str(tmp_path / "empty")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 3 and all(line.startswith("error: ") for line in err)
