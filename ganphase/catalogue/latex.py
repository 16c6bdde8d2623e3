"""LaTeX export of the claims registry, and the way back from LaTeX to sympy.

``document()`` writes every derived formula of every claim into a standalone
LaTeX article (amsmath), grouped by the claim's section, each formula labelled
``claim:<id>:<part>`` and tagged with the claim id.  Printed formulas are shown
next to their derivation when the two print differently, with the verdict of
``ganphase.theory.claims.compare`` computed at export time.

Formulas are printed by ``FormulaPrinter`` in a LaTeX dialect that reads like
the paper and parses back: ``parse_formula(tex, like)`` rewrites the few
constructs sympy's LaTeX parser (antlr backend) lacks -- derivatives, ``Subs``,
``|x|``, integrals, sums, cases, matrices, ``\\operatorname{erf}`` and
``\\mathrm{...}`` names -- into function-call form, parses with
``sympy.parsing.latex.parse_latex`` and maps the result back to sympy
(symbol and function names are matched with those of ``like``, which carries
their assumptions).
"""
from __future__ import annotations

import functools
import re
from pathlib import Path

import sympy as sp
from sympy.core.function import AppliedUndef
from sympy.printing.conventions import requires_partial, split_super_sub
from sympy.printing.latex import LatexPrinter

__all__ = ["FormulaPrinter", "formula", "parse_formula", "part_label", "document", "export"]

_GREEK = set("alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa lambda mu nu xi "
             "pi varpi rho varrho sigma varsigma tau upsilon phi varphi chi psi omega "
             "Gamma Delta Theta Lambda Xi Pi Sigma Upsilon Phi Psi Omega".split())
# functions the antlr grammar knows by their LaTeX command
_NATIVE = {"sin": "sin", "cos": "cos", "tan": "tan", "cot": "cot", "sec": "sec", "csc": "csc",
           "sinh": "sinh", "cosh": "cosh", "tanh": "tanh", "asin": "arcsin", "acos": "arccos",
           "atan": "arctan", "log": "log"}
_HEADS = {"gamma": r"\Gamma", "Max": r"\max", "Min": r"\min"}
_SEP = "\x00"  # placeholder multiplication sign, resolved in FormulaPrinter.doprint


_GREEK_CHARS = dict(zip("αβγδεζηθικλμνξπρστυφχψωΓΔΘΛΞΠΣΦΨΩ",
                        "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi pi rho sigma "
                        "tau upsilon phi chi psi omega Gamma Delta Theta Lambda Xi Pi Sigma Phi Psi Omega".split()))
_NAME_SAFE = re.compile(r"[A-Za-z0-9 .,:;*'+!?()/-]")


def _word(w: str) -> str:
    """LaTeX for one piece of a symbol name: digits, a letter, a Greek letter or upright text."""
    w = _GREEK_CHARS.get(w, w)
    if (w.isdigit() or len(w) == 1) and w.isascii() and w.isalnum():
        return w
    if w in _GREEK or w == "lamda":
        return "\\" + ("lambda" if w == "lamda" else w)
    if w == "star":
        return r"\star"
    # characters TeX or pdflatex would choke on are spelled by their code point
    return r"\mathrm{%s}" % "".join(c if _NAME_SAFE.fullmatch(c) else "u%04x" % ord(c) for c in w)


def _name_tex(name: str) -> str:
    """``x_ip1`` -> ``x_{\\mathrm{ip1}}``, ``rho0`` -> ``\\rho_{0}``, ``k_star`` -> ``k_{\\star}``."""
    base, sups, subs = split_super_sub(name)
    tex = _word(base) if base else "{}"
    if subs:
        tex += "_{%s}" % " ".join(_word(s) for s in subs)
    if sups:
        tex += "^{%s}" % " ".join(_word(s) for s in sups)
    return tex


