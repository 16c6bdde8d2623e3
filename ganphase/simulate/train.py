"""NSGAN training with the paper's monitors and Algorithm 2 (Sections 4.3, 6.2; Appendix F.2).

One iteration (Algorithm 1 / 2): a discriminator step on
L_d = -E log d(x) - E log(1 - d(g(z))), a generator step on the non-saturating
L_g = -E log d(g(z)) (both from logits, :mod:`ganphase.simulate.nsgan`),
then, every ``monitor_every`` iterations, the monitors
(:class:`ganphase.simulate.monitors.BatchMonitor`): q_d from the generator step's own
gradient where D couples no samples (a dedicated pass where its batch norm does) and the
mean steepness of a sub-batch by warm-started power iteration, with its standard error.

Run folder (read by the figures and metrics code; names are fixed)::

    config.json  metrics.jsonl  monitor.jsonl  traces.npz  summary.json
    evals/epoch_XXXX.npz  checkpoints/epoch_XXXX.pt

``train(TrainConfig(...))`` returns the summary dict; ``resume=True`` continues
a killed run from its last checkpoint (jsonl files truncated back to it).
"""
from __future__ import annotations

import dataclasses
import json
import math
import sys
import time
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from ganphase.io import _finite
from ganphase.simulate.data import is_mixture, load_dataset
from ganphase.simulate.device import resolve_device
from ganphase.simulate.models import ModelConfig, build_models, build_optimizers
from ganphase.simulate.nsgan import discriminator_loss, generator_loss
from ganphase.simulate.monitors import BatchMonitor, EarlyStopping, log_d_grad_norms, thresholds_for
from ganphase.simulate.run_folder import RunFolder
from ganphase.simulate.steepness import PowerSteepness, eval_mode

# Paper settings per data set (Appendix F.2); sizes the paper does not print are the usual NSGAN / DCGAN ones.
DEFAULTS = {
    "mixture": dict(model="mlp", batch_size=128, resize=None),
    "digits": dict(model="mlp", batch_size=64, resize=None),
    "image": dict(model="dcgan", batch_size=64, resize=64),
}


