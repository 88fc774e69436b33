"""Graph -> the NumPy source of a function. Prints only; never does algebra.

Every name from a graph reaches the source as an ASCII identifier that cannot shadow
``np``, a helper, a keyword, a builtin or a name the backend reserves; strings reach it
only through ``repr``. So no input name can change what the emitted code does."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple

from ..ir import buffers, printer
from ..ir.graph import Graph
from ..ops import ATOM, values
from . import memory, scheduling
from .base import RULE
from .names import Namer, numbered

if TYPE_CHECKING:
    from .base import Backend
    from .blocks import Split

ONE_DTYPE = memory._one_dtype.__name__  # brings the inputs to one dtype (memory planning)
KEPT = memory._kept.__name__  # scratch arrays kept between calls (block kernels)
INPUTS = values._inputs.__name__  # the input rule that fn() applies too
REAL = values._real.__name__  # a Python float power that went complex: NumPy's path
INTS = RULE[2]  # the names of integer inputs, for the input rule


@dataclass
class Emission:
    """One module's printing: what compile asks of the backend, and what it did."""

    backend: Backend
    plan: bool = True  # plan memory (the "memory" pass): lines write into dead buffers
    floats: Graph | None = None  # the gradient for Python floats (``passes.for_floats``)
    splits: tuple[Split | None, Split | None] = (None, None)  # forward's, the gradient's
    helpers: dict[str, str] = field(default_factory=dict)  # user-defined op -> function
    counts: dict[str, Counter] = field(default_factory=dict)  # function -> its plan's
    shown: dict[str, str] = field(default_factory=dict)  # node -> its name (``show_as``)

    def __post_init__(self) -> None:
        if not self.backend.converts:  # out= and Python floats need NumPy's own values
            self.plan, self.floats = False, None

    def namer(self, *taken: str) -> Namer:
        """A namer for one function: no name the module or backend uses, nor ``taken``."""
        return Namer(self.backend.reserved | set(self.helpers.values()) | set(taken),
                     self.shown)


@dataclass
class Function:
    """One function of the module, as ``function_source`` prints it."""

    graph: Graph
    name: str
    doc: str
    returns: Callable[[list[str]], str] = ", ".join  # the return expression of its outputs
    public: bool = False  # forward or value_and_grad: inputs checked, memory planned
    python_floats: bool = False  # it may run on Python floats (``form_of``)
    floats: Graph | None = None  # its body when every input is a Python float
    split: Split | None = None  # how it runs in the backend's kernel (``Backend.split``)


def form_of(g: Graph, helpers: dict[str, str], python_floats: bool = False,
            backend: Backend | None = None):
    """How each node of ``g`` prints. ``python_floats``: on Python floats a power of a
    negative base is complex (NumPy: nan), so non-integer powers go through ``_real``.
    ``backend``: its spelling of each template (``Backend.spelled``), NumPy's if None."""
    def form(node: str) -> printer.Form:
        op = g.op(node)
        if op.body is not None:
            call = ", ".join("{%d}" % i for i in range(op.arity))
            return f"{helpers[op.name]}({call})", ATOM, (0,) * op.arity
        code = op.template(g.attrs(node)["params"], len(g.args(node)))
        if backend is not None:
            code = backend.spelled(op, code)
        exponent = _value(g, g.args(node)[1]) if python_floats and op.name == "pow" else 0
        if exponent is None or not float(exponent).is_integer() or abs(exponent) > 2.0**53:
            return f"{REAL}({code})", ATOM, op.slot_prec
        return code, op.prec, op.slot_prec
    return form


def constants_folded(g: Graph) -> Graph:
    """``g`` with every node of constant operands alone replaced by its value, as
    NumPy's float64 computes it (``values.fold``): printed, ``1.0 / 0.0`` would be
    Python's arithmetic (an exception). ``g`` itself when there are none."""
    attrs = g.node_data()
    found: dict[str, float] = {}
    for n in g.order():
        args = attrs[n]["args"]
        if args and all(a in found or attrs[a]["op"] == "const" for a in args):
            value = values.fold(g.op(n).fn, [found[a] if a in found else attrs[a]["params"]["value"]
                                             for a in args], attrs[n]["params"])
            if value is not None:
                found[n] = value
    if not found:
        return g
    h = g.copy()
    for n, value in found.items():
        h.nx.remove_edges_from(list(h.nx.in_edges(n)))
        h.attrs(n).update(op="const", args=(), params={"value": value})
    return h


