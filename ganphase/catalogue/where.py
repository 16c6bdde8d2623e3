"""Where every piece of a claim lives (``ganphase claims --where ID``).

Each piece is found from the claim id written literally in the sources, so that
``grep -rn '"thm-3.4"'`` finds the same places:

- derivation: the function registered with ``@REGISTRY.claim("ID", ...)`` in ``ganphase.theory``;
- evidence: the function attached with ``@evidence_of("ID")`` in ``ganphase.simulate.evidence``;
- tests: every place in ``tests/test_*.py`` that names the id, with the test around it, and the tests
  parametrized over every claim of the registry;
- figures: every ``ganphase/figures/figNN.py`` whose module-level ``CLAIMS`` names the id;
- LaTeX: the labels ``claim:<id>:<part>`` of ``ganphase latex`` (``ganphase.catalogue.latex.part_label``).

Paths are relative to the repository root (the folder above the ``ganphase`` package).
"""
from __future__ import annotations

import ast
import functools
import inspect
from dataclasses import asdict, dataclass
from pathlib import Path

import ganphase

ROOT = Path(ganphase.__file__).resolve().parent.parent
TESTS = ROOT / "tests"
FIGURES = Path(ganphase.__file__).resolve().parent / "figures"
EVERY_CLAIM = "every claim"  # the name a test parametrized over the whole registry is listed under


@dataclass(frozen=True)
class Link:
    """One piece of a claim: ``path:line``, the function (or figure, test, label) there, and its kind."""

    kind: str
    name: str
    path: str
    line: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}  {self.name}"


@dataclass(frozen=True)
class Links:
    """Every piece of one claim (see the module docstring)."""

    id: str
    title: str
    source: str
    derivation: Link
    evidence: Link | None
    tests: tuple[Link, ...]
    figures: tuple[Link, ...]
    latex: tuple[str, ...]

    def as_dict(self) -> dict:
        return asdict(self)

    def text(self) -> str:
        rows = [("derivation", [str(self.derivation)]),
                ("evidence", [str(self.evidence)] if self.evidence else ["none attached"]),
                ("tests", [str(t) for t in self.tests] or
                 ["none found" if TESTS.is_dir() else f"no tests/ folder at {_show(TESTS)}"]),
                ("figures", [str(f) for f in self.figures] or ["none"]),
                ("latex", [f"\\label{{{label}}}" for label in self.latex] + ["(ganphase latex --out claims.tex)"])]
        out = [f"{self.id}: {self.title} ({self.source})"]
        for head, lines in rows:
            out += [f"  {head if k == 0 else '':<11} {line}" for k, line in enumerate(lines)]
        return "\n".join(out)


def _show(path: Path) -> str:
    path = Path(path).resolve()
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def function_link(kind: str, fn, id: str) -> Link:
    """The line of ``fn``'s decorators (or its def) that names ``id``; its first line if none does."""
    fn = inspect.unwrap(fn)
    lines, start = inspect.getsourcelines(fn)
    offset = next((k for k, text in enumerate(lines) if f'"{id}"' in text or f"'{id}'" in text), 0)
    return Link(kind, fn.__qualname__, _show(inspect.getsourcefile(fn)), start + offset)


# ----------------------------------------------------------------------------- tests
@functools.lru_cache(maxsize=None)
def _test_index() -> tuple[dict, tuple[Link, ...]]:
    """({string constant: [Link]}, tests parametrized over every claim) over ``tests/test_*.py``."""
    named: dict[str, list[Link]] = {}
    every: list[Link] = []
    for path in sorted(TESTS.glob("test_*.py")) if TESTS.is_dir() else ():
        tree = ast.parse(path.read_text(), filename=str(path))
        functions = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
        registry_names = _names_bound_to_registry(tree)
        for fn in functions:
            if fn.name.startswith("test") and any(_parametrized_over(d, registry_names) for d in fn.decorator_list):
                every.append(Link("test", f"{fn.name} ({EVERY_CLAIM})", _show(path), fn.lineno))
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                around = [f for f in functions if f.lineno <= node.lineno <= f.end_lineno
                          or any(d.lineno <= node.lineno <= d.end_lineno for d in f.decorator_list)]
                name = min(around, key=lambda f: f.end_lineno - f.lineno).name if around else "(module level)"
                named.setdefault(node.value, []).append(Link("test", name, _show(path), node.lineno))
    return named, tuple(every)


def _names_bound_to_registry(tree) -> set[str]:
    """Module-level names assigned from the registry or catalogue (e.g. ``CLAIMS = list(REGISTRY)``)."""
    out = set()
    for node in tree.body:
        if isinstance(node, ast.Assign) and _mentions(node.value, {"REGISTRY", "CATALOGUE"}):
            out |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    return out


def _mentions(node, names) -> bool:
    return any(isinstance(n, ast.Name) and n.id in names for n in ast.walk(node))


def _parametrized_over(decorator, registry_names) -> bool:
    """``@pytest.mark.parametrize(..., <the registry>)``: the test runs for every claim."""
    return (isinstance(decorator, ast.Call) and isinstance(decorator.func, ast.Attribute)
            and decorator.func.attr == "parametrize" and len(decorator.args) > 1
            and _mentions(decorator.args[1], registry_names | {"REGISTRY", "CATALOGUE"}))


def tests_of(id: str) -> tuple[Link, ...]:
    """The tests that name ``id`` (one link per test and file), then those that run for every claim."""
    named, every = _test_index()
    seen, out = set(), []
    for link in named.get(id, ()):
        if (link.path, link.name) not in seen:
            seen.add((link.path, link.name))
            out.append(link)
    return tuple(out) + every


# ----------------------------------------------------------------------------- figures
def declared_claims(path: Path) -> tuple[tuple[str, int], ...] | None:
    """``(id, line)`` for each id in the module-level ``CLAIMS = (...)`` of a figure module; None without one."""
    tree = ast.parse(Path(path).read_text(), filename=str(path))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "CLAIMS" for t in node.targets):
            if not isinstance(node.value, (ast.Tuple, ast.List)) or not all(
                    isinstance(e, ast.Constant) and isinstance(e.value, str) for e in node.value.elts):
                raise ValueError(f"{_show(path)}:{node.lineno}: CLAIMS must be a tuple of literal claim ids")
            return tuple((e.value, e.lineno) for e in node.value.elts)
    return None


def figures_of(id: str) -> tuple[Link, ...]:
    out = []
    for path in sorted(FIGURES.glob("fig[0-9][0-9].py")):
        for claim_id, line in declared_claims(path) or ():
            if claim_id == id:
                out.append(Link("figure", f"figure {int(path.stem[3:])}", _show(path), line))
    return tuple(out)


# ----------------------------------------------------------------------------- all of it
def links(claim) -> Links:
    """Every piece of ``claim`` (a registered ``Claim``)."""
    from ganphase.catalogue import evidence_functions
    from ganphase.catalogue.latex import part_label

    fn = evidence_functions().get(claim.id)
    return Links(claim.id, claim.title, claim.source,
                 derivation=function_link("derivation", claim.build, claim.id),
                 evidence=function_link("evidence", fn, claim.id) if fn else None,
                 tests=tests_of(claim.id), figures=figures_of(claim.id),
                 latex=tuple(part_label(claim, p.name) for p in claim.parts()))
