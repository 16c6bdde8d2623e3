"""The paper's experimental claims in the catalogue: rows of the claims table computed from sweeps.

The claims, their quoted statements, tests and verdict functions live in
:mod:`ganphase.simulate.experiments`; this module turns their verdicts on one or more sweep folders
(``ganphase sweep``) or exported results folders (``ganphase sweep-export``; by default every
``results/sweeps/<name>/`` of the repository) into rows with the keys of
:func:`ganphase.catalogue.report.claim_row`, plus ``kind = "experimental"``, ``effects`` (per sweep and
part: value, 95 % interval, runs, verdict) and ``runs`` (the run folders the verdict rests on).

Each claim is tested on each setting of a sweep alone (runs of two settings are never pooled), except
``app-g.7``, whose test pairs runs across settings (noise-free and noised runs of one data set and seed).
Over several settings or sweeps a claim ``differs`` if it differs on one, ``agrees`` if it agrees on every sweep
where it is decided and on at least one, else it is ``undecided``.  Without any sweep every claim is
``undecided`` and says so.
"""
from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "results" / "sweeps"


# claims tested on a whole sweep (pairs of runs across settings); every other claim is tested on each setting alone
ACROSS_SETTINGS = ("app-g.7",)


def committed_sweeps() -> list[Path]:
    """The exported sweeps under results/sweeps/ (folders with an index.json)."""
    return sorted(p for p in RESULTS.iterdir() if (p / "index.json").is_file()) if RESULTS.is_dir() else []


def results_key(sweeps=None) -> str:
    """SHA-1 over the index and traces of each sweep (default: the committed ones): changes when their runs do."""
    import hashlib

    h = hashlib.sha1()
    for p in [Path(p) for p in sweeps] if sweeps is not None else committed_sweeps():
        for f in sorted([p / "index.json", *p.glob("*/*/traces.npz")]):
            h.update(str(f.relative_to(p)).encode() + f.read_bytes())
    return h.hexdigest()


def ids() -> list[str]:
    from ganphase.simulate.experiments import CLAIMS

    return [c.id for c in CLAIMS]


def number_text(x: float | None) -> str:
    """A number of an effect; NaN, or None (NaN after a JSON round trip), as 'nan'."""
    return "nan" if x is None or x != x else f"{x:.3g}"


def effect_text(e) -> str:
    """'value [low, high]' of an effect (a dict with value, low, high, or a Part)."""
    get = e.get if isinstance(e, dict) else lambda k: getattr(e, k)
    return f"{number_text(get('value'))} [{number_text(get('low'))}, {number_text(get('high'))}]"


def experimental_rows(sweeps=None, ids_wanted=None) -> list[dict]:
    """Rows of the claims table for the experimental claims, from ``sweeps`` (default: the committed ones)."""
    from ganphase.simulate.experiments import CLAIMS, Sweep, combine

    paths = [Path(p) for p in sweeps] if sweeps is not None else committed_sweeps()
    whole = [(p, Sweep.load(p)) for p in paths]
    by_setting = [(p, name, Sweep.load(p, [name])) for p, sw in whole
                  for name in sorted({r.setting for r in sw.runs})]
    rows = []
    for claim in CLAIMS:
        if ids_wanted and claim.id not in ids_wanted:
            continue
        effects, decided, runs, details = [], [], [], []
        groups = [(p, None, sw) for p, sw in whole] if claim.id in ACROSS_SETTINGS else by_setting
        for path, setting, sw in groups:
            v = claim.verdict(sw)
            if v.verdict != "undecided":
                decided.append(v.verdict)
            runs += [f"{path.name}/{r}" for r in v.runs]
            label = path.name if setting is None else f"{path.name}, {setting}"
            for p in v.parts:
                effects.append({"sweep": str(path), "setting": setting, "part": p.name, "verdict": p.verdict,
                                "value": p.value, "low": p.low, "high": p.high, "runs": p.n, "test": p.test,
                                "detail": p.detail})
                details.append(f"{label}: {p.name} {p.verdict}, {effect_text(p)}"
                               f" over {p.n} runs" + (f" ({p.detail})" if p.detail else ""))
        verdict = "differs" if "differs" in decided else combine(decided) if decided else "undecided"
        if not whole:
            details = ["no sweep to test it on (none under results/sweeps/ and none given)"]
        rows.append({"id": claim.id, "source": claim.source, "title": claim.title, "section": claim.source,
                     "kind": "experimental", "verdict": verdict, "printed": claim.printed, "derived": claim.test,
                     "parts": [{"name": e["part"], "verdict": e["verdict"], "method": e["test"],
                                "counterexample": None} for e in effects],
                     "counterexample": None, "assumptions": [], "note": "",
                     "evidence": "none", "evidence_detail": "; ".join(details),
                     "evidence_counterexample": None, "evidence_derived": "none", "evidence_derived_detail": "",
                     "effects": effects, "runs": runs})
    return rows


def effects_text(row: dict, sep: str = "; ") -> str:
    """Each part of an experimental claim: 'name verdict, value [low, high] over n runs'."""
    return sep.join(f"{e['setting'] + ': ' if e.get('setting') else ''}{e['part']} {e['verdict']}, "
                    f"{effect_text(e)} over {e['runs']} runs" for e in row["effects"]) or row["evidence_detail"]


def table_text(rows: list[dict]) -> str:
    """Plain-text table of the experimental claims: id, where printed, verdict, runs, parts with intervals."""
    if not rows:
        return ""
    counts = {v: sum(r["verdict"] == v for r in rows) for v in ("agrees", "differs", "undecided")}
    w = max(len(r["id"]) for r in rows)
    out = ["Experimental claims (verdicts from sweeps over seeds; 95 % bootstrap intervals over runs)"]
    for r in rows:
        out.append(f"{r['id']:<{w}}  {r['verdict']:<9}  {len(r['runs'])} runs  {r['source']}")
        out += [f"{'':<{w}}    {e}" for e in effects_text(r, "\n").splitlines()]
    out.append(f"\n{len(rows)} experimental claims: {counts['agrees']} agree, {counts['differs']} differ, "
               f"{counts['undecided']} undecided")
    return "\n".join(out)


def errata_markdown(rows: list[dict]) -> str:
    """The experimental claims' section of the errata report: statement, test, effects, runs."""
    out = ["# Experimental claims", "",
           "Computed by `ganphase claims`: each statement is tested on sweeps over seeds "
           "(ganphase.simulate.experiments); an effect with a 95 % bootstrap interval over runs, `undecided` "
           "where the interval does not decide, the runs are few, or the sweep does not record the quantity.", ""]
    for r in rows:
        out += [f"## `{r['id']}`: {r['title']} ({r['source']}): {r['verdict']}", "", f"> {r['printed']}", "",
                f"Test: {r['derived']}.", ""]
        out += [f"- {e['part']}: {e['verdict']}, {effect_text(e)} over "
                f"{e['runs']} runs ({'; '.join(x for x in (e['test'], e['detail']) if x)}) in `{e['sweep']}`"
                + (f", setting `{e['setting']}`" if e.get("setting") else "")
                for e in r["effects"]] or [f"- {r['evidence_detail']}"]
        if r["runs"]:
            shown = ", ".join(r["runs"][:8]) + (f", ... ({len(r['runs'])} in all)" if len(r["runs"]) > 8 else "")
            out += ["", f"Runs: {shown}"]
        out.append("")
    return "\n".join(out)