def function_source(fn: Function, emission: Emission) -> str:
    """``def name(inputs): ...`` computing the outputs of ``fn.graph``, one line per node,
    temporaries numbered as printed. A public function with ``emission.plan`` writes
    into dead buffers (memory.py; ``emission.counts[name]`` says how); ``fn.floats``
    runs inlined when every input is a Python float; ``fn.split`` adds the backend's
    branch and kernel (``Backend.branch``)."""
    printed: list[Graph] = []
    namer = emission.namer(fn.name)
    compiled = emission.backend.float_branch(fn, emission, namer) if fn.public else None
    source, kernel = _source(fn, emission, namer, printed, bool(compiled))
    source = numbered(source, printed, namer)
    if kernel and fn.split is not None:  # a function of its own: numbered from t1 too
        source += "\n\n" + numbered(kernel, [fn.split.graph], emission.namer())
    if not compiled:
        return source
    # Floats call the backend's code from a function of their own: entering the NumPy
    # lines' function clears all its locals (40 us for a 16k-node gradient's).
    inner, params = numpy_name(fn.name), ", ".join(namer(i) for i in fn.graph.inputs)
    outer = [f"def {fn.name}({params}):", f'    """{fn.doc}"""',
             "    # Python floats: the graph compiled to native code (NumPy's float64 rules).",
             *_dispatch([f"{namer(i)}.__class__ is float" for i in fn.graph.inputs])[2:],
             *compiled[0], f"    return {inner}({params})"]
    return "\n".join(outer) + "\n\n\n" + source.replace(f"def {fn.name}(", f"def {inner}(", 1) \
        + "\n\n" + compiled[1]


def numpy_name(fname: str) -> str:
    """The NumPy lines of ``fname`` where a backend's float branch comes first
    (``Backend.float_branch``): a name the backend reserves."""
    return f"_{fname}_numpy"


def _source(fn: Function, emission: Emission, namer: Namer, printed: list[Graph],
            compiled: bool = False) -> tuple[str, str]:
    """``function_source``'s function and kernel, unnumbered; adds the graphs it prints
    to ``printed``. ``compiled``: the backend runs Python floats (no float lines)."""
    g = constants_folded(fn.graph)
    printed += [g] + ([fn.split.graph] if fn.split is not None else [])
    helpers = emission.helpers
    params = [namer(i) for i in g.inputs]
    names = {n: namer(n) for n in g.order() if g.attrs(n)["op"] != "const"}
    nodes = [n for n in names if g.attrs(n)["op"] != "input"]  # those computing something
    keep = set(g.outputs)

    one_dtype = False
    if not (fn.public and emission.plan) or not any(buffers.reusable(g, n) for n in nodes):
        backend = emission.backend
        spelling = printer.Spelling(names, form_of(g, helpers, fn.python_floats, backend),
                                    lambda v, i: _literal(backend, v, i))
        body = printer.lines(g, nodes, spelling, keep)
    else:
        graphs = [(g, False)]
        walked = scheduling.depth_first(g, nodes)
        for order in (None, walked):  # cheap arrays made again rather than kept
            again = scheduling.rematerialized(g, order)
            if again is not None:
                names.update((n, namer(n)) for n in again.order() if n not in names
                             and again.attrs(n)["op"] != "const")
                graphs.append((again, order is not None))
                printed.append(again)
        plans = [planned(h, [n for n in h.order() if h.attrs(n)["op"] not in ("const", "input")],
                         printer.Spelling(names, form_of(h, helpers)), keep, walk=walk)
                 for h, walk in graphs]
        _, body, one_dtype, counts = min(plans, key=lambda p: p.cost)  # the first on a tie
        chosen = next(h for (h, _), p in zip(graphs, plans) if p.counts is counts)
        if chosen is not g:
            counts["values recomputed"] += len(chosen.nx) - len(g.nx)
        emission.counts[fn.name] = counts
    out = [f"def {fn.name}({', '.join(params)}):", f'    """{fn.doc}"""']
    if fn.floats is not None and not compiled:
        source, _ = _source(Function(fn.floats, fn.name, "", fn.returns, python_floats=True),
                            emission, namer, printed)
        # exactly Python floats: the test costs a fraction of isinstance's
        out += _dispatch([f"{namer(i)}.__class__ is float" for i in fn.graph.inputs])
        body_lines = source.splitlines()[2:]  # after def and docstring
        out += ["        try:", *("        " + line for line in body_lines),
                f"        except ({', '.join(e.__name__ for e in values.FALLBACK)}):",
                "            pass  # NumPy's answer (inf, nan) below"]
    floats = [namer(i) for i in g.inputs if not g.integer(i)]
    if not emission.backend.converts:
        out += emission.backend.prologue(params, floats)
    elif fn.public and params:
        target = ", ".join(params) + ("," if len(params) == 1 else "")
        ints = f", {INTS}" if len(floats) < len(params) else ""
        out += wrapped(f"    {target} = {INPUTS}({RULE[0]}, {RULE[1]}, (", params,
                       (",)" if len(params) == 1 else ")") + ints + ")")
    if one_dtype:
        out += wrapped(f"    {', '.join(floats)} = {ONE_DTYPE}(", floats, ")")
    branch, kernel = emission.backend.branch(fn.split, fn, emission, one_dtype) \
        if fn.split is not None else ([], "")
    out += branch
    out += [f"    {names[n]} = {expr}" for n, expr in body]
    outs = [names[o] if o in names else const_text(g, o, emission.backend) for o in g.outputs]
    out.append(f"    return {fn.returns(outs)}")
    return "\n".join(out) + "\n", kernel


