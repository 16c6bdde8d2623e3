"""The paper's experimental statements as claims with verdicts computed from a sweep (Sections 6.1-6.2,
Appendices F.2, G.4-G.7).

An :class:`ExperimentalClaim` holds its id (the paper's location), the statement as printed (quoted
from the paper), the stated test, and ``verdict(sweep)``: it reads the runs of a sweep folder (or its
exported results) through :func:`ganphase.simulate.scoring.load_sweep`, measures one effect per part
over runs, with a 95 % percentile bootstrap interval over runs (:func:`ganphase.simulate.scoring.estimate`,
2000 resamples, seed 0), and decides each part by where the interval lies against the part's stated
bound: ``agrees`` when the whole interval is on the statement's side, ``differs`` when it is wholly on the
other side, ``undecided`` when the interval straddles the bound, rests on fewer than 5 runs, or the sweep
does not record the quantity (the evidence says which).  The claim's verdict: ``differs`` if a part
differs, ``agrees`` if every part agrees, else ``undecided``; its evidence names the runs it used.

Effects (per run; the run's collapse epoch c and end of fitting f as in :mod:`ganphase.simulate.scoring`):

* ``sec-6.1`` mode mixture (``eval_mode_mixture`` of mixtures, ``eval_mixed_share`` of images, the share
  of samples between modes / with two classes above 10^-2): drop = mixture at f minus its largest value at
  the evaluations up to f (decreases: mean drop < 0); persists: share of runs with mixture > 0 at f (>= 0.8).
* ``sec-6.2`` Algorithm 2 replayed as printed: share of collapsed runs stopped before collapse (>= 0.8:
  "consistently"), and, over the runs where it stops, the modes covered by the checkpoint it returns
  relative to the best in hindsight (mean >= 0.9: "diverse and realistic").
* ``app-g.4`` epoch-mean steepness: log(mean S over epochs c..c+4 / mean S over epochs c-10..c-1) (mean < 0:
  "sharp decline"); where the Frechet distance is recorded, log(fd at c / min fd before c) (mean > 0);
  Figure 17's q_d: Spearman correlation of epoch-mean q_d with the epoch over epochs before c (mean > 0:
  "oscillate while gradually increasing").
* ``app-g.5`` the vanilla and perturbed duality gaps recorded at evaluations (settings with
  ``eval_duality_gap``): per collapsed run the Spearman correlation of each gap with the epoch from the end
  of fitting to c (mean < 0: "decrease"); r = median gap after c / median gap over epochs c-25..c-5 for the
  vanilla gap (mean < 1/2: "drops to zero"), and r(perturbed) - r(vanilla) (mean > 0: "in contrast, the
  perturbed duality gap oscillates").
* ``app-g.6`` share of collapsed runs in which, at some epoch after c, loss_d or loss_g leaves
  [m/2, 2m], m the median of that loss over epochs c-10..c-1 (>= 0.8: the losses "escalate ... or drop").
* ``app-g.7`` pairs of runs of the same data and seed without and with discriminator noise
  (``noise_std`` > 0 in config.json): the mean over epochs before the noise-free run's collapse of
  log q_d(noised) - log q_d(noise-free) (mean < 0: noise lowers q_d), and the collapse share of the
  noised runs minus that of the noise-free ones (< 0: noise prevents collapse).
* ``app-f.2`` share of runs that collapse within the sweep's epochs (>= 0.8 agrees; a finite budget
  cannot refute "eventually", so a lower share is ``undecided``, not ``differs``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ganphase.simulate import scoring

VERDICTS = ("agrees", "differs", "undecided")
RESAMPLES, SEED, MIN_RUNS = 2000, 0, 5


@dataclass(frozen=True)
class Part:
    """One tested effect: statistic over runs, its interval, the bound and the verdict."""

    name: str
    verdict: str
    value: float = math.nan
    low: float = math.nan
    high: float = math.nan
    n: int = 0
    test: str = ""
    detail: str = ""


@dataclass(frozen=True)
class Verdict:
    verdict: str
    parts: tuple[Part, ...]
    runs: tuple[str, ...] = ()
    detail: str = ""


@dataclass(frozen=True)
class ExperimentalClaim:
    id: str
    source: str
    title: str
    printed: str                                  # quoted from the paper
    test: str                                     # the stated test
    measure: Callable[["Sweep"], tuple[list[Part], list[str]]]

    def verdict(self, sweep) -> Verdict:
        """The verdict on the sweep at ``sweep`` (a path, or a :class:`Sweep` already loaded)."""
        sw = sweep if isinstance(sweep, Sweep) else Sweep.load(sweep)
        parts, runs = self.measure(sw)
        return Verdict(combine([p.verdict for p in parts]), tuple(parts), tuple(runs))


def combine(verdicts) -> str:
    if any(v == "differs" for v in verdicts):
        return "differs"
    return "agrees" if verdicts and all(v == "agrees" for v in verdicts) else "undecided"


@dataclass
class Sweep:
    """The runs of a sweep with their facts (collapse epoch, end of fitting) and training configs."""

    path: object
    runs: list
    facts: list
    configs: list
    seed: int = SEED
    resamples: int = RESAMPLES
    min_runs: int = MIN_RUNS
    _score: object = field(default=None, repr=False)

    @classmethod
    def load(cls, path, settings=None, **kw) -> "Sweep":
        """The runs of the sweep at ``path`` (only those of ``settings``, a list of names, if given)."""
        runs, _ = scoring.load_sweep(path)
        if settings is not None:
            runs = [r for r in runs if r.setting in settings]
            if not runs:
                raise ValueError(f"{path} holds no run of the settings {', '.join(settings)}")
        configs = [r.config for r in runs]
        return cls(path, runs, [scoring.run_facts(r.traces) for r in runs], configs, **kw)

    def score(self):
        if self._score is None:
            self._score = scoring.score_runs(self.runs, resamples=self.resamples, seed=self.seed,
                                             min_runs=self.min_runs)
        return self._score

    def interval(self, x, kind: str = "mean") -> dict:
        x = np.asarray(x, np.float64)
        draws = np.random.default_rng(self.seed).integers(0, max(len(x), 1), size=(self.resamples, max(len(x), 1)))
        return scoring.estimate(x, kind, draws, self.min_runs)


def decide(est: dict, bound: float, side: str) -> str:
    """``agrees`` if the interval is wholly on ``side`` ("above" / "below") of ``bound``, ``differs`` if
    wholly on the other side, else (or when undecided for want of runs) ``undecided``."""
    if not est.get("decided"):
        return "undecided"
    lo, hi = est["low"], est["high"]
    above = lo >= bound if side == "above" else hi < bound
    other = hi < bound if side == "above" else lo >= bound
    return "agrees" if above else "differs" if other else "undecided"


def _part(sw: Sweep, name: str, x, kind: str, bound: float, side: str, test: str, differs: bool = True) -> Part:
    est = sw.interval(x, kind)
    v = decide(est, bound, side)
    if v == "differs" and not differs:
        v = "undecided"
    detail = "" if est["decided"] else f"undecided: {est['n']} contributing run(s), fewer than {sw.min_runs}"
    return Part(name, v, est["value"], est["low"], est["high"], est["n"], test, detail)


def _absent(name: str, why: str, test: str = "") -> Part:
    return Part(name, "undecided", test=test, detail=f"not measurable: {why}")


def _names(sw: Sweep, mask) -> list[str]:
    return [r.folder for r, m in zip(sw.runs, mask) if m]


def _epoch_window(t, key, lo, hi):
    ep = np.asarray(t["epoch"])
    v = np.asarray(t[key], np.float64)
    sel = (ep >= lo) & (ep <= hi) & np.isfinite(v)
    return v[sel]


# ----------------------------------------------------------------------------- the measures
def _mixture_key(t):
    return next((k for k in ("mode_mixture", "mixed_share") if f"eval_{k}" in t), None)


def measure_sec61(sw: Sweep):
    drops, persists, used = [], [], []
    for run, f in zip(sw.runs, sw.facts):
        key = _mixture_key(run.traces)
        fe = f["fit_end"]
        if key is None or fe is None:
            continue
        ep, mm = f["eval_epochs"], f["eval"][key]
        sel = (ep <= fe) & np.isfinite(mm)
        at_end = mm[ep == fe]
        if not sel.any() or not at_end.size or not np.isfinite(at_end[0]):
            continue
        drops.append(float(at_end[0] - mm[sel].max()))
        persists.append(float(at_end[0] > 0))
        used.append(run.folder)
    if not used:
        why = "no run records mode mixture (eval_mode_mixture / eval_mixed_share) and an end of fitting"
        return [_absent("decreases", why), _absent("persists", why)], []
    return [_part(sw, "decreases", drops, "mean", 0.0, "below", "mean of mixture(f) - max mixture up to f < 0"),
            _part(sw, "persists", persists, "share", 0.8, "above", "share of runs with mixture(f) > 0 >= 0.8")], used


def measure_sec62(sw: Sweep):
    rows = [r for r in sw.score().rows if r["rule"] == "alg2" and r["available"]]
    if not rows:
        why = "no run records Algorithm 2's per-iteration trace and thresholds"
        return [_absent("stops before collapse", why), _absent("diverse before the stop", why)], []
    before = [math.nan if r["before_collapse"] is None else float(r["before_collapse"]) for r in rows]
    modes = [r.get("modes_rel", math.nan) if r["stopped"] else math.nan for r in rows]   # runs that stopped
    used = [r["folder"] for r in rows]
    return [_part(sw, "stops before collapse", before, "share", 0.8, "above",
                  "share of collapsed runs with Algorithm 2's stop before the collapse epoch >= 0.8"),
            _part(sw, "diverse before the stop", modes, "mean", 0.9, "above",
                  "mean over stopped runs of modes of the returned checkpoint / best in hindsight >= 0.9")], used


def _spearman(x, y) -> float:
    from scipy.stats import spearmanr

    if len(x) < 3 or np.all(y == y[0]):
        return math.nan
    return float(spearmanr(x, y).statistic)


def measure_appg4(sw: Sweep):
    steep, fd, qd, used = [], [], [], []
    for run, f in zip(sw.runs, sw.facts):
        c, t = f["collapse_epoch"], run.traces
        if c is None:
            continue
        before, after = _epoch_window(t, "steepness", c - 10, c - 1), _epoch_window(t, "steepness", c, c + 4)
        ok = before.size and after.size and before.mean() > 0 and after.mean() > 0
        steep.append(math.log(after.mean() / before.mean()) if ok else math.nan)
        ep, fds = f["eval_epochs"], f["eval"].get("fd")
        if fds is not None and np.isfinite(fds[ep < c]).any() and np.isfinite(fds[ep == c]).any():
            fd.append(math.log(float(fds[ep == c][0]) / float(np.nanmin(fds[ep < c]))))
        else:
            fd.append(math.nan)
        sel = (np.asarray(t["epoch"]) < c) & np.isfinite(np.asarray(t["q_d"], np.float64))
        qd.append(_spearman(np.asarray(t["epoch"])[sel], np.asarray(t["q_d"], np.float64)[sel]))
        used.append(run.folder)
    if not used:
        why = "no run of the sweep collapses"
        return [_absent("steepness declines at collapse", why), _absent("FD rises at collapse", why),
                _absent("q_d increases during fitting", why)], []
    parts = [_part(sw, "steepness declines at collapse", steep, "mean", 0.0, "below",
                   "mean log(S over epochs c..c+4 / S over epochs c-10..c-1) < 0")]
    parts.append(_part(sw, "FD rises at collapse", fd, "mean", 0.0, "above", "mean log(fd(c) / min fd before c) > 0")
                 if np.isfinite(fd).any() else _absent("FD rises at collapse", "the sweep records no Frechet "
                                                        "distance (mixtures)", "mean log(fd(c) / min fd before c) > 0"))
    parts.append(_part(sw, "q_d increases during fitting", qd, "mean", 0.0, "above",
                       "mean Spearman correlation of epoch q_d with the epoch before c > 0"))
    return parts, used


def _gap_ratio(ep, gap, c) -> float:
    """median gap over the evaluations after c / median over the evaluations of epochs c-25..c-5."""
    before, after = gap[(ep >= c - 25) & (ep <= c - 5)], gap[ep > c]
    before, after = before[np.isfinite(before)], after[np.isfinite(after)]
    if not (before.size and after.size) or np.median(before) <= 0:
        return math.nan
    return float(np.median(after) / np.median(before))


def measure_appg5(sw: Sweep):
    trend = {"duality_gap": [], "duality_gap_perturbed": []}
    drop, contrast, used = [], [], []
    for run, f in zip(sw.runs, sw.facts):
        c, fe, ev, ep = f["collapse_epoch"], f["fit_end"], f["eval"], f["eval_epochs"]
        if c is None or not all(k in ev for k in trend):
            continue
        start = 0 if fe is None else fe
        for key in trend:
            sel = (ep >= start) & (ep < c) & np.isfinite(ev[key])
            trend[key].append(_spearman(ep[sel], ev[key][sel]))
        r_v, r_p = _gap_ratio(ep, ev["duality_gap"], c), _gap_ratio(ep, ev["duality_gap_perturbed"], c)
        drop.append(r_v)
        contrast.append(r_p - r_v)
        used.append(run.folder)
    if not used:
        why = ("no collapsed run of the sweep records the duality gaps (settings with eval_duality_gap=True record "
               "them at every evaluation)")
        return [_absent(n, why) for n in ("vanilla gap decreases before collapse", "perturbed gap decreases before "
                                          "collapse", "vanilla gap drops after collapse",
                                          "perturbed gap drops less than the vanilla gap")], []
    return [_part(sw, "vanilla gap decreases before collapse", trend["duality_gap"], "mean", 0.0, "below",
                  "mean Spearman correlation of the vanilla gap with the epoch, from the end of fitting to c, < 0"),
            _part(sw, "perturbed gap decreases before collapse", trend["duality_gap_perturbed"], "mean", 0.0, "below",
                  "mean Spearman correlation of the perturbed gap with the epoch, end of fitting to c, < 0"),
            _part(sw, "vanilla gap drops after collapse", drop, "mean", 0.5, "below",
                  "mean over collapsed runs of median gap after c / median gap over epochs c-25..c-5 < 1/2"),
            _part(sw, "perturbed gap drops less than the vanilla gap", contrast, "mean", 0.0, "above",
                  "mean over collapsed runs of (perturbed ratio - vanilla ratio) > 0")], used


def measure_appg6(sw: Sweep):
    hits, used = [], []
    for run, f in zip(sw.runs, sw.facts):
        c, t = f["collapse_epoch"], run.traces
        if c is None:
            continue
        diverged = []
        for key in ("loss_d", "loss_g"):
            ref = _epoch_window(t, key, c - 10, c - 1)
            post = _epoch_window(t, key, c + 1, 10 ** 9)
            if ref.size and post.size:
                m = float(np.median(ref))
                diverged.append(bool(np.any((post > 2 * m) | (post < m / 2))))
        hits.append(float(any(diverged)) if diverged else math.nan)
        used.append(run.folder)
    if not used:
        return [_absent("losses diverge after collapse", "no run of the sweep collapses")], []
    return [_part(sw, "losses diverge after collapse", hits, "share", 0.8, "above",
                  "share of collapsed runs with loss_d or loss_g outside [m/2, 2m] after c >= 0.8")], used


def measure_appg7(sw: Sweep):
    by_key = {}
    for run, f, cfg in zip(sw.runs, sw.facts, sw.configs):
        noised = float(cfg.get("noise_std") or 0.0) > 0
        by_key.setdefault((cfg.get("data"), run.seed), {})[noised] = (run, f)
    pairs = [(v[False], v[True]) for v in by_key.values() if False in v and True in v]
    if not pairs:
        why = "the sweep holds no runs with discriminator noise (noise_std > 0) paired with noise-free runs"
        return [_absent("noise lowers q_d before collapse", why), _absent("noise prevents collapse", why)], []
    dq, dc, used = [], [], []
    for (free, ff), (noisy, fn) in pairs:
        end = ff["collapse_epoch"] or int(ff["last_epoch"]) + 1
        qa = _epoch_window(free.traces, "q_d", 1, end - 1)
        qb = _epoch_window(noisy.traces, "q_d", 1, end - 1)
        n = min(len(qa), len(qb))
        ok = n and np.all(qa[:n] > 0) and np.all(qb[:n] > 0)
        dq.append(float(np.mean(np.log(qb[:n]) - np.log(qa[:n]))) if ok else math.nan)
        dc.append(float(fn["collapse_epoch"] is not None) - float(ff["collapse_epoch"] is not None))
        used += [free.folder, noisy.folder]
    return [_part(sw, "noise lowers q_d before collapse", dq, "mean", 0.0, "below",
                  "mean over pairs of mean log q_d(noised) - log q_d(noise-free) before the collapse < 0"),
            _part(sw, "noise prevents collapse", dc, "mean", 0.0, "below",
                  "collapse share of noised minus noise-free runs (paired) < 0")], used


def measure_appf2(sw: Sweep):
    collapsed = [float(f["collapse_epoch"] is not None) for f in sw.facts]
    return [_part(sw, "runs collapse", collapsed, "share", 0.8, "above",
                  "share of runs with a collapse epoch within the sweep's epochs >= 0.8 (a lower share is "
                  "undecided: a finite budget cannot refute 'eventually')", differs=False)], \
        [r.folder for r in sw.runs]


CLAIMS: tuple[ExperimentalClaim, ...] = (
    ExperimentalClaim(
        "sec-6.1", "Section 6.1, Figure 4; Appendix G.2", "Mode mixture decreases during fitting and persists",
        "Off-diagonal entries, which indicate mode mixture, initially increase but then decrease in magnitude as "
        "the generator reduces overlap between modes. However, mode mixture persists even at the end of the "
        "fitting phase.", "parts 'decreases' and 'persists' (module docstring)", measure_sec61),
    ExperimentalClaim(
        "sec-6.2", "Section 6.2, Figure 5", "Algorithm 2 stops before collapse with diverse samples",
        "Before the stopping point, the generated samples remain diverse and realistic. [...] While the threshold "
        "may not always pinpoint the exact moment of collapse in other scenarios, it consistently ensures "
        "high-quality samples are retained before collapse occurs.",
        "parts 'stops before collapse' and 'diverse before the stop'", measure_sec62),
    ExperimentalClaim(
        "app-g.4", "Section 6.2, Figure 6; Appendix G.4, Figure 17", "Steepness drops and FD rises at collapse",
        "steepness exhibits a sharp decline during collapse phases, corresponding to a rapid increase in FID "
        "scores. [...] During the early training epochs, ||grad d(x)/d(x)||_2 remains small, corresponding to a "
        "rapid decline in the FID score. As training progresses, ||grad d(x)/d(x)||_2 begins to oscillate while "
        "gradually increasing",
        "parts 'steepness declines at collapse', 'FD rises at collapse', 'q_d increases during fitting'",
        measure_appg4),
    ExperimentalClaim(
        "app-g.5", "Appendix G.5, Figure 18", "Duality gaps against q_d and steepness",
        "Prior to the collapse, both duality gaps decrease with oscillations, while ||grad d(x)/d(x)||_2 increase "
        "with oscillations. After collapse, the vanilla duality gap drops to zero, mirroring the behavior of "
        "steepness. In contrast, the perturbed duality gap oscillates",
        "parts 'vanilla gap decreases before collapse', 'perturbed gap decreases before collapse', "
        "'vanilla gap drops after collapse', 'perturbed gap drops less than the vanilla gap'", measure_appg5),
    ExperimentalClaim(
        "app-g.6", "Appendix G.6, Figure 19", "The losses diverge after collapse",
        "Notably, after the collapse, the discriminator and generator losses either escalate to large values or "
        "drop to zero.", "part 'losses diverge after collapse'", measure_appg6),
    ExperimentalClaim(
        "app-g.7", "Appendix G.7, Figures 7, 20, 21", "Discriminator noise lowers q_d and prevents collapse",
        "The introduction of noise results in an overall decrease in the ||grad d(x)/d(x)||_2 compared to its "
        "noise-free counterpart before the 54th epoch. [...] we observe that collapse is avoided altogether in "
        "the noised GAN. Specifically, we trained the noised GAN for 1000 epochs and did not detect any signs "
        "of collapse throughout the training process.",
        "parts 'noise lowers q_d before collapse' and 'noise prevents collapse' on paired runs", measure_appg7),
    ExperimentalClaim(
        "app-f.2", "Appendix F.2 (Number of training runs)", "The runs eventually collapse",
        "It is important to note that the generated samples eventually collapsed in our experiments, either "
        "sooner or later, without contradicting the findings in our paper.", "part 'runs collapse'",
        measure_appf2),
)
BY_ID = {c.id: c for c in CLAIMS}


def verdicts(sweep, settings=None) -> dict[str, Verdict]:
    """Every experimental claim's verdict on one sweep (loaded once; only ``settings`` if given)."""
    sw = sweep if isinstance(sweep, Sweep) else Sweep.load(sweep, settings)
    return {c.id: c.verdict(sw) for c in CLAIMS}
