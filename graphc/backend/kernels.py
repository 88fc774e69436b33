"""The emitted source of split evaluation: the branch of a function that hands big
same-shaped arrays to ``_in_blocks`` (blocks.py) or ``_fused`` (loops.py), and the
kernel it runs: a NumPy block kernel planned as emit.py plans a function, or a numba
loop over one element."""

from __future__ import annotations

import re
from collections.abc import Callable

from ..ir import buffers, printer
from ..ir.graph import Graph
from ..ops import ATOM, Trait
from . import blocks, loops, vector_math
from .emit import Emission, Kept, Namer, const_text, constants_folded, form_of, planned, wrapped


def flat_split(g: Graph, flattened: Callable[[Graph], Graph], shifts: bool = False
               ) -> blocks.Split | None:
    """``g`` cut for blocks once specialised (``flattened``: ``passes.for_blocks``), its
    constants folded as ``function_source`` prints them."""
    g = constants_folded(g)
    return blocks.split(flattened(g), shifts) if blocks.candidate(g, shifts) else None


def branch_source(split: blocks.Split, fname: str, emission: Emission,
                  returns: Callable[[list[str]], str], loop: bool = False) -> list[str]:
    """The branch of ``fname`` that runs its kernel over big same-shaped arrays: the
    scalars the kernel reads, ``_in_blocks`` (``loop``: ``_fused``), the sums' uses."""
    h = split.graph
    namer = emission.namer(fname)
    names = {n: namer(n) for n in h.order() if h.attrs(n)["op"] != "const"}
    pending = set(split.before)
    keep = {n for n in split.before if any(c not in pending for c in h.readers(n))}
    spelling = printer.Spelling(names, form_of(h, emission.helpers))

    def lines(nodes: list[str], keep: set[str]) -> list[str]:
        return [f"        {names[n]} = {expr}"
                for n, expr in printer.lines(h, nodes, spelling, keep)]

    arrays = [names[i] for i in split.arrays]
    if loop:
        scalars = [names[i] for i in h.inputs if i not in split.arrays]
        out = [f"    if _fusable({_tuple(arrays)}, {_tuple(scalars)}):"
               "  # big same-shaped float arrays: one loop"]
    else:
        out = [f"    if _splits({', '.join(arrays)}):  # big same-shaped float arrays: "
               "in blocks, on all cores"]
    out += lines(split.before, keep | set(h.outputs))
    results: dict[int, str] = {}  # an array output's position -> its name
    dtypes = []  # each array output's dtype: NumPy's promotion of the inputs it reads
    read = _inputs_read(h)
    for k, o in enumerate(h.outputs):
        if o in split.outputs:
            results[k] = names[o] if names[o] not in results.values() \
                else namer.fresh(namer.base(o))
            reads = [names[i] for j, i in enumerate(h.inputs) if read[o] >> j & 1]
            dtypes.append(f"np.result_type({', '.join(reads)})" if reads else "np.float64")
    like = str(len(split.outputs)) if loop else _tuple(dtypes) if dtypes else "None"
    targets = list(results.values()) + [names[n] for n in split.sums]
    runner, kernel = ("_fused", loops.loop_name(fname)) if loop else \
        ("_in_blocks", blocks.kernel_name(fname))
    out += wrapped(f"        {_tuple(targets)} = {runner}(", [
        kernel, _tuple(arrays), _tuple([names[n] for n in split.scalars]),
        like, str(len(split.sums))], ")")
    out += lines(split.after, set(h.outputs))
    outs = [results[k] if k in results else names.get(o) or const_text(h, o)
            for k, o in enumerate(h.outputs)]
    return out + [f"        return {returns(outs)}"]


def _inputs_read(h: Graph) -> dict[str, int]:
    """node -> the inputs it is computed from, bit ``j`` for ``h.inputs[j]``: one pass
    for all outputs, not a walk up from each."""
    bit = {i: 1 << j for j, i in enumerate(h.inputs)}
    read: dict[str, int] = {}
    for n in h.order():
        mask = bit.get(n, 0)
        for a in h.args(n):
            mask |= read[a]
        read[n] = mask
    return read


