"""A small classifier per image data set: the network q(x) of Section 6.1 / Appendix F.1.

The paper classifies generated images with "a classification network q(x)" that
outputs (p_0, ..., p_9) (Appendix F.1).  The toolkit trains its own small CNN on
the real training split with a fixed seed and caches it; its softmax gives the
p_i of the fitting measurements (:mod:`.fitting`) and its penultimate layer the
features of the Frechet distance (:mod:`.frechet`) and of precision / recall /
density / coverage (:mod:`.prdc`).

Cache (a folder): ``NAME-KEY.pt`` (state dict, loaded with
``torch.load(weights_only=True)``) and ``NAME-KEY.json`` (configuration, test
accuracy, training time).  KEY hashes the configuration, so a changed recipe
never loads stale weights.  Lookup order: ``cache_dir``, then
:func:`default_cache_dir` (``$GANPHASE_CACHE/classifiers`` or
``~/.cache/ganphase/classifiers``); a missing classifier is trained into
``cache_dir``.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ganphase.io import atomic_write_bytes, write_json
from ganphase.simulate.device import resolve_device

IMAGE_NAMES = ("digits", "mnist", "fashion-mnist", "cifar10")


@dataclass(frozen=True)
class ClassifierConfig:
    """The recipe of one classifier: architecture and training (all plain values)."""

    in_channels: int
    side: int
    n_classes: int = 10
    widths: tuple = (32, 64)
    convs_per_stage: int = 2
    feature_dim: int = 128
    dropout: float = 0.3
    epochs: int = 3
    batch_size: int = 128
    lr: float = 2e-3
    weight_decay: float = 5e-4
    augment: bool = False          # random crop (pad 4) + horizontal flip (CIFAR-10)
    seed: int = 0
    train_subset: int | None = None

    def key(self) -> str:
        return hashlib.sha1(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()[:10]


RECIPES = {
    "digits": dict(in_channels=1, side=8, widths=(16, 32), convs_per_stage=1, feature_dim=64, epochs=40,
                   batch_size=64),
    "mnist": dict(in_channels=1, side=28, epochs=4),
    "fashion-mnist": dict(in_channels=1, side=28, epochs=10),
    "cifar10": dict(in_channels=3, side=32, widths=(32, 64, 128), epochs=8, augment=True),
}


def recipe(name: str, **overrides) -> ClassifierConfig:
    """The default :class:`ClassifierConfig` of data set ``name``, with ``overrides`` applied."""
    if name not in RECIPES:
        raise ValueError(f"no classifier for data set {name!r}: classifiers exist for {', '.join(IMAGE_NAMES)}")
    return ClassifierConfig(**{**RECIPES[name], **overrides})


class SmallCNN(nn.Module):
    """Per stage: conv3x3 stride 2 -> BN -> ReLU, then (convs_per_stage - 1) x [conv3x3 -> BN -> ReLU];
    then FC(feature_dim) -> ReLU -> dropout -> FC(n_classes).

    ``features(x)`` is the penultimate layer (after the ReLU), ``forward(x)`` the logits.
    Strided convolutions instead of pooling keep a CPU training epoch of MNIST under a minute.
    """

    def __init__(self, cfg: ClassifierConfig):
        super().__init__()
        layers, c, s = [], cfg.in_channels, cfg.side
        for w in cfg.widths:
            for j in range(cfg.convs_per_stage):
                layers += [nn.Conv2d(c, w, 3, stride=2 if j == 0 else 1, padding=1, bias=False),
                           nn.BatchNorm2d(w), nn.ReLU(inplace=True)]
                c = w
            s = (s + 1) // 2
        self.body = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(c * s * s, cfg.feature_dim), nn.ReLU(inplace=True))
        self.drop = nn.Dropout(cfg.dropout)
        self.out = nn.Linear(cfg.feature_dim, cfg.n_classes)
        self.side = cfg.side
        self.in_channels = cfg.in_channels
        self.feature_dim = cfg.feature_dim

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.drop(self.features(x)))


# ----------------------------------------------------------------------------- data
def default_data_dir(data_dir=None):
    """``data_dir``, else ``$GANPHASE_DATA``, else the checkout's sibling ``shared/data`` when it exists."""
    if data_dir is not None:
        return Path(data_dir)
    if os.environ.get("GANPHASE_DATA"):
        return Path(os.environ["GANPHASE_DATA"])
    sibling = Path(__file__).resolve().parents[4] / "shared" / "data"
    return sibling if sibling.is_dir() else None


