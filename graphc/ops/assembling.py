"""NumPy's remaining ways to assemble and rearrange arrays: hstack, vstack, dstack,
column_stack and append (a concatenate of operands first given enough axes: ``_grown``),
atleast_1d and atleast_2d (reshapes), rollaxis and rot90 (a moveaxis, flips), diagonal
and diagflat, and take (a gather whose adjoint is a scatter-add, as ``x[idx]``'s).

Each is linear: its vjp moves the adjoint back, its jvp moves the tangent the same way
with the axes counted from the end (forward mode's leading direction axis). The joins'
derivatives are two helpers, each the other's transpose: ``_join_part`` (one operand's
part of a joined array) and ``_join_lead`` (arrays joined behind leading axes).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import ShapeError
from . import shapes
from .arrays import _diag_shape, _repeated
from .expr import R, Tangents, jvp, vjp
from .indexing import ARRAY, FULL, _checked_operand
from .joining import _joined, _listed_tangents
from .shaping import _declared, _each, _moved
from .table import Op, Trait, _register
from .tensor import _axes, _spell


# ---- NumPy implementations, shipped inside emitted modules --------------------------
def _grown(shape: tuple, grow: str) -> tuple:
    """An operand's shape as np.hstack & co. join it: np.atleast_1d's ("1d"), 2d, 3d, a
    column ("col", np.column_stack's), flattened ("flat", np.append's) or as it is."""
    if grow == "flat":
        return (int(np.prod(shape)),)
    if grow == "col":
        return tuple(shape) if len(shape) >= 2 else (shape[0] if shape else 1, 1)
    want = {"1d": 1, "2d": 2, "3d": 3}.get(grow, 0)
    if len(shape) >= want:
        return tuple(shape)
    if not shape:
        return (1,) * want
    return (1, shape[0]) + (1,) * (want - 2) if len(shape) == 1 else tuple(shape) + (1,)


def _own(x: np.ndarray, n: int) -> tuple:
    """The last n axes of x's shape: an operand's own, behind forward mode's directions."""
    return np.shape(x)[np.ndim(x) - n:]


def _join_part(g: np.ndarray, *xs: np.ndarray, index: int, grow: str, axis: int,
               ndims: tuple) -> np.ndarray:
    """Operand ``index``'s part of g, the adjoint of joining xs (each grown by ``grow``,
    joined along ``axis``, counted from the end), in the operand's shape; the last
    ndims[i] axes of xs[i] are its own, the axes of g in front of the join's are kept."""
    own = [_own(x, n) for x, n in zip(xs, ndims)]
    sizes = [_grown(s, grow)[axis] for s in own]
    start = sum(sizes[:index])
    part = [slice(None)] * np.ndim(g)
    part[axis] = slice(start, start + sizes[index])
    p = g[tuple(part)]
    return np.reshape(p, np.shape(p)[:np.ndim(p) - len(_grown(own[index], grow))] + own[index])


def _join_lead(*ts: np.ndarray, grow: str, axis: int, ndims: tuple) -> np.ndarray:
    """ts joined as np.hstack & co. join their operands: t's last ndims[i] axes grown by
    ``grow``, the axes in front of them (forward mode's directions) kept."""
    grown = [np.reshape(t, np.shape(t)[:np.ndim(t) - n] + _grown(_own(t, n), grow))
             for t, n in zip(ts, ndims)]
    return np.concatenate(grown, axis=axis)


def _of_declared(rule: Any, name: str) -> Any:
    """``rule(*operand shapes, **params)`` as a shape rule, the operands' shapes declared."""
    return lambda g, args, params: rule(*(_declared(g, a, name) for a in args), **params)


# ---- hstack, vstack, dstack, column_stack, append: joins of grown operands ----------
_JOINS = {"hstack": "1d", "vstack": "2d", "dstack": "3d", "column_stack": "col"}
_JOIN_AXIS = {"1d": lambda n: 0 if n == 1 else 1, "2d": lambda n: 0, "3d": lambda n: 2,
              "col": lambda n: 1, "flat": lambda n: 0}


