"""Stacked MNIST: the data set is three independent MNIST digits as channels, and the mode count
(modes hit, KL from uniform over 1000 modes) agrees with counts made here from known digits."""
import numpy as np
import pytest
import torch
from scipy.stats import entropy

from conftest import need_data_file
from ganphase.simulate.data import load_dataset, stacked_modes
from ganphase.simulate.metrics.stacked import kl_from_uniform, mode_histogram, stacked_metrics


@pytest.fixture(scope="module")
def mnist():
    path = need_data_file("mnist.npz")
    with np.load(path, allow_pickle=False) as f:
        return {k: f[k] for k in f.files}, path.parent


def test_channels_are_the_indexed_mnist_digits(mnist):
    raw, folder = mnist
    ds = load_dataset("stacked-mnist", data_dir=folder, subset=300, seed=3)
    idx = ds.meta["mnist_index"]
    assert ds.x.shape == (300, 3, 28, 28) and ds.n_classes == 1000 and idx.shape == (300, 3)
    for c in range(3):   # channel c is the MNIST training image idx[:, c], scaled to [-1, 1]
        expect = raw["x_train"][idx[:, c]].astype(np.float64) / 127.5 - 1.0
        np.testing.assert_allclose(ds.x[:, c].numpy(), expect, atol=1e-6)
    y = raw["y_train"].astype(int)
    assert np.array_equal(ds.y.numpy(), 100 * y[idx[:, 0]] + 10 * y[idx[:, 1]] + y[idx[:, 2]])


def test_seeded_prefix_and_independent_draws(mnist):
    _, folder = mnist
    a = load_dataset("stacked-mnist", data_dir=folder, subset=2000, seed=5)
    b = load_dataset("stacked-mnist", data_dir=folder, subset=500, seed=5)
    c = load_dataset("stacked-mnist", data_dir=folder, subset=500, seed=6)
    t = load_dataset("stacked-mnist", data_dir=folder, subset=500, seed=5, split="test")
    assert torch.equal(a.x[:500], b.x) and not torch.equal(b.x, c.x) and not torch.equal(b.x, t.x)
    # 2000 uniform draws over 1000 modes: about 1000 (1 - e^-2) = 865 distinct modes (sd ~ 10)
    assert 800 < len(np.unique(a.y.numpy())) < 930


def test_mode_formula_and_histogram_of_known_digits():
    digits = np.array([[1, 2, 3], [1, 2, 3], [9, 0, 0], [0, 0, 7]])
    assert stacked_modes(digits).tolist() == [123, 123, 900, 7]
    hist = mode_histogram(digits)
    assert hist.sum() == 4 and hist[123] == 2 and hist[900] == 1 and hist[7] == 1
    with pytest.raises(ValueError):
        stacked_modes(np.array([[1, 2, 10]]))


def test_modes_and_kl_against_independent_counts():
    all_modes = np.array([[a, b, c] for a in range(10) for b in range(10) for c in range(10)])
    m = stacked_metrics(all_modes)                      # every mode once: uniform
    assert m["modes_covered"] == 1000 and m["kl"] == pytest.approx(0.0, abs=1e-12)
    m = stacked_metrics(np.repeat([[4, 4, 4]], 26, 0))   # one mode: KL = log 1000
    assert m["modes_covered"] == 1 and m["kl"] == pytest.approx(np.log(1000))
    m = stacked_metrics(np.repeat(all_modes[::2], 3, 0))  # 500 modes, equal counts: KL = log 2
    assert m["modes_covered"] == 500 and m["kl"] == pytest.approx(np.log(2))
    rng = np.random.default_rng(0)
    d = rng.integers(0, 3, size=(5000, 3)) * np.array([3, 1, 2])   # 27 modes, uneven
    hist = np.zeros(1000)
    for row in d:   # counted here by a loop, not by the module's bincount
        hist[row[0] * 100 + row[1] * 10 + row[2]] += 1
    m = stacked_metrics(d)
    assert m["modes_covered"] == int((hist > 0).sum()) == 27
    assert m["kl"] == pytest.approx(entropy(hist, np.full(1000, 1e-3)), rel=1e-12)
    with pytest.raises(ValueError):
        kl_from_uniform(np.zeros(1000))


