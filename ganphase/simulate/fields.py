"""The optimal discriminator d* = p_data/(p_data + p_g) and its field grad d*/d* (paper Section 2.2, 3.1).

Everything is computed from log-densities, never from densities:

    log d*      = log p_data - logaddexp(log p_data, log p_g)
    1 - d*      = sigmoid(log p_g - log p_data)
    grad log d* = grad log p_data - grad logaddexp(log p_data, log p_g)
                = (1 - d*) (score_data - score_g)

so the field stays finite for modes 1000 sigma apart and dimension 512 (the sigmoid saturates to
0 or 1 instead of forming inf/inf). The field is what Algorithm 1 moves generated points along.

``p_data`` and ``p_g`` are densities with ``log_prob(x) -> (m,)`` and ``score(x) -> (m, n)`` (and
optionally ``stats(x) -> (log_prob, score)`` from one pass)
(:class:`~ganphase.simulate.mixtures.GaussianMixture`, :class:`~ganphase.simulate.mixtures.UniformBox`,
their torch twins, or a kernel density estimate). ``log_prob`` may be ``-inf`` off a uniform's support:

* ``p_g = 0 < p_data``: d* = 1, field 0 (d* is constant 1 there);
* ``p_data = 0 < p_g``: d* = 0, field = score_data - score_g (the limit of the formula as p_data -> 0);
* both 0: the 0/0 is read as d* = 1/2 (field = (score_data - score_g)/2).

Every function dispatches on the type of ``x``: a numpy array (shape (m, n)) or a torch tensor.
"""
import numpy as np
from scipy import special


def _is_torch(x):
    return type(x).__module__.startswith("torch")


def _points(x):
    if _is_torch(x):
        if x.ndim != 2:
            raise ValueError(f"points must have shape (m, n), got {tuple(x.shape)}")
        return x
    x = np.asarray(x, dtype=float)
    if x.ndim != 2:
        raise ValueError(f"points must have shape (m, n), got {x.shape}")
    return x


def log_prob_and_score(p, x):
    """(log p(x), score(x)): from one ``p.stats(x)`` pass where the density offers it."""
    if hasattr(p, "stats"):
        return p.stats(x)
    return p.log_prob(x), p.score(x)


def discriminator_logit(p_data, p_g, x):
    """log p_data(x) - log p_g(x), with the conventions of the module docstring for zero densities.

    The logit of d*: d* = sigmoid(logit), 1 - d* = sigmoid(-logit); values are +-inf where exactly one
    density vanishes and 0 where both do.
    """
    x = _points(x)
    return _logit(p_data.log_prob(x), p_g.log_prob(x))


def _logit(lp_d, lp_g):
    if _is_torch(lp_d):
        import torch
        both_zero = torch.isneginf(lp_d) & torch.isneginf(lp_g)
        return torch.where(both_zero, torch.zeros_like(lp_d), lp_d - torch.where(both_zero, torch.zeros_like(lp_g), lp_g))
    with np.errstate(invalid="ignore"):
        diff = lp_d - lp_g
    return np.where(np.isneginf(lp_d) & np.isneginf(lp_g), 0.0, diff)


def optimal_discriminator(p_data, p_g, x):
    """d*(x) = p_data/(p_data + p_g) = sigmoid(log p_data - log p_g) (paper Section 2.2), shape (m,)."""
    logit = discriminator_logit(p_data, p_g, x)
    return logit.sigmoid() if _is_torch(logit) else special.expit(logit)


def optimal_log_discriminator(p_data, p_g, x):
    """log d*(x) = -softplus(log p_g - log p_data) = log_sigmoid(logit), shape (m,); -inf where p_data = 0."""
    logit = discriminator_logit(p_data, p_g, x)
    if _is_torch(logit):
        import torch
        return torch.nn.functional.logsigmoid(logit)
    return special.log_expit(logit)


def optimal_field(p_data, p_g, x):
    """grad d*/d* = grad log d* = (1 - d*) (score_data - score_g), shape (m, n) (paper Section 2.2, Table 2).

    1 - d* = sigmoid(log p_g - log p_data) is formed from the logit, so the field is finite wherever
    both scores are, for any separation of the modes.
    """
    x = _points(x)
    (lp_d, s_d), (lp_g, s_g) = log_prob_and_score(p_data, x), log_prob_and_score(p_g, x)
    one_minus_d = -_logit(lp_d, lp_g)
    one_minus_d = one_minus_d.sigmoid() if _is_torch(x) else special.expit(one_minus_d)
    return one_minus_d[:, None] * (s_d - s_g).reshape(x.shape)


def to_torch_density(p, device="auto", dtype="float64"):
    """A torch twin of a numpy density (``p.to_torch``: GaussianMixture, UniformBox).

    Objects that already work on tensors (they have no ``to_torch``) are returned unchanged.
    """
    return p.to_torch(device=device, dtype=dtype) if hasattr(p, "to_torch") else p
