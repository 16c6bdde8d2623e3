"""Particle flows of Algorithm 1 (Section 2.2): x <- x + s grad d*(x)/d*(x) with the optimal discriminator.

Two kinds of p_g:

* a fixed analytic density (any Gaussian mixture or uniform box, e.g. the four cases of Table 2):
  every particle moves in the same time-independent field (paper Figure 2);
* ``"kde"``: the Gaussian kernel density estimate of the current particles,
  p_g(x) = (1/M) sum_j N(x; x_j, h^2 I), so the particles interact (the particle model of Algorithm 1
  with the generator step replaced by moving the particles themselves).

The field is grad log d* = (1 - d*)(score_data - score_g) from :mod:`ganphase.simulate.fields`.
Sums over kernel centres are streamed in blocks with a running log-sum-exp, so memory stays bounded
for 10^5 particles; all arithmetic is torch on ``device`` (cpu/cuda/auto) in ``dtype``.

Runs write ``checkpoint.npz`` (atomically, every ``checkpoint_every`` steps) and at the end
``trajectories.npz`` and ``summary.json``; a run started again with ``resume=True`` continues from
the checkpoint and produces the same trajectories as an uninterrupted run.
"""
from __future__ import annotations

import hashlib
import io
import json
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ganphase.io import atomic_write_bytes, write_json
from ganphase.simulate.device import resolve_device, resolve_dtype
from ganphase.simulate.fields import optimal_field, to_torch_density
from ganphase.simulate.mixtures import GaussianMixture, UniformBox, table2_case

BLOCK = 2**18          # pairwise entries (particle x centre, or particle x component x dim) per block on CPU
GPU_BLOCK = 2**24      # the same on CUDA, where larger blocks keep the device busy
MEMORY_FRACTION = 0.5  # refuse runs whose arrays would take more than this share of the free memory


# --------------------------------------------------------------------------- kernel density estimate

def bandwidth_rule(x: torch.Tensor, rule="scott") -> float:
    """Isotropic bandwidth h from the particles x (M, n): a float is returned as is.

    Scott: h = s M^(-1/(n+4)); Silverman: h = s (4/((n+2) M))^(1/(n+4)), s = sqrt(mean per-axis variance).
    """
    if not isinstance(rule, str):
        h = float(rule)
        if not (math.isfinite(h) and h > 0):
            raise ValueError(f"KDE bandwidth must be a finite number > 0 or 'scott'/'silverman', got {rule!r}")
        return h
    m, n = x.shape
    s = float(x.var(dim=0, unbiased=m > 1).mean().sqrt()) if m > 1 else 1.0
    s = s if s > 0 else 1.0
    if rule == "scott":
        return s * m ** (-1.0 / (n + 4))
    if rule == "silverman":
        return s * (4.0 / ((n + 2) * m)) ** (1.0 / (n + 4))
    raise ValueError(f"KDE bandwidth must be a number > 0, 'scott' or 'silverman', got {rule!r}")


def _squared_distances(x, c, x_sq, c_sq):
    """|x_i - c_j|^2, (m, M): coordinate by coordinate in low dimension, through x c^T otherwise."""
    if x.shape[1] <= 8:
        d = (x[:, 0, None] - c[None, :, 0]).square_()
        for k in range(1, x.shape[1]):
            d.add_((x[:, k, None] - c[None, :, k]).square_())
        return d
    return (x_sq + c_sq[None] - 2 * x @ c.T).clamp_min_(0)


