"""Backprop step by step: one frame per node of the forward sweep, then one per node of
the reverse sweep, and a self-contained HTML page that steps through them.

The numbers are the compiler's: forward values from the interpreter, adjoints from
the reverse-mode graph, and the partial sums a node's adjoint passes through on the
way (each the adjoint of a consumer times a local derivative, as on the edge).
"""

from __future__ import annotations

import html
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import graphviz
import numpy as np

from ..files import Outputs
from ..files.steps_folder import StepsFolder
from ..ir.graph import Graph
from ..ir.pretty import factor
from ..ops.table import _sum_to
from .render import Scene, draw, drawable, full_scene, pipe, shared_layout, shown_derivatives
from .style import PLAIN, Style
from .words import factor_number, format_number, op_text


def frames(g: Graph, at: dict[str, Any], of: str | None = None,
           limit: int | None = None, style: Style = PLAIN) -> list[tuple[str, graphviz.Digraph]]:
    """``(caption, picture)`` for every step of the forward and reverse sweeps."""
    return list(iter_frames(g, at, of, limit, style))


def iter_frames(g: Graph, at: dict[str, Any], of: str | None = None,
                limit: int | None = None, style: Style = PLAIN
                ) -> Iterator[tuple[str, graphviz.Digraph]]:
    """The frames of ``frames`` one at a time: a 300-node chain has 603, each a whole
    picture, so they are drawn as they are written and never held together. Every
    frame has the one layout of the graph (the caption is beside it, not in it), so
    nothing moves from frame to frame."""
    out = g.output(of)
    full = full_scene(g, at, out)  # the finished picture: values, edge values, adjoints
    layout = shared_layout(g, at, out, limit, style, full)
    values, edges, adjoint, label = full.values, full.edge_values, full.second, full.label
    name = g.shown  # every node as it is shown (a gradient graph's x_bar)
    # a tensor op's rule names the adjoint it pushes back as the captions do: ∂f/∂t
    symbolic = shown_derivatives(g, lambda n: label(name(n)))
    order = g.order()

    def frame(caption: str, **shown: Any) -> tuple[str, graphviz.Digraph]:
        scene = Scene(values=dict(known), label=label, **shown)
        scene.edge_values = {e: v for e, v in edges.items() if e[0] in known and e[1] in known}
        scene.flows = {e: f for e, f in full.flows.items() if e[1] in pushed}
        return caption, draw(g, scene, out, limit, style=style, layout=layout)

    pushed: set[str] = set()  # the nodes whose adjoint has flowed back to their operands
    known = {n: values[n] for n in order if g.attrs(n)["op"] in ("input", "const")}
    yield frame("the inputs: " + ", ".join(f"{n} = {format_number(values[n])}"
                                           for n in g.inputs))
    for n in order:
        if n in known:
            continue
        known[n] = values[n]
        yield frame(f"forward: {name(n)} = {op_text(g, n)} = {format_number(values[n])}",
                    focus={n}, focus_edges={(a, n) for a in g.args(n)})
    done: dict[str, Any] = {out: adjoint[out]}
    partial: dict[str, Any] = {}
    waiting = {n: sum(1 for m in g.nx.successors(n) if (n, m) in symbolic and m in adjoint)
               for n in order}
    yield frame(f"backward: seed ∂{name(out)}/∂{name(out)} = 1", second=dict(done),
                focus={out})
    for v in reversed(order):
        if v not in adjoint or g.attrs(v)["op"] == "input":
            continue
        done[v] = adjoint[v]
        pushed.add(v)
        partial.pop(v, None)
        pushes = []
        for a in dict.fromkeys(g.args(v)):
            if (a, v) not in symbolic:
                continue
            push = f"{label(name(a))} += "
            if (a, v) in edges:
                part = adjoint[v] * edges[(a, v)]
                push += f"{factor_number(adjoint[v])} · {factor(symbolic[(a, v)])}"
                if np.shape(part) != np.shape(values[a]):  # a was broadcast: sum it back
                    part = _sum_to(part, values[a])
                    push += f" summed to shape {list(np.shape(part))}"
                partial[a] = partial[a] + part if a in partial else part
                push += f" = {format_number(part)}"
            else:  # a tensor op's vjp rule, which holds v's adjoint; a's shows once complete
                push += str(symbolic[(a, v)])
            waiting[a] -= 1
            pushes.append(push)
        if pushes:
            yield frame(f"backward: {label(name(v))} = {format_number(adjoint[v])}; "
                        + "; ".join(pushes), second={**partial, **done}, focus={v},
                        partial={a for a in partial if waiting[a] > 0},
                        focus_edges={(a, v) for a in g.args(v)})
    final = {v: adjoint[v] for v in order if v in adjoint}
    yield frame("done: " + ", ".join(f"{label(x)} = {format_number(final[x])}"
                                     for x in g.inputs if x in final), second=final)


