"""The catalogue: every claim of the paper with all of its pieces.

One layer above ``ganphase.theory`` (derivations, verdicts) and
``ganphase.simulate.evidence`` (numerical checks), it joins, by claim id, the
derivation, the evidence, the figures that illustrate the claim, the tests that
hold it and its LaTeX labels.  ``CATALOGUE[id]`` is the theory's ``Claim``;
``CATALOGUE.run_evidence(id)`` runs its evidence; ``CATALOGUE.where(id)`` lists
the file and line of every piece (``ganphase claims --where ID``).

Modules: ``report`` (claims table, errata), ``latex`` (LaTeX export),
``where`` (the links), ``mathml`` (formulas for the HTML report).
"""
from __future__ import annotations

from typing import Callable, Iterator

from ganphase.theory import REGISTRY, Claim


class Catalogue:
    """The registry's claims, with evidence attached from ``ganphase.simulate.evidence``."""

    def __iter__(self) -> Iterator[Claim]:
        return iter(REGISTRY)

    def __len__(self) -> int:
        return len(REGISTRY)

    def __getitem__(self, id: str) -> Claim:
        return REGISTRY[id]

    def ids(self) -> list[str]:
        return REGISTRY.ids()

    def evidence_for(self, id: str) -> Callable | None:
        """The evidence function attached to claim ``id`` (None if it has none)."""
        self[id]  # unknown id -> ValueError
        return evidence_functions().get(id)

    def run_evidence(self, id: str, seed: int = 0, thorough: bool = False):
        """Run the claim's numerical evidence; a crash is reported as ``failed``."""
        import numpy as np

        from ganphase.simulate.evidence import Evidence

        fn = self.evidence_for(id)
        if fn is None:
            return Evidence("none", "no numerical evidence attached")
        try:
            return fn(np.random.default_rng(seed), thorough)
        except Exception as exc:  # evidence code that crashes is failed evidence, reported, not hidden
            return Evidence("failed", f"evidence raised {type(exc).__name__}: {exc}")

    def where(self, id: str):
        """Every piece of claim ``id``, with file and line (see ``ganphase.catalogue.where``)."""
        from ganphase.catalogue.where import links

        return links(self[id])


def evidence_functions() -> dict:
    """Claim id -> evidence function, after importing every evidence module (torch comes in here)."""
    from ganphase.simulate.evidence import (EVIDENCE, collapse, dynamics, fields, mode_mixture,  # noqa: F401
                                            nsgan, steepness)

    unknown = sorted(set(EVIDENCE) - set(REGISTRY.ids()))
    if unknown:
        raise ValueError(f"evidence is attached to claims that are not registered: {', '.join(unknown)}")
    return EVIDENCE


CATALOGUE = Catalogue()

__all__ = ["CATALOGUE", "Catalogue", "evidence_functions"]
