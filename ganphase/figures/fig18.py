"""Figure 18 (Appendix G.5): both monitors against the duality gap and the perturbed duality gap.

For saved checkpoints of a run, ``ganphase.simulate.metrics.duality.duality_gap``
estimates DG = F(G, D_worst) - F(G_worst, D) (each worst-case player found by Adam
steps from a copy of the current one) and the perturbed gap (the copies' parameters
first receive N(0, ``PERTURB_STD``^2) noise). The gaps are cached per run in
``outdir/fig18.duality.<run>.jsonl`` (one line per checkpoint), so an interrupted
figure resumes and a redraw costs nothing. Top row: q_d (epoch means) with the gaps;
bottom row: the steepness with the gaps. Every panel marks the run's stop (black) and
collapse epoch (red dashed) from its ``summary.json``.
"""
from __future__ import annotations

import numpy as np

from ganphase.figures import runs
from ganphase.figures.common import Caption, data_path, save

TITLE = "||grad d/d|| and steepness against the duality gaps"
NUMBER = 18
CLAIMS = ("thm-4.2", "sec-4.1")  # the registry claims this figure illustrates
RUNS = {"paper": ("mnist", "fashion-mnist", "cifar10"), "quick": ("ring8",), "test": ("ring8",)}
STEPS = {"paper": 100, "quick": 50, "test": 5}
MAX_CHECKPOINTS = {"paper": 200, "quick": 15, "test": 3}
PERTURB_STD = 0.01
EVAL_SIZE = 512


def cache_path(outdir, name):
    return data_path(outdir, NUMBER, f"duality.{name}").with_suffix(".jsonl")


def chosen_checkpoints(epochs: list[int], k: int) -> list[int]:
    """At most k checkpoint epochs spread evenly over the saved ones."""
    if len(epochs) <= k:
        return list(epochs)
    return sorted({epochs[i] for i in np.linspace(0, len(epochs) - 1, k).round().astype(int)})


def real_samples(cfg: dict):
    from ganphase.simulate.data import load_dataset

    t = cfg["train"]
    ds = load_dataset(t["data"], data_dir=t["data_dir"], split="train", subset=t["subset"], resize=cfg["resize"],
                      seed=t["seed"])
    return ds.x[:5000]


def gaps(folder, name: str, profile: str, outdir) -> list[dict]:
    """Duality and perturbed duality gaps at the chosen checkpoints, read from or appended to the cache."""
    from ganphase.io import append_jsonl, read_jsonl
    from ganphase.simulate.metrics.duality import duality_gap
    from ganphase.simulate.train import checkpoint_epochs, load_discriminator, load_generator

    cfg = runs.config(folder)
    steps = STEPS[profile]
    key = {"steps": steps, "perturb_std": PERTURB_STD, "eval_size": EVAL_SIZE, "run_seed": cfg["train"]["seed"]}
    path = cache_path(outdir, name)
    done = {r["epoch"]: r for r in read_jsonl(path) if all(r.get(k) == v for k, v in key.items())}
    wanted = chosen_checkpoints(checkpoint_epochs(folder), MAX_CHECKPOINTS[profile])
    todo = [e for e in wanted if e not in done]
    if todo:
        from tqdm.auto import tqdm

        from ganphase.simulate.device import resolve_device

        dev = resolve_device("auto")
        x = real_samples(cfg)
        latent = cfg["model"]["latent_dim"]
        for e in tqdm(todo, desc=f"duality gaps {name}", leave=False):
            G, D = load_generator(folder, e, device=dev), load_discriminator(folder, e, device=dev)
            plain = duality_gap(G, D, x, latent, steps=steps, eval_size=EVAL_SIZE, seed=e, device=dev)
            pert = duality_gap(G, D, x, latent, steps=steps, eval_size=EVAL_SIZE, perturb_std=PERTURB_STD,
                               seed=e, device=dev)
            row = {"epoch": e, "gap": plain["gap"], "perturbed_gap": pert["gap"], "value": plain["value"], **key}
            append_jsonl(path, row)
            done[e] = row
    return [done[e] for e in wanted]