class FormulaPrinter(LatexPrinter):
    """A LaTeX printer whose output both reads like the paper and parses back (see ``parse_formula``).

    Differences from sympy's printer: a product prints ``\\cdot`` before a
    factor that opens with a parenthesis or a digit (so ``k (a+b)`` is never
    read as a function call); every function prints as ``name\\left(args\\right)``
    (``\\operatorname{erf}``, ``\\max``, undefined ``p_{\\mathrm{data}}(x)``);
    derivatives as ``\\frac{d}{d {x}} \\left(...\\right)``; ``Subs`` as
    ``\\left. ... \\right|_{x = a}``; integrals, sums and products with the
    body in parentheses; ``Piecewise`` as ``cases``; matrices as ``pmatrix``.
    """

    def __init__(self, settings=None):
        super().__init__({"mul_symbol": _SEP, "fold_short_frac": False, **(settings or {})})

    def doprint(self, expr) -> str:
        tex = super().doprint(expr)
        tex = re.sub(_SEP + r"(?=\s*(\\left\(|\(|[0-9]|-|\\frac\{[0-9]))", r" \\cdot ", tex)
        return tex.replace(_SEP, " ")

    def _print(self, expr, **kwargs):
        if isinstance(expr, sp.MatrixBase):
            return self._matrix(expr)
        if isinstance(expr, sp.Piecewise):
            return self._piecewise(expr)
        if isinstance(expr, sp.Abs):
            return self._abs(expr, **kwargs)
        if isinstance(expr, (sp.Max, sp.Min)) or (isinstance(expr, sp.Function) and not isinstance(expr, sp.exp)):
            return self._function(expr, **kwargs)
        return super()._print(expr, **kwargs)

    def _print_Symbol(self, expr, style="plain"):
        return _name_tex(expr.name)

    _print_Dummy = _print_Symbol

    def _arg(self, a) -> str:
        tex = self._print(a)
        return "{%s}" % tex if tex[:1].isdigit() else tex  # "f(1, 234)" must not read as f(1,234)

    def _function(self, expr, exp=None) -> str:
        name = expr.func.__name__
        if isinstance(expr, AppliedUndef):
            head = _name_tex(name)
        elif name in _NATIVE:
            head = "\\" + _NATIVE[name]
        else:
            head = _HEADS.get(name, r"\operatorname{%s}" % name)
        tex = r"%s\left(%s\right)" % (head, ", ".join(self._arg(a) for a in expr.args))
        return tex if exp is None else "%s^{%s}" % (tex, exp)

    def _abs(self, expr, exp=None) -> str:
        tex = r"\left|%s\right|" % self._print(expr.args[0])
        return tex if exp is None else "%s^{%s}" % (tex, exp)

    def _print_Pow(self, expr):
        if isinstance(expr.base, (sp.Derivative, sp.Subs, sp.Integral, sp.Sum, sp.Product, sp.Piecewise)):
            return r"\left(%s\right)^{%s}" % (self._print(expr.base), self._print(expr.exp))
        return super()._print_Pow(expr)

    def _print_Derivative(self, expr):
        counts = list(expr.variable_count)
        d = r"\partial" if requires_partial(expr) or len(counts) > 1 else "d"
        total = sum(int(n) for _, n in counts)
        top = d if total == 1 else "%s^{%d}" % (d, total)
        bottom = " ".join("%s {%s}" % (d, self._print(v)) + ("" if n == 1 else "^{%d}" % int(n)) for v, n in counts)
        return r"\frac{%s}{%s} \left(%s\right)" % (top, bottom, self._print(expr.expr))

    def _print_Tuple(self, expr):
        return r"\left(%s\right)" % ", ".join(self._print(a) for a in expr.args)

    def _print_Subs(self, expr):
        body, old, new = expr.args
        pairs = ["%s = %s" % (self._print(o), self._print(n)) for o, n in zip(old, new)]
        at = pairs[0] if len(pairs) == 1 else r"\substack{%s}" % r" \\ ".join(pairs)
        return r"\left. %s \right|_{%s}" % (self._print(body), at)

    def _print_Integral(self, expr):
        tex = self._print(expr.function)
        for lim in expr.limits:
            if len(lim) == 3:
                head = r"\int_{%s}^{%s}" % (self._print(lim[1]), self._print(lim[2]))
            elif len(lim) == 1:
                head = r"\int"
            else:
                return super()._print_Integral(expr)  # (x, b) limits: not in the parseable dialect
            tex = r"%s \left(%s\right) \, d {%s}" % (head, tex, self._print(lim[0]))
        return tex

    def _sum_or_product(self, expr, command):
        tex = self._print(expr.function)
        for var, lo, hi in expr.limits:
            tex = r"%s_{%s = %s}^{%s} \left(%s\right)" % (command, self._print(var), self._print(lo),
                                                         self._print(hi), tex)
        return tex

    def _print_Sum(self, expr):
        return self._sum_or_product(expr, r"\sum")

    def _print_Product(self, expr):
        return self._sum_or_product(expr, r"\prod")

    def _piecewise(self, expr):
        rows = []
        for e, c in expr.args:
            cond = r"\text{otherwise}" if c == sp.true else r"\text{if } %s" % self._print(c)
            rows.append("%s & %s" % (self._print(e), cond))
        return r"\begin{cases} %s \end{cases}" % r" \\ ".join(rows)

    def _matrix(self, m):
        rows = [" & ".join(self._print(m[i, j]) for j in range(m.cols)) for i in range(m.rows)]
        return r"\begin{pmatrix} %s \end{pmatrix}" % r" \\ ".join(rows)


def formula(expr) -> str:
    """LaTeX of ``expr`` in the readable, parseable dialect of ``FormulaPrinter``."""
    if not isinstance(expr, (sp.Basic, sp.MatrixBase)):
        raise ValueError(f"formula needs a sympy expression or matrix, got {type(expr).__name__}")
    return FormulaPrinter().doprint(expr)


# --------------------------------------------------------------------------- parsing back

_TEXT = re.compile(r"zqw([a-p]+)z")
_CMD = re.compile(r"\\([a-zA-Z]+)")


