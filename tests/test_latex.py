"""LaTeX export: every formula of the document parses back (sympy's antlr LaTeX
parser) to its sympy expression, labels are unique, the document compiles."""
import re
import shutil
import subprocess

import pytest
import sympy as sp

from ganphase.cli import main
from ganphase.theory import REGISTRY, Part, compare
from ganphase.theory.claims import Registry
from ganphase.catalogue.latex import _text, document, formula, parse_formula, part_label

CLAIMS = list(REGISTRY)
BLOCK = re.compile(r"\\label\{(?P<label>[^}]*)\}.*?\n%<(?P<kind>derived|printed)>\n(?P<tex>.*?)\n%</(?P=kind)>",
                   re.S)


def formulas_in(doc: str) -> dict:
    """label -> the formula text between the %<kind> ... %</kind> markers of its equation."""
    found = {}
    for m in BLOCK.finditer(doc):
        assert m.group("label") not in found, f"label {m.group('label')} appears twice"
        found[m.group("label")] = m.group("tex")
    return found


@pytest.fixture(scope="module")
def draft():
    """The whole registry without verdicts (verdicts are the claims tests' business, and slow)."""
    return document(seed=None)


def round_trips(tex: str, expr) -> str | None:
    """None if ``tex`` parses back to ``expr``; else why not."""
    try:
        back = parse_formula(tex, like=expr)
    except ValueError as exc:
        return f"does not parse: {exc}"
    if isinstance(expr, sp.MatrixBase) != isinstance(back, sp.MatrixBase):
        return f"parsed {type(back).__name__}, expected {type(expr).__name__}"
    if (sp.Matrix(back) == sp.Matrix(expr)) if isinstance(expr, sp.MatrixBase) else back == expr:
        return None
    verdict = compare(Part("round trip", derived=expr, printed=back))
    return None if verdict.verdict == "agrees" else f"parsed {back}, which {verdict.verdict}: {verdict.counterexample}"


@pytest.mark.parametrize("claim", CLAIMS, ids=lambda c: c.id)
def test_every_formula_of_the_claim_parses_back(claim, draft):
    """Each derived formula (and each printed one shown) read back from the document equals the sympy expression."""
    found = formulas_in(draft)
    failures = []
    for part in claim.parts():
        label = part_label(claim, part.name)
        assert label in found, f"{label} is missing from the document"
        if (why := round_trips(found[label], part.derived)) is not None:
            failures.append(f"{part.name} (derived): {why}")
        if part.printed is not None and formula(part.printed) != formula(part.derived):
            assert label + ":printed" in found, f"{label}:printed is missing from the document"
            if (why := round_trips(found[label + ":printed"], part.printed)) is not None:
                failures.append(f"{part.name} (printed): {why}")
    assert not failures, "\n".join(failures)


def test_document_lists_every_claim_under_its_section(draft):
    for claim in CLAIMS:
        assert r"\texttt{%s}" % claim.id in draft
        section = draft.rfind(r"\section*{", 0, draft.index(r"\subsection*{\texttt{%s}" % claim.id))
        assert draft[section:].startswith(r"\section*{%s}" % _text(claim.section))
    assert draft.count(r"\begin{equation}") == draft.count(r"\end{equation}")


x, y, z = sp.symbols("x y z", real=True)
sigma = sp.Symbol("sigma", positive=True)
n, i = sp.Symbol("n", positive=True, integer=True), sp.Symbol("i", integer=True)
k_star, x_i, x_ip1 = sp.Symbol("k_star", positive=True), sp.Symbol("x_i", real=True), sp.Symbol("x_ip1", real=True)
rho0, pdata0, d = sp.Symbol("rho0"), sp.Symbol("pdata0", positive=True), sp.Symbol("d", positive=True)
p_data, g, dfun, P_r = (sp.Function("p_data", positive=True), sp.Function("g"), sp.Function("d"),
                        sp.Function("P_r"))

