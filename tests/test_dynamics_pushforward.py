"""The grid push-forward flow (ganphase.simulate.pushforward) against independent computations."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import special, stats

from ganphase.simulate.mixtures import GaussianMixture
from ganphase.simulate import ode
from ganphase.simulate.pushforward import (Derivatives, FlowRecord, PushforwardFlow, fornberg_weights,
                                           latent_grid, run_flow)


# --------------------------------------------------------------------------- finite differences

def test_fornberg_reproduces_the_classical_five_point_weights():
    w = fornberg_weights(np.array([[-2.0, -1.0, 0.0, 1.0, 2.0]]), 2)
    assert np.allclose(w[1, 0], [1 / 12, -2 / 3, 0, 2 / 3, -1 / 12], atol=1e-14)
    assert np.allclose(w[2, 0], [-1 / 12, 4 / 3, -5 / 2, 4 / 3, -1 / 12], atol=1e-14)


@given(seed=st.integers(0, 2 ** 32 - 1))
def test_fornberg_is_exact_on_polynomials_for_any_nodes(seed):
    rng = np.random.default_rng(seed)
    offsets = np.sort(rng.uniform(-2, 2, 7)) + np.arange(7) * 1e-2
    coeffs = rng.normal(size=7)   # degree 6 < 7 nodes: exact
    poly = np.polynomial.Polynomial(coeffs)
    w = fornberg_weights(offsets[None, :], 3)[:, 0]
    for m in range(4):
        assert w[m] @ poly(offsets) == pytest.approx(poly.deriv(m)(0.0) if m else poly(0.0), abs=1e-8)


@pytest.mark.parametrize("stretch", [0.0, 2.0])
def test_grid_derivatives_converge_at_high_order(stretch):
    f = lambda v: np.sin(v) + 0.1 * v ** 3  # noqa: E731
    exact = {1: lambda v: np.cos(v) + 0.3 * v ** 2, 3: lambda v: -np.cos(v) + 0.6}
    errors = {}
    for n in (101, 201):
        z = latent_grid(n, 6.0, stretch)
        d = Derivatives(z)
        errors[n] = {m: np.max(np.abs(d(f(z), m) - exact[m](z))) for m in (1, 3)}
    assert errors[201][1] < errors[101][1] / 2 ** 6    # 9-point stencil: O(h^8) for f'
    assert errors[201][3] < errors[101][3] / 2 ** 4    # O(h^6) for f'''


@pytest.mark.parametrize("bad", [dict(n=100), dict(n=7), dict(n=101, half_width=-1.0), dict(n=101, stretch=-1.0)])
def test_latent_grid_rejects_bad_input(bad):
    with pytest.raises(ValueError):
        latent_grid(**bad)


# --------------------------------------------------------------------------- the push-forward density

def test_linear_generator_density_is_the_scipy_normal():
    a, b = 1.7, 0.4
    flow = PushforwardFlow(GaussianMixture([0.0], [1.0], [1.0]), lambda v: a * v + b, latent_grid(401, 8.0))
    x = np.linspace(-8, 8, 97)
    assert np.allclose(flow.log_density(x), stats.norm(b, a).logpdf(x), atol=1e-9)
    assert np.all(flow.log_density(np.array([-100.0, 100.0])) == -np.inf)


def test_optimal_transport_generator_pushes_to_the_mixture():
    """g = Psi^{-1} o Phi on the grid: the flow's density equals the mixture's, and the field is ~0."""
    target = ode.symmetric_mixture(1.5, 0.8)
    z = latent_grid(801, 6.0)
    flow = PushforwardFlow(target, lambda v: np.asarray(target.ppf(special.ndtr(v)), dtype=float), z)
    x = np.linspace(-3.5, 3.5, 141)
    assert np.allclose(flow.log_density(x), target.log_prob(x), atol=3e-5)
    inner = np.abs(z) < 4
    assert np.max(np.abs(flow.field()[inner])) < 1e-4


def test_density_matches_a_monte_carlo_histogram():
    rng = np.random.default_rng(0)
    flow = PushforwardFlow(ode.symmetric_mixture(2.0, 1.0), lambda v: 1.3 * v + 0.4 * v ** 3, latent_grid(601, 7.0))
    xs = flow.sample(200_000, rng)
    edges = np.linspace(-6, 6, 41)
    counts, _ = np.histogram(xs, edges)
    fine = np.linspace(-6, 6, 4001)
    cdf = np.concatenate([[0.0], np.cumsum(np.exp(flow.log_density(fine[1:])) * np.diff(fine))])
    expected = np.diff(np.interp(edges, fine, cdf)) * xs.size
    assert np.all(np.abs(counts - expected) < 5 * np.sqrt(expected) + 5)


# --------------------------------------------------------------------------- the flow

def test_flow_is_stationary_when_p_g_equals_p_data():
    flow = PushforwardFlow(GaussianMixture([0.3], [1.4], [1.0]), lambda v: 1.4 * v + 0.3, latent_grid(201, 7.0))
    assert np.max(np.abs(flow.field())) < 1e-9


def test_odd_generator_stays_odd_under_the_symmetric_mixture():
    flow = PushforwardFlow(ode.symmetric_mixture(2.0, 1.0), lambda v: v + 0.1 * v ** 3, latent_grid(201, 6.0))
    run_flow(flow, 2e-4, 200)
    g = flow.state.g
    assert np.max(np.abs(g + g[::-1])) < 1e-10 and abs(g[flow.center]) < 1e-12


@given(ratio=st.floats(0.3, 3.0), sigma=st.floats(0.5, 2.0), slope=st.floats(0.5, 2.0))
def test_measured_steepness_rate_matches_the_derived_rhs_and_converges(ratio, sigma, slope):
    """(g'_{n+1}(0) - g'_n(0)) / dt vs the derived ODE right-hand side: the error shrinks >= 8x per halving of h."""
    errors = []
    for spacing in (sigma / 8, sigma / 16):
        a0 = slope * sigma
        n = 2 * int(np.ceil(6.0 * a0 / spacing)) + 1
        flow = PushforwardFlow(ode.symmetric_mixture(ratio * sigma, sigma), lambda v: a0 * v, latent_grid(n, 6.0))
        record = run_flow(flow, 0.02 * sigma ** 2 / 40, 40)
        errors.append(ode.compare_with_flow(record, ratio * sigma, sigma)["derived"]["max_rel_error"])
    assert errors[1] < 5e-3
    assert errors[1] < errors[0] / 8 or errors[1] < 1e-9


@pytest.mark.parametrize("bad", ["decreasing", "nan", "shape"])
def test_flow_rejects_bad_initial_generators(bad):
    z = latent_grid(101, 6.0)
    g0 = {"decreasing": -z, "nan": np.where(z > 0, np.nan, z), "shape": z[:-1]}[bad]
    with pytest.raises(ValueError):
        PushforwardFlow(ode.symmetric_mixture(1.0, 1.0), g0, z)


def test_flow_rejects_bad_steps_and_targets():
    z = latent_grid(101, 6.0)
    with pytest.raises(ValueError, match="log_prob"):
        PushforwardFlow(object(), lambda v: v, z)
    flow = PushforwardFlow(ode.symmetric_mixture(1.0, 1.0), lambda v: v, z)
    for dt in (0.0, -1.0, float("nan")):
        with pytest.raises(ValueError, match="dt"):
            flow.step(dt)
    with pytest.raises(ValueError, match="steps"):
        run_flow(flow, 1e-3, 0)


def test_too_large_dt_is_reported_not_silently_wrong():
    flow = PushforwardFlow(ode.symmetric_mixture(2.0, 1.0), lambda v: v, latent_grid(401, 7.0))
    with pytest.raises(ValueError, match="lower dt"):
        run_flow(flow, 0.05, 200)


def test_record_round_trip(tmp_path):
    flow = PushforwardFlow(ode.symmetric_mixture(1.0, 1.0), lambda v: v, latent_grid(101, 6.0))
    record = run_flow(flow, 1e-3, 10, snapshots=3, params={"mu": 1.0})
    record.save(tmp_path)
    back = FlowRecord.load(tmp_path)
    assert np.array_equal(back.slope, record.slope) and back.snapshots.shape == (3, 101)
    assert back.params["mu"] == 1.0 and back.params["dt"] == 1e-3


def test_checkpointed_run_resumes_to_the_same_numbers(tmp_path):
    make = lambda: PushforwardFlow(ode.symmetric_mixture(2.0, 1.0), lambda v: v, latent_grid(101, 6.0))  # noqa: E731
    full = run_flow(make(), 1e-3, 40, snapshots=3)
    ckpt = tmp_path / "flow.ckpt.npz"
    interrupted = make()
    original_step = interrupted.step

    def failing_step(dt, calls=[0]):
        calls[0] += 1
        if calls[0] > 25:
            raise KeyboardInterrupt
        original_step(dt)

    interrupted.step = failing_step
    with pytest.raises(KeyboardInterrupt):
        run_flow(interrupted, 1e-3, 40, snapshots=3, checkpoint=ckpt, checkpoint_every=10)
    resumed = run_flow(make(), 1e-3, 40, snapshots=3, checkpoint=ckpt, checkpoint_every=10)
    assert np.array_equal(resumed.slope, full.slope) and np.array_equal(resumed.t, full.t)
    assert np.array_equal(resumed.snapshots, full.snapshots)
    with pytest.raises(ValueError, match="different run"):
        run_flow(make(), 2e-3, 40, checkpoint=ckpt)
