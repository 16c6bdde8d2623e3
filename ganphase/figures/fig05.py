"""Figure 5 (Section 6.2, Appendix F.2): early stopping by Algorithm 2 on four data sets.

Top row, per run: the epoch means of q_d = the (1 - 1/m) quantile of ||grad d(x)/d(x)||
over each generated batch (circles, log scale, with the threshold k_d/(2 sigma) dashed)
and of the steepness S_g = mean ||J_g(z)||_2 (diamonds, right axis), both recorded at
every iteration by ``ganphase.simulate.train``; the black vertical line is the epoch in
which Algorithm 2 fired (``summary.json: stop_epoch``; training went on past it,
``continue_after_stop``) and the red dashed line the run's collapse epoch
(``summary.json: collapse_epoch``, :mod:`ganphase.simulate.metrics.collapse`). Bottom row:
samples on fixed latents at evaluation epochs before and after the stop (for a run that
collapsed: at the returned checkpoint, the stop, the collapse and the last evaluation); the
red frame marks the checkpoint Algorithm 2 returns (the best-scored one saved before the stop).
"""
from __future__ import annotations

import numpy as np

from ganphase.figures import runs
from ganphase.figures.common import Caption, data_path, save

TITLE = "Early stopping: q_d and steepness with the stop, and samples before and after it"
NUMBER = 5
CLAIMS = ("thm-4.2", "sec-4.1")  # the registry claims this figure illustrates
COLUMNS = {"paper": ("gmm-3d", "mnist", "fashion-mnist", "cifar10"),
           "quick": ("ring8", "ring8-noised"),
           "test": ("gmm-3d", "ring8")}
N_PANELS = 4      # sample panels per run
N_IMAGES = 16     # images per panel


def sample_epochs(evals: list[int], stop, returned, collapse=None) -> list[int]:
    """Evaluation epochs to show.

    A run that collapsed: those nearest to the returned checkpoint, the stop, the collapse epoch and the
    last evaluation, topped up with epochs spread over the run. Otherwise: around the stop (two before,
    two after) plus the returned one; spread if no stop.
    """
    if collapse is not None:
        picks = runs.nearest(evals, [w for w in (returned, stop, collapse, evals[-1]) if w is not None])
        spread = [evals[i] for i in np.linspace(0, len(evals) - 1, 2 * N_PANELS).round().astype(int)]
        picks += [e for e in spread if e not in picks][:max(0, N_PANELS - len(picks))]
        return sorted(picks)
    if stop is None:
        picks = [evals[i] for i in np.linspace(0, len(evals) - 1, N_PANELS).round().astype(int)]
    else:
        before = [e for e in evals if e < stop][-2:]
        after = [e for e in evals if e >= stop][:N_PANELS - len(before)]
        picks = before + after
    if returned is not None and returned not in picks:
        picks = sorted(picks[1:] + [returned]) if len(picks) >= N_PANELS else sorted(picks + [returned])
    return sorted(set(picks))


MAX_TRACE = 4000   # per-iteration points drawn per run (every k-th iteration beyond that)


