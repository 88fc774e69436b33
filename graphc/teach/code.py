"""The code beside each step: the reverse-mode NumPy that graphc emits for a graph,
compiled without rewrites and printed one line per node under the names the pictures
use, each line tagged with the step of the stepper that executes it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..autodiff import transform as autodiff
from ..backend import backend_named
from ..backend.emit import constants_folded, form_of
from ..backend.names import Namer
from ..ir import printer
from ..ir.graph import Graph
from ..ir.numbering import TEMP, consecutive, teaching

Step = tuple[str, str]
"""A step of the stepper: ("forward", node), ("seed", out), ("backward", node) or
("done", "")."""


@dataclass
class Listing:
    """``def value_and_grad(...)``: its lines, and for each line the step it runs in."""

    lines: list[str]
    steps: list[Step | None]  # None: the def and return lines, no step's own
    adjoint: dict[str, int]  # node -> the line that computes its adjoint


def listing(g: Graph, out: str, at: dict[str, Any] | None = None) -> Listing:
    """The teaching code of ``g``'s gradient (a user-defined op is called by its name,
    as the emitted module's function for it is). Temporaries are numbered as the
    pictures number them (``numbering.teaching``); ``adjoint`` is keyed by those names.
    A graph of numbers (every node a scalar, and every value of ``at``) is listed
    without ``_broadcast_like`` and ``_sum_to``, which pass a number on unchanged."""
    g, out = teaching(g, out)
    h = constants_folded(autodiff.reverse(g, of=out))
    scalars = all(g.shape(n) == () for n in g.nx) and all(
        np.ndim(v) == 0 for v in (at or {}).values())
    gone, absorbed = _unchanged(g, h) if scalars else ({}, {})
    helpers = {op.name: op.name for op in map(h.op, h.nx) if op.body is not None}
    namer = Namer(backend_named("numpy").reserved | set(helpers), _bases(g, h, gone, absorbed))
    named = [n for n in h.order() if h.attrs(n)["op"] != "const" and n not in gone]
    names = {n: namer(n) for n in sorted(named, key=lambda n: n not in g.nx)}  # users' first
    made = list(h.nx)  # in the order autodiff added them: a turn's nodes follow its start
    turns = h.meta.turns + [("", len(made))]
    step: dict[str, Step] = {}
    pending: list[str] = []
    for n in h.order():  # an op's expansion (cross_entropy's log_softmax) is in its step
        if n in names and n in g.nx and g.attrs(n)["op"] != "input":
            step.update((m, ("forward", n)) for m in [*pending, n])
            pending = []
        elif n in names and h.attrs(n)["op"] != "input" and n in made[:turns[0][1]]:
            pending.append(n)
    key: Step = ("done", "")
    for (v, start), (_, end) in zip(turns, turns[1:]):
        if v in g.nx:  # an op's expansion is in the step of the op; an input's sum is last
            key = ("backward", v) if g.attrs(v)["op"] != "input" else ("done", "")
        step.update((n, ("seed", out) if n == h.meta.adjoints.get(out) else key)
                    for n in made[start:end] if n in names and h.attrs(n)["op"] != "input")
    order = [n for n in h.order() if step.get(n, ("",))[0] == "forward"] \
        + [n for n in made[turns[0][1]:] if n in step]
    names.update((n, names[s]) for n, s in gone.items())  # read as what they pass on
    body = printer.lines(h, order, printer.Spelling(names, _passed(form_of(h, helpers), h,
                                                                   scalars)), set(order))
    outs = [names.get(o, "1.0") for o in h.outputs]
    grads = ", ".join(f"{w!r}: {o}" for w, o in zip(h.meta.wrt, outs[1:]))
    lines = [f"def value_and_grad({', '.join(names[i] for i in h.inputs)}):"]
    lines += [f"    {names[n]} = {expr}" for n, expr in body]
    lines.append(f"    return {outs[0]}, {{{grads}}}")
    line = {n: i for i, (n, _) in enumerate(body, 1)}
    line.update((n, line[s]) for n, s in gone.items() if s in line)
    return Listing(lines, [None] + [step[n] for n, _ in body] + [None],
                   {v: line[a] for v, a in h.meta.adjoints.items() if a in line})


UNDO = ("broadcast_like", "sum_to")
"""The helpers that undo broadcasting: on numbers they pass their operand on unchanged."""


def _unchanged(g: Graph, h: Graph) -> tuple[dict[str, str], dict[str, str]]:
    """For the gradient graph ``h`` of a graph of numbers ``g``: the nodes of ``UNDO``
    left out (-> the node whose value they pass on, and name), and the temporaries
    that take the name of the adjoint they pass on (-> that adjoint): ``b_bar = c_bar +
    d_bar``, not ``t1 = c_bar + d_bar`` and ``b_bar = t1``. An adjoint passed on from a
    node with a name of its own stays a line: ``a_bar = c_bar``."""
    attrs = h.node_data()
    source: dict[str, str] = {}
    for n in h.order():
        if attrs[n]["op"] in UNDO and attrs[attrs[n]["args"][0]]["op"] != "const":
            a = attrs[n]["args"][0]
            source[n] = source.get(a, a)
    shown = set(h.meta.adjoints.values()) | set(h.outputs)  # x_bar: keeps its name
    gone = {n: s for n, s in source.items() if n not in shown}
    absorbed: dict[str, str] = {}
    for n, s in source.items():
        if n in shown and s not in g.nx and attrs[s]["temp"] and s not in shown and \
                s not in h.meta.parts and s not in absorbed and \
                set(h.readers(s)) <= set(gone) | {n}:
            absorbed[s], gone[n] = n, s
    return gone, absorbed


def _passed(form: Callable[[str], printer.Form], h: Graph, scalars: bool
            ) -> Callable[[str], printer.Form]:
    """``form``, where on numbers an ``UNDO`` helper is its operand alone."""
    def passed(node: str) -> printer.Form:
        if scalars and h.attrs(node)["op"] in UNDO:
            return "{0}", printer.ATOM, (0,)
        return form(node)
    return passed


def _bases(g: Graph, h: Graph, gone: dict[str, str] | None = None,
           absorbed: dict[str, str] | None = None) -> dict[str, str]:
    """Each node of the gradient graph ``h`` of ``g`` under the name the picture gives
    what it holds: ``a_bar`` only for ∂out/∂a; a local derivative ∂v/∂a made for the
    backward sweep ``dv_da``, the part of a's adjoint flowing back from v (the red
    number on that edge) ``a_bar_from_v``; the other temporaries numbered on from
    the picture's t1, t2, ... ``gone``: nodes without a line (``_unchanged``), no
    number; ``absorbed``: a temporary -> the adjoint whose name it takes."""
    gone, absorbed = gone or {}, absorbed or {}
    base = {n: h.shown(n) for n in h.nx}
    base.update((s, h.shown(n)) for s, n in absorbed.items())
    data = h.node_data()
    made = {n for n in h.nx if n not in g.nx and data[n]["temp"] and data[n]["op"] != "const"}
    local: set[str] = set()
    for c, (a, v) in h.meta.parts.items():
        if c in made:
            base[c] = f"{base[a]}_bar_from_{base[v]}"
        raw = c if data[c]["op"] == "mul" else next(iter(data[c]["args"]), c)  # a sum_to's
        args = data[raw]["args"]
        if data[raw]["op"] == "mul" and args[0] == h.meta.adjoints.get(v) and \
                args[1] in made and args[1] not in local:  # the first edge's name wins
            local.add(args[1])
            base[args[1]] = f"d{base[v]}_d{base[a]}"
    rest = [n for n in h.order() if n in made and base[n] == n and TEMP.fullmatch(n)
            and n not in gone]
    taken = {base[n] for n in h.nx if data[n]["op"] != "const" and n not in gone
             }.difference(rest)
    base.update(consecutive(rest, taken))
    return base
