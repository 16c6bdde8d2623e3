"""Image and classifier figures (1, 4, 8-10, 12, 14-16): what they draw, checked against independent computation.

Runs and classifiers use the modules' hidden ``test`` profile (a few training iterations on 256
images, a classifier trained on 512 images for one epoch); the class-mean figures use a subset of
each test split (smaller files to read than the training splits).  Everything is written to one temporary folder shared by the module.
"""
import json

import matplotlib.image as mpimg
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy.spatial.distance import cdist

from conftest import need_data_file
from ganphase.figures import fig01, fig04, fig08, fig09, fig10, fig12, fig14, fig16
from ganphase.simulate.metrics.fitting import TAU

NPZ = {8: "mnist.npz", 9: "fashion_mnist.npz", 10: "cifar10.npz"}
SUBSET = 3000


@pytest.fixture(scope="module")
def outdir(tmp_path_factory):
    return tmp_path_factory.mktemp("figures")


def assert_rendered(outdir, number):
    """PNG and PDF written and non-empty, the PNG not a blank page, caption files present."""
    base = outdir / f"fig{number:02d}"
    for ext in (".png", ".pdf", ".json", ".md"):
        assert base.with_suffix(ext).stat().st_size > 0, ext
    img = mpimg.imread(base.with_suffix(".png"))
    assert img.ndim == 3 and float(img[..., :3].var()) > 1e-3
    return json.loads(base.with_suffix(".json").read_text())


def drawn(module, outdir, *data_files):
    """Draw the figure's test profile (skipped when a data file is absent): its caption record and saved arrays."""
    for name in data_files:
        need_data_file(name)
    module.make("test", outdir)
    record = assert_rendered(outdir, module.NUMBER)
    with np.load(outdir / f"fig{module.NUMBER:02d}.data.npz") as d:
        return record, {k: d[k] for k in d.files}


def last_checkpoint(settings, outdir, epochs):
    """The folder of the run the settings name, and the last epoch the figure drew."""
    return fig04.ensure(settings, outdir), int(epochs[-1])


def independent_distances(path, subset, side=64, split="test"):
    """Appendix E the long way: every image resized to side x side, scaled to [-1, 1], class means, cdist."""
    with np.load(path, allow_pickle=False) as f:
        x, y = f[f"x_{split}"][:subset], f[f"y_{split}"][:subset]
    t = torch.from_numpy(x.astype(np.float64) / 127.5 - 1.0)
    t = t.unsqueeze(1) if t.dim() == 3 else t.permute(0, 3, 1, 2)
    t = F.interpolate(t, size=(side, side), mode="bilinear", align_corners=False).flatten(1).numpy()
    means = np.stack([t[y == c].mean(0) for c in range(10)])
    return cdist(means, means)


@pytest.mark.parametrize("module", [fig08, fig09, fig10], ids=["fig08", "fig09", "fig10"])
def test_class_mean_distance_heatmap(module, outdir, monkeypatch):
    path = need_data_file(NPZ[module.NUMBER])
    monkeypatch.setitem(fig08.SETTINGS, "quick", {"side": 64, "split": "test", "subset": SUBSET})
    module.make("quick", outdir)
    record = assert_rendered(outdir, module.NUMBER)
    with np.load(outdir / f"fig{module.NUMBER:02d}.data.npz") as d:
        dist = d["distances"]
    expected = independent_distances(path, SUBSET)
    np.testing.assert_allclose(dist, expected, rtol=1e-9, atol=1e-9)
    off = expected[~np.eye(10, dtype=bool)]
    assert record["measured"]["k_d_nearest"] == pytest.approx(off.min())
    assert record["measured"]["k_d_farthest"] == pytest.approx(off.max())


