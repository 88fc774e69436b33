"""Indexing: NumPy's ``x[key]``, basic and with integer arrays, and ``take_along_axis``.

Indices are integer inputs (``labels: int[N]``, ``i: int``) or literals; neither is
ever differentiated. A key is a parameter, a tuple of items (so it prints, compares
and reads back in .gc text): an int; ``None``, a new axis; ``(start, stop, step)``, a
slice; ``ELLIPSIS``; ``ARRAY``, the next index operand. The adjoint of a gather is a
scatter-add (``np.add.at``: an element taken twice gets both adjoints).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import ShapeError
from . import shapes
from .expr import R, Tangents, jvp, vjp
from .table import ATOM, Op, Trait, _register
from .tensor import _axes, _negative, _params_shape

ELLIPSIS: tuple = ()
ARRAY = (None,)
FULL = (None, None, None)  # ``:``


# ---- NumPy implementations, shipped inside emitted modules ------------------------
def _numpy_key(key, arrays):
    """A key as NumPy takes it, the index operands in the places ``ARRAY`` marks (the
    encoding spelled out: this helper ships alone)."""
    found = iter(arrays)
    return tuple(next(found) if k == (None,) else Ellipsis if k == () else
                 slice(*k) if isinstance(k, tuple) else k for k in key)


def _index(x, *arrays, key=()):
    return x[_numpy_key(key, arrays)]


def _apart(key):
    """Whether the index arrays (and ints beside them) of a key are apart, x[i, :, j]:
    NumPy then puts their broadcast axes first. A key of the encoding above."""
    if (None,) not in key:
        return False
    at = [p for p, k in enumerate(key) if k == (None,) or isinstance(k, int)]
    return at[-1] - at[0] + 1 != len(at)


def _unindex(g, like, *arrays, key=(), lead=0):
    """The adjoint of like[key]: g added where its elements came from, zeros elsewhere
    (an element taken twice gets both). ``lead`` axes of g in front (forward mode's
    directions) are kept."""
    out = np.zeros(np.shape(g)[:lead] + np.shape(like), np.result_type(g, like))
    where = (slice(None),) * lead + _numpy_key(key, arrays)
    if lead and _apart(key):  # g's gathered axes behind the leading ones: NumPy's order
        taken = np.broadcast(*arrays).ndim
        g = np.moveaxis(g, tuple(range(lead)), tuple(range(taken, taken + lead)))
    if arrays:
        np.add.at(out, where, g)
    else:  # basic indexing takes no element twice
        out[where] = g
    return out


def _along(idx, axis, shape):
    """NumPy's fancy index of take_along_axis: idx along axis, every position elsewhere."""
    ndim = len(shape)
    return tuple(idx if i == axis % ndim else
                 np.arange(n).reshape((1,) * i + (n,) + (1,) * (ndim - i - 1))
                 for i, n in enumerate(shape))


def _untake(g, like, idx, axis=-1, lead=0):
    """The adjoint of take_along_axis(like, idx, axis): g added where it was taken."""
    out = np.zeros(np.shape(g)[:lead] + np.shape(like), np.result_type(g, like))
    np.add.at(out, (slice(None),) * lead + _along(idx, axis, np.shape(like)), g)
    return out


# ---- keys: what the front ends build ------------------------------------------------
def encode(item: Any) -> Any:
    """A Python index item (an int, slice, None, ...) as a key item; ARRAY stands for
    an index operand, which the caller passes itself."""
    if item is None or item is Ellipsis:
        return ELLIPSIS if item is Ellipsis else None
    if isinstance(item, slice):
        bounds = (item.start, item.stop, item.step)
        if not all(b is None or _is_int(b) for b in bounds):
            raise ShapeError(f"slice bounds are integers or empty, got {item}")
        return tuple(None if b is None else int(b) for b in bounds)
    if _is_int(item):
        return int(item)
    raise ShapeError(f"an index is an integer, a slice, None, ... or an integer input, "
                     f"got {type(item).__name__} {item!r}")


