"""Array ops beyond moving axes: triu, tril and trace on the last two axes, and roll,
tile, repeat, pad and diag, each linear with a helper for its adjoint that keeps leading
axes (forward mode's directions), as the shape ops of ``shaping`` do. (The constant
arrays, zeros to arange, are ``constants``.)
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from ..errors import ShapeError
from . import shapes
from .constants import _float_of
from .expr import R, Tangents, jvp, vjp
from .shaping import _declared, _each, _from_end, _size
from .table import Op, Trait, _register
from .tensor import _axes, _params_shape, _spell


# ---- triangles and the trace: the last two axes ------------------------------------------
def _matrices(x: shapes.Shape, k: Any) -> shapes.Shape:
    if len(x) < 2:
        raise ShapeError("needs at least two dimensions (a matrix or a stack of them)")
    if type(k) is not int:
        raise ShapeError(f"k must be an integer, got {k!r}")
    return x


def _triangle(name: str) -> None:
    """triu or tril: linear, its own transpose (x_bar = triu(f_bar, k)), and on the last
    two axes, so a leading axis of directions is harmless."""
    _register(Op(name, 1, f"np.{name}({{0}})", getattr(np, name), slot_prec=(0,),
                 params={"k": 0}, positional=("k",), spell=_spell(f"np.{name}", {"k": 0}),
                 shape=_params_shape(_matrices), dtype="follows", traits=Trait.FRESH,
                 vjp=vjp(lambda out, grad: (grad.call(name, **out.params),)),
                 jvp=jvp(lambda out, dots: dots[0].call(name, **out.params)),
                 rules=(lambda g, node: f"{name}({{out}}_bar, k={g.attrs(node)['params']['k']})",)))


_triangle("triu")
_triangle("tril")


def _traced(x: shapes.Shape, offset: Any) -> shapes.Shape:
    return _matrices(x, offset)[:-2]


def _trace(x, offset=0):
    """The trace of each matrix of x (its last two axes), as np.trace of a matrix."""
    return np.trace(x, offset, -2, -1)


@vjp
def _trace_vjp(out: R, grad: R) -> tuple[R | None, ...]:
    """The adjoint on the diagonal, zeros elsewhere: it times eye(n, m, offset)."""
    eye = out.args[0].call("eye_like", **out.params)
    return ((grad.call("expand_dims", axis=(-2, -1)) if out.ndim else grad) * eye,)


_register(Op("trace", 1, "_trace({0})", _trace, slot_prec=(0,), params={"offset": 0},
             positional=("offset",), spell=_spell("_trace", {"offset": 0}), helpers=(_trace,),
             shape=_params_shape(_traced), dtype="follows", traits=Trait.FRESH,
             vjp=_trace_vjp, jvp=jvp(lambda out, dots: dots[0].call("trace", **out.params)),
             rules=("{out}_bar * eye",)))


def _eye_like(x, offset=0):
    """eye of x's last two dimensions, in x's float dtype: where a trace reads x."""
    n, m = np.shape(x)[-2:]
    return np.eye(n, m, offset, dtype=_float_of(x))


_register(Op("eye_like", 1, "_eye_like({0})", _eye_like, slot_prec=(0,), params={"offset": 0},
             spell=_spell("_eye_like", {"offset": 0}), helpers=(_float_of, _eye_like),
             shape=_params_shape(lambda x, offset: x[-2:]), dtype="follows",
             traits=Trait.INTERNAL | Trait.NO_DERIVATIVE | Trait.FRESH))


# ---- roll, tile, repeat, pad, diag: helpers for the adjoints and tangents --------------
def _lead_flat(t, ndim):
    """t with its last ndim axes made one (leading axes kept)."""
    return np.reshape(t, np.shape(t)[:np.ndim(t) - ndim] + (-1,))


def _roll_last(t, shift, ndim):
    """np.roll(x, shift) of x flattened, for each x in the last ndim axes of t."""
    return np.reshape(np.roll(_lead_flat(t, ndim), shift, axis=-1), np.shape(t))


def _untile(g, like, reps):
    """The adjoint of np.tile(like, reps): g's tiles summed (leading axes kept)."""
    reps = reps if isinstance(reps, tuple) else (reps,)
    ndim = max(len(reps), np.ndim(like))
    reps = (1,) * (ndim - len(reps)) + reps
    dims = (1,) * (ndim - np.ndim(like)) + np.shape(like)
    lead = np.shape(g)[:np.ndim(g) - ndim]
    split = lead + tuple(d for pair in zip(reps, dims) for d in pair)
    axes = tuple(len(lead) + 2 * i for i in range(ndim))
    return np.reshape(np.sum(np.reshape(g, split), axis=axes), lead + np.shape(like))