def _tuple(items: list[str]) -> str:
    return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"


def kernel_source(split: blocks.Split, fname: str, emission: Emission,
                  one_dtype: bool = False) -> str:
    """``def _fname_block(arrays, scalars, outputs)``: ``fname`` on one block, each
    array output written into its parameter by the line that computes it (``out=``) or
    copied there, temporaries kept per thread (``_kept``), the sums' parts returned.
    ``one_dtype``: ``fname`` brought its inputs to one dtype."""
    g = blocks.kernel_graph(split)
    kname = blocks.kernel_name(fname)
    namer = emission.namer(kname)
    params = [namer(i) for i in g.inputs]
    names = {n: namer(n) for n in g.order() if g.attrs(n)["op"] != "const"}
    written: dict[str, str] = {}  # line -> the output it writes into
    outs, copies = [], []
    for o in split.outputs:
        v = _filled(g, o)
        if v in names and v not in written and v not in g.inputs \
                and buffers.reusable(g, v) and g.op(v).can_write_into:
            written[v] = names[o]
            outs.append(names[o])
        else:
            outs.append(namer.fresh(f"{namer.base(o)}_out"))
            copies.append((outs[-1], v))
    filled = [(param, _spelled(g, names, v)) for param, v in copies]
    g.outputs = list(dict.fromkeys([*(v for _, v in copies if v in names), *written,
                                    *split.sums]))
    needed = set(g.inputs) | g.upstream(g.outputs)  # seeds and broadcasts may go
    g.remove([n for n in g.order() if n not in needed])
    body = planned(g, [n for n in g.order() if g.attrs(n)["op"] not in ("const", "input")],
                   printer.Spelling(names, form_of(g, emission.helpers)), set(g.outputs),
                   Kept(kname, written, one_dtype)).body
    into = ", ".join(outs) if len(", ".join(outs)) <= 36 else "the outputs' slices"
    doc = f"{fname} on a block: " + ";\n    ".join(
        ([f"its arrays written into {into}"] if outs else [])
        + (["returns its parts of the sums"] if split.sums else []))
    out = wrapped(f"def {kname}(", params + outs, "):")
    out += [f'    """{doc}."""']
    out += [f"    {names[n]} = {expr}" for n, expr in body]
    out += [f"    {param}[...] = {value}" for param, value in filled]
    if split.sums:
        sums = ", ".join(names[n] for n in split.sums)
        out.append(f"    return {sums}" + (",  # a tuple" if len(split.sums) == 1 else ""))
    return "\n".join(out) + "\n"


_OWN_FLOAT = re.compile(r"\d\.\d|np\.(inf|nan)|math\.|(^|[^.\w])_(?!"
                        + vector_math.PREFIX[1:] + r")\w+\(")
"""A spelling that computes a float64 whatever its operands: a literal, a call of a
helper (``_pick``, ``_heaviside``) or of the C library (``math.erf``); not the loops'
own C functions (``_libm_sin``: ``sinf`` on a float32)."""


