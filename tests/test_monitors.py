"""Monitors and Algorithm 2: the field norm, its quantile, the stopping rule and the thresholds."""
import math

import numpy as np
import pytest
import scipy.stats
import torch
import torch.nn.functional as F
from torch import nn

from conftest import need_data_file
from ganphase.simulate.data import load_dataset
from ganphase.simulate.monitors import (BatchMonitor, EarlyStopping, couples_samples, estimate_n_modes,
                                        log_d_grad_norms, log_d_grad_norms_from_loss_grad, quantile_of_norms,
                                        thresholds_for)
from ganphase.simulate.steepness import PowerSteepness, mean_and_se, steepness_exact


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
    es = EarlyStopping(thr["k_d"], thr["sigma"], thr["k_g"], thr["m"], warmup=0, observe_every=1, observe_batch=None)
    assert not es.observe(on_modes, D, z)
    assert es.observe(pushed, D, z) and "q_d" in es.stop_reason


def test_collapsing_generator_triggers_the_steepness_condition():
    torch.manual_seed(0)
    G = nn.Sequential(nn.Linear(3, 64), nn.ReLU(), nn.Linear(64, 3))
    D = nn.Sequential(nn.Linear(3, 32), nn.ReLU(), nn.Linear(32, 1), nn.Flatten(0))
    z = torch.randn(128, 3)
    es = EarlyStopping(k_d=2.0, sigma=0.1118, m=8, warmup=0, observe_every=1, observe_batch=None)
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


# ----------------------------------------------------------------------------- q_d where D couples samples
def _bn_D(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(3, 8), nn.BatchNorm1d(8), nn.Tanh(), nn.Linear(8, 1), nn.Flatten(0)).double()


def test_coupling_is_detected():
    D = _bn_D()
    assert couples_samples(D) and not couples_samples(D.eval()) and not couples_samples(_D())
    assert not couples_samples(lambda x: x.sum(1))


def test_dedicated_pass_is_the_per_sample_field_with_batch_statistics_fixed():
    D = _bn_D(2)
    x = torch.randn(6, 3, dtype=torch.float64)
    before = {k: v.clone() for k, v in D.state_dict().items()}
    norms = log_d_grad_norms(D, x)
    assert all(torch.equal(before[k], v) for k, v in D.state_dict().items())   # running statistics untouched
    # independent: the same network in eval mode whose running statistics are the batch's (biased variance)
    ref = _bn_D(2).eval()
    ref[1].running_mean.copy_(D[0](x).mean(0).detach())
    ref[1].running_var.copy_(D[0](x).var(0, unbiased=False).detach())
    assert torch.allclose(ref(x), D(x).detach(), rtol=1e-12)       # the training-mode values
    eps = 1e-6
    for i in range(6):
        g = [(F.logsigmoid(ref(x[i:i + 1] + eps * e)) - F.logsigmoid(ref(x[i:i + 1] - eps * e))).item() / (2 * eps)
             for e in torch.eye(3, dtype=torch.float64)]
        assert math.isclose(norms[i].item(), float(np.linalg.norm(g)), rel_tol=1e-6)


def test_generator_loss_gradient_is_not_the_field_under_batch_norm():
    D = _bn_D(3)
    x = torch.randn(8, 3, dtype=torch.float64, requires_grad=True)
    a = D(x)
    F.binary_cross_entropy_with_logits(a, torch.ones_like(a)).backward()
    rel = (log_d_grad_norms_from_loss_grad(x.grad) / log_d_grad_norms(D, x) - 1).abs().max()
    assert rel > 0.05      # the batch statistics mix the samples: the dedicated pass is needed


@pytest.mark.parametrize("batchnorm", [False, True])
def test_batch_monitor_q_d_matches_the_dedicated_pass(batchnorm):
    torch.manual_seed(4)
    G = nn.Sequential(nn.Linear(3, 16), nn.ReLU(), nn.Linear(16, 3)).double()
    D = _bn_D(5) if batchnorm else _D(5)
    mon = BatchMonitor(PowerSteepness(tol=1e-3, max_iter=50), m=4, every=3)
    assert [i for i in range(1, 10) if mon.due(i)] == [3, 6, 9]
    z = torch.randn(32, 3, dtype=torch.float64)
    fake = G(z)
    mon.watch(D, fake)
    a = D(fake)
    F.binary_cross_entropy_with_logits(a, torch.ones_like(a)).backward()
    out = mon.measure(G, D, fake, z[:8])
    assert mon.from_loss is (not batchnorm)
    assert math.isclose(out["q_d"], quantile_of_norms(log_d_grad_norms(D, fake.detach()), 4), rel_tol=1e-9)
    s = steepness_exact(G, z[:8])
    assert math.isclose(out["steepness"], float(s.mean()), rel_tol=1e-3)
    assert math.isclose(out["steepness_se"], float(scipy.stats.sem(s.numpy())), rel_tol=1e-3)


def test_mean_and_se_is_the_standard_error_of_the_mean():
    v = torch.tensor([0.3, 5.0, 1.0, 2.0, 9.0])
    mean, se = mean_and_se(v)
    assert math.isclose(mean, 3.46, rel_tol=1e-6) and math.isclose(se, float(scipy.stats.sem(v.numpy())), rel_tol=1e-6)
    assert math.isnan(mean_and_se(torch.tensor([2.0]))[1])


# ----------------------------------------------------------------------------- observe's cheap path
def test_observe_measures_every_k_calls_with_a_warm_estimator_on_a_sub_batch():
    torch.manual_seed(6)
    G = nn.Sequential(nn.Linear(2, 32), nn.ReLU(), nn.Linear(32, 2))
    D = nn.Sequential(nn.Linear(2, 32), nn.ReLU(), nn.Linear(32, 1), nn.Flatten(0))
    z = torch.randn(32, 2)
    es = EarlyStopping(k_d=2.0, sigma=0.02, m=8, observe_every=4, observe_batch=8)
    measured = []
    for _ in range(40):
        es.observe(G, D, z)
        measured.append(es.iteration)
    assert sorted(set(measured)) == list(range(1, 40, 4)) and es.calls == 40
    assert es.estimator.calls == 10 and es.estimator.v.shape == (8, 2)      # one persistent estimator, 8 latents
    exact = float(steepness_exact(G, z[:8]).mean())
    assert math.isclose(es.last["steepness"], exact, rel_tol=1e-3)          # warm starts converge on a fixed G
    with pytest.raises(ValueError):
        EarlyStopping(k_d=1, sigma=1, observe_every=0)