def _unrepeat(g, like, repeats, axis, flat):
    """The adjoint of np.repeat(like, repeats, axis): each element's copies summed; axis
    counted from the end, or ``flat``: like flattened (leading axes of g kept)."""
    lead = np.shape(g)[:np.ndim(g) - (1 if flat else np.ndim(like))]
    if flat:
        return np.reshape(np.sum(np.reshape(g, lead + (-1, repeats)), axis=-1),
                          lead + np.shape(like))
    shape = np.shape(g)
    a = np.ndim(g) + axis
    return np.sum(np.reshape(g, shape[:a] + (-1, repeats) + shape[a + 1:]), axis=a + 1)


def _unpad(g, widths):
    """The adjoint of a constant pad: the middle of g, widths (before, after) per axis
    counted from the end (leading axes kept)."""
    index = [slice(None)] * (np.ndim(g) - len(widths))
    index += [slice(b, n - a) for (b, a), n in zip(widths, np.shape(g)[-len(widths):])]
    return g[tuple(index)]


def _diag_place(g, like, k):
    """Zeros of like's last two dimensions with g on diagonal k (leading axes of g kept):
    the adjoint of np.diag of a matrix."""
    out = np.zeros(np.shape(g)[:-1] + np.shape(like)[-2:], dtype=np.result_type(g, like))
    i = np.arange(np.shape(g)[-1])
    out[..., i + max(-k, 0), i + max(k, 0)] = g
    return out


# ---- roll ----------------------------------------------------------------------------------
def _rolled(x: shapes.Shape, shift: Any, axis: Any) -> shapes.Shape:
    shifts = shift if isinstance(shift, tuple) else (shift,)
    if shift is None or not all(type(s) is int for s in shifts):
        raise ShapeError(f"shift must be an integer or a tuple of them, got {shift!r}")
    if axis is None:
        if isinstance(shift, tuple):
            raise ShapeError("a tuple of shifts needs as many axes")
        return x
    axes = axis if isinstance(axis, tuple) else (axis,)
    for a in axes:
        _axes(a, len(x))
    if isinstance(shift, tuple) and len(shifts) != len(axes):
        raise ShapeError(f"shift {shift} and axis {axis} differ in length")
    return x


def _negated(shift: Any) -> Any:
    return tuple(-s for s in shift) if isinstance(shift, tuple) else -shift


@jvp
def _roll_jvp(out: R, dots: Tangents) -> R | None:
    shift, axis = out.params["shift"], out.params["axis"]
    if axis is None:
        return dots[0].call("roll_last", shift=shift, ndim=out.ndim)
    return dots[0].call("roll", shift=shift, axis=_from_end(axis, out.ndim))


_ROLL = {"shift": None, "axis": None}
_register(Op("roll", 1, "np.roll({0}, {shift})", np.roll, slot_prec=(0,), params=_ROLL,
             positional=tuple(_ROLL), dtype="first", traits=Trait.FRESH,
             spell=lambda p: "np.roll({0}, {shift}" + (", axis={axis})" if p["axis"] is not None
                                                      else ")"),
             shape=_params_shape(_rolled), jvp=_roll_jvp,
             vjp=vjp(lambda out, grad: (grad.call("roll", shift=_negated(out.params["shift"]),
                                                  axis=out.params["axis"]),)),
             rules=("roll({out}_bar, -shift, axis)",)))
