"""Every claim of the registry is a test: it derives, gets a computed verdict,
and its numerical evidence either passes or fails with a recorded input."""
import json

import pytest
import sympy as sp

from ganphase.catalogue import CATALOGUE
from ganphase.cli import main
from ganphase.theory import REGISTRY, Part, compare
from ganphase.theory.claims import VERDICTS
from ganphase.theory.symbols import sigma, x

CLAIMS = list(REGISTRY)


@pytest.mark.parametrize("claim", CLAIMS, ids=lambda c: c.id)
def test_claim_derives_and_has_a_verdict(claim):
    parts = claim.parts()
    assert parts, "a claim needs at least one formula"
    assert any(p.printed is not None for p in parts), "a claim compares at least one printed formula"
    verdict, counterexample = claim.verdict()
    assert verdict in VERDICTS
    assert (counterexample is not None) == (verdict == "differs")


@pytest.mark.parametrize("claim", CLAIMS, ids=lambda c: c.id)
def test_claim_evidence(claim):
    """Evidence passes, or fails on a recorded input (a counterexample to the paper), never by crashing."""
    evidence = CATALOGUE.run_evidence(claim.id, seed=1, thorough=True)
    assert not evidence.detail.startswith("evidence raised"), evidence.detail
    if evidence.status == "failed":
        assert evidence.counterexample, f"{claim.id}: evidence failed without a recorded input: {evidence.detail}"
    else:
        assert evidence.status in ("passed", "none"), evidence
    if claim.verdict()[0] == "differs" and evidence.status != "none":
        # the derived (corrected) statement is checked beside the printed one, under its own name
        assert evidence.derived_status in ("passed", "failed") and evidence.derived_detail, claim.id


def test_altered_printed_formula_is_caught():
    """The comparison can fail: the Gaussian exponent with sigma instead of sigma^2 differs."""
    good = Part("gauss", derived=sp.exp(-x**2 / (2 * sigma**2)), printed=sp.exp(-x**2 / (2 * sigma**2)))
    bad = Part("gauss", derived=good.derived, printed=sp.exp(-x**2 / (2 * sigma)))
    assert compare(good).verdict == "agrees"
    verdict = compare(bad)
    assert verdict.verdict == "differs"
    point = {sp.Symbol(k, **sp.Symbol(k).assumptions0): sp.Rational(v) for k, v in verdict.counterexample["point"].items()}
    values = {str(s): v for s, v in point.items()}
    assert abs(float(bad.printed.subs({sigma: values["sigma"], x: values["x"]}))
               - float(good.derived.subs({sigma: values["sigma"], x: values["x"]}))) > 1e-6


def test_every_registered_claim_altered_is_caught():
    """For every claim, adding 1/7 to a printed formula must turn its verdict to differs."""
    for claim in CLAIMS:
        for part in claim.parts():
            if part.printed is None or isinstance(part.printed, sp.MatrixBase):
                continue
            altered = Part(part.name, part.derived, part.printed + sp.Rational(1, 7), part.domain)
            assert compare(altered).verdict == "differs", (claim.id, part.name)
            break


def test_unknown_claim_id_is_one_line_exit_2(capsys):
    assert main(["claims", "--id", "nope", "--no-evidence"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "nope" in err


def test_claims_json_keys(capsys):
    assert main(["claims", "--json", "--id", "sec-2.2"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {"id", "source", "verdict", "printed", "derived", "counterexample", "evidence", "evidence_detail",
            "evidence_counterexample", "evidence_derived", "evidence_derived_detail"} <= set(rows[0])
    assert rows[0]["evidence"] in ("passed", "failed", "none")
    assert rows[0]["evidence_derived"] in ("passed", "failed", "none")


def test_evidence_from_the_worker_process_equals_evidence_run_here(monkeypatch):
    import os

    from ganphase.catalogue.report import claim_rows

    if (os.cpu_count() or 1) < 2:
        pytest.skip("the evidence worker is only started with two or more cores")
    ids = ["sec-2.2", "thm-c.1"]
    here = {i: CATALOGUE.run_evidence(i, seed=2) for i in ids}

    def not_here(*args, **kwargs):
        raise AssertionError("evidence ran in the main process, not in the worker")

    monkeypatch.setattr(CATALOGUE, "run_evidence", not_here)  # the spawned worker imports a fresh registry
    for row in claim_rows(ids, seed=2):
        assert (row["evidence"], row["evidence_detail"]) == (here[row["id"]].status, here[row["id"]].detail)
