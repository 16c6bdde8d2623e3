"""Steepness of a torch generator: S_g(z) = ||J_g(z)||_2 (Definition 2.1).

For a generator z -> x (latent dimension k, output flattened to n numbers, so
J_g(z) is n x k; images give n = C*H*W) two estimators per sample:

* :func:`steepness_exact`: the full Jacobian (``torch.func.jacfwd`` when k <= n,
  ``jacrev`` otherwise, vmapped over the batch) and its largest singular value
  (``torch.linalg.matrix_norm(ord=2)``).
* :class:`PowerSteepness`: power iteration on J^T J with products u = J v and
  w = J^T u, either ``torch.func.jvp`` / ``torch.func.vjp`` (``backend="func"``) or
  the double-vjp form on one autograd graph (``backend="autograd"``, the default,
  faster on CPU), batched over samples, warm-started from the previous
  call's vectors, stopped when every sample's estimate changes by less than a
  relative tolerance.  The estimate sqrt(||J^T J v||) for unit v is a lower bound
  of ||J||_2 that increases to it.

Samples are treated independently, so both run the generator in eval mode
(batch-norm layers use their running statistics: g is then a function of each z).
"""
from __future__ import annotations

from contextlib import contextmanager

import torch
from torch import nn


@contextmanager
def eval_mode(module: nn.Module):
    """Temporarily put ``module`` in eval mode (restores the previous mode); plain callables pass through."""
    if not isinstance(module, nn.Module):
        yield module
        return
    was = module.training
    module.eval()
    try:
        yield module
    finally:
        module.train(was)


def _check(G, z):
    if not isinstance(G, nn.Module) and not callable(G):
        raise ValueError("G must be a torch module or a callable z -> x")
    if not isinstance(z, torch.Tensor) or z.dim() != 2 or z.shape[0] < 1:
        raise ValueError(f"z must be a (batch, latent) tensor with at least one row, got {getattr(z, 'shape', z)}")


def _flat(G):
    return lambda zz: G(zz).reshape(zz.shape[0], -1)


def steepness_exact(G, z: torch.Tensor, chunk: int = 16) -> torch.Tensor:
    """Per-sample ||J_g(z_i)||_2 from the full Jacobian, shape (batch,)."""
    _check(G, z)
    ctx = eval_mode(G) if isinstance(G, nn.Module) else _null()
    with ctx:
        def one(zi):
            return G(zi.unsqueeze(0)).reshape(-1)

        k = z.shape[1]
        n = one(z[:1].detach()[0]).numel()
        jac = torch.func.jacfwd(one) if k <= n else torch.func.jacrev(one)
        out = []
        for part in z.detach().split(chunk):
            J = torch.func.vmap(jac)(part)                       # (b, n, k)
            out.append(torch.linalg.matrix_norm(J.detach(), ord=2))
        return torch.cat(out)


@contextmanager
def _null():
    yield