_register(Op("roll_last", 1, "_roll_last({0}, {shift}, {ndim})", _roll_last, slot_prec=(0,),
             params={"shift": None, "ndim": None}, helpers=(_lead_flat, _roll_last),
             shape=_params_shape(lambda t, shift, ndim: t), dtype="follows",
             vjp=vjp(lambda out, grad: (grad.call("roll_last", shift=-out.params["shift"],
                                                  ndim=out.params["ndim"]),)),
             jvp=jvp(lambda out, dots: dots[0].call("roll_last", **out.params)),
             traits=Trait.INTERNAL | Trait.FRESH,
             rules=("roll({out}_bar, -shift) over the last ndim axes flattened",)))


# ---- tile and repeat ----------------------------------------------------------------------
def _times(d: shapes.Dim, r: int) -> shapes.Dim:
    return d * r if isinstance(d, int) else d if r == 1 else f"{r}*{d}"


def _reps(reps: Any) -> tuple[int, ...]:
    reps = reps if isinstance(reps, tuple) else (reps,)
    if not all(type(r) is int and r >= 0 for r in reps):
        raise ShapeError(f"reps must be non-negative integers, got {reps!r}")
    return reps


def _tiled(x: shapes.Shape, reps: Any) -> shapes.Shape:
    reps = _reps(reps)
    ndim = max(len(reps), len(x))
    dims = (1,) * (ndim - len(x)) + x
    return tuple(_times(d, r) for d, r in zip(dims, (1,) * (ndim - len(reps)) + reps))


@jvp
def _tile_jvp(out: R, dots: Tangents) -> R | None:
    reps = _reps(out.params["reps"])
    full = (1,) * (out.ndim - len(reps) + 1) + reps  # and 1 for the directions
    return dots[0].call("lift", ndim=out.ndim).call("tile", reps=full)


_register(Op("tile", 1, "np.tile({0}, {reps})", np.tile, slot_prec=(0,), params={"reps": None},
             positional=("reps",), shape=_params_shape(_tiled), dtype="first",
             vjp=vjp(lambda out, grad: (grad.call("untile", out.args[0], **out.params),)),
             jvp=_tile_jvp, rules=("{out}_bar's tiles summed",), traits=Trait.FRESH))
_register(Op("untile", 2, "_untile({0}, {1}, {reps})", _untile, slot_prec=(0, 0),
             params={"reps": None}, grad_slots=(0,), helpers=(_untile,), dtype="follows",
             shape=_params_shape(lambda g, like, reps: g[:len(g) - len(_tiled(like, reps))]
                                 + like),
             vjp=vjp(lambda out, grad: (grad.call("tile", **out.params), None)),
             jvp=jvp(lambda out, dots: dots[0] and dots[0].call("untile", out.args[1],
                                                                **out.params)),
             traits=Trait.INTERNAL | Trait.FRESH,
             rules=("tile({out}_bar, reps)",)))


def _repeated(x: shapes.Shape, repeats: Any, axis: Any) -> shapes.Shape:
    if type(repeats) is not int or repeats < 0:
        raise ShapeError(f"repeats must be a non-negative integer, got {repeats!r}")
    if axis is None:
        size, names = _size(x)
        return (_times(size, repeats) if not names else
                "*".join([str(size * repeats)] * (size * repeats != 1) + sorted(names.elements())),)
    (a,) = _each(axis, len(x))
    return x[:a] + (_times(x[a], repeats),) + x[a + 1:]


def _unrepeat_params(out: R) -> dict:
    axis = out.params["axis"]
    return {"repeats": out.params["repeats"], "flat": axis is None,
            "axis": -1 if axis is None else _each(axis, out.ndim)[0] - out.ndim}


@jvp
def _repeat_jvp(out: R, dots: Tangents) -> R | None:
    if out.params["axis"] is not None:
        return dots[0].call("repeat", repeats=out.params["repeats"],
                            axis=_unrepeat_params(out)["axis"])
    flat = dots[0].call("reshape_like", out.args[0], out.args[0].call("flat"))
    return flat.call("repeat", repeats=out.params["repeats"], axis=-1)


