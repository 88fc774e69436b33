"""One line per node, with single-use generated nodes folded into their reader.

The NumPy emitter and the .gc text printer both print through here, spelling ops and
constants their own way. Folding stops at a small depth and width: no line grows long."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple

from ..ops import ATOM, UNARY, lookup

if TYPE_CHECKING:
    from .graph import Graph

Form = tuple[str, int, tuple[int, ...]]  # template, precedence, operand precedences
MAX_DEPTH = 3
MAX_WIDTH = 72


def numpy_literal(value: float, integral: bool = False) -> tuple[str, int]:
    """A constant as NumPy source, with its precedence."""
    if math.isnan(value):
        return "np.nan", ATOM
    if math.isinf(value):
        return ("np.inf", ATOM) if value > 0 else ("-np.inf", UNARY)
    # an integral exponent prints as an int (x ** 2 is a square), within exact range
    text = str(int(value)) if integral and value.is_integer() and abs(value) <= 2.0**53 \
        else repr(value)
    return text, (UNARY if value < 0 or text.startswith("-") else ATOM)


class Spelling(NamedTuple):
    """How nodes print: each node's name, each op's form, and constants."""

    names: dict[str, str]
    form: Callable[[str], Form]
    literal: Callable[[float, bool], tuple[str, int]] = numpy_literal


def lines(g: Graph, nodes: list[str], spelling: Spelling, keep: set[str],
          joinable: Callable[[str, str], bool] = lambda node, consumer: True
          ) -> list[tuple[str, str]]:
    """``(name, expression)`` for each node of ``nodes`` that gets a line of its own;
    ``joinable(node, consumer)``: whether it may fold at all (``memory.joinable``)."""
    names, form, literal = spelling
    attrs = g.node_data()  # millions of reads on big graphs
    uses = Counter([a for n in nodes for a in attrs[n]["args"]])
    forms = {n: form(n) for n in nodes}  # once each, though a fold asks its consumer's too
    folded: dict[str, tuple[str, int, int]] = {}
    out: list[tuple[str, str]] = []

    def operand(node: str, slot: int, a: str) -> tuple[str, int, int, bool]:
        """(text, precedence, fold depth, was folded) of one operand."""
        if attrs[a]["op"] == "const":
            integral = slot in lookup(attrs[node]["op"], g.ops).counts
            return (*literal(attrs[a]["params"]["value"], integral), 0, False)
        if a in folded:
            return (*folded.pop(a), True)
        return names[a], ATOM, 0, False

    for node in nodes:
        template, prec, slot_prec = forms[node]
        args = attrs[node]["args"]
        pieces = [operand(node, slot, a) for slot, a in enumerate(args)]
        expr = join(g, node, template, slot_prec, pieces)
        while len(expr) > MAX_WIDTH and any(p[3] for p in pieces):
            # too long: give the longest folded operand a line of its own
            k = max((i for i, p in enumerate(pieces) if p[3]), key=lambda i: len(pieces[i][0]))
            out.append((args[k], pieces[k][0]))
            pieces[k] = (names[args[k]], ATOM, 0, False)
            expr = join(g, node, template, slot_prec, pieces)
        depth = max((p[2] for p in pieces), default=0)
        if (attrs[node]["temp"] and node not in keep and uses[node] == 1 and depth < MAX_DEPTH
                and len(expr) <= MAX_WIDTH and _foldable_into(g, node, forms, joinable)):
            # a node written as its operand alone (a cast the parser makes again) is it
            folded[node] = (expr, pieces[0][1], depth) if template == "{0}" else \
                (expr, prec, depth + 1)
        else:
            out.append((node, expr))
    return out


def join(g: Graph, node: str, template: str, slot_prec: tuple[int, ...],
         pieces: list[tuple[str, int, int, bool]]) -> str:
    """``node``'s template filled with its operands' ``pieces``, parenthesized as slots need."""
    texts = [f"({text})" if slot < len(slot_prec) and p < slot_prec[slot] else text
             for slot, (text, p, _, _) in enumerate(pieces)]
    return template.format(*texts, **g.attrs(node)["params"])


def _foldable_into(g: Graph, node: str, forms: dict[str, Form],
                   joinable: Callable[[str, str], bool]) -> bool:
    """Its one consumer is printed here (it has a form in ``forms``: not a loop's graph
    around a kernel's) and spells the operand once (no recomputing)."""
    if g.n_readers(node) != 1:
        return False
    (consumer,) = g.readers(node)
    if consumer not in forms or not joinable(node, consumer):
        return False
    slot = g.attrs(consumer)["args"].index(node)
    return forms[consumer][0].count("{%d}" % slot) == 1
