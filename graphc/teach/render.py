"""Pictures of a graph through graphviz: forward values and op on the nodes, symbolic
and numeric local derivatives on the edges, adjoints (or tangents, or paths) in colour.

Every picture is drawn by ``draw`` from a ``Scene`` that says what is known so far,
so the full picture and each frame of the step-by-step backward pass look alike.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import warnings
from collections import deque
from dataclasses import replace
from pathlib import Path
from typing import Any

import graphviz

from ..errors import GraphcError, GraphcWarning
from ..files import writable, write_atomic
from ..ir.derive import positions
from ..ir.graph import Graph
from ..ir.numbering import teaching
from . import canvas
from .labels import edge_attrs, node_label
from .layout import Layout, Pins
from .scene import DASHES, PALETTE, Scene, adjoint_name, full_scene, list_paths, shown_derivatives
from .style import MAX_PATHS, PLAIN, Style

BIG = 300
"""Graphs with more nodes than this still render, with a warning (see ``limit=``)."""
DRAW_LIMIT = 5_000
"""The most a picture may cost Graphviz to lay out, in nodes plus bends of rank-skipping
edges (a random 200-node DAG, 3,837, takes 9 s; a 400-node one, 14,529, over 12 minutes):
past it SVG/PNG/PDF need ``limit=`` (at least the node count draws them all)."""
DOT_TIMEOUT = 120.0
"""Seconds Graphviz may take for one picture (a dense 400-node DAG takes tens of
minutes): past it, a clear error instead of a hang."""


def _kind(g: Graph, node: str, out: str, style: Style) -> dict[str, str]:
    op = g.attrs(node)["op"]
    if op == "const":
        return {"shape": "box", "style": "dashed,rounded", "color": style.colour("const"),
                "fontcolor": style.colour("muted")}
    attrs = {"shape": "box", "style": "rounded,filled"} if style.compact else {
        "shape": "ellipse", "style": "filled"}  # a box is narrower around 4 lines
    attrs["fillcolor"] = style.colour("plain")
    if op == "input":
        attrs["fillcolor"] = style.colour("input")
    elif node == out or node in g.outputs:
        attrs.update(fillcolor=style.colour("output"), peripheries="2")
    elif g.shown(node).endswith("_bar") or "_dot" in g.shown(node):
        attrs["fillcolor"] = style.colour("adjoint_node")
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


class Pinned(graphviz.Digraph):
    """A picture drawn at a layout's places: Graphviz must keep them (``neato -n2``)
    when Jupyter shows it or a user calls ``.pipe()`` / ``.render()`` on it."""

    canvas = ""  # the layout's bounding box, "x0,y0,x1,y1", which every frame keeps

    def corners(self) -> str:
        """The source with two invisible points at the canvas' corners: neato -n2 sizes a
        picture by what it draws, and a frame's labels grow as the steps go on."""
        if not self.canvas:
            return self.source
        x0, y0, x1, y1 = self.canvas.split(",")
        points = "".join(f'\t__corner{i} [label="" pos="{x},{y}!" shape=point style=invis '
                         'width=0.01 height=0.01]\n' for i, (x, y) in enumerate(
                             [(x0, y0), (x1, y1)]))
        return self.source.rstrip().removesuffix("}") + points + "}\n"

    def pipe(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("neato_no_op", 2)
        return graphviz.Source(self.corners(), engine=self.engine).pipe(*args, **kwargs)

    def render(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("neato_no_op", 2)
        return graphviz.Source(self.corners(), engine=self.engine).render(*args, **kwargs)


def draw(g: Graph, scene: Scene, out: str, limit: int | None = None,
         title: str | None = None, style: Style = PLAIN,
         layout: Layout | None = None) -> graphviz.Digraph:
    """The picture of ``g`` with what ``scene`` knows; left to right, like colah's. With
    ``layout``, every node and edge is drawn where it says (see layout.py)."""
    adjoint = adjoint_name(g, out)
    symbolic = shown_derivatives(g, adjoint)
    nodes = g.order()
    if limit is None and len(nodes) > BIG:
        warnings.warn(f"graph has {len(nodes)} nodes, too many to read in one picture; "
                      "pass limit=N (--limit N) to draw the N nodes nearest the output",
                      GraphcWarning, stacklevel=3)
    keep = set(nodes) if limit is None else _nearest(g, out, limit)
    hidden = len(nodes) - len(keep)
    if not style.constants:  # their values are in the text of the ops that use them
        keep = {n for n in keep if not g.is_const(n)}
    pins = Pins(layout) if layout is not None else None
    kind = graphviz.Digraph if pins is None else Pinned
    dot = kind(name="graphc", engine="dot" if pins is None else "neato", graph_attr={
        "rankdir": layout.direction if layout is not None else style.rankdir,
        "fontname": "Helvetica", "nodesep": "0.2" if style.compact else "0.35",
        "ranksep": "0.12" if style.compact else "0.7", "labelloc": "t", "fontsize": style.size(14),
        "bgcolor": style.colour("background"), "fontcolor": style.colour("text")},
        node_attr={"fontname": "Helvetica", "fontsize": style.size(12),
                   "color": style.colour("text"), "fontcolor": style.colour("text")},
        edge_attr={"fontname": "Helvetica", "fontsize": style.size(10),
                   "color": style.colour("edge"), "fontcolor": style.colour("text")})
    lines = canvas.legend(g, scene, out, title, style)
    if isinstance(dot, Pinned) and layout is not None:  # one canvas for every picture
        dot.canvas = canvas.place(dot, lines, layout, style)
    elif lines:
        dot.attr(label=canvas.html(lines))

    def pinned(kind: str, *ids: Any) -> dict[str, str]:
        return {} if pins is None else getattr(pins, kind)(*ids)

    for node in [n for n in nodes if n in keep]:
        attrs = _kind(g, node, out, style)
        if node in scene.focus:
            attrs.update(color=style.colour(scene.focus_kind), penwidth="3")
        dot.node(_id(node), node_label(g, node, scene, style), **attrs,
                 **pinned("node", _id(node)))
    if hidden:
        dot.node("__more", f"... {hidden} more nodes", shape="plaintext",
                 fontcolor=style.colour("muted"), **pinned("node", "__more"))
    more = set()
    for src, dst in g.nx.edges():
        if dst not in keep or (g.is_const(src) and not style.constants):
            continue
        if src not in keep and dst not in more:  # one dotted edge says "from elsewhere"
            more.add(dst)
            dot.edge("__more", _id(dst), style="dotted", **pinned("edge", "__more", _id(dst)))
        elif src in keep:  # one edge per argument position: a + a draws two
            uses = positions(g, dst, src)  # a lambda's f(a, a) has one edge, its first
            for k in [k for k in uses if (src, dst, k) in symbolic] or uses:
                dot.edge(_id(src), _id(dst), **edge_attrs(g, (src, dst, k), symbolic, scene,
                                                           adjoint, style),
                         **pinned("edge", _id(src), _id(dst)))
    gap = 3.0 * style.font_scale
    for i, (edges, colour) in enumerate(scene.path_edges):
        for src, dst, k in [e for e in edges if e[0] in keep and e[1] in keep]:  # no phantoms
            dot.edge(_id(src), _id(dst), color=colour, penwidth="2.5", constraint="false",
                     style=DASHES[(i // len(PALETTE)) % len(DASHES)], arrowhead="none",
                     tooltip=f"path {i + 1}", **pinned("overlay", _id(src), _id(dst),
                                                       positions(g, dst, src).index(k), gap))
    return dot


def _id(node: str) -> str:
    return "n_" + node.encode().hex()  # any node name, even "a:b" or "x\n", is a safe id


def render(g: Graph, at: dict[str, Any] | None = None, path: str | Path | None = None, *,
           of: str | None = None, show: str = "reverse", wrt: str | None = None,
           limit: int | None = None, style: Style | None = None,
           max_paths: int = MAX_PATHS) -> graphviz.Digraph:
    """Draw ``g``; with ``at``, also forward values, numeric local derivatives, adjoints
    and the gradient each edge carries back (``show="forward"``: tangents d node/d wrt;
    ``show="paths"``: the paths from ``wrt`` to the output, ``max_paths`` of them listed).
    ``style`` (``Style.slide()``, ``Style(theme="dark")``...) sets the looks; ``path``
    writes .svg, .png (at ``style.dpi``), .pdf or .dot. Every picture of ``g`` at the
    same values has its nodes in the same places.

    >>> import graphc as gc
    >>> dot = render(gc.load("examples/colah.gc"), at={"a": 2, "b": 1})
    >>> "∂e/∂c = d" in dot.source
    True
    """
    g, out = teaching(g, of)  # temporaries t1, t2, ... without gaps
    style = PLAIN if style is None else style
    if not isinstance(style, Style):
        raise GraphcError(f"style={style!r}: expected a graphc Style (gc.Style.slide())")
    if wrt is not None and show == "reverse":  # the other pictures check it themselves
        raise GraphcError("wrt= picks the input of show='forward' or 'paths'; the reverse "
                          "picture shows every input's adjoint")
    if limit is not None and (type(limit) is not int or limit < 1):
        raise GraphcError(f"limit={limit!r}: expected a positive number of nodes")
    scene = full_scene(g, at, out, show, wrt, max_paths)
    if path is not None and Path(path).suffix.lower() in (".svg", ".png", ".pdf"):
        drawable(g, limit)
    layout = shared_layout(g, at, out, limit, style, scene if show == "reverse" else None)
    dot = draw(g, scene, out, limit, title=canvas.title(g, out, at), style=style,
               layout=layout)
    if path is not None:
        write(dot, path, style.dpi)
    return dot


def shared_layout(g: Graph, at: dict[str, Any] | None, out: str, limit: int | None,
                  style: Style = PLAIN, full: Scene | None = None) -> Layout | None:
    """Where every picture and frame of ``g`` at ``at`` puts its nodes: the layout of
    the reverse picture with each label at its widest (the adjoints that accumulate
    marked "so far", as in the frames); without ``at``, of the symbolic picture, which
    the symbolic paths picture then matches. None without Graphviz or past
    ``DRAW_LIMIT``."""
    if shutil.which("dot") is None or (limit is None and layout_size(g) > DRAW_LIMIT):
        return None
    full = full_scene(g, at, out) if full is None else full
    fan_out = {n for n in full.second if n in g.nx and g.nx.out_degree(n) > 1}
    widest = Scene(values=full.values, second=full.second, label=full.label, partial=fan_out,
                   edge_values=full.edge_values, flows=full.flows)
    # "auto": both directions, to keep the one whose picture a slide shows larger
    directions = ("LR", "TB") if style.direction == "auto" else (style.direction,)
    with warnings.catch_warnings():  # draw() warns once, when the picture itself is drawn
        warnings.simplefilter("ignore")
        # no legend: each picture puts its own title and legend above the canvas
        pictures = [draw(g, widest, out, limit, style=replace(style, direction=d,
                                                               legend=False))
                    for d in directions]
    legends = [canvas.legend(g, s, out, canvas.title(g, out, at), style)
               for s in _kinds(g, at, out, full)]
    measure = canvas.sizer(legends, style)
    laid = laid_out(pictures + ([measure] if measure is not None else []))
    room = canvas.room(legends, laid[-1] if measure is not None else None)
    layouts = []
    for direction, data in zip(directions, laid):
        layout = Layout.parse(data)
        layout.direction, layout.room = direction, room
        layouts.append(layout)
    return max(layouts, key=lambda lay: canvas.fit(lay, style))  # the first of a tie


def _kinds(g: Graph, at: dict[str, Any] | None, out: str, full: Scene) -> list[Scene]:
    """A scene of each picture kind of ``g`` at ``at``, as far as its legend goes: the
    values and adjoints (or the plain picture), forward mode, the paths from each input
    (of a graph of numbers: a tensor graph's paths list rules, seldom drawn, and would
    make the others' room much larger than they need)."""
    scenes = [full, Scene(full.values, edge_values=full.edge_values, show="forward")] \
        if at is not None else [full]
    for x in g.inputs if all(g.shape(n) == () for n in g.nx) and len(g.nx) <= BIG else []:
        paths = Scene(full.values, edge_values=full.edge_values, show="paths")
        try:
            list_paths(g, paths, x, out, MAX_PATHS, numbers=at is not None)
        except GraphcError:  # an input without paths to draw (an index)
            continue
        scenes.append(paths)
    return scenes


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


def write(dot: graphviz.Digraph, path: str | Path, dpi: float = PLAIN.dpi) -> None:
    """Write a picture by its suffix; DOT text needs no Graphviz binary."""
    write_atomic(path, drawn(dot, path, dpi))


def drawn(dot: graphviz.Digraph, path: str | Path, dpi: float = PLAIN.dpi) -> str | bytes:
    """The picture in the format of ``path``'s suffix, and a place to write it: checked
    before anything is written."""
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in ("dot", "gv", "svg", "png", "pdf"):
        raise GraphcError(f"{path}: unknown picture type .{fmt} (use .svg, .png, .pdf, .dot)")
    writable(path)
    return dot.source if fmt in ("dot", "gv") else pipe(dot, fmt, dpi)


def pipe(dot: graphviz.Digraph, fmt: str, dpi: float = PLAIN.dpi) -> bytes:
    """The picture as bytes in ``fmt`` (a PNG at ``dpi``); a clear error when ``dot`` is
    missing. A picture with a layout keeps it (``neato -n2``), others are laid out."""
    flags = [f"-Gdpi={dpi:g}"] if fmt == "png" else []
    if dot.engine == "neato":
        flags.append("-n2")
    return run_graphviz(dot.corners() if isinstance(dot, Pinned) else dot.source, fmt, flags,
                        neato=dot.engine == "neato")


def laid_out(dots: list[graphviz.Digraph]) -> list[dict[str, Any]]:
    """Graphviz's layout (``-Tjson``, read) of each of ``dots``, all in one run of
    ``dot``: starting it costs more than laying out a small graph."""
    text = run_graphviz("".join(dot.source for dot in dots), "json", []).decode()
    decoder, found, at = json.JSONDecoder(), [], 0
    for _ in dots:  # one JSON object per graph, one after another
        data, at = decoder.raw_decode(text, len(text) - len(text[at:].lstrip()))
        found.append(data)
    return found


def run_graphviz(source: str, fmt: str, flags: list[str], neato: bool = False) -> bytes:
    """What ``dot`` (``neato``: neato, where there is one) writes in ``fmt`` for
    ``source`` (one graph or several); every run of Graphviz goes through here."""
    program = shutil.which("dot")
    if program is not None and neato:
        program = shutil.which("neato") or program
    if program is None:
        raise GraphcError("Graphviz's `dot` program was not found: install Graphviz "
                          "(Debian: apt-get install graphviz) for SVG/PNG/PDF; "
                          ".dot output works without it")
    try:  # run here, not by graphviz.pipe: it has no timeout (a child is killed on ^C)
        done = subprocess.run([program, *flags, f"-T{fmt}"], input=source.encode(),
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
