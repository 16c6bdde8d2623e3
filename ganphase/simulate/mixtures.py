"""Gaussian mixtures and uniform boxes in log space (numpy/scipy and torch).

p(x) = sum_k w_k N(x; mu_k, diag(sigma_k^2)); every density is computed as a
log-density with logsumexp, and the score grad log p(x) = sum_k r_k(x) (mu_k - x)/sigma_k^2
with r_k the softmax responsibilities (paper Assumption 2.1, Section 2.2; Table 2, Section 3.1).
"""
import numpy as np
from scipy import special

LOG_2PI = np.log(2.0 * np.pi)


def _as_points(x, dim):
    x = np.asarray(x, dtype=float)
    if dim == 1 and x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2 or x.shape[1] != dim:
        raise ValueError(f"points must have shape (m, {dim}), got {x.shape}")
    return x


class GaussianMixture:
    """Mixture of diagonal Gaussians: means (K, n), sigmas (K, n) std devs, weights (K,)."""

    def __init__(self, means, sigmas, weights=None):
        means = np.asarray(means, dtype=float)
        if means.ndim == 1:
            means = means[:, None]
        if means.ndim != 2 or means.shape[0] == 0 or not np.all(np.isfinite(means)):
            raise ValueError(f"means must be a finite (K, n) or (K,) array, got shape {means.shape}")
        K, n = means.shape
        sigmas = np.asarray(sigmas, dtype=float)
        if sigmas.ndim == 0:
            sigmas = np.full((K, n), float(sigmas))
        elif sigmas.ndim == 1 and sigmas.shape[0] == K:
            sigmas = np.repeat(sigmas[:, None], n, axis=1)
        elif sigmas.shape != (K, n):
            raise ValueError(f"sigmas must be a scalar, (K,)=({K},) or (K, n)=({K}, {n}), got shape {sigmas.shape}")
        if not np.all(np.isfinite(sigmas)) or np.any(sigmas <= 0):
            raise ValueError("sigmas must be finite and > 0")
        if weights is None:
            weights = np.full(K, 1.0 / K)
        weights = np.asarray(weights, dtype=float)
        if weights.shape != (K,) or not np.all(np.isfinite(weights)) or np.any(weights <= 0):
            raise ValueError(f"weights must be a ({K},) array of finite values > 0")
        if abs(weights.sum() - 1.0) > 1e-9:
            raise ValueError(f"weights must sum to 1 (tolerance 1e-9), they sum to {weights.sum()!r}")
        self.means, self.sigmas, self.weights = means, sigmas, weights
        self.dim, self.n_components = n, K

    @classmethod
    def assumption_2_1(cls, centers, sigma):
        """Paper Assumption 2.1: equal weights 1/K, isotropic std sigma around each center."""
        return cls(centers, float(sigma))

    def component_log_probs(self, x):
        """log w_k + log N(x; mu_k, diag sigma_k^2), shape (m, K)."""
        x = _as_points(x, self.dim)
        z = (x[:, None, :] - self.means[None]) / self.sigmas[None]
        log_norm = -0.5 * self.dim * LOG_2PI - np.log(self.sigmas).sum(axis=1)
        return np.log(self.weights)[None] + log_norm[None] - 0.5 * (z ** 2).sum(axis=2)

    def log_prob(self, x):
        """log p(x) = logsumexp_k(log w_k + log N_k(x)), shape (m,)."""
        return special.logsumexp(self.component_log_probs(x), axis=1)

    def score(self, x):
        """grad log p(x) = sum_k softmax_k(log w_k N_k(x)) (mu_k - x)/sigma_k^2, shape (m, n).

        A 1-D mixture given a flat array of m points returns shape (m,), like log_prob.
        """
        return self.stats(x)[1]

    def stats(self, x):
        """(log p(x), grad log p(x)) from one evaluation of the component densities."""
        flat = self.dim == 1 and np.ndim(x) == 1
        x = _as_points(x, self.dim)
        lp = self.component_log_probs(x)
        log_p = special.logsumexp(lp, axis=1, keepdims=True)
        resp = np.exp(lp - log_p)
        grads = (self.means[None] - x[:, None, :]) / self.sigmas[None] ** 2
        out = np.einsum("mk,mkn->mn", resp, grads)
        return log_p[:, 0], (out[:, 0] if flat else out)

    def sample(self, m, rng):
        """m draws, shape (m, n), from numpy Generator rng."""
        if int(m) != m or m < 0:
            raise ValueError(f"sample size must be a non-negative integer, got {m!r}")
        k = rng.choice(self.n_components, size=int(m), p=self.weights)
        return self.means[k] + self.sigmas[k] * rng.standard_normal((int(m), self.dim))

    def _require_1d(self, what):
        if self.dim != 1:
            raise ValueError(f"{what} is defined for 1-D mixtures only; this mixture has dimension {self.dim}")

    def pdf(self, x):
        """1-D density exp(log p(x))."""
        self._require_1d("pdf")
        return np.exp(self.log_prob(np.ravel(x))).reshape(np.shape(x))

    def _log_phi_mix(self, z):
        """logsumexp_k(log w_k + log Phi(z_k)) for standardised z of shape (m, K)."""
        return special.logsumexp(special.log_ndtr(z) + np.log(self.weights), axis=1)

    def log_cdf(self, x):
        """1-D log F(x) = logsumexp_k(log w_k + log Phi((x - mu_k)/sigma_k))."""
        self._require_1d("log_cdf")
        x = np.asarray(x, dtype=float)
        return self._log_phi_mix((x.reshape(-1, 1) - self.means[:, 0]) / self.sigmas[:, 0]).reshape(x.shape)

    def log_sf(self, x):
        """1-D log(1 - F(x)) = logsumexp_k(log w_k + log Phi((mu_k - x)/sigma_k))."""
        self._require_1d("log_sf")
        x = np.asarray(x, dtype=float)
        return self._log_phi_mix((self.means[:, 0] - x.reshape(-1, 1)) / self.sigmas[:, 0]).reshape(x.shape)

    def cdf(self, x):
        """1-D F(x) = sum_k w_k Phi((x - mu_k)/sigma_k), via log_ndtr and logsumexp."""
        return np.clip(np.exp(self.log_cdf(x)), 0.0, 1.0)

    def ppf(self, u):
        """1-D inverse cdf, vectorised: bisection on log F (or log(1 - F) above the median).

        The component quantiles bracket the mixture quantile; at most 80 halvings of
        the bracket reach the float spacing.
        """
        self._require_1d("ppf")
        u = np.asarray(u, dtype=float)
        if not np.all((u > 0) & (u < 1)):
            raise ValueError("ppf needs u strictly inside (0, 1)")
        flat = u.ravel()
        upper = flat > 0.5
        target = np.where(upper, np.log1p(-flat), np.log(flat))
        q = self.means[:, 0] + self.sigmas[:, 0] * special.ndtri(flat)[:, None]
        lo, hi = q.min(axis=1), q.max(axis=1)
        pad = 1e-9 * (1 + np.maximum(abs(lo), abs(hi)))
        lo, hi = lo - pad, hi + pad

        def excess(t):  # increasing in t in both branches
            return np.where(upper, target - self.log_sf(t), self.log_cdf(t) - target)

        for _ in range(80):
            mid = 0.5 * (lo + hi)
            above = excess(mid) > 0
            hi, lo = np.where(above, mid, hi), np.where(above, lo, mid)
            if np.all(hi - lo <= 4 * np.finfo(float).eps * np.maximum(1.0, abs(mid))):
                break
        return (0.5 * (lo + hi)).reshape(u.shape)

    def to_torch(self, device="auto", dtype="float64"):
        """The same mixture as a :class:`TorchGaussianMixture`."""
        return TorchGaussianMixture(self, device=device, dtype=dtype)