def loop_source(split: blocks.Split, fname: str, emission: Emission) -> str:
    """``def _fname_loop(arrays, scalars, outputs)``: ``fname`` element by element in
    one ``numba.prange`` loop, each node a local float, each array output written at
    ``[i]``. Sums are added chunk by chunk (``_CHUNK``) into columns of ``parts``: the
    same bits on any number of cores, a rounding error that grows with the chunk only."""
    g = loops.inlined(blocks.kernel_graph(split))
    lname = loops.loop_name(fname)
    namer = emission.namer(lname, "i", "_CHUNK")
    params = [namer(n) for n in g.inputs]
    outs = [namer.fresh(f"{namer.base(o)}_out") for o in split.outputs]
    filled = {o: _filled(g, o) for o in split.outputs}
    kept = {v for v in filled.values() if isinstance(v, str)} | set(split.sums)
    needed = g.upstream(kept)
    nodes = [n for n in g.order() if n in needed and g.attrs(n)["op"] not in ("input", "const")]
    names = {n: f"{p}[i]" if n in split.arrays else p for n, p in zip(g.inputs, params)}
    names.update((n, namer(n)) for n in nodes)
    typed: dict[str, str] = {}  # a constant's literal -> its name in the loop

    def literal(value: float, integral: bool = False) -> tuple[str, int]:
        """A constant of the arrays' dtype, named at the top of the loop's body: NumPy's
        promotion (a float32 array's ``x * 3.0`` is a float32, numba's a float64:
        floor(x * 3.0) was off by one, (x + 1e-8) - x not 0); an integral exponent stays
        an int. Inside the body LLVM folds it (x ** 2.0 is x * x); named before the
        prange, it is an argument of numba's parallel function, and x ** const a call of
        pow (slower, and 1 ulp from x * x)."""
        text, prec = loops.float_literal(value, integral)
        if integral and text.lstrip("-").isdigit():
            return text, prec
        if text not in typed:
            typed[text] = namer.fresh("const")
        return typed[text], ATOM

    spelled = loops.scalar_form(g)

    def form(node: str) -> printer.Form:
        """``spelled``'s, cast to the arrays' dtype where it makes a float64 of its own (a
        literal in it, a helper's or the C library's result: relu's 0.0, sigmoid's 1.0)."""
        template, prec, slots = spelled(node)
        if g.attrs(node)["op"] == "sum" or not _OWN_FLOAT.search(template):
            return template, prec, slots
        return f"{params[0]}.dtype.type({template})", ATOM, slots

    if any(Trait.SHIFTS in g.op(n).traits for n in nodes):
        body = _shifted(g, split, dict(zip(g.inputs, params)), outs, filled, kept, namer,
                        literal, form)
    else:  # one expression folded into its single reader, as the NumPy code folds it
        read = {a for n in nodes for a in g.args(n)}
        body = []
        for n, expr in printer.lines(g, nodes, printer.Spelling(
                names, form, literal), kept):
            targets = [p for o, p in zip(split.outputs, outs) if filled[o] == n]
            if n in split.sums:
                body.append(f"{names[n]} = {vector_math.SUM_ADD}({names[n]}, {expr})")
            elif len(targets) == 1 and n not in read:  # wanted only as that output
                body.append(f"{targets[0]}[i] = {expr}")
                continue
            else:
                body.append(f"{names[n]} = {expr}")
            body += [f"{p}[i] = {names[n]}" for p in targets]
        body += [f"{p}[i] = {_spelled(g, names, filled[o])}"  # an input, scalar or number
                 for o, p in zip(split.outputs, outs) if filled[o] not in nodes]
    out = ['@numba.njit(parallel=True, error_model="numpy")']
    doc = f"{fname} element by element: one pass over the arrays, on all cores"
    constants = [f"{name} = {params[0]}.dtype.type({text})" for text, name in typed.items()]
    if not split.sums:
        out += wrapped(f"def {lname}(", params + outs, "):")
        out += [f'    """{doc}."""', f"    for i in numba.prange({params[0]}.size):"]
        return "\n".join(out + [f"        {row}" for row in constants + body]) + "\n"
    parts, k = namer.fresh("parts"), namer.fresh("k")
    out += wrapped(f"def {lname}(", params + outs + [parts], "):")
    out += [f'    """{doc};\n    chunk {k} of _CHUNK elements adds up its parts of the sums '
            f'in {parts}[:, {k}]."""', f"    for {k} in numba.prange({parts}.shape[1]):"]
    out += [f"        {row}" for row in constants]
    out += [f"        {namer(s)} = 0.0" for s in split.sums]
    out += [f"        for i in range({k} * _CHUNK, min(({k} + 1) * _CHUNK, {params[0]}.size)):"]
    out += [f"            {row}" for row in body]
    out += [f"        {parts}[{j}, {k}] = {namer(s)}" for j, s in enumerate(split.sums)]
    return "\n".join(out) + "\n"


