"""Algorithm 1 with a neural generator: NSGAN as a particle model (Section 2.2, Appendix C.1).

One iteration (Algorithm 1):

1. train the discriminator d = sigmoid(a) on real against generated samples (binary
   cross-entropy, Goodfellow et al., 2014), ``d_steps`` times;
2. particles Z_i = g_theta(z_i), moved along the field:  Z^_i = Z_i + s grad log d(Z_i)
   (grad d/d = grad log d; with d = sigmoid(a), grad log d = (1 - sigmoid(a)) grad a);
3. with Z^_i held fixed (stop gradient), descend grad_theta (1/m) sum ||g_theta(z_i) - Z^_i||^2
   (``g_steps`` optimiser steps on the same targets).

Instead of a trained discriminator, any field x -> grad log d(x) may drive the particles
(for instance the optimal field of a known p_g, ``ganphase.theory.fields``).

The gradients compared by Corollary C.1 are exposed: :func:`particle_gradient` (line 6 of
Algorithm 1), :func:`nsgan_gradient` (grad_theta of the NSGAN generator loss
(1/m) sum -log d(g_theta(z_i))) and :func:`chain_rule_gradient`
(-(1/m) sum J_theta g(z_i)^T grad_x log d(g(z_i)), the field computed on its own).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from ganphase.simulate.device import resolve_device, resolve_dtype
from ganphase.simulate import nsgan
from ganphase.simulate.models import ModelConfig, build_models

Field = Callable[[torch.Tensor], torch.Tensor]


# ----------------------------------------------------------------------------- the particle field
def log_d(D: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """log d(x) = log sigmoid(a(x)) = -softplus(-a(x)) for a discriminator returning logits."""
    return -F.softplus(-D(x))


def discriminator_field(D: nn.Module, x: torch.Tensor, create_graph: bool = False) -> torch.Tensor:
    """grad_x log d(x) = grad d(x) / d(x), per sample, same shape as x."""
    _check_batch(x)
    with torch.enable_grad():
        xx = x if create_graph and x.requires_grad else x.detach().requires_grad_(True)
        (g,) = torch.autograd.grad(log_d(D, xx).sum(), xx, create_graph=create_graph)
    return g


def field_of(D_or_field) -> Field:
    """A callable x -> grad log d(x) from a discriminator module (logits) or a field callable."""
    if isinstance(D_or_field, nn.Module):
        return lambda x: discriminator_field(D_or_field, x)
    if callable(D_or_field):
        return D_or_field
    raise ValueError("the particles need a discriminator module (returning logits) or a callable field x -> grad log d(x)")


def particle_targets(G: nn.Module, field: Field, z: torch.Tensor, step: float) -> torch.Tensor:
    """Z^ = g(z) + s grad log d(g(z)), detached (Algorithm 1, lines 4-5, and the stop gradient of line 6)."""
    _check_step(step)
    with torch.no_grad():
        x = G(z)
    return (x + step * field(x)).detach()


def particle_loss(G: nn.Module, z: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """(1/m) sum_i ||g(z_i) - Z^_i||_2^2 (Algorithm 1, line 6)."""
    return (G(z) - targets).flatten(1).pow(2).sum(1).mean()


def nsgan_loss(G: nn.Module, D: nn.Module, z: torch.Tensor) -> torch.Tensor:
    """(1/m) sum_i -log d(g(z_i)): the non-saturating generator loss."""
    return nsgan.generator_loss(D(G(z)))


def discriminator_loss(D: nn.Module, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy of d = sigmoid(a): mean softplus(-a(real)) + mean softplus(a(fake))."""
    return nsgan.discriminator_loss(D(real), D(fake))


def _param_grad(outputs: torch.Tensor, G: nn.Module, grad_outputs=None) -> torch.Tensor:
    """d outputs / d theta (a vjp with ``grad_outputs``), flattened over G's parameters; unused ones give 0."""
    params = [p for p in G.parameters() if p.requires_grad]
    grads = torch.autograd.grad(outputs, params, grad_outputs=grad_outputs, allow_unused=True)
    return torch.cat([(g if g is not None else torch.zeros_like(p)).reshape(-1) for g, p in zip(grads, params)])


def particle_gradient(G: nn.Module, D_or_field, z: torch.Tensor, step: float) -> torch.Tensor:
    """grad_theta (1/m) sum ||g(z_i) - Z^_i||^2 with Z^ fixed, flattened over G's parameters."""
    _check_batch(z)
    targets = particle_targets(G, field_of(D_or_field), z, step)
    with torch.enable_grad():
        return _param_grad(particle_loss(G, z, targets), G)


def nsgan_gradient(G: nn.Module, D: nn.Module, z: torch.Tensor) -> torch.Tensor:
    """grad_theta (1/m) sum -log d(g(z_i)) by autograd through D and G, flattened."""
    _check_batch(z)
    with torch.enable_grad():
        return _param_grad(nsgan_loss(G, D, z), G)


