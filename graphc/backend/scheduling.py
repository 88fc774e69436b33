"""Orders worth planning memory for: the memory-minded schedule that frees arrays
early, a depth-first walk from the outputs (and that walk with its reductions as early
as they can run), cheap arrays recomputed rather than kept,
and unfolded operands moved to where their operand dies or a dead buffer is spare
(``memory.py`` then plans the buffers of each order)."""

from __future__ import annotations

import heapq
import itertools
import math

from ..ir.buffers import reusable
from ..ir.graph import Graph

GAP = 4  # arrays made between two reads of a cheap array that make it worth making again


def rematerialized(g: Graph, order: list[str] | None = None) -> Graph | None:
    """``g`` with each cheap array (at most two arithmetic operators from inputs,
    constants and scalars: ``(x - m) ** 2``) recomputed for its later readers rather
    than kept alive from the first to the last; None when there is none. One copy serves
    every reader after the first (copies share their operands' copies); with ``order``,
    every reader after the first that more than ``GAP`` arrays are made before, in that
    order (a value read at once and again much later is made again for the later ones)."""
    position = {n: i for i, n in enumerate(order or g.order())}
    made = list(itertools.accumulate((reusable(g, n) and g.shape(n) != () for n in position),
                                     initial=0))

    def leaf(a: str) -> bool:
        return a in g.inputs or g.is_const(a) or g.shape(a) == ()

    def cheap(n: str, depth: int = 2) -> bool:
        op = g.op(n)
        return op.symbol is not None and op.elementwise and n not in g.outputs \
            and reusable(g, n) and all(leaf(a) or depth > 1 and cheap(a, 1) for a in g.args(n))

    def first_late(n: str, readers: list[str]) -> int:
        if order is None:
            return 1
        at = [position[n]] + [position[r] for r in readers]
        return next((i for i in range(1, len(readers))
                     if made[at[i + 1]] - made[at[i] + 1] > GAP), len(readers))

    late: dict[str, list[str]] = {}  # reader -> the cheap values it reads copies of
    for n in g.order():
        readers = sorted(g.readers(n), key=position.__getitem__)
        if len(readers) >= 2 and cheap(n):
            for r in readers[first_late(n, readers):]:
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


def just_before(g: Graph, order: list[str], moved: dict[str, str]) -> list[str]:
    """``order`` with each node of ``moved``, and the folded consumers between it and
    its line, just before that line (each moves later: the order stays topological)."""
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


def as_lines(g: Graph, order: list[str], lines: list[str]) -> list[str]:
    """``order`` with each node where ``lines`` computes it: a line's node at its line,
    a folded node with the line it is folded into. A folded operand the printer gave a
    line of its own (its consumer's line too long) runs at its consumer's line, later
    than its place in ``order``; the memory plan counted on that."""
    rank = {n: i for i, n in enumerate(lines)}
    index = {n: i for i, n in enumerate(order)}

    def line_of(n: str) -> int:
        while n not in rank:
            (n,) = g.readers(n)
        return rank[n]
    return sorted(order, key=lambda n: (line_of(n), index[n]))


def schedule(g: Graph, nodes: list[str]) -> tuple[list[str], set[str]]:
    """``nodes`` in an order that frees arrays early: of the ready nodes, the last
    reader of the most arrays first (less one if it allocates), then the one freeing
    the oldest array, then the given order (scalar graphs print as before). A temporary
    folded into its one reader is followed by it at once if ready; if not, it is
    returned among the deferred, which need lines of their own."""
    index = {n: i for i, n in enumerate(nodes)}
    sized = {n: g.shape(n) != () and not g.elastic(n) for n in nodes}
    readers = {n: g.n_readers(n) + (n in g.outputs) for n in nodes}
    waiting = {n: sum(1 for a in set(g.args(n)) if a in index) for n in nodes}

    def score(n: str) -> int:
        frees = sum(1 for a in set(g.args(n)) if a in index and sized[a] and readers[a] == 1)
        return frees - sized[n]

    made: dict[str, int] = {}  # node -> its position in the new order (the order made)

    def entry(n: str) -> tuple[int, float, int, str]:
        oldest = min((made[a] for a in g.args(n) if a in made and sized[a] and readers[a] == 1),
                     default=math.inf)
        return -score(n), oldest, index[n], n

    ready = [entry(n) for n in nodes if waiting[n] == 0]
    heapq.heapify(ready)

    def place(n: str) -> None:
        made[n] = len(made)
        for a in set(g.args(n)):
            if a in index:
                readers[a] -= 1
                if readers[a] == 1 and sized[a]:
                    last = next((c for c in g.readers(a) if c not in made), None)
                    if last is not None and waiting[last] == 0:
                        heapq.heappush(ready, entry(last))
        for c in g.readers(n):
            if c in waiting:
                waiting[c] -= 1
                if waiting[c] == 0:
                    heapq.heappush(ready, entry(c))

    deferred: set[str] = set()
    while ready:
        s, _, _, n = heapq.heappop(ready)
        if n in made or -s != score(n):
            continue  # a stale entry: the node was pushed again with its new score
        place(n)
        while g.attrs(n)["temp"] and g.n_readers(n) == 1 and n not in g.outputs:
            (reader,) = g.readers(n)  # n is folded into it: evaluated there
            if reader in made or waiting.get(reader) != 0:
                if sized[n]:
                    deferred.add(n)
                break
            place(reader)
            n = reader
    return list(made), deferred


