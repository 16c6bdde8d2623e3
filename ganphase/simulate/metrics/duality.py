"""Duality gap and perturbed duality gap of a GAN (Appendix G.5; Grnarova et al. 2019, Sidheekh et al. 2021).

With the value function of the (vanilla) GAN, computed from discriminator logits a(x),
d = sigmoid(a):

    F(G, D) = E_x log d(x) + E_z log(1 - d(G(z))) = -E_x softplus(-a(x)) - E_z softplus(a(G(z)))

the duality gap of the current pair (G, D) is (Appendix G.5, step 3)

    DG = F(G, D_worst) - F(G_worst, D),
    D_worst ~ argmax_{D'} F(G, D'),   G_worst ~ argmin_{G'} F(G', D),

each worst-case opponent found from a copy of the current player by ``steps``
Adam steps on fresh mini-batches while the other player stays fixed.  The
generator copy descends the non-saturating surrogate -E log d(G'(z)) by default
(``generator_loss="nonsaturating"``, the NSGAN update of Algorithm 1) or F itself
(``"minimax"``); the reported value is always F.  The perturbed duality gap
(Sidheekh et al. 2021) starts both optimisations from copies whose parameters
received Gaussian noise N(0, perturb_std^2) ("local perturbations ... before the
second optimization step", Appendix G.5).

F is evaluated on one fixed evaluation batch (``eval_size`` real samples and
latent vectors drawn once from the seed); every network stays in eval mode
throughout (batch norm uses its running statistics, noise layers are off), so
DG >= 0 holds only up to the optimisation and sampling error.  The input G and D
are never modified.
"""
from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import nn

from ganphase.simulate.device import resolve_device
from ganphase.simulate.nsgan import discriminator_loss
from ganphase.simulate.nsgan import generator_loss as nonsaturating_loss


def value_from_logits(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """F = mean log sigmoid(a_real) + mean log(1 - sigmoid(a_fake)), in log space (softplus)."""
    return -discriminator_loss(real_logits, fake_logits)


def gan_value(G: nn.Module, D: nn.Module, x: torch.Tensor, z: torch.Tensor) -> float:
    """F(G, D) on real batch x and latent batch z."""
    with torch.no_grad():
        return float(value_from_logits(D(x).flatten(), D(G(z)).flatten()))


def _perturbed_copy(m: nn.Module, std: float, gen: torch.Generator) -> nn.Module:
    c = copy.deepcopy(m)
    for p in c.parameters():
        p.requires_grad_(True)
    if std > 0:
        with torch.no_grad():
            for p in c.parameters():
                noise = torch.randn(p.shape, generator=gen, dtype=p.dtype) * std
                p.add_(noise.to(p.device))
    return c.eval()


def _freeze(m: nn.Module) -> nn.Module:
    c = copy.deepcopy(m).eval()
    for p in c.parameters():
        p.requires_grad_(False)
    return c


def duality_gap(G: nn.Module, D: nn.Module, real_x: torch.Tensor, latent_dim: int, steps: int = 100,
                lr: float = 2e-4, batch_size: int = 64, eval_size: int = 512, perturb_std: float = 0.0,
                generator_loss: str = "nonsaturating", seed: int = 0, device="auto") -> dict:
    """Duality gap DG = F(G, D_worst) - F(G_worst, D) (module docstring); ``perturb_std > 0``: the perturbed gap.

    Returns {"gap", "value" (F(G, D)), "value_d_worst", "value_g_worst", "steps", "perturb_std"}.
    """
    if not (isinstance(steps, int) and steps >= 0):
        raise ValueError(f"steps must be a non-negative integer, got {steps!r}")
    if not (isinstance(latent_dim, int) and latent_dim >= 1):
        raise ValueError(f"latent_dim must be a positive integer, got {latent_dim!r}")
    if not (lr > 0 and batch_size >= 1 and eval_size >= 1 and perturb_std >= 0):
        raise ValueError("lr must be > 0, batch_size and eval_size >= 1, perturb_std >= 0")
    if generator_loss not in ("nonsaturating", "minimax"):
        raise ValueError(f"generator_loss must be 'nonsaturating' or 'minimax', got {generator_loss!r}")
    if not isinstance(real_x, torch.Tensor) or real_x.dim() < 2 or len(real_x) < 1:
        raise ValueError("real_x must be a tensor of real samples with a batch dimension")
    dev = resolve_device(device)
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    real_x = real_x.to(dev)
    G0, D0 = _freeze(G).to(dev), _freeze(D).to(dev)

    def real_batch(n):
        return real_x[torch.randint(0, len(real_x), (n,), generator=gen).to(dev)]

    def latent(n):
        return torch.randn(n, latent_dim, generator=gen).to(dev)

    x_eval, z_eval = real_batch(eval_size), latent(eval_size)

    d_w = _perturbed_copy(D, perturb_std, gen).to(dev)
    opt = torch.optim.Adam(d_w.parameters(), lr=lr, betas=(0.5, 0.999))
    for _ in range(steps):
        with torch.no_grad():
            fake = G0(latent(batch_size))
        loss = -value_from_logits(d_w(real_batch(batch_size)).flatten(), d_w(fake).flatten())
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    g_w = _perturbed_copy(G, perturb_std, gen).to(dev)
    opt = torch.optim.Adam(g_w.parameters(), lr=lr, betas=(0.5, 0.999))
    for _ in range(steps):
        a = D0(g_w(latent(batch_size))).flatten()
        loss = nonsaturating_loss(a) if generator_loss == "nonsaturating" else -F.softplus(a).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    d_w.eval()
    g_w.eval()
    v_d = gan_value(G0, d_w, x_eval, z_eval)
    v_g = gan_value(g_w, D0, x_eval, z_eval)
    return {"gap": v_d - v_g, "value": gan_value(G0, D0, x_eval, z_eval), "value_d_worst": v_d,
            "value_g_worst": v_g, "steps": steps, "perturb_std": float(perturb_std)}
