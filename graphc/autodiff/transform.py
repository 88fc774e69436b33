"""Reverse and forward mode as graph transforms: Graph -> Graph with x_bar / x_dot nodes.

The result is an ordinary Graph in the same IR, so it can be optimized, emitted,
rendered and differentiated again. Elementwise ops get their local derivatives from
``derive.py``; structural ops bring their own ``vjp``/``jvp`` rules from the op table.
"""

from __future__ import annotations

import functools
import math
from collections import Counter
from typing import Any

import numpy as np
import sympy as sp

from ..errors import GraphcError, UndefinedNameError
from ..ir.collector import paused_gc
from ..ir.derive import bound, build_partial
from ..ir.graph import Graph
from ..ops import Trait
from ..ops.directions import TANGENT_LIMIT
from ..ops.shapes import numeric
from ..ops.tensor import reduce_to


def resolve_wrt(g: Graph, wrt: str | list[str] | None) -> list[str]:
    """The inputs to differentiate with respect to, checked; all inputs by default but
    the integer ones (indices), which are never differentiated."""
    if wrt is None:
        return [i for i in g.inputs if not g.integer(i)]
    try:
        names = [w.strip() for w in wrt.split(",")] if isinstance(wrt, str) else list(wrt)
    except TypeError:  # wrt=5
        raise GraphcError(f"wrt={wrt!r}: expected an input's name, names separated by "
                          "commas, or a list of names") from None
    for w in names:
        if w not in g.inputs:
            raise UndefinedNameError(f"wrt={w!r} is not an input "
                                     f"(inputs: {', '.join(g.inputs)})")
        if g.integer(w):
            raise GraphcError(f"wrt={w!r}: {w} is an integer input (indices, labels), "
                              "which has no derivative")
    if len(set(names)) != len(names):
        raise UndefinedNameError(f"wrt names an input twice: {', '.join(names)}")
    return names


def _between(g: Graph, sources: list[str], upstream: set[str]) -> set[str]:
    """Nodes on a path from a source to the output; ``upstream``: the output's cone."""
    return upstream & g.downstream([s for s in sources if s in upstream])


def _free_inputs(g: Graph, upstream: set[str]) -> list[str]:
    """Undeclared inputs in the output's cone: their shapes are known at call time."""
    return [i for i in g.inputs if i in upstream and not g.attrs(i)["params"]["declared"]]


def _times(g: Graph, factor: sp.Expr, v: str, k: int, names: list[str], x: str,
           name: str | None = None) -> str | None:
    """Node ``name`` for ``x * factor``, factor a partial of v; None for a zero factor."""
    if factor == 0:
        return None
    if factor == 1:
        return x
    if factor == -1:
        return g.add("neg", (x,), name=name)
    return g.add("mul", (x, build_partial(g, v, k, factor, names)), name=name)


def _broadcasts(g: Graph, a: str, v: str) -> bool:
    """v may have more elements than its operand a: their static shapes differ, or v's
    shape is known only at call time (an undeclared input broadcast it) and a's is not."""
    return g.shape(a) != g.shape(v) or g.elastic(v) and not g.elastic(a)


def _may_broadcast(g: Graph, a: str, v: str) -> bool:
    """v's shape may be bigger than its operand a's at call time, though their static
    shapes agree: another operand of v has a shape known only then."""
    return g.elastic(a) and any(b != a and g.elastic(b) for b in g.args(v))


def _sum(g: Graph, parts: list[str]) -> str:
    return functools.reduce(lambda acc, p: g.add("add", (acc, p)), parts)


def _name(g: Graph, node: str, want: str) -> str:
    """Show a freshly made temp node under a readable name (it stays the node it
    is: others may hold it already); alias an existing node."""
    if g.attrs(node)["temp"] and g.attrs(node)["op"] != "const":
        g.show_as(node, want)
        return node
    return g.add("alias", (node,), name=want)


