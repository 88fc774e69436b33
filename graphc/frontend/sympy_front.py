"""The sympy front end: a user's sympy expression becomes a Graph, one node per
distinct subexpression (``ir.sympy_nodes`` turns expressions into nodes)."""

from __future__ import annotations

import sympy as sp

from ..errors import GraphcError
from ..ir.graph import Graph
from ..ir.sympy_nodes import free_symbols, recipe, replay


def from_sympy(expr: sp.Expr, name: str = "out") -> Graph:
    """A Graph computing a sympy expression; every distinct subexpression is one node.

    >>> import sympy as sp
    >>> x = sp.Symbol("x")
    >>> from_sympy(sp.exp(x) * sp.exp(x) + 1, name="e").inputs
    ['x']
    """
    expr = sp.sympify(expr)
    symbols = sorted(free_symbols(expr), key=str)
    if name in map(str, symbols):
        raise GraphcError(f"name={name!r} is also an input of the expression; "
                          "choose another name for the output")
    g = Graph()
    g.reserved = {name}
    env = {s: g.add_input(str(s)) for s in symbols}
    result = replay(g, recipe(expr), env)
    if g.attrs(result)["temp"]:
        g.rename(result, name)
    else:
        g.add("alias", (result,), name=name)
    g.outputs = [name]
    return g
