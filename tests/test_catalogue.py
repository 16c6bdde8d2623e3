"""The catalogue joins each claim to its pieces; every link of every claim resolves to a line that names it."""
import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ganphase.catalogue import CATALOGUE, evidence_functions
from ganphase.catalogue.latex import document
from ganphase.catalogue.where import EVERY_CLAIM, FIGURES, ROOT, declared_claims
from ganphase.cli import main
from ganphase.figures import NUMBERS, module

IDS = CATALOGUE.ids()


def _line(link) -> str:
    return (ROOT / link.path).read_text().splitlines()[link.line - 1]


def _names(line: str, id: str) -> bool:
    return f'"{id}"' in line or f"'{id}'" in line


@pytest.mark.parametrize("cid", IDS)
def test_every_link_of_the_claim_resolves(cid):
    links = CATALOGUE.where(cid)
    assert _names(_line(links.derivation), cid), links.derivation  # @REGISTRY.claim("<id>", ...)
    assert links.evidence is not None, f"{cid} has no evidence attached"
    assert _names(_line(links.evidence), cid), links.evidence  # @evidence_of("<id>")
    named = [t for t in links.tests if EVERY_CLAIM not in t.name]
    assert named, f"no test names {cid}"
    for t in named:
        assert _names(_line(t), cid), t
    for t in links.tests:
        if EVERY_CLAIM in t.name:
            assert re.match(r"\s*def " + t.name.split()[0] + r"\(", _line(t)), t
    for f in links.figures:
        assert _names(_line(f), cid) and cid in module(int(f.name.split()[1])).CLAIMS, f
    tex = document(seed=None, ids=[cid])
    assert links.latex and all(f"\\label{{{label}}}" in tex for label in links.latex)


def test_the_derivation_link_is_the_registered_function():
    import inspect

    link = CATALOGUE.where("prop-c.3").derivation
    build = CATALOGUE["prop-c.3"].build
    lines, start = inspect.getsourcelines(build)
    assert link.path == "ganphase/theory/table2.py" and start <= link.line < start + len(lines)
    assert link.name == build.__qualname__


def test_every_figure_declares_the_registered_claims_it_illustrates():
    declared = set()
    for n in NUMBERS:
        path = FIGURES / f"fig{n:02d}.py"
        found = declared_claims(path)
        assert found, f"{path.name} has no module-level CLAIMS"
        ids = tuple(i for i, _ in found)
        assert ids == tuple(module(n).CLAIMS)
        assert set(ids) <= set(IDS), f"{path.name} names unregistered claims {set(ids) - set(IDS)}"
        declared |= set(ids)
    # the figure links agree with the declarations, figure by figure
    for cid in declared:
        figs = {int(f.name.split()[1]) for f in CATALOGUE.where(cid).figures}
        assert figs == {n for n in NUMBERS if cid in module(n).CLAIMS}


def test_a_figure_declaration_must_be_literal(tmp_path):
    path = tmp_path / "fig99.py"
    path.write_text('IDS = ("thm-3.3",)\nCLAIMS = IDS\n')
    with pytest.raises(ValueError, match="literal"):
        declared_claims(path)
    path.write_text("NUMBER = 99\n")
    assert declared_claims(path) is None


def test_evidence_is_attached_to_registered_claims_only():
    assert set(evidence_functions()) <= set(IDS)


def test_claim_ids_are_written_literally_in_the_sources():
    """No claim id is built at run time (an f-string or concatenation that starts like an id)."""
    prefixes = tuple(sorted({i.split("-")[0] + "-" for i in IDS}))
    for path in sorted((ROOT / "ganphase").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.JoinedStr) and node.values and isinstance(node.values[0], ast.Constant):
                head = str(node.values[0].value)
                assert not (head.startswith(prefixes) and re.fullmatch(r"[a-z]+-[a-z0-9.]*", head)), \
                    f"{path.relative_to(ROOT)}:{node.lineno}: claim id built with an f-string"


def test_theory_imports_nothing_above_it_and_no_torch():
    for path in sorted((ROOT / "ganphase" / "theory").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module] if isinstance(node, ast.ImportFrom) and node.module else []
            for name in names:
                assert not name.startswith(("ganphase.simulate", "ganphase.catalogue", "ganphase.figures",
                                            "ganphase.commands", "torch")), f"{path.name} imports {name}"
    code = "import sys, ganphase.theory as t; list(t.REGISTRY); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=ROOT, env={"PYTHONPATH": str(ROOT), "PATH": ""})
    assert out.stdout.strip() == "False"


def test_claims_where_prints_each_piece(capsys):
    assert main(["claims", "--where", "thm-3.4"]) == 0
    text = capsys.readouterr().out
    for piece in ("ganphase/theory/mode_mixture.py:", "ganphase/simulate/evidence/mode_mixture.py:",
                  "tests/test_mode_mixture.py:", "ganphase/figures/fig03.py:", r"\label{claim:thm-3.4:"):
        assert piece in text, piece


def test_claims_where_json_and_unknown_id(capsys):
    assert main(["claims", "--where", "app-g.1", "--json"]) == 0
    links = json.loads(capsys.readouterr().out)
    assert links["id"] == "app-g.1" and Path(ROOT / links["derivation"]["path"]).is_file()
    assert {f["name"] for f in links["figures"]} >= {"figure 11", "figure 12", "figure 13"}
    assert main(["claims", "--where", "thm-9.9"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "thm-9.9" in err