def chain_rule_gradient(G: nn.Module, D_or_field, z: torch.Tensor) -> torch.Tensor:
    """-(1/m) sum_i J_theta g(z_i)^T grad_x log d(x)|_{x = g(z_i)}: the field computed first, then one vjp."""
    _check_batch(z)
    field = field_of(D_or_field)
    with torch.enable_grad():
        x = G(z)
        v = field(x.detach()).detach()
        return _param_grad(x, G, grad_outputs=-v / z.shape[0])


# ----------------------------------------------------------------------------- training (Algorithm 1)
@dataclass
class ParticleConfig:
    iterations: int = 500
    batch: int = 256
    step: float = 0.05              # s, the particle step size
    d_steps: int = 1
    g_steps: int = 1                # regression steps per particle update
    lr_d: float = 1e-3
    lr_g: float = 1e-3
    hidden: tuple = (64, 64)
    seed: int = 0
    history_every: int = 50

    def __post_init__(self):
        if self.iterations < 1 or self.batch < 2 or self.d_steps < 0 or self.g_steps < 1:
            raise ValueError("iterations >= 1, batch >= 2, d_steps >= 0 and g_steps >= 1 are required")
        _check_step(self.step)
        if self.lr_d <= 0 or self.lr_g <= 0:
            raise ValueError(f"learning rates must be positive, got lr_d={self.lr_d}, lr_g={self.lr_g}")


def train_particle_gan(data: torch.Tensor, cfg: ParticleConfig, field: Field | None = None, device="auto",
                       dtype="float32", progress: bool = False):
    """Run Algorithm 1 on samples ``data`` (N, n) with an MLP generator (latent dimension n, Assumption 2.2).

    Returns (G, D, history); D is trained (Algorithm 1, line 2) unless a ``field`` is given, in which
    case the particles follow that field and D stays untrained.  history: rows of iteration,
    discriminator loss, particle loss and mean field norm.
    """
    if not isinstance(data, torch.Tensor) or data.dim() != 2 or len(data) < 2:
        raise ValueError("data must be a (N, n) tensor of samples with N >= 2")
    dev, dt = resolve_device(device), resolve_dtype(dtype)
    gen = torch.Generator().manual_seed(cfg.seed)
    torch.manual_seed(cfg.seed)
    G, D = build_models(ModelConfig(kind="mlp", data_shape=(data.shape[1],), hidden=cfg.hidden))
    G, D = G.to(dev, dt), D.to(dev, dt)
    data = data.to(dev, dt)
    opt_g = torch.optim.Adam(G.parameters(), lr=cfg.lr_g, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=cfg.lr_d, betas=(0.5, 0.999))
    drive = field_of(D if field is None else field)
    history = []
    rng_range = range(cfg.iterations)
    if progress:
        from tqdm import tqdm
        rng_range = tqdm(rng_range, desc="Algorithm 1")
    for it in rng_range:
        loss_d = torch.tensor(float("nan"))
        if field is None:
            for _ in range(cfg.d_steps):
                real = data[torch.randint(len(data), (cfg.batch,), generator=gen).to(dev)]
                with torch.no_grad():
                    fake = G(torch.randn(cfg.batch, data.shape[1], generator=gen).to(dev, dt))
                loss_d = discriminator_loss(D, real, fake)
                opt_d.zero_grad()
                loss_d.backward()
                opt_d.step()
        z = torch.randn(cfg.batch, data.shape[1], generator=gen).to(dev, dt)
        with torch.no_grad():
            x = G(z)
        v = drive(x).detach()
        targets = (x + cfg.step * v).detach()
        for _ in range(cfg.g_steps):
            loss_g = particle_loss(G, z, targets)
            opt_g.zero_grad()
            loss_g.backward()
            opt_g.step()
        if it % cfg.history_every == 0 or it == cfg.iterations - 1:
            history.append({"iteration": it, "loss_d": float(loss_d.detach()), "particle_loss": float(loss_g.detach()),
                            "mean_field_norm": float(v.flatten(1).norm(dim=1).mean())})
    return G, D, history


def fit_discriminator(D: nn.Module, real: torch.Tensor, fake: torch.Tensor, steps: int = 2000, lr: float = 1e-3,
                      batch: int = 512, seed: int = 0) -> float:
    """Train D towards the optimal d* = p_data/(p_data + p_g) on fixed real and fake samples; returns the last loss."""
    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}")
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(D.parameters(), lr=lr)
    loss = torch.tensor(float("nan"))
    for _ in range(steps):
        r = real[torch.randint(len(real), (batch,), generator=gen)]
        f = fake[torch.randint(len(fake), (batch,), generator=gen)]
        loss = discriminator_loss(D, r, f)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return float(loss)


# ----------------------------------------------------------------------------- checks
def _check_batch(x):
    if not isinstance(x, torch.Tensor) or x.dim() < 2 or x.shape[0] < 1:
        raise ValueError(f"expected a batch tensor of shape (batch, ...), got {getattr(x, 'shape', type(x).__name__)}")


def _check_step(step):
    if not isinstance(step, (int, float)) or not step > 0 or step != step or step == float("inf"):
        raise ValueError(f"the particle step size s must be a positive finite number, got {step!r}")
