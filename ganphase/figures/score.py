"""The figure of ``ganphase score``: each stopping rule's returned checkpoint against the oracle, per setting.

One panel per setting; a bar per rule for the mean modes covered by its returned checkpoint relative
to the best evaluation in hindsight (``modes_rel``, 1 = the oracle ``best-modes``), with its 95 %
bootstrap interval, and a marker for the share of collapsed runs it stopped before collapse.
"""
from __future__ import annotations

import io
import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from ganphase.io import atomic_write_bytes  # noqa: E402


def _est(s, key):
    e = s.get(key) or {}
    return e.get("value", math.nan), e.get("low", math.nan), e.get("high", math.nan)


def plot_score(summary: list[dict], path) -> None:
    """Write the figure (PNG) for :func:`ganphase.simulate.scoring.summarise` output."""
    settings = list(dict.fromkeys(s["setting"] for s in summary))
    if not settings:
        raise ValueError("nothing to draw: the score holds no setting")
    fig, axes = plt.subplots(len(settings), 1, figsize=(8, 2.6 * len(settings) + 0.6), squeeze=False)
    for ax, setting in zip(axes[:, 0], settings):
        rows = [s for s in summary if s["setting"] == setting and s["available"]]
        names = [s["rule"] for s in rows]
        y = range(len(rows))
        for i, s in enumerate(rows):
            v, lo, hi = _est(s, "modes_rel")
            color = "0.6" if s["rule"] in ("best-fd", "best-modes", "last") else "tab:blue"
            if math.isfinite(v):
                err = [[v - lo], [hi - v]] if math.isfinite(lo) else None
                ax.barh(i, v, color=color, xerr=err, capsize=2)
            share = _est(s, "before_collapse")[0]
            if math.isfinite(share):
                ax.plot(share, i, "kD", ms=4, label="stopped before collapse (share)" if i == 0 else None)
        ax.axvline(1.0, color="k", lw=0.8, ls="--")
        ax.set_yticks(list(y), names, fontsize=7)
        ax.set_xlim(0, 1.15)
        ax.invert_yaxis()
        n = rows[0]["runs"] if rows else 0
        ax.set_title(f"{setting}: modes covered by the returned checkpoint / best in hindsight ({n} runs)",
                     fontsize=8)
    axes[-1, 0].set_xlabel("bars: modes / best (95 % bootstrap interval); diamonds: share stopped before collapse")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    if handles:
        axes[0, 0].legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=120)
    plt.close(fig)
    atomic_write_bytes(path, buf.getvalue())
