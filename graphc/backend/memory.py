"""Memory planning: which dead buffer each emitted line may write its result into.

NumPy allocates a new array for every ufunc call; an expert reuses dead ones
(``np.exp(t, out=t)``). On the emitted lines, in order: a fresh value owns a buffer (a
view keeps those it reads alive), free once nothing later reads it (outputs are read
by ``return``); a line taking ``out=`` writes into a free buffer of its shape and dtype
class (``buffers.dtype_classes``), its own operands' first. When values of different
inputs share buffers, the inputs are first brought to one dtype (``_one_dtype``).
Scalars and elastic values are never planned: they may be Python floats.
"""

from __future__ import annotations

import math
import threading
from collections import Counter
from collections.abc import Callable

import numpy as np

from ..ir.buffers import Classes, reusable
from ..ir.graph import Graph

LARGE = 1 << 14  # elements: a smaller fresh array comes cheaply from malloc's free lists
_KEPT = threading.local()  # _kept's store here; an emitted module that ships _kept has its own


def _one_dtype(*values):
    """The inputs in one dtype, NumPy's common one (ints become float64), so every
    array computed from them has it and reused buffers (out=) always fit. Inputs that
    share it already are returned as they are (a Python float counts as float64)."""
    dtype = np.result_type(*(v if isinstance(v, (float, np.ndarray, np.generic))
                             else np.asarray(v) for v in values), 1.0)
    if all(getattr(v, "dtype", float if isinstance(v, float) else None) == dtype
           for v in values):
        return values
    return tuple(np.asarray(v, dtype=dtype) for v in values)


def _kept(slot, like, *dtype_of):
    """A scratch array kept between calls (per thread) for ``slot``: ``like``'s shape,
    the float dtype NumPy gives ``like`` and ``dtype_of``; None (so a fresh array)
    when that dtype is not a float. Never returned: the caller owns what it gets back.
    Fewer rows than the kept array has (a last, shorter block) take its first rows."""
    dtype = np.result_type(like, *dtype_of)
    if dtype.kind not in "fc":
        return None
    kept = _KEPT.__dict__
    buffer, shape = kept.get(slot), np.shape(like)
    if buffer is None or buffer.dtype != dtype or buffer.shape[1:] != shape[1:] \
            or buffer.shape[:1] < shape[:1]:
        buffer = kept[slot] = np.empty(shape, dtype)
    return buffer if buffer.shape == shape else buffer[:shape[0]]


def kept(g: Graph, lines: list[str], into: dict[str, str], classes: Classes,
         apart: set[str]) -> dict[str, tuple[str, list[str]]]:
    """line -> (an operand of its shape, the inputs that decide its dtype) for a block
    kernel's lines allocating a buffer no output can be (or view): they take it from
    ``_kept``, so a loop of calls allocates nothing for them. ``apart``: lines that
    write elsewhere (slices, the kernel's outputs)."""
    named = set(lines) | set(g.inputs)
    escaping: set[str] = set()
    stack = [o for o in g.outputs if o in named]
    seen = set(g.inputs)
    while stack:  # the buffers outputs may alias: their own, and those views read
        v = stack.pop()
        if v in seen:
            continue
        seen.add(v)
        if reusable(g, v):
            escaping.add(into.get(v, v))
        elif not g.op(v).fresh:  # a view (a slice, _sum_to): of what it reads
            stack.extend(_expression(g, v, named)[0])
    everything = frozenset(g.inputs)
    found = {}
    for n in lines:
        if n in into or n in escaping or n in apart or not reusable(g, n) \
                or not g.op(n).can_write_into:
            continue
        inputs = everything if classes[n] == frozenset(("inputs",)) else classes[n]
        like = next((a for a in _expression(g, n, named)[0]
                     if g.shape(a) == g.shape(n) and not g.elastic(a)), None)
        if like is not None and inputs and inputs <= everything:
            known = everything if classes[like] == frozenset(("inputs",)) else classes[like]
            found[n] = like, [i for i in g.inputs if i in inputs - known and i != like]
    return found


