"""Shape ops: reshape, squeeze, expand_dims, transpose, swapaxes, moveaxis, broadcast_to
(concatenate and stack, which take a list of operands, are ``joining``).

Each moves or repeats elements without arithmetic, so each is linear: its vjp moves the
adjoint back, its jvp moves the tangent the same way with the axes counted from the end
(forward mode's tangents carry a leading axis of directions). Names, signatures and
edge cases are NumPy's (the shape parameter is given by position: ``reshape(x, (N, -1))``).
A dimension's name in a target shape is read off the operand at call time: the shape
rule notes where (``params["at"]``), which the spelling and the interpreter read.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

import numpy as np

from ..errors import ShapeError
from . import shapes
from .expr import R, Tangents, jvp, vjp
from .table import ATOM, Op, Trait, _register
from .tensor import _axes, _itself, _params_shape, _spell, _summed_to


# ---- NumPy implementations, shipped inside emitted modules --------------------------
def _reshape_like(t, src, like):
    """t, whose last axes have src's shape, reshaped to like's; leading axes (forward
    mode's directions) kept."""
    return np.reshape(t, np.shape(t)[:np.ndim(t) - np.ndim(src)] + np.shape(like))


def _dims_of(x, shape, at):
    """``shape`` with each dimension name read off x: ``at`` holds its axis in x."""
    return tuple(np.shape(x)[a] if a is not None else d for d, a in zip(shape, at))


# ---- shape parameters ---------------------------------------------------------------

def _target(shape: Any) -> tuple[Any, ...]:
    """A shape parameter as a tuple of ints and dimension names (an int alone is one)."""
    if isinstance(shape, (int, str)) and not isinstance(shape, bool):
        shape = (shape,)
    if not isinstance(shape, tuple) or not all(
            type(d) is int or shapes.is_named(d) for d in shape):
        raise ShapeError(f"a shape is a tuple of integers and dimension names, got {shape!r}")
    return shape


def _read_off(x: shapes.Shape, target: tuple[Any, ...]) -> tuple[int | None, ...]:
    """Each dimension name's axis in x (from the end), where the emitted code reads its
    size; None for numbers. A name x does not have is known nowhere at call time."""
    at = []
    for d in target:
        if isinstance(d, str) and d not in x:
            raise ShapeError(f"dimension {d} is not one of the operand's "
                             f"{shapes.format_shape(x)}, so its size is not known here")
        at.append(x.index(d) - len(x) if isinstance(d, str) else None)
    return tuple(at)


def _spelled_target(params: dict) -> str:
    """The target shape as NumPy source: a dimension name is the operand's axis."""
    dims = [str(d) if a is None else "{0}.shape[%d]" % a
            for d, a in zip(_target(params["shape"]), params["at"])]
    return "(" + ", ".join(dims) + ("," if len(dims) == 1 else "") + ")"


def _size(dims: Any) -> tuple[int, Counter]:
    """The number of elements of ``dims``: a product of numbers, a multiset of names."""
    n, names = 1, Counter[str]()
    for d in dims:
        if isinstance(d, str):
            names[d] += 1
        else:
            n *= d
    return n, names


def _declared(g: Any, x: str, what: str) -> shapes.Shape:
    if g.elastic(x):
        raise ShapeError(f"{what} needs its operand's shape: declare the inputs it is "
                         "computed from (e.g. x: [N, 3])")
    return g.shape(x)


# ---- reshape ------------------------------------------------------------------------
def _reshape_shape(g: Any, args: tuple[str, ...], params: dict) -> shapes.Shape:
    """NumPy's rule, on names too: the target's names are the operand's (N of [N, 4]),
    -1 takes what is left (a name, a number, or a product of them)."""
    x = _declared(g, args[0], "reshape")
    if params["shape"] is None:
        raise ShapeError("shape is required, as in NumPy's reshape(x, (2, -1))")
    target = _target(params["shape"])
    if target.count(-1) > 1 or any(type(d) is int and d < -1 for d in target):
        raise ShapeError(f"shape {target}: dimensions are >= 0, and one at most is -1")
    params["at"] = _read_off(x, target)  # the emitted code's sizes of the names
    have, have_names = _size(x)
    want, want_names = _size(d for d in target if d != -1)
    left = sorted((have_names - want_names).elements())
    if not want_names - have_names and -1 in target and want:
        if not left and have % want == 0:
            return tuple(have // want if d == -1 else d for d in target)
        if left:  # a size of names: whether it divides is known at call time
            k = math.gcd(have, want)
            free = "*".join([str(have // k)] * (have != k) + left) + f"/{want // k}" * (want != k)
            return tuple(free if d == -1 else d for d in target)
    if -1 not in target and not left and not want_names - have_names and have == want:
        return target
    raise ShapeError(f"cannot reshape {shapes.format_shape(x)} into "
                     f"{shapes.format_shape(target)}")


_register(Op("reshape", 1, "np.reshape({0})", lambda x, shape, at: np.reshape(
                 x, _dims_of(x, _target(shape), at)),
             slot_prec=(0,), params={"shape": None}, positional=("shape",),
             spell=lambda params: "np.reshape({0}, %s)" % _spelled_target(params),
             shape=_reshape_shape, dtype="first",
             vjp=vjp(lambda out, grad: (grad.call("reshape_like", out, out.args[0]),)),
             jvp=jvp(lambda out, dots: dots[0].call("reshape_like", out.args[0], out)),
             rules=("reshape({out}_bar, shape of {0})",)))
_register(Op("reshape_like", 3, "_reshape_like({0}, {1}, {2})", _reshape_like,
             slot_prec=(0, 0, 0), grad_slots=(0,), helpers=(_reshape_like,), dtype="follows",
             shape=_params_shape(lambda t, src, like: t[:len(t) - len(src)] + like),
             vjp=vjp(lambda out, grad: (grad.call("reshape_like", out.args[2], out.args[1]),
                                        None, None)),
             jvp=jvp(lambda out, dots: dots[0] and dots[0].call("reshape_like",
                                                                *out.args[1:])),
             traits=Trait.INTERNAL,
             rules=("reshape({out}_bar, shape of {0})",)))


# ---- squeeze and expand_dims: size-1 axes taken out and put in -----------------------
def _squeezed(x: shapes.Shape, axis: Any) -> shapes.Shape:
    if axis is None:
        return tuple(d for d in x if d != 1)
    axes = _axes(axis, len(x))
    for a in axes:
        if x[a] != 1:
            raise ShapeError(f"cannot squeeze axis {a}, of size {x[a]}: only axes of size 1")
    return tuple(d for i, d in enumerate(x) if i not in axes)


_register(Op("squeeze", 1, "np.squeeze({0})", np.squeeze, slot_prec=(0,),
             params={"axis": None}, positional=("axis",), spell=_spell("np.squeeze",
                                                                       {"axis": None}),
             shape=_params_shape(_squeezed), dtype="first",
             vjp=vjp(lambda out, grad: (grad.call("reshape_like", out, out.args[0]),)),
             jvp=jvp(lambda out, dots: dots[0].call("reshape_like", out.args[0], out)),
             rules=("reshape({out}_bar, shape of {0})",)))


def _expanded(g: Any, args: tuple[str, ...], params: dict) -> shapes.Shape:
    """NumPy's rule: the axes are the result's (of an undeclared input's value too: the
    axes its static shape has, those a reduction's adjoint puts back, ``tensor._expand``)."""
    x, axis = g.shape(args[0]), params["axis"]
    if axis is None:
        raise ShapeError("axis is required, as in NumPy's expand_dims(x, 0)")
    ndim = len(x) + (len(axis) if isinstance(axis, tuple) else 1)
    axes = _axes(axis, ndim)
    out = list(x)
    for a in axes:
        out.insert(a, 1)
    return tuple(out)


_register(Op("expand_dims", 1, "np.expand_dims({0}, {axis})",
             lambda x, axis: np.expand_dims(x, axis), slot_prec=(0,), params={"axis": None},
             positional=("axis",), shape=_expanded, dtype="first",
             vjp=vjp(lambda out, grad: (grad.sum(axis=out.params["axis"]),)),
             jvp=_itself("expand_dims"), rules=("sum({out}_bar, axis)",)))


# ---- permutations of axes --------------------------------------------------------------
def _each(axis: Any, ndim: int) -> tuple[int, ...]:
    """An int or a tuple of ints as non-negative axes, in their order (repeats refused)."""
    axes = axis if isinstance(axis, tuple) else (axis,)
    _axes(axes, ndim)
    return tuple(_axes(a, ndim)[0] for a in axes)


def _permutation(axes: Any, ndim: int) -> tuple[int, ...]:
    """transpose's axes: a permutation of every axis."""
    if not isinstance(axes, tuple) or len(axes) != ndim:
        raise ShapeError(f"axes {axes!r} must name each of the {ndim} axes once")
    return _each(axes, ndim)


def _transposed(x: shapes.Shape, axes: Any) -> shapes.Shape:
    return x[::-1] if axes is None else tuple(x[a] for a in _permutation(axes, len(x)))


@vjp
def _transpose_vjp(out: R, grad: R) -> tuple[R | None, ...]:
    axes = out.params["axes"]
    if axes is None:
        return (grad.T,)
    return (grad.call("transpose", axes=tuple(np.argsort(_permutation(axes, out.ndim))
                                              .tolist())),)


@jvp
def _transpose_jvp(out: R, dots: Tangents) -> R | None:
    k, axes = out.ndim, out.params["axes"]
    if axes is not None:  # out's axis i is x's axes[i], whatever lies in front
        return dots[0].call("moveaxis", source=tuple(a - k for a in _permutation(axes, k)),
                            destination=tuple(range(-k, 0)))
    if k < 2:
        return dots[0]
    return dots[0].mT if k == 2 else dots[0].call("reverse_last", k=k)


_register(Op("transpose", 1, "{0}.T", np.transpose, ATOM, (ATOM,), symbol=".T",
             params={"axes": None}, positional=("axes",),
             spell=lambda p: "{0}.T" if p["axes"] is None else "np.transpose({0}, {axes})",
             shape=_params_shape(_transposed), vjp=_transpose_vjp, jvp=_transpose_jvp,
             rules=("{out}_bar.T",), dtype="first"))


def _swapped(x: shapes.Shape, axis1: Any, axis2: Any) -> shapes.Shape:
    if axis1 is None or axis2 is None:
        raise ShapeError("axis1 and axis2 are required, as in NumPy's swapaxes(x, 0, 1)")
    (a,), (b,) = _each(axis1, len(x)), _each(axis2, len(x))
    out = list(x)
    out[a], out[b] = x[b], x[a]
    return tuple(out)


_SWAP = {"axis1": None, "axis2": None}
_register(Op("swapaxes", 1, "np.swapaxes({0}, {axis1}, {axis2})", np.swapaxes,
             slot_prec=(0,), params=_SWAP, positional=tuple(_SWAP),
             shape=_params_shape(_swapped), dtype="first",
             vjp=vjp(lambda out, grad: (grad.call("swapaxes", **out.params),)),
             jvp=jvp(lambda out, dots: dots[0].call("swapaxes", **{
                 k: _each(v, out.ndim)[0] - out.ndim for k, v in out.params.items()})),
             rules=("swapaxes({out}_bar)",)))


def _moved(x: shapes.Shape, source: Any, destination: Any) -> shapes.Shape:
    """NumPy's moveaxis: the other axes keep their order."""
    if source is None or destination is None:
        raise ShapeError("source and destination are required, as in NumPy's "
                         "moveaxis(x, 0, -1)")
    src, dst = _each(source, len(x)), _each(destination, len(x))
    if len(src) != len(dst):
        raise ShapeError("source and destination must name as many axes")
    order = [i for i in range(len(x)) if i not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return tuple(x[i] for i in order)


def _from_end(axis: Any, ndim: int) -> Any:
    """axis (an int or a tuple) counted from the end, as the parameter was given."""
    axes = tuple(a - ndim for a in _each(axis, ndim))
    return axes if isinstance(axis, tuple) else axes[0]


_MOVE = {"source": None, "destination": None}
_register(Op("moveaxis", 1, "np.moveaxis({0}, {source}, {destination})", np.moveaxis,
             slot_prec=(0,), params=_MOVE, positional=tuple(_MOVE),
             shape=_params_shape(_moved), dtype="first",
             vjp=vjp(lambda out, grad: (grad.call(
                 "moveaxis", source=out.params["destination"],
                 destination=out.params["source"]),)),
             jvp=jvp(lambda out, dots: dots[0].call("moveaxis", **{
                 k: _from_end(v, out.ndim) for k, v in out.params.items()})),
             rules=("moveaxis({out}_bar, destination, source)",)))


# ---- broadcast_to -----------------------------------------------------------------------
def _broadcast_to_shape(g: Any, args: tuple[str, ...], params: dict) -> shapes.Shape:
    x = _declared(g, args[0], "broadcast_to")
    if params["shape"] is None:
        raise ShapeError("shape is required, as in NumPy's broadcast_to(x, (3, 4))")
    target = _target(params["shape"])
    if any(type(d) is int and d < 0 for d in target):
        raise ShapeError(f"shape {target}: dimensions are >= 0")
    params["at"] = _read_off(x, target)
    try:
        fits = len(target) >= len(x) and shapes.broadcast(x, target) == target
    except ShapeError:
        fits = False
    if not fits:
        raise ShapeError(f"cannot broadcast {shapes.format_shape(x)} to "
                         f"{shapes.format_shape(target)}")
    return target


@jvp
def _broadcast_to_jvp(out: R, dots: Tangents) -> R | None:
    return dots[0].call("lift", ndim=out.ndim).call("spread", out)


_register(Op("broadcast_to", 1, "np.broadcast_to({0})", lambda x, shape, at: np.broadcast_to(
                 x, _dims_of(x, _target(shape), at)),
             slot_prec=(0,), params={"shape": None}, positional=("shape",),
             spell=lambda params: "np.broadcast_to({0}, %s)" % _spelled_target(params),
             shape=_broadcast_to_shape, dtype="first",
             vjp=vjp(lambda out, grad: (_summed_to(grad, out.shape, out.args[0].shape),)),
             jvp=_broadcast_to_jvp, rules=("{out}_bar summed to shape of {0}",)))
