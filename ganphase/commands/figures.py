"""``ganphase figures``: draw the paper's figures, each in isolation, with a record of what happened.

Every figure module's ``make(profile, outdir)`` runs in turn; a missing module or one that raises
is recorded (status ``missing`` / ``failed`` with a one-line reason) and the others still run.
``figures.json`` in the output folder holds, per figure, the status, reason, seconds and files; a
figure already drawn ``ok`` with the same profile whose files all exist is reused unless ``--force``.
"""
from __future__ import annotations

import importlib
import time
import traceback
from pathlib import Path

from ganphase.figures import NUMBERS, PROFILES
from ganphase.io import write_json

NAME = "figures"
HELP = "draw the paper's figures (all 22, or the numbers given) into a folder, with figures.json"
RECORD = "figures.json"


def add_arguments(p):
    p.add_argument("numbers", nargs="*", metavar="N", help="figure numbers 1-22 (default: all)")
    p.add_argument("--profile", default="quick", choices=PROFILES,
                   help="quick: minutes on a laptop CPU; paper: the paper's settings (default quick)")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (run outputs in it are reused)")
    p.add_argument("--force", action="store_true", help="redraw figures already drawn")


def parse_numbers(values) -> list[int]:
    """Figure numbers from the command line; all 22 when none are given; ValueError on anything else."""
    out = []
    for v in values or ():
        try:
            n = int(str(v))
        except ValueError:
            raise ValueError(f"figure numbers are integers 1 to {NUMBERS[-1]}, got {v!r}") from None
        if n not in NUMBERS:
            raise ValueError(f"the paper has figures 1 to {NUMBERS[-1]}; there is no figure {n}")
        if n not in out:
            out.append(n)
    return out or list(NUMBERS)


def _one_line(exc: BaseException) -> str:
    return " ".join(f"{type(exc).__name__}: {exc}".split())[:500]


def _load(path: Path) -> dict:
    import json
    try:
        return {int(k): v for k, v in json.loads(path.read_text()).get("figures", {}).items()}
    except (OSError, ValueError, AttributeError):
        return {}


def _reusable(entry: dict | None, profile: str, outdir: Path) -> bool:
    return bool(entry and entry.get("status") == "ok" and entry.get("profile") == profile and entry.get("files")
                and all((outdir / f).is_file() for f in entry["files"]))


def draw_one(number: int, profile: str, outdir: Path) -> dict:
    """Run figure ``number``'s make(); never raises except KeyboardInterrupt. Returns its record."""
    start = time.perf_counter()
    entry = {"number": number, "profile": profile, "title": "", "status": "ok", "reason": "", "files": []}
    try:
        module = importlib.import_module(f"ganphase.figures.fig{number:02d}")
    except ModuleNotFoundError as exc:
        status = "missing" if exc.name == f"ganphase.figures.fig{number:02d}" else "failed"
        entry.update(status=status, reason=f"no module ganphase.figures.fig{number:02d}" if status == "missing"
                     else _one_line(exc))
    except Exception as exc:  # noqa: BLE001 - an import error in one figure must not stop the others
        entry.update(status="failed", reason=_one_line(exc), traceback=traceback.format_exc())
    else:
        entry["title"] = getattr(module, "TITLE", "")
        try:
            paths = module.make(profile, outdir)
            entry["files"] = sorted({str(Path(p).resolve().relative_to(outdir.resolve())) for p in paths})
            missing = [f for f in (f"fig{number:02d}.png", f"fig{number:02d}.pdf") if not (outdir / f).is_file()]
            if missing:
                entry.update(status="failed", reason=f"make() returned without writing {', '.join(missing)}")
        except Exception as exc:  # noqa: BLE001
            entry.update(status="failed", reason=_one_line(exc), traceback=traceback.format_exc())
    entry["seconds"] = round(time.perf_counter() - start, 3)
    return entry


def draw(numbers, profile: str, outdir, force: bool = False, progress: bool = True) -> dict:
    """Draw the figures ``numbers`` into ``outdir``; write and return the figures.json record.

    The record is rewritten after every figure, so an interrupted run keeps what it finished.
    """
    from ganphase.figures.common import check_profile
    check_profile(profile)
    outdir = Path(outdir)
    if outdir.exists() and not outdir.is_dir():
        raise ValueError(f"--out {str(outdir)!r} is a file, not a folder")
    outdir.mkdir(parents=True, exist_ok=True)
    previous = _load(outdir / RECORD)
    entries = dict(previous)
    bar = numbers
    if progress:
        from tqdm import tqdm
        bar = tqdm(numbers, desc="figures", unit="fig")
    for n in bar:
        if progress:
            bar.set_postfix_str(f"figure {n}")
        if not force and _reusable(previous.get(n), profile, outdir):
            entries[n] = {**previous[n], "reused": True}
        else:
            entries[n] = draw_one(n, profile, outdir)
        _write(outdir, entries)
    return _write(outdir, entries)


def _write(outdir: Path, entries: dict) -> dict:
    record = {"figures": {str(k): entries[k] for k in sorted(entries)},
              "seconds": round(sum(e.get("seconds", 0.0) for e in entries.values() if not e.get("reused")), 3)}
    write_json(outdir / RECORD, record)
    return record


def summary(record: dict, numbers) -> str:
    lines = []
    for n in numbers:
        e = record["figures"][str(n)]
        tag = "reused" if e.get("reused") else f"{e['seconds']:.1f} s"
        lines.append(f"figure {n:2d}  {e['status']:<7}  {tag:>9}  {e['reason'] or e['title']}")
    bad = [n for n in numbers if record["figures"][str(n)]["status"] != "ok"]
    lines.append(f"{len(numbers) - len(bad)} of {len(numbers)} figures ok"
                 + (f"; not drawn: {', '.join(map(str, bad))}" if bad else ""))
    return "\n".join(lines)


def run(args) -> int:
    numbers = parse_numbers(args.numbers)
    record = draw(numbers, args.profile, args.out, force=args.force)
    print(summary(record, numbers))
    print(f"wrote {Path(args.out) / RECORD}")
    return 0 if all(record["figures"][str(n)]["status"] == "ok" for n in numbers) else 1
