"""The paper's training monitors and Algorithm 2 (early stopping), Section 4.3.

Per training iteration (Algorithm 2, lines 3-5):

* q_d: the (1 - 1/m) quantile over the generated batch of
  ||grad_x d(x) / d(x)|| = ||grad_x log d(x)||.  With d = sigmoid(a) for the
  discriminator's logit a, grad_x log sigmoid(a) = (1 - sigmoid(a)) grad_x a,
  so only grad_x a (autograd on the sum of logits) is needed.  When D couples no
  samples (no batch statistics), the generator step's own gradient is this field
  times -1/m (:func:`log_d_grad_norms_from_loss_grad`, no extra pass); when it
  does (batch norm in training mode) a dedicated pass with the batch statistics
  held fixed gives it (:func:`log_d_grad_norms`, :func:`frozen_batch_statistics`).
* S_g: the mean steepness ||J_g(z)||_2 over the batch (``ganphase.simulate.steepness``)
  and Delta S_g = (S_cur - S_prev) / S_prev, S_prev the previous *measured* value
  when the monitors run every k iterations (:class:`BatchMonitor`).
* stop when (q_d > k_d / (2 sigma) or Delta S_g < k_g) and iteration > N_w.

Threshold helpers follow Appendices E and F.2: k_d is a distance between class
means (the farthest pair for the image sets, the nearest pair for the 3-D
mixture), sigma either the mixture's per-dimension standard deviation or, for
images, sqrt(mean over classes of the class's pooled pixel variance / dim)
(F.2: "compute the population variance of the images from each label ... average
... divide this value by 64 x 64 x 1").  Without labels the number of modes m
is estimated with k-means (scikit-learn) and the silhouette score.
"""
from __future__ import annotations

import math
from contextlib import contextmanager

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from ganphase.simulate.steepness import PowerSteepness, eval_mode, mean_and_se

SIGMA_RECIPES = ("per-dimension", "pooled-over-dim")
KD_RULES = ("nearest", "farthest")


# ----------------------------------------------------------------------------- the discriminator field
def _uses_batch_statistics(module: nn.Module) -> bool:
    return isinstance(module, _BatchNorm) and (module.training or not module.track_running_stats)


def couples_samples(D) -> bool:
    """True when D, in its current mode, normalises with batch statistics (a batch-norm layer in
    training mode, or one without running statistics): each logit a_i then depends on every x_j,
    and the gradient of a batch loss is not the per-sample field.  Noise and dropout act on each
    sample alone and do not couple.  Plain callables are taken as per-sample functions."""
    return isinstance(D, nn.Module) and any(_uses_batch_statistics(mod) for mod in D.modules())


@contextmanager
def frozen_batch_statistics(D):
    """Within the block each coupling batch-norm layer of D normalises with the mean and (biased)
    variance of the batch it sees, held fixed (detached), and its running statistics are restored
    afterwards: a_i = D(x_i; mu_B, var_B) has the training-mode value and is a function of x_i
    alone, so grad_{x_i} sum_j a_j = grad a_i(x_i).  Other modules are left as they are."""
    layers = [mod for mod in D.modules() if _uses_batch_statistics(mod)] if isinstance(D, nn.Module) else []
    saved = [{k: b.clone() for k, b in mod.named_buffers(recurse=False)} for mod in layers]

    def frozen(mod, inputs, _out):
        x = inputs[0]
        dims = [0] + list(range(2, x.dim()))
        xd = x.detach()
        return F.batch_norm(x, xd.mean(dims), xd.var(dims, unbiased=False), mod.weight, mod.bias,
                            training=False, eps=mod.eps)

    handles = [mod.register_forward_hook(frozen) for mod in layers]
    try:
        yield D
    finally:
        for h in handles:
            h.remove()
        with torch.no_grad():
            for mod, buffers in zip(layers, saved):
                for name, b in buffers.items():
                    getattr(mod, name).copy_(b)