def _expression(g: Graph, line: str, named: set[str] | dict[str, int]
                ) -> tuple[list[str], list[str]]:
    """The named values a line reads, in printed order, and the nodes folded into it."""
    reads: dict[str, None] = {}
    folded = []
    stack = list(reversed(g.args(line)))
    while stack:
        a = stack.pop()
        if a in named or a in g.inputs:
            reads[a] = None
        elif not g.is_const(a):
            folded.append(a)
            stack.extend(reversed(g.args(a)))
    return list(reads), folded


def _liveness(g: Graph, lines: list[str]) -> tuple[dict[str, list[str]], dict[str, int]]:
    """What each line reads, and the last line that reads each value, directly or
    through a view of it (outputs are read by ``return``, after the last line)."""
    named = set(lines) | set(g.inputs)
    reads = {n: _expression(g, n, named)[0] for n in lines}
    last = dict.fromkeys(lines, -1)
    last.update(dict.fromkeys(g.outputs, len(lines)))
    for i, n in reversed(list(enumerate(lines))):
        for r in reads[n]:
            if r in last:
                last[r] = max(last[r], i, last[n] if not g.op(n).fresh else -1)
    return reads, last


def unfold(g: Graph, lines: list[str], classes: Classes) -> dict[str, str]:
    """Folded operand -> its line, for those worth a line of their own: an operand of
    theirs dies in the line (``np.multiply(-0.5, u ** 2, out=u)``), so on their own line
    they can write into it (``np.square(u, out=u)``) where folded they allocate; or, if
    large (``LARGE``), a dead buffer of their shape is spare at the line
    (``np.multiply(a, s, out=d); np.add(d, b, out=c)`` rather than ``np.add(a * s, b,
    out=c)``)."""
    position = {n: i for i, n in enumerate(lines)}
    last = None  # found when some folded operand could take a line (none in a kernel)
    spare: list[Counter] = []  # the dead buffers (by key) at each line, when first needed
    takes: list[tuple | None] = []
    found = {}
    for i, n in enumerate(lines):
        inside = _expression(g, n, position)[1]
        here = set(inside) | {n}
        reserved = takes[i] if takes else None  # the spare buffer the line's out= takes
        for s in inside:
            if not reusable(g, s) or not g.op(s).can_write_into:
                continue
            if last is None:
                _, last = _liveness(g, lines)
            if any(last.get(r) == i and reusable(g, r) and g.shape(r) == g.shape(s)
                   and classes[r] == classes[s] and here & set(g.readers(r)) == {s}
                   for r in g.args(s)):
                found[s] = n
                continue
            if math.prod(d if isinstance(d, int) else 1e6 for d in g.shape(s)) < LARGE:
                continue
            if not takes:
                spare, takes = _plan(g, lines, classes)[1:]
                reserved = takes[i]
            k = (g.shape(s), classes[s])
            shares = reserved == k and g.op(n).elementwise  # then the line writes into s's
            if spare[i][k] - (reserved == k and not shares) > 0:
                found[s] = n
                spare[i][k] -= 1
                reserved = None if shares else reserved
    return found


def plan(g: Graph, lines: list[str], classes: Classes) -> dict[str, str]:
    """line -> an earlier line whose buffer it writes into (with ``out=``)."""
    return _plan(g, lines, classes)[0]


