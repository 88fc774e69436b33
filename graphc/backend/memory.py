"""Memory planning: which dead buffer each emitted line may write its result into.

NumPy allocates a new array for every ufunc call. An expert reuses arrays that are
no longer needed (``np.exp(t, out=t)``); this module finds where the emitted code may
do the same. It works on the emitted lines (one named value each, single-use
operands folded in) in their order:

- a line's value owns a fresh buffer when its op always returns a new array; other
  ops (slices, transposes, ``_sum_to``) may return a view of an operand, so their
  value keeps every buffer it reads alive;
- a buffer is free once nothing later reads a value stored in it (outputs are read
  by ``return``);
- a line whose op is a NumPy ufunc (or a helper taking ``out=``) writes into a free
  buffer of exactly its static shape and dtype class, preferring one of its own
  operands (true in-place).

Dtype class: float promotion is a maximum, so two values have the same dtype when
they depend on the same inputs; comparisons (bool) and sizes (Python numbers)
contribute nothing, and an op whose dtype is its own starts a class of its own.
When values of different inputs may share buffers, the function first brings its
inputs to one dtype (``_one_dtype``: nothing to do when they share it already);
then every value computed from inputs has that dtype.
Scalars, and values whose shape is only known at call time, are never planned: they
may be Python floats.
"""

from __future__ import annotations

import heapq
import math
import threading
from collections.abc import Callable, Iterable

import numpy as np

from ..ir.buffers import Classes, reusable
from ..ir.graph import Graph

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


def kept(g: Graph, lines: list[str], into: dict[str, str], outputs: Iterable[str],
         classes: Classes, apart: set[str]) -> dict[str, tuple[str, list[str]]]:
    """line -> (an operand of its shape, the inputs that decide its dtype) for the
    lines that allocate a buffer no output can be (or be a view of): those may take
    their buffer from ``_kept`` and keep it for the next call, so a loop of calls
    touches no fresh memory for them (a block kernel's). ``apart``: lines that write
    elsewhere (slices, a kernel's outputs)."""
    named = set(lines) | set(g.inputs)
    escaping: set[str] = set()
    stack = [o for o in outputs if o in named]
    seen: set[str] = set()
    while stack:  # the buffers outputs may alias: their own, and those views read
        v = stack.pop()
        if v in seen or v in g.inputs:
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
    """A line's expression: the named values it reads, in the order they are printed,
    and the nodes folded into it."""
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


def _liveness(g: Graph, lines: list[str], outputs: Iterable[str]
              ) -> tuple[dict[str, list[str]], dict[str, int]]:
    """What each line reads, and the last line that reads each value, directly or
    through a view of it (outputs are read by ``return``, after the last line)."""
    named = set(lines) | set(g.inputs)
    reads = {n: _expression(g, n, named)[0] for n in lines}
    position = {n: i for i, n in enumerate(lines)}
    last = dict.fromkeys(lines, -1)
    for o in outputs:
        last[o] = len(lines)
    for n in reversed(lines):
        for r in reads[n]:
            if r in last:
                last[r] = max(last[r], position[n], last[n] if not g.op(n).fresh else -1)
    return reads, last


def unfold(g: Graph, lines: list[str], outputs: Iterable[str], classes: Classes
           ) -> dict[str, str]:
    """Folded operands worth a line of their own: a call or operator whose operand dies
    in this line (``np.multiply(-0.5, u ** 2, out=u)``, ``(t * y) @ y``). On its own
    line it can write into that operand (``np.square(u, out=u)``) and an elementwise
    line then into it, where folded it allocates a temporary. Returns each such
    operand with its line."""
    position = {n: i for i, n in enumerate(lines)}
    last = None  # found when some folded operand could take a line (none in a kernel)
    found = {}
    for i, n in enumerate(lines):
        inside = _expression(g, n, position)[1]
        here = set(inside) | {n}
        for s in inside:
            if not reusable(g, s) or not g.op(s).can_write_into:
                continue
            if last is None:
                _, last = _liveness(g, lines, outputs)
            if any(last.get(r) == i and reusable(g, r) and g.shape(r) == g.shape(s)
                   and classes[r] == classes[s] and here & set(g.readers(r)) == {s}
                   for r in g.args(s)):
                found[s] = n
    return found


def just_before(g: Graph, order: list[str], moved: dict[str, str]) -> list[str]:
    """``order`` with each node of ``moved``, and the folded consumers between it and
    its line, put just before that line, where its operand dies. Each moves later and
    has one consumer, so the order stays topological."""
    line_of = {}
    for s, line in moved.items():
        while s != line:
            line_of[s] = line
            (s,) = g.readers(s)
    before: dict[str, list[str]] = {}
    for n in order:
        if n in line_of:
            before.setdefault(line_of[n], []).append(n)
    return [m for n in order if n not in line_of for m in before.get(n, []) + [n]]