def depth_first(g: Graph, nodes: list[str]) -> list[str]:
    """``nodes`` as a depth-first walk from the outputs, the last output first, computes
    them: each value just before the subtree that reads it. An hvp's last outputs (H v)
    read most of its first ones (the gradient), so a value and its tangent are made
    together and die early, where the given order keeps the whole gradient sweep alive
    for the tangent sweep after it. Nodes no output needs keep their order, at the end."""
    wanted = set(nodes)
    done: dict[str, None] = {}
    for o in reversed(g.outputs):
        stack = [(o, False)]
        while stack:
            n, ready = stack.pop()
            if ready:
                done[n] = None
            elif n in wanted and n not in done:
                stack.append((n, True))
                stack.extend((a, False) for a in reversed(g.args(n)) if a not in done)
    return [n for n in done if n in wanted] + [n for n in nodes if n not in done]


def reductions_early(g: Graph, order: list[str]) -> list[str]:
    """``order`` with each reduction of arrays to a scalar, the arrays read by it alone
    that it is made from, and the scalars made of it alone (``-sum(a)``, ``s * (a @
    b)``), as early as their other operands allow, so that the arrays read may die
    sooner: an hvp's sums over one component's values (``sum(a / p)``) run before the
    other component's adjoints are made, not after."""
    rank = {n: i for i, n in enumerate(order)}
    free: set[str] = set()  # scalars made of no array

    def loose(a: str) -> bool:  # an operand that never makes a cone wait long
        return a not in rank or a in free

    owner: dict[str, str] = {}  # an array read once on the way to a reduction, or a
    cones: dict[str, list[str]] = {}  # scalar made of it alone -> the last such scalar
    for s in order:
        if g.shape(s) != ():
            continue
        if all(g.shape(a) == () and loose(a) for a in g.args(s)):
            free.add(s)
        if s in owner or not any(g.shape(a) != () for a in g.args(s)):
            continue
        chain = [s]
        while chain[-1] not in g.outputs and g.n_readers(chain[-1]) == 1:
            (r,) = g.readers(chain[-1])
            if g.shape(r) != () or not all(a == chain[-1] or loose(a) for a in g.args(r)):
                break
            chain.append(r)
        top = chain[-1]
        owner.update(dict.fromkeys(chain[:-1], top))
        stack = list(g.args(s))
        while stack:
            a = stack.pop()
            if a in owner or g.shape(a) == () or g.n_readers(a) != 1 or a in g.outputs \
                    or a not in rank:
                continue
            owner[a] = top
            stack.extend(g.args(a))
        cones.setdefault(top, [])
    for n in order:
        if n in owner:
            cones[owner[n]].append(n)
    done: dict[str, None] = {}
    waiting: dict[str, list[str]] = {}  # a node -> the reductions that wait for it
    ready = [(rank[s], s) for s in cones]  # to try, the first in ``order`` first: each
    heapq.heapify(ready)  # waits for the first operand it lacks, or is placed

    def place(n: str) -> None:
        done[n] = None
        for s in waiting.pop(n, ()):
            heapq.heappush(ready, (rank[s], s))

    def lift(b: str) -> None:  # a scalar made of no array, with what it needs, now
        stack = [(b, False)]
        while stack:
            n, after = stack.pop()
            if after:
                if n not in done:
                    place(n)
            elif n not in done:
                stack.append((n, True))
                stack.extend((a, False) for a in g.args(n) if a in free and a not in done)

    def settle() -> None:
        while ready:
            _, s = heapq.heappop(ready)
            cone = cones[s] + [s]
            outside = [b for a in cone for b in g.args(a)
                       if b in rank and b not in done and owner.get(b) != s and b != s]
            for b in outside:
                if b in free and b not in done:
                    lift(b)
            missing = next((b for b in outside if b not in done), None)
            if missing is not None:
                waiting.setdefault(missing, []).append(s)
            elif s not in done:
                for a in cone:
                    place(a)
    for n in order:
        settle()
        if n in owner or n in cones:
            heapq.heappush(ready, (rank[owner.get(n, n)], owner.get(n, n)))
        elif n not in done:
            place(n)
    settle()
    assert len(done) == len(order), "every reduction is placed once its operands are"
    return list(done)
