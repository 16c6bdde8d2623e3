"""Measure-preserving maps and their steepness (Section 3.2; Appendices C.4-C.6, C.8).

* ``OptimalTransportMap1D``: g = Psi^{-1} o Phi pushing N(0, 1) to a 1-D
  Gaussian mixture with CDF Psi (Section 3.2, Theorem C.2 with h = identity),
  and its steepness g'(z) = phi(z) / p_data(g(z)) (the formula derived in claim
  ``thm-c.2``), computed in log space.
* ``ProductMap``: coordinate-wise optimal-transport maps pushing N(0, I_n) to a
  grid mixture (a product of 1-D mixtures); diagonal Jacobian.
* ``TruncatedGaussianBall``: the prior N_r(0, I_n) of Theorem 3.2 (the standard
  Gaussian restricted to the ball B_r and renormalised), with its radial map
  onto N(0, I_n).
* ``TruncatedPriorMap``: product map o radial map, a map pushing N_r(0, I_n) to
  a grid mixture, with its full Jacobian and steepness (spectral norm).
* ``PiecewiseLinearMap`` and the constructors ``tight_map`` and
  ``slope_profile_map``: increasing maps with slope <= k through prescribed
  points (the maps of Theorem 3.4), with exact inverses.

Mixture CDFs, quantiles and densities come from
``ganphase.simulate.mixtures.GaussianMixture``; nothing here recomputes them.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Callable, Sequence

import numpy as np
import sympy as sp
from scipy import optimize, special, stats

from ganphase.simulate.mixtures import GaussianMixture
from ganphase.theory import steepness as theory

LOG_SQRT_2PI = 0.5 * np.log(2 * np.pi)


# ----------------------------------------------------------------------------- validation
def _finite_array(values, name: str, ndim: int | None = None) -> np.ndarray:
    arr = np.asarray(values, dtype=float)
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must be a {ndim}-D array, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite (no NaN or infinity), got {values!r}")
    return arr


def _positive(value, name: str) -> float:
    value = float(value)
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return value


def _one_d(mixture) -> GaussianMixture:
    if not isinstance(mixture, GaussianMixture):
        raise ValueError(f"expected a ganphase.simulate.mixtures.GaussianMixture, got {type(mixture).__name__}")
    if mixture.dim != 1:
        raise ValueError(f"the optimal-transport map needs a 1-D mixture, got dimension {mixture.dim}")
    return mixture


def _reflected(mixture: GaussianMixture) -> GaussianMixture:
    """The mixture of -X: its CDF at -x is the survival function of X at x."""
    return GaussianMixture(-np.asarray(mixture.means), mixture.sigmas, mixture.weights)


# ----------------------------------------------------------------------------- 1-D OT map
@lru_cache(maxsize=1)
def _log_slope_formula():
    """log g'(z) as a function of (z, log p_data(g(z))), from the derivation of claim thm-c.2."""
    log_p = sp.Symbol("log_p", real=True)
    slope = theory.ot_slope().subs(theory.p_data(theory.g(theory.z)), sp.exp(log_p))
    return sp.lambdify((theory.z, log_p), sp.expand_log(sp.log(slope), force=True), modules="numpy")