def _encode(text: str) -> str:
    """A LaTeX command name (letters only) that stands for ``text`` while antlr parses."""
    return "\\zqw" + "".join("abcdefghijklmnop"[b >> 4] + "abcdefghijklmnop"[b & 15]
                              for b in text.encode()) + "z "


def _decode(name: str) -> str:
    def one(m):
        h = m.group(1)
        return bytes(("abcdefghijklmnop".index(h[i]) << 4) | "abcdefghijklmnop".index(h[i + 1])
                     for i in range(0, len(h), 2)).decode()
    return _TEXT.sub(one, name)


def _ws(s: str, i: int) -> int:
    while i < len(s) and s[i].isspace():
        i += 1
    return i


def _brace(s: str, i: int) -> tuple[str, int]:
    """The content of the brace group opening at s[i], and the index after it."""
    if i >= len(s) or s[i] != "{":
        raise ValueError(f"expected '{{' at position {i} of {s[:80]!r}")
    depth, j = 0, i
    while j < len(s):
        if s[j] == "\\":
            j += 2
            continue
        depth += {"{": 1, "}": -1}.get(s[j], 0)
        if depth == 0:
            return s[i + 1:j], j + 1
        j += 1
    raise ValueError(f"unbalanced braces in {s[:80]!r}")


_LR = re.compile(r"\\(left|right)(?![a-zA-Z])")


def _left_right(s: str, i: int) -> tuple[str, str, int]:
    """For ``\\left<d> ... \\right<e>`` starting at s[i]: the content, the closing delimiter, the index after it."""
    m = _LR.match(s, i)
    if not m or m.group(1) != "left":
        raise ValueError(f"expected \\left at position {i} of {s[:80]!r}")
    start, depth, pos = m.end() + 1, 0, i
    for m in _LR.finditer(s, i):
        depth += 1 if m.group(1) == "left" else -1
        if depth == 0:
            return s[start:m.start()], s[m.end()], m.end() + 1
    raise ValueError(f"unbalanced \\left/\\right in {s[:80]!r}")


def _split_top(s: str, sep: str) -> list[str]:
    """Split at ``sep`` outside braces, \\left...\\right and \\begin...\\end."""
    parts, depth, last, i = [], 0, 0, 0
    while i < len(s):
        if s.startswith(sep, i) and depth == 0:
            parts.append(s[last:i])
            i = last = i + len(sep)
            continue
        m = _CMD.match(s, i)
        if m:
            depth += {"left": 1, "begin": 1, "right": -1, "end": -1}.get(m.group(1), 0)
            i = m.end()
            continue
        if s[i] == "\\":
            i += 2
            continue
        depth += {"{": 1, "}": -1}.get(s[i], 0)
        i += 1
    return parts + [s[last:]]


def _call(name: str, args) -> str:
    return r"\%s\left(%s\right)" % (name, ", ".join("{%s}" % a for a in args))


_DERIV_TOP = re.compile(r"^\s*(d|\\partial)\s*(\^\{\s*(\d+)\s*\})?\s*$")
_RELATIONS = [(r"\leq", "zqle"), (r"\geq", "zqge"), (r"\neq", "zqne"), ("<", "zqlt"), (">", "zqgt"), ("=", "zqeq")]


def _condition(s: str) -> str:
    """A Piecewise condition (relations joined by \\wedge, \\vee, \\neg) in function-call form."""
    s = s.strip()
    for op, name in ((r"\vee", "zqor"), (r"\wedge", "zqand")):
        parts = _split_top(s, op)
        if len(parts) > 1:
            return _call(name, [_condition(p) for p in parts])
    if s.startswith(r"\neg"):
        return _call("zqnot", [_condition(s[4:])])
    if s.startswith(r"\left(") and _left_right(s, 0)[2] == len(s):
        return _condition(_left_right(s, 0)[0])
    if s in (r"\text{True}", "True"):
        return _call("zqtrue", ["1"])
    for op, name in _RELATIONS:
        parts = _split_top(s, op)
        if len(parts) == 2:
            return _call(name, [_rewrite(p) for p in parts])
    raise ValueError(f"cannot read the condition {s!r}")


def _read_fraction(s: str, i: int):
    r"""``\frac{d^n}{d {x}^n} \left(body\right)`` -> a derivative call; any other fraction -> parts parsed apart."""
    j = _ws(s, i + len(r"\frac"))
    if not s.startswith("{", j):
        return None
    top, j = _brace(s, j)
    bottom, j = _brace(s, _ws(s, j))
    if not _DERIV_TOP.match(top):
        return r"\frac{%s}{%s}" % (_piece(top), _piece(bottom)), j
    body, _, j = _left_right(s, _ws(s, j))
    args, k = [_rewrite(body)], 0
    while (k := _ws(bottom, k)) < len(bottom):  # "d {x}^{2} d {y}" or with \partial
        k = _ws(bottom, k + (1 if bottom[k] == "d" else len(r"\partial")))
        var, k = _brace(bottom, k)
        order, after = "1", _ws(bottom, k)
        if bottom.startswith("^", after):
            order, k = _brace(bottom, _ws(bottom, after + 1))
        args += [_rewrite(var), order]
    return _call("zqderiv", args), j


