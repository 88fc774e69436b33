"""NumPy's summaries of an axis beyond sum, mean and the moments: diff, ptp, average
(weights= an operand) and trapezoid (x= an operand), one entry each, their rules written
with existing ops and four linear helpers (``diff_bar``, ``mid``, ``mid_bar``).

Each is linear or a quotient of sums, so its derivative is JAX's everywhere but ptp's
ties, which are max's and min's: the adjoint shared equally among the tied elements.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import ShapeError
from . import shapes
from .arrays import _plus
from .expr import R, Tangents, jvp, vjp
from .reductions import _ties, _weighted
from .table import Op, Trait, _register
from .tensor import (
    _AXIS,
    _MADE,
    _axes,
    _count,
    _expand,
    _itself,
    _negative,
    _params_shape,
    _reduced,
    _reduces_all,
    _spell,
    _summed_to,
)

_INNER = Trait.INTERNAL


# ---- NumPy helpers, shipped inside emitted modules ---------------------------------
def _span_of(x, axis, start, stop):
    """x[start:stop] along one axis."""
    index = [slice(None)] * np.ndim(x)
    index[axis] = slice(start, stop)
    return x[tuple(index)]


def _diff(x, n=1, axis=-1, prepend=None, append=None):
    """np.diff(x, n, axis) with numbers prepended/appended in x's dtype (np.diff's own
    make a float32 x's differences float64)."""
    x = np.asarray(x)
    shape = list(x.shape)
    shape[axis] = 1
    ends = [np.full(shape, v, x.dtype) for v in (prepend, append)]
    parts = [e for e, v in zip(ends, (prepend, append)) if v is not None]
    return np.diff(np.concatenate(parts[:prepend is not None] + [x] + parts[prepend is not None:],
                                  axis), n, axis)


def _diff_bar(g, n=1, axis=-1, ends=(0, 0)):
    """The adjoint of np.diff(x, n, axis) from g: one difference's transpose is minus the
    difference of g with a zero put at each end; the ends prepended/appended cut off.
    n = 0 copies g: the result is fresh (the memory plan may write into it)."""
    g = np.array(g) if n == 0 else np.asarray(g)
    for _ in range(n):
        shape = list(g.shape)
        shape[axis] = 1
        zero = np.zeros(shape, g.dtype)
        g = -np.diff(np.concatenate([zero, g, zero], axis), axis=axis)
    return _span_of(g, axis, ends[0], g.shape[axis] - ends[1])


def _mid(y, axis=-1):
    """The midpoints (y[1:] + y[:-1]) / 2 along axis: the trapezoids' heights."""
    return (_span_of(y, axis, 1, None) + _span_of(y, axis, None, -1)) / 2


def _mid_bar(g, axis=-1):
    """The adjoint of _mid: half of g with a zero put first plus half of it with a zero
    put last."""
    g = np.asarray(g)
    shape = list(g.shape)
    shape[axis] = 1
    zero = np.zeros(shape, g.dtype)
    return (np.concatenate([zero, g], axis) + np.concatenate([g, zero], axis)) / 2


def _average(a, weights, axis=None, keepdims=False):
    """np.average(a, axis, weights): sum(a * w) / sum(w), w 1-D along an int axis or of
    a's shape; nan where the weights sum to 0, as JAX's (NumPy raises)."""
    w = np.asarray(weights)
    if w.shape != np.shape(a):  # 1-D along axis: put it along that axis
        w = w.reshape(w.shape + (1,) * (np.ndim(a) - 1 - axis % np.ndim(a)))
    w = np.broadcast_to(w, np.shape(a))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.sum(a * w, axis=axis, keepdims=keepdims) / \
            np.sum(w, axis=axis, keepdims=keepdims)


