"""Blocked evaluation: an elementwise function run over slices of its arrays, on all cores.

A graph whose every op works element by element gives, on a slice of same-shaped
inputs, that slice of its outputs. So ``gc.compile(g, blocks=True)`` emits, beside
each such function, a block kernel (``_value_and_grad_block``) that computes one slice
and writes its results straight into that slice of the outputs (``out=``), taking its
temporaries from arrays kept per thread (``_kept``). Given same-shaped float arrays
big enough to pay for it, the function hands its flattened arrays to ``_in_blocks``:
each core takes one share of the elements and walks it in blocks small enough that a
block's temporaries stay in the core's cache. So every input is read from memory
once and every output written once, as by a fused loop, where the whole-array code
makes a pass over memory per line; and the cores share the work (NumPy releases the
GIL inside its loops). The values are exactly the whole call's: the same operations
on the same elements. The helpers below ship with the emitted module.
"""

from __future__ import annotations

import concurrent.futures
import contextvars
import functools
import os

import numpy as np

from .graph import Graph

_BLOCK = 32_768  # elements a block at most: its temporaries stay in a core's L2 cache
_SMALLEST = 8_192  # elements a share at least: below it a hand-off costs more than it saves

SHIPPED = f"_BLOCK = {_BLOCK}\n_SMALLEST = {_SMALLEST}\n"
"""The module-level names the helpers read, with this module's values."""

SHAPE_KEEPING = frozenset(("where", "neg", "sum_to", "broadcast_like", "ones_like",
                           "zeros_like", "alias", "input", "const",
                           "gt", "ge", "lt", "le", "eq", "ne"))
"""Ops beyond those with a sympy formula that act element by element on same-shaped
operands (``sum_to`` and ``broadcast_like`` are then the identity)."""
IMPORTS = ("concurrent.futures", "contextvars", "functools", "os")
"""The modules the helpers import."""


def blockwise(g: Graph) -> bool:
    """Every op of g (and of the user-defined ops it calls) is elementwise and no input
    is declared a scalar, so that g's outputs on slices of same-shaped input arrays are
    those slices of its outputs."""
    if any(g.attrs(i)["params"]["declared"] and g.shape(i) == () for i in g.inputs):
        return False
    return _elementwise(g)


def _elementwise(g: Graph) -> bool:
    for name in dict.fromkeys(d["op"] for d in g.nx._node.values()):
        op = g.op_named(name)
        if op.body is not None:
            if not _elementwise(op.body):
                return False
        elif not (op.elementwise or op.name in SHAPE_KEEPING):
            return False
    return True


def kernel_name(fname: str) -> str:
    """The block kernel emitted beside the function ``fname``."""
    return f"_{fname}_block"


def _splits(*arrays):
    """Whether to evaluate in blocks: only same-shaped, C-contiguous float NumPy arrays
    (so that their flat views are their elements in order) of at least two shares."""
    first = arrays[0]
    return all(type(x) is np.ndarray and x.shape == first.shape and x.dtype.kind == "f"
               and x.flags.c_contiguous for x in arrays) and first.size >= 2 * _SMALLEST


def _in_blocks(block, whole, *arrays):
    """``whole(*arrays)`` computed by ``block`` on slices of the flattened arrays: one
    share of the elements per core (the calling thread takes the first), walked in
    blocks of ``_BLOCK``, each written into its slice of the outputs. The outputs'
    structure and dtypes are those of ``whole`` on the arrays' first elements; a 0-d
    result there does not depend on the arrays and is returned as it is."""
    flat = [x.reshape(-1) for x in arrays]
    template = whole(*(x[:1] for x in flat))
    size = flat[0].size
    outs = [np.empty(size, np.result_type(p)) if np.ndim(p) else None
            for p in _leaves(template)]
    written = [o for o in outs if o is not None]

    def share(start, stop):
        for i in range(start, stop, _BLOCK):
            rows = slice(i, min(i + _BLOCK, stop))
            block(*(x[rows] for x in flat), *(o[rows] for o in written))

    cores = min(_cores(), size // _SMALLEST)
    step = -(-size // cores)
    step = -(-step // _BLOCK) * _BLOCK if step > _BLOCK else step  # whole blocks a share
    shares = [(i, min(i + step, size)) for i in range(0, size, step)]
    # each share in a copy of the caller's context: np.errstate holds there too
    running = [_pool().submit(contextvars.copy_context().run, share, *s) for s in shares[1:]]
    try:
        share(*shares[0])
    finally:
        for done in running:
            done.result()  # waits, and raises what a share raised
    shaped = iter(o.reshape(arrays[0].shape) if o is not None else p
                  for o, p in zip(outs, _leaves(template)))
    return _rebuilt(template, shaped)


def _cores():
    """The CPUs this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") \
        else os.cpu_count() or 1


@functools.cache
def _pool():
    """The threads that take the shares beyond the caller's, started at the first split."""
    return concurrent.futures.ThreadPoolExecutor(max(_cores() - 1, 1))


def _leaves(result):
    """The arrays of a result (an array, or a tuple of arrays and dicts of them)."""
    if isinstance(result, tuple):
        return [leaf for part in result for leaf in _leaves(part)]
    if isinstance(result, dict):
        return [leaf for part in result.values() for leaf in _leaves(part)]
    return [result]


def _rebuilt(template, leaves):
    """``template``'s structure with its arrays taken in turn from ``leaves``."""
    if isinstance(template, tuple):
        return tuple(_rebuilt(part, leaves) for part in template)
    if isinstance(template, dict):
        return {key: _rebuilt(part, leaves) for key, part in template.items()}
    return next(leaves)


HELPERS = (_splits, _in_blocks, _cores, _pool, _leaves, _rebuilt)
NAMES = frozenset(f.__name__ for f in HELPERS) | {"_BLOCK", "_SMALLEST", "concurrent",
                                                  "contextvars", "functools", "os"} \
    | {kernel_name(f) for f in ("forward", "value_and_grad")}
"""What the shipped helpers and kernels define or read: no parameter may shadow them."""
