"""Graph -> standalone NumPy source. Prints only; never does algebra.

Every name from a graph reaches the source as a plain ASCII identifier that cannot
shadow ``np``, a helper, a keyword or a builtin; strings reach it only through
``repr``. So no input name can change what the emitted code does.
"""

from __future__ import annotations

import builtins
import inspect
import keyword
import re
from collections import Counter
from collections.abc import Callable, Iterable

from . import blocks as blocks_mod
from . import memory, printer
from .fuse import Fusion
from .graph import Graph
from .ops import ATOM, OPS

PUBLIC = ("forward", "value_and_grad")
ONE_DTYPE = memory._one_dtype.__name__  # brings the inputs to one dtype (memory planning)
KEPT = memory._kept.__name__  # scratch arrays kept between calls (keep_buffers=True)
# The helpers the op table ships with the module (_sum_to, ...): a parameter of that
# name would shadow the helper inside the function.
HELPERS = frozenset(f.__name__ for op in OPS.values() for f in op.helpers)
RESERVED = frozenset(keyword.kwlist) | frozenset(dir(builtins)) \
    | {"np", "ne", "threading", "_KEPT", *PUBLIC, ONE_DTYPE, KEPT} | HELPERS | blocks_mod.NAMES


class Namer:
    """Maps node names to distinct, safe Python identifiers, deterministically."""

    def __init__(self, taken: set[str]):
        self.taken = set(taken)
        self.names: dict[str, str] = {}

    def __call__(self, node: str) -> str:
        if node not in self.names:
            if node.isascii() and node.isidentifier() and not node.startswith("__"):
                base = node  # the common case, without the regular expression
            else:
                base = re.sub(r"[^0-9A-Za-z_]", "_", node) or "v"
                if base[0].isdigit() or base.startswith("__"):
                    base = "v" + base
            name, k = base, 0
            while name in RESERVED or name in self.taken:
                k += 1
                name = f"{base}_{k}"
            self.taken.add(name)
            self.names[node] = name
        return self.names[node]


def _form(g: Graph, helpers: dict[str, str]):
    def form(node: str) -> printer.Form:
        op = g.op(node)
        if op.body is not None:
            call = ", ".join("{%d}" % i for i in range(op.arity))
            return f"{helpers[op.name]}({call})", ATOM, (0,) * op.arity
        code = op.spell(g.attrs(node)["params"]) if op.spell else op.code
        return code, op.prec, op.slot_prec
    return form


