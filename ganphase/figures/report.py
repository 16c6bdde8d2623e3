"""The report of ``ganphase reproduce``: report.md and a self-contained report.html.

Both are built from the files the stages wrote (claims.json, errata.md, claims.tex, figures/figures.json,
figures/figNN.md) and the stage record, so the report can always be rewritten, also after a failed stage.
The HTML embeds every figure as a base64 PNG (no external files or scripts needed to view it) and links
the PNG/PDF files next to it.
"""
from __future__ import annotations

import base64
import html
import json
import re
from pathlib import Path

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
    return {"state": state, "claims": claims.get("claims", []), "errata": _read_text(out / "errata.md"),
            "figures": figs, "versions": state.get("versions") or versions()}


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
.ok,.agrees,.passed{color:#060}.failed,.differs,.missing{color:#a00}figure{margin:2em 0}"""


def _cls(value: str) -> str:
    return f'<span class="{html.escape(value)}">{html.escape(value)}</span>'


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
    body.append("<h2>Claims</h2>")
    if data["claims"]:
        body.append("<table><tr><th>id</th><th>where printed</th><th>title</th><th>verdict</th><th>evidence</th>"
                    "<th>evidence detail</th></tr>")
        for r in data["claims"]:
            body.append(f"<tr><td><code>{html.escape(r['id'])}</code></td><td>{html.escape(r['source'])}</td>"
                        f"<td>{html.escape(r['title'])}</td><td>{_cls(r['verdict'])}</td><td>{_cls(r['evidence'])}</td>"
                        f"<td>{html.escape(r.get('evidence_detail') or '')}</td></tr>")
        body.append("</table>")
    else:
        body.append("<p>No claims table (the claims stage did not complete).</p>")
    body.append('<h2>Errata</h2><div class="errata">')
    errata = data["errata"].strip()
    body.append(markdown_html(re.sub(r"^(#+) ", lambda m: "#" * (len(m.group(1)) + 2) + " ", errata, flags=re.M))
                if errata else "<p>No errata (the claims stage did not complete).</p>")
    body.append("</div><h2>Figures</h2><table><tr><th>figure</th><th>status</th><th>seconds</th><th>note</th></tr>")
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
