"""Reverse and forward mode as graph transforms: Graph -> Graph with x_bar / x_dot nodes.

The result is an ordinary Graph in the same IR, so it can be optimized, emitted,
rendered and differentiated again. Elementwise ops get their local derivatives from
``derive.py``; structural ops bring their own ``vjp``/``jvp`` rules from the op table.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import sympy as sp

from ..errors import GraphcError, UndefinedNameError
from ..ir.collector import paused_gc
from ..ir.derive import bound, build_partial
from ..ir.graph import Graph
from ..ops import Trait
from ..ops.shapes import numeric
from ..ops.tensor import TANGENT_LIMIT, reduce_to


def resolve_wrt(g: Graph, wrt: str | list[str] | None) -> list[str]:
    """The inputs to differentiate with respect to, checked; all inputs by default."""
    if wrt is None:
        return list(g.inputs)
    try:
        names = [w.strip() for w in wrt.split(",")] if isinstance(wrt, str) else list(wrt)
    except TypeError:  # wrt=5
        raise GraphcError(f"wrt={wrt!r}: expected an input's name, names separated by "
                          "commas, or a list of names") from None
    for w in names:
        if w not in g.inputs:
            raise UndefinedNameError(f"wrt={w!r} is not an input "
                                     f"(inputs: {', '.join(g.inputs)})")
    if len(set(names)) != len(names):
        raise UndefinedNameError(f"wrt names an input twice: {', '.join(names)}")
    return names


def _between(g: Graph, sources: list[str], upstream: set[str]) -> set[str]:
    """Nodes on some path from a source to the output (both ends included), given
    ``upstream``, the output and all it depends on."""
    return upstream & g.downstream([s for s in sources if s in upstream])


def _free_inputs(g: Graph, upstream: set[str]) -> list[str]:
    """Undeclared inputs that reach the output (``upstream``, the output and all it
    depends on): their shapes are only known at call time."""
    return [i for i in g.inputs if i in upstream and not g.attrs(i)["params"]["declared"]]


def _times(g: Graph, factor: sp.Expr, v: str, k: int, names: list[str], x: str,
           name: str | None = None) -> str | None:
    """Node for ``x * factor`` where factor is a partial of v; None for a zero factor.

    ``name`` names the node when one is made (so it need not be renamed later).
    """
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


def _unbroadcast(g: Graph, c: str, a: str, v: str, known: bool) -> str:
    """The one place broadcast axes are summed away: v's adjoint, to a's shape.

    With every input's shape declared the axes are known now and the sum reads like
    the lecture's (``np.sum(h_bar, axis=0)`` for a bias); otherwise ``_sum_to`` finds
    them at call time.
    """
    if not known:
        return g.add("sum_to", (c, a))
    return reduce_to(g, c, g.shape(v), g.shape(a))


def _sum(g: Graph, parts: list[str]) -> str:
    acc = parts[0]
    for p in parts[1:]:
        acc = g.add("add", (acc, p))
    return acc


def _name(g: Graph, node: str, want: str) -> str:
    """Show a freshly made temp node under a readable name (it stays the node it
    is: others may hold it already); alias an existing node."""
    if g.attrs(node)["temp"] and g.attrs(node)["op"] != "const":
        g.show_as(node, want)
        return node
    return g.add("alias", (node,), name=want)


@paused_gc()  # builds many nodes, like optimize
def reverse(g: Graph, wrt: str | list[str] | None = None, of: str | None = None) -> Graph:
    """The gradient graph: outputs ``[of, a_bar, b_bar, ...]`` for the ``wrt`` inputs."""
    out = g.output(of)
    wrt = resolve_wrt(g, wrt)
    h = _expanded(g, wrt, out)
    order = h.order()
    upstream = h.upstream([out])
    live = _between(h, wrt, upstream)
    free = _free_inputs(h, upstream)
    fan = {n: 0 for n in live}
    for v in live:
        if not h.op(v).differentiable:  # passes no adjoint back (np.shape(x)[0])
            continue
        for a in set(h.args(v)):
            if a in live:
                fan[a] += 1
    inputs = set(h.inputs)
    stretched = _stretched(h, upstream)
    pending: dict[str, list[tuple[int, str]]] = {}
    adjoint: dict[str, str] = {}
    position = {n: i for i, n in enumerate(order)}
    for v in reversed(order):
        if v not in live:
            continue
        if v == out:
            vbar = h.const(1.0) if stretched else \
                h.add("ones_like", (out,), name=h.fresh(f"{out}_bar"))
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

        def name_of(a: str) -> str | None:  # a contribution that is a's whole adjoint
            if fan[a] == 1 and a not in inputs and not (  # noqa: B023 - used right away
                    spreads and (h.shape(a) != h.shape(v)  # noqa: B023
                                 or not stretched and _may_broadcast(h, a, v))):  # noqa: B023
                return h.fresh(f"{a}_bar")
            return None

        for a, c in _vjp(h, v, vbar, live, name_of):
            # each contribution is summed to its operand's shape on its own: added to
            # another of a different shape first, it would be stretched over that one's
            if spreads and (_broadcasts(h, a, v) or not stretched and _may_broadcast(h, a, v)):
                c = _unbroadcast(h, c, a, v, known=not free)
            # v's own adjoint (a factor of 1) keeps its name: v's entry and the other
            # operands it passes to read it too
            if fan[a] == 1 and a not in inputs and c != vbar and h.attrs(c)["temp"]:
                c = _name(h, c, h.fresh(f"{a}_bar"))
            pending.setdefault(a, []).append((position[v], c))
    grads = []
    for w in wrt:
        if w not in adjoint:
            grads.append(h.add("zeros_like", (w,), name=h.fresh(f"{w}_bar")))
            continue
        total = adjoint[w]
        if stretched:  # the adjoint stretched over the output, as its seed would be
            total = h.add("broadcast_like", (total, out))
        if stretched and w in free and len(free) > 1:
            grads.append(h.add("sum_to", (total, w), name=h.fresh(f"{w}_bar")))
            continue
        grads.append(_name(h, total, h.fresh(f"{w}_bar")))
    adjoint.update(zip(wrt, grads))
    h.outputs = [out, *grads]
    h.meta.mode, h.meta.wrt, h.meta.of = "reverse", wrt, out
    h.meta.adjoints, h.meta.stretched = adjoint, stretched
    return h


def _expanded(g: Graph, wrt: list[str], out: str) -> Graph:
    """A copy of g with each op between ``wrt`` and ``out`` that has an ``expand``
    written in its simpler ops, whose values the backward then reads
    (cross_entropy's log-probabilities)."""
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
    """Each node's adjoint, from ``values``, an evaluation of the gradient graph ``h``.

    A stretched gradient (see ``_stretched``) carries an adjoint in the smallest shape
    that broadcasts to the output's; shown, it is stretched over the output and summed
    to the node's own shape, as an input's gradient is.
    """
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
    """True when every input the output depends on is undeclared (its shape known only
    at call time) and every op is pointwise: then every adjoint is the same array
    stretched over the output's shape, and reverse mode seeds with the number 1 and
    broadcasts each gradient once at the end, instead of carrying ``ones_like(out)``
    through every product for the optimizer to pull apart again. Not through
    ``broadcast_like``, whose derivative sums an adjoint of its full shape (``UNSTACKED``)."""
    for n in upstream:
        d = g.attrs(n)
        if Trait.UNSTACKED in g.op(n).traits or d["op"] == "input" and d["params"]["declared"]:
            return False
    return _pointwise(g, upstream)


def _vjp(h: Graph, v: str, vbar: str, live: set[str],
         name_of: Callable[[str], str | None]) -> list[tuple[str, str]]:
    """(operand, contribution to its adjoint) for each live operand of v."""
    op = h.op(v)
    if not op.differentiable:
        return []
    if op.elementwise:
        names, parts = bound(h, v)
        result = []
        for k, (a, d) in enumerate(zip(names, parts)):
            if a in live:
                c = _times(h, d, v, k, names, vbar, name_of(a))
                if c is not None:
                    result.append((a, c))
        return result
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


def _pointwise(g: Graph, nodes: set[str]) -> bool:
    """True when every op is pointwise: the Jacobian is diagonal up to broadcasting."""
    return all(g.op(n).pointwise for n in nodes)


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
    order = h.order()
    upstream = h.upstream([out])
    free = _free_inputs(h, upstream)
    grads = []
    tangents: dict[str, dict[str, str]] = {}
    for w in wrt:
        suffix = f"_dot_{w}" if len(wrt) > 1 else "_dot"
        live = _between(h, [w], upstream)
        stacked = not _pointwise(h, live)
        if stacked:
            _check_declared(h, live)
            _check_size(h, w, live)
        dots: dict[str, str] = {}
        for v in order:
            if v not in live:
                continue
            if v == w:
                seed = "basis" if stacked else "ones_like"
                dots[v] = h.add(seed, (w,), name=h.fresh(w + suffix))
                continue
            t = _jvp(h, v, dots, stacked)
            if t is not None:
                dots[v] = _name(h, t, h.fresh(v + suffix)) if h.attrs(t)["temp"] else t
        tangents[w] = dots
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


def _check_declared(g: Graph, live: set[str]) -> None:
    """Direction-stacked tangents need every shape on the path: a reduction of a value
    of unknown shape does not know which axes carry the directions."""
    for n in g.order():
        op = g.op(n)  # a pointwise op stacks as NumPy broadcasts: any shape will do
        if n in live and (not op.pointwise and any(g.elastic(a) for a in g.args(n))
                          or g.elastic(n) and (not op.pointwise or Trait.UNSTACKED in op.traits)):
            free = sorted(i for i in g.upstream([n]) & set(g.inputs) if g.elastic(i))
            raise GraphcError(f"forward mode through {g.attrs(n)['op']} (node {n!r}) needs "
                              f"declared shapes: declare {', '.join(free)} (e.g. "
                              f"{free[0]}: [N]), or use mode='reverse'")


def _check_size(g: Graph, w: str, live: set[str]) -> None:
    sizes = {v: numeric(g.shape(v)) for v in live}
    known = {v: math.prod(s) for v, s in sizes.items() if s is not None}
    if len(known) == len(sizes):
        n, biggest = known[w], max(known.values())
        if n * biggest > TANGENT_LIMIT:
            raise GraphcError(f"forward mode with respect to {w} would carry {n} directions "
                              f"through nodes of {biggest} elements ({n * biggest:,} numbers"
                              "): use mode='reverse', which needs one sweep")


def _jvp(h: Graph, v: str, dots: dict[str, str], stacked: bool) -> str | None:
    op = h.op(v)
    if not op.differentiable:
        return None
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
    if not op.pointwise and not stacked or Trait.UNSTACKED in op.traits and stacked:
        raise GraphcError(f"forward mode through {op.name} (node {v!r}) is not supported: "
                          "use mode='reverse'")
    tangents = tuple(dots.get(a) for a in h.args(v))
    if all(t is None for t in tangents):  # on the path, but every tangent is zero: x - x
        return None
    if op.jvp is None:
        raise GraphcError(f"forward mode through {op.name} (node {v!r}) is not supported: "
                          "use mode='reverse'")
    return op.jvp(h, v, tangents)
