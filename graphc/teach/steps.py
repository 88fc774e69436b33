"""Backprop step by step: one frame per node of the forward sweep, then one per node of
the reverse sweep, and a self-contained HTML page that steps through them.

The numbers are the compiler's: forward values from the interpreter, adjoints from
the reverse-mode graph, and the partial sums a node's adjoint passes through on the
way (each the adjoint of a consumer times a local derivative, as on the edge).
"""

from __future__ import annotations

import html
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import graphviz
import numpy as np

from ..files import Outputs
from ..files.steps_folder import StepsFolder
from ..ir.graph import Graph
from ..ir.numbering import teaching
from ..ir.pretty import factor
from ..ops.table import _sum_to
from . import canvas
from .code import Listing, Step, listing
from .render import draw, drawable, pipe, shared_layout
from .scene import Scene, full_scene, shown_derivatives
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
    return ((caption, dot) for _, caption, dot in _steps(g, at, of, limit, style))


COLUMN = 700.0
"""Points: about the width of the page's column of frames in a window 1400 px wide; a
wider picture is shrunk to fit it, and its text with it."""


def _steps(g: Graph, at: dict[str, Any], of: str | None, limit: int | None,
           style: Style, column: bool = False) -> Iterator[tuple[Step, str, graphviz.Digraph]]:
    """``(step, caption, picture)``: the step as ``code.listing`` names it. ``column``:
    the frames go in the page's column, where a picture wider than ``COLUMN`` takes the
    slide style's compact labels, in the direction that shows it larger, to stay
    readable."""
    g, out = teaching(g, of)  # temporaries t1, t2, ... without gaps, as the code's
    full = full_scene(g, at, out)  # the finished picture: values, edge values, adjoints
    layout = shared_layout(g, at, out, limit, style, full)
    if column and layout is not None and not style.compact and \
            canvas.width(layout, style) > COLUMN:
        style = replace(style, compact=True,
                        direction="auto" if style.direction == "LR" else style.direction)
        layout = shared_layout(g, at, out, limit, style, full)
    values, edges, adjoint, label = full.values, full.edge_values, full.second, full.label
    name = g.shown  # every node as it is shown (a gradient graph's x_bar)
    # a tensor op's rule names the adjoint it pushes back as the captions do: ∂f/∂t
    symbolic = shown_derivatives(g, lambda n: label(name(n)))
    order = g.order()

    def frame(step: Step, caption: str, **shown: Any) -> tuple[Step, str, graphviz.Digraph]:
        scene = Scene(values=dict(known), label=label, **shown)
        scene.edge_values = {e: v for e, v in edges.items() if e[0] in known and e[1] in known}
        scene.flows = {e: f for e, f in full.flows.items() if e[1] in pushed}
        return step, caption, draw(g, scene, out, limit, style=style, layout=layout)

    pushed: set[str] = set()  # the nodes whose adjoint has flowed back to their operands
    known = {n: values[n] for n in order if g.attrs(n)["op"] in ("input", "const")}
    yield frame(("inputs", ""), "the inputs: " + ", ".join(
        f"{n} = {format_number(values[n])}" for n in g.inputs))
    for n in order:
        if n in known:
            continue
        known[n] = values[n]
        yield frame(("forward", n),
                    f"forward: {name(n)} = {op_text(g, n)} = {format_number(values[n])}",
                    focus={n}, focus_edges={(a, n, k) for k, a in enumerate(g.args(n))},
                    focus_kind="value")
    done: dict[str, Any] = {out: adjoint[out]}
    partial: dict[str, Any] = {}
    waiting = dict.fromkeys(order, 0)  # pushes still to come: a + a pushes twice
    for a, m, _ in symbolic:
        waiting[a] += m in adjoint
    yield frame(("seed", out), f"backward: seed ∂{name(out)}/∂{name(out)} = 1",
                second=dict(done), focus={out})
    for v in reversed(order):
        if v not in adjoint or g.attrs(v)["op"] == "input":
            continue
        done[v] = adjoint[v]
        pushed.add(v)
        partial.pop(v, None)
        pushes = []
        for k, a in enumerate(g.args(v)):  # a push per edge: a + a pushes to a twice
            if (e := (a, v, k)) not in symbolic:
                continue
            push = f"{label(name(a))} += "
            if e in edges:
                part = adjoint[v] * edges[e]
                push += f"{factor_number(adjoint[v])} · {factor(symbolic[e])}"
                if np.shape(part) != np.shape(values[a]):  # a was broadcast: sum it back
                    part = _sum_to(part, values[a])
                    push += f" summed to shape {list(np.shape(part))}"
                partial[a] = partial[a] + part if a in partial else part
                push += f" = {format_number(part)}"
            else:  # a tensor op's vjp rule, which holds v's adjoint; a's shows once complete
                push += str(symbolic[e])
            waiting[a] -= 1
            pushes.append(push)
        if pushes:
            yield frame(("backward", v),
                        f"backward: {label(name(v))} = {format_number(adjoint[v])}; "
                        + "; ".join(pushes), second={**partial, **done}, focus={v},
                        partial={a for a in partial if waiting[a] > 0},
                        focus_edges={(a, v, k) for k, a in enumerate(g.args(v))})
    final = {v: adjoint[v] for v in order if v in adjoint}
    yield frame(("done", ""), "done: " + ", ".join(
        f"{label(x)} = {format_number(final[x])}" for x in g.inputs if x in final),
        second=final)


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
    paths: list[Path] = []
    with folder.open("index.html") as index:
        for part, svg in _parts(g, at, of, limit, style, page=True):
            if svg is not None:
                paths.append(folder.write(f"frame_{len(paths):03d}.svg", svg))
            index.write(part.encode())
    paths.append(Path(outdir) / "index.html")
    folder.finish()
    return paths


