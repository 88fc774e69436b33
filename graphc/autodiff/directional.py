"""Derivatives beyond the gradient, as graph transforms built from the two modes:
vjp (reverse mode seeded by a cotangent), jvp (forward mode seeded by tangents),
Jacobians (stacked unit directions, forward or pulled back), and Hessians and
Hessian-vector products (forward mode over the reverse-mode gradient).

Each returns an ordinary Graph whose outputs are the value and then the results, so
that it is optimized and emitted like a gradient. A Jacobian's or Hessian's tangents
carry a leading axis of directions, every unit direction at once (``basis``); a jvp's
and an HVP's carry one direction without it (``sweep(..., one=True)``), so that their
arrays have the shapes of the values and share their buffers.
"""

from __future__ import annotations

import math

from ..errors import GraphcError
from ..ir.collector import paused_gc
from ..ir.graph import Graph
from ..ops import shapes
from .transform import _between, _check_declared, _check_size, resolve_wrt, reverse, sweep


def _argument(h: Graph, name: str, like: str) -> str:
    """An input named ``name`` (or ``name_1``... where a node has it) of node ``like``'s
    shape, declared where that shape is."""
    return h.add_input(h.fresh(name), h.shape(like), declared=not h.elastic(like))


def _finish(h: Graph, outputs: list[str], mode: str, wrt: list[str], out: str) -> Graph:
    h.outputs = outputs
    h.meta.mode, h.meta.wrt, h.meta.of = mode, wrt, out
    return h


def _stacked(h: Graph, live: set[str]) -> bool:
    """Tangents need a direction axis: some op on the paths is not pointwise."""
    return not all(h.op(n).pointwise for n in live)


def _full(h: Graph, dot: str | None, like: str) -> str:
    """A one-direction tangent (or None: zero) as a value of ``like``'s shape."""
    if dot is None:
        return h.add("zeros_like", (like,))
    if h.shape(dot) != h.shape(like) or h.elastic(like):
        return h.add("broadcast_like", (dot, like))
    return dot


def _pullback(g: Graph, wrt: list[str], out: str, cotangent: str | None) -> tuple[Graph, str]:
    """Reverse mode seeded by ``y_bar``: each gradient is its vjp. The cotangent is the
    input ``cotangent``, or (None) a placeholder node of out's shape whose value no
    result reads (the pulled-back rows of a Jacobian)."""
    h = g.copy()
    y_bar = _argument(h, cotangent, out) if cotangent else \
        h.add("zeros_like", (out,), name=h.fresh(f"{out}_bar"))
    return reverse(h, wrt, out, seed=y_bar), y_bar


@paused_gc()
def vjp(g: Graph, wrt: str | list[str] | None, out: str) -> Graph:
    """Outputs ``[out, *(y_bar^T J for each wrt input)]``; ``y_bar`` an input."""
    names = resolve_wrt(g, wrt)
    h, _ = _pullback(g, names, out, "y_bar")
    return _finish(h, h.outputs, "reverse", names, out)


@paused_gc()
def jvp(g: Graph, wrt: str | list[str] | None, out: str) -> Graph:
    """Outputs ``[out, sum of J x_dot over the wrt inputs]``; each ``x_dot`` an input
    (``x_dot_<name>``), one sweep for them all."""
    names = resolve_wrt(g, wrt)
    h = g.copy()
    live = _between(h, names, h.upstream([out]))
    if _stacked(h, live):
        _check_declared(h, live, "gc.vjp (reverse mode)")
    seeds = {}
    for w in names:
        dot = _argument(h, f"x_dot_{w}", w)
        if w in live:
            seeds[w] = dot
    pushed = _full(h, sweep(h, seeds, live, False, one=True).get(out), out)
    h.show_as(pushed, h.fresh(f"{out}_dot"))
    return _finish(h, [out, pushed], "forward", names, out)


def _elements(h: Graph, nodes: list[str]) -> int | None:
    """How many numbers the nodes hold, when their shapes are known now."""
    sizes = [shapes.numeric(h.shape(n)) for n in nodes]
    if any(h.elastic(n) for n in nodes):
        return None
    return sum(math.prod(s) if s is not None else -1 for s in sizes) \
        if all(s is not None for s in sizes) else None


def jacobian_mode(g: Graph, wrt: list[str], out: str) -> str:
    """Forward when the inputs have fewer elements than the output, reverse otherwise;
    sizes known only at call time: forward for pointwise graphs, else reverse."""
    ins, outs = _elements(g, wrt), _elements(g, [out])
    if ins is None or outs is None:
        return "forward" if not _stacked(g, g.upstream([out])) else "reverse"
    return "forward" if ins < outs else "reverse"