def log_d_grad_norms(D, x: torch.Tensor) -> torch.Tensor:
    """Per-sample ||grad_x log d(x)|| = (1 - sigmoid(a)) ||grad_x a|| for logits a = D(x), shape (batch,).

    D is used in whatever mode it is in (train mode: with its noise); batch-norm layers that use
    batch statistics get those of x held fixed (:func:`frozen_batch_statistics`), so the result
    is the field of the function that D applies to each sample, and D's running statistics are
    not moved.
    """
    if not isinstance(x, torch.Tensor) or x.dim() < 2:
        raise ValueError("x must be a batch tensor of shape (batch, ...)")
    with torch.enable_grad(), frozen_batch_statistics(D):
        x = x.detach().requires_grad_(True)
        a = D(x)
        (g,) = torch.autograd.grad(a.sum(), x)
    return torch.sigmoid(-a.detach()) * g.flatten(1).norm(dim=1)


def log_d_grad_norms_from_loss_grad(x_grad: torch.Tensor) -> torch.Tensor:
    """The same norms read off the generator step: for L_g = mean_i softplus(-a_i),
    dL_g/dx_i = -(1 - sigmoid(a_i)) grad a_i / m, so ||grad log d(x_i)|| = m ||dL_g/dx_i||.

    Exact only when D couples no samples (:func:`couples_samples` is False); with batch
    statistics dL_g/dx_i = -(1/m) sum_j (1 - sigmoid(a_j)) da_j/dx_i mixes the samples."""
    return x_grad.flatten(1).norm(dim=1) * x_grad.shape[0]


def quantile_of_norms(norms: torch.Tensor, m: int) -> float:
    """q_d: the (1 - 1/m) quantile (linear interpolation) of the batch's norms (Algorithm 2, line 3)."""
    if m < 1:
        raise ValueError(f"the number of modes m must be at least 1, got {m}")
    return float(torch.quantile(norms.detach().double().cpu(), 1.0 - 1.0 / m))


# ----------------------------------------------------------------------------- measurements
class BatchMonitor:
    """Algorithm 2's measurements in a training loop, taken every ``every`` iterations.

    Per measured iteration: q_d from the generator step's gradient of the generated batch
    when D couples no samples (call :meth:`watch` on the batch before the generator step's
    backward), otherwise by the dedicated pass :func:`log_d_grad_norms`; the mean steepness of
    G on the given latents by the warm-started ``estimator`` (a :class:`PowerSteepness`), with
    its standard error over the latents and the power iteration's last relative change.
    """

    def __init__(self, estimator: PowerSteepness, m: int, every: int = 1):
        if not (isinstance(every, int) and every >= 1):
            raise ValueError(f"the monitors' period must be a positive integer, got {every!r}")
        if not (int(m) == m and m >= 1):
            raise ValueError(f"the number of modes m must be an integer >= 1, got {m}")
        self.estimator, self.m, self.every = estimator, int(m), every
        self.from_loss: bool | None = None        # how the last q_d was taken

    def due(self, iteration: int) -> bool:
        """Whether training iteration ``iteration`` (counted from 1) is measured."""
        return iteration % self.every == 0

    def watch(self, D, fake: torch.Tensor):
        """Keep the gradient of the generated batch when it gives q_d exactly (D couples no samples)."""
        if not couples_samples(D) and fake.requires_grad:
            fake.retain_grad()

    def measure(self, G, D, fake: torch.Tensor, z: torch.Tensor) -> dict:
        """{q_d, steepness, steepness_se, power_change} after the generator step's backward."""
        self.from_loss = not couples_samples(D) and fake.grad is not None
        norms = log_d_grad_norms_from_loss_grad(fake.grad) if self.from_loss else log_d_grad_norms(D, fake)
        s, se = mean_and_se(self.estimator(G, z))
        return {"q_d": quantile_of_norms(norms, self.m), "steepness": s, "steepness_se": se,
                "power_change": self.estimator.last_change}