def _load(name: str, split: str, data_dir=None, subset=None):
    """(x in [-1, 1] (N, C, H, W) float32, y int64) of the real data set."""
    data_dir = default_data_dir(data_dir)
    try:
        from ganphase.simulate.data import load_dataset
    except ImportError:  # the data module of the toolkit is absent: read the archive directly
        return _load_npz(name, split, data_dir, subset)
    ds = load_dataset(name, data_dir=data_dir, split=split, subset=subset)
    return ds.x, ds.y


def _load_npz(name, split, data_dir, subset):
    if name == "digits":
        from sklearn.datasets import load_digits

        d = load_digits()
        idx = np.random.default_rng(12345).permutation(len(d.target))
        cut = int(0.8 * len(idx))
        idx = idx[:cut] if split == "train" else idx[cut:]
        x = torch.as_tensor(d.images[idx], dtype=torch.float32).unsqueeze(1) / 8.0 - 1.0
        y = torch.as_tensor(d.target[idx])
    else:
        folder = Path(data_dir) if data_dir is not None else Path(".")
        path = folder / {"mnist": "mnist.npz", "fashion-mnist": "fashion_mnist.npz", "cifar10": "cifar10.npz"}[name]
        if not path.is_file():
            raise ValueError(f"data set {name!r} not found at {path}; pass data_dir or set GANPHASE_DATA")
        with np.load(path, allow_pickle=False) as f:
            xs, ys = f[f"x_{split}"], f[f"y_{split}"]
        x = torch.from_numpy(xs).float() / 127.5 - 1.0
        x = x.unsqueeze(1) if x.dim() == 3 else x.permute(0, 3, 1, 2).contiguous()
        y = torch.as_tensor(ys, dtype=torch.int64)
    if subset is not None:
        x, y = x[:subset], y[:subset]
    return x, y


def to_side(x: torch.Tensor, side: int) -> torch.Tensor:
    """Images resized to side x side (bilinear with anti-aliasing) when they are another size."""
    if x.shape[-1] == side and x.shape[-2] == side:
        return x
    return F.interpolate(x, size=(side, side), mode="bilinear", align_corners=False, antialias=True)


