"""Blocked evaluation: an elementwise function, and its full sums, on slices of its
arrays (docs/design.md): each core takes a share, walked in blocks whose temporaries
stay in its cache, so each input is read from memory once, as by a fused loop. Arrays
are exactly the whole call's; sums agree to rounding. The helpers below ship with the
emitted module; ``Split`` and ``split`` say where a function is cut for them."""

from __future__ import annotations

import concurrent.futures
import contextvars
import functools
import os
from dataclasses import dataclass

import numpy as np

from ..ir.graph import Graph
from ..ops import Trait

LIMIT = 20_000
"""Nodes in a gradient above which no blocks are made: planning the kernels' memory
costs about four times the NumPy code's compile time (27 s against 7 s at 127,000)."""
_BLOCK = 65_536  # elements a block at most: a few arrays of it fit in a core's L2 cache
_SMALLEST = 8_192  # elements a share at least: below it a hand-off costs more than it saves

SHIPPED = f"_BLOCK = {_BLOCK}\n_SMALLEST = {_SMALLEST}\n"  # module-level names the helpers read
IMPORTS = ("concurrent.futures", "contextvars", "functools", "os")  # what the helpers import


@dataclass
class Split:
    """How a function runs in blocks: its graph specialised to one block
    (``passes.for_blocks``), cut where arrays end: scalars once, then the blocks (each
    writes its slices and returns its parts of the sums), then scalars of the sums."""

    graph: Graph
    arrays: list[str]   # the inputs sliced into blocks: same-shaped float arrays
    before: list[str]   # scalar nodes computed once, before the blocks
    scalars: list[str]  # the scalar inputs and nodes of ``before`` that the blocks read
    sums: list[str]     # full reductions, each block's part added over the blocks
    after: list[str]    # scalar nodes computed from the sums
    outputs: list[str]  # the array outputs, written block by block


def candidate(g: Graph, shifts: bool = False) -> bool:
    """Whether g may run in blocks once specialised (``passes.for_blocks``): its ops are
    elementwise, sums and dots that flattening cannot change, or (``shifts``) slices
    of vectors and their adjoints."""
    for n in g.order():
        op, args = g.op(n), g.args(n)
        vectors = all(len(g.shape(a)) == 1 and not g.elastic(a) for a in args)
        if not (_elementwise(op) or op.name == "sum_to"
                or op.name == "sum" and (g.attrs(n)["params"]["axis"] is None or vectors)
                or op.name == "matmul" and vectors
                or shifts and Trait.SHIFTS in op.traits and vectors):
            return False
    return True


def split(h: Graph, shifts: bool = False) -> Split | None:
    """``h`` (from ``passes.for_blocks``) cut for blocks, or None: an op that is not
    elementwise (with ``shifts``, ``shifted`` ones are), a scalar from arrays that is
    not a full reduction, or an array that needs a reduction of the whole array first."""
    kind: dict[str, str] = {}  # node -> "before", "block", "sum" or "after"
    for n in h.order():
        d = h.attrs(n)
        kinds = {kind[a] for a in d["args"]}
        if d["op"] in ("input", "const"):
            kind[n] = "block" if d["shape"] != () else "before"
        elif d["shape"] != ():
            if kinds & {"sum", "after"} or not (
                    _elementwise(h.op(n)) or shifts and shifted(h, n)):
                return None
            kind[n] = "block"
        elif "block" in kinds:
            if kinds & {"sum", "after"} or not _reduces(h, n):
                return None
            kind[n] = "sum"
        else:
            kind[n] = "after" if kinds & {"sum", "after"} else "before"
    arrays = [i for i in h.inputs if kind[i] == "block"]
    outputs = [o for o in h.outputs if kind[o] == "block"]
    if not arrays or not outputs and not any(kind[n] == "sum" for n in kind):
        return None  # no array to read, or none read: nothing to do element by element
    nodes = [n for n in h.order() if h.attrs(n)["op"] not in ("input", "const")]
    read = {a for n in h.order() if kind[n] in ("block", "sum") for a in h.args(n)}
    if any(kind[n] == "before" and h.op(n).dtype == "bool" for n in read):
        return None  # a scalar comparison would reach the kernel as a float input
    return Split(h, arrays, [n for n in nodes if kind[n] == "before"],
                 [n for n in h.order() if kind[n] == "before" and n in read
                  and h.attrs(n)["op"] != "const"],
                 [n for n in nodes if kind[n] == "sum"],
                 [n for n in nodes if kind[n] == "after"], outputs)


