import json

import numpy as np
import pytest
import torch
from hypothesis import given, strategies as st
from scipy import special, stats

from ganphase.cli import main
from ganphase.simulate import flows
from ganphase.simulate.flows import KernelDensity, bandwidth_rule, run_flow, table2_pair
from ganphase.simulate.mixtures import GaussianMixture


def direct_kde(x, centres, h):
    """log p and score of the isotropic Gaussian KDE, straight from the definition with scipy."""
    d2 = ((x[:, None, :] - centres[None]) ** 2).sum(axis=2)
    n = x.shape[1]
    logits = -d2 / (2 * h * h)
    log_p = special.logsumexp(logits, axis=1) - np.log(len(centres)) - 0.5 * n * np.log(2 * np.pi * h * h)
    w = special.softmax(logits, axis=1)
    return log_p, (w @ centres - x) / h ** 2


@given(seed=st.integers(0, 10**6), m=st.integers(1, 40), big=st.integers(1, 90), dim=st.integers(1, 12),
       block=st.integers(1, 500))
def test_streamed_kde_equals_direct(seed, m, big, dim, block):
    rng = np.random.default_rng(seed)
    centres, x = rng.normal(size=(big, dim)), rng.normal(0, 2, size=(m, dim))
    h = rng.uniform(0.2, 2.0)
    kde = KernelDensity(torch.tensor(centres), h, block=block)
    log_p, score = kde.stats(torch.tensor(x))
    ref_lp, ref_score = direct_kde(x, centres, h)
    np.testing.assert_allclose(log_p.numpy(), ref_lp, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(score.numpy(), ref_score, rtol=1e-7, atol=1e-7)


def test_kde_matches_scipy_and_autograd():
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(200, 1))
    kde = KernelDensity(torch.tensor(centres), "scott")
    ref = stats.gaussian_kde(centres[:, 0])               # in 1-D its bandwidth is the same Scott rule
    x = np.linspace(-3, 3, 11)[:, None]
    np.testing.assert_allclose(kde.log_prob(torch.tensor(x)).numpy(), ref.logpdf(x[:, 0]), rtol=1e-10)
    xt = torch.tensor(x, requires_grad=True)
    (g,) = torch.autograd.grad(kde.log_prob(xt).sum(), xt)
    np.testing.assert_allclose(kde.score(torch.tensor(x)).numpy(), g.numpy(), rtol=1e-8, atol=1e-10)


def test_bandwidth_rules_against_scipy_factors():
    x = np.random.default_rng(1).normal(size=(500, 3)) * [1.0, 2.0, 0.5]
    s = np.sqrt(x.var(axis=0, ddof=1).mean())
    ref = stats.gaussian_kde(x.T)
    assert bandwidth_rule(torch.tensor(x), "scott") == pytest.approx(s * ref.scotts_factor(), rel=1e-12)
    assert bandwidth_rule(torch.tensor(x), "silverman") == pytest.approx(s * ref.silverman_factor(), rel=1e-12)
    for bad in (0.0, -1.0, float("nan"), "wide"):
        with pytest.raises(ValueError, match="bandwidth"):
            bandwidth_rule(torch.tensor(x), bad)


def test_case_1_flow_raises_the_data_log_likelihood():
    p_data, p_g = table2_pair(1)
    x0 = p_g.sample(400, np.random.default_rng(0))
    run = run_flow(x0, p_data, p_g, 60, 0.01, record_every=20, device="cpu", progress=False)
    assert list(run.steps) == [0, 20, 40, 60]
    ll = run.mean_log_p_data
    assert ll[-1] > ll[0] + 3
    np.testing.assert_allclose(ll, [p_data.log_prob(p).mean() for p in run.positions], rtol=1e-10)


def test_kde_flow_spreads_a_narrow_cloud_toward_both_modes():
    p_data = GaussianMixture([[-2.0], [2.0]], 0.5)
    x0 = np.random.default_rng(2).normal(0, 0.05, size=(300, 1))
    run = run_flow(x0, p_data, "kde", 150, 0.02, record_every=150, device="cpu", progress=False)
    last = run.positions[-1][:, 0]
    assert last.std() > 10 * x0.std()
    assert np.mean(last < -1) > 0.3 and np.mean(last > 1) > 0.3
    assert run.mean_log_p_data[-1] > run.mean_log_p_data[0]


@pytest.mark.parametrize("case", [2, 4])
def test_fixed_field_in_higher_dimension_stays_finite(case):
    p_data, p_g = table2_pair(case, 6)
    x0 = p_g.sample(200, np.random.default_rng(case))
    run = run_flow(x0, p_data, p_g, 20, 0.01, record_every=5, device="cpu", dtype="float32", progress=False)
    assert run.positions.shape == (5, 200, 6) and np.all(np.isfinite(run.positions))
    assert run.mean_log_p_data[-1] > run.mean_log_p_data[0]


