"""NumPy's array editing with constant positions: resize (a cyclic fill of a new shape),
delete (the elements not named) and insert (values put between them), each one entry of
the op table.

Both gather elements of x at positions known when the graph is built, so both are linear:
the jvp gathers the tangent the same way (``pick``) and the vjp adds the adjoint back
where each element came from (``put``, a scatter-add: resize's repeats add up). The two
internal ops are each other's transpose; axes count from the end and leading axes
(forward mode's directions) are kept, as ``take``'s and ``repeat``'s adjoints do.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import ShapeError
from . import shapes
from .expr import R, Tangents, jvp, vjp
from .shaping import _declared
from .table import Op, Trait, _register
from .tensor import _axes


# ---- pick and put: a gather of constant positions and its adjoint ----------------------
def _pick(x, index, axis, flat, shape):
    """x gathered at ``index`` along ``axis`` (from the end); with ``flat`` a count (not
    -1), its last ``flat`` axes flattened first; the gathered axis reshaped to ``shape``."""
    x = np.asarray(x)
    if flat >= 0:
        x = np.reshape(x, np.shape(x)[:np.ndim(x) - flat] + (-1,))
    y = np.take(x, np.asarray(index, dtype=np.intp), axis=axis)
    return np.reshape(y, np.shape(y)[:np.ndim(y) + axis] + tuple(shape)
                      + np.shape(y)[np.ndim(y) + axis + 1:])


def _put(g, like, index, axis, flat, shape):
    """The adjoint of _pick(like, ...): g added back where each element was taken (an
    element taken twice gets both), zeros elsewhere; g's leading axes kept."""
    g = np.asarray(g)
    if len(shape) != 1:  # its last axes: the gathered one, reshaped
        g = np.reshape(g, np.shape(g)[:np.ndim(g) - len(shape)] + (-1,))
    whole = np.shape(like)
    lead = np.shape(g)[:np.ndim(g) - (1 if flat >= 0 else len(whole))]
    out = np.zeros(lead + ((np.size(like),) if flat >= 0 else whole),
                   np.result_type(g, like))
    at = (slice(None),) * (np.ndim(out) - 1) + (np.asarray(index, dtype=np.intp),)
    np.add.at(np.moveaxis(out, axis, -1), at, np.moveaxis(g, axis, -1))  # type: ignore[arg-type]
    return np.reshape(out, lead + whole)


_PICK = {"index": None, "axis": -1, "flat": -1, "shape": None}
"""flat -1: no flattening; shape: the gathered axis's shape, (len(index),) when it stays
one axis (a longer one only with axis -1: resize's new shape, insert's flattened arr)."""


def _picked(x: shapes.Shape, index: Any, axis: Any, flat: Any, shape: Any) -> shapes.Shape:
    if flat >= 0:
        x = x[:len(x) - flat] + (-1,)
    a = len(x) + axis
    return x[:a] + tuple(shape) + x[a + 1:]


def _put_shape(g: shapes.Shape, like: shapes.Shape, index: Any, axis: Any, flat: Any,
               shape: Any) -> shapes.Shape:
    lead = len(g) - len(shape) + 1 - (1 if flat >= 0 else len(like))
    return g[:lead] + like


_register(Op("pick", 1, "_pick({0}, {index}, {axis}, {flat}, {shape})", _pick,
             slot_prec=(0,), params=_PICK, helpers=(_pick,), dtype="follows",
             shape=lambda g, args, params: _picked(g.shape(args[0]), **params),
             vjp=vjp(lambda out, grad: (grad.call("put", out.args[0], **out.params),)),
             jvp=jvp(lambda out, dots: dots[0].call("pick", **out.params)),
             rules=("{out}_bar put back where picked",), traits=Trait.INTERNAL | Trait.FRESH))