# ---- diff: n differences along one axis (NumPy's prepend/append: numbers) --------------
def _one_axis(x: shapes.Shape, axis: Any, name: str) -> int:
    if not x:
        raise ShapeError(f"{name} needs an x with at least one dimension")
    if type(axis) is not int:
        raise ShapeError(f"axis {axis!r}: {name} takes one axis (an integer)")
    return _axes(axis, len(x))[0]


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _diff_shape(x: shapes.Shape, n: Any, axis: Any, prepend: Any, append: Any) -> shapes.Shape:
    a = _one_axis(x, axis, "diff")
    if n < 0:
        raise ShapeError(f"diff: n must be >= 0, got {n}")
    for k, v in (("prepend", prepend), ("append", append)):
        if v is not None and not _is_number(v):
            raise ShapeError(f"diff: {k} must be a number, got {v!r}")
    d = _plus(x[a], (prepend is not None) + (append is not None) - n)
    return x[:a] + ((max(d, 0) if isinstance(d, int) else d),) + x[a + 1:]


def _from_end(out: R) -> int:
    """An op's one axis counted from the end (forward mode's tangents have a leading axis),
    as the op read it where x's rank is known only at call time."""
    x = out.args[0]
    return out.params["axis"] if x.elastic else _negative(out.params["axis"], x.ndim)[0]


def _linear_part(params: dict, ends: tuple[int, int]) -> dict:
    """diff's params for the derivative: the constants prepended/appended are zeros."""
    return {"n": params["n"], "prepend": 0.0 if ends[0] else None,
            "append": 0.0 if ends[1] else None}


def _ends(params: dict) -> tuple[int, int]:
    return int(params["prepend"] is not None), int(params["append"] is not None)


_DIFF = {"n": 1, "axis": -1, "prepend": None, "append": None}


def _diff_vjp(out: R, grad: R) -> tuple[R | None, ...]:
    x, axis = out.args[0], _from_end(out)
    if not x.elastic and out.shape[axis] == 0:  # n past the axis's length: no differences
        return (x.call("zeros_like"),)
    return (grad.call("diff_bar", n=out.params["n"], axis=axis, ends=_ends(out.params)),)


_register(Op("diff", 1, "np.diff({0})", _diff, slot_prec=(0,), params=_DIFF,
             spell=lambda p: _spell("np.diff" if _ends(p) == (0, 0) else "_diff", _DIFF)(p),
             shape=_params_shape(_diff_shape), helpers=(_diff,), dtype="follows",
             vjp=vjp(_diff_vjp),
             jvp=jvp(lambda out, dots: dots[0].call("diff", axis=_from_end(out), **_linear_part(
                 out.params, _ends(out.params)))),
             rules=("-diff({out}_bar padded with zeros), n times",)))
_register(Op("diff_bar", 1, "_diff_bar({0}, {n}, {axis}, {ends})", _diff_bar, slot_prec=(0,),
             params={"n": 1, "axis": -1, "ends": (0, 0)}, helpers=(_span_of, _diff_bar),
             shape=_params_shape(lambda g, n, axis, ends: g[:axis % len(g)] + (
                 _plus(g[axis], n - sum(ends)),) + g[axis % len(g) + 1:]),
             vjp=vjp(lambda out, grad: (grad.call("diff", axis=out.params["axis"], **_linear_part(
                 out.params, out.params["ends"])),)),
             jvp=jvp(lambda out, dots: dots[0].call("diff_bar", **out.params)),
             dtype="follows", traits=_INNER | _MADE,
             rules=("diff({out}_bar, n, axis), the ends cut off",)))

# ---- ptp: max - min, ties shared as max's and min's ---------------------------------------
_PTP = _weighted(lambda out: _ties(out.args[0], out.args[0].call("max", **out.params))
                 - _ties(out.args[0], out.args[0].call("min", **out.params)))
_register(Op("ptp", 1, "np.ptp({0})", np.ptp, slot_prec=(0,), params=_AXIS, signature=("axis",),
             scalar_result=_reduces_all, spell=_spell("np.ptp", _AXIS),
             shape=_params_shape(_reduced), vjp=_PTP[0], jvp=_PTP[1], dtype="follows",
             traits=_MADE, rules=("{out}_bar * (({0} == max) - ({0} == min)) / ties",)))


