"""The run cache of the figures (ganphase.figures.runs) and the training-based figures, on tiny 'test' runs.

Checks against independent computations: figure 11's gradient profile and radius by finite
differences instead of autograd; figure 7's norms by finite differences of log d and its 90th
percentile by numpy; figure 5's stop line against the run's summary.json.
"""
import json

import matplotlib.image as mpimg
import numpy as np
import pytest
import torch

from ganphase.figures import runs
from ganphase.figures.common import data_path
from ganphase.io import read_jsonl


@pytest.fixture(scope="module")
def outdir(tmp_path_factory):
    return tmp_path_factory.mktemp("figures")


def _spy(monkeypatch):
    calls = []
    real = runs.train

    def spy(cfg):
        calls.append(cfg.resume)
        return real(cfg)

    monkeypatch.setattr(runs, "train", spy)
    return calls


def _assert_drawn(paths):
    png, pdf = (p for p in paths if p.suffix in (".png", ".pdf"))
    assert png.stat().st_size > 1000 and pdf.stat().st_size > 1000
    img = mpimg.imread(png)
    assert img[..., :3].var() > 1e-3, "the PNG is blank"


# ----------------------------------------------------------------------------- the cache
def test_complete_run_is_reused_without_training(outdir, monkeypatch):
    folder = runs.ensure_run("gmm-2d", "test", outdir, progress=False)
    stamp = (folder / "summary.json").stat().st_mtime_ns
    calls = _spy(monkeypatch)
    assert runs.ensure_run("gmm-2d", "test", outdir, progress=False) == folder
    assert calls == []
    assert (folder / "summary.json").stat().st_mtime_ns == stamp


def test_interrupted_run_is_resumed_and_matches_an_uninterrupted_one(tmp_path, monkeypatch):
    full = runs.ensure_run("gmm-3d", "test", tmp_path / "a", progress=False)
    cut = runs.ensure_run("gmm-3d", "test", tmp_path / "b", progress=False)
    # simulate a kill after epoch 2: no summary, no checkpoint of epoch 3
    (cut / "summary.json").unlink()
    (cut / "checkpoints" / "epoch_0003.pt").unlink()
    calls = _spy(monkeypatch)
    assert runs.ensure_run("gmm-3d", "test", tmp_path / "b", progress=False) == cut
    assert calls == [True]
    a, b = read_jsonl(full / "metrics.jsonl"), read_jsonl(cut / "metrics.jsonl")
    assert [r["epoch"] for r in b] == [1, 2, 3]
    for ra, rb in zip(a, b):
        assert ra["loss_d"] == pytest.approx(rb["loss_d"], rel=1e-6)
        assert ra["q_d"] == pytest.approx(rb["q_d"], rel=1e-6)


def test_changed_settings_retrain_and_more_epochs_resume(tmp_path, monkeypatch):
    runs.ensure_run("gmm-2d", "test", tmp_path, progress=False)
    calls = _spy(monkeypatch)
    runs.ensure_run("gmm-2d", "test", tmp_path, progress=False, epochs=4)
    assert calls == [True]
    assert runs.summary(runs.run_dir("gmm-2d", tmp_path))["epochs_run"] == 4
    runs.ensure_run("gmm-2d", "test", tmp_path, progress=False, epochs=4, seed=1)
    assert calls == [True, False]
    assert runs.config(runs.run_dir("gmm-2d", tmp_path))["train"]["seed"] == 1


def test_bad_names_are_value_errors(tmp_path):
    with pytest.raises(ValueError, match="unknown run"):
        runs.ensure_run("nope", "quick", tmp_path)
    with pytest.raises(ValueError, match="profile"):
        runs.ensure_run("gmm-2d", "fast", tmp_path)
    with pytest.raises(ValueError, match="unknown TrainConfig"):
        runs.spec("gmm-2d", "quick", colour=1)


def test_absent_data_set_is_reported_not_raised(tmp_path, monkeypatch):
    monkeypatch.setattr(runs, "_data_dir", lambda: str(tmp_path / "empty"))
    monkeypatch.delenv("GANPHASE_DATA", raising=False)
    folder, why = runs.try_run("cifar10", "test", tmp_path)
    assert folder is None and "not found" in why