_REPEAT = {"repeats": None, "axis": None}
_register(Op("repeat", 1, "np.repeat({0}, {repeats})", np.repeat, slot_prec=(0,),
             params=_REPEAT, positional=tuple(_REPEAT), shape=_params_shape(_repeated),
             spell=lambda p: "np.repeat({0}, {repeats}" + (
                 ", axis={axis})" if p["axis"] is not None else ")"), dtype="first",
             vjp=vjp(lambda out, grad: (grad.call("unrepeat", out.args[0],
                                                  **_unrepeat_params(out)),)),
             jvp=_repeat_jvp, rules=("{out}_bar's copies summed",), traits=Trait.FRESH))
_register(Op("unrepeat", 2, "_unrepeat({0}, {1}, {repeats}, {axis}, {flat})", _unrepeat,
             slot_prec=(0, 0), params={"repeats": None, "axis": -1, "flat": False},
             grad_slots=(0,), helpers=(_unrepeat,), dtype="follows",
             traits=Trait.INTERNAL | Trait.FRESH,
             shape=_params_shape(lambda g, like, repeats, axis, flat: g[:len(g) - (
                 1 if flat else len(like))] + like),
             vjp=vjp(lambda out, grad: (grad.call(
                 "repeat", repeats=out.params["repeats"],
                 axis=None if out.params["flat"] else out.params["axis"]), None)),
             jvp=jvp(lambda out, dots: dots[0] and dots[0].call("unrepeat", out.args[1],
                                                                **out.params)),
             rules=("repeat({out}_bar, repeats, axis)",)))
_register(Op("flat", 1, "np.ravel({0})", np.ravel, slot_prec=(0,), dtype="follows",
             shape=_params_shape(lambda x: _repeated(x, 1, None)),
             traits=Trait.INTERNAL | Trait.NO_DERIVATIVE))


# ---- pad (constant mode) -------------------------------------------------------------------
def _widths(pad_width: Any, ndim: int) -> tuple[tuple[int, int], ...]:
    """NumPy's pad_width (n, (before, after), or one pair per axis) as a pair per axis."""
    pairs = pad_width if isinstance(pad_width, tuple) else (pad_width,)
    if pairs and not isinstance(pairs[0], tuple):
        pairs = (pairs,)
    pairs = tuple(p if len(p) == 2 else p * 2 for p in pairs if isinstance(p, tuple))
    if len(pairs) == 1:
        pairs *= ndim
    flat = [w for p in pairs for w in p]
    if pad_width is None or len(pairs) != ndim or not all(
            type(w) is int and w >= 0 for w in flat):
        raise ShapeError(f"pad_width {pad_width!r}: one (before, after) pair of "
                         f"non-negative integers, or one per axis ({ndim})")
    return pairs


def _padded(x: shapes.Shape, pad_width: Any, constant_values: Any) -> shapes.Shape:
    if not isinstance(constant_values, (int, float)) or isinstance(constant_values, bool):
        raise ShapeError(f"constant_values must be a number, got {constant_values!r}")
    return tuple(_plus(d, b + a) for d, (b, a) in zip(x, _widths(pad_width, len(x))))


def _plus(d: shapes.Dim, n: int) -> shapes.Dim:
    """d + n, a name's too, written as declarations write it: L-2 plus 5 is L+3."""
    if isinstance(d, int):
        return d + n
    base, k = re.fullmatch(r"(.+?)([+-]\d+)?", d).groups()  # type: ignore[union-attr]
    total = int(k or 0) + n
    return f"{base}{total:+d}" if total else base


_PAD = {"pad_width": None, "constant_values": 0.0}
_register(Op("pad", 1, "np.pad({0}, {pad_width})", np.pad, slot_prec=(0,), params=_PAD,
             positional=("pad_width",), dtype="follows", traits=Trait.FRESH,
             spell=lambda p: "np.pad({0}, {pad_width}" + (
                 ", constant_values={constant_values})" if p["constant_values"] else ")"),
             # an undeclared x's pad_width would be read for 0 axes: np.pad pads them all
             shape=lambda g, args, params: _padded(_declared(g, args[0], "pad"), **params),
             vjp=vjp(lambda out, grad: (grad.call("unpad", widths=_widths(
                 out.params["pad_width"], out.ndim)),)),
             jvp=jvp(lambda out, dots: dots[0].call("pad", pad_width=((0, 0),) + _widths(
                 out.params["pad_width"], out.ndim))),
             rules=("{out}_bar's middle",)))
