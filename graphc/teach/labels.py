"""What the pictures write: node and edge labels (CS231n's gradient on each wire
among them) and the legend, in a ``Style``'s colours."""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import sympy as sp

from ..ir.graph import Graph
from ..ir.pretty import pretty
from ..ops.table import _sum_to
from . import gates
from .style import Style
from .words import format_number, op_text

if TYPE_CHECKING:
    from .scene import Scene

LEGEND_WIDTH = 90
"""Characters per line of a picture's title and legend before it wraps (compact: 60)."""


def key(g: Graph, scene: Scene, out: str, style: Style) -> list[list[tuple[str, str]]]:
    """The legend, in lines of coloured words: what the colours and edge labels mean."""
    text, value, second = (style.colour(k) for k in ("text", "value", "second"))
    edges = [("edges: local derivative ∂head/∂tail", text)]
    patterns = [[(line, style.colour("muted"))] for line in gates.legend(g)] if style.gates \
        else []
    if not scene.values:
        return [edges, *patterns]
    nodes = [("nodes: ", text), ("value (forward pass)", value)]
    if scene.show == "forward":
        nodes += [(",  ", text), ("tangent ∂node/∂input (forward mode)", second)]
        if style.flows:
            edges += [(",  ", text), ("→ pushed forward = tangent of the tail · local"
                                      if style.compact else
                                      "→ tangent of the tail · local = pushed forward", second)]
    elif scene.show == "reverse":
        nodes += [(",  ", text), (f"∂{g.shown(out)}/∂node (backward pass)", second)]
        if style.flows:
            edges += [(",  ", text), ("← gradient flowing back = upstream gradient · local"
                                      if style.compact else
                                      "← upstream gradient · local = gradient flowing back",
                                      second)]
    if style.compact:  # narrow, to stand beside a tall picture: a meaning per line
        return [*_split(nodes), *_split(edges), *patterns]
    return [nodes, edges, *patterns]


def _split(line: list[tuple[str, str]]) -> list[list[tuple[str, str]]]:
    """A legend line broken at its ",  " separators, the parts after the first indented."""
    out: list[list[tuple[str, str]]] = [[]]
    for part in line:
        if part[0] == ",  ":
            out.append([("    ", part[1])])
        else:
            out[-1].append(part)
    return out


def wrapped(lines: list[tuple[str, str]], width: int = LEGEND_WIDTH) -> list[tuple[str, str]]:
    """Long lines broken after a `` → `` or `` · `` (a path's nodes and factors)."""
    out = []
    for text, colour in lines:
        while len(text) > width:
            cut = text.find(":  ", 11, width)  # a path's nodes, then its product
            if cut < 0:
                cut = max(text.rfind(sep, 0, width) for sep in (" → ", " · ", ", "))
            if cut <= 10:  # no place to break that shortens the line
                break
            out.append((text[:cut + 2].rstrip(), colour))
            text = "      " + text[cut + 2:].lstrip()
        out.append((text, colour))
    return out


def esc(text: str) -> str:
    """Text for an HTML-like label: markup escaped, and backslashes doubled (Graphviz
    reads \\N, \\G, \\l ... as escapes even there)."""
    return html.escape(text).replace("\\", "\\\\")


def node_label(g: Graph, node: str, scene: Scene, style: Style) -> str:
    if g.is_const(node):
        return "<" + esc(op_text(g, node)) + ">"
    name, op = f"<b>{esc(g.shown(node))}</b>", esc(op_text(g, node))
    if style.compact:  # two lines fewer: "t4 = sigma ** 2 = 0.04", "S (input) = 100"
        op = f"({op})" if g.attrs(node)["op"] == "input" else f"= {op}"
    parts = [f'{name} <font point-size="{style.size(10)}">{op}</font>'] if style.compact else [
        name, f'<font point-size="{style.size(10)}">{op}</font>']
    if node in scene.values:
        value = (f'<font color="{style.colour("value")}">= '
                 f"{number(scene.values[node], style.digits)}</font>")
        if style.compact:
            parts[0] += " " + value
        else:
            parts.append(value)
    if node in scene.second:
        mark = " (so far)" if node in scene.partial else ""
        parts.append(f'<font color="{style.colour("second")}">'
                     f"{esc(scene.label(g.shown(node)))} = "
                     f"{number(scene.second[node], style.digits)}{mark}</font>")
    parts += [f'<font color="{style.colour(colour)}">{esc(text)}</font>'
              for text, colour in scene.notes.get(node, [])]
    if style.gates and (said := gates.notes(g, node)):
        parts.append(f'<font point-size="{style.size(9)}" color="{style.colour("muted")}">'
                     f"<i>{esc(' · '.join(said))}</i></font>")
    return "<" + "<br/>".join(parts) + ">"


