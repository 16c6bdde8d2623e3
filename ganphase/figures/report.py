"""The report of ``ganphase reproduce``: report.md and a self-contained report.html.

Both are built from the files the stages wrote (claims.json, errata.md, claims.tex, figures/figures.json,
figures/figNN.md) and the stage record, so the report can always be rewritten, also after a failed stage.
The HTML embeds every figure as a base64 PNG and every formula as MathML (rendered natively by browsers),
so it is one file that needs nothing fetched to be read; it links the PNG/PDF files next to it.  Each claim
shows its printed and derived formulas side by side (from the catalogue's derivations, cached on disk),
counterexamples as assignments (sigma = 1, r = 1, s = 8), its figures and where each of its pieces lives
(``ganphase claims --where ID``).
"""
from __future__ import annotations

import base64
import html
import json
import re
from pathlib import Path

from ganphase.catalogue.experiments import number_text
from ganphase.provenance import versions

FIGURES_DIR = "figures"


def _read_json(path: Path):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _read_text(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def collect(out, state: dict) -> dict:
    """Everything the report shows, read from the output folder ``out`` and the stage record ``state``."""
    out = Path(out)
    claims = _read_json(out / "claims.json") or {}
    figures = (_read_json(out / FIGURES_DIR / "figures.json") or {}).get("figures", {})
    wanted = state.get("figures") or sorted(int(k) for k in figures)
    figs = []
    for n in wanted:
        entry = figures.get(str(n), {"number": n, "status": "not run", "reason": "the figures stage did not reach it",
                                     "seconds": 0.0, "title": ""})
        caption = _read_text(out / FIGURES_DIR / f"fig{n:02d}.md").strip()
        png, pdf = f"{FIGURES_DIR}/fig{n:02d}.png", f"{FIGURES_DIR}/fig{n:02d}.pdf"
        figs.append({**entry, "number": n, "caption": caption,
                     "png": png if (out / png).is_file() else None, "pdf": pdf if (out / pdf).is_file() else None})
    rows = claims.get("claims", [])
    return {"state": state, "claims": rows, "experiments": claims.get("experiments") or [],
            "errata": _read_text(out / "errata.md"),
            "figures": figs, "versions": state.get("versions") or versions(),
            "details": {r["id"]: claim_detail(r["id"]) for r in rows}}


def claim_detail(id: str) -> dict:
    """MathML of each part of claim ``id`` and its ``--where`` links; ``{"error": ...}`` if they cannot be had."""
    try:
        from ganphase.catalogue import CATALOGUE
        from ganphase.catalogue.mathml import part_formulas

        claim = CATALOGUE[id]
        return {"formulas": part_formulas(claim), "where": CATALOGUE.where(id).as_dict()}
    except Exception as exc:  # a claim renamed or broken since claims.json was written: the report still appears
        return {"error": f"{type(exc).__name__}: {exc}"}


# ----------------------------------------------------------------------------- Markdown
def _cell(text) -> str:
    """Text for a Markdown table cell: one line, pipes escaped."""
    return " ".join(str(text or "").split()).replace("|", "\\|")


def _claims_table_md(rows) -> list[str]:
    out = ["| id | where printed | verdict | evidence | evidence detail |", "|---|---|---|---|---|"]
    for r in rows:
        out.append(f"| `{r['id']}` | {_cell(r['source'])} | {r['verdict']} | {r['evidence']} | "
                   f"{_cell(r.get('evidence_detail'))} |")
    return out


def markdown(data: dict) -> str:
    st = data["state"]
    out = [f"# Reproduction report: {st.get('paper', '')}", "",
           f"Profile `{st['profile']}`, seed {st['seed']}, started {st.get('started', '?')}, "
           f"total {st.get('seconds', 0):.1f} s.", "", "## Stages", "",
           "| stage | status | seconds | detail |", "|---|---|---|---|"]
    for name, s in st["stages"].items():
        reused = " (reused)" if s.get("reused") else ""
        out.append(f"| {name} | {s['status']}{reused} | {s.get('seconds', 0):.1f} | {_cell(s.get('detail'))} |")
    failed = [n for n, s in st["stages"].items() if s["status"] == "failed"]
    out += ["", f"Failed stages: {', '.join(failed)}." if failed else "Every stage completed.", ""]
    rows = data["claims"]
    out += ["## Claims", ""]
    if rows:
        counts = {v: sum(r["verdict"] == v for r in rows) for v in ("agrees", "differs", "undecided")}
        out += [f"{len(rows)} claims: {counts['agrees']} agree with the printed formula, {counts['differs']} differ, "
                f"{counts['undecided']} undecided.", ""] + _claims_table_md(rows)
    else:
        out.append("No claims table (the claims stage did not complete).")
    out += ["", "## Experimental claims", ""] + _experiments_md(data.get("experiments") or [])
    out += ["", "## Errata", ""]
    errata = data["errata"].strip()
    out.append(re.sub(r"^(#+) ", lambda m: "#" * (len(m.group(1)) + 2) + " ", errata, flags=re.M)
               if errata else "No errata (the claims stage did not complete).")
    out += ["", "## Figures", "", "| figure | status | seconds | note |", "|---|---|---|---|"]
    for f in data["figures"]:
        out.append(f"| {f['number']} | {f['status']} | {f.get('seconds', 0):.1f} | {_cell(f.get('reason') or f.get('title'))} |")
    for f in data["figures"]:
        out += ["", f"### Figure {f['number']}: {f.get('title', '')}", ""]
        if f["png"]:
            out += [f"![Figure {f['number']}]({f['png']})", ""]
            if f["pdf"]:
                out += [f"[PDF]({f['pdf']})", ""]
        else:
            out += [f"Not drawn ({f['status']}): {f.get('reason', '')}", ""]
        if f["caption"]:
            out.append(f["caption"])
    out += ["", "## Versions", ""] + [f"- {k}: {v}" for k, v in data["versions"].items()]
    return "\n".join(out) + "\n"


def _experiments_md(rows) -> list[str]:
    if not rows:
        return ["No experimental claims (the claims stage did not compute them)."]
    out = ["Each tested on sweeps over seeds (ganphase.simulate.experiments): effect, 95 % bootstrap interval over "
           "runs, verdict.", "", "| id | where printed | verdict | runs | parts |", "|---|---|---|---|---|"]
    from ganphase.catalogue.experiments import effects_text

    for r in rows:
        out.append(f"| `{r['id']}` | {_cell(r['source'])} | {r['verdict']} | {len(r['runs'])} | "
                   f"{_cell(effects_text(r))} |")
    return out


def _experiments_html(rows) -> list[str]:
    """The experimental claims: the quoted statement, the test, one row per part with its interval."""
    if not rows:
        return ["<h2>Experimental claims</h2>", "<p>No experimental claims (the claims stage did not compute them)."
                "</p>"]
    counts = {v: sum(r["verdict"] == v for r in rows) for v in ("agrees", "differs", "undecided")}
    out = ["<h2>Experimental claims</h2>",
           f"<p>{len(rows)} experimental statements of the paper, each tested on sweeps over seeds: "
           f"{counts['agrees']} agree, {counts['differs']} differ, {counts['undecided']} undecided. An effect per part "
           "with its 95&nbsp;% bootstrap interval over runs; <em>undecided</em> where the interval does not decide, "
           "the runs are fewer than five, or the sweep does not record the quantity.</p>"]
    for r in rows:
        cid = html.escape(r["id"])
        out += [f'<section class="claim" id="claim-{cid}"><h3><code>{cid}</code>: {html.escape(r["title"])}</h3>',
                f"<p>{html.escape(r['source'])}. Verdict {_cls(r['verdict'])} over {len(r['runs'])} runs.</p>",
                f"<blockquote>{html.escape(r['printed'])}</blockquote>",
                f"<p>Test: {html.escape(r['derived'])}.</p>"]
        if r["effects"]:
            out.append('<table><tr><th>setting</th><th>part</th><th>effect</th><th>95 % interval</th><th>runs</th>'
                       "<th>verdict</th><th>test</th></tr>")
            out += [f"<tr><td>{html.escape(e.get('setting') or '-')}</td><td>{html.escape(e['part'])}</td>"
                    f"<td>{number_text(e['value'])}</td><td>[{number_text(e['low'])}, {number_text(e['high'])}]</td>"
                    f"<td>{e['runs']}</td>"
                    f"<td>{_cls(e['verdict'])}</td><td>{html.escape('; '.join(x for x in (e['test'], e['detail']) if x))}"
                    "</td></tr>" for e in r["effects"]]
            out.append("</table>")
        else:
            out.append(f"<p>{html.escape(r['evidence_detail'])}</p>")
        out.append("</section>")
    return out


# ----------------------------------------------------------------------------- HTML
def _inline(text: str) -> str:
    """Escape, then `code`, **bold**, *italic*, $$math$$ (kept as code), [text](link)."""
    t = html.escape(text, quote=False)
    t = re.sub(r"\$\$(.+?)\$\$", r"<code>\1</code>", t)
    t = re.sub(r"`([^`]+)`", r"<code>\1</code>", t)
    t = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", t)
    t = re.sub(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])", r"<em>\1</em>", t)
    return re.sub(r"\[([^\]]+)\]\(([^)\s]+)\)", r'<a href="\2">\1</a>', t)


