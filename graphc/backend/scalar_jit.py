"""Python floats at compiled speed (the numba backend): where every input of a public
function is a Python float, its scalar graph runs as compiled code instead of one
interpreted line per node (a 16k-node gradient: 1.5 ms a call as NumPy lines, 44 us
compiled; docs/performance.md).

The graph becomes LLVM IR (scalar_ir.py) where every op has a spelling there; else,
up to ``loops.LIMIT`` nodes, numba-compiled pieces of ``PIECE`` lines (numba's front
end is far slower to compile: milliseconds a line), a value read by a later piece
passed through one float64 work array ``w`` that a compiled driver fills with the
inputs and hands to each piece in turn. Either is compiled at its first call."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..ir import printer
from ..ir.graph import Graph
from ..ops import Trait
from . import loops, scalar_ir
from .emit import const_text, constants_folded, wrapped
from .names import Namer, numbered

if TYPE_CHECKING:
    from .emit import Emission, Function

PIECE = 100
"""Nodes per numba piece: numba's lowering is quadratic in a function's length."""
CALL_US = 1.0
"""What a call of the compiled code costs beside its work (the ctypes call, the array
of inputs and outputs): Python float lines estimated cheaper run as they are."""
DECORATOR = '@numba.njit(error_model="numpy")'  # 1 / 0.0 is inf, as NumPy's float64


def driver_name(fname: str) -> str:
    """The compiled function ``fname`` calls on Python floats."""
    return f"_{fname}_floats"


def scalar_graph(fn: Function) -> Graph | None:
    """The graph ``fn`` computes when every input is a Python float, if each of its ops
    has a spelling for one float in numba (``loops.SCALAR``); else None (the Python lines
    run)."""
    g = fn.floats if fn.floats is not None else fn.graph
    if not g.inputs or any(g.integer(i) for i in g.inputs):
        return None
    for n, d in g.node_data().items():
        if d["op"] == "const":
            continue
        op = g.op(n)
        if g.shape(n) != () or d["op"] != "input" and not (
                (op.pointwise or Trait.IDENTITY in op.traits) and loops._spelled(op)):
            return None
    return loops.inlined(constants_folded(g))


def _python_us(g: Graph) -> float:
    """About what ``g``'s Python float lines take: a NumPy function of a float ~0.3 us,
    an operator ~0.03 us (CPU time, measured against a call of the compiled code)."""
    return sum(0.3 if g.op(n).code[:1].isalpha() or g.op(n).code.startswith("_") else 0.03
               for n in g.order() if g.attrs(n)["op"] not in ("input", "const"))


def float_branch(fn: Function, emission: Emission, namer: Namer
                 ) -> tuple[list[str], str] | None:
    """The lines of ``fn`` (its names from ``namer``) that call its compiled driver on
    Python floats, and the driver's source: LLVM IR where ``scalar_ir`` writes every op,
    else numba pieces up to ``loops.LIMIT`` nodes; None (the Python lines run) else."""
    g = scalar_graph(fn)
    if g is None or fn.floats is not None and _python_us(g) < CALL_US:
        return None
    params = [namer(i) for i in g.inputs]  # named first, as the function names them
    driver = driver_name(fn.name)
    if scalar_ir.spelled(g):
        ir, size = scalar_ir.module_ir(g)
        source = f"{driver} = _Native(" + '"""\\\n' + ir + '""", ' \
            f"{len(g.inputs)}, {len(g.outputs)}, {size})  # compiled at its first call\n"
    elif len(g.nx) <= loops.LIMIT:
        source = _pieces(g, driver, emission)
    else:
        return None
    results = [namer.fresh(f"{namer.base(o)}_f") for o in g.outputs]
    branch = wrapped("        " + ", ".join(results) + ("," if len(results) == 1 else "")
                     + f" = {driver}(", params, ")")
    return branch + [f"        return {fn.returns(results)}"], source


def _pieces(g: Graph, driver: str, emission: Emission) -> str:
    """``driver``: ``g`` as numba-compiled pieces of ``PIECE`` nodes sharing one work
    array, called from a compiled driver that returns every output."""
    module = emission.namer()  # module-level names: no helper's
    local = Namer(emission.backend.reserved | {"w"}, emission.shown)
    nodes = [n for n in g.order() if g.attrs(n)["op"] not in ("input", "const")]
    piece_of = {n: k // PIECE for k, n in enumerate(nodes)}
    outputs = set(g.outputs)
    slots: dict[str, int] = {i: k for k, i in enumerate(g.inputs)}
    for n in nodes:  # read by a later piece, or an output: kept in the work array
        if n in outputs or any(piece_of.get(r, -1) != piece_of[n] for r in g.readers(n)):
            slots[n] = len(slots)
    names = {n: f"w[{slots[n]}]" if n in slots else local(n) for n in g.order()
             if g.attrs(n)["op"] != "const"}
    spelling = printer.Spelling(names, loops.scalar_form(g), loops.float_literal)
    parts, calls = [], []
    for k in range(0, len(nodes), PIECE):
        calls.append(module.fresh(f"_{driver.strip('_')}_{k // PIECE + 1}"))
        parts.append("\n".join([
            DECORATOR, f"def {calls[-1]}(w):",
            f'    """Lines {k + 1} to {min(k + PIECE, len(nodes))} of {driver}."""',
            *(f"    {names[n]} = {expr}" for n, expr in
              printer.lines(g, nodes[k:k + PIECE], spelling, set(slots)))]) + "\n")
    own = [local(i) for i in g.inputs]
    head = [DECORATOR, *wrapped(f"def {driver}(", own, "):"),
            f'    """{len(nodes):,} lines in {len(calls)} compiled pieces sharing one work '
            'array."""', f"    w = np.empty({len(slots)})"]
    outs = [names[o] if o in names else const_text(g, o) for o in g.outputs]
    parts.append("\n".join(
        head + [f"    w[{k}] = {p}" for k, p in enumerate(own)]
        + [f"    {call}(w)" for call in calls]
        + wrapped("    return ", outs, "," if len(outs) == 1 else "")) + "\n")
    return numbered("\n\n".join(parts), [g], local)