def plan(g: Graph, lines: list[str], outputs: Iterable[str], classes: Classes
         ) -> dict[str, str]:
    """line -> an earlier line whose buffer it writes into (with ``out=``)."""
    reads, last = _liveness(g, lines, outputs)

    def key(n: str) -> tuple:  # buffers of equal key are interchangeable
        return g.shape(n), classes[n]

    into: dict[str, str] = {}
    holder: dict[str, str] = {}        # buffer (its first owner) -> the value it holds
    buffer_of: dict[str, str] = {}     # value -> its buffer
    free: dict[tuple, list[str]] = {}  # (shape, dtype class) -> buffers nothing reads
    ending: dict[int, list[tuple[str, str]]] = {}  # line -> (buffer, value) read last there
    for i, n in enumerate(lines):
        for buf, value in ending.pop(i - 1, ()):
            if holder[buf] == value:
                free.setdefault(key(buf), []).append(buf)
        if not reusable(g, n):
            continue
        buf = n
        if g.op(n).can_write_into:
            buf = _in_place(g, n, reads[n], last, i, buffer_of, key) or \
                _pop(free.get(key(n)), buf)
        if buf != n:
            into[n] = buf
        holder[buf] = n
        buffer_of[n] = buf
        ending.setdefault(max(last[n], i), []).append((buf, n))
    return into


def into_slices(g: Graph, lines: list[str], outputs: Iterable[str],
                into: dict[str, str], classes: Classes) -> dict[str, str]:
    """line -> the ``unslice`` line that places the value computed in the line's buffer,
    when that array (allocated just before the line, like the array it is sliced from)
    can stand in for the buffer: its slice is then written from the start, and the
    copy into a zeroed array is not needed.

    The value placed must be read by the unslice alone; the array must have its dtype
    (same dtype class as ``like``); and no line after it may be planned into the buffer.
    """
    unslices = [u for u in lines if g.attrs(u)["op"] == "unslice" and reusable(g, u)]
    if not unslices:
        return {}
    _, last = _liveness(g, lines, outputs)
    position = {n: i for i, n in enumerate(lines)}
    later: dict[str, int] = {}  # buffer -> the last line planned into it
    for n, buf in into.items():
        later[buf] = max(later.get(buf, -1), position[n])
    outputs = set(outputs)
    found = {}
    for u in unslices:
        part, like = g.args(u)
        if part not in position or part in outputs or last[part] != position[u] \
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


def _in_place(g: Graph, node: str, reads: list[str], last: dict[str, int], i: int,
              buffer_of: dict[str, str], key: Callable[[str], tuple]) -> str | None:
    """An operand's buffer that nothing reads after this line: an elementwise op may
    overwrite any (NumPy reads operands that overlap the output before writing); a
    helper like ``_add_slice`` only its first operand, which it updates in place."""
    op = g.op(node)
    if op.elementwise:
        candidates = reads
    elif op.writes_out:
        candidates = [a for a in g.args(node)[:1] if a in reads]
    else:
        return None
    for value in candidates:
        if value in buffer_of and last[value] == i and key(value) == key(node):
            return buffer_of[value]
    return None


def _pop(free: list[str] | None, default: str) -> str:
    return free.pop() if free else default


def joinable(g: Graph, classes: Classes) -> Callable[[str, str], bool]:
    """For the printer: a call that takes ``out=`` (``np.exp(t)``) and a fresh operand
    of such a call (``np.exp(a * b)``) or on the right of ``-`` (``x - y ** 2``) keep
    lines of their own, so the call can write into a dead buffer. NumPy already reuses
    the temporaries on the left of operators (``a*b + c`` allocates once), not those of
    calls."""

    def call(n: str) -> bool:
        op = g.op(n)
        return op.can_write_into and op.symbol is None and reusable(g, n)

    def alike(a: str, b: str) -> bool:
        return reusable(g, a) and g.shape(a) == g.shape(b) and classes[a] == classes[b]

    def right_of_operator(node: str, consumer: str) -> bool:
        """NumPy reuses the temporary on the left of ``-`` or ``/``, not on the right."""
        op = g.op(consumer)
        return op.symbol is not None and op.arity == 2 and not op.commutative \
            and op.can_write_into and g.args(consumer)[1] == node != g.args(consumer)[0]

    def join(node: str, consumer: str) -> bool:
        if (call(consumer) or right_of_operator(node, consumer)) and alike(node, consumer):
            return False
        return not (call(node) and any(alike(a, node) for a in g.args(node)))
    return join


