"""Training data for NSGAN: the paper's Gaussian mixtures and the real image sets.

``load_dataset(name, ...)`` returns a :class:`Dataset` whose ``x`` is a float32
tensor scaled to [-1, 1] (Appendix E: "normalizing the tensor values to the
range of [-1, 1]"), shaped (N, C, H, W) for images and (N, n) for mixtures.

Names
-----
* ``gmm-3d``: Appendix F.2, 8 modes at (+-1, +-1, +-1), nearest-mode distance 2,
  sigma^2 = 0.0125.  ``gmm-2d``: Appendix G.1, 4 modes at (+-1, +-1), same sigma^2.
* ``grid:RxC:SIGMA[:SPACING]``: an R x C grid of modes, spacing 2 by default, centred
  at 0, standard deviation SIGMA.  ``ring:K:RADIUS:SIGMA``: K modes on a circle.
  Mixture values are not rescaled (the paper's mixtures already live near [-1, 1]).
* ``digits``: scikit-learn's bundled 8x8 digits (values 0..16).
* ``mnist``, ``fashion-mnist``, ``cifar10``: read, never downloaded, from

  1. ``DIR/mnist.npz`` / ``fashion_mnist.npz`` / ``cifar10.npz`` (uint8 arrays
     x_train, y_train, x_test, y_test; loaded with ``allow_pickle=False``),
  2. the official files in DIR: IDX ``.gz`` (``train-images-idx3-ubyte.gz`` ...),
     CIFAR-10's python batches (``data_batch_1..5``, ``test_batch``, read with a
     restricted unpickler) or its binary version (``data_batch_1.bin`` ...),
  3. torchvision's layout: ``DIR/MNIST/raw``, ``DIR/FashionMNIST/raw``,
     ``DIR/cifar-10-batches-py``, ``DIR/cifar-10-batches-bin``,

  where DIR is ``data_dir``, then ``$GANPHASE_DATA``; Fashion-MNIST also looks in
  ``/usr/share/datasets/fashion-mnist`` (Debian's ``dataset-fashion-mnist``).
* ``stacked-mnist``: the mode-collapse benchmark of the unrolled GAN, VEEGAN and PacGAN
  papers: three MNIST digits, drawn independently and uniformly from the ``mnist``
  split, stacked as the three channels of one 28 x 28 image, so 10^3 = 1000 modes; the
  label is the mode 100 d_0 + 10 d_1 + d_2 of the channel digits (d_0, d_1, d_2).
  Built on the fly from ``mnist`` with the seed (``STACKED_SIZES`` triples per split).
"""
from __future__ import annotations

import gzip
import os
import pickle
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

MIXTURE_SIGMA2 = 0.0125          # Appendix F.2 and G.1
MIXTURE_SIZES = {"train": 20000, "test": 5000}
IMAGE_SETS = ("mnist", "fashion-mnist", "cifar10")
STACKED = "stacked-mnist"
STACKED_SIZES = {"train": 60000, "test": 10000}
NAMES = ("gmm-3d", "gmm-2d", "digits") + IMAGE_SETS + (STACKED,)
NPZ_NAMES = {"mnist": "mnist.npz", "fashion-mnist": "fashion_mnist.npz", "cifar10": "cifar10.npz"}
TORCHVISION_DIRS = {"mnist": ("MNIST/raw", "MNIST"), "fashion-mnist": ("FashionMNIST/raw", "FashionMNIST"),
                    "cifar10": ("cifar-10-batches-py", "cifar-10-batches-bin")}
SYSTEM_DIRS = {"fashion-mnist": (Path("/usr/share/datasets/fashion-mnist"),)}
IDX_FILES = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
             "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}


@dataclass
class Dataset:
    """A data set in [-1, 1]: ``x`` (N, C, H, W) or (N, n) float32, ``y`` int64 labels or None."""

    name: str
    x: torch.Tensor
    y: torch.Tensor | None
    n_classes: int | None
    means: np.ndarray | None = None           # mixture centres (K, n), when known exactly
    sigma: float | None = None                # mixture standard deviation, when known exactly
    meta: dict = field(default_factory=dict)

    @property
    def sample_shape(self) -> tuple[int, ...]:
        return tuple(self.x.shape[1:])

    @property
    def is_image(self) -> bool:
        return self.x.dim() == 4

    @property
    def dim(self) -> int:
        return int(np.prod(self.sample_shape))

    def __len__(self) -> int:
        return int(self.x.shape[0])