def _static_grown(x: shapes.Shape, grow: str) -> shapes.Shape:
    return _repeated(x, 1, None) if grow == "flat" else _grown(x, grow)


def _join_of(out: R) -> dict:
    """The helpers' parameters for a join node: how it grows, its axis from the end."""
    name = out.g.op(out.node).name
    if name == "append":
        axis = out.params["axis"]
        grow, ndim = ("flat", 1) if axis is None else ("", out.ndim)
        a = 0 if axis is None else _axes(axis, ndim)[0]
    else:
        grow = _JOINS[name]
        ndim = len(_grown(out.args[0].shape, grow))
        a = _JOIN_AXIS[grow](ndim)
    return {"grow": grow, "axis": a - ndim, "ndims": tuple(x.ndim for x in out.args)}


def _join_shape(name: str, xs: list[shapes.Shape], grow: str, axis: Any) -> shapes.Shape:
    grown = [_static_grown(x, grow) for x in xs]
    if len({len(x) for x in grown}) > 1:
        raise ShapeError(f"{name} needs operands of one rank (after {name}'s own "
                         "reshaping), got " + ", ".join(map(shapes.format_shape, xs)))
    n = len(grown[0])
    a = _JOIN_AXIS[grow](n) if grow else _axes(axis, n)[0]
    return _joined(grown, a)


def _stacking_shape(g: Any, args: tuple[str, ...], params: dict, name: str) -> shapes.Shape:
    return _join_shape(name, [_declared(g, a, name) for a in args], _JOINS[name], None)


def _append_shape(g: Any, args: tuple[str, ...], params: dict) -> shapes.Shape:
    xs = [_declared(g, a, "append") for a in args]
    if params["axis"] is not None and not xs[0]:
        raise ShapeError("append to a scalar along an axis: a scalar has no axes")
    return _join_shape("append", xs, "flat" if params["axis"] is None else "",
                       params["axis"])


@vjp
def _join_vjp(out: R, grad: R) -> tuple[R | None, ...]:
    return tuple(grad.call("join_part", *out.args, index=k, **_join_of(out))
                 for k in range(len(out.args)))


def _join_tangents(out: R, dots: Tangents, params: dict) -> R:
    first, *rest = _listed_tangents(out, dots)
    return first.call("join_lead", *rest, **params)


@jvp
def _join_jvp(out: R, dots: Tangents) -> R | None:
    return _join_tangents(out, dots, _join_of(out))


def _joining(name: str) -> Any:
    """np.hstack & co. as the interpreter calls them: the operands one by one."""
    join = getattr(np, name)
    return lambda *xs: join(xs)


for _name in _JOINS:
    _register(Op(_name, 1, f"np.{_name}([{{*}}])", _joining(_name),
                 varargs="list", shape=lambda g, args, params, _n=_name: _stacking_shape(
                     g, args, params, _n),
                 dtype="follows", vjp=_join_vjp, jvp=_join_jvp,
                 rules=("{out}_bar's part {k}",), traits=Trait.FRESH))
_register(Op("append", 2, "np.append({0}, {1})", np.append, slot_prec=(0, 0),
             params={"axis": None}, positional=("axis",),
             spell=lambda p: "np.append({0}, {1}" + (
                 ")" if p["axis"] is None else ", axis={axis})"), shape=_append_shape,
             dtype="follows", vjp=_join_vjp, jvp=_join_jvp,
             rules=("{out}_bar's part 0", "{out}_bar's part 1"), traits=Trait.FRESH))


def _part_shape(g: Any, args: tuple[str, ...], params: dict) -> shapes.Shape:
    gs, k, ndims = g.shape(args[0]), params["index"], params["ndims"]
    own = [g.shape(x)[len(g.shape(x)) - n:] for x, n in zip(args[1:], ndims)]
    return gs[:len(gs) - len(_static_grown(own[0], params["grow"]))] + own[k]