def function_source(g: Graph, fname: str, doc: str, helpers: dict[str, str],
                    returns: Callable[[list[str]], str] = ", ".join,
                    fuse: str | None = None, reuse: Counter | None = None,
                    floats: tuple[list[str], str] | None = None,
                    keep_buffers: bool = False, blocks: blocks_mod.Split | None = None
                    ) -> str:
    """``def fname(inputs): ...`` computing g's outputs, one line per node.

    With a ``reuse`` counter, lines write into dead buffers (``out=``, memory.py) and
    the counter records how many did. ``floats``: the inputs that, when they are all
    Python floats, take a specialised body instead (the source of a function with the
    same parameters, whose body is inlined under the test: no call to pay).
    ``keep_buffers``: every array gets a line of its own, and the buffers no output
    can be are kept between calls (``_kept``; with ``reuse`` only). ``blocks``: big
    same-shaped arrays go to the block kernel (``kernel_source``) in blocks.
    """
    namer = Namer(set(helpers.values()) | {fname})
    params = [namer(i) for i in g.inputs]
    names: dict[str, str] = {}
    nodes: list[str] = []  # the nodes that compute something
    for n in g.order():
        op = g.attrs(n)["op"]
        if op != "const":
            names[n] = namer(n)
            if op != "input":
                nodes.append(n)
    keep = set(g.outputs)

    one_dtype = False
    if reuse is None or not any(memory.reusable(g, n) for n in nodes):
        form = _form(g, helpers)
        style = Fusion(g).style(form) if fuse == "numexpr" else {"form": form}
        body = printer.lines(g, nodes, names, literal=printer.numpy_literal, keep=keep, **style)
    else:
        graphs = [g]
        again = memory.rematerialized(g)  # cheap arrays recomputed rather than kept
        if again is not None:
            names.update((n, namer(n)) for n in again.order() if n not in names
                         and again.attrs(n)["op"] != "const")
            graphs.append(again)
        plans = [_planned(h, [n for n in h.order() if h.attrs(n)["op"] not in ("const", "input")],
                          names, keep, _form(h, helpers), fuse == "numexpr", keep_buffers,
                          fname) for h in graphs]
        _, body, one_dtype, counts = min(plans, key=lambda p: p[0])  # the first on a tie
        if counts is not plans[0][3]:
            counts["values recomputed"] += len(again.nx) - len(g.nx)
        reuse.update(counts)
    out = [f"def {fname}({', '.join(params)}):", f'    """{doc}"""']
    if floats:
        tested, source = floats
        out += _dispatch([f"isinstance({namer(i)}, float)" for i in tested])
        out += ["    " + line for line in source.splitlines()[2:]]  # after def and docstring
    if one_dtype:
        out += _wrapped(f"    {', '.join(params)} = {ONE_DTYPE}(", params, ")")
    if blocks is not None:
        out += _in_blocks_source(blocks, fname, helpers, returns)
    out += [f"    {names[n]} = {expr}" for n, expr in body]
    outs = [names[o] if o in names else _const(g, o) for o in g.outputs]
    out.append(f"    return {returns(outs)}")
    source = "\n".join(out) + "\n"
    if blocks is not None:  # its block kernel follows it
        source += "\n\n" + kernel_source(blocks, fname, helpers, one_dtype)
    return source


def _in_blocks_source(split: blocks_mod.Split, fname: str, helpers: dict[str, str],
                      returns: Callable[[list[str]], str]) -> list[str]:
    """The branch of ``fname`` that runs its block kernel over big same-shaped arrays:
    the scalars the blocks read, ``_in_blocks``, then what is made of the sums."""
    h = split.graph
    namer = Namer(set(helpers.values()) | {fname})
    names = {n: namer(n) for n in h.order() if h.attrs(n)["op"] != "const"}
    pending = set(split.before)
    keep = {n for n in split.before if any(c not in pending for c in h.nx._succ[n])}
    form = _form(h, helpers)

    def lines(nodes: list[str], keep: set[str]) -> list[str]:
        return [f"        {names[n]} = {expr}" for n, expr in printer.lines(
            h, nodes, names, form=form, literal=printer.numpy_literal, keep=keep)]

    arrays = [names[i] for i in split.arrays]
    out = [f"    if _splits({', '.join(arrays)}):  # big same-shaped float arrays: "
           "in blocks, on all cores"]
    out += lines(split.before, keep | set(h.outputs))
    like = "None"
    if split.outputs:  # the output arrays' dtypes: those of the result on one element
        like = namer("like")
        probe = [f"{names[i]}.flat[:1]" if i in split.arrays else names[i] for i in h.inputs]
        out.append(f"        {like} = {fname}({', '.join(probe)})")
    results = {}  # an array output's position -> its name
    for k, o in enumerate(h.outputs):
        if o in split.outputs:
            results[k] = names[o] if names[o] not in results.values() else namer(o)
    targets = list(results.values()) + [names[n] for n in split.sums]
    out += _wrapped(f"        {_tuple(targets)} = _in_blocks(", [
        blocks_mod.kernel_name(fname), _tuple(arrays), _tuple(names[n] for n in split.scalars),
        like, str(len(split.sums))], ")")
    out += lines(split.after, set(h.outputs))
    outs = [results[k] if k in results else names.get(o) or _const(h, o)
            for k, o in enumerate(h.outputs)]
    return out + [f"        return {returns(outs)}"]


