"""The claims table and errata, computed from the catalogue every time.

``claim_rows`` evaluates every claim (verdict from printed vs derived, plus the
quick numerical evidence); ``errata_markdown`` writes, for every claim whose
printed form differs, printed and derived side by side with the
counterexample.
"""
from __future__ import annotations

import sympy as sp

from ganphase.catalogue import CATALOGUE
from ganphase.theory.claims import Claim


def _latex(expr) -> str | None:
    return None if expr is None else sp.latex(expr)


def claim_row(claim: Claim, seed: int = 0, evidence: bool = True, thorough: bool = False, ev=None) -> dict:
    """One row of the claims table (the keys of ``ganphase claims --json``).

    ``ev``: the claim's Evidence when it was already run (by ``claim_rows``' worker process).
    """
    verdict, counterexample = claim.verdict(seed)
    if evidence and ev is None:
        ev = CATALOGUE.run_evidence(claim.id, seed=seed, thorough=thorough)
    parts = claim.parts()
    return {
        "id": claim.id,
        "source": claim.source,
        "title": claim.title,
        "section": claim.section,
        "verdict": verdict,
        "printed": "; ".join(f"{p.name}: {_latex(p.printed)}" for p in parts if p.printed is not None) or None,
        "derived": "; ".join(f"{p.name}: {_latex(p.derived)}" for p in parts),
        "parts": [{"name": v.name, "verdict": v.verdict, "method": v.method,
                   "counterexample": v.counterexample} for v in claim.part_verdicts(seed)],
        "counterexample": counterexample,
        "assumptions": list(claim.assumptions),
        "note": claim.note,
        "evidence": ev.status if ev else "none",
        "evidence_detail": ev.detail if ev else "",
        "evidence_counterexample": dict(ev.counterexample) if ev and ev.counterexample else None,
        "evidence_derived": ev.derived_status if ev else "none",
        "evidence_derived_detail": ev.derived_detail if ev else "",
    }


def _evidence_in_worker(ids: list[str], seed: int) -> dict:
    """Run the quick evidence of ``ids`` (in a separate process; its results are independent of where it runs)."""
    return {i: CATALOGUE.run_evidence(i, seed=seed) for i in ids}


def claim_rows(ids=None, seed: int = 0, evidence: bool = True, progress: bool = False) -> list[dict]:
    """Rows of the claims table; with several claims and cores, the evidence runs in a second process
    while this one derives and compares (the two halves take similar time)."""
    claims = [CATALOGUE[i] for i in ids] if ids else list(CATALOGUE)
    pending = _start_evidence([c.id for c in claims], seed) if evidence and len(claims) > 1 else None
    iterated = claims
    if progress:
        from tqdm import tqdm
        iterated = tqdm(claims, desc="claims", unit="claim", leave=False)
    for c in iterated:  # derive and compare (cached on the claim) while the worker runs the evidence
        c.verdict(seed)
    evs = _finish_evidence(pending)
    return [claim_row(c, seed, evidence, ev=evs[c.id] if evs else None) for c in claims]


def _start_evidence(ids, seed):
    import multiprocessing
    import os
    from concurrent.futures import ProcessPoolExecutor

    if (os.cpu_count() or 1) < 2:
        return None
    try:
        pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
        return pool, pool.submit(_evidence_in_worker, ids, seed)
    except (OSError, RuntimeError):  # no process could be started: run the evidence here
        return None


def _finish_evidence(pending):
    """{id: Evidence} from the worker; None (evidence then runs in this process) if there was no worker."""
    if pending is None:
        return None
    pool, future = pending
    try:
        return future.result()
    except Exception:  # the worker died (killed, out of memory): fall back to running the evidence here
        return None
    finally:
        pool.shutdown()


def table_text(rows: list[dict]) -> str:
    """Plain-text table: id, where printed, verdict, evidence (printed statement), derived evidence, assumptions."""
    head = ("id", "where printed", "verdict", "evidence", "derived", "assumptions")
    lines = [(r["id"], r["source"], r["verdict"], r["evidence"], r.get("evidence_derived", "none"),
              "; ".join(r["assumptions"]) or "-") for r in rows]
    widths = [max(len(h), *(len(l[i]) for l in lines)) if lines else len(h) for i, h in enumerate(head[:-1])]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths) + "  {}"
    out = [fmt.format(*head), fmt.format(*("-" * w for w in widths), "-" * 11)]
    out += [fmt.format(*l) for l in lines]
    counts = {v: sum(r["verdict"] == v for r in rows) for v in ("agrees", "differs", "undecided")}
    ev = {v: sum(r["evidence"] == v for r in rows) for v in ("passed", "failed", "none")}
    out.append(f"\n{len(rows)} claims: {counts['agrees']} agree, {counts['differs']} differ, "
               f"{counts['undecided']} undecided; evidence {ev['passed']} passed, {ev['failed']} failed, "
               f"{ev['none']} none")
    return "\n".join(out)