def _read_subs(s: str, i: int):
    r"""``\left. body \right|_{x = a}`` (or ``_{\substack{x = a \\ y = b}}``) -> a Subs call."""
    body, _, j = _left_right(s, i)
    j = _ws(s, j)
    if not s.startswith("_", j):
        raise ValueError(r"\left. ... \right| needs a subscript naming the substitution")
    at, j = _brace(s, _ws(s, j + 1))
    at = at.strip()
    if at.startswith(r"\substack"):
        at = _brace(at, _ws(at, len(r"\substack")))[0]
    args = [_rewrite(body)]
    for pair in _split_top(at, r"\\"):
        old, new = _split_top(pair, "=")
        args += [_rewrite(old), _rewrite(new)]
    return _call("zqsubs", args), j


def _read_abs(s: str, i: int):
    body, _, j = _left_right(s, i)
    return _call("zqabs", [_rewrite(body)]), j


def _read_integral(s: str, i: int):
    r"""``\int_{a}^{b} \left(body\right) \, d {x}`` (limits optional) -> an Integral call."""
    j, limits = _ws(s, i + len(r"\int")), []
    if s.startswith("_", j):
        lo, j = _brace(s, _ws(s, j + 1))
        hi, j = _brace(s, _ws(s, _ws(s, j) + 1))
        limits = [_rewrite(lo), _rewrite(hi)]
    body, _, j = _left_right(s, _ws(s, j))
    j = _ws(s, j)
    j = _ws(s, j + 2) if s.startswith(r"\,", j) else j
    if not s.startswith("d", j):
        raise ValueError(r"an integral needs '\, d {x}' after its body")
    var, j = _brace(s, _ws(s, j + 1))
    return _call("zqintegral", [_rewrite(body), _rewrite(var)] + limits), j


def _read_sum(s: str, i: int):
    r"""``\sum_{i = a}^{b} \left(body\right)`` or ``\prod`` -> a Sum or Product call."""
    name = "zqsum" if s.startswith(r"\sum", i) else "zqprod"
    j = _ws(s, i + len(r"\sum" if name == "zqsum" else r"\prod"))
    if not s.startswith("_", j):
        raise ValueError(r"a sum or product needs _{i = a}^{b}")
    eq, j = _brace(s, _ws(s, j + 1))
    hi, j = _brace(s, _ws(s, _ws(s, j) + 1))
    var, lo = _split_top(eq, "=")
    body, _, j = _left_right(s, _ws(s, j))
    return _call(name, [_rewrite(body), _rewrite(var), _rewrite(lo), _rewrite(hi)]), j


def _read_cases(s: str, i: int):
    r"""``\begin{cases} e & \text{if } c \\ ... & \text{otherwise} \end{cases}`` -> a Piecewise call."""
    end = _find_end(s, i, "cases")
    args = []
    for row in _split_top(s[i + len(r"\begin{cases}"):end], r"\\"):
        value, cond = _split_top(row, "&")
        cond = cond.strip()
        if cond.startswith(r"\text{otherwise}"):
            cond = "True"
        elif cond.startswith(r"\text{if }"):
            cond = cond[len(r"\text{if }"):]
        args += [_rewrite(value), _condition(cond)]
    return _call("zqpiecewise", args), end + len(r"\end{cases}")


def _read_name(s: str, i: int):
    """``\\mathrm{text}`` or ``\\operatorname{text}`` -> a letters-only command standing for the text."""
    text, j = _brace(s, s.index("{", i))
    return _encode(text.strip()), j


_READERS = [(re.compile(r"\\frac(?![a-zA-Z])"), _read_fraction), (re.compile(r"\\left\."), _read_subs),
            (re.compile(r"\\left\|"), _read_abs), (re.compile(r"\\int(?![a-zA-Z])"), _read_integral),
            (re.compile(r"\\(sum|prod)(?![a-zA-Z])"), _read_sum), (re.compile(r"\\begin\{cases\}"), _read_cases),
            (re.compile(r"\\(mathrm|operatorname)\{"), _read_name)]


def _rewrite(s: str) -> str:
    """Rewrite the dialect's constructs into function calls that the antlr grammar parses."""
    out, i = [], 0
    while i < len(s):
        done = next((r for pattern, reader in _READERS if pattern.match(s, i) and (r := reader(s, i))), None)
        if done:
            text, i = done
            out.append(text)
        elif s[i] == "\\":  # any other command is copied whole
            m = _CMD.match(s, i)
            j = m.end() if m else i + 2
            out.append(s[i:j])
            i = j
        elif s[i] == "d":  # a symbol or function named d; antlr would read "d x" as a differential
            out.append(_encode("d"))
            i += 1
        else:
            out.append(s[i])
            i += 1
    return "".join(out)


_PIECES: dict[str, sp.Basic] = {}


