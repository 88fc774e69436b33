"""What the memory plan and the rewrites both ask of a graph: which values own a fresh
buffer (``reusable``) and which share a dtype (``dtype_classes``; see
``backend.memory`` for why dtype follows the inputs a value is computed from)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .graph import Graph

Classes = dict[str, frozenset[str]]  # node -> its dtype class (``dtype_classes``)


def reusable(g: Graph, node: str) -> bool:
    """A value whose buffer may be written into: a fresh array of known shape."""
    return g.shape(node) != () and not g.elastic(node) and g.op(node).fresh


def dtype_classes(g: Graph, one_dtype: bool = False) -> Classes:
    """node -> the inputs (and dtype-setting nodes) that decide its dtype; with
    ``one_dtype`` the inputs share one (``_one_dtype``), so all values computed from them do."""
    classes: Classes = {}
    bools = set()  # promote to nothing, but no other value fits their buffers
    for n in g.order():
        op = g.op(n)
        if op.name == "input" and g.integer(n):  # indices: no float buffer fits theirs
            classes[n] = frozenset((n,))
            bools.add(n)
        elif op.name == "input":
            classes[n] = frozenset(("inputs",)) if one_dtype else frozenset((n,))
        elif op.dtype == "first" and g.args(n)[0] in bools:  # indices taken from indices
            classes[n] = frozenset((n,))
            bools.add(n)
        elif op.dtype == "first":  # x[idx]: x's dtype
            classes[n] = classes[g.args(n)[0]]
        elif op.dtype == "follows":
            classes[n] = frozenset().union(*(classes[a] for a in g.args(n) if a not in bools))
            if not classes[n] and (g.shape(n) != () or g.elastic(n)):
                classes[n] = frozenset((n,))  # an array of Python numbers alone: float64
        elif op.dtype == "weak":
            classes[n] = frozenset()
        else:
            classes[n] = frozenset((n,))
            if op.dtype == "bool":
                bools.add(n)
    return classes