# ----------------------------------------------------------------------------- mixtures
def mixture_spec(name: str) -> tuple[np.ndarray, float]:
    """Centres (K, n) and standard deviation of a named or specified mixture."""
    s = float(np.sqrt(MIXTURE_SIGMA2))
    if name == "gmm-3d":
        return np.array([[a, b, c] for a in (-1, 1) for b in (-1, 1) for c in (-1, 1)], float), s
    if name == "gmm-2d":
        return np.array([[a, b] for a in (-1, 1) for b in (-1, 1)], float), s
    parts = name.split(":")
    try:
        if parts[0] == "grid" and len(parts) in (3, 4):
            rows, cols = (int(v) for v in parts[1].lower().split("x"))
            sigma, spacing = float(parts[2]), float(parts[3]) if len(parts) == 4 else 2.0
            if rows < 1 or cols < 1 or sigma <= 0 or spacing <= 0:
                raise ValueError
            gx = (np.arange(rows) - (rows - 1) / 2) * spacing
            gy = (np.arange(cols) - (cols - 1) / 2) * spacing
            return np.array([[a, b] for a in gx for b in gy], float), sigma
        if parts[0] == "ring" and len(parts) == 4:
            k, radius, sigma = int(parts[1]), float(parts[2]), float(parts[3])
            if k < 1 or radius <= 0 or sigma <= 0:
                raise ValueError
            t = 2 * np.pi * np.arange(k) / k
            return radius * np.stack([np.cos(t), np.sin(t)], 1), sigma
    except ValueError:
        pass
    raise ValueError(f"unknown data set {name!r}: use one of {', '.join(NAMES)}, "
                     "'grid:RxC:SIGMA[:SPACING]' (e.g. grid:5x5:0.05) or 'ring:K:RADIUS:SIGMA' (e.g. ring:8:2.0:0.02)")


def is_mixture(name: str) -> bool:
    return name in ("gmm-3d", "gmm-2d") or name.startswith(("grid:", "ring:"))


def sample_mixture(means: np.ndarray, sigma: float, m: int, rng: np.random.Generator):
    """m draws from the equal-weight mixture (1/K) sum_k N(means_k, sigma^2 I); returns (x, component)."""
    labels = rng.integers(0, len(means), size=m)
    x = means[labels] + sigma * rng.standard_normal((m, means.shape[1]))
    return x, labels


def _mixture(name: str, split: str, seed: int) -> Dataset:
    means, sigma = mixture_spec(name)
    rng = np.random.default_rng([seed, 0 if split == "train" else 1])
    x, y = sample_mixture(means, sigma, MIXTURE_SIZES[split], rng)
    return Dataset(name, torch.as_tensor(x, dtype=torch.float32), torch.as_tensor(y, dtype=torch.int64),
                   len(means), means=means, sigma=sigma, meta={"seed": seed})


# ----------------------------------------------------------------------------- readers
def read_idx(path) -> np.ndarray:
    """An IDX file (``.gz`` or plain) as a numpy array, from its header: magic 0x0000, type, ndim, dims."""
    path = Path(path)
    raw = gzip.open(path, "rb").read() if path.suffix == ".gz" else path.read_bytes()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise ValueError(f"{path} is not an IDX file (its first two bytes are not zero)")
    types = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
    if raw[2] not in types:
        raise ValueError(f"{path}: unknown IDX element type 0x{raw[2]:02x}")
    ndim = raw[3]
    dims = np.frombuffer(raw, ">u4", count=ndim, offset=4).astype(int)
    dtype = np.dtype(types[raw[2]])
    expected = 4 + 4 * ndim + int(np.prod(dims)) * dtype.itemsize
    if len(raw) != expected:
        raise ValueError(f"{path}: IDX header promises {expected} bytes, the file holds {len(raw)}")
    return np.frombuffer(raw, dtype, offset=4 + 4 * ndim).reshape(dims).astype(dtype.newbyteorder("="))


def _reconstruct():
    try:
        from numpy._core.multiarray import _reconstruct as f
    except ImportError:  # numpy < 2
        from numpy.core.multiarray import _reconstruct as f
    return f


def _plain_dtype(*args, **kwargs):
    dt = np.dtype(*args, **kwargs)
    if dt.hasobject:
        raise ValueError("refusing to unpickle an object array: a CIFAR-10 batch holds plain uint8 arrays only")
    return dt


