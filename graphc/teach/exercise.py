"""Exercise mode: one offline HTML page that hides the adjoints (or the local
derivatives) of a graph at a point and asks a student for each, checking every answer
against graphc's own number and, on request, showing how it is made."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import GraphcError
from ..files import write_atomic
from ..ir.graph import Graph
from ..ir.numbering import teaching
from ..ir.pretty import pretty
from .labels import partial_name
from .render import draw, drawable, pipe
from .scene import Scene, full_scene, shown_derivatives
from .words import format_number

HIDE = ("adjoints", "derivatives")


class Exercise:
    """The page as HTML; a notebook shows it (``_repr_html_``), ``save`` writes it."""

    def __init__(self, page: str, part: str):
        self.page, self.part = page, part

    def _repr_html_(self) -> str:
        return self.part

    def save(self, path: str | Path) -> None:
        write_atomic(path, self.page)


def exercise(g: Graph, at: dict[str, Any], hide: str = "adjoints", of: str | None = None,
             limit: int | None = None) -> Exercise:
    """The exercise on ``g`` at ``at``: ``hide="adjoints"`` asks for each ∂out/∂node
    (the local derivatives on the edges given), ``"derivatives"`` for each edge's."""
    if hide not in HIDE:
        raise GraphcError(f"hide={hide!r}: expected 'adjoints' or 'derivatives'")
    g, out = teaching(g, of)  # temporaries t1, t2, ... as the pictures number them
    full = full_scene(g, at, out)
    if any(np.ndim(v) for v in full.values.values()):
        raise GraphcError("an exercise asks for numbers: give every input a number "
                          "(its nodes are arrays here)")
    drawable(g, limit)
    name = g.shown
    symbolic = shown_derivatives(g)
    scene = Scene(values=full.values, edge_values=full.edge_values, ask=hide != "adjoints",
                  label=lambda n: f"∂{name(out)}/∂{n}")
    rows = []
    if hide == "adjoints":
        scene.second = {out: full.second[out]}  # the seed is given
        for v in reversed(g.order()):
            if v == out or v not in full.second or g.is_const(v):
                continue
            uses = [e for e in symbolic if e[0] == v and e[1] in full.second]  # a + a: 2
            how = " + ".join(f"∂{name(out)}/∂{name(e[1])} · {partial_name(g, e, symbolic)}"
                             for e in uses)
            nums = " + ".join(f"{_factor(full.second[e[1]])} · "
                              f"{_factor(full.edge_values[e])}" for e in uses)
            rows.append((f"∂{name(out)}/∂{name(v)}", full.second[v],
                         f"{how} = {nums} = {format_number(full.second[v])}"))
    else:
        for e in symbolic:  # a row per edge: a + a asks for both
            rows.append((partial_name(g, e, symbolic), full.edge_values[e],
                         f"{pretty(symbolic[e])} = {format_number(full.edge_values[e])}"))
    svg = pipe(draw(g, scene, out, limit), "svg").decode()
    task = ("each adjoint ∂{0}/∂node, the derivative of {0} with respect to that node: "
            "the local derivatives are on the edges; start at {0} and work back"
            if hide == "adjoints" else "each local derivative ∂node/∂operand, the "
            "derivative of a node's op with respect to one operand, at these values")
    part = _PART.replace("{{TASK}}", html.escape(task.format(name(out)))) \
        .replace("{{PICTURE}}", svg[svg.find("<svg"):]) \
        .replace("{{ROWS}}", "\n".join(_row(*row) for row in rows)) \
        .replace("{{COUNT}}", str(len(rows)))
    return Exercise(_PAGE.replace("{{PART}}", part), part)


def _factor(x: Any) -> str:
    """A number in a product: a negative one in parentheses (``2 · (-1)``)."""
    text = format_number(x)
    return f"({text})" if text.startswith("-") else text


def _row(question: str, want: Any, how: str) -> str:
    q = html.escape(question)
    return (f'<tr data-want="{float(want)!r}"><th scope="row">{q} =</th>'
            f'<td><input type="text" inputmode="decimal" autocomplete="off" '
            f'aria-label="{q}"></td><td class="verdict" aria-live="polite"></td>'
            f'<td><button type="button" class="reveal">show</button> '
            f'<span class="how" hidden>{html.escape(how)}</span></td></tr>')


_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>graphc: backprop exercise</title>
</head><body>
{{PART}}
</body></html>
"""

# its script finds its own exercise, so several in one notebook work on their own
_PART = """<div class="graphc-exercise">
<style>
.graphc-exercise { font-family: Helvetica, Arial, sans-serif; }
.graphc-exercise svg { max-width: 100%; height: auto; }
.graphc-exercise table { border-collapse: collapse; margin: 1em 0; font-size: 1.1em; }
.graphc-exercise th, .graphc-exercise td { padding: .3em .5em; text-align: left; }
.graphc-exercise th { font-weight: normal; white-space: nowrap; }
.graphc-exercise input { font-size: 1em; width: 8em; }
.graphc-exercise .right { color: #15803d; } .graphc-exercise .wrong { color: #b91c1c; }
.graphc-exercise .how { color: #555; }
</style>
<h2>Backprop exercise</h2>
<p>Find {{TASK}}. Type a number or arithmetic (<code>2*3 + 1/4</code>); Enter checks
it. Answers within 0.1% count.</p>
{{PICTURE}}
<table><tbody>
{{ROWS}}
</tbody></table>
<p><button type="button" class="check">check all</button>
<span class="score" aria-live="polite"></span></p>
<script>
(() => {
  const here = document.currentScript && document.currentScript.closest(".graphc-exercise");
  const root = here || [...document.querySelectorAll(".graphc-exercise:not([data-ready])")]
    .pop();
  root.dataset.ready = "1";
  const rows = [...root.querySelectorAll("tr[data-want]")];
  const value = (text) => {  // a number or arithmetic of numbers, nothing else
    if (!/^[-+*\\/(). 0-9eE]+$/.test(text)) return NaN;
    try { return Number(Function(`"use strict"; return (${text});`)()); }
    catch (err) { return NaN; }
  };
  const check = (row) => {
    const text = row.querySelector("input").value.trim();
    const verdict = row.querySelector(".verdict");
    if (!text) { verdict.textContent = ""; verdict.className = "verdict"; return false; }
    const got = value(text), want = Number(row.dataset.want);
    const right = Math.abs(got - want) <= 1e-3 * Math.abs(want) + 1e-12;
    verdict.textContent = Number.isNaN(got) ? "not a number" : right ? "right" : "not yet";
    verdict.className = "verdict " + (right ? "right" : "wrong");
    return right;
  };
  const score = () => {
    const right = rows.filter(check).length;
    root.querySelector(".score").textContent = `${right} of {{COUNT}} right`;
  };
  rows.forEach((row) => {
    row.querySelector("input").addEventListener("keydown", (e) => {
      if (e.key === "Enter") { e.preventDefault(); score(); }
    });
    row.querySelector(".reveal").addEventListener("click", () => {
      row.querySelector(".how").hidden = false;
    });
  });
  root.querySelector(".check").addEventListener("click", score);
})();
</script></div>"""