def wrapped(head: str, items: list[str], tail: str) -> list[str]:
    """``head`` + items + ``tail`` on one line, or over several within 88 columns."""
    if len(head) + len(", ".join(items)) + len(tail) <= 88:
        return [head + ", ".join(items) + tail]
    indent = " " * (len(head) - len(head.lstrip()) + 4)
    rows, row = [head], indent
    for item in items:
        if len(row) + len(item) + 2 > 88:
            rows.append(row.rstrip())
            row = indent
        row += item + ", "
    return rows + [row.rstrip(", ") + tail]


def _dispatch(tests: list[str]) -> list[str]:
    """``if a and b ...:`` for the float fast path, wrapped to stay readable."""
    head = ["    # Python floats: nothing to broadcast. Where Python's arithmetic raises or",
            "    # turns complex (1 / 0.0, an overflow, a power of -8.0), NumPy's path answers."]
    if len("    if " + " and ".join(tests) + ":") <= 88:
        return head + ["    if " + " and ".join(tests) + ":"]
    rows = [[tests[0]]]
    for t in tests[1:]:
        if len(" and ".join(rows[-1] + [t])) > 72:
            rows.append([])
        rows[-1].append(t)
    return head + ("    if (" + "\n            and ".join(" and ".join(r) for r in rows)
                   + "):").split("\n")


class Kept(NamedTuple):
    """A block kernel's plan: lines allocating a buffer no output can be take it from
    ``_kept`` (slots ``fname.line``); ``written``: lines writing into a given array (the
    kernel's outputs); ``one_dtype``: whether the inputs share one dtype."""

    fname: str
    written: dict[str, str]
    one_dtype: bool


class Plan(NamedTuple):
    """Lines with memory planned: what they allocate, the lines, whether the inputs must
    first be brought to one dtype (``memory._one_dtype``), and what the plan did."""

    cost: float
    body: list[tuple[str, str]]
    one_dtype: bool
    counts: Counter


