"""Symbolic derivations of the paper's formal results (sympy only, no torch).

Every module in this package registers its claims on ``REGISTRY`` when
imported; importing the package imports them all (the list below), so the
registry is complete once ``ganphase.theory`` is imported.  Numerical evidence,
figures, tests and LaTeX labels are joined to these derivations one layer up,
in ``ganphase.catalogue``.
"""
from ganphase.theory.claims import REGISTRY, Claim, Part, compare
from ganphase.theory import (background, collapse, dynamics, fields, mode_mixture,  # noqa: F401, E402
                             nsgan, steepness, table2)

MODULES = (background, collapse, dynamics, fields, mode_mixture, nsgan, steepness, table2)

__all__ = ["REGISTRY", "Claim", "Part", "compare", "MODULES"]
