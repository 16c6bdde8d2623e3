"""The committed sweep results: provenance, completeness, and a committed run regenerated from its config.

CPU training is deterministic for a fixed seed and thread count, so re-running a committed run's
configuration must give the same numbers; the default test re-runs its first epochs (seconds), the
slow one the whole run.
"""
import json
import warnings
from pathlib import Path

import numpy as np
import pytest

from ganphase.simulate.run_folder import RunFolder
from ganphase.simulate.sweep import config_hash
from ganphase.simulate.train import TrainConfig, train

RESULTS = Path(__file__).resolve().parents[1] / "results" / "sweeps" / "collapse"
IMAGES = RESULTS.parent / "images"
# each committed image sweep and the settings it must hold (a lost setting fails the tests)
IMAGE_SWEEPS = {IMAGES: {"stacked-mnist", "mnist28-collapse"}, RESULTS.parent / "digits": {"digits32"},
                RESULTS.parent / "stacked-long": {"stacked-mnist-long"},
                RESULTS.parent / "mnist28-long": {"mnist28-long"}}
SWEEPS = [RESULTS, *IMAGE_SWEEPS]
COMMITTED = ("config.json", "summary.json", "traces.npz", "metrics.jsonl")


def _index():
    return json.loads((RESULTS / "index.json").read_text())["runs"]


def _finished():
    return [r for r in _index() if r["status"] == "finished"]


@pytest.mark.parametrize("results", SWEEPS, ids=[p.name for p in SWEEPS])
def test_results_carry_their_provenance_and_every_run(results):
    prov = json.loads((results / "provenance.json").read_text())
    text = json.dumps(prov)
    for key in ("commit", "torch", "numpy", "python"):
        assert key in text, key
    assert "ganphase sweep" in text
    definition = json.loads((results / "sweep.json").read_text())
    assert definition["invocations"], "the sweep's commands are recorded"
    rows = [r for r in json.loads((results / "index.json").read_text())["runs"] if r["status"] == "finished"]
    assert rows, "no finished run committed"
    for r in rows:
        folder = results / r["folder"]
        assert all((folder / name).is_file() for name in COMMITTED), folder
        assert config_hash(RunFolder(folder).read_config()["train"]) == r["hash"]
    size = sum(p.stat().st_size for p in results.parent.rglob("*") if p.is_file())
    assert size < 50 * 2 ** 20, "all committed sweeps together stay under 50 MiB"


def _strip(rows):
    return [{k: v for k, v in r.items() if k not in ("time_s", "eval")} for r in rows]


def _regenerate(row, tmp_path, epochs=None):
    committed = RunFolder(RESULTS / row["folder"])
    fields = committed.read_config()["train"]
    cfg = TrainConfig(**{**fields, "out": str(tmp_path / "again"), "resume": False, "progress": False,
                         "data_dir": None, **({"epochs": epochs} if epochs else {})})
    summary = train(cfg)
    return committed, RunFolder(cfg.out), summary


def test_the_first_epochs_of_a_committed_run_regenerate_exactly(tmp_path):
    row = _finished()[0]
    committed, again, _ = _regenerate(row, tmp_path, epochs=3)
    assert _strip(again.metrics()) == _strip(committed.metrics()[:3])
    want, got = committed.read_traces(), again.read_traces()
    n = len(got["it_q_d"])
    assert n > 0 and np.array_equal(got["it_q_d"], want["it_q_d"][:n])
    assert np.array_equal(got["it_steepness"], want["it_steepness"][:n])


