"""Symbolic derivations of the paper's formal results (sympy only, no torch).

Every module in this package registers its claims on ``REGISTRY`` when
imported; ``REGISTRY`` imports them all on first use.
"""
from ganphase.theory.claims import REGISTRY, Claim, Evidence, Part, compare

__all__ = ["REGISTRY", "Claim", "Evidence", "Part", "compare"]