def _tuple(items: Iterable[str]) -> str:
    items = list(items)
    return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"


def kernel_source(split: blocks_mod.Split, fname: str, helpers: dict[str, str],
                  one_dtype: bool = False) -> str:
    """``def _fname_block(arrays, scalars, outputs)``: ``fname`` on one block of
    same-shaped arrays (``blocks.Split``), each array output written into its
    parameter by the line that computes it (``out=``), or copied there when no line
    can, every temporary in an array kept per thread (``_kept``), and the block's parts
    of the sums returned. ``one_dtype``: ``fname`` brought its inputs to one dtype."""
    g = blocks_mod.kernel_graph(split)
    kname = blocks_mod.kernel_name(fname)
    namer = Namer(set(helpers.values()) | {kname})
    params = [namer(i) for i in g.inputs]
    names = {n: namer(n) for n in g.order() if g.attrs(n)["op"] != "const"}
    nodes = [n for n in g.order() if g.attrs(n)["op"] not in ("const", "input")]
    written: dict[str, str] = {}  # line -> the output it writes into
    outs, copies = [], []
    for o in split.outputs:
        v = _filled(g, o)
        if v in names and v not in written and v not in g.inputs \
                and memory.reusable(g, v) and g.op(v).can_write_into:
            written[v] = names[o]
            outs.append(names[o])
        else:
            outs.append(namer(f"{o}_out"))
            copies.append((outs[-1], v))
    needed, stack = set(g.inputs), [*written, *(v for _, v in copies if v in names),
                                    *split.sums]
    while stack:  # what the outputs are computed from; seeds and broadcasts may go
        n = stack.pop()
        if n not in needed:
            needed.add(n)
            stack.extend(g.args(n))
    filled = [(param, _spelled(g, names, v)) for param, v in copies]
    g = g.copy()
    g.outputs = list(dict.fromkeys([*(v for _, v in copies if v in names), *written,
                                    *split.sums]))
    g.remove([n for n in g.order() if n not in needed])
    _, body, _, _ = _planned(g, [n for n in nodes if n in needed], names, set(g.outputs),
                             _form(g, helpers), False, keep_buffers=True, fname=kname,
                             written=written, one_dtype=one_dtype)
    doc = f"{fname} on a block: " + "; ".join(
        ([f"its arrays written into {', '.join(outs)}"] if outs else [])
        + (["returns its parts of the sums"] if split.sums else []))
    out = _wrapped(f"def {kname}(", params + outs, "):")
    out += [f'    """{doc}."""']
    out += [f"    {names[n]} = {expr}" for n, expr in body]
    out += [f"    {param}[...] = {value}" for param, value in filled]
    if split.sums:
        sums = ", ".join(names[n] for n in split.sums)
        out.append(f"    return {sums}" + (",  # a tuple" if len(split.sums) == 1 else ""))
    return "\n".join(out) + "\n"


def _spelled(g: Graph, names: dict[str, str], value: str | float) -> str:
    """A node's name or literal, or a number, as the source spells it."""
    if not isinstance(value, str):
        return printer.numpy_literal(value)[0]
    return names[value] if value in names else _const(g, value)


def _filled(g: Graph, node: str) -> str | float:
    """What fills ``node``'s array: the node itself, or through aliases, broadcasts and
    seeds (``np.ones_like``) the node or number that stretches over it."""
    while True:
        op, args = g.attrs(node)["op"], g.args(node)
        if op == "alias" or op == "broadcast_like" and g.shape(args[0]) == ():
            node = args[0]
        elif op in ("ones_like", "zeros_like"):
            return 1.0 if op == "ones_like" else 0.0
        else:
            return node