def _kernel_sums(x, centres, h, block=BLOCK):
    """(L, mean) with L_i = logsumexp_j(-|x_i - c_j|^2 / (2h^2)) and mean_i = sum_j softmax_j c_j.

    Streams over blocks of particles and centres, merging blocks with a running maximum.
    """
    m, M = x.shape[0], centres.shape[0]
    rows = max(1, min(m, block // max(1, min(M, block))))
    cols = max(1, block // rows)
    c_sq = (centres ** 2).sum(dim=1)
    out_L, out_mean = [], []
    for i in range(0, m, rows):
        xi = x[i:i + rows]
        x_sq = (xi ** 2).sum(dim=1, keepdim=True)
        run_max = torch.full((xi.shape[0],), -math.inf, dtype=x.dtype, device=x.device)
        run_sum = torch.zeros_like(run_max)
        run_vec = torch.zeros_like(xi)
        for j in range(0, M, cols):
            cj = centres[j:j + cols]
            logits = _squared_distances(xi, cj, x_sq, c_sq[j:j + cols]).mul_(-0.5 / (h * h))
            new_max = torch.maximum(run_max, logits.max(dim=1).values)
            scale = torch.exp(run_max - new_max)
            w = torch.exp(logits - new_max[:, None])
            run_sum = run_sum * scale + w.sum(dim=1)
            run_vec = run_vec * scale[:, None] + w @ cj
            run_max = new_max
        out_L.append(run_max + run_sum.log())
        out_mean.append(run_vec / run_sum[:, None])
    return torch.cat(out_L), torch.cat(out_mean)


class KernelDensity:
    """Gaussian KDE p(x) = (1/M) sum_j N(x; c_j, h^2 I) of centres (M, n), torch, streamed in blocks."""

    def __init__(self, centres: torch.Tensor, bandwidth="scott", block=BLOCK):
        self.centres, self.block = centres, int(block)
        self.h = bandwidth_rule(centres, bandwidth)
        self.dim = centres.shape[1]

    def stats(self, x):
        """(log p(x), score(x)) in one pass over the centres."""
        L, mean = _kernel_sums(x, self.centres, self.h, self.block)
        log_norm = math.log(self.centres.shape[0]) + 0.5 * self.dim * math.log(2 * math.pi * self.h ** 2)
        return L - log_norm, (mean - x) / self.h ** 2

    def log_prob(self, x):
        return self.stats(x)[0]

    def score(self, x):
        return self.stats(x)[1]


# --------------------------------------------------------------------------- the field and one step

def _by_rows(fn, x, components, block):
    """torch.cat of fn over row blocks of x, each holding about ``block`` (row x component x dim) entries."""
    rows = max(1, block // max(1, components * x.shape[1]))
    return torch.cat([fn(x[i:i + rows]) for i in range(0, x.shape[0], rows)])


def particle_field(x, p_data, p_g, block=BLOCK):
    """grad d*/d* at particles x (m, n) (torch), computed over blocks of particles.

    ``p_g`` is a torch density (log_prob, score) or a :class:`KernelDensity`.
    """
    k = getattr(p_data, "n_components", 1) + getattr(p_g, "n_components", 1)
    return _by_rows(lambda xi: optimal_field(p_data, p_g, xi), x, k, block)


def _field_at(x, p_data, p_g, bandwidth, block):
    """The field at the particles; ``p_g = "kde"`` means the KDE of these same particles."""
    if isinstance(p_g, str):
        return particle_field(x, p_data, KernelDensity(x, bandwidth, block), block)
    return particle_field(x, p_data, p_g, block)


# --------------------------------------------------------------------------- runs

@dataclass
class FlowRun:
    """Recorded positions (T, m, n) at steps (T,), with the mean of log p_data at each record."""

    steps: np.ndarray
    positions: np.ndarray
    mean_log_p_data: np.ndarray
    summary: dict


def _available_bytes(device: torch.device) -> int:
    if device.type == "cuda":
        return int(torch.cuda.mem_get_info(device)[0])
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return 2**34


def _validate(x0, p_data, steps, step_size, record_every, device, dtype, block):
    if not isinstance(p_data, GaussianMixture):
        raise ValueError(f"p_data must be a GaussianMixture, got {type(p_data).__name__}")
    x0 = np.asarray(x0, dtype=float)
    if x0.ndim != 2 or x0.shape[0] == 0:
        raise ValueError(f"initial particles must have shape (m, n) with m >= 1, got {x0.shape}")
    if not np.all(np.isfinite(x0)):
        raise ValueError("initial particles contain NaN or infinite values")
    if x0.shape[1] != p_data.dim:
        raise ValueError(f"particles have dimension {x0.shape[1]} but p_data has dimension {p_data.dim}")
    if not (isinstance(steps, (int, np.integer)) and steps >= 0):
        raise ValueError(f"steps must be a non-negative integer, got {steps!r}")
    if not (isinstance(step_size, (int, float)) and math.isfinite(step_size) and step_size > 0):
        raise ValueError(f"step size must be a finite number > 0, got {step_size!r}")
    if not (isinstance(record_every, (int, np.integer)) and record_every >= 1):
        raise ValueError(f"record_every must be a positive integer, got {record_every!r}")
    m, n = x0.shape
    records = steps // record_every + 2
    need = (records + 8) * m * n * 8 + 4 * block * dtype.itemsize
    free = _available_bytes(device)
    if need > MEMORY_FRACTION * free:
        raise ValueError(f"{m} particles in dimension {n} with {records} records need about {need / 2**30:.1f} GiB, "
                         f"more than half of the {free / 2**30:.1f} GiB free; use fewer particles or a larger record_every")
    return x0


def _config_key(x0, p_data, p_g, step_size, bandwidth, dtype):
    desc = json.dumps({"step_size": step_size, "bandwidth": str(bandwidth), "dtype": str(dtype),
                       "p_data": _describe(p_data), "p_g": _describe(p_g)}, sort_keys=True)
    return hashlib.sha256(desc.encode() + np.ascontiguousarray(x0).tobytes()).hexdigest()


def _describe(p):
    if isinstance(p, GaussianMixture):
        return {"kind": "gaussian_mixture", "means": p.means.tolist(), "sigmas": p.sigmas.tolist(), "weights": p.weights.tolist()}
    if isinstance(p, UniformBox):
        return {"kind": "uniform_box", "low": p.low.tolist(), "high": p.high.tolist()}
    return {"kind": str(p)}


def run_flow(x0, p_data, p_g, steps: int, step_size: float, *, record_every: int = 1, bandwidth="scott",
             device="auto", dtype="float64", out=None, resume: bool = False, checkpoint_every: int = 100,
             progress: bool = True, block: int | None = None, meta: dict | None = None) -> FlowRun:
    """Move particles x0 (m, n) along Algorithm 1's field for ``steps`` steps of size ``step_size``.

    ``p_data``: a GaussianMixture; ``p_g``: a GaussianMixture / UniformBox (fixed) or ``"kde"``.
    Positions are recorded at step 0, every ``record_every`` steps and at the last step.  With ``out``
    (a folder) the run checkpoints there and writes trajectories.npz and summary.json; ``resume``
    continues from ``out/checkpoint.npz`` of the same run.  ``meta`` is copied into the summary.
    """
    kde = isinstance(p_g, str)
    if kde and p_g != "kde":
        raise ValueError(f"p_g must be a density or 'kde', got {p_g!r}")
    dev, dt = resolve_device(device), resolve_dtype(dtype)
    block = int(block or (GPU_BLOCK if dev.type == "cuda" else BLOCK))
    x0 = _validate(x0, p_data, steps, step_size, record_every, dev, dt, block)
    if kde:
        bandwidth_rule(torch.as_tensor(x0[:2]), bandwidth)   # validates the option early
    elif p_g.dim != p_data.dim:
        raise ValueError(f"p_g has dimension {p_g.dim} but p_data has dimension {p_data.dim}")
    if resume and out is None:
        raise ValueError("resume needs an output folder")
    td = to_torch_density(p_data, dev, dt)
    tg = "kde" if kde else to_torch_density(p_g, dev, dt)
    key = _config_key(x0, p_data, p_g, step_size, bandwidth, dt)
    state = _start_state(x0, td, out, resume, key, steps, record_every, block)
    x = torch.as_tensor(state["x"], device=dev, dtype=dt)
    started = time.perf_counter()
    bar = None
    if progress:
        from tqdm import tqdm
        bar = tqdm(total=steps, initial=state["step"], desc="particle flow", unit="step")
    for step in range(state["step"] + 1, steps + 1):
        x = x + step_size * _field_at(x, td, tg, bandwidth, block)
        if not bool(torch.isfinite(x).all()):
            raise ValueError(f"particles became non-finite at step {step}; use a smaller step size")
        if step % record_every == 0 or step == steps:
            _record(state, step, x, td, block)
        if out is not None and (step % checkpoint_every == 0 or step == steps):
            state["x"], state["step"] = x.cpu().numpy(), step
            _save_checkpoint(Path(out) / "checkpoint.npz", state, key)
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    state["x"], state["step"] = x.cpu().numpy(), steps
    run = FlowRun(np.array(state["steps"]), np.stack(state["positions"]), np.array(state["mean_log_p_data"]), {})
    run.summary = {**(meta or {}), **_summary(run, p_data, p_g, step_size, bandwidth, dev, dt,
                                              time.perf_counter() - started)}
    if out is not None:
        write_trajectories(out, run)
    return run


def _mean_log_prob(td, x, block):
    return float(_by_rows(td.log_prob, x, td.n_components, block).mean())


def _record(state, step, x, td, block):
    state["steps"].append(step)
    state["positions"].append(x.cpu().numpy())
    state["mean_log_p_data"].append(_mean_log_prob(td, x, block))


def _start_state(x0, td, out, resume, key, steps, record_every, block):
    path = Path(out) / "checkpoint.npz" if out is not None else None
    if resume and path.exists():
        with np.load(path, allow_pickle=False) as data:
            saved = {k: data[k] for k in data.files}
        if str(saved["key"]) != key or int(saved["record_every"]) != record_every or int(saved["step"]) > steps:
            raise ValueError(f"checkpoint {path} belongs to a different run; remove it or use another output folder")
        return {"x": saved["x"], "step": int(saved["step"]), "steps": list(saved["steps"]),
                "positions": list(saved["positions"]), "mean_log_p_data": list(saved["mean_log_p_data"]),
                "record_every": record_every}
    state = {"x": x0, "step": 0, "steps": [], "positions": [], "mean_log_p_data": [], "record_every": record_every}
    _record(state, 0, torch.as_tensor(x0, device=td.means.device, dtype=td.means.dtype), td, block)
    return state


def _save_checkpoint(path, state, key):
    buf = io.BytesIO()
    np.savez(buf, x=state["x"], step=state["step"], steps=np.array(state["steps"]),
             positions=np.stack(state["positions"]), mean_log_p_data=np.array(state["mean_log_p_data"]),
             record_every=state["record_every"], key=key)
    atomic_write_bytes(path, buf.getvalue())


def write_trajectories(out, run: FlowRun):
    """out/trajectories.npz (steps, positions, mean_log_p_data) and out/summary.json, atomically."""
    buf = io.BytesIO()
    np.savez(buf, steps=run.steps, positions=run.positions, mean_log_p_data=run.mean_log_p_data)
    atomic_write_bytes(Path(out) / "trajectories.npz", buf.getvalue())
    write_json(Path(out) / "summary.json", run.summary)


def nearest_mode_fractions(p_data: GaussianMixture, x: np.ndarray) -> list[float]:
    """Share of particles whose most responsible p_data component is k, for each k."""
    owner = np.argmax(p_data.component_log_probs(x), axis=1)
    return (np.bincount(owner, minlength=p_data.n_components) / len(x)).tolist()


def _summary(run, p_data, p_g, step_size, bandwidth, device, dtype, seconds):
    last = run.positions[-1]
    return {"p_data": _describe(p_data), "p_g": _describe(p_g) if not isinstance(p_g, str) else {"kind": "kde"},
            "bandwidth": bandwidth if isinstance(p_g, str) else None, "step_size": step_size,
            "steps": int(run.steps[-1]), "particles": int(last.shape[0]), "dim": int(last.shape[1]),
            "device": str(device), "dtype": str(dtype).replace("torch.", ""),
            "recorded_steps": run.steps.tolist(), "mean_log_p_data": run.mean_log_p_data.tolist(),
            "final_mode_fractions": nearest_mode_fractions(p_data, last),
            "final_mean": last.mean(axis=0)[:8].tolist(), "seconds_this_session": seconds}


# --------------------------------------------------------------------------- Table 2 in n dimensions

def table2_pair(case: int, dim: int = 2):
    """Table 2 case 1-4 in dimension ``dim`` >= 2: the printed pair on the first two coordinates.

    Extra coordinates: every Gaussian component (of p_data and of p_g) gets mean 0 and its printed
    standard deviation there; the uniform box of case 2 becomes [-2, 2]^dim.
    """
    if not (isinstance(dim, (int, np.integer)) and dim >= 2):
        raise ValueError(f"Table 2 cases need dimension >= 2, got {dim!r}")
    p_data, p_g = table2_case(case)
    return _pad(p_data, dim), _pad(p_g, dim)


def _pad(p, dim):
    if isinstance(p, UniformBox):
        return UniformBox(np.concatenate([p.low, np.full(dim - 2, -2.0)]), np.concatenate([p.high, np.full(dim - 2, 2.0)]))
    extra = dim - p.dim
    means = np.concatenate([p.means, np.zeros((p.n_components, extra))], axis=1)
    sigmas = np.concatenate([p.sigmas, np.repeat(p.sigmas[:, :1], extra, axis=1)], axis=1)
    return GaussianMixture(means, sigmas, p.weights)
