"""Regenerate README.md's claims block from the registry (verdicts and quick evidence, seed 0) and its sweep
block from the committed sweep (results/sweeps/: score tables, Algorithm 2 in words, experimental claims).

    python tools/update_readme.py            # rewrite README.md in place
    python tools/update_readme.py --check    # exit 1 if README.md differs from the registry
"""
import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ganphase.catalogue import results  # noqa: E402
from ganphase.catalogue.report import claim_rows, readme_block, replace_readme_block  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args(argv)
    path = ROOT / "README.md"
    text = path.read_text()
    new = replace_readme_block(text, readme_block(claim_rows(seed=0)))
    new = results.replace_block(new, results.readme_block())
    if args.check:
        return 0 if new == text else 1
    path.write_text(new)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