def test_distance_figures_without_data(tmp_path, monkeypatch):
    """No data file: figure 8 falls back to scikit-learn's digits, figure 10 says in its caption why it is empty."""
    monkeypatch.delenv("GANPHASE_DATA", raising=False)
    monkeypatch.setattr(fig08, "default_data_dir", lambda: tmp_path / "nothing-here")
    fig08.make("quick", tmp_path)
    record = assert_rendered(tmp_path, 8)
    assert "digits" in record["stand_in"] and record["settings"]["dataset"] == "digits"
    from sklearn.datasets import load_digits

    dg = load_digits()
    t = F.interpolate(torch.from_numpy(dg.images / 8.0 - 1.0).unsqueeze(1), size=(64, 64), mode="bilinear",
                      align_corners=False).flatten(1).numpy()
    means = np.stack([t[dg.target == c].mean(0) for c in range(10)])
    with np.load(tmp_path / "fig08.data.npz") as d:
        np.testing.assert_allclose(d["distances"], cdist(means, means), rtol=1e-9, atol=1e-9)
    fig10.make("quick", tmp_path)
    record = json.loads((tmp_path / "fig10.json").read_text())
    assert "not found" in record["caption"] and (tmp_path / "fig10.png").stat().st_size > 0
    assert not (tmp_path / "fig10.data.npz").exists()


def test_finished_figure_is_reused(outdir, monkeypatch):
    need_data_file("fashion_mnist.npz")
    settings = {"side": 64, "split": "test", "subset": SUBSET}
    monkeypatch.setitem(fig08.SETTINGS, "quick", settings)
    first = fig09.make("quick", outdir)
    stamps = [p.stat().st_mtime_ns for p in first]
    assert [p.stat().st_mtime_ns for p in fig09.make("quick", outdir)] == stamps
    assert fig08.reusable(outdir, 9, "quick", {**settings, "dataset": "fashion-mnist"}) == first
    assert fig08.reusable(outdir, 9, "quick", {**settings, "side": 32, "dataset": "fashion-mnist"}) is None
    assert fig08.reusable(outdir, 9, "paper", {**settings, "dataset": "fashion-mnist"}) is None


def counts_by_rule(probs, tau=TAU):
    """Appendix F.1 counted image by image: one class above tau pairs with itself, else every unordered pair."""
    c = np.zeros((probs.shape[1],) * 2, int)
    for p in probs:
        s = np.flatnonzero(p > tau)
        if len(s) == 1:
            c[s[0], s[0]] += 1
        for a in s if len(s) > 1 else ():
            for b in s:
                if a != b:
                    c[a, b] += 1
    return c


def test_fig04_heatmap_is_log_pair_counts_of_classifier_probabilities(outdir):
    _, d = drawn(fig04, outdir, "mnist.npz")
    epochs, probs, counts, logc = d["epochs"], d["probs"], d["counts"], d["log_counts"]
    assert list(epochs) == fig04.SETTINGS["test"]["epochs"]
    assert probs.shape == (len(epochs), fig04.SETTINGS["test"]["n_images"], 10)
    for p, c, lc in zip(probs, counts, logc):
        np.testing.assert_array_equal(c, counts_by_rule(p))
        np.testing.assert_allclose(lc, np.log(c + 1.0))
    # the saved probabilities are the classifier's softmax on the checkpoint's images of the fixed latents
    from ganphase.simulate.metrics.classifier import to_side
    from ganphase.simulate.train import load_generator

    settings = fig04.SETTINGS["test"]
    folder, e = last_checkpoint(settings, outdir, epochs)
    model, _ = fig04.classifier("mnist", settings, outdir, device="cpu")
    G = load_generator(folder, e)
    z = torch.randn(settings["n_images"], 100, generator=torch.Generator().manual_seed(4040))
    with torch.no_grad():
        p = torch.softmax(model.eval()(to_side(G(z), 28)).double(), 1).numpy()
    np.testing.assert_allclose(probs[-1], p, atol=1e-6)


def test_fig12_curve_at_scale_zero_is_mean_d_at_the_centres(outdir):
    record, d = drawn(fig12, outdir, "mnist.npz", "fashion_mnist.npz")
    from ganphase.simulate.train import load_discriminator

    for name in ("mnist", "fashion_mnist"):
        m = record["measured"][name.replace("_", "-")]
        scales, mean_d, centres = d[f"{name}_scales"], d[f"{name}_mean_d"], d[f"{name}_centres"]
        assert scales[0] == 0 and np.all(np.diff(scales) > 0)
        assert len(centres) == fig12.SETTINGS["test"]["n_clusters"]
        D = load_discriminator(outdir / m["run (in outdir)"], m["checkpoint_epoch"])
        with torch.no_grad():
            at_centres = torch.sigmoid(D(torch.as_tensor(centres))).double().mean().item()
        assert mean_d[0] == pytest.approx(at_centres, rel=1e-6)
        assert m["mean_d_at_centres"] == pytest.approx(at_centres, rel=1e-6)


