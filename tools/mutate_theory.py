"""Mutation testing of the derivations in ganphase/theory (not part of the default test run).

Each mutant changes one site of one theory module: an integer or fraction constant (n -> n + 1), a
sign (a + b <-> a - b, -a -> a), an exponent (x**2 -> x, x**k -> x**(k + 1)) or a product into a quotient.
A mutant is *killed* when the part verdicts of the claims registered by that module change, or their
counterexamples (the printed and derived values the errata report shows), or deriving them raises or
times out.  With ``--tests MODULE=TESTFILE`` a mutant whose verdicts do not move is then judged by
that test file too, run by pytest against the mutated copy: it is killed when a test fails
(``killed (test)``); otherwise it *survives*.  Each mutant runs in a fresh process on a copy of the
package with the disk cache off.

    python tools/mutate_theory.py --sample 40 --seed 0 --out mutation.jsonl
    python tools/mutate_theory.py --only 'collapse.py:134:4 * sg' --tests collapse.py=tests/test_collapse_theory.py

prints the share killed and the survivors (module, line, change).
"""
from __future__ import annotations

import argparse
import ast
import json
import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
THEORY = ROOT / "ganphase" / "theory"
SKIP = {"__init__.py", "claims.py", "report.py", "latex.py"}   # the registry, report and export, not derivations

VERDICTS = """
import json, sys
from ganphase.theory.claims import REGISTRY, load
load()
module = sys.argv[1]
out = {}
for claim in REGISTRY:
    if claim.build.__module__ == module:
        out[claim.id] = [(v.name, v.verdict, v.counterexample) for v in claim.part_verdicts()]
print(json.dumps(out))
"""


def _segment(lines, node) -> tuple[int, int, int]:
    return node.lineno, node.col_offset, node.end_col_offset