def test_the_first_epochs_of_a_committed_digits_run_regenerate_exactly(tmp_path):
    """An image run too: the first 5 epochs of a committed digits32 run (DCGAN, Adam, the evaluation at epoch 5
    with its classifier) give the committed metrics and monitor traces."""
    digits = RESULTS.parent / "digits"
    row = next(r for r in json.loads((digits / "index.json").read_text())["runs"] if r["status"] == "finished")
    committed = RunFolder(digits / row["folder"])
    cfg = TrainConfig(**{**committed.read_config()["train"], "out": str(tmp_path / "again"), "resume": False,
                         "progress": False, "epochs": 5})
    train(cfg)
    again = RunFolder(cfg.out)
    assert [r.get("eval") for r in again.metrics()][-1] is not None, "the regenerated epochs include an evaluation"
    assert _strip(again.metrics()) == _strip(committed.metrics()[:5])
    evals = [[{k: v for k, v in (r.get("eval") or {}).items() if k != "eval_seconds"} for r in run.metrics()[:5]]
             for run in (again, committed)]
    assert evals[0] == evals[1]
    want, got = committed.read_traces(), again.read_traces()
    n = len(got["it_q_d"])
    assert n > 0 and np.array_equal(got["it_q_d"], want["it_q_d"][:n])

@pytest.mark.slow
def test_a_whole_committed_run_regenerates_exactly(tmp_path):
    row = _finished()[0]
    committed, again, summary = _regenerate(row, tmp_path)
    assert _strip(again.metrics()) == _strip(committed.metrics())
    assert [r.get("eval") for r in again.metrics()] == [r.get("eval") for r in committed.metrics()]
    for key in ("stop_epoch", "stop_iteration", "collapse_epoch", "returned_epoch"):
        assert summary[key] == committed.read_summary()[key], key


@pytest.mark.parametrize("results", SWEEPS, ids=[p.name for p in SWEEPS])
def test_the_committed_score_table_regenerates(tmp_path, results):
    """results/sweeps/*/score/score.md is what `ganphase score` prints for the committed traces."""
    from ganphase.cli import main

    assert main(["score", str(results), "--out", str(tmp_path / "score"), "--no-figure"]) == 0
    assert (tmp_path / "score" / "score.md").read_text() == (results / "score" / "score.md").read_text()


# ----------------------------------------------------------------------------- experimental verdicts, recomputed
def _collapse_epoch(traces) -> int | None:
    """The collapse rule of README's "Collapse and early stopping", written again with numpy on the traces:
    evaluation t is collapsed when the running maximum M_t of the modes covered has reached half the modes and
    c_t < M_t / 2, at t and at the next evaluation (or at t when it is the last)."""
    epochs, covered = traces["eval_epoch"], traces["eval_modes_covered"].astype(float)
    running = np.maximum.accumulate(covered)
    flag = (running >= traces["eval_n_modes"][0] / 2) & (covered < running / 2)
    onset = np.flatnonzero(flag & np.append(flag[1:], True))
    return int(epochs[onset[0]]) if onset.size else None


def _share_part(x, bound=0.8, may_differ=True):
    """(share, low, high, verdict) as the experimental claims document it: x holds one value per run of the
    setting, NaN where the run does not contribute; 2000 resamples of all runs drawn from seed 0, the share of
    each resample over its contributing runs, 95 % percentile interval; undecided under 5 contributing runs."""
    x = np.asarray(x, float)
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        means = np.nanmean(x[np.random.default_rng(0).integers(0, len(x), size=(2000, len(x)))], axis=1)
    low, high = np.percentile(means[np.isfinite(means)], [2.5, 97.5]) if np.isfinite(x).sum() >= 2 else (np.nan,) * 2
    verdict = "undecided" if np.isfinite(x).sum() < 5 else "agrees" if low >= bound else \
        "differs" if high < bound and may_differ else "undecided"
    return np.nanmean(x), low, high, verdict


