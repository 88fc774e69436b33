"""Formulas as a slide shows them, built on sympy's own printer so that precedence, not
string concatenation, decides the parentheses: ``3 · (1 - h²)``, ``-0.644 · (-sin(x))``.

Choices (a derivative's piecewise parts) are Iverson brackets: ``[c]`` is 1 where the
condition c holds and 0 elsewhere, so relu' is ``[x > 0]``, abs' is ``[x ≥ 0] - [x < 0]``
and maximum's ∂/∂x, 1/2 at a tie as in JAX, is ``[x > y] + [x = y]/2``.
"""

from __future__ import annotations

from typing import Any

import sympy as sp
from sympy.printing.precedence import PRECEDENCE, precedence
from sympy.printing.str import StrPrinter

_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
_RELATION = {"==": "=", "!=": "≠", ">=": "≥", "<=": "≤"}
_TIMES = "\0"  # a '*' inside a name (a structural op's rule text) while '*' means times


class Iverson(sp.Function):
    """``[c]``: 1 where c holds, 0 elsewhere (for printing only)."""

    @classmethod
    def eval(cls, cond: Any) -> Any:
        if cond is sp.true:
            return sp.Integer(1)
        if cond is sp.false:
            return sp.Integer(0)
        return None


def _piecewise(*pairs: Any) -> sp.Expr:
    """Each piece times the bracket of its own condition and none of those before it."""
    terms, before = [], sp.true
    for value, cond in pairs:
        terms.append(value * Iverson(sp.And(cond, before)))
        before = sp.And(before, sp.Not(cond))
    terms = [t for t in terms if t != 0] or [sp.Integer(0)]
    return sp.Add(*terms, evaluate=False) if len(terms) > 1 else terms[0]


def _heaviside(u: sp.Expr, at_zero: sp.Expr = sp.S.Half) -> sp.Expr:
    """H(u) as a comparison: H(x - y) is ``[x > y] + [x = y]/2``, H(2 - m) is
    ``[m < 2] + [m = 2]/2``."""
    left, right = sides(u)
    above = sp.Gt(left, right, evaluate=False) if (left - right - u).is_zero else \
        sp.Lt(left, right, evaluate=False)
    return sp.Add(Iverson(above), at_zero * Iverson(sp.Eq(left, right, evaluate=False)),
                  evaluate=False)


def sides(u: sp.Expr) -> tuple[sp.Expr, sp.Expr]:
    """u = 0 as an equation ``left = right`` a person writes: u's positive terms on one
    side, its negative ones on the other, a lone number on the right (2 - x: x = 2)."""
    terms = sp.Add.make_args(u)
    plus = sp.Add(*(t for t in terms if not t.could_extract_minus_sign()))
    minus = -sp.Add(*(t for t in terms if t.could_extract_minus_sign()))
    return (minus, plus) if plus.is_Number else (plus, minus)


class _Slide(StrPrinter):
    """sympy's str printer, with short floats, superscript powers, ``·`` for times,
    Iverson brackets and the names graphc's ops have (``max``, ``abs``)."""

    def _print_Float(self, expr: sp.Float) -> str:
        return repr(float(expr))

    def _print_Symbol(self, expr: sp.Symbol) -> str:
        return expr.name.replace("*", _TIMES)

    def _print_Pow(self, expr: sp.Pow, rational: bool = False) -> str:
        if expr.exp.is_Integer and expr.exp not in (-1, 1):
            base = self.parenthesize(expr.base, PRECEDENCE["Pow"], strict=True)
            power = base + str(abs(expr.exp)).translate(_SUPERSCRIPT)
            return power if expr.exp > 0 else "1/" + power
        return super()._print_Pow(expr, rational).replace("**", "^")

    def _print_Add(self, expr: sp.Add, order: str | None = None) -> str:
        if expr.has(Iverson):  # the pieces in their order, as _piecewise made them
            return super()._print_Add(expr, order="none")
        return super()._print_Add(expr, order)

    def _print_Iverson(self, expr: Iverson) -> str:
        return f"[{self._print(expr.args[0])}]"

    def _print_Relational(self, expr: sp.core.relational.Relational) -> str:
        op = _RELATION.get(expr.rel_op, expr.rel_op)
        return f"{self._print(expr.lhs)} {op} {self._print(expr.rhs)}"

    def _print_And(self, expr: sp.And) -> str:
        return " and ".join(self.parenthesize(a, PRECEDENCE["And"]) for a in expr.args)

    def _print_Or(self, expr: sp.Or) -> str:
        return " or ".join(self.parenthesize(a, PRECEDENCE["Or"]) for a in expr.args)

    def _print_Not(self, expr: sp.Not) -> str:
        return "not " + self.parenthesize(expr.args[0], PRECEDENCE["Not"])

    def _print_Abs(self, expr: sp.Abs) -> str:
        return f"abs({self._print(expr.args[0])})"

    def _print_Max(self, expr: sp.Max) -> str:
        return f"max({self.stringify(expr.args, ', ')})"

    def _print_Min(self, expr: sp.Min) -> str:
        return f"min({self.stringify(expr.args, ', ')})"

    def _print_DiracDelta(self, expr: sp.DiracDelta) -> str:
        return f"δ({self._print(expr.args[0])})"

    def doprint(self, expr: Any) -> str:
        return super().doprint(expr).replace("*", "·").replace(_TIMES, "*")


def _slide(expr: Any) -> sp.Expr:
    expr = sp.sympify(expr)
    if expr.has(sp.Piecewise, sp.Heaviside):
        expr = expr.replace(sp.Piecewise, _piecewise).replace(sp.Heaviside, _heaviside)
    return expr


def pretty(expr: Any) -> str:
    """A formula as a slide would show it: ``1 - h²``, ``0.5·x``, ``y·(1 - y)``, ``[x > 0]``."""
    return _Slide().doprint(_slide(expr))


def factor(expr: Any) -> str:
    """``expr`` as one factor of a product written with ``·``: in parentheses where it binds
    looser than a product (``(1 - h²)``), starts with a minus (``(-sin(x))``) or is a
    structural op's rule (``(t1_bar @ W.T)``, a name with spaces)."""
    expr = _slide(expr)
    text = _Slide().doprint(expr)
    loose = precedence(expr) < PRECEDENCE["Mul"] or text.startswith("-") or (
        expr.is_Symbol and " " in text)
    return f"({text})" if loose else text


def product(factors: Any) -> str:
    """Factors joined by `` · ``, each parenthesised where it needs to be."""
    return " · ".join(map(factor, factors))