@dataclass
class TrainConfig:
    data: str = "gmm-3d"
    epochs: int = 50
    out: str = "runs/train"
    seed: int = 0
    device: str = "auto"
    data_dir: str | None = None
    subset: int | None = None
    resize: int | None = -1                # -1: the paper's default (64 for image sets), None: native size
    batch_size: int | None = None
    # model (None: defaults of ganphase.simulate.models.ModelConfig for the data set)
    model: str | None = None               # "mlp" | "dcgan"
    latent_dim: int | None = None
    hidden: tuple = (128, 128, 128)
    width: int = 64                        # dcgan ngf = ndf
    d_batchnorm: bool = True
    optimizer: str | None = None
    lr_g: float | None = None
    lr_d: float | None = None
    noise_std: float = 0.0
    # monitors and Algorithm 2 (None: Appendix F.2's choice for the data set)
    monitor: bool = True
    early_stop: bool = False
    continue_after_stop: bool = False
    monitor_unit: str = "iteration"        # Algorithm 2 per "iteration", or once per "epoch" on epoch means
    k_d: float | None = None
    sigma: float | None = None
    k_g: float = -0.5
    n_modes: int | None = None
    warmup: int | None = None
    monitor_batch: int | None = None       # samples whose steepness is estimated; None: whole batch (mlp), 16 (dcgan)
    monitor_latents: str = "fixed"         # "fixed": one fixed set of latents (no sampling noise in Delta S_g, the power
                                           # vectors stay warm); "batch": the first monitor_batch latents of each batch
    power_iters: int = 2                   # at most this many warm-started power steps per iteration
    monitor_every: int = 8                 # measure q_d and S_g every k-th iteration (Delta S_g: consecutive measurements)
    power_tol: float = 1e-2
    selection: str = "score"               # returned checkpoint: best "score" before the stop, or "last"
    # evaluation, checkpoints
    eval_every: int = 5
    evaluator: bool = True                 # call ganphase.simulate.metrics.Evaluator on evaluation epochs
    eval_samples: int = 256
    eval_keep: int | None = None           # z and samples kept in evals/epoch_XXXX.npz (None: all eval_samples)
    eval_steepness_samples: int = 64
    eval_duality_gap: bool = False         # vanilla and perturbed duality gaps at evaluations (Appendix G.5)
    eval_jacobian: bool = False            # mean log condition number of the generator's J^T J (Odena et al. 2018)
    checkpoint_every: int = 1
    keep_last: int = 3
    max_iterations_per_epoch: int | None = None
    resume: bool = False
    progress: bool = True
    threads: int | None = None             # torch CPU threads; None: 1 for mlp models (faster), torch's default otherwise

    def __post_init__(self):
        if self.hidden is not None:
            self.hidden = tuple(int(h) for h in self.hidden)
        for name in ("epochs", "eval_every", "checkpoint_every", "keep_last", "power_iters", "monitor_every",
                     "eval_samples", "eval_steepness_samples", "width"):
            v = getattr(self, name)
            if not (isinstance(v, int) and v >= 1):
                raise ValueError(f"{name} must be a positive integer, got {v!r}")
        for name in ("subset", "batch_size", "max_iterations_per_epoch", "n_modes", "latent_dim", "monitor_batch",
                     "eval_keep"):
            v = getattr(self, name)
            if v is not None and not (isinstance(v, int) and v >= 1):
                raise ValueError(f"{name} must be a positive integer or None, got {v!r}")
        if self.resize is not None and not (isinstance(self.resize, int) and (self.resize == -1 or self.resize >= 4)):
            raise ValueError(f"resize must be -1 (the paper's default), None (native size) or a side >= 4, got {self.resize!r}")
        if self.threads is not None and not (isinstance(self.threads, int) and self.threads >= 1):
            raise ValueError(f"threads must be a positive integer or None, got {self.threads!r}")
        if self.warmup is not None and not (isinstance(self.warmup, int) and self.warmup >= 0):
            raise ValueError(f"warmup must be a non-negative integer or None, got {self.warmup!r}")
        if not (isinstance(self.seed, int) and self.seed >= 0):
            raise ValueError(f"seed must be a non-negative integer, got {self.seed!r}")
        if self.monitor_unit not in ("iteration", "epoch"):
            raise ValueError(f"monitor_unit must be 'iteration' or 'epoch', got {self.monitor_unit!r}")
        if self.monitor_latents not in ("batch", "fixed"):
            raise ValueError(f"monitor_latents must be 'batch' or 'fixed', got {self.monitor_latents!r}")
        if self.selection not in ("score", "last"):
            raise ValueError(f"selection must be 'score' or 'last', got {self.selection!r}")
        if self.noise_std < 0:
            raise ValueError(f"noise_std must be >= 0, got {self.noise_std}")
        if self.early_stop and not self.monitor:
            raise ValueError("early_stop needs the monitors (monitor=True)")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


# ----------------------------------------------------------------------------- setup
def _kind(name: str) -> str:
    return "mixture" if is_mixture(name) else "digits" if name == "digits" else "image"


def _prepare(cfg: TrainConfig):
    """(dataset, resize, model config, batch size) for ``cfg``."""
    kind = _kind(cfg.data)
    d = DEFAULTS[kind]
    ds = load_dataset(cfg.data, data_dir=cfg.data_dir, split="train", subset=cfg.subset, seed=cfg.seed)
    resize = d["resize"] if cfg.resize == -1 else cfg.resize
    if resize is not None and not ds.is_image:
        raise ValueError(f"resize applies to images only, not to {cfg.data!r}")
    shape = ds.sample_shape if resize is None else (ds.sample_shape[0], resize, resize)
    mc = ModelConfig(kind=cfg.model or d["model"], data_shape=shape, latent_dim=cfg.latent_dim,
                     hidden=cfg.hidden, ngf=cfg.width, ndf=cfg.width, d_batchnorm=cfg.d_batchnorm,
                     noise_std=cfg.noise_std, optimizer=cfg.optimizer, lr_g=cfg.lr_g, lr_d=cfg.lr_d)
    batch = cfg.batch_size or d["batch_size"]
    if batch > len(ds):
        raise ValueError(f"batch size {batch} exceeds the {len(ds)} training samples")
    return ds, resize, mc, batch


def _resized(x: torch.Tensor, resize):
    if resize is None or x.shape[-1] == resize:
        return x
    return F.interpolate(x, size=(resize, resize), mode="bilinear", align_corners=False).clamp_(-1, 1)