def assignment_text(values: dict) -> str:
    """A counterexample as readable text: ``σ = 7/4, r = 1: printed = -2.5, derived = -2.02273``."""
    from ganphase.catalogue.mathml import SYMBOL_NAME

    def one(k, v):
        name = sp.pretty(sp.Symbol(k)) if SYMBOL_NAME.fullmatch(k) else k.replace("_", " ")
        if isinstance(v, float):
            v = f"{v:.6g}"
        elif isinstance(v, (list, tuple)):
            v = "(" + ", ".join(f"{x:.6g}" if isinstance(x, float) else str(x) for x in v) + ")"
        return f"{name} = {v}"

    if "point" in values:  # a part's counterexample: the point, then the two values there
        values = dict(values)
        point = ", ".join(one(k, v) for k, v in values.pop("point").items())
        values.pop("entry", None)
        return point + ": " + ", ".join(one(k.replace("_value", ""), v) for k, v in values.items())
    return ", ".join(one(str(k), v) for k, v in values.items())


def errata_markdown(rows: list[dict]) -> str:
    """Errata report: every claim whose printed formula differs from the derivation."""
    out = ["# Errata: printed formulas that differ from their derivation", "",
           "Computed by `ganphase claims --markdown`: each printed formula is compared with a sympy "
           "derivation from first principles (symbolic simplification, then exact evaluation at random "
           "rational points). Nothing here is typed in.", ""]
    differs = [r for r in rows if r["verdict"] == "differs"]
    failed = [r for r in rows if r["evidence"] == "failed"]
    if not differs:
        out.append("No printed formula differs from its derivation.")
    for r in differs:
        out += [f"## `{r['id']}`: {r['title']} ({r['source']})", ""]
        for p in r["parts"]:
            if p["verdict"] != "differs":
                continue
            claim = CATALOGUE[r["id"]]
            part = claim.part(p["name"])
            out += [f"**{p['name']}**", "", f"- printed: $${sp.latex(part.printed)}$$",
                    f"- derived: $${sp.latex(part.derived)}$$",
                    f"- counterexample: {assignment_text(p['counterexample'])}", ""]
        out += [f"Do the paper's conclusions survive? {r['note'] or 'Not assessed.'}", ""]
    out += ["# Numerical evidence that fails", ""]
    if not failed:
        out.append("Every claim with numerical evidence passed it.")
    for r in failed:
        out += [f"- `{r['id']}` ({r['source']}): {r['evidence_detail']}"
                + (f"; input: {assignment_text(r['evidence_counterexample'])}" if r["evidence_counterexample"] else "")]
    out += ["", "# All claims", "",
            "Evidence checks the statement as printed; the derived column checks the derived (corrected) statement.", "",
            "| id | where printed | verdict | evidence | derived |", "|---|---|---|---|---|"]
    out += [f"| `{r['id']}` | {r['source']} | {r['verdict']} | {r['evidence']} | {r.get('evidence_derived', 'none')} |"
            for r in rows]
    return "\n".join(out) + "\n"


README_BEGIN = "<!-- claims:begin (generated by `python tools/update_readme.py` from the registry; tests/test_readme_claims.py fails when it drifts) -->"
README_END = "<!-- claims:end -->"


def summary_line(rows: list[dict]) -> str:
    """'N claims: a agree, d differ, u undecided; evidence p passed, f failed, n none; derived evidence ...'."""
    verdicts = {v: sum(r["verdict"] == v for r in rows) for v in ("agrees", "differs", "undecided")}
    text = (f"{len(rows)} claims: {verdicts['agrees']} agree, {verdicts['differs']} differ, "
            f"{verdicts['undecided']} undecided")
    if any("evidence" in r for r in rows):
        for key, name in (("evidence", "evidence (printed statement)"), ("evidence_derived", "derived evidence")):
            c = {v: sum(r.get(key, "none") == v for r in rows) for v in ("passed", "failed", "none")}
            text += f"; {name} {c['passed']} passed, {c['failed']} failed, {c['none']} none"
    return text


def readme_block(rows: list[dict]) -> str:
    """The README's claims section: the summary line and one row per claim that differs or fails its evidence."""
    out = [README_BEGIN, "", f"**{summary_line(rows)}**", "",
           "| claim | verdict | first differing part | evidence (printed) | derived evidence |",
           "| --- | --- | --- | --- | --- |"]
    for r in rows:
        if r["verdict"] == "differs" or r.get("evidence") == "failed":
            part = (r["counterexample"] or {}).get("part", "-").replace("|", r"\|")
            out.append(f"| {r['id']} | {r['verdict']} | {part} | {r.get('evidence', '-')} | "
                       f"{r.get('evidence_derived', '-')} |")
    return "\n".join(out + ["", README_END])


def replace_between(text: str, begin: str, end: str, block: str, name: str = "claims") -> str:
    """``text`` with the part from marker ``begin`` to marker ``end`` (both included) replaced by ``block``."""
    start, stop = text.find(begin), text.find(end)
    if start < 0 or stop < start:
        raise ValueError(f"README has no {name} block (its begin and end markers)")
    return text[:start] + block + text[stop + len(end):]


def replace_readme_block(text: str, block: str) -> str:
    """``text`` with the claims block (README_BEGIN ... README_END) replaced by ``block``."""
    return replace_between(text, README_BEGIN, README_END, block)