class OptimalTransportMap1D:
    """g = Psi^{-1} o Phi: the increasing map with g#N(0, 1) = p_data (Section 3.2, Theorem C.2).

    Accurate to about 1e-10 for |z| <= 8: the lower half uses Phi(z) for z <= 0 and
    the upper half the reflected mixture, g(z) = -g_{-X}(-z), so that Phi(z) near 1
    is never formed; each quantile is polished by Newton steps on log Psi.
    """

    def __init__(self, mixture: GaussianMixture):
        self.mixture = _one_d(mixture)
        self._mirror = _reflected(self.mixture)

    @staticmethod
    def _lower_half(mix: GaussianMixture, z: np.ndarray) -> np.ndarray:
        """Psi^{-1}(Phi(z)) for z <= 0, Newton-polished in log space."""
        log_u = special.log_ndtr(z)
        xs = np.asarray(mix.ppf(np.exp(log_u)), dtype=float).reshape(z.shape)
        for _ in range(3):
            cdf = np.asarray(mix.cdf(xs), dtype=float).reshape(z.shape)
            log_pdf = np.asarray(mix.log_prob(xs[..., None]), dtype=float).reshape(z.shape)
            step = (np.log(cdf) - log_u) * cdf / np.exp(log_pdf)
            xs = xs - np.where(np.isfinite(step), step, 0.0)
        return xs

    def __call__(self, z) -> np.ndarray:
        z = _finite_array(z, "z")
        out = np.empty_like(z)
        low = z <= 0
        if np.any(low):
            out[low] = self._lower_half(self.mixture, z[low])
        if np.any(~low):
            out[~low] = -self._lower_half(self._mirror, -z[~low])
        return out

    def inverse(self, x) -> np.ndarray:
        """g^{-1}(x) = Phi^{-1}(Psi(x)), from whichever tail of Psi is smaller."""
        x = _finite_array(x, "x")
        lower = np.asarray(self.mixture.cdf(x), dtype=float).reshape(x.shape)
        upper = np.asarray(self._mirror.cdf(-x), dtype=float).reshape(x.shape)
        return np.where(lower <= upper, special.ndtri(lower), -special.ndtri(upper))

    def log_slope(self, z) -> np.ndarray:
        """log g'(z) = log phi(z) - log p_data(g(z)) (derived in claim thm-c.2)."""
        z = _finite_array(z, "z")
        log_p = np.asarray(self.mixture.log_prob(self(z)[..., None]), dtype=float).reshape(z.shape)
        return _log_slope_formula()(z, log_p)

    def slope(self, z) -> np.ndarray:
        """Steepness S_g(z) = g'(z) (Definition 2.1 with n = 1)."""
        return np.exp(self.log_slope(z))

    def log_slope_at_image(self, x) -> np.ndarray:
        """log g'(g^{-1}(x)) = log phi(Phi^{-1}(Psi(x))) - log p_data(x): the steepness as a function of x.

        Smooth on the scale sigma in x, whereas g'(z) can peak within 1e-15 in z between far modes.
        """
        x = _finite_array(x, "x")
        log_p = np.asarray(self.mixture.log_prob(x[..., None]), dtype=float).reshape(x.shape)
        return _log_slope_formula()(self.inverse(x), log_p)

    def local_max_steepness(self, z_max: float = 8.0, grid: int = 4001) -> list[tuple[float, float]]:
        """Every local maximum (z, g'(z)) of the steepness for |z| <= z_max.

        Searched over x = g(z) on a grid of [g(-z_max), g(z_max)], then refined by bounded scipy
        minimisation of -log g'(g^{-1}(x)) between the neighbours of each grid peak.
        """
        z_max = _positive(z_max, "z_max")
        if int(grid) < 3:
            raise ValueError(f"grid must be at least 3 points, got {grid}")
        lo_x, hi_x = self(np.array([-z_max, z_max]))
        xs = np.linspace(lo_x, hi_x, int(grid))
        ls = self.log_slope_at_image(xs)
        last = len(xs) - 1
        peaks = [i for i in range(len(xs)) if (i == 0 or ls[i] >= ls[i - 1]) and (i == last or ls[i] >= ls[i + 1])]
        found = []
        for i in peaks:
            res = optimize.minimize_scalar(lambda t: -float(self.log_slope_at_image(np.array([t]))[0]),
                                           bounds=(xs[max(i - 1, 0)], xs[min(i + 1, last)]), method="bounded",
                                           options={"xatol": 1e-12 * (1 + abs(xs[i]))})
            x_best, l_best = (res.x, -res.fun) if -res.fun >= ls[i] else (xs[i], ls[i])
            found.append((float(self.inverse(np.array([x_best]))[0]), float(np.exp(l_best))))
        return found

    def max_steepness(self, z_max: float = 8.0, grid: int = 4001) -> tuple[float, float]:
        """(z_*, max g') over [-z_max, z_max] (see ``local_max_steepness``)."""
        return max(self.local_max_steepness(z_max, grid), key=lambda p: p[1])