def test_collapse_and_stopping_verdicts_recomputed_from_the_committed_traces():
    """app-f.2 (runs collapse) and sec-6.2 (Algorithm 2 stops before collapse) on each committed setting: the
    collapse epochs, shares, intervals and part verdicts recomputed here from traces.npz and the runs' own
    recorded stops, against the registry's rows."""
    from ganphase.catalogue.experiments import experimental_rows

    rows = {r["id"]: r for r in experimental_rows([str(RESULTS)], ["app-f.2", "sec-6.2"])}
    by_setting = {}
    for r in _finished():
        run = RunFolder(RESULTS / r["folder"])
        c, stop = _collapse_epoch(run.read_traces()), run.read_summary()["stop_epoch"]
        assert run.read_summary()["collapse_epoch"] == c, r["folder"]
        by_setting.setdefault(r["setting"], []).append((c, stop))
    for setting, runs in by_setting.items():
        effects = {e["part"]: e for e in rows["app-f.2"]["effects"] + rows["sec-6.2"]["effects"]
                   if e["setting"] == setting}
        share, low, high, verdict = _share_part([c is not None for c, _ in runs], may_differ=False)
        e = effects["runs collapse"]
        assert e["value"] == pytest.approx(share) and e["verdict"] == verdict, setting
        assert (e["low"], e["high"]) == pytest.approx((low, high), nan_ok=True), setting
        before = [float(stop is not None and stop < c) if c is not None else np.nan for c, stop in runs]
        e = effects["stops before collapse"]
        if np.isfinite(before).sum() >= 2:
            share, low, high, verdict = _share_part(before)
            assert e["value"] == pytest.approx(share) and e["verdict"] == verdict, setting
            assert (e["low"], e["high"]) == pytest.approx((low, high), nan_ok=True), setting
        else:
            assert e["verdict"] == "undecided", setting


def _window(traces, key, lo, hi):
    epochs, v = np.asarray(traces["epoch"]), np.asarray(traces[key], float)
    return v[(epochs >= lo) & (epochs <= hi) & np.isfinite(v)]


def test_steepness_and_loss_verdicts_recomputed_from_the_committed_traces():
    """app-g.4's steepness part (log of the mean epoch steepness over epochs c..c+4 over that of c-10..c-1,
    mean < 0) and app-g.6 (loss_d or loss_g leaves [m/2, 2m] after c, m their median over c-10..c-1; share
    >= 0.8), over each setting's collapsed runs, recomputed here from traces.npz."""
    from ganphase.catalogue.experiments import experimental_rows

    rows = {r["id"]: r for r in experimental_rows([str(RESULTS)], ["app-g.4", "app-g.6"])}
    by_setting = {}
    for r in _finished():
        tr = RunFolder(RESULTS / r["folder"]).read_traces()
        c = _collapse_epoch(tr)
        if c is None:
            continue
        before, after = _window(tr, "steepness", c - 10, c - 1), _window(tr, "steepness", c, c + 4)
        ratio = np.log(after.mean() / before.mean()) if before.size and after.size else np.nan
        diverged = []
        for key in ("loss_d", "loss_g"):
            ref, post = _window(tr, key, c - 10, c - 1), _window(tr, key, c + 1, 10 ** 9)
            if ref.size and post.size:
                m = np.median(ref)
                diverged.append(bool(np.any((post > 2 * m) | (post < m / 2))))
        by_setting.setdefault(r["setting"], []).append((ratio, float(any(diverged)) if diverged else np.nan))
    for setting, runs in by_setting.items():
        effects = {e["part"]: e for e in rows["app-g.4"]["effects"] + rows["app-g.6"]["effects"]
                   if e["setting"] == setting}
        value, low, high, _ = _share_part([r for r, _ in runs])
        e = effects["steepness declines at collapse"]
        assert e["value"] == pytest.approx(value, rel=1e-5) and (e["low"], e["high"]) == pytest.approx((low, high), rel=1e-5, nan_ok=True)
        decided = np.isfinite([r for r, _ in runs]).sum() >= 5
        assert e["verdict"] == ("undecided" if not decided else "agrees" if high < 0 else
                                "differs" if low >= 0 else "undecided"), setting
        share, low, high, verdict = _share_part([d for _, d in runs])
        e = effects["losses diverge after collapse"]
        assert e["value"] == pytest.approx(share) and (e["low"], e["high"]) == pytest.approx((low, high), nan_ok=True)
        assert e["verdict"] == verdict, setting


def _fit_end(tr, c):
    """The first evaluation (before the collapse, if any) at which the modes covered reach their maximum."""
    ep, cov = tr["eval_epoch"], tr["eval_modes_covered"].astype(float)
    keep = ep < c if c is not None else np.ones(len(ep), bool)
    return int(ep[keep][np.flatnonzero(cov[keep] == cov[keep].max())[0]]) if keep.any() else None


def _spearman(x, y):
    from scipy.stats import spearmanr

    return np.nan if len(x) < 3 or np.all(y == y[0]) else spearmanr(x, y).statistic


