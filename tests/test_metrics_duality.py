"""Duality gap on 1-D Gaussians where the worst-case opponents are known in closed form."""
import numpy as np
import pytest
import torch
from scipy import integrate, stats
from torch import nn

from ganphase.simulate.metrics.duality import duality_gap, value_from_logits


class Shift(nn.Module):
    def __init__(self, b):
        super().__init__()
        self.b = nn.Parameter(torch.tensor([float(b)]))

    def forward(self, z):
        return z + self.b


def constant_d():
    d = nn.Linear(1, 1)
    with torch.no_grad():
        d.weight.zero_()
        d.bias.zero_()
    return d


def js(mu):
    p, q = stats.norm(0, 1), stats.norm(mu, 1)
    m = lambda x: 0.5 * (p.pdf(x) + q.pdf(x))
    kl = lambda a: integrate.quad(lambda x: a.pdf(x) * np.log(a.pdf(x) / m(x)), -12, 12 + mu)[0]
    return 0.5 * kl(p) + 0.5 * kl(q)


def test_value_from_logits_matches_probabilities():
    a_r, a_f = torch.tensor([0.3, -2.0, 5.0]), torch.tensor([1.0, -0.5])
    d_r, d_f = torch.sigmoid(a_r), torch.sigmoid(a_f)
    expected = torch.log(d_r).mean() + torch.log(1 - d_f).mean()
    assert float(value_from_logits(a_r, a_f)) == pytest.approx(float(expected), rel=1e-6)


def test_gap_is_zero_at_the_equilibrium():
    real = torch.randn(4096, 1, generator=torch.Generator().manual_seed(0))
    out = duality_gap(Shift(0.0), constant_d(), real, latent_dim=1, steps=100, lr=0.05, batch_size=256,
                      eval_size=4096, device="cpu")
    assert out["value"] == pytest.approx(-2 * np.log(2), abs=1e-6)
    assert abs(out["gap"]) < 0.03


def test_gap_is_twice_the_js_divergence_against_a_constant_discriminator():
    # G = N(mu, 1), D constant: max_D' F = -2 log 2 + 2 JS (a linear logit is optimal), min_G' F = -2 log 2
    mu = 2.0
    real = torch.randn(4096, 1, generator=torch.Generator().manual_seed(1))
    out = duality_gap(Shift(mu), constant_d(), real, latent_dim=1, steps=150, lr=0.05, batch_size=256,
                      eval_size=4096, device="cpu")
    assert out["gap"] == pytest.approx(2 * js(mu), abs=0.05)
    assert out["value_g_worst"] == pytest.approx(-2 * np.log(2), abs=1e-6)


def test_perturbed_gap_leaves_the_inputs_untouched():
    G, D = Shift(1.0), constant_d()
    real = torch.randn(512, 1, generator=torch.Generator().manual_seed(2))
    out = duality_gap(G, D, real, latent_dim=1, steps=50, lr=0.05, perturb_std=0.1, device="cpu")
    assert out["perturb_std"] == 0.1 and np.isfinite(out["gap"])
    assert G.b.item() == 1.0 and D.weight.item() == 0.0


def test_bad_input_raises():
    with pytest.raises(ValueError):
        duality_gap(Shift(0.0), constant_d(), torch.zeros(4, 1), latent_dim=0)
    with pytest.raises(ValueError):
        duality_gap(Shift(0.0), constant_d(), torch.zeros(4, 1), latent_dim=1, generator_loss="wasserstein")


def test_runs_on_the_toolkit_models():
    from ganphase.simulate.models import ModelConfig, build_models

    cfg = ModelConfig(kind="mlp", data_shape=(3,), hidden=(16, 16))
    G, D = build_models(cfg)
    real = torch.randn(256, 3, generator=torch.Generator().manual_seed(5))
    a = duality_gap(G, D, real, latent_dim=cfg.latent_dim, steps=5, device="cpu", seed=3)
    b = duality_gap(G, D, real, latent_dim=cfg.latent_dim, steps=5, device="cpu", seed=3)
    assert a == b and np.isfinite(a["gap"])                   # same seed, same numbers on CPU
    p = duality_gap(G, D, real, latent_dim=cfg.latent_dim, steps=5, perturb_std=0.05, device="cpu", seed=3)
    assert p["gap"] != a["gap"] and p["value"] == a["value"]
