"""What every figure module shares: profiles, styling, saving with captions.

A figure is written as ``figNN.png``, ``figNN.pdf`` and ``figNN.json`` (caption,
settings, seed, claims illustrated, numbers measured) plus ``figNN.md`` (the
caption in prose), all in ``outdir``. Saving is atomic, so an interrupted run
never leaves a half-written file that a later run would reuse.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from ganphase.io import atomic_write_bytes, write_json  # noqa: E402

SEED = 0


def check_profile(profile: str) -> str:
    if profile not in ("quick", "paper"):
        raise ValueError(f"profile must be 'quick' or 'paper', got {profile!r}")
    return profile


@dataclass
class Caption:
    """What a figure shows and how it was obtained."""
    number: int
    text: str                                   # one paragraph: what is drawn
    profile: str
    settings: dict = field(default_factory=dict)  # every parameter that changes the picture
    claims: tuple[str, ...] = ()                 # registry ids the figure illustrates
    measured: dict = field(default_factory=dict)  # numbers read off the figure's data
    stand_in: str = ""                           # what replaces the paper's setting in this profile, if anything
    seed: int = SEED

    def __post_init__(self):
        from ganphase.theory import REGISTRY

        unknown = [c for c in self.claims if c not in REGISTRY.ids()]
        if unknown:
            raise ValueError(f"figure {self.number} names claims that are not in the registry: {', '.join(unknown)}")

    def markdown(self) -> str:
        lines = [f"**Figure {self.number}.** {self.text}"]
        if self.stand_in:
            lines.append(f"*Profile `{self.profile}`:* {self.stand_in}")
        if self.settings:
            lines.append("Settings: " + ", ".join(f"{k} = {v}" for k, v in self.settings.items()) + f"; seed {self.seed}.")
        if self.claims:
            lines.append("Claims illustrated: " + ", ".join(f"`{c}`" for c in self.claims) + ".")
        if self.measured:
            lines.append("Measured: " + ", ".join(f"{k} = {_fmt(v)}" for k, v in self.measured.items()) + ".")
        return "\n\n".join(lines) + "\n"


def _fmt(v):
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def stem(outdir, number: int) -> Path:
    return Path(outdir) / f"fig{number:02d}"


def save(fig, outdir, caption: Caption) -> list[Path]:
    """Write fig as PNG and PDF, and the caption as JSON and Markdown; close fig; return the paths."""
    base = stem(outdir, caption.number)
    base.parent.mkdir(parents=True, exist_ok=True)
    paths = []
    for ext, kw in (("png", {"dpi": 120}), ("pdf", {})):
        buf = io.BytesIO()
        fig.savefig(buf, format=ext, bbox_inches="tight", **kw)
        path = base.with_suffix("." + ext)
        atomic_write_bytes(path, buf.getvalue())
        paths.append(path)
    plt.close(fig)
    record = {"number": caption.number, "caption": caption.text, "profile": caption.profile,
              "settings": caption.settings, "claims": list(caption.claims), "measured": caption.measured,
              "stand_in": caption.stand_in, "seed": caption.seed}
    write_json(base.with_suffix(".json"), record)
    atomic_write_bytes(base.with_suffix(".md"), caption.markdown().encode())
    return paths + [base.with_suffix(".json"), base.with_suffix(".md")]


def data_path(outdir, number: int, name: str = "data") -> Path:
    """Where a figure keeps the arrays it drew (``figNN.<name>.npz``), for tests and redrawing."""
    return Path(outdir) / f"fig{number:02d}.{name}.npz"


def save_arrays(outdir, number: int, arrays: dict, name: str = "data") -> Path:
    """Write the arrays a figure drew to ``data_path(outdir, number, name)`` atomically; return the path."""
    import numpy as np

    path = data_path(outdir, number, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    return atomic_write_bytes(path, buf.getvalue())