@paused_gc()  # builds many nodes, like optimize
def reverse(g: Graph, wrt: str | list[str] | None = None, of: str | None = None,
            seed: str | None = None) -> Graph:
    """The gradient graph: outputs ``[of, a_bar, b_bar, ...]`` for the ``wrt`` inputs;
    ``seed``, a node of the output's shape, is the output's adjoint (ones by default):
    the gradients are then its vjps."""
    out = g.output(of)
    wrt = resolve_wrt(g, wrt)
    h = _expanded(g, wrt, out)
    order = h.order()
    upstream = h.upstream([out])
    live = _between(h, wrt, upstream)
    free = _free_inputs(h, upstream)
    fan = Counter(a for v in live if h.op(v).differentiable  # else no adjoint: np.shape(x)
                  for a in set(h.args(v)) if a in live)
    inputs = set(h.inputs)
    stretched = seed is None and _stretched(h, upstream)
    pending: dict[str, list[tuple[int, str]]] = {}
    adjoint: dict[str, str] = {}
    position = {n: i for i, n in enumerate(order)}
    turns = []
    flowing: dict[str, tuple[str, str]] = {}  # see Meta.parts
    for v in reversed(order):
        if v not in live:
            continue
        turns.append((v, len(h.nx)))
        if v == out:
            vbar = seed or (h.const(1.0) if stretched else
                            h.add("ones_like", (out,), name=h.fresh(f"{out}_bar")))
        else:
            parts = [c for _, c in sorted(pending.pop(v, []))]  # in the order of the graph
            if not parts:  # every path from v to the output has a zero local derivative
                continue
            vbar = _sum(h, parts)
            if len(parts) > 1 and v not in inputs:
                vbar = _name(h, vbar, h.fresh(f"{v}_bar"))
        adjoint[v] = vbar
        # its operands broadcast against each other: each contribution is summed back to
        # its operand's shape (the identities, broadcast_like..., carry their own sums)
        spreads = h.op(v).pointwise and Trait.IDENTITY not in h.op(v).traits
        whole = {a for a in h.args(v) if fan[a] == 1 and a not in inputs and not (  # a's adjoint
            spreads and (h.shape(a) != h.shape(v) or not stretched and _may_broadcast(h, a, v)))}
        for a, c in _vjp(h, v, vbar, live, whole):
            # each contribution is summed to its operand's shape on its own: added to
            # another of a different shape first, it would be stretched over that one's
            # (with every shape declared the axes are known now: np.sum(h_bar, axis=0))
            if spreads and (_broadcasts(h, a, v) or not stretched and _may_broadcast(h, a, v)):
                c = h.add("sum_to", (c, a)) if free else reduce_to(h, c, h.shape(v), h.shape(a))
            # v's own adjoint (a factor of 1) keeps its name: v's entry and the other
            # operands it passes to read it too
            if fan[a] == 1 and a not in inputs and c != vbar and h.attrs(c)["temp"]:
                c = _name(h, c, h.fresh(f"{a}_bar"))
            flowing.setdefault(c, (a, v))
            pending.setdefault(a, []).append((position[v], c))
    grads = []
    for w in wrt:
        if w not in adjoint:
            grads.append(h.add("zeros_like", (w,), name=h.fresh(f"{w}_bar")))
            continue
        # stretched: the adjoint stretched over the output, as its seed would be
        total = h.add("broadcast_like", (adjoint[w], out)) if stretched else adjoint[w]
        if stretched and w in free and len(free) > 1:
            grads.append(h.add("sum_to", (total, w), name=h.fresh(f"{w}_bar")))
        else:
            grads.append(_name(h, total, h.fresh(f"{w}_bar")))
    adjoint.update(zip(wrt, grads))
    h.outputs = [out, *grads]
    h.meta.mode, h.meta.wrt, h.meta.of = "reverse", wrt, out
    h.meta.adjoints, h.meta.stretched, h.meta.turns = adjoint, stretched, turns
    h.meta.parts = flowing
    return h


def _expanded(g: Graph, wrt: list[str], out: str) -> Graph:
    """A copy of g with each op between ``wrt`` and ``out`` written in its simpler ops
    (its ``expand``), whose values the backward reads (cross_entropy's log-probabilities)."""
    if not any(g.op(v).expand for v in g.nx):
        return g.copy()
    live = _between(g, wrt, g.upstream([out]))

    def add(new: Graph, v: str, d: dict) -> None:
        expand = new.op_named(d["op"]).expand
        if v in live and expand is not None:
            expand(new, d["args"], d["params"], v, d["temp"])
        else:
            new.add_like(v, d, d["args"])
    return g.rebuilt(add)


def adjoint_values(h: Graph, values: dict[str, Any]) -> dict[str, Any]:
    """Each node's adjoint, from ``values``, an evaluation of the gradient graph ``h``;
    a stretched one (``_stretched``) shown stretched over the output, summed to the node's shape."""
    adjoints = h.meta.adjoints
    if not h.meta.stretched:
        return {v: values[a] for v, a in adjoints.items()}
    wrt, out = set(h.meta.wrt), np.shape(values[h.meta.of])
    sum_to = h.op_named("sum_to").fn
    return {v: values[a] if v in wrt else
            sum_to(np.broadcast_to(values[a], np.broadcast_shapes(np.shape(values[a]), out)),
                   values[v])
            for v, a in adjoints.items()}


