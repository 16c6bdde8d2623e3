"""Seed sweeps: a grid of (setting x seed) training runs on Dask, resumable, one run folder per run.

::

    DIR/sweep.json                  the sweep's definition: settings (name, version, values), seeds, overrides,
                                    and "invocations": the provenance of each command that ran it
    DIR/index.json                  {"format": 1, "runs": [row, ...]}, one row per (setting, seed), rewritten
                                    atomically as runs end; a row: setting, version, seed, hash, folder
                                    (relative to DIR), status, wall_s and cpu_s of the worker and the summary's stop, collapse and
                                    checkpoint fields (INDEX_FIELDS)
    DIR/<setting>/seed-<NNNN>/      a run folder (ganphase.simulate.run_folder), with traces.npz

A run is identified by :func:`config_hash`, the SHA-1 of its ``TrainConfig.to_dict()`` without the fields
that do not change its numbers (``HASH_EXCLUDED``).  A run folder whose ``summary.json`` is present and
whose configuration has the same hash is finished and is skipped, by the client before it submits and by
the worker before it trains; an unfinished one is resumed from its newest checkpoint, so a worker killed
mid-run (Dask resubmits its task to another worker) loses only what it trained since its newest checkpoint
(one epoch with the default ``checkpoint_every=1``).  Task keys are ``<setting>/seed-<NNNN>@<hash>``.

The same code runs on a ``distributed.LocalCluster`` (one thread per worker process, torch pinned to one
thread) or on an existing cluster given by its scheduler address: either way a ``distributed.Client``
submits one task per run and collects the summaries as they end.

:func:`export` copies what a sweep commits (no checkpoints, no per-evaluation samples) into a results
folder::

    RESULTS/index.json  RESULTS/sweep.json  RESULTS/provenance.json
    RESULTS/<setting>/seed-<NNNN>/{config.json, summary.json, traces.npz, metrics.jsonl}
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import time
from pathlib import Path

from ganphase.io import write_json
from ganphase.provenance import provenance
from ganphase.simulate.run_folder import CONFIG, METRICS, SUMMARY, TRACES, RunFolder, _read_json
from ganphase.simulate.settings import Setting, get
from ganphase.simulate.train import TrainConfig

INDEX, DEFINITION, PROVENANCE = "index.json", "sweep.json", "provenance.json"
COMMITTED = (CONFIG, SUMMARY, TRACES, METRICS)
INDEX_FORMAT = 1
HASH_EXCLUDED = ("out", "resume", "progress", "device", "data_dir", "threads")
INDEX_FIELDS = ("epochs_run", "stop_epoch", "stop_iteration", "stop_reason", "collapse_epoch", "returned_epoch",
                "returned_checkpoint", "best_checkpoint")
THREAD_ENV = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
# Dask's statistical profiler (every 10 ms) and GIL monitor (every 1 ms) cost a single-core training run a
# measurable share of its CPU (benchmarks/bench_sweep.py); the LocalCluster's workers run without them. Its nanny
# also sets MALLOC_TRIM_THRESHOLD_=65536 in each worker, so glibc hands freed tensor memory back to the kernel at
# once and faults it in again: a 28 px DCGAN iteration then spent as much CPU in the kernel as in torch (about
# 20 times the page faults); the workers keep glibc's default.
WORKER_CONFIG = {"distributed.worker.profile.enabled": False, "distributed.admin.system-monitor.gil.enabled": False,
                 "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}


def config_hash(train_dict: dict) -> str:
    """16 hex digits of SHA-1 over the sorted JSON of a run's TrainConfig fields, less HASH_EXCLUDED."""
    kept = {k: v for k, v in train_dict.items() if k not in HASH_EXCLUDED}
    return hashlib.sha1(json.dumps(kept, sort_keys=True, default=list).encode()).hexdigest()[:16]


def run_folder_name(setting: str, seed: int) -> str:
    return f"{setting}/seed-{seed:04d}"


