"""``ganphase reproduce`` and ``ganphase figures``: outputs, report, failures recorded, resuming, bad input.

The runs are restricted (one claim, one or two figures) so that the file stays fast; figures that fail
or are missing are stand-in modules placed in ``sys.modules``.
"""
import json
import shutil
import re
import sys
import types
from pathlib import Path

import matplotlib.pyplot as plt
import pytest

from ganphase import cli
from ganphase.figures import common


def _fake_figure(number, fail=False):
    """A figure module whose make() draws a line (or raises)."""
    module = types.ModuleType(f"ganphase.figures.fig{number:02d}")
    module.TITLE = f"stand-in figure {number}"

    def make(profile, outdir):
        if fail:
            raise RuntimeError("boom: the stand-in fails on purpose")
        fig, ax = plt.subplots()
        ax.plot([0, 1], [0, 1])
        return common.save(fig, outdir, common.Caption(number, "A line.", profile))
    module.make = make
    return module


@pytest.fixture
def stand_ins(monkeypatch):
    monkeypatch.setitem(sys.modules, "ganphase.figures.fig04", _fake_figure(4))
    monkeypatch.setitem(sys.modules, "ganphase.figures.fig05", _fake_figure(5, fail=True))
    monkeypatch.setitem(sys.modules, "ganphase.figures.fig06", None)   # import fails: module missing


def _referenced_files(html_text):
    return re.findall(r'(?:href|data-file)="([^"#:]+)"', html_text)


def test_reproduce_writes_every_output_and_resumes(tmp_path, capsys):
    out = tmp_path / "rep"
    argv = ["reproduce", "--out", str(out), "--figures", "13", "--id", "sec-2.2", "--id", "app-f.2", "--no-evidence"]
    assert cli.main(argv) == 0
    for name in ("report.md", "report.html", "claims.json", "errata.md", "claims.tex", "reproduce.json",
                 "figures/figures.json", "figures/fig13.png", "figures/fig13.pdf"):
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    claims = json.loads((out / "claims.json").read_text())["claims"]
    from ganphase.theory.claims import REGISTRY

    assert [r["id"] for r in claims] == ["sec-2.2"] and claims[0]["verdict"] == REGISTRY["sec-2.2"].verdict()[0]
    from ganphase.catalogue.experiments import committed_sweeps
    from ganphase.simulate.experiments import BY_ID, Sweep

    exp = json.loads((out / "claims.json").read_text())["experiments"]
    assert [r["id"] for r in exp] == ["app-f.2"]   # the committed sweeps' settings, each tested alone
    own = [BY_ID["app-f.2"].verdict(Sweep.load(p, [r.setting])).verdict for p in committed_sweeps()
           for r in {r.setting: r for r in Sweep.load(p).runs}.values()]
    assert exp[0]["verdict"] == ("differs" if "differs" in own else "agrees" if "agrees" in own else "undecided")
    assert "Experimental claims" in (out / "claims.tex").read_text() and "app-f.2" in (out / "errata.md").read_text()
    page = (out / "report.html").read_text()
    files = _referenced_files(page)
    assert "figures/fig13.png" in files and "figures/fig13.pdf" in files
    assert all((out / f).is_file() for f in files)
    assert page.count("<img ") == 1 and "data:image/png;base64," in page and "<script" not in page
    assert "sec-2.2" in page and "Errata" in page and "Profile <code>quick</code>" in page
    assert 'id="claim-app-f.2"' in page.split("<h2>Experimental claims</h2>")[1]
    md = (out / "report.md").read_text()
    assert "![Figure 13](figures/fig13.png)" in md and "**Figure 13.**" in md
    state = json.loads((out / "reproduce.json").read_text())
    assert all(s["status"] == "ok" for s in state["stages"].values())
    latex_detail = state["stages"]["latex"]["detail"]
    if shutil.which("pdflatex"):
        assert "compiled" in latex_detail and (out / "claims.pdf").stat().st_size > 0
    else:
        assert "pdflatex" in latex_detail

    # a second run reuses every complete stage; --force redoes them
    assert cli.main(argv) == 0
    state = json.loads((out / "reproduce.json").read_text())
    assert all(state["stages"][s]["reused"] for s in ("claims", "latex", "figures"))
    assert cli.main(argv + ["--force"]) == 0
    state = json.loads((out / "reproduce.json").read_text())
    assert not any(state["stages"][s]["reused"] for s in ("claims", "latex", "figures"))


def test_reproduce_reports_failed_figures_and_exits_nonzero(tmp_path, stand_ins, capsys):
    out = tmp_path / "rep"
    code = cli.main(["reproduce", "--out", str(out), "--figures", "4", "5", "6", "--id", "sec-2.2", "--no-evidence"])
    assert code == 1
    figures = json.loads((out / "figures" / "figures.json").read_text())["figures"]
    assert [figures[n]["status"] for n in ("4", "5", "6")] == ["ok", "failed", "missing"]
    assert "boom" in figures["5"]["reason"] and "\n" not in figures["5"]["reason"]
    state = json.loads((out / "reproduce.json").read_text())
    assert state["stages"]["figures"]["status"] == "failed" and state["stages"]["report"]["status"] == "ok"
    page = (out / "report.html").read_text()
    assert page.count("<img ") == 1 and all((out / f).is_file() for f in _referenced_files(page))
    assert "boom" in page and "missing" in page
    assert "failed stages: figures" in capsys.readouterr().out


def test_figures_command_keeps_going_after_a_failure(tmp_path, stand_ins, capsys):
    out = tmp_path / "figs"
    assert cli.main(["figures", "5", "4", "6", "--out", str(out)]) == 1
    record = json.loads((out / "figures.json").read_text())["figures"]
    assert record["4"]["status"] == "ok" and record["4"]["seconds"] >= 0
    assert record["5"]["status"] == "failed" and record["6"]["status"] == "missing"
    assert (out / "fig04.png").is_file()
    text = capsys.readouterr().out
    assert "1 of 3 figures ok" in text
    # figure 4 is reused, figure 5 retried (and failing again)
    assert cli.main(["figures", "4", "5", "--out", str(out)]) == 1
    record = json.loads((out / "figures.json").read_text())["figures"]
    assert record["4"].get("reused") and record["5"]["status"] == "failed"


@pytest.mark.parametrize("args, message", [
    (["--figures", "23"], "no figure 23"),
    (["--figures", "x"], "integers"),
    (["--id", "no-such-claim"], "unknown claim id"),
    (["--profile", "fast"], "invalid choice"),
])
def test_reproduce_bad_input_is_one_line(tmp_path, capsys, args, message):
    assert cli.main(["reproduce", "--out", str(tmp_path / "o")] + args) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err and message in err
    assert not (tmp_path / "o").exists()


def test_reproduce_out_must_be_a_folder(tmp_path, capsys):
    file = tmp_path / "taken"
    file.write_text("x")
    assert cli.main(["reproduce", "--out", str(file), "--figures", "13"]) == 2
    assert "not a folder" in capsys.readouterr().err