def _thresholds(cfg: TrainConfig, ds, resize) -> dict:
    sub = ds
    if resize is not None:
        n = min(len(ds), 10000)
        sub = dataclasses.replace(ds, x=_resized(ds.x[:n], resize), y=None if ds.y is None else ds.y[:n])
    return thresholds_for(sub, k_d=cfg.k_d, sigma=cfg.sigma, m=cfg.n_modes, warmup=cfg.warmup, k_g=cfg.k_g,
                          seed=cfg.seed)


def _evaluator(cfg, ds, resize, device, run_dir):
    """The metrics package's Evaluator, or (None, reason) while it is not importable."""
    if not cfg.evaluator:
        return None, "switched off (evaluator=False)"
    try:
        from ganphase.simulate.metrics import Evaluator
    except ImportError as exc:
        return None, f"ganphase.simulate.metrics.Evaluator is not importable ({exc}); no evaluation metrics"
    n = min(len(ds), 10000)
    x = _resized(ds.x[:n], resize)
    return Evaluator(cfg.data, x, None if ds.y is None else ds.y[:n], device=str(device),
                     cache_dir=run_dir / "eval_cache", seed=cfg.seed), "available"


def _collapse_tools():
    try:
        from ganphase.simulate.metrics.collapse import checkpoint_score, collapse_epoch
        return collapse_epoch, checkpoint_score
    except ImportError:
        return None, None


# ----------------------------------------------------------------------------- checkpoints
def _save(run: RunFolder, epoch, G, D, opt_g, opt_d, es, est, eval_est, extra):
    run.save_checkpoint(epoch, {
        "G": G.state_dict(), "D": D.state_dict(), "opt_g": opt_g.state_dict(), "opt_d": opt_d.state_dict(),
        "rng_cpu": torch.get_rng_state(),
        "rng_cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "monitor": json.dumps(es.state_dict()) if es is not None else "", "steepness": est.state_dict(),
        "eval_steepness": eval_est.state_dict(), "extra": json.dumps(extra)})


