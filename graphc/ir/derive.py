"""Local derivatives: ``sympy.diff`` of each op's formula, cached per op, bound per node.

The sympy work depends only on the op and on which operand slots hold the same node or
a constant (the node's *pattern*), so a graph of 100,000 nodes does it a handful of
times. A derivative that contains the op's own formula is rewritten to use the node's
output (d exp = out, d tanh = 1 - out**2): cheaper, and what a person writes.
"""

from __future__ import annotations

import math
import re
from functools import cache
from typing import TYPE_CHECKING, Any

import sympy as sp

from ..errors import GraphcError
from ..ops import Op, Trait
from .sympy_nodes import recipe, replay

if TYPE_CHECKING:
    from .graph import Graph

OUT = sp.Symbol("out", real=True)
_VARS: list[sp.Symbol] = []

Pattern = tuple[tuple[str, Any], ...]


def var(k: int) -> sp.Symbol:
    """The k-th operand symbol ``x0, x1, ...`` of op formulas."""
    while len(_VARS) <= k:
        _VARS.append(sp.Symbol(f"x{len(_VARS)}", real=True))
    return _VARS[k]


def as_number(value: float) -> sp.Expr:
    """A constant as sympy sees it: integers exact, so ``x**2`` differentiates to ``2*x``."""
    return sp.Integer(int(value)) if float(value).is_integer() else sp.Float(value)


def pattern(g: Graph, node: str) -> tuple[Pattern, list[str]]:
    """The node's operand pattern and its distinct non-constant operands, in slot order."""
    slots: list[tuple[str, Any]] = []
    names: list[str] = []
    for a in g.args(node):
        if g.is_const(a):
            slots.append(("c", g.attrs(a)["params"]["value"]))
        else:
            if a not in names:
                names.append(a)
            slots.append(("v", names.index(a)))
    return tuple(slots), names


def formula(op: Op, pat: Pattern, held: dict | None = None, zeros: bool = False) -> sp.Expr:
    """The op's scalar formula with the pattern's operands filled in.

    With ``held``, a non-finite constant (and with ``zeros`` a zero) enters as a
    placeholder symbol (recorded in ``held``): sympy would absorb ``x + -oo`` into
    ``-oo`` and lose its derivative, and make ``x / 0`` ``zoo * x``, whose derivative
    has no sign (NumPy's 1.0 / 0.0 is inf).
    """
    if op.formula is None:  # a structural op: its derivatives are its vjp and jvp
        raise GraphcError(f"op {op.name} has no scalar formula")

    def operand(kind: str, v: Any) -> sp.Expr:
        if kind == "v":
            return var(v)
        if held is None or math.isfinite(v) and not (zeros and v == 0):
            return as_number(v)
        placeholder = sp.Dummy(real=True)
        held[placeholder] = as_number(v)
        return placeholder

    return op.formula(*(operand(kind, v) for kind, v in pat))


HELD: dict[sp.Dummy, float] = {}
"""Placeholders that partials keep: each becomes its constant's node (x / 0 has
partial 1 / c, and c is 0.0 only once it is a node: 1.0 / 0.0 is then inf)."""


@cache
def partials(op: Op, pat: Pattern) -> tuple[sp.Expr, ...]:
    """d out / d (k-th distinct operand) for an elementwise op, in terms of x_k and out
    (and of ``HELD`` placeholders for zeros that sympy would divide by)."""
    for zeros in (False, True):
        held: dict[sp.Dummy, sp.Expr] = {}
        f = formula(op, pat, held, zeros)
        nvars = len({v for kind, v in pat if kind == "v"})
        reuse = {} if f.is_Atom else {f: OUT}
        kept = {d: v for d, v in held.items() if v == 0} if zeros else {}
        # powsimp only merges powers: sympy writes d x**y/dx as y*x**y/x, which is nan
        # at x = 0; y*x**(y - 1) is not. (No simplify: it rewrites sigmoid' into cosh.)
        found = tuple(sp.powsimp(sp.diff(f, var(k))).xreplace(reuse).xreplace(
            {d: v for d, v in held.items() if d not in kept}) for k in range(nvars))
        if zeros or not any(p.has(sp.zoo, sp.nan) for p in found):
            break
    HELD.update({d: float(v) for d, v in kept.items()})
    return found


THROUGH_BODY = sp.Symbol("through_the_body", real=True)
"""The partial of a lambda's call: built from the lambda's body, node by node."""


