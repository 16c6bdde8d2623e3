"""Conditioning of the generator's Jacobian (Odena et al. 2018, "Is generator conditioning causally related to
GAN performance?"; the paper cites it beside steepness in Section 2).

For a latent z, J(z) = dG(z)/dz is the (n_out x n_z) Jacobian of the flattened sample. With
s_1 >= ... >= s_k > 0 its k = min(n_out, n_z) singular values, the eigenvalues of J^T J on its range are
s_i^2 and

    log cond(J^T J) = log(s_1^2 / s_k^2) = 2 (log s_1 - log s_k)        (natural log; inf when s_k = 0)

Odena et al. report the mean of log cond over latents z ~ N(0, I) (compare_gan's ``jacobian_conditioning``
metric reports its mean and standard deviation); ``steepness`` in :mod:`ganphase.simulate.steepness` is s_1.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from ganphase.simulate.steepness import eval_mode


def generator_jacobians(G: nn.Module, z: torch.Tensor) -> torch.Tensor:
    """J(z_i) for every row of ``z``: shape (batch, n_out, n_z), computed in eval mode (batch norm uses its
    running statistics, so each sample depends on its own latent only). Forward mode when n_z <= n_out."""
    def one(zi):
        return G(zi.unsqueeze(0)).flatten()

    with eval_mode(G):
        n_out = one(z[:1][0]).numel()
        jac = torch.func.jacfwd(one) if z.shape[1] <= n_out else torch.func.jacrev(one)
        return torch.func.vmap(jac)(z).detach()


def log_condition(J: torch.Tensor) -> torch.Tensor:
    """log(s_max^2 / s_min^2) of each Jacobian in ``J`` (batch, n_out, n_z), from float64 singular values."""
    s = torch.linalg.svdvals(J.to(torch.float64))
    top, bottom = s[:, 0], s[:, -1]
    out = 2.0 * (torch.log(top) - torch.log(bottom))
    return torch.where(bottom > 0, out, torch.full_like(out, math.inf))


def jacobian_conditioning(G: nn.Module, z: torch.Tensor) -> dict:
    """{"jacobian_log_condition": mean over z of log cond(J^T J), "jacobian_log_condition_sd": its standard
    deviation}; the mean is inf when some J(z) is singular."""
    lc = log_condition(generator_jacobians(G, z))
    finite = lc[torch.isfinite(lc)]
    sd = float(finite.std()) if len(finite) > 1 else math.nan
    return {"jacobian_log_condition": float(lc.mean()), "jacobian_log_condition_sd": sd}
