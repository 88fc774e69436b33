"""Fused evaluation with numba: an elementwise function as one loop over float64 (or
float32) arrays on all cores, every node a local float (docs/design.md): each input
read once, each output written once, no temporaries. Transcendentals come from the C library
(glibc's vector libmvec where a loop vectorises: within 4 ulp of NumPy's, vector_math.py;
else its scalar functions: the last bit). The helpers below ship with the
emitted module; numba compiles a loop at its first call (8 s for 1,300 nodes)."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable

import numpy as np

from ..ir import printer
from ..ir.graph import Graph
from ..ops import ADD, ATOM, COMPARE, MUL, UNARY, Op, Trait
from . import blocks, scalar_special, vector_math

LIMIT = 2_000
"""Gradients of more nodes get no loop: numba's compile time is superlinear (random DAGs:
2 s for 265 nodes, 8 s for 1,300, 390 s for 12,700)."""
_ONE_LOOP = threading.Lock()  # see _fused
_LAST: dict = {}  # see _outputs
_CHUNK = 4_096  # elements whose parts of the sums a loop adds up in one go
SCALAR: dict[str, printer.Form] = {
    "sigmoid": ("1.0 / (1.0 + np.exp(-{0}))", MUL, (UNARY,)),
    "maximum": ("_maximum({0}, {1})", ATOM, (0, 0)),
    "minimum": ("_minimum({0}, {1})", ATOM, (0, 0)),
    "relu": ("_maximum({0}, 0.0)", ATOM, (0,)),
    "leaky_relu": ("_pick({0} >= 0, {0}, {1} * {0})", ATOM, (COMPARE, MUL)),
    # expm1(minimum(x, 0.0)) as NumPy's code has it: + 0.0 turns -0.0 into 0.0
    "elu": ("_pick({0} > 0, {0}, {1} * np.expm1({0} + 0.0))", ATOM, (ADD, MUL)),
    "where": ("_pick({0}, {1}, {2})", ATOM, (0, 0, 0)),
    "choose": ("_pick({0}, {1}, {2})", ATOM, (0, 0, 0)),  # float arrays alone reach a loop
    "heaviside": ("_heaviside({0}, {1})", ATOM, (0, 0)),
    "ones_like": ("1.0", ATOM, (0,)),
    "zeros_like": ("0.0", ATOM, (0,)),
    "full_like": ("{1}", 0, (0, 0)),  # its fill value (numba's np.full_like wants arrays)
    "sum": ("{0}", 0, (0,)),  # one element's part, which its line adds up (``s += ...``)
    "matmul": ("{0} * {1}", MUL, (MUL, UNARY)),
    "clip": ("_minimum(_maximum({0}, {1}), {2})", ATOM, (0, 0, 0)),  # NumPy's NaN, ties
    "logical_not": ("not {0}", 0, (COMPARE,)),
    "mod_slope": ("_pick((np.fmod({0}, {1}) != 0.0) & ((np.fmod({0}, {1}) < 0.0) != ({1} < 0.0)),"
                  " 1.0, 0.0) - np.trunc({0} / {1})", ADD, (UNARY, UNARY)),
    # NumPy's functions with a helper of graphc's (ops/elementwise.py); numba has no
    # digamma, polygamma or gelu: scalar helpers of their own (scalar_special.py)
    "digamma": ("_digamma1({0})", ATOM, (0,)),
    "polygamma": ("_polygamma1({0}, {1})", ATOM, (0, 0)),
    "gelu": ("_gelu1({0}, {approximate})", ATOM, (0,)),
    "silu": ("{0} / (1.0 + np.exp(-{0}))", MUL, (UNARY,)),
    "sign": ("np.sign({0}) + 0.0", ADD, (0,)),  # numba's sign(-0.0) is -0.0, NumPy's 0.0
    "fmax": ("_fmax({0}, {1})", ATOM, (0, 0)),
    "fmin": ("_fmin({0}, {1})", ATOM, (0, 0)),
    "cbrt": ("math.copysign(np.cbrt(abs({0})), {0})", ATOM, (0,)),  # numba's cbrt(-0.0) is 0.0
    "erf": ("math.erf({0})", ATOM, (0,)),
    "erfc": ("math.erfc({0})", ATOM, (0,)),
    "gammaln": ("_pick({0} == -math.inf, {0}, math.lgamma({0}))", ATOM, (COMPARE,)),  # scipy's
}
"""Ops whose NumPy template does not suit one float, spelled for one; numba compiles
the rest's templates for floats as they are. A choice is a call of a helper below,
never a branch in the loop: numba's parallel compiler is superlinear in a loop's
branches (200 ``a if c else b`` took 44 s to compile, as calls 2 s)."""


def _pick(c, a, b):
    """``a if c else b``, for one float."""
    return a if c else b


def _maximum(a, b):
    """NumPy's maximum of two floats: NaN from either operand, the second one on a tie
    (maximum(-0.0, 0.0) is 0.0); numba's scalar np.maximum returns the first."""
    return a if a > b or a != a else b


