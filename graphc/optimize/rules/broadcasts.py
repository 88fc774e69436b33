"""The broadcasts pass: the ones seed and broadcast views move out of the way, and
the helpers that undo broadcasting go where shapes make them needless."""

from __future__ import annotations

from ...ops import shapes
from .base import Rewrite, RuleView, op_of, pulled, rule, swap


@rule("mul", "broadcasts", "ones * x -> broadcast x")
def _times_ones(g: RuleView, op: str, args: tuple, params: dict) -> Rewrite:
    for ones, x in (args, args[::-1]):
        if op_of(g, ones) == "ones_like":
            return ("broadcast_like", (x, ones), {})
    return None


# the broadcast view waits until the end
rule("mul", "broadcasts", "broadcast(a) * b -> broadcast(a * b)")(pulled("broadcast_like"))
rule("div", "broadcasts", "broadcast(a) / b -> broadcast(a / b)")(pulled("broadcast_like", (0,)))


@rule("add", "broadcasts", "broadcast(a) + broadcast(b) -> broadcast(a + b)")
@rule("sub", "broadcasts", "broadcast(a) - broadcast(b) -> broadcast(a - b)")
def _joined(g: RuleView, op: str, args: tuple, params: dict) -> Rewrite:
    if all(op_of(g, a) == "broadcast_like" for a in args):
        (a, y), (b, z) = (g.args(x) for x in args)
        if y == z:
            return ("broadcast_like", (g.add(op, (a, b)), y), {})
    return None


@rule("broadcast_like", "broadcasts", "broadcast to ones_like(y) -> broadcast to y")
def _like_ones(g: RuleView, op: str, args: tuple, params: dict) -> Rewrite:
    if op_of(g, args[1]) == "ones_like":
        return ("broadcast_like", (args[0], g.args(args[1])[0]), {})
    return None


@rule("add", "broadcasts", "x + ones -> broadcast(x + 1)")
@rule("sub", "broadcasts", "x - ones -> broadcast(x - 1)")
def _ones_to_one(g: RuleView, op: str, args: tuple, params: dict) -> Rewrite:
    """A scalar 1.0 instead of an array of ones."""
    for k in (0, 1):
        if op_of(g, args[k]) == "ones_like":
            return ("broadcast_like", (g.add(op, swap(args, k, g.const(1.0))),
                                       g.args(args[k])[0]), {})
    return None


rule("neg", "broadcasts", "-broadcast(a) -> broadcast(-a)")(pulled("broadcast_like", (0,)))


@rule("broadcast_like", "broadcasts", "broadcast to its own shape -> x")
@rule("sum_to", "broadcasts", "sum to its own shape -> x")
def _same_shape(g: RuleView, op: str, args: tuple, params: dict) -> Rewrite:
    """Also a broadcast of x that covers like's shape already (a direction-stacked
    tangent broadcast like its value): wrapped, x's product would not be written in
    place."""
    x, like = args
    if g.elastic(x) or g.elastic(like):
        return None  # shapes known only at call time
    if op == "broadcast_like" and shapes.broadcast(g.shape(x), g.shape(like)) == g.shape(x):
        return x
    return x if g.shape(x) == g.shape(like) else None


@rule("ones_like", "broadcasts", "ones_like(scalar) -> 1.0")
def _scalar_ones(g: RuleView, op: str, args: tuple, params: dict) -> Rewrite:
    x = args[0]
    if g.shape(x) == () and not g.elastic(x):
        return g.const(1.0)  # a Python float: NumPy keeps the output's float32
    return None


@rule("add", "broadcasts", "x + unslice(g) -> add_slice(x, g)")
def _add_unslice(g: RuleView, op: str, args: tuple, params: dict) -> Rewrite:
    """Add a slice's adjoint into x where it belongs, instead of padding it with zeros."""
    for y, x in (args, args[::-1]):
        if op_of(g, x) == "unslice" and not g.elastic(x) and not g.elastic(y) \
                and g.shape(y) == g.shape(x):
            return ("add_slice", (y, g.args(x)[0]), dict(g.attrs(x)["params"]))
    return None