def _is_int(b: Any) -> bool:
    return isinstance(b, (int, np.integer)) and not isinstance(b, (bool, np.bool_))


def subscript(key: tuple) -> tuple[str, dict]:
    """The op and parameters of ``x[key]``: one step-1 slice of one axis is the ``slice``
    op (stencils in the loop backends, adjoints added in place); anything else ``index``."""
    cuts = [i for i, k in enumerate(key) if k != FULL and k != ELLIPSIS]
    if len(cuts) == 1 and isinstance(key[cuts[0]], tuple) and len(key[cuts[0]]) == 3 \
            and key[cuts[0]][2] in (None, 1) and key.count(ELLIPSIS) <= 1:
        i = cuts[0]
        if ELLIPSIS not in key or key.index(ELLIPSIS) > i:
            axis = i
        elif all(k == FULL for k in key[i + 1:]):
            axis = i - len(key)
        else:
            return "index", {"key": key}
        start, stop, _ = key[i]
        return "slice", {"start": start, "stop": stop, "axis": axis}
    return "index", {"key": key}


# ---- shapes -----------------------------------------------------------------------
def _checked_operand(g: Any, x: str, arrays: tuple[str, ...]) -> shapes.Shape:
    if g.elastic(x):
        raise ShapeError(f"indexing {g.shown(x)} needs its shape: declare it "
                         f"({g.shown(x)}: [N, 3], say)")
    for a in arrays:
        if not g.integer(a):
            raise ShapeError(f"{g.shown(a)} is not an integer array: indices are integers "
                             f"(declare it {g.shown(a)}: int[...])")
    return g.shape(x)


def _full_key(key: tuple, ndim: int) -> tuple:
    """key with its ellipsis (or the axes it leaves out) spelled as full slices."""
    taken = sum(1 for k in key if k is not None and k != ELLIPSIS)
    if key.count(ELLIPSIS) > 1:
        raise ShapeError("an index can have only one ellipsis (...)")
    if taken > ndim:
        raise ShapeError(f"too many indices: {taken} for {ndim} dimension"
                         + ("s" if ndim != 1 else ""))
    fill = (FULL,) * (ndim - taken)
    if ELLIPSIS in key:
        at = key.index(ELLIPSIS)
        return key[:at] + fill + key[at + 1:]
    return key + fill


def _sliced(d: shapes.Dim, start: Any, stop: Any, step: Any) -> shapes.Dim:
    if step == 0:
        raise ShapeError("a slice step cannot be zero")
    if isinstance(d, int):
        return len(range(d)[slice(start, stop, step)])
    if step in (None, 1):
        return _slice_shape((d,), start, stop, 0)[0]
    if start is None and stop is None and step == -1:
        return d
    bounds = ":".join("" if b is None else str(b) for b in (start, stop, step))
    return f"len({d}[{bounds}])"  # known at call time only


def _index_shape(g: Any, args: tuple[str, ...], params: dict) -> shapes.Shape:
    shape = _checked_operand(g, args[0], args[1:])
    key = _full_key(params["key"], len(shape))
    if key.count(ARRAY) != len(args) - 1:
        raise ShapeError(f"the key names {key.count(ARRAY)} index arrays, "
                         f"{len(args) - 1} are given")
    advanced = ARRAY in key  # ints then index like 0-d arrays, NumPy's rule
    arrays = iter(args[1:])
    out: list[shapes.Dim] = []
    axis, first, gathered = 0, -1, []
    for k in key:
        if k is None:
            out.append(1)
            continue
        d = shape[axis]
        axis += 1
        if isinstance(k, int) and isinstance(d, int) and not -d <= k < d:
            raise ShapeError(f"index {k} is out of range for axis {axis - 1} of size {d}")
        if k == ARRAY or isinstance(k, int) and advanced:
            gathered.append(g.shape(next(arrays)) if k == ARRAY else ())
            first = len(out) if first < 0 else first
        elif isinstance(k, tuple):
            out.append(_sliced(d, *k))
    if _apart(key):  # NumPy's rule: x[i, :, j]'s gathered axes go first
        first = 0
    out[first:first] = shapes.broadcast(*gathered)  # (ints alone take no axis)
    return tuple(out)


