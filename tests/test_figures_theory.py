"""Figures 2, 3, 13 and 22 (drawn from the toolkit's own computations) against independent numerics.

Each figure is drawn once in the quick profile into a temporary folder; the tests read the arrays it
drew (figNN.data.npz) and check them against formulas typed from the paper (Proposition C.1, Section
4.1), torch autograd, scipy quadrature and a Kolmogorov-Smirnov test.
"""
import matplotlib.image as mpimg
import numpy as np
import pytest
from scipy import integrate, special, stats

from ganphase import cli
from ganphase.figures import common, fig02, fig03, fig13, fig22

MODULES = {2: fig02, 3: fig03, 13: fig13, 22: fig22}


@pytest.fixture(scope="module")
def drawn(tmp_path_factory):
    out = tmp_path_factory.mktemp("figures")
    paths = {n: m.make("quick", out) for n, m in MODULES.items()}
    return out, paths


def data(drawn, n):
    return np.load(common.data_path(drawn[0], n))


@pytest.mark.parametrize("n", sorted(MODULES))
def test_figure_renders(drawn, n):
    out, paths = drawn
    for ext in ("png", "pdf", "json", "md"):
        path = out / f"fig{n:02d}.{ext}"
        assert path in paths[n] and path.stat().st_size > 0
    pixels = mpimg.imread(out / f"fig{n:02d}.png")
    assert pixels.ndim == 3 and pixels[..., :3].var() > 1e-3, "the PNG is blank"
    assert (out / f"fig{n:02d}.pdf").read_bytes().startswith(b"%PDF")
    assert f"**Figure {n}.**" in (out / f"fig{n:02d}.md").read_text()


def test_profile_is_checked(tmp_path):
    with pytest.raises(ValueError, match="profile"):
        fig13.make("fast", tmp_path)


# ----------------------------------------------------------------------------- Figure 2
def prop_c1_field(x):
    """Proposition C.1 as printed: grad r / (r (1 + r)), r = 1/2 sum exp(-2.5 ||x - 2(a, b)||^2 + 5a^2 + 5b^2)."""
    centres = np.array([[1, 1], [1, -1], [-1, 1], [-1, -1]], float)
    expo = -2.5 * ((x[:, None, :] - 2 * centres[None]) ** 2).sum(2) + 5 * (centres ** 2).sum(1)[None]
    terms = np.exp(expo)
    r = 0.5 * terms.sum(1)
    grad_r = -2.5 * (terms[:, :, None] * (x[:, None, :] - 2 * centres[None])).sum(1)
    return grad_r / (r * (1 + r))[:, None]


def test_fig02_case1_is_proposition_c1(drawn):
    d = data(drawn, 2)
    for key in ("", "zoom_"):
        points, field = d[f"case1_{key}points"], d[f"case1_{key}field"]
        np.testing.assert_allclose(field, prop_c1_field(points), rtol=1e-8, atol=1e-12)


def test_fig02_case1_arrows_point_as_proposition_c1_says(drawn):
    """Off the axes the field is along [2 sign(x1) - x1, 2 sign(x2) - x2]; inside the square of the modes
    that is toward the nearest mode (Proposition C.1 and Section 3.1, case 1)."""
    d = data(drawn, 2)
    p, u = d["case1_points"], d["case1_direction"]
    off_axes = (np.abs(p) > 1e-9).all(1)
    approx = 2 * np.sign(p[off_axes]) - p[off_axes]
    cosine = (u[off_axes] * approx).sum(1) / np.linalg.norm(approx, axis=1)
    assert off_axes.sum() > 100 and cosine.min() > 0.999
    modes = d["case1_modes"]
    nearest = modes[np.argmin(((p[:, None] - modes[None]) ** 2).sum(2), axis=1)]
    inside = off_axes & (np.abs(p) < 1).all(1)
    assert inside.sum() >= 16 and np.all((u * (nearest - p)).sum(1)[inside] > 0)
    np.testing.assert_allclose(np.linalg.norm(u[off_axes], axis=1), 1.0, rtol=1e-12)


def test_fig02_case3_discriminator_order(drawn):
    """Section 3.1, case 3: d* is lowest at the covered mode [1, 1] and highest at the farthest, [-1, -1]."""
    d = data(drawn, 2)
    modes, values = d["case3_modes"], d["case3_dstar_at_modes"]
    assert np.argmin(values) == np.flatnonzero((modes == [1, 1]).all(1))[0]
    assert np.argmax(values) == np.flatnonzero((modes == [-1, -1]).all(1))[0]


# ----------------------------------------------------------------------------- Figure 3
def _inverse_from_knots(knots, values):
    """g^{-1} of the piecewise-linear map through (knots, values), extended linearly (numpy only)."""
    first, last = (knots[1] - knots[0]) / (values[1] - values[0]), (knots[-1] - knots[-2]) / (values[-1] - values[-2])

    def inv(x):
        x = np.asarray(x, float)
        return np.where(x < values[0], knots[0] + (x - values[0]) * first,
                        np.where(x > values[-1], knots[-1] + (x - values[-1]) * last, np.interp(x, values, knots)))
    return inv