# ----------------------------------------------------------------------------- figures
def test_fig11_radius_by_finite_differences(outdir):
    from ganphase.figures import fig11
    from ganphase.simulate.data import mixture_spec
    from ganphase.simulate.train import load_discriminator

    _assert_drawn(fig11.make("test", outdir))
    data = np.load(data_path(outdir, 11))
    folder = runs.run_dir("gmm-2d", outdir)
    D = load_discriminator(folder, runs.summary(folder)["epochs_run"])
    centres, sigma = mixture_spec("gmm-2d")

    def fd_norms(D, x, h=1e-2):
        x = np.asarray(x, np.float64)
        cols = []
        for i in range(x.shape[1]):
            e = np.zeros(x.shape[1])
            e[i] = h
            cols.append((fig11.d_values(D, x + e) - fig11.d_values(D, x - e)) / (2 * h))
        return np.linalg.norm(np.stack(cols, 1), axis=1)

    radii, _, g_fd = fig11.radial_profiles(D, centres, grad_fn=fd_norms)
    np.testing.assert_allclose(g_fd, data["grad_profile"], rtol=2e-2, atol=2e-3)
    step = radii[1] - radii[0]
    assert abs(radii[int(np.argmax(g_fd))] - float(data["r_peak"])) <= 2 * step
    assert float(data["r0"]) == pytest.approx(4 * sigma)
    flat = fig11.flat_radius(radii, g_fd)
    saved = float(data["r_flat"])
    assert (flat is None and np.isnan(saved)) or abs(flat - saved) <= 2 * step


def test_fig11_radius_rules_on_the_linear_discriminator():
    from ganphase.figures import fig11

    sigma = np.sqrt(0.0125)
    radii = np.linspace(0, 1, 201)
    d = fig11.linear_d(radii, sigma)
    grad = np.abs(np.gradient(d, radii))
    assert fig11.flat_radius(radii, grad) == pytest.approx(4 * sigma, abs=0.01)
    assert fig11.half_radius(radii, d) == pytest.approx(2 * sigma, abs=0.01)


def _epoch(v):
    return -1 if v is None else v


def test_fig05_stop_and_collapse_lines_are_the_summary_epochs(outdir):
    from ganphase.figures import fig05

    _assert_drawn(fig05.make("test", outdir))
    data = np.load(data_path(outdir, 5))
    for name in fig05.COLUMNS["test"]:
        summ = runs.summary(runs.run_dir(name, outdir))
        assert int(data[f"{name}.stop_epoch"]) == _epoch(summ["stop_epoch"])
        assert int(data[f"{name}.collapse_epoch"]) == _epoch(summ["collapse_epoch"])
    assert int(data["gmm-3d.stop_epoch"]) >= 1, "the test run should stop (k_g = -0.05)"
    rows = read_jsonl(runs.run_dir("gmm-3d", outdir) / "metrics.jsonl")
    np.testing.assert_allclose(data["gmm-3d.q_d"], [r["q_d"] for r in rows])
    caption = json.loads((outdir / "fig05.json").read_text())
    assert caption["profile"] == "test" and caption["measured"]["gmm-3d stop epoch"] == int(data["gmm-3d.stop_epoch"])
    assert f"Algorithm 2 fired in epoch {int(data['gmm-3d.stop_epoch'])}" in caption["caption"]


def test_fig05_sample_panels_show_stop_collapse_and_end():
    from ganphase.figures import fig05

    evals = list(range(0, 71, 5))
    picks = fig05.sample_epochs(evals, stop=43, returned=35, collapse=55)
    assert {35, 45, 55, 70} <= set(picks) and len(picks) == fig05.N_PANELS
    assert fig05.sample_epochs(evals, stop=None, returned=None, collapse=None) == [0, 25, 45, 70]


