"""Every figure of the paper, one module per figure (``fig01`` ... ``fig22``).

Each module exposes ``make(profile, outdir) -> list[Path]``, a module-level
``TITLE`` and ``CLAIMS`` (the registry ids the figure illustrates, written
literally: ``ganphase claims --where ID`` and the report read them);
``ganphase.figures.common`` writes PNG + PDF + caption files.
"""
from __future__ import annotations

import importlib

NUMBERS = tuple(range(1, 23))
PROFILES = ("quick", "paper")


def module(number: int):
    """The module that draws figure ``number`` (1-22)."""
    if number not in NUMBERS:
        raise ValueError(f"the paper has figures 1 to 22; there is no figure {number}")
    return importlib.import_module(f"ganphase.figures.fig{number:02d}")


def available() -> list[int]:
    """Numbers of the figures whose module is present."""
    out = []
    for n in NUMBERS:
        try:
            module(n)
        except ModuleNotFoundError as exc:
            if exc.name != f"ganphase.figures.fig{n:02d}":
                raise
        else:
            out.append(n)
    return out