# ---- average: the mean, or sum(a * w) / sum(w) with weights= an operand ---------------
def _mean_vjp(out: R, grad: R) -> tuple[R | None, ...]:
    x = out.args[0]
    n = _count(x, tuple(x.shape[i] for i in _axes(out.params["axis"], x.ndim)), out)
    return ((_expand(grad, out) / n).call("broadcast_like", x),)


_register(Op("average", 1, "np.average({0})", np.average, slot_prec=(0,), params=_AXIS,
             signature=("axis",),
             scalar_result=_reduces_all, spell=_spell("np.average", _AXIS),
             shape=_params_shape(_reduced), vjp=vjp(_mean_vjp), jvp=_itself("mean"),
             dtype="follows", traits=_MADE, rules=("{out}_bar spread over {0} / count",)))


def _average_shape(a: shapes.Shape, w: shapes.Shape, axis: Any, keepdims: bool) -> shapes.Shape:
    out = _reduced(a, axis, keepdims)
    if w != a and not (type(axis) is int and len(w) == 1 and w[0] == a[axis]):
        raise ShapeError(f"weights {shapes.format_shape(w)} must have a's shape "
                         f"{shapes.format_shape(a)}, or be 1-D along axis= (an integer)")
    return out


def _lined(x: R, trailing: int) -> R:
    """A 1-D operand with ``trailing`` 1-axes after it: along an axis of a, as NumPy puts
    1-D weights (average) and sample points (trapezoid)."""
    return x.call("expand_dims", axis=tuple(range(-trailing, 0))) if trailing else x


def _weights_along(out: R) -> tuple[R, int]:
    """The weights lined up with a (1-D weights put along the axis, trailing 1-axes),
    and how many trailing axes were added."""
    a, w = out.args
    if w.shape == a.shape:
        return w, 0
    trailing = a.ndim - 1 - _axes(out.params["axis"], a.ndim)[0]
    return _lined(w, trailing), trailing


def _average_parts(out: R) -> tuple[R, R, R]:
    """The weights lined up with a, sum(w) over the axes (out's shape with the reduced
    axes put back as 1s; a number for 1-D weights), and a - out: the pieces of both
    derivatives."""
    a, w = out.args
    lined = _weights_along(out)[0]
    total = w.sum() if w.shape != a.shape else w.sum(out.params["axis"], keepdims=True)
    return lined, total, a - _expand(out, out)


@vjp
def _average_vjp(out: R, grad: R) -> tuple[R | None, ...]:
    a, w = out.args
    lined, total, centered = _average_parts(out)
    scale = _expand(grad, out) / total
    w_bar = centered * scale
    if w.shape != a.shape:  # 1-D weights: summed over the other axes
        along = _axes(out.params["axis"], a.ndim)[0]
        w_bar = w_bar.sum(axis=tuple(i for i in range(a.ndim) if i != along))
    return lined * scale, w_bar


@jvp
def _average_jvp(out: R, dots: Tangents) -> R | None:
    a, w = out.args
    lined, total, centered = _average_parts(out)
    axis, keep = _negative(out.params["axis"], a.ndim), bool(out.params["keepdims"])
    terms = []
    if dots[0] is not None:
        terms.append(dots[0] * lined)
    if dots[1] is not None:
        dot = _lined(dots[1], _weights_along(out)[1])
        if w.ndim < a.ndim:
            dot = dot.call("lift", ndim=a.ndim)
        terms.append(dot * centered)
    total_out = total if keep or w.shape != a.shape else total.sum(axis)  # 1-axes dropped
    summed = (terms[0] if len(terms) == 1 else terms[0] + terms[1]).sum(axis, keepdims=keep)
    return summed / total_out