def _piece(tex: str) -> str:
    """Parse a fraction's numerator or denominator on its own and stand in for it with a placeholder.

    antlr's prediction time grows fast with the length of the text; a fraction's
    parts are complete expressions, so parsing them apart gives the same tree
    at a fraction of the cost, and repeated parts are parsed once.
    """
    import hashlib

    raw = _antlr(tex.strip())
    digest = hashlib.sha1(tex.strip().encode()).digest()[:12]
    name = "zqp" + "".join("abcdefghijklmnop"[b >> 4] + "abcdefghijklmnop"[b & 15] for b in digest) + "z"
    _PIECES[name] = raw
    return "\\%s " % name


def _find_end(s: str, i: int, env: str) -> int:
    depth = 0
    for m in re.finditer(r"\\(begin|end)\{%s\}" % env, s[i:]):
        depth += 1 if m.group(1) == "begin" else -1
        if depth == 0:
            return i + m.start()
    raise ValueError(f"unbalanced \\begin{{{env}}}")


@functools.lru_cache(maxsize=4096)
def _antlr(tex: str) -> sp.Basic:
    """sympy's antlr LaTeX parser on the rewritten text (fast SLL prediction first, full LL if that fails)."""
    from sympy.parsing.latex import parse_latex

    # \left and \right are skipped tokens; dropping them lets strict mode see a formula's first and last token
    text = _LR.sub("", _rewrite(tex)).strip()
    try:
        return _antlr_sll(text)
    except Exception:  # SLL gives up on some inputs; LL then decides (and raises on a real syntax error)
        return parse_latex(text, strict=True, backend="antlr")


def _antlr_sll(text: str) -> sp.Basic:
    """The same grammar and conversion as ``parse_latex(..., strict=True)``, with SLL prediction.

    ANTLR guarantees that an SLL parse that succeeds gives the tree LL gives;
    it is several times faster once its prediction cache is warm.
    """
    import antlr4
    from antlr4.atn.PredictionMode import PredictionMode
    from sympy.parsing.latex._antlr.latexlexer import LaTeXLexer
    from sympy.parsing.latex._antlr.latexparser import LaTeXParser
    from sympy.parsing.latex._parse_latex_antlr import MathErrorListener, convert_relation

    lexer = LaTeXLexer(antlr4.InputStream(text))
    lexer.removeErrorListeners()
    lexer.addErrorListener(MathErrorListener(text))
    parser = LaTeXParser(antlr4.CommonTokenStream(lexer))
    parser.removeErrorListeners()
    parser.addErrorListener(MathErrorListener(text))
    parser._interp.predictionMode = PredictionMode.SLL
    relation = parser.math().relation()
    if relation.start.start != 0 or relation.stop.stop != len(text) - 1:
        raise ValueError("the parse does not cover the whole formula")
    return convert_relation(relation)


_CONSTANTS = {"e": sp.E, "pi": sp.pi, "i": sp.I}
_RELATION_CLASSES = {"zqlt": sp.Lt, "zqle": sp.Le, "zqgt": sp.Gt, "zqge": sp.Ge, "zqeq": sp.Eq, "zqne": sp.Ne}


class _Names:
    """How each symbol and undefined function of a reference expression reads back after parsing."""

    def __init__(self, like):
        like = sp.Matrix(like) if isinstance(like, sp.MatrixBase) else sp.sympify(like)
        self.symbols: dict[str, sp.Symbol] = {}
        self.functions: dict[str, type] = {}
        for s in sorted(like.atoms(sp.Symbol), key=sp.default_sort_key):
            parsed = _antlr(formula(s))
            if not isinstance(parsed, sp.Symbol):
                raise ValueError(f"the symbol {s.name!r} prints as {formula(s)!r}, which does not read back "
                                 "as one symbol")
            self._add(self.symbols, _decode(parsed.name), s)
        for f in sorted({a.func for a in like.atoms(AppliedUndef)}, key=str):
            parsed = _antlr(formula(f(sp.Symbol("x"))))
            self._add(self.functions, _decode(parsed.func.__name__), f)
        for f in sorted({a.func for a in like.atoms(sp.Function) if not isinstance(a, AppliedUndef)}, key=str):
            if getattr(sp, f.__name__, None) is not f:  # a Function subclass defined outside sympy
                self._add(self.functions, f.__name__, f)
        for key, constant in _CONSTANTS.items():
            if key in self.symbols and like.has(constant):
                raise ValueError(f"the symbol {self.symbols[key]} and the constant {constant} print alike")

    @staticmethod
    def _add(table, key, value):
        if key in table and table[key] != value:
            raise ValueError(f"{table[key]!r} and {value!r} print alike ({key!r}), so LaTeX cannot tell them apart")
        table[key] = value


