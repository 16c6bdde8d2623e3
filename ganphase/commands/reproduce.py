"""``ganphase reproduce``: the main job. Claims, errata, LaTeX, every figure, one report.

Stages, in order, each recorded in ``reproduce.json`` (status ok/failed, seconds, detail):

1. ``claims``: derive every claim, compare it with the printed formula, run its quick numerical
   evidence; write ``claims.json`` and ``errata.md``.
2. ``latex``: every derived formula as ``claims.tex``; compiled to ``claims.pdf`` when pdflatex exists.
3. ``figures``: every figure into ``figures/`` (as ``ganphase figures``, with ``figures/figures.json``).
4. ``report``: ``report.md`` and the self-contained ``report.html``.

A stage whose outputs exist and are complete (for the same settings and theory sources) is reused;
``--force`` redoes every stage.  A failed stage does not stop the others; the report lists it and the
exit status is 1.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from ganphase.figures import PROFILES
from ganphase.io import atomic_write_bytes, write_json

NAME = "reproduce"
HELP = "the main job: derive and check every claim, write the errata and LaTeX, draw every figure, write report.html"
STAGES = ("claims", "latex", "figures", "report")


def add_arguments(p):
    p.add_argument("--profile", default="quick", choices=PROFILES,
                   help="quick: about 15 minutes on 2 CPU cores; paper: the paper's settings (default quick)")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (created; reused when resuming)")
    p.add_argument("--force", action="store_true", help="redo every stage instead of reusing complete outputs")
    p.add_argument("--figures", nargs="+", metavar="N", help="only these figure numbers (default: all 22)")
    p.add_argument("--no-evidence", action="store_true", help="skip the numerical evidence of the claims")
    p.add_argument("--id", action="append", dest="ids", metavar="ID",
                   help="only this claim in the claims table and LaTeX (repeatable; default: all)")


def _theory_hash() -> str:
    from ganphase.theory.claims import _theory_source_hash
    return _theory_source_hash()


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------- stages
def stage_claims(out: Path, settings: dict, force: bool) -> tuple[str, str, bool]:
    from ganphase.catalogue import experiments
    from ganphase.catalogue.report import claim_rows, errata_markdown

    path, errata = out / "claims.json", out / "errata.md"
    key = {"seed": settings["seed"], "evidence": settings["evidence"], "ids": settings["ids"],
           "theory": _theory_hash(), "results": experiments.results_key()}
    try:
        old = json.loads(path.read_text())
    except (OSError, ValueError):
        old = None
    if not force and isinstance(old, dict) and old.get("key") == key and ("claims" in old) and errata.is_file():
        return "ok", _claims_detail(old["claims"], old.get("experiments") or ()), True
    ids = settings["ids"]
    formal = [i for i in ids if i not in experiments.ids()] if ids else None
    rows = claim_rows(formal, seed=settings["seed"], evidence=settings["evidence"], progress=True) \
        if formal or not ids else []
    exp_ids = [i for i in ids if i in experiments.ids()] if ids else None
    exp_rows = experiments.experimental_rows(None, exp_ids) if exp_ids or not ids else []
    text = errata_markdown(rows) + ("\n" + experiments.errata_markdown(exp_rows) if exp_rows else "")
    atomic_write_bytes(errata, text.encode())
    write_json(path, {"key": key, "claims": rows, "experiments": exp_rows})
    return "ok", _claims_detail(rows, exp_rows), False


def _claims_detail(rows, exp_rows=()) -> str:
    count = lambda field, v, rs=rows: sum(r[field] == v for r in rs)  # noqa: E731
    text = (f"{len(rows)} claims: {count('verdict', 'agrees')} agree, {count('verdict', 'differs')} differ, "
            f"{count('verdict', 'undecided')} undecided; evidence {count('evidence', 'passed')} passed, "
            f"{count('evidence', 'failed')} failed, {count('evidence', 'none')} none")
    if exp_rows:
        text += (f"; {len(exp_rows)} experimental claims: {count('verdict', 'agrees', exp_rows)} agree, "
                 f"{count('verdict', 'differs', exp_rows)} differ, {count('verdict', 'undecided', exp_rows)} undecided")
    return text


def stage_latex(out: Path, settings: dict, force: bool) -> tuple[str, str, bool]:
    from ganphase.catalogue.latex import export

    from ganphase.catalogue import experiments

    tex, stamp = out / "claims.tex", out / "claims.tex.json"
    key = {"seed": settings["seed"], "ids": settings["ids"], "theory": _theory_hash(),
           "results": experiments.results_key()}
    pdflatex = shutil.which("pdflatex")
    try:
        done = json.loads(stamp.read_text()) == key
    except (OSError, ValueError):
        done = False
    pdf_ok = pdflatex is None or (out / "claims.pdf").is_file()
    if not force and done and tex.is_file() and pdf_ok:
        return "ok", _latex_detail(pdflatex), True
    try:   # the experimental claims as the claims stage computed them
        exp_rows = json.loads((out / "claims.json").read_text()).get("experiments") or []
    except (OSError, ValueError, AttributeError):
        exp_rows = []
    ids = settings["ids"]
    formal = [i for i in ids if i not in experiments.ids()] if ids else None
    export(tex, seed=settings["seed"], ids=formal, progress=True, experiments=exp_rows,
           formal=bool(formal) or not ids)
    write_json(stamp, key)
    if pdflatex is None:
        return "ok", _latex_detail(None), False
    for _ in range(2):  # second pass resolves references
        proc = subprocess.run([pdflatex, "-interaction=nonstopmode", "-halt-on-error", tex.name], cwd=out,
                              capture_output=True, text=True, timeout=300)
        if proc.returncode != 0:
            tail = " ".join(proc.stdout.strip().splitlines()[-3:])
            return "failed", f"claims.tex written; pdflatex failed (exit {proc.returncode}): {tail}"[:400], False
    return "ok", _latex_detail(pdflatex), False


def _latex_detail(pdflatex) -> str:
    return ("claims.tex written and compiled to claims.pdf" if pdflatex
            else "claims.tex written; pdflatex not found, so it was not compiled to PDF")


def stage_figures(out: Path, settings: dict, force: bool) -> tuple[str, str, bool]:
    from ganphase.commands.figures import draw

    record = draw(settings["figures"], settings["profile"], out / "figures", force=force)
    entries = [record["figures"][str(n)] for n in settings["figures"]]
    bad = [f"{e['number']} ({e['status']})" for e in entries if e["status"] != "ok"]
    reused = all(e.get("reused") for e in entries)
    detail = f"{len(entries) - len(bad)} of {len(entries)} figures ok" + (f"; not drawn: {', '.join(bad)}" if bad else "")
    return ("failed" if bad else "ok"), detail, reused


RUNNERS = {"claims": stage_claims, "latex": stage_latex, "figures": stage_figures}


# ----------------------------------------------------------------------------- driver
def reproduce(out, profile: str = "quick", figures=None, evidence: bool = True, force: bool = False,
              ids=None) -> dict:
    """Run every stage into ``out``; return the stage record (also written to ``out/reproduce.json``)."""
    import ganphase
    from ganphase.commands.figures import parse_numbers
    from ganphase.catalogue import CATALOGUE
    from ganphase.figures import common, report

    common.check_profile(profile)
    numbers = parse_numbers(figures)
    if ids:
        from ganphase.catalogue.experiments import ids as experimental_ids

        for i in ids:
            if i not in experimental_ids():
                CATALOGUE[i]  # unknown id -> ValueError before anything runs
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {str(out)!r} is a file, not a folder")
    out.mkdir(parents=True, exist_ok=True)
    ids = sorted(set(ids)) if ids else None
    settings = {"profile": profile, "seed": common.SEED, "evidence": evidence, "figures": numbers, "ids": ids}
    state = {"paper": ganphase.PAPER, "profile": profile, "seed": common.SEED, "evidence": evidence,
             "figures": numbers, "claims": ids or "all", "started": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"),
             "command": " ".join(["ganphase"] + sys.argv[1:]) if sys.argv and "ganphase" in sys.argv[0] else "",
             "versions": report.versions(), "stages": {}}
    start = time.perf_counter()
    for i, name in enumerate(STAGES, 1):
        _say(f"[{i}/{len(STAGES)}] {name}")
        t0 = time.perf_counter()
        if name == "report":
            state["seconds"] = round(time.perf_counter() - start, 3)
            state["stages"]["report"] = {"status": "ok", "seconds": 0.0, "detail": "report.md and report.html"}
            try:
                report.write(out, state)
            except Exception as exc:  # noqa: BLE001 - still record why
                state["stages"]["report"].update(status="failed", detail=_one_line(exc))
            state["stages"]["report"]["seconds"] = round(time.perf_counter() - t0, 3)
        else:
            try:
                status, detail, reused = RUNNERS[name](out, settings, force)
            except KeyboardInterrupt:
                raise
            except Exception as exc:  # noqa: BLE001 - a failed stage must not lose the others
                status, detail, reused = "failed", _one_line(exc), False
            state["stages"][name] = {"status": status, "seconds": round(time.perf_counter() - t0, 3),
                                     "detail": detail, "reused": reused}
        s = state["stages"][name]
        _say(f"      {s['status']}{' (reused)' if s.get('reused') else ''} in {s['seconds']:.1f} s: {s['detail']}")
        write_json(out / "reproduce.json", state)
    state["seconds"] = round(time.perf_counter() - start, 3)
    write_json(out / "reproduce.json", state)
    return state


def _one_line(exc: BaseException) -> str:
    return " ".join(f"{type(exc).__name__}: {exc}".split())[:500]


def run(args) -> int:
    state = reproduce(args.out, args.profile, args.figures, evidence=not args.no_evidence, force=args.force,
                      ids=args.ids)
    failed = [n for n, s in state["stages"].items() if s["status"] != "ok"]
    print(f"wrote {Path(args.out) / 'report.html'} and report.md in {state['seconds']:.1f} s"
          + (f"; failed stages: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0
