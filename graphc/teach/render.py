"""Pictures of a graph through graphviz: forward values and op on the nodes, symbolic
and numeric local derivatives on the edges, adjoints (or tangents, or paths) in colour.

Every picture is drawn by ``draw`` from a ``Scene`` that says what is known so far,
so the full picture and each frame of the step-by-step backward pass look alike.
"""

from __future__ import annotations

import html
import shutil
import subprocess
import warnings
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import graphviz
import numpy as np
import sympy as sp

from ..autodiff import transform as autodiff
from ..errors import GraphcError, GraphcWarning
from ..files import writable, write_atomic
from ..ir.derive import edge_values, local_derivatives
from ..ir.graph import Graph
from ..ir.pretty import pretty, product
from .verify import count_paths, dp_sum, enumerate_paths, path_edges
from .words import format_number, op_text, plural

BIG = 300
"""Graphs with more nodes than this still render, with a warning (see ``limit=``)."""
DRAW_LIMIT = 5_000
"""The most a picture may cost Graphviz to lay out, in nodes plus bends of rank-skipping
edges (a random 200-node DAG, 3,837, takes 9 s; a 400-node one, 14,529, over 12 minutes):
past it SVG/PNG/PDF need ``limit=`` (at least the node count draws them all)."""
DOT_TIMEOUT = 120.0
"""Seconds Graphviz may take for one picture (a dense 400-node DAG takes tens of
minutes): past it, a clear error instead of a hang."""
PALETTE = ["#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2",
           "#17becf", "#bcbd22", "#7f7f7f"]
@dataclass
class Scene:
    """What a picture shows: which values are known and what is in focus."""

    values: dict[str, Any] = field(default_factory=dict)
    second: dict[str, Any] = field(default_factory=dict)  # adjoints or tangents
    label: Callable[[str], str] = str  # a node's name -> what its ``second`` is called
    partial: set[str] = field(default_factory=set)  # adjoints still accumulating
    edge_values: dict[tuple[str, str], Any] = field(default_factory=dict)
    focus: set[str] = field(default_factory=set)
    focus_edges: set[tuple[str, str]] = field(default_factory=set)
    focus_colour: str = "#d62728"  # the stepper's forward steps are blue, as values are
    ask: bool = False  # an exercise: edges ask for their local derivative ("= ?")
    path_edges: list[tuple[list[tuple[str, str]], str]] = field(default_factory=list)
    legend: list[tuple[str, str]] = field(default_factory=list)  # (text, colour) lines
    caption: str = ""


def _kind(g: Graph, node: str, out: str) -> dict[str, str]:
    op = g.attrs(node)["op"]
    if op == "const":
        return {"shape": "box", "style": "dashed,rounded", "color": "#999999",
                "fontcolor": "#666666"}
    attrs = {"shape": "ellipse", "style": "filled", "fillcolor": "#ffffff"}
    if op == "input":
        attrs["fillcolor"] = "#dbeafe"
    elif node == out or node in g.outputs:
        attrs.update(fillcolor="#fde68a", peripheries="2")
    elif g.shown(node).endswith("_bar") or "_dot" in g.shown(node):
        attrs["fillcolor"] = "#fee2e2"
    return attrs


def _nearest(g: Graph, out: str, limit: int) -> set[str]:
    """The ``limit`` nodes closest to the output, walking operands breadth first."""
    keep, queue = {out}, deque([out])
    while queue and len(keep) < limit:
        for a in g.args(queue.popleft()):
            if a not in keep and len(keep) < limit:
                keep.add(a)
                queue.append(a)
    return keep