def _stretched(g: Graph, upstream: set[str]) -> bool:
    """Every input in the cone undeclared and every op pointwise (``broadcast_like``'s
    derivative is not: ``UNSTACKED``): every adjoint is one array stretched over the output,
    so the seed is the number 1 and each gradient is broadcast once at the end, instead of
    carrying ``ones_like(out)`` through every product for the optimizer to pull apart."""
    return all(g.op(n).pointwise and Trait.UNSTACKED not in g.op(n).traits
               and not (g.attrs(n)["op"] == "input" and g.attrs(n)["params"]["declared"])
               for n in upstream)


def _vjp(h: Graph, v: str, vbar: str, live: set[str], whole: set[str]) -> list[tuple[str, str]]:
    """(operand, contribution to its adjoint) for each live operand of v; a contribution
    that is the ``whole`` adjoint of its operand is named for it."""
    op = h.op(v)
    if not op.differentiable:
        return []
    if op.elementwise:
        names, parts = bound(h, v)
        found = [(a, _times(h, d, v, k, names, vbar, h.fresh(f"{a}_bar") if a in whole else None))
                 for k, (a, d) in enumerate(zip(names, parts)) if a in live]
        return [(a, c) for a, c in found if c is not None]
    if op.vjp is None:
        raise GraphcError(f"op {op.name} (node {v!r}) has no derivative rule" + (
            "; it makes forward mode's stacked tangents: differentiate a reverse-mode "
            "gradient instead" if Trait.STACKING in op.traits else ""))
    slots = op.vjp(h, v, vbar)
    merged: dict[str, list[str]] = {}
    for a, c in zip(h.args(v), slots):
        if c is not None and a in live:
            merged.setdefault(a, []).append(c)
    return [(a, _sum(h, cs)) for a, cs in merged.items()]


@paused_gc()  # builds many nodes, like optimize
def forward(g: Graph, wrt: str | list[str] | None = None, of: str | None = None) -> Graph:
    """Forward mode: one tangent sweep per ``wrt`` input.

    Elementwise graphs are seeded with ones: the Jacobian is diagonal up to
    broadcasting, so one sweep gives the whole gradient, and arrays of any size work.
    Graphs with tensor ops carry every unit direction of the input at once, stacked
    on a leading axis (declared shapes needed); the cost is one sweep per element.
    """
    out = g.output(of)
    wrt = resolve_wrt(g, wrt)
    h = g.copy()
    upstream = h.upstream([out])
    free = _free_inputs(h, upstream)
    grads = []
    tangents: dict[str, dict[str, str]] = {}
    for w in wrt:
        suffix = f"_dot_{w}" if len(wrt) > 1 else "_dot"
        live = _between(h, [w], upstream)
        stacked = not all(h.op(n).pointwise for n in live)  # else a diagonal Jacobian
        if stacked:
            _check_declared(h, live)
            _check_size(h, w, live)
        seeds = {w: h.add("basis" if stacked else "ones_like", (w,), name=h.fresh(w + suffix))
                 } if w in live else {}  # w comes first of the nodes on its paths
        dots = tangents[w] = sweep(h, seeds, live, stacked, suffix)
        name = h.fresh(f"d{out}_d{w}" if f"d{out}_d{w}".isidentifier() else "grad")
        if out not in dots:
            grads.append(h.add("zeros_like", (w,), name=name))
        elif stacked and any(i not in live for i in free):
            # an undeclared input off w's paths may broadcast the output past its tangent
            # (X: [2, 3]; y = sum(X) + b): each tangent element stands for out.size /
            # (tangent.size / w.size) elements of the output, and the seed sums them all
            summed = h.add("from_directions", (dots[out], w))
            per_direction = h.add("mul", (h.add("size_ratio", (out, dots[out])),
                                          h.add("size_ratio", (w, h.const(1.0)))))
            grads.append(h.add("mul", (summed, per_direction), name=name))
        elif stacked:
            grads.append(h.add("from_directions", (dots[out], w), name=name))
        elif w in free and len(free) > 1 or _broadcasts(h, w, out):
            spread = h.add("broadcast_like", (dots[out], out))
            grads.append(h.add("sum_to", (spread, w), name=name))
        else:
            grads.append(_name(h, dots[out], name))
    h.outputs = [out, *grads]
    h.meta.mode, h.meta.wrt, h.meta.of = "forward", wrt, out
    h.meta.tangents = tangents
    return h


