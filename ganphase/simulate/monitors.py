"""The paper's training monitors and Algorithm 2 (early stopping), Section 4.3.

Per training iteration (Algorithm 2, lines 3-5):

* q_d: the (1 - 1/m) quantile over the generated batch of
  ||grad_x d(x) / d(x)|| = ||grad_x log d(x)||.  With d = sigmoid(a) for the
  discriminator's logit a, grad_x log sigmoid(a) = (1 - sigmoid(a)) grad_x a,
  so only grad_x a (autograd on the sum of logits) is needed.
* S_g: the mean steepness ||J_g(z)||_2 over the batch (``ganphase.simulate.steepness``)
  and Delta S_g = (S_cur - S_prev) / S_prev.
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

import numpy as np
import torch

from ganphase.simulate.steepness import PowerSteepness, eval_mode

SIGMA_RECIPES = ("per-dimension", "pooled-over-dim")
KD_RULES = ("nearest", "farthest")


# ----------------------------------------------------------------------------- the discriminator field
def log_d_grad_norms(D, x: torch.Tensor) -> torch.Tensor:
    """Per-sample ||grad_x log d(x)|| = (1 - sigmoid(a)) ||grad_x a|| for logits a = D(x), shape (batch,).

    D is used in whatever mode it is in (train mode: with its noise and batch statistics).
    """
    if not isinstance(x, torch.Tensor) or x.dim() < 2:
        raise ValueError("x must be a batch tensor of shape (batch, ...)")
    with torch.enable_grad():
        x = x.detach().requires_grad_(True)
        a = D(x)
        (g,) = torch.autograd.grad(a.sum(), x)
    return torch.sigmoid(-a.detach()) * g.flatten(1).norm(dim=1)


def log_d_grad_norms_from_loss_grad(x_grad: torch.Tensor) -> torch.Tensor:
    """The same norms read off the generator step: for L_g = mean_i softplus(-a_i),
    dL_g/dx_i = -(1 - sigmoid(a_i)) grad a_i / m, so ||grad log d(x_i)|| = m ||dL_g/dx_i||."""
    return x_grad.flatten(1).norm(dim=1) * x_grad.shape[0]


def quantile_of_norms(norms: torch.Tensor, m: int) -> float:
    """q_d: the (1 - 1/m) quantile (linear interpolation) of the batch's norms (Algorithm 2, line 3)."""
    if m < 1:
        raise ValueError(f"the number of modes m must be at least 1, got {m}")
    return float(torch.quantile(norms.detach().double().cpu(), 1.0 - 1.0 / m))


# ----------------------------------------------------------------------------- Algorithm 2
class EarlyStopping:
    """Algorithm 2 of the paper: call ``update(q_d, steepness)`` once per training iteration.

    ``update`` returns True when (q_d > k_d / (2 sigma) or Delta S_g < k_g) and
    iteration > warmup; the first such iteration is kept as ``stop_iteration``.
    Delta S_g is undefined (no stop) at the first iteration and when S_prev is 0.
    """

    def __init__(self, k_d: float, sigma: float, k_g: float = -0.5, m: int = 1, warmup: int = 0):
        if not (k_d > 0 and sigma > 0):
            raise ValueError(f"k_d and sigma must be positive (Algorithm 2), got k_d={k_d}, sigma={sigma}")
        if not k_g < 0:
            raise ValueError(f"k_g must be negative (Algorithm 2), got {k_g}")
        if not (int(m) == m and m >= 1):
            raise ValueError(f"the number of modes m must be an integer >= 1, got {m}")
        if not (int(warmup) == warmup and warmup >= 0):
            raise ValueError(f"warmup must be a non-negative number of iterations, got {warmup}")
        self.k_d, self.sigma, self.k_g, self.m, self.warmup = float(k_d), float(sigma), float(k_g), int(m), int(warmup)
        self.iteration = 0
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

    def update(self, q_d: float, steepness: float) -> bool:
        self.iteration += 1
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
        """Compute q_d on D(G(z)) and the mean steepness of G at z, then ``update``."""
        q_d, s = batch_monitors(G, D, z, self.m, estimator)
        return self.update(q_d, s)

    def state_dict(self) -> dict:
        return {k: getattr(self, k) for k in ("k_d", "sigma", "k_g", "m", "warmup", "iteration", "prev",
                                              "stop_iteration", "stop_reason", "last")}

    def load_state_dict(self, state: dict):
        for k, v in state.items():
            setattr(self, k, v)

    def thresholds(self) -> dict:
        return {"k_d": self.k_d, "sigma": self.sigma, "k_g": self.k_g, "m": self.m, "warmup": self.warmup,
                "threshold_d": self.threshold_d}


def batch_monitors(G, D, z: torch.Tensor, m: int, estimator: PowerSteepness | None = None) -> tuple[float, float]:
    """(q_d, mean steepness) for the latent batch z: G in eval mode for steepness, D as it is."""
    estimator = estimator or PowerSteepness(tol=1e-3, max_iter=100)
    with torch.no_grad(), eval_mode(G):
        x = G(z)
    q_d = quantile_of_norms(log_d_grad_norms(D, x), m)
    return q_d, float(estimator(G, z).mean())


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