def draw(g: Graph, scene: Scene, out: str, limit: int | None = None,
         title: str | None = None) -> graphviz.Digraph:
    """The picture of ``g`` with what ``scene`` knows; left to right, like colah's."""
    adjoint = adjoint_name(g, out)
    symbolic = shown_derivatives(g, adjoint)
    nodes = g.order()
    if limit is None and len(nodes) > BIG:
        warnings.warn(f"graph has {len(nodes)} nodes, too many to read in one picture; "
                      "pass limit=N (--limit N) to draw the N nodes nearest the output",
                      GraphcWarning, stacklevel=3)
    keep = set(nodes) if limit is None else _nearest(g, out, limit)
    dot = graphviz.Digraph(name="graphc", graph_attr={
        "rankdir": "LR", "fontname": "Helvetica", "nodesep": "0.35", "ranksep": "0.7",
        "labelloc": "t", "fontsize": "14"},
        node_attr={"fontname": "Helvetica", "fontsize": "12"},
        edge_attr={"fontname": "Helvetica", "fontsize": "10", "color": "#555555"})
    lines = [(t, "#000000") for t in (title, scene.caption) if t] + scene.legend
    if lines:
        dot.attr(label="<" + "<br/>".join(f'<font color="{c}">{_esc(t)}</font>'
                                          for t, c in lines) + ">")
    for node in [n for n in nodes if n in keep]:
        attrs = _kind(g, node, out)
        if node in scene.focus:
            attrs.update(color=scene.focus_colour, penwidth="3")
        dot.node(_id(node), _node_label(g, node, scene), **attrs)
    hidden = len(nodes) - len(keep)
    if hidden:
        dot.node("__more", f"... {hidden} more nodes", shape="plaintext", fontcolor="#666666")
    for src, dst in g.nx.edges():
        if dst in keep and src not in keep:
            dot.edge("__more", _id(dst), style="dotted")
        elif dst in keep:
            dot.edge(_id(src), _id(dst), **_edge_attrs(g, src, dst, symbolic, scene, adjoint))
    for k, (edges, colour) in enumerate(scene.path_edges):
        for src, dst in [(u, v) for u, v in edges if u in keep and v in keep]:  # no phantoms
            dot.edge(_id(src), _id(dst), color=colour, penwidth="2.5", constraint="false",
                     tooltip=f"path {k + 1}")
    return dot


def adjoint_name(g: Graph, out: str) -> Callable[[str], str]:
    """How a vjp rule on an edge names a node's adjoint: ``t_bar``; in a gradient graph
    (nodes already named ``x_bar``) ``∂x_bar/∂t``, as the adjoints on its nodes are."""
    if any(g.shown(n).endswith("_bar") for n in g.nx):
        return lambda node: f"∂{g.shown(out)}/∂{g.shown(node)}"
    return lambda node: f"{g.shown(node)}_bar"


def shown_derivatives(g: Graph, adjoint: Callable[[str], str] | None = None
                      ) -> dict[tuple[str, str], Any]:
    """``local_derivatives`` written in the names nodes are shown as (``x_bar``)."""
    symbolic = local_derivatives(g, adjoint)
    shown = {sp.Symbol(n, real=True): sp.Symbol(d["shown"], real=True)
             for n, d in g.node_data().items() if "shown" in d}
    return {e: sp.sympify(s).xreplace(shown) for e, s in symbolic.items()} if shown else symbolic


def _esc(text: str) -> str:
    """Text for an HTML-like label: markup escaped, and backslashes doubled (Graphviz
    reads \\N, \\G, \\l ... as escapes even there)."""
    return html.escape(text).replace("\\", "\\\\")


def _id(node: str) -> str:
    return "n_" + node.encode().hex()  # any node name, even "a:b" or "x\n", is a safe id


def _node_label(g: Graph, node: str, scene: Scene) -> str:
    if g.is_const(node):
        return "<" + _esc(op_text(g, node)) + ">"
    parts = [f"<b>{_esc(g.shown(node))}</b>",
             f'<font point-size="10">{_esc(op_text(g, node))}</font>']
    if node in scene.values:
        parts.append(f'<font color="#1d4ed8">= {_number(scene.values[node])}</font>')
    if node in scene.second:
        mark = " (so far)" if node in scene.partial else ""
        parts.append(f'<font color="#b91c1c">{_esc(scene.label(g.shown(node)))} = '
                     f"{_number(scene.second[node])}{mark}</font>")
    return "<" + "<br/>".join(parts) + ">"


def _number(x: Any) -> str:
    """A value on a node: an array's shape and its range on two lines, to keep it narrow."""
    return _esc(format_number(x)).replace(", values in ", "<br/>values in ")