_AVERAGE_SPELL = _spell("_average", _AXIS)
_register(Op("average_w", 2, "_average({0}, {1})", _average, slot_prec=(0, 0), params=_AXIS,
             spelled="average", keyword_operands=("weights",),
             spell=lambda p: _AVERAGE_SPELL(p).replace("({0}", "({0}, {1}", 1),
             scalar_result=_reduces_all, shape=_params_shape(_average_shape),
             vjp=_average_vjp, jvp=_average_jvp, helpers=(_average,), dtype="follows",
             traits=_INNER | _MADE, rules=("{out}_bar * {1} / sum({1})",
                                  "{out}_bar * ({0} - {out}) / sum({1})")))


# ---- trapezoid: sum of the trapezoids along one axis, dx a number or x= an operand ------
def _trapezoid_shape(y: shapes.Shape, dx: Any, axis: Any) -> shapes.Shape:
    a = _one_axis(y, axis, "trapezoid")
    if not _is_number(dx):
        raise ShapeError(f"trapezoid: dx must be a number, got {dx!r} (x= takes an array)")
    return y[:a] + y[a + 1:]


def _trapezoid_x_shape(y: shapes.Shape, x: shapes.Shape, axis: Any) -> shapes.Shape:
    out = _trapezoid_shape(y, 1.0, axis)
    if len(x) == 1 and x[0] == y[axis]:  # NumPy's 1-D x, along the axis
        return out
    along = axis % len(y) - (len(y) - len(x))  # the axis in x, its axes lined up from the end
    try:
        fits = along >= 0 and shapes.broadcast(y, x) == y and x[along] == y[axis]
    except ShapeError:
        fits = False
    if not fits:
        raise ShapeError(f"x {shapes.format_shape(x)} must have y's shape "
                         f"{shapes.format_shape(y)}, broadcast to it with y's length "
                         f"along axis={axis}, or be 1-D of that length")
    return out


def _mid_shape(y: shapes.Shape, axis: int) -> shapes.Shape:
    return y[:axis % len(y)] + (_plus(y[axis], -1),) + y[axis % len(y) + 1:]


def _mid_bar_shape(g: shapes.Shape, axis: int) -> shapes.Shape:
    return g[:axis % len(g)] + (_plus(g[axis], 1),) + g[axis % len(g) + 1:]


_TRAP = {"dx": 1.0, "axis": -1}


def _put_back(grad: R, axis: int) -> R:
    """trapezoid's adjoint with its axis put back (as 1); a scalar lines up as it is."""
    return grad if grad.shape == () and not grad.elastic else grad.call("expand_dims", axis=axis)


def _halves(y, axis=-1):
    """trapezoid's d out / d y for dx = 1: ones, halves at the two ends (0 for one sample)."""
    w = np.ones(np.shape(y), np.result_type(y, 1.0))
    return _mid_bar(_span_of(w, axis, 1, None), axis)


@vjp
def _trapezoid_vjp(out: R, grad: R) -> tuple[R | None, ...]:
    y, axis = out.args[0], _from_end(out)
    return (_put_back(grad, axis) * float(out.params["dx"]) * y.call("halves", axis=axis),)


@jvp
def _trapezoid_jvp(out: R, dots: Tangents) -> R | None:
    axis = _from_end(out)
    return (dots[0] * out.args[0].call("halves", axis=axis)).sum(axis) * float(out.params["dx"])


_register(Op("trapezoid", 1, "np.trapezoid({0})", np.trapezoid, slot_prec=(0,),
             params=_TRAP, spell=_spell("np.trapezoid", _TRAP),
             shape=_params_shape(_trapezoid_shape), vjp=_trapezoid_vjp, jvp=_trapezoid_jvp,
             dtype="follows", traits=_MADE,
             rules=("{out}_bar * dx * (1/2 at the ends, 1 inside)",)))


def _trailing(out: R) -> int:
    """How many 1-axes a 1-D x takes after it to lie along y's axis (NumPy's reshape)."""
    y, x = out.args
    return 0 if x.ndim != 1 or y.elastic else -_from_end(out) - 1


