"""What a picture shows (a ``Scene``): the values, adjoints, tangents or paths known so
far, the legend of the paths and what is in focus. render.py draws a scene; the full
picture and each frame of the steps are scenes of the same graph."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sympy as sp

from ..autodiff import transform as autodiff
from ..errors import GraphcError
from ..ir.derive import slot_derivatives, slot_values
from ..ir.graph import Graph
from ..ir.pretty import product
from .labels import flows
from .style import MAX_PATHS
from .verify import count_paths, dp_sum, enumerate_paths, path_edges
from .words import format_number, plural

PALETTE = ["#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2",
           "#17becf", "#bcbd22", "#7f7f7f"]
DASHES = ["solid", "dashed", "dotted"]
"""Paths 11 to 30 reuse the colours dashed, then dotted: no two of 30 paths look alike."""


@dataclass
class Scene:
    """What a picture shows: which values are known and what is in focus."""

    values: dict[str, Any] = field(default_factory=dict)
    second: dict[str, Any] = field(default_factory=dict)  # adjoints or tangents
    label: Callable[[str], str] = str  # a node's name -> what its ``second`` is called
    partial: set[str] = field(default_factory=set)  # adjoints still accumulating
    # edges are (operand, node, argument position): a + a draws two (slot_derivatives)
    edge_values: dict[tuple[str, str, int], Any] = field(default_factory=dict)
    focus: set[str] = field(default_factory=set)
    focus_edges: set[tuple[str, str, int]] = field(default_factory=set)
    focus_kind: str = "focus"  # the theme's colour of the focus (a forward step: "value")
    ask: bool = False  # an exercise: edges ask for their local derivative ("= ?")
    path_edges: list[tuple[list[tuple[str, str, int]], str]] = field(default_factory=list)
    legend: list[tuple[str, str]] = field(default_factory=list)  # (text, colour or "")
    caption: str = ""
    show: str = "reverse"  # what ``second`` holds: adjoints (reverse) or tangents (forward)
    # edge -> (upstream, local derivative, their product): the gradient each wire carries
    flows: dict[tuple[str, str, int], tuple[Any, Any, Any]] = field(default_factory=dict)
    # node -> more lines under its label: (text, the theme's colour name) (wrong.py)
    notes: dict[str, list[tuple[str, str]]] = field(default_factory=dict)


def paint(i: int) -> tuple[str, str]:
    """The colour and line style of path ``i``."""
    return PALETTE[i % len(PALETTE)], DASHES[(i // len(PALETTE)) % len(DASHES)]


def adjoint_name(g: Graph, out: str) -> Callable[[str], str]:
    """How a vjp rule on an edge names a node's adjoint: ``t_bar``; in a gradient graph
    (nodes already named ``x_bar``) ``∂x_bar/∂t``, as the adjoints on its nodes are."""
    if any(g.shown(n).endswith("_bar") for n in g.nx):
        return lambda node: f"∂{g.shown(out)}/∂{g.shown(node)}"
    return lambda node: f"{g.shown(node)}_bar"


def shown_derivatives(g: Graph, adjoint: Callable[[str], str] | None = None
                      ) -> dict[tuple[str, str, int], Any]:
    """``slot_derivatives`` (one per argument position: ``a + a`` has two edges) written
    in the names nodes are shown as (``x_bar``)."""
    symbolic = slot_derivatives(g, adjoint)
    shown = {sp.Symbol(n, real=True): sp.Symbol(d["shown"], real=True)
             for n, d in g.node_data().items() if "shown" in d}
    return {e: sp.sympify(s).xreplace(shown) for e, s in symbolic.items()} if shown else symbolic


def full_scene(g: Graph, at: dict[str, Any] | None, out: str, show: str = "reverse",
               wrt: str | None = None, max_paths: int = MAX_PATHS) -> Scene:
    """The finished picture: every value and adjoint (or tangent, or path) known; the
    paths picture without ``at`` lists the paths symbolically, as colah's figure does."""
    if show not in ("reverse", "forward", "paths"):
        raise GraphcError(f"show={show!r}: expected 'reverse', 'forward' or 'paths'")
    if at is None and show != "paths":
        if show != "reverse":
            raise GraphcError(f"the {show} picture needs input values (at=...)")
        return Scene()
    scene = Scene(show=show)
    if at is not None:
        env = g.bind((), at)
        scene.values, scene.edge_values = g.run(dict(env)), slot_values(g, env)
    if show == "reverse":
        h = autodiff.reverse(g, of=out)
        scene.second = autodiff.adjoint_values(h, h.run(dict(env)))
        scene.label = lambda name: f"∂{g.shown(out)}/∂{name}"
        scene.flows = flows(scene)
        return scene
    x = wrt or (g.inputs[0] if g.inputs else None)
    if x not in g.inputs:
        raise GraphcError(f"wrt={x!r} is not an input (inputs: {', '.join(g.inputs)})")
    if show == "forward":
        h = autodiff.forward(g, wrt=[x], of=out)
        got = h.run(dict(env))
        scene.second = {v: got[t] for v, t in h.meta.tangents[x].items()}
        scene.label = lambda name: f"∂{name}/∂{x}"
        scene.flows = flows(scene, back=False)
        return scene
    list_paths(g, scene, x, out, max_paths, numbers=at is not None)
    return scene


def list_paths(g: Graph, scene: Scene, x: str, out: str, max_paths: int, numbers: bool) -> None:
    """The paths from ``x`` to ``out`` in colour, and the legend that lists them."""
    if type(max_paths) is not int or max_paths < 0:
        raise GraphcError(f"max_paths={max_paths!r}: expected a number of paths, 0 or more")
    symbolic = shown_derivatives(g)
    edges = set(symbolic)
    # a ladder of k diamonds has 2**k paths: list a few, count and sum them all
    shown = enumerate_paths(g, x, out, edges, symbolic, scene.edge_values, max_paths)
    n = count_paths(g, x, out, edges)
    for i, p in enumerate(shown):
        colour, dash = paint(i)
        scene.path_edges.append((list(p.steps), colour))
        value = "" if p.value is None else f" = {format_number(p.value)}"
        line = "" if dash == "solid" else f" ({dash})"
        scene.legend.append((f"path {i + 1}{line}: {p.route(' → ', g.shown)}:  "
                             + product(p.factors) + value, colour))
    if n > len(shown):
        scene.legend.append((f"... and {n - len(shown)} more", ""))
    total = f"sum over {plural(n, 'path')} = ∂{g.shown(out)}/∂{g.shown(x)}"
    if not numbers:
        scene.legend.append((total, ""))
    elif path_edges(g, x, out, edges) <= set(scene.edge_values):
        value = dp_sum(g, x, out, edges, scene.edge_values)
        scene.legend.append((f"{total} = {format_number(value)}", ""))
    else:
        scene.legend.append(("tensor ops have Jacobians, not numbers, on their edges: no "
                             "scalar path sum", ""))