# ----------------------------------------------------------------------------- n-D product map
def grid_mixture(axes: Sequence[Sequence[float]], sigma: float) -> tuple[list[GaussianMixture], np.ndarray]:
    """The grid mixture of Assumption 2.1: centres = axes[0] x ... x axes[n-1], equal weights, sigma^2 I_n.

    Returns the 1-D factor mixtures (equal weights on each axis) and the (K, n) array of centres.
    The grid mixture is the product of its factors, so coordinate-wise maps push N(0, I_n) onto it.
    """
    sigma = _positive(sigma, "sigma")
    if len(axes) == 0:
        raise ValueError("axes must hold at least one axis of centres")
    factors = []
    for a, axis in enumerate(axes):
        axis = _finite_array(axis, f"axes[{a}]", ndim=1)
        if len(axis) == 0:
            raise ValueError(f"axes[{a}] is empty; every axis needs at least one centre")
        factors.append(GaussianMixture.assumption_2_1(axis.reshape(-1, 1), sigma))
    centres = np.stack(np.meshgrid(*[np.asarray(a, dtype=float) for a in axes], indexing="ij"), -1).reshape(-1, len(axes))
    return factors, centres


class ProductMap:
    """T(z) = (g_1(z_1), ..., g_n(z_n)) with g_j the optimal-transport map of factor j; J_T = diag(g_j')."""

    def __init__(self, factors: Sequence[GaussianMixture]):
        if len(factors) == 0:
            raise ValueError("a product map needs at least one factor mixture")
        self.maps = [OptimalTransportMap1D(f) for f in factors]
        self.dim = len(self.maps)

    def _points(self, z) -> np.ndarray:
        z = _finite_array(z, "z")
        if z.ndim != 2 or z.shape[1] != self.dim:
            raise ValueError(f"points must have shape (m, {self.dim}), got {z.shape}")
        return z

    def __call__(self, z) -> np.ndarray:
        z = self._points(z)
        return np.stack([m(z[:, j]) for j, m in enumerate(self.maps)], axis=1)

    def inverse(self, x) -> np.ndarray:
        x = self._points(x)
        return np.stack([m.inverse(x[:, j]) for j, m in enumerate(self.maps)], axis=1)

    def jacobian_diagonal(self, z) -> np.ndarray:
        z = self._points(z)
        return np.stack([m.slope(z[:, j]) for j, m in enumerate(self.maps)], axis=1)

    def jacobian_diagonal_at_image(self, x) -> np.ndarray:
        """diag J_T at T^{-1}(x), from the well-conditioned x-side formula of each factor."""
        x = self._points(x)
        return np.stack([np.exp(m.log_slope_at_image(x[:, j])) for j, m in enumerate(self.maps)], axis=1)

    def steepness(self, z) -> np.ndarray:
        """||J_T(z)||_2 = max_j g_j'(z_j) (the Jacobian is diagonal with positive entries)."""
        return self.jacobian_diagonal(z).max(axis=1)

    def max_steepness(self, z_max: float = 8.0) -> float:
        """sup over the cube [-z_max, z_max]^n of the steepness: the largest factor maximum."""
        return max(m.max_steepness(z_max)[1] for m in self.maps)