_register(Op("put", 2, "_put({0}, {1}, {index}, {axis}, {flat}, {shape})", _put,
             slot_prec=(0, 0), params=_PICK, helpers=(_put,), grad_slots=(0,),
             dtype="follows", shape=lambda g, args, params: _put_shape(
                 g.shape(args[0]), g.shape(args[1]), **params),
             vjp=vjp(lambda out, grad: (grad.call("pick", **out.params), None)),
             rules=("{out}_bar picked where put",),
             jvp=jvp(lambda out, dots: dots[0] and dots[0].call("put", out.args[1],
                                                                **out.params)),
             traits=Trait.INTERNAL | Trait.FRESH))


def _linear(where):
    """vjp and jvp of an op that is ``pick(x, **where(out))``."""
    @vjp
    def back(out: R, grad: R) -> tuple[R | None, ...]:
        return (grad.call("put", out.args[0], **where(out)),)

    @jvp
    def ahead(out: R, dots: Tangents) -> R | None:
        return dots[0].call("pick", **where(out))
    return back, ahead


def _count(dims: Any) -> int:
    return int(np.prod(dims, dtype=np.int64))


def _known(x: shapes.Shape, what: str) -> tuple[int, ...]:
    if not all(isinstance(d, int) for d in x):
        raise ShapeError(f"{what} needs its operand's sizes as numbers, not names: {x}")
    return tuple(int(d) for d in x)


# ---- resize(a, new_shape): a repeated cyclically to fill new_shape ----------------------
def _new_shape(new_shape: Any) -> tuple[int, ...]:
    shape = new_shape if isinstance(new_shape, tuple) else (new_shape,)
    if not all(type(d) is int and d >= 0 for d in shape):
        raise ShapeError(f"new_shape {new_shape!r}: non-negative integers")
    return shape


def _resize_shape(g: Any, args: tuple[str, ...], params: dict) -> shapes.Shape:
    x = _known(_declared(g, args[0], "resize"), "resize")
    shape = _new_shape(params["new_shape"])
    if _count(x) == 0 and _count(shape):
        raise ShapeError(f"resize of an empty array to {shape}: nothing to repeat")
    return shape


def _resize_where(out: R) -> dict:
    x = out.args[0]
    shape = _new_shape(out.params["new_shape"])
    size = max(_count(x.shape), 1)
    return {"index": tuple(int(i) % size for i in range(_count(shape))), "axis": -1,
            "flat": x.ndim, "shape": shape}


_RESIZE = _linear(_resize_where)
_register(Op("resize", 1, "np.resize({0}, {new_shape})", np.resize, slot_prec=(0,),
             params={"new_shape": None}, positional=("new_shape",), shape=_resize_shape,
             vjp=_RESIZE[0], jvp=_RESIZE[1], dtype="first", traits=Trait.FRESH,
             rules=("{out}_bar's repeats summed, in the shape of {0}",)))


# ---- delete(arr, obj, axis=None): the elements not named ---------------------------------
def _deleted(n: int, obj: Any) -> tuple[int, ...]:
    """The positions kept of n, obj an int or a tuple of ints (each in [-n, n))."""
    named = obj if isinstance(obj, tuple) else (obj,)
    if not all(type(i) is int for i in named):
        raise ShapeError(f"obj {obj!r}: an integer or a tuple of integers")
    for i in named:
        if not -n <= i < n:
            raise ShapeError(f"index {i} is out of range for an axis of size {n}")
    gone = {i % n for i in named}
    return tuple(i for i in range(n) if i not in gone)


def _delete_shape(g: Any, args: tuple[str, ...], params: dict) -> shapes.Shape:
    x = _declared(g, args[0], "delete")
    if params["axis"] is None:
        return (len(_deleted(_count(_known(x, "delete")), params["obj"])),)
    if type(params["axis"]) is not int:
        raise ShapeError(f"axis {params['axis']!r}: delete takes one axis (an integer)")
    (a,) = _axes(params["axis"], len(x))
    (n,) = _known((x[a],), "delete")
    return x[:a] + (len(_deleted(n, params["obj"])),) + x[a + 1:]