class TorchGaussianMixture:
    """Torch twin of :class:`GaussianMixture`: batched log_prob, closed-form score, sample."""

    def __init__(self, mixture, device="auto", dtype="float64"):
        import torch
        from ganphase.simulate.device import resolve_device, resolve_dtype
        self.device, self.dtype = resolve_device(device), resolve_dtype(dtype)
        kw = dict(device=self.device, dtype=self.dtype)
        self.means = torch.as_tensor(mixture.means, **kw)
        self.sigmas = torch.as_tensor(mixture.sigmas, **kw)
        self.log_weights = torch.as_tensor(np.log(mixture.weights), **kw)
        self.dim, self.n_components = mixture.dim, mixture.n_components

    def component_log_probs(self, x):
        z = (x[:, None, :] - self.means[None]) / self.sigmas[None]
        log_norm = -0.5 * self.dim * LOG_2PI - self.sigmas.log().sum(dim=1)
        return self.log_weights[None] + log_norm[None] - 0.5 * (z ** 2).sum(dim=2)

    def log_prob(self, x):
        return self.component_log_probs(x).logsumexp(dim=1)

    def score(self, x):
        return self.stats(x)[1]

    def stats(self, x):
        """(log p(x), grad log p(x)) from one evaluation of the component densities."""
        lp = self.component_log_probs(x)
        log_p = lp.logsumexp(dim=1, keepdim=True)
        grads = (self.means[None] - x[:, None, :]) / self.sigmas[None] ** 2
        return log_p[:, 0], ((lp - log_p).exp()[:, :, None] * grads).sum(dim=1)

    def sample(self, m, generator=None):
        import torch
        k = torch.multinomial(self.log_weights.exp(), int(m), replacement=True, generator=generator)
        eps = torch.randn(int(m), self.dim, generator=generator, dtype=self.dtype, device=self.device)
        return self.means[k] + self.sigmas[k] * eps