def number(x: Any, digits: int = 4) -> str:
    """A value on a node: an array's shape and its range on two lines, to keep it narrow."""
    return esc(format_number(x, digits)).replace(", values in ", "<br/>values in ")


def parallel(g: Graph, edge: tuple[str, str, int], symbolic: dict) -> bool:
    """The edge is one of several from its operand to its node (``a + a``)."""
    src, dst, _ = edge
    return sum((src, dst, k) in symbolic for k, a in enumerate(g.args(dst)) if a == src) > 1


def partial_name(g: Graph, edge: tuple[str, str, int], symbolic: dict) -> str:
    """``∂b/∂a``; one of parallel edges by its argument position: ``∂b/∂a (operand 2)``."""
    src, dst, k = edge
    use = f" (operand {k + 1})" if parallel(g, edge, symbolic) else ""
    return f"∂{g.shown(dst)}/∂{g.shown(src)}{use}"


def edge_attrs(g: Graph, edge: tuple[str, str, int], symbolic: dict, scene: Scene,
               adjoint: Callable[[str], str], style: Style) -> dict:
    """One edge per argument position: ``a + a`` has two, each its derivative and flow."""
    if edge not in symbolic:
        return {"style": "dashed", "color": style.colour("unused")}
    if scene.ask:  # an exercise: the student finds it
        return {"label": f"{partial_name(g, edge, symbolic)} = ?",
                "fontcolor": style.colour("ask")}
    if g.op(edge[1]).rules:  # a tensor op: show its vjp, the way the lectures write it
        lines = [f"{adjoint(edge[0])} += {symbolic[edge]}"]
    else:  # compact: the legend says an edge's rule is ∂head/∂tail
        lines = [("" if style.compact else f"{partial_name(g, edge, symbolic)} = ")
                 + pretty(symbolic[edge])]
    if edge in scene.edge_values and not sp.sympify(symbolic[edge]).is_Number:
        value = f"= {format_number(scene.edge_values[edge], style.digits)}"
        if style.compact and not g.op(edge[1]).rules:
            lines[0] += " " + value
        else:
            lines.append(value)  # a 1 says it once
    if style.flows and edge in scene.flows:  # in colour: an HTML label
        flow = esc(flow_text(scene, edge, style))
        label = "<br/>".join(map(esc, lines))
        br = "<br/>"
        attrs = {"label": f'<{label}{br}<font color="{style.colour("second")}">{flow}</font>>'}
    else:  # a plain DOT label reads \N, \l, ... as escapes, and a trailing \ eats the quote
        attrs = {"label": "\n".join(lines).replace("\\", "\\\\")}
    if edge in scene.focus_edges:
        colour = style.colour(scene.focus_kind)
        attrs.update(color=colour, penwidth="2.5", fontcolor=colour)
    return attrs


def flow_text(scene: Scene, edge: tuple[str, str, int], style: Style | None = None) -> str:
    """CS231n's number on a wire: ``← 2 · 3 = 6`` (upstream gradient times the local
    derivative; an array, or any on a compact picture, by its value alone)."""
    upstream, local, flow = scene.flows[edge]
    arrow = "→" if scene.show == "forward" else "←"
    if style is not None and style.compact:
        return f"{arrow} {format_number(flow, style.digits)}"
    if np.ndim(flow) or np.ndim(upstream) or np.ndim(local):
        return f"{arrow} {format_number(flow)}"
    return f"{arrow} {factor_text(upstream)} · {factor_text(local)} = {format_number(flow)}"


def factor_text(x: Any) -> str:
    text = format_number(x)
    return f"({text})" if text.startswith("-") else text


def flows(scene: Scene, back: bool = True) -> dict[tuple[str, str, int], tuple[Any, Any, Any]]:
    """What each wire with a number carries: backward, the adjoint of its head times its
    local derivative, summed to its tail's shape; forward, the tail's tangent times it.
    Each of parallel edges (``a + a``) carries its own."""
    out = {}
    for (a, v, k), local in scene.edge_values.items():
        upstream = scene.second.get(v if back else a)
        if upstream is None or a not in scene.values:
            continue
        flow = np.asarray(upstream) * local
        if back and np.shape(flow) != np.shape(scene.values[a]):
            flow = _sum_to(flow, scene.values[a])
        out[(a, v, k)] = (upstream, local, flow if np.ndim(flow) else flow[()])
    return out
