"""Local derivatives: ``sympy.diff`` of each op's formula, bound per node.

The sympy work is cached per op and *pattern* (which operand slots hold the same node or
a constant), so a graph of 100,000 nodes does it a handful of times. A derivative that
contains the op's own formula uses the node's output instead (d tanh = 1 - out**2)."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator
from functools import cache, reduce
from typing import TYPE_CHECKING, Any

import sympy as sp

from ..errors import GraphcError
from ..ops import Op, Trait
from ..ops.choices import boolean
from .pretty import pretty as pretty  # printed derivatives: tests and pictures import it here
from .sympy_nodes import recipe, replay

if TYPE_CHECKING:
    from .graph import Graph

OUT = sp.Symbol("out", real=True)
Pattern = tuple[tuple[str, Any], ...]


@cache
def var(k: int) -> sp.Symbol:
    """The k-th operand symbol ``x0, x1, ...`` of op formulas."""
    return sp.Symbol(f"x{k}", real=True)


def as_number(value: float) -> sp.Expr:
    """A constant as sympy sees it: integers exact, so ``x**2`` differentiates to ``2*x``."""
    return sp.Integer(int(value)) if float(value).is_integer() else sp.Float(value)


def pattern(g: Graph, node: str) -> tuple[Pattern, list[str]]:
    """The node's operand pattern and its distinct non-constant operands, in slot order."""
    names = list(dict.fromkeys(a for a in g.args(node) if not g.is_const(a)))
    return tuple(("c", g.attrs(a)["params"]["value"]) if g.is_const(a) else ("v", names.index(a))
                 for a in g.args(node)), names


def formula(op: Op, pat: Pattern, held: dict | None = None, zeros: bool = False) -> sp.Expr:
    """The op's scalar formula with the pattern's operands filled in. With ``held``, a
    non-finite constant (with ``zeros`` a zero too) enters as a placeholder recorded in
    ``held``: sympy absorbs ``x + -oo`` into ``-oo`` and makes ``x / 0`` ``zoo * x``."""
    def operand(kind: str, v: Any) -> sp.Expr:
        if kind == "v":
            return var(v)
        if held is None or math.isfinite(v) and not (zeros and v == 0):
            return as_number(v)
        placeholder = sp.Dummy(real=True)
        held[placeholder] = as_number(v)
        return placeholder

    assert op.formula is not None  # every elementwise op has one
    return op.formula(*(operand(kind, v) for kind, v in pat))


# placeholders that partials keep, each its constant's node (x / 0 has partial 1 / c)
HELD: dict[sp.Dummy, float] = {}


@cache
def partials(op: Op, pat: Pattern) -> tuple[sp.Expr, ...]:
    """d out / d (k-th distinct operand) in terms of x_k, out and ``HELD`` placeholders."""
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


THROUGH_BODY = sp.Symbol("through_the_body", real=True)  # a lambda call's: through its body


def bound(g: Graph, node: str) -> tuple[list[str], tuple[sp.Expr, ...]]:
    """The node's distinct variable operands and their partials (x_k, out unbound). A
    lambda's are ``THROUGH_BODY``: sympy simplifies its formula (``sqrt(x)**2`` is ``x``),
    whose derivative is 1 at x = -2, where the lambda computes nan."""
    pat, names = pattern(g, node)
    if g.op(node).body is not None:
        return names, (THROUGH_BODY,) * len(names)
    if _collapses(g.op(node), pat):
        return names, (SLOT_BY_SLOT,) * len(names)
    return names, partials(g.op(node), pat)


SLOT_BY_SLOT = sp.Symbol("slot_by_slot", real=True)
"""The partial of an op whose formula sympy collapses on a repeated operand (``x / x``
is 1, derivative 0 at x = 0, where x / x is nan): the sum of each slot's partial."""


@cache
def _collapses(op: Op, pat: Pattern) -> bool:
    """The pattern repeats an operand and sympy makes the formula a number."""
    slots = [v for kind, v in pat if kind == "v"]
    return len(set(slots)) < len(slots) and formula(op, pat).is_Number


def _slots(g: Graph, node: str) -> tuple[list[str], list[int], tuple[sp.Expr, ...]]:
    """The node's variable operands slot by slot, repeats kept, their argument positions,
    and the partial in each slot: the op's formula differentiated in each operand as if
    all were distinct."""
    where = [k for k, a in enumerate(g.args(node)) if not g.is_const(a)]
    k = itertools.count()
    distinct = tuple((kind, next(k)) if kind == "v" else (kind, v)
                     for kind, v in pattern(g, node)[0])
    return [g.args(node)[k] for k in where], where, partials(g.op(node), distinct)