def _lead_shape(g: Any, args: tuple[str, ...], params: dict) -> shapes.Shape:
    ts, ndims, grow = [g.shape(t) for t in args], params["ndims"], params["grow"]
    grown = [_static_grown(t[len(t) - n:], grow) for t, n in zip(ts, ndims)]
    lead = ts[0][:len(ts[0]) - ndims[0]]
    return lead + _joined(grown, params["axis"] % len(grown[0]))


@vjp
def _join_part_vjp(out: R, grad: R) -> tuple[R | None, ...]:
    """Taking a part is linear; its transpose joins it among zeros."""
    k, xs, ndims = out.params["index"], out.args[1:], out.params["ndims"]
    parts = [grad if j == k else grad.call("zeros_lead", x, ndim=ndims[k] + x.ndim - ndims[j])
             for j, x in enumerate(xs)]
    joined = parts[0].call("join_lead", *parts[1:], **{
        p: out.params[p] for p in ("grow", "axis", "ndims")})
    return (joined,) + (None,) * len(xs)


_JOIN_PARAMS = {"grow": "", "axis": 0, "ndims": ()}
_register(Op("join_part", 2, "_join_part({*}, index={index}, grow={grow!r}, axis={axis}, "
             "ndims={ndims})", _join_part, varargs="list",
             params={"index": 0, **_JOIN_PARAMS}, grad_slots=(0,), helpers=(_grown, _own,
                                                                             _join_part),
             dtype="follows", traits=Trait.INTERNAL, shape=_part_shape, vjp=_join_part_vjp,
             jvp=jvp(lambda out, dots: dots[0] and dots[0].call(
                 "join_part", *out.args[1:], **out.params)),
             rules=("{out}_bar as part index of the join, zeros elsewhere",)))
_register(Op("join_lead", 1, "_join_lead({*}, grow={grow!r}, axis={axis}, ndims={ndims})",
             _join_lead, varargs="list", params=dict(_JOIN_PARAMS),
             helpers=(_grown, _own, _join_lead), dtype="follows", shape=_lead_shape,
             traits=Trait.INTERNAL | Trait.FRESH,
             vjp=vjp(lambda out, grad: tuple(
                 grad.call("join_part", *out.args, index=k, **out.params)
                 for k in range(len(out.args)))),
             jvp=jvp(lambda out, dots: _join_tangents(out, dots, out.params)),
             rules=("{out}_bar's part {k}",)))


# ---- atleast_1d, atleast_2d: size-1 axes put in front (reshapes) --------------------
for _name, _grow in (("atleast_1d", "1d"), ("atleast_2d", "2d")):
    _register(Op(_name, 1, f"np.{_name}({{0}})", getattr(np, _name), slot_prec=(0,),
                 shape=_of_declared(lambda x, _g=_grow: _grown(x, _g), _name), dtype="follows",
                 vjp=vjp(lambda out, grad: (grad.call("reshape_like", out, out.args[0]),)),
                 jvp=jvp(lambda out, dots: dots[0].call("reshape_like", out.args[0], out)),
                 rules=("reshape({out}_bar, shape of {0})",)))


# ---- rollaxis and rot90 ----------------------------------------------------------------
def _rolled(n: int, axis: Any, start: Any) -> tuple[int, int]:
    """np.rollaxis(x, axis, start) as moveaxis's (source, destination)."""
    if axis is None:
        raise ShapeError("axis is required, as in NumPy's rollaxis(x, 2)")
    (a,) = _each(axis, n)
    if type(start) is not int or not -n <= start <= n:
        raise ShapeError(f"start {start!r} must be an integer with {-n} <= start <= {n}")
    start += n if start < 0 else 0
    return a, start - 1 if a < start else start


