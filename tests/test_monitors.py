"""Monitors and Algorithm 2: the field norm, its quantile, the stopping rule and the thresholds."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from conftest import need_data_file
from ganphase.simulate.data import load_dataset
from ganphase.simulate.monitors import (EarlyStopping, estimate_n_modes, log_d_grad_norms,
                                        log_d_grad_norms_from_loss_grad, quantile_of_norms, thresholds_for)
from ganphase.simulate.steepness import PowerSteepness


def _D(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(3, 16), nn.Tanh(), nn.Linear(16, 1), nn.Flatten(0)).double()


def test_grad_log_d_against_finite_differences():
    D = _D()
    x = torch.randn(5, 3, dtype=torch.float64)
    norms = log_d_grad_norms(D, x)
    h = 1e-6
    for i in range(5):
        g = [(F.logsigmoid(D(x[i:i + 1] + h * e)) - F.logsigmoid(D(x[i:i + 1] - h * e))).item() / (2 * h)
             for e in torch.eye(3, dtype=torch.float64)]
        assert math.isclose(norms[i].item(), float(np.linalg.norm(g)), rel_tol=1e-6)


def test_norms_from_generator_loss_gradient():
    D = _D(1)
    x = torch.randn(7, 3, dtype=torch.float64, requires_grad=True)
    a = D(x)
    F.binary_cross_entropy_with_logits(a, torch.ones_like(a)).backward()
    assert torch.allclose(log_d_grad_norms_from_loss_grad(x.grad), log_d_grad_norms(D, x), rtol=1e-10)


def test_quantile_is_numpy_linear_quantile():
    v = torch.tensor([0.3, 5.0, 1.0, 2.0, 9.0, 4.0, 0.1, 7.0])
    for m in (1, 2, 8, 10):
        assert math.isclose(quantile_of_norms(v, m), float(np.quantile(v.double().numpy(), 1 - 1 / m)), rel_tol=1e-12)


def test_algorithm_2_rule():
    es = EarlyStopping(k_d=2.0, sigma=0.1, k_g=-0.5, m=8, warmup=3)
    assert es.threshold_d == 10.0
    assert not es.update(100.0, 1.0)        # iteration 1 <= warmup: never stops
    assert not es.update(1.0, 0.1)          # Delta S = -0.9, still warm-up
    assert not es.update(1.0, 0.1)
    assert not es.update(10.0, 0.1)         # q_d == threshold is not above it
    assert es.update(10.01, 0.1) and es.stop_iteration == 5 and "q_d" in es.stop_reason
    es2 = EarlyStopping(k_d=2.0, sigma=0.1, warmup=0)
    es2.update(1.0, 1.0)
    assert not es2.update(1.0, 0.5)         # Delta S = -0.5 is not below k_g
    assert es2.update(1.0, 0.24) and "Delta S_g" in es2.stop_reason
    restored = EarlyStopping(k_d=1, sigma=1)
    restored.load_state_dict(es2.state_dict())
    assert restored.stop_iteration == 3 and restored.prev == 0.24


def test_bad_thresholds():
    for kw in ({"k_d": 0, "sigma": 1}, {"k_d": 1, "sigma": 1, "k_g": 0.1}, {"k_d": 1, "sigma": 1, "m": 0},
               {"k_d": 1, "sigma": 1, "warmup": -1}):
        with pytest.raises(ValueError):
            EarlyStopping(**kw)


def _mixture_discriminator(means, sigma2, g_mean, g_var):
    """Logit of the optimal discriminator d* = p_data / (p_data + p_g) for a mixture and a Gaussian p_g."""
    means = torch.as_tensor(means, dtype=torch.float64)

    def D(x):
        x = x.double()
        n = x.shape[1]
        lp = torch.logsumexp(-((x[:, None] - means[None]) ** 2).sum(-1) / (2 * sigma2), 1) - math.log(len(means)) \
            - n / 2 * math.log(2 * math.pi * sigma2)
        lg = -((x - g_mean) ** 2).sum(-1) / (2 * g_var) - n / 2 * math.log(2 * math.pi * g_var)
        return lp - lg
    return D


def test_pushed_away_particles_trigger_the_discriminator_condition():
    ds = load_dataset("gmm-3d")
    thr = thresholds_for(ds)
    D = _mixture_discriminator(ds.means, ds.sigma ** 2, torch.zeros(3, dtype=torch.float64), 1.5)
    z = torch.randn(256, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    labels = torch.arange(256) % 8
    centres = torch.as_tensor(ds.means)[labels]
    on_modes = lambda zz: centres + ds.sigma * zz                     # noqa: E731, particles fitted
    pushed = lambda zz: centres + ds.sigma * zz + 0.5 * torch.sign(zz)  # noqa: E731, cloud pushed off
    es = EarlyStopping(thr["k_d"], thr["sigma"], thr["k_g"], thr["m"], warmup=0)
    assert not es.observe(on_modes, D, z)
    assert es.observe(pushed, D, z) and "q_d" in es.stop_reason


def test_collapsing_generator_triggers_the_steepness_condition():
    torch.manual_seed(0)
    G = nn.Sequential(nn.Linear(3, 64), nn.ReLU(), nn.Linear(64, 3))
    D = nn.Sequential(nn.Linear(3, 32), nn.ReLU(), nn.Linear(32, 1), nn.Flatten(0))
    z = torch.randn(128, 3)
    es = EarlyStopping(k_d=2.0, sigma=0.1118, m=8, warmup=0)
    est = PowerSteepness(tol=1e-4, max_iter=200)
    assert not es.observe(G, D, z, est)
    assert not es.observe(G, D, z, est)
    with torch.no_grad():
        G[-1].weight.mul_(0.3)              # the generator contracts: steepness drops by 70 %
    assert es.observe(G, D, z, est) and "Delta S_g" in es.stop_reason
    assert math.isclose(es.last["delta_steepness"], -0.7, rel_tol=1e-3)


def test_gmm_3d_thresholds_as_appendix_f():
    thr = thresholds_for(load_dataset("gmm-3d"))
    assert thr["k_d"] == 2.0 and math.isclose(thr["sigma"] ** 2, 0.0125)
    assert round(thr["threshold_d"], 1) == 8.9 and thr["m"] == 8 and thr["warmup"] == 50


def test_mnist_threshold_near_the_printed_1877():
    path = need_data_file("mnist.npz")
    ds = load_dataset("mnist", data_dir=path.parent, subset=10000, resize=64)
    thr = thresholds_for(ds)
    # Appendix F.2 prints k_d = 33.7, sigma^2 = 0.33 / 64^2 and k_d / (2 sigma) ~ 1877
    assert abs(thr["k_d"] - 33.7) / 33.7 < 0.03
    assert abs(thr["sigma"] ** 2 * 64 ** 2 - 0.33) / 0.33 < 0.05
    assert abs(thr["threshold_d"] - 1877) / 1877 < 0.05
    assert thr["warmup"] == 20


def test_number_of_modes_by_kmeans():
    ds = load_dataset("gmm-2d")
    assert estimate_n_modes(ds.x[:400], k_max=5) == 4