def sweep(h: Graph, seeds: dict[str, str], live: set[str], stacked: bool,
          suffix: str = "_dot", one: bool = False) -> dict[str, str]:
    """Each ``live`` node's tangent, from the ``seeds`` (node -> its tangent), which come
    first of the nodes on their paths; ``stacked``: tangents carry a direction axis;
    ``one``: one direction without that axis through tensor ops too (``_one_jvp``)."""
    dots = dict(seeds)
    for v in h.order():
        if v in live and v not in seeds and (t := _jvp(h, v, dots, stacked, one)) is not None:
            dots[v] = _name(h, t, h.fresh(v + suffix)) if h.attrs(t)["temp"] else t
    return dots


def _check_declared(g: Graph, live: set[str], instead: str | None = "mode='reverse'") -> None:
    """Direction-stacked tangents need every shape on the path: a reduction of a value
    of unknown shape does not know which axes carry the directions. ``instead``: the
    way out the error names."""
    for n in g.order():
        op = g.op(n)  # a pointwise op stacks as NumPy broadcasts: any shape will do
        if n in live and (not op.pointwise and any(g.elastic(a) for a in g.args(n))
                          or g.elastic(n) and (not op.pointwise or Trait.UNSTACKED in op.traits
                                               and Trait.IDENTITY not in op.traits)):
            free = sorted(i for i in g.upstream([n]) & set(g.inputs) if g.elastic(i))
            raise GraphcError(f"forward mode through {g.attrs(n)['op']} (node {n!r}) needs "
                              f"declared shapes: declare {', '.join(free)} (e.g. "
                              f"{free[0]}: [N])" + (f", or use {instead}" if instead else ""))


def _check_size(g: Graph, w: str, live: set[str]) -> None:
    sizes = {v: numeric(g.shape(v)) for v in live}
    known = {v: math.prod(s) for v, s in sizes.items() if s is not None}
    if len(known) == len(sizes):
        n, biggest = known[w], max(known.values())
        if n * biggest > TANGENT_LIMIT:
            raise GraphcError(f"forward mode with respect to {w} would carry {n} directions "
                              f"through nodes of {biggest} elements ({n * biggest:,} numbers"
                              "): use mode='reverse', which needs one sweep")


def _jvp(h: Graph, v: str, dots: dict[str, str], stacked: bool, one: bool = False) -> str | None:
    op = h.op(v)
    if not op.differentiable:
        return None
    if one and not (op.elementwise or op.pointwise):
        return _one_jvp(h, v, dots)
    if op.elementwise:
        names, parts = bound(h, v)
        ndim = len(h.shape(v))
        terms: list[str] = []
        for k, (a, d) in enumerate(zip(names, parts)):
            if a in dots:
                dot = dots[a]
                if stacked and h.elastic(v):  # v's dims are known only at call time
                    dot = h.add("lift_like", (dot, v))
                elif stacked and len(h.shape(a)) < ndim:
                    dot = h.add("lift", (dot,), {"ndim": ndim})
                term = _times(h, d, v, k, names, dot)
                if term is not None:  # a zero factor adds nothing
                    terms.append(term)
        if not terms:
            return None
        total = _sum(h, terms)
        if stacked and any(_broadcasts(h, a, v) or _may_broadcast(h, a, v)
                           for a in names if a in dots):
            total = h.add("spread", (total, v))
        return total
    # operands without a derivative (broadcast_like's like, an index) pass no tangent
    tangents = tuple(dots.get(a) if op.grad_slots is None or k in op.grad_slots else None
                     for k, a in enumerate(h.args(v)))
    if all(t is None for t in tangents):  # on the path, but every tangent is zero: x - x
        return None
    if not (op.pointwise or stacked) or op.jvp is None:
        raise GraphcError(f"forward mode through {op.name} (node {v!r}) is not supported: "
                          "use mode='reverse'")
    return op.jvp(h, v, tangents)


def _one_jvp(h: Graph, v: str, dots: dict[str, str]) -> str | None:
    """One direction through a tensor op, whose jvp rule takes direction-stacked
    tangents: each tangent spread to its operand's shape (an elementwise op's may be
    smaller) and given the direction axis, the result squeezed. Those are views: the
    elementwise ops around, the most of an HVP, run on plain arrays that share buffers
    with the gradient's (the memory plan pairs equal shapes)."""
    args = h.args(v)
    if all(dots.get(a) is None for a in args):
        return None
    plain = Trait.AXES_FROM_END in h.op(v).traits  # its rule takes them as they are
    lifted = {}
    for a in args:
        if (t := dots.get(a)) is not None:
            if h.shape(t) != h.shape(a):
                t = h.add("broadcast_like", (t, a))
            lifted[a] = t if plain else h.add("expand_dims", (t,), {"axis": 0})
    t = _jvp(h, v, lifted, True)
    if t is None or plain:
        return t
    if h.shape(t)[1:] != h.shape(v):
        t = h.add("spread", (t, v))
    return h.add("squeeze", (t,), {"axis": 0})