CONSTRUCTS = {
    "piecewise": sp.Piecewise((x**2, x < 1), (sp.exp(x), (x >= 1) & (x < 3)), (0, True)),
    "piecewise-factor": 2 * sp.Piecewise((1, x > 0), (-1, True)),
    "matrix": sp.Matrix([[sp.erf(x), sp.erfc(y)], [sp.log(sigma), sp.Abs(x - y)]]),
    "max-min": sp.Max(x, y, 1) - sp.Min(x, 2 * y),
    "sum": sp.sqrt(sigma) * sp.Sum(x**i / sp.factorial(i), (i, 0, n)),
    "product": sp.Product(1 - x**i, (i, 1, n)),
    "derivatives": sp.Derivative(p_data(x), x, 2) / p_data(x) + sp.Derivative(g(z), z),
    "mixed-partial": sp.Derivative(sp.exp(x * y), x, y),
    "derivative-wrt-function": dfun(g(z)) * d + sp.Derivative(dfun(g(z)), (g(z), 2)),
    "subs": sp.Subs(sp.Derivative(dfun(x), x), x, g(z)),
    "integral": sp.Integral(sp.exp(-x**2 / (2 * sigma**2)), (x, -sp.oo, y)),
    "double-integral": sp.Integral(x * y, (x, 0, 1), (y, 0, z)),
    "indefinite-integral": sp.Integral(p_data(x), x),
    "subscripts": k_star * (x_i - x_ip1)**2 + rho0 * pdata0 * d,
    "function-of-numbers": P_r(n, x) + P_r(1, 234),
    "special": sp.erfinv(2 * x - 1) + sp.gamma(sigma) + sp.sign(x) + sp.Heaviside(x),
    "powers-floats": sp.exp(x)**sp.Rational(1, 3) + x**sp.Rational(3, 2) + sp.Float("2.5e-20") * x,
    "nested-abs-log": sp.Abs(sp.Abs(x) - sp.Abs(y - 1)) * sp.log(sp.Abs(x) + 1)**2,
    "trig": sp.sin(x)**2 + sp.cos(x) + sp.atan(x) + sp.tanh(x),
    "product-with-parentheses": -x_i * (x + 1) * k_star * (y + 2),
    "equation": sp.Eq(x, sp.exp(sigma)),
    "inequality": sp.Lt(x, y),
    "boolean": sp.And(x < 1, sp.Or(y > 2, sp.Not(x > y))),
    "tuple": sp.Tuple(x, y**2),
    "odd-names": sp.Symbol("σ", positive=True) * x + sp.Symbol("k*", positive=True) + sp.Symbol("a{b}") * sp.Symbol("pg"),
    "more-functions": sp.polygamma(0, x) + sp.LambertW(x) + sp.floor(x) + sp.Mod(x, 3),
    "derivative-at-a-point": sp.Function("f")(x).diff(x).subs(x, 0),
}


class Phi(sp.Function):
    """A Function subclass defined outside sympy, as a theory module might define the normal CDF."""

    @classmethod
    def eval(cls, a):
        if a == 0:
            return sp.Rational(1, 2)

    def _eval_evalf(self, prec):
        return ((1 + sp.erf(self.args[0] / sp.sqrt(2))) / 2).evalf(prec)


CONSTRUCTS["own-function-class"] = Phi(x) + Phi(y)**2


@pytest.mark.parametrize("name", list(CONSTRUCTS))
def test_constructs_round_trip(name):
    """Constructs the registry may hold (or soon will) print and parse back exactly."""
    expr = CONSTRUCTS[name]
    assert round_trips(formula(expr), expr) is None


def test_a_wrong_formula_does_not_read_back_as_the_right_one():
    """The round-trip check can fail: sigma^2 edited to sigma in the text gives a different expression."""
    expr = sp.exp(-x**2 / (2 * sigma**2)) / sigma
    tex = formula(expr)
    assert r"\sigma^{2}" in tex
    assert round_trips(tex.replace(r"\sigma^{2}", r"\sigma"), expr) is not None


def test_symbols_that_print_alike_are_refused():
    same_name = sp.Symbol("x", real=True) + sp.Symbol("x", positive=True)
    with pytest.raises(ValueError, match="alike"):
        parse_formula(formula(same_name), like=same_name)


def test_parsed_symbols_keep_their_assumptions():
    back = parse_formula(formula(sigma * x_ip1), like=sigma * x_ip1)
    assert back.free_symbols == {sigma, x_ip1} and sigma.is_positive


@pytest.mark.parametrize("bad", ["", r"\frac{1}{", r"x + + \cdot"])
def test_unparseable_text_is_a_value_error(bad):
    with pytest.raises(ValueError):
        parse_formula(bad)


def test_formula_refuses_non_sympy_input():
    with pytest.raises(ValueError, match="sympy"):
        formula("x + 1")