def bound(g: Graph, node: str) -> tuple[list[str], tuple[sp.Expr, ...]]:
    """The node's distinct variable operands and their partials (x_k, out unbound).

    A lambda's partials are ``THROUGH_BODY``: ``build_partial`` differentiates its
    body's nodes, as they compute. Its one sympy formula is simplified as it is built
    (``sqrt(x)**2`` is ``x``, ``exp(log(x))`` is ``x``), and its derivative would be
    that of the simplified formula: 1 at x = -2, where the lambda computes nan."""
    pat, names = pattern(g, node)
    if g.op(node).body is not None:
        return names, (THROUGH_BODY,) * len(names)
    if _collapses(g.op(node), pat):
        return names, (SLOT_BY_SLOT,) * len(names)
    return names, partials(g.op(node), pat)


SLOT_BY_SLOT = sp.Symbol("slot_by_slot", real=True)
"""The partial of an op whose formula sympy collapses on a repeated operand (``x / x``
is 1, so its derivative would be 0 at x = 0, where x / x is nan): the sum of each
slot's partial, added as nodes."""


@cache
def _collapses(op: Op, pat: Pattern) -> bool:
    """The pattern repeats an operand and sympy makes the formula a number."""
    slots = [v for kind, v in pat if kind == "v"]
    return len(set(slots)) < len(slots) and formula(op, pat).is_Number


def _slot_by_slot(g: Graph, node: str, wrt: str) -> str:
    """d node / d wrt as the sum over the slots holding ``wrt`` of each slot's partial,
    the slots taken as distinct operands (as JAX's chain rule does)."""
    pat, _ = pattern(g, node)
    slots = [a for a in g.args(node) if not g.is_const(a)]
    distinct, k = [], 0
    for kind, v in pat:
        distinct.append((kind, k) if kind == "v" else (kind, v))
        k += kind == "v"
    parts = partials(g.op(node), tuple(distinct))
    terms = [build_partial(g, node, j, parts[j], slots) for j, a in enumerate(slots)
             if a == wrt]
    total = terms[0]
    for t in terms[1:]:
        total = g.add("add", (total, t))
    return total


def _through_body(g: Graph, node: str, wrt: str) -> str:
    """d node / d wrt for a call of a lambda: its body's nodes added to ``g`` on the
    call's operands, and the chain rule through them as nodes (as JAX does it:
    ``d sqrt(x)**2 = 2 sqrt(x) * (0.5 / sqrt(x))``, nan where sqrt(x) is). Nodes are
    shared between calls on the same operands (``memo``), so a lambda that calls
    another twice costs it once."""
    memo = g.__dict__.setdefault("_through_body", {})
    key = (g.op(node).name, g.args(node), wrt)
    if (hit := memo.get(key)) is not None and hit in g.nx:
        return hit
    body = g.op(node).body
    (result,) = body.outputs
    at = dict(zip(body.inputs, g.args(node)))
    dots = {wrt: g.const(1.0)}  # d (node of g) / d wrt, where not zero
    for m in body.order():
        d = body.attrs(m)
        if d["op"] == "input":
            continue
        if d["op"] == "const":
            at[m] = g.const(d["params"]["value"])
            continue
        args = tuple(at[a] for a in d["args"])
        key_m = ("node", d["op"], args, tuple(sorted(d["params"].items())))
        n = memo.get(key_m)
        if n is None or n not in g.nx:
            n = memo[key_m] = g.add(d["op"], args, dict(d["params"]))
        at[m] = n
        if n in dots:
            continue
        if d["op"] == "alias":
            if args[0] in dots:
                dots[n] = dots[args[0]]
            continue
        names, parts = bound(g, n)
        terms = [g.add("mul", (build_partial(g, n, j, parts[j], names), dots[a]))
                 for j, a in enumerate(names) if a in dots]
        if terms:
            total = terms[0]
            for t in terms[1:]:
                total = g.add("add", (total, t))
            dots[n] = total
    memo[key] = dots.get(at[result], g.const(0.0))
    return memo[key]


def build_partial(g: Graph, node: str, k: int, expr: sp.Expr, names: list[str],
                  name: str | None = None) -> str:
    """Nodes computing partial ``expr`` of ``node`` w.r.t. its k-th operand."""
    if expr is THROUGH_BODY:
        return _through_body(g, node, names[k])
    if expr is SLOT_BY_SLOT:
        return _slot_by_slot(g, node, names[k])
    if expr.has(sp.I):  # (-2.0) ** a: NumPy's log(-2.0) is nan, and so is the partial (JAX)
        expr = sp.nan
    env = {var(i): n for i, n in enumerate(names)}
    env[OUT] = node
    for s in expr.free_symbols:
        if s in HELD:
            env[s] = g.const(HELD[s])
    found = replay(g, recipe(expr), env, name=name)
    if g.op(found).dtype == "bool":  # d(gt(x, 1) * x)/dx = gt(x, 1): a number, as x is
        return g.add("choose", (found, g.const(1.0), g.const(0.0), names[k]), name=name)
    return found


