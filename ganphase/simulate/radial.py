"""Radial profiles of a trained discriminator around the modes (Appendix G.1, Figure 11).

Along ``RAYS`` directions from every mode centre, at radii 0..``R_MAX``: the mean of
d(x) = sigmoid(a(x)) and of ||grad_x d|| (autograd).  ``flat_radius`` is where d flattens out: the
smallest radius past the peak of the mean ||grad_x d|| profile at which that profile falls below
``FLAT`` times its peak (for Assumption 4.1's linear d = 1/2 - r/(8 sigma) this is exactly 4 sigma);
``half_radius`` is where the mean d falls to half its value at the centre (2 sigma for the linear d).
"""
from __future__ import annotations

import numpy as np
import torch

RAYS, R_MAX, N_R = 64, 1.0, 201
FLAT = 0.05


def d_values(D, x: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return torch.sigmoid(D(torch.as_tensor(x, dtype=torch.float32))).flatten().double().numpy()


def d_grad_norms(D, x: np.ndarray) -> np.ndarray:
    """||grad_x d(x)|| by autograd, d = sigmoid(a)."""
    xt = torch.as_tensor(x, dtype=torch.float32).requires_grad_(True)
    d = torch.sigmoid(D(xt)).sum()
    (g,) = torch.autograd.grad(d, xt)
    return g.norm(dim=1).double().numpy()


def ray_points(centres: np.ndarray, rays: int = RAYS, r_max: float = R_MAX, n_r: int = N_R):
    """Points centre + r (cos t, sin t): array (modes, rays, radii, 2), and the radii."""
    t = 2 * np.pi * np.arange(rays) / rays
    radii = np.linspace(0.0, r_max, n_r)
    u = np.stack([np.cos(t), np.sin(t)], 1)
    pts = centres[:, None, None, :] + radii[None, None, :, None] * u[None, :, None, :]
    return pts, radii


def flat_radius(radii: np.ndarray, grad_profile: np.ndarray, frac: float = FLAT):
    """Smallest radius past the peak of the gradient-norm profile where it is <= frac * peak (None if never)."""
    k = int(np.argmax(grad_profile))
    below = np.nonzero(grad_profile[k:] <= frac * grad_profile[k])[0]
    return None if below.size == 0 else float(radii[k + below[0]])


def half_radius(radii: np.ndarray, d_profile: np.ndarray):
    """Smallest radius where the mean d is <= half its value at the centre (None if never)."""
    below = np.nonzero(d_profile <= 0.5 * d_profile[0])[0]
    return None if below.size == 0 else float(radii[below[0]])


def radial_profiles(D, centres: np.ndarray, grad_fn=d_grad_norms):
    """(radii, mean d over modes and rays, mean ||grad d|| over modes and rays)."""
    pts, radii = ray_points(centres)
    flat = pts.reshape(-1, 2)
    d = d_values(D, flat).reshape(pts.shape[:3])
    g = grad_fn(D, flat).reshape(pts.shape[:3])
    return radii, d.mean(axis=(0, 1)), g.mean(axis=(0, 1))