def _wrapped(head: str, items: list[str], tail: str) -> list[str]:
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
    head = ["    # Python floats: nothing to broadcast"]
    if len("    if " + " and ".join(tests) + ":") <= 88:
        return head + ["    if " + " and ".join(tests) + ":"]
    rows, row = [], []
    for t in tests:
        if row and len(" and ".join(row + [t])) > 72:
            rows.append(" and ".join(row))
            row = []
        row.append(t)
    rows.append(" and ".join(row))
    lines = ["    if (" + rows[0]] + ["            and " + r for r in rows[1:]]
    return head + lines[:-1] + [lines[-1] + "):"]


def _planned(g: Graph, nodes: list[str], names: dict[str, str], keep: set[str],
             plain: Callable[[str], printer.Form], fuse: bool, keep_buffers: bool = False,
             fname: str = "", written: dict[str, str] | None = None,
             one_dtype: bool | None = None
             ) -> tuple[tuple[float, int], list[tuple[str, str]], bool, Counter]:
    """The memory it allocates, the lines with memory planned, whether they need the
    inputs in one dtype, and what the plan did: planned as they come and, when there
    are several inputs, as if they shared one dtype (``memory._one_dtype`` then brings
    them to it); the plan that allocates less wins, the first on a tie. ``plain``
    spells each op in NumPy; with ``fuse``, numexpr evaluates chains (fuse.py). With
    ``keep_buffers`` every array is a line, and lines allocating a buffer no output
    can be take it from ``_kept`` (slots named ``fname.line``). ``written``: lines
    that write into a given array (a block kernel's outputs). ``one_dtype``: whether
    the inputs are known to share one dtype (planned that way only, nothing brings them
    to it), or None to plan both ways."""
    reuse: Counter = Counter()
    written = written or {}
    if keep_buffers:  # no temporaries inside a line: NumPy would allocate them afresh
        keep = keep | {n for n in nodes if memory.reusable(g, n)}
    plans = [_plan(g, nodes, names, keep, plain, fuse,
                   memory.dtype_classes(g, one_dtype=bool(one_dtype)))]
    if len(g.inputs) > 1 and one_dtype is None:
        plans.append(_plan(g, nodes, names, keep, plain, fuse,
                           memory.dtype_classes(g, one_dtype=True)))
    best = min(plans, key=lambda p: p[0])
    cost, order, body, into, keep, slices, classes, fusion = best
    one_dtype = best is not plans[0] and best[0] < plans[0][0]
    into = {n: b for n, b in into.items() if n not in written}
    held = {}
    if keep_buffers:
        lines = [n for n, _ in body]
        apart = set(slices) | set(slices.values()) | set(written) | \
            ({n for n in lines if fusion.fused(n)} if fusion else set())
        held = memory.kept(g, lines, into, g.outputs, classes, apart)
    if not into and not slices and not held and not written:
        return cost, body, False, reuse
    reuse["buffers reused (out=)"] += len(into)
    if slices:
        reuse["slices written in place"] += len(slices)
    if held:
        reuse["buffers kept between calls"] += len(held)
    buffers = {n: names[b] for n, b in into.items()} | written
    for line, u in slices.items():  # the line writes into u's slice of u's array
        p = g.attrs(u)["params"]
        buffers[line] = f"_zeros_around({names[u]}, {p['start']}, {p['stop']}, {p['axis']})"
    for line, (like, dtype_of) in held.items():
        buffers[line] = f"{KEPT}({f'{fname}.{names[line]}'!r}, " + \
            ", ".join(names[a] for a in (like, *dtype_of)) + ")"

    def writing_into(n: str) -> printer.Form:
        if n not in buffers or (fusion and fusion.fused(n)):  # numexpr's out= is its own
            return plain(n)
        op, args = g.op(n), g.args(n)
        exponent = _value(g, args[1]) if op.name == "pow" else None
        return op.into(buffers[n], exponent), ATOM, (0,) * op.arity
    body = printer.lines(g, order, names, literal=printer.numpy_literal,
                         keep=keep | set(into) | set(slices) | set(slices.values()) | set(held)
                         | set(written),
                         **_style(g, writing_into, fusion, classes, buffers))
    allocation = {line: (u, f"np.empty_like({names[g.args(u)[1]]})")  # just before the line
                  for line, u in slices.items()}
    placed = set(slices.values())  # their own lines go: their arrays are filled already
    return cost, [row for n, expr in body if n not in placed
                  for row in ([allocation[n]] if n in allocation else []) + [(n, expr)]], \
        one_dtype, reuse