def _edge_attrs(g: Graph, src: str, dst: str, symbolic: dict, scene: Scene,
                adjoint: Callable[[str], str]) -> dict:
    if (src, dst) not in symbolic:
        return {"style": "dashed", "color": "#aaaaaa"}
    if scene.ask:
        return {"label": f"∂{g.shown(dst)}/∂{g.shown(src)} = ?", "fontcolor": "#b45309"}
    if g.op(dst).rules:  # a tensor op: show its vjp, the way the lectures write it
        text = f"{adjoint(src)} += {symbolic[(src, dst)]}"
    else:
        text = f"∂{g.shown(dst)}/∂{g.shown(src)} = {pretty(symbolic[(src, dst)])}"
    # a plain DOT label reads \N, \l, ... as escapes, and a trailing \ eats the quote
    text = text.replace("\\", "\\\\")
    if (src, dst) in scene.edge_values and not sp.sympify(symbolic[(src, dst)]).is_Number:
        text += f"\n= {format_number(scene.edge_values[(src, dst)])}"  # a 1 says it once
    attrs = {"label": text}
    if (src, dst) in scene.focus_edges:
        attrs.update(color=scene.focus_colour, penwidth="2.5", fontcolor=scene.focus_colour)
    return attrs


def full_scene(g: Graph, at: dict[str, Any] | None, out: str, show: str = "reverse",
               wrt: str | None = None, max_paths: int = 12) -> Scene:
    """The finished picture: every value and adjoint (or tangent, or path) known."""
    if at is None:
        if show != "reverse":
            raise GraphcError(f"the {show} picture needs input values (at=...)")
        return Scene()
    env = g.bind((), at)
    values = g.run(dict(env))
    scene = Scene(values=values, edge_values=edge_values(g, env))
    if show == "reverse":
        h = autodiff.reverse(g, of=out)
        scene.second = autodiff.adjoint_values(h, h.run(dict(env)))
        scene.label = lambda name: f"∂{g.shown(out)}/∂{name}"
        return scene
    if show not in ("forward", "paths"):
        raise GraphcError(f"show={show!r}: expected 'reverse', 'forward' or 'paths'")
    x = wrt or (g.inputs[0] if g.inputs else None)
    if x not in g.inputs:
        raise GraphcError(f"wrt={x!r} is not an input (inputs: {', '.join(g.inputs)})")
    if show == "forward":
        h = autodiff.forward(g, wrt=[x], of=out)
        got = h.run(dict(env))
        scene.second = {v: got[t] for v, t in h.meta.tangents[x].items()}
        scene.label = lambda name: f"∂{name}/∂{x}"
        return scene
    symbolic = shown_derivatives(g)
    edges = set(symbolic)
    # a ladder of k diamonds has 2**k paths: list a few, count and sum them all
    shown = enumerate_paths(g, x, out, edges, symbolic, scene.edge_values, max_paths)
    n = count_paths(g, x, out, edges)
    for i, p in enumerate(shown):
        colour = PALETTE[i % len(PALETTE)]
        scene.path_edges.append((list(zip(p.nodes, p.nodes[1:])), colour))
        value = "" if p.value is None else f" = {format_number(p.value)}"
        scene.legend.append((f"path {i + 1}: {' → '.join(map(g.shown, p.nodes))}:  "
                             + product(p.factors) + value, colour))
    if n > len(shown):
        scene.legend.append((f"... and {n - len(shown)} more", "#000000"))
    if path_edges(g, x, out, edges) <= set(scene.edge_values):
        total = dp_sum(g, x, out, edges, scene.edge_values)
        scene.legend.append((f"sum over {plural(n, 'path')} = ∂{g.shown(out)}/∂{x} = "
                             f"{format_number(total)}", "#000000"))
    else:
        scene.legend.append(("tensor ops have Jacobians, not numbers, on their edges: no "
                             "scalar path sum", "#000000"))
    return scene