def _take_shape(g: Any, args: tuple[str, ...], params: dict) -> shapes.Shape:
    shape = _checked_operand(g, args[0], args[1:])
    axis = params["axis"]
    if axis is None or isinstance(axis, tuple):
        raise ShapeError("take_along_axis needs one integer axis")
    (a,) = _axes(axis, len(shape))
    idx = g.shape(args[1])
    if len(idx) != len(shape):
        raise ShapeError(f"the indices need x's {len(shape)} dimensions, they have {len(idx)}")
    return tuple(e if i == a else shapes.broadcast((d,), (e,))[0]
                 for i, (d, e) in enumerate(zip(shape, idx)))


# ---- printing: x[1:, None, labels] in NumPy and in .gc text alike ---------------------
def _item_text(k: Any, slot: int) -> str:
    if k == ARRAY:
        return "{%d}" % slot
    if k == ELLIPSIS:
        return "..."
    if isinstance(k, tuple):
        start, stop, step = ("" if b is None else str(b) for b in k)
        return f"{start}:{stop}" + (f":{step}" if step else "")
    return str(k)


def _index_code(params: dict) -> str:
    key, items, slot = params["key"], [], 0
    for k in key:
        slot += k == ARRAY
        items.append(_item_text(k, slot))
    return "{0}[" + (", ".join(items) if key else "()") + "]"


# ---- rules -----------------------------------------------------------------------
@vjp
def _index_vjp(out: R, grad: R) -> tuple[R | None, ...]:
    x, *arrays = out.args
    return (grad.call("unindex", x, *arrays, key=out.params["key"]), *[None] * len(arrays))


def _leading_first(t: R, key: tuple, lead: int, gathered: int) -> R:
    """t, indexed by ``lead`` full slices then ``key``, with those ``lead`` axes put back
    in front: NumPy put the gathered axes of a key whose index arrays are apart first."""
    if not lead or not _apart(key):
        return t
    return t.call("moveaxis", source=tuple(range(gathered, gathered + lead)),
                  destination=tuple(range(lead)))


def _gathered(key: tuple, ndim: int, out_ndim: int) -> int:
    """How many axes x[key] (x of ``ndim`` axes, the result of ``out_ndim``) gathers: all
    but those of its slices and new axes."""
    return out_ndim - sum(1 for k in _full_key(key, ndim)
                          if k is None or isinstance(k, tuple) and k != ARRAY)


@vjp
def _unindex_vjp(out: R, grad: R) -> tuple[R | None, ...]:
    g, like, *arrays = out.args
    lead, key = out.params["lead"], out.params["key"]
    taken = grad.call("index", *arrays, key=(FULL,) * lead + key)
    gathered = _gathered(key, like.ndim, g.ndim - lead)
    return (_leading_first(taken, key, lead, gathered), None, *[None] * len(arrays))


@jvp
def _unindex_jvp(out: R, dots: Tangents) -> R | None:
    params = out.params
    return dots[0] and dots[0].call("unindex", *out.args[1:], key=params["key"],
                                    lead=params["lead"] + 1)


def _take_params(out: R) -> dict:
    return {"axis": _negative(out.params["axis"], out.args[0].ndim)[0]}


@vjp
def _untake_vjp(out: R, grad: R) -> tuple[R | None, ...]:
    g, like, idx = out.args
    lead = out.params["lead"]
    lifted = idx.call("index", key=(None,) * lead) if lead else idx
    return grad.call("take_along_axis", lifted, axis=_negative(out.params["axis"],
                                                               like.ndim)[0]), None, None


