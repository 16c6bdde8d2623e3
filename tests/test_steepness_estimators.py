"""Steepness estimators: exact Jacobian norm and warm-started power iteration, against numpy's SVD."""
import numpy as np
import pytest
import torch
from torch import nn

from ganphase.simulate.models import ModelConfig, build_models
from ganphase.simulate.steepness import PowerSteepness, steepness_exact, steepness_fast


def _linear(k, n, seed=0):
    torch.manual_seed(seed)
    lin = nn.Linear(k, n).double()
    return lin, np.linalg.svd(lin.weight.detach().numpy(), compute_uv=False)[0]


@pytest.mark.parametrize("k,n", [(3, 3), (5, 2), (2, 7)])
def test_linear_map_equals_largest_singular_value(k, n):
    G, s_max = _linear(k, n)
    z = torch.randn(6, k, dtype=torch.float64)
    assert np.allclose(steepness_exact(G, z).numpy(), s_max, rtol=1e-10)
    for backend in ("autograd", "func"):
        assert np.allclose(steepness_fast(G, z, tol=1e-10, max_iter=2000, backend=backend).numpy(), s_max, rtol=1e-6)


def test_exact_against_finite_differences():
    torch.manual_seed(1)
    G = nn.Sequential(nn.Linear(3, 16), nn.Tanh(), nn.Linear(16, 4)).double()
    z = torch.randn(3, 3, dtype=torch.float64)
    h = 1e-6
    for i in range(3):
        J = np.stack([((G(z[i] + h * e) - G(z[i] - h * e)) / (2 * h)).detach().numpy()
                      for e in torch.eye(3, dtype=torch.float64)], 1)
        assert np.isclose(steepness_exact(G, z[i:i + 1]).item(), np.linalg.norm(J, 2), rtol=1e-6)


@pytest.mark.parametrize("kind", ["mlp", "conv"])
def test_fast_agrees_with_exact_to_one_percent(kind):
    torch.manual_seed(2)
    if kind == "mlp":
        G = nn.Sequential(nn.Linear(4, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 6))
        k = 4
    else:
        G, _ = build_models(ModelConfig(kind="dcgan", data_shape=(1, 28, 28), latent_dim=6, ngf=2, ndf=2))
        k = 6
    z = torch.randn(3, k)
    exact = steepness_exact(G, z)
    fast = PowerSteepness(tol=1e-5, max_iter=1000)(G, z)
    assert ((fast - exact).abs() / exact).max() < 0.01
    assert (fast <= exact * (1 + 1e-4)).all()       # power iteration approaches from below


def test_warm_start_needs_fewer_iterations_and_round_trips():
    torch.manual_seed(3)
    G = nn.Sequential(nn.Linear(4, 32), nn.Tanh(), nn.Linear(32, 6))
    z = torch.randn(8, 4)
    est = PowerSteepness(tol=1e-5, max_iter=500)
    est(G, z)
    cold = est.last_iterations
    est(G, z)
    assert est.last_iterations < cold
    other = PowerSteepness(tol=1e-5, max_iter=500)
    other.load_state_dict(est.state_dict())
    assert torch.equal(other.v, est.v)


def test_bad_inputs():
    G, _ = _linear(3, 3)
    with pytest.raises(ValueError):
        steepness_exact(G, torch.randn(3))
    with pytest.raises(ValueError):
        PowerSteepness(tol=0)
    with pytest.raises(ValueError):
        PowerSteepness(backend="jax")
