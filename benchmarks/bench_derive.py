"""Time deriving every claim of the registry: cold (fresh process, no cache) and warm (fresh process, disk cache).

Each measurement runs in its own Python process, so sympy's in-process caches
start empty every time.  Cold runs with ``GANPHASE_CACHE=off``; the warm run
uses a cache folder that a first, untimed process filled.  Printed: a table of
seconds per claim (cold = median of ``--repeat`` runs), the totals, the
warm/cold ratio, and which claims the disk cache cannot hold.

    python benchmarks/bench_derive.py [--repeat 3] [--json out.json]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
from ganphase.theory.claims import REGISTRY, _disk_file
claims = list(REGISTRY)
t_import = time.perf_counter() - t0
rows = []
for c in claims:
    t = time.perf_counter()
    parts = c.parts()
    dt = time.perf_counter() - t
    entry = _disk_file(c.build)
    rows.append({"id": c.id, "seconds": dt, "parts": len(parts),
                 "cached": bool(entry is not None and entry.is_file())})
print(json.dumps({"import_seconds": t_import, "total_seconds": time.perf_counter() - t0, "rows": rows}))
"""


def run_child(cache: str) -> dict:
    """Derive the whole registry in a fresh interpreter with GANPHASE_CACHE=cache."""
    env = dict(os.environ, GANPHASE_CACHE=cache)
    out = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="cold and warm runs each (median is reported)")
    parser.add_argument("--json", metavar="FILE", help="also write the measurements to FILE")
    parser.add_argument("--budget", type=float, default=30.0, help="seconds the cold derivation should stay under")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")

    cold = [run_child("off") for _ in range(args.repeat)]
    with tempfile.TemporaryDirectory(prefix="ganphase-bench-") as cache:
        filled = run_child(cache)  # fills the cache; its timings are another cold run, not reported
        warm = [run_child(cache) for _ in range(args.repeat)]

    ids = [r["id"] for r in cold[0]["rows"]]
    per = {i: {"cold": statistics.median(run["rows"][k]["seconds"] for run in cold),
               "warm": statistics.median(run["rows"][k]["seconds"] for run in warm),
               "cached": filled["rows"][k]["cached"] and warm[0]["rows"][k]["cached"]}
           for k, i in enumerate(ids)}
    cold_total = statistics.median(r["total_seconds"] for r in cold)
    warm_total = statistics.median(r["total_seconds"] for r in warm)
    cold_derive = sum(v["cold"] for v in per.values())
    warm_derive = sum(v["warm"] for v in per.values())

    width = max(len("claim"), *(len(i) for i in ids))
    print(f"{'claim':<{width}}  {'cold s':>8}  {'warm s':>8}  {'warm/cold':>9}  cached")
    for i in sorted(ids, key=lambda i: -per[i]["cold"]):
        v = per[i]
        ratio = v["warm"] / v["cold"] if v["cold"] > 0 else float("nan")
        print(f"{i:<{width}}  {v['cold']:8.2f}  {v['warm']:8.2f}  {ratio:9.3f}  {'yes' if v['cached'] else 'NO'}")
    print(f"{'derivation':<{width}}  {cold_derive:8.2f}  {warm_derive:8.2f}  {warm_derive / cold_derive:9.3f}")
    print(f"{'process':<{width}}  {cold_total:8.2f}  {warm_total:8.2f}  {warm_total / cold_total:9.3f}"
          "  (import + registry load + derivation)")
    print(f"\n{len(ids)} claims, median of {args.repeat} fresh processes each, {os.cpu_count()} CPUs. "
          f"Cold derivation {cold_derive:.1f} s is {'within' if cold_derive <= args.budget else 'OVER'} "
          f"the {args.budget:.0f} s budget; warm/cold = {warm_derive / cold_derive:.3f}.")
    not_cached = [i for i in ids if not per[i]["cached"]]
    if not_cached:
        print("Not held by the disk cache (a part does not pickle, e.g. a lambda as domain): "
              + ", ".join(not_cached))
    if args.json:
        from ganphase.io import write_json

        write_json(args.json, {"when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "repeat": args.repeat,
                       "cold_derivation_s": cold_derive, "warm_derivation_s": warm_derive,
                       "cold_process_s": cold_total, "warm_process_s": warm_total, "per_claim": per})
    return 0


if __name__ == "__main__":
    sys.exit(main())