@dataclasses.dataclass(frozen=True)
class Job:
    """One run of the grid: its setting, seed, folder (relative to the sweep folder) and configuration."""

    setting: str
    version: int
    seed: int
    folder: str
    config: dict
    hash: str


def plan(settings, seeds, out, overrides: dict | None = None) -> list[Job]:
    """The jobs of ``settings`` (names or :class:`Setting`) x ``seeds`` (a count N: seeds 0..N-1, or a list)."""
    if isinstance(seeds, int) and not isinstance(seeds, bool):
        if seeds < 1:
            raise ValueError(f"the number of seeds must be at least 1, got {seeds}")
        seeds = range(seeds)
    seeds = list(seeds)
    if not seeds or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in seeds):
        raise ValueError(f"seeds must be a positive count or a list of non-negative integers, got {seeds!r}")
    if not settings:
        raise ValueError("name at least one setting")
    settings = [s if isinstance(s, Setting) else get(s) for s in settings]
    extra = {"threads": 1, "progress": False, "resume": True, **(overrides or {})}
    jobs = []
    for setting in settings:
        for seed in seeds:
            folder = run_folder_name(setting.name, seed)
            try:
                cfg = setting.config(seed, Path(out) / folder, **extra)
            except TypeError as exc:   # an override that is no TrainConfig field
                raise ValueError(f"setting {setting.name}: {exc}") from None
            d = cfg.to_dict()
            jobs.append(Job(setting.name, setting.version, seed, folder, d, config_hash(d)))
    return jobs


def _finished_summary(folder: Path, want_hash: str) -> dict | None:
    """The summary of a finished run of this configuration; None when unfinished; ValueError for another one."""
    run = RunFolder(folder)
    if not run.exists():
        return None
    have = config_hash(run.read_config()["train"])
    if have != want_hash:
        raise ValueError(f"{folder} holds a run of another configuration (hash {have}, this sweep wants "
                         f"{want_hash}); move it away or sweep into another folder")
    try:
        return run.read_summary()
    except ValueError:
        return None


def run_job(config: dict, want_hash: str, *after) -> dict:
    """Worker side: train (or resume) one run unless it is finished; returns its summary and wall time.

    ``after``: results of tasks the run waits for (the classifier's warm-up), unused."""
    import torch

    torch.set_num_threads(1)
    t0, c0 = time.perf_counter(), time.process_time()
    folder = Path(config["out"])
    summary = _finished_summary(folder, want_hash)
    if summary is None:
        from ganphase.simulate.train import train

        summary = train(TrainConfig(**{**config, "resume": True}))
    return {"summary": summary, "wall_s": time.perf_counter() - t0, "cpu_s": time.process_time() - c0,
            "pid": os.getpid()}


def classifier_of(config: dict) -> str | None:
    """The image classifier a run's evaluations load (``mnist`` for Stacked MNIST), or None (mixtures, no evaluator)."""
    from ganphase.simulate.data import STACKED
    from ganphase.simulate.metrics.classifier import IMAGE_NAMES

    name = "mnist" if config["data"] == STACKED else config["data"]
    return name if config.get("evaluator", True) and name in IMAGE_NAMES else None


def warm_classifier(name: str, data_dir=None, device: str = "cpu") -> str:
    """Worker side: the classifier ``name`` in the user cache (trained there once when absent), so that the runs of
    a sweep load one classifier instead of each training its own into its run folder."""
    import torch

    from ganphase.simulate.metrics.classifier import get_classifier

    torch.set_num_threads(1)
    return str(get_classifier(name, data_dir=data_dir, device=device, progress=False)[1].get("path", "cached"))


def _row(job: Job, status: str, result: dict | None = None, error: str | None = None) -> dict:
    row = {"setting": job.setting, "version": job.version, "seed": job.seed, "hash": job.hash,
           "folder": job.folder, "status": status}
    if result is not None:
        s = result["summary"]
        row["status"] = s.get("status", "finished")
        row["wall_s"], row["cpu_s"] = result.get("wall_s"), result.get("cpu_s")
        row.update({k: s.get(k) for k in INDEX_FIELDS})
    if error is not None:
        row["error"] = error
    return row