def _median_ratio(ep, gap, c):
    before, after = gap[(ep >= c - 25) & (ep <= c - 5)], gap[ep > c]
    return np.median(after) / np.median(before) if before.size and after.size and np.median(before) > 0 else np.nan


def test_mode_mixture_and_duality_gap_verdicts_recomputed_from_the_committed_traces():
    """sec-6.1 (mode mixture at the end of fitting against its maximum up to there; mixture still > 0) over every
    run, and app-g.5 (Spearman trends of both gaps from the end of fitting to c; the vanilla gap's median after c
    over its median in c-25..c-5; the perturbed ratio minus the vanilla one) over the collapsed runs."""
    from ganphase.catalogue.experiments import experimental_rows

    rows = {r["id"]: r for r in experimental_rows([str(RESULTS)], ["sec-6.1", "app-g.5", "app-g.7"])}
    mix, gaps = {}, {}
    for r in _finished():
        tr = RunFolder(RESULTS / r["folder"]).read_traces()
        c = _collapse_epoch(tr)
        f = _fit_end(tr, c)
        ep, mm = tr["eval_epoch"], tr["eval_mode_mixture"].astype(float)
        mix.setdefault(r["setting"], []).append((mm[ep == f][0] - mm[ep <= f].max(), float(mm[ep == f][0] > 0)))
        if c is not None and "eval_duality_gap" in tr:
            v, p = tr["eval_duality_gap"].astype(float), tr["eval_duality_gap_perturbed"].astype(float)
            sel = (ep >= f) & (ep < c)
            gaps.setdefault(r["setting"], []).append(
                (_spearman(ep[sel], v[sel]), _spearman(ep[sel], p[sel]), _median_ratio(ep, v, c),
                 _median_ratio(ep, p, c) - _median_ratio(ep, v, c)))
    assert mix and gaps, "the committed sweep has runs with mode mixture and collapsed runs with duality gaps"
    for setting, runs in mix.items():
        effects = {e["part"]: e for e in rows["sec-6.1"]["effects"] if e["setting"] == setting}
        for k, part in enumerate(("decreases", "persists")):
            value, low, high, _ = _share_part([run[k] for run in runs])
            assert effects[part]["value"] == pytest.approx(value, rel=1e-5, abs=1e-9), (setting, part)
            assert (effects[part]["low"], effects[part]["high"]) == pytest.approx((low, high), rel=1e-5, abs=1e-9, nan_ok=True)
    names = ("vanilla gap decreases before collapse", "perturbed gap decreases before collapse",
             "vanilla gap drops after collapse", "perturbed gap drops less than the vanilla gap")
    for setting, runs in gaps.items():
        effects = {e["part"]: e for e in rows["app-g.5"]["effects"] if e["setting"] == setting}
        for k, part in enumerate(names):
            value, low, high, _ = _share_part([run[k] for run in runs])
            assert effects[part]["value"] == pytest.approx(value, rel=1e-5), (setting, part)
            assert (effects[part]["low"], effects[part]["high"]) == pytest.approx((low, high), rel=1e-5, nan_ok=True)
    _check_noise_pairs(rows["app-g.7"])