def _style(g: Graph, form: Callable[[str], printer.Form], fusion: Fusion | None,
           classes: memory.Classes, buffers: dict[str, str] | None = None) -> dict:
    """The printer's keyword arguments for planned code: NumPy lines joined as memory
    planning allows (``memory.joinable``), numexpr chains whole."""
    joinable = memory.joinable(g, classes)
    if fusion is None:
        return {"form": form, "joinable": joinable}
    return fusion.style(form, joinable, buffers)


def _plan(g: Graph, nodes: list[str], names: dict[str, str], keep: set[str],
          plain: Callable[[str], printer.Form], fuse: bool, classes: memory.Classes) -> tuple:
    """(memory allocated, order, lines, line -> buffer, lines kept, slices written in
    place, classes, numexpr's chains or None): of the given order and the memory-minded
    schedule, the one that allocates less, with the operands that die in a line on
    lines of their own when that lets them be overwritten (``memory.unfold``; numexpr
    chains stay whole)."""
    best = None
    for order, deferred in memory.orders(g, nodes, fuse):
        own = keep | deferred
        fusion = Fusion(g, own) if fuse else None  # chains the order keeps together
        style = _style(g, plain, fusion, classes)
        whole = fusion.fused if fusion else None
        for _ in range(4):  # an operand on its own line may let the one inside it out too
            body = printer.lines(g, order, names, literal=printer.numpy_literal, keep=own,
                                 **style)
            lines = [n for n, _ in body]
            unfolded = memory.unfold(g, lines, g.outputs, classes, whole)
            if not unfolded:
                break
            order = memory.just_before(g, order, unfolded)
            own |= set(unfolded)
        else:
            body = printer.lines(g, order, names, literal=printer.numpy_literal, keep=own,
                                 **style)
            lines = [n for n, _ in body]
        into = memory.plan(g, lines, g.outputs, classes)
        # fused, fewer lines are fewer passes (and numexpr calls) on a tie
        cost = memory.allocated(g, lines, into), len(lines) if fuse else 0
        if best is None or cost < best[0]:
            slices = memory.into_slices(g, lines, g.outputs, into, classes, whole)
            best = (cost, order, body, into, own, slices, classes, fusion)
    return best


def _const(g: Graph, name: str) -> str:
    return printer.numpy_literal(g.attrs(name)["params"]["value"])[0]


def _value(g: Graph, name: str) -> float | None:
    """A constant operand's value, None for any other operand."""
    return g.attrs(name)["params"]["value"] if g.is_const(name) else None


def _used_ops(graphs: list[Graph]):
    seen: dict[str, object] = {}
    for g in graphs:
        for name in dict.fromkeys([g.attrs(n)["op"] for n in g.order()]):  # each op once
            op = g.op_named(name)
            seen.setdefault(op.name, op)
            if op.body is not None:
                for m in _used_ops([op.body]).values():
                    seen.setdefault(m.name, m)
    return seen


