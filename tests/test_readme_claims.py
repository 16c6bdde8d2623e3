"""README's claims block is generated from the registry (tools/update_readme.py); these fail when it drifts."""
import re
from pathlib import Path

import pytest

from ganphase.theory.report import README_BEGIN, README_END, claim_rows, readme_block

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