def planned(g: Graph, nodes: list[str], spelling: printer.Spelling, keep: set[str],
            kept: Kept | None = None, walk: bool = False) -> Plan:
    """``nodes`` printed with memory planned, in their order, the memory-minded
    schedule or depth-first from the outputs, the inputs' dtypes as they come or
    (several inputs) brought to one: the plan that allocates least wins, the first on a
    tie. ``spelling`` spells each op in NumPy. ``kept``: a block kernel's (its dtypes as
    it says, none brought to one). ``walk``: only the depth-first walk, its reductions
    early (``g`` makes cheap arrays again where that walk leaves them unread long)."""
    fname, written, one_dtype = kept if kept else ("", {}, None)
    if kept:  # no temporaries inside a line: NumPy would allocate them afresh
        keep = keep | {n for n in nodes if buffers.reusable(g, n)}
    tried: list[buffers.Classes] = []
    best = None
    walked = scheduling.depth_first(g, nodes)
    orders: list[tuple[list[str], set[str]]] = [(nodes, set())]
    if walk:
        orders = [(scheduling.reductions_early(g, walked), set())]
    else:
        scheduled, deferred = scheduling.schedule(g, nodes)
        if scheduled != nodes:
            orders.append((scheduled, deferred))
        if walked not in (nodes, scheduled):
            orders.append((walked, set()))
    floats = [i for i in g.inputs if not g.integer(i)]
    for one in [bool(one_dtype)] + ([True] if len(floats) > 1 and one_dtype is None else []):
        classes = buffers.dtype_classes(g, one_dtype=one)
        if classes in tried:
            continue  # the same plans again, which lose the tie
        tried.append(classes)
        joinable = memory.joinable(g, classes)
        for order, deferred in orders:
            order, own, body = _unfolded(g, order, spelling, keep | deferred, joinable, classes)
            lines = [n for n, _ in body]
            into = memory.plan(g, lines, classes)
            cost = memory.allocated(g, lines, into)
            if best is None or cost < best[0]:
                best = cost, len(tried) > 1, order, body, lines, into, own, classes
    assert best is not None, "the given order is always among the orders planned"
    cost, one_dtype, order, body, lines, into, keep, classes = best
    order = scheduling.as_lines(g, order, lines)  # the order the plan's lines ran in
    slices = memory.into_slices(g, lines, into, classes)
    into = {n: b for n, b in into.items() if n not in written}
    apart = set(slices) | set(slices.values()) | set(written)
    held = memory.kept(g, lines, into, classes, apart) if kept else {}
    if not into and not slices and not held and not written:
        return Plan(cost, body, False, Counter())
    counts = Counter({"buffers reused (out=)": len(into)})
    if slices:
        counts["slices written in place"] = len(slices)
    if held:
        counts["buffers kept between calls"] = len(held)
    names = spelling.names
    into_buffers = {n: names[b] for n, b in into.items()} | written
    for line, u in slices.items():  # the line writes into u's slice of u's array
        p = g.attrs(u)["params"]
        into_buffers[line] = f"_zeros_around({names[u]}, {p['start']}, {p['stop']}, {p['axis']})"
    for line, (like, dtype_of) in held.items():
        into_buffers[line] = f"{KEPT}({f'{fname}.{names[line]}'!r}, " + \
            ", ".join(names[a] for a in (like, *dtype_of)) + ")"

    def writing_into(n: str) -> printer.Form:
        if n not in into_buffers:
            return spelling.form(n)
        op, args = g.op(n), g.args(n)
        exponent = _value(g, args[1]) if op.name == "pow" else None
        return op.into(into_buffers[n], exponent), ATOM, (0,) * op.arity
    body = printer.lines(g, order, spelling._replace(form=writing_into),
                         keep | set(lines) | apart, memory.joinable(g, classes))
    allocation = {line: (u, f"np.empty_like({names[g.args(u)[1]]})")  # just before the line
                  for line, u in slices.items()}
    placed = set(slices.values())  # their own lines go: their arrays are filled already
    return Plan(cost, [row for n, expr in body if n not in placed
                       for row in ([allocation[n]] if n in allocation else []) + [(n, expr)]],
                one_dtype, counts)


def _unfolded(g: Graph, order: list[str], spelling: printer.Spelling, own: set[str],
              joinable: Callable[[str, str], bool], classes: buffers.Classes
              ) -> tuple[list[str], set[str], list[tuple[str, str]]]:
    """``order`` (moved), the nodes on lines of their own, and the lines, with operands
    that die in a line or find a dead buffer there given lines of their own
    (``memory.unfold``): a few rounds, as one on its own line may let the one inside it
    out too."""
    for _ in range(4):
        body = printer.lines(g, order, spelling, own, joinable)
        unfolded = memory.unfold(g, [n for n, _ in body], classes)
        if not unfolded:
            return order, own, body
        order = scheduling.just_before(g, order, unfolded)
        own = own | set(unfolded)
    return order, own, printer.lines(g, order, spelling, own, joinable)


def _literal(backend: Backend, value: float, integral: bool = False) -> tuple[str, int]:
    """A constant as the backend prints it (``np.inf``: NumPy's name of it)."""
    text, prec = printer.numpy_literal(value, integral)
    return backend.spelled(None, text) if "np." in text else text, prec


def const_text(g: Graph, name: str, backend: Backend | None = None) -> str:
    value = g.attrs(name)["params"]["value"]
    return _literal(backend, value)[0] if backend else printer.numpy_literal(value)[0]


def _value(g: Graph, name: str) -> float | None:
    """A constant operand's value, None for any other operand."""
    return g.attrs(name)["params"]["value"] if g.is_const(name) else None