def _toy_registry() -> Registry:
    """A small registry with a printed formula that differs and text full of LaTeX specials."""
    toy = Registry()

    @toy.claim("toy-1", source="Eq. (7) of a toy paper", title="Gaussian_kernel ^ 50% & #1 {x} ~ $5 \\ <a|b> σ ≤ ∇ é",
               section="1 Toy section", assumptions=("sigma > 0", "p_data(x) = N(0, σ^2)"), note="100% made up")
    def toy_1():
        good = sp.exp(-x**2 / (2 * sigma**2))
        return [Part("kernel (with sigma^2)", derived=good, printed=sp.exp(-x**2 / (2 * sigma)), equation="K(x)"),
                Part("kernel: with sigma^2", derived=CONSTRUCTS["piecewise"]),
                Part("matrix", derived=CONSTRUCTS["matrix"], printed=CONSTRUCTS["matrix"])]

    @toy.claim("toy-2", source="nowhere", title="every construct of the dialect", section="2 Constructs")
    def toy_2():
        return [Part(name, derived=expr) for name, expr in CONSTRUCTS.items()]

    return toy


def test_document_states_a_differing_verdict_with_its_counterexample():
    toy = _toy_registry()
    doc = document(seed=0, registry=toy)
    claim = toy["toy-1"]
    verdict = compare(claim.part("kernel (with sigma^2)"))
    assert verdict.verdict == "differs"
    assert r"\emph{differs (numeric) at " in doc
    for name, value in verdict.counterexample["point"].items():
        assert f"{name} = {value}" in doc
    labels = [part_label(claim, p.name) for p in claim.parts()]
    assert len(set(labels)) == 3, labels  # two part names with the same slug get distinct labels
    found = formulas_in(doc)
    assert {f for f in found if f.startswith("claim:toy-1:")} == set(labels) | {labels[0] + ":printed"}
    assert labels[2] + ":printed" not in found  # the matrix prints identically: shown once
    assert r"\emph{agrees (symbolic)}" in doc