# ----------------------------------------------------------------------------- truncated prior
class TruncatedGaussianBall:
    """N_r(0, I_n): density phi_n(z) / P(||Z|| < r) on the ball B_r (Theorem 3.2)."""

    def __init__(self, dim: int, radius: float):
        if int(dim) != dim or dim < 1:
            raise ValueError(f"dim must be a positive integer, got {dim!r}")
        self.dim, self.radius = int(dim), _positive(radius, "radius")
        self.log_normaliser = float(stats.chi2.logcdf(self.radius**2, self.dim))
        self._mass_outside = float(stats.chi2.sf(self.radius**2, self.dim))

    @property
    def normaliser(self) -> float:
        """P(||Z|| < r) for Z ~ N(0, I_n) (chi-square CDF at r^2)."""
        return float(np.exp(self.log_normaliser))

    def log_prob(self, z) -> np.ndarray:
        z = _finite_array(z, "z", ndim=2)
        sq = np.sum(z**2, axis=1)
        inside = -0.5 * sq - self.dim * LOG_SQRT_2PI - self.log_normaliser
        return np.where(sq < self.radius**2, inside, -np.inf)

    def sample(self, m: int, rng: np.random.Generator) -> np.ndarray:
        """Uniform direction times a radius drawn from the chi law truncated to [0, r)."""
        if int(m) != m or m < 1:
            raise ValueError(f"the number of samples must be a positive integer, got {m!r}")
        direction = rng.standard_normal((int(m), self.dim))
        direction /= np.linalg.norm(direction, axis=1, keepdims=True)
        u = rng.uniform(size=int(m)) * self.normaliser
        return direction * np.sqrt(stats.chi2.ppf(u, self.dim))[:, None]

    def _radius_out(self, s: np.ndarray) -> np.ndarray:
        """rho(s) = F_chi^{-1}(F_chi(s) / P(B_r)): radial CDF matching of N_r onto N(0, I_n)."""
        lower = stats.chi2.cdf(s**2, self.dim) / self.normaliser
        upper = (stats.chi2.sf(s**2, self.dim) - self._mass_outside) / self.normaliser
        return np.sqrt(np.where(lower < 0.5, stats.chi2.ppf(lower, self.dim), stats.chi2.isf(upper, self.dim)))

    def _radius_in(self, t: np.ndarray) -> np.ndarray:
        lower = stats.chi2.cdf(t**2, self.dim) * self.normaliser
        return np.sqrt(stats.chi2.ppf(lower, self.dim))

    def to_gaussian(self, z) -> np.ndarray:
        """R(z) = rho(||z||) z / ||z||, which pushes N_r(0, I_n) onto N(0, I_n)."""
        z = _finite_array(z, "z", ndim=2)
        s = np.linalg.norm(z, axis=1)
        if np.any(s >= self.radius):
            raise ValueError(f"points must lie inside the ball of radius {self.radius}")
        safe = np.where(s > 0, s, 1.0)
        return z * (self._radius_out(safe) / safe)[:, None]

    def from_gaussian(self, w) -> np.ndarray:
        w = _finite_array(w, "w", ndim=2)
        t = np.linalg.norm(w, axis=1)
        safe = np.where(t > 0, t, 1.0)
        return w * (self._radius_in(safe) / safe)[:, None]

    def to_gaussian_jacobian(self, z) -> np.ndarray:
        """J_R(z) = (rho/s)(I - u u^T) + rho'(s) u u^T, rho'(s) = f_chi(s) / (P(B_r) f_chi(rho(s)))."""
        z = _finite_array(z, "z", ndim=2)
        s = np.linalg.norm(z, axis=1)
        if np.any(s <= 0) or np.any(s >= self.radius):
            raise ValueError(f"Jacobian points must satisfy 0 < ||z|| < {self.radius}")
        return self._radial_jacobian(s, self._radius_out(s), z / s[:, None])

    def jacobian_from_gaussian(self, w) -> tuple[np.ndarray, np.ndarray]:
        """(J_R(z), ||z||) at z = R^{-1}(w), evaluated from w.

        Far-out w come from z within rounding of the sphere ||z|| = r; their Jacobian is computed
        from rho = ||w|| and s = ||z||, never from z itself.
        """
        w = _finite_array(w, "w", ndim=2)
        rho = np.linalg.norm(w, axis=1)
        s = self._radius_in(rho)
        return self._radial_jacobian(s, rho, w / np.where(rho > 0, rho, 1.0)[:, None]), s

    def _radial_jacobian(self, s, rho, u) -> np.ndarray:
        """At s = 0 the limit is P(B_r)^{-1/n} I (F_chi(s) ~ C s^n near 0, so rho^n = s^n / P(B_r))."""
        centre = s <= 0
        s_safe, rho_safe = np.where(centre, 1.0, s), np.where(centre, 1.0, rho)
        drho = np.exp(stats.chi.logpdf(s_safe, self.dim) - self.log_normaliser - stats.chi.logpdf(rho_safe, self.dim))
        ratio = rho_safe / s_safe
        limit = np.exp(-self.log_normaliser / self.dim)
        drho, ratio = np.where(centre, limit, drho), np.where(centre, limit, ratio)
        outer = u[:, :, None] * u[:, None, :]
        eye = np.eye(self.dim)[None]
        return ratio[:, None, None] * (eye - outer) + drho[:, None, None] * outer

    def log_prob_at_radius(self, s) -> np.ndarray:
        """log p_z at any point with ||z|| = s < r."""
        s = _finite_array(s, "s")
        return -0.5 * s**2 - self.dim * LOG_SQRT_2PI - self.log_normaliser


