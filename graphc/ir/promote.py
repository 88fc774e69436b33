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
    if g.integer(a):
        return "index"
    dtype = lookup(d["op"], g.ops).dtype
    return {"bool": "bool", "weak": "number"}.get(dtype, "typed")


def promoted(g: Graph, op: Op, args: tuple[str, ...], params: dict
             ) -> tuple[tuple[str, ...], bool]:
    """The operands, untyped ones cast to the first typed operand's float dtype; and
    whether the result is untyped itself."""
    if op.integral(params):
        return args, True
    if op.dtype == "first":
        return args, bool(args) and bool(g.nx._node[args[0]].get("untyped"))
    if op.dtype != "follows" or not args:
        return args, False
    kinds = [_kind(g, a) for a in args]
    if "typed" not in kinds:  # argmax(x) + 1.0, (x > 0) * 2.0, sum(x > 0)
        return args, "index" not in kinds and ("untyped" in kinds or "bool" in kinds)
    if "untyped" not in kinds or not op.public:
        return args, False
    like = args[kinds.index("typed")]
    return tuple(g.add("as_float", (a, like)) if k == "untyped" else a
                 for a, k in zip(args, kinds)), False