def _shifted(g: Graph, split: blocks.Split, params: dict[str, str], outs: list[str],
             filled: dict[str, str | float], kept: set[str], namer: Namer,
             literal: Callable[[float], tuple[str, int]],
             form: Callable[[str], printer.Form]) -> list[str]:
    """The lines for element ``i`` of a loop whose slices read other elements: each node
    at every shift its readers need (``x[1:]`` at ``i`` is ``x`` at ``i + 1``); an input
    read out of range reads its nearest element, used only where an adjoint's range is."""
    fewer = loops.shrinks(g)
    size = f"{params[split.arrays[0]]}.size"
    need: dict[str, set[int]] = {n: {0} if n in kept else set() for n in g.order()}
    for n in reversed(g.order()):
        d = g.attrs(n)
        start = d["params"].get("start") or 0
        for c in need[n]:
            if d["op"] in ("slice", "unslice"):
                need[d["args"][0]].add(c + start if d["op"] == "slice" else c - start)
            elif d["op"] == "add_slice":
                need[d["args"][0]].add(c)
                need[d["args"][1]].add(c - start)
            else:
                for a in d["args"]:
                    if g.attrs(a)["shape"] != ():
                        need[a].add(c)
    text: dict[tuple[str, int], str] = {}

    def at(a: str, c: int) -> tuple[str, int]:
        """Operand ``a`` at shift ``c``: its text and precedence."""
        if g.is_const(a):
            return literal(g.attrs(a)["params"]["value"])
        if g.attrs(a)["shape"] == ():
            return params[a], ATOM
        return text[a, c], ATOM

    def within(shift: int, node: str) -> str:
        """Element ``i + shift`` of ``node`` exists."""
        parts = [f"i >= {-shift}"] if shift < 0 else []
        if fewer[node] + shift > 0:
            parts.append(f"i < {size} - {fewer[node] + shift}")
        return " and ".join(parts) or "True"

    body: list[str] = []
    for n in g.order():
        d = g.attrs(n)
        args, start = d["args"], d["params"].get("start") or 0
        for c in sorted(need[n]):
            if d["op"] == "const":
                continue
            if n in split.arrays:
                where = "i" if c == 0 else f"min(i + {c}, {size} - 1)" if c > 0 \
                    else f"max(i - {-c}, 0)"
                text[n, c] = f"{params[n]}[{where}]"
                continue
            if d["op"] == "slice":
                text[n, c] = text[args[0], c + start]
                continue
            if d["op"] == "unslice":
                expr = f"{at(args[0], c - start)[0]} if {within(c - start, args[0])} " \
                       f"else {literal(0.0)[0]}"
            elif d["op"] == "add_slice":
                expr = f"{at(args[0], c)[0]} + ({at(args[1], c - start)[0]} " \
                       f"if {within(c - start, args[1])} else {literal(0.0)[0]})"
            else:
                template, _, slots = form(n)
                expr = printer.join(g, n, template, slots,
                                    [(*at(a, c), 0, False) for a in args])
            if n in split.sums:
                guard = within(0, next(a for a in args if g.attrs(a)["shape"] != ()))
                body.append(f"{namer(n)} += {expr}"
                            + ("" if guard == "True" else f" if {guard} else 0.0"))
                continue
            name = namer(n) if c == 0 else \
                namer.fresh(f"{namer.base(n)}_{'p' if c > 0 else 'm'}{abs(c)}")
            body.append(f"{name} = {expr}")
            text[n, c] = name
    for o, p in zip(split.outputs, outs):
        v = filled[o]
        body.append(f"{p}[i] = {at(v, 0)[0] if isinstance(v, str) else _spelled(g, {}, v)}")
    return body


def _spelled(g: Graph, names: dict[str, str], value: str | float) -> str:
    """A node's name or literal, or a number, as the source spells it."""
    if not isinstance(value, str):
        return printer.numpy_literal(value)[0]
    return names[value] if value in names else const_text(g, value)


def _filled(g: Graph, node: str) -> str | float:
    """What fills ``node``'s array: itself, or (through aliases, broadcasts and seeds)
    the node or number that stretches over it."""
    while True:
        op, args = g.attrs(node)["op"], g.args(node)
        if op == "alias" or op == "broadcast_like" and g.shape(args[0]) == ():
            node = args[0]
        elif op in ("ones_like", "zeros_like"):
            return 1.0 if op == "ones_like" else 0.0
        else:
            return node