@paused_gc()
def jacobian(g: Graph, wrt: str | list[str] | None, out: str, mode: str) -> Graph:
    """Outputs ``[out, *(J for each wrt input)]``, ``J.shape == out.shape + w.shape``:
    forward, one sweep of w's unit directions per input; reverse, one backward sweep of
    out's unit cotangents, stacked (forward mode over the vjp, which is linear in them)."""
    names = resolve_wrt(g, wrt)
    if mode == "forward":
        h = g.copy()
        upstream = h.upstream([out])
        jacobians = []
        for w in names:
            live = _between(h, [w], upstream)
            dot = None
            if w in live:
                _check_declared(h, live)
                _check_size(h, w, live)
                seed = h.add("basis", (w,), name=h.fresh(f"{w}_dot"))
                dot = sweep(h, {w: seed}, live, True, f"_dot_{w}").get(out)
            jacobians.append(_laid_out(h, dot, out, w, "directions_last", f"J_{w}"))
        return _finish(h, [out, *jacobians], "forward", names, out)
    h, y_bar = _pullback(g, names, out, None)
    grads = h.outputs[1:]
    live = _between(h, [y_bar], h.upstream(grads))
    dots = {}
    if y_bar in live:  # else every gradient is constant: the Jacobians are zeros
        _check_declared(h, live, "mode='forward'")
        _check_size(h, y_bar, live)
        seed = h.add("basis", (y_bar,), name=h.fresh(f"{y_bar}_dot"))
        dots = sweep(h, {y_bar: seed}, live, True)
    jacobians = [_laid_out(h, dots.get(b), b, out, "directions_first", f"J_{w}")
                 for w, b in zip(names, grads)]
    return _finish(h, [out, *jacobians], "reverse", names, out)


def _laid_out(h: Graph, dot: str | None, value: str, other: str, op: str, name: str) -> str:
    """A stacked tangent of ``value`` (one direction per element of ``other``) laid out
    as a Jacobian by ``op``, shown as ``name``; zeros where it does not depend on it."""
    if dot is None:
        found = h.add("zeros_jacobian", (value, other) if op == "directions_last"
                      else (other, value))
    else:
        if h.shape(dot)[1:] != h.shape(value) or h.elastic(value):
            dot = h.add("spread", (dot, value))
        found = h.add(op, (dot, other))
    h.show_as(found, h.fresh(name))
    return found


def _scalar(h: Graph, out: str, what: str) -> None:
    """A Hessian is of a scalar output (one known to be one: declared shapes)."""
    if h.shape(out) != () or h.elastic(out):
        shape = "its shape is known only at call time: declare the inputs' shapes" \
            if h.elastic(out) else f"shape {shapes.format_shape(h.shape(out))}"
        raise GraphcError(f"{what} of {out}, which is not a scalar ({shape}): "
                          f"differentiate sum({out}) or one element of it")


@paused_gc()
def hvp(g: Graph, wrt: str | list[str] | None, out: str) -> Graph:
    """Outputs ``[out, *grads, *(H v for each wrt input)]``: forward mode along the
    inputs ``v_<name>`` over the reverse-mode gradient, H never formed."""
    names = resolve_wrt(g, wrt)
    _scalar(g, out, "a Hessian-vector product")
    h = reverse(g, names, out)
    grads = h.outputs[1:]
    live = _between(h, names, h.upstream(grads))
    _check_declared(h, live, None)
    seeds = {}
    for w in names:
        v = _argument(h, f"v_{w}", w)
        if w in live:
            seeds[w] = v
    dots = sweep(h, seeds, live, False, one=True)
    products = []
    for w, b in zip(names, grads):
        found = _full(h, dots.get(b), b)
        h.show_as(found, h.fresh(f"Hv_{w}"))
        products.append(found)
    return _finish(h, [out, *grads, *products], "forward over reverse", names, out)


@paused_gc()
def hessian(g: Graph, wrt: str | list[str] | None, out: str) -> Graph:
    """Outputs ``[out, *grads, *(H[a][b] for a, b in wrt x wrt)]``, ``H[a][b].shape ==
    a.shape + b.shape``: forward mode over the gradient, b's unit directions stacked;
    each block averaged with the transpose of its mirror, so H is exactly symmetric."""
    names = resolve_wrt(g, wrt)
    _scalar(g, out, "a Hessian")
    h = reverse(g, names, out)
    grads = h.outputs[1:]
    upstream = h.upstream(grads)
    blocks: dict[tuple[str, str], str] = {}
    for b in names:
        live = _between(h, [b], upstream)
        dots = {}
        if b in live:
            _check_declared(h, live, None)
            _check_size(h, b, live)
            seed = h.add("basis", (b,), name=h.fresh(f"{b}_dot"))
            dots = sweep(h, {b: seed}, live, True, f"_dot_{b}")
        for a, a_bar in zip(names, grads):
            blocks[a, b] = _laid_out(h, dots.get(a_bar), a_bar, b, "directions_last",
                                     f"H_{a}_{b}_half")
    hessians = []  # symmetric by construction: each block averaged with its mirror's transpose
    for a in names:
        for b in names:
            found = h.add("symmetrized", (blocks[a, b], blocks[b, a], a))
            h.show_as(found, h.fresh(f"H_{a}_{b}"))
            hessians.append(found)
    return _finish(h, [out, *grads, *hessians], "forward over reverse", names, out)