class Stepper:
    """The stepper for Jupyter: ``display(stepper(g, at))``; each of several in one
    notebook steps on its own."""

    def __init__(self, html: str):
        self.html = html

    def _repr_html_(self) -> str:
        return self.html


def stepper(g: Graph, at: dict[str, Any], of: str | None = None,
            limit: int | None = None, style: Style = PLAIN) -> Stepper:
    """The stepper of ``write_steps`` as one piece of HTML, for a notebook."""
    drawable(g, limit)
    return Stepper("".join(part for part, _ in _parts(g, at, of, limit, style, page=False)))


def _parts(g: Graph, at: dict[str, Any], of: str | None, limit: int | None, style: Style,
           page: bool) -> Iterator[tuple[str, str | None]]:
    """The stepper's HTML in pieces, each with the SVG of the frame it holds (None:
    none): the whole page with ``page``, else the part a notebook shows."""
    g, of = teaching(g, of)
    code = listing(g, of, at)
    head, tail = _STEPPER.split("{{FRAMES}}")
    yield (_PAGE_HEAD if page else "") + head.replace("{{PAGE}}", "1" if page else ""), None
    steps: list[Step] = []
    for step, caption, dot in _steps(g, at, of, limit, style, column=True):
        svg = pipe(dot, "svg").decode()
        yield ("\n" if steps else "") + _figure(caption, svg), svg
        steps.append(step)
    panel = _code_panel(code, steps)
    yield tail.replace("{{COUNT}}", str(len(steps))).replace("{{CODE}}", panel) \
        + (_PAGE_TAIL if page else ""), None


def _code_panel(code: Listing, steps: list[Step]) -> str:
    """The code, each line marked with the frames that show it: the frame of the step
    that runs it (for a step with no frame of its own, a node that pushes nothing, the
    next one's), and the backward step that reads the adjoint it computes."""
    frame = {s: i for i, s in enumerate(steps)}
    marks: list[set[int]] = [set() for _ in code.lines]
    for i, s in enumerate(code.steps[:-1]):
        if (k := frame.get(s or ("inputs", ""))) is not None:
            marks[i].add(k)
    marks[-1].add(len(steps) - 1)  # the return line: done
    for i in reversed(range(len(marks) - 1)):
        if not marks[i]:
            marks[i] = set(marks[i + 1])
    for k, (kind, v) in enumerate(steps):  # a backward step reads its node's adjoint
        if kind == "backward" and v in code.adjoint:
            marks[code.adjoint[v]].add(k)
    rows = "".join(f'<span class="line" data-frames="{" ".join(map(str, sorted(m)))}">'
                   f"{html.escape(line)}\n</span>" for m, line in zip(marks, code.lines))
    return ('<div class="code"><p>the NumPy that graphc emits for this graph, without '
            "rewrites, one line per node (<code>x_bar</code> is &part;out/&part;x, "
            "<code>dv_dx</code> the local derivative &part;v/&part;x, "
            "<code>x_bar_from_v</code> what flows back from v to x)</p>"
            f"<pre><code>{rows}</code></pre></div>")


def _figure(caption: str, svg: str) -> str:
    return (f'<figure class="frame" hidden><figcaption>{html.escape(caption)}</figcaption>'
            f"{svg[svg.find('<svg'):]}</figure>")


_PAGE_HEAD = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>graphc: backprop step by step</title>
</head><body>
<h1>Backprop step by step</h1>
"""
_PAGE_TAIL = "\n</body></html>\n"


_ICONS = {"first": '<i class="bar"></i><i class="left"></i>', "prev": '<i class="left"></i>',
          "next": '<i class="right"></i>', "last": '<i class="right"></i><i class="bar"></i>'}
"""Buttons' pictures drawn in CSS, not glyphs: ⏮ and ⏭ are empty boxes in many fonts."""

