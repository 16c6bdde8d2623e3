"""``ganphase latex``: every derived formula of the claims registry as a standalone LaTeX document."""
from ganphase.catalogue.latex import export

NAME = "latex"
HELP = "write every derived formula of every claim, labelled by claim id, to a standalone LaTeX file"


def add_arguments(p):
    p.add_argument("--out", required=True, metavar="FILE.tex", help="the LaTeX file to write (atomically)")
    p.add_argument("--id", action="append", dest="ids", metavar="ID", help="only this claim (repeatable)")
    p.add_argument("--seed", type=int, default=0,
                   help="seed of the random check points behind the printed-vs-derived verdicts (default 0)")


def run(args) -> int:
    from ganphase.theory.claims import REGISTRY

    for i in args.ids or ():
        REGISTRY[i]  # unknown id -> ValueError -> one line, exit 2
    path = export(args.out, seed=args.seed, ids=args.ids, progress=True)
    print(f"wrote {path}")
    return 0