@pytest.mark.parametrize("p_g", ["fixed", "kde"])
def test_resume_after_interruption_gives_identical_trajectories(p_g, tmp_path, monkeypatch):
    p_data, density = table2_pair(3)
    x0 = density.sample(150, np.random.default_rng(4))
    target = density if p_g == "fixed" else "kde"
    kw = dict(record_every=3, checkpoint_every=4, device="cpu", progress=False)
    whole = run_flow(x0, p_data, target, 20, 0.01, out=tmp_path / "whole", **kw)

    real, calls = flows._field_at, {"n": 0}

    def dies_at_step_11(*args):
        calls["n"] += 1
        if calls["n"] == 11:
            raise KeyboardInterrupt
        return real(*args)

    monkeypatch.setattr(flows, "_field_at", dies_at_step_11)
    with pytest.raises(KeyboardInterrupt):
        run_flow(x0, p_data, target, 20, 0.01, out=tmp_path / "cut", **kw)
    monkeypatch.setattr(flows, "_field_at", real)
    with np.load(tmp_path / "cut" / "checkpoint.npz") as ck:
        assert int(ck["step"]) == 8
    resumed = run_flow(x0, p_data, target, 20, 0.01, out=tmp_path / "cut", resume=True, **kw)
    np.testing.assert_array_equal(resumed.steps, whole.steps)
    np.testing.assert_array_equal(resumed.positions, whole.positions)
    with np.load(tmp_path / "cut" / "trajectories.npz") as a, np.load(tmp_path / "whole" / "trajectories.npz") as b:
        np.testing.assert_array_equal(a["positions"], b["positions"])
    with pytest.raises(ValueError, match="different run"):
        run_flow(x0 + 1, p_data, target, 20, 0.01, out=tmp_path / "cut", resume=True, **kw)


def test_bad_inputs_raise_one_sentence_value_errors(monkeypatch):
    p_data, p_g = table2_pair(1)
    x0 = p_g.sample(10, np.random.default_rng(0))
    bad = [(dict(step_size=0.0), "step size"), (dict(step_size=-1.0), "step size"),
           (dict(step_size=float("nan")), "step size"), (dict(x0=np.full((3, 2), np.nan)), "NaN"),
           (dict(x0=np.zeros((3, 3))), "dimension"), (dict(steps=-1), "steps"), (dict(record_every=0), "record_every"),
           (dict(p_g="histogram"), "p_g"), (dict(p_g=table2_pair(1, 3)[1]), "dimension")]
    for change, match in bad:
        args = dict(x0=x0, p_data=p_data, p_g=p_g, steps=5, step_size=0.1) | change
        with pytest.raises(ValueError, match=match):
            run_flow(args.pop("x0"), args.pop("p_data"), args.pop("p_g"), args.pop("steps"), args.pop("step_size"),
                     device="cpu", progress=False, **args)
    monkeypatch.setattr(flows, "_available_bytes", lambda device: 10**6)
    with pytest.raises(ValueError, match="GiB"):
        run_flow(np.zeros((10**5, 2)), p_data, p_g, 5, 0.1, device="cpu", progress=False)


def test_simulate_command_writes_files_and_resumes(tmp_path, capsys):
    out = tmp_path / "run"
    argv = ["simulate", "--case", "1", "--particles", "100", "--steps", "12", "--record-every", "4",
            "--pg", "kde", "--kde-bandwidth", "0.3", "--device", "cpu", "--out", str(out), "--quiet"]
    assert main(argv) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["case"] == 1 and summary["steps"] == 12 and summary["bandwidth"] == 0.3
    with np.load(out / "trajectories.npz") as data:
        assert data["positions"].shape == (4, 100, 2)
        first = data["positions"].copy()
    assert main(argv + ["--resume"]) == 0
    with np.load(out / "trajectories.npz") as data:
        np.testing.assert_array_equal(data["positions"], first)


@pytest.mark.parametrize("argv", [["--case", "5"], ["--case", "1", "--step-size", "0"], ["--case", "1", "--dim", "1"],
                                  ["--case", "1", "--kde-bandwidth", "0.2"],
                                  ["--case", "1", "--pg", "kde", "--kde-bandwidth", "-3"],
                                  ["--case", "1", "--particles", "0"], ["--case", "1", "--dtype", "float16"],
                                  ["--case", "1", "--device", "tpu"]])
def test_simulate_command_bad_options_are_one_line_exit_2(argv, tmp_path, capsys):
    assert main(["simulate", *argv, "--steps", "1", "--particles" if "--particles" not in argv else "--seed", "10",
                 "--out", str(tmp_path / "o"), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "\n" not in err


@pytest.mark.gpu
def test_cuda_flow_matches_cpu():
    p_data, p_g = table2_pair(1, 4)
    x0 = p_g.sample(2000, np.random.default_rng(0))
    cpu = run_flow(x0, p_data, "kde", 10, 0.01, record_every=10, device="cpu", progress=False)
    gpu = run_flow(x0, p_data, "kde", 10, 0.01, record_every=10, device="cuda", progress=False)
    np.testing.assert_allclose(gpu.positions, cpu.positions, rtol=1e-9, atol=1e-9)
