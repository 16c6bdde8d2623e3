"""``ganphase latex``: every derived formula of the claims registry, and the experimental claims' verdicts, as a
standalone LaTeX document."""
from ganphase.catalogue.latex import export

NAME = "latex"
HELP = "write every derived formula of every claim, labelled by claim id, to a standalone LaTeX file"


def add_arguments(p):
    p.add_argument("--out", required=True, metavar="FILE.tex", help="the LaTeX file to write (atomically)")
    p.add_argument("--id", action="append", dest="ids", metavar="ID", help="only this claim (repeatable)")
    p.add_argument("--seed", type=int, default=0,
                   help="seed of the random check points behind the printed-vs-derived verdicts (default 0)")
    p.add_argument("--no-experiments", action="store_true",
                   help="leave out the experimental claims (verdicts from the committed sweeps, results/sweeps/*)")


def run(args) -> int:
    from ganphase.catalogue import experiments
    from ganphase.theory.claims import REGISTRY

    experimental = [] if args.no_experiments else experiments.ids()
    for i in args.ids or ():
        if i not in experimental:
            REGISTRY[i]  # unknown id -> ValueError -> one line, exit 2
    formal = [i for i in args.ids if i not in experimental] if args.ids else None
    exp_ids = [i for i in args.ids if i in experimental] if args.ids else experimental
    rows = experiments.experimental_rows(None, exp_ids) if exp_ids else []
    path = export(args.out, seed=args.seed, ids=formal, progress=True, experiments=rows,
                  formal=bool(formal) or not args.ids)
    print(f"wrote {path}")
    return 0
