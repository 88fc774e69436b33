"""sympy expressions -> graph nodes.

This is how every derivative formula becomes nodes (and, through the sympy front end,
a user's sympy expression a Graph): an expression is turned once into a ``Recipe`` (a
short list of op steps, shared subexpressions computed once), replayed per node.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import sympy as sp

from ..errors import UnknownOpError
from ..ops import OPS
from ..ops.elementwise import SYMPY_SYNONYMS
from ..ops.values import fold

if TYPE_CHECKING:
    from .graph import Graph

Ref = tuple  # ("sym", Symbol) | ("step", index) | ("const", float)

_HEADS = {op.sympy_head: op.name for op in OPS.values() if op.sympy_head is not None}


@dataclass(frozen=True)
class Recipe:
    """Steps ``(op, operand refs)`` in dependency order, and the ref of the result."""

    steps: tuple[tuple[str, tuple[Ref, ...]], ...]
    result: Ref


def _split_negative(term: sp.Expr) -> tuple[bool, sp.Expr]:
    """``-3*x`` -> (True, 3*x): lets sums print as subtraction."""
    coeff, rest = term.as_coeff_Mul()
    if coeff.is_Number and coeff < 0:
        return True, -term
    return False, term


def _mul_parts(expr: sp.Mul) -> tuple[sp.Expr, list[sp.Expr], list[sp.Expr]]:
    """A product as (sign/coefficient, numerator factors, denominator factors)."""
    coeff, factors = expr.as_coeff_mul()
    num: list[sp.Expr] = []
    den: list[sp.Expr] = []
    if coeff.is_Rational and not coeff.is_Integer:
        p, q = abs(coeff.p), coeff.q
        if p != 1:
            num.append(sp.Integer(p))
        den.append(sp.Integer(q))
    elif abs(coeff) != 1:
        num.append(abs(coeff))
    for f in factors:
        if f.is_Pow and f.exp.is_Number and f.exp < 0:
            den.append(f.base if f.exp == -1 else sp.Pow(f.base, -f.exp, evaluate=False))
        else:
            num.append(f)
    return sp.sign(coeff), num, den


def _children(e: sp.Expr) -> list[sp.Expr]:
    if e.is_Atom or isinstance(e, sp.DiracDelta):
        return []
    if e.is_Add:
        return [_split_negative(t)[1] for t in e.args]
    if e.is_Mul:
        _, num, den = _mul_parts(e)
        return [f for f in num + den if not f.is_Number]
    if e.is_Pow:
        return [e.base] if e.exp in (sp.S.Half, -1, -sp.S.Half) else [e.base, e.exp]
    if isinstance(e, sp.Piecewise):
        return [x for pair in e.args for x in pair if x is not sp.true]
    return list(e.args)


class _Builder:
    def __init__(self) -> None:
        self.steps: list[tuple[str, tuple[Ref, ...]]] = []

    def emit(self, op: str, *refs: Ref) -> Ref:
        self.steps.append((op, tuple(refs)))
        return ("step", len(self.steps) - 1)

    def chain(self, op: str, refs: list[Ref]) -> Ref:
        acc = refs[0]
        for r in refs[1:]:
            acc = self.emit(op, acc, r)
        return acc


def _const(value: float) -> Ref:
    return ("const", float(value))


def _build(b: _Builder, e: sp.Expr, refs: dict) -> Ref:  # noqa: C901 - one case per kind
    def ref(x: sp.Expr) -> Ref:
        return _const(float(x)) if x.is_Number else refs[x]

    if e.is_Symbol:
        return ("sym", e)
    if e.is_Number or e.is_NumberSymbol:
        return _const(float(e)) if e.is_finite or e.is_infinite else _const(math.nan)
    if e is sp.zoo or e is sp.nan:
        return _const(math.nan)
    if isinstance(e, sp.DiracDelta):
        return _const(0.0)  # a step's derivative is zero almost everywhere, as in JAX
    if e.is_Add:
        terms = [(neg, ref(t)) for neg, t in map(_split_negative, e.args)]
        terms.sort(key=lambda nt: nt[0])  # a positive term first when there is one
        neg0, acc = terms[0]
        if neg0:
            acc = b.emit("neg", acc)
        for neg, r in terms[1:]:
            acc = b.emit("sub" if neg else "add", acc, r)
        return acc
    if e.is_Mul:
        sign, num, den = _mul_parts(e)
        acc = b.chain("mul", [ref(f) for f in num]) if num else _const(1.0)
        if den:
            acc = b.emit("div", acc, b.chain("mul", [ref(f) for f in den]))
        return b.emit("neg", acc) if sign < 0 else acc
    if e.is_Pow:
        base = ref(e.base)
        if e.exp == sp.S.Half:
            return b.emit("sqrt", base)
        if e.exp == -1:
            return b.emit("div", _const(1.0), base)
        if e.exp == -sp.S.Half:
            return b.emit("div", _const(1.0), b.emit("sqrt", base))
        return b.emit("pow", base, ref(e.exp))
    if isinstance(e, sp.Piecewise):
        pairs = list(e.args)
        acc = ref(pairs[-1][0]) if pairs[-1][1] is sp.true else _const(math.nan)
        if pairs[-1][1] is sp.true:
            pairs = pairs[:-1]
        like = _like(e)
        for value, cond in reversed(pairs):
            if acc[0] == "const" and value.is_Number and like is not None:
                acc = b.emit("choose", ref(cond), ref(value), acc, ("sym", like))
            else:
                acc = b.emit("where", ref(cond), ref(value), acc)
        return acc
    if isinstance(e, sp.Heaviside):
        h0 = e.args[1] if len(e.args) > 1 else sp.S.Half
        return b.emit("heaviside", ref(e.args[0]), ref(h0))
    if e.func in SYMPY_SYNONYMS:  # sympy's loggamma is graphc's gammaln
        e = SYMPY_SYNONYMS[e.func](*e.args)
    head = _HEADS.get(type(e)) or _HEADS.get(e.func)
    if head is None:
        raise UnknownOpError(f"sympy {e.func.__name__} has no graphc op (in {e})")
    kids = [ref(a) for a in e.args]
    if head in ("maximum", "minimum"):
        return b.chain(head, kids)
    return b.emit(head, *kids)


def _like(e: sp.Piecewise) -> sp.Symbol | None:
    """The symbol whose dtype a choice between constants takes: its conditions' first
    variable (a derivative's x0, x1, ...), not a placeholder of a constant."""
    found = sorted((s for s in free_symbols(e) if not isinstance(s, sp.Dummy)), key=str)
    return found[0] if found else None


@lru_cache(maxsize=4096)
def recipe(expr: sp.Expr) -> Recipe:
    """The steps that compute ``expr``: one step per distinct subexpression."""
    b = _Builder()
    ref: dict = {}
    stack = [expr]
    while stack:
        e = stack[-1]
        if e in ref:
            stack.pop()
            continue
        pending = [k for k in _children(e) if k not in ref and not k.is_Number]
        if pending:
            stack.extend(pending)
            continue
        stack.pop()
        ref[e] = _build(b, e, ref)
    return Recipe(tuple(b.steps), ref[expr])


def replay(g: Graph, rec: Recipe, env: dict[sp.Symbol, str], name: str | None = None) -> str:
    """Add ``rec``'s steps to ``g`` with symbols bound by ``env``; the result's name.

    ``name`` names the result when the recipe computes it in a step of its own.
    """
    names: list[str] = []

    def resolve(r: Ref) -> str:
        kind, v = r
        if kind == "sym":
            return env[v]
        return names[v] if kind == "step" else g.const(v)

    last = len(rec.steps) - 1
    for i, (op, refs) in enumerate(rec.steps):
        own = name if i == last and rec.result == ("step", i) else None
        args = [resolve(r) for r in refs]
        value = _constant(g, op, args) if own is None else None
        names.append(g.add(op, args, name=own) if value is None else g.const(value))
    return resolve(rec.result)


def _constant(g: Graph, op: str, args: list[str]) -> float | None:
    """The value of a step on constants alone, as NumPy's float64 computes it (a
    derivative's 1 / c at c = 0 is inf, where Python's 1.0 / 0.0 raises); None for
    other steps."""
    if not args or not all(g.is_const(a) for a in args) or OPS.get(op) is None \
            or not OPS[op].elementwise:
        return None
    return fold(OPS[op].fn, [g.attrs(a)["params"]["value"] for a in args])


def free_symbols(expr: sp.Expr) -> set[sp.Symbol]:
    """``expr.free_symbols`` without recursion (sympy's recurses: deep expressions fail)."""
    found: set[sp.Symbol] = set()
    seen: set[sp.Basic] = set()
    stack = [expr]
    while stack:
        e = stack.pop()
        if e in seen:
            continue
        seen.add(e)
        if e.is_Symbol:
            found.add(e)
        stack.extend(e.args)
    return found