def _pdflatex(tex: str, tmp_path):
    exe = shutil.which("pdflatex")
    if exe is None:
        pytest.skip("pdflatex is absent on this machine (Debian/Ubuntu: apt-get install texlive-latex-base)")
    (tmp_path / "claims.tex").write_text(tex)
    run = subprocess.run([exe, "-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape", "claims.tex"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=300)
    log = (tmp_path / "claims.log").read_text(errors="replace") if (tmp_path / "claims.log").exists() else ""
    errors = [line for line in log.splitlines() if line.startswith("!")]
    assert run.returncode == 0, f"pdflatex failed: {errors[:5] or run.stdout[-2000:]}"
    assert "multiply defined" not in log
    assert (tmp_path / "claims.pdf").stat().st_size > 0


def test_document_compiles_with_pdflatex(draft, tmp_path):
    _pdflatex(draft, tmp_path)


def test_toy_document_with_verdicts_and_special_text_compiles(tmp_path):
    _pdflatex(document(seed=0, registry=_toy_registry()), tmp_path)


def test_experimental_claims_are_a_section_that_compiles(tmp_path):
    from ganphase.catalogue.experiments import experimental_rows

    rows = experimental_rows()
    tex = document(seed=None, formal=False, experiments=rows)
    section = tex.split(r"\section*{Experimental claims}")[1]
    for r in rows:
        body = section.split(r"\texttt{%s}" % r["id"].replace("_", r"\_"))[1].split(r"\subsection*")[0]
        assert r"\emph{%s}" % r["verdict"] in body and body.count(r"\item ") == len(r["effects"])
        for e in r["effects"]:
            assert r"\emph{%s}" % e["verdict"] in body
    _pdflatex(tex, tmp_path)


@pytest.mark.slow
def test_full_document_with_verdicts_compiles(tmp_path):
    _pdflatex(document(seed=0), tmp_path)


def test_cli_writes_the_document_atomically(tmp_path, capsys):
    out = tmp_path / "new" / "claims.tex"
    assert main(["latex", "--out", str(out), "--id", "sec-2.2"]) == 0
    text = out.read_text()
    assert text.startswith(r"\documentclass") and text.rstrip().endswith(r"\end{document}")
    assert r"\label{%s}" % part_label(REGISTRY["sec-2.2"], REGISTRY["sec-2.2"].parts()[0].name) in text
    assert not [p for p in out.parent.iterdir() if p.name != "claims.tex"]  # no temporary file left behind


@pytest.mark.parametrize("make_bad", [
    lambda tmp: tmp,                                    # a folder
    lambda tmp: (tmp / "f").write_text("") and tmp / "f" / "claims.tex",  # a file where the folder should be
    lambda tmp: tmp / "claims.pdf",                     # not a .tex file
], ids=["folder", "file-in-the-way", "not-tex"])
def test_cli_bad_path_is_one_line_exit_2(make_bad, tmp_path, capsys):
    assert main(["latex", "--out", str(make_bad(tmp_path)), "--id", "sec-2.2"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and err.startswith("error:")


# --------------------------------------------------------------------------- disk cache of derivations

def _derive_uncached_in_memory(build):
    from ganphase.theory import claims

    return claims._cached_parts.__wrapped__(build)  # skip the in-process layer, keep the disk layer


def test_disk_cache_stores_reloads_and_rebuilds_a_corrupt_entry(tmp_path, monkeypatch):
    from ganphase.theory import claims

    monkeypatch.setenv("GANPHASE_CACHE", str(tmp_path))
    build = REGISTRY["sec-2.2"].build
    fresh = tuple(build())
    first = _derive_uncached_in_memory(build)
    entry = claims._disk_file(build)
    assert entry.is_file() and entry.is_relative_to(tmp_path)
    assert first == fresh
    assert claims._disk_load(build) == fresh  # read back from disk, equal to a fresh derivation
    entry.write_bytes(b"not a pickle")
    assert claims._disk_load(build) is None
    assert _derive_uncached_in_memory(build) == fresh  # corrupt entry ignored, derived again ...
    assert claims._disk_load(build) == fresh  # ... and rewritten


def test_disk_cache_ignores_an_entry_of_another_key(tmp_path, monkeypatch):
    import pickle

    from ganphase.theory import claims

    monkeypatch.setenv("GANPHASE_CACHE", str(tmp_path))
    build = REGISTRY["sec-2.2"].build
    _derive_uncached_in_memory(build)
    entry = claims._disk_file(build)
    stale = pickle.loads(entry.read_bytes())
    fake = (Part("field", derived=sp.Integer(42)),)
    entry.write_bytes(pickle.dumps({"key": "an old source", "items": fake}))
    assert claims._disk_load(build) is None
    assert _derive_uncached_in_memory(build) == stale["items"]


def test_disk_cache_can_be_switched_off(tmp_path, monkeypatch):
    from ganphase.theory import claims

    monkeypatch.setenv("GANPHASE_CACHE", "off")
    assert claims._disk_dir() is None
    build = REGISTRY["sec-2.2"].build
    assert _derive_uncached_in_memory(build) == tuple(build())
    assert not any(tmp_path.iterdir())


def test_cli_unknown_id_is_one_line_exit_2(tmp_path, capsys):
    assert main(["latex", "--out", str(tmp_path / "claims.tex"), "--id", "no-such-claim"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "no-such-claim" in err
    assert not (tmp_path / "claims.tex").exists()


def test_verdicts_are_cached_on_disk_and_equal_a_fresh_comparison(tmp_path, monkeypatch):
    from ganphase.theory import claims

    monkeypatch.setenv("GANPHASE_CACHE", str(tmp_path))
    claim = REGISTRY["thm-3.4"]
    fresh = tuple(claims.compare(p, seed=0) for p in claim.build() if p.printed is not None)
    claims._cached_verdicts.cache_clear()
    assert claims._cached_verdicts(claim.build, 0) == fresh
    path = claims._disk_file(claim.build, "verdicts-0")
    assert path.is_file() and claims._disk_read(path, claim.build, claims.PartVerdict) == fresh
    path.write_bytes(b"garbage")
    claims._cached_verdicts.cache_clear()
    assert claims._cached_verdicts(claim.build, 0) == fresh  # a corrupt entry is recomputed
    claims._cached_verdicts.cache_clear()


def test_experimental_effects_without_a_value_survive_a_json_round_trip(tmp_path):
    """NaN effects become null in claims.json; the LaTeX section and the report read them back as 'nan'."""
    import json

    from ganphase.catalogue.experiments import experimental_rows
    from ganphase.figures import report
    from ganphase.io import write_json

    rows = experimental_rows([])   # no sweep: every part undecided, no values
    rows[0]["effects"] = [{"sweep": "s", "setting": "x", "part": "p", "verdict": "undecided", "value": float("nan"),
                           "low": float("nan"), "high": float("nan"), "runs": 0, "test": "t", "detail": ""}]
    write_json(tmp_path / "claims.json", {"claims": [], "experiments": rows})
    back = json.loads((tmp_path / "claims.json").read_text())["experiments"]
    assert back[0]["effects"][0]["value"] is None
    assert "nan [nan, nan] over 0 runs" in document(seed=None, formal=False, experiments=back)
    (tmp_path / "errata.md").write_text("")
    report.write(tmp_path, {"paper": "t", "profile": "quick", "seed": 0, "stages": {}, "figures": []})
    assert "[nan, nan]" in (tmp_path / "report.html").read_text()
