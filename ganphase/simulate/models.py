"""Generators and discriminators for NSGAN (Appendix F.2), configured by plain values.

* ``mlp``: fully connected networks trained with SGD, for the Gaussian mixtures
  and the 8x8 digits; the latent dimension equals the data dimension
  (Assumption 2.2 and Appendix B).
* ``dcgan``: DCGAN-style convolutional networks trained with Adam, for
  28, 32 and 64-pixel images (latent dimension 100).

Discriminators return logits a(x) with d(x) = sigmoid(a(x)).  With
``noise_std > 0`` the discriminator adds Gaussian noise of that standard
deviation before each layer while training (Appendix G.7, "noised" model).
The paper names only the network type and optimiser (Appendix F.2); the
widths, depths and learning rates below are the usual NSGAN / DCGAN values.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
from torch import nn


@dataclass
class ModelConfig:
    kind: str = "mlp"                     # "mlp" | "dcgan"
    data_shape: tuple = (3,)              # (n,) or (C, H, W)
    latent_dim: int | None = None         # None: data dimension for mlp (Appendix B), 100 for dcgan
    hidden: tuple = (128, 128, 128)       # mlp widths (generator and discriminator)
    ngf: int = 64                         # dcgan generator base channels
    ndf: int = 64                         # dcgan discriminator base channels
    d_batchnorm: bool = True              # dcgan discriminator batch norm (as in DCGAN)
    noise_std: float = 0.0                # Appendix G.7: discriminator input noise per layer
    optimizer: str | None = None          # None: "sgd" for mlp, "adam" for dcgan (Appendix F.2)
    lr_g: float | None = None
    lr_d: float | None = None
    betas: tuple = (0.5, 0.999)
    momentum: float = 0.0

    def __post_init__(self):
        self.data_shape = tuple(int(v) for v in self.data_shape)
        self.hidden = tuple(int(v) for v in self.hidden)
        self.betas = tuple(float(v) for v in self.betas)
        if self.kind not in ("mlp", "dcgan"):
            raise ValueError(f"model kind must be 'mlp' or 'dcgan', got {self.kind!r}")
        if self.kind == "dcgan":
            if len(self.data_shape) != 3 or self.data_shape[1] != self.data_shape[2] or \
                    self.data_shape[1] not in (28, 32, 64):
                raise ValueError(f"dcgan models need square images of side 28, 32 or 64, got shape {self.data_shape}")
        if self.latent_dim is None:
            self.latent_dim = math.prod(self.data_shape) if self.kind == "mlp" else 100
        if self.optimizer is None:
            self.optimizer = "sgd" if self.kind == "mlp" else "adam"
        if self.optimizer not in ("sgd", "adam"):
            raise ValueError(f"optimizer must be 'sgd' or 'adam', got {self.optimizer!r}")
        default_lr = 0.01 if self.optimizer == "sgd" else 2e-4
        self.lr_g = default_lr if self.lr_g is None else float(self.lr_g)
        self.lr_d = default_lr if self.lr_d is None else float(self.lr_d)
        if self.noise_std < 0 or self.latent_dim < 1 or self.lr_g <= 0 or self.lr_d <= 0:
            raise ValueError("noise_std must be >= 0, latent_dim >= 1 and learning rates > 0")

    def to_dict(self) -> dict:
        return asdict(self)


class Noise(nn.Module):
    """x + std * N(0, I) in training mode, the identity otherwise (Appendix G.7)."""

    def __init__(self, std: float):
        super().__init__()
        self.std = float(std)

    def forward(self, x):
        return x + self.std * torch.randn_like(x) if self.training and self.std > 0 else x


class MLPGenerator(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        dims = (cfg.latent_dim,) + cfg.hidden
        layers = []
        for a, b in zip(dims[:-1], dims[1:]):
            layers += [nn.Linear(a, b), nn.ReLU()]
        layers.append(nn.Linear(dims[-1], math.prod(cfg.data_shape)))
        self.net = nn.Sequential(*layers)
        self.data_shape = cfg.data_shape
        self.image = len(cfg.data_shape) == 3

    @property
    def last(self) -> nn.Linear:
        return self.net[-1]

    def forward(self, z):
        x = self.net(z)
        return torch.tanh(x).view(-1, *self.data_shape) if self.image else x


class MLPDiscriminator(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        dims = (math.prod(cfg.data_shape),) + cfg.hidden
        layers = []
        for a, b in zip(dims[:-1], dims[1:]):
            layers += [Noise(cfg.noise_std), nn.Linear(a, b), nn.LeakyReLU(0.2)]
        layers += [Noise(cfg.noise_std), nn.Linear(dims[-1], 1)]
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x.flatten(1)).squeeze(1)


def _dcgan_plan(side: int) -> tuple[int, int]:
    """(starting side, number of x2 up-samplings): 64 = 4 * 2^4, 32 = 4 * 2^3, 28 = 7 * 2^2."""
    return (7, 2) if side == 28 else (4, int(math.log2(side // 4)))


class DCGANGenerator(nn.Module):
    """z (B, latent) -> 1x1 -> s0 x s0 -> ... -> side x side, ConvTranspose + BatchNorm + ReLU, Tanh output."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        c, side = cfg.data_shape[0], cfg.data_shape[1]
        s0, n_up = _dcgan_plan(side)
        ch = [cfg.ngf * 2 ** i for i in reversed(range(n_up))]   # e.g. 512, 256, 128, 64
        layers = [nn.ConvTranspose2d(cfg.latent_dim, ch[0], s0, 1, 0, bias=False), nn.BatchNorm2d(ch[0]), nn.ReLU(True)]
        for a, b in zip(ch[:-1], ch[1:]):
            layers += [nn.ConvTranspose2d(a, b, 4, 2, 1, bias=False), nn.BatchNorm2d(b), nn.ReLU(True)]
        layers += [nn.ConvTranspose2d(ch[-1], c, 4, 2, 1, bias=False), nn.Tanh()]
        self.net = nn.Sequential(*layers)
        self.latent_dim = cfg.latent_dim
        self.apply(_dcgan_init)

    @property
    def last(self) -> nn.Module:
        return self.net[-2]

    def forward(self, z):
        return self.net(z.view(z.shape[0], self.latent_dim, 1, 1))


