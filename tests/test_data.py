"""Data loading: the paper's mixtures, digits, and the three readers of the image sets."""
import gzip
import os
import pickle
import struct
import time

import numpy as np
import pytest
import torch

from conftest import need_data_file
from ganphase.simulate.data import load_dataset, mixture_spec, read_cifar_batch, read_idx


def test_gmm_3d_matches_appendix_f():
    ds = load_dataset("gmm-3d", seed=3)
    assert ds.x.shape == (20000, 3) and ds.n_classes == 8 and ds.x.dtype == torch.float32
    centres = np.array([[a, b, c] for a in (-1, 1) for b in (-1, 1) for c in (-1, 1)])
    x, y = ds.x.double().numpy(), ds.y.numpy()
    for k in range(8):
        xk = x[y == k]
        assert np.allclose(xk.mean(0), centres[k], atol=0.02)
        assert np.allclose(xk.var(0), 0.0125, rtol=0.15)
    d = np.sqrt(((centres[:, None] - centres[None]) ** 2).sum(-1))
    assert d[d > 0].min() == 2.0


def test_mixture_seed_and_split():
    a, b = load_dataset("gmm-2d", seed=1), load_dataset("gmm-2d", seed=1)
    assert torch.equal(a.x, b.x)
    assert not torch.equal(a.x[:100], load_dataset("gmm-2d", seed=2).x[:100])
    assert len(load_dataset("gmm-2d", split="test")) == 5000


def test_grid_and_ring_specs():
    means, sigma = mixture_spec("grid:5x5:0.05")
    assert means.shape == (25, 2) and sigma == 0.05 and np.isclose(means.max(), 4.0)
    means, sigma = mixture_spec("ring:8:2.0:0.02")
    assert means.shape == (8, 2) and np.allclose(np.linalg.norm(means, axis=1), 2.0)
    for bad in ("grid:5:0.05", "ring:0:1:0.1", "grid:2x2:-1", "banana"):
        with pytest.raises(ValueError):
            load_dataset(bad)


def test_digits_range_and_shape():
    ds = load_dataset("digits")
    assert ds.x.shape == (1437, 1, 8, 8) and ds.x.min() >= -1 and ds.x.max() <= 1
    assert set(ds.y.unique().tolist()) == set(range(10))
    assert load_dataset("digits", resize=28).x.shape == (1437, 1, 28, 28)


def _write_idx(path, arr):
    codes = {np.uint8: 0x08, np.int32: 0x0C}
    header = bytes([0, 0, codes[arr.dtype.type], arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + arr.astype(arr.dtype.newbyteorder(">")).tobytes())


@pytest.mark.parametrize("layout", ["flat", "torchvision"])
def test_idx_reader(tmp_path, layout, monkeypatch):
    monkeypatch.delenv("GANPHASE_DATA", raising=False)
    rng = np.random.default_rng(0)
    imgs = rng.integers(0, 256, (7, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, 7).astype(np.uint8)
    d = tmp_path if layout == "flat" else tmp_path / "MNIST" / "raw"
    d.mkdir(parents=True, exist_ok=True)
    _write_idx(d / "train-images-idx3-ubyte.gz", imgs)
    _write_idx(d / "train-labels-idx1-ubyte.gz", labels)
    assert np.array_equal(read_idx(d / "train-images-idx3-ubyte.gz"), imgs)
    ds = load_dataset("mnist", data_dir=tmp_path)
    assert ds.x.shape == (7, 1, 28, 28)
    assert np.allclose(ds.x.numpy()[:, 0], imgs / 255.0 * 2 - 1, atol=1e-6)
    assert np.array_equal(ds.y.numpy(), labels)


def test_idx_truncated_is_refused(tmp_path):
    p = tmp_path / "bad.gz"
    with gzip.open(p, "wb") as f:
        f.write(bytes([0, 0, 8, 1]) + struct.pack(">I", 10) + b"\x00" * 3)
    with pytest.raises(ValueError, match="promises"):
        read_idx(p)


def _cifar_dir(tmp_path, rng):
    d = tmp_path / "cifar-10-batches-py"
    d.mkdir()
    truth = {}
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        data = rng.integers(0, 256, (3, 3072), dtype=np.uint8)
        labels = rng.integers(0, 10, 3).tolist()
        with open(d / name, "wb") as f:
            pickle.dump({b"batch_label": b"x", b"data": data, b"labels": labels}, f, protocol=4)
        truth[name] = (data, labels)
    return truth


def test_cifar_python_batches(tmp_path, monkeypatch):
    monkeypatch.delenv("GANPHASE_DATA", raising=False)
    truth = _cifar_dir(tmp_path, np.random.default_rng(1))
    ds = load_dataset("cifar10", data_dir=tmp_path, split="test")
    data, labels = truth["test_batch"]
    expect = data.reshape(-1, 3, 32, 32) / 255.0 * 2 - 1          # (N, C, H, W): R, G, B planes
    assert np.allclose(ds.x.numpy(), expect, atol=1e-6) and ds.y.tolist() == labels
    assert len(load_dataset("cifar10", data_dir=tmp_path)) == 15


class _Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned > /dev/null",))


def test_malicious_pickle_is_refused(tmp_path):
    p = tmp_path / "data_batch_1"
    p.write_bytes(pickle.dumps({b"data": _Evil(), b"labels": [0]}))
    with pytest.raises(ValueError, match="refusing to unpickle"):
        read_cifar_batch(p)
    q = tmp_path / "obj"
    q.write_bytes(pickle.dumps({b"data": np.array([1, "a"], dtype=object), b"labels": [0]}))
    with pytest.raises(ValueError, match="object array"):
        read_cifar_batch(q)


def test_missing_dataset_says_where_it_looked(tmp_path, monkeypatch):
    monkeypatch.setenv("GANPHASE_DATA", str(tmp_path / "env"))
    with pytest.raises(ValueError, match="looked in.*env.*--data-dir"):
        load_dataset("cifar10", data_dir=tmp_path)


def test_bad_arguments():
    for kw in ({"split": "valid"}, {"subset": 0}, {"resize": 2}):
        with pytest.raises(ValueError):
            load_dataset("digits", **kw)
    with pytest.raises(ValueError, match="images only"):
        load_dataset("gmm-3d", resize=64)


def test_mnist_npz_loads_fast_and_scaled():
    path = need_data_file("mnist.npz")
    t = time.perf_counter()
    ds = load_dataset("mnist", data_dir=path.parent)
    elapsed = time.perf_counter() - t
    assert ds.x.shape == (60000, 1, 28, 28) and ds.x.min() == -1 and ds.x.max() == 1
    with np.load(path, allow_pickle=False) as f:
        assert np.array_equal(ds.y.numpy(), f["y_train"])
    print(f"full MNIST npz load: {elapsed:.3f} s")