class RestrictedUnpickler(pickle.Unpickler):
    """Unpickles plain containers, numbers, strings and bytes, plus plain (non-object) numpy arrays.

    The official CIFAR-10 python batches store ``data`` as a pickled numpy array, which needs
    exactly numpy's ``_reconstruct``, ``ndarray`` and ``dtype`` (object dtypes refused) and, in
    Python 3 protocol-2 pickles, ``_codecs.encode`` for bytes.  Every other global is refused.
    """

    ALLOWED = {("numpy.core.multiarray", "_reconstruct"): lambda: _reconstruct(),
               ("numpy._core.multiarray", "_reconstruct"): lambda: _reconstruct(),
               ("numpy", "ndarray"): lambda: np.ndarray,
               ("numpy", "dtype"): lambda: _plain_dtype,
               ("_codecs", "encode"): lambda: __import__("codecs").encode}

    def find_class(self, module, name):
        if (module, name) in self.ALLOWED:
            return self.ALLOWED[(module, name)]()
        raise ValueError(f"refusing to unpickle {module}.{name}: a CIFAR-10 batch holds only dicts, lists, "
                         "numbers, strings, bytes and plain numpy arrays, so this file is not a genuine batch")


def read_cifar_batch(path) -> tuple[np.ndarray, np.ndarray]:
    """One CIFAR-10 python batch: (images (N, 32, 32, 3) uint8, labels (N,) int64)."""
    with open(path, "rb") as f:
        try:
            d = RestrictedUnpickler(f, encoding="bytes").load()
        except (pickle.UnpicklingError, EOFError) as exc:
            raise ValueError(f"{path} is not a readable CIFAR-10 batch: {exc}") from None
    if not isinstance(d, dict):
        raise ValueError(f"{path} is not a CIFAR-10 batch (it holds a {type(d).__name__}, not a dict)")
    d = {k.decode() if isinstance(k, bytes) else k: v for k, v in d.items()}
    if "data" not in d or "labels" not in d:
        raise ValueError(f"{path} is not a CIFAR-10 batch (no 'data' and 'labels' entries)")
    data = d["data"]
    data = np.frombuffer(data, np.uint8) if isinstance(data, (bytes, bytearray)) else np.asarray(data, np.uint8)
    return data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1).copy(), np.asarray(d["labels"], np.int64)


def read_cifar_bin(path) -> tuple[np.ndarray, np.ndarray]:
    """One CIFAR-10 binary batch: records of 1 label byte then 3072 pixel bytes (R, G, B planes)."""
    raw = np.fromfile(path, np.uint8)
    if raw.size % 3073:
        raise ValueError(f"{path} is not a CIFAR-10 binary batch (its size is not a multiple of 3073 bytes)")
    rec = raw.reshape(-1, 3073)
    return rec[:, 1:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1).copy(), rec[:, 0].astype(np.int64)


def _search_dirs(name: str, data_dir) -> list[Path]:
    roots = [Path(data_dir)] if data_dir else []
    if os.environ.get("GANPHASE_DATA"):
        roots.append(Path(os.environ["GANPHASE_DATA"]))
    dirs = []
    for root in roots:
        dirs.append(root)
        dirs.extend(root / sub for sub in TORCHVISION_DIRS[name])
    dirs.extend(SYSTEM_DIRS.get(name, ()))
    return dirs


def _try_dir(name: str, d: Path, split: str):
    """(uint8 images NHW or NHWC, labels) from folder d, or None when d holds no copy."""
    npz = d / NPZ_NAMES[name]
    if npz.is_file():
        with np.load(npz, allow_pickle=False) as f:
            return f[f"x_{split}"], f[f"y_{split}"].astype(np.int64)
    if name in ("mnist", "fashion-mnist"):
        stem_x, stem_y = IDX_FILES[split]
        for suffix in (".gz", ""):
            px, py = d / (stem_x + suffix), d / (stem_y + suffix)
            if px.is_file() and py.is_file():
                return read_idx(px), read_idx(py).astype(np.int64)
        return None
    files = ["test_batch"] if split == "test" else [f"data_batch_{i}" for i in range(1, 6)]
    for suffix, reader in (("", read_cifar_batch), (".bin", read_cifar_bin)):
        paths = [d / (f + suffix) for f in files]
        if all(p.is_file() for p in paths):
            parts = [reader(p) for p in paths]
            return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
    return None


def _image_set(name: str, data_dir, split: str):
    dirs = _search_dirs(name, data_dir)
    for d in dirs:
        if d.is_dir():
            found = _try_dir(name, d, split)
            if found is not None:
                return found, d
    looked = ", ".join(str(d) for d in dirs) or "nowhere"
    raise ValueError(f"data set {name!r} not found (looked in: {looked}); nothing is downloaded: put "
                     f"{NPZ_NAMES[name]} or the official files in a folder and pass --data-dir DIR "
                     "or set GANPHASE_DATA=DIR")