@pytest.fixture(scope="module")
def evaluator(mnist, tmp_path_factory):
    from ganphase.simulate.metrics import Evaluator

    _, folder = mnist
    train = load_dataset("stacked-mnist", data_dir=folder, subset=2000, seed=0)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        ev = Evaluator("stacked-mnist", train.x, train.y, device="cpu", cache_dir=tmp_path_factory.mktemp("clf"),
                       data_dir=folder, n_samples=600, progress=False,
                       classifier_options={"epochs": 1, "train_subset": 3000})
    finally:
        torch.set_num_threads(threads)
    return ev


def test_evaluator_counts_modes_of_images_built_from_known_digits(mnist, evaluator):
    raw, _ = mnist
    x = torch.as_tensor(raw["x_test"][:3000], dtype=torch.float32).unsqueeze(1) / 127.5 - 1
    y = raw["y_test"][:3000].astype(int)
    _, probs = evaluator.features_and_probs(torch.cat([x, x, x], 1))
    assert probs.shape == (3000, 3, 10)
    right = np.flatnonzero(probs[:, 0].argmax(1) == y)   # images the single-digit classifier reads right
    assert len(right) > 2400
    by_digit = {d: right[y[right] == d] for d in range(10)}
    rng = np.random.default_rng(1)
    # 300 images in 60 chosen modes (5 each): channel c holds an image of digit triple[c]
    triples = rng.choice(1000, 60, replace=False)
    pick = [[rng.choice(by_digit[int(t) // 10 ** (2 - c) % 10]) for c in range(3)] for t in triples for _ in range(5)]
    pick = np.array(pick)
    samples = torch.stack([x[pick[:, c], 0] for c in range(3)], 1)
    out = evaluator(samples)
    expect = np.bincount(np.repeat(triples, 5), minlength=1000)
    assert np.array_equal(out["arrays"]["mode_hist"], expect)
    assert out["modes_covered"] == 60 and out["n_modes"] == 1000
    assert out["kl"] == pytest.approx(np.log(1000 / 60))
    assert np.isfinite(out["fd"]) and 0 <= out["class_tv"] <= 1


def test_evaluator_rejects_one_channel_images(evaluator):
    with pytest.raises(ValueError, match="channels|images"):
        evaluator(torch.zeros(10, 1, 28, 28))


def test_stacked_run_records_modes_and_kl(mnist, tmp_path, monkeypatch):
    from ganphase.simulate.metrics import classifier
    from ganphase.simulate.train import TrainConfig, train

    _, folder = mnist
    # a small recipe keeps the test quick; the cache key changes with it, so no default classifier is faked
    monkeypatch.setitem(classifier.RECIPES, "mnist", {**classifier.RECIPES["mnist"], "epochs": 1, "train_subset": 2000})
    monkeypatch.setenv("GANPHASE_CACHE", str(tmp_path / "cache"))
    s = train(TrainConfig(data="stacked-mnist", data_dir=str(folder), subset=256, resize=None, width=8, batch_size=32,
                          epochs=2, max_iterations_per_epoch=2, eval_every=1, eval_samples=200, eval_keep=50,
                          eval_steepness_samples=4, out=str(tmp_path / "run"), device="cpu", progress=False))
    from ganphase.simulate.run_folder import RunFolder

    rows = RunFolder(tmp_path / "run").metrics()
    evals = [r["eval"] for r in rows]
    assert all({"modes_covered", "n_modes", "kl", "fd"} <= set(e) for e in evals)
    assert all(1 <= e["modes_covered"] <= 200 and 0 <= e["kl"] <= np.log(1000) + 1e-9 for e in evals)
    assert s["thresholds"]["m"] <= 1000 and s["best_checkpoint"] is not None
    assert not isinstance(s["collapse_epoch"], str)     # computed, not an error message
    saved = RunFolder(tmp_path / "run").read_eval(2)
    hist = saved["mode_hist"]
    assert saved["samples"].shape == (50, 3, 28, 28) and saved["z"].shape == (50, 100)   # eval_keep of 200
    assert hist.sum() == 200 and (hist > 0).sum() == evals[1]["modes_covered"]