def read_index(out) -> list[dict]:
    """The rows of ``DIR/index.json``; ValueError when absent or not a sweep index."""
    path = Path(out) / INDEX
    if not path.is_file():
        raise ValueError(f"{out} is not a sweep folder: it has no {INDEX}")
    record = _read_json(path)
    if not (isinstance(record, dict) and isinstance(record.get("runs"), list)):
        raise ValueError(f"{path} is not a sweep index (expected {{'format', 'runs'}})")
    return record["runs"]


def _write_index(out: Path, rows: dict) -> None:
    ordered = sorted(rows.values(), key=lambda r: (r["setting"], r["seed"]))
    write_json(out / INDEX, {"format": INDEX_FORMAT, "runs": ordered})


def _write_definition(out: Path, jobs: list[Job], overrides: dict | None, command: str | None) -> None:
    names = list(dict.fromkeys(j.setting for j in jobs))
    settings = {}
    for n in names:
        try:
            settings[n] = get(n).to_dict()
        except ValueError:   # a Setting object that is not registered (tests, notebooks)
            settings[n] = {"name": n, "version": next(j.version for j in jobs if j.setting == n)}
    old = _read_json(out / DEFINITION) if (out / DEFINITION).is_file() else {}
    seeds = sorted(set(old.get("seeds", [])) | {j.seed for j in jobs})
    write_json(out / DEFINITION, {"settings": {**old.get("settings", {}), **settings}, "seeds": seeds,
                                  "overrides": overrides or {}, "hash_excludes": list(HASH_EXCLUDED),
                                  "invocations": old.get("invocations", []) + [provenance(command)]})


def connect(scheduler: str | None = None, workers: int | None = None, timeout: float = 10.0):
    """A ``distributed.Client``: to the scheduler at ``scheduler``, else to a new LocalCluster of ``workers``
    single-threaded worker processes (default: as many as cores).  ValueError when unreachable."""
    import dask
    from distributed import Client, LocalCluster

    if scheduler is not None:
        try:
            return Client(scheduler, timeout=timeout)
        except (OSError, TimeoutError, ValueError) as exc:
            raise ValueError(f"cannot reach the Dask scheduler at {scheduler} within {timeout:g} s "
                             f"({type(exc).__name__})") from None
    workers = workers or os.cpu_count() or 1
    if not (isinstance(workers, int) and workers >= 1):
        raise ValueError(f"workers must be a positive integer, got {workers!r}")
    import logging
    import warnings

    with warnings.catch_warnings(), dask.config.set(WORKER_CONFIG):
        # another cluster on the default HTTP port: this one takes a free port
        warnings.filterwarnings("ignore", message="Port .* is already in use", category=UserWarning)
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                               silence_logs=logging.CRITICAL, env=THREAD_ENV)
    return Client(cluster)