class PowerSteepness:
    """Per-sample ||J_g(z_i)||_2 by batched power iteration, warm-started between calls.

    ``tol``: stop when max_i |s_i^(t) - s_i^(t-1)| / s_i^(t) < tol; ``max_iter``
    bounds the number of (jvp, vjp) pairs per call.  The vectors of the last
    call are kept (``state_dict``) and reused when the next batch has the same shape.
    ``last_change``: mean over samples of |s_i^(t) - s_i^(t-1)| / s_i^(t) at the last
    step of the last call (NaN after a single step), the power iteration's convergence.
    """

    def __init__(self, tol: float = 1e-3, max_iter: int = 100, seed: int = 0, backend: str = "autograd"):
        if backend not in ("autograd", "func"):
            raise ValueError(f"backend must be 'autograd' or 'func', got {backend!r}")
        self.backend = backend
        if not tol > 0:
            raise ValueError(f"tol must be positive, got {tol}")
        if not (isinstance(max_iter, int) and max_iter >= 1):
            raise ValueError(f"max_iter must be a positive integer, got {max_iter}")
        self.tol, self.max_iter, self.seed = float(tol), max_iter, int(seed)
        self.v: torch.Tensor | None = None
        self.calls = 0
        self.last_iterations = 0
        self.last_change = float("nan")

    def _start(self, z):
        if self.v is not None and self.v.shape == z.shape:
            return self.v.to(device=z.device, dtype=z.dtype)
        gen = torch.Generator().manual_seed(self.seed + self.calls)
        v = torch.randn(z.shape, generator=gen, dtype=torch.float64).to(device=z.device, dtype=z.dtype)
        return v / v.norm(dim=1, keepdim=True)

    def __call__(self, G, z: torch.Tensor) -> torch.Tensor:
        _check(G, z)
        z = z.detach()
        ctx = eval_mode(G) if isinstance(G, nn.Module) else _null()
        with ctx, torch.enable_grad():
            v = self._start(z)
            products = _products_func(G, z) if self.backend == "func" else _products_autograd(G, z)
            prev, change = None, None
            for it in range(1, self.max_iter + 1):
                w = products(v)                                       # J^T J v, (b, k)
                wn = w.norm(dim=1)
                s = wn.sqrt()
                v = torch.where(wn[:, None] > 0, w / wn.clamp_min(1e-30)[:, None], v)
                if prev is not None:
                    change = (s - prev).abs() / s.clamp_min(1e-30)
                    if bool((change <= self.tol).all()):
                        break
                prev = s
        self.v = v.detach()
        self.calls += 1
        self.last_iterations = it
        self.last_change = float("nan") if change is None else float(change.mean())
        return s.detach()

    def reset(self):
        self.v = None

    def state_dict(self) -> dict:
        return {"v": None if self.v is None else self.v.cpu(), "calls": self.calls,
                "tol": self.tol, "max_iter": self.max_iter, "seed": self.seed}

    def load_state_dict(self, state: dict):
        self.v = state["v"]
        self.calls = int(state["calls"])
        self.tol, self.max_iter, self.seed = float(state["tol"]), int(state["max_iter"]), int(state["seed"])


def mean_and_se(s: torch.Tensor) -> tuple[float, float]:
    """(mean, standard error) of per-sample estimates: s_bar and sd(s, ddof=1) / sqrt(n) (NaN for n = 1).

    For the mean steepness of a batch of latents drawn i.i.d. this is the standard error of
    s_bar as an estimate of E_z ||J_g(z)||_2 (Algorithm 2's S_g)."""
    s = s.detach().double().flatten()
    n = s.numel()
    if n == 0:
        raise ValueError("mean_and_se needs at least one value")
    se = float(s.std(unbiased=True) / n ** 0.5) if n > 1 else float("nan")
    return float(s.mean()), se


def steepness_fast(G, z: torch.Tensor, tol: float = 1e-3, max_iter: int = 100, seed: int = 0,
                   backend: str = "autograd") -> torch.Tensor:
    """One-shot :class:`PowerSteepness` (no warm start)."""
    return PowerSteepness(tol=tol, max_iter=max_iter, seed=seed, backend=backend)(G, z)


def _products_func(G, z):
    """v -> J^T J v with ``torch.func.jvp`` (forward mode) and ``torch.func.vjp`` (reverse mode)."""
    f = _flat(G)
    _, vjp_fn = torch.func.vjp(f, z)

    def products(v):
        _, u = torch.func.jvp(f, (z,), (v,))
        return vjp_fn(u)[0]
    return products


def _products_autograd(G, z):
    """v -> J^T J v on one recorded graph: g(u) = J^T u is linear in u, so J v = d<g(u), v>/du
    (the double-vjp form of a jvp), then J^T (J v) by a second vjp.  On CPU this is several
    times faster than forward mode for small networks (benchmarks/bench_steepness.py)."""
    zz = z.requires_grad_(True)
    out = _flat(G)(zz)
    uu = torch.zeros_like(out, requires_grad=True)
    (g,) = torch.autograd.grad(out, zz, uu, create_graph=True)

    def products(v):
        (u,) = torch.autograd.grad(g, uu, v, retain_graph=True, allow_unused=True)
        u = torch.zeros_like(out) if u is None else u
        return torch.autograd.grad(out, zz, u, retain_graph=True)[0]
    return products