def markdown_html(text: str) -> str:
    """The small Markdown subset the toolkit writes (headings, paragraphs, lists, tables) as HTML."""
    out, para, items, table = [], [], [], []

    def flush():
        if para:
            out.append(f"<p>{_inline(' '.join(para))}</p>")
        if items:
            out.append("<ul>" + "".join(f"<li>{_inline(i)}</li>" for i in items) + "</ul>")
        if table:
            cells = [[c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", row.strip()[1:-1])] for row in table
                     if not re.fullmatch(r"\|?[\s|:-]+\|?", row.strip())]
            head, body = cells[0], cells[1:]
            out.append("<table><tr>" + "".join(f"<th>{_inline(c)}</th>" for c in head) + "</tr>"
                       + "".join("<tr>" + "".join(f"<td>{_inline(c)}</td>" for c in r) + "</tr>" for r in body)
                       + "</table>")
        para.clear(), items.clear(), table.clear()

    for line in text.splitlines():
        s = line.strip()
        heading = re.match(r"(#{1,6}) (.*)", s)
        if not s:
            flush()
        elif heading:
            flush()
            level = len(heading.group(1))
            out.append(f"<h{level}>{_inline(heading.group(2))}</h{level}>")
        elif s.startswith("|"):
            if para or items:
                flush()
            table.append(s)
        elif s.startswith("- "):
            if para or table:
                flush()
            items.append(s[2:])
        else:
            if items or table:
                flush()
            para.append(s)
    flush()
    return "\n".join(out)


STYLE = """body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;line-height:1.4}
table{border-collapse:collapse;margin:1em 0;font-size:0.9em}td,th{border:1px solid #bbb;padding:3px 6px;
vertical-align:top}th{background:#eee}code{background:#f4f4f4}img{max-width:100%;border:1px solid #ddd}
.ok,.agrees,.passed{color:#060}.failed,.differs,.missing{color:#a00}figure{margin:2em 0}
section.claim{border-top:1px solid #bbb;margin:1.5em 0;padding-top:0.5em}table.formulas{width:100%;table-layout:fixed}
table.formulas td{overflow-x:auto}table.formulas th:first-child{width:14%}table.formulas th:last-child{width:9%}
td code,td a{white-space:nowrap}tr.cx td{border-top:none;font-size:0.95em}
math[display=block]{margin:0.3em 0;font-size:1.05em}.where{font-size:0.85em;color:#333}.where li{margin:0}"""


def _cls(value: str) -> str:
    return f'<span class="{html.escape(value)}">{html.escape(value)}</span>'


def _claims_html(data: dict) -> list[str]:
    """The claims table, then one section per claim: formulas side by side, counterexamples, figures, links."""
    rows = data["claims"]
    if not rows:
        return ["<h2>Claims</h2>", "<p>No claims table (the claims stage did not complete).</p>",
                "<h2>Errata</h2>", "<p>No errata (the claims stage did not complete).</p>"]
    counts = {v: sum(r["verdict"] == v for r in rows) for v in ("agrees", "differs", "undecided")}
    body = ["<h2>Claims</h2>", f"<p>{len(rows)} claims: {counts['agrees']} agree with the printed formula, "
            f"{counts['differs']} differ, {counts['undecided']} undecided. Evidence tests the statement as printed; "
            "derived evidence tests the derived statement.</p>",
            "<table><tr><th>id</th><th>where printed</th><th>title</th><th>verdict</th><th>evidence</th>"
            "<th>derived evidence</th></tr>"]
    for r in rows:
        body.append(f'<tr><td><a href="#claim-{html.escape(r["id"])}"><code>{html.escape(r["id"])}</code></a></td>'
                    f"<td>{html.escape(r['source'])}</td><td>{html.escape(r['title'])}</td><td>{_cls(r['verdict'])}</td>"
                    f"<td>{_cls(r['evidence'])}</td><td>{_cls(r.get('evidence_derived', 'none'))}</td></tr>")
    body.append("</table>")
    body += _errata_html(rows)
    body.append("<h2>Claims in detail</h2>")
    shown = {f["number"] for f in data["figures"] if f["png"]}
    for r in rows:
        body += _claim_section(r, data["details"].get(r["id"], {}), shown)
    return body


def _errata_html(rows) -> list[str]:
    differs = [r for r in rows if r["verdict"] == "differs"]
    failed = [r for r in rows if r["evidence"] == "failed"]
    link = lambda r: f'<a href="#claim-{html.escape(r["id"])}"><code>{html.escape(r["id"])}</code></a>'  # noqa: E731
    out = ["<h2>Errata</h2>", "<p>Printed formulas that differ from their derivation (computed; the formulas and "
           "counterexamples are in each claim's section below):</p>"]
    out.append("<ul>" + "".join(
        f"<li>{link(r)} ({html.escape(r['source'])}): "
        + ", ".join(html.escape(p["name"]) for p in r["parts"] if p["verdict"] == "differs") + "</li>"
        for r in differs) + "</ul>" if differs else "<p>No printed formula differs from its derivation.</p>")
    out.append("<p>Numerical evidence that fails (the printed statement fails on the recorded input):</p>")
    out.append("<ul>" + "".join(f"<li>{link(r)} ({html.escape(r['source'])})</li>"
                                for r in failed) + "</ul>" if failed else "<p>Every claim with evidence passed it.</p>")
    return out


def _counterexample_html(cx: dict | None) -> str:
    """A part's counterexample: the point as an assignment, then the printed and derived values there."""
    from ganphase.catalogue.mathml import assignment

    if not cx:
        return ""
    if "point" not in cx:
        return html.escape(str(cx.get("reason", cx)))
    values = {k: cx[k] for k in ("printed_value", "derived_value") if k in cx}
    return f"at {assignment(cx['point'])}: " + assignment({k.replace("_value", ""): v for k, v in values.items()})


def _claim_section(r: dict, detail: dict, shown: set) -> list[str]:
    from ganphase.catalogue.mathml import assignment

    cid = html.escape(r["id"])
    out = [f'<section class="claim" id="claim-{cid}"><h3><code>{cid}</code>: {html.escape(r["title"])}</h3>',
           f"<p>{html.escape(r['source'])}. Verdict {_cls(r['verdict'])}; evidence {_cls(r['evidence'])}"
           f" ({html.escape(r.get('evidence_detail') or 'no detail')}); derived evidence "
           f"{_cls(r.get('evidence_derived', 'none'))}"
           + (f" ({html.escape(r['evidence_derived_detail'])})" if r.get("evidence_derived_detail") else "") + ".</p>"]
    if r.get("assumptions"):
        out.append("<p>Assumptions: " + "; ".join(html.escape(a) for a in r["assumptions"]) + ".</p>")
    verdicts = {p["name"]: p for p in r.get("parts", [])}
    if "formulas" in detail:
        out.append('<table class="formulas"><tr><th>part</th><th>printed</th><th>derived</th><th>verdict</th></tr>')
        for f in detail["formulas"]:
            v = verdicts.get(f["name"])
            out.append(f"<tr><td>{html.escape(f['name'])}</td><td>{f['printed'] or '<em>not printed</em>'}</td>"
                       f"<td>{f['derived']}</td><td>{_cls(v['verdict']) if v else 'derived only'}</td></tr>")
            if v and v.get("counterexample"):
                out.append(f'<tr class="cx"><td></td><td colspan="3">counterexample '
                           f"{_counterexample_html(v['counterexample'])}</td></tr>")
        out.append("</table>")
    else:
        out.append(f"<p>Formulas unavailable ({html.escape(detail.get('error', 'not computed'))}); printed: "
                   f"<code>{html.escape(r.get('printed') or '')}</code>; derived: <code>{html.escape(r['derived'])}</code></p>")
    if r.get("evidence_counterexample"):
        out.append(f"<p>The evidence's recorded input: {assignment(r['evidence_counterexample'])}</p>")
    if r.get("note"):
        out.append(f"<p>Do the conclusions survive? {html.escape(r['note'])}</p>")
    out += _where_html(detail.get("where"), shown)
    return out + ["</section>"]


def _where_html(where: dict | None, shown: set) -> list[str]:
    """The claim's figures (links into this page) and the file and line of each of its pieces."""
    if not where:
        return []
    from ganphase.catalogue.where import ROOT

    def src(link):
        path = ROOT / link["path"]
        return (f'<a href="{html.escape(path.as_uri())}"><code>{html.escape(link["path"])}:{link["line"]}</code></a> '
                f'{html.escape(link["name"])}')

    figs = [int(f["name"].split()[1]) for f in where["figures"]]
    out = ["<p>Figures: " + (", ".join(f'<a href="#fig{n:02d}">Figure {n}</a>' if n in shown else f"Figure {n} "
                                       "(not drawn in this run)" for n in figs) or "none") + ".</p>"]
    items = [f"derivation: {src(where['derivation'])}",
             f"evidence: {src(where['evidence'])}" if where["evidence"] else "evidence: none attached"]
    items += [f"test: {src(t)}" for t in where["tests"]]
    items += ["LaTeX: " + ", ".join(f"<code>{html.escape(label)}</code>" for label in where["latex"])]
    return out + [f'<details class="where"><summary>Where (<code>ganphase claims --where {html.escape(where["id"])}</code>)'
            "</summary><ul>" + "".join(f"<li>{i}</li>" for i in items) + "</ul></details>"]


def html_page(data: dict, out) -> str:
    out = Path(out)
    st = data["state"]
    body = [f"<h1>Reproduction report</h1><p><em>{html.escape(st.get('paper', ''))}</em></p>",
            f"<p>Profile <code>{html.escape(st['profile'])}</code>, seed {st['seed']}, started "
            f"{html.escape(str(st.get('started', '?')))}, total {st.get('seconds', 0):.1f} s.</p>",
            "<h2>Stages</h2><table><tr><th>stage</th><th>status</th><th>seconds</th><th>detail</th></tr>"]
    for name, s in st["stages"].items():
        body.append(f"<tr><td>{html.escape(name)}</td><td>{_cls(s['status'])}{' (reused)' if s.get('reused') else ''}"
                    f"</td><td>{s.get('seconds', 0):.1f}</td><td>{html.escape(s.get('detail', ''))}</td></tr>")
    body.append("</table>")
    body += _claims_html(data)
    body += _experiments_html(data.get("experiments") or [])
    body.append("<h2>Figures</h2><table><tr><th>figure</th><th>status</th><th>seconds</th><th>note</th></tr>")
    for f in data["figures"]:
        body.append(f"<tr><td>{f['number']}</td><td>{_cls(f['status'])}</td><td>{f.get('seconds', 0):.1f}</td>"
                    f"<td>{html.escape(f.get('reason') or f.get('title', ''))}</td></tr>")
    body.append("</table>")
    for f in data["figures"]:
        body.append(f'<figure id="fig{f["number"]:02d}"><h3>Figure {f["number"]}: {html.escape(f.get("title", ""))}</h3>')
        if f["png"]:
            encoded = base64.b64encode((out / f["png"]).read_bytes()).decode()
            body.append(f'<img src="data:image/png;base64,{encoded}" alt="Figure {f["number"]}" '
                        f'data-file="{html.escape(f["png"])}">')
            links = [f'<a href="{html.escape(f["png"])}">PNG</a>'] + (
                [f'<a href="{html.escape(f["pdf"])}">PDF</a>'] if f["pdf"] else [])
            body.append(f"<p>{' | '.join(links)}</p>")
        else:
            body.append(f"<p>Not drawn ({_cls(f['status'])}): {html.escape(f.get('reason', ''))}</p>")
        body.append(f"<figcaption>{markdown_html(f['caption'])}</figcaption></figure>")
    body.append("<h2>Versions</h2><ul>" + "".join(f"<li>{html.escape(k)}: {html.escape(str(v))}</li>"
                                                  for k, v in data["versions"].items()) + "</ul>")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>ganphase reproduction report"
            f"</title><style>{STYLE}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")


def write(out, state: dict) -> list[Path]:
    """Write report.md and report.html into ``out`` atomically; return their paths."""
    from ganphase.io import atomic_write_bytes

    out = Path(out)
    data = collect(out, state)
    return [atomic_write_bytes(out / "report.md", markdown(data).encode()),
            atomic_write_bytes(out / "report.html", html_page(data, out).encode())]
