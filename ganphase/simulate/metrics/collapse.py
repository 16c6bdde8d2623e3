"""The measured collapse epoch of a run, and the score that picks its best checkpoint.

The paper finds collapse by eye ("the intervals were determined post-hoc by
visually identifying the collapse point", Section 6.2; "exact collapse epochs
46, 128 and 122", Figure 19).  The toolkit measures it from the evaluation rows
of a run (``metrics.jsonl`` / ``evaluation.jsonl``: dicts with ``"epoch"`` and
``"eval"``; rows without an eval dict, or whose eval holds ``"error"``, are
skipped), in evaluation order t = 1..T:

* coverage criterion: c_t = ``modes_covered`` (mixtures) or ``classes_covered``
  (images), M_t = max_{s <= t} c_s its running maximum, K the number of modes
  (``n_modes``) or classes (``n_classes``); evaluation t is *collapsed* when the
  fitting has reached M_t >= ``fitted_fraction`` * K (default 1/2) and
  c_t < ``coverage_fraction`` * M_t (default 1/2). The first condition keeps the
  wandering of the first evaluations (2 modes, then 0, while the generator still
  moves towards the data) from counting as a collapse; where K is not recorded
  it is not applied;
* Frechet criterion (images, when ``"fd"`` is present): f_t > ``fd_ratio`` *
  min_{s <= t} f_s (default 2);
* a criterion's onset is the first t at which its condition holds at t and at
  each of the next ``patience`` - 1 evaluations (default patience 2), or at every
  evaluation from t to the last one when fewer remain;
* the collapse epoch is the epoch of the earliest onset over the criteria, or
  None when no criterion has an onset.

``checkpoint_score`` (higher is better): for mixtures (modes_covered / n_modes)
x high_quality, in [0, 1]; for images -fd, or classes_covered / n_classes when
no Frechet distance was computed.
"""
from __future__ import annotations

import math

COVERAGE_FRACTION = 0.5
FITTED_FRACTION = 0.5
FD_RATIO = 2.0
PATIENCE = 2


def _evals(metric_rows) -> list[tuple[int, dict]]:
    if not isinstance(metric_rows, (list, tuple)):
        raise ValueError(f"metric_rows must be a list of dicts with 'epoch' and 'eval', got {type(metric_rows).__name__}")
    out = []
    for r in metric_rows:
        if not isinstance(r, dict) or "epoch" not in r:
            raise ValueError(f"each metric row must be a dict with an 'epoch' key, got {r!r:.80}")
        ev = r.get("eval")
        if isinstance(ev, dict) and "error" not in ev:
            out.append((int(r["epoch"]), ev))
    return sorted(out, key=lambda t: t[0])


def _number(ev, key):
    v = ev.get(key)
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) else None


def _onset(flags: list[bool], patience: int) -> int | None:
    for t in range(len(flags)):
        window = flags[t:t + patience]
        if window and all(window):
            return t
    return None


def criterion_onsets(metric_rows, coverage_fraction: float = COVERAGE_FRACTION, fd_ratio: float | None = FD_RATIO,
                     patience: int = PATIENCE) -> dict:
    """{"coverage": epoch | None, "fd": epoch | None}: the onset epoch of each criterion (module docstring)."""
    if not (0 < coverage_fraction <= 1):
        raise ValueError(f"coverage_fraction must be in (0, 1], got {coverage_fraction!r}")
    if fd_ratio is not None and not fd_ratio > 1:
        raise ValueError(f"fd_ratio must be > 1 or None, got {fd_ratio!r}")
    if not (isinstance(patience, int) and patience >= 1):
        raise ValueError(f"patience must be a positive integer, got {patience!r}")
    evals = _evals(metric_rows)
    out = {"coverage": None, "fd": None}
    key = "modes_covered" if any("modes_covered" in ev for _, ev in evals) else "classes_covered"
    total = next((k for _, ev in evals if (k := _number(ev, "n_modes" if key == "modes_covered" else "n_classes"))),
                 None)
    fitted = FITTED_FRACTION * total if total else -math.inf
    series = [(e, _number(ev, key)) for e, ev in evals]
    series = [(e, v) for e, v in series if v is not None]
    flags, best = [], -math.inf
    for _, c in series:
        best = max(best, c)
        flags.append(best >= fitted and c < coverage_fraction * best)
    t = _onset(flags, patience)
    out["coverage"] = None if t is None else series[t][0]
    if fd_ratio is not None:
        series = [(e, _number(ev, "fd")) for e, ev in evals]
        series = [(e, v) for e, v in series if v is not None]
        flags, low = [], math.inf
        for _, f in series:
            low = min(low, f)
            flags.append(f > fd_ratio * low)
        t = _onset(flags, patience)
        out["fd"] = None if t is None else series[t][0]
    return out


def collapse_epoch(metric_rows, coverage_fraction: float = COVERAGE_FRACTION, fd_ratio: float | None = FD_RATIO,
                   patience: int = PATIENCE) -> int | None:
    """The first epoch of persistent collapse (earliest criterion onset; module docstring), or None."""
    onsets = [e for e in criterion_onsets(metric_rows, coverage_fraction, fd_ratio, patience).values()
              if e is not None]
    return min(onsets) if onsets else None


def checkpoint_score(eval_dict: dict) -> float:
    """Higher is better: (modes_covered / n_modes) * high_quality for mixtures, -fd for images."""
    if not isinstance(eval_dict, dict) or "error" in eval_dict:
        raise ValueError("checkpoint_score needs an evaluation dict without an 'error' entry")
    covered, n_modes, quality = (_number(eval_dict, k) for k in ("modes_covered", "n_modes", "high_quality"))
    if covered is not None and n_modes and quality is not None:
        return covered / n_modes * quality
    fd = _number(eval_dict, "fd")
    if fd is not None:
        return -fd
    covered, n_classes = _number(eval_dict, "classes_covered"), _number(eval_dict, "n_classes")
    if covered is not None and n_classes:
        return covered / n_classes
    raise ValueError("the evaluation dict has none of modes_covered/n_modes/high_quality, fd, "
                     "classes_covered/n_classes, so it cannot be scored")
