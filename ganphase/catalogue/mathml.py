"""Formulas and counterexamples as presentation MathML, for the HTML report.

Browsers render MathML natively (MathML Core: Chromium 109+, Firefox, Safari),
so the report stays one offline file with no script or font to bundle.  The
printer is sympy's presentation MathML printer with two additions the claims
need: ``Piecewise`` as a brace of cases and ``Subs`` as an evaluation bar.
"""
from __future__ import annotations

import re

import sympy as sp
from sympy.printing.mathml import MathMLPresentationPrinter


class FormulaMathML(MathMLPresentationPrinter):
    """sympy's presentation MathML, with cases and evaluation bars."""

    def _node(self, tag: str, *children, text: str | None = None, **attrs):
        node = self.dom.createElement(tag)
        for key, value in attrs.items():
            node.setAttribute(key.replace("_", "-"), value)
        if text is not None:
            node.appendChild(self.dom.createTextNode(text))
        for child in children:
            node.appendChild(child)
        return node

    def _print_Piecewise(self, expr):
        """{ value   if condition / value   otherwise }."""
        rows = []
        for value, cond in expr.args:
            when = self._node("mtext", text="otherwise") if cond is sp.true else \
                self._node("mrow", self._node("mtext", text="if\u2002"), self._print(cond))
            rows.append(self._node("mtr", self._node("mtd", self._print(value)), self._node("mtd", when)))
        table = self._node("mtable", *rows, columnalign="left left")
        return self._node("mrow", self._node("mo", text="{"), table)

    def _print_Subs(self, expr):
        """f(x) evaluated at x = a: f(x) followed by a bar with the assignments below it."""
        at = self._node("mrow")
        for k, (var, point) in enumerate(zip(expr.variables, expr.point)):
            if k:
                at.appendChild(self._node("mo", text=","))
            at.appendChild(self._print(sp.Eq(var, point, evaluate=False)))
        bar = self._node("mo", text="|", stretchy="true")
        return self._node("msub", self._node("mrow", self._print(expr.expr), bar), at)


def math(expr, display: str = "inline") -> str:
    """``<math>`` element of a sympy expression (matrices, relations and tuples included)."""
    body = FormulaMathML().doprint(sp.sympify(expr))
    return f'<math display="{display}">{body}</math>'


_GREEK = ("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigma tau upsilon "
          "phi chi psi omega").split()
SYMBOL_NAME = re.compile(r"([A-Za-z]{1,2}|%s)[0-9]*(_[A-Za-z0-9]{1,5})?" % "|".join(_GREEK + [g.title() for g in _GREEK]))


def _value(value) -> str:
    """MathML of a number, a rational written as text, or a list of numbers; other text as mtext."""
    if isinstance(value, dict) and set(value) == {"re", "im"}:
        value = complex(value["re"], value["im"])
    if isinstance(value, (list, tuple)):
        return "<mrow><mo>(</mo>" + "<mo>,</mo>".join(_value(v) for v in value) + "<mo>)</mo></mrow>"
    if isinstance(value, bool) or value is None:
        return f"<mtext>{value}</mtext>"
    if isinstance(value, (int, float, complex)):
        text = f"{value:.6g}" if not isinstance(value, complex) else f"{value.real:.6g} + {value.imag:.6g} i"
        return f"<mn>{text}</mn>"
    try:
        number = sp.Rational(str(value))
    except (TypeError, ValueError, SyntaxError):
        return f"<mtext>{_escape(str(value))}</mtext>"
    return FormulaMathML().doprint(number)


def _name(key: str) -> str:
    """A symbol name (sigma, mu_1, r) as the symbol; anything else (printed_field) as upright text."""
    if SYMBOL_NAME.fullmatch(key):
        return FormulaMathML().doprint(sp.Symbol(key))
    return f"<mtext>{_escape(key.replace('_', ' '))}</mtext>"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def assignment(values: dict) -> str:
    """``{"sigma": "1", "r": "1", "s": "8"}`` as the mathematics "σ = 1, r = 1, s = 8" (one ``<math>`` per
    equation, so that a long assignment wraps between them)."""
    return ", ".join(f'<math display="inline">{_name(str(k))}<mo>=</mo>{_value(v)}</math>' for k, v in values.items())


def part_formulas(claim) -> list[dict]:
    """``[{"name", "printed", "derived"}]``: each part of ``claim`` with its formulas as MathML (printed may be None)."""
    return [{"name": p.name, "printed": None if p.printed is None else math(p.printed, "block"),
             "derived": math(p.derived, "block")} for p in claim.parts()]