def _to_unit_range(x: np.ndarray, top: float) -> torch.Tensor:
    t = torch.from_numpy(np.ascontiguousarray(x)).to(torch.float32)
    return t.mul_(2.0 / top).sub_(1.0)


def stacked_modes(digits) -> np.ndarray:
    """The Stacked MNIST mode of channel digits (..., 3): 100 d_0 + 10 d_1 + d_2, in 0..999."""
    d = np.asarray(digits, np.int64)
    if d.shape[-1:] != (3,) or d.size and (d.min() < 0 or d.max() > 9):
        raise ValueError(f"channel digits must be an (..., 3) array of digits 0..9, got shape {d.shape}")
    return d @ np.array([100, 10, 1])


def _stacked_mnist(data_dir, split: str, seed: int, size: int) -> Dataset:
    """``size`` triples of independent uniform draws from MNIST's ``split``, stacked as channels."""
    (xs, ys), where = _image_set("mnist", data_dir, split)
    rng = np.random.default_rng([seed, 2 if split == "train" else 3])
    idx = rng.integers(0, len(xs), size=(STACKED_SIZES[split], 3))[:size]
    x = _to_unit_range(xs[idx], 255.0)                     # (size, 3, 28, 28): channel c holds xs[idx[:, c]]
    y = torch.as_tensor(stacked_modes(ys[idx]), dtype=torch.int64)
    return Dataset(STACKED, x, y, 1000, meta={"source": str(where), "seed": seed, "mnist_index": idx})


# ----------------------------------------------------------------------------- entry point
def load_dataset(name: str, data_dir=None, split: str = "train", subset: int | None = None,
                 resize: int | None = None, seed: int = 0) -> Dataset:
    """Load ``name`` scaled to [-1, 1]; ``subset`` keeps the first N samples, ``resize`` makes images S x S.

    Resizing is bilinear (torch.nn.functional.interpolate), as the paper's 64 x 64 preprocessing (Appendix E).
    """
    if not isinstance(name, str):
        raise ValueError(f"data set name must be a string, got {name!r}")
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    if subset is not None and (not isinstance(subset, (int, np.integer)) or subset < 1):
        raise ValueError(f"subset must be a positive integer or None, got {subset!r}")
    if resize is not None and (not isinstance(resize, (int, np.integer)) or resize < 4):
        raise ValueError(f"resize must be an image side of at least 4 pixels or None, got {resize!r}")
    if is_mixture(name):
        if resize is not None:
            raise ValueError(f"resize applies to images only, not to the mixture {name!r}")
        ds = _mixture(name, split, seed)
    elif name == "digits":
        from sklearn.datasets import load_digits

        d = load_digits()
        n = len(d.target)
        idx = np.random.default_rng(12345).permutation(n)   # fixed split: 80 % train, 20 % test
        idx = idx[: int(0.8 * n)] if split == "train" else idx[int(0.8 * n):]
        x = _to_unit_range(d.images[idx].astype(np.float32), 16.0).unsqueeze(1)
        ds = Dataset(name, x, torch.as_tensor(d.target[idx], dtype=torch.int64), 10)
    elif name in IMAGE_SETS:
        (xs, ys), where = _image_set(name, data_dir, split)
        if subset is not None:
            xs, ys = xs[:subset], ys[:subset]
        x = _to_unit_range(xs, 255.0)
        x = x.unsqueeze(1) if x.dim() == 3 else x.permute(0, 3, 1, 2).contiguous()
        ds = Dataset(name, x, torch.as_tensor(ys, dtype=torch.int64), 10, meta={"source": str(where)})
    elif name == STACKED:
        ds = _stacked_mnist(data_dir, split, seed, subset or STACKED_SIZES[split])
    else:
        mixture_spec(name)  # raises the error listing the allowed names
        raise AssertionError
    if subset is not None:
        ds.x, ds.y = ds.x[:subset], None if ds.y is None else ds.y[:subset]
    if resize is not None and ds.is_image and ds.x.shape[-1] != resize:
        ds.x = torch.nn.functional.interpolate(ds.x, size=(resize, resize), mode="bilinear",
                                               align_corners=False).clamp_(-1, 1)
    ds.meta.update(split=split, subset=subset, resize=resize)
    return ds