def _minimum(a, b):
    """NumPy's minimum of two floats, as ``_maximum``."""
    return a if a < b or a != a else b


def _heaviside(x, h):
    """NumPy's heaviside of one float (numba has none): NaN stays NaN."""
    return 0.0 if x < 0 else h if x == 0 else 1.0 if x > 0 else x


def _fmax(a, b):
    """NumPy's fmax of two floats: NaN ignored, the second one on a tie (as maximum)."""
    return a if a > b or b != b else b


def _fmin(a, b):
    """NumPy's fmin of two floats, as ``_fmax``."""
    return a if a < b or b != b else b


# called by the loops: shipped njit-compiled
JITTED = (_pick, _maximum, _minimum, _heaviside, _fmax, _fmin, *scalar_special.JITTED)


def scalar_form(g: Graph) -> Callable[[str], printer.Form]:
    """How ``printer.lines`` spells each node of ``g`` for one float."""
    def form(node: str) -> printer.Form:
        name = g.attrs(node)["op"]
        if name in SCALAR:
            code, prec, slots = SCALAR[name]
            return vector_math.spelled(code), prec, slots
        op = g.op(node)
        if Trait.IDENTITY in op.traits:
            return "{0}", ATOM, (ATOM,)
        if name == "pow":
            exponent = g.attrs(g.args(node)[1])["params"].get("value") \
                if g.is_const(g.args(node)[1]) else None
            if exponent == 0.5:
                return "np.sqrt({0})", ATOM, (0,)  # NumPy's x ** 0.5: sqrt(-0.0) is -0.0
            if exponent is None or not float(exponent).is_integer():  # x ** 2.0: x * x
                return vector_math.spelled("np.pow({0}, {1})"), ATOM, (0, 0)
        return vector_math.spelled(op.code), op.prec, op.slot_prec
    return form


def float_literal(value: float, integral: bool = False) -> tuple[str, int]:
    """A constant as a float, exponents too: numba raises for ``0.0 ** -1``, not ``-1.0``."""
    return printer.numpy_literal(value)


def loop_name(fname: str) -> str:
    """The loop emitted beside the function ``fname``."""
    return f"_{fname}_loop"


def fusable(split: blocks.Split) -> bool:
    """Whether every node a block computes (a lambda's: its body's) has a spelling for
    one float here, and its outputs are floats of the inputs' length."""
    h, outside = split.graph, set(split.before) | set(split.after)
    if any(h.op(o).dtype == "bool" for o in split.outputs):
        return False  # a comparison: NumPy's result is bool, the loop's arrays float
    if any(shrinks(h)[o] for o in split.outputs):
        return False  # an array output shorter than the inputs
    return all(_spelled(h.op(n)) for n in h.order() if n not in outside)


def _spelled(op: Op) -> bool:
    if op.body is not None:
        return all(_spelled(op.body.op(m)) for m in op.body.order())
    # a pointwise op (inputs and constants are) whose NumPy template numba compiles as it is
    return op.name in SCALAR or op.pointwise and not op.code.startswith("_") \
        or bool(op.traits & (Trait.IDENTITY | Trait.SHIFTS))


def shrinks(g: Graph) -> dict[str, int]:
    """How many elements fewer than the inputs each array node of a loop's graph has."""
    fewer: dict[str, int] = {}
    for n in g.order():
        d = g.attrs(n)
        if d["shape"] == ():
            continue
        arrays = [a for a in d["args"] if g.attrs(a)["shape"] != ()]
        if d["op"] == "slice":
            fewer[n] = fewer[arrays[0]] + (d["params"]["start"] or 0) \
                - (d["params"]["stop"] or 0)
        elif d["op"] in ("unslice", "add_slice"):
            fewer[n] = fewer[d["args"][1 if d["op"] == "unslice" else 0]]
        else:
            fewer[n] = max((fewer[a] for a in arrays), default=0)
    return fewer