# ----------------------------------------------------------------------------- Algorithm 2
class EarlyStopping:
    """Algorithm 2 of the paper: call ``update(q_d, steepness)`` once per measured iteration.

    ``update`` returns True when (q_d > k_d / (2 sigma) or Delta S_g < k_g) and
    iteration > warmup; the first such iteration is kept as ``stop_iteration``.
    Delta S_g compares consecutive measured values; it is undefined (no stop) at the
    first measurement and when S_prev is 0.

    ``observe(G, D, z)`` measures for a user's own loop, cheaply by default: every
    ``observe_every``-th call (the first included) it takes q_d on D(G(z)) and the mean
    steepness of G by a warm-started :class:`PowerSteepness` kept between calls
    (``observe_power_iters`` steps per call) on ``observe_batch`` latents (None: all of z):
    with ``observe_latents="fixed"`` the first call's z[:observe_batch], kept, so that each
    sample's power vector stays warm as G moves; with ``"batch"`` the current z[:observe_batch].
    """

    def __init__(self, k_d: float, sigma: float, k_g: float = -0.5, m: int = 1, warmup: int = 0,
                 observe_every: int = 8, observe_batch: int | None = 16, observe_power_iters: int = 2,
                 observe_latents: str = "fixed"):
        if not (k_d > 0 and sigma > 0):
            raise ValueError(f"k_d and sigma must be positive (Algorithm 2), got k_d={k_d}, sigma={sigma}")
        if not k_g < 0:
            raise ValueError(f"k_g must be negative (Algorithm 2), got {k_g}")
        if not (int(m) == m and m >= 1):
            raise ValueError(f"the number of modes m must be an integer >= 1, got {m}")
        if not (int(warmup) == warmup and warmup >= 0):
            raise ValueError(f"warmup must be a non-negative number of iterations, got {warmup}")
        for name, v in (("observe_every", observe_every), ("observe_power_iters", observe_power_iters)):
            if not (isinstance(v, int) and v >= 1):
                raise ValueError(f"{name} must be a positive integer, got {v!r}")
        if observe_batch is not None and not (isinstance(observe_batch, int) and observe_batch >= 2):
            raise ValueError(f"observe_batch must be an integer >= 2 or None (all latents), got {observe_batch!r}")
        self.k_d, self.sigma, self.k_g, self.m, self.warmup = float(k_d), float(sigma), float(k_g), int(m), int(warmup)
        if observe_latents not in ("fixed", "batch"):
            raise ValueError(f"observe_latents must be 'fixed' or 'batch', got {observe_latents!r}")
        self.observe_every, self.observe_batch, self.observe_latents = observe_every, observe_batch, observe_latents
        self.z_fixed: torch.Tensor | None = None
        self.estimator = PowerSteepness(tol=1e-2, max_iter=observe_power_iters)
        self.iteration = 0
        self.calls = 0
        self.prev: float | None = None
        self.stop_iteration: int | None = None
        self.stop_reason: str | None = None
        self.last: dict = {}

    @property
    def threshold_d(self) -> float:
        """k_d / (2 sigma)."""
        return self.k_d / (2.0 * self.sigma)

    @property
    def stopped(self) -> bool:
        return self.stop_iteration is not None

    def update(self, q_d: float, steepness: float, iteration: int | None = None) -> bool:
        """One measurement; ``iteration``: the training iteration it was taken at (default: one more
        than the last), against which the warm-up and ``stop_iteration`` count."""
        self.iteration = self.iteration + 1 if iteration is None else int(iteration)
        q_d, steepness = float(q_d), float(steepness)
        delta = (steepness - self.prev) / self.prev if self.prev not in (None, 0.0) else math.nan
        cond_d = q_d > self.threshold_d
        cond_g = delta < self.k_g
        stop = (cond_d or cond_g) and self.iteration > self.warmup
        if stop and not self.stopped:
            self.stop_iteration = self.iteration
            reasons = ([f"q_d = {q_d:.4g} > k_d/(2 sigma) = {self.threshold_d:.4g}"] if cond_d else []) + \
                      ([f"Delta S_g = {delta:.4g} < k_g = {self.k_g:g}"] if cond_g else [])
            self.stop_reason = " and ".join(reasons)
        self.prev = steepness
        self.last = {"q_d": q_d, "steepness": steepness, "delta_steepness": delta, "stop": bool(stop)}
        return bool(stop)

    def observe(self, G, D, z: torch.Tensor, estimator: PowerSteepness | None = None) -> bool:
        """Count one training iteration; on every ``observe_every``-th (the first included) compute
        q_d on D(G(z)) and the mean steepness on z[:observe_batch], then ``update``.  Returns
        ``update``'s answer on measured calls and False on the others (``stopped`` keeps the stop)."""
        self.calls += 1
        if (self.calls - 1) % self.observe_every:
            return False
        z_s = z[:self.observe_batch].detach()
        if self.observe_latents == "fixed":
            if self.z_fixed is None or self.z_fixed.shape[1:] != z_s.shape[1:]:
                self.z_fixed = z_s.clone()
            z_s = self.z_fixed.to(z.device)
        q_d, s = batch_monitors(G, D, z, self.m, estimator or self.estimator, z_steepness=z_s)
        return self.update(q_d, s, iteration=self.calls)

    def state_dict(self) -> dict:
        return {k: getattr(self, k) for k in ("k_d", "sigma", "k_g", "m", "warmup", "iteration", "calls", "prev",
                                              "stop_iteration", "stop_reason", "last")}

    def load_state_dict(self, state: dict):
        for k, v in state.items():
            setattr(self, k, v)

    def thresholds(self) -> dict:
        return {"k_d": self.k_d, "sigma": self.sigma, "k_g": self.k_g, "m": self.m, "warmup": self.warmup,
                "threshold_d": self.threshold_d}


