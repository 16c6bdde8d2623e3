"""The run folder: the one place that knows how a training run is laid out on disk.

::

    config.json              {"format", "train", "model", "thresholds", ...}   (RunFolder.read_config)
    metrics.jsonl            one row per epoch; "eval" holds the evaluator's scalars
    monitor.jsonl            one row per monitored iteration (q_d, steepness, Algorithm 2's state)
    traces.npz               compact traces for replaying stopping rules (ganphase.simulate.traces), written
                             just before summary.json
    summary.json             written when the run ends (stop, collapse, returned checkpoint)
    evals/epoch_XXXX.npz     z, samples, grad_norms, steepness (+ evaluator arrays) per evaluation
    checkpoints/epoch_XXXX.pt  G, D, optimisers, random state, monitor state
    evaluation.jsonl, evaluation/epoch_XXXX.npz, evaluation_summary.json   (``ganphase evaluate``)

Training, resume, ``ganphase evaluate``, the figures and the sweeps read and write through
:class:`RunFolder`. Damage is reported in one line: a checkpoint that does not load is skipped with
a :class:`RunFolderWarning` naming it, a malformed ``config.json`` or a folder written by a newer
format raises ValueError. Checkpoints load with ``torch.load(weights_only=True)`` only.
"""
from __future__ import annotations

import io
import json
import os
import re
import warnings
from pathlib import Path

import numpy as np

from ganphase.io import _finite, append_jsonl, atomic_write_bytes, write_json, write_jsonl

FORMAT = 2   # 1: folders before "format" was recorded (same layout); 2: config.json carries "format"
CONFIG, METRICS, MONITOR, SUMMARY = "config.json", "metrics.jsonl", "monitor.jsonl", "summary.json"
TRACES = "traces.npz"
EVALS, CHECKPOINTS = "evals", "checkpoints"
EVALUATION, EVALUATION_DIR, EVALUATION_SUMMARY = "evaluation.jsonl", "evaluation", "evaluation_summary.json"
_EPOCH_FILE = re.compile(r"^epoch_(\d{4,})\.(pt|npz)$")


class RunFolderWarning(UserWarning):
    """A damaged file in a run folder was skipped."""


def warn(message: str) -> None:
    warnings.warn(RunFolderWarning(message), stacklevel=2)


def read_jsonl_rows(path: Path) -> list[dict]:
    """Rows of a JSON-lines file; a torn last line (a kill mid-write) is dropped, a damaged inner line
    is skipped, each with one warning."""
    if not path.exists():
        return []
    lines = path.read_text(errors="replace").splitlines()
    rows, bad = [], []
    for i, line in enumerate(lines, 1):
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            row = None
        if isinstance(row, dict):
            rows.append(row)
        elif line.strip():
            bad.append(i)
    if bad == [len(lines)]:
        warn(f"{path}: torn last line {bad[0]} ignored")
    elif bad:
        warn(f"{path}: {len(bad)} unreadable line(s) skipped (lines {', '.join(map(str, bad[:5]))}"
             f"{', ...' if len(bad) > 5 else ''})")
    return rows


def _epoch_files(folder: Path, suffix: str) -> list[int]:
    if not folder.is_dir():
        return []
    return sorted(int(m.group(1)) for p in folder.iterdir() if (m := _EPOCH_FILE.match(p.name)) and m.group(2) == suffix)