def _delete_where(out: R) -> dict:
    x, axis, obj = out.args[0], out.params["axis"], out.params["obj"]
    if axis is None:
        kept = _deleted(_count(x.shape), obj)
        return {"index": kept, "axis": -1, "flat": x.ndim, "shape": (len(kept),)}
    (a,) = _axes(axis, x.ndim)
    kept = _deleted(x.shape[a], obj)
    return {"index": kept, "axis": a - x.ndim, "shape": (len(kept),)}


_DELETE = _linear(_delete_where)
_register(Op("delete", 1, "np.delete({0}, {obj})", np.delete, slot_prec=(0,),
             params={"obj": None, "axis": None}, positional=("obj", "axis"),
             spell=lambda p: "np.delete({0}, {obj}" + (
                 ")" if p["axis"] is None else ", axis={axis})"),
             shape=_delete_shape, vjp=_DELETE[0], jvp=_DELETE[1], dtype="first",
             traits=Trait.FRESH, rules=("{out}_bar put back, 0 where deleted",)))


# ---- insert(arr, obj, values=v, axis=None): values put before the positions obj ----------
def _slab(v, vshape, slab, axis, moved):
    """values as NumPy's insert writes them: ndmin to the slab's rank, the new axis moved
    to ``axis`` for an int obj (``moved``), broadcast to ``slab``; leading axes kept."""
    v = np.asarray(v)
    lead = np.shape(v)[:np.ndim(v) - len(vshape)]
    t = np.reshape(v, lead + (1,) * (len(slab) - len(vshape)) + tuple(vshape))
    if moved:
        t = np.moveaxis(t, -len(slab), axis)
    return np.broadcast_to(t, lead + tuple(slab))


def _unslab(g, vshape, slab, axis, moved):
    """The adjoint of _slab: g summed over the axes values were broadcast along, the
    moved axis put back, reshaped to values' shape."""
    g = np.asarray(g)
    lead = np.shape(g)[:np.ndim(g) - len(slab)]
    ndmin = (1,) * (len(slab) - len(vshape)) + tuple(vshape)
    if moved:
        ndmin = tuple(np.moveaxis(np.empty(ndmin, bool), 0, axis).shape)
    spread = tuple(k - len(slab) for k, (d, s) in enumerate(zip(ndmin, slab)) if d != s)
    t = np.sum(g, axis=spread, keepdims=True) if spread else g
    if moved:
        t = np.moveaxis(t, axis, -len(slab))
    return np.reshape(t, lead + tuple(vshape))


def _slab_op(name: str, other: str, fn: Any, src: str, dst: str) -> None:
    """slab and unslab, each the other's transpose: ``src`` names the trailing shape
    taken, ``dst`` the one given (leading axes kept)."""
    def shape(g: Any, args: tuple[str, ...], params: dict) -> shapes.Shape:
        t = g.shape(args[0])
        return t[:len(t) - len(params[src])] + tuple(params[dst])
    _register(Op(name, 1, f"_{name}({{0}}, {{vshape}}, {{slab}}, {{axis}}, {{moved}})", fn,
                 slot_prec=(0,), params=_SLAB, helpers=(fn,), dtype="follows", shape=shape,
                 vjp=vjp(lambda out, grad: (grad.call(other, **out.params),)),
                 jvp=jvp(lambda out, dots: dots[0].call(name, **out.params)),
                 rules=(f"{other}({{out}}_bar)",),
                 traits=Trait.INTERNAL | Trait.FRESH))


_SLAB = {"vshape": None, "slab": None, "axis": -1, "moved": False}
_slab_op("slab", "unslab", _slab, "vshape", "slab")
_slab_op("unslab", "slab", _unslab, "slab", "vshape")


