"""``ganphase claims``: the claims table, as text, JSON or a Markdown errata report; ``--where ID``: every
piece of one claim (derivation, evidence, tests, figures, LaTeX labels) with file and line."""
import json
from pathlib import Path

from ganphase.io import atomic_write_bytes
from ganphase.catalogue import CATALOGUE

NAME = "claims"
HELP = "derive every claim, compare it with the printed formula and run its quick numerical evidence"


def add_arguments(p):
    p.add_argument("--id", action="append", dest="ids", metavar="ID", help="only this claim (repeatable)")
    p.add_argument("--json", action="store_true", help="print a JSON list instead of a table")
    p.add_argument("--markdown", metavar="FILE", help="also write the errata report to FILE")
    p.add_argument("--no-evidence", action="store_true", help="skip the numerical evidence")
    p.add_argument("--where", metavar="ID", help="print file and line of the claim's derivation, evidence, tests "
                   "and figures, and its LaTeX labels (with --json: as JSON), instead of the table")
    p.add_argument("--seed", type=int, default=0, help="seed of the random check points (default 0)")
    p.add_argument("--experiments", nargs="*", metavar="SWEEP_DIR",
                   help="the experimental claims' verdicts from these sweep or results folders instead of the "
                        "committed ones (results/sweeps/*)")
    p.add_argument("--no-experiments", action="store_true",
                   help="leave out the paper's experimental claims (sec-6.1, sec-6.2, app-f.2, app-g.4 to app-g.7)")


def run(args) -> int:
    from ganphase.catalogue.report import claim_rows, errata_markdown, table_text

    if args.where:
        links = CATALOGUE.where(args.where)  # unknown id -> ValueError -> one line, exit 2
        print(json.dumps(links.as_dict(), indent=2) if args.json else links.text())
        return 0
    from ganphase.catalogue import experiments

    if args.no_experiments and args.experiments is not None:
        raise ValueError("--experiments and --no-experiments exclude each other")
    experimental = [] if args.no_experiments else experiments.ids()
    for i in args.ids or ():
        if i not in experimental:
            CATALOGUE[i]  # unknown id -> ValueError -> one line, exit 2
    if args.markdown and Path(args.markdown).is_dir():
        raise ValueError(f"--markdown needs a file name, {args.markdown!r} is a folder")
    formal = [i for i in args.ids if i not in experimental] if args.ids else None
    rows = claim_rows(formal, seed=args.seed, evidence=not args.no_evidence, progress=not args.json) \
        if formal or not args.ids else []
    exp_rows = []
    if experimental and (not args.ids or set(args.ids) & set(experimental)):
        exp_rows = experiments.experimental_rows(args.experiments or None, args.ids)
    if args.markdown:
        text = errata_markdown(rows) + ("\n" + experiments.errata_markdown(exp_rows) if exp_rows else "")
        atomic_write_bytes(args.markdown, text.encode())
    if args.json:
        print(json.dumps(rows + exp_rows, indent=2))
    else:
        print("\n\n".join(t for t in (table_text(rows) if rows else "", experiments.table_text(exp_rows)) if t))
    return 0