class UniformBox:
    """Uniform density on the box [low, high] (per axis); log_prob -inf outside, score 0."""

    def __init__(self, low, high):
        low, high = np.atleast_1d(np.asarray(low, float)), np.atleast_1d(np.asarray(high, float))
        if low.shape != high.shape or low.ndim != 1 or not np.all(np.isfinite(low) & np.isfinite(high)) or np.any(high <= low):
            raise ValueError("UniformBox needs finite 1-D low < high of equal shape")
        self.low, self.high, self.dim = low, high, low.size
        self.log_volume = float(np.log(high - low).sum())

    def log_prob(self, x):
        x = _as_points(x, self.dim)
        inside = np.all((x >= self.low) & (x <= self.high), axis=1)
        return np.where(inside, -self.log_volume, -np.inf)

    def score(self, x):
        return np.zeros_like(_as_points(x, self.dim))

    def sample(self, m, rng):
        return self.low + (self.high - self.low) * rng.random((int(m), self.dim))

    def to_torch(self, device="auto", dtype="float64"):
        """The same box as a :class:`TorchUniformBox`."""
        return TorchUniformBox(self, device=device, dtype=dtype)


class TorchUniformBox:
    """Torch twin of :class:`UniformBox`: log_prob -inf outside, score 0."""

    def __init__(self, box, device="auto", dtype="float64"):
        import torch
        from ganphase.simulate.device import resolve_device, resolve_dtype
        self.device, self.dtype = resolve_device(device), resolve_dtype(dtype)
        self.low = torch.as_tensor(box.low, device=self.device, dtype=self.dtype)
        self.high = torch.as_tensor(box.high, device=self.device, dtype=self.dtype)
        self.dim, self.log_volume = box.dim, box.log_volume

    def log_prob(self, x):
        import torch
        inside = ((x >= self.low) & (x <= self.high)).all(dim=1)
        return torch.where(inside, torch.full_like(x[:, 0], -self.log_volume), torch.full_like(x[:, 0], -float("inf")))

    def score(self, x):
        return x.new_zeros(x.shape)


def table2_case(k):
    """The four (p_data, p_g) pairs of Table 2 (Section 3.1).

    The printed covariances (0.1 I, 0.2 I, I, 3 I) are variances; std devs are their square roots.
    p_data is the equal-weight mixture at [+-1, +-1] (cases 1-3) or [+-3, +-3] (case 4).
    """
    four = np.array([[1.0, 1.0], [1.0, -1.0], [-1.0, 1.0], [-1.0, -1.0]])
    s_data = np.sqrt(0.1)
    if k == 1:
        return GaussianMixture.assumption_2_1(four, s_data), GaussianMixture([[0.0, 0.0]], np.sqrt(0.2))
    if k == 2:
        return GaussianMixture.assumption_2_1(four, s_data), UniformBox([-2.0, -2.0], [2.0, 2.0])
    if k == 3:
        return GaussianMixture.assumption_2_1(four, s_data), GaussianMixture([[1.0, 1.0]], 1.0)
    if k == 4:
        return GaussianMixture.assumption_2_1(3 * four, s_data), GaussianMixture([[3.0, 3.0]], np.sqrt(3.0))
    raise ValueError(f"table2_case: case must be 1, 2, 3 or 4, got {k!r}")
