"""Blocked evaluation: an elementwise function run over slices of its arrays, on all cores.

A graph whose every op works element by element gives, on a slice of same-shaped
inputs, that slice of its outputs. So ``gc.compile(g, blocks=True)`` emits a
function that, given same-shaped arrays big enough to pay for it, calls itself on
blocks of rows in a pool of threads (NumPy releases the GIL inside its loops) and
writes each block's results into the whole outputs. A block's temporaries are small
enough to stay in cache and come from memory the allocator already has, where the
whole-array temporaries would each be a fresh pass over main memory; the cores share
the blocks. The values are exactly the unsplit function's: the same operations on the
same elements. The helpers below ship with the emitted module.
"""

from __future__ import annotations

import concurrent.futures
import contextvars
import functools
import os
import threading

import numpy as np

from .graph import Graph

_BLOCK = 32_768  # elements a block at most: its temporaries stay in a core's L2 cache
_SMALLEST = 8_192  # elements a block at least: below it a call costs more than it saves
_INSIDE = threading.local()  # set in the pool's threads: a block never splits again

SHIPPED = f"_BLOCK = {_BLOCK}\n_SMALLEST = {_SMALLEST}\n_INSIDE = threading.local()\n"
"""The module-level names the helpers read, with this module's values."""

SHAPE_KEEPING = frozenset(("where", "neg", "sum_to", "broadcast_like", "ones_like",
                           "zeros_like", "alias", "input", "const",
                           "gt", "ge", "lt", "le", "eq", "ne"))
"""Ops beyond those with a sympy formula that act element by element on same-shaped
operands (``sum_to`` and ``broadcast_like`` are then the identity)."""
IMPORTS = "".join(f"import {m}\n" for m in ("concurrent.futures", "contextvars", "functools",
                                             "os", "threading"))


def blockwise(g: Graph) -> bool:
    """Every op of g (and of the user-defined ops it calls) is elementwise, so that
    g's outputs on slices of same-shaped inputs are those slices of its outputs."""
    for name in dict.fromkeys(d["op"] for d in g.nx._node.values()):
        op = g.op_named(name)
        if op.body is not None:
            if not blockwise(op.body):
                return False
        elif not (op.elementwise or op.name in SHAPE_KEEPING):
            return False
    return True


def _splits(*arrays):
    """The slices of rows to evaluate apart, or None: only same-shaped NumPy arrays
    of enough elements for two blocks split, and never inside a block's own call."""
    first = arrays[0]
    if getattr(_INSIDE, "block", False) or not all(
            type(x) is np.ndarray and x.shape == first.shape for x in arrays):
        return None
    rows = first.shape[0] if first.ndim else 0
    if rows < 2 or first.size < 2 * _SMALLEST:
        return None
    cores = _cores()
    count = max(-(-first.size // _BLOCK), cores)
    count = -(-count // cores) * cores  # as many blocks for every core
    step = -(-rows // min(count, rows, first.size // _SMALLEST))
    return [slice(i, i + step) for i in range(0, rows, step)]


def _in_blocks(f, *arrays):
    """f over each of the arrays' ``_splits``, in the pool, assembled into whole
    outputs: an array, or a tuple of arrays and dicts of arrays, as f returns them."""
    whole, first = [], []
    lock = threading.Lock()

    def block(rows):
        result = f(*(x[rows] for x in arrays))
        parts, shape = _leaves(result), arrays[0].shape
        with lock:
            if not whole:
                first.append(result)
                whole.extend(np.empty(shape[:1] + np.shape(p)[1:] if np.ndim(p) else shape,
                                      np.result_type(p)) for p in parts)
        for out, p in zip(whole, parts):
            out[rows] = p

    # each block in a copy of the caller's context: np.errstate holds there too
    for done in [_pool().submit(contextvars.copy_context().run, block, rows)
                 for rows in _splits(*arrays)]:
        done.result()  # waits, and raises what a block raised
    return _rebuilt(first[0], iter(whole))


def _cores():
    """The CPUs this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") \
        else os.cpu_count() or 1


@functools.cache
def _pool():
    """The threads blocks run in, one per core, started at the first split call."""
    return concurrent.futures.ThreadPoolExecutor(
        _cores(), initializer=setattr, initargs=(_INSIDE, "block", True))


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
NAMES = frozenset(f.__name__ for f in HELPERS) | {"_BLOCK", "_SMALLEST", "_INSIDE",
                                                  "concurrent", "contextvars", "functools", "os"}
"""What the shipped helpers define or read: no parameter may shadow them."""
