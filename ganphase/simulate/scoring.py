"""Scoring stopping rules on the recorded traces of a sweep (``ganphase score``); no retraining.

A sweep folder (``ganphase sweep``) or its exported results folder (``ganphase sweep-export``) holds
``index.json`` and one run folder per (setting, seed) with ``traces.npz``; every run is read through
:class:`~ganphase.simulate.run_folder.RunFolder`.  Each rule of :data:`RULES` is replayed on each run
(:mod:`ganphase.simulate.stopping`: a rule sees its inputs up to each step only).  Per run:

* collapse epoch c: :func:`ganphase.simulate.metrics.collapse.collapse_epoch` of the run's evaluations;
* end of fitting f: the first evaluation epoch whose coverage (``modes_covered``, else
  ``classes_covered``) reaches the largest coverage of the evaluations before c (all of them when the
  run never collapses);
* the stop's epoch s: for a rule per iteration, the last whole epoch before the iteration at which it
  fires (it fires during epoch s + 1); for a rule per epoch or evaluation, the epoch at whose end it
  fires.  Checkpoints of epochs <= s exist at the stop; a rule that never fires trains to the last epoch;
* stop before collapse: s < c (over runs that collapse); lead: c - s (collapsed runs with a stop);
* false stop: a stop in a run that never collapses, or a premature one (s < f);
* returned checkpoint: ``selection="best"`` (Algorithm 2, line 10: "the best-performing model from
  earlier checkpoints"): the evaluated epoch <= s of the highest
  :func:`~ganphase.simulate.metrics.collapse.checkpoint_score` (ties: the later); ``"last"``: the last
  evaluated epoch <= s.  The baselines return their own: ``best-fd`` the evaluation of the lowest
  Frechet distance, ``best-modes`` of the most modes covered (the oracles: best in hindsight),
  ``last`` the last evaluation.  A stop before the first evaluation returns no evaluated checkpoint
  (the initial generator): it counts as 0 modes covered and has no Frechet distance or KL;
* quality relative to the best in hindsight: modes_rel = coverage(returned) / max coverage,
  fd_rel = fd(returned) / min fd, kl_excess = kl(returned) - min kl (Stacked MNIST), over the run's
  evaluations;
* compute saved: 1 - (iterations trained up to the stop) / (iterations of the whole run).

Per (setting, rule) the shares and means over runs, the median lead with its interquartile range, and
95 % percentile bootstrap intervals over runs (seeds): ``resamples`` draws of the setting's runs with
replacement from ``numpy.random.default_rng(seed)`` (the same draws for every rule and statistic of
a setting), the statistic recomputed on each.  An interval rests on the runs that contribute to its
statistic; fewer than ``min_runs`` of them: ``undecided``.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ganphase.simulate.metrics.collapse import checkpoint_score, collapse_epoch
from ganphase.simulate.run_folder import RunFolder
from ganphase.simulate.stopping import (Algorithm2Rule, DualityGapRule, JacobianConditioningRule, KeepBest,
                                        LossRule, NoStopping)

RESAMPLES, SEED, MIN_RUNS, LEVEL = 2000, 0, 5, 0.95
SELECTIONS = ("best", "last")
COVERAGE_KEYS = ("modes_covered", "classes_covered")


class NotAvailable(Exception):
    """A rule cannot be replayed on a run; the message says why."""


@dataclass(frozen=True)
class RuleSpec:
    name: str
    description: str
    make: object                 # (thresholds dict | None, run traces) -> StoppingRule
    kind: str = "online"         # "online" | "oracle" | "last"


def _alg2(**variant):
    def make(th, traces):
        if th is None:
            raise NotAvailable("the run recorded no Algorithm 2 thresholds (monitors off)")
        unit = variant.get("unit", "iteration")
        if unit == "iteration" and str(traces.get("monitor_unit", "iteration")) != "iteration":
            raise NotAvailable("the run monitored once per epoch, so there is no per-iteration trace")
        if unit == "epoch":   # N_w iterations -> the epochs whose last iteration is within the warm-up
            th = {**th, "warmup": int(np.sum(np.cumsum(traces["iterations"]) <= th["warmup"]))}
        return Algorithm2Rule.from_thresholds(th, **variant)
    return make


RULES: tuple[RuleSpec, ...] = (
    RuleSpec("alg2", "Algorithm 2 as printed: per iteration, q_d > k_d/(2 sigma) or Delta S_g < k_g, past N_w",
             _alg2()),
    RuleSpec("alg2-q_d", "Algorithm 2's q_d condition alone", _alg2(parts=("q_d",))),
    RuleSpec("alg2-delta_s", "Algorithm 2's Delta S_g condition alone", _alg2(parts=("delta_s",))),
    RuleSpec("alg2-window20", "Algorithm 2 with Delta S_g between the means of consecutive 20-iteration windows",
             _alg2(window=20)),
    RuleSpec("alg2-patience3", "Algorithm 2 stopping after 3 consecutive triggers", _alg2(patience=3)),
    RuleSpec("alg2-epoch", "Algorithm 2 on per-epoch means of q_d and S_g", _alg2(unit="epoch")),
    RuleSpec("loss", "losses leave [1/2, 2] x the median of the previous 10 epochs (Appendix G.6)",
             lambda th, t: LossRule(2.0, 10)),
    RuleSpec("duality-gap", "duality gap below 0.1 x its maximum so far (Appendix G.5)",
             lambda th, t: DualityGapRule(0.1, 2)),
    RuleSpec("jacobian", "mean log condition number of J^T J rises 1 nat above its minimum (Odena et al. 2018)",
             lambda th, t: JacobianConditioningRule(1.0, 2)),
    RuleSpec("best-fd", "oracle: the evaluation of lowest Frechet distance (best in hindsight)",
             lambda th, t: KeepBest("fd", "min"), "oracle"),
    RuleSpec("best-modes", "oracle: the evaluation with most modes covered (best in hindsight)",
             lambda th, t: KeepBest(_coverage_key(t) or "modes_covered", "max"), "oracle"),
    RuleSpec("last", "no stopping: the last evaluation", lambda th, t: NoStopping(), "last"),
)
RULE_NAMES = tuple(r.name for r in RULES)


# ----------------------------------------------------------------------------- reading a sweep
@dataclass
class Run:
    setting: str
    seed: int
    folder: str
    traces: dict
    thresholds: dict | None
    status: str = "finished"
    config: dict = field(default_factory=dict)    # config.json "train" (TrainConfig fields)


def _coverage_key(traces) -> str | None:
    return next((k for k in COVERAGE_KEYS if f"eval_{k}" in traces), None)


def load_sweep(path) -> tuple[list[Run], list[str]]:
    """(runs with traces, one line per run left out) of a sweep or exported results folder."""
    from ganphase.simulate.sweep import read_index

    path = Path(path)
    if not path.is_dir():
        raise ValueError(f"{path} is not a folder")
    runs, left_out = [], []
    for row in read_index(path):
        if not isinstance(row, dict) or not isinstance(row.get("folder"), str):
            raise ValueError(f"{path / 'index.json'} has a row without a run folder: {row!r:.80}")
        run = RunFolder(path / row["folder"])
        try:
            traces = run.read_traces()
        except ValueError as exc:
            left_out.append(f"{row['folder']}: {' '.join(str(exc).split())}")
            continue
        th = None
        if "threshold_k_d" in traces:
            th = {k: float(traces[f"threshold_{k}"]) for k in ("k_d", "sigma", "k_g", "warmup")
                  if f"threshold_{k}" in traces}
            th = th if len(th) == 4 and all(map(math.isfinite, th.values())) else None
        try:
            config = run.read_config()["train"]
        except ValueError:
            config = {}
        runs.append(Run(str(row.get("setting", row["folder"].split("/")[0])), int(row.get("seed", -1)),
                        row["folder"], traces, th, str(row.get("status", "finished")), config))
    if not runs:
        raise ValueError(f"{path} holds no run with traces.npz to score" +
                         (f" ({len(left_out)} left out, e.g. {left_out[0]})" if left_out else ""))
    return runs, left_out


# ----------------------------------------------------------------------------- one run
def _evals(traces) -> tuple[np.ndarray, dict]:
    epochs = np.asarray(traces.get("eval_epoch", np.zeros(0)), np.int64)
    cols = {k[5:]: np.asarray(v, np.float64) for k, v in traces.items()
            if k.startswith("eval_") and k != "eval_epoch" and np.asarray(v).shape == epochs.shape}
    return epochs, cols


def _eval_dict(cols, i) -> dict:
    return {k: float(v[i]) for k, v in cols.items() if math.isfinite(v[i])}


def run_facts(traces) -> dict:
    """Collapse epoch, end of fitting, epochs, iterations and evaluations of one run (module docstring)."""
    epochs, cols = _evals(traces)
    rows = [{"epoch": int(e), "eval": _eval_dict(cols, i)} for i, e in enumerate(epochs)]
    c = collapse_epoch(rows) if rows else None
    key = _coverage_key(traces)
    fit_end = None
    if key is not None:
        cov = cols[key]
        mask = np.isfinite(cov) & ((epochs < c) if c is not None else True)
        if mask.any():
            fit_end = int(epochs[mask][np.argmax(cov[mask] >= cov[mask].max())])
    iters = np.asarray(traces["iterations"], np.int64)
    return {"collapse_epoch": c, "fit_end": fit_end, "eval_epochs": epochs, "eval": cols, "coverage_key": key,
            "epochs": np.asarray(traces["epoch"], np.int64), "iterations": iters,
            "last_epoch": int(traces["epoch"][-1]) if len(traces["epoch"]) else 0}


def measured_iterations(traces, every: int = 1) -> np.ndarray:
    """The training iteration of each ``it_*`` entry: ``it_iteration`` where the traces hold it, else the
    multiples of the monitors' period ``every`` among the iterations (e - 1) n + 1 .. (e - 1) n + iterations_e
    of each epoch e (n: the full epoch's iterations), as ``ganphase train`` measures them."""
    if "it_iteration" in traces:
        return np.asarray(traces["it_iteration"], np.int64)
    it_epoch = np.asarray(traces["it_epoch"], np.int64)
    iters = np.asarray(traces["iterations"], np.int64)
    if every == 1 and len(it_epoch) == iters.sum():
        return np.arange(1, len(it_epoch) + 1)
    n = int(iters.max()) if iters.size else 0
    out = np.concatenate([np.arange((e - 1) * n + 1, (e - 1) * n + k + 1) for e, k in
                          zip(np.asarray(traces["epoch"], np.int64), iters)] or [np.zeros(0, np.int64)])
    out = out[out % every == 0]
    if len(out) < len(it_epoch) or not np.array_equal((out[:len(it_epoch)] - 1) // max(n, 1) + 1, it_epoch):
        raise NotAvailable(f"the monitored iterations cannot be placed (every {every} iterations, "
                           f"{len(it_epoch)} entries)")
    return out[:len(it_epoch)]


def _inputs(rule, run, facts):
    """(arrays fed to update, epoch s of a stop at each step, iterations trained at each step,
    ``iteration=`` of each step or None)."""
    traces = run.traces
    cum = np.cumsum(facts["iterations"])
    if rule.unit == "iteration":
        its = measured_iterations(traces, int(run.config.get("monitor_every") or 1))
        it_epoch = np.asarray(traces["it_epoch"], np.int64)
        return (traces["it_q_d"], traces["it_steepness"]), it_epoch - 1, its, its
    if rule.unit == "epoch":
        arrays = tuple(np.asarray(traces[k], np.float64) for k in rule.signals)
        return arrays, facts["epochs"], cum, None
    epochs = facts["eval_epochs"]
    missing = [k for k in rule.signals if k not in facts["eval"] or not np.isfinite(facts["eval"][k]).any()]
    if missing:
        raise NotAvailable(f"the traces record no {', '.join(missing)} at the evaluations")
    used = cum[np.searchsorted(facts["epochs"], epochs)] if len(epochs) else np.zeros(0, np.int64)
    return tuple(facts["eval"][k] for k in rule.signals), epochs, used, None


def _select(facts, upto: int | None, selection: str) -> int | None:
    """The evaluated epoch a rule stopped with checkpoints <= ``upto`` returns (module docstring)."""
    epochs, cols = facts["eval_epochs"], facts["eval"]
    idx = [i for i, e in enumerate(epochs) if upto is None or e <= upto]
    if not idx:
        return None
    if selection == "best":
        scored = []
        for i in idx:
            try:
                s = checkpoint_score(_eval_dict(cols, i))
            except ValueError:
                continue
            if math.isfinite(s):
                scored.append((s, int(epochs[i])))
        if scored:
            return max(scored)[1]
    return int(epochs[idx[-1]])


def _quality(facts, returned: int | None) -> dict:
    epochs, cols, key = facts["eval_epochs"], facts["eval"], facts["coverage_key"]
    i = None if returned is None else int(np.flatnonzero(epochs == returned)[0])
    out = {}
    if key is not None and np.isfinite(cols[key]).any():
        best = np.nanmax(cols[key])
        out["modes"] = 0.0 if i is None else float(cols[key][i])
        out["modes_rel"] = out["modes"] / best if best > 0 else math.nan
    for k, name in (("fd", "fd_rel"), ("kl", "kl_excess")):
        if k in cols and np.isfinite(cols[k]).any() and i is not None:
            low = np.nanmin(cols[k])
            out[k] = float(cols[k][i])
            out[name] = (out[k] / low if low > 0 else math.nan) if k == "fd" else out[k] - low
    return out


def score_run(run: Run, spec: RuleSpec, selection: str = "best", facts: dict | None = None) -> dict:
    """The outcome of one rule on one run (module docstring): a flat dict, ``available`` False with ``reason``."""
    facts = facts or run_facts(run.traces)
    base = {"setting": run.setting, "seed": run.seed, "folder": run.folder, "rule": spec.name, "collapse_epoch": facts["collapse_epoch"],
            "fit_end": facts["fit_end"]}
    try:
        rule = spec.make(run.thresholds, run.traces)
        arrays, stop_epochs, used, its = _inputs(rule, run, facts)
    except NotAvailable as exc:
        return {**base, "available": False, "reason": str(exc)}
    total = int(facts["iterations"].sum())
    if spec.kind == "oracle":
        for v in zip(*arrays):   # never stops; keeps the best evaluation
            rule.update(*v)
        if rule.best_update is None:
            return {**base, "available": False, "reason": f"the traces record no finite {rule.signals[0]}"}
        i, s = None, None
        returned = int(facts["eval_epochs"][rule.best_update - 1])
    else:
        i = rule.replay(*arrays, iterations=its) if spec.kind == "online" else None
        s = None if i is None else int(stop_epochs[i])
        returned = (_select(facts, s, selection) if spec.kind == "online"
                    else (int(facts["eval_epochs"][-1]) if len(facts["eval_epochs"]) else None))
    c, f = facts["collapse_epoch"], facts["fit_end"]
    stopped = s is not None
    out = {**base, "available": True, "stopped": stopped, "stop_epoch": s, "returned_epoch": returned,
           "before_collapse": (stopped and s < c) if c is not None else None,
           "lead": c - s if (c is not None and stopped) else None,
           "premature": stopped and f is not None and s < f,
           "false_stop": stopped and (c is None or (f is not None and s < f)),
           "saved": (1.0 - int(used[i]) / total) if (stopped and total) else 0.0}
    if stopped:
        out["stop_reason"] = rule.reason_at(*arrays, index=i, iterations=its)
    out.update(_quality(facts, returned))
    return out


def recorded_agreement(run: Run) -> bool | None:
    """Does the replayed Algorithm 2 stop at the iteration the run itself recorded (first ``it_stop``)?"""
    t = run.traces
    if run.thresholds is None or "it_stop" not in t or str(t.get("monitor_unit", "iteration")) != "iteration":
        return None
    hits = np.flatnonzero(t["it_stop"])
    recorded = int(hits[0]) if hits.size else None
    try:
        its = measured_iterations(t, int(run.config.get("monitor_every") or 1))
    except NotAvailable:
        return None
    return Algorithm2Rule.from_thresholds(run.thresholds).replay(t["it_q_d"], t["it_steepness"], its) == recorded


# ----------------------------------------------------------------------------- statistics over seeds
def _col(rows, key) -> np.ndarray:
    return np.array([math.nan if r.get(key) is None else float(r[key]) for r in rows], np.float64)


def _stat(kind: str, x: np.ndarray, axis=-1):
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)     # all-NaN slices give NaN
        if kind == "share":          # NaN entries are not in the denominator
            return np.nansum(x, axis) / np.sum(np.isfinite(x), axis)
        if kind == "mean":
            return np.nanmean(x, axis)
        if kind == "median":
            return np.nanmedian(x, axis)
    raise ValueError(f"unknown statistic {kind!r}")


def estimate(x: np.ndarray, kind: str, draws: np.ndarray, min_runs: int = MIN_RUNS, level: float = LEVEL) -> dict:
    """Point estimate of statistic ``kind`` over per-run values ``x`` (NaN: the run does not contribute),
    its percentile bootstrap interval over the index ``draws`` (resamples x runs), and ``decided``."""
    n = int(np.isfinite(x).sum())
    value = float(_stat(kind, x)) if n else math.nan
    lo = hi = math.nan
    if n >= 2:
        boot = _stat(kind, x[draws], axis=1)
        boot = boot[np.isfinite(boot)]
        if boot.size:
            a = (1 - level) / 2 * 100
            lo, hi = (float(v) for v in np.percentile(boot, [a, 100 - a]))
    return {"value": value, "low": lo, "high": hi, "n": n, "decided": bool(n >= min_runs and math.isfinite(lo))}


STATS = (("before_collapse", "share"), ("lead", "median"), ("false_stop", "share"), ("premature", "share"),
         ("modes_rel", "mean"), ("fd_rel", "mean"), ("kl_excess", "mean"), ("saved", "mean"))


def summarise(rows: list[dict], resamples: int = RESAMPLES, seed: int = SEED, min_runs: int = MIN_RUNS) -> list[dict]:
    """One summary per (setting, rule) of :func:`score_run` rows (module docstring)."""
    if not (isinstance(resamples, int) and resamples >= 1):
        raise ValueError(f"resamples must be a positive integer, got {resamples!r}")
    if not (isinstance(min_runs, int) and min_runs >= 1):
        raise ValueError(f"min_runs must be a positive integer, got {min_runs!r}")
    out = []
    settings = list(dict.fromkeys(r["setting"] for r in rows))
    for setting in settings:
        for name in RULE_NAMES:
            rr = sorted((r for r in rows if r["setting"] == setting and r["rule"] == name), key=lambda r: r["seed"])
            if not rr:
                continue
            avail = [r for r in rr if r["available"]]
            summary = {"setting": setting, "rule": name, "runs": len(rr), "available": len(avail),
                       "collapsed": sum(r["collapse_epoch"] is not None for r in rr)}
            if not avail:
                summary["reason"] = rr[0].get("reason", "")
                out.append(summary)
                continue
            draws = np.random.default_rng(seed).integers(0, len(avail), size=(resamples, len(avail)))
            summary["stopped"] = sum(bool(r["stopped"]) for r in avail)
            for key, kind in STATS:
                summary[key] = estimate(_col(avail, key), kind, draws, min_runs)
            lead = _col(avail, "lead")
            lead = lead[np.isfinite(lead)]
            summary["lead_iqr"] = [float(v) for v in np.percentile(lead, [25, 75])] if lead.size else None
            out.append(summary)
    return out


@dataclass
class Score:
    rows: list[dict]
    summary: list[dict]
    left_out: list[str] = field(default_factory=list)
    agreement: dict = field(default_factory=dict)
    selection: str = "best"
    resamples: int = RESAMPLES
    seed: int = SEED
    min_runs: int = MIN_RUNS


def score(path, selection: str = "best", resamples: int = RESAMPLES, seed: int = SEED,
          min_runs: int = MIN_RUNS, progress: bool = False) -> Score:
    """Replay every rule of :data:`RULES` on every run of the sweep at ``path`` and summarise."""
    runs, left_out = load_sweep(path)
    return score_runs(runs, left_out, selection, resamples, seed, min_runs, progress)


def score_runs(runs: list[Run], left_out=(), selection: str = "best", resamples: int = RESAMPLES, seed: int = SEED,
               min_runs: int = MIN_RUNS, progress: bool = False) -> Score:
    """:func:`score` on runs already loaded."""
    if selection not in SELECTIONS:
        raise ValueError(f"selection must be one of {SELECTIONS}, got {selection!r}")
    rows, agreement = [], {}
    it = runs
    if progress:
        from tqdm.auto import tqdm
        it = tqdm(runs, desc="score", unit="run")
    for run in it:
        facts = run_facts(run.traces)
        rows += [score_run(run, spec, selection, facts) for spec in RULES]
        a = recorded_agreement(run)
        if a is not None:
            agree = agreement.setdefault(run.setting, [0, 0])
            agree[0] += bool(a)
            agree[1] += 1
    return Score(rows, summarise(rows, resamples, seed, min_runs), list(left_out), agreement, selection, resamples,
                 seed, min_runs)


# ----------------------------------------------------------------------------- tables
COLUMNS = (("before_collapse", "stop before collapse"), ("lead", "median lead (epochs)"),
           ("false_stop", "false stops"), ("modes_rel", "modes / best"), ("fd_rel", "FD / best"),
           ("kl_excess", "KL - best"), ("saved", "compute saved"))


def _cell(est: dict | None, digits: int = 2) -> str:
    if not est or not math.isfinite(est["value"]):
        return "–"
    v = f"{est['value']:.{digits}f}"
    if not est["decided"]:
        return f"{v} (undecided, n={est['n']})"
    return f"{v} [{est['low']:.{digits}f}, {est['high']:.{digits}f}]"


def markdown(result: Score) -> str:
    """Markdown tables, one per setting (module docstring for the definitions)."""
    lines = [f"Stopping rules replayed on {len({(r['setting'], r['seed']) for r in result.rows})} runs; "
             f"95 % percentile bootstrap intervals over seeds ({result.resamples} resamples, seed {result.seed}); "
             f"fewer than {result.min_runs} contributing runs: undecided. Returned checkpoint: "
             f"{'the best-scoring evaluation before the stop' if result.selection == 'best' else 'the last evaluation before the stop'}."]
    for setting in dict.fromkeys(s["setting"] for s in result.summary):
        rows = [s for s in result.summary if s["setting"] == setting]
        n, c = rows[0]["runs"], rows[0]["collapsed"]
        lines += ["", f"### {setting}", "", f"{n} runs, {c} collapse (collapse epoch by "
                  "ganphase.simulate.metrics.collapse)." +
                  (f" Algorithm 2 replayed from the traces stops where the run itself recorded its stop in "
                   f"{result.agreement[setting][0]} of {result.agreement[setting][1]} runs."
                   if setting in result.agreement else ""), "",
                  "| rule | stopped | " + " | ".join(h for _, h in COLUMNS) + " |",
                  "|---|---|" + "---|" * len(COLUMNS)]
        missing = []
        for s in rows:
            if not s["available"]:
                missing.append(f"- `{s['rule']}`: not available ({s.get('reason', '')})")
                continue
            cells = []
            for key, _ in COLUMNS:
                cell = _cell(s.get(key), 0 if key == "lead" else 2)
                if key == "lead" and s.get("lead_iqr") and cell != "–":
                    cell += f", IQR {s['lead_iqr'][0]:g}–{s['lead_iqr'][1]:g}"
                cells.append(cell)
            lines.append(f"| `{s['rule']}` | {s['stopped']}/{s['available']} | " + " | ".join(cells) + " |")
        lines += [""] + missing if missing else []
    lines += ["", "Rules:"] + [f"- `{r.name}`: {r.description}" for r in RULES]
    if result.left_out:
        lines += ["", f"Left out ({len(result.left_out)}):"] + [f"- {x}" for x in result.left_out]
    return "\n".join(lines) + "\n"


def summary_table(result: Score) -> list[dict]:
    """The summary flattened to one dict per (setting, rule) for CSV."""
    out = []
    for s in result.summary:
        row = {k: s.get(k) for k in ("setting", "rule", "runs", "available", "collapsed", "stopped")}
        for key, _ in STATS:
            est = s.get(key) or {}
            row.update({f"{key}_{p}": est.get(p) for p in ("value", "low", "high", "n", "decided")})
        iqr = s.get("lead_iqr") or [None, None]
        row.update(lead_q25=iqr[0], lead_q75=iqr[1], reason=s.get("reason"))
        out.append(row)
    return out


def write_csv(path, rows: list[dict]) -> Path:
    import csv
    import io

    from ganphase.io import atomic_write_bytes

    keys = list(dict.fromkeys(k for r in rows for k in r))
    buf = io.StringIO()
    w = csv.DictWriter(buf, keys, lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: "" if r.get(k) is None else r[k] for k in keys})
    return atomic_write_bytes(path, buf.getvalue().encode())


def to_json(result: Score) -> dict:
    return {"selection": result.selection, "resamples": result.resamples, "seed": result.seed,
            "min_runs": result.min_runs, "summary": result.summary, "runs": result.rows,
            "recorded_agreement": {k: {"agree": a, "runs": n} for k, (a, n) in result.agreement.items()},
            "left_out": result.left_out, "rules": {r.name: r.description for r in RULES}}