def kernel_graph(split: Split) -> Graph:
    """The nodes a block computes: inputs the arrays and scalars, outputs the array
    outputs and sums."""
    h, k = split.graph, Graph()
    k.ops = dict(h.ops)
    scalars = set(split.scalars)
    computed = set(split.outputs) | set(split.sums)
    for n in reversed(h.order()):  # what the outputs and sums are made of
        if n in computed and n not in scalars:
            computed.update(h.args(n))
    for n in h.order():
        d = h.attrs(n)
        if n in split.arrays or n in scalars:
            k.add_input(n, d["shape"], True)
        elif n in computed:
            k.add_like(n, d, d["args"])
    k.inputs = split.arrays + split.scalars
    k.outputs = split.outputs + split.sums
    return k


def shifted(h: Graph, n: str) -> bool:
    """A slice of a vector (or its adjoint) that drops elements at its ends (``x[1:]``):
    its element ``i`` is its operand's ``i + start``."""
    d = h.attrs(n)
    if Trait.SHIFTS not in h.op(n).traits or h.meta.flattened or len(d["shape"]) != 1:
        return False
    start, stop = d["params"]["start"], d["params"]["stop"]
    return d["params"]["axis"] in (0, -1) and (start is None or start >= 0) \
        and (stop is None or stop < 0)


def _elementwise(op) -> bool:
    if op.body is not None:
        return all(_elementwise(op.body.op(n)) for n in op.body.order())
    # on same-shaped operands the identities are the identity
    return op.pointwise or Trait.IDENTITY in op.traits


def _reduces(h: Graph, n: str) -> bool:
    """A scalar that is the sum of its blocks' parts: a full sum, a dot of two vectors
    (vectors already, not flattened)."""
    op, whole = h.attrs(n)["op"], not h.meta.flattened
    return op == "sum_to" or op == "sum" and (h.attrs(n)["params"]["axis"] is None or whole) \
        or op == "matmul" and whole and all(len(h.shape(a)) == 1 for a in h.args(n))


def kernel_name(fname: str) -> str:
    """The block kernel emitted beside the function ``fname``."""
    return f"_{fname}_block"


def _splits(*arrays):
    """Whether to evaluate in blocks: only same-shaped, C-contiguous float NumPy arrays
    (so that their flat views are their elements in order) of at least two shares."""
    first = arrays[0]
    return all(type(x) is np.ndarray and x.shape == first.shape and x.dtype.kind == "f"
               and x.flags.c_contiguous for x in arrays) and first.size >= 2 * _SMALLEST


def _in_blocks(block, arrays, scalars, like, sums):
    """``block`` over the flattened arrays (with the scalars): one share of the elements
    per core (the calling thread takes the first), walked in blocks of ``_BLOCK``.
    Returns the array outputs, each block written into its slice (their dtypes are
    ``like``'s; None: there are none), then the
    ``sums`` values each block returns, added over the blocks in order."""
    flat = [x.reshape(-1) for x in arrays]
    size = flat[0].size
    outs = [np.empty(size, dtype) for dtype in like or ()]

    def share(start, stop):
        total = None
        for i in range(start, stop, _BLOCK):
            rows = slice(i, min(i + _BLOCK, stop))
            part = block(*(x[rows] for x in flat), *scalars, *(o[rows] for o in outs))
            total = part if total is None else tuple(t + p for t, p in zip(total, part))
        return total

    cores = min(_cores(), size // _SMALLEST)
    step = -(-size // cores)
    step = -(-step // _BLOCK) * _BLOCK if step > _BLOCK else step  # whole blocks a share
    shares = [(i, min(i + step, size)) for i in range(0, size, step)]
    # each share in a copy of the caller's context: np.errstate holds there too
    running = [_pool().submit(contextvars.copy_context().run, share, *s) for s in shares[1:]]
    try:
        first = share(*shares[0])
    finally:
        rest = [done.result() for done in running]  # waits, and raises what a share raised
    for total in rest if sums else ():
        first = tuple(a + b for a, b in zip(first, total))
    return tuple(o.reshape(arrays[0].shape) for o in outs) + (first if sums else ())


def _cores():
    """The CPUs this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") \
        else os.cpu_count() or 1


@functools.cache
def _pool():
    """The threads that take the shares beyond the caller's, started at the first split."""
    return concurrent.futures.ThreadPoolExecutor(max(_cores() - 1, 1))


HELPERS = (_splits, _in_blocks, _cores, _pool)
NAMES = frozenset(f.__name__ for f in HELPERS) | {"_BLOCK", "_SMALLEST", "concurrent",
                                                  "contextvars", "functools", "os"} \
    | {kernel_name(f) for f in ("forward", "value_and_grad")}
"""What the shipped helpers and kernels define or read: no parameter may shadow them."""