def _check_noise_pairs(row):
    """app-g.7 over pairs of a noise-free and a noised run of one data set and seed: the mean over the epochs
    before the noise-free run's collapse (or its end) of log q_d(noised) - log q_d(noise-free), and the
    difference of their collapse indicators."""
    runs = {}
    for r in _finished():
        run = RunFolder(RESULTS / r["folder"])
        train = run.read_config()["train"]
        runs.setdefault((train["data"], r["seed"]), {})[bool(train.get("noise_std"))] = run.read_traces()
    pairs = [(v[False], v[True]) for v in runs.values() if False in v and True in v]
    if not pairs:   # no pair of noise-free and noised runs: app-g.7 cannot be measured and says so
        assert row["verdict"] == "undecided" and "noise" in row["evidence_detail"]
        return
    dq, dc = [], []
    for free, noised in pairs:
        c_free, c_noised = _collapse_epoch(free), _collapse_epoch(noised)
        end = c_free or int(free["epoch"][-1]) + 1
        qa, qb = _window(free, "q_d", 1, end - 1), _window(noised, "q_d", 1, end - 1)
        n = min(len(qa), len(qb))
        ok = n and np.all(qa[:n] > 0) and np.all(qb[:n] > 0)
        dq.append(np.mean(np.log(qb[:n]) - np.log(qa[:n])) if ok else np.nan)
        dc.append(float(c_noised is not None) - float(c_free is not None))
    effects = {e["part"]: e for e in row["effects"]}
    for part, x in (("noise lowers q_d before collapse", dq), ("noise prevents collapse", dc)):
        value, low, high, _ = _share_part(x)
        decided = np.isfinite(x).sum() >= 5
        assert effects[part]["value"] == pytest.approx(value, rel=1e-5, abs=1e-9), part
        assert (effects[part]["low"], effects[part]["high"]) == pytest.approx((low, high), rel=1e-5, abs=1e-9, nan_ok=True), part
        assert effects[part]["verdict"] == ("undecided" if not decided else "agrees" if high < 0 else
                                            "differs" if low >= 0 else "undecided"), part


# ----------------------------------------------------------------------------- the image sweep


def _image_collapse_epoch(tr) -> int | None:
    """The collapse rule for images written again with numpy: the coverage criterion of :func:`_collapse_epoch`
    on the modes (Stacked MNIST) or classes covered, and the Frechet criterion, fd_t > 2 min_{s<=t} fd_s at t
    and at the next evaluation; the earlier onset."""
    key = "modes" if "eval_modes_covered" in tr else "classes"
    covered = tr[f"eval_{key}_covered"].astype(float)
    running = np.maximum.accumulate(covered)
    flags = [(running >= tr[f"eval_n_{key}"][0] / 2) & (covered < running / 2)]
    fd = tr["eval_fd"].astype(float)
    flags.append(fd > 2 * np.minimum.accumulate(fd))
    onsets = [np.flatnonzero(f & np.append(f[1:], True)) for f in flags]
    found = [int(tr["eval_epoch"][o[0]]) for o in onsets if o.size]
    return min(found) if found else None


def _median_range(x) -> str:
    return f"{np.median(x):.4g} (range {np.min(x):.4g}-{np.max(x):.4g})"


@pytest.mark.parametrize("results", list(IMAGE_SWEEPS), ids=[p.name for p in IMAGE_SWEEPS])
def test_image_sweep_collapse_and_modes_recomputed_from_the_committed_traces(results):
    """Every image run's collapse epoch, and README's modes (and Stacked MNIST's KL) at each run's best and last
    evaluation, recomputed from the committed traces (best: most modes, the later of ties)."""
    readme = (RESULTS.parents[2] / "README.md").read_text()
    rows = [r for r in json.loads((results / "index.json").read_text())["runs"] if r["status"] == "finished"]
    assert {r["setting"] for r in rows} == IMAGE_SWEEPS[results]
    for setting in IMAGE_SWEEPS[results]:
        best, last, kl_best, kl_last = [], [], [], []
        for r in (r for r in rows if r["setting"] == setting):
            run = RunFolder(results / r["folder"])
            tr = run.read_traces()
            assert run.read_summary()["collapse_epoch"] == _image_collapse_epoch(tr), r["folder"]
            stacked = "eval_modes_covered" in tr
            covered = tr["eval_modes_covered" if stacked else "eval_classes_covered"]
            i = len(covered) - 1 - int(np.argmax(covered[::-1]))
            best.append(covered[i])
            last.append(covered[-1])
            if stacked:
                kl_best.append(tr["eval_kl"][i])
                kl_last.append(tr["eval_kl"][-1])
        text = (f"at the best evaluation (most modes) median {_median_range(best)}" +
                (f", KL from uniform {_median_range(kl_best)}" if kl_best else "") +
                f"; at the last evaluation median {_median_range(last)}" +
                (f", KL from uniform {_median_range(kl_last)}" if kl_last else ""))
        paragraph = next(line for line in readme.splitlines() if line.startswith(f"**{setting}**"))
        assert text in paragraph, (setting, text)