def make(profile: str, outdir) -> list:
    import matplotlib.pyplot as plt

    runs.check_profile(profile)
    if (done := runs.reusable(outdir, NUMBER, profile)) is not None:
        return done
    panels, notes = {}, []
    for name in RUNS[profile]:
        folder, why = runs.try_run(name, profile, outdir)
        if folder is None:
            notes.append(why)
            continue
        rows = runs.metrics(folder)
        panels[name] = {"q_d": runs.series(rows, "q_d"), "steepness": runs.series(rows, "steepness"),
                        "gaps": gaps(folder, name, profile, outdir), "summary": runs.summary(folder),
                        "setting": runs.describe(folder)}
    if not panels:
        raise ValueError("figure 18 has no run to draw: " + "; ".join(notes))
    fig, axes = plt.subplots(2, len(panels), figsize=(4.4 * len(panels), 6), squeeze=False)
    arrays, measured = {}, {}
    for j, (name, p) in enumerate(panels.items()):
        ge = np.asarray([r["epoch"] for r in p["gaps"]])
        dg = np.asarray([r["gap"] for r in p["gaps"]])
        pdg = np.asarray([r["perturbed_gap"] for r in p["gaps"]])
        arrays.update({f"{name}.gap_epochs": ge, f"{name}.gap": dg, f"{name}.perturbed_gap": pdg})
        for i, (key, style) in enumerate((("q_d", dict(marker="o", color="C0")),
                                          ("steepness", dict(marker="s", color="lightskyblue")))):
            ax = axes[i, j]
            ep, v = p[key]
            arrays[f"{name}.{key}.epochs"], arrays[f"{name}.{key}"] = ep, v
            ax.plot(ep, v, ms=3, lw=1, label=key if key == "steepness" else "q_d = ||∇d/d|| quantile", **style)
            ax2 = ax.twinx()
            ax2.plot(ge, dg, "^-", color="tab:orange", ms=4, lw=1, label="duality gap")
            ax2.plot(ge, pdg, "s--", color="tab:orange", ms=4, lw=1, label=f"perturbed gap (std {PERTURB_STD:g})")
            runs.mark_phases(ax, p["summary"])
            h1, l1 = ax.get_legend_handles_labels()
            h2, l2 = ax2.get_legend_handles_labels()
            ax.legend(h1 + h2, l1 + l2, fontsize=6)
            ax.set_xlabel("epoch")
            ax.set_title(name, fontsize=9)
            if len(ge) > 2:
                measured[f"{name} Pearson r({key}, duality gap)"] = float(np.corrcoef(np.interp(ge, ep, v), dg)[0, 1])
                measured[f"{name} Pearson r({key}, perturbed gap)"] = float(
                    np.corrcoef(np.interp(ge, ep, v), pdg)[0, 1])
        ph = runs.phases(p["summary"])
        for k in ("stop", "collapse"):
            arrays[f"{name}.{k}_epoch"] = np.asarray(-1 if ph[k] is None else ph[k])
            measured[f"{name} {k} epoch"] = "none" if ph[k] is None else ph[k]
        measured[f"{name} duality gap first / last"] = f"{dg[0]:.4g} / {dg[-1]:.4g}"
        measured[f"{name} perturbed gap first / last"] = f"{pdg[0]:.4g} / {pdg[-1]:.4g}"
    fig.tight_layout()
    np.savez(data_path(outdir, NUMBER), **arrays)
    text = (f"Top: epoch means of q_d (the (1 - 1/m) quantile of ||grad d/d|| over each generated batch); bottom: "
            f"epoch means of the steepness S_g; both with the duality gap DG = F(G, D_worst) - F(G_worst, D) "
            f"(triangles) and the perturbed duality gap (squares, copies perturbed by N(0, {PERTURB_STD:g}^2) "
            f"before optimising) at saved checkpoints, each worst-case player found by {STEPS[profile]} Adam steps "
            f"(lr 2e-4, batch 64) and F evaluated on {EVAL_SIZE} real samples and latents (Appendix G.5). "
            "Epoch 0 is the initialisation. Black line: the epoch where Algorithm 2 fired; red dashed line: the "
            "run's collapse epoch. " + " ".join(runs.phase_text(n, p["summary"]) + "." for n, p in panels.items()))
    if notes:
        text += " Not drawn: " + "; ".join(notes) + "."
    stand_in = ("" if profile == "paper" else
                "The paper's runs are 64 x 64 DCGANs on MNIST, Fashion-MNIST and CIFAR-10; here a run that reaches "
                "the collapse phase within the quick budget stands in (NSGAN with the paper's SGD mixture recipe on "
                f"a 2-D ring of 8 Gaussians), with gaps at {MAX_CHECKPOINTS[profile]} checkpoints and "
                f"{STEPS[profile]} optimisation steps per worst-case player instead of 100.")
    caption = Caption(NUMBER, text, profile, stand_in=stand_in, claims=CLAIMS,
                      settings={"steps": STEPS[profile], "perturb_std": PERTURB_STD, "eval_size": EVAL_SIZE,
                                "runs": "; ".join(f"{n}: {p['setting']}" for n, p in panels.items())},
                      measured=measured)
    return save(fig, outdir, caption)