def batch_monitors(G, D, z: torch.Tensor, m: int, estimator: PowerSteepness | None = None,
                   z_steepness: torch.Tensor | None = None) -> tuple[float, float]:
    """(q_d, mean steepness): q_d on D(G(z)), the steepness on ``z_steepness`` (None: z);
    G in eval mode, D as it is."""
    estimator = estimator or PowerSteepness(tol=1e-3, max_iter=100)
    with torch.no_grad(), eval_mode(G):
        x = G(z)
    q_d = quantile_of_norms(log_d_grad_norms(D, x), m)
    return q_d, float(estimator(G, z if z_steepness is None else z_steepness).mean())


# ----------------------------------------------------------------------------- thresholds from data
def class_means(x: torch.Tensor, y: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """(labels, class means (K, dim)) of flattened samples."""
    xf = torch.as_tensor(x).flatten(1).double()
    y = torch.as_tensor(y)
    labels = torch.unique(y)
    return labels.numpy(), torch.stack([xf[y == c].mean(0) for c in labels]).numpy()


def class_mean_distances(x: torch.Tensor, y: torch.Tensor) -> np.ndarray:
    """Matrix of Euclidean (Frobenius) distances between class means (Appendix E, figs. 8-10)."""
    if y is None:
        raise ValueError("class-mean distances need labels; estimate modes with estimate_n_modes instead")
    from scipy.spatial.distance import cdist

    _, means = class_means(x, y)
    return cdist(means, means)            # O(K^2) memory: Stacked MNIST has K = 1000 modes of 2352 values


def k_d_from_distances(dist: np.ndarray, rule: str) -> float:
    """k_d: the farthest pair of modes (F.2, images) or the nearest pair (F.2, 3-D mixture)."""
    if rule not in KD_RULES:
        raise ValueError(f"k_d rule must be one of {KD_RULES}, got {rule!r}")
    off = dist[~np.eye(len(dist), dtype=bool)]
    if off.size == 0:
        raise ValueError("k_d needs at least two modes")
    return float(off.max() if rule == "farthest" else off.min())


def sigma_from_data(x: torch.Tensor, y: torch.Tensor, recipe: str) -> float:
    """sigma from labelled data.

    ``per-dimension``: sqrt(mean_c mean_j Var_c(x_j)), the mixture's sigma for isotropic classes.
    ``pooled-over-dim``: sqrt(mean_c Var_c / dim), Var_c the population variance of all
    values of class c pooled (Appendix F.2, printed value 0.33 / 64^2 for MNIST).
    """
    if recipe not in SIGMA_RECIPES:
        raise ValueError(f"sigma recipe must be one of {SIGMA_RECIPES}, got {recipe!r}")
    xf = torch.as_tensor(x).flatten(1).double()
    y = torch.as_tensor(y)
    dim = xf.shape[1]
    if recipe == "per-dimension":
        v = [xf[y == c].var(0, unbiased=False).mean() for c in torch.unique(y)]
        return float(torch.stack(v).mean().sqrt())
    v = [xf[y == c].var(unbiased=False) for c in torch.unique(y)]
    return float((torch.stack(v).mean() / dim).sqrt())


def estimate_n_modes(x: torch.Tensor, k_min: int = 2, k_max: int = 15, max_samples: int = 3000,
                     seed: int = 0) -> int:
    """Number of modes m by k-means over k in [k_min, k_max], the k of highest silhouette score."""
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    if not 2 <= k_min <= k_max:
        raise ValueError(f"need 2 <= k_min <= k_max, got {k_min}, {k_max}")
    xf = torch.as_tensor(x).flatten(1).double().numpy()
    rng = np.random.default_rng(seed)
    if len(xf) > max_samples:
        xf = xf[rng.choice(len(xf), max_samples, replace=False)]
    if len(xf) <= k_max:
        raise ValueError(f"estimating up to {k_max} modes needs more than {k_max} samples, got {len(xf)}")
    scores = {}
    for k in range(k_min, k_max + 1):
        lab = KMeans(n_clusters=k, n_init=4, random_state=seed).fit_predict(xf)
        scores[k] = silhouette_score(xf, lab, sample_size=min(len(xf), 2000), random_state=seed)
    return int(max(scores, key=scores.get))


PAPER_WARMUP = {"gmm-3d": 50, "mnist": 20, "fashion-mnist": 50, "cifar10": 50}   # Appendix F.2


def thresholds_for(dataset, k_d=None, sigma=None, m=None, warmup=None, k_g: float = -0.5,
                   kd_rule=None, sigma_recipe=None, seed: int = 0, max_samples: int = 20000) -> dict:
    """Algorithm 2's inputs for a :class:`ganphase.simulate.data.Dataset` as Appendix F.2 sets them.

    Mixtures: k_d = nearest distance between centres, sigma = the component standard deviation.
    Images: k_d = farthest distance between class means, sigma by the pooled-over-dim recipe.
    Given values override; the chosen rules are returned with the numbers.
    """
    mixture = dataset.means is not None
    kd_rule = kd_rule or ("nearest" if mixture else "farthest")
    sigma_recipe = sigma_recipe or ("per-dimension" if mixture else "pooled-over-dim")
    x, y = dataset.x, dataset.y
    if len(x) > max_samples:
        idx = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))[:max_samples]
        x, y = x[idx], None if y is None else y[idx]
    if m is None:
        m = dataset.n_classes if dataset.n_classes else estimate_n_modes(x, seed=seed)
    if k_d is None:
        if mixture:
            c = dataset.means
            dist = np.sqrt(((c[:, None] - c[None]) ** 2).sum(-1))
        elif y is not None:
            dist = class_mean_distances(x, y)
        else:
            from sklearn.cluster import KMeans
            lab = KMeans(n_clusters=m, n_init=4, random_state=seed).fit_predict(x.flatten(1).double().numpy())
            dist = class_mean_distances(x, torch.as_tensor(lab))
            y = torch.as_tensor(lab)
        k_d = k_d_from_distances(dist, kd_rule)
    if sigma is None:
        if mixture and sigma_recipe == "per-dimension":
            sigma = float(dataset.sigma)
        else:
            if y is None:
                raise ValueError("sigma from data needs labels or cluster labels; pass sigma explicitly")
            sigma = sigma_from_data(x, y, sigma_recipe)
    if warmup is None:
        warmup = PAPER_WARMUP.get(dataset.name, 50)
    return {"k_d": float(k_d), "sigma": float(sigma), "k_g": float(k_g), "m": int(m), "warmup": int(warmup),
            "threshold_d": float(k_d) / (2 * float(sigma)), "kd_rule": kd_rule, "sigma_recipe": sigma_recipe}
