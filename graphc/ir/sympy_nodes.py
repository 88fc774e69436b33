"""sympy expressions -> graph nodes (every derivative formula, and the sympy front end).

An expression becomes a ``Recipe`` once (op steps, each shared subexpression once),
replayed per node."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache, reduce
from typing import TYPE_CHECKING

import sympy as sp

from ..errors import UnknownOpError
from ..ops import OPS
from ..ops.elementwise import SYMPY_SYNONYMS
from ..ops.values import fold

if TYPE_CHECKING:
    from .graph import Graph

Ref = tuple  # ("sym", Symbol) | ("step", index) | ("const", float)

_HEADS = {head: op.name for op in OPS.values() if op.sympy_head is not None
          for head in (op.sympy_head if isinstance(op.sympy_head, tuple) else (op.sympy_head,))}
"""sympy function -> op; an op may have several (``x % y``: graphc's ``mod`` and ``Mod``)."""


@dataclass(frozen=True)
class Recipe:
    """Steps ``(op, operand refs)`` in dependency order, and the ref of the result."""

    steps: tuple[tuple[str, tuple[Ref, ...]], ...]
    result: Ref


def _split_negative(term: sp.Expr) -> tuple[bool, sp.Expr]:
    """``-3*x`` -> (True, 3*x): lets sums print as subtraction."""
    coeff = term.as_coeff_Mul()[0]
    return (True, -term) if coeff.is_Number and coeff < 0 else (False, term)


def _mul_parts(expr: sp.Mul) -> tuple[sp.Expr, list[sp.Expr], list[sp.Expr]]:
    """A product as (sign/coefficient, numerator factors, denominator factors)."""
    coeff, factors = expr.as_coeff_mul()
    top, bottom = (sp.Integer(abs(coeff.p)), coeff.q) if coeff.is_Rational else (abs(coeff), 1)
    num: list[sp.Expr] = [top] if top != 1 else []
    den: list[sp.Expr] = [sp.Integer(bottom)] if bottom != 1 else []
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


Steps = list[tuple[str, tuple[Ref, ...]]]


def _emit(steps: Steps, op: str, *refs: Ref) -> Ref:
    steps.append((op, refs))
    return ("step", len(steps) - 1)


def _chain(steps: Steps, op: str, refs: list[Ref]) -> Ref:
    return reduce(lambda acc, r: _emit(steps, op, acc, r), refs)


def _const(value: float) -> Ref:
    return ("const", float(value))


def _build(steps: Steps, e: sp.Expr, refs: dict) -> Ref:
    def ref(x: sp.Expr) -> Ref:
        return _const(float(x)) if x.is_Number else refs[x]

    if e.is_Symbol:
        return ("sym", e)
    if e is sp.zoo or e is sp.nan:
        return _const(math.nan)
    if e.is_Number or e.is_NumberSymbol:
        return _const(float(e))
    if isinstance(e, sp.DiracDelta):
        return _const(0.0)  # a step's derivative is zero almost everywhere, as in JAX
    if e.is_Add:
        terms = [(neg, ref(t)) for neg, t in map(_split_negative, e.args)]
        terms.sort(key=lambda nt: nt[0])  # a positive term first when there is one
        neg0, acc = terms[0]
        acc = _emit(steps, "neg", acc) if neg0 else acc
        for neg, r in terms[1:]:
            acc = _emit(steps, "sub" if neg else "add", acc, r)
        return acc
    if e.is_Mul:
        sign, num, den = _mul_parts(e)
        acc = _chain(steps, "mul", [ref(f) for f in num]) if num else _const(1.0)
        if den:
            acc = _emit(steps, "div", acc, _chain(steps, "mul", [ref(f) for f in den]))
        return _emit(steps, "neg", acc) if sign < 0 else acc
    if e.is_Pow:
        base = ref(e.base)
        if e.exp == sp.S.Half:
            return _emit(steps, "sqrt", base)
        if e.exp == -1:
            return _emit(steps, "div", _const(1.0), base)
        if e.exp == -sp.S.Half:
            return _emit(steps, "div", _const(1.0), _emit(steps, "sqrt", base))
        return _emit(steps, "pow", base, ref(e.exp))
    if isinstance(e, sp.Piecewise):
        pairs = list(e.args)
        acc = ref(pairs.pop()[0]) if pairs[-1][1] is sp.true else _const(math.nan)
        like = _like(e)
        for value, cond in reversed(pairs):
            if acc[0] == "const" and value.is_Number and like is not None:
                acc = _emit(steps, "choose", ref(cond), ref(value), acc, ("sym", like))
            else:
                acc = _emit(steps, "where", ref(cond), ref(value), acc)
        return acc
    if isinstance(e, sp.Heaviside):  # sympy >= 1.9 keeps its value at 0 as the 2nd argument
        return _emit(steps, "heaviside", *map(ref, e.args))
    if e.func in SYMPY_SYNONYMS:  # sympy's loggamma is graphc's gammaln
        e = SYMPY_SYNONYMS[e.func](*e.args)
    head = _HEADS.get(type(e)) or _HEADS.get(e.func)
    if head is None:
        raise UnknownOpError(f"sympy {e.func.__name__} has no graphc op (in {e})")
    kids = [ref(a) for a in e.args]
    if len(kids) > OPS[head].arity:  # Max(a, b, c), And(...): n-ary in sympy, binary here
        return _chain(steps, head, kids)
    return _emit(steps, head, *kids)


def _like(e: sp.Piecewise) -> sp.Symbol | None:
    """The symbol whose dtype a choice between constants takes: its conditions' first
    variable (a derivative's x0, x1, ...), not a placeholder of a constant."""
    return min((s for s in free_symbols(e) if not isinstance(s, sp.Dummy)), key=str, default=None)


@lru_cache(maxsize=4096)
def recipe(expr: sp.Expr) -> Recipe:
    """The steps that compute ``expr``: one step per distinct subexpression."""
    steps: Steps = []
    ref: dict = {}
    stack = [expr]
    while stack:
        if (e := stack[-1]) in ref:
            stack.pop()
        elif pending := [k for k in _children(e) if k not in ref and not k.is_Number]:
            stack.extend(pending)
        else:
            ref[e] = _build(steps, stack.pop(), ref)
    return Recipe(tuple(steps), ref[expr])


def replay(g: Graph, rec: Recipe, env: dict[sp.Symbol, str]) -> str:
    """Add ``rec``'s steps to ``g`` with symbols bound by ``env``; the result's name."""
    names: list[str] = []

    def resolve(r: Ref) -> str:
        kind, v = r
        return env[v] if kind == "sym" else names[v] if kind == "step" else g.const(v)

    for op, refs in rec.steps:
        args = [resolve(r) for r in refs]
        value = _constant(g, op, args)
        names.append(g.add(op, args) if value is None else g.const(value))
    return resolve(rec.result)


def _constant(g: Graph, op: str, args: list[str]) -> float | None:
    """A step's value on constants alone as NumPy computes it (1 / 0 is inf), else None."""
    if args and all(g.is_const(a) for a in args) and op in OPS and OPS[op].elementwise:
        return fold(OPS[op].fn, [g.attrs(a)["params"]["value"] for a in args])
    return None


def free_symbols(expr: sp.Expr) -> set[sp.Symbol]:
    """``expr.free_symbols`` without recursion (sympy's recurses: deep expressions fail)."""
    seen: set[sp.Basic] = set()
    stack = [expr]
    while stack:
        if (e := stack.pop()) not in seen:
            seen.add(e)
            stack.extend(e.args)
    return {e for e in seen if e.is_Symbol}
