"""The NSGAN losses from logits a = log(d / (1 - d)) (Goodfellow et al. 2014; the paper's Section 2).

    L_d = -E log d(x) - E log(1 - d(g(z))) = E softplus(-a(x)) + E softplus(a(g(z)))
    L_g = -E log d(g(z))                   = E softplus(-a(g(z)))          (non-saturating)

``softplus(-a) = -log sigmoid(a)`` and ``softplus(a) = -log(1 - sigmoid(a))`` hold exactly and stay
finite for any logit, which is why the losses are written on logits and never on d.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def discriminator_loss(a_real: torch.Tensor, a_fake: torch.Tensor) -> torch.Tensor:
    """L_d = mean softplus(-a(x)) + mean softplus(a(g(z)))."""
    return F.softplus(-a_real).mean() + F.softplus(a_fake).mean()


def generator_loss(a_gen: torch.Tensor) -> torch.Tensor:
    """The non-saturating L_g = mean softplus(-a(g(z))) = -mean log d(g(z))."""
    return F.softplus(-a_gen).mean()
