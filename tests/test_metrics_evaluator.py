"""Classifier cache and Evaluator on the 8x8 digits (small, quick) and on the 3-D mixture."""
import json

import numpy as np
import pytest
import torch

from ganphase.simulate.data import load_dataset, mixture_spec
from ganphase.simulate.metrics import Evaluator
from ganphase.simulate.metrics.classifier import get_classifier, recipe

OPTIONS = {"epochs": 12}


@pytest.fixture(scope="module")
def digits(tmp_path_factory):
    cache = tmp_path_factory.mktemp("clf")
    train, test = load_dataset("digits"), load_dataset("digits", split="test")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)          # tiny convolutions: one thread is faster than contending for two
    try:
        ev = Evaluator("digits", train.x, train.y, device="cpu", cache_dir=cache, n_samples=1000,
                       classifier_options=OPTIONS, progress=False)
    finally:
        torch.set_num_threads(threads)
    return ev, train, test, cache


def test_classifier_is_cached_with_its_accuracy(digits):
    ev, _, _, cache = digits
    files = sorted(p.name for p in cache.iterdir())
    key = recipe("digits", **OPTIONS).key()
    assert files == [f"digits-{key}.json", f"digits-{key}.pt"]
    info = json.loads((cache / f"digits-{key}.json").read_text())
    assert info["test_accuracy"] > 0.9 and info["n_test"] == 360 and info["train_seconds"] > 0
    model, again = get_classifier("digits", cache_dir=cache, device="cpu", progress=False, **OPTIONS)
    assert again["test_accuracy"] == info["test_accuracy"]
    for a, b in zip(model.state_dict().values(), ev.classifier.state_dict().values()):
        assert torch.equal(a, b)


def test_real_test_images_score_well(digits):
    ev, _, test, _ = digits
    out = ev(test.x[:256])
    assert set(out) >= {"fd", "precision", "recall", "density", "coverage", "support_precision",
                        "support_recall", "class_tv", "classes_covered", "mixed_share", "eval_seconds"}
    assert out["classes_covered"] == 10 and out["class_tv"] < 0.15
    assert out["precision"] > 0.7 and out["recall"] > 0.7 and out["coverage"] > 0.8
    counts = out["arrays"]["pair_counts"]
    assert counts.shape == (10, 10) and np.array_equal(counts, counts.T)
    json.dumps({k: v for k, v in out.items() if k != "arrays"})     # JSON-able scalars
    # the real-vs-real distance is far below that of a collapsed batch
    collapsed = ev(test.x[:1].repeat(256, 1, 1, 1))
    assert np.isfinite(collapsed["fd"]) and collapsed["fd"] > 10 * out["fd"]
    assert collapsed["classes_covered"] == 1 and collapsed["recall"] == 0.0
    assert collapsed["arrays"]["pair_counts"].sum() == 256 or collapsed["mixed_share"] > 0


def test_upsampled_inputs_are_resized_to_the_classifier(digits):
    ev, _, test, _ = digits
    big = torch.nn.functional.interpolate(test.x[:64], size=(32, 32), mode="nearest")
    out = ev(big)
    assert out["classes_covered"] >= 8


def test_mixture_evaluator_one_mode():
    means, sigma = mixture_spec("gmm-3d")
    real = load_dataset("gmm-3d", subset=1000)
    ev = Evaluator("gmm-3d", real.x, real.y, device="cpu")
    g = torch.Generator().manual_seed(0)
    x = torch.as_tensor(means[5], dtype=torch.float32) + sigma * torch.randn(256, 3, generator=g)
    out = ev(x)
    assert out["modes_covered"] == 1 and out["n_modes"] == 8
    assert out["arrays"]["mode_counts"][5] == out["arrays"]["mode_counts"].sum()
    assert ev(real.x[:256])["modes_covered"] == 8


def test_bad_input_raises(digits):
    ev = digits[0]
    with pytest.raises(ValueError):
        ev(torch.full((4, 1, 8, 8), float("nan")))
    with pytest.raises(ValueError):
        ev(torch.zeros(4, 3, 8, 8))
    with pytest.raises(ValueError):
        Evaluator("imagenet", torch.zeros(4, 3, 8, 8))


def test_direct_npz_reader_agrees_with_load_dataset():
    from conftest import need_data_file

    from ganphase.simulate.metrics.classifier import _load, _load_npz

    path = need_data_file("mnist.npz")
    x, y = _load("mnist", "train", path.parent, 1000)
    xn, yn = _load_npz("mnist", "train", path.parent, 1000)
    assert torch.allclose(x, xn, atol=1e-6) and torch.equal(y, yn)


@pytest.mark.slow
def test_mnist_classifier_on_a_small_subset(tmp_path):
    from conftest import need_data_file

    path = need_data_file("mnist.npz")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        model, info = get_classifier("mnist", cache_dir=tmp_path, data_dir=path.parent, device="cpu",
                                     progress=False, epochs=2, train_subset=1000, batch_size=64,
                                     test_subset=2000)
    finally:
        torch.set_num_threads(threads)
    assert info["n_train"] == 1000 and info["n_test"] == 2000
    assert info["test_accuracy"] > 0.8                        # 1000 images, 2 epochs: far above chance (0.1)


def test_precision_recall_family_uses_equal_set_sizes(digits):
    """A batch larger than the reference: the k-NN metrics see its first n_samples images, the FD all of them."""
    ev, train, test, _ = digits
    n_ref = len(ev.ref_features)
    x = torch.cat([test.x, train.x])[: n_ref + 300]
    whole, head = ev(x), ev(x[:n_ref])
    for key in ("precision", "recall", "density", "coverage", "support_precision", "support_recall"):
        assert whole[key] == head[key], key
    assert whole["fd"] != head["fd"] and whole["n_generated"] == n_ref + 300
