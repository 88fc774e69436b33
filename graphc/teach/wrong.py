"""The wrong-order demo: what a naive backward pass computes on a graph with fan-out,
beside the right sweep (``wrong_order``, ``picture``, ``graphc render --wrong-order``).

Each sweep is run, not derived: the same local derivatives graphc puts on the edges
(``slot_values``: one edge per argument position), pushed back from the output in three
ways.

- right: in reverse topological order, each node's adjoint complete before it pushes,
  and pushes added up (``+=``);
- ``=``: micrograd's bug, the same order but each push overwrites (``=`` for ``+=``),
  so a node used by several consumers keeps the last one's contribution only;
- depth first: a recursive backward from the output that handles each node once, as
  soon as its first consumer has pushed, so a fork passes on only part of its adjoint.

A node that one consumer uses twice (micrograd's ``b = a + a``) has two edges, so ``=``
errs there too: ∂b/∂a comes out 1, not 2.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import graphviz
import numpy as np

from ..errors import GraphcError
from ..ir.derive import slot_derivatives, slot_values
from ..ir.graph import Graph
from ..ir.numbering import teaching
from ..ops.table import _sum_to
from .labels import flows
from .render import draw
from .scene import Scene
from .style import PLAIN, Style
from .words import format_number

SWEEPS = {"overwrite": ("with =", "each push overwrites (= instead of +=)"),
          "depth_first": ("depth first", "recursive from the output, each node once, "
                          "as soon as one consumer has pushed")}
"""The naive sweeps, by field of ``WrongOrder``: a picture's short name and its words."""


@dataclass
class WrongOrder:
    """Each node's adjoint ∂out/∂node by the right sweep and by the naive ones."""

    of: str
    right: dict[str, Any]
    overwrite: dict[str, Any]
    depth_first: dict[str, Any]

    def wrong(self, sweep: str) -> set[str]:
        """The nodes where ``sweep`` ("overwrite" or "depth_first") is wrong."""
        got = getattr(self, sweep)
        return {n for n, v in self.right.items() if not np.allclose(got[n], v)}


def wrong_order(g: Graph, at: dict[str, Any], of: str | None = None) -> WrongOrder:
    """Run the right backward sweep and the naive ones on ``g`` at ``at``."""
    out = g.output(of)
    env = g.bind((), at)
    values, local = g.run(dict(env)), slot_values(g, env)
    for edge in slot_derivatives(g):
        if edge not in local:
            raise GraphcError(f"the wrong-order demo needs a number on every edge: "
                              f"{g.shown(edge[1])} = {g.attrs(edge[1])['op']}(...) is a "
                              "tensor op (its edges carry rules, not numbers)")
    reach = g.upstream([out]) | {out}
    nodes = [n for n in g.order() if n in reach and not g.is_const(n)]
    edges = {v: [(a, local[(a, v, k)]) for k, a in enumerate(g.args(v))  # a + a: twice
                 if (a, v, k) in local and not g.is_const(a)]
             for v in nodes}

    def push(grad: dict[str, Any], a: str, v: str, d: Any, add: bool) -> None:
        part = np.asarray(grad[v]) * d
        if np.shape(part) != np.shape(values[a]):  # a was broadcast: sum it back
            part = _sum_to(part, values[a])
        grad[a] = grad[a] + part if add else part

    def sweep(add: bool) -> dict[str, Any]:
        grad = _zeros(nodes, values, out)
        for v in reversed(nodes):
            for a, d in edges[v]:
                push(grad, a, v, d, add)
        return grad

    early = _zeros(nodes, values, out)
    seen = {out}

    def visit(v: str) -> Iterator[str]:  # each node once, as soon as one consumer pushed
        for a, d in edges[v]:
            push(early, a, v, d, add=True)
        for a, _ in edges[v]:
            if a not in seen:
                seen.add(a)
                yield a

    stack = [visit(out)]  # the recursion, its call stack kept here (a long chain is deep)
    while stack:
        if (a := next(stack[-1], None)) is None:
            stack.pop()
        else:
            stack.append(visit(a))
    return WrongOrder(out, *(
        {n: np.asarray(v)[()] for n, v in grad.items()}  # a scalar as a number
        for grad in (sweep(add=True), sweep(add=False), early)))


def _zeros(nodes: list[str], values: dict[str, Any], out: str) -> dict[str, Any]:
    grad = {n: np.zeros_like(np.asarray(values[n], dtype=float)) for n in nodes}
    grad[out] = np.ones_like(grad[out])
    return grad


def picture(g: Graph, at: dict[str, Any], of: str | None = None, style: Style = PLAIN,
            limit: int | None = None) -> graphviz.Digraph:
    """The graph with each node's right adjoint (red) and under it each naive sweep's
    number, marked ✗ where it is wrong (✓ where it happens to be right)."""
    g, of = teaching(g, of)  # temporaries t1, t2, ... as the other pictures number them
    result = wrong_order(g, at, of)
    env = g.bind((), at)
    scene = Scene(values=g.run(dict(env)), second=result.right,
                  label=lambda name: f"∂{g.shown(result.of)}/∂{name}")
    scene.edge_values = slot_values(g, env)  # the numbers every sweep multiplies
    scene.flows = flows(scene)  # what the right sweep sends along each wire: 2 + 3 = 5
    for sweep, (name, _) in SWEEPS.items():
        bad, got = result.wrong(sweep), getattr(result, sweep)
        for n in result.right:
            mark = "✗" if n in bad else "✓"
            scene.notes.setdefault(n, []).append(
                (f"{name}: {format_number(got[n])} {mark}", "focus" if n in bad else "muted"))
    def said(sweep: str) -> str:
        bad = ", ".join(map(g.shown, sorted(result.wrong(sweep), key=g.position)))
        return f"wrong at {bad} (✗)" if bad else "right on this graph"

    scene.legend = [("red: the right sweep (reverse topological order, +=)", "")] + [
        (f"{name}: {words}; {said(s)}", "") for s, (name, words) in SWEEPS.items()]
    where = ", ".join(f"{k} = {format_number(v)}" for k, v in at.items())
    return draw(g, scene, result.of, limit, style=style,
                title=f"{g.shown(result.of)} at {where}: the right backward and naive ones")
