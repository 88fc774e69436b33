"""Kinks: a point where an op's derivative jumps (relu at 0, abs at 0, maximum at a tie)
or has no value at all (hypot and norm at 0: a cone, whose slope depends on the
direction).

There the derivative has two one-sided values and graphc takes JAX's choice of one
(docs/ops.md, "Kinks: the JAX conventions"), while central finite differences see
their average: ``verify`` names the kink instead of only reporting a disagreement.
A kink is read off the symbolic local derivative: a ``Piecewise`` condition ``a > b``
(or ``>=``, ``<``, ``<=``, ``=``, ``≠``) or a ``Heaviside(u)`` that sits exactly on its
boundary.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy as sp

from ..ir.graph import Graph
from ..ir.pretty import pretty, sides
from .words import format_number, op_text

_SIDES = (sp.Gt, sp.Ge, sp.Lt, sp.Le, sp.Eq, sp.Ne)


@dataclass(frozen=True)
class Kink:
    """Node ``node``'s derivative in operand ``operand`` jumps at ``where``."""

    node: str
    operand: str
    op: str  # the node as the pictures write it: relu(t2)
    where: str  # the boundary: t2 = 0
    sides: tuple[str, ...]  # the one-sided derivatives, printed
    value: str  # graphc's (JAX's) derivative there, printed

    def __str__(self) -> str:
        d = f"∂{self.node}/∂{self.operand}"
        if not self.sides:  # 0/0 beside the point: no one-sided value
            return (f"kink: {self.node} = {self.op} at {self.where}: {d} has no value "
                    "there (it depends on the direction, as |x|'s slope at 0); graphc "
                    f"follows JAX's {d} = {self.value} (central differences average two "
                    "opposite directions)")
        return (f"kink: {self.node} = {self.op} at {self.where}: the one-sided derivatives "
                f"{d} are {' and '.join(self.sides)}; graphc follows JAX's {d} = "
                f"{self.value} (central differences average the two sides)")


def find_kinks(g: Graph, symbolic: dict[tuple, Any], edges: set[tuple],
               env: dict[str, Any]) -> list[Kink]:
    """The kinks the inputs ``env`` sit on, among ``edges``' local derivatives (an edge
    is (operand, node, ...))."""
    choices = {e: sp.sympify(symbolic[e]) for e in edges}
    choices = {e: r for e, r in choices.items() if r.has(sp.Piecewise, sp.Heaviside)}
    if not choices:
        return []
    values = g.run(dict(env))
    position = {n: i for i, n in enumerate(g.order())}
    found: list[Kink] = []
    for (a, v, *_), rule in sorted(choices.items(), key=lambda item: position[item[0][1]]):
        boundaries = [(c, c.lhs - c.rhs) for c in rule.atoms(*_SIDES)]
        boundaries += [(h, h.args[0]) for h in rule.atoms(sp.Heaviside)]
        for atom, gap in boundaries:
            kink = _kink(g, a, v, rule, atom, gap, values)
            if kink is not None and kink not in found:
                found.append(kink)
    return found


def _kink(g: Graph, a: str, v: str, rule: sp.Expr, atom: sp.Basic, gap: sp.Expr,
          values: dict[str, Any]) -> Kink | None:
    """The kink of ``rule`` at ``atom``'s boundary, where ``gap`` is 0; None off it."""
    at = np.atleast_1d(_value(gap, values))
    if at is None or not np.any(at == 0):
        return None
    where = int(np.flatnonzero(at == 0)[0])  # the first element on the boundary
    on, off = (sp.true, sp.false) if atom.is_Relational else (sp.Integer(1), sp.Integer(0))
    one_sided = [_value(rule.xreplace({atom: s}), values) for s in (on, off)]
    here = _value(rule, values)
    if any(s is None for s in one_sided) or here is None:
        return None
    pick = [float(np.broadcast_to(s, at.shape).flat[where]) for s in (*one_sided, here)]
    if pick[0] == pick[1]:  # the derivative does not jump here: no kink
        return None
    if isinstance(atom, (sp.Eq, sp.Ne)) and np.all(np.isfinite(pick[:2])):
        return None  # y = fmax(x, y) holds on a region, not only on a boundary: a cone's
        # 0/0 beside the point alone is a kink
    boundary = pretty(sp.Eq(*((atom.lhs, atom.rhs) if atom.is_Relational else sides(gap)),
                            evaluate=False))
    shown = tuple(format_number(s) for s in sorted(pick[:2])) \
        if np.all(np.isfinite(pick[:2])) else ()
    return Kink(g.shown(v), g.shown(a), op_text(g, v), boundary, shown,
                format_number(pick[2]))


def _value(expr: sp.Expr, values: dict[str, Any]) -> Any:
    """``expr`` at the nodes' values; None where it names something else."""
    names = sorted(s.name for s in expr.free_symbols)
    if any(n not in values for n in names):
        return None
    if all(np.ndim(values[n]) == 0 for n in names):  # numbers: sympy is quicker than lambdify
        at = expr.xreplace({s: sp.Float(float(values[s.name])) for s in expr.free_symbols})
        return np.asarray(complex(at).real if at.is_number and at.is_finite else np.nan)
    try:
        with np.errstate(all="ignore"):
            return np.asarray(sp.lambdify(names, expr, "numpy")(*(values[n] for n in names)),
                              dtype=float)
    except (TypeError, NameError):  # erf from math, graphc's gammaln: one at a time
        shape = np.broadcast_shapes(*(np.shape(values[n]) for n in names))
        flat = {n: np.broadcast_to(values[n], shape).reshape(-1) for n in names}
        return np.array([_value(expr, {n: flat[n][i] for n in names})
                         for i in range(int(np.prod(shape)))], dtype=float).reshape(shape)