_ROLL = {"axis": None, "start": 0}
_register(Op("rollaxis", 1, "np.rollaxis({0}, {axis}, {start})", np.rollaxis, slot_prec=(0,),
             params=_ROLL, positional=tuple(_ROLL), dtype="follows",
             shape=_of_declared(lambda x, axis, start: _moved(x, *_rolled(len(x), axis, start)),
                                "rollaxis"),
             vjp=vjp(lambda out, grad: (grad.call("moveaxis", **dict(zip(
                 ("destination", "source"), _rolled(out.ndim, **out.params)))),)),
             jvp=jvp(lambda out, dots: dots[0].call("moveaxis", **dict(zip(
                 ("source", "destination"),
                 (a - out.ndim for a in _rolled(out.ndim, **out.params)))))),
             rules=("moveaxis({out}_bar, start, axis)",)))


def _rot_axes(n: int, k: Any, axes: Any) -> tuple[int, int]:
    if type(k) is not int:
        raise ShapeError(f"k must be an integer, got {k!r}")
    if not isinstance(axes, tuple) or len(axes) != 2:
        raise ShapeError(f"axes must be two axes, got {axes!r}")
    a, b = (_each(x, n)[0] for x in axes)
    if a == b:
        raise ShapeError(f"axes {axes} name one axis twice")
    return a, b


def _rotated(x: shapes.Shape, k: Any, axes: Any) -> shapes.Shape:
    a, b = _rot_axes(len(x), k, axes)
    out = list(x)
    if k % 2:
        out[a], out[b] = x[b], x[a]
    return tuple(out)


def _unrotated(out: R, grad: R) -> R:
    """rot90(grad, -k, axes) as NumPy computes it, in flips and a swap: an adjoint
    whose shape is known only at call time (out + y, y undeclared) can take those."""
    a, b = _rot_axes(out.ndim, **out.params)
    k = -out.params["k"] % 4
    if k == 2:
        return grad.call("flip", axis=a).call("flip", axis=b)
    if k == 1:
        return grad.call("flip", axis=b).call("swapaxes", axis1=a, axis2=b)
    return grad.call("swapaxes", axis1=a, axis2=b).call("flip", axis=b) if k else grad


_ROT = {"k": 1, "axes": (0, 1)}
_register(Op("rot90", 1, "np.rot90({0})", np.rot90, slot_prec=(0,), params=_ROT,
             positional=tuple(_ROT), spell=_spell("np.rot90", _ROT), dtype="follows",
             shape=_of_declared(_rotated, "rot90"),
             vjp=vjp(lambda out, grad: (_unrotated(out, grad),)),
             jvp=jvp(lambda out, dots: dots[0].call("rot90", k=out.params["k"], axes=tuple(
                 a - out.ndim for a in _rot_axes(out.ndim, **out.params)))),
             rules=("rot90({out}_bar, -k)",)))


# ---- diagonal and diagflat ---------------------------------------------------------------
def _diagonal_shape(x: shapes.Shape, offset: Any, axis1: Any, axis2: Any) -> shapes.Shape:
    if len(x) < 2:
        raise ShapeError("diagonal needs at least two dimensions")
    if type(offset) is not int:
        raise ShapeError(f"offset must be an integer, got {offset!r}")
    (a,), (b,) = _each(axis1, len(x)), _each(axis2, len(x))
    if a == b:
        raise ShapeError(f"axis1 and axis2 name one axis ({a})")
    rest = tuple(d for i, d in enumerate(x) if i not in (a, b))
    return rest + _diag_shape((x[a], x[b]), offset)


def _diagonal_params(out: R, ndim: int) -> dict:
    p = out.params
    return {"offset": p["offset"], "axis1": _each(p["axis1"], ndim)[0] - ndim,
            "axis2": _each(p["axis2"], ndim)[0] - ndim}