def _inserting(x: tuple[int, ...], v: tuple[int, ...], obj: Any, axis: Any) -> dict:
    """Where insert puts things: old (arr's positions in the result, along the axis),
    new (the slab's), the slab's shape and whether values' first axis moves (an int obj)."""
    flat = (_count(x),) if axis is None else x
    if axis is not None and type(axis) is not int:
        raise ShapeError(f"axis {axis!r}: insert takes one axis (an integer)")
    a = 0 if axis is None else _axes(axis, len(x))[0]
    n = flat[a]
    named = obj if isinstance(obj, tuple) else (obj,)
    if not all(type(i) is int for i in named):
        raise ShapeError(f"obj {obj!r}: an integer or a tuple of integers")
    for i in named:
        if not -n <= i <= n:
            raise ShapeError(f"index {i} is out of range for an axis of size {n}")
    if len(v) > len(flat):
        raise ShapeError(f"values of shape {v} have more dimensions than arr's {len(flat)}")
    at = [i + n if i < 0 else i for i in named]
    ndmin = (1,) * (len(flat) - len(v)) + v
    moved = not isinstance(obj, tuple)
    if len(named) == 1:
        if moved:
            ndmin = ndmin[1:a + 1] + ndmin[:1] + ndmin[a + 1:]
        count = ndmin[a]
        new = tuple(range(at[0], at[0] + count))
    else:
        count = len(at)
        order = sorted(range(count), key=lambda k: at[k])
        new_list = list(at)
        for rank, k in enumerate(order):
            new_list[k] += rank
        new = tuple(new_list)
    slab = flat[:a] + (count,) + flat[a + 1:]
    if shapes.broadcast(ndmin, slab) != slab:
        raise ShapeError(f"values of shape {v} do not fit the {slab} inserted")
    old = tuple(i for i in range(n + count) if i not in set(new))
    return {"old": old, "new": new, "slab": slab, "moved": moved and len(named) == 1,
            "a": a, "flat": axis is None}


def _insert_shape(g: Any, args: tuple[str, ...], params: dict) -> shapes.Shape:
    x = _known(_declared(g, args[0], "insert"), "insert")
    v = _known(_declared(g, args[1], "insert"), "insert")
    where = _inserting(x, v, params["obj"], params["axis"])
    return where["slab"][:where["a"]] + (len(where["old"]) + len(where["new"]),) \
        + where["slab"][where["a"] + 1:]


def _insert_where(out: R) -> dict:
    x, v = out.args
    return _inserting(_known(x.shape, "insert"), _known(v.shape, "insert"),
                      out.params["obj"], out.params["axis"])


@vjp
def _insert_vjp(out: R, grad: R) -> tuple[R | None, ...]:
    w, (x, v) = _insert_where(out), out.args
    axis = w["a"] - out.ndim
    x_bar = grad.call("pick", index=w["old"], axis=axis,
                      shape=x.shape if w["flat"] else (len(w["old"]),))
    v_bar = grad.call("pick", index=w["new"], axis=axis, shape=(len(w["new"]),)).call(
        "unslab", vshape=v.shape, slab=w["slab"], axis=axis, moved=w["moved"])
    return x_bar, v_bar


@jvp
def _insert_jvp(out: R, dots: Tangents) -> R | None:
    w, (x, v) = _insert_where(out), out.args
    axis = w["a"] - out.ndim
    parts = []
    if dots[0] is not None:
        parts.append(dots[0].call("put", out, index=w["old"], axis=axis,
                                  shape=x.shape if w["flat"] else (len(w["old"]),)))
    if dots[1] is not None:
        slab = dots[1].call("slab", vshape=v.shape, slab=w["slab"], axis=axis,
                            moved=w["moved"])
        parts.append(slab.call("put", out, index=w["new"], axis=axis, shape=(len(w["new"]),)))
    return parts[0] + parts[1] if len(parts) == 2 else parts[0] if parts else None


_register(Op("insert", 2, "np.insert({0}, {obj}, {1})",
             lambda arr, values, obj, axis: np.insert(arr, obj, values, axis=axis),
             slot_prec=(0, 0),
             params={"obj": None, "axis": None}, positional=("obj",),
             keyword_operands=("values",),
             spell=lambda p: "np.insert({0}, {obj}, {1}" + (
                 ")" if p["axis"] is None else ", axis={axis})"),
             shape=_insert_shape, vjp=_insert_vjp, jvp=_insert_jvp, dtype="first",
             traits=Trait.FRESH, rules=("{out}_bar where {0} went", "{out}_bar where {1} went, "
                                        "summed over its broadcast")))
