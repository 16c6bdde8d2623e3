"""Files written atomically: a crash never leaves a half-written checkpoint or summary.

Writes go to a temporary file in the same folder, are flushed and fsynced,
then replace the target with ``os.replace``.
"""
from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path


def atomic_write_bytes(path, data: bytes) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def _finite(obj):
    """JSON has no NaN/inf: write them as null so files stay valid JSON."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    return obj


def write_json(path, obj) -> Path:
    """Write ``obj`` as indented JSON, atomically."""
    return atomic_write_bytes(path, (json.dumps(_finite(obj), indent=2, default=_default) + "\n").encode())


def read_jsonl(path) -> list[dict]:
    """Read a JSON-lines file; a torn last line (from a kill mid-write) is ignored."""
    path = Path(path)
    if not path.exists():
        return []
    rows = []
    for line in path.read_text().splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            break
    return rows


def write_jsonl(path, rows) -> Path:
    """Rewrite a whole JSON-lines file atomically (used when resuming truncates it)."""
    text = "".join(json.dumps(_finite(r), default=_default) + "\n" for r in rows)
    return atomic_write_bytes(path, text.encode())


def append_jsonl(path, row: dict) -> None:
    """Append one line and fsync it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as f:
        f.write(json.dumps(_finite(row), default=_default) + "\n")
        f.flush()
        os.fsync(f.fileno())


def _default(obj):
    try:
        import numpy as np
        if isinstance(obj, np.generic):
            return obj.item()
        if isinstance(obj, np.ndarray):
            return obj.tolist()
    except ImportError:  # pragma: no cover
        pass
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"cannot write {type(obj).__name__} as JSON")