def _plan(g: Graph, lines: list[str], classes: Classes
          ) -> tuple[dict[str, str], list[Counter], list[tuple | None]]:
    """``plan``, with the dead buffers (by shape and dtype class) before each line
    allocates, and the key of the dead buffer each line takes (None if it takes none)."""
    reads, last = _liveness(g, lines)

    def key(n: str) -> tuple:  # buffers of equal key are interchangeable
        return g.shape(n), classes[n]

    def in_place(n: str, i: int) -> str | None:
        """An operand's buffer nothing reads after line ``i``: any for an elementwise op
        (NumPy reads overlapping operands first), the first for ``_add_slice`` and such."""
        op = g.op(n)
        candidates = reads[n] if op.elementwise else \
            [a for a in g.args(n)[:1] if a in reads[n]] if op.writes_out else []
        return next((buffer_of[v] for v in candidates
                     if v in buffer_of and last[v] == i and key(v) == key(n)), None)
    into: dict[str, str] = {}
    holder: dict[str, str] = {}        # buffer (its first owner) -> the value it holds
    buffer_of: dict[str, str] = {}     # value -> its buffer
    free: dict[tuple, list[str]] = {}  # (shape, dtype class) -> buffers nothing reads
    ending: dict[int, list[tuple[str, str]]] = {}  # line -> (buffer, value) read last there
    spare: list[Counter] = []
    takes: list[tuple | None] = []
    for i, n in enumerate(lines):
        for buf, value in ending.pop(i - 1, ()):
            if holder[buf] == value:
                free.setdefault(key(buf), []).append(buf)
        spare.append(Counter({k: len(b) for k, b in free.items() if b}))
        takes.append(None)
        if not reusable(g, n):
            continue
        buf = n
        if g.op(n).can_write_into:
            buf = in_place(n, i) or n
            if buf == n and free.get(key(n)):
                buf, takes[i] = free[key(n)].pop(), key(n)
        if buf != n:
            into[n] = buf
        holder[buf] = n
        buffer_of[n] = buf
        ending.setdefault(max(last[n], i), []).append((buf, n))
    return into, spare, takes


def into_slices(g: Graph, lines: list[str], into: dict[str, str], classes: Classes
                ) -> dict[str, str]:
    """line -> the ``unslice`` placing the value computed in the line's buffer, when
    the unslice's array (allocated just before the line) can stand in for that buffer,
    so no copy into zeros is needed: the value is read by the unslice alone, the array
    has its dtype class, and no later line is planned into the buffer."""
    unslices = [u for u in lines if g.attrs(u)["op"] == "unslice" and reusable(g, u)]
    if not unslices:
        return {}
    _, last = _liveness(g, lines)
    position = {n: i for i, n in enumerate(lines)}
    later = {buf: position[n] for n, buf in into.items()}  # the last line into it (in order)
    found = {}
    for u in unslices:
        part, like = g.args(u)
        if part not in position or part in g.outputs or last[part] != position[u] \
                or g.n_readers(part) != 1 or not reusable(g, part) \
                or g.shape(like) != g.shape(u) or classes[like] != classes[part]:
            continue
        # the line that allocated part's buffer, else part itself (leaving that buffer)
        for line in dict.fromkeys((into.get(part, part), part)):
            if g.op(line).can_write_into \
                    and later.get(line, -1) <= position[part] \
                    and (like in g.inputs or position.get(like, math.inf) < position[line]):
                found[line] = u
                break
    return found


def joinable(g: Graph, classes: Classes) -> Callable[[str, str], bool]:
    """For the printer: a call taking ``out=`` and a fresh operand of such a call
    (``np.exp(a * b)``) or on the right of ``-`` (``x - y ** 2``) keep lines of their
    own, to write into a dead buffer. NumPy reuses temporaries on the left of operators
    (``a*b + c`` allocates once), not those of calls."""

    def call(n: str) -> bool:
        op = g.op(n)
        return op.can_write_into and op.symbol is None and reusable(g, n)

    def alike(a: str, b: str) -> bool:
        return reusable(g, a) and g.shape(a) == g.shape(b) and classes[a] == classes[b]

    def right_of_operator(node: str, consumer: str) -> bool:
        op = g.op(consumer)
        return op.symbol is not None and op.arity == 2 and not op.commutative \
            and op.can_write_into and g.args(consumer)[1] == node != g.args(consumer)[0]

    def join(node: str, consumer: str) -> bool:
        if (call(consumer) or right_of_operator(node, consumer)) and alike(node, consumer):
            return False
        return not (call(node) and any(alike(a, node) for a in g.args(node)))
    return join


def allocated(g: Graph, lines: list[str], into: dict[str, str]) -> float:
    """Elements the lines' fresh arrays take, a symbolic dimension counting a million."""
    return sum(math.prod(d if isinstance(d, int) else 1e6 for d in g.shape(n))
               for n in lines if reusable(g, n) and n not in into)
