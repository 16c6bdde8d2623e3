"""The steepness ODE, the Gaussian recurrences and the ``ganphase ode`` command."""
import json

import numpy as np
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st
from scipy import integrate

from ganphase.simulate.mixtures import GaussianMixture
from ganphase.cli import main
from ganphase.simulate import ode
from ganphase.simulate.evidence.dynamics import numeric_particle_step, theorem_c5_evidence
from ganphase.simulate.pushforward import PushforwardFlow, latent_grid, run_flow

U = sp.Symbol("u", positive=True)


# --------------------------------------------------------------------------- the ODE

@given(mu=st.floats(0.2, 4.0), sigma=st.floats(0.3, 2.0), a=st.floats(0.1, 10.0), c=st.floats(-5.0, 5.0))
def test_printed_main_rhs_equals_derived_and_proof_line_does_not(mu, sigma, a, c):
    derived = ode.steepness_rhs("derived")(mu, sigma, a, c)
    assert ode.steepness_rhs("printed-main")(mu, sigma, a, c) == pytest.approx(derived, rel=1e-10, abs=1e-12)
    proof = ode.steepness_rhs("printed-proof")(mu, sigma, a, c)
    e_half, e_full = np.exp(-mu ** 2 / (2 * sigma ** 2)), np.exp(-mu ** 2 / sigma ** 2)
    # same numerator, denominators differ by (e_half - e_full) a^3 / sigma
    num = (mu ** 2 - sigma ** 2) / sigma ** 4 * a ** 3 + a + c
    assert num / proof - num / derived == pytest.approx((e_full - e_half) * a ** 3 / sigma, rel=1e-6, abs=1e-12)


@given(mu=st.floats(0.3, 3.0), sigma=st.floats(0.5, 1.5), a0=st.floats(0.3, 3.0))
def test_zero_closure_solution_matches_the_separable_quadrature(mu, sigma, a0):
    """With g''' = 0 the ODE is separable: t(a) = int_{a0}^{a} (E a^3 / sigma + a^2) / (k a^3 + a) da."""
    t_end = 0.3 * sigma ** 2
    t, a = ode.integrate_steepness(mu, sigma, a0, t_end)
    e, k = np.exp(-mu ** 2 / (2 * sigma ** 2)), (mu ** 2 - sigma ** 2) / sigma ** 4
    integrand = lambda v: (e * v ** 3 / sigma + v ** 2) / (k * v ** 3 + v)  # noqa: E731
    elapsed = integrate.quad(integrand, a0, a[-1], epsabs=1e-13, epsrel=1e-11)[0]
    assert elapsed == pytest.approx(t[-1], rel=1e-6)


def test_ode_with_the_simulated_third_derivative_tracks_the_flow_at_first_order_in_dt():
    """Closing the ODE with the simulated g'''(0)(t) reproduces the simulated g'(0)(t) up to O(dt) (Euler)."""
    mu, sigma, a0, t_end = 2.0, 1.0, 1.0, 0.2
    errors = []
    for dt in (4e-4, 2e-4):
        flow = PushforwardFlow(ode.symmetric_mixture(mu, sigma), lambda v: a0 * v, latent_grid(301, 6.0))
        record = run_flow(flow, dt, int(round(t_end / dt)))
        _, a = ode.integrate_steepness(mu, sigma, a0, record.t[-1], closure=ode.third_closure_from(record),
                                       t_eval=record.t)
        errors.append(np.max(np.abs(a - record.slope) / record.slope))
    assert errors[1] < 2e-3
    assert 1.6 < errors[0] / errors[1] < 2.4


def test_zero_closure_overestimates_the_flow_when_modes_are_separated():
    """The simulated g''' turns negative at once (the field tanh(mu x / sigma^2) bends g); g''' = 0 grows faster."""
    mu, sigma, a0 = 3.0, 1.0, 1.0
    flow = PushforwardFlow(ode.symmetric_mixture(mu, sigma), lambda v: a0 * v, latent_grid(401, 6.0))
    record = run_flow(flow, 2e-4, 500)
    _, a = ode.integrate_steepness(mu, sigma, a0, record.t[-1], t_eval=record.t)
    assert np.all(record.third[1:] < 0)
    assert a[-1] > 1.2 * record.slope[-1]   # measured: 2.30 vs 1.79 at t = 0.1