@vjp
def _diagonal_vjp(out: R, grad: R) -> tuple[R | None, ...]:
    """out_bar placed on the diagonal of zeros (arrays' diag_place, of the last two axes),
    those two axes moved back to axis1 and axis2."""
    x = out.args[0]
    p = _diagonal_params(out, x.ndim)
    axes = (p["axis1"], p["axis2"])
    if axes == (-2, -1):
        return (grad.call("diag_place", x, k=p["offset"]),)
    moved = x.call("moveaxis", source=axes, destination=(-2, -1))
    return (grad.call("diag_place", moved, k=p["offset"]).call(
        "moveaxis", source=(-2, -1), destination=axes),)


_DIAG = {"offset": 0, "axis1": 0, "axis2": 1}
_register(Op("diagonal", 1, "np.diagonal({0})", np.diagonal, slot_prec=(0,), params=_DIAG,
             positional=tuple(_DIAG), spell=_spell("np.diagonal", _DIAG), dtype="follows",
             shape=_of_declared(_diagonal_shape, "diagonal"), vjp=_diagonal_vjp,
             jvp=jvp(lambda out, dots: dots[0].call("diagonal", **_diagonal_params(
                 out, out.args[0].ndim))),
             rules=("{out}_bar on the diagonal of zeros",)))  # a read-only view


def _diagflat_shape(v: shapes.Shape, k: Any) -> shapes.Shape:
    return _diag_shape(_repeated(v, 1, None), k)


@vjp
def _diagflat_vjp(out: R, grad: R) -> tuple[R | None, ...]:
    d = grad.call("diag_part", k=out.params["k"])
    return (d.call("reshape_like", d, out.args[0]),)


@jvp
def _diagflat_jvp(out: R, dots: Tangents) -> R | None:
    v = out.args[0]
    return dots[0].call("reshape_like", v, v.call("flat")).call("diag_place", out, **out.params)


_register(Op("diagflat", 1, "np.diagflat({0})", np.diagflat, slot_prec=(0,), params={"k": 0},
             positional=("k",), spell=_spell("np.diagflat", {"k": 0}), dtype="follows",
             shape=_of_declared(_diagflat_shape, "diagflat"), traits=Trait.FRESH,
             vjp=_diagflat_vjp, jvp=_diagflat_jvp,
             rules=("the k-th diagonal of {out}_bar, in the shape of {0}",)))


# ---- take: a gather along one axis (or of the flattened array) ------------------------------
def _take_shape(g: Any, args: tuple[str, ...], params: dict) -> shapes.Shape:
    x = _checked_operand(g, args[0], args[1:])
    idx, axis = g.shape(args[1]), params["axis"]
    if axis is None:
        return idx
    (a,) = _axes(axis, len(x))
    return x[:a] + idx + x[a + 1:]


@vjp
def _take_vjp(out: R, grad: R) -> tuple[R | None, ...]:
    x, idx = out.args
    if out.params["axis"] is None:
        flat = x.call("flat")
        return grad.call("unindex", flat, idx, key=(ARRAY,)).call("reshape_like", flat, x), None
    (a,) = _axes(out.params["axis"], x.ndim)
    return grad.call("unindex", x, idx, key=(FULL,) * a + (ARRAY,)), None


@jvp
def _take_jvp(out: R, dots: Tangents) -> R | None:
    x, idx = out.args
    if out.params["axis"] is None:
        return dots[0].call("reshape_like", x, x.call("flat")).call("take", idx, axis=-1)
    return dots[0].call("take", idx, axis=_axes(out.params["axis"], x.ndim)[0] - x.ndim)


_register(Op("take", 2, "np.take({0}, {1})", np.take, slot_prec=(0, 0), params={"axis": None},
             positional=("axis",), spell=lambda p: "np.take({0}, {1}" + (
                 ")" if p["axis"] is None else ", axis={axis})"),
             grad_slots=(0,), dtype="first", shape=_take_shape, vjp=_take_vjp, jvp=_take_jvp,
             rules=("{out}_bar put back where taken",), traits=Trait.FRESH))
