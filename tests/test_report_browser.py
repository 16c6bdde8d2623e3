"""report.html in a real browser (headless chromium): it loads without script errors, every formula is
typeset as mathematics, every in-page link lands, and nothing is fetched from elsewhere.

The report is built from three claims (one that agrees, two that differ) and one drawn figure, not from a
whole ``ganphase reproduce``.  A copy of the page gets a probe script that measures each ``<math>``
element in the browser and writes the result into the DOM, which ``--dump-dom`` returns.
"""
import json
import os
import re
import shutil
import subprocess

import matplotlib.pyplot as plt
import pytest

from ganphase.figures import common, report

CHROMIUM = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None)
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium on PATH (Debian: apt-get install chromium); "
                                                          "the browser test of report.html needs it")
IDS = ["sec-2.2", "thm-3.4", "prop-d.2"]

PROBE = """<script>
window.__errors = [];
window.addEventListener("error", e => window.__errors.push(String(e.message)));
window.addEventListener("load", () => {
  const box = e => e.getBoundingClientRect();
  const maths = [...document.querySelectorAll("math")];
  const out = document.createElement("pre");
  out.id = "probe";
  out.textContent = JSON.stringify({
    errors: window.__errors,
    count: maths.length,
    mathml: maths.filter(m => !(m instanceof MathMLElement)).length,
    empty: maths.filter(m => !(box(m).width > 0 && box(m).height > 0)).map(m => m.outerHTML.slice(0, 120)),
    fractions: [...document.querySelectorAll("mfrac")].map(f => box(f.children[0]).bottom <= box(f.children[1]).top + 1),
    dangling: [...document.querySelectorAll('a[href^="#"]')].map(a => a.getAttribute("href"))
               .filter(h => !document.getElementById(h.slice(1))),
    images: [...document.images].map(i => i.naturalWidth),
  });
  document.body.appendChild(out);
});
</script>"""


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    """A small report: three claims (no evidence) and figure 3, written by ``report.write``."""
    from ganphase.catalogue.report import claim_rows, errata_markdown

    out = tmp_path_factory.mktemp("report")
    from ganphase.catalogue.experiments import experimental_rows

    rows = claim_rows(IDS, evidence=False)
    (out / "claims.json").write_text(json.dumps({"claims": rows, "experiments": experimental_rows()}))
    (out / "errata.md").write_text(errata_markdown(rows))
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot([0, 1], [1, 0])
    common.save(fig, out / "figures", common.Caption(3, "A line standing in for figure 3.", "quick", claims=("thm-3.4",)))
    (out / "figures" / "figures.json").write_text(json.dumps({"figures": {"3": {
        "number": 3, "status": "ok", "seconds": 0.1, "title": "stand-in"}}}))
    report.write(out, {"paper": "test", "profile": "quick", "seed": 0, "stages": {}, "figures": [3]})
    return out / "report.html"


def _probe(page):
    probed = page.with_name("probed.html")
    probed.write_text(page.read_text().replace("<head>", "<head>" + PROBE, 1))
    args = [CHROMIUM, "--headless", "--disable-gpu", "--no-first-run", "--virtual-time-budget=10000",
            "--dump-dom", probed.as_uri()]
    if os.geteuid() == 0:
        args.insert(1, "--no-sandbox")  # chromium refuses to run as root with its sandbox
    dom = subprocess.run(args, capture_output=True, text=True, timeout=180).stdout
    found = re.search(r'<pre id="probe">(.*?)</pre>', dom, re.S)
    assert found, "the probe did not run: chromium printed no DOM with its result"
    return json.loads(found.group(1).replace("&quot;", '"').replace("&lt;", "<").replace("&gt;", ">")
                      .replace("&amp;", "&"))


def test_every_formula_renders_in_chromium(page):
    result = _probe(page)
    assert result["errors"] == []
    assert result["count"] >= 20 and result["mathml"] == 0  # every <math> is a MathML element
    assert result["empty"] == [], result["empty"]
    assert result["fractions"] and all(result["fractions"])  # numerators laid out above denominators
    assert result["dangling"] == []
    assert result["images"] and all(w > 0 for w in result["images"])


def test_the_report_shows_mathematics_not_source(page):
    text = page.read_text()
    assert "<script" not in text and not re.search(r'(?:src|href)="https?:', text)  # one offline file
    for cid in IDS:
        section = text.split(f'id="claim-{cid}"')[1].split("</section>")[0]
        assert section.count('<math display="block">') >= 2, cid  # printed and derived, side by side
        assert "ganphase claims --where " + cid in section and "derivation: " in section
    thm = text.split('id="claim-thm-3.4"')[1].split("</section>")[0]
    assert "counterexample at <math" in thm and "{'" not in thm  # an assignment, not Python dict text
    assert '<a href="#fig03">Figure 3</a>' in thm
    assert "\\frac" not in text and "$$" not in text  # no LaTeX source left for the reader to typeset


def test_the_report_shows_the_experimental_claims_with_intervals(page):
    from ganphase.catalogue.experiments import experimental_rows

    text = page.read_text()
    part = text.split("<h2>Experimental claims</h2>")[1]
    for r in experimental_rows():
        section = part.split(f'id="claim-{r["id"]}"')[1].split("</section>")[0]
        assert "<blockquote>" in section and f'class="{r["verdict"]}"' in section
        assert section.count("<tr><td>") == len(r["effects"])