def inlined(g: Graph) -> Graph:
    """``g`` with each call of a lambda replaced by its body (named as the call): numba
    cannot call the module's NumPy function of the lambda."""
    if all(g.op(n).body is None for n in g.order()):
        return g

    def add(h: Graph, n: str, d: dict) -> None:
        if g.op(n).body is None:
            h.add_like(n, d, d["args"])
        else:
            _call(h, g.op(n).body, d["args"], n, d["temp"])
    return g.rebuilt(add)


def _call(h: Graph, body: Graph, args: tuple[str, ...], name: str | None, temp: bool) -> str:
    """``body``'s nodes added to ``h`` on ``args``; returns its result (named ``name``)."""
    at = dict(zip(body.inputs, args))
    (result,) = body.outputs
    for m in body.order():
        d = body.attrs(m)
        mine = name if m == result else None
        if d["op"] == "const":
            at[m] = h.const(d["params"]["value"])
        elif body.op(m).body is not None:
            at[m] = _call(h, body.op(m).body, tuple(at[a] for a in d["args"]), mine, temp)
        elif d["op"] != "input":
            at[m] = h.add(d["op"], [at[a] for a in d["args"]], d["params"], name=mine,
                          temp=temp if mine else True)
    return at[result]


def _fusable(arrays, scalars):
    """Whether the loop takes these: same-shaped C-contiguous arrays of one dtype,
    float64 or float32, big enough to pay for the threads (``_splits``), and real
    numbers for the scalars, which leave float32 as it is (NumPy's promotion: the
    NumPy lines' results would be float64 otherwise)."""
    dtype = arrays[0].dtype
    return _splits(*arrays) and dtype.char in "fd" and all(
        x.dtype == dtype for x in arrays) and all(
        np.ndim(s) == 0 and np.isrealobj(s) for s in scalars) and (
        dtype.char == "d" or np.result_type(arrays[0], *scalars) == dtype)


def _fused(loop, arrays, scalars, outputs, sums):
    """``loop`` over the flattened arrays, with the scalars. Returns its
    ``outputs`` arrays, of the arrays' dtype (rows of one array, ``_outputs``), then its
    ``sums``: the chunks' parts (``parts``, one column per chunk of ``_CHUNK``
    elements, float64) added pairwise by NumPy, in the arrays' dtype. The scalars (and
    the loop's constants) are of the arrays' dtype, as NumPy promotes them: float32
    arrays compute in float32."""
    flat = [x.reshape(-1) for x in arrays]
    parts = [np.empty((sums, -(-flat[0].size // _CHUNK)))] if sums else []
    with _ONE_LOOP:  # numba's fallback threads (workqueue) abort on concurrent loops
        outs = list(_outputs(loop, outputs, flat[0].size, flat[0].dtype))
        loop(*flat, *(flat[0].dtype.type(s) for s in scalars), *outs, *parts)
    return tuple(o.reshape(arrays[0].shape) for o in outs) + \
        (tuple(parts[0].sum(axis=1).astype(flat[0].dtype)) if sums else ())


def _outputs(loop, rows, n, dtype):
    """One array for the outputs of a call of ``loop``: one of the last two calls', if
    nothing holds any of its outputs any more (only ``_LAST`` refers to it), else a
    new one, kept for later calls. Two, so that ``value, grads = f(x)`` in a loop, which
    holds the last call's outputs while it makes the next, still reuses memory. Memory
    the loop wrote before is still mapped; a fresh array of many megabytes is not (the
    C library hands big freed blocks back to the system), and the kernel's zeroing of
    its pages at first touch cost P1's gradient 3x its time."""
    kept = _LAST.setdefault(loop, [])
    for block in kept:
        if block.shape == (rows, n) and block.dtype == dtype and sys.getrefcount(block) == 3:
            return block  # the references: the list's, ``block``, getrefcount's argument
    kept.insert(0, np.empty((rows, n), dtype))
    del kept[2:]
    return kept[0]


_splits = blocks._splits
HELPERS = (_fusable, _fused, _outputs, _splits)
SHIPPED = (f"_SMALLEST = {blocks._SMALLEST}\n_CHUNK = {_CHUNK}\n_ONE_LOOP = threading.Lock()\n"
           "_LAST = {}  # each loop's last outputs' arrays (_outputs)\n")
"""The module-level names the helpers read (``sys`` and ``threading`` imported)."""
NAMES = frozenset(f.__name__ for f in HELPERS + JITTED) | {"numba", "_SMALLEST", "_CHUNK",
                                                     "_ONE_LOOP", "_LAST", "sys", "math"} \
    | {loop_name(f) for f in ("forward", "value_and_grad")}
"""What the shipped helpers and loops define or read: no parameter may shadow them."""