def write_steps(g: Graph, at: dict[str, Any], outdir: str | Path, of: str | None = None,
                limit: int | None = None, outputs: Outputs | None = None,
                style: Style = PLAIN) -> list[Path]:
    """Write ``frame_NNN.svg`` files and ``index.html`` into ``outdir``; their paths.

    Frames are staged as they are drawn and put in place together (with the rest of
    ``outputs``, when given), so a failure or a signal leaves nothing behind. In a folder
    used before, only the stepper's own files are replaced, its surplus frames removed.
    """
    if outputs is None:
        with Outputs() as own:
            return write_steps(g, at, outdir, of, limit, own, style)
    drawable(g, limit)
    folder = StepsFolder(outputs, outdir)
    head, tail = _PAGE.split("{{FRAMES}}")
    paths = []
    with folder.open("index.html") as index:
        index.write(head.encode())
        for i, (caption, dot) in enumerate(iter_frames(g, at, of, limit, style)):
            svg = pipe(dot, "svg").decode()
            paths.append(folder.write(f"frame_{i:03d}.svg", svg))
            index.write(("\n" if i else "").encode() + _figure(caption, svg).encode())
        index.write(tail.replace("{{COUNT}}", str(len(paths))).encode())
    paths.append(Path(outdir) / "index.html")
    folder.finish()
    return paths


def _figure(caption: str, svg: str) -> str:
    return (f'<figure class="frame" hidden><figcaption>{html.escape(caption)}</figcaption>'
            f"{svg[svg.find('<svg'):]}</figure>")


# one HTML file holding every frame inline: no network, buttons and arrow keys
_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>graphc: backprop step by step</title>
<style>
body { font-family: Helvetica, Arial, sans-serif; margin: 1.5em; }
nav button { font-size: 1.1em; margin-right: .3em; }
figcaption { font-size: 1.15em; margin: .8em 0; min-height: 1.5em; }
figure { margin: 0; } svg { max-width: 100%; height: auto; }
</style></head><body>
<h1>Backprop step by step</h1>
<p>Blue: forward values. Red: adjoints &part;out/&part;node ("so far" while they still
accumulate). Edges carry local derivatives. Keys: &larr; &rarr; Home End.</p>
<nav><button id="first">&#x23EE;</button><button id="prev">&#x25C0;</button>
<button id="next">&#x25B6;</button><button id="last">&#x23ED;</button>
<span id="count"></span></nav>
{{FRAMES}}
<script>
const frames = document.querySelectorAll(".frame");
let at = 0;
function show(i) {
  at = Math.max(0, Math.min(frames.length - 1, i));
  frames.forEach((f, k) => { f.hidden = k !== at; });
  document.getElementById("count").textContent = `step ${at + 1} of {{COUNT}}`;
}
document.getElementById("first").onclick = () => show(0);
document.getElementById("prev").onclick = () => show(at - 1);
document.getElementById("next").onclick = () => show(at + 1);
document.getElementById("last").onclick = () => show(frames.length - 1);
document.addEventListener("keydown", (e) => {
  if (e.key === "ArrowRight" || e.key === " ") show(at + 1);
  if (e.key === "ArrowLeft") show(at - 1);
  if (e.key === "Home") show(0);
  if (e.key === "End") show(frames.length - 1);
});
show(0);
</script></body></html>
"""
