"""Lambda ops of .gc text: ``f = lambda x, y: expr`` becomes an op whose body is a
graph of elementwise ops, with a sympy formula so it differentiates as any other."""

from __future__ import annotations

import ast
from typing import Any

from ..errors import ParseError
from ..ir.derive import to_sympy
from ..ir.graph import Graph
from ..ops import Op
from .text_expr import Scope, error

LAMBDA_DEPTH = 120
"""How many ops deep a lambda's formula may be, the lambdas it calls written out:
sympy differentiates and prints by recursion, deeper ones hit the recursion limit."""


def _depth(body: Graph, depths: dict[str, int]) -> int:
    """How deep the body's formula is; a call of another lambda counts its depth + 1."""
    at: dict[str, int] = {}
    for n in body.order():
        d = body.attrs(n)
        own = 0 if d["op"] in ("input", "const", "alias") else depths.get(d["op"], 0) + 1
        at[n] = own + max((at[a] for a in d["args"]), default=0)
    return at[body.outputs[0]]


def lambda_op(name: str, node: ast.Lambda, lambdas: dict[str, Op],
              depths: dict[str, int], outer: dict[str, int]) -> Op:
    a = node.args
    if a.vararg or a.kwarg or a.kwonlyargs or a.defaults or a.posonlyargs:
        raise error(ParseError, "a lambda takes plain positional parameters only", node)
    params = [p.arg for p in a.args]
    if not params or len(set(params)) != len(params):
        raise error(ParseError, "a lambda needs distinct parameters", node)
    body = Graph()
    body.ops.update(lambdas)
    names = {p: body.add_input(p) for p in params}
    scope = Scope(body, names, lambdas, open_inputs=False, outer=outer)
    result = scope.expr(node.body)
    if not body.attrs(result)["temp"] or body.is_const(result):
        result = body.add("alias", (result,))
    body.outputs = [result]
    depths[name] = _depth(body, depths)
    if depths[name] > LAMBDA_DEPTH:
        raise error(ParseError, f"lambda {name} is {depths[name]} ops deep, counting the "
                    f"lambdas it calls; the limit is {LAMBDA_DEPTH}: compute part of it on "
                    "lines of its own", node)
    for n in body.order():
        op = body.op(n)
        if op.name not in ("input", "const", "alias") and not op.elementwise:
            raise error(ParseError, f"lambda {name}: {op.name} is not elementwise; "
                        "lambda bodies use elementwise functions only", node)
    expr = to_sympy(body)
    by_name = {s.name: s for s in expr.free_symbols if s.name in params}

    def formula(*xs: Any) -> Any:
        return expr.xreplace({by_name[p]: x for p, x in zip(params, xs) if p in by_name})

    def fn(*xs: Any) -> Any:
        return body.run(dict(zip(params, xs)))[result]

    return Op(name, len(params), "", fn, formula=formula, body=body,
              source=ast.unparse(node), slot_prec=(0,) * len(params))
