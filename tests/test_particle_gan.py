"""Algorithm 1 with a neural generator: the particle field, the Corollary C.1 gradients, a short training run."""
import pytest
import torch

from ganphase.simulate import particle_gan as pg
from ganphase.simulate.models import ModelConfig, build_models
from ganphase.simulate.monitors import log_d_grad_norms


def _pair(n=3, seed=0, device="cpu"):
    torch.manual_seed(seed)
    G, D = build_models(ModelConfig(kind="mlp", data_shape=(n,), hidden=(24, 24)))
    return G.double().to(device), D.double().to(device)


def test_field_is_grad_log_d_by_finite_differences():
    _, D = _pair()
    x = torch.randn(5, 3, dtype=torch.float64)
    field = pg.discriminator_field(D, x)
    h = 1e-6
    for j in range(3):
        e = torch.zeros(3, dtype=torch.float64)
        e[j] = h
        with torch.no_grad():
            fd = (pg.log_d(D, x + e) - pg.log_d(D, x - e)) / (2 * h)
        assert torch.allclose(field[:, j], fd, atol=1e-7)
    assert torch.allclose(field.norm(dim=1), log_d_grad_norms(D, x), rtol=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_nsgan_gradient_equals_minus_jacobian_transpose_field(seed):
    G, D = _pair(n=2 + seed, seed=seed)
    z = torch.randn(32, 2 + seed, dtype=torch.float64)
    ns, chain = pg.nsgan_gradient(G, D, z), pg.chain_rule_gradient(G, D, z)
    assert torch.allclose(ns, chain, rtol=1e-12, atol=1e-15)


def test_particle_gradient_is_two_s_times_nsgan_gradient():
    G, D = _pair()
    z = torch.randn(16, 3, dtype=torch.float64)
    step = 0.3
    part, ns = pg.particle_gradient(G, D, z, step), pg.nsgan_gradient(G, D, z)
    assert torch.allclose(part, 2 * step * ns, rtol=1e-11, atol=1e-15)
    assert not torch.allclose(part, step * ns, rtol=1e-3)   # the proof's constant s


def test_targets_are_detached_and_moved_along_the_field():
    G, D = _pair()
    z = torch.randn(4, 3, dtype=torch.float64)
    t = pg.particle_targets(G, lambda x: torch.ones_like(x), z, 0.5)
    assert not t.requires_grad
    with torch.no_grad():
        assert torch.allclose(t, G(z) + 0.5)


def test_particles_follow_a_given_field():
    """Field -(x - c) (gradient of log d with d proportional to exp(-|x - c|^2/2)): the generator moves to c."""
    c = torch.tensor([2.0, -1.0])
    data = torch.randn(512, 2)
    G, _, history = pg.train_particle_gan(data, pg.ParticleConfig(iterations=150, batch=128, step=0.2, lr_g=1e-2,
                                                                  hidden=(16,), history_every=50),
                                          field=lambda x: -(x - c), device="cpu")
    with torch.no_grad():
        out = G(torch.randn(1000, 2))
    assert (out.mean(0) - c).norm() < 0.3
    assert len(history) >= 3 and history[-1]["mean_field_norm"] < history[0]["mean_field_norm"]


def test_training_with_a_discriminator_runs_and_records():
    data = torch.randn(256, 2) * 0.1 + 1.0
    G, D, history = pg.train_particle_gan(data, pg.ParticleConfig(iterations=20, batch=64, history_every=10),
                                          device="cpu")
    assert [h["iteration"] for h in history] == [0, 10, 19]
    assert all(torch.isfinite(torch.tensor(h["loss_d"])) for h in history)


def test_bad_input():
    G, D = _pair()
    z = torch.randn(4, 3, dtype=torch.float64)
    with pytest.raises(ValueError, match="step size"):
        pg.particle_gradient(G, D, z, 0.0)
    with pytest.raises(ValueError, match="step size"):
        pg.particle_targets(G, D, z, float("nan"))
    with pytest.raises(ValueError, match="batch"):
        pg.nsgan_gradient(G, D, torch.randn(3, dtype=torch.float64))
    with pytest.raises(ValueError, match="discriminator module"):
        pg.field_of(3)
    with pytest.raises(ValueError, match="data"):
        pg.train_particle_gan(torch.randn(5), pg.ParticleConfig(iterations=1))
    with pytest.raises(ValueError):
        pg.ParticleConfig(batch=1)
    with pytest.raises(ValueError, match="device"):
        pg.train_particle_gan(torch.randn(8, 2), pg.ParticleConfig(iterations=1), device="tpu")


@pytest.mark.gpu
def test_gradients_on_cuda_match_cpu():
    G, D = _pair()
    z = torch.randn(16, 3, dtype=torch.float64)
    cpu = pg.nsgan_gradient(G, D, z)
    Gc, Dc = G.to("cuda"), D.to("cuda")
    zc = z.to("cuda")
    assert torch.allclose(pg.chain_rule_gradient(Gc, Dc, zc).cpu(), cpu, rtol=1e-10)
    assert torch.allclose(pg.particle_gradient(Gc, Dc, zc, 0.1).cpu(), 0.2 * cpu, rtol=1e-10)
