"""One canvas for every picture of a graph: the title and legend above the layout
(layout.py) take the room of the largest legend any picture kind of the graph draws
(values and adjoints, forward, the paths from each input; the plain and symbolic
pictures without values), so the pictures of one graph line up on slides whatever
their legends say."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import graphviz
import numpy as np

from ..ir.graph import Graph
from .labels import LEGEND_WIDTH, esc, key, wrapped
from .style import Style
from .words import format_number

if TYPE_CHECKING:
    from .layout import Layout
    from .scene import Scene

Lines = list[list[tuple[str, str]]]


def title(g: Graph, out: str, at: dict[str, Any] | None) -> str:
    """The title of a picture of ``g`` at ``at``: arrays by their shape (their values
    are on the nodes)."""
    where = " at " + ", ".join(
        f"{k} = {format_number(v)}" if np.ndim(v) == 0 else f"{k}: shape {list(np.shape(v))}"
        for k, v in at.items()) if at else ""
    return f"{g.shown(out)}{where}"


def legend(g: Graph, scene: Scene, out: str, heading: str | None, style: Style) -> Lines:
    """The lines above a picture, in coloured words: title, caption, the scene's own
    legend (paths), and what the colours mean."""
    text = style.colour("text")
    lines = [[(t, c or text)] for t, c in wrapped(  # "": the theme's text colour
        [(t, text) for t in (heading, scene.caption) if t] + scene.legend,
        70 if style.compact else LEGEND_WIDTH)]
    return lines + key(g, scene, out, style) if style.legend else lines


def html(lines: Lines, room: int = 0, left: bool = False) -> str:
    """The HTML label of ``lines``, padded to ``room`` lines (each a space: an empty
    line is lower than a line of text); ``left``: each line flush left."""
    text = ["".join(f'<font color="{c}">{esc(t)}</font>' for t, c in line) for line in lines]
    br = '<br align="left"/>' if left else "<br/>"
    return "<" + br.join(text + ["&#160;"] * (room - len(lines))) + (br if left else "") + ">"


def sizer(legends: list[Lines], style: Style) -> graphviz.Digraph | None:
    """A graph of ``legends`` alone, which Graphviz lays out to say how wide each is
    (``room``); None when there is no legend to measure. The caller runs Graphviz, with
    the picture's own layout in the same run."""
    measure = graphviz.Digraph(graph_attr={"fontname": "Helvetica"}, node_attr={
        "shape": "plaintext", "margin": "0", "fontname": "Helvetica",
        "fontsize": style.size(14)})
    for k, lines in enumerate(legends):
        if lines:
            measure.node(f"legend{k}", html(lines))
    return measure if measure.body else None


def room(legends: list[Lines], laid: dict[str, Any] | None) -> tuple[float, int]:
    """The room the largest of ``legends`` takes above a picture: its width in points,
    as Graphviz sets it (``laid``: the layout of their ``sizer``), and its number of
    lines."""
    if laid is None:
        return 0.0, 0
    widths = [float(o["width"]) * 72 for o in laid.get("objects", []) if "width" in o]
    return max(widths, default=0.0) + 20, max(len(lines) for lines in legends)  # its margins


def place(dot: graphviz.Digraph, lines: Lines, layout: Layout, style: Style) -> str:
    """Put ``lines`` above the picture, padded to the layout's room (Graphviz puts a
    picture's label above its drawing, as tall as its lines), or, where a slide then
    shows it larger, beside it at the top; the canvas the picture then has,
    "x0,y0,x1,y1": the layout's and the legend's room."""
    width, n = layout.room
    x0, y0, x1, y1 = (float(v) for v in layout.bb.split(","))
    if beside(layout, style):
        height = _height(n, style)
        dot.attr(label=html(lines, n, left=True),  # neato -n2 keeps a label's place
                 lp=f"{x1 + width / 2:.2f},{y1 - height / 2:.2f}")
        return f"{x0:.2f},{min(y0, y1 - height):.2f},{x1 + width:.2f},{y1:.2f}"
    if max(n, len(lines)):
        dot.attr(label=html(lines, n))
    cx = (x0 + x1) / 2
    return f"{min(x0, cx - width / 2):.2f},{y0:.2f},{max(x1, cx + width / 2):.2f},{y1:.2f}"


SLIDE = (1920, 1080)
"""A 16:9 slide in pixels: a picture scaled to fit it should have no text under 14 px."""


def _height(lines: int, style: Style) -> float:
    return 1.2 * float(style.size(14)) * lines  # Graphviz's line spacing


def _fits(layout: Layout, style: Style) -> tuple[float, float]:
    """Pixels per point on a slide with the legend above the layout, and beside it."""
    x0, y0, x1, y1 = (float(v) for v in layout.bb.split(","))
    width, lines = layout.room
    w, h, legend = x1 - x0, y1 - y0, _height(lines, style)
    return (min(SLIDE[0] / max(w, width), SLIDE[1] / (h + legend)),
            min(SLIDE[0] / (w + width), SLIDE[1] / max(h, legend)))


def beside(layout: Layout, style: Style) -> bool:
    """A compact picture's legend goes beside a tall layout, where a slide has room."""
    above, side = _fits(layout, style)
    return style.compact and layout.room[1] > 0 and side > above


def width(layout: Layout, style: Style) -> float:
    """The width in points of the canvas ``place`` gives a picture drawn at ``layout``."""
    x0, _, x1, _ = (float(v) for v in layout.bb.split(","))
    legend = layout.room[0]
    return x1 - x0 + legend if beside(layout, style) else max(x1 - x0, legend)


def fit(layout: Layout | None, style: Style) -> float:
    """Pixels per point of the picture drawn at ``layout`` scaled to fit a slide: its
    smallest text, ``style.size(10)`` points, is that many times as high."""
    return 0.0 if layout is None else _fits(layout, style)[beside(layout, style)]