_register(Op("unpad", 1, "_unpad({0}, {widths})", _unpad, slot_prec=(0,),
             params={"widths": None}, helpers=(_unpad,), dtype="follows",
             traits=Trait.INTERNAL, shape=_params_shape(lambda g, widths: g[:len(g) - len(
                 widths)] + tuple(_plus(d, -b - a)
                                  for d, (b, a) in zip(g[len(g) - len(widths):], widths))),
             vjp=vjp(lambda out, grad: (grad.call("pad", pad_width=out.params["widths"]),)),
             jvp=jvp(lambda out, dots: dots[0].call("unpad", **out.params)),
             rules=("{out}_bar padded with zeros by widths",)))


# ---- diag ------------------------------------------------------------------------------------
def _diag_shape(x: shapes.Shape, k: Any) -> shapes.Shape:
    if type(k) is not int:
        raise ShapeError(f"k must be an integer, got {k!r}")
    if len(x) == 1:
        return (_plus(x[0], abs(k)),) * 2
    if len(x) != 2:
        raise ShapeError("diag takes a vector (to a matrix) or a matrix (to its diagonal)")
    n, m = x
    if isinstance(n, int) and isinstance(m, int):
        return (max(0, min(n, m - k) if k >= 0 else min(n + k, m)),)
    if n == m and k == 0:
        return (n,)
    raise ShapeError(f"the diagonal {k} of a {shapes.format_shape(x)} matrix has a size "
                     "known only at call time")


def _diag_part_shape(t: shapes.Shape, k: int) -> shapes.Shape:
    return t[:-2] + _diag_shape(t[-2:], k)


@vjp
def _diag_vjp(out: R, grad: R) -> tuple[R | None, ...]:
    x, k = out.args[0], out.params["k"]
    if x.ndim == 1:
        return (grad.call("diag_part", k=k),)
    return (grad.call("diag_place", x, k=k),)


@jvp
def _diag_jvp(out: R, dots: Tangents) -> R | None:
    if out.args[0].ndim == 1:
        return dots[0].call("diag_place", out, **out.params)
    return dots[0].call("diag_part", **out.params)


_register(Op("diag", 1, "np.diag({0})", np.diag, slot_prec=(0,), params={"k": 0},
             positional=("k",), spell=_spell("np.diag", {"k": 0}), dtype="follows",
             shape=_params_shape(_diag_shape), vjp=_diag_vjp, jvp=_diag_jvp,
             rules=("diag({out}_bar, k)",)))  # a matrix's diagonal is a read-only view
_register(Op("diag_part", 1, "np.diagonal({0}, {k}, -2, -1)",
             lambda x, k: np.diagonal(x, k, -2, -1), slot_prec=(0,), params={"k": 0},
             dtype="follows", shape=_params_shape(_diag_part_shape), traits=Trait.INTERNAL,
             vjp=vjp(lambda out, grad: (grad.call("diag_place", out.args[0], **out.params),)),
             jvp=jvp(lambda out, dots: dots[0].call("diag_part", **out.params)),
             rules=("{out}_bar on diagonal k of zeros like {0}",)))
_register(Op("diag_place", 2, "_diag_place({0}, {1}, {k})", _diag_place, slot_prec=(0, 0),
             params={"k": 0}, grad_slots=(0,), helpers=(_diag_place,), dtype="follows",
             shape=_params_shape(lambda g, like, k: g[:-1] + like[-2:]),
             vjp=vjp(lambda out, grad: (grad.call("diag_part", **out.params), None)),
             jvp=jvp(lambda out, dots: dots[0] and dots[0].call("diag_place", out.args[1],
                                                                **out.params)),
             traits=Trait.INTERNAL | Trait.FRESH,
             rules=("diagonal k of {out}_bar",)))