_FIRST = "first"  # the dtype of the first operand: a float x's, or an integer one's
_INNER = Trait.INTERNAL | Trait.FRESH
_register(Op("index", 1, "{0}[]", _index, ATOM, (ATOM,), symbol="[]", spell=_index_code,
             params={"key": ()}, grad_slots=(0,), dtype=_FIRST, shape=_index_shape,
             vjp=_index_vjp, rules=("{out}_bar put back where taken",), varargs="after",
             jvp=jvp(lambda out, dots: dots[0] and _leading_first(dots[0].call(
                 "index", *out.args[1:], key=(FULL,) + out.params["key"]), out.params["key"],
                 1, _gathered(out.params["key"], out.args[0].ndim, out.ndim)))))
_register(Op("unindex", 2, "_unindex({0}, {1})", _unindex, slot_prec=(0, 0),
             params={"key": (), "lead": 0}, grad_slots=(0,), dtype="follows",
             spell=lambda p: "_unindex({0}, {1}" + "".join(
                 ", {%d}" % i for i in range(2, 2 + p["key"].count(ARRAY)))
             + f", key={p['key']!r}, lead={p['lead']})",
             shape=lambda g, args, params: g.shape(args[0])[:params["lead"]] + g.shape(args[1]),
             helpers=(_numpy_key, _apart, _unindex), vjp=_unindex_vjp, jvp=_unindex_jvp,
             rules=("{out}_bar[key]",), varargs="after", traits=_INNER))
_register(Op("take_along_axis", 2, "np.take_along_axis({0}, {1}, axis={axis})",
             np.take_along_axis, slot_prec=(0, 0), params={"axis": -1},
             signature=("axis",), grad_slots=(0,),
             dtype=_FIRST, shape=_take_shape, traits=Trait.FRESH,
             vjp=vjp(lambda out, grad: (grad.call("untake", *out.args, **_take_params(out)),
                                        None)),
             jvp=jvp(lambda out, dots: dots[0] and dots[0].call(
                 "take_along_axis", out.args[1].call("index", key=(None,)),
                 **_take_params(out))),
             rules=("{out}_bar put back where taken along {1}",)))
_register(Op("untake", 3, "_untake({0}, {1}, {2}, {axis}, {lead})", _untake,
             slot_prec=(0, 0, 0), params={"axis": -1, "lead": 0}, grad_slots=(0,),
             dtype="follows", helpers=(_along, _untake), vjp=_untake_vjp,
             shape=lambda g, args, params: g.shape(args[0])[:params["lead"]] + g.shape(args[1]),
             jvp=jvp(lambda out, dots: dots[0] and dots[0].call(
                 "untake", *out.args[1:], axis=out.params["axis"],
                 lead=out.params["lead"] + 1)),
             rules=("take_along_axis({out}_bar, {2})",), traits=_INNER))


# ---- slices: x[start:stop] along one axis (the stencils' op), and its adjoints ---------
def _zeros_around(out, start, stop, axis):
    """Zeros out's entries outside [start:stop] along axis and returns that slice of
    out, for the caller to fill: no pass of zeros under it."""
    index = [slice(None)] * out.ndim
    lo, hi, _ = slice(start, stop).indices(out.shape[axis])
    for part in (slice(0, lo), slice(max(lo, hi), None)):
        index[axis] = part
        out[tuple(index)] = 0
    index[axis] = slice(lo, hi)
    return out[tuple(index)]


def _unslice(g, like, start, stop, axis):
    """The adjoint of a slice: g placed where the slice came from, zeros elsewhere.
    Axes of g in front of like's (forward mode's directions) are kept."""
    lead = np.shape(g)[:np.ndim(g) - np.ndim(like)]
    out = np.empty(lead + np.shape(like), dtype=np.result_type(g, like))
    _zeros_around(out, start, stop, axis)[...] = g
    return out


def _add_slice(base, g, start, stop, axis, out=None):
    """base + g placed where a slice [start:stop] along axis came from, without the
    zeros around g; ``out=base`` adds in place."""
    if out is None:
        out = np.array(base, dtype=np.result_type(base, g))
    elif out is not base:
        out[...] = base
    index = [slice(None)] * out.ndim
    index[axis] = slice(start, stop)
    out[tuple(index)] += g
    return out