def _slot_by_slot(g: Graph, node: str, wrt: str) -> str:
    """d node / d wrt: the sum of each slot's partial over the slots holding ``wrt`` (as JAX)."""
    slots, _, parts = _slots(g, node)
    return _total(g, [build_partial(g, node, j, parts[j], slots)
                      for j, a in enumerate(slots) if a == wrt])


def _total(g: Graph, terms: list[str]) -> str:
    return reduce(lambda total, t: g.add("add", (total, t)), terms)


def _through_body(g: Graph, node: str, wrt: str) -> str:
    """d node / d wrt for a lambda call: the chain rule through its body's nodes added on the
    call's operands, nan where JAX's is (``d sqrt(x)**2``); ``memo`` shares them by operands."""
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
        if (n := memo.get(key_m)) is None or n not in g.nx:
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
            dots[n] = _total(g, terms)
    memo[key] = dots.get(at[result], g.const(0.0))
    return memo[key]


def build_partial(g: Graph, node: str, k: int, expr: sp.Expr, names: list[str]) -> str:
    """Nodes computing partial ``expr`` of ``node`` w.r.t. its k-th operand."""
    if expr is THROUGH_BODY:
        return _through_body(g, node, names[k])
    if expr is SLOT_BY_SLOT:
        return _slot_by_slot(g, node, names[k])
    if expr.has(sp.I):  # (-2.0) ** a: NumPy's log(-2.0) is nan, and so is the partial (JAX)
        expr = sp.nan
    env = {var(i): n for i, n in enumerate(names)} | {OUT: node}
    env.update((s, g.const(HELD[s])) for s in expr.free_symbols if s in HELD)
    found = replay(g, recipe(expr), env)
    if g.op(found).dtype == "bool":  # d(gt(x, 1) * x)/dx = gt(x, 1): a number, as x is
        return g.add("choose", (found, g.const(1.0), g.const(0.0), names[k]))
    return found


def local_derivatives(g: Graph, adjoint: Callable[[str], str] | None = None
                      ) -> dict[tuple[str, str], sp.Expr]:
    """Symbolic d dst / d src for every edge whose source is not a constant; a
    structural op's vjp rule writes a node's adjoint as ``adjoint(node)`` (``t_bar``)."""
    result: dict[tuple[str, str], sp.Expr] = {}
    for node, op in _differentiable(g):
        if op.elementwise:
            pat, names = pattern(g, node)
            parts = partials(op, pat)  # a lambda's simplified formula: for pictures only
            env = {var(i): sp.Symbol(n, real=True) for i, n in enumerate(names)}
            env |= {OUT: sp.Symbol(node, real=True), **HELD}
            for n, d in zip(names, parts):
                result[(n, node)] = d.xreplace(env)
        else:
            for (a, _, _), rule in _structural_slots(g, node, adjoint):
                result[(a, node)] = result.get((a, node), 0) + rule
    return result


Edge = tuple[str, str, int]
"""One use of an operand: (operand, node, argument position). ``b = a + a`` has two."""


def repeated(g: Graph, node: str) -> bool:
    """The node uses some variable operand in more than one argument position."""
    slots = [a for a in g.args(node) if not g.is_const(a)]
    return len(set(slots)) < len(slots)


def positions(g: Graph, node: str, a: str) -> list[int]:
    """The argument positions of ``node`` that hold ``a``."""
    return [k for k, b in enumerate(g.args(node)) if b == a]


def slot_derivatives(g: Graph, adjoint: Callable[[str], str] | None = None
                     ) -> dict[Edge, sp.Expr]:
    """``local_derivatives`` one per argument position, for the teaching views: ``a + a``
    is two edges a -> b, each with derivative 1, where the compiler's one edge has 2
    (``a * a``: ``a`` and ``a``). A lambda called with an operand twice keeps one edge,
    at its first position (its derivative is the chain rule through its body)."""
    merged = local_derivatives(g, adjoint)
    result: dict[Edge, sp.Expr] = {}
    for node, op in _differentiable(g):
        if not repeated(g, node) or op.elementwise and op.body is not None:
            result.update(((a, node, positions(g, node, a)[0]), d)
                          for (a, v), d in merged.items() if v == node)
        elif op.elementwise:
            slots, where, parts = _slots(g, node)
            env = {var(j): sp.Symbol(a, real=True) for j, a in enumerate(slots)}
            env |= {OUT: sp.Symbol(node, real=True), **HELD}
            result.update(((a, node, k), d.xreplace(env))
                          for a, k, d in zip(slots, where, parts))
        else:
            result.update(_structural_slots(g, node, adjoint))
    return result


