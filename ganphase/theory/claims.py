"""The registry of derivations: one entry per formal result of the paper.

A claim holds where the paper prints a result, the formula exactly as printed,
a derivation of the same quantity from definitions (sympy) and the assumptions.
The verdict (``agrees`` / ``differs`` / ``undecided``) is computed every time
from the printed and derived formulas; it is never stored or typed in.

Theory modules register claims with the ``@REGISTRY.claim("id", ...)``
decorator on a function returning the claim's parts, the id written literally.
This layer holds derivations only: the numerical evidence lives in
``ganphase.simulate.evidence`` and ``ganphase.catalogue`` joins the two (with
the figures, tests, LaTeX labels and report) one layer up.
"""
from __future__ import annotations

import functools
import random
from dataclasses import dataclass, field
from typing import Callable, Iterator, Mapping, Sequence

import sympy as sp

VERDICTS = ("agrees", "differs", "undecided")


@dataclass(frozen=True)
class Part:
    """One formula of a claim.

    ``derived`` comes from first principles; ``printed`` is the paper's formula
    for the same quantity, transcribed exactly (``None`` when the paper prints
    no formula for this intermediate quantity).  ``domain`` draws a random
    check point (symbol -> sympy Rational) that satisfies the claim's
    assumptions; by default positive symbols are drawn from (1/10, 4] and the
    others from [-4, 4].  ``equation`` names the left-hand side for LaTeX.
    """

    name: str
    derived: sp.Basic
    printed: sp.Basic | None = None
    domain: Callable[[random.Random], dict] | None = None
    equation: str | None = None


@dataclass(frozen=True)
class PartVerdict:
    name: str
    verdict: str
    method: str
    counterexample: dict | None = None


@dataclass(frozen=True)
class Claim:
    """A formal result of the paper (see the module docstring)."""

    id: str
    source: str
    title: str
    section: str
    build: Callable[[], Sequence[Part]]
    assumptions: tuple[str, ...] = ()
    note: str = ""

    def parts(self) -> tuple[Part, ...]:
        return _cached_parts(self.build)

    def part(self, name: str) -> Part:
        for p in self.parts():
            if p.name == name:
                return p
        raise ValueError(f"claim {self.id} has no part {name!r}; it has {[p.name for p in self.parts()]}")

    def derived(self, name: str | None = None) -> sp.Basic:
        """The derived formula of part ``name`` (the first part by default)."""
        return (self.part(name) if name else self.parts()[0]).derived

    def part_verdicts(self, seed: int = 0) -> tuple[PartVerdict, ...]:
        return _cached_verdicts(self.build, seed)

    def verdict(self, seed: int = 0) -> tuple[str, dict | None]:
        """Overall verdict: ``differs`` if any part differs, ``agrees`` if all agree."""
        verdicts = self.part_verdicts(seed)
        for v in verdicts:
            if v.verdict == "differs":
                return "differs", {"part": v.name, **(v.counterexample or {})}
        if verdicts and all(v.verdict == "agrees" for v in verdicts):
            return "agrees", None
        return "undecided", None


@functools.lru_cache(maxsize=None)
def _cached_parts(build: Callable[[], Sequence[Part]]) -> tuple[Part, ...]:
    """The claim's parts: from memory, else from the disk cache (see ``_disk_key``), else derived now."""
    parts = _disk_load(build)
    if parts is None:
        parts = tuple(build())
        if not parts or not all(isinstance(p, Part) for p in parts):
            raise TypeError(f"{build.__qualname__} must return a non-empty sequence of Part")
        _disk_store(build, parts)
    return parts


@functools.lru_cache(maxsize=None)
def _cached_verdicts(build: Callable[[], Sequence[Part]], seed: int) -> tuple[PartVerdict, ...]:
    """compare() of every printed part: from memory, else from the disk cache (same key as the parts), else now."""
    path = _disk_file(build, f"verdicts-{seed}")
    found = _disk_read(path, build, PartVerdict)
    if found is not None:
        return found
    verdicts = tuple(compare(p, seed=seed) for p in _cached_parts(build) if p.printed is not None)
    if verdicts:
        _disk_write(path, build, verdicts)
    return verdicts


