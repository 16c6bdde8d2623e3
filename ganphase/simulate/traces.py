"""Compact traces of a run (``traces.npz``): what a stopping rule needs, without the JSON-lines files.

Built from ``metrics.jsonl`` and ``monitor.jsonl`` when a run ends (:meth:`RunFolder.write_traces`),
written with ``numpy.savez_compressed``, read with :meth:`RunFolder.read_traces` (no pickles).
Arrays, with I monitored iterations (or epochs, when Algorithm 2 ran per epoch), E epochs and V
evaluations::

    format                 ()  int32    TRACES_FORMAT
    monitor_unit           ()  str      "iteration" | "epoch" (what one it_* entry is)
    it_epoch               (I) int32    epoch of each monitored iteration
    it_q_d                 (I) float32  q_d, the (1 - 1/m) quantile of ||grad_x log d(G(z))|| (Alg. 2, line 3)
    it_steepness           (I) float32  S_g, mean steepness of the monitored latents (Alg. 2, line 5)
    it_stop                (I) bool     Algorithm 2's condition (q_d > k_d/(2 sigma) or Delta S_g < k_g,
                                        past the warm-up) as the run evaluated it, in float64
    epoch                  (E) int32    1..E
    iterations             (E) int32    iterations trained in each epoch
    loss_d, loss_g, d_real, d_fake, q_d, steepness, delta_steepness, time_s
                           (E) float32  epoch means (delta_steepness: NaN at epoch 1)
    eval_epoch             (V) int32    epochs with an evaluation (rows whose eval failed are left out)
    eval_<key>             (V) float32  every numeric scalar the evaluator recorded (modes_covered,
                                        high_quality, fd, kl, ...); NaN where an evaluation lacks it
    threshold_<key>        ()  float64  Algorithm 2's inputs from config.json: k_d, sigma, k_g, m, warmup,
                                        threshold_d (absent for runs without monitors)

Delta S_g is not stored: ``EarlyStopping.update`` fed with ``it_q_d`` and ``it_steepness`` in order
recomputes it (Algorithm 2, line 6), within about 1e-6 of the run's own float64 value, and makes the
run's decisions (tests/test_traces.py).
"""
from __future__ import annotations

import math

import numpy as np

TRACES_FORMAT = 1
EPOCH_KEYS = ("loss_d", "loss_g", "d_real", "d_fake", "q_d", "steepness", "delta_steepness", "time_s")
THRESHOLD_KEYS = ("k_d", "sigma", "k_g", "m", "warmup", "threshold_d")


def _number(v) -> float:
    ok = isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
    return float(v) if ok else math.nan


def _column(rows, key, dtype=np.float32) -> np.ndarray:
    return np.array([_number(r.get(key)) for r in rows], dtype=dtype)


def build_traces(metrics_rows: list[dict], monitor_rows: list[dict], thresholds: dict | None = None,
                 monitor_unit: str = "iteration") -> dict[str, np.ndarray]:
    """The arrays of ``traces.npz`` (module docstring) from a run's metric and monitor rows."""
    evals = [(r["epoch"], r["eval"]) for r in metrics_rows
             if isinstance(r.get("eval"), dict) and "error" not in r["eval"]]
    eval_keys = sorted({k for _, ev in evals for k, v in ev.items()
                        if isinstance(v, (int, float)) and not isinstance(v, bool)})
    out = {"format": np.array(TRACES_FORMAT, np.int32), "monitor_unit": np.array(monitor_unit),
           "it_epoch": np.array([r["epoch"] for r in monitor_rows], np.int32),
           "it_q_d": _column(monitor_rows, "q_d"), "it_steepness": _column(monitor_rows, "steepness"),
           "it_stop": np.array([bool(r.get("stop")) for r in monitor_rows], bool),
           "epoch": np.array([r["epoch"] for r in metrics_rows], np.int32),
           "iterations": np.array([r.get("iterations", 0) for r in metrics_rows], np.int32),
           **{k: _column(metrics_rows, k) for k in EPOCH_KEYS},
           "eval_epoch": np.array([e for e, _ in evals], np.int32),
           **{f"eval_{k}": _column([ev for _, ev in evals], k) for k in eval_keys}}
    if thresholds:
        out.update({f"threshold_{k}": np.array(_number(thresholds.get(k)), np.float64) for k in THRESHOLD_KEYS})
    return out