def sites(path: Path) -> list[dict]:
    """Mutation sites of one module: (line, start col, end col, original text, replacement text)."""
    text = path.read_text()
    tree = ast.parse(text)
    lines = text.splitlines()
    docstrings = {id(n.body[0].value) for n in ast.walk(tree)
                  if isinstance(n, (ast.Module, ast.FunctionDef, ast.ClassDef)) and n.body
                  and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
    found = []

    def add(node, new):
        if node.lineno != node.end_lineno:
            return
        old = lines[node.lineno - 1][node.col_offset:node.end_col_offset]
        if old != new:
            found.append({"module": path.name, "line": node.lineno, "start": node.col_offset,
                          "end": node.end_col_offset, "old": old, "new": new})

    for node in ast.walk(tree):
        if id(node) in docstrings:
            continue
        if isinstance(node, ast.Constant) and type(node.value) in (int, float) and not isinstance(node.value, bool):
            add(node, repr(node.value + 1))
        elif isinstance(node, ast.BinOp) and node.lineno == node.end_lineno:
            seg = lines[node.lineno - 1]
            left, right = ast.get_source_segment(text, node.left), ast.get_source_segment(text, node.right)
            if left is None or right is None:
                continue
            swap = {ast.Add: "-", ast.Sub: "+", ast.Mult: "/", ast.Div: "*"}
            if type(node.op) in swap:
                add(node, f"({left}) {swap[type(node.op)]} ({right})")
            elif isinstance(node.op, ast.Pow):
                add(node, f"({left})" if right.strip() == "2" else f"({left}) ** (({right}) + 1)")
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            operand = ast.get_source_segment(text, node.operand)
            if operand is not None:
                add(node, f"({operand})")
    return found


def apply(site: dict, folder: Path) -> None:
    path = folder / "ganphase" / "theory" / site["module"]
    lines = path.read_text().splitlines(keepends=True)
    line = lines[site["line"] - 1]
    lines[site["line"] - 1] = line[:site["start"]] + site["new"] + line[site["end"]:]
    path.write_text("".join(lines))


def verdicts(folder: Path, module: str, timeout: float) -> dict | str:
    env = {"PYTHONPATH": str(folder), "GANPHASE_CACHE": "off", "PATH": "/usr/bin:/bin"}
    try:
        done = subprocess.run([sys.executable, "-c", VERDICTS, f"ganphase.theory.{module[:-3]}"], env=env,
                              cwd=folder, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return "timeout"
    if done.returncode != 0:
        return "error: " + (done.stderr.strip().splitlines() or ["?"])[-1][:200]
    return json.loads(done.stdout.strip().splitlines()[-1])


def tests_fail(folder: Path, files: list[str], timeout: float) -> bool:
    """True when pytest fails on ``files`` (slow tests left out) with the package of ``folder`` imported."""
    env = {"PYTHONPATH": str(folder), "GANPHASE_CACHE": "off", "PATH": "/usr/bin:/bin", "HOME": str(folder)}
    try:
        done = subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-m", "not slow",
                               *[str(ROOT / f) for f in files]], env=env, cwd=folder, capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        return True
    return done.returncode != 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sample", type=int, default=40, help="number of mutants drawn (default 40; 0: all)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--timeout", type=float, default=240.0, help="seconds per mutant")
    ap.add_argument("--out", default="mutation.jsonl", help="one JSON line per mutant (appended as it runs)")
    ap.add_argument("--only", action="append", default=[], metavar="MODULE:LINE[:OLD]",
                    help="run the sites of this line (whose original text is OLD, if given) instead of a sample "
                         "(repeatable), e.g. background.py:42 or 'collapse.py:134:4 * sg'")
    ap.add_argument("--tests", action="append", default=[], metavar="MODULE=TESTFILE",
                    help="judge a surviving mutant of MODULE by this test file too (repeatable)")
    args = ap.parse_args(argv)
    tests = {}
    for item in args.tests:
        module, _, file = item.partition("=")
        tests.setdefault(module, []).append(file)
    modules = sorted(p for p in THEORY.glob("*.py") if p.name not in SKIP)
    all_sites = [s for p in modules for s in sites(p)]
    if args.only:
        wanted = [w.split(":", 2) for w in args.only]
        chosen = [s for s in all_sites if any(s["module"] == w[0] and s["line"] == int(w[1])
                                              and (len(w) < 3 or s["old"] == w[2]) for w in wanted)]
    elif args.sample == 0:
        chosen = all_sites
    else:
        chosen = random.Random(args.seed).sample(all_sites, min(args.sample, len(all_sites)))
    print(f"{len(all_sites)} mutation sites in {len(modules)} modules; running {len(chosen)}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "base"
        shutil.copytree(ROOT / "ganphase", base / "ganphase", ignore=shutil.ignore_patterns("__pycache__"))
        baseline = {}
        killed = 0
        out = Path(args.out)
        for k, site in enumerate(chosen, 1):
            module = site["module"]
            if module not in baseline:
                baseline[module] = verdicts(base, module, 3 * args.timeout)
                if not isinstance(baseline[module], dict):   # an unmutated module must derive: stop, do not guess
                    raise SystemExit(f"baseline of {module} failed: {baseline[module]}")
                if tests.get(module) and tests_fail(base, tests[module], 4 * args.timeout):
                    raise SystemExit(f"the tests {', '.join(tests[module])} fail on the unmutated package")
            work = Path(tmp) / f"m{k}"
            shutil.copytree(base, work)
            apply(site, work)
            got = verdicts(work, module, args.timeout)
            if isinstance(baseline[module], dict) and not baseline[module]:
                outcome = "no claims in module"
            elif got == baseline[module]:
                outcome = "killed (test)" if tests.get(module) and tests_fail(work, tests[module], 4 * args.timeout) \
                    else "survived"
            else:
                outcome = "killed" + ("" if isinstance(got, dict) else f" ({got})")
            shutil.rmtree(work)
            killed += outcome.startswith("killed")
            record = {**site, "outcome": outcome}
            with out.open("a") as fh:
                fh.write(json.dumps(record) + "\n")
            print(f"[{k}/{len(chosen)}] {module}:{site['line']} {site['old']!r} -> {site['new']!r}: {outcome}", flush=True)
    print(f"killed {killed} of {len(chosen)} ({killed / max(len(chosen), 1):.0%})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