def render(g: Graph, at: dict[str, Any] | None = None, path: str | Path | None = None, *,
           of: str | None = None, show: str = "reverse", wrt: str | None = None,
           limit: int | None = None) -> graphviz.Digraph:
    """Draw ``g``; with ``at``, also forward values, numeric local derivatives and
    adjoints (``show="forward"``: tangents d node/d wrt; ``show="paths"``: every path
    from ``wrt`` to the output). ``path`` writes .svg, .png, .pdf or .dot.

    >>> import graphc as gc
    >>> dot = render(gc.load("examples/colah.gc"), at={"a": 2, "b": 1})
    >>> "∂e/∂c = d" in dot.source
    True
    """
    out = g.output(of)
    if wrt is not None and show == "reverse":  # the other pictures check it themselves
        raise GraphcError("wrt= picks the input of show='forward' or 'paths'; the reverse "
                          "picture shows every input's adjoint")
    if limit is not None and (type(limit) is not int or limit < 1):
        raise GraphcError(f"limit={limit!r}: expected a positive number of nodes")
    scene = full_scene(g, at, out, show, wrt)
    where = " at " + ", ".join(  # arrays by their shape: their values are on the nodes
        f"{k} = {format_number(v)}" if np.ndim(v) == 0 else f"{k}: {list(np.shape(v))}"
        for k, v in at.items()) if at else ""
    if path is not None and Path(path).suffix.lower() in (".svg", ".png", ".pdf"):
        drawable(g, limit)
    dot = draw(g, scene, out, limit, title=f"{g.shown(out)}{where}")
    if path is not None:
        write(dot, path)
    return dot


def drawable(g: Graph, limit: int | None) -> None:
    """Refuse a layout bigger than ``DRAW_LIMIT`` unless ``limit`` asks for it."""
    if limit is None:
        size = layout_size(g)
        if size > DRAW_LIMIT:
            bends = f" and {size - len(g.nx)} bends of long edges" if size > len(g.nx) else ""
            raise GraphcError(
                f"graph has {len(g.nx)} nodes{bends}: Graphviz takes minutes to lay out "
                f"more than {DRAW_LIMIT:,} in one picture; pass --limit N (limit=N) to draw "
                f"the N nodes nearest the output (--limit {len(g.nx)} draws them all), or "
                "write .dot text")


def layout_size(g: Graph) -> int:
    """Nodes plus the ranks each edge skips: what dot's layout costs grow with."""
    rank: dict[str, int] = {}
    for v in g.order():
        rank[v] = 1 + max((rank[u] for u in g.nx.predecessors(v)), default=-1)
    return len(g.nx) + sum(rank[v] - rank[u] - 1 for u, v in g.nx.edges())


def write(dot: graphviz.Digraph, path: str | Path) -> None:
    """Write a picture by its suffix; DOT text needs no Graphviz binary."""
    write_atomic(path, drawn(dot, path))


def drawn(dot: graphviz.Digraph, path: str | Path) -> str | bytes:
    """The picture in the format of ``path``'s suffix, and a place to write it: checked
    before anything is written."""
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in ("dot", "gv", "svg", "png", "pdf"):
        raise GraphcError(f"{path}: unknown picture type .{fmt} (use .svg, .png, .pdf, .dot)")
    writable(path)
    return dot.source if fmt in ("dot", "gv") else pipe(dot, fmt)


def pipe(dot: graphviz.Digraph, fmt: str) -> bytes:
    """The picture as bytes in ``fmt``; a clear error when ``dot`` is missing."""
    program = shutil.which("dot")
    if program is None:
        raise GraphcError("Graphviz's `dot` program was not found: install Graphviz "
                          "(Debian: apt-get install graphviz) for SVG/PNG/PDF; "
                          ".dot output works without it")
    try:  # run here, not by graphviz.pipe: it has no timeout (a child is killed on ^C)
        done = subprocess.run([program, f"-T{fmt}"], input=dot.source.encode(),
                              capture_output=True, timeout=DOT_TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        raise GraphcError(f"Graphviz's `dot` did not finish the picture in "
                          f"{DOT_TIMEOUT:g} s: draw fewer nodes with --limit N (limit=N), "
                          "or write .dot text") from None
    except OSError as exc:
        raise GraphcError(f"Graphviz's `dot` could not run: {exc}") from None
    if done.returncode != 0:
        detail = done.stderr.decode(errors="replace").strip()
        raise GraphcError(f"Graphviz's `dot` failed to draw the picture: {detail}")
    return done.stdout


def _jupyter(g: Graph, include: Any, exclude: Any) -> dict | None:
    """The picture Jupyter shows for a graph; None (text) when Graphviz is missing."""
    try:
        return render(g)._repr_mimebundle_(include, exclude)
    except graphviz.ExecutableNotFound:
        return None


Graph.display = _jupyter