class RunFolder:
    """A training run's folder. ``RunFolder(path).read_config()`` raises ValueError unless it is one."""

    def __init__(self, path):
        self.path = Path(path)

    def __repr__(self):
        return f"RunFolder({str(self.path)!r})"

    def __truediv__(self, name) -> Path:
        return self.path / name

    # ------------------------------------------------------------------ config and summary
    def exists(self) -> bool:
        return (self.path / CONFIG).is_file()

    def read_config(self) -> dict:
        """config.json as a dict with "train" and "model" entries; ValueError in one line otherwise."""
        path = self.path / CONFIG
        if not self.path.is_dir():
            raise ValueError(f"run folder {self.path} does not exist")
        if not path.is_file():
            raise ValueError(f"{self.path} is not a run folder: it has no {CONFIG}")
        record = _read_json(path)
        if not isinstance(record, dict):
            raise ValueError(f"{path} is not a run configuration (expected a JSON object)")
        fmt = record.get("format", 1)
        if not isinstance(fmt, int) or fmt > FORMAT:
            raise ValueError(f"{path} has run-folder format {fmt!r}; this ganphase reads formats 1 to {FORMAT} "
                             "(a newer ganphase wrote it)")
        for key in ("train", "model"):
            if not isinstance(record.get(key), dict):
                raise ValueError(f"{path} lacks the {key!r} entry; it was not written by ganphase train")
        if not isinstance(record["train"].get("data"), str):
            raise ValueError(f"{path} names no data set (train.data)")
        return record

    def write_config(self, record: dict) -> None:
        write_json(self.path / CONFIG, {"format": FORMAT, **record})

    def read_summary(self) -> dict | None:
        """summary.json, or None while the run has not ended; ValueError if it is damaged."""
        path = self.path / SUMMARY
        if not path.is_file():
            return None
        summary = _read_json(path)
        if not isinstance(summary, dict):
            raise ValueError(f"{path} is not a run summary (expected a JSON object)")
        return summary

    def write_summary(self, summary: dict) -> None:
        write_json(self.path / SUMMARY, summary)

    def finished(self) -> bool:
        """True when summary.json is present and readable."""
        try:
            return self.read_summary() is not None
        except ValueError:
            return False

    # ------------------------------------------------------------------ metrics and monitor trace
    def metrics(self) -> list[dict]:
        return [r for r in read_jsonl_rows(self.path / METRICS) if isinstance(r.get("epoch"), int)]

    def monitor(self) -> list[dict]:
        return [r for r in read_jsonl_rows(self.path / MONITOR) if isinstance(r.get("epoch"), int)]

    def append_metrics(self, row: dict) -> None:
        append_jsonl(self.path / METRICS, row)

    def append_monitor(self, rows: list[dict]) -> None:
        """Append monitor rows with one fsync (one line per iteration)."""
        if rows:
            with open(self.path / MONITOR, "a") as f:
                f.write("".join(json.dumps(_finite(r)) + "\n" for r in rows))
                f.flush()
                os.fsync(f.fileno())

    def roll_back(self, before_epoch: int) -> None:
        """Keep only metrics and monitor rows of epochs < ``before_epoch`` (resume from checkpoint before_epoch - 1)."""
        write_jsonl(self.path / METRICS, [r for r in self.metrics() if r["epoch"] < before_epoch])
        write_jsonl(self.path / MONITOR, [r for r in self.monitor() if r["epoch"] < before_epoch])

    def reset_traces(self) -> None:
        for name in (METRICS, MONITOR):
            (self.path / name).unlink(missing_ok=True)
            (self.path / name).touch()

    # ------------------------------------------------------------------ compact traces
    def write_traces(self) -> Path:
        """Build ``traces.npz`` (:mod:`ganphase.simulate.traces`) from the metrics and monitor rows."""
        from ganphase.simulate.traces import build_traces

        record = self.read_config()
        arrays = build_traces(self.metrics(), self.monitor(), record.get("thresholds"),
                              record["train"].get("monitor_unit", "iteration"))
        buf = io.BytesIO()
        np.savez_compressed(buf, **arrays)
        return atomic_write_bytes(self.path / TRACES, buf.getvalue())

    def read_traces(self) -> dict:
        """The arrays of ``traces.npz``; ValueError in one line when absent or damaged."""
        return read_npz(self.path / TRACES, what=f"{self.path} has no {TRACES} (the run has not ended, or was "
                                                 "written before traces existed: RunFolder.write_traces builds it)")

    # ------------------------------------------------------------------ checkpoints
    def checkpoint_path(self, epoch: int) -> Path:
        return self.path / CHECKPOINTS / f"epoch_{epoch:04d}.pt"

    def checkpoint_epochs(self, readable: bool = False) -> list[int]:
        """Epochs with a checkpoint file; ``readable=True`` skips, with a warning, files whose archive
        does not open (truncated or overwritten), without unpickling anything."""
        epochs = _epoch_files(self.path / CHECKPOINTS, "pt")
        if not readable:
            return epochs
        whole = [e for e in epochs if _opens_as_zip(self.checkpoint_path(e))]
        for e in sorted(set(epochs) - set(whole)):
            warn(f"skipped {self.checkpoint_path(e)}: damaged (not a whole checkpoint archive)")
        return whole

    def save_checkpoint(self, epoch: int, state: dict) -> Path:
        import torch

        buf = io.BytesIO()
        torch.save({"epoch": epoch, **state}, buf)
        return atomic_write_bytes(self.checkpoint_path(epoch), buf.getvalue())

    def load_checkpoint(self, epoch: int, device="cpu") -> dict:
        """The state saved at ``epoch``; ValueError in one line when it is absent or does not load."""
        import torch

        path = self.checkpoint_path(epoch)
        if not path.is_file():
            have = self.checkpoint_epochs()
            raise ValueError(f"{self.path} has no checkpoint of epoch {epoch}; it has {have or 'none'}")
        try:
            state = torch.load(path, map_location=device, weights_only=True)
        except Exception as exc:  # truncated zip, foreign pickle, wrong magic: all "damaged"
            raise ValueError(f"{path} is damaged or not a ganphase checkpoint ({type(exc).__name__})") from None
        if not (isinstance(state, dict) and state.get("epoch") == epoch and "G" in state and "D" in state):
            raise ValueError(f"{path} is not a ganphase checkpoint of epoch {epoch}")
        return state

    def latest_checkpoint(self, device="cpu", before: int | None = None) -> tuple[int, dict]:
        """(epoch, state) of the newest checkpoint that loads (epoch < ``before`` if given).

        Each damaged newer file is skipped with one warning; none loadable: ValueError.
        """
        epochs = [e for e in self.checkpoint_epochs() if before is None or e < before]
        for epoch in reversed(epochs):
            try:
                return epoch, self.load_checkpoint(epoch, device)
            except ValueError as exc:
                warn(f"skipped {exc}")
        raise ValueError(f"{self.path} holds no loadable checkpoint (checkpoints/epoch_XXXX.pt)")

    def remove_checkpoint(self, epoch: int) -> None:
        self.checkpoint_path(epoch).unlink(missing_ok=True)

    def set_aside(self, epoch: int) -> Path:
        """Rename a damaged checkpoint to ``epoch_XXXX.pt.damaged`` (kept for inspection, no longer listed)."""
        path = self.checkpoint_path(epoch)
        target = path.with_name(path.name + ".damaged")
        path.replace(target)
        return target

    def _model_config(self):
        from ganphase.simulate.models import ModelConfig

        try:
            return ModelConfig(**self.read_config()["model"])
        except TypeError as exc:
            raise ValueError(f"{self.path / CONFIG}: model entry does not fit this ganphase ({exc})") from None

    def _network(self, which: str, epoch, device):
        from ganphase.simulate.device import resolve_device
        from ganphase.simulate.models import build_models

        nets = dict(zip("GD", build_models(self._model_config())))
        state = self.load_checkpoint(epoch, "cpu") if epoch is not None else self.latest_checkpoint("cpu")[1]
        net = nets[which]
        net.load_state_dict(state[which])
        return net.to(resolve_device(device)).eval()

    def load_generator(self, epoch: int | None = None, device="cpu"):
        """The generator of checkpoint ``epoch`` (default: the newest that loads), in eval mode."""
        return self._network("G", epoch, device)

    def load_discriminator(self, epoch: int | None = None, device="cpu"):
        """The discriminator of checkpoint ``epoch`` (default: the newest that loads), in eval mode."""
        return self._network("D", epoch, device)

    # ------------------------------------------------------------------ evaluations
    def eval_path(self, epoch: int) -> Path:
        return self.path / EVALS / f"epoch_{epoch:04d}.npz"

    def eval_epochs(self) -> list[int]:
        return _epoch_files(self.path / EVALS, "npz")

    def write_eval(self, epoch: int, arrays: dict) -> Path:
        buf = io.BytesIO()
        np.savez(buf, **arrays)
        return atomic_write_bytes(self.eval_path(epoch), buf.getvalue())

    def write_evaluation(self, epoch: int, arrays: dict) -> Path:
        """``evaluation/epoch_XXXX.npz``: the arrays of ``ganphase evaluate`` for checkpoint ``epoch``."""
        buf = io.BytesIO()
        np.savez(buf, **{k: np.asarray(v) for k, v in arrays.items()})
        return atomic_write_bytes(self.path / EVALUATION_DIR / f"epoch_{epoch:04d}.npz", buf.getvalue())

    def read_eval(self, epoch: int) -> dict:
        """The arrays saved at evaluation ``epoch``; ValueError in one line when absent or damaged."""
        return read_npz(self.eval_path(epoch), what=f"{self.path} has no evaluation at epoch {epoch}; "
                                                  f"it has {self.eval_epochs()}")


def read_npz(path: Path, what: str | None = None) -> dict:
    """All arrays of an npz file (no pickles); ValueError in one line when absent or damaged."""
    if not path.is_file():
        raise ValueError(what or f"{path} does not exist")
    try:
        with np.load(path, allow_pickle=False) as f:
            return {k: f[k] for k in f.files}
    except Exception as exc:
        raise ValueError(f"{path} is damaged or not an npz archive ({type(exc).__name__})") from None


def _opens_as_zip(path: Path) -> bool:
    import zipfile

    try:
        with zipfile.ZipFile(path) as z:
            return bool(z.namelist())
    except (zipfile.BadZipFile, OSError, EOFError):
        return False


def _read_json(path: Path):
    try:
        return json.loads(path.read_text(errors="replace"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not valid JSON ({exc.msg} at line {exc.lineno})") from None