def test_integrate_rejects_bad_input():
    for bad in (dict(mu=-1.0), dict(sigma=0.0), dict(slope0=-1.0), dict(t_end=0.0)):
        kwargs = dict(mu=1.0, sigma=1.0, slope0=1.0, t_end=1.0) | bad
        with pytest.raises(ValueError):
            ode.integrate_steepness(**kwargs)
    with pytest.raises(ValueError, match="closure"):
        ode.integrate_steepness(1.0, 1.0, 1.0, 1.0, closure="cubic")
    with pytest.raises(ValueError, match="form"):
        ode.steepness_rhs("typo")


# --------------------------------------------------------------------------- recurrences

@given(k=st.floats(0.3, 3.0), k_star=st.floats(0.3, 3.0), step=st.floats(0.01, 0.5), n=st.integers(1, 3),
       seed=st.integers(0, 1000), sub=st.sampled_from([None, sp.Lambda(U, 1 + U / 2), sp.Lambda(U, 2 - sp.exp(-U))]))
def test_derived_recurrence_is_one_step_of_algorithm_1(k, k_star, step, n, seed, sub):
    x0 = np.random.default_rng(seed).normal(size=n)
    f = None if sub is None else sp.lambdify(sub.variables, sub.expr, "numpy")
    x1 = numeric_particle_step(k * x0, k, k_star, step, f)
    assert np.allclose(x1, (x1 @ x0 / (x0 @ x0)) * x0, atol=1e-8)       # the move is radial
    derived = ode.recurrence_step(k, k_star, step, np.linalg.norm(x0), suboptimal=sub, n=n)
    assert x1 @ x0 / (x0 @ x0) == pytest.approx(derived, rel=1e-6, abs=1e-8)


def test_printed_c5_recurrence_reproduces_the_recorded_counterexample():
    evidence = theorem_c5_evidence(np.random.default_rng(1), False)
    assert evidence.status == "failed"
    ce = evidence.counterexample
    x0 = np.asarray(ce["x0"])
    x1 = numeric_particle_step(ce["k_t"] * x0, ce["k_t"], ce["k_star"], ce["s"])
    numeric = x1 @ x0 / (x0 @ x0)
    printed = ode.recurrence_step(ce["k_t"], ce["k_star"], ce["s"], np.linalg.norm(x0), form="printed", n=ce["n"])
    assert abs(printed - numeric) > 1e-3 and numeric == pytest.approx(ce["numeric"], rel=1e-9)


def test_suboptimal_with_f_one_is_theorem_c5():
    one = sp.Lambda(U, sp.Integer(1))
    for form in ode.RECURRENCE_FORMS:
        for x0 in (0.0, 0.8):
            assert ode.recurrence_step(1.7, 0.9, 0.2, x0, form=form, suboptimal=one) == pytest.approx(
                ode.recurrence_step(1.7, 0.9, 0.2, x0, form=form), rel=1e-12)


def test_slope_recurrence_matches_the_grid_flow_for_one_step_only():
    """After one step the flow's g'(0) is the recurrence's; later g''' != 0 and they part (the update is not linear)."""
    k0, k_star, dt = 0.6, 1.5, 5e-4
    flow = PushforwardFlow(GaussianMixture([0.0], [k_star], [1.0]), lambda v: k0 * v, latent_grid(201, 8.0))
    record = run_flow(flow, dt, 1000)
    ks = ode.iterate_recurrence(k0, k_star, dt, 1000)
    assert record.slope[1] == pytest.approx(ks[1], rel=1e-9)
    assert abs(record.slope[-1] - ks[-1]) > 1e-2 * ks[-1]     # measured: 0.886 vs 0.916 at t = 0.5
    assert np.all(np.diff(ks) > 0) and ks[-1] < k_star


