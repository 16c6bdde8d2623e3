"""Generators and discriminators: shapes, logits, the latent-dimension rule and discriminator noise."""
import pytest
import torch

from ganphase.simulate.models import ModelConfig, build_models, build_optimizers


@pytest.mark.parametrize("shape", [(3,), (1, 8, 8)])
def test_mlp_latent_equals_data_dimension(shape):
    cfg = ModelConfig(kind="mlp", data_shape=shape)
    G, D = build_models(cfg)
    n = torch.Size(shape).numel()
    assert cfg.latent_dim == n                      # Assumption 2.2 / Appendix B
    x = G(torch.randn(5, n))
    assert x.shape == (5, *shape) and D(x).shape == (5,)
    opt_g, _ = build_optimizers(cfg, G, D)
    assert isinstance(opt_g, torch.optim.SGD)


@pytest.mark.parametrize("side,c", [(28, 1), (32, 3), (64, 1)])
def test_dcgan_shapes(side, c):
    cfg = ModelConfig(kind="dcgan", data_shape=(c, side, side), ngf=8, ndf=8)
    G, D = build_models(cfg)
    x = G(torch.randn(4, 100))
    assert x.shape == (4, c, side, side) and x.abs().max() <= 1
    assert D(x).shape == (4,)
    assert isinstance(build_optimizers(cfg, G, D)[0], torch.optim.Adam)


def test_discriminator_returns_logits_not_probabilities():
    G, D = build_models(ModelConfig(kind="mlp", data_shape=(2,)))
    with torch.no_grad():
        for p in D.parameters():
            p.mul_(50)
    a = D(torch.randn(64, 2) * 5)
    assert (a < 0).any() or (a > 1).any()


def test_noise_only_while_training():
    _, D = build_models(ModelConfig(kind="mlp", data_shape=(2,), noise_std=0.1))
    x = torch.randn(8, 2)
    D.eval()
    assert torch.equal(D(x), D(x))
    D.train()
    assert not torch.equal(D(x), D(x))
    _, D0 = build_models(ModelConfig(kind="mlp", data_shape=(2,)))
    D0.train()
    assert torch.equal(D0(x), D0(x))


def test_bad_config():
    with pytest.raises(ValueError):
        ModelConfig(kind="resnet")
    with pytest.raises(ValueError):
        ModelConfig(kind="dcgan", data_shape=(1, 30, 30))
    with pytest.raises(ValueError):
        ModelConfig(kind="mlp", noise_std=-1)