def module_source(forward: Graph, grad: Graph, title: str, fuse: str | None = None,
                  reuse: Counter | None = None, floats: Graph | None = None,
                  keep_buffers: bool = False,
                  blocks: tuple[blocks_mod.Split | None, blocks_mod.Split | None] = (None, None)
                  ) -> str:
    """The whole module: helpers, user-defined ops, ``forward`` and ``value_and_grad``.

    ``reuse``: plan buffer reuse (see ``function_source``), counted for the gradient.
    ``floats``: ``grad`` specialised to scalar inputs (``passes.for_floats``), which
    ``value_and_grad`` runs when its undeclared inputs are floats.
    ``keep_buffers``: temporaries' arrays are kept between calls (``function_source``).
    ``blocks``: how ``forward`` and ``grad`` run in blocks (``blocks.split``), or None:
    their block kernels, to which big same-shaped arrays go (``kernel_source``).
    """
    ops = _used_ops([forward, grad] + ([floats] if floats else [])
                    + [split.graph for split in blocks if split is not None])
    helper_namer = Namer(set(HELPERS))
    helpers = {name: helper_namer(name) for name, op in ops.items()
               if getattr(op, "body", None) is not None}
    wrt = grad.nx.graph["wrt"]
    mode = grad.nx.graph["mode"]
    parts = [f'"""{title}\n\nGenerated by graphc. Standalone: needs only NumPy.\n'
             "Arguments are floats or NumPy arrays. Python floats follow Python's arithmetic\n"
             "(1 / 0.0 raises ZeroDivisionError); np.float64 and arrays follow NumPy's.\n",
             "import numpy as np\n"]
    functions = [function_source(op.body, helpers[name], "A user-defined op.", helpers)
                 for name, op in ops.items() if name in helpers]
    functions.append(function_source(forward, "forward", "The output value.", helpers,
                                     fuse=fuse, reuse=None if reuse is None else Counter(),
                                     keep_buffers=keep_buffers, blocks=blocks[0]))

    def value_and_grads(outs: list[str]) -> str:
        pairs = ", ".join(f"{w!r}: {o}" for w, o in zip(wrt, outs[1:]))
        return f"{outs[0]}, {{{pairs}}}"

    fast = None if floats is None else (
        [i for i in grad.inputs if not grad.attrs(i)["params"]["declared"]],
        function_source(floats, "value_and_grad", "", helpers, value_and_grads, fuse=fuse))
    functions.append(function_source(grad, "value_and_grad",
                                     f"The output value and its gradient ({mode} mode).",
                                     helpers, value_and_grads, fuse=fuse, reuse=reuse,
                                     floats=fast, keep_buffers=keep_buffers,
                                     blocks=blocks[1]))
    stdlib: set[str] = set()
    if any("ne.evaluate(" in f for f in functions):
        parts[0] = parts[0].replace("needs only NumPy.", "needs NumPy and numexpr.")
        parts[0] += ("numexpr evaluates chains of elementwise ops in one pass; with float32\n"
                     "arrays and float constants it computes in float64.\n")
        parts[1] += "import numexpr as ne\n"
    shipped = dict.fromkeys(f for op in ops.values() for f in op.helpers)
    if any(f" = {ONE_DTYPE}(" in f for f in functions):
        shipped[memory._one_dtype] = None
        parts[0] += ("Inputs of different dtypes are first brought to NumPy's common one\n"
                     f"({ONE_DTYPE}), so that arrays can be reused in place.\n")
    if any(f"{KEPT}(" in f for f in functions):
        shipped[memory._kept] = None
        parts[0] += ("Arrays of temporaries are kept between calls, one set per thread\n"
                     f"({KEPT}); returned arrays are always new.\n")
        stdlib.add("threading")
        parts[1] += "\n_KEPT = threading.local()  # the arrays _kept hands out, per thread\n"
    if blocks != (None, None):
        shipped.update(dict.fromkeys(blocks_mod.HELPERS))
        parts[0] += ("Big same-shaped float arrays are evaluated in blocks on all cores\n"
                     "(_in_blocks): the same operations on the same elements.\n")
        stdlib.update(blocks_mod.IMPORTS)
        parts[1] += "\n" + blocks_mod.SHIPPED
    if stdlib:
        parts[1] = "".join(f"import {m}\n" for m in sorted(stdlib)) + "\n" + parts[1]
    parts[0] += '"""\n'
    parts += [inspect.getsource(f) for f in shipped] + functions
    return "\n\n".join(p.rstrip("\n") + "\n" for p in parts)