class DCGANDiscriminator(nn.Module):
    """side x side -> ... -> s0 x s0 -> logit; Conv + (BatchNorm) + LeakyReLU(0.2), no sigmoid."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        c, side = cfg.data_shape[0], cfg.data_shape[1]
        s0, n_up = _dcgan_plan(side)
        ch = [cfg.ndf * 2 ** i for i in range(n_up)]               # e.g. 64, 128, 256, 512
        layers = [Noise(cfg.noise_std), nn.Conv2d(c, ch[0], 4, 2, 1, bias=False), nn.LeakyReLU(0.2, True)]
        for a, b in zip(ch[:-1], ch[1:]):
            layers += [Noise(cfg.noise_std), nn.Conv2d(a, b, 4, 2, 1, bias=False)]
            if cfg.d_batchnorm:
                layers.append(nn.BatchNorm2d(b))
            layers.append(nn.LeakyReLU(0.2, True))
        layers += [Noise(cfg.noise_std), nn.Conv2d(ch[-1], 1, s0, 1, 0, bias=False)]
        self.net = nn.Sequential(*layers)
        self.apply(_dcgan_init)

    def forward(self, x):
        return self.net(x).flatten()


def _dcgan_init(m):
    """DCGAN initialisation: conv weights N(0, 0.02), batch-norm weights N(1, 0.02), biases 0."""
    if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(m.weight, 0.0, 0.02)
    elif isinstance(m, nn.BatchNorm2d):
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.zeros_(m.bias)


def build_models(cfg: ModelConfig) -> tuple[nn.Module, nn.Module]:
    """(generator, discriminator) for ``cfg``."""
    if cfg.kind == "mlp":
        return MLPGenerator(cfg), MLPDiscriminator(cfg)
    return DCGANGenerator(cfg), DCGANDiscriminator(cfg)


def build_optimizers(cfg: ModelConfig, G: nn.Module, D: nn.Module):
    """(optimiser of G, optimiser of D): SGD for mlp, Adam(betas) for dcgan unless configured otherwise."""
    if cfg.optimizer == "sgd":
        return (torch.optim.SGD(G.parameters(), lr=cfg.lr_g, momentum=cfg.momentum),
                torch.optim.SGD(D.parameters(), lr=cfg.lr_d, momentum=cfg.momentum))
    return (torch.optim.Adam(G.parameters(), lr=cfg.lr_g, betas=cfg.betas),
            torch.optim.Adam(D.parameters(), lr=cfg.lr_d, betas=cfg.betas))