def _structural_slots(g: Graph, node: str, adjoint: Callable[[str], str] | None
                      ) -> Iterator[tuple[Edge, sp.Expr]]:
    """A structural op's rule for each argument position that passes a derivative back
    (booleans and integers pass none: select's condition, an index)."""
    op = g.op(node)
    if op.vjp is None and op.expand is None:
        return
    for slot, a in enumerate(g.args(node)):
        if not g.is_const(a) and not g.integer(a) and not boolean(g, a) and (
                op.grad_slots is None or slot in op.grad_slots):
            yield (a, node, slot), _structural(g, node, slot,
                                               adjoint or (lambda n: f"{g.shown(n)}_bar"))


def edge_values(g: Graph, env: dict[str, Any]) -> dict[tuple[str, str], Any]:
    """Numeric d dst / d src on every edge, at the checked input values ``env``: the
    partials built as nodes in a copy of the graph, as the compiler builds them, and run."""
    return _edge_values(g, env, by_slot=False)


def slot_values(g: Graph, env: dict[str, Any]) -> dict[Edge, Any]:
    """``edge_values`` one per argument position, as ``slot_derivatives`` has them."""
    return _edge_values(g, env, by_slot=True)


def _edge_values(g: Graph, env: dict[str, Any], by_slot: bool) -> dict[tuple, Any]:
    h = g.copy()
    made: dict[tuple, str] = {}

    def put(a: str, node: str, k: int, d: str) -> None:
        edge = (a, node, k) if by_slot else (a, node)
        made[edge] = h.add("add", (made[edge], d)) if edge in made else d

    for node, op in _differentiable(g):
        if op.elementwise and by_slot and repeated(g, node) and op.body is None:
            slots, where, parts = _slots(h, node)
            for j, (a, k) in enumerate(zip(slots, where)):
                put(a, node, k, build_partial(h, node, j, parts[j], slots))
        elif op.elementwise:
            names, parts = bound(h, node)
            for k, (a, d) in enumerate(zip(names, parts)):
                put(a, node, positions(g, node, a)[0], build_partial(h, node, k, d, names))
        elif Trait.IDENTITY in op.traits:
            if not g.is_const(a := g.args(node)[0]):
                put(a, node, 0, h.const(1.0))
        elif op.pointwise and op.vjp is not None:  # where: its vjp of a seed 1, a number
            for k, (a, d) in enumerate(zip(g.args(node), op.vjp(h, node, h.const(1.0)))):
                if d is not None:
                    put(a, node, k, d)
        # Tensor ops (matmul, sum, softmax...) have Jacobians, not numbers: no value.
    values = h.run(dict(env))
    return {edge: values[n] for edge, n in made.items()}


def _differentiable(g: Graph) -> Iterator[tuple[str, Op]]:
    for node in g.order():
        op = g.op(node)
        if g.args(node) and op.differentiable:
            yield node, op


def _structural(g: Graph, node: str, slot: int, adjoint: Callable[[str], str]) -> sp.Expr:
    """A structural op's local derivative: its vjp rule as text (``W_bar += ...``)."""
    op, args = g.op(node), g.args(node)
    if op.name == "where":
        cond = sp.Symbol(args[0])  # a node of bools
        return sp.Piecewise((1, cond), (0, True)) if slot == 1 else \
            sp.Piecewise((0, cond), (1, True))
    if op.rules:
        # a list of operands (concatenate([a, b])): one rule, operand k's
        rule = op.rules[0 if op.varargs in ("list", "lists") else slot]
        text = rule if isinstance(rule, str) else rule(g, node)
        return sp.Symbol(text.replace("{out}_bar", "{bar}").format(  # names as printed
            *map(g.shown, args), out=g.shown(node), k=slot, bar=adjoint(node)))
    # an op derivatives are made of (a gradient graph drawn): 1 only where it is one
    return sp.Integer(1) if Trait.IDENTITY in op.traits else \
        sp.Symbol(f"{op.name}'s adjoint of {adjoint(node)}")


def to_sympy(g: Graph, of: str | None = None) -> sp.Expr:
    """The output as one sympy expression in the inputs (elementwise graphs only)."""
    env: dict[str, sp.Expr] = {}
    target = g.output(of)
    for node in g.order():
        d, op = g.attrs(node), g.op(node)
        if d["op"] == "input":
            env[node] = sp.Symbol(node, real=True)
        elif d["op"] == "const":
            env[node] = as_number(d["params"]["value"])
        elif op.formula is not None:  # elementwise (round's decimals: a parameter)
            env[node] = op.formula(*(env[a] for a in d["args"]), **d["params"])
        elif Trait.IDENTITY in op.traits:
            env[node] = env[d["args"][0]]
        else:
            raise GraphcError(f"node {node!r}: op {d['op']} has no scalar formula")
        if node == target:
            return env[node]
    raise GraphcError(f"no node {target!r}")
