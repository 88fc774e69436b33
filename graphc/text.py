"""Graph -> .gc text, so that ``parse(str(g))`` computes what ``g`` computes."""

from __future__ import annotations

import math

from . import printer
from .graph import Graph
from .ops import ATOM, UNARY
from .shapes import format_shape


def text_literal(value: float, integral: bool = False) -> tuple[str, int]:
    """A constant as .gc text (1e999 is how the text spells infinity)."""
    if math.isnan(value):
        return "(1e999 - 1e999)", ATOM
    if math.isinf(value):
        return ("1e999", ATOM) if value > 0 else ("-1e999", UNARY)
    return printer.numpy_literal(value, integral)


def _declaration(g: Graph, name: str) -> str:
    declared = g.attrs(name)["params"]["declared"]
    return f"{name}: {format_shape(g.shape(name)) if declared else 'any'}"


def to_text(g: Graph) -> str:
    """The graph as .gc text: declarations, lambda ops, one line per named node."""
    declarations = [_declaration(g, n) for n in g.inputs if g.attrs(n)["params"]["declared"]]
    out = list(declarations)
    out += [f"{name} = {op.source}" for name, op in g.ops.items() if op.source]
    order = g.order()
    first = g.outputs[0] if g.outputs else None
    nodes = [n for n in order if g.attrs(n)["op"] not in ("input", "const")]
    if first in nodes and not any(True for _ in g.nx.successors(first)):
        nodes.remove(first)
        nodes.append(first)  # the output is the last assigned name

    def form(node: str) -> printer.Form:
        op = g.op(node)
        operands = ["{%d}" % i for i in range(len(g.args(node)))]
        template = op.text(operands, g.attrs(node)["params"])
        if op.symbol is None:  # written as a call, name(...): its arguments need no parens
            return template, ATOM, (0,) * len(operands)
        return template, op.prec, op.slot_prec

    out += [f"{n} = {expr}" for n, expr in
            printer.lines(g, nodes, {n: n for n in order}, form, text_literal,
                          keep=set(g.outputs))]
    text = "\n".join(out) + "\n"
    from .parse import parse

    if g.inputs and parse(text).inputs != g.inputs:
        # inputs are ordered by first use: when the lines use them in another order,
        # declare every input first (`any`: undeclared, it may be given any shape)
        every = [_declaration(g, n) for n in g.inputs]
        text = "\n".join(every + out[len(declarations):]) + "\n"
    return text