def test_fig12_scale_grid_reaches_the_printed_maximum():
    scales, s_p = fig12.scale_grid(0.33, 64 * 64, 9)
    assert s_p == pytest.approx(4 * 0.33 / 4096)
    assert scales[0] == 0 and scales[1] < s_p < scales[-1] == pytest.approx(4 * np.sqrt(0.33))


def test_fig14_annotated_heatmaps_share_figure_4s_run(outdir):
    _, a = drawn(fig14, outdir, "mnist.npz")
    with np.load(outdir / "fig04.data.npz") as b:
        common = [e for e in a["epochs"] if e in b["epochs"]]
        assert common
        for e in common:   # same run, same latents, same classifier: the same counts
            np.testing.assert_array_equal(a["counts"][list(a["epochs"]).index(e)],
                                          b["counts"][list(b["epochs"]).index(e)])


def test_fig16_particles_follow_fixed_latents(outdir):
    _, d = drawn(fig16, outdir)
    from ganphase.figures import runs
    from ganphase.simulate.monitors import log_d_grad_norms
    from ganphase.simulate.train import load_discriminator, load_generator

    epochs, z, samples, norms = d["epochs"], d["z"], d["samples"], d["grad_norms"]
    folder, e = last_checkpoint(fig16.SETTINGS["test"], outdir, epochs)
    G, D = load_generator(folder, e), load_discriminator(folder, e)
    with torch.no_grad():
        x = G(torch.as_tensor(z))
    np.testing.assert_allclose(samples[-1], x.numpy(), atol=1e-5)
    np.testing.assert_allclose(norms[-1], log_d_grad_norms(D, x).numpy(), rtol=1e-4)
    summ = runs.summary(folder)
    for k in ("stop", "collapse"):
        assert int(d[f"{k}_epoch"]) == (-1 if summ[f"{k}_epoch"] is None else summ[f"{k}_epoch"])


def test_fig16_draws_image_particles():
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(0)
    tracks = {"epochs": np.arange(4), "samples": rng.uniform(-1, 1, (4, 3, 3, 8, 8)),
              "grad_norms": rng.uniform(0.1, 2, (4, 3)), "steepness": rng.uniform(0.1, 2, (4, 3))}
    fig = fig16.draw(tracks, 3, summ={"stop_epoch": 2, "collapse_epoch": 3})
    assert len(fig.axes) == 3 * 3 + 2    # P x columns images and the two norm panels
    plt.close(fig)


def test_fig01_umap_is_seeded_and_keeps_neighbours_better_than_pca():
    from sklearn.datasets import load_digits
    from sklearn.manifold import trustworthiness

    x = load_digits().data[:500]
    name, m = fig01.embedding(x, seed=0)
    _, m2 = fig01.embedding(x, seed=0)
    assert name == "UMAP" and m.embedding_.shape == (500, 3)
    np.testing.assert_array_equal(m.embedding_, m2.embedding_)          # seeded: the same map twice
    _, pca = fig01.embedding(x, method="pca")
    # the reason the paper embeds with UMAP: nearest neighbours survive (sklearn's trustworthiness)
    assert trustworthiness(x, m.embedding_, n_neighbors=10) > trustworthiness(x, pca.transform(x), n_neighbors=10) + 0.02
    with pytest.raises(ValueError, match="embedding"):
        fig01.embedding(x, method="tsne")


@pytest.mark.slow
def test_fig01_draws_both_rows_with_umap(outdir):
    record, d = drawn(fig01, outdir)
    assert record["settings"]["embedding"] == "UMAP"
    assert d["images.real"].shape[1] == 3 and len(d["images.real"]) == len(d["images.labels"])
    assert all(d[f"images.{e}"].shape[1] == 3 for e in d["images.epochs"])