def rematerialized(g: Graph) -> Graph | None:
    """``g`` with each cheap array recomputed for its later readers, or None when there
    is none. Cheap: at most two arithmetic operators from inputs, constants and scalars
    (``x - m``, ``(x - m) ** 2``), so keeping it costs an array for the whole time
    between its first and its last reader, and recomputing it costs a pass or two. Its
    first reader keeps it; a copy is made just before the next one, for all the rest
    (copies share their operands' copies)."""
    order = g.order()
    position = {n: i for i, n in enumerate(order)}

    def leaf(a: str) -> bool:
        return a in g.inputs or g.is_const(a) or g.shape(a) == ()

    def cheap(n: str, depth: int = 2) -> bool:
        op = g.op(n)
        return op.symbol is not None and op.elementwise and n not in g.outputs \
            and reusable(g, n) and all(leaf(a) or depth > 1 and cheap(a, 1) for a in g.args(n))

    late: dict[str, list[str]] = {}  # reader -> the cheap values it reads copies of
    for n in order:
        readers = sorted(g.readers(n), key=position.__getitem__)
        if len(readers) >= 2 and cheap(n):
            for r in readers[1:]:
                late.setdefault(r, []).append(n)
    if not late:
        return None
    copies: dict[str, str] = {}

    def copy(new: Graph, n: str) -> str:
        if n not in copies:
            c = g.attrs(n)
            copies[n] = new.add(c["op"], tuple(a if leaf(a) else copy(new, a)
                                               for a in c["args"]), c["params"])
        return copies[n]

    def add(new: Graph, v: str, d: dict) -> None:
        again = late.get(v, ())
        new.add_like(v, d, tuple(copy(new, a) if a in again else a for a in d["args"]))
    return g.rebuilt(add)


def orders(g: Graph, nodes: list[str]) -> list[tuple[list[str], set[str]]]:
    """The orders worth planning, each with the temporaries that must get lines of
    their own to be evaluated where the order puts them: the given order (none), and
    the memory-minded schedule when it differs."""
    found: list[tuple[list[str], set[str]]] = [(nodes, set())]
    scheduled, deferred = schedule(g, nodes)
    if scheduled != nodes:
        found.append((scheduled, deferred))
    return found


def allocated(g: Graph, lines: list[str], into: dict[str, str]) -> float:
    """How much memory the lines' fresh arrays take (buffers reused count nothing):
    a symbolic dimension counts as a million elements."""
    return sum(math.prod(d if isinstance(d, int) else 1e6 for d in g.shape(n))
               for n in lines if reusable(g, n) and n not in into)


def schedule(g: Graph, nodes: list[str]) -> tuple[list[str], set[str]]:
    """``nodes`` in an order that frees arrays early: among the nodes whose operands
    are ready, the one that is the last reader of the most arrays goes first (less
    one for an array it allocates), then the one freeing the oldest array; then the
    given order, so scalar graphs print as before.

    A temporary with one reader is printed inside the reader's line, so evaluated
    there: the reader follows it at once when it is ready. When it is not, the
    temporary is returned among the deferred ones, which need lines of their own
    (else they would be evaluated late, keeping their operands alive)."""
    index = {n: i for i, n in enumerate(nodes)}
    sized = {n: g.shape(n) != () and not g.elastic(n) for n in nodes}
    readers = {n: g.n_readers(n) + (n in g.outputs) for n in nodes}
    waiting = {n: sum(1 for a in set(g.args(n)) if a in index) for n in nodes}

    def score(n: str) -> int:
        frees = sum(1 for a in set(g.args(n)) if a in index and sized[a] and readers[a] == 1)
        return frees - sized[n]

    made: dict[str, int] = {}  # node -> its position in the new order

    def entry(n: str) -> tuple[int, float, int, str]:
        oldest = min((made[a] for a in g.args(n) if a in made and sized[a] and readers[a] == 1),
                     default=math.inf)
        return -score(n), oldest, index[n], n

    ready = [entry(n) for n in nodes if waiting[n] == 0]
    heapq.heapify(ready)
    order: list[str] = []
    done: set[str] = set()

    def place(n: str) -> None:
        made[n] = len(order)
        order.append(n)
        done.add(n)
        for a in set(g.args(n)):
            if a in index:
                readers[a] -= 1
                if readers[a] == 1 and sized[a]:
                    last = next((c for c in g.readers(a) if c not in done), None)
                    if last is not None and waiting[last] == 0:
                        heapq.heappush(ready, entry(last))
        for c in g.readers(n):
            if c in waiting:
                waiting[c] -= 1
                if waiting[c] == 0:
                    heapq.heappush(ready, entry(c))

    def single_reader(n: str) -> str | None:
        if g.attrs(n)["temp"] and g.n_readers(n) == 1 and n not in g.outputs:
            return next(iter(g.readers(n)))
        return None

    deferred: set[str] = set()
    while ready:
        s, _, _, n = heapq.heappop(ready)
        if n in done or -s != score(n):
            continue  # a stale entry: the node was pushed again with its new score
        place(n)
        while (reader := single_reader(n)) is not None:
            if reader in done or waiting.get(reader) != 0:
                if sized[n]:
                    deferred.add(n)
                break
            place(reader)
            n = reader
    return order, deferred
