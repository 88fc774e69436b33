"""CS231n's patterns in the backward flow, noted beside the nodes they apply to
(``Style(gates=True)``, ``graphc render --gates``): "add distributes", "mul swaps",
"max routes", "fork adds".

An op's pattern is read off its formula in the op table (its partial derivatives),
not a list of op names, so every elementwise op that behaves so is noted: add (and
sub, with its sign), mul, maximum, minimum and relu among them. Tensor ops (a sum, a
max over an axis) have rules, not formulas, and are not noted.
"""

from __future__ import annotations

from functools import cache

import sympy as sp

from ..ir.graph import Graph
from ..ops.table import Op

MEANING = {
    "add distributes": "each operand gets the adjoint unchanged",
    "sub distributes (−)": "each operand gets the adjoint, the subtracted one negated",
    "mul swaps": "each operand gets the adjoint times the other operand",
    "max routes": "only the larger operand gets the adjoint",
    "min routes": "only the smaller operand gets the adjoint",
    "fork adds": "a node used more than once adds up what each use sends back",
}
"""Each note and what it says, for the legend."""

_SAMPLES = (0.7, -1.3, 2.1, -0.4)
"""Operand values, distinct and nonzero (no ties, no kinks), at which a rule is read."""


@cache
def op_pattern(op: Op) -> str | None:
    """The pattern of ``op``'s backward rule, from its partial derivatives: all ±1
    (distributes), each the other operand (swaps), each 0 or 1 and picking one
    operand (routes)."""
    if op.formula is None or op.arity < 1:
        return None
    xs = sp.symbols(f"x0:{op.arity}", real=True)
    f = op.formula(*xs)
    d = [sp.diff(f, x) for x in xs]
    if op.arity >= 2 and all(p.is_Number and abs(p) == 1 for p in d):
        return "add distributes" if all(p == 1 for p in d) else "sub distributes (−)"
    if op.arity == 2 and d[0] == xs[1] and d[1] == xs[0]:
        return "mul swaps"
    points = [dict(zip(xs, _SAMPLES[k:] + _SAMPLES[:k])) for k in range(len(_SAMPLES))]
    try:
        seen = [[float(p.subs(at)) for p in d] for at in points]
        values = [float(f.subs(at)) for at in points]
    except (TypeError, ValueError, AttributeError, ArithmeticError):  # no number there
        # (DiracDelta), or sympy cannot evaluate it (mod's fmod on a Float)
        return None
    if any(v not in (0.0, 1.0) for row in seen for v in row) or any(
            len({row[k] for row in seen}) == 1 for k in range(op.arity)):
        return None  # a routing gate passes 1 or 0, and each operand gets both
    smaller = all(v == min(at.values()) for v, at in zip(values, points))
    return "min routes" if smaller else "max routes"


def notes(g: Graph, node: str) -> list[str]:
    """The patterns ``node`` shows: its op's, and "fork adds" when its value is used
    more than once (several consumers, or one using it twice)."""
    if g.is_const(node):
        return []
    out = [p] if (p := op_pattern(g.op(node))) is not None and g.args(node) else []
    if sum(g.args(m).count(node) for m in g.readers(node)) > 1:
        out.append("fork adds")
    return out


def legend(g: Graph) -> list[str]:
    """What each note in the picture of ``g`` means, one line each."""
    used = dict.fromkeys(n for v in g.nx for n in notes(g, v))
    return [f"{n}: {MEANING[n]}" for n in MEANING if n in used]