_BUTTONS = "".join(
    f'<button type="button" data-go="{go}" title="{title} ({key})" aria-label="{title}">'
    f'<span class="icon" aria-hidden="true">{_ICONS[go]}</span> {word}</button>'
    for go, word, title, key in [("first", "first", "first step", "Home"),
                                 ("prev", "back", "previous step", "←"),
                                 ("next", "next", "next step", "→ or Space"),
                                 ("last", "last", "last step", "End")])

# one piece of HTML holding every frame inline: no network; its script finds its own
# stepper, so several in one notebook step on their own
_STEPPER = """<div class="graphc-steps" tabindex="0" data-page="{{PAGE}}">
<style>
.graphc-steps { font-family: Helvetica, Arial, sans-serif; outline: none; }
.graphc-steps nav button { font-size: 1em; margin-right: .3em; padding: .25em .6em;
  display: inline-flex; align-items: center; gap: .3em; cursor: pointer; }
.graphc-steps nav .count { margin-left: .6em; }
.graphc-steps .icon i { display: inline-block; vertical-align: middle; width: 0; height: 0;
  border: .4em solid transparent; border-left-width: 0; border-right-width: 0; }
.graphc-steps .icon .left { border-right: .6em solid currentColor; }
.graphc-steps .icon .right { border-left: .6em solid currentColor; }
.graphc-steps .icon .bar { width: .15em; height: .8em; border: 0; background: currentColor; }
.graphc-steps .key { margin: .4em 0 .6em; color: #333; }
.graphc-steps .view { display: flex; flex-wrap: wrap; gap: 1.2em; align-items: flex-start; }
.graphc-steps .frames { flex: 3 1 36em; min-width: 0; }
.graphc-steps figure { margin: 0; }
.graphc-steps .frame figcaption { font-size: 1.15em; margin: .8em 0; min-height: 1.5em; }
.graphc-steps .frame svg { max-width: 100%; height: auto; }
.graphc-steps .code { flex: 1 1 18em; min-width: 0; max-width: 34em; }
.graphc-steps .code p { color: #555; margin: .8em 0 .4em; }
.graphc-steps pre { margin: 0; padding: .5em 0; background: #f6f8fa; overflow-x: auto;
  font-size: .9em; line-height: 1.45; border-radius: 4px; }
.graphc-steps .line { display: block; padding: 0 .8em; border-left: 4px solid transparent; }
.graphc-steps .line.now { background: #fde68a; border-left-color: #b45309; }
</style>
<nav aria-label="steps">""" + _BUTTONS + """<span class="count" aria-live="polite"></span></nav>
<p class="key"><span style="color:#1d4ed8">Blue: forward values</span> (the forward step in
focus is blue). <span style="color:#b91c1c">Red: adjoints &part;out/&part;node</span> ("so
far" while they still accumulate; the backward step in focus is red). Edges carry local
derivatives, and in red, once pushed, the gradient flowing back along them (adjoint &times;
local derivative). Keys: &larr; &rarr; Space Home End.</p>
<div class="view"><div class="frames">
{{FRAMES}}
</div>{{CODE}}</div>
<script>
(() => {
  const here = document.currentScript && document.currentScript.closest(".graphc-steps");
  const root = here || [...document.querySelectorAll(".graphc-steps:not([data-ready])")].pop();
  root.dataset.ready = "1";
  const frames = root.querySelectorAll(".frame");
  const lines = root.querySelectorAll(".code .line");
  const count = root.querySelector(".count");
  let at = 0;
  const show = (i) => {
    at = Math.max(0, Math.min(frames.length - 1, i));
    frames.forEach((f, k) => { f.hidden = k !== at; });
    lines.forEach((l) => l.classList.toggle("now", l.dataset.frames.split(" ").includes(`${at}`)));
    count.textContent = `step ${at + 1} of {{COUNT}}`;
  };
  const moves = { first: () => 0, prev: () => at - 1, next: () => at + 1,
                  last: () => frames.length - 1 };
  root.querySelectorAll("nav button").forEach((b) => {
    b.addEventListener("click", () => show(moves[b.dataset.go]()));
  });
  const keys = { ArrowRight: "next", " ": "next", ArrowLeft: "prev", Home: "first",
                 End: "last" };
  const key = (e) => {
    const go = keys[e.key];
    if (!go || e.altKey || e.ctrlKey || e.metaKey || e.shiftKey) return;
    if (e.key === " " && e.target.closest("button")) return;  // Space presses that button
    e.preventDefault();
    show(moves[go]());
  };
  root.addEventListener("keydown", key);
  if (root.dataset.page === "1") {  // a page of its own: its keys work anywhere on it
    document.addEventListener("keydown", (e) => { if (!root.contains(e.target)) key(e); });
  }
  show(0);
})();
</script></div>"""