def sweep(settings, seeds, out, *, workers: int | None = None, scheduler: str | None = None,
          resume: bool = False, overrides: dict | None = None, progress: bool = True,
          connect_timeout: float = 10.0, client=None, command: str | None = None) -> list[dict]:
    """Run the (setting x seed) grid into ``out``; returns the index rows (also in ``out/index.json``).

    ``resume=True`` requires ``out/index.json`` to exist; without it a rerun skips finished runs all the same.
    ``client``: an open ``distributed.Client`` to use (it is not closed); else :func:`connect` makes one.
    ``command``: the command line, recorded in ``sweep.json`` with the commit, versions and machine.
    """
    out = Path(out)
    jobs = plan(settings, seeds, out, overrides)
    if resume and not (out / INDEX).is_file():
        raise ValueError(f"nothing to resume: {out} has no {INDEX}")
    rows = {(r["setting"], r["seed"]): r for r in (read_index(out) if (out / INDEX).is_file() else [])}
    todo = []
    for job in jobs:
        summary = _finished_summary(out / job.folder, job.hash)
        if summary is None:
            todo.append(job)
            rows[(job.setting, job.seed)] = _row(job, "pending")
        else:
            old = rows.get((job.setting, job.seed), {})
            rows[(job.setting, job.seed)] = _row(job, "finished", {"summary": summary, "wall_s": old.get("wall_s"),
                                                                   "cpu_s": old.get("cpu_s")})
    own = bool(todo) and client is None
    if own:   # before anything is written: an unreachable scheduler leaves no half-made sweep folder
        client = connect(scheduler, workers, connect_timeout)
    try:
        out.mkdir(parents=True, exist_ok=True)
        _write_definition(out, jobs, overrides, command)
        _write_index(out, rows)
        if todo:
            _submit_all(client, todo, rows, out, len(jobs), progress)
    finally:
        if own:
            _close(client)
    return [rows[(j.setting, j.seed)] for j in jobs]


def _submit_all(client, todo: list[Job], rows: dict, out: Path, total: int, progress: bool) -> None:
    from distributed import as_completed

    names = {job.folder: classifier_of(job.config) for job in todo}
    warm = {}   # one classifier per image data set, trained before the runs that evaluate with it
    for job in todo:
        name = names[job.folder]
        if name is not None and name not in warm:
            warm[name] = client.submit(warm_classifier, name, job.config.get("data_dir"), job.config["device"],
                                       key=f"classifier-{name}", pure=False)
    futures = {client.submit(run_job, job.config, job.hash, *([warm[names[job.folder]]] if names[job.folder] else []),
                             key=f"{job.folder}@{job.hash}", pure=False): job for job in todo}
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=total, initial=total - len(todo), desc=f"sweep {out.name}", unit="run")
    for fut in as_completed(futures):
        job = futures[fut]
        try:
            rows[(job.setting, job.seed)] = _row(job, "finished", fut.result())
        except Exception as exc:   # the run's own error (or a worker lost too often): recorded, the sweep goes on
            rows[(job.setting, job.seed)] = _row(job, "error", error=" ".join(f"{type(exc).__name__}: {exc}".split()))
        _write_index(out, rows)
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()


def _close(client) -> None:
    cluster = getattr(client, "cluster", None)
    client.close()
    if cluster is not None:
        cluster.close()


def export(sweep_dir, results_dir, command: str | None = None) -> dict:
    """Copy the committable part of a sweep (module docstring) into ``results_dir``; returns what it wrote.

    Runs without a summary are left out (listed in the result); a finished run without ``traces.npz``
    (written by an older toolkit) gets one built from its JSON-lines files first.
    """
    src, dst = Path(sweep_dir), Path(results_dir)
    rows = read_index(src)
    if dst.resolve() == src.resolve() or src.resolve() in dst.resolve().parents:
        raise ValueError(f"export into a folder outside the sweep folder {src}, got {dst}")
    kept, left_out, size = [], [], 0
    for r in rows:
        run = RunFolder(src / r["folder"])
        if not run.finished():
            left_out.append(r["folder"])
            continue
        if not (run.path / TRACES).is_file():
            run.write_traces()
        for name in COMMITTED:
            target = dst / r["folder"] / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(run.path / name, target)
            size += target.stat().st_size
        kept.append(r)
    write_json(dst / INDEX, {"format": INDEX_FORMAT, "runs": kept})
    definition = _read_json(src / DEFINITION) if (src / DEFINITION).is_file() else {}
    write_json(dst / DEFINITION, definition)
    record = {"export": provenance(command), "sweep_invocations": definition.get("invocations", []),
              "runs": len(kept), "left_out": left_out, "files": list(COMMITTED), "bytes": size}
    write_json(dst / PROVENANCE, record)
    return record
