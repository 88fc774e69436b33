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


def listing(g: Graph, out: str) -> Listing:
    """The teaching code of ``g``'s gradient (a user-defined op is called by its name,
    as the emitted module's function for it is). Temporaries are numbered as the
    pictures number them (``numbering.teaching``); ``adjoint`` is keyed by those names."""
    g, out = teaching(g, out)
    h = constants_folded(autodiff.reverse(g, of=out))
    helpers = {op.name: op.name for op in map(h.op, h.nx) if op.body is not None}
    namer = Namer(backend_named("numpy").reserved | set(helpers), _bases(g, h))
    named = [n for n in h.order() if h.attrs(n)["op"] != "const"]
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
    body = printer.lines(h, order, printer.Spelling(names, form_of(h, helpers)), set(order))
    outs = [names.get(o, "1.0") for o in h.outputs]
    grads = ", ".join(f"{w!r}: {o}" for w, o in zip(h.meta.wrt, outs[1:]))
    lines = [f"def value_and_grad({', '.join(names[i] for i in h.inputs)}):"]
    lines += [f"    {names[n]} = {expr}" for n, expr in body]
    lines.append(f"    return {outs[0]}, {{{grads}}}")
    line = {n: i for i, (n, _) in enumerate(body, 1)}
    return Listing(lines, [None] + [step[n] for n, _ in body] + [None],
                   {v: line[a] for v, a in h.meta.adjoints.items() if a in line})


def _bases(g: Graph, h: Graph) -> dict[str, str]:
    """Each node of the gradient graph ``h`` of ``g`` under the name the picture gives
    what it holds: ``a_bar`` only for ∂out/∂a; a local derivative ∂v/∂a made for the
    backward sweep ``dv_da``, the part of a's adjoint flowing back from v (the red
    number on that edge) ``a_bar_from_v``; the other temporaries numbered on from
    the picture's t1, t2, ..."""
    base = {n: h.shown(n) for n in h.nx}
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
    rest = [n for n in h.order() if n in made and base[n] == n and TEMP.fullmatch(n)]
    taken = {base[n] for n in h.nx if data[n]["op"] != "const"}.difference(rest)
    base.update(consecutive(rest, taken))
    return base