def local_derivatives(g: Graph) -> dict[tuple[str, str], sp.Expr]:
    """Symbolic d dst / d src for every edge whose source is not a constant."""
    result: dict[tuple[str, str], sp.Expr] = {}
    for node in g.order():
        op = g.op(node)
        if not g.args(node) or not op.differentiable:
            continue
        if op.elementwise:
            pat, names = pattern(g, node)
            parts = partials(op, pat)  # a lambda's simplified formula: for pictures only
            env = {var(i): sp.Symbol(n, real=True) for i, n in enumerate(names)}
            env[OUT] = sp.Symbol(node, real=True)
            env.update(HELD)
            for n, d in zip(names, parts):
                result[(n, node)] = d.xreplace(env)
        else:
            for slot, a in enumerate(g.args(node)):
                if op.grad_slots is not None and slot not in op.grad_slots:
                    continue
                if not g.is_const(a) and op.vjp is not None:
                    result[(a, node)] = result.get((a, node), 0) + _structural(g, node, slot)
    return result


def edge_values(g: Graph, env: dict[str, Any]) -> dict[tuple[str, str], Any]:
    """Numeric d dst / d src on every edge, at the checked input values ``env``.

    The partials are built as nodes in a copy of the graph and run by the
    interpreter, so the numbers are the ones the compiler's derivative nodes give.
    """
    h = g.copy()
    made: dict[tuple[str, str], str] = {}
    for node in g.order():
        op = g.op(node)
        if not g.args(node) or not op.differentiable:
            continue
        if op.elementwise:
            names, parts = bound(h, node)
            for k, (a, d) in enumerate(zip(names, parts)):
                made[(a, node)] = build_partial(h, node, k, d, names)
        elif Trait.IDENTITY in op.traits:
            for a in g.args(node)[:1]:
                if not g.is_const(a):
                    made[(a, node)] = h.const(1.0)
        elif op.pointwise and op.vjp is not None:  # where: its vjp of a seed 1, a number
            for a, d in zip(g.args(node), op.vjp(h, node, h.const(1.0))):
                if d is not None:
                    made[(a, node)] = d if (a, node) not in made else \
                        h.add("add", (made[(a, node)], d))
        # Tensor ops (matmul, sum, softmax...) have Jacobians, not numbers: no value.
    values = h.run(dict(env))
    return {edge: values[n] for edge, n in made.items()}


def _structural(g: Graph, node: str, slot: int) -> sp.Expr:
    """A structural op's local derivative: its vjp rule as text (``W_bar += ...``)."""
    op, args = g.op(node), g.args(node)
    if op.name == "where":
        cond = sp.Ne(sp.Symbol(args[0], real=True), 0)
        return sp.Piecewise((1, cond), (0, True)) if slot == 1 else \
            sp.Piecewise((0, cond), (1, True))
    if op.rules:
        rule = op.rules[min(slot, len(op.rules) - 1)]  # a list of operands: one rule each
        return sp.Symbol(rule.format(*args, out=node, k=slot))
    return sp.Integer(1)


class _ShortFloats(sp.printing.str.StrPrinter):
    def _print_Float(self, expr: sp.Float) -> str:
        return repr(float(expr))


_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def pretty(expr: Any) -> str:
    """A local derivative as a slide would show it: ``1 - y²``, ``0.5·x``, ``y·(1 - y)``."""
    text = _ShortFloats().doprint(sp.sympify(expr))
    text = re.sub(r"\*\*(-?\d+)\b", lambda m: m.group(1).translate(_SUPERSCRIPT), text)
    return text.replace("**", "^").replace("*", "·")


def to_sympy(g: Graph, of: str | None = None) -> sp.Expr:
    """The output as one sympy expression in the inputs (elementwise graphs only)."""
    env: dict[str, sp.Expr] = {}
    target = g.output(of)
    for node in g.order():
        d = g.attrs(node)
        op = g.op(node)
        if d["op"] == "input":
            env[node] = sp.Symbol(node, real=True)
        elif d["op"] == "const":
            env[node] = as_number(d["params"]["value"])
        elif op.formula is not None:  # elementwise
            env[node] = op.formula(*(env[a] for a in d["args"]))
        elif Trait.IDENTITY in op.traits:
            env[node] = env[d["args"][0]]
        else:
            raise GraphcError(f"node {node!r}: op {d['op']} has no scalar formula")
        if node == target:
            return env[node]
    raise GraphcError(f"no node {target!r}")