def _convert(e, names: _Names):
    """Map a raw parse back to sympy: placeholders to constructs, names to the reference's objects."""
    if isinstance(e, sp.Symbol):
        if e.name in _PIECES:
            return _convert(_PIECES[e.name], names)
        name = _decode(e.name)
        return names.symbols.get(name) or _CONSTANTS.get(name) or sp.Symbol(name)
    if isinstance(e, AppliedUndef):
        name, a = e.func.__name__, e.args
        conv = [_convert(x, names) for x in a]
        if name == "zqderiv":
            return sp.Derivative(conv[0], *[(v, int(n)) for v, n in zip(conv[1::2], conv[2::2])])
        if name == "zqsubs":
            return sp.Subs(conv[0], tuple(conv[1::2]), tuple(conv[2::2]))
        if name == "zqabs":
            return sp.Abs(conv[0])
        if name in ("zqintegral", "zqsum", "zqprod"):
            cls = {"zqintegral": sp.Integral, "zqsum": sp.Sum, "zqprod": sp.Product}[name]
            body, limit = conv[0], tuple(conv[1:])
            if isinstance(body, cls):  # nested signs are one construct with several limits
                return cls(body.function, *body.limits, limit)
            return cls(body, limit)
        if name == "zqpiecewise":
            return sp.Piecewise(*zip(conv[0::2], conv[1::2]))
        if name in _RELATION_CLASSES:
            return _RELATION_CLASSES[name](*conv)
        if name in ("zqand", "zqor", "zqnot"):
            return {"zqand": sp.And, "zqor": sp.Or, "zqnot": sp.Not}[name](*conv)
        if name == "zqtrue":
            return sp.true
        name = _decode(name)
        if name in names.functions:
            return names.functions[name](*conv)
        known = {"max": sp.Max, "min": sp.Min, "Gamma": sp.gamma}.get(name) or getattr(sp, name, None)
        if isinstance(known, type) and issubclass(known, (sp.Function, sp.Max, sp.Min)):
            return known(*conv)
        return sp.Function(name)(*conv)
    if e.args:
        return e.func(*[_convert(x, names) for x in e.args])
    return e


def parse_formula(tex: str, like=None):
    """Read a formula written by ``formula`` back into sympy.

    ``like`` is a reference expression whose symbols (with their assumptions)
    and undefined functions the parsed names are matched with; names it does
    not hold become plain symbols and functions.  Raises ValueError when the
    text does not parse or two objects of ``like`` print alike.
    """
    if not isinstance(tex, str) or not tex.strip():
        raise ValueError("parse_formula needs a non-empty LaTeX string")
    names = _Names(like if like is not None else sp.Integer(0))
    tex = tex.strip()
    if tex.startswith(r"\begin{pmatrix}") and tex.endswith(r"\end{pmatrix}"):
        body = tex[len(r"\begin{pmatrix}"):-len(r"\end{pmatrix}")]
        return sp.Matrix([[_parse_one(cell, names) for cell in _split_top(row, "&")]
                          for row in _split_top(body, r"\\")])
    return _parse_one(tex, names)


def _parse_one(tex: str, names: _Names):
    from sympy.parsing.latex import LaTeXParsingError

    tex = tex.strip()
    if tex.startswith(r"\left(") and _left_right(tex, 0)[2] == len(tex):
        items = _split_top(_left_right(tex, 0)[0], ",")
        if len(items) > 1:
            return sp.Tuple(*[_parse_one(item, names) for item in items])
    try:
        if any(len(_split_top(tex, op)) > 1 for op in (r"\wedge", r"\vee")) or tex.startswith(r"\neg"):
            tex = _condition(tex)
        raw = _antlr(tex)
    except (LaTeXParsingError, ValueError, TypeError) as exc:
        raise ValueError(f"cannot parse {tex[:120]!r}: {' '.join(str(exc).split())[:200]}") from None
    return _convert(raw, names)


# --------------------------------------------------------------------------- the document

def part_label(claim, part_name: str) -> str:
    """The LaTeX label of a claim's part: ``claim:<id>:<slug>``.

    The slug is the part name in lower case, ``'`` spelled ``prime``, every run of
    characters other than ``a-z0-9.`` replaced by ``-``; a slug that an earlier
    part of the claim already has gets ``-<position of the part>`` appended.
    """
    slugs = {}
    for p in claim.parts():
        slug = re.sub(r"[^a-z0-9.]+", "-", p.name.lower().replace("'", " prime ")).strip("-") or "part"
        slugs[p.name] = slug if slug not in slugs.values() else f"{slug}-{len(slugs) + 1}"
    if part_name not in slugs:
        raise ValueError(f"claim {claim.id} has no part {part_name!r}")
    return f"claim:{claim.id}:{slugs[part_name]}"


_TEXT_ESCAPES = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"$\$$", "&": r"\&", "#": r"\#",
                 "%": r"\%", "_": r"\_", "^": r"\^{}", "~": r"\~{}", "<": "$<$", ">": "$>$", "|": "$|$"}
_UNICODE = {"≤": r"\leq", "≥": r"\geq", "≠": r"\neq", "∇": r"\nabla", "∂": r"\partial", "∞": r"\infty",
            "→": r"\to", "×": r"\times", "·": r"\cdot", "±": r"\pm", "√": r"\surd", "∈": r"\in", "≈": r"\approx",
            "−": "-", "∫": r"\int", "∑": r"\sum", "ℝ": r"\mathbb{R}"}
