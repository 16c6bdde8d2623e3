"""Numerical evidence for the claims of ``ganphase.theory``.

Each module here attaches functions to claims with ``@evidence_of("claim-id")``
(the id written literally); ``ganphase.catalogue`` imports every module of this
package and joins the evidence to the claim's derivation.  An evidence function
takes a numpy ``Generator`` and a ``thorough`` flag (quick pass for
``ganphase claims``, thorough pass for tests) and returns an ``Evidence``.  A
failed check of the paper's statement carries the input that fails it as
``counterexample``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping

EVIDENCE_STATUSES = ("passed", "failed", "none")


@dataclass(frozen=True)
class Evidence:
    """Outcome of a numerical check of a claim against an independent computation.

    ``status`` is the check of the statement *as printed*, for every claim: ``failed``
    whenever the printed statement fails on some input, which ``counterexample`` records;
    ``passed`` when it holds on every input tried; ``none`` when nothing was checked.
    ``derived_status`` / ``derived_detail`` report, beside it, the check of the derived
    (corrected) statement, under its own name: always for claims whose derivation differs
    from the print, and wherever else the evidence checks the derivation separately;
    ``none`` otherwise.  The JSON schema is in docs/claims.md.
    """

    status: str
    detail: str = ""
    counterexample: Mapping | None = None
    derived_status: str = "none"
    derived_detail: str = ""

    def __post_init__(self):
        for value in (self.status, self.derived_status):
            if value not in EVIDENCE_STATUSES:
                raise ValueError(f"evidence status must be one of {EVIDENCE_STATUSES}, got {value!r}")


EVIDENCE: dict[str, Callable[..., Evidence]] = {}
"""Claim id -> evidence function, filled by ``@evidence_of`` as the modules of this package are imported."""


def evidence_of(id: str):
    """Decorator attaching ``fn(rng: numpy Generator, thorough: bool) -> Evidence`` to claim ``id``."""

    def attach(fn):
        if id in EVIDENCE:
            raise ValueError(f"evidence for {id!r} is attached twice")
        EVIDENCE[id] = fn
        return fn

    return attach
