"""The push-forward flow of Theorem 3.3 on a latent grid (Section 3.2, Appendix C.7).

A monotone 1-D generator g is stored by its values on a grid z_0 < ... < z_{N-1}.
Its push-forward p_g = g_# N(0, 1) is known exactly at the particles x_i = g(z_i)
by the change-of-variables formula

    log p_g(g(z)) = log phi(z) - log g'(z),
    (log p_g)'(g(z)) = -(z + g''(z) / g'(z)) / g'(z),

so the particle field of Algorithm 1 with the optimal discriminator,

    (d'/d)(x) = (1 - d(x)) (log p_data - log p_g)'(x),   1 - d = sigmoid(log p_g - log p_data),

is evaluated in log space at every particle, with g', g'' from finite-difference
weights of high order on the (possibly non-uniform) grid (Fornberg's algorithm).
One step of Algorithm 1 is g(z) <- g(z) + dt (d'/d)(g(z)).  The flow records
g'(0) and g'''(0) after every step, the quantities of the Theorem 3.3 ODE.

Between grid points, p_g is evaluated from a monotone cubic Hermite interpolation
of z(x) = g^{-1}(x) (slopes 1/g') and of log g'(z).

The move -(log p_g)' contains g''/g'^2, a diffusion in z: explicit steps are
stable for dt below about h_x^2 / 2 with h_x the particle spacing; a step that
breaks monotonicity is reported, with the advice to lower dt.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
from scipy.interpolate import CubicHermiteSpline, PchipInterpolator
from scipy.special import expit

from ganphase.io import atomic_write_bytes, write_json

LOG_SQRT_2PI = 0.5 * np.log(2 * np.pi)


# --------------------------------------------------------------------------- finite differences

def fornberg_weights(offsets: np.ndarray, max_order: int) -> np.ndarray:
    """Finite-difference weights for derivatives 0..max_order at 0 from nodes at ``offsets``.

    Fornberg (1988), 'Generation of finite difference formulas on arbitrarily
    spaced grids', vectorised over many stencils: ``offsets`` has shape
    (stencils, width); the result has shape (max_order + 1, stencils, width),
    so that derivative m at stencil s is sum_j w[m, s, j] f(node_j).
    """
    offsets = np.atleast_2d(np.asarray(offsets, dtype=np.float64))
    n_st, width = offsets.shape
    if width <= max_order:
        raise ValueError(f"a stencil of {width} nodes cannot give derivative {max_order}; use more nodes")
    c = np.zeros((max_order + 1, n_st, width))
    c[0, :, 0] = 1.0
    c1 = np.ones(n_st)
    c4 = offsets[:, 0].copy()
    for i in range(1, width):
        mn = min(i, max_order)
        c2 = np.ones(n_st)
        c5 = c4
        c4 = offsets[:, i].copy()
        for j in range(i):
            c3 = offsets[:, i] - offsets[:, j]
            c2 = c2 * c3
            if j == i - 1:
                for m in range(mn, 0, -1):
                    c[m, :, i] = c1 * (m * c[m - 1, :, i - 1] - c5 * c[m, :, i - 1]) / c2
                c[0, :, i] = -c1 * c5 * c[0, :, i - 1] / c2
            for m in range(mn, 0, -1):
                c[m, :, j] = (c4 * c[m, :, j] - m * c[m - 1, :, j]) / c3
            c[0, :, j] = c4 * c[0, :, j] / c3
        c1 = c2
    return c


class Derivatives:
    """Derivatives 1..3 at every node of a grid, from ``width``-point stencils.

    Centred stencils in the interior, shifted (one-sided) ones at the ends; on a
    smooth grid the error of derivative m is O(h^(width - m)).
    """

    def __init__(self, nodes: np.ndarray, width: int = 9):
        nodes = np.asarray(nodes, dtype=np.float64)
        if width < 5 or width % 2 == 0:
            raise ValueError(f"stencil width must be odd and at least 5, got {width}")
        if nodes.ndim != 1 or nodes.size < width:
            raise ValueError(f"need a 1-D grid with at least {width} nodes, got shape {nodes.shape}")
        if not np.all(np.diff(nodes) > 0):
            raise ValueError("grid nodes must be strictly increasing")
        n, half = nodes.size, width // 2
        start = np.clip(np.arange(n) - half, 0, n - width)
        self.index = start[:, None] + np.arange(width)[None, :]
        self.weights = fornberg_weights(nodes[self.index] - nodes[:, None], 3)

    def __call__(self, values: np.ndarray, order: int) -> np.ndarray:
        if order not in (1, 2, 3):
            raise ValueError(f"derivative order must be 1, 2 or 3, got {order}")
        return np.einsum("ij,ij->i", self.weights[order], values[self.index])

    def at(self, values: np.ndarray, node: int, order: int) -> float:
        return float(self.weights[order, node] @ values[self.index[node]])


# --------------------------------------------------------------------------- grids

def latent_grid(n: int, half_width: float = 8.0, stretch: float = 0.0) -> np.ndarray:
    """z_i = L sinh(b u_i) / sinh(b), u uniform on [-1, 1] (b = ``stretch``; b = 0 is uniform).

    ``n`` is odd so that z = 0 is a node; b > 0 puts more nodes near z = 0,
    where the generator becomes steep.
    """
    if n < 9 or n % 2 == 0:
        raise ValueError(f"the grid needs an odd number of at least 9 nodes (z = 0 is a node), got {n}")
    if not (half_width > 0 and np.isfinite(half_width)):
        raise ValueError(f"half_width must be a positive number, got {half_width}")
    if not (stretch >= 0 and np.isfinite(stretch)):
        raise ValueError(f"stretch must be >= 0, got {stretch}")
    u = np.linspace(-1.0, 1.0, n)
    z = half_width * (np.sinh(stretch * u) / np.sinh(stretch) if stretch > 0 else u)
    z[n // 2] = 0.0
    return z


# --------------------------------------------------------------------------- the flow

def _check_mixture(p_data) -> None:
    for name in ("log_prob", "score"):
        if not callable(getattr(p_data, name, None)):
            raise ValueError(f"p_data must have a {name}(x) method (e.g. ganphase.simulate.mixtures.GaussianMixture)")


@dataclass
class PushforwardState:
    """A generator on a latent grid: values g(z_i), at time t after ``step`` steps."""

    z: np.ndarray
    g: np.ndarray
    t: float = 0.0
    step: int = 0


class PushforwardFlow:
    """Algorithm 1 with the optimal discriminator, acting on a 1-D generator stored on a grid.

    ``p_data`` is any object with ``log_prob(x)`` and ``score(x)`` (d/dx log
    p_data), e.g. ``GaussianMixture``.  ``g0`` is a callable on z or an array of
    values on ``z``; it must be strictly increasing.
    """

    def __init__(self, p_data, g0: Callable | np.ndarray, z: np.ndarray, *, width: int = 9):
        _check_mixture(p_data)
        z = np.asarray(z, dtype=np.float64)
        self.p_data = p_data
        self.deriv = Derivatives(z, width)
        self.center = int(np.argmin(np.abs(z)))
        if z[self.center] != 0.0:
            raise ValueError("the grid must contain z = 0 (use an odd number of nodes symmetric about 0)")
        g = np.asarray(g0(z) if callable(g0) else g0, dtype=np.float64)
        if g.shape != z.shape:
            raise ValueError(f"initial generator has shape {g.shape}, the grid {z.shape}")
        if not np.all(np.isfinite(g)) or not np.all(np.diff(g) > 0):
            raise ValueError("the initial generator must be finite and strictly increasing on the grid")
        if not np.all(self.deriv(g, 1) > 0):
            raise ValueError("the initial generator must have g' > 0 at every node")
        self.state = PushforwardState(z, g)

    # ---- quantities at the particles

    def log_density_at_particles(self, g: np.ndarray | None = None) -> np.ndarray:
        """log p_g(g(z_i)) = log phi(z_i) - log g'(z_i)."""
        g = self.state.g if g is None else g
        z = self.state.z
        return -0.5 * z ** 2 - LOG_SQRT_2PI - np.log(self.deriv(g, 1))

    def field(self, g: np.ndarray | None = None) -> np.ndarray:
        """(d'/d)(g(z_i)) = sigmoid(log p_g - log p_data) (score_data - score_g), in log space."""
        g = self.state.g if g is None else g
        z = self.state.z
        g1, g2 = self.deriv(g, 1), self.deriv(g, 2)
        if not np.all(g1 > 0):
            raise ValueError("the generator stopped being increasing (g' <= 0 at a node): "
                             "lower dt or refine the grid")
        log_pg = -0.5 * z ** 2 - LOG_SQRT_2PI - np.log(g1)
        score_g = -(z + g2 / g1) / g1
        log_pd = np.asarray(self.p_data.log_prob(g), dtype=np.float64)
        score_d = np.asarray(self.p_data.score(g), dtype=np.float64)
        if log_pd.shape != g.shape or score_d.shape != g.shape:
            raise ValueError(f"p_data.log_prob / score returned shapes {log_pd.shape} / {score_d.shape} for "
                             f"{g.shape} points; a 1-D target must return one value per point")
        return expit(log_pg - log_pd) * (score_d - score_g)

    def slope_and_third(self, g: np.ndarray | None = None) -> tuple[float, float]:
        """(g'(0), g'''(0)) from the high-order stencils at the node z = 0."""
        g = self.state.g if g is None else g
        return self.deriv.at(g, self.center, 1), self.deriv.at(g, self.center, 3)

    def step(self, dt: float) -> None:
        """One step of Algorithm 1: g <- g + dt (d'/d)(g)."""
        if not (dt > 0 and np.isfinite(dt)):
            raise ValueError(f"dt must be a positive finite number, got {dt}")
        g = self.state.g + dt * self.field()
        if not np.all(np.isfinite(g)) or not np.all(np.diff(g) > 0):
            raise ValueError(f"step {self.state.step + 1} (t = {self.state.t + dt:.4g}) made the generator "
                             "non-monotone or non-finite: lower dt (explicit steps need dt below about "
                             "half the squared particle spacing) or refine the grid")
        self.state = PushforwardState(self.state.z, g, self.state.t + dt, self.state.step + 1)

    # ---- the density between particles

    def log_density(self, x: np.ndarray) -> np.ndarray:
        """log p_g(x) = log phi(z(x)) - log g'(z(x)), -inf outside the grid's range.

        z(x) = g^{-1}(x) is the cubic Hermite interpolant with the exact slopes
        z'(x) = 1 / g'(z); where those slopes could make it non-monotone
        (Fritsch-Carlson: alpha^2 + beta^2 > 9 on an interval) the monotone
        PCHIP interpolant is used instead.  log g'(z) is interpolated likewise
        with slopes g''/g'.
        """
        x = np.asarray(x, dtype=np.float64)
        z, g = self.state.z, self.state.g
        g1, g2 = self.deriv(g, 1), self.deriv(g, 2)
        secant = np.diff(z) / np.diff(g)
        alpha, beta = (1 / g1[:-1]) / secant, (1 / g1[1:]) / secant
        if np.all(alpha ** 2 + beta ** 2 <= 9):
            inverse = CubicHermiteSpline(g, z, 1 / g1, extrapolate=False)
        else:
            inverse = PchipInterpolator(g, z, extrapolate=False)
        log_slope = CubicHermiteSpline(z, np.log(g1), g2 / g1, extrapolate=False)
        zx = inverse(x)
        out = -0.5 * zx ** 2 - LOG_SQRT_2PI - log_slope(zx)
        return np.where(np.isfinite(out), out, -np.inf)

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Push n standard normal draws through g (monotone interpolation; draws beyond the grid are dropped)."""
        if n < 1:
            raise ValueError(f"n must be a positive integer, got {n}")
        zs = rng.standard_normal(n)
        z = self.state.z
        zs = zs[(zs >= z[0]) & (zs <= z[-1])]
        return PchipInterpolator(z, self.state.g)(zs)


@dataclass
class FlowRecord:
    """g'(0), g'''(0), g(0) after every step, and snapshots of g."""

    t: np.ndarray
    slope: np.ndarray
    third: np.ndarray
    offset: np.ndarray
    snapshot_t: np.ndarray
    snapshots: np.ndarray
    z: np.ndarray
    params: dict = field(default_factory=dict)

    def measured_rate(self) -> np.ndarray:
        """(g'_{n+1}(0) - g'_n(0)) / dt: the simulated d/dt g'(0) over each step."""
        return np.diff(self.slope) / np.diff(self.t)

    def save(self, folder) -> tuple[Path, Path]:
        """Write ``pushforward.npz`` (arrays) and ``pushforward.json`` (parameters and final values)."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        import io
        buf = io.BytesIO()
        np.savez(buf, t=self.t, slope=self.slope, third=self.third, offset=self.offset,
                 snapshot_t=self.snapshot_t, snapshots=self.snapshots, z=self.z)
        npz = atomic_write_bytes(folder / "pushforward.npz", buf.getvalue())
        meta = write_json(folder / "pushforward.json", {
            **self.params, "steps": int(self.t.size - 1), "t_end": float(self.t[-1]),
            "final_slope": float(self.slope[-1]), "final_third": float(self.third[-1])})
        return npz, meta

    @classmethod
    def load(cls, folder) -> "FlowRecord":
        folder = Path(folder)
        with np.load(folder / "pushforward.npz", allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
        params = json.loads((folder / "pushforward.json").read_text())
        return cls(params=params, **arrays)


def run_flow(flow: PushforwardFlow, dt: float, steps: int, *, snapshots: int = 11,
             progress: bool = False, params: dict | None = None,
             checkpoint=None, checkpoint_every: int = 1000) -> FlowRecord:
    """Take ``steps`` steps of size ``dt``, recording g'(0), g'''(0), g(0) after each.

    ``snapshots`` copies of g (evenly spaced in steps, first and last included)
    are kept for plots.  With ``checkpoint`` (a file name), the state and the
    records so far are written there atomically every ``checkpoint_every``
    steps, and a run started with an existing checkpoint of the same grid and
    dt continues from it.
    """
    if not (isinstance(steps, (int, np.integer)) and steps >= 1):
        raise ValueError(f"steps must be a positive integer, got {steps!r}")
    if not (dt > 0 and np.isfinite(dt)):
        raise ValueError(f"dt must be a positive finite number, got {dt}")
    if snapshots < 2:
        raise ValueError(f"snapshots must be at least 2 (first and last), got {snapshots}")
    if not (isinstance(checkpoint_every, (int, np.integer)) and checkpoint_every >= 1):
        raise ValueError(f"checkpoint_every must be a positive integer, got {checkpoint_every!r}")
    keep = set(np.linspace(0, steps, snapshots).round().astype(int).tolist())
    rows = {"t": [], "slope": [], "third": [], "offset": [], "snapshot_t": [], "snapshots": []}
    if checkpoint is not None and Path(checkpoint).exists():
        rows = _resume(flow, checkpoint, dt, steps)

    def record():
        a, c = flow.slope_and_third()
        for key, value in (("t", flow.state.t), ("slope", a), ("third", c), ("offset", flow.state.g[flow.center])):
            rows[key].append(value)
        if flow.state.step in keep:
            rows["snapshot_t"].append(flow.state.t)
            rows["snapshots"].append(flow.state.g.copy())

    if not rows["t"]:
        record()
    iterator = range(flow.state.step, steps)
    if progress:
        from tqdm import tqdm
        iterator = tqdm(iterator, desc="push-forward flow", unit="step", initial=flow.state.step, total=steps)
    for _ in iterator:
        flow.step(dt)
        record()
        if checkpoint is not None and (flow.state.step % checkpoint_every == 0 or flow.state.step == steps):
            _save_checkpoint(checkpoint, flow, dt, steps, rows)
    return FlowRecord(np.array(rows["t"]), np.array(rows["slope"]), np.array(rows["third"]),
                      np.array(rows["offset"]), np.array(rows["snapshot_t"]), np.array(rows["snapshots"]),
                      flow.state.z.copy(), dict(params or {}, dt=dt))


def _save_checkpoint(path, flow: PushforwardFlow, dt: float, steps: int, rows: dict) -> None:
    import io
    buf = io.BytesIO()
    snaps = np.array(rows["snapshots"]) if rows["snapshots"] else np.zeros((0, flow.state.z.size))
    np.savez(buf, z=flow.state.z, g=flow.state.g, time=flow.state.t, step=flow.state.step, dt=dt, steps=steps,
             **{k: np.array(v) for k, v in rows.items() if k != "snapshots"}, snapshots=snaps)
    atomic_write_bytes(path, buf.getvalue())


def _resume(flow: PushforwardFlow, path, dt: float, steps: int) -> dict:
    with np.load(path, allow_pickle=False) as data:
        saved = {k: data[k] for k in data.files}
    if not (np.array_equal(saved["z"], flow.state.z) and float(saved["dt"]) == dt and int(saved["steps"]) == steps):
        raise ValueError(f"checkpoint {path} belongs to a different run (grid, dt or steps differ); "
                         "remove it or use another output folder")
    flow.state = PushforwardState(saved["z"], saved["g"], float(saved["time"]), int(saved["step"]))
    rows = {k: list(saved[k]) for k in ("t", "slope", "third", "offset", "snapshot_t")}
    rows["snapshots"] = list(saved["snapshots"])
    return rows