def test_mark_phases_draws_the_summary_epochs():
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    runs.mark_phases(ax, {"stop_epoch": 23, "returned_epoch": 20, "collapse_epoch": 60})
    xs = sorted(float(line.get_xdata()[0]) for line in ax.lines)
    assert xs == [23.0, 60.0]
    ax.clear()
    runs.mark_phases(ax, {"stop_epoch": None, "collapse_epoch": "error: ValueError: x"})
    assert len(ax.lines) == 0
    plt.close(fig)


def test_panel_epochs_keep_the_stop_and_the_collapse():
    evals = list(range(0, 71, 5))
    summ = {"stop_epoch": 68, "collapse_epoch": 60}
    for n in (4, 6, 15):
        picks = runs.panel_epochs(evals, n, summ)
        assert len(picks) == n and 70 in picks and 60 in picks and picks == sorted(set(picks))
    assert runs.panel_epochs(evals, 4, {"stop_epoch": None, "collapse_epoch": None}) == [0, 25, 45, 70]
    assert runs.phase_tag(70, summ, evals) == "stop" and runs.phase_tag(60, summ) == "collapse"
    assert runs.phase_tag(65, summ, evals) == "collapsed" and runs.phase_tag(55, summ, evals) == ""


@pytest.mark.parametrize("number", [6, 17, 19])
def test_render_figures_draw_the_run_and_its_phases(outdir, number):
    from ganphase.figures import fig06, fig17, fig19

    module = {6: fig06, 17: fig17, 19: fig19}[number]
    _assert_drawn(module.make("test", outdir))
    data = np.load(data_path(outdir, number))
    caption = json.loads((outdir / f"fig{number:02d}.json").read_text())
    names = (fig19.RUNS if number == 19 else fig06.RUNS)["test"]
    for name in names:
        folder = runs.run_dir(name, outdir)
        summ, rows = runs.summary(folder), read_jsonl(folder / "metrics.jsonl")
        assert int(data[f"{name}.stop_epoch"]) == _epoch(summ["stop_epoch"])
        assert int(data[f"{name}.collapse_epoch"]) == _epoch(summ["collapse_epoch"])
        right = "loss_g" if number == 19 else "eval.modes_covered"     # the test runs are mixtures
        want = [(r["epoch"], r["eval"]["modes_covered"] if right.startswith("eval") else r[right])
                for r in rows if not right.startswith("eval") or isinstance(r.get("eval"), dict)]
        np.testing.assert_array_equal(data[f"{name}.{right}.epochs"], [e for e, _ in want])
        np.testing.assert_allclose(data[f"{name}.{right}"], [v for _, v in want])
        assert runs.config(folder)["train"]["data"] in caption["settings"][name]


def test_fig07_percentiles_and_norms_by_finite_differences(outdir):
    from ganphase.figures import fig07
    from ganphase.simulate.train import load_discriminator

    _assert_drawn(fig07.make("test", outdir))
    data = np.load(data_path(outdir, 7))
    for k in ("noise-free", "noised"):
        p90 = [np.percentile(data[f"{k}.{e}"], 90) for e in data["epochs"]]
        np.testing.assert_allclose(data[f"{k}.p90"], p90)
    free, _ = runs.NOISE_PAIRS["test"]
    folder = runs.run_dir(free, outdir)
    e = int(data["epochs"][-1])
    x = torch.as_tensor(runs.load_eval(folder, e)["samples"][:8], dtype=torch.float64)
    D = load_discriminator(folder, e).double()
    h = 1e-5

    def log_d(v):
        with torch.no_grad():
            return torch.nn.functional.logsigmoid(D(v)).flatten()

    flat = x.flatten(1)
    grads = []
    for i in range(flat.shape[1]):
        dv = torch.zeros_like(flat)
        dv[:, i] = h
        grads.append((log_d((flat + dv).view_as(x)) - log_d((flat - dv).view_as(x))) / (2 * h))
    fd = torch.stack(grads, 1).norm(dim=1).numpy()
    np.testing.assert_allclose(data[f"noise-free.{e}"][:8], fd, rtol=1e-3, atol=1e-6)


