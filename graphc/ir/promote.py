"""Float arithmetic meeting integers, as JAX promotes: ``x * argmax(...)``, ``x + arange(N)``
keep x's float dtype (NumPy would give float64: float32 * int64). The integer operand is
cast to the float operand's dtype where the graph is built, one ``as_float`` node each, so
float32 stays float32 in every backend and the saved module."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..ops import Op, lookup

if TYPE_CHECKING:
    from .graph import Graph


def _kind(g: Graph, a: str) -> str:
    """"untyped" (integers, or numbers computed from integers, booleans and constants
    alone: NumPy makes them int64 or float64), "typed" (of the inputs' float dtype),
    "bool" and "number" (which keep a float operand's dtype) or "index" (integer inputs)."""
    d = g.nx._node[a]
    if d.get("untyped"):
        return "untyped"
    if d["op"] == "input":
        return "index" if d["params"].get("integer") else "typed"
    dtype = lookup(d["op"], g.ops).dtype
    if dtype in ("bool", "weak"):
        return "bool" if dtype == "bool" else "number"
    return "index" if dtype == "first" and g.integer(a) else "typed"


def promoted(g: Graph, op: Op, args: tuple[str, ...], params: dict
             ) -> tuple[tuple[str, ...], bool]:
    """The operands, untyped ones cast to the first typed operand's float dtype (the
    same tuple when none is); and whether the result is untyped itself."""
    if op.integral(params):  # computed integers; an int input keeps its own (labels)
        return args, op.name != "input"
    nodes = g.nx._node
    if op.dtype == "first":
        return args, bool(args) and bool(nodes[args[0]].get("untyped"))
    if op.dtype != "follows" or not args:
        return args, False
    if not any(nodes[a].get("untyped") for a in args):  # the common case: nothing to cast
        kinds = []
        for a in args:
            kinds.append(_kind(g, a))
            if kinds[-1] in ("typed", "index"):
                return args, False
        return args, "bool" in kinds  # (x > 0) * 2.0, sum(x > 0): NumPy's float64, int64
    kinds = [_kind(g, a) for a in args]
    if "typed" not in kinds:  # argmax(x) + 1.0
        return args, "index" not in kinds
    if not op.public and op.spelled is None:  # a rule's op; average(x, weights=w) is the user's
        return args, False
    like = args[kinds.index("typed")]
    return tuple(g.add("as_float", (a, like)) if k == "untyped" else a
                 for a, k in zip(args, kinds)), False