def test_derived_recurrence_converges_to_k_star():
    ks = ode.iterate_recurrence(0.5, 2.0, 0.2, 400)
    assert ks[-1] == pytest.approx(2.0, rel=1e-6) and np.all(np.diff(ks) >= 0)


def test_recurrence_rejects_bad_input():
    with pytest.raises(ValueError):
        ode.iterate_recurrence(-1.0, 1.0, 0.1, 5)
    with pytest.raises(ValueError):
        ode.iterate_recurrence(1.0, 1.0, 0.1, 0)
    with pytest.raises(ValueError):
        ode.recurrence_step(1.0, 1.0, 0.1, 0.5, n=0)
    with pytest.raises(ValueError):
        ode.recurrence_step(1.0, 1.0, 0.1, 0.5, form="typo")


# --------------------------------------------------------------------------- the command

@pytest.mark.parametrize("argv", [
    ["--mu", "-1", "--sigma", "1", "--t-end", "1", "--dt", "0.1"],
    ["--mu", "1", "--sigma", "0", "--t-end", "1", "--dt", "0.1"],
    ["--mu", "1", "--sigma", "1", "--t-end", "1", "--dt", "0.3"],
    ["--mu", "1", "--sigma", "1", "--t-end", "1", "--dt", "0.1", "--grid", "100"],
    ["--mu", "1", "--sigma", "1", "--t-end", "1"],
])
def test_ode_command_bad_options_are_one_line_exit_2(argv, tmp_path, capsys):
    assert main(["ode", *argv, "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("error:")


def test_ode_command_writes_files(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["ode", "--mu", "2", "--sigma", "1", "--g0", "1", "--t-end", "0.05", "--dt", "5e-4",
                 "--grid", "201", "--out", str(out), "--compare-simulation", "--quiet"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    with np.load(out / "ode.npz", allow_pickle=False) as data:
        assert data["slope_derived"].shape == data["t"].shape == data["slope_simulated"].shape
        assert np.allclose(data["slope_derived"], data["slope_printed_main"], rtol=1e-8)
    assert summary["paper_growth_rate"] == 3.0
    assert summary["simulation"]["rhs_vs_measured"]["derived"]["max_rel_error"] < 1e-2
    assert summary["simulation"]["rhs_vs_measured"]["printed-proof"]["max_rel_error"] > 1e-2
    assert (out / "pushforward.npz").exists()


def test_ode_command_resume_continues_from_the_checkpoint(tmp_path, capsys):
    out = tmp_path / "run"
    argv = ["ode", "--mu", "1.5", "--sigma", "1", "--t-end", "0.02", "--dt", "5e-4", "--grid", "101",
            "--out", str(out), "--compare-simulation", "--quiet", "--checkpoint-every", "10"]
    assert main(argv) == 0
    first = json.loads((out / "summary.json").read_text())["simulation"]["final_slope"]
    assert (out / "pushforward.ckpt.npz").exists()
    assert main(argv + ["--resume"]) == 0      # the checkpoint is complete: nothing left to do
    assert json.loads((out / "summary.json").read_text())["simulation"]["final_slope"] == first


def test_growth_rates_first_step_is_the_exact_rate_and_g3_slows_growth():
    row = ode.growth_rates(3.0, 1.0, 1.0, efolds=(0.05, 0.2), spacing=1 / 16)
    assert row["initial_rate_simulated"] == pytest.approx(row["initial_rate_exact"], rel=1e-4)
    assert row["paper_rate"] == 8.0 and row["initial_rate_exact"] > row["paper_rate"]
    assert all(s < o for s, o in zip(row["simulated_rate"], row["ode_zero_closure_rate"]))
    table = ode.growth_table_markdown([row, {**row, "unresolved": "unstable"}])
    assert table.count("\n") == 4 and "not resolved: unstable" in table