def _spacing(out: R) -> R:
    """diff(x) along the axis, lined up with y's midpoints."""
    return _lined(out.args[1], _trailing(out)).call("diff", axis=_from_end(out))


@vjp
def _trapezoid_x_vjp(out: R, grad: R) -> tuple[R | None, ...]:
    y, x = out.args
    axis = _from_end(out)
    heights, widths = y.call("mid", axis=axis), _spacing(out)
    spread = _put_back(grad, axis)
    y_bar = (spread * widths).call("mid_bar", axis=axis)
    w_bar = spread * heights
    if y.elastic or x.elastic:
        w_bar = w_bar.call("sum_to", widths)
    elif widths.shape != heights.shape:
        w_bar = _summed_to(w_bar, heights.shape, widths.shape)
    x_bar, trailing = w_bar.call("diff_bar", axis=axis), _trailing(out)
    return y_bar, x_bar.call("squeeze", axis=tuple(range(-trailing, 0))) if trailing else x_bar


@jvp
def _trapezoid_x_jvp(out: R, dots: Tangents) -> R | None:
    y, x = out.args
    axis = _from_end(out)
    terms = []
    if dots[0] is not None:
        terms.append(dots[0].call("mid", axis=axis) * _spacing(out))
    if dots[1] is not None:
        dot, trailing = dots[1], _trailing(out)
        dot = _lined(dot, trailing)
        dot = dot if x.ndim + trailing == y.ndim else dot.call("lift", ndim=y.ndim)
        terms.append(dot.call("diff", axis=axis) * y.call("mid", axis=axis))
    return (terms[0] if len(terms) == 1 else terms[0] + terms[1]).sum(axis)


_register(Op("trapezoid_x", 2, "np.trapezoid({0}, {1})", np.trapezoid, slot_prec=(0, 0),
             params={"axis": -1}, spelled="trapezoid", keyword_operands=("x",),
             spell=lambda p: "np.trapezoid({0}, {1}" + (
                 f", axis={p['axis']})" if p["axis"] != -1 else ")"),
             shape=_params_shape(_trapezoid_x_shape), vjp=_trapezoid_x_vjp,
             jvp=_trapezoid_x_jvp, dtype="follows", traits=_INNER | _MADE,
             rules=("{out}_bar * ({1}[i+1] - {1}[i-1]) / 2",
                    "{out}_bar * ({0}[i-1] - {0}[i+1]) / 2")))
_register(Op("mid", 1, "_mid({0}, {axis})", _mid, slot_prec=(0,), params={"axis": -1},
             helpers=(_span_of, _mid), shape=_params_shape(_mid_shape), dtype="follows",
             vjp=vjp(lambda out, grad: (grad.call("mid_bar", **out.params),)),
             jvp=jvp(lambda out, dots: dots[0].call("mid", **out.params)),
             traits=_INNER | _MADE,
             rules=("({out}_bar with a 0 first + {out}_bar with a 0 last) / 2",)))
_register(Op("mid_bar", 1, "_mid_bar({0}, {axis})", _mid_bar, slot_prec=(0,),
             params={"axis": -1}, helpers=(_mid_bar,), shape=_params_shape(_mid_bar_shape),
             vjp=vjp(lambda out, grad: (grad.call("mid", **out.params),)),
             jvp=jvp(lambda out, dots: dots[0].call("mid_bar", **out.params)),
             dtype="follows", traits=_INNER | _MADE,
             rules=("({out}_bar[i] + {out}_bar[i+1]) / 2",)))
_register(Op("halves", 1, "_halves({0}, {axis})", _halves, slot_prec=(0,), params={"axis": -1},
             helpers=(_span_of, _mid_bar, _halves), shape=_params_shape(lambda y, axis: y),
             dtype="follows", traits=_INNER | _MADE | Trait.NO_DERIVATIVE))
