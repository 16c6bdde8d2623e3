"""Where a result came from: library versions, the git commit of the checkout, the machine.

``versions()`` is what ``ganphase reproduce`` writes into its report; ``provenance(command)`` adds the
command, the commit and the machine facts that a committed sweep carries (``ganphase sweep-export``).
"""
from __future__ import annotations

import os
import platform
import subprocess
import time
from pathlib import Path

LIBRARIES = ("numpy", "scipy", "sympy", "torch", "matplotlib")


def versions(libraries=LIBRARIES) -> dict:
    """Versions of Python, the toolkit and ``libraries`` ("not installed" where absent)."""
    import importlib.metadata as md

    import ganphase
    out = {"ganphase": ganphase.__version__, "python": platform.python_version(), "platform": platform.platform()}
    for name in libraries:
        try:
            out[name] = md.version(name)
        except md.PackageNotFoundError:
            out[name] = "not installed"
    return out


def git_commit(folder=None) -> dict:
    """{"commit": SHA or None, "dirty": whether tracked files differ from it} of the checkout holding the toolkit."""
    folder = Path(folder or Path(__file__).resolve().parent)

    def git(*args):
        return subprocess.run(["git", *args], cwd=folder, capture_output=True, text=True, timeout=20)

    try:
        head = git("rev-parse", "HEAD")
        if head.returncode:
            return {"commit": None, "dirty": None}
        dirty = git("status", "--porcelain", "--untracked-files=no").stdout.strip() != ""
        return {"commit": head.stdout.strip(), "dirty": dirty}
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}


def machine() -> dict:
    """CPU model, logical cores, memory, operating system and host name."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2 ** 30
    except (ValueError, OSError, AttributeError):
        mem = None
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gib": None if mem is None else round(mem, 1),
            "os": platform.platform(), "machine": platform.machine(), "hostname": platform.node()}


def provenance(command: str | None = None) -> dict:
    """The command, the time (UTC), the git commit, the library versions and the machine."""
    return {"command": command, "time_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), **git_commit(),
            "versions": versions(LIBRARIES + ("dask", "distributed", "scikit-learn")), "machine": machine()}