def _slice_np(x, start=None, stop=None, axis=0):
    index = [slice(None)] * np.ndim(x)
    index[axis] = slice(start, stop)
    return x[tuple(index)]


def _slice_params(out: R) -> dict:
    """A slice's parameters with the axis counted from the end (for stacked tangents)."""
    params = dict(out.params)
    params["axis"] = _negative(params["axis"], out.ndim)[0]
    return params


def _slice_shape(x: shapes.Shape, start: Any, stop: Any, axis: int) -> shapes.Shape:
    (a,) = _axes(axis, len(x))
    d = x[a]
    if isinstance(d, int):
        size: shapes.Dim = len(range(d)[slice(start, stop)])
    else:  # symbolic: N[1:] and N[:-1] are both "N-1", so they broadcast together
        s0 = start or 0
        if s0 < 0:
            size = -s0 if stop is None else max(stop - s0, 0)
        elif stop is not None and stop >= 0:
            size = max(stop - s0, 0)
        else:
            cut = s0 - (stop or 0)
            base, _, less = d.partition("-")  # N-1 cut by 1 more is N-2, as N[2:] is
            size = f"{base}-{int(less or 0) + cut}" if cut else d
    return x[:a] + (size,) + x[a + 1:]


@jvp
def _add_slice_jvp(out: R, dots: Tangents) -> R | None:
    if dots[1] is None:
        return dots[0]
    if dots[0] is None:
        return dots[1].call("unslice", out.args[0], **_slice_params(out))
    return dots[0].call("add_slice", dots[1], **_slice_params(out))


def _slice_code(params: dict) -> str:
    bounds = ":".join("" if params[k] is None else str(params[k]) for k in ("start", "stop"))
    axis = params["axis"]
    if axis >= 0:
        return "{0}[" + ":, " * axis + bounds + "]"
    return "{0}[..., " + bounds + ", :" * (-axis - 1) + "]"  # axis -2: x[..., 1:, :]


_BOUNDS = {"start": None, "stop": None, "axis": 0}
_register(Op("slice", 1, "{0}[:]", _slice_np, ATOM, (ATOM,), spell=_slice_code,
             params=_BOUNDS, dtype="first", shape=_params_shape(_slice_shape),
             vjp=vjp(lambda out, grad: (grad.call("unslice", out.args[0], **out.params),)),
             jvp=jvp(lambda out, dots: dots[0].call("slice", **_slice_params(out))),
             rules=("{out}_bar placed at [start:stop]",),
             traits=Trait.SHIFTS | Trait.AXES_FROM_END,
             written_as=lambda operands, params: None if params["start"] is None is
             params["stop"] else _slice_code(params).format(*operands)))
_register(Op("unslice", 2, "_unslice({0}, {1}, {start}, {stop}, {axis})", _unslice,
             slot_prec=(0, 0), grad_slots=(0,), params=_BOUNDS,
             helpers=(_zeros_around, _unslice), dtype="follows",
             shape=_params_shape(lambda part, like, **_: part[:len(part) - len(like)] + like),
             vjp=vjp(lambda out, grad: (grad.call("slice", **out.params), None)),
             jvp=jvp(lambda out, dots: dots[0] and dots[0].call(
                 "unslice", out.args[1], **_slice_params(out))),
             traits=Trait.INTERNAL | Trait.FRESH | Trait.SHIFTS | Trait.AXES_FROM_END,
             rules=("{out}_bar[start:stop] along axis",)))
_register(Op("add_slice", 2, "_add_slice({0}, {1}, {start}, {stop}, {axis})", _add_slice,
             slot_prec=(0, 0), params=_BOUNDS, helpers=(_add_slice,), dtype="follows",
             shape=lambda g, args, params: g.shape(args[0]),
             vjp=vjp(lambda out, grad: (grad, grad.call("slice", **out.params))),
             jvp=_add_slice_jvp, rules=("{out}_bar", "{out}_bar[start:stop]"),
             traits=Trait.INTERNAL | Trait.FRESH | Trait.WRITES_OUT | Trait.SHIFTS
             | Trait.AXES_FROM_END))