class TruncatedPriorMap:
    """g = T o R: N_r(0, I_n) -> N(0, I_n) -> grid mixture; J_g(z) = diag(T'(R(z))) J_R(z)."""

    def __init__(self, factors: Sequence[GaussianMixture], radius: float):
        self.product = ProductMap(factors)
        self.ball = TruncatedGaussianBall(self.product.dim, radius)

    def __call__(self, z) -> np.ndarray:
        return self.product(self.ball.to_gaussian(z))

    def inverse(self, x) -> np.ndarray:
        return self.ball.from_gaussian(self.product.inverse(x))

    def jacobian(self, z) -> np.ndarray:
        diag = self.product.jacobian_diagonal(self.ball.to_gaussian(z))
        return diag[:, :, None] * self.ball.to_gaussian_jacobian(z)

    def steepness(self, z) -> np.ndarray:
        """S_g(z) = ||J_g(z)||_2 (Definition 2.1)."""
        return np.linalg.norm(self.jacobian(z), ord=2, axis=(1, 2))

    def at_preimage(self, x) -> tuple[np.ndarray, np.ndarray]:
        """(J_g(z), log p_z(z)) at z = g^{-1}(x), computed through w = T^{-1}(x) (see jacobian_from_gaussian)."""
        w = self.product.inverse(x)
        jac_r, s = self.ball.jacobian_from_gaussian(w)
        return self.product.jacobian_diagonal_at_image(x)[:, :, None] * jac_r, self.ball.log_prob_at_radius(s)


# ----------------------------------------------------------------------------- monotone maps, slope <= k
@dataclass(frozen=True)
class PiecewiseLinearMap:
    """An increasing piecewise-linear map through (knots[j], values[j]), extended linearly beyond the ends."""

    knots: np.ndarray
    values: np.ndarray

    def __post_init__(self):
        knots, values = _finite_array(self.knots, "knots", 1), _finite_array(self.values, "values", 1)
        if len(knots) < 2 or len(knots) != len(values):
            raise ValueError("knots and values must be 1-D arrays of the same length >= 2")
        if np.any(np.diff(knots) <= 0) or np.any(np.diff(values) <= 0):
            raise ValueError("knots and values must be strictly increasing (an increasing map)")
        object.__setattr__(self, "knots", knots)
        object.__setattr__(self, "values", values)

    @cached_property
    def slopes(self) -> np.ndarray:
        return np.diff(self.values) / np.diff(self.knots)

    @property
    def max_slope(self) -> float:
        """sup g' (Definition 2.1 with n = 1)."""
        return float(self.slopes.max())

    @staticmethod
    def _interp(t, xs, ys, first, last):
        t = _finite_array(t, "argument")
        inner = np.interp(t, xs, ys)
        return np.where(t < xs[0], ys[0] + (t - xs[0]) * first, np.where(t > xs[-1], ys[-1] + (t - xs[-1]) * last, inner))

    def __call__(self, z) -> np.ndarray:
        return self._interp(z, self.knots, self.values, self.slopes[0], self.slopes[-1])

    def inverse(self, x) -> np.ndarray:
        return self._interp(x, self.values, self.knots, 1 / self.slopes[0], 1 / self.slopes[-1])


def midpoint_anchors(mixture: GaussianMixture) -> tuple[np.ndarray, np.ndarray]:
    """(c_i, m_i): midpoints m_i = (x_i + x_{i+1})/2 and c_i = Phi^{-1}(Psi(m_i)) (Theorem 3.4)."""
    centres = np.sort(np.asarray(_one_d(mixture).means, dtype=float).ravel())
    mids = (centres[:-1] + centres[1:]) / 2
    return OptimalTransportMap1D(mixture).inverse(mids), mids


def min_feasible_slope(mixture: GaussianMixture) -> float:
    """Least k for which an increasing g with g' <= k meets every midpoint condition: max (dm / dc)."""
    c, m = midpoint_anchors(mixture)
    return float(np.max(np.diff(m) / np.diff(c))) if len(c) > 1 else 0.0


def _check_k(mixture: GaussianMixture, k: float) -> float:
    k = _positive(k, "k")
    need = min_feasible_slope(mixture)
    if k < need * (1 + 1e-12):
        raise ValueError(f"no increasing map with slope <= k = {k} meets the midpoint conditions; k must be > {need}")
    return k