@pytest.mark.parametrize("number", [7, 20])
def test_noise_figures_compare_runs_of_one_setting_and_seed(outdir, number):
    from ganphase.figures import fig07, fig20

    (fig07 if number == 7 else fig20).make("test", outdir)
    data = np.load(data_path(outdir, number))
    folders = dict(zip(("noise-free", "noised"), (runs.run_dir(n, outdir) for n in runs.NOISE_PAIRS["test"])))
    cfg = {k: runs.config(f) for k, f in folders.items()}
    assert cfg["noised"]["train"]["noise_std"] == 0.1 and cfg["noise-free"]["train"]["noise_std"] == 0.0
    for part in ("train", "model"):   # same seed, data, architecture and optimiser; only the noise differs
        a, b = ({k: v for k, v in cfg[r][part].items() if k not in ("noise_std", "out")} for r in cfg)
        assert a == b
    for k, f in folders.items():
        summ = runs.summary(f)
        for phase, key in (("stop", "stop_epoch"), ("collapse", "collapse_epoch")):
            assert int(data[f"{k}.{phase}_epoch"]) == _epoch(summ[key])
    evals = runs.eval_epochs(folders["noise-free"])
    stop = runs.summary(folders["noise-free"])["stop_epoch"]
    if stop is not None:   # the panels include the evaluation nearest to the stop
        assert runs.nearest(evals, [stop])[0] in data["epochs"]


def test_figures_are_reused(outdir, monkeypatch):
    from ganphase.figures import fig11

    paths = fig11.make("test", outdir)
    stamp = paths[0].stat().st_mtime_ns
    calls = _spy(monkeypatch)
    assert fig11.make("test", outdir) == paths
    assert calls == [] and paths[0].stat().st_mtime_ns == stamp


@pytest.mark.parametrize("profile", runs.PROFILES)
def test_every_run_spec_is_a_valid_training_config(profile):
    from ganphase.simulate.train import TrainConfig

    for name in runs.RUNS:
        cfg = TrainConfig(**runs.spec(name, profile))
        assert cfg.seed == 0
        if profile == "paper" and cfg.data in ("mnist", "fashion-mnist", "cifar10"):
            assert cfg.resize == -1 and cfg.subset is None      # Appendix F.2: the full sets at 64 x 64
    assert set(runs.NOISE_PAIRS) == set(runs.PROFILES)
    free, noised = (runs.spec(n, profile) for n in runs.NOISE_PAIRS[profile])
    assert {k: v for k, v in noised.items() if k != "noise_std"} == {k: v for k, v in free.items() if k != "noise_std"}
    assert noised["noise_std"] == 0.1 and free.get("noise_std", 0.0) == 0.0


def test_noise_pair_falls_back_to_the_digits_when_fashion_mnist_is_absent(outdir, tmp_path, monkeypatch):
    monkeypatch.setattr(runs, "_data_dir", lambda: str(tmp_path / "empty"))
    monkeypatch.delenv("GANPHASE_DATA", raising=False)
    monkeypatch.setitem(runs.NOISE_PAIRS, "test", ("fashion-mnist", "fashion-mnist-noised"))
    folders, note = runs.noise_pair("test", outdir)
    assert folders == {"noise-free": runs.run_dir("digits", outdir), "noised": runs.run_dir("digits-noised", outdir)}
    assert "unavailable" in note and "digits" in note


@pytest.mark.slow
def test_quick_ring_run_reaches_collapse_with_a_visible_stop(tmp_path):
    """The quick profile's figures 5-7 and 16-21 rely on this run collapsing within its epochs (a minute or two)."""
    folder = runs.ensure_run("ring8", "quick", tmp_path, progress=False)
    summ, cfg = runs.summary(folder), runs.config(folder)["train"]
    ph = runs.phases(summ)
    assert ph["collapse"] is not None and ph["collapse"] < cfg["epochs"]
    assert ph["stop"] is not None and ph["stop"] <= cfg["epochs"]
    covered = [r["eval"]["modes_covered"] for r in read_jsonl(folder / "metrics.jsonl") if r.get("eval")]
    assert max(covered) == 8 and covered[-1] < 4       # fitted every mode, then lost more than half of them