def _text(s: str) -> str:
    """Plain text (titles, sources, assumptions) escaped for LaTeX; non-ASCII math characters become macros."""
    import unicodedata

    out = []
    for ch in str(s):
        if ch in _TEXT_ESCAPES:
            out.append(_TEXT_ESCAPES[ch])
        elif ch in _UNICODE or ch in _GREEK_CHARS:
            out.append("$%s$" % (_UNICODE.get(ch) or "\\" + _GREEK_CHARS[ch]))
        elif ord(ch) < 128:
            out.append(ch)
        else:
            plain = unicodedata.normalize("NFKD", ch).encode("ascii", "ignore").decode()
            out.append(_text(plain) if plain else "[U+%04X]" % ord(ch))
    return "".join(out)


_PREAMBLE = r"""\documentclass[10pt]{article}
\usepackage[margin=2cm]{geometry}
\usepackage{amsmath,amssymb}
\usepackage{graphicx}
\allowdisplaybreaks
\setlength{\parindent}{0pt}
% the default text bullet and dollar need the TS1 fonts, which a basic TeX Live lacks as Type 1
\renewcommand{\labelitemi}{$\bullet$}
\setlength{\parskip}{0.4em}
% a formula wider than the line is scaled down to the line
\newcommand{\fitline}[1]{\resizebox{\ifdim\width>0.9\linewidth 0.9\linewidth\else\width\fi}{!}{#1}}
"""


def _equation(label: str, tag: str, lhs: str | None, body: str, kind: str) -> list[str]:
    """One numbered display; the formula sits between ``%<kind>`` and ``%</kind>`` comment lines."""
    return [r"\begin{equation}\label{%s}\tag{%s}" % (label, tag),
            r"\fitline{$\displaystyle " + (f"{lhs} = " if lhs else ""),
            f"%<{kind}>", body, f"%</{kind}>", "$}", r"\end{equation}"]


def _verdict_text(v) -> str:
    if v.verdict == "differs":
        ce = v.counterexample or {}
        where = ", ".join(f"{k} = {val}" for k, val in (ce.get("point") or {}).items())
        entry = f" (entry {ce['entry']})" if ce.get("entry") else ""
        detail = (f" at {where}: printed{entry} {ce.get('printed_value')}, derived {ce.get('derived_value')}"
                  if where else f" ({ce.get('reason', 'see the claims table')})")
        return _text(f"differs ({v.method}){detail}")
    return _text(f"{v.verdict} ({v.method})")


def _claim_lines(claim, seed: int | None) -> list[str]:
    verdicts = {v.name: v for v in claim.part_verdicts(seed)} if seed is not None else {}
    tally = [f"{n} {v}" for v in ("agrees", "differs", "undecided")
             if (n := sum(pv.verdict == v for pv in verdicts.values()))]
    lines = [r"\subsection*{\texttt{%s}: %s}" % (_text(claim.id), _text(claim.title)),
             r"\textbf{Claim} \texttt{%s}. \textbf{Where printed:} %s." % (_text(claim.id), _text(claim.source))]
    if claim.assumptions:
        lines += [r"\textbf{Assumptions:}", r"\begin{itemize}"]
        lines += [r"\item %s" % _text(a) for a in claim.assumptions] + [r"\end{itemize}"]
    if claim.note:
        lines.append(r"\textbf{Note:} %s" % _text(claim.note))
    if seed is not None:
        lines.append(r"\textbf{Printed formulas compared with their derivation:} %s."
                     % (", ".join(tally) if tally else "none (the paper prints none of these quantities)"))
    for k, part in enumerate(claim.parts(), start=1):
        label, tag = part_label(claim, part.name), r"\texttt{%s}.%d" % (_text(claim.id), k)
        lines.append(r"\textbf{%s.%d, %s.}" % (_text(claim.id), k, _text(part.name)))
        derived = formula(part.derived)
        verdict = _verdict_text(verdicts[part.name]) if part.name in verdicts else "not computed"
        if part.printed is None:
            lines.append("Derived (the paper prints no formula for this quantity):")
        elif formula(part.printed) == derived:
            lines.append(r"Printed and derived forms are the same expression; verdict: \emph{%s}." % verdict)
        else:
            lines.append(r"As printed in the paper; verdict of the comparison with the derivation: "
                         r"\emph{%s}." % verdict)
            lines += _equation(label + ":printed", tag + "p", part.equation, formula(part.printed), "printed")
            lines.append("Derived:")
        lines += _equation(label, tag, part.equation, derived, "derived")
    return lines