def iteration_trace(folder) -> tuple:
    """(x, q_d, steepness) per iteration from monitor.jsonl, x = epoch - 1 + (k / iterations of that epoch)."""
    mon = runs.monitor(folder)
    per_epoch = {}
    for r in mon:
        per_epoch[r["epoch"]] = per_epoch.get(r["epoch"], 0) + 1
    seen, x = {}, []
    for r in mon:
        seen[r["epoch"]] = seen.get(r["epoch"], 0) + 1
        x.append(r["epoch"] - 1 + seen[r["epoch"]] / per_epoch[r["epoch"]])
    q = [np.nan if r.get("q_d") is None else r["q_d"] for r in mon]
    st = [np.nan if r.get("steepness") is None else r["steepness"] for r in mon]
    step = max(1, len(mon) // MAX_TRACE)
    return np.asarray(x)[::step], np.asarray(q, float)[::step], np.asarray(st, float)[::step]


def column_data(folder) -> dict:
    rows = runs.metrics(folder)
    summ = runs.summary(folder)
    ep, q = runs.series(rows, "q_d")
    ep_s, s = runs.series(rows, "steepness")
    stop, returned, collapse = (runs.phases(summ)[k] for k in ("stop", "returned", "collapse"))
    picks = sample_epochs(runs.eval_epochs(folder), stop, returned, collapse)
    n = N_IMAGES if len(runs.config(folder)["model"]["data_shape"]) == 3 else None
    it_x, it_q, it_s = iteration_trace(folder)
    return {"epochs": ep, "q_d": q, "steepness_epochs": ep_s, "steepness": s,
            "iter_x": it_x, "iter_q_d": it_q, "iter_steepness": it_s,
            "threshold_d": summ["threshold_d"], "stop_epoch": stop, "stop_reason": summ["stop_reason"],
            "returned_epoch": returned, "collapse_epoch": collapse, "summary": summ, "sample_epochs": picks,
            "samples": {e: runs.samples_at(folder, e, n) for e in picks}, "real": runs.real_points(folder)}


def _panel_title(e: int, col: dict) -> str:
    tags = [t for t, k in (("returned", "returned_epoch"), ("stop", "stop_epoch")) if col[k] == e]
    if col["collapse_epoch"] is not None and e >= col["collapse_epoch"]:
        tags.append("collapsed")
    return f"epoch {e}" + (f" ({', '.join(tags)})" if tags else "")


def _draw_column(fig, top, bottom, name, col):
    ax = fig.add_subplot(top)
    ax.semilogy(col["iter_x"], col["iter_q_d"], "-", color="C0", lw=0.4, alpha=0.3)
    ax.semilogy(col["epochs"], col["q_d"], "o-", color="C0", ms=3, lw=1, label="q_d = ||∇d/d|| quantile")
    ax.axhline(col["threshold_d"], color="C0", ls="--", lw=1, label=f"k_d/(2σ) = {col['threshold_d']:.3g}")
    ax2 = ax.twinx()
    ax2.plot(col["iter_x"], col["iter_steepness"], "-", color="lightskyblue", lw=0.4, alpha=0.4)
    ax2.plot(col["steepness_epochs"], col["steepness"], "D-", color="lightskyblue", ms=3, lw=1, label="steepness")
    runs.mark_phases(ax, col["summary"])
    ax.set_title(name, fontsize=9)
    ax.set_xlabel("epoch", fontsize=8)
    ax.tick_params(labelsize=7)
    ax2.tick_params(labelsize=7, colors="steelblue")
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, fontsize=6, loc="lower right")
    sub = bottom.subgridspec(2, 2, wspace=0.05, hspace=0.25)
    for i, e in enumerate(col["sample_epochs"][:4]):
        a = fig.add_subplot(sub[i // 2, i % 2])
        runs.draw_samples(a, col["samples"][e], col["real"])
        a.set_title(_panel_title(e, col), fontsize=6)
        if e == col["returned_epoch"]:
            for sp in a.spines.values():
                sp.set_edgecolor("red")
                sp.set_linewidth(2.5)


def make(profile: str, outdir) -> list:
    import matplotlib.pyplot as plt

    runs.check_profile(profile)
    if (done := runs.reusable(outdir, NUMBER, profile)) is not None:
        return done
    cols, missing, settings = {}, [], {}
    for name in COLUMNS[profile]:
        folder, why = runs.try_run(name, profile, outdir)
        if folder is None:
            missing.append(why)
            continue
        cols[name] = column_data(folder)
        cfg = runs.config(folder)
        settings[name] = (f"{runs.describe(folder)}, n_train {cfg['n_train']}, resize {cfg['resize']}; thresholds "
                          f"{cfg['thresholds']['k_d']:.3g}/(2 x {cfg['thresholds']['sigma']:.3g}), k_g "
                          f"{cfg['thresholds']['k_g']}, N_w {cfg['thresholds']['warmup']}, m {cfg['thresholds']['m']}")
    if not cols:
        raise ValueError("figure 5 has no run to draw: " + "; ".join(missing))
    fig = plt.figure(figsize=(3.2 * len(cols), 6.4))
    gs = fig.add_gridspec(2, len(cols), height_ratios=(1, 1.1), hspace=0.35, wspace=0.45)
    for j, (name, col) in enumerate(cols.items()):
        _draw_column(fig, gs[0, j], gs[1, j], name, col)

    arrays = {}
    for name, col in cols.items():
        for k in ("epochs", "q_d", "steepness_epochs", "steepness", "sample_epochs", "iter_x", "iter_q_d",
                  "iter_steepness"):
            arrays[f"{name}.{k}"] = np.asarray(col[k])
        arrays[f"{name}.stop_epoch"] = np.asarray(-1 if col["stop_epoch"] is None else col["stop_epoch"])
        arrays[f"{name}.returned_epoch"] = np.asarray(-1 if col["returned_epoch"] is None else col["returned_epoch"])
        arrays[f"{name}.collapse_epoch"] = np.asarray(-1 if col["collapse_epoch"] is None else col["collapse_epoch"])
        arrays[f"{name}.threshold_d"] = np.asarray(col["threshold_d"])
        for e, x in col["samples"].items():
            arrays[f"{name}.samples_{e}"] = x
    np.savez_compressed(data_path(outdir, NUMBER), **arrays)

    measured = {f"{n} stop epoch": ("none" if c["stop_epoch"] is None else c["stop_epoch"]) for n, c in cols.items()}
    measured.update({f"{n} stop reason": c["stop_reason"] for n, c in cols.items()})
    measured.update({f"{n} returned epoch": c["returned_epoch"] for n, c in cols.items()})
    measured.update({f"{n} collapse epoch": ("none" if c["collapse_epoch"] is None else c["collapse_epoch"])
                     for n, c in cols.items()})
    measured.update({f"{n} max q_d (epoch mean)": float(np.max(c["q_d"])) for n, c in cols.items() if len(c["q_d"])})
    text = ("Algorithm 2 on NSGAN runs: top, per iteration (faint) and as epoch means (markers), q_d (the "
            "(1 - 1/m) quantile of ||grad d/d|| over each generated batch, log scale, threshold k_d/(2 sigma) "
            "dashed) and the steepness S_g (mean ||J_g(z)||_2, power iteration, right axis); Algorithm 2 itself "
            "tests every iteration, the black line is the epoch in which it fired, and training continued past "
            "it; the red dashed line is the run's collapse epoch (the toolkit's measure: modes or classes covered "
            "fall below half their running maximum, or the Frechet distance above twice its minimum, at two "
            "evaluations in a row). Bottom: samples on the run's fixed latents at evaluation epochs around the stop "
            "and, for a run that collapsed, at its collapse and its last evaluation (mixtures: the first two "
            "coordinates over real samples in orange); the red frame marks the checkpoint Algorithm 2 returns (best "
            "score before the stop). " + " ".join(runs.phase_text(n, c["summary"]) + "." for n, c in cols.items()))
    if missing:
        text += " Not drawn: " + "; ".join(missing) + "."
    stand_in = ""
    if profile != "paper":
        stand_in = ("Runs that reach the collapse phase within minutes stand in for the paper's (Appendix F.2: 64 x "
                    "64 DCGANs on the full image sets, the 3-D mixture for up to 1000 epochs): NSGAN with the paper's "
                    "SGD mixture recipe on a 2-D ring of 8 Gaussians, and its twin with a noised discriminator "
                    "(Appendix G.7; Figure 7), same seed. Settings per run: "
                    + "; ".join(f"{k}: {v}" for k, v in settings.items()) + ".")
    caption = Caption(NUMBER, text, profile, stand_in=stand_in, claims=CLAIMS,
                      settings={"runs": ", ".join(cols), "sample panels": N_PANELS}, measured=measured)
    return save(fig, outdir, caption)
