"""Jacobian conditioning of the generator (Odena et al. 2018): against a linear map with known singular values,
and against finite differences and numpy's SVD for a random MLP."""
import json
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from ganphase.simulate.metrics.conditioning import generator_jacobians, jacobian_conditioning, log_condition
from ganphase.simulate.train import TrainConfig, train


@given(st.lists(st.floats(0.1, 50.0), min_size=2, max_size=4))
@settings(max_examples=30, deadline=None)
def test_linear_generator_has_the_condition_of_its_matrix(sv):
    n = len(sv)
    g = torch.Generator().manual_seed(n)
    q1, _ = torch.linalg.qr(torch.randn(n, n, generator=g, dtype=torch.float64))
    q2, _ = torch.linalg.qr(torch.randn(n, n, generator=g, dtype=torch.float64))
    A = q1 @ torch.diag(torch.tensor(sv, dtype=torch.float64)) @ q2.T
    G = torch.nn.Linear(n, n, bias=True).double()
    with torch.no_grad():
        G.weight.copy_(A)
    out = jacobian_conditioning(G, torch.randn(7, n, generator=g, dtype=torch.float64))
    assert out["jacobian_log_condition"] == pytest.approx(2 * math.log(max(sv) / min(sv)), abs=1e-9)
    assert out["jacobian_log_condition_sd"] == pytest.approx(0.0, abs=1e-9)


def _fd_jacobian(G, z, h=1e-6):
    cols = []
    for j in range(z.shape[0]):
        e = torch.zeros_like(z)
        e[j] = h
        cols.append((G((z + e)[None]) - G((z - e)[None]))[0].flatten() / (2 * h))
    return torch.stack(cols, 1).detach().numpy()


@pytest.mark.parametrize("n_z, n_out", [(3, 3), (5, 2), (2, 6)])
def test_mlp_jacobian_and_condition_match_finite_differences(n_z, n_out):
    torch.manual_seed(n_z * 10 + n_out)
    G = torch.nn.Sequential(torch.nn.Linear(n_z, 16), torch.nn.Tanh(), torch.nn.Linear(16, n_out)).double()
    z = torch.randn(4, n_z, dtype=torch.float64)
    J = generator_jacobians(G, z)
    for i in range(len(z)):
        fd = _fd_jacobian(G, z[i])
        np.testing.assert_allclose(J[i].numpy(), fd, atol=1e-7)
        s = np.linalg.svd(fd, compute_uv=False)
        assert float(log_condition(J[i:i + 1])[0]) == pytest.approx(np.log(s[0] ** 2 / s[-1] ** 2), rel=1e-6)


def test_singular_jacobian_is_infinitely_ill_conditioned():
    G = torch.nn.Linear(3, 3, bias=False)
    with torch.no_grad():
        G.weight.copy_(torch.tensor([[1.0, 0, 0], [0, 2.0, 0], [0, 0, 0]]))
    assert jacobian_conditioning(G, torch.randn(4, 3))["jacobian_log_condition"] == math.inf


def test_game_metrics_at_evaluations_leave_the_training_unchanged(tmp_path):
    """The duality gaps and the conditioning are recorded at evaluations and the losses of every epoch are those
    of the same run without them (each metric draws from its own seeded generator)."""
    rows = []
    for flag in (False, True):
        out = tmp_path / str(flag)
        train(TrainConfig(data="ring:8:2.0:0.1", epochs=2, eval_every=1, seed=3, out=str(out), progress=False,
                          threads=1, eval_duality_gap=flag, eval_jacobian=flag, max_iterations_per_epoch=20))
        rows.append([json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()])
    for plain, game in zip(*rows):
        assert (plain["loss_d"], plain["loss_g"], plain["q_d"]) == (game["loss_d"], game["loss_g"], game["q_d"])
        assert "duality_gap" not in plain["eval"]
        ev = game["eval"]
        assert ev["modes_covered"] == plain["eval"]["modes_covered"]
        assert all(math.isfinite(ev[k]) for k in ("duality_gap", "duality_gap_perturbed", "jacobian_log_condition"))
