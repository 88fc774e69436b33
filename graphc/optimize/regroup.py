"""Sums and products of arrays regrouped into the order their operands are made.

A gradient's product of local derivatives is built from the output back, the reverse
of the order the forward sweep makes its factors in, so every factor would stay alive
until the last one exists. Folded from the left in the order the operands can be made,
the running result takes in each operand while it is fresh (``p *= c``) and the memory
planner frees it at once. Repeated factors become a square: ``a*a*b*b*c`` is
``(a*b)**2 * c``, one multiplication fewer per repeat (a ladder's ``2 cos(x_k)**2``).
"""

from __future__ import annotations

import functools
from collections import Counter

from ..ir.buffers import dtype_classes, reusable
from ..ir.graph import Graph
from ..ops import Trait
from .rules import sign_of


def regrouped(g: Graph) -> tuple[Graph, Counter[str]] | None:
    """``g`` with each sum or product of three or more arrays folded from the left in
    the order its operands can be made (repeated factors squared), and the counts of
    rewrites; None when every chain is in that order already. A chain's links share
    shape and dtype class; its inner links are temporaries read once, by the next."""
    classes = dtype_classes(g)
    signs: dict[str, int] = {}
    order = g.order()
    position = {n: i for i, n in enumerate(order)}
    depth: dict[str, int] = {}  # the longest path from an input: when it can be made
    for n in order:
        depth[n] = 1 + max((depth[a] for a in g.args(n)), default=-1)

    def chained(n: str) -> bool:
        d = g.attrs(n)
        return Trait.ASSOCIATIVE in g.op(n).traits and reusable(g, n) and all(
            g.shape(a) == d["shape"] and not g.elastic(a) and classes[a] == classes[n]
            for a in d["args"])

    def inner(n: str) -> bool:
        if not (g.attrs(n)["temp"] and n not in g.outputs and chained(n)) \
                or len(readers := g.readers(n)) != 1:
            return False
        ((reader, edge),) = readers.items()
        return len(edge["slots"]) == 1 and g.attrs(reader)["op"] == g.attrs(n)["op"] \
            and chained(reader)

    def chain(root: str) -> tuple[list[str], list[str]]:
        """The chain's inner links, and its operands in the order the links take them."""
        links, found = [], []
        stack = [(root, False)]
        while stack:
            n, taken = stack.pop()
            if taken:
                found += [a for a in g.args(n) if not inner(a)]
                continue
            stack.append((n, True))
            for a in reversed(g.args(n)):
                if inner(a):
                    links.append(a)
                    stack.append((a, False))
        return links, found

    # chain root -> its operands in the new order: the factors to square, the rest
    folds: dict[str, tuple[list[str], list[str]]] = {}
    links: set[str] = set()  # the inner links of those chains
    found: Counter[str] = Counter()
    for n in order:
        if chained(n) and not inner(n):
            chain_links, now = chain(n)
            if len(now) < 3:
                continue
            if g.attrs(n)["op"] == "add" and not _one_sign(g, now, signs):
                continue  # (a + b) + c with b = -a is c; (a + c) + b may round c away
            wanted = sorted(now, key=lambda a: (depth[a], position[a]))
            squared, rest = _squares(wanted) if g.attrs(n)["op"] == "mul" else ([], wanted)
            if len(squared) > 1:
                found["x*x*y*y -> (x*y)**2"] += 1
            else:
                squared, rest = [], wanted
                if now == wanted:
                    continue
            folds[n] = squared, rest
            links.update(chain_links)
            if now != wanted:
                found["sums and products regrouped"] += 1
    if not folds:
        return None

    def add(new: Graph, v: str, d: dict) -> None:
        if v not in folds:
            if v not in links:
                new.add_like(v, d, d["args"])
            return
        squared, rest = folds[v]
        if squared:
            root = _folded(new, d, squared)
            if not rest:
                new.add_like(v, d, (root, root))
                return
            rest = [new.add("mul", (root, root), d["params"]), *rest]
        new.add_like(v, d, (_folded(new, d, rest[:-1]), rest[-1]))
    return g.rebuilt(add), found


def _folded(new: Graph, d: dict, operands: list[str]) -> str:
    """``operands`` joined from the left by ``d``'s op, as new nodes."""
    return functools.reduce(lambda acc, a: new.add(d["op"], (acc, a), d["params"]), operands)


def _squares(operands: list[str]) -> tuple[list[str], list[str]]:
    """A product's operands as ``(s, r)``, product ``prod(s)**2 * prod(r)``, both in the
    order of ``operands``."""
    count, seen = Counter(operands), Counter[str]()
    squared, rest = list[str](), list[str]()
    for a in operands:
        seen[a] += 1
        if seen[a] % 2 == 0:
            squared.append(a)
        elif seen[a] == count[a]:
            rest.append(a)
    return squared, rest


def _one_sign(g: Graph, operands: list[str], signs: dict[str, int]) -> bool:
    """Terms that cannot cancel (all of one sign): only their sums round alike in every
    order; regrouping ``x + 1e4 - 1e4`` would not."""
    first = sign_of(g, operands[0], signs)
    return first != 0 and all(sign_of(g, a, signs) == first for a in operands[1:])