def _experimental_lines(rows: list[dict]) -> list[str]:
    """The experimental claims (:mod:`ganphase.catalogue.experiments` rows): statement, test, each part's effect
    with its 95 % interval and verdict."""
    from ganphase.catalogue.experiments import number_text as num
    lines = [r"\section*{Experimental claims}",
             "Each experimental statement of the paper, tested on sweeps over seeds: an effect per part with a 95\\% "
             "bootstrap interval over runs; \\emph{undecided} where the interval does not decide, the runs are fewer "
             "than five, or the sweep does not record the quantity.", ""]
    for r in rows:
        lines += [r"\subsection*{\texttt{%s}: %s}" % (_text(r["id"]), _text(r["title"])),
                  r"\textbf{Where printed:} %s. \textbf{Verdict:} \emph{%s} (%d runs)."
                  % (_text(r["source"]), _text(r["verdict"]), len(r["runs"])),
                  r"\begin{quote}%s\end{quote}" % _text(r["printed"]), r"\textbf{Test:} %s." % _text(r["derived"])]
        if r["effects"]:
            lines.append(r"\begin{itemize}")
            lines += [r"\item %s%s: \emph{%s}, %s [%s, %s] over %d runs%s" % (
                _text(e["setting"] + ", ") if e.get("setting") else "", _text(e["part"]), _text(e["verdict"]),
                num(e["value"]), num(e["low"]), num(e["high"]), e["runs"],
                _text(f" ({e['detail']})") if e["detail"] else "") for e in r["effects"]]
            lines.append(r"\end{itemize}")
        else:
            lines.append(_text(r["evidence_detail"]))
        lines.append("")
    return lines


def document(seed: int | None = 0, ids=None, registry=None, progress: bool = False, experiments=None,
             formal: bool = True) -> str:
    """The registry as a standalone LaTeX article (amsmath), grouped by the claims' sections.

    Verdicts (printed vs derived) are computed now, at random points drawn from
    ``seed``; ``seed=None`` leaves them out (a quick draft).  ``ids`` restricts
    the document to those claims; ``registry`` defaults to the package's;
    ``progress`` shows a progress bar (tqdm, on stderr); ``experiments``: rows of
    :func:`ganphase.catalogue.experiments.experimental_rows`, added as a last section; ``formal=False``
    leaves the formal claims out.
    """
    import ganphase
    from ganphase.theory.claims import REGISTRY

    registry = REGISTRY if registry is None else registry
    claims = ([registry[i] for i in ids] if ids else list(registry)) if formal else []
    sections: dict[str, list] = {}
    for c in claims:
        sections.setdefault(c.section, []).append(c)
    lines = [_PREAMBLE, r"\title{ganphase: derived formulas of the claims registry}",
             r"\author{ganphase %s, sympy %s}" % (_text(ganphase.__version__), _text(sp.__version__)),
             r"\date{}", r"\begin{document}", r"\maketitle",
             "Every formal claim of the paper, derived from definitions with sympy. Each formula is labelled "
             r"\texttt{claim:$<$id$>$:$<$part$>$} and tagged with its claim id; where the paper prints the quantity "
             "differently, the printed form is shown first with the verdict of the comparison, computed when this "
             "document was written" + (" (here: not computed)." if seed is None else f" (random points, seed {seed})."),
             f"{len(claims)} claims" + (f" and {len(experiments)} experimental claims." if experiments else "."), ""]
    bar = None
    if progress:
        from tqdm import tqdm
        bar = tqdm(total=len(claims), desc="latex", unit="claim", leave=False)
    for section, members in sections.items():
        lines.append(r"\section*{%s}" % _text(section))
        for c in members:
            lines += _claim_lines(c, seed) + [""]
            if bar is not None:
                bar.update()
    if bar is not None:
        bar.close()
    lines += _experimental_lines(experiments or [])
    lines.append(r"\end{document}")
    return "\n".join(lines) + "\n"


def export(path, seed: int | None = 0, ids=None, progress: bool = False, experiments=None,
           formal: bool = True) -> Path:
    """Write ``document(seed, ids)`` to ``path`` (a ``.tex`` file) atomically and return the path.

    The folder is created if missing; a path that is a folder, or whose folder
    cannot be created or written, raises ValueError before anything is derived.
    """
    import os

    from ganphase.io import atomic_write_bytes

    path = Path(path)
    if path.is_dir():
        raise ValueError(f"the output {str(path)!r} is a folder; give a file name such as claims.tex")
    if path.suffix != ".tex":
        raise ValueError(f"the output {str(path)!r} must be a file name ending in .tex")
    blocker = next((p for p in path.parents if p.exists() and not p.is_dir()), None)
    if blocker is not None:
        raise ValueError(f"cannot write {str(path)!r}: {str(blocker)!r} is a file, not a folder")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ValueError(f"cannot create the folder {str(path.parent)!r}: {exc.strerror or exc}") from None
    if not os.access(path.parent, os.W_OK):
        raise ValueError(f"cannot write into the folder {str(path.parent)!r}: permission denied")
    text = document(seed, ids, progress=progress, experiments=experiments, formal=formal)
    try:
        return atomic_write_bytes(path, text.encode())
    except OSError as exc:
        raise ValueError(f"cannot write {str(path)!r}: {exc.strerror or exc}") from None