# --------------------------------------------------------------------------- disk cache of derivations
#
# Derivations are pickled to $GANPHASE_CACHE (default ~/.cache/ganphase; "off" disables), one file per
# build function, holding the key it was derived under.  The key hashes the build function's source,
# the source of every module of ganphase.theory (helpers and shared symbols live there) and the
# sympy, mpmath and Python versions, so an edit anywhere in the theory invalidates the entry.  A
# corrupt or stale entry is ignored and rebuilt; parts that cannot be pickled (a lambda as domain)
# are simply not cached.

def _disk_dir():
    import os
    from pathlib import Path

    value = os.environ.get("GANPHASE_CACHE")
    if value is not None and value.strip().lower() in ("", "0", "off", "none", "false"):
        return None
    return Path(value).expanduser() if value else Path.home() / ".cache" / "ganphase"


@functools.lru_cache(maxsize=None)
def _theory_source_hash() -> str:
    import hashlib
    from pathlib import Path

    digest = hashlib.sha256()
    for path in sorted(Path(__file__).resolve().parent.rglob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _disk_key(build) -> str | None:
    import hashlib
    import inspect
    import sys

    import mpmath

    try:
        source = inspect.getsource(build)
    except (OSError, TypeError):  # built at run time: no source to key on
        return None
    text = "\0".join([build.__module__, build.__qualname__, source, _theory_source_hash(),
                      sp.__version__, mpmath.__version__, sys.version])
    return hashlib.sha256(text.encode()).hexdigest()


def _disk_file(build, kind: str = "parts"):
    folder = _disk_dir()
    if folder is None or "<" in build.__qualname__:  # nested functions share qualnames: not cached
        return None
    return folder / kind / f"{build.__module__}.{build.__qualname__}.pickle"


def _disk_read(path, build, item_type) -> tuple | None:
    """The tuple stored at path if its key is the build's current key, else None."""
    import pickle

    if path is None or not path.is_file():
        return None
    try:
        entry = pickle.loads(path.read_bytes())
        items = entry["items"]
        ok = entry["key"] == _disk_key(build) and isinstance(items, tuple) and items \
            and all(isinstance(p, item_type) for p in items)
    except Exception:  # a corrupt entry is ignored and rebuilt
        return None
    return items if ok else None


def _disk_write(path, build, items: tuple) -> None:
    import pickle

    from ganphase.io import atomic_write_bytes

    key = _disk_key(build)
    if path is None or key is None:
        return
    try:
        data = pickle.dumps({"key": key, "items": items}, protocol=pickle.HIGHEST_PROTOCOL)
        if pickle.loads(data)["items"] != items:  # only entries that read back equal are worth keeping
            return
        atomic_write_bytes(path, data)
    except Exception:  # unpicklable parts, or a cache folder that cannot be written: derive every time
        return


def _disk_load(build) -> tuple[Part, ...] | None:
    return _disk_read(_disk_file(build), build, Part)


def _disk_store(build, parts: tuple[Part, ...]) -> None:
    _disk_write(_disk_file(build), build, parts)


class Registry:
    """Ordered collection of claims (derivations), looked up by id."""

    def __init__(self) -> None:
        self._claims: dict[str, Claim] = {}

    def claim(self, id: str, *, source: str, title: str, section: str,
              assumptions: Sequence[str] = (), note: str = ""):
        """Decorator registering a function that returns the claim's parts."""
        if id != id.lower() or " " in id:
            raise ValueError(f"claim ids are lower case without spaces, got {id!r}")

        def register(build: Callable[[], Sequence[Part]]):
            if id in self._claims:
                raise ValueError(f"claim {id!r} is registered twice")
            self._claims[id] = Claim(id, source, title, section, build, tuple(assumptions), note)
            return build

        return register

    def __iter__(self) -> Iterator[Claim]:
        load()
        return iter(sorted(self._claims.values(), key=_order))

    def __len__(self) -> int:
        load()
        return len(self._claims)

    def ids(self) -> list[str]:
        return [c.id for c in self]

    def __getitem__(self, id: str) -> Claim:
        load()
        try:
            return self._claims[id]
        except KeyError:
            raise ValueError(f"unknown claim id {id!r}; known ids: {', '.join(self.ids())}") from None



def _order(claim: Claim):
    """Sort by paper order: main-text sections, appendices, then background."""
    kind, _, num = claim.id.partition("-")
    rank = {"sec": 0, "thm": 0, "prop": 0, "cor": 0, "alg": 0, "app": 0, "bg": 2}.get(kind, 1)
    keys = [(0, int(t), "") if t.isdigit() else (1, 0, t) for t in num.replace("-", ".").split(".")]
    appendix = 1 if keys and keys[0][0] == 1 else 0
    return (rank, appendix, keys, claim.id)


REGISTRY = Registry()

def load() -> None:
    """Import every theory module, so that their claims register (the list is ``ganphase.theory.MODULES``)."""
    import ganphase.theory  # noqa: F401  (its __init__ imports every module of the package)


# --------------------------------------------------------------------------- comparison

N_POINTS = 12
PRECISION = 40


def default_point(symbols: Sequence[sp.Symbol], rng: random.Random) -> dict:
    """A random rational point: positive symbols in (1/10, 4], others in [-4, 4]."""
    point = {}
    for s in symbols:
        den = rng.choice([1, 2, 3, 4, 5, 7, 8, 10])
        if s.is_positive:
            point[s] = sp.Rational(rng.randint(1, 4 * den), den) if den > 1 else sp.Integer(rng.randint(1, 4))
        elif s.is_nonnegative:
            point[s] = sp.Rational(rng.randint(0, 4 * den), den)
        else:
            point[s] = sp.Rational(rng.randint(-4 * den, 4 * den), den)
    return point


def _size(point: Mapping) -> tuple:
    """Simplicity of a rational point: smaller numerators and denominators first."""
    vals = [sp.Rational(v) if v.is_Rational else sp.Rational(0) for v in point.values()]
    return (sum(abs(v.p) + v.q for v in vals), sum(abs(v) for v in vals))


def _leaves(expr) -> list:
    if isinstance(expr, sp.MatrixBase):
        return list(expr)
    if isinstance(expr, sp.core.relational.Relational):
        return [expr.lhs - expr.rhs]
    if isinstance(expr, (tuple, list)):
        return [x for e in expr for x in _leaves(e)]
    return [expr]


CHEAP_TRANSFORMS = (lambda e: e, sp.expand, sp.cancel)


def _symbolic_zero(diff: sp.Basic, transforms=CHEAP_TRANSFORMS) -> bool:
    for transform in transforms:
        try:
            if transform(diff) == 0:
                return True
        except Exception:  # sympy transforms may give up on exotic expressions
            continue
    return False


def _numeric_value(expr: sp.Basic, point: Mapping):
    value = sp.N(expr.subs(point), PRECISION)
    if value.has(sp.nan, sp.zoo, sp.oo, -sp.oo) or not value.is_number:
        return None
    value = complex(value) if not value.is_real else float(value) if abs(value) < 1e300 else None
    return value


def compare(part: Part, seed: int = 0, n_points: int = N_POINTS) -> PartVerdict:
    """Compare a part's printed formula with its derivation.

    First by cheap symbolic steps (``printed - derived`` expands or cancels to 0),
    then by exact substitution of random rational points evaluated to 40 digits;
    values that differ clearly are final, otherwise ``sympy.simplify`` may still
    prove the parts equal.  Any point
    where the two differ beyond 1e-20 relative gives ``differs`` with the
    simplest such point as counterexample; points where either side is
    undefined are skipped; if none can be evaluated the verdict is
    ``undecided``.
    """
    printed, derived = _leaves(part.printed), _leaves(part.derived)
    if len(printed) != len(derived):
        return PartVerdict(part.name, "differs", "shape",
                           {"reason": f"printed has {len(printed)} entries, derived {len(derived)}"})
    diffs = [sp.sympify(a) - sp.sympify(b) for a, b in zip(printed, derived)]
    cheap = [_symbolic_zero(d) for d in diffs]
    if all(cheap):
        return PartVerdict(part.name, "agrees", "symbolic")
    numeric = _compare_numeric(part, printed, derived, seed, n_points)
    if numeric.verdict == "differs" and _clearly_apart(numeric.counterexample):
        return numeric  # no simplification can make these equal; spare the (slow) attempt
    if all(done or _symbolic_zero(d, (sp.simplify,)) for done, d in zip(cheap, diffs)):
        return PartVerdict(part.name, "agrees", "symbolic")
    return numeric


def _clearly_apart(counterexample: dict) -> bool:
    """Printed and derived values differ by more than 1e-8 relative: far beyond 40-digit rounding."""
    a, b = (complex(v["re"], v["im"]) if isinstance(v, dict) else v
            for v in (counterexample["printed_value"], counterexample["derived_value"]))
    return abs(a - b) > 1e-8 * (abs(a) + abs(b))


def _instantiate_functions(exprs, rng: random.Random):
    """Replace undefined functions f(x, ...) by random smooth positive ones exp(a + b.x + c.x^2).

    Lets formulas stated for arbitrary densities or generators be compared at
    numbers: two formulas equal for all smooth functions agree on these.
    """
    undefined = set().union(*(sp.sympify(e).atoms(sp.core.function.AppliedUndef) for e in exprs))
    if not undefined:
        return exprs
    lam = {}
    for f in {u.func for u in undefined}:
        args = sp.symbols(f"_a0:{len(next(u for u in undefined if u.func == f).args)}")
        coeffs = [sp.Rational(rng.randint(-6, 6), 4) for _ in range(2 * len(args) + 1)]
        body = coeffs[0] + sum(c * a for c, a in zip(coeffs[1:], args)) \
            - sum(abs(c) * a**2 for c, a in zip(coeffs[1 + len(args):], args)) / 2
        lam[f] = sp.Lambda(args, sp.exp(body))
    return [sp.sympify(e).subs(lam).doit() for e in exprs]


def _compare_numeric(part, printed, derived, seed, n_points) -> PartVerdict:
    rng = random.Random(seed)
    both = _instantiate_functions(list(printed) + list(derived), rng)
    printed, derived = both[:len(printed)], both[len(printed):]
    symbols = sorted(set().union(*(sp.sympify(e).free_symbols for e in printed + derived)), key=str)
    failures, evaluated = [], 0
    for _ in range(n_points):
        point = part.domain(rng) if part.domain else default_point(symbols, rng)
        for k, (a, b) in enumerate(zip(printed, derived)):
            try:
                va, vb = _numeric_value(sp.sympify(a), point), _numeric_value(sp.sympify(b), point)
            except (TypeError, ValueError, ZeroDivisionError):
                va = vb = None
            if va is None or vb is None:
                continue
            evaluated += 1
            if abs(va - vb) > 1e-20 * (1 + abs(va) + abs(vb)):
                failures.append((point, k, va, vb))
    if failures:
        point, k, va, vb = min(failures, key=lambda f: _size(f[0]))
        return PartVerdict(part.name, "differs", "numeric", {
            "point": {str(s): str(v) for s, v in point.items()},
            "entry": k, "printed_value": _plain(va), "derived_value": _plain(vb)})
    if evaluated == 0:
        return PartVerdict(part.name, "undecided", "numeric")
    return PartVerdict(part.name, "agrees", f"numeric ({evaluated} evaluations)")


def _plain(v):
    return v if isinstance(v, float) else {"re": v.real, "im": v.imag}