def test_fig03_shaded_areas_are_the_theorem_3_4_probabilities(drawn):
    d = data(drawn, 3)
    lo, hi = d["interval"]
    assert (lo, hi) == (-5.0, 5.0)
    x = d["x"]
    band = (x >= lo) & (x <= hi)
    for i, prob in enumerate(d["probability"]):
        # the drawn curve, integrated over the shaded band
        assert integrate.simpson(d["density"][i][band], x=x[band]) == pytest.approx(prob, rel=1e-4)
        # the push-forward density rebuilt from the map's knots: phi(g^{-1}(x)) (g^{-1})'(x), by quad
        inv = _inverse_from_knots(d[f"knots_{i}"], d[f"values_{i}"])
        h = 1e-6
        density = lambda t: stats.norm.pdf(inv(t)) * (inv(t + h) - inv(t - h)) / (2 * h)
        value, _ = integrate.quad(density, lo, hi, limit=200, epsabs=1e-11)
        assert value == pytest.approx(prob, rel=1e-6)
    # the optimal-transport map pushes N(0, 1) to p_data exactly
    mix = lambda t: 0.5 * stats.norm.pdf(t, -8, 1) + 0.5 * stats.norm.pdf(t, 8, 1)
    assert integrate.quad(mix, lo, hi)[0] == pytest.approx(float(d["ot_probability"]), rel=1e-8)
    np.testing.assert_allclose(d["ot_density"], mix(x), rtol=1e-10, atol=1e-300)


def test_fig03_probabilities_fall_with_steepness_and_respect_the_derived_bound(drawn):
    d = data(drawn, 3)
    order = np.argsort(d["k"])
    assert np.all(np.diff(d["probability"][order]) < 0)
    assert np.all(d["probability"] >= d["derived_bound"] - 1e-9)
    # the linear core has slope k at 0: the derived bound 2 Phi((8 - 3)/k) - 1 is attained
    np.testing.assert_allclose(d["probability"], 2 * special.ndtr(5 / d["k"]) - 1, rtol=1e-9)


# ----------------------------------------------------------------------------- Figure 13
def test_fig13_magnitudes_are_one_over_4sigma_minus_r(drawn):
    d = data(drawn, 13)
    sigma = float(d["sigma"])
    assert sigma == pytest.approx(np.sqrt(0.0125))
    for panel in ("left", "zoom"):
        r, mag = d[f"{panel}_r"], d[f"{panel}_magnitude"]
        assert len(r) > 50 and np.all((r > 0) & (r < 4 * sigma))
        np.testing.assert_allclose(mag, 1 / (4 * sigma - r), rtol=1e-10)


def test_fig13_field_is_the_autograd_of_the_linear_discriminator(drawn):
    torch = pytest.importorskip("torch")
    d = data(drawn, 13)
    sigma = float(d["sigma"])
    modes = torch.tensor(d["modes"], dtype=torch.float64)
    for panel in ("left", "zoom"):
        x = torch.tensor(d[f"{panel}_points"], dtype=torch.float64, requires_grad=True)
        dist = torch.cdist(x, modes).min(dim=1).values
        disc = 0.5 - dist / (8 * sigma)                      # Assumption 4.1 inside B_{4 sigma}(x_i)
        (grad,) = torch.autograd.grad(disc.sum(), x)
        expected = (grad / disc[:, None]).detach().numpy()
        np.testing.assert_allclose(d[f"{panel}_field"], expected, rtol=1e-10, atol=1e-12)


# ----------------------------------------------------------------------------- Figure 22
def _mixture_cdf(means, sigmas, weights):
    return lambda t: np.sum(weights[None] * stats.norm.cdf((np.asarray(t)[:, None] - means[None]) / sigmas[None]), axis=1)


def _curves(d):
    keys = sorted({k.rsplit("_", 1)[0] for k in d.files if k.endswith("_g")})
    assert len(keys) == 14
    return keys


def test_fig22_curves_push_the_gaussian_to_the_mixture(drawn):
    d = data(drawn, 22)
    rng = np.random.default_rng(0)
    z = rng.standard_normal(3000)
    for key in _curves(d):
        cdf = _mixture_cdf(d[f"{key}_means"], d[f"{key}_sigmas"], d[f"{key}_weights"])
        samples = np.interp(z, d["z"], d[f"{key}_g"])
        assert stats.kstest(samples, cdf).pvalue > 1e-3, key
        # the test can fail: a curve shifted by half a standard deviation is rejected
        shifted = samples + 0.5 * d[f"{key}_sigmas"][0]
        assert stats.kstest(shifted, cdf).pvalue < 1e-3, key


def test_fig22_curves_are_increasing(drawn):
    d = data(drawn, 22)
    for key in _curves(d):
        assert np.all(np.diff(d[f"{key}_g"]) > 0), key


# ----------------------------------------------------------------------------- CLI
@pytest.mark.parametrize("arg", ["23", "x", "0"])
def test_figures_cli_rejects_unknown_numbers(arg, tmp_path, capsys):
    assert cli.main(["figures", arg, "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("n", sorted(MODULES))
def test_claims_illustrated_are_registered(drawn, n):
    import json

    from ganphase.theory.claims import REGISTRY
    record = json.loads((drawn[0] / f"fig{n:02d}.json").read_text())
    assert record["claims"] and record["profile"] == "quick" and record["seed"] == common.SEED
    for claim_id in record["claims"]:
        REGISTRY[claim_id]  # raises ValueError for an unknown id


def test_a_caption_naming_an_unregistered_claim_is_refused():
    with pytest.raises(ValueError, match="not in the registry: alg-99"):
        common.Caption(1, "text", "quick", claims=("thm-3.4", "alg-99"))
    assert common.Caption(1, "text", "quick", claims=("thm-3.4",)).claims == ("thm-3.4",)
