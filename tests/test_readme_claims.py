"""README's claims block is generated from the registry (tools/update_readme.py); these fail when it drifts."""
import re
from pathlib import Path

import pytest

from ganphase.catalogue.report import README_BEGIN, README_END, claim_rows, readme_block

README = Path(__file__).resolve().parents[1] / "README.md"


def _block() -> str:
    text = README.read_text()
    return text[text.index(README_BEGIN):text.index(README_END) + len(README_END)]


def _table(block: str) -> dict:
    rows = {}
    for line in block.splitlines():
        cells = [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line.strip()[1:-1])]
        if len(cells) == 5 and re.fullmatch(r"[a-z]+-[a-z0-9.\-]+", cells[0]):
            rows[cells[0]] = cells
    return rows


def test_readme_verdicts_match_the_registry():
    rows = {r["id"]: r for r in claim_rows(evidence=False)}
    block = _block()
    counts = re.search(r"\*\*(\d+) claims: (\d+) agree, (\d+) differ, (\d+) undecided", block)
    assert counts, "README claims block has no summary line"
    verdicts = [r["verdict"] for r in rows.values()]
    assert tuple(map(int, counts.groups())) == (len(rows), verdicts.count("agrees"), verdicts.count("differs"),
                                                verdicts.count("undecided"))
    table = _table(block)
    differs = {i for i, r in rows.items() if r["verdict"] == "differs"}
    assert differs <= set(table), f"claims that differ but are not in README: {sorted(differs - set(table))}"
    for i, cells in table.items():
        assert cells[1] == rows[i]["verdict"], i
        assert cells[2] == (rows[i]["counterexample"] or {}).get("part", "-"), i


@pytest.mark.slow
def test_readme_block_matches_the_registry_with_evidence():
    rows = claim_rows(seed=0)
    if any(r["id"] == "app-f" and r["evidence"] == "none" for r in rows):
        pytest.skip("the image data sets are absent: app-f's evidence is 'none' here, not what README records")
    assert _block() == readme_block(rows), "README claims block is stale: run python tools/update_readme.py"


DOCS = sorted((README.parent / "docs").glob("*.md"))
VERDICT_WORDS = {"agrees", "differs", "undecided"}
EVIDENCE_WORDS = {"passed", "failed", "none"}


def _doc_rows():
    """(file, id, verdict cell, evidence cell or None) of every docs table row '| `id` | verdict | ...'."""
    from ganphase.theory import REGISTRY

    ids = set(REGISTRY.ids())
    for path in DOCS:
        for line in path.read_text().splitlines():
            cells = [c.strip().strip("*").strip() for c in re.split(r"(?<!\\)\|", line.strip()[1:-1])]
            if len(cells) < 3 or cells[0].strip("`") not in ids or cells[1] not in VERDICT_WORDS:
                continue
            yield path.name, cells[0].strip("`"), cells[1], cells[2] if cells[2] in EVIDENCE_WORDS else None


def test_docs_verdict_tables_match_the_registry():
    from ganphase.theory import REGISTRY

    rows = list(_doc_rows())
    assert len(rows) >= 10, "the docs' verdict tables were not found"
    for name, claim_id, verdict, _ in rows:
        assert REGISTRY[claim_id].verdict()[0] == verdict, (name, claim_id)


@pytest.mark.slow
def test_docs_evidence_columns_match_the_registry():
    from ganphase.catalogue import CATALOGUE

    for name, claim_id, _, evidence in _doc_rows():
        if evidence is not None:
            got = CATALOGUE.run_evidence(claim_id, seed=1, thorough=True).status
            if not (claim_id == "app-f" and got == "none"):   # app-f needs the image data sets
                assert got == evidence, (name, claim_id)


def test_readme_sweep_block_matches_the_committed_results():
    from ganphase.catalogue import results

    text = README.read_text()
    block = text[text.index(results.SWEEP_BEGIN):text.index(results.SWEEP_END) + len(results.SWEEP_END)]
    assert block == results.readme_block(), "README sweep block is stale: run python tools/update_readme.py"


def test_best_and_last_sentence_from_hand_made_rows():
    from ganphase.catalogue.results import best_and_last

    def row(rule, seed, modes, kl):
        return {"setting": "s", "rule": rule, "seed": seed, "available": True, "modes": modes, "kl": kl}

    score = {"runs": [row("best-modes", 0, 900, 0.5), row("best-modes", 1, 700, 1.5), row("best-modes", 2, 800, 1.0),
                      row("last", 0, 100, 4.0), row("last", 1, 300, 2.0), row("last", 2, 200, 3.0),
                      row("last", 3, 5, 6.0) | {"setting": "other"}]}
    assert best_and_last(score, "s") == (
        "Modes (classes) covered per run: at the best evaluation (most modes) median 800 (range 700-900), KL from uniform 1 "
        "(range 0.5-1.5); at the last evaluation median 200 (range 100-300), KL from uniform 3 (range 2-4). ")
    mixture = {"runs": [row("last", 0, 8, None), row("last", 1, 3, None)]}
    assert best_and_last(mixture, "s") == "Modes (classes) covered per run: at the last evaluation median 5.5 (range 3-8). "
    assert best_and_last({"runs": []}, "s") == ""