def _restore(run: RunFolder, device, G, D, opt_g, opt_d, es, est, eval_est) -> tuple[int, dict]:
    """Load the newest checkpoint that loads; damaged newer ones are set aside with a warning.

    Returns (epoch, extra). The metrics and monitor rows after that epoch are rolled back.
    """
    epoch, state = run.latest_checkpoint(device)
    for newer in [e for e in run.checkpoint_epochs() if e > epoch]:
        run.set_aside(newer)
    G.load_state_dict(state["G"]); D.load_state_dict(state["D"])
    opt_g.load_state_dict(state["opt_g"]); opt_d.load_state_dict(state["opt_d"])
    torch.set_rng_state(state["rng_cpu"])
    if state["rng_cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["rng_cuda"])
    if es is not None and state["monitor"]:
        es.load_state_dict(json.loads(state["monitor"]))
    est.load_state_dict(state["steepness"])
    eval_est.load_state_dict(state["eval_steepness"])
    run.roll_back(epoch + 1)
    return epoch, json.loads(state["extra"])


def checkpoint_epochs(run_dir) -> list[int]:
    """Epochs of the checkpoints in ``run_dir`` whose files are whole (damaged ones skipped with a warning)."""
    return RunFolder(run_dir).checkpoint_epochs(readable=True)


def load_generator(run_dir, epoch: int | None = None, device="cpu"):
    """The generator of checkpoint ``epoch`` (default: the newest that loads), in eval mode."""
    return RunFolder(run_dir).load_generator(epoch, device)


def load_discriminator(run_dir, epoch: int | None = None, device="cpu"):
    """The discriminator of checkpoint ``epoch`` (default: the newest that loads), in eval mode."""
    return RunFolder(run_dir).load_discriminator(epoch, device)


# ----------------------------------------------------------------------------- selection
def _scores(rows, score_fn) -> dict[int, float]:
    out = {}
    if score_fn is None:
        return out
    for r in rows:
        ev = r.get("eval")
        if isinstance(ev, dict) and "error" not in ev:
            try:
                s = float(score_fn(ev))
            except Exception:   # a score the metrics package cannot form for this row
                continue
            if math.isfinite(s):
                out[r["epoch"]] = s
    return out


def _selection(rows, ckpts, stop_epoch, score_fn, rule):
    """(returned epoch, best epoch) among saved checkpoints: Algorithm 2, line 10."""
    scores = _scores(rows, score_fn)
    before = [e for e in ckpts if stop_epoch is None or e < stop_epoch]
    scored_before = [e for e in before if e in scores]
    if rule == "score" and scored_before:
        returned = max(scored_before, key=lambda e: (scores[e], e))
    else:
        returned = before[-1] if before else None
    scored = [e for e in ckpts if e in scores]
    best = max(scored, key=lambda e: (scores[e], e)) if scored else None
    return returned, best, scores


def _prune(run: RunFolder, rows, stop_epoch, score_fn, cfg):
    ckpts = run.checkpoint_epochs()
    keep = set(ckpts[-cfg.keep_last:]) | {0}
    returned, best, _ = _selection(rows, ckpts, stop_epoch, score_fn, cfg.selection)
    before = [e for e in ckpts if stop_epoch is None or e < stop_epoch]
    keep |= {e for e in (returned, best, before[-1] if before else None) if e is not None}
    for e in ckpts:
        if e not in keep:
            run.remove_checkpoint(e)


# ----------------------------------------------------------------------------- evaluation
def _evaluate(run: RunFolder, epoch, G, D, z_eval, eval_est, n_steep, evaluator, keep=None):
    with torch.no_grad(), eval_mode(G):
        samples = G(z_eval)
    with eval_mode(D):
        norms = log_d_grad_norms(D, samples)
    steep = eval_est(G, z_eval[:n_steep])
    arrays = {"z": z_eval[:keep].cpu().numpy(), "samples": samples[:keep].cpu().numpy(),
              "grad_norms": norms.cpu().numpy(), "steepness": steep.cpu().numpy()}
    scalars = None
    if evaluator is not None:
        try:
            out = dict(evaluator(samples))
            extra = out.pop("arrays", None) or {}
            arrays.update({f"eval_{k}" if k in arrays else k: np.asarray(v) for k, v in extra.items()})
            scalars = out
        except Exception as exc:  # the run goes on; the failure is recorded in metrics.jsonl
            scalars = {"error": f"{type(exc).__name__}: {exc}"}
    run.write_eval(epoch, arrays)
    return scalars


# ----------------------------------------------------------------------------- the loop
def _config_record(cfg, mc, thresholds, n_data, batch, resize):
    return {"train": cfg.to_dict(), "model": mc.to_dict(), "thresholds": thresholds,
            "n_train": n_data, "batch_size": batch, "resize": resize}


def _check_resume_config(run: RunFolder, record):
    old = run.read_config()
    keys = [k for k in record["train"] if k not in ("epochs", "resume", "progress", "device", "out")]
    diff = [k for k in keys if json.dumps(old["train"].get(k)) != json.dumps(record["train"][k])]
    if diff:
        raise ValueError(f"cannot resume {run.path}: its config.json differs in {', '.join(diff)}; "
                         "resume with the same settings (only --epochs may change)")


@dataclass
class _Session:
    """Everything one training run holds in memory (built by :func:`_setup`)."""
    cfg: TrainConfig
    run: RunFolder
    device: torch.device
    ds: object
    resize: int | None
    mc: ModelConfig
    batch: int
    thresholds: dict | None
    G: torch.nn.Module
    D: torch.nn.Module
    opt_g: torch.optim.Optimizer
    opt_d: torch.optim.Optimizer
    es: EarlyStopping | None
    est: PowerSteepness
    bmon: BatchMonitor | None
    eval_est: PowerSteepness
    z_eval: torch.Tensor
    z_monitor: torch.Tensor | None      # fixed monitor latents (monitor_latents="fixed")
    n_monitor: int
    evaluator: object
    eval_status: str
    n_batches: int
    x: torch.Tensor                     # the training samples on the device
    extra: dict = dataclasses.field(default_factory=lambda: {"stop_epoch": None, "prev_epoch_steepness": None})

    def state(self) -> tuple:
        return self.G, self.D, self.opt_g, self.opt_d, self.es, self.est, self.eval_est


def train(config: TrainConfig) -> dict:
    """Train NSGAN as ``config`` says, write the run folder, return the summary (summary.json)."""
    s = _setup(config)
    start = _start_or_resume(s)
    rows, failure = s.run.metrics(), None
    done = s.es is not None and s.es.stopped and s.cfg.early_stop and not s.cfg.continue_after_stop
    epochs = range(start, s.cfg.epochs + 1) if not done else range(0)
    bar = _progress(s.cfg, start, len(epochs) * s.n_batches)
    for epoch in epochs:
        t0 = time.perf_counter()
        row, mon_rows, stop_now, failure = _train_epoch(s, epoch, bar)
        if failure:
            break
        s.run.append_monitor(mon_rows)
        if epoch % s.cfg.eval_every == 0 or stop_now or epoch == s.cfg.epochs:
            _evaluate_into(s, epoch, row)
        row["time_s"] = time.perf_counter() - t0
        s.run.append_metrics(row)
        rows.append(row)
        if epoch % s.cfg.checkpoint_every == 0 or stop_now or epoch == s.cfg.epochs or "eval" in row:
            _save(s.run, epoch, *s.state(), s.extra)
            _prune(s.run, rows, s.extra["stop_epoch"], _collapse_tools()[1], s.cfg)
        if stop_now:
            break
    if bar is not None:
        bar.close()
    return _finish(s, rows, failure)


# ----------------------------------------------------------------------------- the steps of train()
def _setup(cfg: TrainConfig) -> _Session:
    """Data, models, optimisers, monitors and evaluator of a run, seeded."""
    device = resolve_device(cfg.device)
    torch.manual_seed(cfg.seed)
    ds, resize, mc, batch = _prepare(cfg)
    if device.type == "cpu" and (cfg.threads or mc.kind == "mlp"):
        torch.set_num_threads(cfg.threads or 1)
    thr = _thresholds(cfg, ds, resize) if cfg.monitor else None
    G, D = (net.to(device) for net in build_models(mc))
    opt_g, opt_d = build_optimizers(mc, G, D)
    es = EarlyStopping(thr["k_d"], thr["sigma"], thr["k_g"], thr["m"], thr["warmup"]) if cfg.monitor else None
    est = PowerSteepness(tol=cfg.power_tol, max_iter=cfg.power_iters, seed=cfg.seed)
    z_eval = torch.randn(cfg.eval_samples, mc.latent_dim,
                         generator=torch.Generator().manual_seed(cfg.seed + 12345)).to(device)
    n_mon = min(cfg.monitor_batch or (batch if mc.kind == "mlp" else 16), batch)
    z_mon = None
    if cfg.monitor_latents == "fixed":
        z_mon = torch.randn(n_mon, mc.latent_dim, generator=torch.Generator().manual_seed(cfg.seed + 777)).to(device)
    run = RunFolder(cfg.out)
    with _rng_guard(device):   # the evaluator never moves the training RNG
        evaluator, eval_status = _evaluator(cfg, ds, resize, device, run.path)
    n_batches = len(ds) // batch
    if cfg.max_iterations_per_epoch:
        n_batches = min(n_batches, cfg.max_iterations_per_epoch)
    return _Session(cfg, run, device, ds, resize, mc, batch, thr, G, D, opt_g, opt_d, es, est,
                    BatchMonitor(est, thr["m"], cfg.monitor_every) if cfg.monitor else None,
                    PowerSteepness(tol=1e-2, max_iter=30, seed=cfg.seed + 1), z_eval, z_mon, n_mon,
                    evaluator, eval_status, n_batches, ds.x.to(device))


def _start_or_resume(s: _Session) -> int:
    """The first epoch to train: 1 for a new run, or one past the newest checkpoint that loads."""
    cfg, run = s.cfg, s.run
    record = _config_record(cfg, s.mc, s.thresholds, len(s.ds), s.batch, s.resize)
    start = 1
    if cfg.resume and run.exists() and run.checkpoint_epochs():
        _check_resume_config(run, record)
        epoch, s.extra = _restore(run, s.device, *s.state())
        start = epoch + 1
    else:
        if run.exists() and not cfg.resume:
            raise ValueError(f"{run.path} already holds a run; pass --resume to continue it or choose another --out")
        run.path.mkdir(parents=True, exist_ok=True)
        run.reset_traces()
    run.write_config(record)
    if start == 1:
        _save(run, 0, *s.state(), s.extra)
    return start


def _train_epoch(s: _Session, epoch: int, bar):
    """One epoch of NSGAN steps with the monitors: (metrics row, monitor rows, stop now?, failure or None)."""
    cfg, es = s.cfg, s.es
    perm = torch.randperm(len(s.ds), device="cpu")
    sums = {k: 0.0 for k in ("loss_d", "loss_g", "d_real", "d_fake", "q_d", "steepness", "steepness_var")}
    it_done, n_meas, stop_now, mon_rows = 0, 0, False, []
    s.G.train(); s.D.train()
    for b in range(s.n_batches):
        real = _resized(s.x[perm[b * s.batch:(b + 1) * s.batch].to(s.device)], s.resize)
        z = torch.randn(s.batch, s.mc.latent_dim, device=s.device)
        iteration = (epoch - 1) * s.n_batches + b + 1
        measure = cfg.monitor and s.bmon.due(iteration)
        step = _nsgan_step(s, real, z, measure)
        if not (math.isfinite(step["loss_d"]) and math.isfinite(step["loss_g"])):
            return None, mon_rows, False, (f"non-finite loss at epoch {epoch}, iteration {b + 1} "
                                           f"(loss_d={step['loss_d']}, loss_g={step['loss_g']}); "
                                           "the last good checkpoint is kept")
        it_done += 1
        for k in ("loss_d", "loss_g", "d_real", "d_fake"):
            sums[k] += step[k]
        if measure:
            mon = s.bmon.measure(s.G, s.D, step["fake"], s.z_monitor if s.z_monitor is not None else z[:s.n_monitor])
            n_meas += 1
            sums["q_d"] += mon["q_d"]
            sums["steepness"] += mon["steepness"]
            sums["steepness_var"] += mon["steepness_se"] ** 2
            if cfg.monitor_unit == "iteration":
                stop_now = _algorithm2(s, epoch, mon["q_d"], mon["steepness"], iteration)
                mon_rows.append({"epoch": epoch, "iteration": es.iteration, **es.last,
                                 "steepness_se": mon["steepness_se"], "power_change": mon["power_change"]})
                if stop_now:
                    break
        if bar is not None:
            bar.update(1)
    n = max(it_done, 1)
    row = {"epoch": epoch, "iterations": it_done, **{k: sums[k] / n for k in ("loss_d", "loss_g", "d_real", "d_fake")}}
    if cfg.monitor and n_meas:
        s_ep = sums["steepness"] / n_meas
        prev = s.extra["prev_epoch_steepness"]
        row.update(q_d=sums["q_d"] / n_meas, steepness=s_ep,
                   steepness_se=_finite(math.sqrt(sums["steepness_var"] / n_meas)),
                   delta_steepness=(s_ep - prev) / prev if prev else None, monitored_iterations=n_meas)
        s.extra["prev_epoch_steepness"] = s_ep
        if cfg.monitor_unit == "epoch":
            stop_now = _algorithm2(s, epoch, row["q_d"], s_ep, None)
            mon_rows.append({"epoch": epoch, "iteration": es.iteration, **es.last})
    return row, mon_rows, stop_now, None


def _nsgan_step(s: _Session, real, z, watch: bool) -> dict:
    """One discriminator step on L_d, then one generator step on the non-saturating L_g."""
    fake = s.G(z)
    a_real, a_fake = s.D(real), s.D(fake.detach())
    loss_d = discriminator_loss(a_real, a_fake)
    s.opt_d.zero_grad(set_to_none=True)
    loss_d.backward()
    s.opt_d.step()
    if watch:   # q_d is read off this generator step's own backward pass where that is exact
        s.bmon.watch(s.D, fake)
    loss_g = generator_loss(s.D(fake))
    s.opt_g.zero_grad(set_to_none=True)
    loss_g.backward()
    s.opt_g.step()
    return {"fake": fake, "loss_d": loss_d.item(), "loss_g": loss_g.item(),
            "d_real": torch.sigmoid(a_real).mean().item(), "d_fake": torch.sigmoid(a_fake).mean().item()}


def _algorithm2(s: _Session, epoch: int, q_d: float, steepness: float, iteration) -> bool:
    """Feed Algorithm 2; record the epoch of its first stop. True when training should stop now."""
    was_stopped = s.es.stopped
    hit = s.es.update(q_d, steepness, iteration=iteration) if iteration is not None else s.es.update(q_d, steepness)
    if hit and not was_stopped:
        s.extra["stop_epoch"] = epoch
        return s.cfg.early_stop and not s.cfg.continue_after_stop
    return False


def _evaluate_into(s: _Session, epoch: int, row: dict) -> None:
    """Evaluate at ``epoch`` (writes evals/epoch_XXXX.npz) and put the evaluator's scalars in ``row``."""
    with _rng_guard(s.device):
        scalars = _evaluate(s.run, epoch, s.G, s.D, s.z_eval, s.eval_est, s.cfg.eval_steepness_samples, s.evaluator,
                            s.cfg.eval_keep)
    game = _game_metrics(s, epoch)
    if scalars is not None or game:
        row["eval"] = {**(scalars or {}), **game}


# worst-case opponents of the duality gaps: Adam steps, learning rate, parameter noise of the perturbed gap
DUALITY_STEPS, DUALITY_LR, DUALITY_PERTURB = 100, 1e-3, 0.01


def _game_metrics(s: _Session, epoch: int) -> dict:
    """The duality gaps (Appendix G.5) and the Jacobian conditioning (Odena et al. 2018) at ``epoch``, as the
    config asks; each from its own seeded generator, so the training RNG does not move."""
    out = {}
    if s.cfg.eval_jacobian:
        from ganphase.simulate.metrics.conditioning import jacobian_conditioning
        with _rng_guard(s.device):
            out.update(jacobian_conditioning(s.G, s.z_eval[:s.cfg.eval_steepness_samples]))
    if s.cfg.eval_duality_gap:
        from ganphase.simulate.metrics.duality import duality_gap
        idx = torch.randperm(len(s.x), generator=torch.Generator().manual_seed(s.cfg.seed + 4242))[:2048]
        real = _resized(s.x[idx.to(s.x.device)], s.resize)
        for key, std in (("duality_gap", 0.0), ("duality_gap_perturbed", DUALITY_PERTURB)):
            with _rng_guard(s.device):
                dg = duality_gap(s.G, s.D, real, s.mc.latent_dim, steps=DUALITY_STEPS, lr=DUALITY_LR,
                                 perturb_std=std, seed=s.cfg.seed + epoch, device=s.device)
            out[key] = dg["gap"]
    return out


def _finish(s: _Session, rows, failure) -> dict:
    collapse_fn, score_fn = _collapse_tools()
    summary = _summary(s.cfg, s.run, rows, s.es, s.extra, s.thresholds, collapse_fn, score_fn, s.eval_status,
                       failure)
    s.run.write_traces()
    s.run.write_summary(summary)
    if failure:
        print(f"training stopped: {failure}", file=sys.stderr)
    return summary


def _progress(cfg, start, total):
    if not cfg.progress or total == 0:
        return None
    from tqdm.auto import tqdm
    return tqdm(total=total, desc=f"train {cfg.data} from epoch {start}", unit="it", leave=False)


def _summary(cfg, run: RunFolder, rows, es, extra, thr, collapse_fn, score_fn, eval_status, failure):
    ckpts = run.checkpoint_epochs()
    stop_epoch = extra["stop_epoch"]
    returned, best, scores = _selection(rows, ckpts, stop_epoch, score_fn, cfg.selection)
    by_epoch = {r["epoch"]: r for r in rows}

    def metrics_of(e):
        if e is None:
            return None
        r = by_epoch.get(e)
        return None if r is None else r.get("eval", {k: r[k] for k in r if k != "eval"})

    collapse = None
    if collapse_fn is not None:
        try:
            collapse = collapse_fn(rows)
        except Exception as exc:  # recorded, not fatal
            collapse = f"error: {type(exc).__name__}: {exc}"
    if failure:
        reason = failure
    elif es is not None and es.stopped:
        reason = es.stop_reason
    else:
        reason = "max epochs reached"
    return {
        "data": cfg.data,
        "epochs_run": rows[-1]["epoch"] if rows else 0,
        "stop_epoch": stop_epoch,
        "stop_iteration": es.stop_iteration if es is not None else None,
        "stop_reason": reason,
        "status": "failed" if failure else "finished",
        "thresholds": thr and {k: thr[k] for k in ("k_d", "sigma", "k_g", "m", "warmup")},
        "threshold_d": thr and thr["threshold_d"],
        "threshold_rules": thr and {k: thr[k] for k in ("kd_rule", "sigma_recipe")},
        "collapse_epoch": collapse,
        "returned_checkpoint": None if returned is None else str(run.checkpoint_path(returned).relative_to(run.path)),
        "returned_epoch": returned,
        "returned_metrics": metrics_of(returned),
        "best_checkpoint": None if best is None else str(run.checkpoint_path(best).relative_to(run.path)),
        "best_metrics": metrics_of(best),
        "selection": cfg.selection if scores else "last checkpoint before the stop (no scored evaluations)",
        "evaluator": eval_status,
    }


def _rng_guard(device):
    """Run a block without moving the training random streams (CPU, and the CUDA device in use)."""
    return torch.random.fork_rng(devices=[device] if device.type == "cuda" else [])
