"""The code beside each step: the reverse-mode NumPy that graphc emits for a graph,
compiled without rewrites and printed one line per node under the names the pictures
use, each line tagged with the step of the stepper that executes it."""

from __future__ import annotations

from dataclasses import dataclass

from ..autodiff import transform as autodiff
from ..backend import backend_named
from ..backend.emit import constants_folded, form_of
from ..backend.names import Namer
from ..ir import printer
from ..ir.graph import Graph

Step = tuple[str, str]
"""A step of the stepper: ("forward", node), ("seed", out), ("backward", node) or
("done", "")."""


@dataclass
class Listing:
    """``def value_and_grad(...)``: its lines, and for each line the step it runs in."""

    lines: list[str]
    steps: list[Step | None]  # None: the def and return lines, no step's own
    adjoint: dict[str, int]  # node -> the line that computes its adjoint


def listing(g: Graph, out: str) -> Listing:
    """The teaching code of ``g``'s gradient (a user-defined op is called by its name,
    as the emitted module's function for it is)."""
    h = constants_folded(autodiff.reverse(g, of=out))
    helpers = {op.name: op.name for op in map(h.op, h.nx) if op.body is not None}
    namer = Namer(backend_named("numpy").reserved | set(helpers),
                  {n: h.shown(n) for n in h.nx})
    names = {n: namer(n) for n in h.order() if h.attrs(n)["op"] != "const"}
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
    body = printer.lines(h, order, printer.Spelling(names, form_of(h, helpers)), set(order))
    outs = [names.get(o, "1.0") for o in h.outputs]
    grads = ", ".join(f"{w!r}: {o}" for w, o in zip(h.meta.wrt, outs[1:]))
    lines = [f"def value_and_grad({', '.join(names[i] for i in h.inputs)}):"]
    lines += [f"    {names[n]} = {expr}" for n, expr in body]
    lines.append(f"    return {outs[0]}, {{{grads}}}")
    line = {n: i for i, (n, _) in enumerate(body, 1)}
    return Listing(lines, [None] + [step[n] for n, _ in body] + [None],
                   {v: line[a] for v, a in h.meta.adjoints.items() if a in line})