def _augment(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    n, _, h, w = x.shape
    flip = torch.rand(n, generator=gen) < 0.5
    x = torch.where(flip[:, None, None, None], x.flip(-1), x)
    padded = F.pad(x, (4, 4, 4, 4), mode="reflect")
    dx, dy = torch.randint(0, 9, (2,), generator=gen).tolist()   # one shift per batch keeps it vectorised
    return padded[:, :, dy:dy + h, dx:dx + w]


# ----------------------------------------------------------------------------- training
@torch.no_grad()
def accuracy(model: SmallCNN, x: torch.Tensor, y: torch.Tensor, batch: int = 1000) -> float:
    """Share of correct argmax predictions on (x, y)."""
    model.eval()
    dev = next(model.parameters()).device
    correct = 0
    for i in range(0, len(x), batch):
        pred = model(to_side(x[i:i + batch].to(dev), model.side)).argmax(1)
        correct += int((pred.cpu() == y[i:i + batch]).sum())
    return correct / len(x)


def train_classifier(cfg: ClassifierConfig, x: torch.Tensor, y: torch.Tensor, device="cpu",
                     progress: bool = False) -> SmallCNN:
    """Train :class:`SmallCNN` on (x, y) with Adam and a one-cycle schedule; seeded by ``cfg.seed``."""
    if x.dim() != 4 or x.shape[1] != cfg.in_channels:
        raise ValueError(f"training images must be (N, {cfg.in_channels}, H, W), got {tuple(x.shape)}")
    if len(x) != len(y) or len(x) < 2:
        raise ValueError(f"need at least 2 images and as many labels, got {len(x)} images and {len(y)} labels")
    dev = resolve_device(device)
    torch.manual_seed(cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed)
    model = SmallCNN(cfg).to(dev)
    x = to_side(x, cfg.side)
    steps_per_epoch = max(1, len(x) // cfg.batch_size)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=cfg.epochs * steps_per_epoch)
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=cfg.epochs * steps_per_epoch, desc="classifier", unit="step", leave=False)
    for _ in range(cfg.epochs):
        model.train()
        perm = torch.randperm(len(x), generator=gen)
        for b in range(steps_per_epoch):
            idx = perm[b * cfg.batch_size:(b + 1) * cfg.batch_size]
            xb = x[idx]
            if cfg.augment:
                xb = _augment(xb, gen)
            loss = F.cross_entropy(model(xb.to(dev)), y[idx].to(dev))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            if bar is not None:
                bar.update(1)
                bar.set_postfix(loss=f"{loss.item():.3f}", refresh=False)
    if bar is not None:
        bar.close()
    return model.eval()


# ----------------------------------------------------------------------------- cache
def default_cache_dir() -> Path:
    root = os.environ.get("GANPHASE_CACHE")
    return (Path(root) if root else Path.home() / ".cache" / "ganphase") / "classifiers"


def _paths(folder: Path, name: str, cfg: ClassifierConfig) -> tuple[Path, Path]:
    stem = f"{name}-{cfg.key()}"
    return folder / f"{stem}.pt", folder / f"{stem}.json"


def load_cached(name: str, cfg: ClassifierConfig, folders, device="cpu"):
    """(model, info) from the first folder holding this recipe, or None."""
    for folder in folders:
        if folder is None:
            continue
        pt, js = _paths(Path(folder), name, cfg)
        if pt.is_file() and js.is_file():
            model = SmallCNN(cfg)
            model.load_state_dict(torch.load(pt, map_location="cpu", weights_only=True))
            info = json.loads(js.read_text())
            info["path"] = str(pt)
            return model.to(resolve_device(device)).eval(), info
    return None


def get_classifier(name: str, cache_dir=None, data_dir=None, device="cpu", seed: int = 0,
                   progress: bool = True, test_subset: int | None = None, **overrides):
    """The cached classifier of ``name`` (trained on its real training split when absent) and its info dict.

    The info dict (also the cache's JSON) holds the configuration, ``test_accuracy`` on the
    test split (its first ``test_subset`` images when given, ``n_test`` of them), ``train_seconds``
    and the device it was trained on.
    """
    cfg = recipe(name, seed=seed, **overrides)
    folder = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    found = load_cached(name, cfg, [folder, default_cache_dir()], device)
    if found is not None:
        return found
    x, y = _load(name, "train", data_dir, cfg.train_subset)
    t0 = time.perf_counter()
    model = train_classifier(cfg, x, y, device=device, progress=progress)
    seconds = time.perf_counter() - t0
    xt, yt = _load(name, "test", data_dir, test_subset)
    info = {"dataset": name, "config": asdict(cfg), "key": cfg.key(), "test_accuracy": accuracy(model, xt, yt),
            "n_test": len(xt), "n_train": len(x), "train_seconds": round(seconds, 2),
            "device": str(resolve_device(device)), "torch": torch.__version__, "threads": torch.get_num_threads()}
    pt, js = _paths(folder, name, cfg)
    buf = io.BytesIO()
    torch.save({k: v.cpu() for k, v in model.state_dict().items()}, buf)
    atomic_write_bytes(pt, buf.getvalue())
    write_json(js, info)
    info["path"] = str(pt)
    return model, info