def tight_map(mixture: GaussianMixture, sigma: float, k: float, tail_slope: float | None = None) -> PiecewiseLinearMap:
    """Slope k on [c_i - a_i, c_i + a_i], a_i = (x_{i+1} - x_i - 6 sigma)/(2k), through (c_i, m_i).

    It maps c_i +- a_i to the ends of the mode-mixture interval [x_i + 3 sigma, x_{i+1} - 3 sigma] and
    joins consecutive pieces linearly (slope <= k whenever k exceeds ``min_feasible_slope``); it leaves
    each interval as fast as sup g' <= k allows.
    """
    sigma, k = _positive(sigma, "sigma"), _check_k(mixture, k)
    c, m = midpoint_anchors(mixture)
    centres = np.sort(np.asarray(mixture.means, dtype=float).ravel())
    half = (np.diff(centres) - 6 * sigma) / (2 * k)
    if np.any(half < 0):
        raise ValueError("tight_map needs gaps x_{i+1} - x_i >= 6 sigma (the separation of Theorem 3.4)")
    knots = np.ravel(np.column_stack([c - half, c + half]))
    values = np.ravel(np.column_stack([m - k * half, m + k * half]))
    keep = np.concatenate([[True], np.diff(knots) > 0])
    tail = k if tail_slope is None else _positive(tail_slope, "tail_slope")
    knots = np.concatenate([[knots[0] - 1.0], knots[keep], [knots[-1] + 1.0]])
    values = np.concatenate([[values[0] - tail], values[keep], [values[-1] + tail]])
    return PiecewiseLinearMap(knots, values)


def slope_profile_map(mixture: GaussianMixture, k: float, base: Callable[[np.ndarray], np.ndarray] | None = None,
                      antiderivative: Callable[[np.ndarray], np.ndarray] | None = None,
                      z_max: float = 9.0, grid: int = 6001) -> PiecewiseLinearMap:
    """Increasing piecewise-linear map with sup g' <= k through every (c_i, m_i), shaped like a base profile.

    On each grid cell [z_j, z_{j+1}] the map rises by min(lambda_i dB_j, k dz_j), where dB_j is the
    integral of the base slope over the cell (exact from ``antiderivative`` B, or by the trapezoid rule
    from ``base``); lambda_i is solved (brentq) on each [c_i, c_{i+1}] so the rises add up to
    m_{i+1} - m_i, and lambda = 1 outside [c_1, c_{N-1}].  With B = g_OT this is the optimal-transport
    map with its slope clipped at k; the result is an exact increasing map with slope <= k.
    """
    k = _check_k(mixture, k)
    if (base is None) == (antiderivative is None):
        raise ValueError("give exactly one of base (a slope profile) and antiderivative (its integral)")
    c, m = midpoint_anchors(mixture)
    zs = np.linspace(min(-z_max, c[0] - 1), max(z_max, c[-1] + 1), int(grid))
    zs = np.union1d(zs[np.min(np.abs(zs[:, None] - c[None, :]), axis=1) > 1e-6], c)
    if antiderivative is not None:
        rise = np.diff(np.asarray(antiderivative(zs), dtype=float))
    else:
        b = np.asarray(base(zs), dtype=float)
        rise = np.diff(zs) * (b[1:] + b[:-1]) / 2
    if np.any(~np.isfinite(rise)) or np.any(rise <= 0):
        raise ValueError("the base slope profile must be finite and > 0 on the grid")
    cap = k * np.diff(zs)
    increments = np.minimum(rise, cap)
    idx = np.searchsorted(zs, c)
    for i in range(len(c) - 1):
        cells = slice(idx[i], idx[i + 1])
        area = lambda lam: np.sum(np.minimum(lam * rise[cells], cap[cells])) - (m[i + 1] - m[i])
        lo, hi = 1.0, 1.0
        while area(hi) < 0:
            hi *= 2
        while area(lo) > 0:
            lo /= 2
        increments[cells] = np.minimum(optimize.brentq(area, lo, hi, xtol=1e-300, rtol=1e-15) * rise[cells],
                                       cap[cells])
        increments[cells] *= (m[i + 1] - m[i]) / np.sum(increments[cells])   # the brentq residual, ~1e-16
    values = np.concatenate([[0.0], np.cumsum(increments)])
    values += m[0] - values[idx[0]]
    return PiecewiseLinearMap(zs, values)
